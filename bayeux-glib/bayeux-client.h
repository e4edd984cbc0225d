/* bayeux-client.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__BAYEUX_GLIB_INSIDE__) && !defined(BAYEUX_COMPILATION)
#error "Only <bayeux-glib/bayeux-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include "bayeux-version.h"
#include "bayeux-message.h"
#include "bayeux-extension.h"
#include "bayeux-subscription.h"

G_BEGIN_DECLS

/**
 * BayeuxClientState:
 * @BAYEUX_CLIENT_STATE_DISCONNECTED: not started, stopped, or told by the
 *   server to stop (advice `none`). No request is in flight.
 * @BAYEUX_CLIENT_STATE_HANDSHAKING: a `/meta/handshake` is in flight or
 *   waiting to be retried, or the handshake succeeded and the first
 *   `/meta/connect` has not been answered yet.
 * @BAYEUX_CLIENT_STATE_CONNECTED: the last `/meta/connect` succeeded; the
 *   long poll is running.
 * @BAYEUX_CLIENT_STATE_UNCONNECTED: the connection was lost (a transport
 *   failure or an unsuccessful `/meta/connect`); the client is recovering
 *   per the server's advice and its backoff, or waiting for new
 *   credentials (see [signal@Client::authenticate]).
 * @BAYEUX_CLIENT_STATE_DISCONNECTING: a `/meta/disconnect` is in flight.
 *
 * The state of a [class@Client], in its [property@Client:state] property.
 *
 * Since: 1.0
 */
typedef enum {
  BAYEUX_CLIENT_STATE_DISCONNECTED,
  BAYEUX_CLIENT_STATE_HANDSHAKING,
  BAYEUX_CLIENT_STATE_CONNECTED,
  BAYEUX_CLIENT_STATE_UNCONNECTED,
  BAYEUX_CLIENT_STATE_DISCONNECTING,
} BayeuxClientState;

#define BAYEUX_TYPE_CLIENT (bayeux_client_get_type ())

BAYEUX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BayeuxClient, bayeux_client, BAYEUX, CLIENT, GObject)

BAYEUX_AVAILABLE_IN_ALL
BayeuxClient      *bayeux_client_new                   (const char           *url);
BAYEUX_AVAILABLE_IN_ALL
BayeuxClient      *bayeux_client_new_with_session      (const char           *url,
                                                        SoupSession          *session);

BAYEUX_AVAILABLE_IN_ALL
const char        *bayeux_client_get_url               (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
SoupSession       *bayeux_client_get_session           (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
BayeuxClientState  bayeux_client_get_state             (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
const char        *bayeux_client_get_client_id         (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
const char        *bayeux_client_get_transport         (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
const char * const *bayeux_client_get_transports      (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_transports        (BayeuxClient         *self,
                                                        const char * const   *transports);
BAYEUX_AVAILABLE_IN_ALL
guint              bayeux_client_get_max_network_delay (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_max_network_delay (BayeuxClient         *self,
                                                        guint                 max_network_delay);
BAYEUX_AVAILABLE_IN_ALL
guint              bayeux_client_get_max_message_size  (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_max_message_size  (BayeuxClient         *self,
                                                        guint                 max_message_size);
BAYEUX_AVAILABLE_IN_ALL
guint              bayeux_client_get_max_response_size (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_max_response_size (BayeuxClient         *self,
                                                        guint                 max_response_size);
BAYEUX_AVAILABLE_IN_ALL
guint              bayeux_client_get_backoff_increment (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_backoff_increment (BayeuxClient         *self,
                                                        guint                 backoff_increment);
BAYEUX_AVAILABLE_IN_ALL
guint              bayeux_client_get_max_backoff       (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_max_backoff       (BayeuxClient         *self,
                                                        guint                 max_backoff);
BAYEUX_AVAILABLE_IN_ALL
guint              bayeux_client_get_max_pending       (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_max_pending       (BayeuxClient         *self,
                                                        guint                 max_pending);
BAYEUX_AVAILABLE_IN_ALL
guint              bayeux_client_get_max_pending_age   (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_max_pending_age   (BayeuxClient         *self,
                                                        guint                 max_pending_age);
BAYEUX_AVAILABLE_IN_ALL
GNetworkMonitor   *bayeux_client_get_network_monitor   (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
const char * const *bayeux_client_get_fallback_urls   (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_fallback_urls     (BayeuxClient         *self,
                                                        const char * const   *urls);
BAYEUX_AVAILABLE_IN_ALL
const char        *bayeux_client_get_current_url       (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
JsonNode          *bayeux_client_get_handshake_ext     (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_handshake_ext     (BayeuxClient         *self,
                                                        JsonNode             *ext);
BAYEUX_AVAILABLE_IN_ALL
gboolean           bayeux_client_is_subscribed         (BayeuxClient         *self,
                                                        const char           *channel);

/**
 * BayeuxBatchFunc:
 * @client: the client
 * @user_data: the data given to [method@Client.batch]
 *
 * Queues the messages of a batch: see [method@Client.batch].
 *
 * Since: 1.0
 */
typedef void (*BayeuxBatchFunc) (BayeuxClient *client,
                                 gpointer      user_data);

/**
 * BayeuxMessageFunc:
 * @client: the client
 * @message: a message that arrived on a subscription
 * @user_data: the data given to [method@Client.add_listener]
 *
 * Called for each message that arrives on the subscription a listener was
 * added for: see [method@Client.add_listener].
 *
 * Since: 1.0
 */
typedef void (*BayeuxMessageFunc) (BayeuxClient  *client,
                                   BayeuxMessage *message,
                                   gpointer       user_data);

BAYEUX_AVAILABLE_IN_ALL
guint              bayeux_client_add_listener          (BayeuxClient         *self,
                                                        const char           *channel,
                                                        BayeuxMessageFunc     func,
                                                        gpointer              user_data,
                                                        GDestroyNotify        notify);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_remove_listener       (BayeuxClient         *self,
                                                        guint                 listener_id);

BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_header            (BayeuxClient         *self,
                                                        const char           *name,
                                                        const char           *value);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_add_extension         (BayeuxClient         *self,
                                                        BayeuxExtension      *extension);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_remove_extension      (BayeuxClient         *self,
                                                        BayeuxExtension      *extension);
BAYEUX_AVAILABLE_IN_ALL
GPtrArray         *bayeux_client_get_extensions        (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_release_message       (BayeuxClient         *self,
                                                        JsonObject           *message,
                                                        gboolean              drop);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_batch_begin           (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_batch_end             (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_batch                 (BayeuxClient         *self,
                                                        BayeuxBatchFunc       func,
                                                        gpointer              user_data);

BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_start                 (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_stop                  (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_reconnect             (BayeuxClient         *self);

BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_handshake_async       (BayeuxClient         *self,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
BAYEUX_AVAILABLE_IN_ALL
gboolean           bayeux_client_handshake_finish      (BayeuxClient         *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_subscribe             (BayeuxClient         *self,
                                                        const char           *channel);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_subscribe_async       (BayeuxClient         *self,
                                                        const char           *channel,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
BAYEUX_AVAILABLE_IN_ALL
gboolean           bayeux_client_subscribe_finish      (BayeuxClient         *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_unsubscribe           (BayeuxClient         *self,
                                                        const char           *channel);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_unsubscribe_async     (BayeuxClient         *self,
                                                        const char           *channel,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
BAYEUX_AVAILABLE_IN_ALL
gboolean           bayeux_client_unsubscribe_finish    (BayeuxClient         *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_publish               (BayeuxClient         *self,
                                                        const char           *channel,
                                                        JsonNode             *data);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_publish_async         (BayeuxClient         *self,
                                                        const char           *channel,
                                                        JsonNode             *data,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
BAYEUX_AVAILABLE_IN_ALL
BayeuxMessage     *bayeux_client_publish_finish        (BayeuxClient         *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_publish_full_async    (BayeuxClient         *self,
                                                        const char           *channel,
                                                        JsonNode             *data,
                                                        JsonNode             *ext,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
BAYEUX_AVAILABLE_IN_ALL
BayeuxMessage     *bayeux_client_publish_full_finish   (BayeuxClient         *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

BAYEUX_AVAILABLE_IN_ALL
BayeuxSubscription *bayeux_client_add_subscription     (BayeuxClient         *self,
                                                        const char           *channel,
                                                        JsonNode             *ext);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_add_subscription_async (BayeuxClient        *self,
                                                         const char          *channel,
                                                         JsonNode            *ext,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
BAYEUX_AVAILABLE_IN_ALL
BayeuxSubscription *bayeux_client_add_subscription_finish (BayeuxClient      *self,
                                                           GAsyncResult      *result,
                                                           GError           **error);
BAYEUX_AVAILABLE_IN_ALL
GListModel        *bayeux_client_get_subscriptions     (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
gboolean           bayeux_client_get_paused            (BayeuxClient         *self);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_set_paused            (BayeuxClient         *self,
                                                        gboolean              paused);

BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_call_async            (BayeuxClient         *self,
                                                        const char           *channel,
                                                        JsonNode             *data,
                                                        guint                 timeout_ms,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
BAYEUX_AVAILABLE_IN_ALL
JsonNode          *bayeux_client_call_finish           (BayeuxClient         *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_publish_json          (BayeuxClient         *self,
                                                        const char           *channel,
                                                        const char           *json);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_publish_json_async    (BayeuxClient         *self,
                                                        const char           *channel,
                                                        const char           *json,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
BAYEUX_AVAILABLE_IN_ALL
BayeuxMessage     *bayeux_client_publish_json_finish   (BayeuxClient         *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_call_json_async       (BayeuxClient         *self,
                                                        const char           *channel,
                                                        const char           *json,
                                                        guint                 timeout_ms,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
BAYEUX_AVAILABLE_IN_ALL
char              *bayeux_client_call_json_finish      (BayeuxClient         *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

BAYEUX_AVAILABLE_IN_ALL
void               bayeux_client_disconnect_async      (BayeuxClient         *self,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
BAYEUX_AVAILABLE_IN_ALL
gboolean           bayeux_client_disconnect_finish     (BayeuxClient         *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

G_END_DECLS
