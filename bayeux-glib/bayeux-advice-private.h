/* bayeux-advice-private.h: the server's advice and the backoff policy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  BAYEUX_RECONNECT_RETRY,
  BAYEUX_RECONNECT_HANDSHAKE,
  BAYEUX_RECONNECT_NONE,
} BayeuxReconnect;

/* The bounds of the advised durations (ms): a hostile or broken server
 * cannot silence the client for longer. */
#define BAYEUX_ADVICE_MAX_INTERVAL      (5 * 60 * 1000)
#define BAYEUX_ADVICE_MAX_TIMEOUT       (10 * 60 * 1000)
#define BAYEUX_ADVICE_MAX_MAX_INTERVAL  (60 * 60 * 1000)

/* The latest advice (newer replaces older, field by field) and the
 * backoff it adds to after failures. Durations in milliseconds. */
typedef struct
{
  BayeuxReconnect reconnect;
  gint64          interval;
  gint64          timeout;
  gint64          max_interval;
  guint           backoff;
  double          out_of_range[3];  /* per duration: the last value reported as too large, 0 none */
  char            stop_reason[64];  /* with reconnect NONE: what said so ("reconnect: none", "interval: -1") */
} BayeuxAdvice;

void     bayeux_advice_init               (BayeuxAdvice *self,
                                           gint64        timeout);
void     bayeux_advice_restart            (BayeuxAdvice *self);
gboolean bayeux_advice_apply              (BayeuxAdvice *self,
                                           JsonObject   *advice,
                                           const char   *transport,
                                           JsonArray   **hosts,
                                           GPtrArray   **errors);
const char *bayeux_advice_stop_reason     (BayeuxAdvice *self);
gint64   bayeux_advice_next_failure_delay (BayeuxAdvice *self,
                                           guint         increment,
                                           guint         max_backoff,
                                           gint64        retry_after);

G_END_DECLS
