/* bayeux-subscription.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__BAYEUX_GLIB_INSIDE__) && !defined(BAYEUX_COMPILATION)
#error "Only <bayeux-glib/bayeux-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include "bayeux-version.h"
#include "bayeux-message.h"

G_BEGIN_DECLS

/**
 * BayeuxSubscriptionState:
 * @BAYEUX_SUBSCRIPTION_STATE_PENDING: the server has not confirmed it in
 *   this session yet: before the handshake, while its `/meta/subscribe`
 *   is out, after a re-handshake until it is confirmed again, and after
 *   the client is stopped, disconnected or reconnected (with
 *   [property@Subscription:error] %BAYEUX_ERROR_DISCONNECTED) until the
 *   next session confirms it.
 * @BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED: the server confirmed it; its
 *   messages arrive.
 * @BAYEUX_SUBSCRIPTION_STATE_REFUSED: the server refused it, or it could
 *   not be sent (a bad channel name, a message too large, an extension
 *   that dropped it): see [property@Subscription:error]. Final.
 * @BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED: cancelled by the application,
 *   or its client is gone. Final.
 *
 * The state of a [class@Subscription], in its
 * [property@Subscription:state] property.
 *
 * Since: 1.0
 */
typedef enum {
  BAYEUX_SUBSCRIPTION_STATE_PENDING,
  BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED,
  BAYEUX_SUBSCRIPTION_STATE_REFUSED,
  BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED,
} BayeuxSubscriptionState;

#define BAYEUX_TYPE_SUBSCRIPTION (bayeux_subscription_get_type ())

BAYEUX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BayeuxSubscription, bayeux_subscription, BAYEUX, SUBSCRIPTION, GObject)

BAYEUX_AVAILABLE_IN_ALL
const char              *bayeux_subscription_get_channel       (BayeuxSubscription  *self);
BAYEUX_AVAILABLE_IN_ALL
BayeuxSubscriptionState  bayeux_subscription_get_state         (BayeuxSubscription  *self);
BAYEUX_AVAILABLE_IN_ALL
const GError            *bayeux_subscription_get_error         (BayeuxSubscription  *self);
BAYEUX_AVAILABLE_IN_ALL
guint64                  bayeux_subscription_get_message_count (BayeuxSubscription  *self);
BAYEUX_AVAILABLE_IN_ALL
JsonNode                *bayeux_subscription_get_ext           (BayeuxSubscription  *self);
BAYEUX_AVAILABLE_IN_ALL
void                     bayeux_subscription_set_ext           (BayeuxSubscription  *self,
                                                                JsonNode            *ext);
BAYEUX_AVAILABLE_IN_ALL
gboolean                 bayeux_subscription_is_active         (BayeuxSubscription  *self);
BAYEUX_AVAILABLE_IN_ALL
void                     bayeux_subscription_cancel            (BayeuxSubscription  *self);
BAYEUX_AVAILABLE_IN_ALL
void                     bayeux_subscription_unsubscribe_async (BayeuxSubscription  *self,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
BAYEUX_AVAILABLE_IN_ALL
gboolean                 bayeux_subscription_unsubscribe_finish (BayeuxSubscription *self,
                                                                 GAsyncResult       *result,
                                                                 GError            **error);

G_END_DECLS
