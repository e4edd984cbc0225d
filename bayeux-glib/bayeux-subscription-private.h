/* bayeux-subscription-private.h: what the client's rooms do with a
 * subscription handle
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bayeux-subscription.h"

G_BEGIN_DECLS

/* Ends @sub at the application's request (cancel, unsubscribe_async:
 * @task, nullable, completes with the server's answer). */
typedef void (*BayeuxReleaseFunc) (gpointer            owner,
                                   BayeuxSubscription *sub,
                                   GTask              *task);

BayeuxSubscription *bayeux_subscription_new       (const char         *channel,
                                                   JsonNode           *ext,
                                                   GMainContext       *context,
                                                   BayeuxReleaseFunc   release,
                                                   gpointer            owner);
void                bayeux_subscription_set_state (BayeuxSubscription      *self,
                                                   BayeuxSubscriptionState  state,
                                                   const GError            *error);
void                bayeux_subscription_deliver   (BayeuxSubscription *self,
                                                   BayeuxMessage      *message);
JsonNode           *bayeux_subscription_peek_ext  (BayeuxSubscription *self);

G_END_DECLS
