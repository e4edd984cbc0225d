/* test-interop.c: BayeuxClient against real Faye and CometD servers and peers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts a real Bayeux server (faye-server.js or
 * cometd-server.js, next to this file) on a free loopback port, connects a
 * BayeuxClient to it, and, where a test needs someone on the other end of
 * a channel, a real peer client (peer.js: the CometD JavaScript client or
 * Faye's Node client). The Node scripts are found through the environment
 * variable BAYEUX_INTEROP_DIR, which meson sets to this directory, and need
 * `npm ci --prefix tests/interop` to have been run.
 *
 * The servers count the TCP connections they accept and say so when asked
 * (`STATS` on their stdin), for the tests of how many the client uses.
 *
 * The processes, the fixture and the waiting are in interop-utils.c.
 */

#include <string.h>

#include "interop-utils.h"

#define N_MESSAGES           200
/* Node's http server closes a kept-alive connection once it has been idle
 * for keepAliveTimeout (5 s, the scripts' setting) plus a grace of 1 s
 * (Node ≥ 20); the keep-alive test stays idle for longer than that. */
#define KEEP_ALIVE_IDLE_MS   7000
#define N_CONNECTIONS_MESSAGES 100
#define MAX_CONNECTIONS      2     /* one for the long poll, one for the rest */

/* The tests -------------------------------------------------------------- */

/* A peer publishes; our client must get every message, once, in order. */
static void
test_receive (Fixture       *fx,
              gconstpointer  data)
{
  const char *channels[] = { "/interop/receive", NULL };
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  GPtrArray *inbox;
  InboxWait iw;
  Child *peer;

  if (!fixture_is_ready (fx))
    return;

  inbox = fixture_listen (fx, channels[0]);
  if (!fixture_subscribe (fx, channels[0]))
    return;

  peer = fixture_spawn_peer (fx, "--publish", channels, N_MESSAGES);
  if (peer == NULL || !fixture_tell_peer (fx, peer, "GO"))
    return;
  if (fixture_wait_line (fx, peer, "PUBLISHED ", 0) == NULL)
    return;

  iw = (InboxWait) { inbox, N_MESSAGES };
  fixture_wait (fx, inbox_wait_is_done, &iw, "all the messages");
  /* Anything repeated would come right after. */
  run_until (NULL, NULL, SETTLE_MS);

  for (guint i = 0; i < inbox->len; i++)
    {
      BayeuxMessage *message = g_ptr_array_index (inbox, i);
      gint64 seq = data_seq (bayeux_message_get_data (message), "peer");

      g_assert_cmpstr (bayeux_message_get_channel (message), ==, channels[0]);
      g_array_append_val (seqs, seq);
    }
  check_sequence (seqs, N_MESSAGES, "our client");
}

/* Our client publishes; a peer must get every message, once, in order. The
 * publishes are all started at once, without waiting for the replies: the
 * client must keep them in order. */
static void
test_publish (Fixture       *fx,
              gconstpointer  data)
{
  const char *channels[] = { "/interop/publish", NULL };
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(Pending) pending = pending_new (N_MESSAGES);
  Child *peer;

  if (!fixture_is_ready (fx))
    return;

  peer = fixture_spawn_peer (fx, "--subscribe", channels, N_MESSAGES);
  if (peer == NULL || fixture_wait_line (fx, peer, "READY", 0) == NULL)
    return;

  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autoptr(JsonNode) node = make_data (i, "glib");

      bayeux_client_publish_async (fx->client, channels[0], node, NULL,
                                   pending_publish_cb, pending_ref (pending));
    }

  if (!fixture_wait (fx, pending_is_done, pending, "the publish replies"))
    {
      g_test_message ("%u of %u publishes finished", pending->n_done, N_MESSAGES);
      return;
    }
  if (pending->n_failed > 0)
    g_test_fail_printf ("%u of %u publishes failed, the first with: %s",
                        pending->n_failed, N_MESSAGES, pending->first_error->message);

  if (fixture_wait_line (fx, peer, "DONE", 0) == NULL)
    g_test_message ("the peer received %u lines", peer->lines->len);

  for (guint i = 0; i < peer->lines->len; i++)
    {
      const char *line = g_ptr_array_index (peer->lines, i);
      g_autoptr(JsonNode) node = NULL;
      gint64 seq;

      if (!g_str_has_prefix (line, "MSG "))
        continue;
      node = json_from_string (line + strlen ("MSG "), NULL);
      seq = data_seq (node, "glib");
      g_array_append_val (seqs, seq);
    }
  check_sequence (seqs, N_MESSAGES, "the peer");
}

static char *
describe_channels (GPtrArray *inbox)
{
  g_autoptr(GString) text = g_string_new ("[");

  for (guint i = 0; i < inbox->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? " " : "",
                            bayeux_message_get_channel (g_ptr_array_index (inbox, i)));
  g_string_append_c (text, ']');

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
check_inbox (GPtrArray          *inbox,
             const char         *detail,
             const char * const *expected)
{
  g_autofree char *got = describe_channels (inbox);
  g_autofree char *want = NULL;
  g_autoptr(GString) text = g_string_new ("[");

  for (guint i = 0; expected[i] != NULL; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? " " : "", expected[i]);
  g_string_append_c (text, ']');
  want = g_string_free (g_steal_pointer (&text), FALSE);

  if (g_strcmp0 (got, want) != 0)
    g_test_fail_printf ("handler for message::%s received %s, expected %s", detail, got, want);
}

typedef struct {
  GPtrArray *wild_one;
  GPtrArray *wild_ab;
  GPtrArray *deep;
} WildWait;

static gboolean
wild_wait_is_done (gpointer data)
{
  WildWait *ww = data;

  return ww->wild_one->len >= 1 && ww->wild_ab->len >= 1 && ww->deep->len >= 1;
}

/* Wildcard subscriptions: the handler for the one-segment wildcard under
 * /wild gets /wild/a but not /wild/a/b, the any-depth one under /deep gets
 * /deep/a/b. /wild/a/b is subscribed to on its own, so the server does
 * deliver it to us: what is checked is our client's dispatch, not the
 * server's routing. (No two subscriptions overlap: cometd-nodejs-server
 * sends a message once per matching subscription.) */
static void
test_wildcards (Fixture       *fx,
                gconstpointer  data)
{
  /* Published in this order, one message each. */
  const char *channels[] = { "/wild/a/b", "/wild/a", "/deep/a/b", NULL };
  const char *wild_one_expected[] = { "/wild/a", NULL };
  const char *wild_ab_expected[] = { "/wild/a/b", NULL };
  const char *deep_expected[] = { "/deep/a/b", NULL };
  GPtrArray *wild_one, *wild_ab, *deep;
  WildWait ww;
  Child *peer;

  if (!fixture_is_ready (fx))
    return;

  wild_one = fixture_listen (fx, "/wild/*");
  wild_ab = fixture_listen (fx, "/wild/a/b");
  deep = fixture_listen (fx, "/deep/**");
  if (!fixture_subscribe (fx, "/wild/*") ||
      !fixture_subscribe (fx, "/wild/a/b") ||
      !fixture_subscribe (fx, "/deep/**"))
    return;

  peer = fixture_spawn_peer (fx, "--publish", channels, 1);
  if (peer == NULL || !fixture_tell_peer (fx, peer, "GO"))
    return;
  if (fixture_wait_line (fx, peer, "PUBLISHED ", 0) == NULL)
    return;

  ww = (WildWait) { wild_one, wild_ab, deep };
  fixture_wait (fx, wild_wait_is_done, &ww, "the wildcard messages");
  run_until (NULL, NULL, SETTLE_MS);

  check_inbox (wild_one, "/wild/*", wild_one_expected);
  check_inbox (wild_ab, "/wild/a/b", wild_ab_expected);
  check_inbox (deep, "/deep/**", deep_expected);
}

/* The servers refuse every channel under /forbidden: subscribing and
 * publishing there must fail with BAYEUX_ERROR_REFUSED and say why. */
static void
test_refused (Fixture       *fx,
              gconstpointer  data)
{
  const char *channel = "/forbidden/x";
  g_autoptr(Pending) subscribed = pending_new (1);
  g_autoptr(Pending) published = pending_new (1);
  g_autoptr(JsonNode) node = make_data (0, "glib");
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(GError) error = NULL;

  if (!fixture_is_ready (fx))
    return;

  bayeux_client_subscribe_async (fx->client, channel, NULL, pending_store_cb, pending_ref (subscribed));
  if (!fixture_wait (fx, pending_is_done, subscribed, "the reply to subscribing /forbidden/x"))
    return;
  g_assert_false (bayeux_client_subscribe_finish (fx->client, subscribed->result, &error));
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);
  if (error != NULL)
    {
      g_test_message ("subscribe error: %s", error->message);
      g_assert_cmpstr (error->message, !=, "");
    }
  g_assert_false (bayeux_client_is_subscribed (fx->client, channel));
  g_clear_error (&error);

  bayeux_client_publish_async (fx->client, channel, node, NULL, pending_store_cb, pending_ref (published));
  if (!fixture_wait (fx, pending_is_done, published, "the reply to publishing on /forbidden/x"))
    return;
  reply = bayeux_client_publish_finish (fx->client, published->result, &error);
  g_assert_null (reply);
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);
  if (error != NULL)
    {
      g_test_message ("publish error: %s", error->message);
      g_assert_cmpstr (error->message, !=, "");
    }

  /* Refusals are not connection failures. */
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
}

/* Disconnecting must not wait for the pending long poll to come back. */
static void
test_disconnect (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(Pending) pending = pending_new (1);
  g_autoptr(GError) error = NULL;
  gint64 start, elapsed;

  if (!fixture_is_ready (fx))
    return;

  /* Let the next /meta/connect go out and be held by the server. */
  run_until (NULL, NULL, 500);
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);

  start = g_get_monotonic_time ();
  bayeux_client_disconnect_async (fx->client, NULL, pending_store_cb, pending_ref (pending));
  if (!fixture_wait (fx, pending_is_done, pending, "disconnect_async to complete"))
    return;
  elapsed = pending->done_time - start;
  g_test_message ("disconnect_async completed in %" G_GINT64_FORMAT " ms", elapsed / 1000);

  g_assert_true (bayeux_client_disconnect_finish (fx->client, pending->result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (elapsed, <, G_USEC_PER_SEC);
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
}

/* Publishes {"seq": @seq, "from": "glib"} on @channel. */
static void
publish_seq (BayeuxClient *client,
             const char   *channel,
             guint         seq,
             Pending      *pending)
{
  g_autoptr(JsonNode) node = make_data (seq, "glib");

  bayeux_client_publish_async (client, channel, node, NULL,
                               pending_publish_cb, pending_ref (pending));
}

typedef struct {
  BayeuxClient *client;
  const char   *channel; /* it subscribes and publishes there */
  GPtrArray    *inbox;
} KeepAliveClient;

/* Each client publishes message @seq on its channel; waits for the replies
 * (which must be successes) and for each client to have received @seq + 1
 * messages. */
static gboolean
keep_alive_round (Fixture         *fx,
                  KeepAliveClient *clients,
                  guint            n_clients,
                  guint            seq)
{
  g_autoptr(Pending) pending = pending_new (n_clients);
  g_autofree char *what = g_strdup_printf ("the replies to publishing message %u", seq);

  for (guint i = 0; i < n_clients; i++)
    publish_seq (clients[i].client, clients[i].channel, seq, pending);

  if (!fixture_wait (fx, pending_is_done, pending, what))
    return FALSE;
  if (pending->n_failed > 0)
    {
      g_test_fail_printf ("publishing message %u: %u of %u publishes failed, the first with: %s",
                          seq, pending->n_failed, n_clients, pending->first_error->message);
      return FALSE;
    }

  for (guint i = 0; i < n_clients; i++)
    {
      InboxWait iw = { clients[i].inbox, seq + 1 };
      g_autofree char *what_in = g_strdup_printf ("%s to receive message %u",
                                                  client_name (clients[i].client), seq);

      if (!fixture_wait (fx, inbox_wait_is_done, &iw, what_in))
        return FALSE;
    }

  return TRUE;
}

/* Node's http server closes a kept-alive connection after ~6 s idle. A
 * client that then sends on it, or on a connection it believes is still
 * open, must not surface that: after staying idle longer than that, a
 * publish must still succeed and arrive, with no ::error at all.
 *
 * Two clients run side by side through the same idle time: the fixture's
 * (its own session, which closes idle connections itself after 4 s) and
 * one on a session that keeps idle connections for libsoup's default 60 s,
 * so that the server is the one to close them. */
static void
test_keep_alive (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(SoupSession) session = NULL;
  KeepAliveClient clients[2];
  ConnStats before, after, end;
  gboolean ok;

  if (!fixture_is_ready (fx))
    return;

  session = soup_session_new_with_options ("max-conns-per-host", 2,
                                           "idle-timeout", 60,
                                           "timeout", 0,
                                           NULL);
  soup_session_add_feature_by_type (session, SOUP_TYPE_COOKIE_JAR);
  fx->extra_client = fixture_start_client (fx, session, "client-60s-idle");
  if (!fixture_wait (fx, client_is_connected, fx->extra_client, "the second client to connect"))
    return;

  clients[0] = (KeepAliveClient) { fx->client, "/interop/keep-alive/default", NULL };
  clients[1] = (KeepAliveClient) { fx->extra_client, "/interop/keep-alive/idle-60s", NULL };
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      clients[i].inbox = fixture_listen_on (fx, clients[i].client, clients[i].channel);
      if (!fixture_subscribe_on (fx, clients[i].client, clients[i].channel))
        return;
    }

  ok = keep_alive_round (fx, clients, G_N_ELEMENTS (clients), 0) &&
       fixture_server_stats (fx, &before);
  if (ok)
    {
      g_test_message ("before the idle time: %u connections open (two clients), %u in all",
                      before.current, before.total);

      /* Idle, the long polls still running. */
      run_until (NULL, NULL, KEEP_ALIVE_IDLE_MS);

      ok = fixture_server_stats (fx, &after);
    }
  if (ok)
    {
      g_test_message ("after %d ms idle: %u connections open, %u in all",
                      KEEP_ALIVE_IDLE_MS, after.current, after.total);
      ok = keep_alive_round (fx, clients, G_N_ELEMENTS (clients), 1);
    }
  if (ok)
    {
      /* Anything repeated would come right after. */
      run_until (NULL, NULL, SETTLE_MS);

      for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
        {
          g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));

          for (guint j = 0; j < clients[i].inbox->len; j++)
            {
              BayeuxMessage *message = g_ptr_array_index (clients[i].inbox, j);
              gint64 seq = data_seq (bayeux_message_get_data (message), "glib");

              g_array_append_val (seqs, seq);
            }
          check_sequence (seqs, 2, client_name (clients[i].client));
          g_assert_cmpint (bayeux_client_get_state (clients[i].client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
        }

      if (fixture_server_stats (fx, &end))
        g_test_message ("at the end: %u connections open, at most %u at once (two clients), %u in all",
                        end.current, end.max, end.total);
    }

  /* Whatever went wrong above, the clients must not have complained. */
  g_assert_cmpuint (fx->n_errors, ==, 0);
}

typedef struct {
  GPtrArray **inboxes;
  guint       n_inboxes;
  guint       count;
} InboxesWait;

static gboolean
inboxes_wait_is_done (gpointer data)
{
  InboxesWait *iw = data;
  guint total = 0;

  for (guint i = 0; i < iw->n_inboxes; i++)
    total += iw->inboxes[i]->len;

  return total >= iw->count;
}

/* Never more than two connections to the server at once (one for the long
 * poll, one for the rest), even with many publishes in flight on several
 * channels: the server counts the TCP connections it accepts. */
static void
test_connections (Fixture       *fx,
                  gconstpointer  data)
{
  const char *channels[] = { "/interop/connections/a", "/interop/connections/b", "/interop/connections/c" };
  GPtrArray *inboxes[G_N_ELEMENTS (channels)];
  g_autoptr(Pending) pending = pending_new (N_CONNECTIONS_MESSAGES);
  InboxesWait iw;
  ConnStats stats;

  if (!fixture_is_ready (fx))
    return;

  for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
    {
      inboxes[i] = fixture_listen (fx, channels[i]);
      if (!fixture_subscribe (fx, channels[i]))
        return;
    }

  /* Let the next /meta/connect go out and be held by the server. */
  run_until (NULL, NULL, 500);

  /* All at once, round the channels: message i goes to channel i % 3. */
  for (guint i = 0; i < N_CONNECTIONS_MESSAGES; i++)
    publish_seq (fx->client, channels[i % G_N_ELEMENTS (channels)], i, pending);

  if (!fixture_wait (fx, pending_is_done, pending, "the publish replies"))
    {
      g_test_message ("%u of %u publishes finished", pending->n_done, N_CONNECTIONS_MESSAGES);
      return;
    }
  if (pending->n_failed > 0)
    g_test_fail_printf ("%u of %u publishes failed, the first with: %s",
                        pending->n_failed, N_CONNECTIONS_MESSAGES, pending->first_error->message);

  iw = (InboxesWait) { inboxes, G_N_ELEMENTS (inboxes), N_CONNECTIONS_MESSAGES };
  fixture_wait (fx, inboxes_wait_is_done, &iw, "all the messages");
  run_until (NULL, NULL, SETTLE_MS);

  /* Channel k gets messages k, k + 3, k + 6…, in order: as i / 3, those
   * are 0, 1, 2… */
  for (guint k = 0; k < G_N_ELEMENTS (channels); k++)
    {
      g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
      guint n_expected = (N_CONNECTIONS_MESSAGES + G_N_ELEMENTS (channels) - 1 - k) / G_N_ELEMENTS (channels);
      g_autofree char *what = g_strdup_printf ("%s (seq / 3)", channels[k]);

      for (guint j = 0; j < inboxes[k]->len; j++)
        {
          BayeuxMessage *message = g_ptr_array_index (inboxes[k], j);
          gint64 seq = data_seq (bayeux_message_get_data (message), "glib");

          g_assert_cmpstr (bayeux_message_get_channel (message), ==, channels[k]);
          seq = seq >= 0 && seq % G_N_ELEMENTS (channels) == k ? seq / (gint64) G_N_ELEMENTS (channels) : -1;
          g_array_append_val (seqs, seq);
        }
      check_sequence (seqs, n_expected, what);
    }

  /* The long poll is still running. */
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
  g_assert_cmpuint (fx->n_errors, ==, 0);

  if (!fixture_server_stats (fx, &stats))
    return;
  g_test_message ("%s server: at most %u connections at once, %u in all, %u open now",
                  fx->kind->name, stats.max, stats.total, stats.current);
  g_assert_cmpuint (stats.max, >=, 1);
  g_assert_cmpuint (stats.max, <=, MAX_CONNECTIONS);
}

static void
on_request_queued (SoupSession *session,
                   SoupMessage *msg,
                   guint       *counts)
{
  /* [0]: POSTs, [1]: upgrades */
  counts[soup_message_get_method (msg) == SOUP_METHOD_POST ? 0 : 1]++;
}

/* The transport in use: WebSocket on Faye (which offers it), long polling
 * on cometd-nodejs-server (which does not: its upgrade is refused), long
 * polling when forced. Where the handshake goes, seen by a second client
 * on a session of the test's: over the socket on Faye with the WebSocket
 * first (not one POST before it is connected); by HTTP and then the
 * upgrade with long polling first; on cometd-nodejs-server the upgrade
 * refused, then by HTTP. Then a round trip with a peer on it. */
static void
test_transport (Fixture       *fx,
                gconstpointer  data)
{
  const char *channels[] = { "/interop/transport", NULL };
  gboolean faye = g_str_equal (fx->kind->name, "faye");
  gboolean websocket = faye && (fx->kind->transports == NULL || strstr (fx->kind->transports, "websocket") != NULL);
  gboolean websocket_first = fx->kind->transports == NULL || g_str_has_prefix (fx->kind->transports, "websocket");
  const char *expected = websocket ? "websocket" : "long-polling";
  g_autoptr(SoupSession) session = soup_session_new ();
  guint counts[2] = { 0, 0 };
  BayeuxClient *probe;
  GPtrArray *inbox;
  InboxWait iw;
  Child *peer;

  if (!fixture_is_ready (fx))
    return;

  g_assert_cmpstr (bayeux_client_get_transport (fx->client), ==, expected);

  /* CometD servers tie the session to the BAYEUX_BROWSER cookie. */
  soup_session_add_feature_by_type (session, SOUP_TYPE_COOKIE_JAR);
  g_signal_connect (session, "request-queued", G_CALLBACK (on_request_queued), counts);
  probe = fixture_start_client (fx, session, "probe");
  if (fixture_wait (fx, client_is_connected, probe, "the probe client to connect"))
    {
      g_test_message ("%s: %u POSTs and %u upgrades until connected", fx->kind->label ? fx->kind->label : fx->kind->name,
                      counts[0], counts[1]);
      g_assert_cmpstr (bayeux_client_get_transport (probe), ==, expected);
      if (websocket && websocket_first)
        {
          g_assert_cmpuint (counts[0], ==, 0);   /* the handshake and the connect over the socket */
          g_assert_cmpuint (counts[1], ==, 1);
        }
      else if (websocket)
        {
          g_assert_cmpuint (counts[0], ==, 1);   /* the handshake by HTTP, then the socket */
          g_assert_cmpuint (counts[1], ==, 1);
        }
      else
        {
          g_assert_cmpuint (counts[0], >=, 2);   /* handshake and connect by HTTP */
          g_assert_cmpuint (counts[1], ==, websocket_first ? 1 : 0);   /* refused: no WebSocket there */
        }
    }
  bayeux_client_stop (probe);
  g_signal_handlers_disconnect_by_data (session, counts);
  g_object_unref (probe);

  inbox = fixture_listen (fx, channels[0]);
  if (!fixture_subscribe (fx, channels[0]))
    return;
  peer = fixture_spawn_peer (fx, "--publish", channels, 20);
  if (peer == NULL || !fixture_tell_peer (fx, peer, "GO"))
    return;
  iw = (InboxWait) { inbox, 20 };
  fixture_wait (fx, inbox_wait_is_done, &iw, "the peer's messages");
  g_assert_cmpuint (inbox->len, ==, 20);
  /* Still on it: nothing made the client fall back. */
  g_assert_cmpstr (bayeux_client_get_transport (fx->client), ==, expected);
  g_assert_cmpuint (fx->n_errors, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* A failed check fails the test but lets the teardown stop the servers. */
  g_test_set_nonfatal_assertions ();

  if (!interop_init ("test-interop"))
    return g_test_run ();

  for (guint i = 0; i < G_N_ELEMENTS (server_kinds) * 2 + G_N_ELEMENTS (server_kinds_long_polling_first); i++)
    {
      const ServerKind *kind = i < G_N_ELEMENTS (server_kinds) ? &server_kinds[i]
                               : i < G_N_ELEMENTS (server_kinds) * 2
                                   ? &server_kinds_long_polling[i - G_N_ELEMENTS (server_kinds)]
                                   : &server_kinds_long_polling_first[i - G_N_ELEMENTS (server_kinds) * 2];
      static const struct {
        const char *name;
        void (*func) (Fixture *, gconstpointer);
      } tests[] = {
        { "receive-200", test_receive },
        { "publish-200", test_publish },
        { "wildcards", test_wildcards },
        { "refused", test_refused },
        { "disconnect", test_disconnect },
        { "connections", test_connections },
        { "keep-alive", test_keep_alive },
        { "transport", test_transport },
      };

      for (guint j = 0; j < G_N_ELEMENTS (tests); j++)
        {
          g_autofree char *path = g_strdup_printf ("/bayeux/interop/%s/%s", kind->label ? kind->label : kind->name,
                                                   tests[j].name);

          g_test_add (path, Fixture, kind, fixture_setup, tests[j].func, fixture_teardown);
        }
    }

  return g_test_run ();
}
