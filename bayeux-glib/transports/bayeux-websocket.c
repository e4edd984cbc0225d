/* bayeux-websocket.c: moves batches of Bayeux messages over a WebSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One socket to the server's URL (http → ws, https → wss), opened through
 * the application's SoupSession so that its cookie jar, TLS database,
 * proxy resolver and BAYEUX_DEBUG=http logger apply to the upgrade.  Each
 * batch goes out as one text frame; each text frame that comes in is
 * checked like a long-polling response body and handed on as ::messages.
 * The transport knows nothing of the protocol's state.
 *
 * What it guarantees:
 *
 *  - a deadline for the opening (libsoup has none): BAYEUX_ERROR_TIMEOUT;
 *  - a refused upgrade (an HTTP answer other than 101, or a bad 101) fails
 *    in SOUP_WEBSOCKET_ERROR, as libsoup reports it: NOT_WEBSOCKET for an
 *    answer without 101 (200, 404, 400, a redirect: redirects are not
 *    followed) — but an answer about the credentials or the server's load
 *    (401, 403, 407, 408, 429, 5xx) fails in BAYEUX_ERROR_HTTP, as a POST
 *    answered so would — BAD_HANDSHAKE for a 101 that is not a valid WebSocket
 *    handshake (wrong accept key, an extension we did not offer).  Errors
 *    reaching the server (G_IO_ERROR, G_TLS_ERROR) pass through unchanged.
 *    The Retry-After of a refusal (429, 503) is kept on the transport, as
 *    long polling keeps it;
 *  - bounded memory against a hostile server: no frame, whole or in
 *    fragments, is assembled past max_frame_size (max-response-size: a
 *    frame is a batch of messages; see the guard below), and each message
 *    in a frame larger than max_message_size is refused alone (the split
 *    marks it; the client reports it and delivers the others),
 *    and permessage-deflate is never offered (libsoup 3.2 inflates a frame
 *    with no bound: a small frame could become gigabytes);
 *  - after anything that is not valid Bayeux JSON the socket is dropped.
 *
 * Signals are emitted on the thread-default main context of construction,
 * never from inside one of our calls: a failure noticed during
 * bayeux_websocket_send() is reported by ::closed from an idle.  ::messages
 * come in the order of the frames, all before the ::closed that ends the
 * connection.  After bayeux_websocket_close() nothing is emitted for that
 * connection: frames still arriving are dropped.
 *
 * References: a pending open holds a reference on the transport (its GTask
 * does); close() or the cancellable ends it early.  An open connection
 * holds none: disposing the transport closes it (code 1001, going away).
 * A closed SoupWebsocketConnection is released from the main loop, never
 * from inside one of its own signals.
 *
 * The fragment guard.  libsoup 3.2's SoupWebsocketConnection bounds the
 * payload of each frame (max-incoming-payload-size), not the size of a
 * message assembled from continuation frames: a server may send endless
 * fragments, each under the limit, and libsoup appends them all to one
 * buffer (CVE-2025-32049; libsoup 3.7 added max-total-message-size).  No
 * public API of 3.2 watches that buffer, and its read loop does not return
 * to the main loop while data keeps coming, so only code called from
 * inside that loop can stop it: a SoupWebsocketExtension sees every frame,
 * with its header, before it is appended.  So the guard is an extension of
 * our own, that nothing ever offers or negotiates on the wire: its type is
 * added to the session's extension manager only for the two synchronous
 * moments libsoup reads the supported list (the offer, in
 * soup_session_websocket_connect_async(); the check of the 101 answer, in
 * its got-informational handler); its name is taken out of the request
 * before it is sent; and our own got-informational handler, connected
 * when the message is queued (after the SoupLogger's, before libsoup's),
 * names it in the request and in the answer just before libsoup checks
 * them.  What the session offers is left as it was.  A session without a
 * SoupWebsocketExtensionManager (soup_session_new() adds none) is given an
 * empty one: see ensure_extension_manager().
 */
#include "bayeux-glib.h"
#include "bayeux-context-private.h"
#include "bayeux-websocket-private.h"
#include "bayeux-transport-private.h"
#include "bayeux-json-private.h"
#include "bayeux-debug-private.h"

#include <string.h>

#define GUARD_NAME "x-bayeux-glib-size-guard"

#define HEADER_EXTENSIONS "Sec-WebSocket-Extensions"

/* ------------------------------------------------------------------------ */
/* The guard: a message-size limit inside libsoup's frame loop.             */

#define BAYEUX_TYPE_WEBSOCKET_GUARD (bayeux_websocket_guard_get_type ())

G_DECLARE_FINAL_TYPE (BayeuxWebSocketGuard, bayeux_websocket_guard, BAYEUX, WEBSOCKET_GUARD,
                      SoupWebsocketExtension)

struct _BayeuxWebSocketGuard
{
  SoupWebsocketExtension parent_instance;
  guint64  max;          /* bytes of one message */
  guint64  received;     /* of the message being assembled */
  gboolean overflowed;
};

G_DEFINE_FINAL_TYPE (BayeuxWebSocketGuard, bayeux_websocket_guard, SOUP_TYPE_WEBSOCKET_EXTENSION)

static gboolean
guard_configure (SoupWebsocketExtension      *extension,
                 SoupWebsocketConnectionType  connection_type,
                 GHashTable                  *params,
                 GError                     **error)
{
  BayeuxWebSocketGuard *guard = BAYEUX_WEBSOCKET_GUARD (extension);
  const char *max = params != NULL ? g_hash_table_lookup (params, "max") : NULL;

  if (connection_type != SOUP_WEBSOCKET_CONNECTION_CLIENT || max == NULL ||
      !g_ascii_string_to_unsigned (max, 10, 1, G_MAXUINT64, &guard->max, NULL))
    {
      g_set_error_literal (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE,
                           "Invalid " GUARD_NAME " parameters");
      return FALSE;
    }
  return TRUE;
}

/* Called by libsoup for each frame, once it is complete, before its payload
 * is added to the message being assembled.  Takes @payload. */
static GBytes *
guard_process_incoming (SoupWebsocketExtension *extension,
                        guint8                 *header,
                        GBytes                 *payload,
                        GError                **error)
{
  BayeuxWebSocketGuard *guard = BAYEUX_WEBSOCKET_GUARD (extension);
  gboolean fin = (header[0] & 0x80) != 0;
  guint8 opcode = header[0] & 0x0f;
  gsize length = g_bytes_get_size (payload);

  if (header[0] & 0x08)
    return payload;   /* a control frame: never part of a message */

  if (guard->overflowed)
    {
      /* libsoup keeps reading until the connection is closed: let it
       * consume the frames without keeping anything. */
      g_bytes_unref (payload);
      return g_bytes_new_static ("", 0);
    }

  if (opcode != 0)
    guard->received = 0;   /* the first frame of a message */

  if (length > guard->max - guard->received)
    {
      guard->overflowed = TRUE;
      g_bytes_unref (payload);
      /* In libsoup's domain, with the close code libsoup then sends. */
      g_set_error (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_CLOSE_TOO_BIG,
                   "Received a fragmented WebSocket message larger than %" G_GUINT64_FORMAT " bytes",
                   guard->max);
      return NULL;
    }

  guard->received += length;
  if (fin)
    guard->received = 0;
  return payload;
}

static void
bayeux_websocket_guard_class_init (BayeuxWebSocketGuardClass *klass)
{
  SoupWebsocketExtensionClass *extension_class = SOUP_WEBSOCKET_EXTENSION_CLASS (klass);

  extension_class->name = GUARD_NAME;
  extension_class->configure = guard_configure;
  extension_class->process_incoming_message = guard_process_incoming;
}

static void
bayeux_websocket_guard_init (BayeuxWebSocketGuard *guard)
{
}

/* The guard needs a SoupWebsocketExtensionManager on the session (libsoup
 * only lists the extension types of one).  soup_session_new() adds none:
 * then the transport adds one, emptied of permessage-deflate, so that what
 * the session offers and accepts stays as it was (nothing).
 *
 * A libsoup 3.2 bug (fixed in 3.7) makes adding a feature to a session
 * delicate: each message queued takes a reference on every feature the
 * session has then, and each message unqueued drops one on every feature
 * the session has then.  A message queued before the manager was added
 * drops a reference it never took.  The keeper holds one reference of its
 * own, so the count never reaches zero, and gives one back for each such
 * message, so that it stays exact. */
typedef struct
{
  SoupSessionFeature *manager;
  GHashTable         *queued;   /* SoupMessage *: queued since the manager was added */
  GMutex              lock;     /* sync messages may be queued from other threads */
} ManagerKeeper;

static void
manager_keeper_free (ManagerKeeper *keeper)
{
  g_object_unref (keeper->manager);
  g_hash_table_unref (keeper->queued);
  g_mutex_clear (&keeper->lock);
  g_free (keeper);
}

static void
on_request_queued (SoupSession *session,
                   SoupMessage *msg,
                   gpointer     user_data)
{
  ManagerKeeper *keeper = user_data;

  g_mutex_lock (&keeper->lock);
  g_hash_table_add (keeper->queued, msg);
  g_mutex_unlock (&keeper->lock);
}

static void
on_request_unqueued (SoupSession *session,
                     SoupMessage *msg,
                     gpointer     user_data)
{
  ManagerKeeper *keeper = user_data;

  g_mutex_lock (&keeper->lock);
  if (!g_hash_table_remove (keeper->queued, msg))
    g_object_ref (keeper->manager);   /* queued before: it dropped one it did not take */
  g_mutex_unlock (&keeper->lock);
}

static void
ensure_extension_manager (SoupSession *session)
{
  ManagerKeeper *keeper;

  if (soup_session_has_feature (session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER))
    return;

  keeper = g_new0 (ManagerKeeper, 1);
  keeper->manager = g_object_new (SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER, NULL);
  keeper->queued = g_hash_table_new (NULL, NULL);
  g_mutex_init (&keeper->lock);
  g_signal_connect (session, "request-queued", G_CALLBACK (on_request_queued), keeper);
  g_signal_connect (session, "request-unqueued", G_CALLBACK (on_request_unqueued), keeper);
  g_object_set_data_full (G_OBJECT (session), "bayeux-websocket-extension-manager", keeper,
                          (GDestroyNotify) manager_keeper_free);

  soup_session_add_feature (session, keeper->manager);
  /* Its default: as without a manager, nothing is offered. */
  soup_session_remove_feature_by_type (session, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
}

/* Makes the guard a supported extension of @session until guard_pop().
 * Only the manager's list of types changes: no feature is added to the
 * session (see above). FALSE if the session has no manager any more. */
static gboolean
guard_push (SoupSession *session)
{
  if (!soup_session_has_feature (session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER))
    return FALSE;
  soup_session_add_feature_by_type (session, BAYEUX_TYPE_WEBSOCKET_GUARD);
  return TRUE;
}

static void
guard_pop (SoupSession *session)
{
  soup_session_remove_feature_by_type (session, BAYEUX_TYPE_WEBSOCKET_GUARD);
}

/* @list (a Sec-WebSocket-Extensions value) without the guard and without
 * empty elements; NULL when nothing is left. */
static char *
extensions_without_guard (const char *list)
{
  GSList *items = soup_header_parse_list (list);
  GString *out = g_string_new (NULL);

  for (GSList *l = items; l != NULL; l = l->next)
    {
      char *item = g_strstrip ((char *) l->data);
      gsize name_length = strcspn (item, ";");

      while (name_length > 0 && g_ascii_isspace (item[name_length - 1]))
        name_length--;
      if (name_length == 0 ||
          (name_length == strlen (GUARD_NAME) && g_ascii_strncasecmp (item, GUARD_NAME, name_length) == 0))
        continue;
      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append (out, item);
    }
  soup_header_free_list (items);

  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

static void
set_extensions (SoupMessageHeaders *headers,
                const char         *first,
                const char         *second)
{
  if (first != NULL && second != NULL)
    {
      g_autofree char *value = g_strconcat (first, ", ", second, NULL);
      soup_message_headers_replace (headers, HEADER_EXTENSIONS, value);
    }
  else if (first != NULL || second != NULL)
    soup_message_headers_replace (headers, HEADER_EXTENSIONS, first != NULL ? first : second);
  else
    soup_message_headers_remove (headers, HEADER_EXTENSIONS);
}

/* ------------------------------------------------------------------------ */
/* The transport                                                            */

typedef enum {
  STATE_CLOSED,
  STATE_OPENING,
  STATE_OPEN,
} State;

struct _BayeuxWebSocket
{
  GObject                  parent_instance;
  GMainContext            *context;
  SoupSession             *session;
  GUri                    *uri;        /* http(s): the server's URL */
  SoupMessageHeaders      *headers;    /* the application's (the client's, shared), added to the upgrade */

  State                    state;
  GTask                   *opening;    /* borrowed: the pending open's task */
  SoupWebsocketConnection *conn;
  char                    *url;        /* of conn, for messages */
  gsize                    max_message_size;   /* each message of a frame */
  gsize                    max_frame_size;     /* a whole frame */

  guint                    in_call;    /* inside one of our calls: ::closed waits */
  GSource                 *closed_idle;
  GError                  *closed_error;

  GQueue                   sends;      /* Send, in the order sent */
  GSource                  *reap_idle;  /* ends the sends that are over */
};

static void transport_iface_init (BayeuxTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BayeuxWebSocket, bayeux_websocket, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BAYEUX_TYPE_TRANSPORT, transport_iface_init))

static void end_sends (BayeuxWebSocket *self, const GError *error);

typedef struct
{
  SoupSession        *session;
  SoupMessage        *msg;
  char               *url;
  gsize               max_message_size;
  gsize               max_frame_size;
  BayeuxDeadline      deadline;            /* its cancellable is also cancelled by close() */
  gboolean            guard_pushed;
} Open;

static void
open_free (Open *op)
{
  bayeux_deadline_clear (&op->deadline);
  /* Our got-informational handlers: a 101 cannot come any more, but the
   * message may outlive us in libsoup's queue. */
  g_signal_handlers_disconnect_by_data (op->msg, op);
  if (op->guard_pushed)
    guard_pop (op->session);
  g_object_unref (op->msg);
  g_object_unref (op->session);
  g_free (op->url);
  g_free (op);
}

static void
debug_http (const char *format,
            ...) G_GNUC_PRINTF (1, 2);

static void
debug_http (const char *format,
            ...)
{
  va_list args;
  g_autofree char *text = NULL;

  if (!(bayeux_debug_flags () & BAYEUX_DEBUG_HTTP))
    return;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "%s", text);
}

static char *
uri_for_log (GUri *uri)
{
  return g_uri_to_string_partial (uri, G_URI_HIDE_PASSWORD | G_URI_HIDE_AUTH_PARAMS);
}

/* ws:// or wss:// to the host, port, path and query of @uri. */
static GUri *
websocket_uri (GUri *uri)
{
  const char *scheme = g_uri_get_scheme (uri);
  gboolean secure = g_ascii_strcasecmp (scheme, "https") == 0 || g_ascii_strcasecmp (scheme, "wss") == 0;

  /* The user and password apart, as libsoup's auth manager reads them
   * (g_uri_build() would keep them only joined, as userinfo: a 401 on the
   * upgrade was then not answered with the URL's credentials). */
  return g_uri_build_with_user (g_uri_get_flags (uri), secure ? "wss" : "ws", g_uri_get_user (uri),
                                g_uri_get_password (uri), g_uri_get_auth_params (uri), g_uri_get_host (uri),
                                g_uri_get_port (uri), g_uri_get_path (uri), g_uri_get_query (uri), NULL);
}

/* ------------------------------------------------------------------------ */
/* Letting a connection go                                                  */

static gboolean
unref_connection_cb (gpointer user_data)
{
  g_object_unref (user_data);
  return G_SOURCE_REMOVE;
}

/* Drops @conn from the main loop: never from inside one of its signals,
 * where libsoup goes on using it after the handlers return. */
static void
unref_connection_later (SoupWebsocketConnection *conn,
                        GMainContext            *context,
                        int                      priority)
{
  GSource *source = bayeux_source_attach (context, 0, priority, unref_connection_cb, conn, NULL,
                                          "[bayeux] websocket release");
  g_source_unref (source);
}

static void
on_released_closed (SoupWebsocketConnection *conn,
                    gpointer                 user_data)
{
  g_signal_handlers_disconnect_by_func (conn, on_released_closed, user_data);
  /* (libsoup emits its signals on the context the connection was made in) */
  unref_connection_later (conn, g_main_context_get_thread_default (), G_PRIORITY_DEFAULT);
}

typedef enum {
  RELEASE_GRACEFUL,   /* let libsoup finish the closing handshake (it gives up after 5 s) */
  RELEASE_ABORT,      /* close the socket at once: what comes next is not read */
} Release;

/* Forgets the connection: no more signals from it. @close_code: a close
 * frame to send first, 0 for none (libsoup is closing it already). */
static void
release_connection (BayeuxWebSocket *self,
                    gushort          close_code,
                    Release          how)
{
  SoupWebsocketConnection *conn = g_steal_pointer (&self->conn);

  g_signal_handlers_disconnect_by_data (conn, self);
  if (close_code != 0 && soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, close_code, NULL);

  if (how == RELEASE_GRACEFUL && soup_websocket_connection_get_state (conn) != SOUP_WEBSOCKET_STATE_CLOSED)
    g_signal_connect (conn, "closed", G_CALLBACK (on_released_closed), NULL);
  else
    /* Before the connection's next read: disposing it closes the socket. */
    unref_connection_later (conn, self->context, G_PRIORITY_HIGH);
}

/* ------------------------------------------------------------------------ */
/* ::closed                                                                 */

static void
cancel_closed_idle (BayeuxWebSocket *self)
{
  g_clear_pointer (&self->closed_idle, bayeux_source_destroy);
  g_clear_error (&self->closed_error);
}

static gboolean
emit_closed_cb (gpointer user_data)
{
  BayeuxWebSocket *self = g_object_ref (user_data);
  g_autoptr(GError) error = g_steal_pointer (&self->closed_error);

  g_clear_pointer (&self->closed_idle, g_source_unref);
  bayeux_transport_emit_closed (BAYEUX_TRANSPORT (self), error);
  end_sends (self, error);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* The connection ended without our asking: forget it, then ::closed. Takes
 * @error. */
static void
connection_failed (BayeuxWebSocket *self,
                   GError          *error,
                   gushort          close_code,
                   Release          how)
{
  g_debug ("WebSocket to %s closed: %s", self->url, error->message);
  debug_http ("WebSocket %s closed: %s", self->url, error->message);

  release_connection (self, close_code, how);
  self->state = STATE_CLOSED;

  cancel_closed_idle (self);
  if (self->in_call > 0)
    {
      self->closed_error = error;
      self->closed_idle = bayeux_source_attach (self->context, 0, G_PRIORITY_DEFAULT_IDLE, emit_closed_cb, self, NULL,
                                                "[bayeux] websocket closed");
      return;
    }

  g_object_ref (self);
  bayeux_transport_emit_closed (BAYEUX_TRANSPORT (self), error);
  end_sends (self, error);
  g_error_free (error);
  g_object_unref (self);
}

/* ------------------------------------------------------------------------ */
/* Sends: a frame each, over once every id it carried is answered          */

/* Replies come in any frame, so a send is not answered by a response of
 * its own: after each frame, the transport asks the sender which of the
 * send's ids are still pending; when none is, the send is over. It is
 * over too, with an error, at its deadline or when its frame could not be
 * written (the connection is then taken for dead: ::closed), when the
 * connection is lost (after ::closed), or when it is cancelled or the
 * transport closed (G_IO_ERROR_CANCELLED, from an idle). */
typedef struct
{
  BayeuxWebSocket           *self;        /* borrowed: the send is in its queue */
  GPtrArray                 *ids;
  const BayeuxSendCallbacks *callbacks;
  gpointer                   user_data;
  GSource                   *timer;       /* the deadline of its replies, or the idle after a failed write */
  GError                    *write_error;
  GCancellable              *cancellable;
  gulong                     handler;
  gboolean                   over;
  GError                    *error;       /* what it ended with, once over */
} Send;

static void
send_free (Send *call)
{
  g_clear_pointer (&call->timer, bayeux_source_destroy);
  if (call->cancellable != NULL)
    {
      g_cancellable_disconnect (call->cancellable, call->handler);
      g_object_unref (call->cancellable);
    }
  g_ptr_array_unref (call->ids);
  g_clear_error (&call->write_error);
  g_clear_error (&call->error);
  g_free (call);
}

/* Ends the sends that are over, in the order sent: out of the queue first
 * (a done may send again, or close), then their done. */
static void
reap (BayeuxWebSocket *self)
{
  g_autoptr(GPtrArray) over = g_ptr_array_new_with_free_func ((GDestroyNotify) send_free);
  GList *l = self->sends.head;

  while (l != NULL)
    {
      GList *next = l->next;
      Send *call = l->data;

      if (call->over)
        {
          g_queue_delete_link (&self->sends, l);
          g_ptr_array_add (over, call);
        }
      l = next;
    }
  for (guint i = 0; i < over->len; i++)
    {
      Send *call = g_ptr_array_index (over, i);

      call->callbacks->done (call->user_data, NULL, call->error);
    }
}

static gboolean
reap_cb (gpointer user_data)
{
  BayeuxWebSocket *self = g_object_ref (user_data);

  g_clear_pointer (&self->reap_idle, g_source_unref);
  reap (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* @send is over, with @error (nullable: answered); it ends when reaped. */
static void
send_over (Send         *call,
           const GError *error)
{
  if (call->over)
    return;
  call->over = TRUE;
  call->error = error ? g_error_copy (error) : NULL;
  g_clear_pointer (&call->timer, bayeux_source_destroy);
}

/* Ends, from an idle, the sends that are over. */
static void
reap_later (BayeuxWebSocket *self)
{
  if (self->reap_idle != NULL)
    return;
  self->reap_idle = bayeux_source_attach (self->context, 0, G_PRIORITY_DEFAULT, reap_cb, self, NULL,
                                          "[bayeux] websocket sends");
}

/* The connection is gone (after ::closed): every send on it ends now. */
static void
end_sends (BayeuxWebSocket *self,
           const GError    *error)
{
  for (GList *l = self->sends.head; l != NULL; l = l->next)
    send_over (l->data, error);
  reap (self);
}

/* After a frame: the sends whose ids are all answered end now. */
static void
end_answered_sends (BayeuxWebSocket *self)
{
  gboolean any = FALSE;

  for (GList *l = self->sends.head; l != NULL; l = l->next)
    {
      Send *call = l->data;
      gboolean answered = TRUE;

      if (call->over)
        continue;
      for (guint i = 0; i < call->ids->len && answered; i++)
        answered = !call->callbacks->pending (call->user_data, g_ptr_array_index (call->ids, i));
      if (answered)
        {
          send_over (call, NULL);
          any = TRUE;
        }
    }
  if (any)
    reap (self);
}

/* Every send ends with G_IO_ERROR_CANCELLED, from an idle. */
static void
cancel_sends (BayeuxWebSocket *self)
{
  g_autoptr(GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                     "The WebSocket transport was closed");

  for (GList *l = self->sends.head; l != NULL; l = l->next)
    send_over (l->data, cancelled);
  if (!g_queue_is_empty (&self->sends))
    reap_later (self);
}

/* A send's replies did not come in time, or its frame could not be
 * written: a socket that does not answer is as good as dead. */
static gboolean
send_timer_cb (gpointer user_data)
{
  Send *call = user_data;
  BayeuxWebSocket *self = call->self;
  GError *error;

  g_clear_pointer (&call->timer, g_source_unref);
  if (call->write_error != NULL)
    error = g_steal_pointer (&call->write_error);
  else
    error = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT, "The server did not answer in time (WebSocket)");

  if (self->conn != NULL)
    connection_failed (self, error, SOUP_WEBSOCKET_CLOSE_NORMAL, RELEASE_GRACEFUL);
  else
    {
      /* No connection any more (its ::closed is to come, or came while
       * this send's frame was failing): the sends end here. */
      self->state = STATE_CLOSED;
      g_object_ref (self);
      bayeux_transport_emit_closed (BAYEUX_TRANSPORT (self), error);
      end_sends (self, error);
      g_error_free (error);
      g_object_unref (self);
    }
  return G_SOURCE_REMOVE;
}

static void
on_send_cancelled (GCancellable *cancellable,
                   gpointer      user_data)
{
  Send *call = user_data;
  g_autoptr(GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The send was cancelled");

  send_over (call, cancelled);
  reap_later (call->self);
}

/* ------------------------------------------------------------------------ */
/* Connection signals: all from libsoup's read loop, on our context.       */

static void
on_message (SoupWebsocketConnection *conn,
            int                      type,
            GBytes                  *message,
            gpointer                 user_data)
{
  BayeuxWebSocket *self = user_data;
  GError *error = NULL;
  gsize length = g_bytes_get_size (message);
  BayeuxElements *messages;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      connection_failed (self, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                            "Bad response: a binary WebSocket frame of %" G_GSIZE_FORMAT " bytes",
                                            length),
                         SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA, RELEASE_ABORT);
      return;
    }

  /* libsoup bounds frames and the guard messages: this is a last check. */
  if (length > self->max_frame_size)
    {
      connection_failed (self, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE,
                                            "WebSocket message larger than the limit of %" G_GSIZE_FORMAT " bytes",
                                            self->max_frame_size),
                         SOUP_WEBSOCKET_CLOSE_TOO_BIG, RELEASE_ABORT);
      return;
    }

  messages = bayeux_elements_split_limited (message, self->max_message_size, &error);
  if (messages == NULL)
    {
      connection_failed (self, error, SOUP_WEBSOCKET_CLOSE_BAD_DATA, RELEASE_ABORT);
      return;
    }

  g_object_ref (self);
  bayeux_transport_emit_messages (BAYEUX_TRANSPORT (self), messages);
  bayeux_elements_unref (messages);
  end_answered_sends (self);
  g_object_unref (self);
}

/* libsoup found a fault: it closes the connection itself after this. */
static void
on_error (SoupWebsocketConnection *conn,
          GError                  *error,
          gpointer                 user_data)
{
  BayeuxWebSocket *self = user_data;
  GError *ours;

  if (g_error_matches (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_CLOSE_TOO_BIG))
    ours = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE,
                        "WebSocket message larger than the limit of %" G_GSIZE_FORMAT " bytes",
                        self->max_frame_size);
  else if (error->domain == SOUP_WEBSOCKET_ERROR)
    /* Invalid framing, a text frame that is not UTF-8, a bad close frame. */
    ours = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE, "Bad response: %s", error->message);
  else
    ours = g_error_copy (error);

  connection_failed (self, ours, 0, RELEASE_ABORT);
}

/* The server sent a close frame (libsoup answers it). */
static void
on_closing (SoupWebsocketConnection *conn,
            gpointer                 user_data)
{
  BayeuxWebSocket *self = user_data;
  gushort code = soup_websocket_connection_get_close_code (conn);
  const char *reason = soup_websocket_connection_get_close_data (conn);
  GError *error;

  if (reason != NULL && *reason != '\0')
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                         "The server closed the WebSocket connection (code %u: %s)", code, reason);
  else
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                         "The server closed the WebSocket connection (code %u)", code);
  connection_failed (self, error, 0, RELEASE_GRACEFUL);
}

/* The socket ended with neither a close frame nor an error. */
static void
on_closed (SoupWebsocketConnection *conn,
           gpointer                 user_data)
{
  connection_failed (user_data,
                     g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                          "The server closed the connection without a WebSocket close frame"),
                     0, RELEASE_GRACEFUL);
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */

static gboolean
accept_key_valid (SoupMessageHeaders *request,
                  SoupMessageHeaders *response)
{
  const char *key = soup_message_headers_get_one (request, "Sec-WebSocket-Key");
  const char *accept = soup_message_headers_get_one (response, "Sec-WebSocket-Accept");
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  GChecksum *checksum;
  guint8 digest[20];
  gsize length = sizeof digest;

  if (key == NULL || accept == NULL)
    return FALSE;

  text = g_strconcat (key, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", NULL);   /* RFC 6455 */
  checksum = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (checksum, (const guchar *) text, -1);
  g_checksum_get_digest (checksum, digest, &length);
  g_checksum_free (checksum);
  expected = g_base64_encode (digest, length);
  return g_ascii_strcasecmp (accept, expected) == 0;
}

/* The 101 arrived: runs after the session's logger and just before
 * libsoup's own handler checks it. */
static void
on_switching_protocols (SoupMessage *msg,
                        gpointer     user_data)
{
  Open *op = user_data;
  SoupMessageHeaders *request = soup_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_message_get_response_headers (msg);
  const char *offered = soup_message_headers_get_list (request, HEADER_EXTENSIONS);
  const char *accepted = soup_message_headers_get_list (response, HEADER_EXTENSIONS);
  g_autofree char *offered_clean = NULL;
  g_autofree char *accepted_clean = NULL;
  g_autofree char *guard = g_strdup_printf (GUARD_NAME "; max=%" G_GSIZE_FORMAT, op->max_frame_size);

  /* libsoup 3.2 leaks the accepted extensions when the accept key, checked
   * after them, is wrong: leave such an answer alone (it fails anyway). */
  if (!accept_key_valid (request, response))
    return;

  if (!op->guard_pushed)
    op->guard_pushed = guard_push (op->session);
  if (!op->guard_pushed)
    return;   /* the application took the session's extension manager away */

  offered_clean = offered != NULL ? extensions_without_guard (offered) : NULL;
  accepted_clean = accepted != NULL ? extensions_without_guard (accepted) : NULL;

  /* Appended last: libsoup lists the accepted extensions in reverse, so
   * the guard sees each frame first, as it came. */
  set_extensions (request, offered_clean, GUARD_NAME);
  set_extensions (response, accepted_clean, guard);
}

/* Runs after libsoup's handler. */
static void
on_switching_protocols_done (SoupMessage *msg,
                             gpointer     user_data)
{
  Open *op = user_data;

  if (op->guard_pushed)
    {
      guard_pop (op->session);
      op->guard_pushed = FALSE;
    }
}

/* Connects our first got-informational handler as soon as the message is
 * queued: after the SoupLogger's (so that BAYEUX_DEBUG=http shows the answer
 * as it came), before libsoup's. */
static void
on_open_queued (SoupSession *session,
                SoupMessage *msg,
                gpointer     user_data)
{
  Open *op = user_data;

  if (msg == op->msg)
    soup_message_add_status_code_handler (msg, "got-informational", SOUP_STATUS_SWITCHING_PROTOCOLS,
                                          G_CALLBACK (on_switching_protocols), op);
}

static gboolean
has_guard (SoupWebsocketConnection *conn)
{
  for (GList *l = soup_websocket_connection_get_extensions (conn); l != NULL; l = l->next)
    if (BAYEUX_IS_WEBSOCKET_GUARD (l->data))
      return TRUE;
  return FALSE;
}

/* An upgrade answered with a status that says nothing against WebSockets
 * here: the credentials (401, 403, 407), or not now (408, 429, 5xx). It
 * fails as a long-polling request with that status would
 * (BAYEUX_ERROR_HTTP), not as a refusal (SOUP_WEBSOCKET_ERROR). */
static gboolean
refused_for_now (guint status)
{
  return status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN ||
         status == SOUP_STATUS_PROXY_AUTHENTICATION_REQUIRED || status == SOUP_STATUS_REQUEST_TIMEOUT ||
         status == 429 || SOUP_STATUS_IS_SERVER_ERROR (status);   /* 429: Too Many Requests */
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BayeuxWebSocket *self = g_task_get_source_object (task);
  Open *op = g_task_get_task_data (task);
  GError *error = NULL;
  SoupWebsocketConnection *conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);

  /* Done with the deadline: the task (and so @op) may live on in the
   * caller's hands. */
  bayeux_deadline_stop (&op->deadline);

  if (self->opening != task)
    {
      /* close() or dispose came first. */
      if (conn != NULL)
        {
          soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
          unref_connection_later (conn, self->context, G_PRIORITY_HIGH);
        }
      g_clear_error (&error);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The WebSocket opening was cancelled");
      return;
    }

  self->opening = NULL;

  if (conn == NULL)
    {
      self->state = STATE_CLOSED;
      /* An upgrade refused for now (429, 503) may say when to come back. */
      if (soup_message_get_status (op->msg) != SOUP_STATUS_NONE)
        bayeux_transport_note_retry_after (BAYEUX_TRANSPORT (self), op->msg);
      if (error->domain == SOUP_WEBSOCKET_ERROR && refused_for_now (soup_message_get_status (op->msg)))
        {
          g_clear_error (&error);
          error = bayeux_transport_status_error (op->msg);
        }
      if (bayeux_deadline_timed_out (&op->deadline, error))
        {
          g_clear_error (&error);
          error = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT,
                               "The WebSocket to %s was not open within %u ms", op->url, op->deadline.timeout_ms);
        }
      g_debug ("WebSocket to %s not open: %s", op->url, error->message);
      debug_http ("WebSocket %s not open: %s", op->url, error->message);
      g_task_return_error (task, error);
      return;
    }

  if (!has_guard (conn))
    g_debug ("WebSocket to %s: the message-size guard is missing", op->url);
  soup_websocket_connection_set_max_incoming_payload_size (conn, op->max_frame_size);
  /* libsoup ≥ 3.7 bounds whole messages itself. */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (conn), "max-total-message-size") != NULL)
    g_object_set (conn, "max-total-message-size", (guint64) op->max_frame_size, NULL);

  g_signal_connect (conn, "message", G_CALLBACK (on_message), self);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), self);
  g_signal_connect (conn, "closing", G_CALLBACK (on_closing), self);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), self);

  self->conn = conn;
  self->max_message_size = op->max_message_size;
  self->max_frame_size = op->max_frame_size;
  g_free (self->url);
  self->url = g_strdup (op->url);
  self->state = STATE_OPEN;

  g_debug ("WebSocket to %s open", self->url);
  debug_http ("WebSocket %s open", self->url);
  g_task_return_boolean (task, TRUE);
}

/**
 * bayeux_websocket_open_async:
 * @max_message_size: the largest Bayeux message accepted from the server,
 *   in bytes: an element of a frame larger than it is refused alone (the
 *   frame's ::messages mark it, see bayeux_elements_split_limited())
 * @max_frame_size: the largest WebSocket message (a frame, whole or in
 *   fragments) accepted, in bytes; more closes the connection with
 *   BAYEUX_ERROR_MESSAGE_TOO_LARGE
 * @timeout_ms: the deadline for the whole opening (connection, TLS,
 *   upgrade); 0 for none
 *
 * Opens the socket. Must not be called while open or opening.
 *
 * Fails with: SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET when the server answered
 * the upgrade with anything but 101 (a Bayeux server without WebSocket
 * support), but BAYEUX_ERROR_HTTP ("HTTP error <status> <reason>") for
 * 401, 403, 407, 408, 429 and 5xx; SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE for an invalid 101;
 * BAYEUX_ERROR_TIMEOUT after @timeout_ms; G_IO_ERROR_CANCELLED when
 * cancelled or closed meanwhile; network and TLS errors as GIO gives them.
 *
 * The callback normally runs before any ::messages (it is called from
 * libsoup's handling of the 101, before the socket is read again).
 */
void
bayeux_websocket_open_async (BayeuxWebSocket     *self,
                             gsize                max_message_size,
                             gsize                max_frame_size,
                             guint                timeout_ms,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;
  Open *op;
  g_autoptr(GUri) uri = NULL;
  SoupMessageHeaders *request;
  gboolean pushed;
  gulong queued_handler;
  const char *offered;

  g_return_if_fail (BAYEUX_IS_WEBSOCKET (self));
  g_return_if_fail (max_message_size > 0);
  g_return_if_fail (max_frame_size > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (self->state == STATE_CLOSED);

  /* A ::closed not yet emitted is about the connection this replaces. */
  cancel_closed_idle (self);

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, bayeux_websocket_open_async);
  g_task_set_name (task, "[bayeux] websocket open");

  uri = websocket_uri (self->uri);
  op = g_new0 (Open, 1);
  op->session = g_object_ref (self->session);
  op->url = uri_for_log (uri);
  op->max_message_size = max_message_size;
  op->max_frame_size = max_frame_size;
  op->msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  bayeux_deadline_init (&op->deadline, timeout_ms, cancellable, self->context, "[bayeux] websocket open deadline");
  g_task_set_task_data (task, op, (GDestroyNotify) open_free);

  /* A Bayeux endpoint does not move (see the long-polling transport). */
  soup_message_add_flags (op->msg, SOUP_MESSAGE_NO_REDIRECT);
  soup_message_disable_feature (op->msg, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  g_signal_connect_object (op->msg, "accept-certificate", G_CALLBACK (bayeux_transport_accept_certificate),
                           self, 0);
  request = soup_message_get_request_headers (op->msg);
  bayeux_transport_add_headers (op->msg, self->headers);

  self->opening = task;
  self->state = STATE_OPENING;
  g_debug ("opening a WebSocket to %s", op->url);

  pushed = guard_push (self->session);
  queued_handler = g_signal_connect (self->session, "request-queued", G_CALLBACK (on_open_queued), op);
  soup_session_websocket_connect_async (self->session, op->msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        op->deadline.cancellable, on_connected, task);
  g_signal_handler_disconnect (self->session, queued_handler);
  if (pushed)
    guard_pop (self->session);

  /* The guard is ours alone: not on the wire. */
  offered = soup_message_headers_get_list (request, HEADER_EXTENSIONS);
  if (offered != NULL)
    {
      g_autofree char *clean = extensions_without_guard (offered);
      set_extensions (request, clean, NULL);
    }

  soup_message_add_status_code_handler (op->msg, "got-informational", SOUP_STATUS_SWITCHING_PROTOCOLS,
                                        G_CALLBACK (on_switching_protocols_done), op);
}

gboolean
bayeux_websocket_open_finish (BayeuxWebSocket  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bayeux_websocket_open_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------ */

/**
 * bayeux_websocket_send:
 * @body: a JSON array of messages, serialized (UTF-8)
 *
 * Queues @body as one text frame. Fails with G_IO_ERROR_NOT_CONNECTED when
 * not open. A write that fails later (or at once) ends the connection:
 * ::closed follows, from the main loop.
 */
gboolean
bayeux_websocket_send (BayeuxWebSocket  *self,
                       GBytes           *body,
                       GError          **error)
{
  gsize length;
  const char *data;

  g_return_val_if_fail (BAYEUX_IS_WEBSOCKET (self), FALSE);
  g_return_val_if_fail (body != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->state != STATE_OPEN ||
      soup_websocket_connection_get_state (self->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "The WebSocket is not open");
      return FALSE;
    }

  data = g_bytes_get_data (body, &length);
  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Not valid UTF-8");
      return FALSE;
    }

  self->in_call++;
  soup_websocket_connection_send_message (self->conn, SOUP_WEBSOCKET_DATA_TEXT, body);
  self->in_call--;
  return TRUE;
}

/**
 * bayeux_websocket_close:
 *
 * Closes the connection (code 1000) or cancels the opening, in any state.
 * No ::closed follows, and frames still arriving are dropped. The
 * transport can be opened again at once.
 */
void
bayeux_websocket_close (BayeuxWebSocket *self)
{
  g_return_if_fail (BAYEUX_IS_WEBSOCKET (self));

  cancel_closed_idle (self);
  if (self->opening != NULL)
    {
      Open *op = g_task_get_task_data (self->opening);

      self->opening = NULL;
      g_cancellable_cancel (op->deadline.cancellable);
    }
  if (self->conn != NULL)
    release_connection (self, SOUP_WEBSOCKET_CLOSE_NORMAL, RELEASE_GRACEFUL);
  if (self->state != STATE_CLOSED)
    g_debug ("WebSocket to %s closed by the client", self->url ? self->url : "the server");
  self->state = STATE_CLOSED;
  cancel_sends (self);
}

gboolean
bayeux_websocket_is_open (BayeuxWebSocket *self)
{
  g_return_val_if_fail (BAYEUX_IS_WEBSOCKET (self), FALSE);

  return self->state == STATE_OPEN;
}

/* The next opening goes to @uri (http or https: a fallback server). */
void
bayeux_websocket_set_uri (BayeuxWebSocket *self,
                          GUri            *uri)
{
  g_return_if_fail (BAYEUX_IS_WEBSOCKET (self));
  g_return_if_fail (uri != NULL);

  g_uri_ref (uri);
  g_clear_pointer (&self->uri, g_uri_unref);
  self->uri = uri;
}

/* @headers (nullable): the application's headers, added to each upgrade
 * request as they are when it is sent; shared with the caller, who may
 * change them at any time. */
BayeuxWebSocket *
bayeux_websocket_new (SoupSession        *session,
                      GUri               *uri,
                      SoupMessageHeaders *headers)
{
  BayeuxWebSocket *self;

  g_return_val_if_fail (SOUP_IS_SESSION (session), NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  self = g_object_new (BAYEUX_TYPE_WEBSOCKET, NULL);
  self->session = g_object_ref (session);
  self->uri = g_uri_ref (uri);
  self->headers = headers ? soup_message_headers_ref (headers) : NULL;
  ensure_extension_manager (session);
  /* BAYEUX_DEBUG=http: the upgrade's headers (once per session). */
  bayeux_debug_attach_logger (session);
  return self;
}

static void
bayeux_websocket_dispose (GObject *object)
{
  BayeuxWebSocket *self = BAYEUX_WEBSOCKET (object);

  /* Only through g_object_run_dispose() while opening: the open's task
   * holds a reference. */
  if (self->opening != NULL)
    {
      Open *op = g_task_get_task_data (self->opening);

      self->opening = NULL;
      g_cancellable_cancel (op->deadline.cancellable);
    }
  if (self->conn != NULL)
    release_connection (self, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, RELEASE_GRACEFUL);
  self->state = STATE_CLOSED;
  cancel_closed_idle (self);
  /* The sends end now: no idle may outlive us. */
  cancel_sends (self);
  g_clear_pointer (&self->reap_idle, bayeux_source_destroy);
  reap (self);

  G_OBJECT_CLASS (bayeux_websocket_parent_class)->dispose (object);
}

static void
bayeux_websocket_finalize (GObject *object)
{
  BayeuxWebSocket *self = BAYEUX_WEBSOCKET (object);

  g_clear_object (&self->session);
  g_clear_pointer (&self->uri, g_uri_unref);
  g_clear_pointer (&self->headers, soup_message_headers_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->url);

  G_OBJECT_CLASS (bayeux_websocket_parent_class)->finalize (object);
}

static void
bayeux_websocket_class_init (BayeuxWebSocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = bayeux_websocket_dispose;
  object_class->finalize = bayeux_websocket_finalize;
}

static void
bayeux_websocket_init (BayeuxWebSocket *self)
{
  self->context = g_main_context_ref_thread_default ();
  g_queue_init (&self->sends);
}

/* ------------------------------------------------------------------------ */
/* BayeuxTransport                                                          */

static void
set_uri (BayeuxTransport *transport,
         GUri            *uri)
{
  bayeux_websocket_set_uri (BAYEUX_WEBSOCKET (transport), uri);
}

static void
open_async (BayeuxTransport     *transport,
            gsize                max_message_size,
            gsize                max_response_size,
            guint                timeout_ms,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  bayeux_websocket_open_async (BAYEUX_WEBSOCKET (transport), max_message_size, max_response_size, timeout_ms,
                               cancellable, callback, user_data);
}

static gboolean
open_finish (BayeuxTransport  *transport,
             GAsyncResult     *result,
             GError          **error)
{
  return bayeux_websocket_open_finish (BAYEUX_WEBSOCKET (transport), result, error);
}

/* One frame; over once its ids are answered, or with an error (see
 * Send). A frame that cannot be written fails from the main loop, not
 * from inside this call. */
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
  BayeuxWebSocket *self = BAYEUX_WEBSOCKET (transport);
  Send *call = g_new0 (Send, 1);

  call->self = self;
  call->ids = g_ptr_array_ref (ids);
  call->callbacks = callbacks;
  call->user_data = user_data;
  g_queue_push_tail (&self->sends, call);

  if (!bayeux_websocket_send (self, batch, &call->write_error))
    timeout_ms = 0;
  call->timer = timeout_ms > 0 ? g_timeout_source_new (timeout_ms) : g_idle_source_new ();
  g_source_set_callback (call->timer, send_timer_cb, call, NULL);
  g_source_set_static_name (call->timer, "[bayeux] websocket deadline");
  g_source_attach (call->timer, self->context);

  if (cancellable != NULL)
    {
      call->cancellable = g_object_ref (cancellable);
      call->handler = g_cancellable_connect (cancellable, G_CALLBACK (on_send_cancelled), call, NULL);
    }
}

static void
close_transport (BayeuxTransport *transport)
{
  bayeux_websocket_close (BAYEUX_WEBSOCKET (transport));
}

static gboolean
is_open (BayeuxTransport *transport)
{
  return bayeux_websocket_is_open (BAYEUX_WEBSOCKET (transport));
}

static void
check_answered (BayeuxTransport *transport)
{
  end_answered_sends (BAYEUX_WEBSOCKET (transport));
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
  iface->check_answered = check_answered;
}
