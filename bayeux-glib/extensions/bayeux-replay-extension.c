/* bayeux-replay-extension.c: the Salesforce Streaming API replay extension
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The protocol (the `replay` member of `ext`):
 *
 *   client → /meta/handshake   ext.replay = true
 *   client → /meta/subscribe   ext.replay = {"<channel>": <replay id>}
 *   server → each event        data.event.replayId = <its replay id>
 *
 * The server keeps the events of a channel for a while, each with a replay
 * id that grows; a subscription with a replay id gets the kept events after
 * that id first, then the new ones. -1 asks for the new ones only, -2 for
 * all those kept.
 *
 * Filtered PushTopic subscriptions (`/topic/T?Field=value`): Salesforce
 * looks the replay id up under the base name `/topic/T` (its error for a
 * map keyed by the full name: "The replayId for channel {/topic/T} wasn't
 * found using the provided replay ID map {{/topic/T?Field='x'=-1}}",
 * jsforce issue 888), and its own EMP-Connector keys both its map and the
 * events it receives by the name without the query string. So do we: one
 * replay id per base channel.
 *
 * The state file: a GKeyFile, a group per channel with its replay id,
 * written at most once a second (a timer armed by the first change of a
 * batch), and at once on dispose, on a change of file, and on save().
 */
#include "bayeux-glib.h"
#include "bayeux-json-private.h"
#include "bayeux-context-private.h"
#include "bayeux-replay-extension-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_NONBLOCK
#define O_NONBLOCK 0
#endif

/* The batched writes: the first change arms a timer, the changes of the
 * next second ride along. */
#define STATE_WRITE_DELAY_MS 1000
/* What a state file may hold: a larger file or more channels are not a
 * state file of ours (a hostile or mistaken path), and are refused. */
#define STATE_MAX_BYTES      (1024 * 1024)
#define STATE_MAX_CHANNELS   4096
#define STATE_KEY            "replay-id"

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
 * g_autofree char *path = g_build_filename (g_get_user_state_dir (), "myapp", "replay.ini", NULL);
 * g_autoptr(BayeuxReplayExtension) replay = bayeux_replay_extension_new_with_state_file (path);
 *
 * bayeux_client_add_extension (client, BAYEUX_EXTENSION (replay));
 * bayeux_client_subscribe (client, "/data/AccountChangeEvent");
 * ```
 *
 * ```python
 * path = os.path.join(GLib.get_user_state_dir(), "myapp", "replay.ini")
 * replay = Bayeux.ReplayExtension(state_file=path)
 * replay.props.default_replay_id = Bayeux.REPLAY_ALL_EVENTS
 * client.add_extension(replay)
 * ```
 *
 * The handshake carries `ext.replay = true`. Each `/meta/subscribe`
 * carries `ext.replay = {"<channel>": <replay id>}`, the replay id being,
 * for that channel: the one of the last event received on it, else the
 * one given with [method@ReplayExtension.set_replay_id] or read from
 * [property@ReplayExtension:state-file], else
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
 * A filtered PushTopic subscription, `/topic/InvoiceStatementUpdates?Status__c=Open`,
 * has the replay id of its channel without the filter,
 * `/topic/InvoiceStatementUpdates`: its `/meta/subscribe` carries
 * `ext.replay = {"/topic/InvoiceStatementUpdates": <replay id>}`, the key
 * under which Salesforce looks it up (a map keyed by the filtered name is
 * refused with `400::The replayId for channel {/topic/…} wasn't found`),
 * and the events count for it whether they come on the filtered name or
 * on the plain one. The calls that take a channel take either name.
 *
 * To resume after the application restarts, give the extension a
 * [property@ReplayExtension:state-file]: it reads the replay ids from it,
 * and writes them back as events come (at most once a second, and when
 * the extension is finalized). Without one, save the replay ids yourself
 * ([method@ReplayExtension.get_replay_id], say when the application quits)
 * and give them back before subscribing.
 *
 * The extension is used from the thread of the client it is added to;
 * its batched writes run in the thread-default main context of the
 * thread where the replay ids change (the client's).
 *
 * Since: 1.0
 */

struct _BayeuxReplayExtension
{
  GObject     parent_instance;

  GHashTable *replay_ids;          /* channel without filter → gint64* */
  gint64      default_replay_id;

  /* The state file, or NULL; its next batched write, or NULL. */
  char       *state_file;
  GSource    *write_source;
  gboolean    dirty;               /* replay ids changed since the file was written */
  char       *write_failure;       /* the last write failure warned about, or NULL */
  guint       n_write_attempts;
  guint       n_writes;
};

static void bayeux_replay_extension_iface_init (BayeuxExtensionInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BayeuxReplayExtension, bayeux_replay_extension, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BAYEUX_TYPE_EXTENSION,
                                                      bayeux_replay_extension_iface_init))

enum {
  PROP_0,
  PROP_DEFAULT_REPLAY_ID,
  PROP_STATE_FILE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The key of @channel's replay id: its name without a filter. */
static char *
key_of (const char *channel)
{
  return g_strndup (channel, strcspn (channel, "?"));
}

/* The state file ---------------------------------------------------------- */

static gboolean write_state (BayeuxReplayExtension *self, GError **error);

static void
warn_write_failure (BayeuxReplayExtension *self,
                    const GError          *error)
{
  /* Once for a failure that lasts (a read-only folder), not every batch. */
  if (g_strcmp0 (self->write_failure, error->message) == 0)
    {
      g_debug ("replay: the state file is still not written: %s", error->message);
      return;
    }
  g_free (self->write_failure);
  self->write_failure = g_strdup (error->message);
  g_warning ("BayeuxReplayExtension: the replay ids are not saved: %s", error->message);
}

static gboolean
write_timeout_cb (gpointer data)
{
  BayeuxReplayExtension *self = data;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->write_source, g_source_unref);
  if (!write_state (self, &error))
    warn_write_failure (self, error);
  return G_SOURCE_REMOVE;
}

/* The replay ids changed: the state file will have them within a second.
 * A failed write is not tried again before the next change. */
static void
schedule_write (BayeuxReplayExtension *self)
{
  self->dirty = TRUE;
  if (self->state_file == NULL || self->write_source != NULL)
    return;
  self->write_source = bayeux_source_attach (g_main_context_get_thread_default (), STATE_WRITE_DELAY_MS,
                                             G_PRIORITY_DEFAULT_IDLE, write_timeout_cb, self, NULL,
                                             "[bayeux] replay state file write");
}

/* Writes the pending changes now, if any. */
static void
write_now (BayeuxReplayExtension *self)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->write_source, bayeux_source_destroy);
  if (!write_state (self, &error))
    warn_write_failure (self, error);
}

/* Whether @channel may be a group of the state file: a channel name
 * (wildcards allowed, for ids given to a wildcard subscription), which
 * has no “[”, “]” nor control character. */
static gboolean
is_state_channel (const char *channel)
{
  return bayeux_channel_validate (channel, BAYEUX_CHANNEL_ALLOW_WILDCARD, NULL);
}

static gint
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (a, b);
}

static char *
state_to_data (BayeuxReplayExtension *self,
               gsize                 *length)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  GList *channels = g_list_sort (g_hash_table_get_keys (self->replay_ids), compare_strings);
  guint written = 0;

  g_key_file_set_comment (file, NULL, NULL,
                          " The replay id of the last event of each channel (bayeux-glib's BayeuxReplayExtension)",
                          NULL);
  for (GList *l = channels; l != NULL && written < STATE_MAX_CHANNELS; l = l->next)
    {
      const gint64 *replay_id = g_hash_table_lookup (self->replay_ids, l->data);

      if (!is_state_channel (l->data))
        continue;
      g_key_file_set_int64 (file, l->data, STATE_KEY, *replay_id);
      written++;
    }
  g_list_free (channels);
  return g_key_file_to_data (file, length, NULL);
}

/* Writes the state file, if there is one and the replay ids changed since
 * it was last written: atomically (a new file renamed over the old one),
 * mode 0600, its folder made (0700) if missing. */
static gboolean
write_state (BayeuxReplayExtension  *self,
             GError                **error)
{
  g_autofree char *folder = NULL;
  g_autofree char *data = NULL;
  gsize length = 0;

  if (self->state_file == NULL || !self->dirty)
    return TRUE;

  self->n_write_attempts++;
  folder = g_path_get_dirname (self->state_file);
  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved_errno = errno;
      g_autofree char *shown = g_filename_display_name (folder);

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Could not make the folder “%s” of the replay state file: %s", shown, g_strerror (saved_errno));
      return FALSE;
    }
  data = state_to_data (self, &length);
  if (!g_file_set_contents_full (self->state_file, data, (gssize) length, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, error))
    return FALSE;

  self->dirty = FALSE;
  self->n_writes++;
  if (self->write_failure != NULL)
    {
      g_debug ("replay: the state file is written again");
      g_clear_pointer (&self->write_failure, g_free);
    }
  return TRUE;
}

/* Reads @path, a regular file of STATE_MAX_BYTES at most, into @contents;
 * a missing file is read as NULL. */
static gboolean
read_state_file (const char  *path,
                 char       **contents,
                 gsize       *length,
                 GError     **error)
{
  g_autofree char *shown = g_filename_display_name (path);
  g_autofree char *buffer = NULL;
  const char *why = NULL;
  GStatBuf st;
  gsize size = 0;
  int saved_errno = 0;
  int fd;

  *contents = NULL;
  *length = 0;
  /* Non-blocking: a FIFO in its place must not hang the application. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
  if (fd < 0)
    {
      saved_errno = errno;
      if (saved_errno == ENOENT)
        return TRUE;
      why = g_strerror (saved_errno);
    }
  else if (fstat (fd, &st) != 0)
    {
      saved_errno = errno;
      why = g_strerror (saved_errno);
    }
  else if (!S_ISREG (st.st_mode))
    {
      saved_errno = EINVAL;
      why = "not a regular file";
    }
  else if (st.st_size > STATE_MAX_BYTES)
    {
      saved_errno = EFBIG;
      why = "larger than 1 MiB";
    }
  else
    {
      /* The size may have grown since fstat(): read one byte more than
       * allowed to tell. */
      buffer = g_malloc (STATE_MAX_BYTES + 1);
      while (size <= STATE_MAX_BYTES)
        {
          gssize n = read (fd, buffer + size, STATE_MAX_BYTES + 1 - size);

          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              saved_errno = errno;
              why = g_strerror (saved_errno);
              break;
            }
          if (n == 0)
            break;
          size += (gsize) n;
        }
      if (why == NULL && size > STATE_MAX_BYTES)
        {
          saved_errno = EFBIG;
          why = "larger than 1 MiB";
        }
    }
  if (fd >= 0)
    g_close (fd, NULL);

  if (why != NULL)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Could not read the replay state file “%s”: %s", shown, why);
      return FALSE;
    }
  *contents = g_steal_pointer (&buffer);
  *length = size;
  return TRUE;
}

/* Reads the state file: its replay ids replace those in memory, as if
 * given with set_replay_id(). What is refused is left out, the rest read. */
static gboolean
load_state (BayeuxReplayExtension  *self,
            GError                **error)
{
  g_autofree char *shown = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GKeyFile) file = NULL;
  g_auto(GStrv) channels = NULL;
  gsize length = 0;
  gsize n_channels = 0;
  guint n_read = 0;
  guint n_refused = 0;
  guint n_over = 0;

  if (self->state_file == NULL)
    return TRUE;
  if (!read_state_file (self->state_file, &contents, &length, error))
    return FALSE;
  if (contents == NULL)
    {
      g_debug ("replay: no state file yet");
      return TRUE;
    }

  shown = g_filename_display_name (self->state_file);
  file = g_key_file_new ();
  /* GKeyFile's message quotes the offending line: not repeated, the
   * file's content is not ours to print. */
  if (!g_key_file_load_from_data (file, contents, length, G_KEY_FILE_NONE, NULL))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE,
                   "The replay state file “%s” is damaged (not a key file): no replay id read from it", shown);
      return FALSE;
    }

  channels = g_key_file_get_groups (file, &n_channels);
  for (gsize i = 0; i < n_channels; i++)
    {
      g_autofree char *value = NULL;
      gint64 replay_id;

      if (n_read == STATE_MAX_CHANNELS)
        {
          n_over = (guint) (n_channels - i);
          break;
        }
      value = g_key_file_get_value (file, channels[i], STATE_KEY, NULL);
      if (value == NULL || !is_state_channel (channels[i]) ||
          !g_ascii_string_to_signed (value, 10, BAYEUX_REPLAY_ALL_EVENTS, G_MAXINT64, &replay_id, NULL))
        {
          n_refused++;
          continue;
        }
      g_hash_table_replace (self->replay_ids, g_strdup (channels[i]), g_memdup2 (&replay_id, sizeof replay_id));
      n_read++;
    }
  g_debug ("replay: %u replay ids read from the state file", n_read);

  if (n_refused > 0 || n_over > 0)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "The replay state file “%s” is damaged: %u entries left out (%u not a channel with an integer "
                   "replay id, %u beyond %d channels); %u replay ids read",
                   shown, n_refused + n_over, n_refused, n_over, STATE_MAX_CHANNELS, n_read);
      return FALSE;
    }
  return TRUE;
}

/* The extension ----------------------------------------------------------- */

static void
remember (BayeuxReplayExtension *self,
          const char            *channel,
          gint64                 replay_id,
          gboolean               bounded)
{
  g_autofree char *key = key_of (channel);
  gint64 *value = g_hash_table_lookup (self->replay_ids, key);

  if (value != NULL && *value == replay_id)
    return;
  if (value == NULL)
    {
      /* A server sending events on ever new channels must not grow the
       * table (and the file) without end. */
      if (bounded && g_hash_table_size (self->replay_ids) >= STATE_MAX_CHANNELS)
        {
          g_debug ("replay: %d channels already have a replay id: %s left out", STATE_MAX_CHANNELS, key);
          return;
        }
      value = g_new (gint64, 1);
      g_hash_table_insert (self->replay_ids, g_steal_pointer (&key), value);
    }
  *value = replay_id;
  schedule_write (self);
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
      g_autofree char *key = NULL;
      JsonObject *replay;
      gint64 replay_id;

      if (subscription == NULL)
        return BAYEUX_EXTENSION_CONTINUE;
      ext = bayeux_json_ensure_object (message, "ext");
      if (ext == NULL)
        return BAYEUX_EXTENSION_CONTINUE;
      /* A filtered subscription's replay id goes under its plain channel,
       * where Salesforce looks for it. */
      key = key_of (subscription);
      bayeux_replay_extension_get_replay_id (self, key, &replay_id);
      replay = json_object_new ();
      json_object_set_int_member (replay, key, replay_id);
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
    remember (self, channel, replay_id, TRUE);

  return BAYEUX_EXTENSION_CONTINUE;
}

static void
bayeux_replay_extension_iface_init (BayeuxExtensionInterface *iface)
{
  iface->outgoing = bayeux_replay_extension_outgoing;
  iface->incoming = bayeux_replay_extension_incoming;
}

static void
bayeux_replay_extension_dispose (GObject *object)
{
  BayeuxReplayExtension *self = BAYEUX_REPLAY_EXTENSION (object);

  /* The last batch, at once. */
  write_now (self);

  G_OBJECT_CLASS (bayeux_replay_extension_parent_class)->dispose (object);
}

static void
bayeux_replay_extension_finalize (GObject *object)
{
  BayeuxReplayExtension *self = BAYEUX_REPLAY_EXTENSION (object);

  g_hash_table_unref (self->replay_ids);
  g_free (self->state_file);
  g_free (self->write_failure);

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
    case PROP_STATE_FILE:
      g_value_set_string (value, self->state_file);
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
    case PROP_STATE_FILE:
      bayeux_replay_extension_set_state_file (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bayeux_replay_extension_class_init (BayeuxReplayExtensionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = bayeux_replay_extension_dispose;
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

  /**
   * BayeuxReplayExtension:state-file: (type filename)
   *
   * The file that keeps the replay ids across runs of the application,
   * or %NULL (the default) for none: a key file with a group per channel
   * and its `replay-id`. A natural place is under
   * [func@GLib.get_user_state_dir]:
   * `g_build_filename (g_get_user_state_dir (), "myapp", "replay.ini", NULL)`.
   *
   * When it is set (at construction or later), the extension reads the
   * file: its replay ids count as given with
   * [method@ReplayExtension.set_replay_id], so the next subscription to
   * each channel resumes from it. A missing file is an empty one. A file
   * that cannot be read, is larger than 1 MiB or is not a key file gives
   * no replay id; an entry that is not a channel name with an integer
   * replay id, or beyond 4096 channels, is left out and the others are
   * read. Either way a warning says so (to act on it, see
   * [method@ReplayExtension.load]), and the extension goes on.
   *
   * As events come, the extension writes the file back at most once a
   * second (from the thread-default main context of the thread the events
   * come in: the client's), and at once when the file is changed and when
   * the extension is finalized; [method@ReplayExtension.save] writes it
   * at once. Each write replaces the file atomically (a new file renamed
   * over it), with mode 0600, making its folder (mode 0700) if missing.
   * A write that fails is reported with one warning (not one per
   * attempt) and tried again with the next batch, not before.
   *
   * Since: 1.0
   */
  properties[PROP_STATE_FILE] =
    g_param_spec_string ("state-file", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);

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
 * bayeux_replay_extension_new_with_state_file:
 * @path: (type filename) (nullable): the file that keeps the replay ids
 *   across runs, or %NULL for none
 *
 * Creates a replay extension that reads its replay ids from @path and
 * writes them back there as events come: see
 * [property@ReplayExtension:state-file].
 *
 * Returns: (transfer full): a new extension
 *
 * Since: 1.0
 */
BayeuxReplayExtension *
bayeux_replay_extension_new_with_state_file (const char *path)
{
  return g_object_new (BAYEUX_TYPE_REPLAY_EXTENSION, "state-file", path, NULL);
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
 * @channel: a channel, or a subscription (a filtered one has the replay
 *   id of its channel without the filter)
 * @replay_id: (out) (optional): where to store the replay id: the one of
 *   the last event received on @channel, or the one given with
 *   [method@ReplayExtension.set_replay_id] or read from
 *   [property@ReplayExtension:state-file], whichever came last; else
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
  g_autofree char *key = NULL;
  gint64 *value;

  g_return_val_if_fail (BAYEUX_IS_REPLAY_EXTENSION (self), FALSE);
  g_return_val_if_fail (channel != NULL, FALSE);

  key = key_of (channel);
  value = g_hash_table_lookup (self->replay_ids, key);
  if (replay_id != NULL)
    *replay_id = value != NULL ? *value : self->default_replay_id;
  return value != NULL;
}

/**
 * bayeux_replay_extension_set_replay_id:
 * @self: a replay extension
 * @channel: a channel, or a subscription (a filtered one sets the replay
 *   id of its channel without the filter)
 * @replay_id: the replay id of the last event the application has of
 *   @channel, or %BAYEUX_REPLAY_NEW_EVENTS or %BAYEUX_REPLAY_ALL_EVENTS
 *
 * Sets where the next subscription to @channel starts: after the event
 * with @replay_id. Set it before subscribing, say with a replay id saved
 * when the application last ran. The events received on @channel replace
 * it as they come. With a [property@ReplayExtension:state-file], it is
 * written there too.
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

  remember (self, channel, replay_id, FALSE);
}

/**
 * bayeux_replay_extension_get_state_file:
 * @self: a replay extension
 *
 * Gets [property@ReplayExtension:state-file].
 *
 * Returns: (type filename) (nullable): the file that keeps the replay ids,
 *   or %NULL
 *
 * Since: 1.0
 */
const char *
bayeux_replay_extension_get_state_file (BayeuxReplayExtension *self)
{
  g_return_val_if_fail (BAYEUX_IS_REPLAY_EXTENSION (self), NULL);

  return self->state_file;
}

/**
 * bayeux_replay_extension_set_state_file:
 * @self: a replay extension
 * @path: (type filename) (nullable): the file that keeps the replay ids
 *   across runs, or %NULL for none
 *
 * Sets [property@ReplayExtension:state-file]: the replay ids not yet
 * written go to the previous file, if any, at once; then the replay ids
 * of @path are read (see the property for what is done with a damaged
 * file). Set it before subscribing, so that the subscriptions resume from
 * it.
 *
 * Since: 1.0
 */
void
bayeux_replay_extension_set_state_file (BayeuxReplayExtension *self,
                                        const char            *path)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (BAYEUX_IS_REPLAY_EXTENSION (self));
  g_return_if_fail (path == NULL || path[0] != '\0');

  if (g_strcmp0 (self->state_file, path) == 0)
    return;

  write_now (self);
  g_free (self->state_file);
  self->state_file = g_strdup (path);
  g_clear_pointer (&self->write_failure, g_free);
  if (!load_state (self, &error))
    g_warning ("BayeuxReplayExtension: %s", error->message);
  /* Replay ids given before there was a file: written to it. */
  if (self->dirty)
    schedule_write (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE_FILE]);
}

/**
 * bayeux_replay_extension_load:
 * @self: a replay extension
 * @error: return location for a #GError
 *
 * Reads [property@ReplayExtension:state-file] again: its replay ids
 * replace those of the same channels, as if given with
 * [method@ReplayExtension.set_replay_id]. Setting the property reads it
 * already, and only warns about a damaged file; call this (before
 * subscribing) to act on the damage, say by setting
 * [property@ReplayExtension:default-replay-id] to
 * %BAYEUX_REPLAY_ALL_EVENTS.
 *
 * A missing file, or no state file, is not an error. The error is in the
 * %G_FILE_ERROR domain when the file could not be read (or is larger than
 * 1 MiB: %G_FILE_ERROR_FAILED), nothing being read; it is
 * %G_KEY_FILE_ERROR_PARSE when it is not a key file, nothing being read;
 * %G_KEY_FILE_ERROR_INVALID_VALUE when some entries were left out (not a
 * channel with an integer replay id, or beyond 4096 channels), the others
 * being read.
 *
 * Returns: %TRUE when the whole file was read (or there is none), %FALSE
 *   with @error set otherwise
 *
 * Since: 1.0
 */
gboolean
bayeux_replay_extension_load (BayeuxReplayExtension  *self,
                              GError                **error)
{
  g_return_val_if_fail (BAYEUX_IS_REPLAY_EXTENSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return load_state (self, error);
}

/**
 * bayeux_replay_extension_save:
 * @self: a replay extension
 * @error: return location for a #GError
 *
 * Writes [property@ReplayExtension:state-file] now, if the replay ids
 * changed since it was last written, instead of within the second: say
 * when the application quits while the extension lives on. (Finalizing
 * the extension writes it too.)
 *
 * Returns: %TRUE when the file is up to date (or there is none), %FALSE
 *   with @error set (in the %G_FILE_ERROR domain) when it could not be
 *   written; it is tried again with the next change
 *
 * Since: 1.0
 */
gboolean
bayeux_replay_extension_save (BayeuxReplayExtension  *self,
                              GError                **error)
{
  g_return_val_if_fail (BAYEUX_IS_REPLAY_EXTENSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_clear_pointer (&self->write_source, bayeux_source_destroy);
  return write_state (self, error);
}

void
bayeux_replay_extension_get_write_counts (BayeuxReplayExtension *self,
                                          guint                 *attempts,
                                          guint                 *writes)
{
  *attempts = self->n_write_attempts;
  *writes = self->n_writes;
}
