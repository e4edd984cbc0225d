/* test-recovery.c: BayeuxClient through real server restarts and faults
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Against real Faye and CometD (Node.js) servers, with a real peer client
 * (peer.js --stream) publishing on the other end of the channel all along:
 *
 *  - server-restart: the server process is killed (SIGKILL, as a crash or
 *    an OOM kill would) while our client is subscribed, and started again
 *    on the same port. Without the test calling anything on it, the client
 *    must notice, back off, handshake again (a new client id), subscribe
 *    again and receive what the peer publishes after the restart.
 *
 *  - soak: about SOAK_MS of repeated faults: server restarts, connections
 *    reset by the server (as a proxy or load balancer would cut them), and
 *    bayeux_client_reconnect(). After each fault, once our client receives
 *    the peer's messages again, the peer publishes a numbered batch: every
 *    message of every batch that the server acknowledged must arrive
 *    exactly once, no message of the peer may arrive twice, and our
 *    resident memory must not grow.
 *
 * The processes, the fixture and the waiting are in interop-utils.c.
 */

#include <string.h>

#include "interop-utils.h"
#include "../test-asan.h"

/* The client's recovery settings in these tests. */
#define BACKOFF_INCREMENT_MS     200
#define MAX_BACKOFF_MS           1000
#define RECOVERY_NETWORK_DELAY_MS 2000

#define PEER_INTERVAL_MS         50    /* the peer's stream: 20 messages/s */
#define OUTAGE_MS                1500  /* server-restart: how long the server is down */
#define NOTICE_TIMEOUT_MS        5000  /* for the client to notice the server is gone */
#define RECOVERY_TIMEOUT_MS      10000 /* for it to receive messages again */

#define SOAK_MS                  15000 /* the faults go on for this long… */
#define SOAK_MIN_CYCLES          5     /* …and at least this many after the warm-up */
#define SOAK_TIME_LIMIT_MS       (SOAK_MS + 25000)
#define SOAK_BATCH               20    /* messages in each numbered batch */
#define BATCH_TIMEOUT_MS         6000  /* for the peer's BATCH line (it waits 5 s at most
                                          * for replies), then for our client to receive it */
#define RSS_GROWTH_LIMIT_KB      (8 * 1024)

/* What our client did and received ---------------------------------------- */

typedef struct {
  GHashTable *seen;            /* the peer's seq → how many times received */
  guint       n_received;      /* messages of the peer received */
  guint       n_duplicates;    /* …that had been received before */
  guint       n_strays;        /* messages that are not the peer's */
  GArray     *request_times;   /* monotonic µs of each HTTP request queued */
  guint       n_state_changes;
} Recorder;

static void
recorder_free (Recorder *rec)
{
  g_hash_table_unref (rec->seen);
  g_array_unref (rec->request_times);
  g_free (rec);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Recorder, recorder_free)

static void
on_peer_message (BayeuxClient  *client,
                 BayeuxMessage *message,
                 gpointer       user_data)
{
  Recorder *rec = user_data;
  gint64 seq = data_seq (bayeux_message_get_data (message), "peer");
  guint times;

  if (seq < 0)
    {
      rec->n_strays++;
      return;
    }

  times = GPOINTER_TO_UINT (g_hash_table_lookup (rec->seen, GINT_TO_POINTER ((gint) seq)));
  if (times > 0)
    {
      rec->n_duplicates++;
      g_test_message ("message %" G_GINT64_FORMAT " of the peer received again", seq);
    }
  g_hash_table_insert (rec->seen, GINT_TO_POINTER ((gint) seq), GUINT_TO_POINTER (times + 1));
  rec->n_received++;
}

static void
on_request_queued (SoupSession *session,
                   SoupMessage *msg,
                   gpointer     user_data)
{
  Recorder *rec = user_data;
  gint64 now = g_get_monotonic_time ();

  g_array_append_val (rec->request_times, now);
}

static void
on_state_changed (BayeuxClient *client,
                  GParamSpec   *pspec,
                  gpointer      user_data)
{
  Recorder *rec = user_data;

  rec->n_state_changes++;
}

/* Sets the client's recovery settings and starts recording what it does
 * and what it receives on @channel. The handlers go with the client. */
static Recorder *
recorder_attach (BayeuxClient *client,
                 const char   *channel)
{
  Recorder *rec = g_new0 (Recorder, 1);
  g_autofree char *detailed = g_strconcat ("message::", channel, NULL);

  rec->seen = g_hash_table_new (NULL, NULL);
  rec->request_times = g_array_new (FALSE, FALSE, sizeof (gint64));

  bayeux_client_set_backoff_increment (client, BACKOFF_INCREMENT_MS);
  bayeux_client_set_max_backoff (client, MAX_BACKOFF_MS);
  bayeux_client_set_max_network_delay (client, RECOVERY_NETWORK_DELAY_MS);

  g_signal_connect (client, detailed, G_CALLBACK (on_peer_message), rec);
  g_signal_connect (client, "notify::state", G_CALLBACK (on_state_changed), rec);
  g_signal_connect (bayeux_client_get_session (client), "request-queued",
                    G_CALLBACK (on_request_queued), rec);

  return rec;
}

/* The fixture's client outlives the recorder (the teardown stops it). */
static void
recorder_detach (Recorder     *rec,
                 BayeuxClient *client)
{
  if (client == NULL)
    return;
  g_signal_handlers_disconnect_by_data (client, rec);
  g_signal_handlers_disconnect_by_data (bayeux_client_get_session (client), rec);
}

/* Requests queued since @since (monotonic µs), and the gaps between them
 * in ms, as text, for the log. */
static guint
recorder_requests_since (Recorder *rec,
                         gint64    since,
                         gint64    until,
                         char    **gaps_text)
{
  g_autoptr(GString) gaps = g_string_new (NULL);
  gint64 previous = since;
  guint n = 0;

  for (guint i = 0; i < rec->request_times->len; i++)
    {
      gint64 t = g_array_index (rec->request_times, gint64, i);

      if (t < since || t >= until)
        continue;
      g_string_append_printf (gaps, "%s+%" G_GINT64_FORMAT, n > 0 ? " " : "", (t - previous) / 1000);
      previous = t;
      n++;
    }

  if (gaps_text != NULL)
    *gaps_text = g_string_free (g_steal_pointer (&gaps), FALSE);
  return n;
}

static guint
recorder_times_seen (Recorder *rec,
                     gint64    seq)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (rec->seen, GINT_TO_POINTER ((gint) seq)));
}

/* Waiting for the client to be back --------------------------------------- */

typedef struct {
  BayeuxClient *client;
  Recorder     *rec;
  char         *old_client_id; /* NULL: any client id will do */
  guint         received_mark;
  gint64        connected_time;     /* monotonic µs, 0 until then */
  gint64        first_message_time; /* monotonic µs, 0 until then */
} RecoveryWait;

/* Done when the client is connected (with a client id other than the old
 * one, if given) and has received a message of the peer since: then its
 * subscription works again, and the peer is connected too. */
static gboolean
recovery_wait_is_done (gpointer data)
{
  RecoveryWait *rw = data;

  if (rw->connected_time == 0)
    {
      const char *id = bayeux_client_get_client_id (rw->client);

      if (bayeux_client_get_state (rw->client) != BAYEUX_CLIENT_STATE_CONNECTED ||
          (rw->old_client_id != NULL && g_strcmp0 (id, rw->old_client_id) == 0))
        return FALSE;
      rw->connected_time = g_get_monotonic_time ();
      rw->received_mark = rw->rec->n_received;
    }

  if (rw->rec->n_received > rw->received_mark)
    {
      rw->first_message_time = g_get_monotonic_time ();
      return TRUE;
    }
  return FALSE;
}

static gboolean
client_is_not_connected (gpointer data)
{
  return !client_is_connected (data);
}

typedef struct {
  Recorder *rec;
  guint     count;
} ReceivedWait;

static gboolean
received_wait_is_done (gpointer data)
{
  ReceivedWait *rw = data;

  return rw->rec->n_received >= rw->count;
}

static gint64
ms_between (gint64 from,
            gint64 to)
{
  return (to - from) / 1000;
}

/* fixture_wait(), but for @timeout_ms at most: a step that cannot succeed
 * any more does not use up the whole test's time. */
static gboolean
wait_at_most (Fixture    *fx,
              guint       timeout_ms,
              Predicate   done,
              gpointer    data,
              const char *what)
{
  g_autofree char *what_within = g_strdup_printf ("%s (within %u ms)", what, timeout_ms);
  gint64 saved_deadline = fx->deadline;
  gboolean ok;

  fx->deadline = MIN (fx->deadline, g_get_monotonic_time () + (gint64) timeout_ms * 1000);
  ok = fixture_wait (fx, done, data, what_within);
  fx->deadline = saved_deadline;

  return ok;
}

/* Starts the peer's stream on @channel and waits until our client receives
 * from it. */
static Child *
start_stream (Fixture    *fx,
              Recorder   *rec,
              const char *channel)
{
  g_autofree char *interval = g_strdup_printf ("%d", PEER_INTERVAL_MS);
  g_autofree char *name = g_strdup_printf ("%s-peer-stream", fx->kind->name);
  const char *args[] = { "--stream", channel, "--interval", interval, NULL };
  ReceivedWait rw = { rec, 1 };
  Child *peer;

  peer = fixture_spawn_peer_args (fx, name, args);
  if (peer == NULL || fixture_wait_line (fx, peer, "READY", 0) == NULL)
    return NULL;
  if (!wait_at_most (fx, RECOVERY_TIMEOUT_MS, received_wait_is_done, &rw,
                     "the first message of the peer's stream"))
    return NULL;

  return peer;
}

/* Server restart ---------------------------------------------------------- */

static void
test_server_restart (Fixture       *fx,
                     gconstpointer  data)
{
  const char *channel = "/interop/recovery/restart";
  g_autoptr(Recorder) rec = NULL;
  g_autofree char *old_id = NULL;
  g_autofree char *gaps = NULL;
  RecoveryWait rw = { 0, };
  guint errors_before, errors_outage, requests_outage, requests_recovery;
  gint64 t_kill, t_noticed, t_up, t_left;
  Child *peer;

  if (!fixture_is_ready (fx))
    return;

  rec = recorder_attach (fx->client, channel);
  if (!fixture_subscribe (fx, channel))
    goto out;
  peer = start_stream (fx, rec, channel);
  if (peer == NULL)
    goto out;

  /* Crash the server. */
  old_id = g_strdup (bayeux_client_get_client_id (fx->client));
  errors_before = fx->n_errors;
  t_kill = g_get_monotonic_time ();
  fixture_kill_server (fx);
  g_test_message ("server killed (SIGKILL), client id was %s", old_id);

  /* The client notices, by itself. */
  if (!wait_at_most (fx, NOTICE_TIMEOUT_MS, client_is_not_connected, fx->client,
                     "the client to notice the server is gone"))
    goto out;
  t_noticed = g_get_monotonic_time ();
  t_left = OUTAGE_MS - ms_between (t_kill, g_get_monotonic_time ());
  if (t_left > 0)
    run_until (NULL, NULL, (guint) t_left);

  /* The server comes back on the same port. */
  if (!fixture_start_server (fx))
    goto out;
  t_up = g_get_monotonic_time ();
  errors_outage = fx->n_errors - errors_before;
  requests_outage = recorder_requests_since (rec, t_kill, t_up, &gaps);

  rw = (RecoveryWait) { fx->client, rec, old_id, 0, 0, 0 };
  if (!wait_at_most (fx, RECOVERY_TIMEOUT_MS, recovery_wait_is_done, &rw,
                     "the client to receive messages after the restart"))
    {
      g_test_message ("state %d, client id %s", bayeux_client_get_state (fx->client),
                      bayeux_client_get_client_id (fx->client));
      goto out;
    }
  requests_recovery = recorder_requests_since (rec, t_up, rw.first_message_time, NULL);
  run_until (NULL, NULL, SETTLE_MS);

  g_test_message ("%s: outage %" G_GINT64_FORMAT " ms (kill -> READY); noticed after %" G_GINT64_FORMAT " ms; "
                  "during the outage %u requests (gaps in ms: %s) and %u errors",
                  fx->kind->name, ms_between (t_kill, t_up), ms_between (t_kill, t_noticed),
                  requests_outage, gaps, errors_outage);
  g_test_message ("%s: after READY: connected with a new client id (%s) in %" G_GINT64_FORMAT " ms, "
                  "first message in %" G_GINT64_FORMAT " ms, %u requests meanwhile; "
                  "%u state changes, %u errors in all",
                  fx->kind->name, bayeux_client_get_client_id (fx->client),
                  ms_between (t_up, rw.connected_time), ms_between (t_up, rw.first_message_time),
                  requests_recovery, rec->n_state_changes, fx->n_errors);

  g_assert_nonnull (bayeux_client_get_client_id (fx->client));
  g_assert_cmpstr (bayeux_client_get_client_id (fx->client), !=, old_id);
  g_assert_true (bayeux_client_is_subscribed (fx->client, channel));
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
  /* A WebSocket that died with its server is opened again, not given up
   * for long polling. */
  g_assert_cmpstr (bayeux_client_get_transport (fx->client), ==,
                   g_str_equal (fx->kind->name, "faye") ? "websocket" : "long-polling");
  /* It said so, and it backed off: no more than a request per
   * backoff-increment, with some slack, while nobody answered. */
  g_assert_cmpuint (errors_outage, >=, 1);
  g_assert_cmpuint (requests_outage, >=, 1);
  g_assert_cmpuint (requests_outage, <=, OUTAGE_MS / BACKOFF_INCREMENT_MS + 3);
  g_assert_cmpuint (rec->n_duplicates, ==, 0);
  g_assert_cmpuint (rec->n_strays, ==, 0);

out:
  recorder_detach (rec, fx->client);
}

/* Soak -------------------------------------------------------------------- */

typedef enum {
  FAULT_RESTART,    /* SIGKILL the server, start it again on its port */
  FAULT_DROP,       /* the server resets every connection, keeps its sessions */
  FAULT_RECONNECT,  /* bayeux_client_reconnect () */
} Fault;

static const char *
fault_name (Fault fault)
{
  switch (fault)
    {
    case FAULT_RESTART: return "server restart";
    case FAULT_DROP: return "connections reset";
    case FAULT_RECONNECT: return "bayeux_client_reconnect";
    default: return "?";
    }
}

typedef struct {
  Fixture  *fx;
  Recorder *rec;
  Child    *peer;
  GArray   *acked;     /* seqs of batch messages the server acknowledged */
  GArray   *unacked;   /* …and of those it did not (may arrive, at most once) */
  guint     n_batches;
  guint     n_faults[FAULT_RECONNECT + 1];
} Soak;

typedef struct {
  Recorder *rec;
  GArray   *seqs;
  guint     from;
} SeqsWait;

static gboolean
seqs_wait_is_done (gpointer data)
{
  SeqsWait *sw = data;

  for (guint i = sw->from; i < sw->seqs->len; i++)
    if (recorder_times_seen (sw->rec, g_array_index (sw->seqs, gint64, i)) == 0)
      return FALSE;
  return TRUE;
}

/* Appends the seqs of a comma-separated list (or "-") to @seqs. */
static gboolean
parse_seqs (const char *text,
            GArray     *seqs)
{
  g_auto(GStrv) items = NULL;

  if (g_str_equal (text, "-"))
    return TRUE;
  items = g_strsplit (text, ",", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      guint64 value;
      gint64 seq;

      if (!g_ascii_string_to_unsigned (items[i], 10, 0, G_MAXINT, &value, NULL))
        return FALSE;
      seq = (gint64) value;
      g_array_append_val (seqs, seq);
    }
  return TRUE;
}

/* The peer publishes batch @k; waits until our client received every
 * message of it that the server acknowledged. */
static gboolean
soak_batch (Soak  *soak,
            guint  k)
{
  Fixture *fx = soak->fx;
  g_autofree char *command = g_strdup_printf ("BATCH %u %u", k, SOAK_BATCH);
  g_autofree char *prefix = g_strdup_printf ("BATCH %u ", k);
  g_autofree char *what = g_strdup_printf ("our client to receive batch %u", k);
  g_auto(GStrv) fields = NULL;
  guint from = soak->peer->lines->len;
  guint acked_from = soak->acked->len;
  guint unacked_from = soak->unacked->len;
  SeqsWait sw = { soak->rec, soak->acked, acked_from };
  const char *line;

  if (!fixture_tell_peer (fx, soak->peer, command))
    return FALSE;
  line = fixture_wait_line_from (fx, soak->peer, prefix, from, BATCH_TIMEOUT_MS);
  if (line == NULL)
    return FALSE;
  fields = g_strsplit (line, " ", -1);
  if (g_strv_length (fields) != 4 ||
      !parse_seqs (fields[2], soak->acked) || !parse_seqs (fields[3], soak->unacked))
    {
      g_test_fail_printf ("bad line from the peer: %s", line);
      return FALSE;
    }
  soak->n_batches++;
  if (soak->unacked->len > unacked_from)
    g_test_message ("batch %u: the server acknowledged %u of %u messages",
                    k, soak->acked->len - acked_from, SOAK_BATCH);

  return wait_at_most (fx, BATCH_TIMEOUT_MS, seqs_wait_is_done, &sw, what);
}

/* Inflicts @fault, waits for the client to receive the peer's messages
 * again, then runs batch @k. */
static gboolean
soak_cycle (Soak  *soak,
            Fault  fault,
            guint  k)
{
  Fixture *fx = soak->fx;
  g_autofree char *old_id = g_strdup (bayeux_client_get_client_id (fx->client));
  RecoveryWait rw = { fx->client, soak->rec, NULL, 0, 0, 0 };
  guint errors_before = fx->n_errors;
  guint changes_before = soak->rec->n_state_changes;
  gint64 t_fault = g_get_monotonic_time ();
  gint64 t_up = t_fault;
  gboolean noticed = FALSE;
  guint requests;

  switch (fault)
    {
    case FAULT_RESTART:
      fixture_kill_server (fx);
      if (!wait_at_most (fx, NOTICE_TIMEOUT_MS, client_is_not_connected, fx->client,
                     "the client to notice the server is gone"))
        return FALSE;
      noticed = TRUE;
      if (!fixture_start_server (fx))
        return FALSE;
      t_up = g_get_monotonic_time ();
      rw.old_client_id = old_id;
      break;

    case FAULT_DROP:
      {
        guint from = fx->server->lines->len;

        if (!fixture_tell_peer (fx, fx->server, "DROP") ||
            fixture_wait_line_from (fx, fx->server, "DROPPED ", from, 5000) == NULL)
          return FALSE;
        /* A reset long poll may be sent again at once by libsoup on a new
         * connection: the client need not see anything. Give it time to. */
        run_until (client_is_not_connected, fx->client, 300);
        noticed = !client_is_connected (fx->client);
      }
      break;

    case FAULT_RECONNECT:
      bayeux_client_reconnect (fx->client);
      noticed = !client_is_connected (fx->client);
      rw.old_client_id = old_id;
      break;

    default:
      g_assert_not_reached ();
    }
  soak->n_faults[fault]++;

  if (!wait_at_most (fx, RECOVERY_TIMEOUT_MS, recovery_wait_is_done, &rw, "the client to receive messages again"))
    {
      g_test_message ("after %s: state %d, client id %s", fault_name (fault),
                      bayeux_client_get_state (fx->client), bayeux_client_get_client_id (fx->client));
      return FALSE;
    }
  requests = recorder_requests_since (soak->rec, t_fault, rw.first_message_time, NULL);
  g_test_message ("cycle %u, %s: %s%" G_GINT64_FORMAT " ms to receive again "
                  "(%u requests, %u errors, %u state changes)%s%s",
                  k, fault_name (fault), noticed ? "noticed; " : "",
                  ms_between (t_up, rw.first_message_time), requests,
                  fx->n_errors - errors_before, soak->rec->n_state_changes - changes_before,
                  rw.old_client_id != NULL ? "; new client id " : "",
                  rw.old_client_id != NULL ? bayeux_client_get_client_id (fx->client) : "");

  return soak_batch (soak, k);
}

/* VmRSS of this process, in kB (0 if unknown). */
static guint64
rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;
  guint64 kb = 0;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "\nVmRSS:");
  if (line != NULL)
    kb = g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10);
  return kb;
}

static void
test_soak (Fixture       *fx,
           gconstpointer  data)
{
  const char *channel = "/interop/recovery/soak";
  static const Fault faults[] = { FAULT_RESTART, FAULT_DROP, FAULT_RESTART, FAULT_RECONNECT };
  g_autoptr(Recorder) rec = NULL;
  g_autoptr(GArray) acked = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) unacked = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GString) missing = g_string_new (NULL);
  Soak soak = { fx, NULL, NULL, acked, unacked, 0, { 0, } };
  guint64 rss_start = 0, rss_end;
  gint64 t_start;
  guint n_missing = 0, n_twice = 0, k = 0;

  if (!fixture_is_ready (fx))
    return;
  fixture_set_time_limit (fx, SOAK_TIME_LIMIT_MS);

  rec = soak.rec = recorder_attach (fx->client, channel);
  if (!fixture_subscribe (fx, channel))
    goto out;
  soak.peer = start_stream (fx, rec, channel);
  if (soak.peer == NULL)
    goto out;

  /* Warm-up: a batch without a fault, then one of each fault. */
  if (!soak_batch (&soak, k++))
    goto out;
  for (guint i = 0; i < G_N_ELEMENTS (faults); i++)
    if (!soak_cycle (&soak, faults[i], k++))
      goto out;
  rss_start = rss_kb ();

  t_start = g_get_monotonic_time ();
  for (guint i = 0; i < SOAK_MIN_CYCLES || ms_between (t_start, g_get_monotonic_time ()) < SOAK_MS; i++)
    if (!soak_cycle (&soak, faults[i % G_N_ELEMENTS (faults)], k++))
      goto out;

  /* Anything repeated would come right after. */
  run_until (NULL, NULL, SETTLE_MS);
  rss_end = rss_kb ();

  for (guint i = 0; i < acked->len; i++)
    {
      gint64 seq = g_array_index (acked, gint64, i);
      guint times = recorder_times_seen (rec, seq);

      if (times != 1 && missing->len < 200)
        g_string_append_printf (missing, " %" G_GINT64_FORMAT "x%u", seq, times);
      if (times == 0)
        n_missing++;
      else if (times > 1)
        n_twice++;
    }

  g_test_message ("%s soak: %u batches (%u messages acknowledged, %u not) over %" G_GINT64_FORMAT " ms "
                  "after the warm-up; faults: %u server restarts, %u connection resets, %u reconnects",
                  fx->kind->name, soak.n_batches, acked->len, unacked->len,
                  ms_between (t_start, g_get_monotonic_time ()),
                  soak.n_faults[FAULT_RESTART], soak.n_faults[FAULT_DROP], soak.n_faults[FAULT_RECONNECT]);
  g_test_message ("%s soak: our client received %u messages of the peer (%u duplicates, %u strays), "
                  "made %u requests, had %u errors and %u state changes",
                  fx->kind->name, rec->n_received, rec->n_duplicates, rec->n_strays,
                  rec->request_times->len, fx->n_errors, rec->n_state_changes);
  g_test_message ("%s soak: VmRSS %" G_GUINT64_FORMAT " kB after the warm-up, %" G_GUINT64_FORMAT " kB at the end "
                  "(%+" G_GINT64_FORMAT " kB)",
                  fx->kind->name, rss_start, rss_end, (gint64) rss_end - (gint64) rss_start);
  if (fixture_tell_peer (fx, soak.peer, "STATS"))
    fixture_wait_line_from (fx, soak.peer, "STATS ", soak.peer->lines->len, 3000);

  if (n_missing > 0 || n_twice > 0)
    g_test_fail_printf ("of %u acknowledged batch messages, %u never arrived and %u arrived more than once "
                        "(seq x times):%s", acked->len, n_missing, n_twice, missing->str);
  g_assert_cmpuint (rec->n_duplicates, ==, 0);
  g_assert_cmpuint (rec->n_strays, ==, 0);
  g_assert_cmpuint (soak.n_faults[FAULT_RESTART], >=, 3);
  g_assert_cmpuint (soak.n_faults[FAULT_DROP], >=, 1);
  g_assert_cmpuint (soak.n_faults[FAULT_RECONNECT], >=, 1);
  /* Most of each batch must have been acknowledged for the check to mean
   * something. */
  g_assert_cmpuint (acked->len, >=, soak.n_batches * SOAK_BATCH * 9 / 10);
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
  g_assert_cmpuint (rss_start, >, 0);
  /* AddressSanitizer keeps freed memory in quarantine (up to 256 MiB): the
   * resident size then grows without a leak, and is not checked. */
  if (TEST_UNDER_ASAN)
    g_test_message ("VmRSS growth not checked under AddressSanitizer");
  else
    g_assert_cmpuint (rss_end, <, rss_start + RSS_GROWTH_LIMIT_KB);

out:
  recorder_detach (rec, fx->client);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* A failed check fails the test but lets the teardown stop the servers. */
  g_test_set_nonfatal_assertions ();

  if (!interop_init ("test-recovery"))
    return g_test_run ();

  for (guint i = 0; i < G_N_ELEMENTS (server_kinds); i++)
    {
      const ServerKind *kind = &server_kinds[i];
      static const struct {
        const char *name;
        void (*func) (Fixture *, gconstpointer);
      } tests[] = {
        { "server-restart", test_server_restart },
        { "soak", test_soak },
      };

      for (guint j = 0; j < G_N_ELEMENTS (tests); j++)
        {
          g_autofree char *path = g_strdup_printf ("/bayeux/interop/%s/%s", kind->name, tests[j].name);

          g_test_add (path, Fixture, kind, fixture_setup, tests[j].func, fixture_teardown);
        }
    }

  return g_test_run ();
}
