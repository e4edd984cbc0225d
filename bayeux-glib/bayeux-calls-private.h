/* bayeux-calls-private.h: the application's calls, from the call to its
 * answer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bayeux-client.h"
#include "bayeux-json-private.h"
#include "bayeux-outbox-private.h"
#include "bayeux-subscriptions-private.h"

G_BEGIN_DECLS

/* What a reply says, classified once, where it is matched to its request. */
typedef enum {
  BAYEUX_REPLY_NONE,            /* no reply: the transport failed */
  BAYEUX_REPLY_OK,              /* successful */
  BAYEUX_REPLY_UNKNOWN_CLIENT,  /* the server forgot our session */
  BAYEUX_REPLY_REFUSED,         /* any other failure */
} BayeuxVerdict;

BayeuxVerdict  bayeux_reply_classify (BayeuxMessage *reply);
GError        *bayeux_reply_error    (BayeuxMessage *reply,
                                      BayeuxVerdict  verdict,
                                      gint           code,
                                      const char    *what);
gboolean       bayeux_reply_refuses_credentials (BayeuxMessage *reply,
                                                 BayeuxVerdict  verdict,
                                                 const GError  *transport_error);

/* What a message from the server is, once matched. */
typedef enum {
  BAYEUX_MATCH_DELIVERY,  /* a message for the subscriptions */
  BAYEUX_MATCH_REPLY,     /* the reply to a request of ours */
  BAYEUX_MATCH_LATE,      /* the late reply to a request given up: ignore it */
  BAYEUX_MATCH_BAD,       /* broken, or a reply that answers nothing we asked */
} BayeuxMatch;

/* What the calls ask of the client. */
typedef struct
{
  /* Reports @error (taken) through ::error, from an idle. */
  void     (*report)        (BayeuxClient  *client,
                             GError        *error,
                             BayeuxMessage *message);
  /* Queues @op (taken) to be sent, or fails it (max-pending). */
  void     (*enqueue)       (BayeuxClient  *client,
                             BayeuxOp      *op);
  /* Whether the server knows us: a session to subscribe in. */
  gboolean (*session_ready) (BayeuxClient  *client);
} BayeuxCallsCallbacks;

struct _BayeuxCalls
{
  BayeuxClient               *client;
  GMainContext               *context;   /* the client's, for the handles */
  gboolean                    disposing; /* the client is going: no new handle */
  BayeuxSubscriptions        *subscriptions;
  BayeuxOutbox               *outbox;
  const BayeuxCallsCallbacks *callbacks;
};
typedef struct _BayeuxCalls BayeuxCalls;

void      bayeux_calls_subscribe    (BayeuxCalls    *self,
                                     const char     *channel,
                                     GTask          *task);
void      bayeux_calls_unsubscribe  (BayeuxCalls    *self,
                                     const char     *channel,
                                     GTask          *task);
BayeuxSubscription *bayeux_calls_add_subscription (BayeuxCalls *self,
                                                  const char  *channel,
                                                  JsonNode    *ext,
                                                  GTask       *task);
void      bayeux_calls_publish      (BayeuxCalls    *self,
                                     const char     *channel,
                                     JsonNode       *data,
                                     JsonNode       *ext,
                                     GTask          *task);
void      bayeux_calls_publish_json (BayeuxCalls    *self,
                                     const char     *channel,
                                     const char     *json,
                                     GTask          *task);
BayeuxOp *bayeux_calls_subscribe_op (BayeuxCalls    *self,
                                     BayeuxSubEntry *sub);
BayeuxMatch bayeux_calls_match      (BayeuxCalls    *self,
                                     BayeuxMessage  *scanned,
                                     JsonNode       *element,
                                     const BayeuxSpan *text,
                                     gboolean        on_control,
                                     BayeuxMessage **message,
                                     BayeuxOp      **op,
                                     GError        **error);

void     bayeux_calls_drop         (BayeuxCalls   *self,
                                    BayeuxOp      *op,
                                    const GError  *error);
void     bayeux_calls_unsendable   (BayeuxCalls   *self,
                                    BayeuxOp      *op,
                                    const GError  *error);
void     bayeux_calls_subscribed   (BayeuxCalls   *self,
                                    BayeuxOp      *op,
                                    BayeuxMessage *reply,
                                    BayeuxVerdict  verdict);
void     bayeux_calls_unsubscribed (BayeuxCalls   *self,
                                    BayeuxOp      *op,
                                    BayeuxMessage *reply,
                                    BayeuxVerdict  verdict);
gboolean bayeux_calls_published    (BayeuxCalls   *self,
                                    BayeuxOp      *op,
                                    BayeuxMessage *reply,
                                    BayeuxVerdict  verdict,
                                    gboolean       may_resend);
/* Task data set on the task of a call that needs the server's reply (a
 * remote call): left unanswered, it fails rather than completes. */
#define BAYEUX_CALLS_NEEDS_REPLY "bayeux-needs-reply"

void     bayeux_calls_unanswered   (BayeuxCalls   *self,
                                    BayeuxOp      *op,
                                    const GError  *error);

G_END_DECLS
