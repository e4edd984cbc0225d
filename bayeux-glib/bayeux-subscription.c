/* bayeux-subscription.c: one subscriber's handle on a channel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A leaf of the client's rooms (see bayeux-glib/README.md): the rooms set
 * its state and hand it its messages; it reaches back to them only through
 * the release function they gave it, never by name.
 */
#include "bayeux-glib.h"
#include "bayeux-subscription-private.h"
#include "bayeux-context-private.h"
#include "bayeux-json-private.h"
#include "bayeux-task-private.h"

/**
 * BayeuxSubscription:
 *
 * One subscriber's handle on a channel, made by
 * [method@Client.add_subscription] or
 * [method@Client.add_subscription_async].
 *
 * Each call makes a new handle, so that the parts of an application
 * subscribe and unsubscribe independently: two handles on `/stocks/ACME`
 * share one subscription on the server, which is sent `/meta/subscribe`
 * once, and `/meta/unsubscribe` only when the last of them is cancelled.
 *
 * A handle follows the server's answer in its [property@Subscription:state]
 * (notified): pending, then subscribed (or refused, with
 * [property@Subscription:error]); pending again while a re-handshake
 * sends the subscription again; unsubscribed once cancelled. Its
 * [signal@Subscription::message] signal is emitted for each message of its
 * channel (or pattern), after the client's own
 * [signal@Client::message] handlers and listeners, which hear every
 * subscription however it was made.
 *
 * A handle stays live until [method@Subscription.cancel] (or its client is
 * disposed), whether or not the application keeps a reference: the
 * client's list of live handles ([method@Client.get_subscriptions])
 * holds one.
 *
 * Like its client, a handle is used from the thread that runs the main
 * context the client was created in.
 *
 * Since: 1.0
 */
struct _BayeuxSubscription
{
  GObject                  parent_instance;

  char                    *channel;
  BayeuxSubscriptionState  state;
  GError                  *error;
  guint64                  message_count;
  JsonNode                *ext;
  GMainContext            *context;
  BayeuxReleaseFunc        release;   /* NULL once final */
  gpointer                 owner;
};

G_DEFINE_FINAL_TYPE (BayeuxSubscription, bayeux_subscription, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CHANNEL,
  PROP_STATE,
  PROP_ERROR,
  PROP_MESSAGE_COUNT,
  PROP_EXT,
  N_PROPS
};

enum {
  SIGNAL_MESSAGE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* A subscription is used from its client's thread (see bayeux-context-private.h). */
#define SUBSCRIPTION_CHECK(self)                                        \
  G_STMT_START {                                                        \
    g_return_if_fail (BAYEUX_IS_SUBSCRIPTION (self));                   \
    BAYEUX_THREAD_CHECK ((self)->context);                              \
  } G_STMT_END

static void
bayeux_subscription_finalize (GObject *object)
{
  BayeuxSubscription *self = BAYEUX_SUBSCRIPTION (object);

  g_free (self->channel);
  g_clear_error (&self->error);
  g_clear_pointer (&self->ext, json_node_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (bayeux_subscription_parent_class)->finalize (object);
}

static void
bayeux_subscription_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  BayeuxSubscription *self = BAYEUX_SUBSCRIPTION (object);

  switch (prop_id)
    {
    case PROP_CHANNEL:
      g_value_set_string (value, self->channel);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    case PROP_MESSAGE_COUNT:
      g_value_set_uint64 (value, self->message_count);
      break;
    case PROP_EXT:
      g_value_set_boxed (value, self->ext);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bayeux_subscription_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  BayeuxSubscription *self = BAYEUX_SUBSCRIPTION (object);

  switch (prop_id)
    {
    case PROP_EXT:
      bayeux_subscription_set_ext (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bayeux_subscription_class_init (BayeuxSubscriptionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bayeux_subscription_finalize;
  object_class->get_property = bayeux_subscription_get_property;
  object_class->set_property = bayeux_subscription_set_property;

  /**
   * BayeuxSubscription:channel:
   *
   * The channel or pattern subscribed to.
   *
   * Since: 1.0
   */
  properties[PROP_CHANNEL] =
    g_param_spec_string ("channel", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxSubscription:state:
   *
   * Where the subscription stands: see [enum@SubscriptionState].
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, BAYEUX_TYPE_SUBSCRIPTION_STATE, BAYEUX_SUBSCRIPTION_STATE_PENDING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxSubscription:error:
   *
   * Why the subscription was refused (in %BAYEUX_ERROR), or the last
   * failure that put it back to pending; %NULL while all is well.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxSubscription:message-count:
   *
   * How many messages this handle has received
   * ([signal@Subscription::message] emissions). Notified once per
   * message. A server that sends one copy of a message per matching
   * subscription (cometd-nodejs-server) makes overlapping subscriptions
   * (`/a/*` and `/a/b`) count each copy: see "Messages delivered twice"
   * in [class@Client].
   *
   * Since: 1.0
   */
  properties[PROP_MESSAGE_COUNT] =
    g_param_spec_uint64 ("message-count", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxSubscription:ext:
   *
   * A JSON object sent as the `ext` of every `/meta/subscribe` this
   * subscription's channel is sent with (the first, and each one after a
   * re-handshake), merged with the `ext` of the other live handles on the
   * channel (the newer handle's members win) and then with what
   * extensions add. %NULL: none. A change applies from the next
   * `/meta/subscribe` on. A handle that joins a channel already
   * subscribed (or being subscribed) sends nothing of its own: its `ext`
   * leaves with the next re-subscription.
   *
   * Since: 1.0
   */
  properties[PROP_EXT] =
    g_param_spec_boxed ("ext", NULL, NULL, JSON_TYPE_NODE,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BayeuxSubscription::message:
   * @self: the subscription
   * @message: the message
   *
   * Emitted for each message that arrives on the subscription's channel
   * (or that matches its pattern), after the client's
   * [signal@Client::message] handlers and listeners.
   *
   * Since: 1.0
   */
  signals[SIGNAL_MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, BAYEUX_TYPE_MESSAGE);
}

static void
bayeux_subscription_init (BayeuxSubscription *self)
{
  self->state = BAYEUX_SUBSCRIPTION_STATE_PENDING;
}

/* A pending handle on @channel, with @ext (nullable, an object node,
 * copied), used from @context; @release ends it at the application's
 * request. Returns: (transfer full) */
BayeuxSubscription *
bayeux_subscription_new (const char        *channel,
                         JsonNode          *ext,
                         GMainContext      *context,
                         BayeuxReleaseFunc  release,
                         gpointer           owner)
{
  BayeuxSubscription *self = g_object_new (BAYEUX_TYPE_SUBSCRIPTION, NULL);

  self->channel = g_strdup (channel);
  self->ext = ext != NULL ? bayeux_json_deep_copy (ext) : NULL;
  self->context = context != NULL ? g_main_context_ref (context) : NULL;
  self->release = release;
  self->owner = owner;
  return self;
}

/* Moves @self to @state (a final state lets go of the owner), with
 * @error (nullable, copied) as its error; notifies what changed. */
void
bayeux_subscription_set_state (BayeuxSubscription      *self,
                               BayeuxSubscriptionState  state,
                               const GError            *error)
{
  gboolean error_changed = (error != NULL || self->error != NULL);

  if (self->state == BAYEUX_SUBSCRIPTION_STATE_REFUSED || self->state == BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED)
    return;   /* final */

  g_object_freeze_notify (G_OBJECT (self));
  if (error_changed)
    {
      g_clear_error (&self->error);
      self->error = error != NULL ? g_error_copy (error) : NULL;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
    }
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  if (state == BAYEUX_SUBSCRIPTION_STATE_REFUSED || state == BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED)
    {
      self->release = NULL;
      self->owner = NULL;
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/* Hands @message to the handle's ::message handlers. */
void
bayeux_subscription_deliver (BayeuxSubscription *self,
                             BayeuxMessage      *message)
{
  if (self->release == NULL)
    return;   /* cancelled during this dispatch */
  self->message_count++;
  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE_COUNT]);
}

/* The handle's ext (transfer none, nullable). */
JsonNode *
bayeux_subscription_peek_ext (BayeuxSubscription *self)
{
  return self->ext;
}

/**
 * bayeux_subscription_get_channel:
 * @self: a subscription
 *
 * Gets [property@Subscription:channel].
 *
 * Returns: the channel or pattern
 *
 * Since: 1.0
 */
const char *
bayeux_subscription_get_channel (BayeuxSubscription *self)
{
  g_return_val_if_fail (BAYEUX_IS_SUBSCRIPTION (self), NULL);

  return self->channel;
}

/**
 * bayeux_subscription_get_state:
 * @self: a subscription
 *
 * Gets [property@Subscription:state].
 *
 * Returns: the state
 *
 * Since: 1.0
 */
BayeuxSubscriptionState
bayeux_subscription_get_state (BayeuxSubscription *self)
{
  g_return_val_if_fail (BAYEUX_IS_SUBSCRIPTION (self), BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED);

  return self->state;
}

/**
 * bayeux_subscription_get_error:
 * @self: a subscription
 *
 * Gets [property@Subscription:error].
 *
 * Returns: (transfer none) (nullable): why it was refused, or %NULL
 *
 * Since: 1.0
 */
const GError *
bayeux_subscription_get_error (BayeuxSubscription *self)
{
  g_return_val_if_fail (BAYEUX_IS_SUBSCRIPTION (self), NULL);

  return self->error;
}

/**
 * bayeux_subscription_get_message_count:
 * @self: a subscription
 *
 * Gets [property@Subscription:message-count].
 *
 * Returns: how many messages the handle received
 *
 * Since: 1.0
 */
guint64
bayeux_subscription_get_message_count (BayeuxSubscription *self)
{
  g_return_val_if_fail (BAYEUX_IS_SUBSCRIPTION (self), 0);

  return self->message_count;
}

/**
 * bayeux_subscription_get_ext:
 * @self: a subscription
 *
 * Gets [property@Subscription:ext].
 *
 * Returns: (transfer none) (nullable): the `ext` object, or %NULL
 *
 * Since: 1.0
 */
JsonNode *
bayeux_subscription_get_ext (BayeuxSubscription *self)
{
  g_return_val_if_fail (BAYEUX_IS_SUBSCRIPTION (self), NULL);

  return self->ext;
}

/**
 * bayeux_subscription_set_ext:
 * @self: a subscription
 * @ext: (nullable): a JSON object node, copied; %NULL: none
 *
 * Sets [property@Subscription:ext], sent from the next `/meta/subscribe`
 * of the channel on.
 *
 * Since: 1.0
 */
void
bayeux_subscription_set_ext (BayeuxSubscription *self,
                             JsonNode           *ext)
{
  SUBSCRIPTION_CHECK (self);
  g_return_if_fail (ext == NULL || JSON_NODE_HOLDS_OBJECT (ext));

  if (ext == NULL && self->ext == NULL)
    return;
  g_clear_pointer (&self->ext, json_node_unref);
  self->ext = ext != NULL ? bayeux_json_deep_copy (ext) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXT]);
}

/**
 * bayeux_subscription_is_active:
 * @self: a subscription
 *
 * Whether the handle is live: pending or subscribed, not yet refused or
 * cancelled.
 *
 * Returns: %TRUE while the handle is live
 *
 * Since: 1.0
 */
gboolean
bayeux_subscription_is_active (BayeuxSubscription *self)
{
  g_return_val_if_fail (BAYEUX_IS_SUBSCRIPTION (self), FALSE);

  return self->state == BAYEUX_SUBSCRIPTION_STATE_PENDING || self->state == BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED;
}

/**
 * bayeux_subscription_cancel:
 * @self: a subscription
 *
 * Ends this handle at once: its [signal@Subscription::message] is not
 * emitted again, it leaves the client's list of subscriptions, and its
 * state becomes %BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED. The server is
 * sent `/meta/unsubscribe` only when this was the last handle on its
 * channel; a failure of that is reported through [signal@Client::error].
 * Cancelling a handle that is no longer live does nothing.
 *
 * Since: 1.0
 */
void
bayeux_subscription_cancel (BayeuxSubscription *self)
{
  SUBSCRIPTION_CHECK (self);

  if (self->release != NULL)
    self->release (self->owner, self, NULL);
}

/**
 * bayeux_subscription_unsubscribe_async:
 * @self: a subscription
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the server answered
 * @user_data: data for @callback
 *
 * Cancels the handle as [method@Subscription.cancel] does, and completes
 * when the server confirmed the `/meta/unsubscribe` (at once when other
 * handles still hold the channel, or when the server never knew of it).
 * Fails with %BAYEUX_ERROR_FAILED when the handle was no longer live.
 * Cancelling @cancellable only stops waiting.
 *
 * Since: 1.0
 */
void
bayeux_subscription_unsubscribe_async (BayeuxSubscription  *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  SUBSCRIPTION_CHECK (self);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = bayeux_task_new (self, bayeux_subscription_unsubscribe_async, FALSE, cancellable, callback, user_data);
  if (self->release != NULL)
    self->release (self->owner, self, task);
  else
    bayeux_task_return (task, NULL, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_FAILED,
                                                 "The subscription to %s is not live", self->channel));
}

/**
 * bayeux_subscription_unsubscribe_finish:
 * @self: a subscription
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Subscription.unsubscribe_async]. Fails with
 * %BAYEUX_ERROR_FAILED when the handle was no longer live, with
 * %BAYEUX_ERROR_REFUSED and the server's error string when the server
 * refused the `/meta/unsubscribe`, with %BAYEUX_ERROR_DISCONNECTED when
 * the client stopped before the answer (the handle has ended anyway).
 *
 * Returns: %TRUE if the handle ended and the server (when told) confirmed
 *
 * Since: 1.0
 */
gboolean
bayeux_subscription_unsubscribe_finish (BayeuxSubscription *self,
                                        GAsyncResult       *result,
                                        GError            **error)
{
  g_return_val_if_fail (BAYEUX_IS_SUBSCRIPTION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bayeux_subscription_unsubscribe_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
