/* bayeux-batch.c: ops into the JSON text of a request
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see bayeux-glib/README.md): it answers by return
 * value or through the callback table the client hands in
 * (BayeuxBatchCallbacks); it calls nothing of the client by name.
 *
 * An op is serialized with the session's clientId, through the outgoing
 * extensions (which work on a copy, op->out, kept until the op is sent so
 * that they see it once per sending), and fails when an extension drops it
 * or when it is larger than max-message-size on its own. A batch takes
 * queued ops from the outbox, as many as fit in a request, and commits
 * each one it takes (it awaits its reply from then on).
 */
#include "bayeux-batch-private.h"
#include "bayeux-error.h"
#include "bayeux-json-private.h"

#include <string.h>

/**
 * bayeux_batch_serialize:
 * @callbacks: the client's session id and max-message-size, read as the op
 *   goes (a hook may change them)
 * @text: (out): the message's JSON text, when serialized
 *
 * Serializes @op through the outgoing extensions.
 *
 * Returns: SERIALIZED (*@text set), FAILED (@error set: too large, or
 *   dropped by an extension), HELD (an extension holds @op), or STOPPED (a
 *   hook stopped the client; @op is the caller's still)
 */
BayeuxSerializeResult
bayeux_batch_serialize (BayeuxExtensionChain        *extensions,
                        BayeuxOp                    *op,
                        const BayeuxBatchCallbacks  *callbacks,
                        BayeuxClient                *client,
                        char                       **text_out,
                        GError                     **error)
{
  g_autoptr(JsonNode) node = NULL;
  const char *client_id = callbacks->client_id (client);
  guint max_size;
  char *text;

  if (client_id != NULL && op->kind != BAYEUX_OP_HANDSHAKE)
    json_object_set_string_member (op->message, "clientId", client_id);

  if (!bayeux_extension_chain_is_empty (extensions) || op->out != NULL)
    {
      gboolean stopped;
      BayeuxExtensionResult result = bayeux_extension_chain_run_outgoing (extensions, op, &stopped);

      if (result == BAYEUX_EXTENSION_HOLD)
        return BAYEUX_SERIALIZE_HELD;
      if (stopped)
        {
          g_clear_pointer (&op->out, json_object_unref);
          return BAYEUX_SERIALIZE_STOPPED;
        }
      if (result == BAYEUX_EXTENSION_DROP)
        {
          g_clear_pointer (&op->out, json_object_unref);
          g_propagate_error (error, bayeux_extension_chain_dropped_error (
                                      json_object_get_string_member (op->message, "channel"), FALSE));
          return BAYEUX_SERIALIZE_FAILED;
        }
      /* Held across a re-handshake: it leaves in the new session. */
      client_id = callbacks->client_id (client);
      if (client_id != NULL && op->kind != BAYEUX_OP_HANDSHAKE)
        json_object_set_string_member (op->out, "clientId", client_id);
      node = json_node_init_object (json_node_alloc (), op->out);
    }
  else
    node = json_node_init_object (json_node_alloc (), op->message);

  text = bayeux_json_to_string (node);
  max_size = callbacks->max_size (client);
  if (strlen (text) + 2 > max_size)
    {
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE,
                   "A %s message of %" G_GSIZE_FORMAT " bytes is larger than max-message-size (%u bytes)",
                   json_object_get_string_member (op->message, "channel"), strlen (text), max_size);
      g_free (text);
      g_clear_pointer (&op->out, json_object_unref);
      return BAYEUX_SERIALIZE_FAILED;
    }
  *text_out = text;
  return BAYEUX_SERIALIZED;
}

/**
 * bayeux_batch_take:
 * @body: an open JSON array, the ops' texts appended
 * @ids: (element-type utf8): the ids of the ops taken, appended
 * @room: the most bytes @body may hold
 *
 * Moves ops from @outbox into @body and @ids (committed), as many as fit in
 * @room (at least one); those that cannot be sent at all fail through
 * @callbacks. Returns FALSE when a hook stopped the client (the op it was
 * on failed with it): the caller drops the batch.
 */
gboolean
bayeux_batch_take (BayeuxOutbox               *outbox,
                   BayeuxExtensionChain       *extensions,
                   const BayeuxBatchCallbacks *callbacks,
                   BayeuxClient               *client,
                   GString                    *body,
                   GPtrArray                  *ids,
                   gsize                       room)
{
  BayeuxOp *op;

  while ((op = bayeux_outbox_pop (outbox)) != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = NULL;

      switch (bayeux_batch_serialize (extensions, op, callbacks, client, &text, &error))
        {
        case BAYEUX_SERIALIZE_HELD:
          continue;

        case BAYEUX_SERIALIZE_STOPPED:
          callbacks->stopped (client, op);
          return FALSE;

        case BAYEUX_SERIALIZE_FAILED:
          callbacks->unsendable (client, op, error);
          continue;

        case BAYEUX_SERIALIZED:
        default:
          break;
        }

      /* Split batches that would be larger than max-message-size; the
       * extensions' copy (op->out) waits for the next batch. */
      if (body->len + strlen (text) + 2 > room && ids->len > 0)
        {
          bayeux_outbox_push_front (outbox, op);
          break;
        }

      if (ids->len > 0)
        g_string_append_c (body, ',');
      g_string_append (body, text);
      bayeux_outbox_commit (outbox, op, ids);
    }
  return TRUE;
}
