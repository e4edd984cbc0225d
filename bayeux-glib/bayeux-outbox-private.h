/* bayeux-outbox-private.h: the client's requests, from queued to answered
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "bayeux-message.h"

G_BEGIN_DECLS

typedef enum {
  BAYEUX_OP_HANDSHAKE,
  BAYEUX_OP_CONNECT,
  BAYEUX_OP_DISCONNECT,
  BAYEUX_OP_SUBSCRIBE,
  BAYEUX_OP_UNSUBSCRIBE,
  BAYEUX_OP_PUBLISH,
} BayeuxOpKind;

/* One request message, from the time it is queued to its reply. */
typedef struct
{
  BayeuxOpKind      kind;
  char       *id;
  char       *channel;   /* the subscription, or the channel published to */
  JsonObject *message;
  GTask      *task;      /* unsubscribe_async and publish_async; NULL else */
  gint64      queued_at; /* monotonic µs */
  JsonObject *out;       /* the copy the outgoing extensions work on */
  GPtrArray  *chain;     /* the extensions it goes through (a snapshot) */
  gint        ext_next;  /* the next outgoing extension to run in chain (counting down) */
  gboolean    with_outbox; /* a control op: take the outbox along */
  guint       timeout_ms;  /* a control op: its deadline */
  gint64      reply_due;   /* a publish sent where its reply is optional: when to stop waiting (monotonic µs) */
} BayeuxOp;

/* A control op: handshake, connect or disconnect (one at a time). */
#define BAYEUX_OP_IS_CONTROL(op) ((op)->kind == BAYEUX_OP_HANDSHAKE || (op)->kind == BAYEUX_OP_CONNECT || (op)->kind == BAYEUX_OP_DISCONNECT)

typedef struct _BayeuxOutbox BayeuxOutbox;

/* The outbox's expiry timer fired (see bayeux_outbox_take_expired and
 * bayeux_outbox_take_unanswered). */
typedef void (*BayeuxExpiryFunc) (gpointer user_data);

void bayeux_op_free (BayeuxOp *op);

BayeuxOutbox *bayeux_outbox_new    (GMainContext     *context,
                                    BayeuxExpiryFunc  expired,
                                    gpointer          user_data);
void          bayeux_outbox_free   (BayeuxOutbox     *self);
BayeuxOp     *bayeux_outbox_new_op (BayeuxOutbox     *self,
                                    BayeuxOpKind      kind,
                                    const char       *meta_channel,
                                    const char       *channel,
                                    GTask            *task);

/* The queue (to leave in the next batch) and the deferred (to be sent again
 * once connected). */
void      bayeux_outbox_push         (BayeuxOutbox *self,
                                      BayeuxOp     *op);
void      bayeux_outbox_push_front   (BayeuxOutbox *self,
                                      BayeuxOp     *op);
BayeuxOp *bayeux_outbox_pop          (BayeuxOutbox *self);
gboolean  bayeux_outbox_is_empty     (BayeuxOutbox *self);
guint     bayeux_outbox_length       (BayeuxOutbox *self);
void      bayeux_outbox_defer        (BayeuxOutbox *self,
                                      BayeuxOp     *op);
BayeuxOp *bayeux_outbox_pop_deferred (BayeuxOutbox *self);
void      bayeux_outbox_resume       (BayeuxOutbox *self,
                                      GQueue       *first);

/* Expiry of the queued publishes. */
void    bayeux_outbox_schedule_expiry (BayeuxOutbox *self,
                                       guint         max_age_ms);
GQueue *bayeux_outbox_take_expired    (BayeuxOutbox *self,
                                       guint         max_age_ms);

/* Publishes whose reply may never come (sent over a WebSocket). */
void    bayeux_outbox_await_optional  (BayeuxOutbox *self,
                                       GPtrArray    *ids,
                                       guint         within_ms);
GQueue *bayeux_outbox_take_unanswered (BayeuxOutbox *self);

/* Sent ops, awaiting their replies. */
void      bayeux_outbox_commit           (BayeuxOutbox  *self,
                                          BayeuxOp      *op,
                                          GPtrArray     *ids);
void      bayeux_outbox_set_control      (BayeuxOutbox  *self,
                                          BayeuxOp      *op);
void      bayeux_outbox_clear_control    (BayeuxOutbox  *self);
gboolean  bayeux_outbox_has_control      (BayeuxOutbox  *self);
void      bayeux_outbox_abandon_control  (BayeuxOutbox  *self,
                                          gboolean       answer_expected);
gboolean  bayeux_outbox_forget_abandoned (BayeuxOutbox  *self,
                                          const char    *id);
BayeuxOp *bayeux_outbox_take_reply       (BayeuxOutbox  *self,
                                          BayeuxMessage *reply,
                                          gboolean       on_control);
BayeuxOp *bayeux_outbox_take_for_broken  (BayeuxOutbox  *self,
                                          JsonNode      *element);
BayeuxOp *bayeux_outbox_take_id          (BayeuxOutbox  *self,
                                          const char    *id);
gboolean  bayeux_outbox_is_pending       (BayeuxOutbox  *self,
                                          const char    *id);
GList    *bayeux_outbox_take_pending     (BayeuxOutbox  *self);
void      bayeux_outbox_stop             (BayeuxOutbox  *self);

G_END_DECLS
