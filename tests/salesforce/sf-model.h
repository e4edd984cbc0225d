/* sf-model.h: a model of the Salesforce Streaming API (CometD) for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built on the in-process test server (tests/test-utils.h): its request hook
 * answers every Bayeux POST as the Streaming API documentation says, and an
 * OAuth token endpoint is added to its SoupServer. See sf-model.c for what
 * it models, and on which documents each behaviour rests.
 */
#pragma once

#include "test-utils.h"

G_BEGIN_DECLS

typedef struct _SfModel SfModel;

/* The API version of the CometD endpoint: <instance>/cometd/59.0 */
#define SF_MODEL_API_VERSION "59.0"

/* @timeout_ms: the advised long-poll timeout (Salesforce: 110000).
 * The credentials are chosen by the caller (the tests, or the command line
 * of sf-model-server): the model never makes up a secret to print. */
SfModel     *sf_model_new                (guint       timeout_ms,
                                          const char *access_token,
                                          const char *refresh_token,
                                          const char *client_id);
void         sf_model_free               (SfModel *self);

TestServer  *sf_model_get_test_server    (SfModel *self);
/* http://127.0.0.1:PORT, as the OAuth answer's instance_url */
const char  *sf_model_get_instance_url   (SfModel *self);
/* <instance_url>/cometd/59.0 */
const char  *sf_model_get_cometd_url     (SfModel *self);
/* The access token the server takes now (tests only: never print it). */
const char  *sf_model_get_access_token   (SfModel *self);

/* Events kept per channel (Salesforce: 24 or 72 hours; here a count). */
void         sf_model_set_retention      (SfModel *self, guint events);

/* Publishes an event on @channel (/topic/X: @json is the record, the
 * sobject; /event/X__e, /data/X: @json is the payload) and delivers it to
 * the matching subscriptions. Returns its replay id, or -1 if @json is not
 * a JSON object. */
gint64       sf_model_publish            (SfModel *self, const char *channel, const char *json);
/* @n events on @channel in one long-poll answer of more than 1 MiB (each
 * with a payload of about 16 KiB). Returns the replay id of the last. */
gint64       sf_model_publish_big        (SfModel *self, const char *channel, guint n);

/* The access token stops working (it expired). */
void         sf_model_expire_token       (SfModel *self);
/* Every Bayeux session ends (the 40 s reconnect window passed, a server
 * moved): 403::Unknown client. */
void         sf_model_expire_sessions    (SfModel *self);

/* What happened. */
guint        sf_model_published          (SfModel *self, const char *channel);   /* events published */
guint        sf_model_delivered          (SfModel *self, const char *channel);   /* event messages sent, by base channel */
guint        sf_model_handshakes         (SfModel *self);                         /* successful ones */
guint        sf_model_refreshes          (SfModel *self);                         /* tokens given by the token endpoint */
guint        sf_model_sessions           (SfModel *self);                         /* live sessions */
guint        sf_model_refused_subscribes (SfModel *self);
/* The last error string a /meta/subscribe got, or NULL. */
const char  *sf_model_last_subscribe_error (SfModel *self);
/* The ext.replay of the last /meta/subscribe, as JSON text, or NULL. */
const char  *sf_model_last_replay_map    (SfModel *self);

G_END_DECLS
