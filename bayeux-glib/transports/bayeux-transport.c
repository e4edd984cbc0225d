/* bayeux-transport.c: what the client asks of a transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The client reaches its transports only through this interface, made by
 * name (bayeux_transport_new, in bayeux-transport-factory.c, the only file
 * that names the concrete transports): it names no concrete transport. A transport
 * moves batches of messages (JSON arrays, serialized) and knows nothing of
 * the protocol's state:
 *
 *  - open: connect where the transport has a connection (the WebSocket);
 *    a transport without one (long polling) is always open, and its open
 *    succeeds at once;
 *  - send: one batch, with the ids of the messages it carries and a
 *    deadline; it ends through BayeuxSendCallbacks.done, once: with the
 *    response's messages (long polling), or once every id is answered
 *    (the WebSocket: replies come in any frame, as ::messages, and the
 *    transport asks its caller which ids are still pending);
 *  - close; is_open;
 *  - signals: ::messages (what came other than as a send's response),
 *    ::closed (a connection lost without our asking: the sends in flight
 *    on it then end with that error, after ::closed), ::accept-certificate
 *    (TLS errors on any request, for the application to decide).
 *
 * Also the helpers both transports use: a deadline joined with the
 * caller's cancellable, the application's headers, the certificate
 * question, and the server's Retry-After (kept on the transport, read by
 * the client when it decides how long to wait after a failure).
 */
#include "bayeux-transport-private.h"
#include "bayeux-context-private.h"
#include "bayeux-error.h"

#include <string.h>

G_DEFINE_INTERFACE (BayeuxTransport, bayeux_transport, G_TYPE_OBJECT)

enum {
  SIGNAL_MESSAGES,
  SIGNAL_CLOSED,
  SIGNAL_ACCEPT_CERTIFICATE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The monotonic time (µs, a gint64 of its own) before which the server
 * asked, in a Retry-After header, not to be asked again. */
static GQuark
retry_after_quark (void)
{
  return g_quark_from_static_string ("bayeux-transport-retry-after");
}

static void
bayeux_transport_default_init (BayeuxTransportInterface *iface)
{
  /* Messages that came other than as a send's response (a WebSocket text
   * frame), checked (a lone object comes as an array of one). Transfer
   * none. */
  signals[SIGNAL_MESSAGES] =
    g_signal_new ("messages", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);   /* BayeuxElements */

  /* The connection ended without our asking (never after close()); the
   * transport is closed and can be opened again. The error, never NULL:
   * G_IO_ERROR_CONNECTION_CLOSED for a close frame from the server (its
   * code and reason in the message) or a socket closed without one;
   * BAYEUX_ERROR_MESSAGE_TOO_LARGE; BAYEUX_ERROR_BAD_RESPONSE for a frame
   * that is binary, not Bayeux JSON or not valid WebSocket;
   * BAYEUX_ERROR_TIMEOUT when a send's replies did not come in time; a
   * read or write error as GIO gave it. */
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);

  /* SoupMessage::accept-certificate of any request (https://, wss://). */
  signals[SIGNAL_ACCEPT_CERTIFICATE] =
    g_signal_new ("accept-certificate", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                  g_signal_accumulator_true_handled, NULL, NULL,
                  G_TYPE_BOOLEAN, 2, G_TYPE_TLS_CERTIFICATE, G_TYPE_TLS_CERTIFICATE_FLAGS);
}

/* The next requests (or opening) go to @uri (a fallback server); those in
 * flight are not affected. */
void
bayeux_transport_set_uri (BayeuxTransport *self,
                          GUri            *uri)
{
  BAYEUX_TRANSPORT_GET_IFACE (self)->set_uri (self, uri);
}

/* Opens the connection: see bayeux_websocket_open_async(). */
void
bayeux_transport_open_async (BayeuxTransport     *self,
                             gsize                max_message_size,
                             gsize                max_response_size,
                             guint                timeout_ms,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  BAYEUX_TRANSPORT_GET_IFACE (self)->open_async (self, max_message_size, max_response_size, timeout_ms, cancellable,
                                                 callback, user_data);
}

/* Completes bayeux_transport_open_async(): whether it is open. */
gboolean
bayeux_transport_open_finish (BayeuxTransport *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  return BAYEUX_TRANSPORT_GET_IFACE (self)->open_finish (self, result, error);
}

/**
 * bayeux_transport_send:
 * @batch: a JSON array of messages, serialized (UTF-8)
 * @ids: (element-type utf8): the ids of the messages that await a reply
 * @max_message_size: the largest message accepted, in bytes: a larger one
 *   is refused alone (its element marked in the messages, see
 *   bayeux_elements_split_limited()), the others are kept
 * @max_response_size: the largest response (or WebSocket frame) accepted,
 *   in bytes: a larger one fails whole with BAYEUX_ERROR_MESSAGE_TOO_LARGE,
 *   read no further than that
 * @timeout_ms: the deadline of the response (or of the replies)
 * @cancellable: (nullable): ends the send (done: G_IO_ERROR_CANCELLED)
 * @callbacks: (not nullable): how it ends; static or outliving the send
 *
 * Sends @batch. @callbacks->done is called once, from the main loop.
 */
void
bayeux_transport_send (BayeuxTransport           *self,
                       GBytes                    *batch,
                       GPtrArray                 *ids,
                       gsize                      max_message_size,
                       gsize                      max_response_size,
                       guint                      timeout_ms,
                       GCancellable              *cancellable,
                       const BayeuxSendCallbacks *callbacks,
                       gpointer                   user_data)
{
  BAYEUX_TRANSPORT_GET_IFACE (self)->send (self, batch, ids, max_message_size, max_response_size, timeout_ms,
                                           cancellable, callbacks, user_data);
}

/* Closes the connection (or gives up the opening): no ::closed follows;
 * the sends in flight end (done: G_IO_ERROR_CANCELLED) from the main loop. */
void
bayeux_transport_close (BayeuxTransport *self)
{
  BAYEUX_TRANSPORT_GET_IFACE (self)->close (self);
}

/* The client handled replies after the ::messages that carried them. */
void
bayeux_transport_check_answered (BayeuxTransport *self)
{
  if (BAYEUX_TRANSPORT_GET_IFACE (self)->check_answered != NULL)
    BAYEUX_TRANSPORT_GET_IFACE (self)->check_answered (self);
}

/* Whether a send goes out now (a transport without a connection always). */
gboolean
bayeux_transport_is_open (BayeuxTransport *self)
{
  return BAYEUX_TRANSPORT_GET_IFACE (self)->is_open (self);
}

/* For implementations: ::messages. */
void
bayeux_transport_emit_messages (BayeuxTransport *self,
                                BayeuxElements  *messages)
{
  g_signal_emit (self, signals[SIGNAL_MESSAGES], 0, messages);
}

/* For implementations: ::closed (then end the sends on the connection). */
void
bayeux_transport_emit_closed (BayeuxTransport *self,
                              const GError    *error)
{
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0, error);
}

/* A SoupMessage::accept-certificate handler (@transport: the user data):
 * the question goes to the transport's ::accept-certificate. */
gboolean
bayeux_transport_accept_certificate (SoupMessage          *msg,
                                     GTlsCertificate      *certificate,
                                     GTlsCertificateFlags  errors,
                                     gpointer              transport)
{
  gboolean accept = FALSE;

  g_signal_emit (transport, signals[SIGNAL_ACCEPT_CERTIFICATE], 0, certificate, errors, &accept);
  return accept;
}

static void
copy_header (const char *name,
             const char *value,
             gpointer    user_data)
{
  soup_message_headers_replace (user_data, name, value);
}

/* Adds @headers (nullable: none), as they are now, to @msg's request. */
void
bayeux_transport_add_headers (SoupMessage        *msg,
                              SoupMessageHeaders *headers)
{
  if (headers != NULL)
    soup_message_headers_foreach (headers, copy_header, soup_message_get_request_headers (msg));
}

/* The shared timer of a main context: a source whose ready time is the
 * earliest deadline of its sorted set. It lives while it holds deadlines
 * (each deadline's owner holds the context). Used only from the thread
 * that runs the context, as the transports are; the table of contexts is
 * locked (clients of several contexts in several threads). */
struct _BayeuxDeadlines
{
  GSource       source;
  GMainContext *context;   /* a reference: the table's key stays this context's while the timer lives */
  GSequence    *due;       /* BayeuxDeadline*, by expiry, then in the order set */
};

static GMutex      deadlines_lock;
static GHashTable *deadlines_by_context;   /* GMainContext → BayeuxDeadlines */

static int
compare_deadlines (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  const BayeuxDeadline *x = a;
  const BayeuxDeadline *y = b;

  return x->expiry < y->expiry ? -1 : x->expiry > y->expiry ? 1 : 0;
}

static void
deadlines_update (BayeuxDeadlines *timers)
{
  GSequenceIter *first = g_sequence_get_begin_iter (timers->due);

  if (g_sequence_iter_is_end (first))
    g_source_set_ready_time (&timers->source, -1);
  else
    g_source_set_ready_time (&timers->source, ((BayeuxDeadline *) g_sequence_get (first))->expiry);
}

/* Takes @self out of its shared timer; the timer goes when it is empty. */
static void
deadline_unschedule (BayeuxDeadline *self)
{
  BayeuxDeadlines *timers = self->timers;

  if (timers == NULL)
    return;
  g_sequence_remove (self->entry);
  self->entry = NULL;
  self->timers = NULL;
  if (g_sequence_get_length (timers->due) == 0)
    {
      g_mutex_lock (&deadlines_lock);
      g_hash_table_remove (deadlines_by_context, timers->context);
      g_mutex_unlock (&deadlines_lock);
      g_source_destroy (&timers->source);
      g_source_unref (&timers->source);
    }
  else
    deadlines_update (timers);
}

static gboolean
deadlines_dispatch (GSource     *source,
                    GSourceFunc  callback,
                    gpointer     user_data)
{
  BayeuxDeadlines *timers = (BayeuxDeadlines *) source;
  gint64 now = g_source_get_time (source);

  /* Each due deadline out of the set before its cancellable is cancelled:
   * what that runs may set or stop deadlines (and end this timer). */
  g_source_ref (source);
  while (!g_source_is_destroyed (source))
    {
      GSequenceIter *first = g_sequence_get_begin_iter (timers->due);
      BayeuxDeadline *due;

      if (g_sequence_iter_is_end (first) || (due = g_sequence_get (first))->expiry > now)
        break;
      deadline_unschedule (due);
      due->timed_out = TRUE;
      g_cancellable_cancel (due->cancellable);
    }
  g_source_unref (source);
  return G_SOURCE_CONTINUE;
}

static void
deadlines_finalize (GSource *source)
{
  BayeuxDeadlines *timers = (BayeuxDeadlines *) source;

  g_sequence_free (timers->due);
  g_main_context_unref (timers->context);
}

static GSourceFuncs deadlines_funcs = {
  .dispatch = deadlines_dispatch,
  .finalize = deadlines_finalize,
};

/* Puts @self in the shared timer of @context, @timeout_ms from now. */
static void
deadline_schedule (BayeuxDeadline *self,
                   GMainContext   *context,
                   guint           timeout_ms)
{
  BayeuxDeadlines *timers;

  if (context == NULL)
    context = g_main_context_default ();
  g_mutex_lock (&deadlines_lock);
  if (deadlines_by_context == NULL)
    deadlines_by_context = g_hash_table_new (NULL, NULL);
  timers = g_hash_table_lookup (deadlines_by_context, context);
  if (timers == NULL)
    {
      timers = (BayeuxDeadlines *) g_source_new (&deadlines_funcs, sizeof (BayeuxDeadlines));
      timers->context = g_main_context_ref (context);
      timers->due = g_sequence_new (NULL);
      g_source_set_static_name (&timers->source, "[bayeux] request deadlines");
      g_source_set_priority (&timers->source, G_PRIORITY_DEFAULT);
      g_source_attach (&timers->source, context);
      g_hash_table_insert (deadlines_by_context, context, timers);
    }
  g_mutex_unlock (&deadlines_lock);

  self->expiry = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  self->timers = timers;
  /* Equal expiries: the later set after the earlier (insert_sorted puts an
   * equal one after those already there). */
  self->entry = g_sequence_insert_sorted (timers->due, self, compare_deadlines, NULL);
  deadlines_update (timers);
}

static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  /* May run in another thread: GCancellable is thread-safe. */
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* Starts @self: its cancellable is cancelled after @timeout_ms (0: never)
 * in @context, or when @caller (nullable) is. */
void
bayeux_deadline_init (BayeuxDeadline *self,
                      guint           timeout_ms,
                      GCancellable   *caller,
                      GMainContext   *context,
                      const char     *name)
{
  *self = (BayeuxDeadline) { .cancellable = g_cancellable_new (), .timeout_ms = timeout_ms };
  if (caller != NULL)
    {
      self->caller = g_object_ref (caller);
      self->handler = g_cancellable_connect (caller, G_CALLBACK (on_caller_cancelled),
                                             g_object_ref (self->cancellable), g_object_unref);
    }
  if (timeout_ms > 0)
    deadline_schedule (self, context, timeout_ms);
}

/* No deadline any more (the caller's cancellable still counts). */
void
bayeux_deadline_stop (BayeuxDeadline *self)
{
  deadline_unschedule (self);
}

/* Ends @self: no timer, the caller's cancellable let go. */
void
bayeux_deadline_clear (BayeuxDeadline *self)
{
  bayeux_deadline_stop (self);
  if (self->caller != NULL)
    {
      g_cancellable_disconnect (self->caller, self->handler);
      g_clear_object (&self->caller);
    }
  g_clear_object (&self->cancellable);
}

/* Whether @error (a cancellation) came from the deadline. */
gboolean
bayeux_deadline_timed_out (BayeuxDeadline *self,
                           const GError   *error)
{
  return self->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Retry-After of a refused request ------------------------------------- */

/* The longest Retry-After read (s): larger values count as this much (the
 * client bounds what it waits far lower). */
#define RETRY_AFTER_MAX_S (24 * 60 * 60)

/* Reads a Retry-After value (RFC 9110, 10.2.3): delay-seconds or an
 * HTTP-date. Returns the delay in ms (0 for a date in the past), or -1
 * when @value is neither. */
gint64
bayeux_retry_after_parse (const char *value,
                          GDateTime  *now)
{
  g_autofree char *text = g_strstrip (g_strdup (value));
  g_autoptr(GDateTime) date = NULL;
  gsize digits = strspn (text, "0123456789");

  if (text[0] != '\0' && text[digits] == '\0')
    {
      /* Many digits: huge, whatever the number. */
      guint64 seconds = digits > 9 ? RETRY_AFTER_MAX_S : g_ascii_strtoull (text, NULL, 10);

      return (gint64) MIN (seconds, RETRY_AFTER_MAX_S) * 1000;
    }
  date = soup_date_time_new_from_http_string (text);
  if (date == NULL)
    return -1;
  return CLAMP (g_date_time_difference (date, now) / 1000, 0, (gint64) RETRY_AFTER_MAX_S * 1000);
}

/* "HTTP error <status> <reason>": what bayeux_transport_error_has_status()
 * reads back (a GError carries no status of its own). */
GError *
bayeux_transport_status_error (SoupMessage *msg)
{
  const char *reason = soup_message_get_reason_phrase (msg);

  return g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_HTTP, "HTTP error %u %s", soup_message_get_status (msg),
                      reason != NULL ? reason : "");
}

gboolean
bayeux_transport_error_has_status (const GError *error,
                                   guint         status)
{
  g_autofree char *prefix = NULL;

  if (!g_error_matches (error, BAYEUX_ERROR, BAYEUX_ERROR_HTTP))
    return FALSE;
  prefix = g_strdup_printf ("HTTP error %u ", status);
  return g_str_has_prefix (error->message, prefix);
}

/* For implementations: @msg got an answer that is not a success; its
 * Retry-After (if any) is what the server asks before the next request. */
void
bayeux_transport_note_retry_after (BayeuxTransport *self,
                                   SoupMessage     *msg)
{
  const char *value = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After");
  g_autoptr(GDateTime) now = NULL;
  gint64 *not_before;
  gint64 delay;

  /* Each answer replaces what the one before asked for. */
  g_object_set_qdata (G_OBJECT (self), retry_after_quark (), NULL);
  if (value == NULL)
    return;
  now = g_date_time_new_now_utc ();
  delay = bayeux_retry_after_parse (value, now);
  if (delay < 0)
    {
      g_debug ("HTTP %u with an invalid Retry-After: ignored", soup_message_get_status (msg));
      return;
    }
  g_debug ("HTTP %u: the server asks to wait %" G_GINT64_FORMAT " ms (Retry-After)",
           soup_message_get_status (msg), delay);
  not_before = g_new (gint64, 1);
  *not_before = g_get_monotonic_time () + delay * 1000;
  g_object_set_qdata_full (G_OBJECT (self), retry_after_quark (), not_before, g_free);
}

/* How long (ms, from now) the server asked to be left alone in the
 * Retry-After of its last refusal: 0 when it did not, or when that time
 * has passed. Not bounded: the client's backoff policy bounds it. */
gint64
bayeux_transport_get_retry_after (BayeuxTransport *self)
{
  gint64 *not_before = g_object_get_qdata (G_OBJECT (self), retry_after_quark ());
  gint64 left;

  if (not_before == NULL)
    return 0;
  left = *not_before - g_get_monotonic_time ();
  return left > 0 ? (left + 999) / 1000 : 0;
}

/* The same, once: the wait applies to the next request only. */
gint64
bayeux_transport_take_retry_after (BayeuxTransport *self)
{
  gint64 left = bayeux_transport_get_retry_after (self);

  g_object_set_qdata (G_OBJECT (self), retry_after_quark (), NULL);
  return left;
}
