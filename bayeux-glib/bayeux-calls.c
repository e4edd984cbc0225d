/* bayeux-calls.c: the application's calls, from the call to its answer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see bayeux-glib/README.md): it answers by return
 * value or through the callback table the client hands in
 * (BayeuxCallsCallbacks); it calls nothing of the client by name.
 *
 * Subscribe, unsubscribe and publish (fire-and-forget or with a GTask):
 * checking the channel, keeping the subscription table, making the ops,
 * and what a reply (classified once: ok, unknown client, refused), a drop
 * or a message that cannot be sent means for the call. The session's own
 * ops (handshake, connect, disconnect) are the client's.
 */
#include "bayeux-glib.h"
#include "bayeux-calls-private.h"
#include "bayeux-channel-private.h"
#include "bayeux-message-private.h"
#include "bayeux-json-private.h"
#include "bayeux-task-private.h"

#include <string.h>

/* The server no longer knows our client id: "402::Unknown client" (the
 * Bayeux spec, CometD), or Faye's "401:<id>:Unknown client". */
static gboolean
is_unknown_client (BayeuxMessage *reply)
{
  const char *text = bayeux_message_get_error (reply);

  if (text == NULL)
    return FALSE;
  if (g_str_has_prefix (text, "402:"))
    return TRUE;
  if (g_str_has_prefix (text, "401:"))
    {
      g_autofree char *lower = g_ascii_strdown (text, -1);
      return strstr (lower, "unknown client") != NULL;
    }
  return FALSE;
}

/* What @reply (nullable: none came) says. */
BayeuxVerdict
bayeux_reply_classify (BayeuxMessage *reply)
{
  if (reply == NULL)
    return BAYEUX_REPLY_NONE;
  if (bayeux_message_get_successful (reply))
    return BAYEUX_REPLY_OK;
  return is_unknown_client (reply) ? BAYEUX_REPLY_UNKNOWN_CLIENT : BAYEUX_REPLY_REFUSED;
}

/* The failure @reply says, as "@what: the server's error string", in
 * @code (BAYEUX_ERROR_UNKNOWN_CLIENT for an unknown client). */
GError *
bayeux_reply_error (BayeuxMessage *reply,
                    BayeuxVerdict  verdict,
                    gint           code,
                    const char    *what)
{
  const char *text = bayeux_message_get_error (reply);

  if (verdict == BAYEUX_REPLY_UNKNOWN_CLIENT)
    code = BAYEUX_ERROR_UNKNOWN_CLIENT;
  return g_error_new (BAYEUX_ERROR, code, "%s: %s", what, text ? text : "the server gave no reason");
}

/* Whether @reply, matched to @op by its id and channel, answers what @op
 * asked: a /meta/subscribe or /meta/unsubscribe reply that names a
 * subscription (a string, or an array of one) must name @op's. A reply
 * about another channel is no answer to ours (the server mixed up its
 * replies, or is hostile): trusting it would mark a subscription that the
 * server does not hold as confirmed, and nothing would ever arrive. */
static gboolean
bayeux_reply_answers (BayeuxOp       *op,
                      BayeuxMessage  *reply,
                      GError        **error)
{
  JsonObject *object;
  JsonArray *array;
  const char *named;

  if (op->kind != BAYEUX_OP_SUBSCRIBE && op->kind != BAYEUX_OP_UNSUBSCRIBE)
    return TRUE;
  object = bayeux_message_get_object (reply);
  if (!json_object_has_member (object, "subscription"))
    return TRUE;
  array = bayeux_json_get_array (object, "subscription");
  named = array != NULL ? (json_array_get_length (array) == 1 ? json_array_get_string_element (array, 0) : NULL)
                        : bayeux_json_get_string (object, "subscription");
  if (g_strcmp0 (named, op->channel) == 0)
    return TRUE;

  g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
               "The reply to %s %s for %s is about another subscription: taken as no reply",
               json_object_get_string_member (op->message, "channel"), op->id, op->channel);
  return FALSE;
}

/* What @element, one message from the server (which came on the control
 * slot: @on_control), is: a delivery; a reply, matched to its request
 * (taken from the outbox); the late reply to a request given up; or bad,
 * with @error: not a message, a meta message without `successful`, a
 * reply that answers no request of ours or is about another subscription.
 * *@message (transfer full) is the message when it is one; *@op (transfer
 * full) the request a reply answers, or that a bad reply still ends (a
 * broken reply to one of ours, a mismatched one). */
BayeuxMatch
bayeux_calls_match (BayeuxCalls    *self,
                    JsonNode       *element,
                    gboolean        on_control,
                    BayeuxMessage **message,
                    BayeuxOp      **op,
                    GError        **error)
{
  const char *channel;

  *op = NULL;
  *message = bayeux_message_new_parsed (element, error);
  if (*message == NULL)
    {
      *op = bayeux_outbox_take_for_broken (self->outbox, element);
      return BAYEUX_MATCH_BAD;
    }
  channel = bayeux_message_get_channel (*message);

  if (!bayeux_message_has_successful (*message))
    {
      if (!bayeux_channel_is_meta (channel))
        return BAYEUX_MATCH_DELIVERY;
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE, "A %s message without “successful”", channel);
      return BAYEUX_MATCH_BAD;
    }

  *op = bayeux_outbox_take_reply (self->outbox, *message, on_control);
  if (*op == NULL && bayeux_message_get_id (*message) != NULL &&
      bayeux_outbox_forget_abandoned (self->outbox, bayeux_message_get_id (*message)))
    {
      g_debug ("late reply to %s %s, given up: ignored", channel, bayeux_message_get_id (*message));
      return BAYEUX_MATCH_LATE;
    }
  if (*op == NULL)
    {
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE, "A reply on %s that answers no request of ours",
                   channel);
      return BAYEUX_MATCH_BAD;
    }
  return bayeux_reply_answers (*op, *message, error) ? BAYEUX_MATCH_REPLY : BAYEUX_MATCH_BAD;
}

/* Fails a call: through its task, or ::error (deferred). Takes @error. */
static void
bayeux_calls_fail (BayeuxCalls *self,
                   GTask       *task,
                   GError      *error)
{
  if (task != NULL)
    bayeux_task_return (task, NULL, error);
  else
    self->callbacks->report (self->client, error, NULL);
}

/* A /meta/subscribe for @sub. Returns: (transfer full): the op */
BayeuxOp *
bayeux_calls_subscribe_op (BayeuxCalls    *self,
                           BayeuxSubEntry *sub)
{
  BayeuxOp *op = bayeux_outbox_new_op (self->outbox, BAYEUX_OP_SUBSCRIBE, "/meta/subscribe", sub->channel, NULL);

  json_object_set_string_member (op->message, "subscription", sub->channel);
  return op;
}

/* Subscribes to @channel; @task (nullable) completes with the server's
 * answer. Before a session, the subscription waits for one. */
void
bayeux_calls_subscribe (BayeuxCalls *self,
                        const char  *channel,
                        GTask       *task)
{
  GError *error = NULL;
  BayeuxSubEntry *sub;

  if (!bayeux_channel_validate (channel, BAYEUX_CHANNEL_ALLOW_WILDCARD, &error))
    {
      bayeux_calls_fail (self, task, error);
      return;
    }

  sub = bayeux_subscriptions_add (self->subscriptions, channel);
  if (sub->confirmed)
    {
      if (task != NULL)
        bayeux_task_return (task, NULL, NULL);
      return;
    }

  if (task != NULL)
    g_ptr_array_add (sub->waiting, g_object_ref (task));
  if (!sub->in_flight && self->callbacks->session_ready (self->client))
    {
      sub->in_flight = TRUE;
      self->callbacks->enqueue (self->client, bayeux_calls_subscribe_op (self, sub));
    }
}

/* Ends the subscription to @channel at once; the server is told if it
 * knows of it, and @task (nullable) completes with its answer. */
void
bayeux_calls_unsubscribe (BayeuxCalls *self,
                          const char  *channel,
                          GTask       *task)
{
  GError *error = NULL;
  BayeuxSubEntry *sub;
  gboolean known_to_server;
  BayeuxOp *op;

  if (!bayeux_channel_validate (channel, BAYEUX_CHANNEL_ALLOW_WILDCARD, &error))
    {
      bayeux_calls_fail (self, task, error);
      return;
    }

  sub = bayeux_subscriptions_lookup (self->subscriptions, channel);
  if (sub == NULL)
    {
      bayeux_calls_fail (self, task, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_FAILED, "Not subscribed to %s", channel));
      return;
    }

  known_to_server = (sub->confirmed || sub->in_flight) && self->callbacks->session_ready (self->client);
  {
    g_autoptr(GError) gone = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_FAILED,
                                          "Unsubscribed from %s before the server confirmed the subscription",
                                          channel);
    bayeux_task_return_all (sub->waiting, gone);
  }
  bayeux_subscriptions_remove (self->subscriptions, channel);

  if (!known_to_server)
    {
      if (task != NULL)
        bayeux_task_return (task, NULL, NULL);
      return;
    }

  op = bayeux_outbox_new_op (self->outbox, BAYEUX_OP_UNSUBSCRIBE, "/meta/unsubscribe", channel, task);
  json_object_set_string_member (op->message, "subscription", channel);
  self->callbacks->enqueue (self->client, op);
}

/* Publishes @data (nullable: an empty object) on @channel; @task
 * (nullable) completes with the server's reply. */
void
bayeux_calls_publish (BayeuxCalls *self,
                      const char  *channel,
                      JsonNode    *data,
                      GTask       *task)
{
  GError *error = NULL;
  BayeuxOp *op;

  if (!bayeux_channel_validate (channel, BAYEUX_CHANNEL_NONE, &error))
    {
      bayeux_calls_fail (self, task, error);
      return;
    }

  op = bayeux_outbox_new_op (self->outbox, BAYEUX_OP_PUBLISH, NULL, channel, task);
  if (data != NULL)
    json_object_set_member (op->message, "data", bayeux_json_deep_copy (data));
  else
    json_object_set_object_member (op->message, "data", json_object_new ());
  self->callbacks->enqueue (self->client, op);
}

/* Completes @op, which will get no answer from the server: the client is
 * stopping, or its message cannot be sent. Fire-and-forget publishes
 * report through ::error; subscriptions through their waiting tasks (or
 * ::error when nobody waits). @op stays the caller's. */
void
bayeux_calls_drop (BayeuxCalls  *self,
                   BayeuxOp     *op,
                   const GError *error)
{
  switch (op->kind)
    {
    case BAYEUX_OP_PUBLISH:
      if (op->task != NULL)
        bayeux_task_return (op->task, NULL, g_error_copy (error));
      else
        self->callbacks->report (self->client,
                                 g_error_new (error->domain, error->code, "Publish to %s failed: %s", op->channel,
                                              error->message),
                                 NULL);
      break;

    case BAYEUX_OP_UNSUBSCRIBE:
      if (op->task != NULL)
        bayeux_task_return (op->task, NULL, g_error_copy (error));
      break;

    case BAYEUX_OP_SUBSCRIBE:
      {
        BayeuxSubEntry *sub = bayeux_subscriptions_lookup (self->subscriptions, op->channel);
        if (sub != NULL)
          sub->in_flight = FALSE;
      }
      break;

    case BAYEUX_OP_HANDSHAKE:
    case BAYEUX_OP_CONNECT:
    case BAYEUX_OP_DISCONNECT:
    default:
      break;
    }
}

/* A queued op that cannot be sent (too large, dropped by an extension):
 * its call fails; a subscription ends. Takes @op. */
void
bayeux_calls_unsendable (BayeuxCalls  *self,
                         BayeuxOp     *op,
                         const GError *error)
{
  if (op->kind == BAYEUX_OP_SUBSCRIBE)
    {
      BayeuxSubEntry *sub = bayeux_subscriptions_lookup (self->subscriptions, op->channel);
      if (sub != NULL)
        {
          if (sub->waiting->len == 0)
            self->callbacks->report (self->client, g_error_copy (error), NULL);
          bayeux_task_return_all (sub->waiting, error);
          bayeux_subscriptions_remove (self->subscriptions, op->channel);
        }
    }
  else if (op->kind == BAYEUX_OP_UNSUBSCRIBE && op->task == NULL)
    self->callbacks->report (self->client,
                             g_error_new (error->domain, error->code, "Unsubscribe from %s failed: %s", op->channel,
                                          error->message),
                             NULL);
  else
    bayeux_calls_drop (self, op, error);
  bayeux_op_free (op);
}

/* The reply to a /meta/subscribe of this session. */
void
bayeux_calls_subscribed (BayeuxCalls   *self,
                         BayeuxOp      *op,
                         BayeuxMessage *reply,
                         BayeuxVerdict  verdict)
{
  BayeuxSubEntry *sub = bayeux_subscriptions_lookup (self->subscriptions, op->channel);

  if (sub == NULL)
    return;
  if (verdict == BAYEUX_REPLY_OK)
    {
      sub->confirmed = TRUE;
      sub->in_flight = FALSE;
      bayeux_task_return_all (sub->waiting, NULL);
    }
  else if (verdict == BAYEUX_REPLY_UNKNOWN_CLIENT)
    sub->in_flight = FALSE;   /* sent again after the re-handshake */
  else
    {
      /* A server refusal ends the subscription. */
      g_autofree char *what = g_strdup_printf ("Subscription to %s refused", op->channel);
      g_autoptr(GError) error = bayeux_reply_error (reply, verdict, BAYEUX_ERROR_REFUSED, what);

      if (sub->waiting->len == 0)
        self->callbacks->report (self->client, g_error_copy (error), reply);
      bayeux_task_return_all (sub->waiting, error);
      bayeux_subscriptions_remove (self->subscriptions, op->channel);
    }
}

/* The reply to a /meta/unsubscribe. An unknown client has no subscription
 * left: that is success. */
void
bayeux_calls_unsubscribed (BayeuxCalls   *self,
                           BayeuxOp      *op,
                           BayeuxMessage *reply,
                           BayeuxVerdict  verdict)
{
  GError *error = NULL;

  if (verdict == BAYEUX_REPLY_REFUSED)
    {
      g_autofree char *what = g_strdup_printf ("Unsubscribe from %s refused", op->channel);
      error = bayeux_reply_error (reply, verdict, BAYEUX_ERROR_REFUSED, what);
    }

  if (op->task != NULL)
    bayeux_task_return (op->task, NULL, error);
  else if (error != NULL)
    self->callbacks->report (self->client, error, reply);
}

/* The reply to a publish. Returns TRUE when @op was taken over (queued
 * again: published under a session the server forgot, it leaves again with
 * the next one, when @may_resend) rather than done. */
gboolean
bayeux_calls_published (BayeuxCalls   *self,
                        BayeuxOp      *op,
                        BayeuxMessage *reply,
                        BayeuxVerdict  verdict,
                        gboolean       may_resend)
{
  GError *error;
  g_autofree char *what = NULL;

  if (verdict == BAYEUX_REPLY_OK)
    {
      bayeux_task_return (op->task, reply, NULL);
      return FALSE;
    }

  if (verdict == BAYEUX_REPLY_UNKNOWN_CLIENT && may_resend)
    {
      bayeux_outbox_push (self->outbox, op);
      return TRUE;
    }

  what = g_strdup_printf ("Publish to %s refused", op->channel);
  error = bayeux_reply_error (reply, verdict, BAYEUX_ERROR_REFUSED, what);
  if (op->task != NULL)
    bayeux_task_return (op->task, NULL, error);
  else
    self->callbacks->report (self->client, error, reply);
  return FALSE;
}
