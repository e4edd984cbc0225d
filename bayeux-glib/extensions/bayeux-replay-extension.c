/* bayeux-replay-extension.c: the Salesforce Streaming API replay extension
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The protocol (the `replay` member of `ext`):
 *
 *   client → /meta/handshake   ext.replay = true
 *   client → /meta/subscribe   ext.replay = {"<subscription>": <replay id>}
 *   server → each event        data.event.replayId = <its replay id>
 *
 * The server keeps the events of a channel for a while, each with a replay
 * id that grows; a subscription with a replay id gets the kept events after
 * that id first, then the new ones. -1 asks for the new ones only, -2 for
 * all those kept.
 */
#include "bayeux-glib.h"
#include "bayeux-json-private.h"

/**
 * BayeuxReplayExtension:
 *
 * The replay extension of the Salesforce Streaming API (and of servers
 * made like it): the client remembers the replay id of the last event
 * received on each channel, and subscribes again from there after a
 * reconnection or a new handshake, so that no event is missed while it
 * was away.
 *
 * ```c
 * g_autoptr(BayeuxReplayExtension) replay = bayeux_replay_extension_new ();
 * // Where the application stopped last time, if it keeps it.
 * bayeux_replay_extension_set_replay_id (replay, "/data/AccountChangeEvent", saved_id);
 * bayeux_client_add_extension (client, BAYEUX_EXTENSION (replay));
 * bayeux_client_subscribe (client, "/data/AccountChangeEvent");
 * ```
 *
 * ```python
 * replay = Bayeux.ReplayExtension.new()
 * replay.props.default_replay_id = Bayeux.REPLAY_ALL_EVENTS
 * client.add_extension(replay)
 * ```
 *
 * The handshake carries `ext.replay = true`. Each `/meta/subscribe`
 * carries `ext.replay = {"<subscription>": <replay id>}`, the replay id
 * being, for that subscription: the one of the last event received on it,
 * else the one given with [method@ReplayExtension.set_replay_id], else
 * [property@ReplayExtension:default-replay-id]. The client subscribes
 * again after each new handshake, so this is how a subscription picks up
 * where it left off.
 *
 * An event's replay id is read from its `data.event.replayId` (an
 * integer), where Salesforce puts it, and remembered under the channel
 * the event came on. Replay ids are per channel: a wildcard subscription
 * (which Salesforce does not allow) has only the replay id given to it
 * with [method@ReplayExtension.set_replay_id].
 *
 * To resume after the application restarts, save the replay ids
 * ([method@ReplayExtension.get_replay_id], say when the application
 * quits) and give them back before subscribing.
 *
 * Since: 1.0
 */

struct _BayeuxReplayExtension
{
  GObject     parent_instance;

  GHashTable *replay_ids;          /* channel → gint64* */
  gint64      default_replay_id;
};

static void bayeux_replay_extension_iface_init (BayeuxExtensionInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BayeuxReplayExtension, bayeux_replay_extension, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BAYEUX_TYPE_EXTENSION,
                                                      bayeux_replay_extension_iface_init))

enum {
  PROP_0,
  PROP_DEFAULT_REPLAY_ID,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
remember (BayeuxReplayExtension *self,
          const char            *channel,
          gint64                 replay_id)
{
  gint64 *value = g_hash_table_lookup (self->replay_ids, channel);

  if (value == NULL)
    {
      value = g_new (gint64, 1);
      g_hash_table_insert (self->replay_ids, g_strdup (channel), value);
    }
  *value = replay_id;
}

static BayeuxExtensionResult
bayeux_replay_extension_outgoing (BayeuxExtension *extension,
                                  BayeuxClient    *client,
                                  JsonObject      *message)
{
  BayeuxReplayExtension *self = BAYEUX_REPLAY_EXTENSION (extension);
  const char *channel = bayeux_json_get_string (message, "channel");
  JsonObject *ext;

  if (g_strcmp0 (channel, "/meta/handshake") == 0)
    {
      ext = bayeux_json_ensure_object (message, "ext");
      if (ext != NULL)
        json_object_set_boolean_member (ext, "replay", TRUE);
    }
  else if (g_strcmp0 (channel, "/meta/subscribe") == 0)
    {
      const char *subscription = bayeux_json_get_string (message, "subscription");
      JsonObject *replay;
      gint64 replay_id;

      if (subscription == NULL)
        return BAYEUX_EXTENSION_CONTINUE;
      ext = bayeux_json_ensure_object (message, "ext");
      if (ext == NULL)
        return BAYEUX_EXTENSION_CONTINUE;
      bayeux_replay_extension_get_replay_id (self, subscription, &replay_id);
      replay = json_object_new ();
      json_object_set_int_member (replay, subscription, replay_id);
      json_object_set_object_member (ext, "replay", replay);
      g_debug ("replay: subscribing %s from replay id %" G_GINT64_FORMAT, subscription, replay_id);
    }

  return BAYEUX_EXTENSION_CONTINUE;
}

static BayeuxExtensionResult
bayeux_replay_extension_incoming (BayeuxExtension *extension,
                                  BayeuxClient    *client,
                                  JsonObject      *message)
{
  BayeuxReplayExtension *self = BAYEUX_REPLAY_EXTENSION (extension);
  const char *channel = bayeux_json_get_string (message, "channel");
  JsonObject *event;
  gint64 replay_id;

  /* Deliveries only: not the protocol's replies. */
  if (channel == NULL || g_str_has_prefix (channel, "/meta/") ||
      json_object_has_member (message, "successful"))
    return BAYEUX_EXTENSION_CONTINUE;

  event = bayeux_json_get_object (bayeux_json_get_object (message, "data"), "event");
  if (event != NULL && bayeux_json_get_int (event, "replayId", &replay_id))
    remember (self, channel, replay_id);

  return BAYEUX_EXTENSION_CONTINUE;
}

static void
bayeux_replay_extension_iface_init (BayeuxExtensionInterface *iface)
{
  iface->outgoing = bayeux_replay_extension_outgoing;
  iface->incoming = bayeux_replay_extension_incoming;
}

static void
bayeux_replay_extension_finalize (GObject *object)
{
  BayeuxReplayExtension *self = BAYEUX_REPLAY_EXTENSION (object);

  g_hash_table_unref (self->replay_ids);

  G_OBJECT_CLASS (bayeux_replay_extension_parent_class)->finalize (object);
}

static void
bayeux_replay_extension_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  BayeuxReplayExtension *self = BAYEUX_REPLAY_EXTENSION (object);

  switch (prop_id)
    {
    case PROP_DEFAULT_REPLAY_ID:
      g_value_set_int64 (value, self->default_replay_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bayeux_replay_extension_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  BayeuxReplayExtension *self = BAYEUX_REPLAY_EXTENSION (object);

  switch (prop_id)
    {
    case PROP_DEFAULT_REPLAY_ID:
      bayeux_replay_extension_set_default_replay_id (self, g_value_get_int64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bayeux_replay_extension_class_init (BayeuxReplayExtensionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bayeux_replay_extension_finalize;
  object_class->get_property = bayeux_replay_extension_get_property;
  object_class->set_property = bayeux_replay_extension_set_property;

  /**
   * BayeuxReplayExtension:default-replay-id:
   *
   * The replay id of a subscription to a channel that has none yet (no
   * event received on it, none given with
   * [method@ReplayExtension.set_replay_id]): %BAYEUX_REPLAY_NEW_EVENTS
   * (-1, the default) for the new events only, %BAYEUX_REPLAY_ALL_EVENTS
   * (-2) for all those the server keeps, or the replay id of an event to
   * get those after it.
   *
   * Since: 1.0
   */
  properties[PROP_DEFAULT_REPLAY_ID] =
    g_param_spec_int64 ("default-replay-id", NULL, NULL, BAYEUX_REPLAY_ALL_EVENTS, G_MAXINT64,
                        BAYEUX_REPLAY_NEW_EVENTS,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bayeux_replay_extension_init (BayeuxReplayExtension *self)
{
  self->replay_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->default_replay_id = BAYEUX_REPLAY_NEW_EVENTS;
}

/**
 * bayeux_replay_extension_new:
 *
 * Creates a replay extension, to add to a client with
 * [method@Client.add_extension].
 *
 * Returns: (transfer full): a new extension
 *
 * Since: 1.0
 */
BayeuxReplayExtension *
bayeux_replay_extension_new (void)
{
  return g_object_new (BAYEUX_TYPE_REPLAY_EXTENSION, NULL);
}

/**
 * bayeux_replay_extension_get_default_replay_id:
 * @self: a replay extension
 *
 * Gets [property@ReplayExtension:default-replay-id].
 *
 * Returns: the replay id of a subscription that has none yet
 *
 * Since: 1.0
 */
gint64
bayeux_replay_extension_get_default_replay_id (BayeuxReplayExtension *self)
{
  g_return_val_if_fail (BAYEUX_IS_REPLAY_EXTENSION (self), BAYEUX_REPLAY_NEW_EVENTS);

  return self->default_replay_id;
}

/**
 * bayeux_replay_extension_set_default_replay_id:
 * @self: a replay extension
 * @replay_id: %BAYEUX_REPLAY_NEW_EVENTS, %BAYEUX_REPLAY_ALL_EVENTS or the
 *   replay id of an event
 *
 * Sets [property@ReplayExtension:default-replay-id]: where a subscription
 * that has no replay id yet starts.
 *
 * Since: 1.0
 */
void
bayeux_replay_extension_set_default_replay_id (BayeuxReplayExtension *self,
                                               gint64                 replay_id)
{
  g_return_if_fail (BAYEUX_IS_REPLAY_EXTENSION (self));
  g_return_if_fail (replay_id >= BAYEUX_REPLAY_ALL_EVENTS);

  if (self->default_replay_id == replay_id)
    return;
  self->default_replay_id = replay_id;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFAULT_REPLAY_ID]);
}

/**
 * bayeux_replay_extension_get_replay_id:
 * @self: a replay extension
 * @channel: a channel, or a subscription
 * @replay_id: (out) (optional): where to store the replay id: the one of
 *   the last event received on @channel, or the one given with
 *   [method@ReplayExtension.set_replay_id], whichever came last; else
 *   [property@ReplayExtension:default-replay-id]
 *
 * Gets the replay id the next subscription to @channel would carry.
 *
 * Returns: %TRUE when @channel has a replay id of its own, %FALSE when
 *   @replay_id is the default one
 *
 * Since: 1.0
 */
gboolean
bayeux_replay_extension_get_replay_id (BayeuxReplayExtension *self,
                                       const char            *channel,
                                       gint64                *replay_id)
{
  gint64 *value;

  g_return_val_if_fail (BAYEUX_IS_REPLAY_EXTENSION (self), FALSE);
  g_return_val_if_fail (channel != NULL, FALSE);

  value = g_hash_table_lookup (self->replay_ids, channel);
  if (replay_id != NULL)
    *replay_id = value != NULL ? *value : self->default_replay_id;
  return value != NULL;
}

/**
 * bayeux_replay_extension_set_replay_id:
 * @self: a replay extension
 * @channel: a channel, or a subscription
 * @replay_id: the replay id of the last event the application has of
 *   @channel, or %BAYEUX_REPLAY_NEW_EVENTS or %BAYEUX_REPLAY_ALL_EVENTS
 *
 * Sets where the next subscription to @channel starts: after the event
 * with @replay_id. Set it before subscribing, say with a replay id saved
 * when the application last ran. The events received on @channel replace
 * it as they come.
 *
 * Since: 1.0
 */
void
bayeux_replay_extension_set_replay_id (BayeuxReplayExtension *self,
                                       const char            *channel,
                                       gint64                 replay_id)
{
  g_return_if_fail (BAYEUX_IS_REPLAY_EXTENSION (self));
  g_return_if_fail (channel != NULL && channel[0] == '/');
  g_return_if_fail (replay_id >= BAYEUX_REPLAY_ALL_EVENTS);

  remember (self, channel, replay_id);
}
