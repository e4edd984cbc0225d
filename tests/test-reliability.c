/* test-reliability.c: recovery, network awareness, bounded queues and
 * storms, against the in-process test server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-utils.h"
#include "bayeux-client-private.h"

#include <string.h>

/* A GNetworkMonitor the test switches on and off. */
#define TEST_TYPE_MONITOR (test_monitor_get_type ())
G_DECLARE_FINAL_TYPE (TestMonitor, test_monitor, TEST, MONITOR, GObject)

struct _TestMonitor
{
  GObject  parent_instance;
  gboolean available;
};

enum { MON_PROP_0, MON_PROP_AVAILABLE, MON_PROP_METERED, MON_PROP_CONNECTIVITY };

static void test_monitor_iface_init (GNetworkMonitorInterface *iface);
static void test_monitor_initable_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestMonitor, test_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, test_monitor_initable_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR, test_monitor_iface_init))

static gboolean
test_monitor_initable_init_fn (GInitable *initable, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static void
test_monitor_initable_init (GInitableIface *iface)
{
  iface->init = test_monitor_initable_init_fn;
}

static gboolean
test_monitor_can_reach (GNetworkMonitor *monitor, GSocketConnectable *connectable,
                        GCancellable *cancellable, GError **error)
{
  return TEST_MONITOR (monitor)->available;
}

static void
test_monitor_iface_init (GNetworkMonitorInterface *iface)
{
  iface->can_reach = test_monitor_can_reach;
}

static void
test_monitor_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TestMonitor *self = TEST_MONITOR (object);

  switch (prop_id)
    {
    case MON_PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    case MON_PROP_METERED:
      g_value_set_boolean (value, FALSE);
      break;
    case MON_PROP_CONNECTIVITY:
      g_value_set_enum (value, self->available ? G_NETWORK_CONNECTIVITY_FULL : G_NETWORK_CONNECTIVITY_LOCAL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_monitor_class_init (TestMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_monitor_get_property;
  g_object_class_override_property (object_class, MON_PROP_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, MON_PROP_METERED, "network-metered");
  g_object_class_override_property (object_class, MON_PROP_CONNECTIVITY, "connectivity");
}

static void
test_monitor_init (TestMonitor *self)
{
  self->available = TRUE;
}

static void
test_monitor_set_available (TestMonitor *self, gboolean available)
{
  self->available = available;
  g_object_notify (G_OBJECT (self), "network-available");
  g_signal_emit_by_name (self, "network-changed", available);
}

/* ------------------------------------------------------------------------ */

typedef ClientFixture Fixture;

struct _FixtureExtra
{
  TestMonitor *monitor;
};

/* f->received: every message. */
static void
fixture_setup (Fixture *f, gconstpointer data)
{
  client_fixture_init (f, test_server_new ());
  f->x = g_new0 (FixtureExtra, 1);
  f->x->monitor = g_object_new (TEST_TYPE_MONITOR, NULL);
  f->client = g_object_new (BAYEUX_TYPE_CLIENT, "url", test_server_get_url (f->server),
                            "network-monitor", f->x->monitor,
                            "max-network-delay", 2000, "backoff-increment", 100, "max-backoff", 400, NULL);
  client_fixture_watch (f);
  client_fixture_keep_messages (f, "message");
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  client_fixture_teardown (f, data);
  g_object_unref (f->x->monitor);
  g_free (f->x);
}

/* ------------------------------------------------------------------------ */

static void
test_network_down_up (Fixture *f, gconstpointer data)
{
  guint requests;
  gint64 start;

  test_server_set_timeout (f->server, 30000);
  /* A large backoff: coming back must not wait for it. */
  g_object_set (f->client, "backoff-increment", 20000, "max-backoff", 20000, NULL);
  fixture_start_connected (f);

  test_monitor_set_available (f->x->monitor, FALSE);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_UNCONNECTED);
  g_assert_cmpuint (bayeux_client_get_requests_in_flight (f->client), ==, 0);
  requests = test_server_requests (f->server);
  test_wait_ms (1000);
  g_assert_cmpuint (test_server_requests (f->server), ==, requests);   /* no request at all */
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_NETWORK_UNAVAILABLE), ==, 1);
  g_assert_cmpuint (f->errors->len, ==, 1);

  start = g_get_monotonic_time ();
  test_monitor_set_available (f->x->monitor, TRUE);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_test_message ("reconnected %" G_GINT64_FORMAT " ms after the network came back",
                  (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_assert_cmpstr (bayeux_client_get_client_id (f->client), ==, "client-1");
}

static gboolean
connect_count_above (gpointer data)
{
  gpointer *args = data;
  Fixture *f = args[0];

  return test_server_count (f->server, "/meta/connect") > GPOINTER_TO_UINT (args[1]) + (args[2] != NULL) &&
         fixture_is_connected (f) && (args[2] != NULL ? test_server_ws_is_open (f->server) : fixture_server_holds_connect (f));
}

/* The network changes but stays up (a new address, another Wi-Fi): the
 * held long poll may be dead; the client connects again at once, without
 * an error: by long polling on a new connection (not the idle one a
 * publish left), over a WebSocket on the socket it has. Changes within a
 * second of a probe make one more probe when the second is over, not one
 * each. */
static void
test_network_changed (Fixture *f, gconstpointer data)
{
  gboolean websocket = data != NULL;
  guint connects, sockets, ws_sockets, after;
  gpointer args[3];

  test_server_set_timeout (f->server, 30000);
  if (websocket)
    {
      test_server_set_websocket (f->server, TRUE, TRUE);
      bayeux_client_start (f->client);
      g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
      for (int i = 0; i < 500 && g_strcmp0 (bayeux_client_get_transport (f->client), "websocket") != 0; i++)
        test_wait_ms (10);
      g_assert_cmpstr (bayeux_client_get_transport (f->client), ==, "websocket");
      test_wait_ms (200);
    }
  else
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BayeuxMessage) reply = NULL;

      fixture_start_connected (f);
      reply = fixture_publish (f, "/chat/demo", NULL, &error);   /* leaves an idle kept-alive connection */
      g_assert_no_error (error);
      g_assert_nonnull (reply);
    }
  connects = test_server_count (f->server, "/meta/connect");
  sockets = test_server_connections (f->server);
  ws_sockets = test_server_ws_connections (f->server);

  g_signal_emit_by_name (f->x->monitor, "network-changed", TRUE);   /* still available */
  args[0] = f;
  args[1] = GUINT_TO_POINTER (connects);
  args[2] = websocket ? f : NULL;   /* over a WebSocket: the immediate connect, then the held one */
  g_assert_true (test_wait_until (connect_count_above, args, 2000));
  if (websocket)
    g_assert_cmpuint (test_server_ws_connections (f->server), ==, ws_sockets);   /* the same socket */
  else
    g_assert_cmpuint (test_server_connections (f->server), >, sockets);          /* a new connection */
  g_assert_cmpuint (f->errors->len, ==, 0);

  /* Changes every 50 ms for 0.9 s, a second after: one probe at once, one
   * more when its second is over (each an immediate connect, then the next
   * long poll), not one per change. */
  test_wait_ms (1100);
  connects = test_server_count (f->server, "/meta/connect");
  for (int i = 0; i < 18; i++)
    {
      g_signal_emit_by_name (f->x->monitor, "network-changed", TRUE);
      test_wait_ms (50);
    }
  test_wait_ms (test_scaled_ms (1000));
  after = test_server_count (f->server, "/meta/connect") - connects;
  g_test_message ("%u connects after 18 changes in 0.9 s", after);
  g_assert_cmpuint (after, >=, 3);
  g_assert_cmpuint (after, <=, 4);
  g_assert_true (fixture_is_connected (f));
  g_assert_cmpuint (f->errors->len, ==, 0);
}

/* Waiting out a long backoff when the network changes: the client tries
 * again at once. */
static void
test_network_changed_unconnected (Fixture *f, gconstpointer data)
{
  gint64 changed_at;

  test_server_set_timeout (f->server, 30000);
  g_object_set (f->client, "backoff-increment", 20000, "max-backoff", 20000, NULL);
  fixture_start_connected (f);
  test_server_queue_raw (f->server, "/meta/connect", 500, "oops");
  test_server_release (f->server);
  g_assert_true (test_wait_until (fixture_is_unconnected, f, 5000));
  test_wait_ms (200);
  g_assert_false (fixture_is_connected (f));   /* waiting out the backoff */
  changed_at = g_get_monotonic_time ();
  g_signal_emit_by_name (f->x->monitor, "network-changed", TRUE);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_test_message ("connected %" G_GINT64_FORMAT " ms after the change", (g_get_monotonic_time () - changed_at) / 1000);
  g_assert_cmpint (g_get_monotonic_time () - changed_at, <, test_scaled_ms (2000) * 1000);
}

static void
test_network_down_at_start (Fixture *f, gconstpointer data)
{
  test_monitor_set_available (f->x->monitor, FALSE);
  bayeux_client_subscribe (f->client, "/n");
  bayeux_client_start (f->client);
  test_wait_ms (500);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_UNCONNECTED);
  g_assert_cmpuint (test_server_requests (f->server), ==, 0);
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_NETWORK_UNAVAILABLE), ==, 1);

  test_monitor_set_available (f->x->monitor, TRUE);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_cmpuint (test_server_count (f->server, "/meta/subscribe"), ==, 1);
}

typedef struct
{
  guint ok;
  guint failed;
  int   last_code;
} PublishTally;

static void
tally_publish (GObject *source, GAsyncResult *result, gpointer data)
{
  PublishTally *t = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = bayeux_client_publish_finish (BAYEUX_CLIENT (source), result, &error);

  if (reply != NULL)
    t->ok++;
  else
    {
      g_test_message ("publish failed: %s", error->message);
      t->failed++;
      t->last_code = error->code;
    }
}

static gboolean
tally_done (gpointer data)
{
  PublishTally *t = data;
  return t->ok + t->failed >= 3;
}

static void
test_publish_while_unconnected (Fixture *f, gconstpointer data)
{
  PublishTally t = { 0 };
  guint requests;

  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  test_monitor_set_available (f->x->monitor, FALSE);
  requests = test_server_requests (f->server);
  for (int i = 0; i < 3; i++)
    bayeux_client_publish_async (f->client, "/q", NULL, NULL, tally_publish, &t);
  test_wait_ms (300);
  g_assert_cmpuint (t.ok + t.failed, ==, 0);
  g_assert_cmpuint (test_server_requests (f->server), ==, requests);

  test_monitor_set_available (f->x->monitor, TRUE);
  g_assert_true (test_wait_until (tally_done, &t, 5000));
  g_assert_cmpuint (t.ok, ==, 3);
  g_assert_cmpuint (test_server_count (f->server, "/q"), ==, 3);
}

static void
test_queue_full (Fixture *f, gconstpointer data)
{
  PublishTally t = { 0 };

  bayeux_client_set_max_pending (f->client, 2);
  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  test_monitor_set_available (f->x->monitor, FALSE);
  for (int i = 0; i < 3; i++)
    bayeux_client_publish_async (f->client, "/q", NULL, NULL, tally_publish, &t);
  test_wait_ms (100);
  g_assert_cmpuint (t.failed, ==, 1);
  g_assert_cmpint (t.last_code, ==, BAYEUX_ERROR_QUEUE_FULL);

  /* fire-and-forget: through ::error */
  bayeux_client_publish (f->client, "/q", NULL);
  test_wait_ms (100);
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_QUEUE_FULL), ==, 1);

  test_monitor_set_available (f->x->monitor, TRUE);
  g_assert_true (test_wait_until (tally_done, &t, 5000));
  g_assert_cmpuint (t.ok, ==, 2);
}

static void
test_expired (Fixture *f, gconstpointer data)
{
  PublishTally t = { 0 };
  gint64 start;

  bayeux_client_set_max_pending_age (f->client, 300);
  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  test_monitor_set_available (f->x->monitor, FALSE);
  start = g_get_monotonic_time ();
  for (int i = 0; i < 3; i++)
    bayeux_client_publish_async (f->client, "/q", NULL, NULL, tally_publish, &t);
  g_assert_true (test_wait_until (tally_done, &t, 5000));
  g_assert_cmpuint (t.failed, ==, 3);
  g_assert_cmpint (t.last_code, ==, BAYEUX_ERROR_EXPIRED);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 290 * 1000);

  test_monitor_set_available (f->x->monitor, TRUE);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  test_wait_ms (100);
  g_assert_cmpuint (test_server_count (f->server, "/q"), ==, 0);
}

static gboolean
two_connects_more (gpointer data)
{
  gpointer *args = data;
  Fixture *f = args[0];
  return test_server_count (f->server, "/meta/connect") >= GPOINTER_TO_UINT (args[1]);
}

static void
test_suspend (Fixture *f, gconstpointer data)
{
  gpointer args[3];
  guint connects;
  gint64 wall = g_get_real_time (), mono = g_get_monotonic_time ();

  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  connects = test_server_count (f->server, "/meta/connect");

  /* Both clocks moved alike: nothing happens. */
  bayeux_client_check_clocks (f->client, wall, mono);
  bayeux_client_check_clocks (f->client, wall + 5 * G_USEC_PER_SEC, mono + 5 * G_USEC_PER_SEC);
  test_wait_ms (200);
  g_assert_cmpuint (test_server_count (f->server, "/meta/connect"), ==, connects);

  /* The wall clock jumped a minute while the monotonic one moved 5 s: a
   * suspend. The held poll is presumed dead; a new one leaves at once. */
  bayeux_client_check_clocks (f->client, wall + 65 * G_USEC_PER_SEC, mono + 10 * G_USEC_PER_SEC);
  args[0] = f;
  args[1] = GUINT_TO_POINTER (connects + 1);
  g_assert_true (test_wait_until (two_connects_more, args, 1000));
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
}

/* Storms: a server that fails at once must not make the client spin. */

static gboolean
always_500 (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  test_server_respond_raw (msg, 500, "Internal error");
  return TRUE;
}

static gboolean
connect_fails_without_advice (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/connect"))
    return FALSE;
  body = g_strdup_printf ("[{\"channel\":\"/meta/connect\",\"id\":\"%s\",\"successful\":false,\"error\":\"500::oops\"}]",
                          json_object_get_string_member (m, "id"));
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static gboolean
connect_returns_at_once (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/connect"))
    return FALSE;
  body = g_strdup_printf ("[{\"channel\":\"/meta/connect\",\"id\":\"%s\",\"successful\":true,"
                          "\"advice\":{\"reconnect\":\"retry\",\"interval\":0,\"timeout\":20000}}]",
                          json_object_get_string_member (m, "id"));
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static gboolean
garbage (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  test_server_respond_raw (msg, 200, "<html>not bayeux</html>");
  return TRUE;
}

static gboolean handshake_refused_without_advice (TestServer *, SoupServerMessage *, JsonArray *, gpointer);
static gboolean connect_always_unknown (TestServer *, SoupServerMessage *, JsonArray *, gpointer);

typedef struct
{
  TestServerHook hook;
  double         max_rate;   /* requests per second */
} Storm;

/* One request per retry: 3.3/s at most once the backoff is at its 400 ms
 * maximum (≥ 300 ms jittered), plus the first, quicker, retries. */
static const Storm storm_500 = { always_500, 6.0 };
static const Storm storm_garbage = { garbage, 6.0 };
static const Storm storm_connect_unsuccessful = { connect_fails_without_advice, 6.0 };
static const Storm storm_connect_not_held = { connect_returns_at_once, 6.0 };
static const Storm storm_handshake_refused = { handshake_refused_without_advice, 6.0 };
/* Three requests per retry (a handshake, the subscribe, a connect that gets 402). */
static const Storm storm_connect_unknown = { connect_always_unknown, 14.0 };
static gboolean subscribe_always_unknown (TestServer *, SoupServerMessage *, JsonArray *, gpointer);
static gboolean connect_advises_handshake (TestServer *, SoupServerMessage *, JsonArray *, gpointer);
/* A load balancer without sticky sessions: every subscribe lands on a node
 * that does not know the client (402, advice handshake); and a server whose
 * every successful connect advises a handshake. Two to three requests per
 * retry. */
static const Storm storm_subscribe_unknown = { subscribe_always_unknown, 14.0 };
static const Storm storm_connect_handshake = { connect_advises_handshake, 14.0 };

static void
test_storm (Fixture *f, gconstpointer data)
{
  const Storm *storm = data;
  TestServerHook hook = storm->hook;
  guint requests;
  double rate;

  /* backoff 100 ms more after each failure, up to 400 ms */
  test_server_set_hook (f->server, hook, NULL);
  bayeux_client_subscribe (f->client, "/s");
  bayeux_client_start (f->client);
  test_wait_ms (3000);
  requests = test_server_requests (f->server);
  rate = requests / 3.0;
  g_test_message ("storm: %u requests in 3 s (%.1f per second)", requests, rate);
  /* after the first few, one retry cycle (storm->requests_per_cycle
   * requests) per at least 300 ms (400 ms jittered down by at most 25 %) */
  g_assert_cmpfloat (rate, <=, storm->max_rate);
  g_assert_cmpuint (requests, >=, 3);   /* but it does keep trying */
}

static gboolean
handshake_refused_without_advice (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/handshake"))
    return FALSE;
  body = g_strdup_printf ("[{\"channel\":\"/meta/handshake\",\"id\":\"%s\",\"successful\":false,\"error\":\"500::busy\"}]",
                          json_object_get_string_member (m, "id"));
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static gboolean
connect_always_unknown (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);

  /* The server forgets every session as soon as it is made: each connect
   * gets 402 with advice handshake, interval 0. */
  if (g_str_equal (json_object_get_string_member (m, "channel"), "/meta/connect"))
    test_server_forget_clients (server);
  return FALSE;
}

static gboolean
subscribe_always_unknown (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/subscribe"))
    return FALSE;
  body = g_strdup_printf ("[{\"channel\":\"/meta/subscribe\",\"id\":\"%s\",\"successful\":false,"
                          "\"subscription\":\"/s\",\"error\":\"402::Unknown client\","
                          "\"advice\":{\"reconnect\":\"handshake\",\"interval\":0}}]",
                          json_object_get_string_member (m, "id"));
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static gboolean
connect_advises_handshake (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/connect"))
    return FALSE;
  body = g_strdup_printf ("[{\"channel\":\"/meta/connect\",\"id\":\"%s\",\"successful\":true,"
                          "\"advice\":{\"reconnect\":\"handshake\",\"interval\":0}}]",
                          json_object_get_string_member (m, "id"));
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static void
test_backoff (Fixture *f, gconstpointer data)
{
  g_autoptr(GArray) firsts = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 delay = 0;

  /* Grows by backoff-increment up to max-backoff (100, 200, … 400 ms),
   * each jittered to 75–100 % of the backoff, plus the interval (0). */
  for (int i = 1; i <= 6; i++)
    {
      gint64 backoff = MIN (100 * i, 400);
      delay = bayeux_client_next_failure_delay_for_testing (f->client);
      g_assert_cmpint (delay, >=, backoff * 3 / 4);
      g_assert_cmpint (delay, <=, backoff);
    }

  /* A thousand clients cut off together do not come back together: the
   * first retry delays of many fresh clients spread over the jitter range. */
  for (int i = 0; i < 200; i++)
    {
      g_autoptr(BayeuxClient) c = g_object_new (BAYEUX_TYPE_CLIENT, "url", "http://127.0.0.1:9/x",
                                                "network-monitor", f->x->monitor,
                                                "backoff-increment", 1000, NULL);
      gint64 d = bayeux_client_next_failure_delay_for_testing (c);
      g_array_append_val (firsts, d);
    }
  {
    gint64 lo = G_MAXINT64, hi = 0;
    for (guint i = 0; i < firsts->len; i++)
      {
        lo = MIN (lo, g_array_index (firsts, gint64, i));
        hi = MAX (hi, g_array_index (firsts, gint64, i));
      }
    g_test_message ("first retry of 200 clients: %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " ms", lo, hi);
    g_assert_cmpint (lo, >=, 750);
    g_assert_cmpint (hi, <=, 1000);
    g_assert_cmpint (hi - lo, >=, 150);
  }
}

static void
test_subscribe_lost_in_transport (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  test_server_set_timeout (f->server, 300);
  fixture_start_connected (f);
  test_server_queue_raw (f->server, "/meta/subscribe", 500, "down");
  bayeux_client_subscribe_async (f->client, "/lost", NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  g_assert_true (bayeux_client_subscribe_finish (f->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (test_server_count (f->server, "/meta/subscribe"), ==, 2);
  g_assert_true (bayeux_client_is_subscribed (f->client, "/lost"));

  /* and it works */
  test_server_deliver (f->server, "/lost", "1");
  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
}

static void
test_unsubscribe_lost_in_transport (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  test_server_set_timeout (f->server, 300);
  bayeux_client_subscribe (f->client, "/u");
  fixture_start_connected (f);
  test_wait_ms (100);
  test_server_queue_raw (f->server, "/meta/unsubscribe", 502, NULL);
  bayeux_client_unsubscribe_async (f->client, "/u", NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  g_assert_true (bayeux_client_unsubscribe_finish (f->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (test_server_count (f->server, "/meta/unsubscribe"), ==, 2);
}

static gboolean
publish_402_once (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/p402"))
    return FALSE;
  test_server_set_hook (server, NULL, NULL);
  test_server_forget_clients (server);
  body = g_strdup_printf ("[{\"channel\":\"/p402\",\"id\":\"%s\",\"successful\":false,\"error\":\"402::Unknown client\","
                          "\"advice\":{\"reconnect\":\"handshake\",\"interval\":0}}]",
                          json_object_get_string_member (m, "id"));
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static void
test_publish_unknown_client (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;

  test_server_set_timeout (f->server, 300);
  bayeux_client_subscribe (f->client, "/p402");
  fixture_start_connected (f);
  test_server_set_hook (f->server, publish_402_once, NULL);
  reply = fixture_publish (f, "/p402", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 2);
  g_assert_cmpuint (test_server_count (f->server, "/p402"), ==, 2);
  /* resubscribed before the publish went again: it was delivered */
  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
}

static gboolean
connect_500 (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/connect"))
    return FALSE;
  test_server_respond_raw (msg, 500, NULL);
  return TRUE;
}

static void
test_max_interval (Fixture *f, gconstpointer data)
{
  /* The server said maxInterval 500 ms: unconnected longer than that, the
   * session is gone; the client handshakes again. */
  test_server_queue_raw (f->server, "/meta/handshake", 200,
                         "[{\"channel\":\"/meta/handshake\",\"id\":\"1\",\"successful\":true,\"clientId\":\"x1\","
                         "\"version\":\"1.0\",\"supportedConnectionTypes\":[\"long-polling\"],"
                         "\"advice\":{\"reconnect\":\"retry\",\"interval\":0,\"timeout\":1000,\"maxInterval\":500}}]");
  test_server_set_hook (f->server, connect_500, NULL);
  bayeux_client_start (f->client);
  g_assert_true (fixture_wait_server_count (f, "/meta/handshake", 2, 5000));
}

/* Absurd advised delays (issue 11, point 3): interval 1e12 ms used to
 * silence the client for 24.8 days. Each is bounded (docs/states.md) and
 * reported once, not at every reply that repeats it; the client stays
 * connected and keeps polling. */
static void
test_advice_out_of_range (Fixture *f, gconstpointer data)
{
  const char *absurd = "\"advice\":{\"reconnect\":\"retry\",\"interval\":1e12,\"timeout\":1e12,"
                       "\"maxInterval\":1e15}";
  g_autofree char *handshake = g_strdup_printf (
    "[{\"channel\":\"/meta/handshake\",\"id\":\"1\",\"successful\":true,\"clientId\":\"x1\","
    "\"version\":\"1.0\",\"supportedConnectionTypes\":[\"long-polling\"],%s}]", absurd);
  g_autofree char *connect = g_strdup_printf (
    "[{\"channel\":\"/meta/connect\",\"id\":\"2\",\"successful\":true,\"clientId\":\"x1\",%s}]", absurd);
  gint64 delay;

  g_object_set (f->client, "backoff-increment", 1000, "max-backoff", 1000, NULL);
  test_server_queue_raw (f->server, "/meta/handshake", 200, handshake);
  test_server_queue_raw (f->server, "/meta/connect", 200, connect);
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  /* The handshake's advice and the connect's, the same: one report of
   * each field, the three of one reply in one ::error. */
  g_assert_true (test_wait_until (fixture_has_error, f, 1000));
  test_wait_ms (100);
  g_assert_cmpuint (f->errors->len, ==, 1);
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE), ==, 1);
  {
    const char *text = ((GError *) g_ptr_array_index (f->errors, 0))->message;
    g_auto(GStrv) parts = g_strsplit (text, "out of range", -1);

    g_assert_cmpuint (g_strv_length (parts), ==, 4);
    g_assert_nonnull (strstr (text, "(and 2 more: "));
  }
  /* The next retry waits the bounded interval and the backoff, no more. */
  delay = bayeux_client_next_failure_delay_for_testing (f->client);
  g_assert_cmpint (delay, <=, 5 * 60 * 1000 + 1000);
  g_assert_cmpint (delay, >=, 5 * 60 * 1000);
}

static gboolean
on_server_b (gpointer data)
{
  gpointer *args = data;
  Fixture *f = args[0];
  TestServer *b = args[1];

  return g_strcmp0 (bayeux_client_get_current_url (f->client), test_server_get_url (b)) == 0 &&
         bayeux_client_get_state (f->client) == BAYEUX_CLIENT_STATE_CONNECTED &&
         test_server_is_subscribed (b, "/f");
}

static void
test_failover (Fixture *f, gconstpointer data)
{
  TestServer *b = test_server_new ();
  const char *urls[] = { test_server_get_url (b), NULL };
  gpointer args[2] = { f, b };

  /* Server A dies; the client goes on with B, the next URL in its list,
   * at once (no backoff for a switch), handshakes there (B does not know
   * A's session: 402) and resubscribes. */
  bayeux_client_set_fallback_urls (f->client, urls);
  g_assert_cmpstr (bayeux_client_get_fallback_urls (f->client)[0], ==, test_server_get_url (b));
  g_object_set (f->client, "backoff-increment", 5000, "max-backoff", 5000, NULL);
  test_server_set_timeout (f->server, 30000);
  test_server_set_timeout (b, 30000);
  bayeux_client_subscribe (f->client, "/f");
  fixture_start_connected (f);
  g_assert_cmpstr (bayeux_client_get_current_url (f->client), ==, test_server_get_url (f->server));

  test_server_free (f->server);
  f->server = test_server_new ();   /* teardown frees one */
  g_assert_true (test_wait_until (on_server_b, args, 3000));
  g_assert_cmpuint (test_server_count (b, "/meta/handshake"), ==, 1);

  test_server_deliver (b, "/f", "1");
  g_assert_true (test_wait_until (fixture_has_received, f, 3000));

  bayeux_client_stop (f->client);
  test_wait_ms (50);
  test_server_free (b);
}

static gboolean
faye_401_once (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/subscribe"))
    return FALSE;
  /* As Faye answers a client it does not know: 401, no advice. */
  test_server_set_hook (server, NULL, NULL);
  test_server_forget_clients (server);
  body = g_strdup_printf ("[{\"channel\":\"/meta/subscribe\",\"id\":\"%s\",\"successful\":false,"
                          "\"subscription\":\"/u401\",\"error\":\"401:%s:Unknown client\"}]",
                          json_object_get_string_member (m, "id"), json_object_get_string_member (m, "clientId"));
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static void
test_faye_401 (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  test_server_set_hook (f->server, faye_401_once, NULL);
  bayeux_client_subscribe_async (f->client, "/u401", NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  /* Not a refusal: the client handshakes again and subscribes again. */
  g_assert_true (bayeux_client_subscribe_finish (f->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 2);
  g_assert_true (test_server_is_subscribed (f->server, "/u401"));
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_UNKNOWN_CLIENT), >=, 1);
}

typedef struct
{
  SoupServerMessage *held;
  char              *id;
  char              *client_id;
} HeldSubscribe;

static gboolean
release_old_subscribe (gpointer data)
{
  HeldSubscribe *h = data;
  g_autofree char *body = g_strdup_printf ("[{\"channel\":\"/meta/subscribe\",\"id\":\"%s\",\"clientId\":\"%s\","
                                           "\"successful\":true,\"subscription\":\"/old\"}]", h->id, h->client_id);

  test_server_respond_raw (h->held, 200, body);
  soup_server_message_unpause (h->held);
  g_clear_object (&h->held);
  return G_SOURCE_REMOVE;
}

static gboolean
stale_session (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  HeldSubscribe *h = user_data;
  JsonObject *m = json_array_get_object_element (request, 0);
  const char *channel = json_object_get_string_member (m, "channel");
  g_autofree char *body = NULL;

  if (g_str_equal (channel, "/meta/subscribe") && h->id == NULL)
    {
      /* The first subscribe's answer comes late: after the session it
       * belongs to is gone. */
      h->held = g_object_ref (msg);
      h->id = g_strdup (json_object_get_string_member (m, "id"));
      h->client_id = g_strdup (json_object_get_string_member (m, "clientId"));
      soup_server_message_pause (msg);
      g_timeout_add (300, release_old_subscribe, h);
      return TRUE;
    }
  if (g_str_equal (channel, "/meta/connect") && test_server_count (server, "/meta/handshake") == 1 &&
      test_server_count (server, "/meta/connect") == 2)
    {
      test_server_forget_clients (server);
      body = g_strdup_printf ("[{\"channel\":\"/meta/connect\",\"id\":\"%s\",\"successful\":true,"
                              "\"advice\":{\"reconnect\":\"handshake\",\"interval\":600}}]",
                              json_object_get_string_member (m, "id"));
      test_server_respond_raw (msg, 200, body);
      return TRUE;
    }
  return FALSE;
}

static void
test_stale_subscribe_reply (Fixture *f, gconstpointer data)
{
  HeldSubscribe h = { NULL, NULL, NULL };

  /* A subscribe answered (successfully) only after the client handshook
   * again must not count for the new session: it is sent again there. */
  test_server_set_timeout (f->server, 30000);
  test_server_set_hook (f->server, stale_session, &h);
  bayeux_client_subscribe (f->client, "/old");
  bayeux_client_start (f->client);
  g_assert_true (fixture_wait_resubscribed (f, "/old", 5000));
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 2);
  test_server_deliver (f->server, "/old", "1");
  g_assert_true (test_wait_until (fixture_has_received, f, 3000));
  test_server_set_hook (f->server, NULL, NULL);
  g_free (h.id);
  g_free (h.client_id);
}

/* The keep-alive race: a server or proxy closes a kept-alive connection
 * just as a request goes out on it (tinyproxy does it after every answer;
 * Node closes idle ones after 5 s). The hook closes the connection of a
 * request on race->channel without answering, as such a server does: only
 * on a connection that already carried an earlier exchange (a reused one),
 * once (RACE_REUSED_ONCE); every one (RACE_ALL); or the first one, on a
 * new connection (RACE_NEW_ONCE). */
typedef enum { RACE_REUSED_ONCE, RACE_ALL, RACE_NEW_ONCE } RaceMode;

typedef struct
{
  const char *channel;
  RaceMode    mode;
  GHashTable *ports;       /* remote ports of connections seen */
  guint       requests;    /* requests on the channel the server got */
  guint       closed;      /* and closed without an answer */
} Race;

static gboolean
close_connection (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  Race *race = user_data;
  JsonObject *first = json_array_get_object_element (request, 0);
  guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (soup_server_message_get_remote_address (msg)));
  gboolean reused = !g_hash_table_add (race->ports, GUINT_TO_POINTER (port));
  gboolean close;
  GIOStream *stream;

  if (g_strcmp0 (json_object_get_string_member_with_default (first, "channel", NULL), race->channel) != 0)
    return FALSE;
  race->requests++;
  switch (race->mode)
    {
    case RACE_REUSED_ONCE: close = reused && race->closed == 0; break;
    case RACE_NEW_ONCE:    close = !reused && race->closed == 0; break;
    case RACE_ALL:
    default:               close = TRUE; break;
    }
  if (!close)
    return FALSE;
  race->closed++;
  stream = soup_server_message_steal_connection (msg);
  g_io_stream_close (stream, NULL, NULL);
  g_object_unref (stream);
  return TRUE;
}

static void
test_keepalive_race (Fixture *f, gconstpointer data)
{
  g_autoptr(GHashTable) ports = g_hash_table_new (NULL, NULL);
  Race race = { "/race", RACE_REUSED_ONCE, ports, 0, 0 };
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(JsonNode) one = json_from_string ("1", NULL);

  test_server_set_hook (f->server, close_connection, &race);
  bayeux_client_subscribe_async (f->client, "/race", NULL, test_store_result, &result);
  fixture_start_connected (f);
  g_assert_true (bayeux_client_subscribe_finish (f->client, test_wait_result (&result, 5000), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  /* The publish goes on the connection the subscribe came back on: a
   * reused one. It is closed under it; the client sends it once more and
   * the application sees nothing of it. */
  reply = fixture_publish (f, "/race", one, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
  g_assert_cmpuint (race.closed, ==, 1);
  g_assert_cmpuint (race.requests, ==, 2);
  g_assert_cmpuint (f->errors->len, ==, 0);
  g_assert_cmpuint (f->received->len, ==, 1);

  /* Once more, not forever: when the second try is closed as well the
   * publish fails, and the request was sent exactly twice. */
  race.requests = race.closed = 0;
  race.mode = RACE_ALL;
  g_clear_pointer (&reply, bayeux_message_unref);
  reply = fixture_publish (f, "/race", one, &error);
  g_assert_null (reply);
  g_assert_nonnull (error);
  g_test_message ("closed twice: %s (%s %d)", error->message, g_quark_to_string (error->domain), error->code);
  g_assert_cmpuint (race.requests, ==, 2);
  g_assert_cmpuint (race.closed, ==, 2);
  test_server_set_hook (f->server, NULL, NULL);
}

/* A request whose own new connection is closed without an answer is not the
 * race: the server may have done what it asked. The transport does not send
 * it again; the client reports it and retries per advice, as for any
 * request lost in transport. */
static void
test_closed_new_connection (Fixture *f, gconstpointer data)
{
  g_autoptr(GHashTable) ports = g_hash_table_new (NULL, NULL);
  Race race = { "/meta/handshake", RACE_NEW_ONCE, ports, 0, 0 };
  const char *lp[] = { "long-polling", NULL };
  guint handshakes;

  /* Long polling only: the handshake is the first request on its
   * connection (else the refused upgrade before it took that one). */
  bayeux_client_set_transports (f->client, lp);
  test_server_set_hook (f->server, close_connection, &race);
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  handshakes = race.requests;
  g_assert_cmpuint (handshakes, ==, 1);
  g_assert_cmpuint (race.closed, ==, 1);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_cmpuint (race.requests, ==, 2);
  g_assert_cmpuint (f->errors->len, ==, 1);
  test_server_set_hook (f->server, NULL, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add ("/bayeux/reliability/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
#define ADD_STORM(path, storm) \
  g_test_add ("/bayeux/reliability/storm/" path, Fixture, &storm, fixture_setup, test_storm, fixture_teardown)
  ADD ("network/down-up", test_network_down_up);
  ADD ("network/down-at-start", test_network_down_at_start);
  g_test_add ("/bayeux/reliability/network/changed", Fixture, NULL, fixture_setup, test_network_changed,
              fixture_teardown);
  g_test_add ("/bayeux/reliability/network/changed-websocket", Fixture, "ws", fixture_setup, test_network_changed,
              fixture_teardown);
  ADD ("network/changed-unconnected", test_network_changed_unconnected);
  ADD ("pending/while-unconnected", test_publish_while_unconnected);
  ADD ("pending/queue-full", test_queue_full);
  ADD ("pending/expired", test_expired);
  ADD ("suspend", test_suspend);
  ADD_STORM ("http-500", storm_500);
  ADD_STORM ("garbage", storm_garbage);
  ADD_STORM ("connect-unsuccessful", storm_connect_unsuccessful);
  ADD_STORM ("connect-not-held", storm_connect_not_held);
  ADD_STORM ("handshake-refused", storm_handshake_refused);
  ADD_STORM ("connect-unknown-client", storm_connect_unknown);
  ADD_STORM ("subscribe-unknown-client", storm_subscribe_unknown);
  ADD_STORM ("connect-advises-handshake", storm_connect_handshake);
  ADD ("unknown-client/faye-401", test_faye_401);
  ADD ("unknown-client/stale-subscribe-reply", test_stale_subscribe_reply);
  ADD ("backoff", test_backoff);
  ADD ("lost/subscribe", test_subscribe_lost_in_transport);
  ADD ("lost/unsubscribe", test_unsubscribe_lost_in_transport);
  ADD ("unknown-client/publish", test_publish_unknown_client);
  ADD ("max-interval", test_max_interval);
  ADD ("advice/out-of-range", test_advice_out_of_range);
  ADD ("failover", test_failover);
  ADD ("keepalive-race", test_keepalive_race);
  ADD ("closed-new-connection", test_closed_new_connection);
#undef ADD
#undef ADD_STORM

  return g_test_run ();
}
