/* bayeux-extension-chain.c: the extensions a message goes through
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see the top of bayeux-client.c): a plain struct
 * that answers by return value or through the callback table the client
 * hands in (BayeuxChainCallbacks); it calls nothing of the client by name
 * (the client pointer is only passed on to the extensions' hooks).
 *
 * Outgoing messages go through the extensions in the reverse order of
 * their addition, on a copy (op->out) made each time the op is sent;
 * incoming ones in the order of addition, after their reply was matched
 * to their request. Each message goes through the extensions it started
 * with (a snapshot): one added meanwhile does not see it half-way, one
 * removed meanwhile is skipped. A hook may HOLD a message (the Held table,
 * by the JSON object the hook saw) until bayeux_client_release_message();
 * a released message goes on from an idle, in the order released, from
 * the extension after the one that held it.
 */
#include "bayeux-extension-chain-private.h"
#include "bayeux-context-private.h"
#include "bayeux-message-private.h"
#include "bayeux-error.h"

/* A message an extension holds. */
typedef struct
{
  gboolean         outgoing;
  BayeuxExtension *extension;    /* the one holding it */
  GPtrArray       *chain;        /* incoming: the extensions it goes through (a snapshot) */
  gboolean         release_drop; /* released: to be dropped */
  guint            next;         /* incoming: the next extension to run in chain */
  BayeuxOp              *op;           /* outgoing: the op; incoming: the op a reply answers */
  BayeuxMessage   *message;      /* incoming */
} Held;

struct _BayeuxExtensionChain
{
  BayeuxClient               *client;      /* not referenced: it owns the chain */
  GMainContext               *context;
  const BayeuxChainCallbacks *callbacks;
  GPtrArray                  *extensions;  /* BayeuxExtension, in the order added */
  GHashTable                 *held;        /* JsonObject → Held */
  Held                       *held_control; /* a held control op (the control slot waits) */
  GQueue                      released;    /* Held, released, to go on from release_idle */
  GSource                    *release_idle;
  guint                       in_outgoing; /* outgoing hooks running (a batch being built) */
};

static void
held_free (Held *held)
{
  g_clear_object (&held->extension);
  g_clear_pointer (&held->chain, g_ptr_array_unref);
  g_clear_pointer (&held->message, bayeux_message_unref);
  g_free (held);
}

/* A chain of no extension, for @client (not referenced: it owns the
 * chain), its released messages going on from @context. */
BayeuxExtensionChain *
bayeux_extension_chain_new (BayeuxClient               *client,
                            GMainContext               *context,
                            const BayeuxChainCallbacks *callbacks)
{
  BayeuxExtensionChain *self = g_new0 (BayeuxExtensionChain, 1);

  self->client = client;
  self->context = g_main_context_ref (context);
  self->callbacks = callbacks;
  self->extensions = g_ptr_array_new_with_free_func (g_object_unref);
  self->held = g_hash_table_new (NULL, NULL);
  g_queue_init (&self->released);
  return self;
}

/* Frees the chain (its holds must have been taken: take_held). */
void
bayeux_extension_chain_free (BayeuxExtensionChain *self)
{
  g_ptr_array_unref (self->extensions);
  g_hash_table_unref (self->held);
  g_main_context_unref (self->context);
  g_free (self);
}

/* Adds @extension (not yet added) last, and tells it. */
void
bayeux_extension_chain_add (BayeuxExtensionChain *self,
                            BayeuxExtension      *extension)
{
  BayeuxExtensionInterface *iface = BAYEUX_EXTENSION_GET_IFACE (extension);

  g_ptr_array_add (self->extensions, g_object_ref (extension));
  if (iface->added != NULL)
    iface->added (extension, self->client);
}

/* Removes @extension and tells it; FALSE when it was not added. */
gboolean
bayeux_extension_chain_remove (BayeuxExtensionChain *self,
                               BayeuxExtension      *extension)
{
  g_autoptr(BayeuxExtension) removed = NULL;
  BayeuxExtensionInterface *iface;
  guint index;

  if (!g_ptr_array_find (self->extensions, extension, &index))
    return FALSE;
  removed = g_ptr_array_steal_index (self->extensions, index);
  iface = BAYEUX_EXTENSION_GET_IFACE (removed);
  if (iface->removed != NULL)
    iface->removed (removed, self->client);
  return TRUE;
}

/* Removes every extension, the last added first. */
void
bayeux_extension_chain_remove_all (BayeuxExtensionChain *self)
{
  while (self->extensions->len > 0)
    bayeux_extension_chain_remove (self, g_ptr_array_index (self->extensions, self->extensions->len - 1));
}

/* Whether @extension is one of the chain's (one removed is skipped). */
gboolean
bayeux_extension_chain_contains (BayeuxExtensionChain *self,
                                 BayeuxExtension      *extension)
{
  return g_ptr_array_find (self->extensions, extension, NULL);
}

/* Returns: (transfer container): the extensions, in the order added */
GPtrArray *
bayeux_extension_chain_list (BayeuxExtensionChain *self)
{
  GPtrArray *copy = g_ptr_array_copy (self->extensions, NULL, NULL);

  g_ptr_array_set_free_func (copy, NULL);
  return copy;
}

/* Whether there is no extension. */
gboolean
bayeux_extension_chain_is_empty (BayeuxExtensionChain *self)
{
  return self->extensions->len == 0;
}

/* Whether outgoing hooks are running: a batch is being built. */
gboolean
bayeux_extension_chain_in_outgoing (BayeuxExtensionChain *self)
{
  return self->in_outgoing > 0;
}

/* The extensions a message goes through, fixed when it starts. */
static GPtrArray *
snapshot (BayeuxExtensionChain *self)
{
  GPtrArray *chain = g_ptr_array_new_full (self->extensions->len, g_object_unref);

  for (guint i = 0; i < self->extensions->len; i++)
    g_ptr_array_add (chain, g_object_ref (g_ptr_array_index (self->extensions, i)));
  return chain;
}

/* Runs the outgoing extensions on a copy of @op's message (op->out), from
 * where a hold left off. HOLD: the chain holds @op until it is released.
 * A hook that stopped the client ends the run: *@stopped. */
BayeuxExtensionResult
bayeux_extension_chain_run_outgoing (BayeuxExtensionChain *self,
                                     BayeuxOp             *op,
                                     gboolean             *stopped)
{
  guint generation = self->callbacks->generation (self->client);

  *stopped = FALSE;
  if (op->out == NULL)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), op->message);
      g_autoptr(JsonNode) copy = bayeux_json_deep_copy (node);

      op->out = json_object_ref (json_node_get_object (copy));
      g_clear_pointer (&op->chain, g_ptr_array_unref);
      op->chain = snapshot (self);
      op->ext_next = (gint) op->chain->len - 1;
    }

  while (op->ext_next >= 0)
    {
      BayeuxExtension *extension = g_ptr_array_index (op->chain, op->ext_next--);
      BayeuxExtensionResult result;

      if (!bayeux_extension_chain_contains (self, extension))
        continue;
      self->in_outgoing++;
      result = bayeux_extension_outgoing (extension, self->client, op->out);
      self->in_outgoing--;
      if (generation != self->callbacks->generation (self->client))
        {
          *stopped = TRUE;
          return BAYEUX_EXTENSION_CONTINUE;
        }
      if (result == BAYEUX_EXTENSION_HOLD)
        {
          Held *held = g_new0 (Held, 1);

          held->outgoing = TRUE;
          held->extension = g_object_ref (extension);
          held->op = op;
          g_hash_table_replace (self->held, op->out, held);
          return BAYEUX_EXTENSION_HOLD;
        }
      if (result == BAYEUX_EXTENSION_DROP)
        return BAYEUX_EXTENSION_DROP;
    }
  return BAYEUX_EXTENSION_CONTINUE;
}

/* The held @op is the control op: the control slot waits for it. */
void
bayeux_extension_chain_hold_control (BayeuxExtensionChain *self,
                                     BayeuxOp             *op)
{
  self->held_control = g_hash_table_lookup (self->held, op->out);
}

/* The held control op is given up: freed, whether or not released. */
void
bayeux_extension_chain_drop_control (BayeuxExtensionChain *self)
{
  Held *held = g_steal_pointer (&self->held_control);

  if (held == NULL)
    return;
  g_hash_table_remove (self->held, held->op->out);
  g_queue_remove (&self->released, held);
  bayeux_op_free (held->op);
  held_free (held);
}

/* An extension dropped @held's incoming message. Takes @held. */
static void
drop_incoming (BayeuxExtensionChain *self,
               Held                 *held)
{
  BayeuxOp *op = g_steal_pointer (&held->op);

  if (op != NULL)
    self->callbacks->incoming_dropped (self->client, op, bayeux_message_get_channel (held->message));
  held_free (held);
}

/* Runs the incoming extensions on @held's message, from held->next on,
 * then hands it to the client. Takes @held. */
static void
run_incoming (BayeuxExtensionChain *self,
              Held                 *held)
{
  guint generation = self->callbacks->generation (self->client);
  JsonObject *object = bayeux_message_get_object (held->message);
  g_autoptr(BayeuxMessage) checked = NULL;
  g_autoptr(GError) error = NULL;
  BayeuxOp *op;

  if (held->chain == NULL)
    held->chain = snapshot (self);

  while (held->next < held->chain->len)
    {
      BayeuxExtension *extension = g_ptr_array_index (held->chain, held->next++);
      BayeuxExtensionResult result;

      if (!bayeux_extension_chain_contains (self, extension))
        continue;
      result = bayeux_extension_incoming (extension, self->client, object);
      if (generation != self->callbacks->generation (self->client))
        {
          /* A hook stopped the client (whatever it returned, even HOLD: the
           * stop ended the holds). */
          self->callbacks->incoming_stopped (self->client, g_steal_pointer (&held->op));
          held_free (held);
          return;
        }
      if (result == BAYEUX_EXTENSION_HOLD)
        {
          g_clear_object (&held->extension);
          held->extension = g_object_ref (extension);
          g_hash_table_replace (self->held, object, held);
          return;
        }
      if (result == BAYEUX_EXTENSION_DROP)
        {
          drop_incoming (self, held);
          return;
        }
    }

  /* The hooks may have changed anything: check the message again. */
  op = g_steal_pointer (&held->op);
  checked = bayeux_message_new_parsed (bayeux_message_get_node (held->message), &error);
  if (checked != NULL)
    bayeux_message_keep_text (checked, held->message);
  held_free (held);
  self->callbacks->incoming_done (self->client, checked, op, error);
}

/* Runs the incoming extensions on @message (taken), the reply to @op
 * (nullable, taken) or a delivery. */
void
bayeux_extension_chain_run_incoming (BayeuxExtensionChain *self,
                                     BayeuxMessage        *message,
                                     BayeuxOp             *op)
{
  Held *held = g_new0 (Held, 1);

  held->message = message;
  held->op = op;
  run_incoming (self, held);
}

static void
release_one (BayeuxExtensionChain *self,
             Held                 *held)
{
  gboolean drop = held->release_drop;

  if (held->outgoing)
    {
      BayeuxOp *op = held->op;
      gboolean control = held == self->held_control;

      held_free (held);
      if (control)
        self->held_control = NULL;
      if (drop)
        g_clear_pointer (&op->out, json_object_unref);
      self->callbacks->outgoing_released (self->client, op, control, drop);
    }
  else if (drop)
    drop_incoming (self, held);
  else
    run_incoming (self, held);
}

/* The messages released by extensions go on, in the order released. */
static gboolean
release_idle_cb (gpointer user_data)
{
  BayeuxExtensionChain *self = user_data;
  BayeuxClient *client = g_object_ref (self->client);
  Held *held;

  g_clear_pointer (&self->release_idle, g_source_unref);
  self->callbacks->begin (client);
  while ((held = g_queue_pop_head (&self->released)) != NULL)
    release_one (self, held);
  self->callbacks->end (client);
  g_object_unref (client);
  return G_SOURCE_REMOVE;
}

/* Ends a hold on @message: it goes on (or is dropped) from an idle.
 * Returns FALSE when @message is not held. */
gboolean
bayeux_extension_chain_release (BayeuxExtensionChain *self,
                                JsonObject           *message,
                                gboolean              drop)
{
  Held *held = NULL;

  if (!g_hash_table_steal_extended (self->held, message, NULL, (gpointer *) &held))
    return FALSE;

  held->release_drop = drop;
  g_queue_push_tail (&self->released, held);
  if (self->release_idle == NULL)
    {
      self->release_idle = bayeux_source_attach (self->context, 0, G_PRIORITY_DEFAULT, release_idle_cb, self, NULL,
                                                 "[bayeux] released");
    }
  return TRUE;
}

/* Ends every hold (the client stops). Returns: (transfer full): the ops
 * of the held messages (BayeuxOp, to be completed by the caller) */
GList *
bayeux_extension_chain_take_held (BayeuxExtensionChain *self)
{
  g_autoptr(GList) all = g_hash_table_get_values (self->held);
  GList *ops = NULL;
  Held *released;

  g_hash_table_steal_all (self->held);
  while ((released = g_queue_pop_head (&self->released)) != NULL)
    all = g_list_prepend (all, released);
  g_clear_pointer (&self->release_idle, bayeux_source_destroy);
  self->held_control = NULL;
  for (GList *l = all; l != NULL; l = l->next)
    {
      Held *held = l->data;

      if (held->op != NULL)
        ops = g_list_prepend (ops, held->op);
      held_free (held);
    }
  return g_list_reverse (ops);
}

/* The failure of a message an extension dropped, on @channel (@reply: the
 * server's reply, else ours). */
GError *
bayeux_extension_chain_dropped_error (const char *channel,
                                      gboolean    reply)
{
  return reply ? g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_DROPPED, "An extension dropped the reply on %s", channel)
               : g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_DROPPED, "An extension dropped the %s message", channel);
}
