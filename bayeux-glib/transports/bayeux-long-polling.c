/* bayeux-long-polling.c: moves batches of Bayeux messages over HTTP POST
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One call sends one batch and completes with the array of messages the
 * server answered.  The transport knows nothing of the protocol's state: the
 * client decides what goes in a batch and when.  What it does guarantee:
 *
 *  - a deadline of its own (libsoup has none by default): when the server
 *    has not answered the whole body in @timeout_ms the request is cancelled
 *    and fails with BAYEUX_ERROR_TIMEOUT;
 *  - a bounded body: a Content-Length or a body larger than the limit fails
 *    with BAYEUX_ERROR_MESSAGE_TOO_LARGE before more than the limit is read;
 *  - hostile JSON is rejected before it is parsed too deep (json-glib's
 *    parser recurses; a body of a million '[' would exhaust the stack): the
 *    body is parsed by bayeux_json_parse_messages() (bayeux-json.c);
 *  - the keep-alive race is not an error: a server or proxy may close an
 *    idle kept-alive connection just as a request goes out on it.  libsoup
 *    retries that case for GET but never for POST, so the request failed
 *    with "Connection terminated unexpectedly".  A request that was sent on
 *    a reused connection and got not one byte of answer before the
 *    connection failed is sent once more (as browsers do); one sent on a
 *    new connection, or that got any answer, is not.
 */
#include "bayeux-glib.h"
#include "bayeux-long-polling-private.h"
#include "bayeux-json-private.h"

#define READ_CHUNK 16384

struct _BayeuxLongPolling
{
  GObject      parent_instance;
  SoupSession        *session;
  GUri               *uri;
  SoupMessageHeaders *headers;   /* the application's (the client's, shared), added to each request */
};

G_DEFINE_FINAL_TYPE (BayeuxLongPolling, bayeux_long_polling, G_TYPE_OBJECT)

enum {
  SIGNAL_ACCEPT_CERTIFICATE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  SoupMessage  *msg;
  GBytes       *request_body;
  gboolean      resent;             /* after the keep-alive race, once */
  GInputStream *stream;
  GByteArray   *body;
  gsize         max_size;
  GCancellable *cancellable;        /* ours: cancelled by the deadline or the caller's */
  GCancellable *caller_cancellable;
  gulong        caller_handler;
  GSource      *deadline;
  guint         timeout_ms;
  gboolean      timed_out;
} Request;

static void
request_free (Request *req)
{
  if (req->deadline != NULL)
    {
      g_source_destroy (req->deadline);
      g_source_unref (req->deadline);
    }
  if (req->caller_cancellable != NULL)
    {
      g_cancellable_disconnect (req->caller_cancellable, req->caller_handler);
      g_object_unref (req->caller_cancellable);
    }
  g_clear_object (&req->msg);
  g_clear_pointer (&req->request_body, g_bytes_unref);
  g_clear_object (&req->stream);
  g_clear_pointer (&req->body, g_byte_array_unref);
  g_clear_object (&req->cancellable);
  g_free (req);
}

static void
bayeux_long_polling_finalize (GObject *object)
{
  BayeuxLongPolling *self = BAYEUX_LONG_POLLING (object);

  g_clear_object (&self->session);
  g_clear_pointer (&self->uri, g_uri_unref);
  g_clear_pointer (&self->headers, soup_message_headers_unref);

  G_OBJECT_CLASS (bayeux_long_polling_parent_class)->finalize (object);
}

static void
bayeux_long_polling_class_init (BayeuxLongPollingClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bayeux_long_polling_finalize;

  /* SoupMessage::accept-certificate of each request, passed on to the
   * client (which owns the public signal). */
  signals[SIGNAL_ACCEPT_CERTIFICATE] =
    g_signal_new ("accept-certificate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  g_signal_accumulator_true_handled, NULL, NULL,
                  G_TYPE_BOOLEAN, 2, G_TYPE_TLS_CERTIFICATE, G_TYPE_TLS_CERTIFICATE_FLAGS);
}

static gboolean
on_accept_certificate (SoupMessage          *msg,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  gboolean accept = FALSE;

  g_signal_emit (user_data, signals[SIGNAL_ACCEPT_CERTIFICATE], 0, certificate, errors, &accept);
  return accept;
}

static void
bayeux_long_polling_init (BayeuxLongPolling *self)
{
}

static void
copy_header (const char *name,
             const char *value,
             gpointer    user_data)
{
  soup_message_headers_replace (user_data, name, value);
}

/* The next requests go to @uri (a fallback server); those in flight are
 * not affected. */
void
bayeux_long_polling_set_uri (BayeuxLongPolling *self,
                             GUri              *uri)
{
  g_uri_ref (uri);
  g_clear_pointer (&self->uri, g_uri_unref);
  self->uri = uri;
}

/* @headers (nullable): the application's headers, added to each request
 * as they are when it is sent; shared with the caller, who may change
 * them at any time. */
BayeuxLongPolling *
bayeux_long_polling_new (SoupSession        *session,
                         GUri               *uri,
                         SoupMessageHeaders *headers)
{
  BayeuxLongPolling *self = g_object_new (BAYEUX_TYPE_LONG_POLLING, NULL);

  self->session = g_object_ref (session);
  self->uri = g_uri_ref (uri);
  self->headers = headers ? soup_message_headers_ref (headers) : NULL;
  return self;
}

static void
fail (GTask  *task,
      GError *error)
{
  Request *req = g_task_get_task_data (task);

  if (req->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_error_free (error);
      error = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT,
                           "The server did not answer within %u ms", req->timeout_ms);
    }
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void read_next (GTask *task);

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Request *req = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  JsonArray *messages;

  if (chunk == NULL)
    {
      fail (task, error);
      return;
    }

  if (g_bytes_get_size (chunk) > 0)
    {
      if (req->body->len + g_bytes_get_size (chunk) > req->max_size)
        {
          g_cancellable_cancel (req->cancellable);
          fail (task, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE,
                                   "Response body larger than the limit of %" G_GSIZE_FORMAT " bytes",
                                   req->max_size));
          return;
        }
      g_byte_array_append (req->body, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      read_next (task);
      return;
    }

  messages = bayeux_json_parse_messages ((const char *) req->body->data, req->body->len, &error);
  if (messages == NULL)
    {
      fail (task, error);
      return;
    }

  g_task_return_pointer (task, messages, (GDestroyNotify) json_array_unref);
  g_object_unref (task);
}

static void
read_next (GTask *task)
{
  Request *req = g_task_get_task_data (task);
  gsize room = req->max_size - req->body->len;

  /* Read one byte past the limit so that an oversized body is noticed. */
  g_input_stream_read_bytes_async (req->stream, MIN (READ_CHUNK, room + 1), G_PRIORITY_DEFAULT,
                                   req->cancellable, on_read, task);
}

static void on_sent (GObject *source, GAsyncResult *result, gpointer user_data);

/* Sends req->request_body in a new message: the first time, and again after
 * the keep-alive race. */
static void
send_request (GTask *task)
{
  BayeuxLongPolling *self = g_task_get_source_object (task);
  Request *req = g_task_get_task_data (task);

  g_clear_object (&req->msg);
  req->msg = soup_message_new_from_uri (SOUP_METHOD_POST, self->uri);
  /* Without IDEMPOTENT, libsoup opens a new connection for every POST
   * (the flag lets it reuse a kept-alive one; libsoup still never re-sends
   * a POST itself: see is_keepalive_race()). */
  soup_message_add_flags (req->msg, SOUP_MESSAGE_IDEMPOTENT);
  /* A Bayeux endpoint does not move: a redirect is an error, and following
   * it could carry cookies or credentials to another origin. */
  soup_message_add_flags (req->msg, SOUP_MESSAGE_NO_REDIRECT);
  /* The metrics say whether the connection was a reused one and whether any
   * byte of the answer came (is_keepalive_race()). */
  soup_message_add_flags (req->msg, SOUP_MESSAGE_COLLECT_METRICS);
  soup_message_set_request_body_from_bytes (req->msg, "application/json;charset=UTF-8", req->request_body);
  g_signal_connect_object (req->msg, "accept-certificate", G_CALLBACK (on_accept_certificate), self, 0);
  if (self->headers != NULL)
    soup_message_headers_foreach (self->headers, copy_header, soup_message_get_request_headers (req->msg));

  soup_session_send_async (self->session, req->msg, G_PRIORITY_DEFAULT, req->cancellable, on_sent, task);
}

/* Whether @error, from sending req->msg, is the keep-alive race: the
 * connection was one kept alive from an earlier exchange (no connect for
 * this message), it failed as a connection fails (closed, reset), and not
 * one byte of an answer had come. The server (or proxy) closed it without
 * reading the request, or at least without answering it; sending it again,
 * on another connection, is what browsers do for any method. Only once per
 * request, and never after the deadline or a cancellation. */
static gboolean
is_keepalive_race (Request      *req,
                   const GError *error)
{
  SoupMessageMetrics *metrics;

  if (req->resent || g_cancellable_is_cancelled (req->cancellable))
    return FALSE;
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED))
    return FALSE;
  metrics = soup_message_get_metrics (req->msg);
  return metrics != NULL &&
         soup_message_metrics_get_connect_start (metrics) == 0 &&
         soup_message_metrics_get_response_start (metrics) == 0;
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Request *req = g_task_get_task_data (task);
  GError *error = NULL;
  SoupMessageHeaders *headers;
  goffset length;
  guint status;

  req->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (req->stream == NULL)
    {
      if (is_keepalive_race (req, error))
        {
          g_debug ("POST on a kept-alive connection failed before any answer (%s): sending it again",
                   error->message);
          g_error_free (error);
          req->resent = TRUE;
          send_request (task);
          return;
        }
      fail (task, error);
      return;
    }

  status = soup_message_get_status (req->msg);
  if (SOUP_STATUS_IS_REDIRECTION (status))
    {
      const char *location = soup_message_headers_get_one (soup_message_get_response_headers (req->msg), "Location");

      g_cancellable_cancel (req->cancellable);
      fail (task, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_HTTP, "HTTP %u redirect to %s, not followed", status,
                               location ? location : "nowhere"));
      return;
    }
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_cancellable_cancel (req->cancellable);
      fail (task, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_HTTP, "HTTP error %u %s", status,
                               soup_message_get_reason_phrase (req->msg) ? soup_message_get_reason_phrase (req->msg) : ""));
      return;
    }

  headers = soup_message_get_response_headers (req->msg);
  length = soup_message_headers_get_content_length (headers);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      length > (goffset) req->max_size)
    {
      g_cancellable_cancel (req->cancellable);
      fail (task, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE,
                               "Response body of %" G_GOFFSET_FORMAT " bytes is larger than the limit of %"
                               G_GSIZE_FORMAT " bytes", length, req->max_size));
      return;
    }

  req->body = g_byte_array_sized_new (MIN (length > 0 ? (gsize) length : READ_CHUNK, req->max_size));
  read_next (task);
}

static gboolean
on_deadline (gpointer user_data)
{
  Request *req = user_data;

  req->timed_out = TRUE;
  g_cancellable_cancel (req->cancellable);
  g_clear_pointer (&req->deadline, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  /* May run in another thread: GCancellable is thread-safe. */
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

void
bayeux_long_polling_send_async (BayeuxLongPolling  *self,
                                GBytes             *body,
                                gsize               max_response_size,
                                guint               timeout_ms,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data)
{
  GTask *task;
  Request *req;

  g_return_if_fail (BAYEUX_IS_LONG_POLLING (self));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, bayeux_long_polling_send_async);

  req = g_new0 (Request, 1);
  req->max_size = max_response_size;
  req->timeout_ms = timeout_ms;
  req->cancellable = g_cancellable_new ();
  g_task_set_task_data (task, req, (GDestroyNotify) request_free);

  if (cancellable != NULL)
    {
      req->caller_cancellable = g_object_ref (cancellable);
      req->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                                   g_object_ref (req->cancellable), g_object_unref);
    }

  req->deadline = g_timeout_source_new (timeout_ms);
  g_source_set_callback (req->deadline, on_deadline, req, NULL);
  g_source_set_static_name (req->deadline, "[bayeux] request deadline");
  g_source_attach (req->deadline, g_task_get_context (task));

  req->request_body = g_bytes_ref (body);
  send_request (task);
}

JsonArray *
bayeux_long_polling_send_finish (BayeuxLongPolling  *self,
                                 GAsyncResult       *result,
                                 GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
