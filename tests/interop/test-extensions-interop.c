/* test-extensions-interop.c: the built-in extensions against real servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *  - ack: cometd-nodejs-server with its acknowledgement extension
 *    (cometd-server.js --ack), our client behind fault-proxy.js, which cuts
 *    in the middle some of the /meta/connect responses that carry messages
 *    (the server sent them, the client gets none: a long poll failing
 *    mid-delivery), while a real CometD peer publishes N numbered messages.
 *    With BayeuxAckExtension our client must receive each exactly once, in
 *    order; without it, the messages of every cut response are lost, and
 *    the test checks that they are (so that it can tell the difference).
 *
 *  - timesync: the CometD server with a timesync extension and a clock
 *    running ahead or behind (cometd-server.js --timesync --clock-skew MS):
 *    BayeuxTimesyncExtension's offset must come out as the skew, within a
 *    few milliseconds, and the lag small and not negative.
 *
 *  - replay: Faye with a Salesforce-style replay extension and a store of
 *    events on disk (faye-server.js --replay-store FILE). Our client,
 *    behind fault-proxy.js, receives events, then is cut off (the proxy
 *    blocks it) while the server is killed and started again with the same
 *    store, and a peer publishes events; once back, our client handshakes
 *    again and subscribes again: with BayeuxReplayExtension it receives
 *    exactly the events it missed, then the new ones (none lost, none
 *    twice); without it, those published while it was away are lost.
 */

#include <string.h>

#include <glib/gstdio.h>

#include "interop-utils.h"

#define ACK_MESSAGES        200   /* published by the peer */
#define ACK_INTERVAL_MS     10    /* between two of them */
#define ACK_CUTS_IN_A_ROW   3     /* cut the first 3 responses carrying messages, */
#define ACK_CUT_EVERY       2     /* then every other one, */
#define ACK_MAX_CUTS        8     /* this many in all */
#define ACK_TIME_LIMIT_MS   60000
#define QUIET_MS            1500  /* no new message for this long: no more will come */

#define TIMESYNC_SAMPLES    8     /* meta messages exchanged for samples */

#define REPLAY_CHANNEL      "/event/orders"
#define REPLAY_BATCH        5     /* events published in each of the three phases */
#define REPLAY_TIME_LIMIT_MS 60000

static char *scripts_dir;

/* Processes ---------------------------------------------------------------- */

/* Starts the Node script @script (of tests/interop) with @args, named
 * @name, and waits for its `READY <port>`; the port in @port. NULL (the
 * test failed) if it does not come. */
static Child *
start_script (Fixture            *fx,
              const char         *name,
              const char         *script,
              const char * const *args,
              guint16            *port)
{
  g_autofree char *path = g_build_filename (scripts_dir, script, NULL);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  const char *ready;
  guint64 value;
  Child *child;

  g_strv_builder_add (builder, path);
  if (args != NULL)
    g_strv_builder_addv (builder, (const char **) args);
  argv = g_strv_builder_end (builder);

  child = child_spawn (name, (const char * const *) argv, &error);
  if (child == NULL)
    {
      g_test_fail_printf ("could not start %s: %s", script, error->message);
      return NULL;
    }
  ready = fixture_wait_line (fx, child, "READY ", START_TIMEOUT_MS);
  if (ready == NULL ||
      !g_ascii_string_to_unsigned (ready + strlen ("READY "), 10, 1, G_MAXUINT16, &value, NULL))
    {
      if (ready != NULL)
        g_test_fail_printf ("%s: bad READY line '%s'", script, ready);
      child_stop (child);
      return NULL;
    }
  *port = (guint16) value;
  return child;
}

/* Starts paced-publisher.js with @args and waits for its READY; the
 * fixture stops it. */
static Child *
start_publisher (Fixture            *fx,
                 const char * const *args)
{
  g_autofree char *path = g_build_filename (scripts_dir, "paced-publisher.js", NULL);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  Child *child;

  g_strv_builder_add (builder, path);
  g_strv_builder_addv (builder, (const char **) args);
  argv = g_strv_builder_end (builder);
  child = child_spawn ("publisher", (const char * const *) argv, &error);
  if (child == NULL)
    {
      g_test_fail_printf ("could not start paced-publisher.js: %s", error->message);
      return NULL;
    }
  g_ptr_array_add (fx->peers, child);
  return fixture_wait_line (fx, child, "READY", START_TIMEOUT_MS) != NULL ? child : NULL;
}

/* Starts the fixture's server script with @args: on fx->port if it is not
 * 0 (a restart: tried again while the old port is not free yet), else on
 * any free port, kept in fx->port. */
static gboolean
start_server (Fixture            *fx,
              const char * const *args)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autofree char *port_text = g_strdup_printf ("%u", fx->port);
  guint16 port = 0;

  if (fx->port != 0)
    g_strv_builder_add_many (builder, "--port", port_text, NULL);
  if (args != NULL)
    g_strv_builder_addv (builder, (const char **) args);
  argv = g_strv_builder_end (builder);

  g_clear_pointer (&fx->server, child_stop);
  for (guint attempt = 0; fx->server == NULL && attempt < 20; attempt++)
    {
      if (attempt > 0)
        run_until (NULL, NULL, 100);
      fx->server = start_script (fx, fx->kind->script, fx->kind->script, (const char * const *) argv, &port);
      if (fx->server == NULL && (fx->port == 0 || g_get_monotonic_time () > fx->deadline))
        return FALSE;
    }
  if (fx->server == NULL)
    return FALSE;
  if (fx->port != 0 && port != fx->port)
    {
      g_test_fail_printf ("%s came back on port %u instead of %u", fx->kind->script, port, fx->port);
      return FALSE;
    }
  fx->port = port;
  if (fx->url == NULL)
    fx->url = g_strdup_printf ("http://127.0.0.1:%u%s", fx->port, fx->kind->mount);
  return TRUE;
}

/* Starts fault-proxy.js in front of the fixture's server; the fixture
 * stops it (it is one of its peers). Returns the URL of the server through
 * it, or NULL. */
static char *
start_proxy (Fixture  *fx,
             Child   **proxy)
{
  g_autofree char *target = g_strdup_printf ("%u", fx->port);
  const char *args[] = { "--target", target, NULL };
  guint16 port;

  *proxy = start_script (fx, "fault-proxy", "fault-proxy.js", args, &port);
  if (*proxy == NULL)
    return NULL;
  g_ptr_array_add (fx->peers, *proxy);
  return g_strdup_printf ("http://127.0.0.1:%u%s", port, fx->kind->mount);
}

/* Writes @command to @child and waits for its answer, a line starting with
 * @answer; returns it (owned by the child) or NULL. */
static const char *
ask (Fixture    *fx,
     Child      *child,
     const char *command,
     const char *answer)
{
  guint from = child->lines->len;

  if (!fixture_tell_peer (fx, child, command))
    return NULL;
  return fixture_wait_line_from (fx, child, answer, from, 5000);
}

/* A client of @url (through the proxy, say), logged and counted by the
 * fixture like fixture_new_client()'s; long polling only (the proxy does
 * not forward WebSocket upgrades). */
static BayeuxClient *
new_client (Fixture    *fx,
            const char *url)
{
  char *fixture_url = fx->url;
  BayeuxClient *client;

  fx->url = (char *) url;
  client = fixture_new_client (fx, NULL, "client");
  fx->url = fixture_url;

  {
    /* The fault proxy cuts long polls (ack); replay and timesync need no
     * WebSocket either: long polling, as on every server. */
    const char *long_polling[] = { "long-polling", NULL };
    bayeux_client_set_transports (client, long_polling);
  }
  bayeux_client_set_backoff_increment (client, 100);
  bayeux_client_set_max_backoff (client, 500);
  return client;
}

static void
setup (Fixture       *fx,
       gconstpointer  data)
{
  fx->kind = data;
  fixture_set_time_limit (fx, TEST_TIMEOUT_MS);
  fx->peers = g_ptr_array_new ();
  fx->inboxes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
}

/* Inboxes ------------------------------------------------------------------ */

typedef struct {
  GPtrArray *inbox;
  guint      last_len;
  gint64     last_change;   /* monotonic µs */
  guint      quiet_ms;
} QuietWait;

/* Nothing new in the inbox for quiet_ms. */
static gboolean
inbox_is_quiet (gpointer data)
{
  QuietWait *qw = data;
  gint64 now = g_get_monotonic_time ();

  if (qw->inbox->len != qw->last_len)
    {
      qw->last_len = qw->inbox->len;
      qw->last_change = now;
    }
  return now - qw->last_change >= (gint64) qw->quiet_ms * 1000;
}

static gboolean
wait_quiet (Fixture    *fx,
            GPtrArray  *inbox,
            const char *what)
{
  QuietWait qw = { inbox, inbox->len, g_get_monotonic_time (), QUIET_MS };

  return fixture_wait (fx, inbox_is_quiet, &qw, what);
}

static gboolean
wait_inbox (Fixture    *fx,
            GPtrArray  *inbox,
            guint       count,
            const char *what)
{
  InboxWait iw = { inbox, count };

  return fixture_wait (fx, inbox_wait_is_done, &iw, what);
}

/* ack ------------------------------------------------------------------------ */

static gboolean
ack_is_active (gpointer data)
{
  return bayeux_ack_extension_get_active (data);
}

static void
run_ack (Fixture  *fx,
         gboolean  with_ack)
{
  const char *server_args[] = { "--ack", NULL };
  const char *channel = with_ack ? "/ack/with" : "/ack/without";
  g_autoptr(BayeuxAckExtension) ack = bayeux_ack_extension_new ();
  g_autofree char *proxy_url = NULL;
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  g_auto(GStrv) stats = NULL;
  Child *proxy = NULL, *peer;
  GPtrArray *inbox;
  const char *line;
  guint duplicates = 0, lost, cuts, cut_deliveries;

  fixture_set_time_limit (fx, ACK_TIME_LIMIT_MS);
  if (!start_server (fx, server_args) || (proxy_url = start_proxy (fx, &proxy)) == NULL)
    return;

  fx->client = new_client (fx, proxy_url);
  if (with_ack)
    bayeux_client_add_extension (fx->client, BAYEUX_EXTENSION (ack));
  inbox = fixture_listen (fx, channel);
  bayeux_client_start (fx->client);
  if (!fixture_wait (fx, client_is_connected, fx->client, "the client to connect"))
    return;
  if (with_ack && !fixture_wait (fx, ack_is_active, ack, "the server to accept acknowledgements"))
    return;
  g_assert_false (!with_ack && bayeux_ack_extension_get_active (ack));
  if (!fixture_subscribe (fx, channel))
    return;

  /* From now on, long polls fail while they carry messages: the first
   * ACK_CUTS_IN_A_ROW in a row (with the acknowledgements, the messages
   * sent again are lost again), then every ACK_CUT_EVERY-th. */
  {
    g_autofree char *cut = g_strdup_printf ("CUT 1 %u", ACK_CUTS_IN_A_ROW);
    if (ask (fx, proxy, cut, "CUTTING") == NULL)
      return;
  }

  /* A CometD peer publishes, one message every few milliseconds: they
   * come in many long-poll responses. */
  {
    g_autofree char *count = g_strdup_printf ("%u", ACK_MESSAGES);
    g_autofree char *interval = g_strdup_printf ("%u", ACK_INTERVAL_MS);
    const char *args[] = { "--kind", "cometd", "--url", fx->url, "--channel", channel, "--count", count,
                           "--interval", interval, NULL };

    g_autofree char *cut_in_a_row = g_strdup_printf ("CUT %u ", ACK_CUTS_IN_A_ROW);
    g_autofree char *cut = g_strdup_printf ("CUT %u %u", ACK_CUT_EVERY, ACK_MAX_CUTS);

    peer = start_publisher (fx, args);
    if (peer == NULL || !fixture_tell_peer (fx, peer, "GO") ||
        fixture_wait_line (fx, proxy, cut_in_a_row, 0) == NULL ||
        ask (fx, proxy, cut, "CUTTING") == NULL ||
        fixture_wait_line (fx, peer, "PUBLISHED", 0) == NULL)
      return;
  }

  if (with_ack)
    {
      if (!wait_inbox (fx, inbox, ACK_MESSAGES, "every message"))
        {
          g_test_message ("%u of %u messages received", inbox->len, ACK_MESSAGES);
          return;
        }
      run_until (NULL, NULL, SETTLE_MS);   /* late duplicates */
    }
  else if (!wait_quiet (fx, inbox, "the messages to stop coming"))
    return;

  line = ask (fx, proxy, "STATS", "STATS ");
  if (line == NULL)
    return;
  stats = g_strsplit (line, " ", -1);
  g_assert_cmpuint (g_strv_length (stats), ==, 4);
  cuts = (guint) g_ascii_strtoull (stats[2], NULL, 10);
  cut_deliveries = (guint) g_ascii_strtoull (stats[3], NULL, 10);

  for (guint i = 0; i < inbox->len; i++)
    {
      gint64 seq = data_seq (bayeux_message_get_data (g_ptr_array_index (inbox, i)), "peer");

      g_array_append_val (seqs, seq);
      if (g_hash_table_contains (seen, GINT_TO_POINTER ((gint) seq)))
        duplicates++;
      g_hash_table_add (seen, GINT_TO_POINTER ((gint) seq));
    }
  lost = ACK_MESSAGES - g_hash_table_size (seen);
  g_test_message ("%s the ack extension: %u messages published, %u long-poll responses cut carrying %u messages; "
                  "%u received, %u lost, %u received twice",
                  with_ack ? "with" : "without", ACK_MESSAGES, cuts, cut_deliveries,
                  inbox->len, lost, duplicates);

  /* The faults happened. */
  g_assert_cmpuint (cuts, >=, ACK_CUTS_IN_A_ROW + 1);
  g_assert_cmpuint (cut_deliveries, >, 0);
  g_assert_cmpuint (duplicates, ==, 0);
  if (with_ack)
    {
      /* Each message exactly once, in order. */
      check_sequence (seqs, ACK_MESSAGES, "our client, with the ack extension");
      g_assert_true (bayeux_ack_extension_get_active (ack));
    }
  else
    {
      /* The messages of the cut responses, and only those, are lost. */
      g_assert_cmpuint (lost, >, 0);
      g_assert_cmpuint (lost, ==, cut_deliveries);
    }
}

static void
test_ack_with (Fixture *fx, gconstpointer data)
{
  run_ack (fx, TRUE);
}

static void
test_ack_without (Fixture *fx, gconstpointer data)
{
  run_ack (fx, FALSE);
}

/* timesync --------------------------------------------------------------------- */

static gboolean
offset_is_set (gpointer data)
{
  return bayeux_timesync_extension_get_offset (data) != 0;
}

static void
on_offset_notify (GObject    *object,
                  GParamSpec *pspec,
                  guint      *count)
{
  (*count)++;
}

static void run_timesync_with (Fixture                 *fx,
                               BayeuxTimesyncExtension *timesync,
                               gint64                   skew,
                               guint                   *notified);

/* The extension outlives the test (the fixture's teardown stops the
 * client): its handler, which writes here, goes first. */
static void
run_timesync (Fixture *fx,
              gint64   skew)
{
  g_autoptr(BayeuxTimesyncExtension) timesync = bayeux_timesync_extension_new ();
  guint notified = 0;
  gulong handler = g_signal_connect (timesync, "notify::offset", G_CALLBACK (on_offset_notify), &notified);

  run_timesync_with (fx, timesync, skew, &notified);
  g_signal_handler_disconnect (timesync, handler);
}

static void
run_timesync_with (Fixture                 *fx,
                   BayeuxTimesyncExtension *timesync,
                   gint64                   skew,
                   guint                   *notified)
{
  g_autofree char *skew_arg = g_strdup_printf ("--clock-skew=%" G_GINT64_FORMAT, skew);
  const char *server_args[] = { "--timesync", skew_arg, NULL };
  gint64 offset, lag, server_time, expected;
  gint64 tolerance = 25;   /* ms: loopback, and the clocks are the same clock */

  if (!start_server (fx, server_args))
    return;
  fx->client = fixture_new_client (fx, NULL, "client");
  bayeux_client_add_extension (fx->client, BAYEUX_EXTENSION (timesync));
  bayeux_client_start (fx->client);
  if (!fixture_wait (fx, client_is_connected, fx->client, "the client to connect") ||
      !fixture_wait (fx, offset_is_set, timesync, "an offset"))
    return;

  /* More samples: each /meta/ reply is one. */
  for (guint i = 0; i < TIMESYNC_SAMPLES; i++)
    {
      g_autofree char *channel = g_strdup_printf ("/timesync/%u", i);

      if (!fixture_subscribe (fx, channel))
        return;
    }

  offset = bayeux_timesync_extension_get_offset (timesync);
  lag = bayeux_timesync_extension_get_lag (timesync);
  server_time = bayeux_timesync_extension_get_server_time (timesync);
  expected = g_get_real_time () / 1000 + skew;
  g_test_message ("server clock skew %" G_GINT64_FORMAT " ms: offset measured %" G_GINT64_FORMAT
                  " ms (off by %" G_GINT64_FORMAT "), lag %" G_GINT64_FORMAT " ms, %u offset notifications",
                  skew, offset, offset - skew, lag, *notified);
  g_assert_cmpint (ABS (offset - skew), <=, tolerance);
  g_assert_cmpint (lag, >=, 0);
  g_assert_cmpint (lag, <=, tolerance);
  g_assert_cmpint (ABS (server_time - expected), <=, tolerance + 1);
  g_assert_cmpuint (*notified, >=, 1);
}

static void
test_timesync_ahead (Fixture *fx, gconstpointer data)
{
  run_timesync (fx, 5000);
}

static void
test_timesync_behind (Fixture *fx, gconstpointer data)
{
  run_timesync (fx, -2500);
}

/* replay ----------------------------------------------------------------------- */

/* The replay id of an event our client received, or -1. */
static gint64
replay_id_of (BayeuxMessage *message)
{
  JsonNode *data = bayeux_message_get_data (message);
  JsonNode *event, *replay_id;

  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    return -1;
  event = json_object_get_member (json_node_get_object (data), "event");
  if (event == NULL || !JSON_NODE_HOLDS_OBJECT (event))
    return -1;
  replay_id = json_object_get_member (json_node_get_object (event), "replayId");
  if (replay_id == NULL || !JSON_NODE_HOLDS_VALUE (replay_id) || json_node_get_value_type (replay_id) != G_TYPE_INT64)
    return -1;
  return json_node_get_int (replay_id);
}

static gboolean
client_is_not_connected (gpointer data)
{
  return bayeux_client_get_state (BAYEUX_CLIENT (data)) != BAYEUX_CLIENT_STATE_CONNECTED;
}

typedef struct {
  BayeuxClient *client;
  guint         subscribed;   /* successful /meta/subscribe replies */
} Resubscribed;

static void
on_subscribe_reply (BayeuxClient  *client,
                    BayeuxMessage *message,
                    Resubscribed  *rs)
{
  if (bayeux_message_get_successful (message))
    rs->subscribed++;
}

static gboolean
is_resubscribed (gpointer data)
{
  Resubscribed *rs = data;

  return rs->subscribed >= 2 && client_is_connected (rs->client);
}

/* Publishes REPLAY_BATCH events through a new Faye peer (straight to the
 * server, not through the proxy). */
static gboolean
publish_batch (Fixture    *fx,
               const char *name)
{
  const char *args[] = { "--publish", REPLAY_CHANNEL, "--count", G_STRINGIFY (REPLAY_BATCH), NULL };
  Child *peer = fixture_spawn_peer_args (fx, name, args);

  return peer != NULL && fixture_tell_peer (fx, peer, "GO") && fixture_wait_line (fx, peer, "PUBLISHED", 0) != NULL;
}

static void
run_replay (Fixture  *fx,
            gboolean  with_replay)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bayeux-replay-XXXXXX", &error);
  g_autofree char *store = NULL;
  g_autofree char *proxy_url = NULL;
  g_autoptr(BayeuxReplayExtension) replay = bayeux_replay_extension_new ();
  g_autoptr(GString) received = g_string_new (NULL);
  g_autoptr(GString) expected = g_string_new (NULL);
  Resubscribed rs = { NULL, 0 };
  const char *server_args[] = { "--replay-store", NULL, NULL };
  Child *proxy = NULL;
  GPtrArray *inbox;
  gint64 last = 0;

  g_assert_no_error (error);
  store = g_build_filename (dir, "events.json", NULL);
  server_args[1] = store;
  fixture_set_time_limit (fx, REPLAY_TIME_LIMIT_MS);
  if (!start_server (fx, server_args) || (proxy_url = start_proxy (fx, &proxy)) == NULL)
    goto out;

  fx->client = new_client (fx, proxy_url);
  if (with_replay)
    bayeux_client_add_extension (fx->client, BAYEUX_EXTENSION (replay));
  rs.client = fx->client;
  g_signal_connect (fx->client, "meta::/meta/subscribe", G_CALLBACK (on_subscribe_reply), &rs);
  inbox = fixture_listen (fx, REPLAY_CHANNEL);
  bayeux_client_start (fx->client);
  if (!fixture_wait (fx, client_is_connected, fx->client, "the client to connect") ||
      !fixture_subscribe (fx, REPLAY_CHANNEL))
    goto out;

  /* 1. Events 1…5 while we are there. */
  if (!publish_batch (fx, "faye-peer-before") ||
      !wait_inbox (fx, inbox, REPLAY_BATCH, "the first events"))
    goto out;
  if (with_replay)
    {
      g_assert_true (bayeux_replay_extension_get_replay_id (replay, REPLAY_CHANNEL, &last));
      g_assert_cmpint (last, ==, REPLAY_BATCH);
    }

  /* 2. We are cut off; the server restarts (it forgets our session, keeps
   * its events); events 6…10 are published meanwhile. */
  if (ask (fx, proxy, "BLOCK", "BLOCKED") == NULL ||
      !fixture_wait (fx, client_is_not_connected, fx->client, "the client to notice"))
    goto out;
  fixture_kill_server (fx);
  if (!start_server (fx, server_args) ||
      !publish_batch (fx, "faye-peer-away"))
    goto out;

  /* 3. Back: a new handshake and subscription; with the extension, the
   * missed events come first. Then 11…15. */
  if (ask (fx, proxy, "OPEN", "OPENED") == NULL ||
      !fixture_wait (fx, is_resubscribed, &rs, "the client to subscribe again"))
    goto out;
  if (with_replay)
    {
      if (!wait_inbox (fx, inbox, 2 * REPLAY_BATCH, "the missed events"))
        goto out;
    }
  else if (!wait_quiet (fx, inbox, "nothing more"))
    goto out;
  if (!publish_batch (fx, "faye-peer-after") ||
      !wait_inbox (fx, inbox, (with_replay ? 3 : 2) * REPLAY_BATCH, "the last events"))
    goto out;
  run_until (NULL, NULL, SETTLE_MS);

  for (guint i = 0; i < inbox->len; i++)
    g_string_append_printf (received, "%s%" G_GINT64_FORMAT, i > 0 ? " " : "",
                            replay_id_of (g_ptr_array_index (inbox, i)));
  for (guint id = 1; id <= 3 * REPLAY_BATCH; id++)
    if (with_replay || id <= REPLAY_BATCH || id > 2 * REPLAY_BATCH)
      g_string_append_printf (expected, "%s%u", expected->len > 0 ? " " : "", id);
  g_test_message ("%s the replay extension: replay ids received: %s (published while away: %u to %u)",
                  with_replay ? "with" : "without", received->str, REPLAY_BATCH + 1, 2 * REPLAY_BATCH);
  /* With it, every event exactly once and in order; without it, those
   * published while away are lost. */
  g_assert_cmpstr (received->str, ==, expected->str);
  if (with_replay)
    {
      g_assert_true (bayeux_replay_extension_get_replay_id (replay, REPLAY_CHANNEL, &last));
      g_assert_cmpint (last, ==, 3 * REPLAY_BATCH);
    }

out:
  if (fx->client != NULL)
    g_signal_handlers_disconnect_by_data (fx->client, &rs);
  g_remove (store);
  g_rmdir (dir);
}

static void
test_replay_with (Fixture *fx, gconstpointer data)
{
  run_replay (fx, TRUE);
}

static void
test_replay_without (Fixture *fx, gconstpointer data)
{
  run_replay (fx, FALSE);
}

int
main (int argc, char *argv[])
{
  const ServerKind *faye = &server_kinds[0];
  const ServerKind *cometd = &server_kinds[1];

  g_test_init (&argc, &argv, NULL);
  if (!interop_init (argv[0]))
    return g_test_run ();
  scripts_dir = g_canonicalize_filename (g_getenv ("BAYEUX_INTEROP_DIR"), NULL);

  g_assert_cmpstr (faye->name, ==, "faye");
  g_assert_cmpstr (cometd->name, ==, "cometd");
  g_test_add ("/bayeux/interop/extensions/ack/cometd/with-ack", Fixture, cometd, setup, test_ack_with,
              fixture_teardown);
  g_test_add ("/bayeux/interop/extensions/ack/cometd/without-ack", Fixture, cometd, setup, test_ack_without,
              fixture_teardown);
  g_test_add ("/bayeux/interop/extensions/timesync/cometd/ahead", Fixture, cometd, setup, test_timesync_ahead,
              fixture_teardown);
  g_test_add ("/bayeux/interop/extensions/timesync/cometd/behind", Fixture, cometd, setup, test_timesync_behind,
              fixture_teardown);
  g_test_add ("/bayeux/interop/extensions/replay/faye/with-replay", Fixture, faye, setup, test_replay_with,
              fixture_teardown);
  g_test_add ("/bayeux/interop/extensions/replay/faye/without-replay", Fixture, faye, setup, test_replay_without,
              fixture_teardown);

  return g_test_run ();
}
