/* bayeux-timesync-extension.c: CometD's clock synchronization extension
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The protocol (the `timesync` member of `ext`, on /meta/ messages):
 *
 *   client → {tc, l, o}      tc: the client's clock when it sent the
 *                            message (ms since the epoch); l, o: its current
 *                            estimates of the lag and the offset
 *   server → {tc, ts, p, a}  tc echoed; ts: the server's clock when it
 *                            received the message; p: how long it kept the
 *                            message before answering (a long poll);
 *                            a: tc + o + l - ts, how far off the client's
 *                            estimates were
 *
 * With a symmetric network, one way takes lag = (round trip - p) / 2, and
 * ts = tc + offset + lag, so offset = ts - tc - lag. Each reply gives a
 * sample; the properties are the means of the last MAX_SAMPLES.
 *
 * The round trip is measured on the monotonic clock, from the sending of
 * the message with the same id and tc (a reply to anything else gives no
 * sample): a jump of the wall clock during a long poll does not skew it.
 */
#include "bayeux-glib.h"
#include "bayeux-json-private.h"

#include <math.h>

#define MAX_SAMPLES 10
/* Sent messages remembered for their replies; more are rarely in flight
 * (a /meta/connect, and a few /meta/subscribe). */
#define MAX_STAMPS  16
/* JavaScript's largest exact integer: larger times or durations are not
 * the server's clock. */
#define MAX_TIME    G_GINT64_CONSTANT (9007199254740991)

/**
 * BayeuxTimesyncExtension:
 *
 * CometD's clock synchronization extension, client side: with a server
 * that has the matching server-side extension (CometD's
 * `TimesyncExtension`), it estimates how far the server's clock is from
 * ours ([property@TimesyncExtension:offset]) and how long a message takes
 * to reach the server ([property@TimesyncExtension:lag]).
 *
 * ```c
 * g_autoptr(BayeuxTimesyncExtension) timesync = bayeux_timesync_extension_new ();
 * bayeux_client_add_extension (client, BAYEUX_EXTENSION (timesync));
 * …
 * gint64 server_now = bayeux_timesync_extension_get_server_time (timesync);
 * ```
 *
 * ```python
 * timesync = Bayeux.TimesyncExtension.new()
 * client.add_extension(timesync)
 * timesync.connect("notify::offset", lambda ext, _: print(ext.props.offset))
 * ```
 *
 * Each `/meta/` message carries the client's clock and its current
 * estimates; each reply with the server's clock gives a sample, and the
 * properties are the means of the last ten samples, in milliseconds. The
 * estimates assume the network is as fast both ways. CometD's server
 * answers only when the client's estimates are off by more than its
 * accuracy target (25 ms by default): the properties then stay as they
 * are. A server without the extension ignores it: both properties stay 0.
 *
 * An extension is added to one client at a time (the samples are those of
 * one server).
 *
 * Since: 1.0
 */

typedef struct
{
  char   *id;        /* of the message sent */
  gint64  tc;        /* wall clock, ms since the epoch */
  gint64  sent_at;   /* monotonic µs */
} Stamp;

struct _BayeuxTimesyncExtension
{
  GObject  parent_instance;

  GArray  *stamps;                /* Stamp, oldest first */
  gdouble  lags[MAX_SAMPLES];
  gdouble  offsets[MAX_SAMPLES];
  guint    n_samples;
  guint    next_sample;           /* ring position */
  gint64   lag;
  gint64   offset;
};

static void bayeux_timesync_extension_iface_init (BayeuxExtensionInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BayeuxTimesyncExtension, bayeux_timesync_extension, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BAYEUX_TYPE_EXTENSION,
                                                      bayeux_timesync_extension_iface_init))

enum {
  PROP_0,
  PROP_OFFSET,
  PROP_LAG,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
stamp_clear (gpointer data)
{
  Stamp *stamp = data;

  g_free (stamp->id);
}

static gboolean
is_meta (const char *channel)
{
  return channel != NULL && g_str_has_prefix (channel, "/meta/");
}

static gint64
round_ms (gdouble value)
{
  return (gint64) CLAMP (round (value), (gdouble) -MAX_TIME, (gdouble) MAX_TIME);
}

static void
set_estimates (BayeuxTimesyncExtension *self,
               gint64                   lag,
               gint64                   offset)
{
  GObject *object = G_OBJECT (self);

  g_object_freeze_notify (object);
  if (self->lag != lag)
    {
      self->lag = lag;
      g_object_notify_by_pspec (object, properties[PROP_LAG]);
    }
  if (self->offset != offset)
    {
      self->offset = offset;
      g_object_notify_by_pspec (object, properties[PROP_OFFSET]);
    }
  g_object_thaw_notify (object);
}

static void
add_sample (BayeuxTimesyncExtension *self,
            gdouble                  lag,
            gdouble                  offset)
{
  gdouble lags = 0, offsets = 0;

  self->lags[self->next_sample] = lag;
  self->offsets[self->next_sample] = offset;
  self->next_sample = (self->next_sample + 1) % MAX_SAMPLES;
  self->n_samples = MIN (self->n_samples + 1, MAX_SAMPLES);

  for (guint i = 0; i < self->n_samples; i++)
    {
      lags += self->lags[i];
      offsets += self->offsets[i];
    }
  g_debug ("timesync: sample lag %.1f ms, offset %.1f ms", lag, offset);
  set_estimates (self, round_ms (lags / self->n_samples), round_ms (offsets / self->n_samples));
}

static BayeuxExtensionResult
bayeux_timesync_extension_outgoing (BayeuxExtension *extension,
                                    BayeuxClient    *client,
                                    JsonObject      *message)
{
  BayeuxTimesyncExtension *self = BAYEUX_TIMESYNC_EXTENSION (extension);
  JsonObject *ext, *timesync;
  const char *id;
  Stamp stamp;

  if (!is_meta (bayeux_json_get_string (message, "channel")))
    return BAYEUX_EXTENSION_CONTINUE;
  ext = bayeux_json_ensure_object (message, "ext");
  if (ext == NULL)
    return BAYEUX_EXTENSION_CONTINUE;

  stamp.tc = g_get_real_time () / 1000;
  stamp.sent_at = g_get_monotonic_time ();
  timesync = json_object_new ();
  json_object_set_int_member (timesync, "tc", stamp.tc);
  json_object_set_int_member (timesync, "l", self->lag);
  json_object_set_int_member (timesync, "o", self->offset);
  json_object_set_object_member (ext, "timesync", timesync);

  /* Remembered for its reply, by id; a message sent again replaces its
   * earlier sending. */
  id = bayeux_json_get_string (message, "id");
  if (id == NULL)
    return BAYEUX_EXTENSION_CONTINUE;
  for (guint i = 0; i < self->stamps->len; i++)
    if (g_str_equal (g_array_index (self->stamps, Stamp, i).id, id))
      {
        g_array_remove_index (self->stamps, i);
        break;
      }
  if (self->stamps->len >= MAX_STAMPS)
    g_array_remove_index (self->stamps, 0);
  stamp.id = g_strdup (id);
  g_array_append_val (self->stamps, stamp);

  return BAYEUX_EXTENSION_CONTINUE;
}

static BayeuxExtensionResult
bayeux_timesync_extension_incoming (BayeuxExtension *extension,
                                    BayeuxClient    *client,
                                    JsonObject      *message)
{
  BayeuxTimesyncExtension *self = BAYEUX_TIMESYNC_EXTENSION (extension);
  JsonObject *timesync;
  const char *id;
  gint64 now = g_get_monotonic_time ();
  gint64 sent_tc, tc, ts, p;
  gdouble round_trip, lag;
  guint i;

  if (!is_meta (bayeux_json_get_string (message, "channel")))
    return BAYEUX_EXTENSION_CONTINUE;
  id = bayeux_json_get_string (message, "id");
  if (id == NULL)
    return BAYEUX_EXTENSION_CONTINUE;

  for (i = 0; i < self->stamps->len; i++)
    if (g_str_equal (g_array_index (self->stamps, Stamp, i).id, id))
      break;
  if (i == self->stamps->len)
    return BAYEUX_EXTENSION_CONTINUE;   /* not a reply to a message we stamped */

  /* A message has one reply. */
  sent_tc = g_array_index (self->stamps, Stamp, i).tc;
  round_trip = (now - g_array_index (self->stamps, Stamp, i).sent_at) / 1000.0;
  g_array_remove_index (self->stamps, i);

  timesync = bayeux_json_get_object (bayeux_json_get_object (message, "ext"), "timesync");
  if (timesync == NULL)
    return BAYEUX_EXTENSION_CONTINUE;   /* no timesync, or our estimates are accurate enough */
  if (!bayeux_json_get_int (timesync, "tc", &tc) ||
      !bayeux_json_get_int (timesync, "ts", &ts) ||
      !bayeux_json_get_int (timesync, "p", &p) ||
      tc != sent_tc || ts < 0 || ts > MAX_TIME || p < 0 || p > MAX_TIME)
    {
      g_debug ("timesync: a reply on %s with a bad ext.timesync; ignored",
               bayeux_json_get_string (message, "channel"));
      return BAYEUX_EXTENSION_CONTINUE;
    }

  /* p longer than the round trip: the clocks run at different rates, or
   * the server lies; the lag cannot be negative. */
  lag = MAX ((round_trip - (gdouble) p) / 2.0, 0.0);
  add_sample (self, lag, (gdouble) ts - (gdouble) tc - lag);

  return BAYEUX_EXTENSION_CONTINUE;
}

static void
bayeux_timesync_extension_removed (BayeuxExtension *extension,
                                   BayeuxClient    *client)
{
  BayeuxTimesyncExtension *self = BAYEUX_TIMESYNC_EXTENSION (extension);

  /* The samples were of that client's server. */
  g_array_set_size (self->stamps, 0);
  self->n_samples = 0;
  self->next_sample = 0;
  set_estimates (self, 0, 0);
}

static void
bayeux_timesync_extension_iface_init (BayeuxExtensionInterface *iface)
{
  iface->outgoing = bayeux_timesync_extension_outgoing;
  iface->incoming = bayeux_timesync_extension_incoming;
  iface->removed = bayeux_timesync_extension_removed;
}

static void
bayeux_timesync_extension_finalize (GObject *object)
{
  BayeuxTimesyncExtension *self = BAYEUX_TIMESYNC_EXTENSION (object);

  g_array_unref (self->stamps);

  G_OBJECT_CLASS (bayeux_timesync_extension_parent_class)->finalize (object);
}

static void
bayeux_timesync_extension_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  BayeuxTimesyncExtension *self = BAYEUX_TIMESYNC_EXTENSION (object);

  switch (prop_id)
    {
    case PROP_OFFSET:
      g_value_set_int64 (value, self->offset);
      break;
    case PROP_LAG:
      g_value_set_int64 (value, self->lag);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bayeux_timesync_extension_class_init (BayeuxTimesyncExtensionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bayeux_timesync_extension_finalize;
  object_class->get_property = bayeux_timesync_extension_get_property;

  /**
   * BayeuxTimesyncExtension:offset:
   *
   * How far ahead of the local clock the server's clock is, in
   * milliseconds (negative when it is behind): the server's time is the
   * local time plus the offset. 0 until the server answered with its time.
   *
   * Since: 1.0
   */
  properties[PROP_OFFSET] =
    g_param_spec_int64 ("offset", NULL, NULL, -MAX_TIME, MAX_TIME, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxTimesyncExtension:lag:
   *
   * How long a message takes to reach the server, in milliseconds: half of
   * a round trip, without the time the server kept the message (a long
   * poll). 0 until the server answered with its time.
   *
   * Since: 1.0
   */
  properties[PROP_LAG] =
    g_param_spec_int64 ("lag", NULL, NULL, 0, MAX_TIME, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bayeux_timesync_extension_init (BayeuxTimesyncExtension *self)
{
  self->stamps = g_array_new (FALSE, FALSE, sizeof (Stamp));
  g_array_set_clear_func (self->stamps, stamp_clear);
}

/**
 * bayeux_timesync_extension_new:
 *
 * Creates a clock synchronization extension, to add to a client with
 * [method@Client.add_extension].
 *
 * Returns: (transfer full): a new extension
 *
 * Since: 1.0
 */
BayeuxTimesyncExtension *
bayeux_timesync_extension_new (void)
{
  return g_object_new (BAYEUX_TYPE_TIMESYNC_EXTENSION, NULL);
}

/**
 * bayeux_timesync_extension_get_offset:
 * @self: a clock synchronization extension
 *
 * Gets [property@TimesyncExtension:offset].
 *
 * Returns: how far ahead of the local clock the server's clock is, in
 *   milliseconds
 *
 * Since: 1.0
 */
gint64
bayeux_timesync_extension_get_offset (BayeuxTimesyncExtension *self)
{
  g_return_val_if_fail (BAYEUX_IS_TIMESYNC_EXTENSION (self), 0);

  return self->offset;
}

/**
 * bayeux_timesync_extension_get_lag:
 * @self: a clock synchronization extension
 *
 * Gets [property@TimesyncExtension:lag].
 *
 * Returns: how long a message takes to reach the server, in milliseconds
 *
 * Since: 1.0
 */
gint64
bayeux_timesync_extension_get_lag (BayeuxTimesyncExtension *self)
{
  g_return_val_if_fail (BAYEUX_IS_TIMESYNC_EXTENSION (self), 0);

  return self->lag;
}

/**
 * bayeux_timesync_extension_get_server_time:
 * @self: a clock synchronization extension
 *
 * Estimates the server's clock now: the local clock plus
 * [property@TimesyncExtension:offset].
 *
 * Returns: the server's time, in milliseconds since the Unix epoch
 *
 * Since: 1.0
 */
gint64
bayeux_timesync_extension_get_server_time (BayeuxTimesyncExtension *self)
{
  g_return_val_if_fail (BAYEUX_IS_TIMESYNC_EXTENSION (self), 0);

  return g_get_real_time () / 1000 + self->offset;
}
