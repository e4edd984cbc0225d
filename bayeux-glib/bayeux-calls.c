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
#include "transports/bayeux-transport-private.h"

#include <string.h>

/* The server no longer knows our client id: "402::Unknown client" (the
 * Bayeux spec), any other 402 (CometD's strict WebSocket mode says
 * "402::session_unknown"), or a 401 or 403 that says "unknown client"
 * (Faye's "401:<id>:Unknown client", the Salesforce Streaming API's
 * "403::Unknown client"). */
static gboolean
is_unknown_client (BayeuxMessage *reply)
{
  const char *text = bayeux_message_get_error (reply);

  if (text == NULL)
    return FALSE;
  if (g_str_has_prefix (text, "402:"))
    return TRUE;
  if (g_str_has_prefix (text, "401:") || g_str_has_prefix (text, "403:"))
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

/* Whether a request failed because the server refused our credentials
 * (BayeuxClient::authenticate): an HTTP 401 answer (@transport_error, as
 * the long-polling transport words it), or a refusal that says 401
 * ("401::Authentication invalid", "401::Request requires authentication"
 * from the Salesforce Streaming API) and is not Faye's
 * "401:<id>:Unknown client" (@verdict is then UNKNOWN_CLIENT), or a
 * "403::Handshake denied" whose `ext.sfdc.failureReason` says 401. */
gboolean
bayeux_reply_refuses_credentials (BayeuxMessage *reply,
                                  BayeuxVerdict  verdict,
                                  const GError  *transport_error)
{
  const char *text;
  const char *reason;
  JsonObject *sfdc;

  if (transport_error != NULL)
    return bayeux_transport_error_has_status (transport_error, SOUP_STATUS_UNAUTHORIZED);
  if (verdict != BAYEUX_REPLY_REFUSED || (text = bayeux_message_get_error (reply)) == NULL)
    return FALSE;
  if (g_str_has_prefix (text, "401:"))
    return TRUE;
  sfdc = bayeux_message_get_ext (reply) ? bayeux_json_get_object (bayeux_message_get_ext (reply), "sfdc") : NULL;
  reason = sfdc != NULL ? bayeux_json_get_string (sfdc, "failureReason") : NULL;
  return g_str_has_prefix (text, "403:") && reason != NULL && g_str_has_prefix (reason, "401");
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
  const char *filter;

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
  /* A filtered channel ("/topic/X?Status__c=Open") may be named by its
   * base channel in the reply. */
  filter = strchr (op->channel, '?');
  if (named != NULL && filter != NULL && strlen (named) == (gsize) (filter - op->channel) &&
      strncmp (named, op->channel, filter - op->channel) == 0)
    return TRUE;

  g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
               "The reply to %s %s for %s is about another subscription: taken as no reply",
               json_object_get_string_member (op->message, "channel"), op->id, op->channel);
  return FALSE;
}

/* What @scanned (a message read by its envelope) or else @element, one message from the server (which came on the control
 * slot: @on_control), is: a delivery; a reply, matched to its request
 * (taken from the outbox); the late reply to a request given up; or bad,
 * with @error: not a message, a meta message without `successful`, a
 * reply that answers no request of ours or is about another subscription.
 * *@message (transfer full) is the message when it is one; *@op (transfer
 * full) the request a reply answers, or that a bad reply still ends (a
 * broken reply to one of ours, a mismatched one). @text (nullable): where
 * the element's text is, kept by the message (see get_data_json). */
BayeuxMatch
bayeux_calls_match (BayeuxCalls       *self,
                    BayeuxMessage     *scanned,
                    JsonNode          *element,
                    const BayeuxSpan  *text,
                    gboolean           on_control,
                    BayeuxMessage    **message,
                    BayeuxOp         **op,
                    GError           **error)
{
  const char *channel;

  *op = NULL;
  *message = scanned != NULL ? bayeux_message_ref (scanned) : bayeux_message_new_received (element, text, error);
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

/* A /meta/subscribe for @sub, with its handles' ext. Returns: (transfer
 * full): the op */
BayeuxOp *
bayeux_calls_subscribe_op (BayeuxCalls    *self,
                           BayeuxSubEntry *sub)
{
  BayeuxOp *op = bayeux_outbox_new_op (self->outbox, BAYEUX_OP_SUBSCRIBE, "/meta/subscribe", sub->channel, NULL);
  JsonNode *ext = bayeux_subscriptions_merged_ext (sub);

  json_object_set_string_member (op->message, "subscription", sub->channel);
  if (ext != NULL)
    json_object_set_member (op->message, "ext", ext);
  return op;
}

/* Fails the waiting calls of @sub made for @handle, with @error. */
static void
fail_waiting_for (BayeuxSubEntry     *sub,
                  BayeuxSubscription *handle,
                  const GError       *error)
{
  g_autoptr(GPtrArray) failed = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = sub->waiting->len; i > 0; i--)
    if (g_task_get_task_data (g_ptr_array_index (sub->waiting, i - 1)) == handle)
      g_ptr_array_add (failed, g_ptr_array_steal_index (sub->waiting, i - 1));
  bayeux_task_return_all (failed, error);
}

/* The failure of a call waiting on a subscription to @channel that the
 * application ended before the server answered. */
static GError *
unsubscribed_error (const char *channel)
{
  return g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_FAILED,
                      "Unsubscribed from %s before the server confirmed the subscription", channel);
}

/* Ends the whole subscription @sub at once (its last handle went): its
 * waiting calls fail; the server is told if it knows of it, and @task
 * (nullable) completes with its answer. */
static void
end_subscription (BayeuxCalls    *self,
                  BayeuxSubEntry *sub,
                  GTask          *task)
{
  g_autofree char *channel = g_strdup (sub->channel);
  gboolean known_to_server = (sub->confirmed || sub->in_flight) && self->callbacks->session_ready (self->client);
  BayeuxOp *op;

  {
    g_autoptr(GError) gone = unsubscribed_error (channel);
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

/* A BayeuxReleaseFunc: the application ends @handle (cancel, or
 * unsubscribe with @task). The subscription ends with its last handle. */
static void
release_handle (gpointer            owner,
                BayeuxSubscription *handle,
                GTask              *task)
{
  BayeuxCalls *self = owner;
  g_autofree char *channel = g_strdup (bayeux_subscription_get_channel (handle));
  BayeuxSubEntry *sub = bayeux_subscriptions_lookup (self->subscriptions, channel);

  g_object_ref (handle);   /* the entry may hold the last reference */
  if (sub != NULL && g_ptr_array_find (sub->handles, handle, NULL))
    {
      g_autoptr(GError) gone = unsubscribed_error (channel);

      fail_waiting_for (sub, handle, gone);
      bayeux_subscriptions_detach (self->subscriptions, sub, handle);
    }
  /* The model's and the handle's handlers have run: they may have
   * cancelled other handles, or subscribed anew. The subscription ends if
   * no handle holds it now. */
  bayeux_subscription_set_state (handle, BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED, NULL);
  sub = bayeux_subscriptions_lookup (self->subscriptions, channel);
  if (sub != NULL && sub->handles->len == 0)
    end_subscription (self, sub, task);
  else
    bayeux_task_return (task, NULL, NULL);   /* others still hold the channel, or it ended meanwhile */
  g_object_unref (handle);
}

static void subscribe_handle (BayeuxCalls *self, BayeuxSubEntry *sub, BayeuxSubscription *handle, GTask *task);

/* Attaches @handle (new) to @sub (held by the caller), then puts it to
 * work, unless a handler of the model cancelled it meanwhile: then @task
 * fails. */
static void
attach_and_subscribe (BayeuxCalls        *self,
                      BayeuxSubEntry     *sub,
                      BayeuxSubscription *handle,
                      GTask              *task)
{
  bayeux_subscriptions_attach (self->subscriptions, sub, handle);
  if (!bayeux_subscription_is_active (handle))
    {
      bayeux_task_return (task, NULL, unsubscribed_error (sub->channel));
      return;
    }
  subscribe_handle (self, sub, handle, task);
}

/* An add_subscription_async call that failed (refused, cancelled, the
 * client stopped) ends the handle it made, which its caller never gets,
 * whether or not the _finish function is called. */
static void
on_add_completed (GObject    *task,
                  GParamSpec *pspec,
                  gpointer    user_data)
{
  BayeuxSubscription *handle = g_task_get_task_data (G_TASK (task));

  if (g_task_had_error (G_TASK (task)) && handle != NULL)
    bayeux_subscription_cancel (handle);
}

/* Puts @handle (new, on @sub) to work: confirmed at once if @sub is, else
 * pending, its /meta/subscribe sent if none is out and there is a
 * session; @task (nullable) completes with the server's answer. */
static void
subscribe_handle (BayeuxCalls        *self,
                  BayeuxSubEntry     *sub,
                  BayeuxSubscription *handle,
                  GTask              *task)
{
  if (sub->confirmed)
    {
      bayeux_subscription_set_state (handle, BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED, NULL);
      bayeux_task_return (task, NULL, NULL);
      return;
    }

  if (task != NULL)
    {
      if (g_task_get_task_data (task) == NULL)
        g_task_set_task_data (task, g_object_ref (handle), g_object_unref);
      g_ptr_array_add (sub->waiting, g_object_ref (task));
    }
  if (!sub->in_flight && self->callbacks->session_ready (self->client))
    {
      sub->in_flight = TRUE;
      self->callbacks->enqueue (self->client, bayeux_calls_subscribe_op (self, sub));
    }
}

/* Subscribes to @channel (bayeux_client_subscribe: one handle per channel,
 * made the first time); @task (nullable) completes with the server's
 * answer. Before a session, the subscription waits for one. */
void
bayeux_calls_subscribe (BayeuxCalls *self,
                        const char  *channel,
                        GTask       *task)
{
  GError *error = NULL;
  BayeuxSubEntry *sub;

  if (!bayeux_channel_validate (channel, BAYEUX_CHANNEL_ALLOW_WILDCARD | BAYEUX_CHANNEL_ALLOW_FILTER, &error))
    {
      bayeux_calls_fail (self, task, error);
      return;
    }

  sub = bayeux_sub_entry_ref (bayeux_subscriptions_add (self->subscriptions, channel));
  if (sub->legacy == NULL)
    {
      g_autoptr(BayeuxSubscription) handle = bayeux_subscription_new (channel, NULL, self->context, release_handle,
                                                                      self);
      sub->legacy = handle;
      attach_and_subscribe (self, sub, handle, task);
    }
  else
    subscribe_handle (self, sub, sub->legacy, task);
  bayeux_sub_entry_unref (sub);
}

/* A new handle on @channel, with @ext (nullable, an object) for its
 * /meta/subscribe; @task (nullable) completes with the server's answer.
 * A bad channel name makes a refused handle. Returns: (transfer full) */
BayeuxSubscription *
bayeux_calls_add_subscription (BayeuxCalls *self,
                               const char  *channel,
                               JsonNode    *ext,
                               GTask       *task)
{
  GError *error = NULL;
  BayeuxSubEntry *sub;
  BayeuxSubscription *handle;

  if (!bayeux_channel_validate (channel, BAYEUX_CHANNEL_ALLOW_WILDCARD | BAYEUX_CHANNEL_ALLOW_FILTER, &error))
    {
      handle = bayeux_subscription_new (channel, ext, self->context, NULL, NULL);
      bayeux_subscription_set_state (handle, BAYEUX_SUBSCRIPTION_STATE_REFUSED, error);
      bayeux_calls_fail (self, task, error);
      return handle;
    }

  sub = bayeux_sub_entry_ref (bayeux_subscriptions_add (self->subscriptions, channel));
  handle = bayeux_subscription_new (channel, ext, self->context, release_handle, self);
  if (task != NULL)
    {
      g_task_set_task_data (task, g_object_ref (handle), g_object_unref);
      g_signal_connect (task, "notify::completed", G_CALLBACK (on_add_completed), NULL);
    }
  attach_and_subscribe (self, sub, handle, task);
  bayeux_sub_entry_unref (sub);
  return handle;
}

/* Ends bayeux_client_subscribe()'s hold on @channel at once; the
 * subscription ends with its last handle, and the server is told if it
 * knows of it: @task (nullable) completes with its answer. */
void
bayeux_calls_unsubscribe (BayeuxCalls *self,
                          const char  *channel,
                          GTask       *task)
{
  GError *error = NULL;
  BayeuxSubEntry *sub;

  if (!bayeux_channel_validate (channel, BAYEUX_CHANNEL_ALLOW_WILDCARD | BAYEUX_CHANNEL_ALLOW_FILTER, &error))
    {
      bayeux_calls_fail (self, task, error);
      return;
    }

  sub = bayeux_subscriptions_lookup (self->subscriptions, channel);
  if (sub == NULL || sub->legacy == NULL)
    {
      bayeux_calls_fail (self, task,
                         g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_FAILED,
                                      sub == NULL ? "Not subscribed to %s"
                                                  : "Not subscribed to %s by bayeux_client_subscribe(): its "
                                                    "subscription handles end with bayeux_subscription_cancel()",
                                      channel));
      return;
    }
  release_handle (self, sub->legacy, task);
}

/* Queues the publish of @data (taken; NULL: an empty object) on
 * @channel, a valid one, with @ext (nullable, copied). */
static void
publish_take (BayeuxCalls *self,
              const char  *channel,
              JsonNode    *data,
              JsonNode    *ext,
              GTask       *task)
{
  BayeuxOp *op = bayeux_outbox_new_op (self->outbox, BAYEUX_OP_PUBLISH, NULL, channel, task);

  if (data != NULL)
    json_object_set_member (op->message, "data", data);
  else
    json_object_set_object_member (op->message, "data", json_object_new ());
  if (ext != NULL)
    json_object_set_member (op->message, "ext", bayeux_json_deep_copy (ext));
  self->callbacks->enqueue (self->client, op);
}

/* Publishes @data (nullable: an empty object) on @channel, with @ext
 * (nullable, an object) as its ext; @task (nullable) completes with the
 * server's reply. */
void
bayeux_calls_publish (BayeuxCalls *self,
                      const char  *channel,
                      JsonNode    *data,
                      JsonNode    *ext,
                      GTask       *task)
{
  GError *error = NULL;

  if (!bayeux_channel_validate (channel, BAYEUX_CHANNEL_NONE, &error))
    {
      bayeux_calls_fail (self, task, error);
      return;
    }
  publish_take (self, channel, data != NULL ? bayeux_json_deep_copy (data) : NULL, ext, task);
}

/* bayeux_calls_publish() of the data in @json, JSON text checked by our
 * parser first: invalid, the call fails with BAYEUX_ERROR_INVALID_JSON
 * and nothing is queued. */
void
bayeux_calls_publish_json (BayeuxCalls *self,
                           const char  *channel,
                           const char  *json,
                           GTask       *task)
{
  GError *error = NULL;
  JsonNode *data;

  if (!bayeux_channel_validate (channel, BAYEUX_CHANNEL_NONE, &error))
    {
      bayeux_calls_fail (self, task, error);
      return;
    }
  data = bayeux_json_parse_text (json, &error);
  if (data == NULL)
    {
      g_prefix_error (&error, "Publish to %s: ", channel);
      bayeux_calls_fail (self, task, error);
      return;
    }
  publish_take (self, channel, data, NULL, task);
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

/* The server refused @sub (or it cannot be sent): its waiting calls fail
 * and its handles are refused, with @error; it ends. */
static void
end_refused (BayeuxCalls    *self,
             BayeuxSubEntry *sub,
             const GError   *error)
{
  g_autofree char *channel = g_strdup (sub->channel);

  sub->confirmed = FALSE;
  sub->in_flight = FALSE;
  bayeux_task_return_all (sub->waiting, error);
  bayeux_subscriptions_set_state (self->subscriptions, sub, BAYEUX_SUBSCRIPTION_STATE_REFUSED, error);
  /* A handler of the refusal may have subscribed anew: that is a new
   * subscription, kept. */
  sub = bayeux_subscriptions_lookup (self->subscriptions, channel);
  if (sub != NULL && sub->handles->len == 0)
    bayeux_subscriptions_remove (self->subscriptions, channel);
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
          end_refused (self, sub, error);
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
      bayeux_subscriptions_set_state (self->subscriptions, sub, BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED, NULL);
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
      end_refused (self, sub, error);
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

/* A publish the server left unanswered (Bayeux 1.0: a server MAY respond
 * to a publish): it was sent, and that is all the client knows. Its call
 * completes without a reply message and without an error; a remote call
 * (its task marked BAYEUX_CALLS_NEEDS_REPLY), which needs the answer,
 * fails with @error.
 * Takes @op. */
void
bayeux_calls_unanswered (BayeuxCalls  *self,
                         BayeuxOp     *op,
                         const GError *error)
{
  g_debug ("publish %s to %s left unanswered by the server: taken as sent", op->id, op->channel);
  if (op->task != NULL && g_object_get_data (G_OBJECT (op->task), BAYEUX_CALLS_NEEDS_REPLY) != NULL)
    bayeux_task_return (op->task, NULL, g_error_copy (error));
  else
    bayeux_task_return (op->task, NULL, NULL);
  bayeux_op_free (op);
}
