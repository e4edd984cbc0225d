/* test-subscriptions-interop.c: subscription handles, per-call ext and
 * pausing, against real Faye and CometD servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The servers (faye-server.js, cometd-server.js) count what they receive
 * by channel and keep the last message's ext (`COUNT`, `EXT` on their
 * stdin): the tests read what the server saw, not what the client says it
 * sent.
 */

#include <string.h>

#include "interop-utils.h"

#define PAUSE_MS    10000
#define N_PAUSED    20

/* Asks the server "@verb @key" and returns what its answer "@verb @key …"
 * says after the key; NULL (and the test failed) without an answer. */
static const char *
ask_server (Fixture    *fx,
            const char *verb,
            const char *key)
{
  guint from = fx->server->lines->len;
  g_autofree char *command = g_strdup_printf ("%s %s", verb, key);
  g_autofree char *prefix = g_strdup_printf ("%s %s ", verb, key);
  const char *line;

  if (!fixture_tell_peer (fx, fx->server, command))
    return NULL;
  line = fixture_wait_line_from (fx, fx->server, prefix, from, 5000);
  if (line == NULL)
    g_test_fail_printf ("%s: no answer to %s", fx->server->name, command);
  return line != NULL ? line + strlen (prefix) : NULL;
}

/* The number of messages the server received on @key, a channel (or
 * "channel client-id": from that client); -1 (and the test failed) if it
 * could not be asked. */
static gint64
server_count (Fixture    *fx,
              const char *key)
{
  const char *answer = ask_server (fx, "COUNT", key);
  guint64 value;

  if (answer == NULL)
    return -1;
  if (!g_ascii_string_to_unsigned (answer, 10, 0, G_MAXUINT, &value, NULL))
    {
      g_test_fail_printf ("%s: bad COUNT answer %s", fx->server->name, answer);
      return -1;
    }
  return (gint64) value;
}

/* The ext of the last message the server received on @channel (JSON
 * null if it had none). Returns: (transfer full) (nullable) */
static JsonNode *
server_ext (Fixture    *fx,
            const char *channel)
{
  const char *answer = ask_server (fx, "EXT", channel);

  return answer != NULL ? json_from_string (answer, NULL) : NULL;
}

typedef struct {
  BayeuxSubscription      *sub;
  BayeuxSubscriptionState  state;
} StateWait;

static gboolean
state_reached (gpointer data)
{
  StateWait *w = data;
  return bayeux_subscription_get_state (w->sub) == w->state;
}

static gboolean
wait_state (Fixture                 *fx,
            BayeuxSubscription      *sub,
            BayeuxSubscriptionState  state)
{
  StateWait w = { sub, state };
  return fixture_wait (fx, state_reached, &w, "a subscription's state");
}

static void
keep_message (BayeuxSubscription *sub,
              BayeuxMessage      *message,
              gpointer            inbox)
{
  g_ptr_array_add (inbox, bayeux_message_ref (message));
}

typedef struct {
  Fixture    *fx;
  const char *channel;
  gint64      n;
} CountWait;

static gboolean
server_count_reached (gpointer data)
{
  CountWait *w = data;
  return server_count (w->fx, w->channel) >= w->n;
}

/* Two handles on one channel: one /meta/subscribe; one cancelled, the
 * other still receives, and no /meta/unsubscribe until the last goes. */
static void
test_two_handles (Fixture       *fx,
                  gconstpointer  data)
{
  const char *channel = "/interop/handles";
  g_autoptr(GPtrArray) inbox_a = g_ptr_array_new_with_free_func ((GDestroyNotify) bayeux_message_unref);
  g_autoptr(GPtrArray) inbox_b = g_ptr_array_new_with_free_func ((GDestroyNotify) bayeux_message_unref);
  g_autoptr(BayeuxSubscription) a = NULL;
  g_autoptr(BayeuxSubscription) b = NULL;
  g_autoptr(JsonNode) one = make_data (1, "client");
  g_autoptr(JsonNode) two = make_data (2, "client");
  InboxWait iw;
  CountWait cw = { fx, "/meta/unsubscribe", 1 };
  gint64 subscribes;

  if (!fixture_is_ready (fx))
    return;
  subscribes = server_count (fx, "/meta/subscribe");
  a = bayeux_client_add_subscription (fx->client, channel, NULL);
  b = bayeux_client_add_subscription (fx->client, channel, NULL);
  g_signal_connect (a, "message", G_CALLBACK (keep_message), inbox_a);
  g_signal_connect (b, "message", G_CALLBACK (keep_message), inbox_b);
  if (!wait_state (fx, a, BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED) ||
      !wait_state (fx, b, BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED))
    return;
  g_assert_cmpint (server_count (fx, "/meta/subscribe"), ==, subscribes + 1);

  bayeux_client_publish (fx->client, channel, one);
  iw = (InboxWait) { inbox_b, 1 };
  fixture_wait (fx, inbox_wait_is_done, &iw, "the first message");
  g_assert_cmpuint (inbox_a->len, ==, 1);

  bayeux_subscription_cancel (a);
  bayeux_client_publish (fx->client, channel, two);
  iw = (InboxWait) { inbox_b, 2 };
  fixture_wait (fx, inbox_wait_is_done, &iw, "the second message");
  run_until (NULL, NULL, SETTLE_MS);
  g_assert_cmpuint (inbox_a->len, ==, 1);
  g_assert_cmpuint (inbox_b->len, ==, 2);
  g_assert_cmpint (data_seq (bayeux_message_get_data (g_ptr_array_index (inbox_b, 1)), "client"), ==, 2);
  g_assert_cmpint (server_count (fx, "/meta/unsubscribe"), ==, 0);
  g_assert_cmpint (server_count (fx, "/meta/subscribe"), ==, subscribes + 1);

  bayeux_subscription_cancel (b);
  fixture_wait (fx, server_count_reached, &cw, "the /meta/unsubscribe");
  g_assert_cmpint (server_count (fx, "/meta/unsubscribe"), ==, 1);
  g_assert_cmpuint (fx->n_errors, ==, 0);
}

/* An ext given to one publish reaches the server's extension; the next
 * publish carries none. */
static void
test_publish_ext (Fixture       *fx,
                  gconstpointer  data)
{
  const char *channel = "/interop/ext";
  g_autoptr(JsonNode) ext = json_from_string ("{\"props\": {\"priority\": \"high\", \"n\": 7}}", NULL);
  g_autoptr(JsonNode) seen = NULL;
  g_autoptr(JsonNode) seen_next = NULL;

  if (!fixture_is_ready (fx))
    return;
  {
    g_autoptr(Pending) pending = pending_new (1);
    g_autoptr(BayeuxMessage) reply = NULL;
    g_autoptr(GError) error = NULL;

    bayeux_client_publish_full_async (fx->client, channel, NULL, ext, NULL, pending_store_cb, pending_ref (pending));
    if (!fixture_wait (fx, pending_is_done, pending, "the publish with ext"))
      return;
    reply = bayeux_client_publish_full_finish (fx->client, pending->result, &error);
    g_assert_no_error (error);
  }
  seen = server_ext (fx, channel);
  g_assert_nonnull (seen);
  if (seen != NULL)
    g_assert_true (json_node_equal (seen, ext));

  {
    g_autoptr(Pending) pending = pending_new (1);

    bayeux_client_publish_async (fx->client, channel, NULL, NULL, pending_publish_cb, pending_ref (pending));
    fixture_wait (fx, pending_is_done, pending, "the publish without ext");
    g_assert_cmpuint (pending->n_failed, ==, 0);
  }
  g_assert_cmpint (server_count (fx, channel), ==, 2);
  seen_next = server_ext (fx, channel);
  g_assert_nonnull (seen_next);
  if (seen_next != NULL)
    g_assert_true (JSON_NODE_HOLDS_NULL (seen_next));
}

static gboolean
got_one (gpointer inbox)
{
  return ((GPtrArray *) inbox)->len >= 1;
}

static void
publish_seqs (BayeuxClient *publisher,
              const char   *channel,
              guint         first,
              guint         n)
{
  for (guint i = first; i < first + n; i++)
    {
      g_autoptr(JsonNode) data = make_data (i, "publisher");
      bayeux_client_publish (publisher, channel, data);
    }
}

/* A publisher (the second client) and our client's handle on @channel,
 * keeping what it receives in @inbox; NULL (and the test failed) if the
 * setup did not work. Returns: (transfer full) */
static BayeuxSubscription *
pause_setup (Fixture      *fx,
             const char   *channel,
             GPtrArray    *inbox,
             guint         pause_ms)
{
  g_autoptr(BayeuxSubscription) sub = NULL;

  if (!fixture_is_ready (fx))
    return NULL;
  fixture_set_time_limit (fx, pause_ms + 20000);
  fx->extra_client = fixture_start_client (fx, NULL, "publisher");
  if (!fixture_wait (fx, client_is_connected, fx->extra_client, "the publisher to connect"))
    return NULL;
  sub = bayeux_client_add_subscription (fx->client, channel, NULL);
  g_signal_connect (sub, "message", G_CALLBACK (keep_message), inbox);
  if (!wait_state (fx, sub, BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED))
    return NULL;
  return g_steal_pointer (&sub);
}

/* Resumes our client and checks that the @n messages published while it
 * was paused arrive, once, in order. */
static void
resume_and_check (Fixture    *fx,
                  GPtrArray  *inbox,
                  guint       n,
                  const char *what)
{
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  InboxWait iw = { inbox, n };

  g_assert_cmpuint (inbox->len, ==, 0);
  bayeux_client_set_paused (fx->client, FALSE);
  fixture_wait (fx, inbox_wait_is_done, &iw, "the messages published while paused");
  run_until (NULL, NULL, SETTLE_MS);
  for (guint i = 0; i < inbox->len; i++)
    {
      gint64 seq = data_seq (bayeux_message_get_data (g_ptr_array_index (inbox, i)), "publisher") - 1;
      g_array_append_val (seqs, seq);
    }
  check_sequence (seqs, n, what);
  g_assert_cmpuint (fx->n_errors, ==, 0);
}

/* Paused for 10 s while another client publishes: no /meta/connect
 * reaches the server, nothing is delivered; resumed, every message
 * arrives, once, in order. */
static void
test_pause (Fixture       *fx,
            gconstpointer  data)
{
  const char *channel = "/interop/pause";
  g_autoptr(GPtrArray) inbox = g_ptr_array_new_with_free_func ((GDestroyNotify) bayeux_message_unref);
  g_autoptr(BayeuxSubscription) sub = pause_setup (fx, channel, inbox, PAUSE_MS);
  g_autofree char *connect_key = NULL;   /* our client's connects, not the publisher's */
  gint64 connects, publishes;

  if (sub == NULL)
    return;
  /* A message ends the held /meta/connect: pause just after the next one
   * left, so that the pause starts with a fresh long poll. */
  publish_seqs (fx->extra_client, channel, 0, 1);
  fixture_wait (fx, got_one, inbox, "the first message");
  run_until (NULL, NULL, 200);
  bayeux_client_set_paused (fx->client, TRUE);
  connect_key = g_strdup_printf ("/meta/connect %s", bayeux_client_get_client_id (fx->client));
  g_ptr_array_set_size (inbox, 0);
  connects = server_count (fx, connect_key);
  publishes = server_count (fx, channel);

  publish_seqs (fx->extra_client, channel, 1, N_PAUSED / 2);
  run_until (NULL, NULL, PAUSE_MS / 2);
  publish_seqs (fx->extra_client, channel, 1 + N_PAUSED / 2, N_PAUSED / 2);
  run_until (NULL, NULL, PAUSE_MS / 2);

  g_assert_cmpint (server_count (fx, channel), ==, publishes + N_PAUSED);
  g_assert_cmpint (server_count (fx, connect_key), ==, connects);
  g_assert_true (bayeux_client_get_state (fx->client) == BAYEUX_CLIENT_STATE_CONNECTED);
  resume_and_check (fx, inbox, N_PAUSED, "our paused client");
  g_assert_cmpint (server_count (fx, connect_key), >, connects);
}

#define LONG_PAUSE_MS 25000

/* Paused past the time the server forgets a silent session (CometD:
 * maxInterval 15 s; Faye: 2 timeouts of 10 s after the last connect
 * arrived): the keep-alive connects keep it, so no new handshake, and
 * nothing published meanwhile is lost. */
static void
test_long_pause (Fixture       *fx,
                 gconstpointer  data)
{
  const char *channel = "/interop/long-pause";
  g_autoptr(GPtrArray) inbox = g_ptr_array_new_with_free_func ((GDestroyNotify) bayeux_message_unref);
  g_autoptr(BayeuxSubscription) sub = pause_setup (fx, channel, inbox, LONG_PAUSE_MS);
  g_autofree char *connect_key = NULL;
  gint64 handshakes, connects, during;

  if (sub == NULL)
    return;
  bayeux_client_set_paused (fx->client, TRUE);
  connect_key = g_strdup_printf ("/meta/connect %s", bayeux_client_get_client_id (fx->client));
  handshakes = server_count (fx, "/meta/handshake");
  connects = server_count (fx, connect_key);
  publish_seqs (fx->extra_client, channel, 1, N_PAUSED / 2);
  run_until (NULL, NULL, LONG_PAUSE_MS * 4 / 5);
  publish_seqs (fx->extra_client, channel, 1 + N_PAUSED / 2, N_PAUSED / 2);
  run_until (NULL, NULL, LONG_PAUSE_MS / 5);

  during = server_count (fx, connect_key) - connects;
  g_test_message ("%" G_GINT64_FORMAT " connects in %u ms paused", during, LONG_PAUSE_MS);
  g_assert_cmpint (during, >=, 1);   /* the keep-alives */
  g_assert_cmpint (during, <=, 4);   /* not a poll loop */
  resume_and_check (fx, inbox, N_PAUSED, "our client paused for long");
  g_assert_cmpint (server_count (fx, "/meta/handshake"), ==, handshakes);   /* the session was kept */
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

  if (!interop_init ("test-subscriptions-interop"))
    return g_test_run ();

  for (guint i = 0; i < G_N_ELEMENTS (server_kinds) * 2; i++)
    {
      const ServerKind *kind = i < G_N_ELEMENTS (server_kinds) ? &server_kinds[i]
                                                               : &server_kinds_long_polling[i - G_N_ELEMENTS (server_kinds)];
      static const struct {
        const char *name;
        void (*func) (Fixture *, gconstpointer);
      } tests[] = {
        { "two-handles", test_two_handles },
        { "publish-ext", test_publish_ext },
        { "pause-10s", test_pause },
        { "pause-25s", test_long_pause },
      };
      gboolean forced_long_polling = i >= G_N_ELEMENTS (server_kinds);

      for (guint j = 0; j < G_N_ELEMENTS (tests); j++)
        {
          g_autofree char *path = NULL;

          /* Forced to long polling: not the long pause; not CometD's pause,
           * by long polling anyway (its Node server has no WebSocket). */
          if (forced_long_polling &&
              (tests[j].func == test_long_pause || (tests[j].func == test_pause && g_str_equal (kind->name, "cometd"))))
            continue;
          path = g_strdup_printf ("/bayeux/interop/subscriptions/%s/%s", kind->label ? kind->label : kind->name,
                                  tests[j].name);
          g_test_add (path, Fixture, kind, fixture_setup, tests[j].func, fixture_teardown);
        }
    }

  return g_test_run ();
}
