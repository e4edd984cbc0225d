/* bayeux-client-private.h: internals shared with the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bayeux-client.h"

G_BEGIN_DECLS

typedef struct _BayeuxSubscriptions BayeuxSubscriptions;

/* The subscriptions room of @self (bayeux-subscriptions-private.h): for
 * the test that matching does not grow with the number of subscriptions
 * (its last lookups), and for bench/ (the listeners' part of a dispatch). */
BayeuxSubscriptions *bayeux_client_peek_subscriptions (BayeuxClient *self);
/* For bayeux-client-calls.c (the client's public calls): its calls room
 * (bayeux-calls-private.h) and its main context. */
typedef struct _BayeuxCalls BayeuxCalls;
BayeuxCalls  *bayeux_client_get_calls   (BayeuxClient *self);
GMainContext *bayeux_client_get_context (BayeuxClient *self);

/* Number of requests currently in flight (0, 1 or 2). */
guint bayeux_client_get_requests_in_flight    (BayeuxClient *self);

/* The suspend check, with the clocks given (µs), for tests. */
void  bayeux_client_check_clocks              (BayeuxClient *self,
                                               gint64        wall_now,
                                               gint64        monotonic_now);

/* The delay before the next retry after one more failure (ms). */
gint64 bayeux_client_next_failure_delay_for_testing (BayeuxClient *self);

/* How long a client waits for new credentials (::authenticate). */
void   bayeux_client_set_credentials_wait_for_testing (BayeuxClient *self,
                                                       guint         wait_ms);

/* The client's signals, made in bayeux-client-calls.c. */
enum {
  BAYEUX_CLIENT_SIGNAL_MESSAGE,
  BAYEUX_CLIENT_SIGNAL_ERROR,
  BAYEUX_CLIENT_SIGNAL_ACCEPT_CERTIFICATE,
  BAYEUX_CLIENT_SIGNAL_META,
  BAYEUX_CLIENT_SIGNAL_AUTHENTICATE,
  BAYEUX_CLIENT_N_SIGNALS
};
void   bayeux_client_class_add_signals (BayeuxClientClass *klass,
                                        guint             *signals);

G_END_DECLS
