/* test-subscriptions.c: subscription handles, the list model, per-call
 * ext, and pausing, against the in-process test server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-utils.h"
#include "bayeux-client-private.h"

typedef ClientFixture Fixture;

/* Counts a handle's ::message emissions into an int. */
static void
count_message (BayeuxSubscription *sub,
               BayeuxMessage      *message,
               gpointer            user_data)
{
  (*(int *) user_data)++;
}

static gboolean
state_is (BayeuxSubscription      *sub,
          BayeuxSubscriptionState  state)
{
  return bayeux_subscription_get_state (sub) == state;
}

static gboolean
is_subscribed (gpointer sub)
{
  return state_is (sub, BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED);
}

static gboolean
is_pending (gpointer sub)
{
  return state_is (sub, BAYEUX_SUBSCRIPTION_STATE_PENDING);
}

static gboolean
is_refused (gpointer sub)
{
  return state_is (sub, BAYEUX_SUBSCRIPTION_STATE_REFUSED);
}

typedef struct
{
  int  *counter;
  int   target;
} CountAtLeast;

static gboolean
count_at_least (gpointer data)
{
  CountAtLeast *c = data;
  return *c->counter >= c->target;
}

static gboolean
wait_count (int *counter, int target)
{
  CountAtLeast c = { counter, target };
  return test_wait_until (count_at_least, &c, 5000);
}

/* Two handles on one channel share one server subscription; cancelling
 * one leaves the other receiving, and the server is told only when the
 * last goes. */
static void
test_two_handles (Fixture *f, gconstpointer data)
{
  g_autoptr(BayeuxSubscription) a = NULL;
  g_autoptr(BayeuxSubscription) b = NULL;
  int got_a = 0, got_b = 0;

  fixture_start_connected (f);
  a = bayeux_client_add_subscription (f->client, "/stocks/ACME", NULL);
  b = bayeux_client_add_subscription (f->client, "/stocks/ACME", NULL);
  g_assert_true (a != b);
  g_signal_connect (a, "message", G_CALLBACK (count_message), &got_a);
  g_signal_connect (b, "message", G_CALLBACK (count_message), &got_b);
  g_assert_true (test_wait_until (is_subscribed, a, 5000));
  g_assert_true (test_wait_until (is_subscribed, b, 5000));
  g_assert_cmpuint (test_server_count (f->server, "/meta/subscribe"), ==, 1);
  g_assert_true (bayeux_client_is_subscribed (f->client, "/stocks/ACME"));

  test_server_deliver (f->server, "/stocks/ACME", "{\"price\": 1}");
  g_assert_true (wait_count (&got_b, 1));
  g_assert_cmpint (got_a, ==, 1);
  g_assert_cmpuint (bayeux_subscription_get_message_count (a), ==, 1);

  bayeux_subscription_cancel (a);
  g_assert_cmpint (bayeux_subscription_get_state (a), ==, BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED);
  bayeux_subscription_cancel (a);   /* again: nothing */
  test_server_deliver (f->server, "/stocks/ACME", "{\"price\": 2}");
  g_assert_true (wait_count (&got_b, 2));
  test_wait_ms (50);
  g_assert_cmpint (got_a, ==, 1);
  g_assert_cmpuint (test_server_count (f->server, "/meta/unsubscribe"), ==, 0);
  g_assert_true (test_server_is_subscribed (f->server, "/stocks/ACME"));

  bayeux_subscription_cancel (b);
  g_assert_true (fixture_wait_server_count (f, "/meta/unsubscribe", 1, 5000));
  test_wait_ms (50);
  g_assert_false (test_server_is_subscribed (f->server, "/stocks/ACME"));
  g_assert_false (bayeux_client_is_subscribed (f->client, "/stocks/ACME"));
  g_assert_cmpuint (f->errors->len, ==, 0);
}

/* bayeux_client_subscribe() is one more handle: its unsubscribe ends only
 * its own hold. */
static void
test_legacy_and_handle (Fixture *f, gconstpointer data)
{
  g_autoptr(BayeuxSubscription) handle = NULL;
  int got = 0;

  fixture_start_connected (f);
  fixture_subscribe (f, "/chat/demo");
  handle = bayeux_client_add_subscription (f->client, "/chat/demo", NULL);
  g_assert_cmpint (bayeux_subscription_get_state (handle), ==, BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED);
  g_assert_cmpuint (g_list_model_get_n_items (bayeux_client_get_subscriptions (f->client)), ==, 2);
  g_signal_connect (handle, "message", G_CALLBACK (count_message), &got);

  bayeux_client_unsubscribe (f->client, "/chat/demo");
  test_server_deliver (f->server, "/chat/demo", "1");
  g_assert_true (wait_count (&got, 1));
  g_assert_cmpuint (test_server_count (f->server, "/meta/unsubscribe"), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (bayeux_client_get_subscriptions (f->client)), ==, 1);

  /* the legacy hold is gone: a second unsubscribe says so */
  bayeux_client_unsubscribe (f->client, "/chat/demo");
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_cmpuint (fixture_count_errors_containing (f, "bayeux_subscription_cancel"), ==, 1);
  bayeux_subscription_cancel (handle);
  g_assert_true (fixture_wait_server_count (f, "/meta/unsubscribe", 1, 5000));
}

typedef struct
{
  GString *log;
} ModelLog;

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  g_string_append_printf (user_data, "%u-%u+%u ", position, removed, added);
}

/* The list model follows subscribe, refusal and unsubscribe. */
static void
test_model (Fixture *f, gconstpointer data)
{
  GListModel *model = bayeux_client_get_subscriptions (f->client);
  g_autoptr(GString) log = g_string_new ("");
  g_autoptr(BayeuxSubscription) a = NULL;
  g_autoptr(BayeuxSubscription) refused = NULL;
  g_autoptr(BayeuxSubscription) item = NULL;
  g_autoptr(GListModel) property = NULL;

  g_object_get (f->client, "subscriptions", &property, NULL);
  g_assert_true (property == model);
  g_assert_true (g_list_model_get_item_type (model) == BAYEUX_TYPE_SUBSCRIPTION);
  g_assert_false (G_IS_LIST_STORE (model));   /* the application cannot change it */
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), log);
  test_server_refuse_channel (f->server, "/forbidden");
  fixture_start_connected (f);

  a = bayeux_client_add_subscription (f->client, "/a", NULL);
  g_assert_cmpstr (log->str, ==, "0-0+1 ");
  item = g_list_model_get_item (model, 0);
  g_assert_true (item == a);

  refused = bayeux_client_add_subscription (f->client, "/forbidden", NULL);
  g_assert_cmpstr (log->str, ==, "0-0+1 1-0+1 ");
  g_assert_true (test_wait_until (is_refused, refused, 5000));
  g_assert_cmpstr (log->str, ==, "0-0+1 1-0+1 1-1+0 ");
  g_assert_error (bayeux_subscription_get_error (refused), BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);
  /* nobody waited on it: ::error heard of it too */
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED), ==, 1);

  bayeux_subscription_cancel (a);
  g_assert_cmpstr (log->str, ==, "0-0+1 1-0+1 1-1+0 0-1+0 ");
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);

  /* a bad name: refused at once, never in the list */
  {
    g_autoptr(BayeuxSubscription) bad = bayeux_client_add_subscription (f->client, "no-slash", NULL);
    g_assert_cmpint (bayeux_subscription_get_state (bad), ==, BAYEUX_SUBSCRIPTION_STATE_REFUSED);
    g_assert_error (bayeux_subscription_get_error (bad), BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);
    g_assert_cmpstr (log->str, ==, "0-0+1 1-0+1 1-1+0 0-1+0 ");
  }
  g_signal_handlers_disconnect_by_data (model, log);
}

/* The async constructor: the handle once confirmed; a refusal or a
 * cancellation leaves no handle behind. */
static void
test_async (Fixture *f, gconstpointer data)
{
  GListModel *model = bayeux_client_get_subscriptions (f->client);
  g_autoptr(GError) error = NULL;

  test_server_refuse_channel (f->server, "/forbidden");
  /* before the handshake: it waits for the session */
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(BayeuxSubscription) sub = NULL;

    bayeux_client_add_subscription_async (f->client, "/a/*", NULL, NULL, test_store_result, &result);
    bayeux_client_start (f->client);
    test_wait_result (&result, 5000);
    sub = bayeux_client_add_subscription_finish (f->client, result, &error);
    g_assert_no_error (error);
    g_assert_nonnull (sub);
    g_assert_cmpint (bayeux_subscription_get_state (sub), ==, BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED);
    g_assert_cmpstr (bayeux_subscription_get_channel (sub), ==, "/a/*");
    bayeux_subscription_cancel (sub);
  }
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(BayeuxSubscription) sub = NULL;

    bayeux_client_add_subscription_async (f->client, "/forbidden", NULL, NULL, test_store_result, &result);
    test_wait_result (&result, 5000);
    sub = bayeux_client_add_subscription_finish (f->client, result, &error);
    g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);
    g_assert_null (sub);
    g_clear_error (&error);
  }
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(BayeuxSubscription) sub = NULL;

    bayeux_client_add_subscription_async (f->client, "/c", NULL, cancellable, test_store_result, &result);
    g_cancellable_cancel (cancellable);
    test_wait_result (&result, 5000);
    sub = bayeux_client_add_subscription_finish (f->client, result, &error);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_null (sub);
  }
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  /* the cancelled one's /meta/subscribe had left: the server is told */
  g_assert_true (fixture_wait_server_count (f, "/meta/unsubscribe", 1, 5000));
  test_wait_ms (100);   /* its reply */
  /* nobody heard the refusal through ::error: the call did */
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED), ==, 0);
}

static JsonNode *
json (const char *text)
{
  return json_from_string (text, NULL);
}

/* The ext of a handle goes with its channel's /meta/subscribe, and again
 * (merged with the other handles') after a re-handshake. */
static void
test_subscribe_ext (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) ext_a = json ("{\"replay\": {\"/e\": -2}, \"x\": 1}");
  g_autoptr(JsonNode) ext_b = json ("{\"x\": 2}");
  g_autoptr(BayeuxSubscription) a = NULL;
  g_autoptr(BayeuxSubscription) b = NULL;
  JsonObject *sent, *ext;

  fixture_start_connected (f);
  a = bayeux_client_add_subscription (f->client, "/e", ext_a);
  g_assert_true (test_wait_until (is_subscribed, a, 5000));
  sent = test_server_last (f->server, "/meta/subscribe");
  ext = json_object_get_object_member (sent, "ext");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (ext, "replay"), "/e"), ==, -2);
  g_assert_cmpint (json_object_get_int_member (ext, "x"), ==, 1);

  /* joins: no message of its own */
  b = bayeux_client_add_subscription (f->client, "/e", ext_b);
  g_assert_cmpint (bayeux_subscription_get_state (b), ==, BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED);
  test_wait_ms (50);
  g_assert_cmpuint (test_server_count (f->server, "/meta/subscribe"), ==, 1);
  g_assert_true (json_node_equal (bayeux_subscription_get_ext (b), ext_b));

  /* the server forgets us: both handles pending, then subscribed again,
   * the ext merged (the newer handle's x wins) */
  test_server_forget_clients (f->server);
  test_server_release (f->server);
  g_assert_true (test_wait_until (is_pending, a, 5000));
  g_assert_true (fixture_wait_resubscribed (f, "/e", 5000));
  g_assert_true (test_wait_until (is_subscribed, b, 5000));
  sent = test_server_last (f->server, "/meta/subscribe");
  ext = json_object_get_object_member (sent, "ext");
  g_assert_cmpint (json_object_get_int_member (ext, "x"), ==, 2);
  g_assert_true (json_object_has_member (ext, "replay"));

  /* no ext at all: none sent */
  {
    g_autoptr(BayeuxSubscription) c = bayeux_client_add_subscription (f->client, "/plain", NULL);
    g_assert_true (test_wait_until (is_subscribed, c, 5000));
    g_assert_false (json_object_has_member (test_server_last (f->server, "/meta/subscribe"), "ext"));
  }
}

/* An ext on one publish goes with that message only. */
static void
test_publish_ext (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) ext = json ("{\"props\": {\"priority\": \"high\"}}");
  g_autoptr(GError) error = NULL;

  fixture_start_connected (f);
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(BayeuxMessage) reply = NULL;

    bayeux_client_publish_full_async (f->client, "/chat/demo", NULL, ext, NULL, test_store_result, &result);
    test_wait_result (&result, 5000);
    reply = bayeux_client_publish_full_finish (f->client, result, &error);
    g_assert_no_error (error);
    g_assert_true (bayeux_message_get_successful (reply));
  }
  g_assert_true (json_node_equal (json_object_get_member (test_server_last (f->server, "/chat/demo"), "ext"), ext));
  {
    g_autoptr(BayeuxMessage) reply = fixture_publish (f, "/chat/demo", NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (reply);
  }
  g_assert_cmpuint (test_server_count (f->server, "/chat/demo"), ==, 2);
  g_assert_false (json_object_has_member (test_server_last (f->server, "/chat/demo"), "ext"));
}

static void
keep_data (BayeuxClient  *client,
           BayeuxMessage *message,
           gpointer       user_data)
{
  g_ptr_array_add (user_data, json_to_string (bayeux_message_get_data (message), FALSE));
}

static gboolean
on_websocket (gpointer data)
{
  ClientFixture *f = data;

  return fixture_is_connected (f) && g_strcmp0 (bayeux_client_get_transport (f->client), "websocket") == 0 &&
         test_server_ws_is_open (f->server);
}

/* Paused: no /meta/connect; what arrives is held, in order, and handed
 * out at resume. */
static void
test_pause (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func (g_free);
  guint connects;

  test_server_set_timeout (f->server, 4000);
  if (data != NULL)
    {
      test_server_set_websocket (f->server, TRUE, TRUE);
      bayeux_client_start (f->client);
      g_assert_true (test_wait_until (on_websocket, f, 5000));
    }
  else
    fixture_start_connected (f);
  fixture_subscribe (f, "/q");
  test_wait_ms (100);   /* the next connect is held */
  bayeux_client_add_listener (f->client, "/q", keep_data, got, NULL);

  bayeux_client_set_paused (f->client, TRUE);
  g_assert_true (bayeux_client_get_paused (f->client));
  /* the held connect comes back with these: they are held by the client */
  test_server_deliver (f->server, "/q", "1");
  test_server_deliver (f->server, "/q", "2");
  test_wait_ms (100);
  connects = test_server_count (f->server, "/meta/connect");
  /* these wait in the server: nobody asks for them */
  test_server_deliver (f->server, "/q", "3");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(BayeuxMessage) reply = fixture_publish (f, "/other", NULL, &error);   /* publishing goes on */
    g_assert_no_error (error);
    g_assert_nonnull (reply);
  }
  test_wait_ms (1500);   /* no connect (the keep-alive one is 4.8 s after the last) */
  g_assert_cmpuint (test_server_count (f->server, "/meta/connect"), ==, connects);
  g_assert_cmpuint (test_server_held_connects (f->server), ==, 0);   /* "3" waits in the server */
  g_assert_cmpuint (got->len, ==, 0);

  bayeux_client_set_paused (f->client, FALSE);
  g_assert_true (test_wait_until (fixture_server_holds_connect, f, 5000) || got->len == 3);
  for (int i = 0; i < 100 && got->len < 3; i++)
    test_wait_ms (20);
  g_assert_cmpuint (got->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (got, 0), ==, "1");
  g_assert_cmpstr (g_ptr_array_index (got, 1), ==, "2");
  g_assert_cmpstr (g_ptr_array_index (got, 2), ==, "3");
  g_assert_cmpuint (test_server_count (f->server, "/meta/connect"), >, connects);
  g_assert_cmpuint (f->errors->len, ==, 0);
}

/* Paused for long, the client still connects now and then so that the
 * server keeps the session: here (no maxInterval advised) 1.2 advised
 * timeouts after the last connect left, even though messages keep coming
 * (unpaused, each would end a poll at once and bring the next). */
static void
test_pause_keepalive (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func (g_free);
  guint connects, during, sent = 0;
  gint64 start, elapsed_ms;

  test_server_set_timeout (f->server, 1000);
  fixture_start_connected (f);
  fixture_subscribe (f, "/q");
  bayeux_client_add_listener (f->client, "/q", keep_data, got, NULL);
  bayeux_client_set_paused (f->client, TRUE);
  connects = test_server_count (f->server, "/meta/connect");
  start = g_get_monotonic_time ();
  while ((elapsed_ms = (g_get_monotonic_time () - start) / 1000) < test_scaled_ms (3500))
    {
      g_autofree char *text = g_strdup_printf ("%u", sent++);

      test_server_deliver (f->server, "/q", text);
      test_wait_ms (100);
    }
  during = test_server_count (f->server, "/meta/connect") - connects;
  g_test_message ("%u connects in %" G_GINT64_FORMAT " ms paused, %u messages", during, elapsed_ms, sent);
  /* one per 1.2 s at most (not one per message), and at least one */
  g_assert_cmpuint (during, >=, 1);
  g_assert_cmpuint (during, <=, elapsed_ms / 1200 + 1);
  /* each answered at once, not held as a long poll */
  g_assert_cmpuint (test_server_max_held_connects (f->server), ==, 1);
  g_assert_cmpuint (got->len, ==, 0);

  bayeux_client_set_paused (f->client, FALSE);
  for (int i = 0; i < 250 && got->len < sent; i++)
    test_wait_ms (20);
  g_assert_cmpuint (got->len, ==, sent);
  for (guint i = 0; i < got->len; i++)
    {
      g_autofree char *text = g_strdup_printf ("%u", i);
      g_assert_cmpstr (g_ptr_array_index (got, i), ==, text);
    }
  g_assert_cmpuint (f->errors->len, ==, 0);
}

/* CometD's rule: with maxInterval advised, a keep-alive at 3/4 of it after
 * the last connect was answered, whatever the advised timeout. */
static void
test_pause_max_interval (Fixture *f, gconstpointer data)
{
  guint connects, during;
  gint64 start, elapsed_ms;

  test_server_set_timeout (f->server, 4000);   /* the other rule would wait 4.8 s */
  test_server_set_max_interval (f->server, 1600);
  fixture_start_connected (f);
  fixture_subscribe (f, "/q");
  bayeux_client_set_paused (f->client, TRUE);
  test_server_deliver (f->server, "/q", "0");   /* ends the held poll */
  connects = test_server_count (f->server, "/meta/connect");
  start = g_get_monotonic_time ();
  while ((elapsed_ms = (g_get_monotonic_time () - start) / 1000) < test_scaled_ms (3500))
    test_wait_ms (100);
  during = test_server_count (f->server, "/meta/connect") - connects;
  g_test_message ("%u connects in %" G_GINT64_FORMAT " ms paused", during, elapsed_ms);
  g_assert_cmpuint (during, >=, 2);
  g_assert_cmpuint (during, <=, elapsed_ms / 1200 + 1);
  g_assert_true (fixture_is_connected (f));
}

/* Paused before it starts, a client handshakes and connects at once (a
 * connect answered at once), then stays connected without polling. */
static void
test_pause_before_start (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;

  test_server_set_timeout (f->server, 4000);
  bayeux_client_set_paused (f->client, TRUE);
  bayeux_client_add_listener (f->client, "/q", keep_data, got, NULL);
  bayeux_client_subscribe (f->client, "/q");
  bayeux_client_start (f->client);
  /* not after a keep-alive's 4.8 s */
  g_assert_true (test_wait_until (fixture_is_connected, f, test_scaled_ms (2000)));
  g_assert_true (test_server_is_subscribed (f->server, "/q"));
  reply = fixture_publish (f, "/other", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (test_server_held_connects (f->server), ==, 0);
  test_server_deliver (f->server, "/q", "1");
  test_wait_ms (200);
  g_assert_cmpuint (got->len, ==, 0);
  bayeux_client_set_paused (f->client, FALSE);
  for (int i = 0; i < 250 && got->len < 1; i++)
    test_wait_ms (20);
  g_assert_cmpuint (got->len, ==, 1);
}

/* Paused, a connect that fails: the client connects again at once (after
 * the backoff), not at the next keep-alive, and publishing goes on. */
static void
test_pause_after_failure (Fixture *f, gconstpointer data)
{
  gint64 failed_at;

  test_server_set_timeout (f->server, 1000);   /* keep-alive 1.2 s after the last connect left */
  fixture_start_connected (f);
  bayeux_client_set_paused (f->client, TRUE);
  test_server_queue_raw (f->server, "/meta/connect", 500, "oops");
  test_server_release (f->server);   /* the held poll ends: the next, the keep-alive, gets the 500 */
  g_assert_true (test_wait_until (fixture_is_unconnected, f, test_scaled_ms (5000)));
  failed_at = g_get_monotonic_time ();
  g_assert_true (test_wait_until (fixture_is_connected, f, test_scaled_ms (5000)));
  g_test_message ("connected again %" G_GINT64_FORMAT " ms after the failure",
                  (g_get_monotonic_time () - failed_at) / 1000);
  /* the backoff (50 ms here), not a keep-alive period */
  g_assert_cmpint (g_get_monotonic_time () - failed_at, <, test_scaled_ms (1000) * 1000);
  g_assert_true (bayeux_client_get_paused (f->client));
}

static void
count_data (BayeuxClient  *client,
            BayeuxMessage *message,
            gpointer       user_data)
{
  g_array_append_val ((GArray *) user_data, (gint64) { json_node_get_int (bayeux_message_get_data (message)) });
}

/* More than 10,000 messages held: the oldest go, reported once. */
static void
test_pause_queue_full (Fixture *f, gconstpointer data)
{
  g_autoptr(GArray) got = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint n = 10005;

  bayeux_client_set_max_message_size (f->client, 4 * 1024 * 1024);
  bayeux_client_set_max_network_delay (f->client, 20000);
  test_server_set_timeout (f->server, 1000);
  fixture_start_connected (f);
  fixture_subscribe (f, "/q");
  bayeux_client_add_listener (f->client, "/q", count_data, got, NULL);
  bayeux_client_set_paused (f->client, TRUE);
  test_server_release (f->server);
  test_wait_ms (100);
  /* queued in the server; the keep-alive brings them all */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%u", i);
      test_server_deliver (f->server, "/q", text);
    }
  g_assert_true (test_wait_until (fixture_has_error, f, test_scaled_ms (10000)));
  g_assert_cmpuint (f->errors->len, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (f->errors, 0), BAYEUX_ERROR, BAYEUX_ERROR_QUEUE_FULL);
  g_assert_cmpuint (got->len, ==, 0);
  bayeux_client_set_paused (f->client, FALSE);
  for (int i = 0; i < 1000 && got->len < 10000; i++)
    test_wait_ms (20);
  g_assert_cmpuint (got->len, ==, 10000);
  g_assert_cmpint (g_array_index (got, gint64, 0), ==, n - 10000);
  g_assert_cmpint (g_array_index (got, gint64, 9999), ==, n - 1);
}

typedef struct
{
  BayeuxClient *client;
  GPtrArray    *cancel;   /* handles a removal cancels */
  guint         calls;
} Reentry;

static void
cancel_on_removal (GListModel *model,
                   guint       position,
                   guint       removed,
                   guint       added,
                   gpointer    user_data)
{
  Reentry *r = user_data;

  if (removed == 0)
    return;
  r->calls++;
  for (guint i = 0; i < r->cancel->len; i++)
    bayeux_subscription_cancel (g_ptr_array_index (r->cancel, i));
}

static void
resubscribe_on_refusal (GObject    *object,
                        GParamSpec *pspec,
                        gpointer    user_data)
{
  Reentry *r = user_data;

  if (bayeux_subscription_get_state (BAYEUX_SUBSCRIPTION (object)) == BAYEUX_SUBSCRIPTION_STATE_REFUSED &&
      r->calls++ == 0)
    g_ptr_array_add (r->cancel, bayeux_client_add_subscription (r->client, "/after-refusal", NULL));
}

/* Handlers of the model and of the handles call back in while the client
 * changes the table: cancelling the handle being removed, or all of them,
 * or subscribing anew. Nothing breaks (ASan and Valgrind run this). */
static void
test_reentrant (Fixture *f, gconstpointer data)
{
  GListModel *model = bayeux_client_get_subscriptions (f->client);
  Reentry r = { f->client, g_ptr_array_new_with_free_func (g_object_unref), 0 };
  g_autoptr(BayeuxSubscription) refused = NULL;

  test_server_refuse_channel (f->server, "/forbidden");
  fixture_start_connected (f);
  for (int i = 0; i < 3; i++)
    g_ptr_array_add (r.cancel, bayeux_client_add_subscription (f->client, "/r", NULL));
  g_assert_true (test_wait_until (is_subscribed, g_ptr_array_index (r.cancel, 2), 5000));
  g_signal_connect (model, "items-changed", G_CALLBACK (cancel_on_removal), &r);
  bayeux_subscription_cancel (g_ptr_array_index (r.cancel, 0));
  g_signal_handlers_disconnect_by_data (model, &r);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  for (guint i = 0; i < 3; i++)
    g_assert_false (bayeux_subscription_is_active (g_ptr_array_index (r.cancel, i)));
  g_assert_true (fixture_wait_server_count (f, "/meta/unsubscribe", 1, 5000));

  /* a refusal whose handler subscribes to another channel */
  g_ptr_array_set_size (r.cancel, 0);
  r.calls = 0;
  refused = bayeux_client_add_subscription (f->client, "/forbidden", NULL);
  g_signal_connect (refused, "notify::state", G_CALLBACK (resubscribe_on_refusal), &r);
  g_assert_true (test_wait_until (is_refused, refused, 5000));
  g_assert_cmpuint (r.cancel->len, ==, 1);
  g_assert_true (test_wait_until (is_subscribed, g_ptr_array_index (r.cancel, 0), 5000));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_ptr_array_unref (r.cancel);
}

/* add_subscription_async without a callback, cancelled: the handle it
 * made ends anyway. */
static void
test_async_no_callback (Fixture *f, gconstpointer data)
{
  GListModel *model = bayeux_client_get_subscriptions (f->client);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  bayeux_client_add_subscription_async (f->client, "/nobody", NULL, cancellable, NULL, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_cancellable_cancel (cancellable);
  for (int i = 0; i < 100 && g_list_model_get_n_items (model) > 0; i++)
    test_wait_ms (10);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  test_wait_ms (50);   /* the task lets go of the client */
}

static void
count_signal (BayeuxClient  *client,
              BayeuxMessage *message,
              gpointer       user_data)
{
  (*(int *) user_data)++;
}

static void
keep_detail (BayeuxClient  *client,
             BayeuxMessage *message,
             gpointer       user_data)
{
  g_ptr_array_add (user_data, g_strdup (bayeux_message_get_channel (message)));
}

/* A reply that names a filtered subscription by its base channel. */
static gboolean
reply_with_base (TestServer        *server,
                 SoupServerMessage *msg,
                 JsonArray         *request,
                 gpointer           user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/subscribe"))
    return FALSE;
  body = g_strdup_printf ("[{\"channel\":\"/meta/subscribe\",\"id\":\"%s\",\"successful\":true,"
                          "\"clientId\":\"%s\",\"subscription\":\"%s\"}]",
                          json_object_get_string_member (m, "id"), json_object_get_string_member (m, "clientId"),
                          (const char *) user_data);
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static void
test_filtered_reply (Fixture *f, gconstpointer data)
{
  g_autoptr(BayeuxSubscription) handle = NULL;
  g_autoptr(BayeuxSubscription) other = NULL;

  fixture_start_connected (f);
  test_server_set_hook (f->server, reply_with_base, (gpointer) "/topic/Invoices");
  handle = bayeux_client_add_subscription (f->client, "/topic/Invoices?Status__c=Open", NULL);
  g_assert_true (test_wait_until (is_subscribed, handle, 5000));
  g_assert_cmpuint (f->errors->len, ==, 0);
  /* Another base is no answer. */
  other = bayeux_client_add_subscription (f->client, "/topic/Orders?Status__c=Open", NULL);
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE), ==, 1);
  g_assert_cmpint (bayeux_subscription_get_state (other), !=, BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED);
  test_server_set_hook (f->server, NULL, NULL);
}

/* Salesforce's filtered PushTopic channels: subscribed by their full name,
 * each its own subscription, and given the messages of their base name
 * (as Salesforce delivers them) as well as those on their full name. */
static void
test_filtered (Fixture *f, gconstpointer data)
{
  const char *open_ = "/topic/Invoices?Status__c=Open&Amount__c=100";
  const char *closed = "/topic/Invoices?Status__c=Closed";
  g_autoptr(BayeuxSubscription) handle = NULL;
  g_autoptr(GPtrArray) on_open = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  int got = 0, signalled = 0;

  fixture_start_connected (f);
  bayeux_client_add_listener (f->client, open_, keep_detail, on_open, NULL);
  {
    g_autofree char *detailed = g_strconcat ("message::", open_, NULL);
    g_signal_connect (f->client, detailed, G_CALLBACK (count_signal), &signalled);
  }
  fixture_subscribe (f, open_);
  g_assert_cmpstr (json_object_get_string_member (test_server_last (f->server, "/meta/subscribe"), "subscription"),
                   ==, open_);
  handle = bayeux_client_add_subscription (f->client, closed, NULL);
  g_signal_connect (handle, "message", G_CALLBACK (count_message), &got);
  g_assert_true (test_wait_until (is_subscribed, handle, 5000));
  g_assert_cmpuint (test_server_count (f->server, "/meta/subscribe"), ==, 2);

  /* on the base name: both */
  test_server_deliver (f->server, "/topic/Invoices", "{\"event\": {\"replayId\": 1}}");
  g_assert_true (wait_count (&got, 1));
  for (int i = 0; i < 100 && on_open->len < 1; i++)
    test_wait_ms (10);
  g_assert_cmpuint (on_open->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (on_open, 0), ==, "/topic/Invoices");

  /* on a full filtered name: that subscription only */
  test_server_deliver (f->server, open_, "{\"event\": {\"replayId\": 2}}");
  for (int i = 0; i < 100 && on_open->len < 2; i++)
    test_wait_ms (10);
  g_assert_cmpuint (on_open->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (on_open, 1), ==, open_);
  test_wait_ms (50);
  g_assert_cmpint (got, ==, 1);
  g_assert_cmpint (signalled, ==, 2);   /* message::<the filtered name> */
  g_assert_cmpuint (f->errors->len, ==, 0);

  /* not a channel to publish on */
  {
    g_autoptr(BayeuxMessage) reply = fixture_publish (f, open_, NULL, &error);
    g_assert_null (reply);
    g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);
  }

  /* unsubscribed by its full name */
  bayeux_client_unsubscribe (f->client, open_);
  g_assert_true (fixture_wait_server_count (f, "/meta/unsubscribe", 1, 5000));
  g_assert_cmpstr (json_object_get_string_member (test_server_last (f->server, "/meta/unsubscribe"), "subscription"),
                   ==, open_);
  bayeux_subscription_cancel (handle);
  g_assert_true (fixture_wait_server_count (f, "/meta/unsubscribe", 2, 5000));
  test_wait_ms (100);
}

static void
on_notify_state (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  g_string_append_printf (user_data, "%d ", bayeux_subscription_get_state (BAYEUX_SUBSCRIPTION (object)));
}

/* A handle outlives its client: it ends, unsubscribed, and its calls do
 * nothing. */
static void
test_client_gone (Fixture *f, gconstpointer data)
{
  g_autoptr(BayeuxSubscription) sub = NULL;
  g_autoptr(GString) states = g_string_new ("");
  g_autoptr(GString) changes = g_string_new ("");
  g_autoptr(GListModel) model = NULL;

  fixture_start_connected (f);
  sub = bayeux_client_add_subscription (f->client, "/x", NULL);
  g_signal_connect (sub, "notify::state", G_CALLBACK (on_notify_state), states);
  g_assert_true (test_wait_until (is_subscribed, sub, 5000));
  model = g_object_ref (bayeux_client_get_subscriptions (f->client));
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), changes);
  client_fixture_release (f);
  g_assert_cmpint (bayeux_subscription_get_state (sub), ==, BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_assert_cmpstr (changes->str, ==, "0-1+0 ");   /* once, not again (empty) at finalize */
  g_signal_handlers_disconnect_by_data (model, changes);
  bayeux_subscription_cancel (sub);
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;

    bayeux_subscription_unsubscribe_async (sub, NULL, test_store_result, &result);
    test_wait_result (&result, 5000);
    g_assert_false (bayeux_subscription_unsubscribe_finish (sub, result, &error));
    g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_FAILED);
  }
  g_assert_cmpstr (states->str, ==, "1 0 3 ");   /* subscribed; pending (stopped); unsubscribed */
}

/* unsubscribe_async completes with the server's answer for the last
 * handle, at once for another. */
static void
test_unsubscribe_async (Fixture *f, gconstpointer data)
{
  g_autoptr(BayeuxSubscription) a = NULL;
  g_autoptr(BayeuxSubscription) b = NULL;
  g_autoptr(GError) error = NULL;

  fixture_start_connected (f);
  a = bayeux_client_add_subscription (f->client, "/y", NULL);
  b = bayeux_client_add_subscription (f->client, "/y", NULL);
  g_assert_true (test_wait_until (is_subscribed, b, 5000));
  {
    g_autoptr(GAsyncResult) result = NULL;

    bayeux_subscription_unsubscribe_async (a, NULL, test_store_result, &result);
    test_wait_result (&result, 5000);
    g_assert_true (bayeux_subscription_unsubscribe_finish (a, result, &error));
    g_assert_cmpuint (test_server_count (f->server, "/meta/unsubscribe"), ==, 0);
  }
  {
    g_autoptr(GAsyncResult) result = NULL;

    bayeux_subscription_unsubscribe_async (b, NULL, test_store_result, &result);
    test_wait_result (&result, 5000);
    g_assert_true (bayeux_subscription_unsubscribe_finish (b, result, &error));
    g_assert_cmpuint (test_server_count (f->server, "/meta/unsubscribe"), ==, 1);
  }
  g_assert_no_error (error);
}

static gpointer
cancel_in_thread (gpointer sub)
{
  bayeux_subscription_cancel (sub);
  return NULL;
}

/* A call from another thread is refused with a critical naming the rule. */
static void
test_wrong_thread (Fixture *f, gconstpointer data)
{
  if (g_test_subprocess ())
    {
      g_autoptr(BayeuxSubscription) sub = NULL;
      GThread *thread;

      fixture_start_connected (f);
      sub = bayeux_client_add_subscription (f->client, "/z", NULL);
      g_main_context_acquire (g_main_context_default ());
      thread = g_thread_new ("other", cancel_in_thread, sub);
      g_thread_join (thread);
      g_main_context_release (g_main_context_default ());
      g_assert_true (bayeux_subscription_is_active (sub));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*bayeux_subscription_cancel*another thread*");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn, data) g_test_add ("/bayeux/subscriptions/" path, Fixture, data, client_fixture_setup, fn, client_fixture_teardown)
  ADD ("handles/two-on-one-channel", test_two_handles, NULL);
  ADD ("handles/legacy-and-handle", test_legacy_and_handle, NULL);
  ADD ("handles/unsubscribe-async", test_unsubscribe_async, NULL);
  ADD ("handles/client-gone", test_client_gone, NULL);
  ADD ("handles/wrong-thread", test_wrong_thread, NULL);
  ADD ("model", test_model, NULL);
  ADD ("async", test_async, NULL);
  ADD ("ext/subscribe", test_subscribe_ext, NULL);
  ADD ("ext/publish", test_publish_ext, NULL);
  ADD ("pause/long-polling", test_pause, NULL);
  ADD ("pause/websocket", test_pause, GINT_TO_POINTER (1));
  ADD ("pause/keep-alive", test_pause_keepalive, NULL);
  ADD ("pause/keep-alive-max-interval", test_pause_max_interval, NULL);
  ADD ("pause/before-start", test_pause_before_start, NULL);
  ADD ("pause/after-failure", test_pause_after_failure, NULL);
  ADD ("pause/queue-full", test_pause_queue_full, NULL);
  ADD ("handles/reentrant", test_reentrant, NULL);
  ADD ("async/no-callback", test_async_no_callback, NULL);
  ADD ("filtered", test_filtered, NULL);
  ADD ("filtered/reply-names-base", test_filtered_reply, NULL);
  return g_test_run ();
}
