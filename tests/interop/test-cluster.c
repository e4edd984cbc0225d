/* test-cluster.c: BayeuxClient against a clustered Faye server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts its own cluster on loopback: a redis-server on a free
 * port, and two Faye nodes (faye-server.js --redis PORT, Faye's faye-redis
 * engine) sharing it, each on a port of its own, with nothing in front of
 * them (no sticky sessions: any node serves any session). Our client is
 * given node A as its url and node B as its only fallback url.
 *
 *  - cross-node: our client handshakes and subscribes on node A; a real
 *    peer (Faye's Node client) publishes N messages on node B; ours must
 *    receive all of them, in order, once each.
 *
 *  - failover: node A is killed (SIGKILL, as a crash would) while our
 *    client holds a long poll there. Without the test calling anything on
 *    it, the client must move to node B (current-url), be connected again
 *    and keep its subscription; the N messages a peer then publishes on B
 *    must all arrive, none twice. The log says whether the client kept its
 *    session (the nodes share it through Redis) or handshook again, how
 *    long each step took after the kill, and how many errors it reported.
 *
 *  - failover-new-session: the same crash, but node B shares nothing with
 *    node A (B runs on Faye's in-memory engine, not on A's Redis): B does
 *    not know our session and answers the client's /meta/connect with
 *    `401:<id>:Unknown client`. The client, on its own, must handshake
 *    again on B (exactly once), get a new client id and resubscribe; its
 *    subscription is still there and the N messages a peer then publishes
 *    on B all arrive, in order, once each. Before the kill, a message a
 *    peer publishes on A checks that the subscription worked there.
 *
 * Needs redis-server (Debian package redis-server) in PATH, and the Node
 * packages faye-redis and redis (`npm ci --prefix tests/interop`): without
 * them the test fails, saying so; it does not skip.
 */

#include <string.h>

#include "interop-utils.h"

#define N_MESSAGES           20
#define BACKOFF_INCREMENT_MS 200
#define MAX_BACKOFF_MS       1000
#define CLUSTER_NETWORK_DELAY_MS 2000
#define REDIS_START_TIMEOUT_MS 5000
#define FAILOVER_TIMEOUT_MS  10000 /* for the client to be connected on B */
#define DELIVERY_TIMEOUT_MS  10000 /* for the peer's messages to arrive */

/* The cluster ------------------------------------------------------------- */

/* How node B is run: the test's data (NULL for a shared cluster). */
typedef enum {
  NODE_B_SHARED, /* on node A's Redis: the nodes share every session */
  NODE_B_ALONE,  /* Faye's in-memory engine: B knows nothing of A's sessions */
} NodeBMode;

typedef struct {
  Fixture  fx;         /* node A is fx.server, its URL fx.url; the client */
  Child   *redis;
  guint16  redis_port;
  Child   *node_b;
  guint16  port_b;
  char    *url_b;
} Cluster;

static const ServerKind *
faye_kind (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (server_kinds); i++)
    if (g_str_equal (server_kinds[i].name, "faye"))
      return &server_kinds[i];
  g_assert_not_reached ();
}

/* A TCP port on 127.0.0.1 that is free now (bound, then released). */
static guint16
free_port (GError **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return 0;
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, 0);
  if (!g_socket_bind (socket, address, FALSE, error))
    return 0;
  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return 0;

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

typedef struct {
  Child   *redis;
  guint16  port;
  gboolean up;
} RedisWait;

/* Done when Redis accepts a TCP connection (it listens once it is ready),
 * or has exited (its port was taken, say). */
static gboolean
redis_wait_is_done (gpointer data)
{
  RedisWait *rw = data;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnection) connection = NULL;

  if (rw->redis->exited)
    return TRUE;

  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 1);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", rw->port, NULL, NULL);
  rw->up = connection != NULL;

  return rw->up;
}

static gboolean
cluster_start_redis (Cluster *cl)
{
  for (guint attempt = 0; attempt < 5; attempt++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *port_text = NULL;
      RedisWait rw = { 0, };
      guint16 port = free_port (&error);

      if (port == 0)
        {
          g_test_fail_printf ("no free loopback port for redis-server: %s", error->message);
          return FALSE;
        }
      port_text = g_strdup_printf ("%u", port);
      {
        const char *argv[] = { "redis-server", "--port", port_text, "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", NULL };

        cl->redis = child_spawn_program ("redis", argv, &error);
      }
      if (cl->redis == NULL)
        {
          g_test_fail_printf ("could not start redis-server: %s", error->message);
          return FALSE;
        }

      rw = (RedisWait) { cl->redis, port, FALSE };
      run_until (redis_wait_is_done, &rw, REDIS_START_TIMEOUT_MS);
      if (rw.up)
        {
          cl->redis_port = port;
          return TRUE;
        }
      if (!cl->redis->exited)
        {
          g_test_fail_printf ("redis-server did not accept connections on 127.0.0.1:%u within %d ms",
                              port, REDIS_START_TIMEOUT_MS);
          return FALSE;
        }
      /* It exited: most likely someone took the port meanwhile. */
      g_test_message ("redis-server on port %u ended (%s); trying another port",
                      port, cl->redis->exit_text);
      g_clear_pointer (&cl->redis, child_stop);
    }

  g_test_fail_printf ("redis-server did not start (5 attempts, see the log)");
  return FALSE;
}

/* A Faye node on the cluster's Redis, or (@on_redis FALSE) on Faye's
 * in-memory engine, sharing nothing. */
static Child *
cluster_spawn_node (Cluster    *cl,
                    const char *name,
                    gboolean    on_redis)
{
  g_autofree char *script = g_build_filename (g_getenv ("BAYEUX_INTEROP_DIR"), "faye-server.js", NULL);
  g_autofree char *redis_port = g_strdup_printf ("%u", cl->redis_port);
  const char *args[] = { script, "--redis", redis_port, NULL };
  g_autoptr(GError) error = NULL;
  Child *node;

  if (!on_redis)
    args[1] = NULL;

  node = child_spawn (name, args, &error);
  if (node == NULL)
    g_test_fail_printf ("could not start %s: %s", script, error->message);

  return node;
}

/* Waits for a node's READY line; returns its port, or 0 (the test failed). */
static guint16
cluster_wait_node (Cluster *cl,
                   Child   *node)
{
  const char *ready = fixture_wait_line (&cl->fx, node, "READY ", START_TIMEOUT_MS);
  guint64 port;

  if (ready == NULL)
    return 0;
  if (!g_ascii_string_to_unsigned (ready + strlen ("READY "), 10, 1, G_MAXUINT16, &port, NULL))
    {
      g_test_fail_printf ("%s: bad READY line '%s'", node->name, ready);
      return 0;
    }

  return (guint16) port;
}

static void
cluster_setup (Cluster       *cl,
               gconstpointer  data)
{
  Fixture *fx = &cl->fx;
  const char *fallback[2] = { NULL, NULL };
  NodeBMode mode = GPOINTER_TO_INT (data);

  fx->kind = faye_kind ();
  fixture_set_time_limit (fx, TEST_TIMEOUT_MS);
  fx->peers = g_ptr_array_new ();
  fx->inboxes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);

  if (!cluster_start_redis (cl))
    return;

  /* Both nodes start together; each says READY once it is on Redis (or,
   * alone, once listening). */
  fx->server = cluster_spawn_node (cl, "node-A", TRUE);
  cl->node_b = cluster_spawn_node (cl, "node-B", mode == NODE_B_SHARED);
  if (fx->server == NULL || cl->node_b == NULL)
    return;
  fx->port = cluster_wait_node (cl, fx->server);
  if (fx->port == 0)
    return;
  cl->port_b = cluster_wait_node (cl, cl->node_b);
  if (cl->port_b == 0)
    return;
  fx->url = g_strdup_printf ("http://127.0.0.1:%u%s", fx->port, fx->kind->mount);
  cl->url_b = g_strdup_printf ("http://127.0.0.1:%u%s", cl->port_b, fx->kind->mount);
  g_test_message ("cluster: redis 127.0.0.1:%u, node A %s (on redis), node B %s (%s)",
                  cl->redis_port, fx->url, cl->url_b,
                  mode == NODE_B_SHARED ? "on the same redis: sessions shared"
                                        : "in-memory engine: shares nothing with A");

  /* Our client: node A, then node B. */
  fx->client = fixture_new_client (fx, NULL, "client");
  fallback[0] = cl->url_b;
  bayeux_client_set_fallback_urls (fx->client, fallback);
  bayeux_client_set_backoff_increment (fx->client, BACKOFF_INCREMENT_MS);
  bayeux_client_set_max_backoff (fx->client, MAX_BACKOFF_MS);
  bayeux_client_set_max_network_delay (fx->client, CLUSTER_NETWORK_DELAY_MS);
  bayeux_client_start (fx->client);
  if (!fixture_wait (fx, client_is_connected, fx->client, "the client to connect to node A"))
    return;

  if (g_strcmp0 (bayeux_client_get_current_url (fx->client), fx->url) != 0)
    g_test_fail_printf ("the client connected through %s, not its url %s",
                        bayeux_client_get_current_url (fx->client), fx->url);
}

/* The client first (it says goodbye to the node it is on), then the peers
 * and nodes, Redis last. */
static void
cluster_teardown (Cluster       *cl,
                  gconstpointer  data)
{
  fixture_teardown (&cl->fx, data);
  g_clear_pointer (&cl->node_b, child_stop);
  g_clear_pointer (&cl->redis, child_stop);
  g_clear_pointer (&cl->url_b, g_free);
}

/* What arrives ------------------------------------------------------------ */

/* The seqs of the peer's messages in @inbox, in order of arrival; the
 * number of messages that are not the peer's in @n_strays. */
static GArray *
inbox_seqs (GPtrArray *inbox,
            guint     *n_strays)
{
  GArray *seqs = g_array_new (FALSE, FALSE, sizeof (gint64));

  *n_strays = 0;
  for (guint i = 0; i < inbox->len; i++)
    {
      gint64 seq = data_seq (bayeux_message_get_data (g_ptr_array_index (inbox, i)), "peer");

      if (seq < 0)
        (*n_strays)++;
      g_array_append_val (seqs, seq);
    }

  return seqs;
}

/* Starts a peer on node B that publishes N_MESSAGES on @channel once told
 * GO, one after the other (each awaiting the server's reply). */
static Child *
spawn_publisher_on_b (Cluster    *cl,
                      const char *channel)
{
  g_autofree char *count = g_strdup_printf ("%d", N_MESSAGES);
  const char *args[] = { "--publish", channel, "--count", count, NULL };

  return fixture_spawn_peer_at (&cl->fx, "peer-on-B", cl->url_b, args);
}

/* cross-node ---------------------------------------------------------------- */

static void
test_cross_node (Cluster       *cl,
                 gconstpointer  data)
{
  Fixture *fx = &cl->fx;
  const char *channel = "/interop/cluster/cross-node";
  g_autofree char *client_id = NULL;
  g_autoptr(GArray) seqs = NULL;
  GPtrArray *inbox;
  InboxWait iw;
  guint n_strays, errors_before;
  Child *peer;

  if (!fixture_is_ready (fx))
    return;

  inbox = fixture_listen (fx, channel);
  if (!fixture_subscribe (fx, channel))
    return;
  client_id = g_strdup (bayeux_client_get_client_id (fx->client));
  errors_before = fx->n_errors;

  peer = spawn_publisher_on_b (cl, channel);
  if (peer == NULL || !fixture_tell_peer (fx, peer, "GO"))
    return;
  if (fixture_wait_line (fx, peer, "PUBLISHED", 0) == NULL)
    return;

  iw = (InboxWait) { inbox, N_MESSAGES };
  if (!fixture_wait (fx, inbox_wait_is_done, &iw, "the peer's messages, published on node B"))
    {
      g_test_message ("received %u of %d", inbox->len, N_MESSAGES);
      return;
    }
  run_until (NULL, NULL, SETTLE_MS);   /* late duplicates, strays */

  seqs = inbox_seqs (inbox, &n_strays);
  check_sequence (seqs, N_MESSAGES, "messages published on node B, received through node A");

  g_test_message ("cross-node: %u messages published on B received through A (%u strays), "
                  "client id kept: %s, current-url %s, error signals: %u",
                  inbox->len, n_strays,
                  g_strcmp0 (client_id, bayeux_client_get_client_id (fx->client)) == 0 ? "yes" : "no",
                  bayeux_client_get_current_url (fx->client), fx->n_errors - errors_before);
  g_assert_cmpstr (bayeux_client_get_current_url (fx->client), ==, fx->url);
  g_assert_cmpstr (bayeux_client_get_client_id (fx->client), ==, client_id);
  g_assert_cmpuint (fx->n_errors - errors_before, ==, 0);
}

/* failover ------------------------------------------------------------------ */

typedef struct {
  Cluster      *cl;
  gint64        t_kill;
  gint64        t_url;          /* current-url became B */
  gint64        t_unconnected;  /* left CONNECTED */
  gint64        t_connected;    /* CONNECTED again, on B */
  gint64        t_first;        /* first message after the kill */
  guint         n_url_changes;
  guint         n_id_changes;
  guint         n_handshaking;  /* entries into HANDSHAKING */
  GPtrArray    *inbox;
  guint         inbox_mark;     /* inbox->len at the kill */
} Failover;

static void
on_current_url (BayeuxClient *client,
                GParamSpec   *pspec,
                gpointer      user_data)
{
  Failover *fo = user_data;
  const char *url = bayeux_client_get_current_url (client);

  fo->n_url_changes++;
  g_test_message ("client: current-url %s, %" G_GINT64_FORMAT " ms after the kill",
                  url, (g_get_monotonic_time () - fo->t_kill) / 1000);
  if (fo->t_url == 0 && g_strcmp0 (url, fo->cl->url_b) == 0)
    fo->t_url = g_get_monotonic_time ();
}

static void
on_client_id (BayeuxClient *client,
              GParamSpec   *pspec,
              gpointer      user_data)
{
  Failover *fo = user_data;

  fo->n_id_changes++;
}

static void
on_state (BayeuxClient *client,
          GParamSpec   *pspec,
          gpointer      user_data)
{
  Failover *fo = user_data;
  BayeuxClientState state = bayeux_client_get_state (client);
  gint64 now = g_get_monotonic_time ();

  if (state == BAYEUX_CLIENT_STATE_HANDSHAKING)
    fo->n_handshaking++;
  if (state != BAYEUX_CLIENT_STATE_CONNECTED && fo->t_unconnected == 0)
    fo->t_unconnected = now;
  if (state == BAYEUX_CLIENT_STATE_CONNECTED && fo->t_unconnected != 0 && fo->t_connected == 0 &&
      g_strcmp0 (bayeux_client_get_current_url (client), fo->cl->url_b) == 0)
    fo->t_connected = now;
}

static void
on_failover_message (BayeuxClient  *client,
                     BayeuxMessage *message,
                     gpointer       user_data)
{
  Failover *fo = user_data;

  if (fo->t_first == 0)
    fo->t_first = g_get_monotonic_time ();
}

/* Connected again, through node B, after having lost the connection. */
static gboolean
failover_is_done (gpointer data)
{
  Failover *fo = data;

  return fo->t_connected != 0;
}

static gint64
ms_after_kill (Failover *fo,
               gint64    t)
{
  return t == 0 ? -1 : (t - fo->t_kill) / 1000;
}

static void
test_failover (Cluster       *cl,
               gconstpointer  data)
{
  Fixture *fx = &cl->fx;
  const char *channel = "/interop/cluster/failover";
  g_autofree char *detailed = g_strconcat ("message::", channel, NULL);
  g_autofree char *old_id = NULL;
  g_autoptr(GArray) seqs = NULL;
  g_autoptr(GHashTable) times = NULL;
  Failover fo = { cl, 0, };
  guint errors_before, n_strays, n_duplicates = 0, n_missing = 0, n_errors;
  gboolean in_order = TRUE, same_id;
  InboxWait iw;
  Child *peer;

  if (!fixture_is_ready (fx))
    return;

  fo.inbox = fixture_listen (fx, channel);
  if (!fixture_subscribe (fx, channel))
    return;
  old_id = g_strdup (bayeux_client_get_client_id (fx->client));

  /* The publisher on B is up before the kill (it handshakes on GO), so
   * that the figures below are the failover's, not Node's start-up. */
  peer = spawn_publisher_on_b (cl, channel);
  if (peer == NULL)
    return;
  run_until (NULL, NULL, SETTLE_MS);

  g_signal_connect (fx->client, "notify::current-url", G_CALLBACK (on_current_url), &fo);
  g_signal_connect (fx->client, "notify::client-id", G_CALLBACK (on_client_id), &fo);
  g_signal_connect (fx->client, "notify::state", G_CALLBACK (on_state), &fo);
  g_signal_connect (fx->client, detailed, G_CALLBACK (on_failover_message), &fo);
  errors_before = fx->n_errors;
  fo.inbox_mark = fo.inbox->len;

  /* Crash node A while our long poll is held there. */
  g_test_message ("killing node A (SIGKILL)");
  fo.t_kill = g_get_monotonic_time ();
  child_kill (fx->server);
  if (!fx->server->exited)
    {
      g_test_fail_printf ("node A did not die on SIGKILL");
      goto out;
    }

  {
    gint64 saved_deadline = fx->deadline;
    gboolean ok;

    fx->deadline = MIN (fx->deadline, fo.t_kill + (gint64) FAILOVER_TIMEOUT_MS * 1000);
    ok = fixture_wait (fx, failover_is_done, &fo, "the client to be connected again through node B");
    fx->deadline = saved_deadline;
    if (!ok)
      {
        g_autofree char *state = g_enum_to_string (BAYEUX_TYPE_CLIENT_STATE,
                                                   bayeux_client_get_state (fx->client));
        g_test_message ("after %d ms: state %s, current-url %s", FAILOVER_TIMEOUT_MS, state,
                        bayeux_client_get_current_url (fx->client));
        goto out;
      }
  }

  g_assert_cmpstr (bayeux_client_get_current_url (fx->client), ==, cl->url_b);
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
  g_assert_true (bayeux_client_is_subscribed (fx->client, channel));
  same_id = g_strcmp0 (old_id, bayeux_client_get_client_id (fx->client)) == 0;

  /* Now the peer publishes on B. */
  if (!fixture_tell_peer (fx, peer, "GO") || fixture_wait_line (fx, peer, "PUBLISHED", 0) == NULL)
    goto out;
  iw = (InboxWait) { fo.inbox, fo.inbox_mark + N_MESSAGES };
  {
    gint64 saved_deadline = fx->deadline;
    gboolean ok;

    fx->deadline = MIN (fx->deadline, g_get_monotonic_time () + (gint64) DELIVERY_TIMEOUT_MS * 1000);
    ok = fixture_wait (fx, inbox_wait_is_done, &iw, "the peer's messages, published on node B after the failover");
    fx->deadline = saved_deadline;
    if (!ok)
      g_test_message ("received %u of %d", fo.inbox->len - fo.inbox_mark, N_MESSAGES);
  }
  run_until (NULL, NULL, SETTLE_MS);   /* late duplicates, strays */

  /* Each of 0 … N-1 exactly once (in order, preferably). */
  seqs = inbox_seqs (fo.inbox, &n_strays);
  times = g_hash_table_new (NULL, NULL);
  for (guint i = fo.inbox_mark; i < seqs->len; i++)
    {
      gint64 seq = g_array_index (seqs, gint64, i);
      guint n;

      if (seq < 0)
        continue;
      n = GPOINTER_TO_UINT (g_hash_table_lookup (times, GINT_TO_POINTER ((gint) seq)));
      if (n > 0)
        n_duplicates++;
      g_hash_table_insert (times, GINT_TO_POINTER ((gint) seq), GUINT_TO_POINTER (n + 1));
      if (seq != (gint64) (i - fo.inbox_mark))
        in_order = FALSE;
    }
  for (guint seq = 0; seq < N_MESSAGES; seq++)
    if (!g_hash_table_contains (times, GINT_TO_POINTER ((gint) seq)))
      n_missing++;

  n_errors = fx->n_errors - errors_before;
  g_test_message ("failover: session %s (client id %s -> %s, %u client-id change(s), "
                  "%u handshake(s) after the kill)",
                  same_id ? "KEPT: the nodes share it through Redis, no re-handshake"
                          : "NOT kept: the client handshook again on node B and resubscribed",
                  old_id, bayeux_client_get_client_id (fx->client), fo.n_id_changes, fo.n_handshaking);
  g_test_message ("failover: after the kill: left CONNECTED at %" G_GINT64_FORMAT " ms, current-url B at %"
                  G_GINT64_FORMAT " ms, CONNECTED on B at %" G_GINT64_FORMAT " ms, first message at %"
                  G_GINT64_FORMAT " ms (the peer was told to publish once the client was connected)",
                  ms_after_kill (&fo, fo.t_unconnected), ms_after_kill (&fo, fo.t_url),
                  ms_after_kill (&fo, fo.t_connected), ms_after_kill (&fo, fo.t_first));
  g_test_message ("failover: %u messages received after it (%d published on B): %u missing, %u twice, "
                  "%u strays, %s; %u current-url change(s); error signals: %u",
                  fo.inbox->len - fo.inbox_mark, N_MESSAGES, n_missing, n_duplicates, n_strays,
                  in_order ? "in order" : "NOT in order", fo.n_url_changes, n_errors);

  if (n_missing > 0 || n_duplicates > 0 || n_strays > 0)
    g_test_fail_printf ("after the failover: %u of the peer's %d messages missing, %u received twice, %u strays",
                        n_missing, N_MESSAGES, n_duplicates, n_strays);
  g_assert_true (bayeux_client_is_subscribed (fx->client, channel));
  g_assert_cmpstr (bayeux_client_get_current_url (fx->client), ==, cl->url_b);

out:
  g_signal_handlers_disconnect_by_data (fx->client, &fo);
}

/* failover-new-session ------------------------------------------------------ */

typedef struct {
  Failover     fo;              /* first: the failover handlers above get &ns->fo == ns */
  const char  *channel;
  gint64       t_unknown_client;      /* first 401/402 to a /meta/connect on B */
  guint        n_unknown_client;
  char        *unknown_client_error;  /* its error text */
  guint        n_handshakes_b;        /* our /meta/handshake replies on B after the kill */
  guint        n_handshakes_b_ok;     /* …that were successful */
  guint        n_handshakes_elsewhere; /* …on another server (none expected) */
  gint64       t_handshake_b;         /* the first on B */
  char        *handshake_id;          /* the client id it gave */
  guint        n_subscribe_replies;   /* for the channel, after the kill */
  gint64       t_resubscribed;        /* the channel confirmed on B */
  gint64       t_go;                  /* the peer on B told to publish */
  gint64       t_last;                /* the N-th message after the kill */
} NewSession;

static gboolean
on_b (NewSession   *ns,
      BayeuxClient *client)
{
  return g_strcmp0 (bayeux_client_get_current_url (client), ns->fo.cl->url_b) == 0;
}

static void
on_meta_handshake (BayeuxClient  *client,
                   BayeuxMessage *reply,
                   gpointer       user_data)
{
  NewSession *ns = user_data;
  gboolean ok = bayeux_message_get_successful (reply);

  if (ns->fo.t_kill == 0)
    return;
  g_test_message ("client: /meta/handshake reply from %s, %s (client id %s), %" G_GINT64_FORMAT " ms after the kill",
                  bayeux_client_get_current_url (client),
                  ok ? "successful" : bayeux_message_get_error (reply),
                  bayeux_message_get_client_id (reply), ms_after_kill (&ns->fo, g_get_monotonic_time ()));
  if (!on_b (ns, client))
    {
      ns->n_handshakes_elsewhere++;
      return;
    }
  ns->n_handshakes_b++;
  if (ok)
    ns->n_handshakes_b_ok++;
  if (ns->t_handshake_b == 0)
    {
      ns->t_handshake_b = g_get_monotonic_time ();
      ns->handshake_id = g_strdup (bayeux_message_get_client_id (reply));
    }
}

static void
on_meta_connect (BayeuxClient  *client,
                 BayeuxMessage *reply,
                 gpointer       user_data)
{
  NewSession *ns = user_data;
  const char *error = bayeux_message_get_error (reply);

  if (ns->fo.t_kill == 0 || bayeux_message_get_successful (reply))
    return;
  g_test_message ("client: /meta/connect refused by %s: %s, %" G_GINT64_FORMAT " ms after the kill",
                  bayeux_client_get_current_url (client), error,
                  ms_after_kill (&ns->fo, g_get_monotonic_time ()));
  if (on_b (ns, client) && (g_str_has_prefix (error, "401:") || g_str_has_prefix (error, "402:")))
    {
      ns->n_unknown_client++;
      if (ns->t_unknown_client == 0)
        {
          ns->t_unknown_client = g_get_monotonic_time ();
          ns->unknown_client_error = g_strdup (error);
        }
    }
}

static void
on_meta_subscribe (BayeuxClient  *client,
                   BayeuxMessage *reply,
                   gpointer       user_data)
{
  NewSession *ns = user_data;
  gboolean ok = bayeux_message_get_successful (reply);

  if (ns->fo.t_kill == 0 || g_strcmp0 (bayeux_message_get_subscription (reply), ns->channel) != 0)
    return;
  ns->n_subscribe_replies++;
  g_test_message ("client: /meta/subscribe %s reply from %s, %s, %" G_GINT64_FORMAT " ms after the kill",
                  ns->channel, bayeux_client_get_current_url (client),
                  ok ? "successful" : bayeux_message_get_error (reply),
                  ms_after_kill (&ns->fo, g_get_monotonic_time ()));
  if (ok && on_b (ns, client) && ns->t_resubscribed == 0)
    ns->t_resubscribed = g_get_monotonic_time ();
}

static void
on_new_session_message (BayeuxClient  *client,
                        BayeuxMessage *message,
                        gpointer       user_data)
{
  NewSession *ns = user_data;

  /* fixture_listen()'s handler, connected before, has added it already. */
  if (ns->fo.t_kill != 0 && ns->t_last == 0 && ns->fo.inbox->len >= ns->fo.inbox_mark + N_MESSAGES)
    ns->t_last = g_get_monotonic_time ();
}

/* Connected again through node B, and the channel confirmed there. */
static gboolean
resubscribed_is_done (gpointer data)
{
  NewSession *ns = data;

  return ns->fo.t_connected != 0 && ns->t_resubscribed != 0;
}

/* fixture_wait(), within @timeout_ms from now at most. */
static gboolean
wait_within (Fixture    *fx,
             guint       timeout_ms,
             Predicate   done,
             gpointer    data,
             const char *what)
{
  gint64 saved_deadline = fx->deadline;
  gboolean ok;

  fx->deadline = MIN (fx->deadline, g_get_monotonic_time () + (gint64) timeout_ms * 1000);
  ok = fixture_wait (fx, done, data, what);
  fx->deadline = saved_deadline;

  return ok;
}

static void
test_failover_new_session (Cluster       *cl,
                           gconstpointer  data)
{
  Fixture *fx = &cl->fx;
  const char *channel = "/interop/cluster/failover-new-session";
  g_autofree char *detailed = g_strconcat ("message::", channel, NULL);
  g_autofree char *old_id = NULL;
  g_autoptr(GArray) seqs = NULL;
  g_autoptr(GArray) after = g_array_new (FALSE, FALSE, sizeof (gint64));
  NewSession ns = { { cl, 0, }, channel, };
  const char *args_a[] = { "--publish", channel, "--count", "1", NULL };
  guint errors_before, n_strays;
  gint64 seq;
  InboxWait iw;
  Child *peer_a, *peer_b;

  if (!fixture_is_ready (fx))
    return;

  ns.fo.inbox = fixture_listen (fx, channel);
  if (!fixture_subscribe (fx, channel))
    return;
  old_id = g_strdup (bayeux_client_get_client_id (fx->client));

  /* The subscription works on A: a peer there publishes one message. */
  peer_a = fixture_spawn_peer_at (fx, "peer-on-A", fx->url, args_a);
  if (peer_a == NULL || !fixture_tell_peer (fx, peer_a, "GO") ||
      fixture_wait_line (fx, peer_a, "PUBLISHED", 0) == NULL)
    return;
  iw = (InboxWait) { ns.fo.inbox, 1 };
  if (!wait_within (fx, DELIVERY_TIMEOUT_MS, inbox_wait_is_done, &iw, "the message published on node A"))
    return;
  seq = data_seq (bayeux_message_get_data (g_ptr_array_index (ns.fo.inbox, 0)), "peer");
  if (seq != 0)
    {
      g_test_fail_printf ("the message published on node A is not the peer's seq 0 (seq %" G_GINT64_FORMAT ")", seq);
      return;
    }

  /* The publisher on B is up before the kill (it handshakes on GO). */
  peer_b = spawn_publisher_on_b (cl, channel);
  if (peer_b == NULL)
    return;
  run_until (NULL, NULL, SETTLE_MS);

  g_signal_connect (fx->client, "notify::current-url", G_CALLBACK (on_current_url), &ns.fo);
  g_signal_connect (fx->client, "notify::client-id", G_CALLBACK (on_client_id), &ns.fo);
  g_signal_connect (fx->client, "notify::state", G_CALLBACK (on_state), &ns.fo);
  g_signal_connect (fx->client, detailed, G_CALLBACK (on_failover_message), &ns.fo);
  g_signal_connect (fx->client, detailed, G_CALLBACK (on_new_session_message), &ns);
  g_signal_connect (fx->client, "meta::/meta/handshake", G_CALLBACK (on_meta_handshake), &ns);
  g_signal_connect (fx->client, "meta::/meta/connect", G_CALLBACK (on_meta_connect), &ns);
  g_signal_connect (fx->client, "meta::/meta/subscribe", G_CALLBACK (on_meta_subscribe), &ns);
  errors_before = fx->n_errors;
  ns.fo.inbox_mark = ns.fo.inbox->len;

  /* Crash node A while our long poll is held there. */
  g_test_message ("killing node A (SIGKILL); node B does not know our session %s", old_id);
  ns.fo.t_kill = g_get_monotonic_time ();
  child_kill (fx->server);
  if (!fx->server->exited)
    {
      g_test_fail_printf ("node A did not die on SIGKILL");
      goto out;
    }

  if (!wait_within (fx, FAILOVER_TIMEOUT_MS, resubscribed_is_done, &ns,
                    "the client to be connected again through node B, resubscribed"))
    {
      g_autofree char *state = g_enum_to_string (BAYEUX_TYPE_CLIENT_STATE, bayeux_client_get_state (fx->client));

      g_test_message ("after %d ms: state %s, current-url %s, %u handshake(s) on B, %u 401/402, "
                      "%u subscribe repl(y/ies)", FAILOVER_TIMEOUT_MS, state,
                      bayeux_client_get_current_url (fx->client), ns.n_handshakes_b,
                      ns.n_unknown_client, ns.n_subscribe_replies);
      if (ns.fo.t_connected != 0 && ns.n_unknown_client == 0)
        g_test_message ("node B never answered 401/402 (Unknown client) and the client connected there "
                        "without a new handshake: B shared the session, the premise of this test is broken");
      goto out;
    }

  g_assert_cmpstr (bayeux_client_get_current_url (fx->client), ==, cl->url_b);
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
  /* The premise: B did not know the session, and said so. */
  if (ns.n_unknown_client == 0)
    {
      g_test_fail_printf ("node B never answered 401/402 (Unknown client) to our /meta/connect: "
                          "did it share the session after all?");
      goto out;
    }
  g_assert_cmpuint (ns.n_handshakes_elsewhere, ==, 0);
  g_assert_cmpuint (ns.n_handshakes_b, ==, 1);
  g_assert_cmpuint (ns.n_handshakes_b_ok, ==, 1);
  g_assert_nonnull (bayeux_client_get_client_id (fx->client));
  g_assert_cmpstr (bayeux_client_get_client_id (fx->client), !=, old_id);
  g_assert_cmpstr (bayeux_client_get_client_id (fx->client), ==, ns.handshake_id);
  g_assert_true (bayeux_client_is_subscribed (fx->client, channel));

  /* Now the peer publishes on B. */
  ns.t_go = g_get_monotonic_time ();
  if (!fixture_tell_peer (fx, peer_b, "GO") || fixture_wait_line (fx, peer_b, "PUBLISHED", 0) == NULL)
    goto out;
  iw = (InboxWait) { ns.fo.inbox, ns.fo.inbox_mark + N_MESSAGES };
  if (!wait_within (fx, DELIVERY_TIMEOUT_MS, inbox_wait_is_done, &iw,
                    "the peer's messages, published on node B after the failover"))
    g_test_message ("received %u of %d", ns.fo.inbox->len - ns.fo.inbox_mark, N_MESSAGES);
  run_until (NULL, NULL, SETTLE_MS);   /* late duplicates, strays */

  seqs = inbox_seqs (ns.fo.inbox, &n_strays);
  for (guint i = ns.fo.inbox_mark; i < seqs->len; i++)
    g_array_append_val (after, g_array_index (seqs, gint64, i));

  g_test_message ("failover-new-session: B answered %u time(s) '%s'; %u handshake(s) on B (%u successful), "
                  "%u elsewhere; client id %s -> %s (%u client-id change(s)); %u subscribe repl(y/ies) for %s; "
                  "error signals: %u",
                  ns.n_unknown_client, ns.unknown_client_error, ns.n_handshakes_b, ns.n_handshakes_b_ok,
                  ns.n_handshakes_elsewhere, old_id, bayeux_client_get_client_id (fx->client),
                  ns.fo.n_id_changes, ns.n_subscribe_replies, channel, fx->n_errors - errors_before);
  g_test_message ("failover-new-session: after the kill: left CONNECTED at %" G_GINT64_FORMAT " ms, current-url B at %"
                  G_GINT64_FORMAT " ms, 401/402 from B at %" G_GINT64_FORMAT " ms, handshake on B at %"
                  G_GINT64_FORMAT " ms, CONNECTED on B at %" G_GINT64_FORMAT " ms, resubscribed on B at %"
                  G_GINT64_FORMAT " ms",
                  ms_after_kill (&ns.fo, ns.fo.t_unconnected), ms_after_kill (&ns.fo, ns.fo.t_url),
                  ms_after_kill (&ns.fo, ns.t_unknown_client), ms_after_kill (&ns.fo, ns.t_handshake_b),
                  ms_after_kill (&ns.fo, ns.fo.t_connected), ms_after_kill (&ns.fo, ns.t_resubscribed));
  g_test_message ("failover-new-session: peer on B told to publish at %" G_GINT64_FORMAT " ms; first message at %"
                  G_GINT64_FORMAT " ms, all %d at %" G_GINT64_FORMAT " ms (%" G_GINT64_FORMAT " ms after GO); "
                  "%u received after the kill, %u strays; %u current-url change(s)",
                  ms_after_kill (&ns.fo, ns.t_go), ms_after_kill (&ns.fo, ns.fo.t_first), N_MESSAGES,
                  ms_after_kill (&ns.fo, ns.t_last), ns.t_last == 0 ? -1 : (ns.t_last - ns.t_go) / 1000,
                  after->len, n_strays, ns.fo.n_url_changes);

  /* Each of 0 … N-1 exactly once, in order (a stray is seq -1). */
  check_sequence (after, N_MESSAGES, "messages published on node B after the failover to a new session");
  g_assert_cmpuint (n_strays, ==, 0);
  g_assert_true (bayeux_client_is_subscribed (fx->client, channel));
  g_assert_cmpstr (bayeux_client_get_current_url (fx->client), ==, cl->url_b);
  g_assert_cmpuint (ns.n_handshakes_b, ==, 1);   /* none more while the messages came */

out:
  /* &ns.fo == &ns: this disconnects every handler above. */
  g_signal_handlers_disconnect_by_data (fx->client, &ns);
  g_free (ns.unknown_client_error);
  g_free (ns.handshake_id);
}

/* Prerequisites ------------------------------------------------------------- */

static char *cluster_problem;

static void
test_cluster_prerequisites (void)
{
  if (cluster_problem != NULL)
    g_test_fail_printf ("%s", cluster_problem);
}

static char *
check_cluster_prerequisites (void)
{
  static const char *packages[] = { "faye-redis", "redis" };
  g_autofree char *redis_server = g_find_program_in_path ("redis-server");

  if (redis_server == NULL)
    return g_strdup ("`redis-server` is not in PATH: the cluster tests run Faye nodes on a Redis server; "
                     "install it (Debian: `apt install redis-server`)");

  for (guint i = 0; i < G_N_ELEMENTS (packages); i++)
    {
      g_autofree char *path = g_build_filename (g_getenv ("BAYEUX_INTEROP_DIR"), "node_modules",
                                                packages[i], "package.json", NULL);

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_strdup_printf ("%s is missing: the Node packages are not all installed; "
                                "run `npm ci --prefix tests/interop` from the source root", path);
    }

  return NULL;
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (!interop_init (argv[0]))
    return g_test_run ();

  cluster_problem = check_cluster_prerequisites ();
  g_test_add_func ("/bayeux/interop/cluster/prerequisites", test_cluster_prerequisites);
  if (cluster_problem != NULL)
    {
      g_printerr ("%s: %s\n", argv[0], cluster_problem);
      return g_test_run ();
    }

  g_test_add ("/bayeux/interop/cluster/cross-node", Cluster, NULL,
              cluster_setup, test_cross_node, cluster_teardown);
  g_test_add ("/bayeux/interop/cluster/failover", Cluster, NULL,
              cluster_setup, test_failover, cluster_teardown);
  g_test_add ("/bayeux/interop/cluster/failover-new-session", Cluster, GINT_TO_POINTER (NODE_B_ALONE),
              cluster_setup, test_failover_new_session, cluster_teardown);

  return g_test_run ();
}
