/* bayeux-subscriptions-private.h: the subscription table, dispatch and
 * listeners
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bayeux-client.h"
#include "bayeux-subscription-private.h"

G_BEGIN_DECLS

/* One subscription of the application. */
typedef struct
{
  char      *channel;
  GQuark     quark;      /* of channel: the ::message detail */
  gboolean   confirmed;  /* the server accepted it in this session */
  gboolean   in_flight;  /* a /meta/subscribe for it is queued or sent */
  GPtrArray *waiting;    /* GTask* of subscribe_async calls (task data: their handle) */
  GPtrArray *handles;    /* BayeuxSubscription*, live, in the order made (a reference each) */
  BayeuxSubscription *legacy;  /* bayeux_client_subscribe()'s handle, in handles, or NULL */
  guint      refs;       /* the table's, and those of code that runs the application's handlers */
  gboolean   removed;    /* out of the table: the subscription ended */
} BayeuxSubEntry;

/* An entry lives while referenced: code that emits a signal (a handler
 * may cancel handles, ending the entry) holds one. */
BayeuxSubEntry *bayeux_sub_entry_ref   (BayeuxSubEntry *sub);
void            bayeux_sub_entry_unref (BayeuxSubEntry *sub);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BayeuxSubEntry, bayeux_sub_entry_unref)

typedef struct _BayeuxSubscriptions BayeuxSubscriptions;

/* Emits the client's signal for @message on the subscription @pattern
 * (@detail: its quark). */
typedef void (*BayeuxEmitFunc) (BayeuxClient  *client,
                                const char    *pattern,
                                GQuark         detail,
                                BayeuxMessage *message);

BayeuxSubscriptions *bayeux_subscriptions_new              (void);
void                 bayeux_subscriptions_free             (BayeuxSubscriptions *self);
void                 bayeux_subscriptions_end_handles      (BayeuxSubscriptions *self);
BayeuxSubEntry      *bayeux_subscriptions_lookup           (BayeuxSubscriptions *self,
                                                            const char          *channel);
BayeuxSubEntry      *bayeux_subscriptions_add              (BayeuxSubscriptions *self,
                                                            const char          *channel);
void                 bayeux_subscriptions_remove           (BayeuxSubscriptions *self,
                                                            const char          *channel);
void                 bayeux_subscriptions_reset            (BayeuxSubscriptions *self,
                                                            const GError        *reason);
GPtrArray           *bayeux_subscriptions_take_unsent      (BayeuxSubscriptions *self);
gboolean             bayeux_subscriptions_dispatch         (BayeuxSubscriptions *self,
                                                            BayeuxClient        *client,
                                                            BayeuxMessage       *message,
                                                            BayeuxEmitFunc       emit);
guint                bayeux_subscriptions_get_last_lookups (BayeuxSubscriptions *self);
GListModel          *bayeux_subscriptions_get_model        (BayeuxSubscriptions *self);
void                 bayeux_subscriptions_attach           (BayeuxSubscriptions *self,
                                                            BayeuxSubEntry      *sub,
                                                            BayeuxSubscription  *handle);
void                 bayeux_subscriptions_detach           (BayeuxSubscriptions *self,
                                                            BayeuxSubEntry      *sub,
                                                            BayeuxSubscription  *handle);
void                 bayeux_subscriptions_set_state        (BayeuxSubscriptions     *self,
                                                            BayeuxSubEntry          *sub,
                                                            BayeuxSubscriptionState  state,
                                                            const GError            *error);
JsonNode            *bayeux_subscriptions_merged_ext       (BayeuxSubEntry      *sub);

guint    bayeux_subscriptions_add_listener     (BayeuxSubscriptions *self,
                                                const char          *pattern,
                                                BayeuxMessageFunc    func,
                                                gpointer             user_data,
                                                GDestroyNotify       notify);
gboolean bayeux_subscriptions_remove_listener  (BayeuxSubscriptions *self,
                                                guint                id);
void     bayeux_subscriptions_remove_listeners (BayeuxSubscriptions *self);
void     bayeux_subscriptions_call_listeners   (BayeuxSubscriptions *self,
                                                BayeuxClient        *client,
                                                const char          *pattern,
                                                BayeuxMessage       *message);

G_END_DECLS
