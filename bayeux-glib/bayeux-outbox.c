/* bayeux-outbox.c: the client's requests, from queued to answered
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see the top of bayeux-client.c): a plain struct
 * that answers by return value, and one callback for its expiry timer. It
 * knows json-glib and BayeuxMessage, nothing of the client.
 *
 * An op (a request message) is queued in the outbox until a batch takes
 * it, or deferred until the connection works again; once sent it is
 * pending, by id, until its reply is matched to it (take_reply) or the
 * request that carried it ends without one (take_id). The single control
 * op (handshake, connect, disconnect) is remembered: an id-less
 * /meta/connect reply can only be its. A control op given up while its
 * answer may still come (over a WebSocket) is remembered among the
 * abandoned ids, so that the late answer is ignored, not an error.
 *
 * A server MAY leave a publish unanswered (Bayeux 1.0, "Publish
 * Response"). Over a WebSocket no response ends a request, so a publish
 * sent there waits for its reply until a due time
 * (bayeux_outbox_await_optional); then the expiry callback runs and the
 * client takes it (bayeux_outbox_take_unanswered) and completes it as
 * sent.
 */
#include "bayeux-outbox-private.h"
#include "bayeux-context-private.h"

/* The abandoned ids kept at most (a late answer comes soon or never). */
#define MAX_ABANDONED 16

struct _BayeuxOutbox
{
  GMainContext     *context;
  BayeuxExpiryFunc  expired;
  gpointer          user_data;
  guint64           next_id;
  GQueue            queue;       /* BayeuxOp, queued for the batch slot */
  GQueue            deferred;    /* BayeuxOp (unsubscribes) to send again once connected */
  GHashTable       *pending;     /* id → BayeuxOp, sent and awaiting a reply */
  char             *control_id;  /* of the control op in flight */
  GHashTable       *abandoned;   /* ids of control ops given up whose answer may come */
  GSource          *expiry_timer;
  GSource          *reply_timer;  /* the first reply_due of a pending publish */
};

/* Frees @op (its task, if any, must have returned or be returned by the
 * caller: the op only holds a reference). */
void
bayeux_op_free (BayeuxOp *op)
{
  g_free (op->id);
  g_free (op->channel);
  g_clear_pointer (&op->message, json_object_unref);
  g_clear_pointer (&op->out, json_object_unref);
  g_clear_pointer (&op->chain, g_ptr_array_unref);
  g_clear_object (&op->task);
  g_free (op);
}

/* A new outbox; @expired is called (with @user_data) from @context when
 * its expiry timer fires. */
BayeuxOutbox *
bayeux_outbox_new (GMainContext     *context,
                   BayeuxExpiryFunc  expired,
                   gpointer          user_data)
{
  BayeuxOutbox *self = g_new0 (BayeuxOutbox, 1);

  self->context = g_main_context_ref (context);
  self->expired = expired;
  self->user_data = user_data;
  g_queue_init (&self->queue);
  g_queue_init (&self->deferred);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) bayeux_op_free);
  self->abandoned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

/* Frees the outbox and what it still holds (call bayeux_outbox_stop and
 * complete the ops first). */
void
bayeux_outbox_free (BayeuxOutbox *self)
{
  bayeux_outbox_stop (self);
  g_queue_clear_full (&self->queue, (GDestroyNotify) bayeux_op_free);
  g_queue_clear_full (&self->deferred, (GDestroyNotify) bayeux_op_free);
  g_hash_table_unref (self->pending);
  g_hash_table_unref (self->abandoned);
  g_free (self->control_id);
  g_main_context_unref (self->context);
  g_free (self);
}

/* A new op with the next id, its message holding `channel` (@meta_channel,
 * or @channel) and `id`. */
BayeuxOp *
bayeux_outbox_new_op (BayeuxOutbox *self,
                      BayeuxOpKind  kind,
                      const char   *meta_channel,
                      const char   *channel,
                      GTask        *task)
{
  BayeuxOp *op = g_new0 (BayeuxOp, 1);

  op->kind = kind;
  op->id = g_strdup_printf ("%" G_GUINT64_FORMAT, ++self->next_id);
  op->channel = g_strdup (channel);
  op->task = task ? g_object_ref (task) : NULL;
  op->queued_at = g_get_monotonic_time ();
  op->message = json_object_new ();
  json_object_set_string_member (op->message, "channel", meta_channel ? meta_channel : channel);
  json_object_set_string_member (op->message, "id", op->id);
  return op;
}

/* Queues @op (taken) last, for the next batch. */
void
bayeux_outbox_push (BayeuxOutbox *self,
                    BayeuxOp     *op)
{
  g_queue_push_tail (&self->queue, op);
}

/* First in line: @op was due before what is queued now. */
void
bayeux_outbox_push_front (BayeuxOutbox *self,
                          BayeuxOp     *op)
{
  g_queue_push_head (&self->queue, op);
}

/* The next queued op (transfer full), or NULL. */
BayeuxOp *
bayeux_outbox_pop (BayeuxOutbox *self)
{
  return g_queue_pop_head (&self->queue);
}

/* Whether nothing is queued. */
gboolean
bayeux_outbox_is_empty (BayeuxOutbox *self)
{
  return g_queue_is_empty (&self->queue);
}

/* How many ops are queued. */
guint
bayeux_outbox_length (BayeuxOutbox *self)
{
  return g_queue_get_length (&self->queue);
}

/* @op, lost in transport, is sent again once connected (resume). */
void
bayeux_outbox_defer (BayeuxOutbox *self,
                     BayeuxOp     *op)
{
  g_queue_push_tail (&self->deferred, op);
}

/* The next deferred op (transfer full), or NULL. */
BayeuxOp *
bayeux_outbox_pop_deferred (BayeuxOutbox *self)
{
  return g_queue_pop_head (&self->deferred);
}

/* The connection works again: @first (emptied), then the deferred ops,
 * leave before what is queued. */
void
bayeux_outbox_resume (BayeuxOutbox *self,
                      GQueue       *first)
{
  BayeuxOp *op;

  while ((op = g_queue_pop_head (&self->deferred)) != NULL)
    g_queue_push_tail (first, op);
  while ((op = g_queue_pop_tail (first)) != NULL)
    g_queue_push_head (&self->queue, op);
}

static gboolean
expiry_cb (gpointer user_data)
{
  BayeuxOutbox *self = user_data;

  g_clear_pointer (&self->expiry_timer, g_source_unref);
  self->expired (self->user_data);
  return G_SOURCE_REMOVE;
}

/* Sets the expiry timer, if none is set, for when the oldest queued
 * publish is @max_age_ms old. */
void
bayeux_outbox_schedule_expiry (BayeuxOutbox *self,
                               guint         max_age_ms)
{
  gint64 oldest = G_MAXINT64;
  gint64 delay;

  if (self->expiry_timer != NULL)
    return;

  for (GList *l = self->queue.head; l != NULL; l = l->next)
    {
      BayeuxOp *op = l->data;
      if (op->kind == BAYEUX_OP_PUBLISH)
        {
          oldest = op->queued_at;
          break;
        }
    }
  if (oldest == G_MAXINT64)
    return;

  delay = oldest + (gint64) max_age_ms * 1000 - g_get_monotonic_time ();
  self->expiry_timer = bayeux_source_attach (self->context, (guint) CLAMP (delay / 1000 + 1, 1, G_MAXINT32),
                                             G_PRIORITY_DEFAULT, expiry_cb, self, NULL, "[bayeux] expiry");
}

/* Takes the queued publishes older than @max_age_ms, in order.
 * Subscribe and unsubscribe requests never expire: they leave once
 * connected. Returns: (transfer full): a queue of BayeuxOp, maybe empty */
GQueue *
bayeux_outbox_take_expired (BayeuxOutbox *self,
                            guint         max_age_ms)
{
  gint64 limit = g_get_monotonic_time () - (gint64) max_age_ms * 1000;
  GQueue *expired = g_queue_new ();
  GList *l = self->queue.head;

  while (l != NULL)
    {
      GList *next = l->next;
      BayeuxOp *op = l->data;

      if (op->kind == BAYEUX_OP_PUBLISH && op->queued_at <= limit)
        {
          g_queue_delete_link (&self->queue, l);
          g_queue_push_tail (expired, op);
        }
      l = next;
    }
  return expired;
}

/* @op leaves in a request (whose ids are @ids): it awaits its reply. */
void
bayeux_outbox_commit (BayeuxOutbox *self,
                      BayeuxOp     *op,
                      GPtrArray    *ids)
{
  g_clear_pointer (&op->out, json_object_unref);
  g_clear_pointer (&op->chain, g_ptr_array_unref);
  g_ptr_array_add (ids, g_strdup (op->id));
  g_hash_table_insert (self->pending, op->id, op);
}

/* @op is the control op in flight (from the time the extensions look at
 * it). */
void
bayeux_outbox_set_control (BayeuxOutbox *self,
                           BayeuxOp     *op)
{
  g_free (self->control_id);
  self->control_id = g_strdup (op->id);
}

/* No control op in flight. */
void
bayeux_outbox_clear_control (BayeuxOutbox *self)
{
  g_clear_pointer (&self->control_id, g_free);
}

/* Whether a control op is in flight. */
gboolean
bayeux_outbox_has_control (BayeuxOutbox *self)
{
  return self->control_id != NULL;
}

/* The control op in flight is given up (freed if sent). When its answer
 * may still come (@answer_expected: over a WebSocket, Faye answers the
 * held /meta/connect when the disconnect comes), that answer will be
 * ignored. */
void
bayeux_outbox_abandon_control (BayeuxOutbox *self,
                               gboolean      answer_expected)
{
  if (self->control_id == NULL)
    return;
  if (answer_expected)
    {
      if (g_hash_table_size (self->abandoned) >= MAX_ABANDONED)
        g_hash_table_remove_all (self->abandoned);
      g_hash_table_add (self->abandoned, g_strdup (self->control_id));
    }
  g_hash_table_remove (self->pending, self->control_id);
  g_clear_pointer (&self->control_id, g_free);
}

/* Whether @id is of a control op given up (it is forgotten then). */
gboolean
bayeux_outbox_forget_abandoned (BayeuxOutbox *self,
                                const char   *id)
{
  return id != NULL && g_hash_table_remove (self->abandoned, id);
}

static BayeuxOp *
take (BayeuxOutbox *self,
      BayeuxOp     *op)
{
  g_hash_table_steal (self->pending, op->id);
  if (BAYEUX_OP_IS_CONTROL (op))
    g_clear_pointer (&self->control_id, g_free);
  return op;
}

/* Takes the op @reply answers: by id (and channel, except for a publish,
 * whose reply some servers send on another channel); a reply without an id
 * only where it cannot be ambiguous: a /meta/connect reply that came where
 * the control op can be answered (@on_control), for the single outstanding
 * /meta/connect. Returns: (transfer full) (nullable): the op */
BayeuxOp *
bayeux_outbox_take_reply (BayeuxOutbox  *self,
                          BayeuxMessage *reply,
                          gboolean       on_control)
{
  const char *id = bayeux_message_get_id (reply);
  BayeuxOp *op = NULL;

  if (id != NULL)
    {
      op = g_hash_table_lookup (self->pending, id);
      if (op != NULL &&
          g_strcmp0 (json_object_get_string_member (op->message, "channel"), bayeux_message_get_channel (reply)) != 0 &&
          op->kind != BAYEUX_OP_PUBLISH)
        op = NULL;
    }
  else if (g_str_equal (bayeux_message_get_channel (reply), "/meta/connect") && on_control &&
           self->control_id != NULL)
    {
      op = g_hash_table_lookup (self->pending, self->control_id);
      if (op != NULL && op->kind != BAYEUX_OP_CONNECT)
        op = NULL;
    }

  return op != NULL ? take (self, op) : NULL;
}

/* Takes the pending op @id. Returns: (transfer full) (nullable): the op */
BayeuxOp *
bayeux_outbox_take_id (BayeuxOutbox *self,
                       const char   *id)
{
  BayeuxOp *op = id != NULL ? g_hash_table_lookup (self->pending, id) : NULL;

  return op != NULL ? take (self, op) : NULL;
}

/* Takes the op that @element, a reply that failed its checks, was meant
 * for: it has `successful` and the `id` (a string or an integer) of one of
 * ours. Returns: (transfer full) (nullable): the op */
BayeuxOp *
bayeux_outbox_take_for_broken (BayeuxOutbox *self,
                               JsonNode     *element)
{
  JsonNode *id_node;
  g_autofree char *id = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (element) ||
      !json_object_has_member (json_node_get_object (element), "successful"))
    return NULL;
  id_node = json_object_get_member (json_node_get_object (element), "id");
  if (id_node == NULL || !JSON_NODE_HOLDS_VALUE (id_node))
    return NULL;
  if (json_node_get_value_type (id_node) == G_TYPE_STRING)
    id = g_strdup (json_node_get_string (id_node));
  else if (json_node_get_value_type (id_node) == G_TYPE_INT64)
    id = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (id_node));
  return bayeux_outbox_take_id (self, id);
}

/* Whether the reply to @id is still awaited. */
gboolean
bayeux_outbox_is_pending (BayeuxOutbox *self,
                          const char   *id)
{
  return g_hash_table_contains (self->pending, id);
}

/* Takes every pending op. Returns: (transfer full): a list of BayeuxOp */
GList *
bayeux_outbox_take_pending (BayeuxOutbox *self)
{
  GList *ops = g_hash_table_get_values (self->pending);

  g_hash_table_steal_all (self->pending);
  return ops;
}

static gint
compare_age (gconstpointer a,
             gconstpointer b,
             gpointer      user_data)
{
  const BayeuxOp *x = a, *y = b;

  return (x->queued_at > y->queued_at) - (x->queued_at < y->queued_at);
}

/* The client stops: no timers. */
void
bayeux_outbox_stop (BayeuxOutbox *self)
{
  g_clear_pointer (&self->expiry_timer, bayeux_source_destroy);
  g_clear_pointer (&self->reply_timer, bayeux_source_destroy);
}

static gboolean
reply_cb (gpointer user_data)
{
  BayeuxOutbox *self = user_data;

  g_clear_pointer (&self->reply_timer, g_source_unref);
  self->expired (self->user_data);
  return G_SOURCE_REMOVE;
}

/* Sets the reply timer for the first due pending publish, if any. */
static void
schedule_reply_timer (BayeuxOutbox *self)
{
  gint64 first = G_MAXINT64;
  GHashTableIter iter;
  BayeuxOp *op;

  g_clear_pointer (&self->reply_timer, bayeux_source_destroy);
  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &op))
    if (op->reply_due != 0)
      first = MIN (first, op->reply_due);
  if (first == G_MAXINT64)
    return;
  self->reply_timer = bayeux_source_attach (self->context,
                                            (guint) CLAMP ((first - g_get_monotonic_time ()) / 1000 + 1, 1, G_MAXINT32),
                                            G_PRIORITY_DEFAULT, reply_cb, self, NULL, "[bayeux] publish replies");
}

/* The publishes among @ids (just committed) were sent where nothing but
 * their reply ends them (a WebSocket): they wait for it @within_ms at
 * most, then the expiry callback runs. */
void
bayeux_outbox_await_optional (BayeuxOutbox *self,
                              GPtrArray    *ids,
                              guint         within_ms)
{
  gint64 due = g_get_monotonic_time () + (gint64) within_ms * 1000;
  gboolean any = FALSE;

  for (guint i = 0; i < ids->len; i++)
    {
      BayeuxOp *op = g_hash_table_lookup (self->pending, g_ptr_array_index (ids, i));

      if (op != NULL && op->kind == BAYEUX_OP_PUBLISH)
        {
          op->reply_due = due;
          any = TRUE;
        }
    }
  if (any && self->reply_timer == NULL)
    schedule_reply_timer (self);
}

/* Takes the pending publishes whose reply is due (see
 * bayeux_outbox_await_optional), in the order sent, and sets the timer for
 * the next. Returns: (transfer full): a queue of BayeuxOp, maybe empty */
GQueue *
bayeux_outbox_take_unanswered (BayeuxOutbox *self)
{
  gint64 now = g_get_monotonic_time ();
  GQueue *due = g_queue_new ();
  GHashTableIter iter;
  BayeuxOp *op;

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &op))
    if (op->reply_due != 0 && op->reply_due <= now)
      {
        g_hash_table_iter_steal (&iter);
        g_queue_insert_sorted (due, op, compare_age, NULL);
      }
  schedule_reply_timer (self);
  return due;
}
