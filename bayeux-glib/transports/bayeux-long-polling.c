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
 *  - a bounded body: a Content-Length or a body larger than the response
 *    limit (max-response-size) fails whole with
 *    BAYEUX_ERROR_MESSAGE_TOO_LARGE before more than the limit is read;
 *  - a response is a stream of messages: it is split into its elements as
 *    it is read (a BayeuxSplitter, bayeux-json.c: the scan goes on from
 *    chunk to chunk, each byte scanned once), and one larger than the
 *    message limit (max-message-size) is refused alone: its bytes are not
 *    kept past the limit, its element is marked (the client reports it and
 *    ends the request it answers), the others are delivered. What a
 *    response holds in memory is the bytes of its other messages;
 *  - hostile JSON is rejected before it is parsed too deep (json-glib's
 *    parser recurses; a body of a million '[' would exhaust the stack): the
 *    split checks nesting, and stops reading at the first byte that cannot
 *    be of a Bayeux body; each element is parsed when the client handles
 *    it;
 *  - an answer that is not a success fails with BAYEUX_ERROR_HTTP; its
 *    Retry-After (seconds or a date), if any, is kept on the transport
 *    (bayeux_transport_get_retry_after()) for the client's next delay;
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
#include "bayeux-transport-private.h"
#include "bayeux-json-private.h"

#define READ_CHUNK 16384

struct _BayeuxLongPolling
{
  GObject      parent_instance;
  SoupSession        *session;
  GUri               *uri;
  SoupMessageHeaders *headers;   /* the application's (the client's, shared), added to each request */
  gint64              fresh_until; /* closed: requests until then (monotonic µs) go on new connections */
};

static void transport_iface_init (BayeuxTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BayeuxLongPolling, bayeux_long_polling, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BAYEUX_TYPE_TRANSPORT, transport_iface_init))

typedef struct
{
  SoupMessage  *msg;
  GBytes       *request_body;
  gboolean      resent;             /* after the keep-alive race, once */
  GInputStream *stream;
  BayeuxSplitter *splitter;
  gsize         read;               /* bytes of the body read */
  gsize         max_message_size;
  gsize         max_size;           /* of the whole body */
  BayeuxDeadline deadline;
} Request;

static void
request_free (Request *req)
{
  bayeux_deadline_clear (&req->deadline);
  g_clear_object (&req->msg);
  g_clear_pointer (&req->request_body, g_bytes_unref);
  g_clear_object (&req->stream);
  g_clear_pointer (&req->splitter, bayeux_splitter_free);
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
}

static void
bayeux_long_polling_init (BayeuxLongPolling *self)
{
}


/* The next requests go to @uri (a fallback server); those in flight are
 * not affected. */
static void
set_uri (BayeuxTransport *transport,
         GUri            *uri)
{
  BayeuxLongPolling *self = BAYEUX_LONG_POLLING (transport);

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

  if (bayeux_deadline_timed_out (&req->deadline, error))
    {
      g_error_free (error);
      error = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT,
                           "The server did not answer within %u ms", req->deadline.timeout_ms);
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
  BayeuxElements *messages;

  if (chunk == NULL)
    {
      fail (task, error);
      return;
    }

  if (g_bytes_get_size (chunk) > 0)
    {
      gsize size;
      const char *data = g_bytes_get_data (chunk, &size);

      if (req->read + size > req->max_size)
        {
          g_cancellable_cancel (req->deadline.cancellable);
          fail (task, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE,
                                   "Response body larger than the limit of %" G_GSIZE_FORMAT " bytes "
                                   "(max-response-size)", req->max_size));
          return;
        }
      req->read += size;
      /* Not a Bayeux body: no need to read the rest. */
      if (!bayeux_splitter_feed (req->splitter, data, size, &error))
        {
          g_cancellable_cancel (req->deadline.cancellable);
          fail (task, error);
          return;
        }
      read_next (task);
      return;
    }

  messages = bayeux_splitter_finish (req->splitter, &error);
  if (messages == NULL)
    {
      fail (task, error);
      return;
    }

  g_task_return_pointer (task, messages, (GDestroyNotify) bayeux_elements_unref);
  g_object_unref (task);
}

static void
read_next (GTask *task)
{
  Request *req = g_task_get_task_data (task);
  gsize room = req->max_size - req->read;

  /* Read one byte past the limit so that an oversized body is noticed. */
  g_input_stream_read_bytes_async (req->stream, MIN (READ_CHUNK, room + 1), G_PRIORITY_DEFAULT,
                                   req->deadline.cancellable, on_read, task);
}

static void on_sent (GObject *source, GAsyncResult *result, gpointer user_data);

/* The request body of @msg: @body, from its start. */
static void
set_body (SoupMessage *msg,
          GBytes      *body)
{
  soup_message_set_request_body_from_bytes (msg, "application/json;charset=UTF-8", body);
}

static void
unref_body (gpointer  body,
            GClosure *closure)
{
  g_bytes_unref (body);
}

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
  /* Closed (the network changed): a kept-alive connection may lead
   * nowhere now. */
  if (g_get_monotonic_time () < self->fresh_until)
    soup_message_add_flags (req->msg, SOUP_MESSAGE_NEW_CONNECTION);
  set_body (req->msg, req->request_body);
  /* libsoup sends a message again after a 401 (credentials in the URL) or
   * a 407 with the body stream it has read to the end: an empty POST. */
  g_signal_connect_data (req->msg, "restarted", G_CALLBACK (set_body), g_bytes_ref (req->request_body),
                         unref_body, 0);
  g_signal_connect_object (req->msg, "accept-certificate", G_CALLBACK (bayeux_transport_accept_certificate),
                           self, 0);
  bayeux_transport_add_headers (req->msg, self->headers);

  soup_session_send_async (self->session, req->msg, G_PRIORITY_DEFAULT, req->deadline.cancellable, on_sent, task);
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

  if (req->resent || g_cancellable_is_cancelled (req->deadline.cancellable))
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
  bayeux_transport_note_retry_after (BAYEUX_TRANSPORT (g_task_get_source_object (task)), req->msg);
  if (SOUP_STATUS_IS_REDIRECTION (status))
    {
      const char *location = soup_message_headers_get_one (soup_message_get_response_headers (req->msg), "Location");

      g_cancellable_cancel (req->deadline.cancellable);
      fail (task, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_HTTP, "HTTP %u redirect to %s, not followed", status,
                               location ? location : "nowhere"));
      return;
    }
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_cancellable_cancel (req->deadline.cancellable);
      fail (task, bayeux_transport_status_error (req->msg));
      return;
    }

  headers = soup_message_get_response_headers (req->msg);
  length = soup_message_headers_get_content_length (headers);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      length > (goffset) req->max_size)
    {
      g_cancellable_cancel (req->deadline.cancellable);
      fail (task, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE,
                               "Response body of %" G_GOFFSET_FORMAT " bytes is larger than the limit of %"
                               G_GSIZE_FORMAT " bytes (max-response-size)", length, req->max_size));
      return;
    }

  req->splitter = bayeux_splitter_new (req->max_message_size);
  read_next (task);
}

static void
bayeux_long_polling_send_async (BayeuxLongPolling  *self,
                                GBytes             *body,
                                gsize               max_message_size,
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
  req->max_message_size = max_message_size;
  req->max_size = max_response_size;
  bayeux_deadline_init (&req->deadline, timeout_ms, cancellable, g_task_get_context (task),
                        "[bayeux] request deadline");
  g_task_set_task_data (task, req, (GDestroyNotify) request_free);

  req->request_body = g_bytes_ref (body);
  send_request (task);
}

static BayeuxElements *
bayeux_long_polling_send_finish (BayeuxLongPolling  *self,
                                 GAsyncResult       *result,
                                 GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------------ */
/* BayeuxTransport: a send is one POST, answered by its response.           */

typedef struct
{
  const BayeuxSendCallbacks *callbacks;
  gpointer                   user_data;
} Send;

static void
on_send_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Send *send = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxElements) messages = bayeux_long_polling_send_finish (BAYEUX_LONG_POLLING (source), result, &error);

  send->callbacks->done (send->user_data, messages, error);
  g_free (send);
}

static void
transport_send (BayeuxTransport           *transport,
                GBytes                    *batch,
                GPtrArray                 *ids,
                gsize                      max_message_size,
                gsize                      max_response_size,
                guint                      timeout_ms,
                GCancellable              *cancellable,
                const BayeuxSendCallbacks *callbacks,
                gpointer                   user_data)
{
  Send *call = g_new0 (Send, 1);

  call->callbacks = callbacks;
  call->user_data = user_data;
  bayeux_long_polling_send_async (BAYEUX_LONG_POLLING (transport), batch, max_message_size, max_response_size,
                                  timeout_ms, cancellable, on_send_done, call);
}

/* No connection to open: each send makes its own request (its cancellable
 * ends it). Closing makes the requests of the next two seconds (the probe,
 * a publish that goes with it) go on new connections. */
static void
open_async (BayeuxTransport     *transport,
            gsize                max_message_size,
            gsize                max_response_size,
            guint                timeout_ms,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (transport, cancellable, callback, user_data);

  g_task_return_boolean (task, TRUE);
}

static gboolean
open_finish (BayeuxTransport  *transport,
             GAsyncResult     *result,
             GError          **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
close_transport (BayeuxTransport *transport)
{
  BAYEUX_LONG_POLLING (transport)->fresh_until = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
}

static gboolean
is_open (BayeuxTransport *transport)
{
  return TRUE;
}

static void
transport_iface_init (BayeuxTransportInterface *iface)
{
  iface->set_uri = set_uri;
  iface->open_async = open_async;
  iface->open_finish = open_finish;
  iface->send = transport_send;
  iface->close = close_transport;
  iface->is_open = is_open;
}
