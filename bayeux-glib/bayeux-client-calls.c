/* bayeux-client-calls.c: the public calls of BayeuxClient: subscribe,
 * unsubscribe, subscription handles, publish, remote calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Part of the client (see bayeux-glib/README.md), not a room: the public
 * entry points of the application's calls, each checking its arguments
 * and the thread rule, then handing over to the calls room
 * (bayeux-calls.c), which the client owns and lends through
 * bayeux_client_get_calls(). The session's own calls (start, stop,
 * handshake, disconnect) stay in bayeux-client.c. The class's
 * documentation and its signals are here, with its public calls.
 */
#include "bayeux-glib.h"
#include "bayeux-calls-private.h"
#include "bayeux-client-private.h"
#include "bayeux-context-private.h"
#include "bayeux-json-private.h"
#include "bayeux-task-private.h"

/**
 * BayeuxClient:
 *
 * A Bayeux (CometD, Faye) client, over a WebSocket or by HTTP long polling
 * (see [property@Client:transports]).
 *
 * Create one with [ctor@Client.new], connect to its
 * [signal@Client::message] signal with the channel as detail, subscribe,
 * and start it:
 *
 * ```c
 * BayeuxClient *client = bayeux_client_new ("https://example.org/cometd");
 * g_signal_connect (client, "message::/chat/demo", G_CALLBACK (on_chat), NULL);
 * g_signal_connect (client, "error", G_CALLBACK (on_error), NULL);
 * bayeux_client_subscribe (client, "/chat/demo");
 * bayeux_client_start (client);
 * ```
 *
 * The client handshakes, then keeps one `/meta/connect` long poll
 * outstanding, following the server's advice (`interval`, `timeout`,
 * `reconnect`) and backing off after failures. Subscriptions are kept by
 * the client: after a re-handshake (the server forgot us, or told us to
 * handshake again) they are sent again, and the application's
 * [signal@Client::message] handlers keep working untouched. Calls made
 * before the handshake completes are held and sent once it does.
 *
 * ## Main context
 *
 * A client belongs to the thread-default [struct@GLib.MainContext] of the
 * thread that creates it, as a [class@Soup.Session] does: every signal and
 * every async callback is dispatched there, and its methods must be called
 * from that thread (a call from another thread, while the context runs,
 * is refused with a critical). An application may run a client on a worker
 * thread: push a context with [method@GLib.MainContext.push_thread_default],
 * create the client, and run a loop on that context.
 *
 * ## Lifetime
 *
 * A running client does not keep itself alive: the application's reference
 * does. Dropping the last reference stops the client without telling the
 * server (call [method@Client.disconnect_async] first to end the session
 * cleanly). A pending async call holds a reference on the client until it
 * completes.
 *
 * ## Connections
 *
 * Over a WebSocket, one connection carries everything, the handshake too when the
 * WebSocket comes first in [property@Client:transports] (the default). Long polling,
 * the long poll runs on one connection and every other request (publish, subscribe,
 * unsubscribe, batched) on another: a client never uses more than two connections to
 * its server. The [class@Soup.Session] the client makes for itself allows two
 * connections per host and keeps cookies in its own [class@Soup.CookieJar] (CometD
 * servers tie the session to the `BAYEUX_BROWSER` cookie) of 50 cookies and 8 KiB at
 * most. An application that passes its own session with [ctor@Client.new_with_session]
 * owns its connection limits and cookie policy (unbounded): clients that share a
 * session share cookies, so a CometD server sees them as several tabs of one browser
 * and may advise all but one of them (`multiple-clients` advice) to poll less often.
 * Give such a session at least two connections per host for each client.
 *
 * ## Messages delivered twice
 *
 * [signal@Client::message] is emitted once per subscription a message
 * matches, with that subscription as the detail. Some servers
 * (cometd-nodejs-server among them) send one copy of a message per
 * matching subscription: a client subscribed to both `/a/*` and `/a/b`
 * then receives two copies of a message on `/a/b`, and each copy is
 * emitted for both subscriptions. Connect to the detailed signal of one
 * subscription to see each message once per copy the server sent.
 *
 * ## Debugging
 *
 * Logs go to the `Bayeux` log domain (`G_MESSAGES_DEBUG=Bayeux` shows state
 * changes). `BAYEUX_DEBUG=wire` logs every batch sent (`>>>`) and received
 * (`<<<`) as JSON, with the values of `ext` redacted; `BAYEUX_DEBUG=http`
 * logs HTTP headers, with cookies and credentials redacted.
 *
 * Since: 1.0
 */

/**
 * bayeux_client_subscribe:
 * @self: a client
 * @channel: a channel, or a pattern ending with `*` (one segment) or `**`
 *   (any depth)
 *
 * Subscribes to @channel: messages on it arrive through
 * [signal@Client::message] with @channel as the detail. Before the
 * handshake the subscription is held and sent once the handshake
 * completes; it is sent again after every re-handshake. Failures (a bad
 * channel name, a server refusal) are reported through
 * [signal@Client::error]; a refusal ends the subscription.
 *
 * The first call for a channel makes a [class@Subscription] handle for
 * it (in [method@Client.get_subscriptions]); later calls for the same
 * channel do nothing more. [method@Client.unsubscribe] ends that handle.
 *
 * Since: 1.0
 */
void
bayeux_client_subscribe (BayeuxClient *self,
                         const char   *channel)
{
  BayeuxCalls *calls;

  BAYEUX_CLIENT_CHECK (self);
  calls = bayeux_client_get_calls (self);
  g_return_if_fail (channel != NULL);

  bayeux_calls_subscribe (calls, channel, NULL);
}

/**
 * bayeux_client_subscribe_async:
 * @self: a client
 * @channel: a channel or pattern
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the server answered
 * @user_data: data for @callback
 *
 * Subscribes as [method@Client.subscribe] does and completes when the
 * server confirmed the subscription (at once if it already had), or
 * refused it, or when the client is stopped, or when @cancellable is
 * cancelled. A subscription whose request was lost in transport is sent
 * again once the connection works; this call completes with the answer to
 * that.
 *
 * Cancelling only stops waiting; it does not undo the subscription (call
 * [method@Client.unsubscribe] for that).
 *
 * Since: 1.0
 */
void
bayeux_client_subscribe_async (BayeuxClient        *self,
                               const char          *channel,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  BayeuxCalls *calls;
  g_autoptr(GTask) task = NULL;

  BAYEUX_CLIENT_CHECK (self);
  calls = bayeux_client_get_calls (self);
  g_return_if_fail (channel != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = bayeux_task_new (self, bayeux_client_subscribe_async, FALSE, cancellable, callback, user_data);
  bayeux_calls_subscribe (calls, channel, task);
}

/**
 * bayeux_client_subscribe_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Client.subscribe_async]. A refusal fails with
 * %BAYEUX_ERROR_REFUSED and the server's error string.
 *
 * Returns: %TRUE if the server confirmed the subscription
 *
 * Since: 1.0
 */
gboolean
bayeux_client_subscribe_finish (BayeuxClient *self,
                                GAsyncResult *result,
                                GError      **error)
{
  BAYEUX_CLIENT_CHECK_VAL (self, FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bayeux_client_subscribe_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * bayeux_client_unsubscribe:
 * @self: a client
 * @channel: a channel or pattern the client is subscribed to
 *
 * Ends the subscription [method@Client.subscribe] made to @channel: no
 * more [signal@Client::message] emissions for it, from now on, and the
 * server is told with `/meta/unsubscribe` (failures are reported through
 * [signal@Client::error]), unless other handles
 * ([method@Client.add_subscription]) still hold @channel: then the
 * subscription, its signal emissions and its listeners go on, and only
 * the handle of [method@Client.subscribe] ends.
 *
 * Since: 1.0
 */
void
bayeux_client_unsubscribe (BayeuxClient *self,
                           const char   *channel)
{
  BayeuxCalls *calls;

  BAYEUX_CLIENT_CHECK (self);
  calls = bayeux_client_get_calls (self);
  g_return_if_fail (channel != NULL);

  bayeux_calls_unsubscribe (calls, channel, NULL);
}

/**
 * bayeux_client_unsubscribe_async:
 * @self: a client
 * @channel: a channel or pattern the client is subscribed to
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the server answered
 * @user_data: data for @callback
 *
 * Unsubscribes as [method@Client.unsubscribe] does and completes when the
 * server answered (at once when the server never knew of the
 * subscription, or other handles still hold @channel), or when the client
 * is stopped, or when @cancellable is cancelled. Fails with
 * %BAYEUX_ERROR_FAILED when [method@Client.subscribe] holds no
 * subscription to @channel (even if handles of
 * [method@Client.add_subscription] do).
 *
 * Since: 1.0
 */
void
bayeux_client_unsubscribe_async (BayeuxClient        *self,
                                 const char          *channel,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  BayeuxCalls *calls;
  g_autoptr(GTask) task = NULL;

  BAYEUX_CLIENT_CHECK (self);
  calls = bayeux_client_get_calls (self);
  g_return_if_fail (channel != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = bayeux_task_new (self, bayeux_client_unsubscribe_async, FALSE, cancellable, callback, user_data);
  bayeux_calls_unsubscribe (calls, channel, task);
}

/**
 * bayeux_client_unsubscribe_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Client.unsubscribe_async].
 *
 * Returns: %TRUE if the server confirmed
 *
 * Since: 1.0
 */
gboolean
bayeux_client_unsubscribe_finish (BayeuxClient *self,
                                  GAsyncResult *result,
                                  GError      **error)
{
  BAYEUX_CLIENT_CHECK_VAL (self, FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bayeux_client_unsubscribe_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * bayeux_client_publish:
 * @self: a client
 * @channel: the channel to publish to (no wildcard)
 * @data: (nullable): the message's data; %NULL sends an empty object
 *
 * Publishes @data on @channel. Before the handshake the message is held
 * and sent once it completes. Failures (a bad channel name, a server
 * refusal, a transport failure) are reported through [signal@Client::error].
 *
 * Since: 1.0
 */
void
bayeux_client_publish (BayeuxClient *self,
                       const char   *channel,
                       JsonNode     *data)
{
  BayeuxCalls *calls;

  BAYEUX_CLIENT_CHECK (self);
  calls = bayeux_client_get_calls (self);
  g_return_if_fail (channel != NULL);

  bayeux_calls_publish (calls, channel, data, NULL, NULL);
}

/**
 * bayeux_client_publish_async:
 * @self: a client
 * @channel: the channel to publish to (no wildcard)
 * @data: (nullable): the message's data; %NULL sends an empty object
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the server's verdict
 * @user_data: data for @callback
 *
 * Publishes as [method@Client.publish] does and completes with the
 * server's reply. Cancelling only stops waiting: a message already sent is
 * not taken back.
 *
 * Since: 1.0
 */
void
bayeux_client_publish_async (BayeuxClient        *self,
                             const char          *channel,
                             JsonNode            *data,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  bayeux_client_publish_full_async (self, channel, data, NULL, cancellable, callback, user_data);
}

/**
 * bayeux_client_publish_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Client.publish_async]. Fails with
 * %BAYEUX_ERROR_REFUSED and the server's error string when the reply says
 * `successful: false`.
 *
 * A server may leave a publish unanswered (Bayeux 1.0): then the publish
 * completes as sent, returning %NULL without setting @error (see the
 * "Unanswered publishes" part of the errors page). Check @error, not the
 * return value, to tell a failure.
 *
 * Returns: (transfer full) (nullable): the server's reply; %NULL on
 *   failure (with @error set), or when the server left the publish
 *   unanswered
 *
 * Since: 1.0
 */
BayeuxMessage *
bayeux_client_publish_finish (BayeuxClient *self,
                              GAsyncResult *result,
                              GError      **error)
{
  return bayeux_client_publish_full_finish (self, result, error);
}

/**
 * bayeux_client_publish_full_async:
 * @self: a client
 * @channel: the channel to publish to (no wildcard)
 * @data: (nullable): the message's data; %NULL sends an empty object
 * @ext: (nullable): a JSON object sent as this message's `ext` (only this
 *   one's), before extensions add theirs; %NULL: none
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the server's verdict
 * @user_data: data for @callback
 *
 * Publishes as [method@Client.publish_async] does, with @ext in the
 * message (CometD's `publish(message)`, its "publish props").
 *
 * Since: 1.0
 */
void
bayeux_client_publish_full_async (BayeuxClient        *self,
                                  const char          *channel,
                                  JsonNode            *data,
                                  JsonNode            *ext,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  BayeuxCalls *calls;
  g_autoptr(GTask) task = NULL;

  BAYEUX_CLIENT_CHECK (self);
  calls = bayeux_client_get_calls (self);
  g_return_if_fail (channel != NULL);
  g_return_if_fail (ext == NULL || JSON_NODE_HOLDS_OBJECT (ext));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = bayeux_task_new (self, bayeux_client_publish_full_async, TRUE, cancellable, callback, user_data);
  bayeux_calls_publish (calls, channel, data, ext, task);
}

/**
 * bayeux_client_publish_full_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Client.publish_full_async] (or
 * [method@Client.publish_async]), as [method@Client.publish_finish] does.
 *
 * Returns: (transfer full) (nullable): the server's reply; %NULL on
 *   failure (with @error set), or when the server left the publish
 *   unanswered
 *
 * Since: 1.0
 */
BayeuxMessage *
bayeux_client_publish_full_finish (BayeuxClient *self,
                                   GAsyncResult *result,
                                   GError      **error)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bayeux_client_publish_full_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * bayeux_client_add_subscription:
 * @self: a client
 * @channel: a channel, or a pattern ending with `*` or `**`
 * @ext: (nullable): a JSON object for the `ext` of the channel's
 *   `/meta/subscribe`: see [property@Subscription:ext]
 *
 * Subscribes to @channel with a handle of its own, without waiting: each
 * call makes a new handle, and the server is told once per channel (see
 * [class@Subscription]). The handle is pending until the server answers;
 * watch its [property@Subscription:state]. A refusal (or a bad channel
 * name: the handle is then refused at once) is reported through
 * [signal@Client::error] too, unless an
 * [method@Client.add_subscription_async] call waits on the same channel
 * (its result carries the refusal). Before the handshake, the
 * subscription waits for one; it is sent again after every re-handshake.
 *
 * Returns: (transfer full): the new handle
 *
 * Since: 1.0
 */
BayeuxSubscription *
bayeux_client_add_subscription (BayeuxClient *self,
                                const char   *channel,
                                JsonNode     *ext)
{
  BayeuxCalls *calls;

  BAYEUX_CLIENT_CHECK_VAL (self, NULL);
  calls = bayeux_client_get_calls (self);
  g_return_val_if_fail (channel != NULL, NULL);
  g_return_val_if_fail (ext == NULL || JSON_NODE_HOLDS_OBJECT (ext), NULL);
  g_return_val_if_fail (!calls->disposing, NULL);

  return bayeux_calls_add_subscription (calls, channel, ext, NULL);
}

/**
 * bayeux_client_add_subscription_async:
 * @self: a client
 * @channel: a channel, or a pattern ending with `*` or `**`
 * @ext: (nullable): a JSON object for the `ext` of the channel's
 *   `/meta/subscribe`: see [property@Subscription:ext]
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the server answered
 * @user_data: data for @callback
 *
 * Subscribes as [method@Client.add_subscription] does, and completes with
 * the handle once the server confirmed the subscription (at once when it
 * already had, for another handle), or fails when the server refused it,
 * the client stopped, reconnected or disconnected
 * (%BAYEUX_ERROR_DISCONNECTED), or @cancellable was cancelled.
 *
 * Since: 1.0
 */
void
bayeux_client_add_subscription_async (BayeuxClient        *self,
                                      const char          *channel,
                                      JsonNode            *ext,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  BayeuxCalls *calls;
  g_autoptr(GTask) task = NULL;

  BAYEUX_CLIENT_CHECK (self);
  calls = bayeux_client_get_calls (self);
  g_return_if_fail (channel != NULL);
  g_return_if_fail (ext == NULL || JSON_NODE_HOLDS_OBJECT (ext));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (!calls->disposing);

  /* The task holds the handle (its result); a refused name's holds none. */
  task = bayeux_task_new (self, bayeux_client_add_subscription_async, FALSE, cancellable, callback, user_data);
  g_object_unref (bayeux_calls_add_subscription (calls, channel, ext, task));
}

/**
 * bayeux_client_add_subscription_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Client.add_subscription_async]. A refusal fails with
 * %BAYEUX_ERROR_REFUSED and the server's error string; a bad channel name
 * with %BAYEUX_ERROR_INVALID_CHANNEL; a `/meta/subscribe` that could not
 * be sent with %BAYEUX_ERROR_MESSAGE_TOO_LARGE or %BAYEUX_ERROR_DROPPED (an
 * extension dropped it); a stopped, disconnected or reconnected client
 * with %BAYEUX_ERROR_DISCONNECTED; a handle cancelled before the answer
 * with %BAYEUX_ERROR_FAILED; a cancelled @cancellable with
 * %G_IO_ERROR_CANCELLED. On any failure the handle the call made is ended
 * (refused, or cancelled), whether or not this function is called: the
 * application never holds it.
 *
 * Returns: (transfer full): the handle, subscribed; %NULL on failure
 *
 * Since: 1.0
 */
BayeuxSubscription *
bayeux_client_add_subscription_finish (BayeuxClient *self,
                                       GAsyncResult *result,
                                       GError      **error)
{
  BayeuxSubscription *handle;

  BAYEUX_CLIENT_CHECK_VAL (self, NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bayeux_client_add_subscription_async, NULL);

  handle = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    {
      if (handle != NULL)
        bayeux_subscription_cancel (handle);
      return NULL;
    }
  return g_object_ref (handle);
}

/**
 * bayeux_client_get_subscriptions:
 * @self: a client
 *
 * The live subscription handles, pending or subscribed, in the order they
 * were made, as a [iface@Gio.ListModel] of [class@Subscription]: bind a
 * `GtkListView` to it. A handle joins it when made (by
 * [method@Client.add_subscription], or by [method@Client.subscribe] the
 * first time for a channel) and leaves it when cancelled or refused,
 * before its [property@Subscription:state] changes: a list bound to the
 * model shows live handles only (watch a handle itself, or
 * [signal@Client::error], for refusals). The model is the client's and
 * read-only, for as long as the client lives. To cancel every handle,
 * take them from the end (cancelling one removes it from the model).
 *
 * Returns: (transfer none): the list model
 *
 * Since: 1.0
 */
GListModel *
bayeux_client_get_subscriptions (BayeuxClient *self)
{
  BayeuxCalls *calls;

  BAYEUX_CLIENT_CHECK_VAL (self, NULL);
  calls = bayeux_client_get_calls (self);

  return bayeux_subscriptions_get_model (calls->subscriptions);
}

/* The task of a remote call to @channel: NULL (the call failed) when
 * @channel is not a service channel. */
static GTask *
call_task_new (BayeuxClient        *self,
               gpointer             source_tag,
               const char          *channel,
               guint                timeout_ms,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_autoptr(GTask) task = bayeux_task_new (self, source_tag, TRUE, cancellable, callback, user_data);

  if (!g_str_has_prefix (channel, "/service/"))
    {
      bayeux_task_return (task, NULL, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL,
                                                    "Invalid channel name “%s”: a remote call goes to a /service/ channel",
                                                    channel));
      return NULL;
    }
  if (timeout_ms > 0)
    bayeux_task_fail_after (task, timeout_ms,
                            g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT,
                                         "No answer to the remote call within %u ms", timeout_ms));
  g_object_set_data (G_OBJECT (task), BAYEUX_CALLS_NEEDS_REPLY, GINT_TO_POINTER (TRUE));
  return g_steal_pointer (&task);
}

/* The reply to a remote call (started with @source_tag), or NULL. */
static BayeuxMessage *
call_reply (BayeuxClient  *self,
            GAsyncResult  *result,
            gpointer       source_tag,
            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * bayeux_client_call_async:
 * @self: a client
 * @channel: a service channel, under `/service/`
 * @data: (nullable): the call's argument; %NULL sends an empty object
 * @timeout_ms: how long to wait for the answer, in milliseconds (0: as
 *   long as a publish may wait)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the answer
 * @user_data: data for @callback
 *
 * A remote call, as CometD's `remoteCall`: publishes @data on the service
 * @channel and completes with the data of the server's reply. The server's
 * refusal fails with %BAYEUX_ERROR_REFUSED, no answer in time with
 * %BAYEUX_ERROR_TIMEOUT.
 *
 * Since: 1.0
 */
void
bayeux_client_call_async (BayeuxClient        *self,
                          const char          *channel,
                          JsonNode            *data,
                          guint                timeout_ms,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (channel != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = call_task_new (self, bayeux_client_call_async, channel, timeout_ms, cancellable, callback, user_data);
  if (task != NULL)
    bayeux_calls_publish (bayeux_client_get_calls (self), channel, data, NULL, task);
}

/**
 * bayeux_client_call_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Client.call_async].
 *
 * Returns: (transfer full) (nullable): the data of the server's answer (a
 *   JSON null when it carried none), or %NULL on failure
 *
 * Since: 1.0
 */
JsonNode *
bayeux_client_call_finish (BayeuxClient *self,
                           GAsyncResult *result,
                           GError      **error)
{
  g_autoptr(BayeuxMessage) reply = NULL;
  JsonNode *data;

  BAYEUX_CLIENT_CHECK_VAL (self, NULL);
  reply = call_reply (self, result, bayeux_client_call_async, error);
  if (reply == NULL)
    return NULL;
  data = bayeux_message_get_data (reply);
  return data ? bayeux_json_deep_copy (data) : json_node_new (JSON_NODE_NULL);
}

/* ------------------------------------------------------------------------ */
/* JSON text in: publish and remote calls                                   */

/**
 * bayeux_client_publish_json:
 * @self: a client
 * @channel: the channel to publish to (no wildcard)
 * @json: the message's data, as JSON text (UTF-8): an object, an array or
 *   any other JSON value
 *
 * Publishes the data in @json on @channel, as [method@Client.publish]
 * does: for a language binding, whose own JSON library makes the text
 * (`json.dumps()` in Python, `JSON.stringify()` in JavaScript), without
 * building a [struct@Json.Node] for it.
 *
 * The text is checked by the client's JSON parser before anything is
 * queued: text that is not JSON, that nests deeper than 256 levels,
 * repeats a member name or holds a number beyond a double's range is not
 * sent, and the failure, %BAYEUX_ERROR_INVALID_JSON naming the byte where
 * it was found, is reported through [signal@Client::error] (as the other
 * failures of a publish are).
 *
 * Since: 1.0
 */
void
bayeux_client_publish_json (BayeuxClient *self,
                            const char   *channel,
                            const char   *json)
{
  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (channel != NULL);
  g_return_if_fail (json != NULL);

  bayeux_calls_publish_json (bayeux_client_get_calls (self), channel, json, NULL);
}

/**
 * bayeux_client_publish_json_async:
 * @self: a client
 * @channel: the channel to publish to (no wildcard)
 * @json: the message's data, as JSON text (UTF-8)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the server's verdict
 * @user_data: data for @callback
 *
 * Publishes the data in @json as [method@Client.publish_json] does and
 * completes with the server's reply, as [method@Client.publish_async]
 * does. Text that is not valid JSON fails the call with
 * %BAYEUX_ERROR_INVALID_JSON, and nothing is sent.
 *
 * Since: 1.0
 */
void
bayeux_client_publish_json_async (BayeuxClient        *self,
                                  const char          *channel,
                                  const char          *json,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (channel != NULL);
  g_return_if_fail (json != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* The tag of publish_full_async: publish_finish completes it too. */
  task = bayeux_task_new (self, bayeux_client_publish_full_async, TRUE, cancellable, callback, user_data);
  bayeux_calls_publish_json (bayeux_client_get_calls (self), channel, json, task);
}

/**
 * bayeux_client_publish_json_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Client.publish_json_async], as
 * [method@Client.publish_finish] does; invalid JSON text fails with
 * %BAYEUX_ERROR_INVALID_JSON.
 *
 * Returns: (transfer full) (nullable): the server's reply; %NULL on
 *   failure (with @error set), or when the server left the publish
 *   unanswered
 *
 * Since: 1.0
 */
BayeuxMessage *
bayeux_client_publish_json_finish (BayeuxClient *self,
                                   GAsyncResult *result,
                                   GError      **error)
{
  return bayeux_client_publish_full_finish (self, result, error);
}

/**
 * bayeux_client_call_json_async:
 * @self: a client
 * @channel: a service channel, under `/service/`
 * @json: the call's argument, as JSON text (UTF-8)
 * @timeout_ms: how long to wait for the answer, in milliseconds (0: as
 *   long as a publish may wait)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the answer
 * @user_data: data for @callback
 *
 * A remote call as [method@Client.call_async] makes, with its argument
 * and its answer as JSON text (see [method@Client.call_json_finish]).
 * Text that is not valid JSON fails the call with
 * %BAYEUX_ERROR_INVALID_JSON (as [method@Client.publish_json] checks it),
 * and nothing is sent.
 *
 * Since: 1.0
 */
void
bayeux_client_call_json_async (BayeuxClient        *self,
                               const char          *channel,
                               const char          *json,
                               guint                timeout_ms,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (channel != NULL);
  g_return_if_fail (json != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = call_task_new (self, bayeux_client_call_json_async, channel, timeout_ms, cancellable, callback, user_data);
  if (task != NULL)
    bayeux_calls_publish_json (bayeux_client_get_calls (self), channel, json, task);
}

/**
 * bayeux_client_call_json_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Client.call_json_async].
 *
 * Returns: (transfer full) (nullable): the data of the server's answer as
 *   JSON text, as [method@Message.get_data_json] gives it (`null` when the
 *   answer carried none), or %NULL on failure
 *
 * Since: 1.0
 */
char *
bayeux_client_call_json_finish (BayeuxClient *self,
                                GAsyncResult *result,
                                GError      **error)
{
  g_autoptr(BayeuxMessage) reply = NULL;
  const char *data;

  BAYEUX_CLIENT_CHECK_VAL (self, NULL);
  reply = call_reply (self, result, bayeux_client_call_json_async, error);
  if (reply == NULL)
    return NULL;
  data = bayeux_message_get_data_json (reply);
  return g_strdup (data != NULL ? data : "null");
}

/* ------------------------------------------------------------------------ */
/* Settings                                                                 */

/* The accessors of a guint setting go through its property: a value out
 * of range is bounded to it, silently. */
#define DEFINE_UINT_PROPERTY(name, PROP)                                     \
  guint                                                                      \
  bayeux_client_get_##name (BayeuxClient *self)                              \
  {                                                                          \
    guint value = 0;                                                         \
    BAYEUX_CLIENT_CHECK_VAL (self, 0);                                       \
    g_object_get (self, PROP, &value, NULL);                                 \
    return value;                                                            \
  }                                                                          \
  void                                                                       \
  bayeux_client_set_##name (BayeuxClient *self,                              \
                            guint         name)                              \
  {                                                                          \
    GParamSpecUInt *pspec;                                                   \
    BAYEUX_CLIENT_CHECK (self);                                              \
    pspec = G_PARAM_SPEC_UINT (g_object_class_find_property (G_OBJECT_GET_CLASS (self), PROP)); \
    g_object_set (self, PROP, CLAMP (name, pspec->minimum, pspec->maximum), NULL); \
  }

/**
 * bayeux_client_get_max_network_delay:
 * @self: a client
 *
 * Gets [property@Client:max-network-delay].
 *
 * Returns: the delay in milliseconds
 *
 * Since: 1.0
 */
/**
 * bayeux_client_set_max_network_delay:
 * @self: a client
 * @max_network_delay: the delay in milliseconds
 *
 * Sets [property@Client:max-network-delay].
 *
 * Since: 1.0
 */
DEFINE_UINT_PROPERTY (max_network_delay, "max-network-delay")

/**
 * bayeux_client_get_max_message_size:
 * @self: a client
 *
 * Gets [property@Client:max-message-size].
 *
 * Returns: the limit in bytes
 *
 * Since: 1.0
 */
/**
 * bayeux_client_set_max_message_size:
 * @self: a client
 * @max_message_size: the limit in bytes (at least 64)
 *
 * Sets [property@Client:max-message-size].
 *
 * Since: 1.0
 */
DEFINE_UINT_PROPERTY (max_message_size, "max-message-size")

/**
 * bayeux_client_get_backoff_increment:
 * @self: a client
 *
 * Gets [property@Client:backoff-increment].
 *
 * Returns: the increment in milliseconds
 *
 * Since: 1.0
 */
/**
 * bayeux_client_set_backoff_increment:
 * @self: a client
 * @backoff_increment: the increment in milliseconds
 *
 * Sets [property@Client:backoff-increment].
 *
 * Since: 1.0
 */
DEFINE_UINT_PROPERTY (backoff_increment, "backoff-increment")

/**
 * bayeux_client_get_max_backoff:
 * @self: a client
 *
 * Gets [property@Client:max-backoff].
 *
 * Returns: the largest backoff in milliseconds
 *
 * Since: 1.0
 */
/**
 * bayeux_client_set_max_backoff:
 * @self: a client
 * @max_backoff: the largest backoff in milliseconds
 *
 * Sets [property@Client:max-backoff].
 *
 * Since: 1.0
 */
DEFINE_UINT_PROPERTY (max_backoff, "max-backoff")

/**
 * bayeux_client_get_max_pending:
 * @self: a client
 *
 * Gets [property@Client:max-pending].
 *
 * Returns: the most messages that may wait
 *
 * Since: 1.0
 */
/**
 * bayeux_client_set_max_pending:
 * @self: a client
 * @max_pending: the most messages that may wait
 *
 * Sets [property@Client:max-pending].
 *
 * Since: 1.0
 */
DEFINE_UINT_PROPERTY (max_pending, "max-pending")

/**
 * bayeux_client_get_max_pending_age:
 * @self: a client
 *
 * Gets [property@Client:max-pending-age].
 *
 * Returns: the longest wait in milliseconds
 *
 * Since: 1.0
 */
/**
 * bayeux_client_set_max_pending_age:
 * @self: a client
 * @max_pending_age: the longest wait in milliseconds
 *
 * Sets [property@Client:max-pending-age].
 *
 * Since: 1.0
 */
DEFINE_UINT_PROPERTY (max_pending_age, "max-pending-age")

/**
 * bayeux_client_get_max_response_size:
 * @self: a client
 *
 * Gets [property@Client:max-response-size].
 *
 * Returns: the limit in bytes
 *
 * Since: 1.0
 */
/**
 * bayeux_client_set_max_response_size:
 * @self: a client
 * @max_response_size: the limit in bytes (at least 64)
 *
 * Sets [property@Client:max-response-size].
 *
 * Since: 1.0
 */
DEFINE_UINT_PROPERTY (max_response_size, "max-response-size")

/* ------------------------------------------------------------------------ */
/* Signals                                                                  */

/* The client's signals, made and documented here with its public face;
 * the client emits them (bayeux-client.c). */
void
bayeux_client_class_add_signals (BayeuxClientClass *klass,
                                 guint             *signals)
{
  /**
   * BayeuxClient::message:
   * @self: the client
   * @message: the message
   *
   * Emitted for each message that arrives on a subscription, once per
   * subscription it matches, with the subscription's channel or pattern as
   * the signal detail: connect to `message::/chat/demo` or
   * `message::/stocks/**`.
   *
   * Since: 1.0
   */
  signals[BAYEUX_CLIENT_SIGNAL_MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, BAYEUX_TYPE_MESSAGE);

  /**
   * BayeuxClient::error:
   * @self: the client
   * @error: what went wrong
   * @message: (nullable): the message concerned, if any: a server's
   *   refusal, or a message the client could not handle
   *
   * Emitted for every failure nobody else hears of: transport failures
   * (each is retried per the advice and backoff), server refusals of
   * fire-and-forget calls, bad input from the server, messages that match
   * no subscription. Failures of `_async` calls are reported by their
   * `_finish` function instead. Always emitted from the main loop, never
   * from inside a call into the client. Failures of one kind (domain and
   * code) in one response or frame are emitted once, with the first's
   * message and "(and N more: …)" the first few other reasons appended.
   *
   * Since: 1.0
   */
  /**
   * BayeuxClient::meta:
   * @self: the client
   * @message: the server's reply
   *
   * Emitted for each reply on a meta channel (`/meta/handshake`,
   * `/meta/connect`, `/meta/subscribe`, `/meta/unsubscribe`,
   * `/meta/disconnect`) once the client has acted on it, with the channel
   * as the detail: connect to `meta::/meta/handshake` to read what the
   * server offered (its advice, `ext`, connection types), or to
   * `meta::/meta/connect` to watch the long poll. Replies the client could
   * not match to a request of its own are reported through
   * [signal@Client::error] instead.
   *
   * Since: 1.0
   */
  signals[BAYEUX_CLIENT_SIGNAL_META] =
    g_signal_new ("meta", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, BAYEUX_TYPE_MESSAGE);

  /**
   * BayeuxClient::authenticate:
   * @self: the client
   * @error: what said the credentials were refused
   * @retrying: %TRUE if the last credentials given this way were refused
   *   too (no handshake has succeeded since)
   *
   * Emitted when the server refuses the client's credentials, as
   * [signal@Soup.Message::authenticate] is: an HTTP `401` answer to any
   * request or WebSocket upgrade (@error is then %BAYEUX_ERROR_HTTP), or a
   * handshake or connect refused with a `401` error
   * (`401::Authentication invalid` from the Salesforce Streaming API when
   * its OAuth access token has expired, say; @error is then
   * %BAYEUX_ERROR_HANDSHAKE_DENIED or %BAYEUX_ERROR_FAILED, with the
   * server's error string). A `401` that says "unknown client" (Faye) is
   * not one: the client handshakes again by itself.
   *
   * A handler that returns %TRUE promises new credentials: the client
   * ends its session and waits, sending nothing, until the application
   * sets them ([method@Client.set_header] for an `Authorization` header,
   * [method@Client.set_handshake_ext] for credentials in the handshake)
   * and calls [method@Client.reconnect], now or later (after an async
   * token refresh). The client then handshakes with them and subscribes
   * again; if they are refused too (by the handshake or the first
   * connect), the signal comes again with @retrying set, and the next
   * handshake waits out the backoff. Calls made meanwhile wait for the new
   * session (publishes within [property@Client:max-pending-age]); those
   * in the very request that was refused fail with its error. Calling
   * [method@Client.reconnect] again before that handshake is answered
   * does nothing more. If the application does not
   * reconnect within five minutes, the client reports @error through
   * [signal@Client::error] and stops; [method@Client.stop] also ends
   * the wait.
   *
   * With no handler, or one that returns %FALSE, the failure is handled
   * as any other: reported through [signal@Client::error], then retried
   * after the backoff, or the client stops if the server advised
   * `reconnect: none`.
   *
   * ```python
   * def on_authenticate(client, error, retrying):
   *     if retrying:
   *         return False        # refused twice: report and stop as usual
   *     def refreshed(token):
   *         client.set_header("Authorization", "Bearer " + token)
   *         client.reconnect()
   *     refresh_token_async(refreshed)   # the application's own
   *     return True
   * client.connect("authenticate", on_authenticate)
   * ```
   *
   * Returns: %TRUE to supply new credentials and call
   *   [method@Client.reconnect], %FALSE to let the failure be handled as
   *   any other
   *
   * Since: 1.0
   */
  signals[BAYEUX_CLIENT_SIGNAL_AUTHENTICATE] =
    g_signal_new ("authenticate", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_true_handled, NULL, NULL,
                  G_TYPE_BOOLEAN, 2, G_TYPE_ERROR, G_TYPE_BOOLEAN);

  /**
   * BayeuxClient::accept-certificate:
   * @self: the client
   * @certificate: the server's certificate
   * @errors: what is wrong with it
   *
   * Emitted when the server's TLS certificate does not verify (a
   * self-signed certificate, an unknown authority, a wrong host name…),
   * before the request fails. TLS is verified by default: return %TRUE
   * only to accept this certificate anyway, having checked it yourself
   * (pinned it, say). The other way to trust a private authority is to
   * give the client a [class@Soup.Session] whose `tls-database` knows it.
   *
   * Returns: %TRUE to accept the certificate, %FALSE (the default) to
   *   refuse it and fail the request with a TLS error
   *
   * Since: 1.0
   */
  signals[BAYEUX_CLIENT_SIGNAL_ACCEPT_CERTIFICATE] =
    g_signal_new ("accept-certificate", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_true_handled, NULL, NULL,
                  G_TYPE_BOOLEAN, 2, G_TYPE_TLS_CERTIFICATE, G_TYPE_TLS_CERTIFICATE_FLAGS);

  signals[BAYEUX_CLIENT_SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_ERROR, BAYEUX_TYPE_MESSAGE);
}
