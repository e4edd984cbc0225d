/* test-client.c: BayeuxClient against the in-process test server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-utils.h"
#include "bayeux-client-private.h"
#include "bayeux-message-private.h"
#include "bayeux-subscriptions-private.h"

#include <string.h>

typedef ClientFixture Fixture;

typedef struct
{
  Fixture *f;
  char    *detail;
} DetailHandler;

static void
on_detailed_message (BayeuxClient  *client,
                     BayeuxMessage *message,
                     DetailHandler *h)
{
  g_autofree char *data = json_to_string (bayeux_message_get_data (message), FALSE);

  g_ptr_array_add (h->f->received, g_strdup_printf ("%s %s %s", h->detail, bayeux_message_get_channel (message), data));
}

static void
detail_handler_free (gpointer data, GClosure *closure)
{
  DetailHandler *h = data;
  g_free (h->detail);
  g_free (h);
}

/* The detail is not passed to handlers: tests connect one handler per detail,
 * with the detail as user data. */
static void
connect_detail (Fixture    *f,
                const char *channel)
{
  DetailHandler *h = g_new0 (DetailHandler, 1);
  g_autofree char *signal = g_strdup_printf ("message::%s", channel);

  h->f = f;
  h->detail = g_strdup (channel);
  g_signal_connect_data (f->client, signal, G_CALLBACK (on_detailed_message), h, detail_handler_free, 0);
}

/* ------------------------------------------------------------------------ */

static void
test_handshake (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ext = json_from_string ("{\"auth\": {\"token\": \"abc\"}}", NULL);
  JsonObject *hs;
  JsonArray *types;

  bayeux_client_set_handshake_ext (f->client, ext);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
  g_assert_null (bayeux_client_get_client_id (f->client));
  g_assert_cmpstr (bayeux_client_get_transport (f->client), ==, "long-polling");

  bayeux_client_handshake_async (f->client, NULL, test_store_result, &result);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_HANDSHAKING);
  test_wait_result (&result, 5000);
  g_assert_true (bayeux_client_handshake_finish (f->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bayeux_client_get_client_id (f->client), ==, "client-1");

  hs = test_server_last (f->server, "/meta/handshake");
  g_assert_cmpstr (json_object_get_string_member (hs, "version"), ==, "1.0");
  g_assert_true (json_object_has_member (hs, "id"));
  g_assert_false (json_object_has_member (hs, "clientId"));
  types = json_object_get_array_member (hs, "supportedConnectionTypes");
  /* The default transports, in order of preference. */
  g_assert_cmpuint (json_array_get_length (types), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (types, 0), ==, "websocket");
  g_assert_cmpstr (json_array_get_string_element (types, 1), ==, "long-polling");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
                     json_object_get_object_member (hs, "ext"), "auth"), "token"), ==, "abc");

  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_cmpuint (f->states->len, ==, 2);
  g_assert_cmpint (g_array_index (f->states, BayeuxClientState, 0), ==, BAYEUX_CLIENT_STATE_HANDSHAKING);
  g_assert_cmpint (g_array_index (f->states, BayeuxClientState, 1), ==, BAYEUX_CLIENT_STATE_CONNECTED);
  g_assert_cmpuint (f->errors->len, ==, 0);
}

static void
test_handshake_denied (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint requests;

  /* A refusal with advice to retry is retried; one with "none" is final. */
  test_server_queue_raw (f->server, "/meta/handshake", 200,
                         "[{\"channel\":\"/meta/handshake\",\"id\":\"1\",\"successful\":false,"
                         "\"error\":\"503::busy\",\"advice\":{\"reconnect\":\"retry\",\"interval\":0}}]");
  test_server_queue_raw (f->server, "/meta/handshake", 200,
                         "[{\"channel\":\"/meta/handshake\",\"id\":\"2\",\"successful\":false,"
                         "\"error\":\"403::bad credentials\",\"advice\":{\"reconnect\":\"none\"}}]");
  bayeux_client_handshake_async (f->client, NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  g_assert_false (bayeux_client_handshake_finish (f->client, result, &error));
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_HANDSHAKE_DENIED);
  g_assert_nonnull (strstr (error->message, "bad credentials"));
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 2);
  g_assert_true (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_HANDSHAKE_DENIED) > 0);  /* the retried one */
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
  requests = test_server_requests (f->server);
  test_wait_ms (300);
  g_assert_cmpuint (test_server_requests (f->server), ==, requests);
}

static void
test_connect (Fixture *f, gconstpointer data)
{
  JsonObject *connect;

  test_server_set_timeout (f->server, 300);
  fixture_start_connected (f);

  connect = test_server_last (f->server, "/meta/connect");
  g_assert_cmpstr (json_object_get_string_member (connect, "connectionType"), ==, "long-polling");
  g_assert_cmpstr (json_object_get_string_member (connect, "clientId"), ==, "client-1");
  g_assert_true (json_object_has_member (connect, "id"));

  /* Several long polls in a row, never two at once. */
  test_wait_ms (1000);
  g_assert_cmpuint (test_server_count (f->server, "/meta/connect"), >=, 4);
  g_assert_cmpuint (test_server_max_held_connects (f->server), ==, 1);
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 1);
  g_assert_cmpuint (f->errors->len, ==, 0);
}

static void
test_interval (Fixture *f, gconstpointer data)
{
  gint64 replied, next;

  test_server_set_interval (f->server, 400);
  test_server_set_timeout (f->server, 100);
  fixture_start_connected (f);
  g_assert_true (test_wait_until (fixture_server_holds_connect, f, 5000));
  replied = test_server_last_reply_time (f->server, "/meta/connect");
  test_server_release (f->server);
  replied = test_server_last_reply_time (f->server, "/meta/connect");
  g_assert_true (test_wait_until (fixture_server_holds_connect, f, 5000));
  next = test_server_last_time (f->server, "/meta/connect");
  g_assert_cmpint (next - replied, >=, 390 * 1000);
}

static gboolean
advise_on_connect (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  const char *reconnect = user_data;
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/connect") ||
      test_server_count (server, "/meta/connect") < 2)
    return FALSE;

  test_server_set_hook (server, NULL, NULL);   /* once */
  body = g_strdup_printf ("[{\"channel\":\"/meta/connect\",\"id\":\"%s\",\"successful\":false,"
                          "\"error\":\"400::go away\",\"advice\":{\"reconnect\":\"%s\",\"interval\":0}}]",
                          json_object_get_string_member (m, "id"), reconnect);
  test_server_respond_raw (msg, SOUP_STATUS_OK, body);
  return TRUE;
}

static void
test_advice_handshake (Fixture *f, gconstpointer data)
{
  bayeux_client_subscribe (f->client, "/chat/demo");
  connect_detail (f, "/chat/demo");
  test_server_set_timeout (f->server, 200);
  test_server_set_hook (f->server, advise_on_connect, (gpointer) "handshake");
  bayeux_client_start (f->client);

  /* Re-handshakes and resubscribes by itself. */
  g_assert_true (fixture_wait_server_count_connected (f, "/meta/subscribe", 2, 5000));
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 2);
  g_assert_cmpstr (bayeux_client_get_client_id (f->client), ==, "client-2");

  test_wait_ms (50);
  test_server_deliver (f->server, "/chat/demo", "{\"n\": 1}");
  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
  g_assert_cmpstr (g_ptr_array_index (f->received, 0), ==, "/chat/demo /chat/demo {\"n\":1}");
}

static void
test_advice_none (Fixture *f, gconstpointer data)
{
  test_server_set_timeout (f->server, 200);
  test_server_set_hook (f->server, advise_on_connect, (gpointer) "none");
  bayeux_client_start (f->client);

  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_true (test_wait_until (fixture_is_disconnected, f, 5000));
  g_assert_null (bayeux_client_get_client_id (f->client));
  g_assert_cmpuint (bayeux_client_get_requests_in_flight (f->client), ==, 0);
  {
    guint requests = test_server_requests (f->server);
    test_wait_ms (500);
    g_assert_cmpuint (test_server_requests (f->server), ==, requests);  /* no further requests */
  }
}

static void
test_advice_retry (Fixture *f, gconstpointer data)
{
  test_server_set_timeout (f->server, 200);
  test_server_set_hook (f->server, advise_on_connect, (gpointer) "retry");
  bayeux_client_start (f->client);

  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 1);
  {
    gboolean saw_unconnected = FALSE;
    for (guint i = 0; i < f->states->len; i++)
      saw_unconnected |= g_array_index (f->states, BayeuxClientState, i) == BAYEUX_CLIENT_STATE_UNCONNECTED;
    g_assert_true (saw_unconnected);
  }
}

/* The server forgot the session (@data: its error string, NULL for the
 * spec's "402::Unknown client"): the client handshakes and subscribes
 * again, whatever the advice says. CometD's strict WebSocket mode says
 * "402::session_unknown", Salesforce "403::Unknown client", Faye
 * "401:<id>:Unknown client". */
static void
test_unknown_client (Fixture *f, gconstpointer data)
{
  if (data != NULL)
    test_server_set_unknown_client_error (f->server, data);
  bayeux_client_subscribe (f->client, "/a");
  test_server_set_timeout (f->server, 200);
  fixture_start_connected (f);
  g_assert_cmpuint (test_server_count (f->server, "/meta/subscribe"), ==, 1);

  test_server_forget_clients (f->server);
  test_server_release (f->server);
  g_assert_true (fixture_wait_server_count_connected (f, "/meta/subscribe", 2, 5000));
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 2);
  g_assert_true (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_UNKNOWN_CLIENT) > 0);
}

/* A refreshed token: handshake-ext replaced while the client runs is what
 * the next (re-)handshake carries. */
static void
test_handshake_ext_refreshed (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) first = json_from_string ("{\"auth\":{\"token\":\"old\"}}", NULL);
  g_autoptr(JsonNode) second = json_from_string ("{\"auth\":{\"token\":\"new\"}}", NULL);
  JsonObject *hs;

  bayeux_client_set_handshake_ext (f->client, first);
  test_server_set_timeout (f->server, 200);
  fixture_start_connected (f);
  hs = test_server_last (f->server, "/meta/handshake");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
                     json_object_get_object_member (hs, "ext"), "auth"), "token"), ==, "old");

  bayeux_client_set_handshake_ext (f->client, second);
  test_server_forget_clients (f->server);
  test_server_release (f->server);
  g_assert_true (fixture_wait_server_count_connected (f, "/meta/handshake", 2, 5000));
  hs = test_server_last (f->server, "/meta/handshake");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
                     json_object_get_object_member (hs, "ext"), "auth"), "token"), ==, "new");
  /* Only the handshake carries it. */
  g_assert_false (json_object_has_member (test_server_last (f->server, "/meta/connect"), "ext"));
}

static gboolean
reply_with_impostor (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  const char *id;
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/chat/x"))
    return FALSE;
  id = json_object_get_string_member (m, "id");
  /* A message from another client with the same id and channel comes
   * first, without "successful": it must not be taken for our reply. */
  body = g_strdup_printf ("[{\"channel\":\"/chat/x\",\"id\":\"%s\",\"data\":{\"from\":\"other\"}},"
                          "{\"channel\":\"/chat/x\",\"id\":\"%s\",\"successful\":false,\"error\":\"403::nope\"}]",
                          id, id);
  test_server_respond_raw (msg, SOUP_STATUS_OK, body);
  return TRUE;
}

static void
test_reply_matching (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;

  fixture_start_connected (f);
  fixture_subscribe (f, "/chat/x");
  connect_detail (f, "/chat/x");
  test_server_set_hook (f->server, reply_with_impostor, NULL);
  reply = fixture_publish (f, "/chat/x", NULL, &error);
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "403::nope"));
  g_assert_null (reply);
  /* The other client's message was delivered as a message. */
  g_assert_cmpuint (f->received->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->received, 0), ==, "/chat/x /chat/x {\"from\":\"other\"}");
}

static gboolean
reply_without_id (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  const char *channel = json_object_get_string_member (m, "channel");

  if (g_str_equal (channel, "/meta/connect") && test_server_count (server, "/meta/connect") == 2)
    {
      test_server_respond_raw (msg, SOUP_STATUS_OK,
                               "[{\"channel\":\"/meta/connect\",\"successful\":true,\"advice\":{\"interval\":0}}]");
      return TRUE;
    }
  if (g_str_equal (channel, "/meta/subscribe"))
    {
      test_server_respond_raw (msg, SOUP_STATUS_OK,
                               "[{\"channel\":\"/meta/subscribe\",\"successful\":true,\"subscription\":\"/a\"}]");
      return TRUE;
    }
  return FALSE;
}

static void
test_reply_without_id (Fixture *f, gconstpointer data)
{
  test_server_set_timeout (f->server, 5000);
  test_server_set_hook (f->server, reply_without_id, NULL);
  fixture_start_connected (f);
  /* The connect reply without id was matched to the single outstanding
   * connect: the client went on polling without error. */
  g_assert_true (fixture_wait_server_count (f, "/meta/connect", 3, 5000));
  g_assert_cmpuint (f->errors->len, ==, 0);

  /* A subscribe reply without id is ambiguous: reported. */
  bayeux_client_subscribe (f->client, "/a");
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_true (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE) > 0);
}

static void
test_batching (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) data_node = json_from_string ("{\"x\": 1}", NULL);
  guint before;

  fixture_start_connected (f);
  before = test_server_requests (f->server);
  for (int i = 0; i < 5; i++)
    bayeux_client_publish (f->client, "/batch", data_node);
  test_wait_ms (300);
  g_assert_cmpuint (test_server_count (f->server, "/batch"), ==, 5);
  g_assert_cmpuint (test_server_max_batch (f->server), ==, 5);
  g_assert_cmpuint (test_server_requests (f->server) - before, ==, 1);
}

static gboolean
publishes_done (gpointer data)
{
  guint *n = data;
  return *n == 0;
}

static void
publish_count_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(BayeuxMessage) reply = bayeux_client_publish_finish (BAYEUX_CLIENT (source), result, NULL);
  guint *n = data;

  g_assert_nonnull (reply);
  (*n)--;
}

static void
test_connections (Fixture *f, gconstpointer data)
{
  guint n = 0;

  /* While the long poll is held, 20 publishes one after the other all go
   * through (the poll does not block them) on one other connection. */
  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  for (int i = 0; i < 20; i++)
    {
      g_autoptr(JsonNode) d = json_from_string ("{}", NULL);
      n = 1;
      bayeux_client_publish_async (f->client, "/c", d, NULL, publish_count_cb, &n);
      g_assert_true (test_wait_until (publishes_done, &n, 3000));
    }
  g_assert_cmpuint (test_server_held_connects (f->server), ==, 1);
  g_assert_cmpuint (test_server_connections (f->server), <=, 2);
}

static void
test_disconnect_ends_poll (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  start = g_get_monotonic_time ();
  bayeux_client_disconnect_async (f->client, NULL, test_store_result, &result);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTING);
  test_wait_result (&result, 5000);
  g_assert_true (bayeux_client_disconnect_finish (f->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
  g_assert_cmpuint (bayeux_client_get_requests_in_flight (f->client), ==, 0);
  g_assert_null (bayeux_client_get_client_id (f->client));
  g_assert_cmpuint (test_server_count (f->server, "/meta/disconnect"), ==, 1);
}

static void
test_disconnect_timeout (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  test_server_set_timeout (f->server, 30000);
  test_server_set_ignore_disconnect (f->server, TRUE);
  fixture_start_connected (f);
  bayeux_client_set_max_network_delay (f->client, 300);
  start = g_get_monotonic_time ();
  bayeux_client_disconnect_async (f->client, NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  g_assert_false (bayeux_client_disconnect_finish (f->client, result, &error));
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
  g_assert_cmpuint (bayeux_client_get_requests_in_flight (f->client), ==, 0);
}

static void
test_stop_and_restart (Fixture *f, gconstpointer data)
{
  test_server_set_timeout (f->server, 30000);
  bayeux_client_subscribe (f->client, "/s");
  fixture_start_connected (f);
  bayeux_client_stop (f->client);
  g_assert_true (test_wait_until (fixture_is_disconnected, f, 3000));
  g_assert_true (bayeux_client_is_subscribed (f->client, "/s"));
  /* start again: a new session, the subscription sent again */
  fixture_start_connected (f);
  g_assert_true (fixture_wait_server_count_connected (f, "/meta/subscribe", 2, 3000));
  g_assert_cmpstr (bayeux_client_get_client_id (f->client), ==, "client-2");
}

static void
test_reconnect (Fixture *f, gconstpointer data)
{
  test_server_set_timeout (f->server, 30000);
  bayeux_client_subscribe (f->client, "/r");
  fixture_start_connected (f);
  bayeux_client_reconnect (f->client);
  g_assert_true (fixture_wait_server_count_connected (f, "/meta/subscribe", 2, 5000));
  g_assert_cmpuint (test_server_count (f->server, "/meta/disconnect"), ==, 1);
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 2);
}

static void
test_poll_deadline (Fixture *f, gconstpointer data)
{
  /* The server advises a 200 ms timeout but never answers: the client
   * gives up after timeout + max-network-delay and polls again. */
  test_server_set_timeout (f->server, 200);
  test_server_set_hold_forever (f->server, TRUE);
  bayeux_client_set_max_network_delay (f->client, 300);
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_true (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT) > 0);
  g_assert_true (test_wait_until (fixture_is_unconnected, f, 2000));
  test_server_set_hold_forever (f->server, FALSE);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
}

static void
test_response_too_large (Fixture *f, gconstpointer data)
{
  GString *big = g_string_new ("[{\"channel\":\"/x\",\"data\":\"");

  for (int i = 0; i < 5000; i++)
    g_string_append (big, "0123456789");
  g_string_append (big, "\"}]");

  bayeux_client_set_max_message_size (f->client, 16 * 1024);
  test_server_queue_raw (f->server, "/meta/handshake", 200, big->str);
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_true (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE) > 0);
  /* and it recovers */
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_string_free (big, TRUE);
}

static void
test_request_too_large (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autofree char *text = g_strnfill (4000, 'x');
  g_autoptr(JsonNode) big = json_node_init_string (json_node_alloc (), text);

  bayeux_client_set_max_message_size (f->client, 2048);
  fixture_start_connected (f);
  reply = fixture_publish (f, "/big", big, &error);
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE);
  g_assert_cmpuint (test_server_count (f->server, "/big"), ==, 0);
}

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  static const struct { guint status; const char *body; int code; } cases[] = {
    { 200, "not json at all", BAYEUX_ERROR_BAD_RESPONSE },
    { 200, "{\"channel\": 42}", BAYEUX_ERROR_BAD_RESPONSE },
    { 200, "42", BAYEUX_ERROR_BAD_RESPONSE },
    { 200, "", BAYEUX_ERROR_BAD_RESPONSE },
    { 200, "[]", BAYEUX_ERROR_BAD_RESPONSE },
    { 200, "[{\"channel\":\"/meta/handshake\",\"successful\":\"yes\"}]", BAYEUX_ERROR_BAD_RESPONSE },
    { 200, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]", BAYEUX_ERROR_BAD_RESPONSE },
    { 500, "oops", BAYEUX_ERROR_HTTP },
    { 404, NULL, BAYEUX_ERROR_HTTP },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %" G_GSIZE_FORMAT ": %u %s", i, cases[i].status, cases[i].body ? cases[i].body : "");
      test_server_queue_raw (f->server, "/meta/handshake", cases[i].status, cases[i].body);
      g_ptr_array_set_size (f->errors, 0);
      bayeux_client_start (f->client);
      g_assert_true (test_wait_until (fixture_has_error, f, 5000));
      g_assert_true (fixture_count_errors (f, BAYEUX_ERROR, cases[i].code) > 0);
      /* and it recovers on its own */
      g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
      bayeux_client_stop (f->client);
      g_assert_true (test_wait_until (fixture_is_disconnected, f, 5000));
    }
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) perror = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;

  test_server_refuse_channel (f->server, "/secret");
  fixture_start_connected (f);
  error = fixture_subscribe_error (f, "/secret");
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "Subscription refused by policy"));
  g_assert_nonnull (strstr (error->message, "/secret"));
  g_assert_false (bayeux_client_is_subscribed (f->client, "/secret"));

  reply = fixture_publish (f, "/secret", NULL, &perror);
  g_assert_null (reply);
  g_assert_error (perror, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);

  /* fire-and-forget: through ::error */
  g_assert_cmpuint (f->errors->len, ==, 0);
  bayeux_client_subscribe (f->client, "/secret");
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_true (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED) > 0);
}

static void
test_invalid_channel (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint requests;

  fixture_start_connected (f);
  requests = test_server_requests (f->server);

  bayeux_client_subscribe (f->client, "/a/*/b");
  /* never from inside the call */
  g_assert_cmpuint (f->errors->len, ==, 0);
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_true (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL) > 0);

  g_ptr_array_set_size (f->errors, 0);
  bayeux_client_publish (f->client, "/a/*", NULL);
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_ptr_array_set_size (f->errors, 0);
  bayeux_client_publish (f->client, "/meta/connect", NULL);
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));

  error = fixture_subscribe_error (f, "no-slash");
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);

  test_wait_ms (100);
  g_assert_cmpuint (test_server_requests (f->server), ==, requests);
}

static void
test_wildcards (Fixture *f, gconstpointer data)
{
  fixture_start_connected (f);
  fixture_subscribe (f, "/chat/*");
  fixture_subscribe (f, "/chat/**");
  fixture_subscribe (f, "/chat/a");
  connect_detail (f, "/chat/*");
  connect_detail (f, "/chat/**");
  connect_detail (f, "/chat/a");

  test_server_deliver (f->server, "/chat/a", "1");
  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
  test_wait_ms (50);
  g_assert_cmpuint (f->received->len, ==, 3);
  g_ptr_array_sort (f->received, (GCompareFunc) g_strcmp0);
  g_ptr_array_set_size (f->received, 0);

  test_server_deliver (f->server, "/chat/a/b", "2");
  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
  test_wait_ms (50);
  g_assert_cmpuint (f->received->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->received, 0), ==, "/chat/** /chat/a/b 2");

  /* cost: a handful of lookups, whatever the number of subscriptions */
  g_assert_cmpuint (bayeux_subscriptions_get_last_lookups (bayeux_client_peek_subscriptions (f->client)), ==, 5);
}

static void
test_lookup_cost (Fixture *f, gconstpointer data)
{
  /* A thousand subscribes in one request: under a sanitizer, on a loaded
   * machine, the in-process server may take longer than the fixture's
   * 2 s to answer them all; this test is about lookups, not time. */
  bayeux_client_set_max_network_delay (f->client, 20000);
  fixture_start_connected (f);
  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *channel = g_strdup_printf ("/many/%d", i);
      bayeux_client_subscribe (f->client, channel);
    }
  fixture_subscribe (f, "/many/42");
  connect_detail (f, "/many/42");
  test_server_deliver (f->server, "/many/42", "42");
  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
  g_assert_cmpuint (bayeux_subscriptions_get_last_lookups (bayeux_client_peek_subscriptions (f->client)), ==, 4);
}

static void
test_held_until_handshake (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) sresult = NULL;
  g_autoptr(GAsyncResult) presult = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(JsonNode) d = json_from_string ("{\"hello\": true}", NULL);

  connect_detail (f, "/early");
  bayeux_client_subscribe_async (f->client, "/early", NULL, test_store_result, &sresult);
  bayeux_client_publish_async (f->client, "/early", d, NULL, test_store_result, &presult);
  test_wait_ms (100);
  g_assert_cmpuint (test_server_requests (f->server), ==, 0);
  bayeux_client_start (f->client);
  test_wait_result (&sresult, 5000);
  test_wait_result (&presult, 5000);
  g_assert_true (bayeux_client_subscribe_finish (f->client, sresult, NULL));
  reply = bayeux_client_publish_finish (f->client, presult, NULL);
  g_assert_nonnull (reply);
  g_assert_true (bayeux_message_get_successful (reply));
  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
  g_assert_cmpstr (g_ptr_array_index (f->received, 0), ==, "/early /early {\"hello\":true}");
}

static void
test_unsubscribe (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) result2 = NULL;
  g_autoptr(GError) error = NULL;

  fixture_start_connected (f);
  fixture_subscribe (f, "/u");
  connect_detail (f, "/u");
  bayeux_client_unsubscribe_async (f->client, "/u", NULL, test_store_result, &result);
  g_assert_false (bayeux_client_is_subscribed (f->client, "/u"));
  test_wait_result (&result, 5000);
  g_assert_true (bayeux_client_unsubscribe_finish (f->client, result, NULL));
  g_assert_cmpuint (test_server_count (f->server, "/meta/unsubscribe"), ==, 1);

  bayeux_client_unsubscribe_async (f->client, "/u", NULL, test_store_result, &result2);
  test_wait_result (&result2, 5000);
  g_assert_false (bayeux_client_unsubscribe_finish (f->client, result2, &error));
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_FAILED);
}

static void
test_cookies (Fixture *f, gconstpointer data)
{
  test_server_set_cookie (f->server, "BAYEUX_BROWSER=abc123; Path=/");
  fixture_start_connected (f);
  g_assert_cmpstr (test_server_last_cookie (f->server), ==, "BAYEUX_BROWSER=abc123");
}

typedef struct
{
  guint       handshakes;
  GHashTable *cookies;   /* clientId → the Cookie header its connects carried */
  gboolean    mixed;
} CookieWatch;

static gboolean
watch_cookies (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  CookieWatch *w = user_data;
  JsonObject *m = json_array_get_object_element (request, 0);
  const char *channel = json_object_get_string_member (m, "channel");
  const char *cookie = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Cookie");

  if (g_str_equal (channel, "/meta/handshake"))
    {
      g_autofree char *value = g_strdup_printf ("BAYEUX_BROWSER=browser-%u; Path=/", ++w->handshakes);
      soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie", value);
    }
  else if (g_str_equal (channel, "/meta/connect"))
    {
      const char *client_id = json_object_get_string_member (m, "clientId");
      const char *seen = g_hash_table_lookup (w->cookies, client_id);

      if (cookie == NULL || (seen != NULL && !g_str_equal (seen, cookie)))
        w->mixed = TRUE;
      g_hash_table_insert (w->cookies, g_strdup (client_id), g_strdup (cookie ? cookie : ""));
    }
  return FALSE;   /* the server answers as usual */
}

static gboolean
both_connected (gpointer data)
{
  BayeuxClient **clients = data;
  return bayeux_client_get_state (clients[0]) == BAYEUX_CLIENT_STATE_CONNECTED &&
         bayeux_client_get_state (clients[1]) == BAYEUX_CLIENT_STATE_CONNECTED;
}

static void
test_cookies_per_client (Fixture *f, gconstpointer data)
{
  CookieWatch w = { 0, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free), FALSE };
  g_autoptr(BayeuxClient) other = bayeux_client_new (test_server_get_url (f->server));
  BayeuxClient *clients[2] = { f->client, other };
  const char *a, *b;

  /* Two clients of one application: each keeps its own cookie jar, so
   * the server's browser cookie of one never reaches the other. */
  test_server_set_timeout (f->server, 200);
  test_server_set_hook (f->server, watch_cookies, &w);
  bayeux_client_start (f->client);
  bayeux_client_start (other);
  g_assert_true (test_wait_until (both_connected, clients, 5000));
  test_wait_ms (500);   /* a few long polls each */

  g_assert_false (w.mixed);
  a = g_hash_table_lookup (w.cookies, bayeux_client_get_client_id (f->client));
  b = g_hash_table_lookup (w.cookies, bayeux_client_get_client_id (other));
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_true (g_str_has_prefix (a, "BAYEUX_BROWSER=browser-"));
  g_assert_true (g_str_has_prefix (b, "BAYEUX_BROWSER=browser-"));
  g_assert_cmpstr (a, !=, b);

  bayeux_client_stop (other);
  test_server_set_hook (f->server, NULL, NULL);
  g_hash_table_unref (w.cookies);
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  /* A subscribe held before the handshake, cancelled. */
  bayeux_client_subscribe_async (f->client, "/c", cancellable, test_store_result, &result);
  g_cancellable_cancel (cancellable);
  test_wait_result (&result, 5000);
  g_assert_false (bayeux_client_subscribe_finish (f->client, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* The task returned once: starting and connecting does not return it again. */
  fixture_start_connected (f);
  test_wait_ms (100);
}

static void
test_stop_fails_pending (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) hresult = NULL;
  g_autoptr(GAsyncResult) presult = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) perror = NULL;

  test_server_set_hold_forever (f->server, TRUE);
  test_server_queue_raw (f->server, "/meta/handshake", 500, "down");
  bayeux_client_set_backoff_increment (f->client, 5000);
  bayeux_client_set_max_backoff (f->client, 5000);
  bayeux_client_handshake_async (f->client, NULL, test_store_result, &hresult);
  bayeux_client_publish_async (f->client, "/p", NULL, NULL, test_store_result, &presult);
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  bayeux_client_stop (f->client);
  test_wait_result (&hresult, 5000);
  test_wait_result (&presult, 5000);
  g_assert_false (bayeux_client_handshake_finish (f->client, hresult, &error));
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_DISCONNECTED);
  g_assert_null (bayeux_client_publish_finish (f->client, presult, &perror));
  g_assert_error (perror, BAYEUX_ERROR, BAYEUX_ERROR_DISCONNECTED);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
}

static void
test_dispose_while_polling (Fixture *f, gconstpointer data)
{
  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  /* teardown drops the only reference while the poll is held */
}

/* A client on a worker thread with its own context. */
typedef struct
{
  const char   *url;
  GThread      *caller;
  gboolean      ok;
  gboolean      wrong_thread;
  GMainLoop    *loop;
} ThreadData;

static void
thread_on_disconnected (GObject *source, GAsyncResult *result, gpointer data)
{
  ThreadData *td = data;

  td->wrong_thread |= g_thread_self () == td->caller;
  g_assert_true (bayeux_client_disconnect_finish (BAYEUX_CLIENT (source), result, NULL));
  g_main_loop_quit (td->loop);
}

static void
thread_on_message (BayeuxClient *client, BayeuxMessage *message, ThreadData *td)
{
  td->wrong_thread |= g_thread_self () == td->caller;
  bayeux_client_disconnect_async (client, NULL, thread_on_disconnected, td);
}

static void
thread_on_subscribed (GObject *source, GAsyncResult *result, gpointer data)
{
  ThreadData *td = data;
  g_autoptr(JsonNode) d = json_from_string ("{\"t\": 1}", NULL);

  td->wrong_thread |= g_thread_self () == td->caller;
  g_assert_true (bayeux_client_subscribe_finish (BAYEUX_CLIENT (source), result, NULL));
  bayeux_client_publish (BAYEUX_CLIENT (source), "/thread", d);
}

static gpointer
thread_main (gpointer data)
{
  ThreadData *td = data;
  GMainContext *context = g_main_context_new ();
  BayeuxClient *client;

  g_main_context_push_thread_default (context);
  td->loop = g_main_loop_new (context, FALSE);
  client = bayeux_client_new (td->url);
  g_signal_connect (client, "message::/thread", G_CALLBACK (thread_on_message), td);
  bayeux_client_subscribe_async (client, "/thread", NULL, thread_on_subscribed, td);
  bayeux_client_start (client);
  g_main_loop_run (td->loop);
  g_object_unref (client);
  while (g_main_context_iteration (context, FALSE))
    ;
  td->ok = TRUE;
  g_main_context_wakeup (NULL);   /* the test's loop, waiting for td->ok */
  g_main_loop_unref (td->loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static gboolean
thread_done (gpointer data)
{
  ThreadData *td = data;
  return td->ok;
}

static void
test_thread (Fixture *f, gconstpointer data)
{
  ThreadData td = { test_server_get_url (f->server), g_thread_self (), FALSE, FALSE, NULL };
  GThread *thread;

  /* The server runs in this thread's default context. */
  thread = g_thread_new ("bayeux-client", thread_main, &td);
  g_assert_true (test_wait_until (thread_done, &td, 10000));
  g_thread_join (thread);
  g_assert_false (td.wrong_thread);
}

/* ------------------------------------------------------------------------ */
/* Reentrancy: callbacks and handlers that call back into the client.      */

static void
unsubscribe_in_callback (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *f = data;

  g_assert_true (bayeux_client_subscribe_finish (BAYEUX_CLIENT (source), result, NULL));
  /* The subscription this callback reports on goes away under it. */
  bayeux_client_unsubscribe (BAYEUX_CLIENT (source), "/re");
  bayeux_client_subscribe (BAYEUX_CLIENT (source), "/re2");
  g_ptr_array_add (f->received, g_strdup ("callback"));
}

static gboolean
two_subscribed_again (gpointer data)
{
  Fixture *f = data;
  return test_server_count (f->server, "/meta/subscribe") >= 2 && test_server_count (f->server, "/meta/unsubscribe") >= 1;
}

static void
test_reentrant_callbacks (Fixture *f, gconstpointer data)
{
  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  /* Two waiting tasks on one subscription: the first callback unsubscribes. */
  bayeux_client_subscribe_async (f->client, "/re", NULL, unsubscribe_in_callback, f);
  bayeux_client_subscribe_async (f->client, "/re", NULL, unsubscribe_in_callback, f);
  g_assert_true (test_wait_until (two_subscribed_again, f, 5000));
  test_wait_ms (50);
  g_assert_cmpuint (f->received->len, ==, 2);
  g_assert_false (bayeux_client_is_subscribed (f->client, "/re"));
  g_assert_true (bayeux_client_is_subscribed (f->client, "/re2"));
}

static void
disconnect_from_handler (BayeuxClient *client, BayeuxMessage *message, gpointer data)
{
  bayeux_client_disconnect_async (client, NULL, NULL, NULL);
}

static void
test_disconnect_from_handler (Fixture *f, gconstpointer data)
{
  gboolean connected_after_disconnecting = FALSE, disconnecting = FALSE;

  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  fixture_subscribe (f, "/h");
  g_signal_connect (f->client, "message::/h", G_CALLBACK (disconnect_from_handler), NULL);
  connect_detail (f, "/h");
  g_array_set_size (f->states, 0);
  /* Two messages in one response: the first handler disconnects, the
   * second message is of no concern any more. */
  test_server_set_hold_forever (f->server, TRUE);
  test_server_deliver (f->server, "/h", "1");
  test_server_deliver (f->server, "/h", "2");
  test_server_set_hold_forever (f->server, FALSE);
  test_server_release (f->server);
  g_assert_true (test_wait_until (fixture_is_disconnected, f, 5000));
  test_wait_ms (100);
  for (guint i = 0; i < f->states->len; i++)
    {
      BayeuxClientState st = g_array_index (f->states, BayeuxClientState, i);
      if (st == BAYEUX_CLIENT_STATE_DISCONNECTING)
        disconnecting = TRUE;
      else if (disconnecting && st == BAYEUX_CLIENT_STATE_CONNECTED)
        connected_after_disconnecting = TRUE;
    }
  g_assert_true (disconnecting);
  g_assert_false (connected_after_disconnecting);
  g_assert_cmpuint (f->received->len, ==, 1);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
}

static void
stop_on_handshaking (GObject *object, GParamSpec *pspec, gpointer data)
{
  if (bayeux_client_get_state (BAYEUX_CLIENT (object)) == BAYEUX_CLIENT_STATE_HANDSHAKING)
    bayeux_client_stop (BAYEUX_CLIENT (object));
}

static void
test_stop_from_notify (Fixture *f, gconstpointer data)
{
  g_signal_connect (f->client, "notify::state", G_CALLBACK (stop_on_handshaking), NULL);
  bayeux_client_start (f->client);
  test_wait_ms (300);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 0);
  g_assert_cmpuint (bayeux_client_get_requests_in_flight (f->client), ==, 0);
}

static void
stop_on_connected (GObject *object, GParamSpec *pspec, gpointer data)
{
  if (bayeux_client_get_state (BAYEUX_CLIENT (object)) == BAYEUX_CLIENT_STATE_CONNECTED)
    bayeux_client_stop (BAYEUX_CLIENT (object));
}

static void
test_stop_from_notify_connected (Fixture *f, gconstpointer data)
{
  /* Stopped from the notification of a response's transition: nothing of
   * the old session goes on (no further connect). */
  g_signal_connect (f->client, "notify::state", G_CALLBACK (stop_on_connected), NULL);
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_is_disconnected, f, 5000));
  test_wait_ms (300);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
  g_assert_cmpuint (test_server_count (f->server, "/meta/connect"), ==, 1);
  g_assert_cmpuint (test_server_count (f->server, "/meta/disconnect"), ==, 1);
  g_assert_cmpuint (bayeux_client_get_requests_in_flight (f->client), ==, 0);
}

static void
test_stop_before_start (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) sresult = NULL;
  g_autoptr(GAsyncResult) presult = NULL;
  g_autoptr(GError) serror = NULL;
  g_autoptr(GError) perror = NULL;

  /* Held calls complete when the client is stopped, even never started:
   * their tasks would otherwise keep the client alive forever. */
  bayeux_client_subscribe_async (f->client, "/held", NULL, test_store_result, &sresult);
  bayeux_client_publish_async (f->client, "/held", NULL, NULL, test_store_result, &presult);
  bayeux_client_stop (f->client);
  test_wait_result (&sresult, 5000);
  test_wait_result (&presult, 5000);
  g_assert_false (bayeux_client_subscribe_finish (f->client, sresult, &serror));
  g_assert_error (serror, BAYEUX_ERROR, BAYEUX_ERROR_DISCONNECTED);
  g_assert_null (bayeux_client_publish_finish (f->client, presult, &perror));
  g_assert_error (perror, BAYEUX_ERROR, BAYEUX_ERROR_DISCONNECTED);
  /* the subscription itself is kept for the next start */
  g_assert_true (bayeux_client_is_subscribed (f->client, "/held"));
  g_clear_object (&sresult);
  g_clear_object (&presult);
}

static void
test_handshake_during_reconnect (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  bayeux_client_reconnect (f->client);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTING);
  bayeux_client_handshake_async (f->client, NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  g_assert_true (bayeux_client_handshake_finish (f->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bayeux_client_get_client_id (f->client), ==, "client-2");
}

static void
test_publish_then_disconnect (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) presult = NULL;
  g_autoptr(GAsyncResult) dresult = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(GError) error = NULL;

  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  /* Queued in the same iteration as the disconnect: it still leaves. */
  bayeux_client_publish_async (f->client, "/last-words", NULL, NULL, test_store_result, &presult);
  bayeux_client_disconnect_async (f->client, NULL, test_store_result, &dresult);
  test_wait_result (&presult, 5000);
  test_wait_result (&dresult, 5000);
  reply = bayeux_client_publish_finish (f->client, presult, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_true (bayeux_client_disconnect_finish (f->client, dresult, NULL));
  g_assert_cmpuint (test_server_count (f->server, "/last-words"), ==, 1);
}

typedef struct
{
  guint ok;
  guint failed;
} Tally;

static void
tally_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Tally *t = data;
  g_autoptr(BayeuxMessage) reply = bayeux_client_publish_finish (BAYEUX_CLIENT (source), result, NULL);

  if (reply)
    t->ok++;
  else
    t->failed++;
}

static gboolean
tally_done (gpointer data)
{
  Tally *t = data;
  return t->ok + t->failed >= 1500;
}

static void
test_many_publishes_connected (Fixture *f, gconstpointer data)
{
  Tally t = { 0, 0 };

  /* max-pending bounds what waits while unconnected, not a burst. The
   * 1,500 leave in one POST: under a sanitizer on a loaded machine, the
   * server needs more than the fixture's 2 s to answer it. */
  test_server_set_timeout (f->server, 30000);
  bayeux_client_set_max_network_delay (f->client, 15000);
  fixture_start_connected (f);
  for (int i = 0; i < 1500; i++)
    bayeux_client_publish_async (f->client, "/burst", NULL, NULL, tally_cb, &t);
  g_assert_true (test_wait_until (tally_done, &t, 20000));
  g_assert_cmpuint (t.failed, ==, 0);
  g_assert_cmpuint (test_server_count (f->server, "/burst"), ==, 1500);
}

typedef struct
{
  int queued;
  int unqueued;
} SessionCount;

static void
on_queued (SoupSession *session, SoupMessage *msg, SessionCount *c)
{
  c->queued++;
}

static void
on_unqueued (SoupSession *session, SoupMessage *msg, SessionCount *c)
{
  c->unqueued++;
}

static gboolean
none_in_session (gpointer data)
{
  SessionCount *c = data;
  return c->queued == c->unqueued;
}

static void
test_disconnect_abandons_poll (Fixture *f, gconstpointer data)
{
  SessionCount c = { 0, 0 };
  g_autoptr(GAsyncResult) result = NULL;
  SoupSession *session = bayeux_client_get_session (f->client);
  gint64 start;

  g_signal_connect (session, "request-queued", G_CALLBACK (on_queued), &c);
  g_signal_connect (session, "request-unqueued", G_CALLBACK (on_unqueued), &c);
  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  /* The server will not answer the held poll, even on disconnect: only
   * the client ending it can free it. */
  test_server_set_hold_forever (f->server, TRUE);
  g_assert_cmpint (c.queued - c.unqueued, ==, 1);
  start = g_get_monotonic_time ();
  bayeux_client_disconnect_async (f->client, NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  g_assert_true (bayeux_client_disconnect_finish (f->client, result, NULL));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  /* the session itself has no request left */
  g_assert_true (test_wait_until (none_in_session, &c, 2000));
  g_signal_handlers_disconnect_by_data (session, &c);
}

static gboolean
has_timeout_error (gpointer data)
{
  Fixture *f = data;
  return fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT) > 0;
}

static void
test_poll_deadline_measured (Fixture *f, gconstpointer data)
{
  gint64 sent, elapsed;

  /* advised timeout 400 ms + max-network-delay 300 ms = 700 ms */
  test_server_set_timeout (f->server, 400);
  bayeux_client_set_max_network_delay (f->client, 300);
  fixture_start_connected (f);
  test_server_set_hold_forever (f->server, TRUE);
  test_server_release (f->server);
  g_assert_true (test_wait_until (fixture_server_holds_connect, f, 2000));
  sent = test_server_last_time (f->server, "/meta/connect");
  g_assert_true (test_wait_until (has_timeout_error, f, 5000));
  elapsed = g_get_monotonic_time () - sent;
  g_test_message ("the held poll timed out after %" G_GINT64_FORMAT " ms", elapsed / 1000);
  g_assert_cmpint (elapsed, >=, 650 * 1000);
  g_assert_cmpint (elapsed, <, 2000 * 1000);
}

static void
test_newer_advice (Fixture *f, gconstpointer data)
{
  gint64 replied, next;

  test_server_set_interval (f->server, 500);
  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  /* The poll's answer carries interval 0: it replaces 500 at once. */
  test_server_set_interval (f->server, 0);
  test_server_release (f->server);
  replied = test_server_last_reply_time (f->server, "/meta/connect");
  g_assert_true (test_wait_until (fixture_server_holds_connect, f, 5000));
  next = test_server_last_time (f->server, "/meta/connect");
  g_assert_cmpint (next - replied, <, 250 * 1000);
}

static gboolean
deliver_twice (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/connect") ||
      test_server_count (server, "/meta/connect") < 3)
    return FALSE;
  test_server_set_hook (server, NULL, NULL);
  /* As cometd-nodejs-server does: one copy per matching subscription. */
  body = g_strdup_printf ("[{\"channel\":\"/meta/connect\",\"id\":\"%s\",\"successful\":true},"
                          "{\"channel\":\"/d/x\",\"id\":\"77\",\"data\":1},"
                          "{\"channel\":\"/d/x\",\"id\":\"77\",\"data\":1}]",
                          json_object_get_string_member (m, "id"));
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static gboolean
four_received (gpointer data)
{
  Fixture *f = data;
  return f->received->len >= 4;
}

static void
test_duplicate_copies (Fixture *f, gconstpointer data)
{
  test_server_set_timeout (f->server, 200);
  bayeux_client_subscribe (f->client, "/d/x");
  bayeux_client_subscribe (f->client, "/d/*");
  connect_detail (f, "/d/x");
  connect_detail (f, "/d/*");
  test_server_set_hook (f->server, deliver_twice, NULL);
  bayeux_client_start (f->client);
  /* Each copy is dispatched to each matching subscription: 2 × 2. */
  g_assert_true (test_wait_until (four_received, f, 5000));
  test_wait_ms (100);
  g_assert_cmpuint (f->received->len, ==, 4);
}

static void
on_meta (BayeuxClient *client, BayeuxMessage *message, gpointer data)
{
  GPtrArray *seen = data;
  g_ptr_array_add (seen, g_strdup (bayeux_message_get_channel (message)));
}

static void
on_meta_handshake (BayeuxClient *client, BayeuxMessage *message, gpointer data)
{
  JsonObject *advice = bayeux_message_get_advice (message);
  gint64 *timeout = data;

  /* The client has acted on it already: it has its client id. */
  g_assert_cmpstr (bayeux_client_get_client_id (client), ==, bayeux_message_get_client_id (message));
  *timeout = advice ? json_object_get_int_member (advice, "timeout") : -1;
}

static void
test_meta_signal (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  gint64 timeout = 0;

  test_server_set_timeout (f->server, 4321);
  g_signal_connect (f->client, "meta", G_CALLBACK (on_meta), seen);
  g_signal_connect (f->client, "meta::/meta/handshake", G_CALLBACK (on_meta_handshake), &timeout);
  bayeux_client_subscribe (f->client, "/m");
  fixture_start_connected (f);
  test_wait_ms (50);
  g_assert_cmpint (timeout, ==, 4321);
  g_assert_cmpuint (seen->len, >=, 3);
  g_assert_cmpstr (g_ptr_array_index (seen, 0), ==, "/meta/handshake");
  g_assert_true (g_ptr_array_find_with_equal_func (seen, "/meta/subscribe", g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (seen, "/meta/connect", g_str_equal, NULL));
}

typedef struct
{
  guint with;
  guint without;
} HeaderCount;

static gboolean
count_header (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  HeaderCount *c = user_data;
  const char *value = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "X-Api-Key");

  if (g_strcmp0 (value, "k-123") == 0)
    c->with++;
  else
    c->without++;
  return FALSE;
}

static void
test_headers (Fixture *f, gconstpointer data)
{
  HeaderCount c = { 0, 0 };
  guint with;

  bayeux_client_set_header (f->client, "X-Api-Key", "k-123");
  test_server_set_timeout (f->server, 200);
  test_server_set_hook (f->server, count_header, &c);
  bayeux_client_subscribe (f->client, "/hdr");
  fixture_start_connected (f);
  fixture_subscribe (f, "/hdr");
  test_wait_ms (300);
  /* every request: handshake, subscribe, connects */
  g_assert_cmpuint (c.with, >=, 4);
  g_assert_cmpuint (c.without, ==, 0);

  bayeux_client_set_header (f->client, "X-Api-Key", NULL);
  with = c.with;
  test_wait_ms (500);
  g_assert_cmpuint (c.without, >=, 1);
  g_assert_cmpuint (c.with, <=, with + 1);   /* at most the poll already in flight */
  test_server_set_hook (f->server, NULL, NULL);
}

static void
queue_three (BayeuxClient *client, gpointer data)
{
  for (int i = 0; i < 3; i++)
    bayeux_client_publish (client, "/b3", NULL);
}

static void
test_batch (Fixture *f, gconstpointer data)
{
  guint requests;

  test_server_set_timeout (f->server, 30000);
  fixture_start_connected (f);
  requests = test_server_requests (f->server);

  /* A batch built across main-loop iterations leaves as one request, at
   * its end. */
  bayeux_client_batch_begin (f->client);
  bayeux_client_publish (f->client, "/b", NULL);
  test_wait_ms (100);
  bayeux_client_publish (f->client, "/b", NULL);
  bayeux_client_batch_begin (f->client);   /* nested */
  bayeux_client_publish (f->client, "/b", NULL);
  bayeux_client_batch_end (f->client);
  test_wait_ms (100);
  g_assert_cmpuint (test_server_requests (f->server), ==, requests);
  g_assert_cmpuint (test_server_count (f->server, "/b"), ==, 0);
  bayeux_client_batch_end (f->client);
  test_wait_ms (200);
  g_assert_cmpuint (test_server_count (f->server, "/b"), ==, 3);
  g_assert_cmpuint (test_server_max_batch (f->server), >=, 3);

  /* the callback form, as bindings use it */
  bayeux_client_batch (f->client, queue_three, NULL);
  test_wait_ms (200);
  g_assert_cmpuint (test_server_count (f->server, "/b3"), ==, 3);
}

typedef struct
{
  SoupServerMessage *msg;
  char              *body;
} LateAnswer;

static gboolean
answer_late (gpointer data)
{
  LateAnswer *a = data;

  test_server_respond_raw (a->msg, 200, a->body);
  soup_server_message_unpause (a->msg);
  g_object_unref (a->msg);
  g_free (a->body);
  g_free (a);
  return G_SOURCE_REMOVE;
}

static gboolean
service_hook (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  const char *channel = json_object_get_string_member (m, "channel");
  g_autofree char *data = NULL;
  g_autofree char *body = NULL;

  if (!g_str_has_prefix (channel, "/service/"))
    return FALSE;
  data = json_to_string (json_object_get_member (m, "data"), FALSE);
  if (g_str_equal (channel, "/service/refuse"))
    body = g_strdup_printf ("[{\"channel\":\"%s\",\"id\":\"%s\",\"successful\":false,\"error\":\"403::no such service\"}]",
                            channel, json_object_get_string_member (m, "id"));
  else
    body = g_strdup_printf ("[{\"channel\":\"%s\",\"id\":\"%s\",\"successful\":true,\"data\":{\"echo\":%s}}]",
                            channel, json_object_get_string_member (m, "id"), data);
  if (g_str_equal (channel, "/service/slow"))
    {
      LateAnswer *a = g_new0 (LateAnswer, 1);
      a->msg = g_object_ref (msg);
      a->body = g_steal_pointer (&body);
      soup_server_message_pause (msg);
      g_timeout_add (600, answer_late, a);
      return TRUE;
    }
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static void
test_remote_call (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GAsyncResult) r3 = NULL;
  g_autoptr(GAsyncResult) r4 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GError) e3 = NULL;
  g_autoptr(GError) e4 = NULL;
  g_autoptr(JsonNode) arg = json_from_string ("{\"n\": 41}", NULL);
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *text = NULL;

  test_server_set_timeout (f->server, 30000);
  test_server_set_hook (f->server, service_hook, NULL);
  fixture_start_connected (f);

  bayeux_client_call_async (f->client, "/service/echo", arg, 2000, NULL, test_store_result, &r1);
  test_wait_result (&r1, 5000);
  answer = bayeux_client_call_finish (f->client, r1, NULL);
  g_assert_nonnull (answer);
  text = json_to_string (answer, FALSE);
  g_assert_cmpstr (text, ==, "{\"echo\":{\"n\":41}}");

  bayeux_client_call_async (f->client, "/service/refuse", NULL, 2000, NULL, test_store_result, &r2);
  test_wait_result (&r2, 5000);
  g_assert_null (bayeux_client_call_finish (f->client, r2, &e2));
  g_assert_error (e2, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);

  /* no answer in time; the late answer that follows is ignored */
  bayeux_client_call_async (f->client, "/service/slow", NULL, 200, NULL, test_store_result, &r3);
  test_wait_result (&r3, 5000);
  g_assert_null (bayeux_client_call_finish (f->client, r3, &e3));
  g_assert_error (e3, BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT);
  test_wait_ms (700);

  bayeux_client_call_async (f->client, "/chat/not-a-service", NULL, 0, NULL, test_store_result, &r4);
  test_wait_result (&r4, 5000);
  g_assert_null (bayeux_client_call_finish (f->client, r4, &e4));
  g_assert_error (e4, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);
  test_server_set_hook (f->server, NULL, NULL);
}

/* Listeners (add_listener): the messages of their subscription, right after
 * the signal's handlers of the same detail, in the order added; removal and
 * addition from inside a dispatch; silent without a subscription; their
 * data freed at removal or dispose. */
typedef struct
{
  Fixture *f;
  char    *name;
  guint    remove;     /* a listener to remove on the first call (0: none) */
  guint    id;         /* its own: removes itself on its first call if set */
  gboolean add;        /* add the "late" listener on the first call */
  guint    calls;
  guint   *freed;      /* counts the destroy notifies */
} TestListener;

static guint late_listener;

static void test_listener_free (gpointer data);

static void
on_test_listener (BayeuxClient  *client,
                  BayeuxMessage *message,
                  gpointer       user_data)
{
  TestListener *l = user_data;
  g_autofree char *data = json_to_string (bayeux_message_get_data (message), FALSE);

  g_ptr_array_add (l->f->received, g_strdup_printf ("%s %s", l->name, data));
  if (l->calls++ > 0)
    return;
  if (l->remove != 0)
    bayeux_client_remove_listener (client, l->remove);
  if (l->id != 0)
    {
      guint freed = *l->freed;

      /* Removed from inside its own call: its data stays until the call
       * returns (touched after the removal: valgrind and ASan watch). */
      bayeux_client_remove_listener (client, l->id);
      g_assert_cmpuint (*l->freed, ==, freed);
      l->calls++;
    }
  if (l->add)
    {
      TestListener *late = g_new0 (TestListener, 1);

      late->f = l->f;
      late->name = g_strdup ("late");
      late->freed = l->freed;
      late_listener = bayeux_client_add_listener (client, "/l/a", on_test_listener, late, test_listener_free);
    }
}

static void
test_listener_free (gpointer data)
{
  TestListener *l = data;

  (*l->freed)++;
  g_free (l->name);
  g_free (l);
}

static guint
add_test_listener (Fixture       *f,
                   const char    *channel,
                   const char    *name,
                   guint         *freed,
                   TestListener **out)
{
  TestListener *l = g_new0 (TestListener, 1);

  l->f = f;
  l->name = g_strdup (name);
  l->freed = freed;
  if (out != NULL)
    *out = l;
  return bayeux_client_add_listener (f->client, channel, on_test_listener, l, test_listener_free);
}

static gboolean
has_received_3 (gpointer data)
{
  Fixture *f = data;
  return f->received->len >= 3;
}

static void
assert_received (Fixture *f, const char *expected)
{
  g_autofree char *got = NULL;

  g_ptr_array_add (f->received, NULL);
  got = g_strjoinv ("|", (char **) f->received->pdata);
  g_ptr_array_set_size (f->received, 0);
  g_assert_cmpstr (got, ==, expected);
}

static void
test_listeners (Fixture *f, gconstpointer data)
{
  guint freed = 0, first, second, third, other;
  TestListener *l, *once;

  fixture_start_connected (f);
  fixture_subscribe (f, "/l/a");
  fixture_subscribe (f, "/l/**");
  connect_detail (f, "/l/a");

  first = add_test_listener (f, "/l/a", "first", &freed, &l);
  second = add_test_listener (f, "/l/a", "second", &freed, NULL);
  third = add_test_listener (f, "/l/**", "third", &freed, NULL);
  other = add_test_listener (f, "/l/b", "unsubscribed", &freed, NULL);
  once = NULL;
  {
    guint id = add_test_listener (f, "/l/**", "once", &freed, &once);
    once->id = id;   /* a one-shot listener: removes itself */
  }
  g_assert_cmpuint (first, !=, 0);
  g_assert_cmpuint (second, !=, first);
  /* The first one removes the second before its turn, and adds one. */
  l->remove = second;
  l->add = TRUE;

  test_server_deliver (f->server, "/l/a", "1");
  g_assert_true (test_wait_until (has_received_3, f, 5000));
  test_wait_ms (50);
  assert_received (f, "/l/a /l/a 1|first 1|third 1|once 1");
  g_assert_cmpuint (freed, ==, 2);   /* the second's and the one-shot's data */

  /* The one added during the dispatch hears the next message, after the
   * first; /l/b is not subscribed: its listener hears nothing. */
  test_server_deliver (f->server, "/l/a", "2");
  test_server_deliver (f->server, "/l/b", "3");
  g_assert_true (test_wait_until (has_received_3, f, 5000));
  test_wait_ms (100);
  assert_received (f, "/l/a /l/a 2|first 2|late 2|third 2|third 3");

  /* Unsubscribed: the listener stays, silent. */
  bayeux_client_unsubscribe (f->client, "/l/**");
  test_wait_ms (100);
  test_server_deliver (f->server, "/l/a", "4");
  g_assert_true (test_wait_until (has_received_3, f, 5000));
  test_wait_ms (50);
  assert_received (f, "/l/a /l/a 4|first 4|late 4");

  bayeux_client_remove_listener (f->client, third);
  g_assert_cmpuint (freed, ==, 3);
  (void) other;

  /* The others' data goes with the client. */
  g_clear_object (&f->client);
  g_assert_cmpuint (freed, ==, 6);
  f->client = bayeux_client_new (test_server_get_url (f->server));
}

/* Removing a listener twice (or one never added) warns, as
 * g_signal_handler_disconnect() does, and changes nothing. */
static void
test_listener_unknown (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(BayeuxClient) client = bayeux_client_new ("http://127.0.0.1:9/cometd");
      guint id = bayeux_client_add_listener (client, "/x", on_test_listener, NULL, NULL);

      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      g_log_set_fatal_mask ("Bayeux", G_LOG_FATAL_MASK);
      bayeux_client_remove_listener (client, id);
      bayeux_client_remove_listener (client, id);
      bayeux_client_remove_listener (client, 12345);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*no listener 1 on client*no listener 12345*");
}

/* A call from another thread while the client's thread runs its main
 * context: refused with a critical naming the rule, no crash, the client
 * untouched (it was stopping, or connecting, from the wrong thread before:
 * GLib's acquired_context assertion aborted the process). */
typedef struct
{
  BayeuxClient *client;
  gint          done;
} WrongThread;

static gpointer
wrong_thread_func (gpointer data)
{
  WrongThread *w = data;

  bayeux_client_stop (w->client);
  bayeux_client_publish (w->client, "/wrong/thread", NULL);
  bayeux_client_subscribe (w->client, "/wrong/thread");
  (void) bayeux_client_get_state (w->client);
  g_atomic_int_set (&w->done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

static void
test_wrong_thread (void)
{
  if (g_test_subprocess ())
    {
      TestServer *server = test_server_new ();
      BayeuxClient *client = bayeux_client_new (test_server_get_url (server));
      WrongThread w = { client, 0 };
      g_autoptr(GThread) thread = NULL;

      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      g_log_set_fatal_mask ("Bayeux", G_LOG_FATAL_MASK);
      bayeux_client_start (client);
      while (bayeux_client_get_state (client) != BAYEUX_CLIENT_STATE_CONNECTED)
        g_main_context_iteration (NULL, TRUE);
      /* The main thread owns the context while it iterates. */
      g_main_context_acquire (NULL);
      thread = g_thread_new ("wrong", wrong_thread_func, &w);
      while (!g_atomic_int_get (&w.done))
        g_main_context_iteration (NULL, TRUE);
      g_thread_join (g_steal_pointer (&thread));
      g_main_context_release (NULL);
      /* Nothing was done: still connected, not subscribed. */
      g_assert_cmpint (bayeux_client_get_state (client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
      g_assert_false (bayeux_client_is_subscribed (client, "/wrong/thread"));
      g_object_unref (client);
      test_server_free (server);
      return;
    }
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*bayeux_client_stop: called from another thread than its main context's*"
                             "*bayeux_client_publish: called from another thread*"
                             "*bayeux_client_subscribe: called from another thread*"
                             "*bayeux_client_get_state: called from another thread*");
}

/* No password of a URL in a log (every debug flag on), an error or
 * current-url: the server is named without it everywhere (issue 11,
 * point 10). A dead first server with a password, a fallback with one, an
 * invalid fallback with one; the client fails over and connects. */
#define SECRET "s3cr3t-Pa55"

static void
collect_error (BayeuxClient  *client,
               GError        *error,
               BayeuxMessage *message,
               gpointer       user_data)
{
  g_string_append_printf (user_data, "%s\n", error->message);
}

static void
test_no_password (void)
{
  if (g_test_subprocess ())
    {
      TestServer *server;
      g_autoptr(GUri) good = NULL;
      g_autofree char *fallback = NULL;
      g_autofree char *current = NULL;
      g_autoptr(GString) errors = g_string_new (NULL);
      BayeuxClient *client;
      const char *fallbacks[3] = { NULL, "ht tp://eve:" SECRET "@bad host/", NULL };
      GString *captured_logs;

      g_setenv ("BAYEUX_DEBUG", "all", TRUE);
      g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
      captured_logs = test_capture_logs ();
      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      g_log_set_fatal_mask ("Bayeux", G_LOG_FATAL_MASK);

      server = test_server_new ();
      good = g_uri_parse (test_server_get_url (server), G_URI_FLAGS_NONE, NULL);
      fallback = g_strdup_printf ("http://carol:" SECRET "@127.0.0.1:%d%s", g_uri_get_port (good),
                                  g_uri_get_path (good));
      fallbacks[0] = fallback;
      client = bayeux_client_new ("http://bob:" SECRET "@127.0.0.1:9/bayeux");
      g_signal_connect (client, "error", G_CALLBACK (collect_error), errors);
      bayeux_client_set_fallback_urls (client, fallbacks);
      bayeux_client_start (client);
      while (bayeux_client_get_state (client) != BAYEUX_CLIENT_STATE_CONNECTED)
        g_main_context_iteration (NULL, TRUE);
      g_object_get (client, "current-url", &current, NULL);
      g_object_unref (client);
      test_server_free (server);

      /* It did fail over, and said so in the logs. */
      g_assert_nonnull (strstr (captured_logs->str, "server: http://carol@127.0.0.1:"));
      g_assert_nonnull (strstr (current, "carol@127.0.0.1"));
      g_assert_cmpuint (errors->len, >, 0);
      g_assert_null (strstr (current, SECRET));
      g_assert_null (strstr (errors->str, SECRET));
      if (strstr (captured_logs->str, SECRET) != NULL)
        g_error ("a password in the logs:\n%s", captured_logs->str);
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* ------------------------------------------------------------------------ */
/* Bayeux 1.0 corners of the advice, and unanswered publishes              */

/* Answers the connect @m successfully, with @advice (a JSON object). */
static void
respond_connect_with_advice (SoupServerMessage *msg, JsonObject *m, const char *advice)
{
  g_autofree char *body = g_strdup_printf ("[{\"channel\":\"/meta/connect\",\"id\":\"%s\",\"clientId\":\"%s\","
                                           "\"successful\":true,\"advice\":%s}]",
                                           json_object_get_string_member (m, "id"),
                                           json_object_get_string_member (m, "clientId"), advice);

  test_server_respond_raw (msg, SOUP_STATUS_OK, body);
}

/* Answers the second /meta/connect, successfully, with the advice
 * @user_data (a JSON object); then lets the server answer as usual. */
static gboolean
advise_raw_on_connect (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/connect") ||
      test_server_count (server, "/meta/connect") < 2)
    return FALSE;

  test_server_set_hook (server, NULL, NULL);   /* once */
  respond_connect_with_advice (msg, m, user_data);
  return TRUE;
}

/* The client stops after the advice: DISCONNECTED with @text in the
 * message, no further request, no bad-response error. */
static void
assert_advised_stop (Fixture *f, const char *text)
{
  const GError *error;
  guint requests;

  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_true (test_wait_until (fixture_is_disconnected, f, 5000));
  error = g_ptr_array_index (f->errors, f->errors->len - 1);
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_DISCONNECTED);
  g_assert_nonnull (strstr (error->message, text));
  g_assert_cmpuint (strlen (error->message), <, 200);
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE), ==, 0);
  requests = test_server_requests (f->server);
  test_wait_ms (500);
  g_assert_cmpuint (test_server_requests (f->server), ==, requests);
}

/* Advice that says stop (@data: a StopCase): Bayeux 1.0, `interval`: "A
 * negative period indicates that the message should not be retried";
 * `reconnect`: "Any client that does not implement all defined values of
 * reconnect MUST NOT automatically retry or handshake": a value we do not
 * know stops the client, quoted when short, never when long. */
typedef struct
{
  const char *advice;   /* NULL: a reconnect of 10,000 characters */
  const char *text;     /* in the error's message */
} StopCase;

static const StopCase stop_interval_negative = { "{\"reconnect\":\"retry\",\"interval\":-1}", "interval: -1" };
static const StopCase stop_reconnect_unknown = { "{\"reconnect\":\"later\",\"interval\":0}",
                                                 "reconnect: “later”, not understood" };
static const StopCase stop_reconnect_long = { NULL, "a reconnect value not understood" };

static void
test_advice_stop (Fixture *f, gconstpointer data)
{
  const StopCase *c = data;
  g_autofree char *advice = c->advice ? g_strdup (c->advice)
                                      : g_strdup_printf ("{\"reconnect\":\"%0*d\",\"interval\":0}", 10000, 7);

  test_server_set_timeout (f->server, 200);
  test_server_set_hook (f->server, advise_raw_on_connect, advice);
  bayeux_client_start (f->client);
  assert_advised_stop (f, c->text);
  g_assert_null (strstr (((GError *) g_ptr_array_index (f->errors, f->errors->len - 1))->message, "0000"));
}

/* The section of the transport in use overlays the general advice; the
 * section of another transport is ignored. */
static void
test_advice_transport_section (Fixture *f, gconstpointer data)
{
  gint64 advised, next;

  test_server_set_timeout (f->server, 200);
  test_server_set_hook (f->server, advise_raw_on_connect,
                        (gpointer) "{\"reconnect\":\"retry\",\"interval\":0,\"long-polling\":{\"interval\":400},"
                                   "\"websocket\":{\"interval\":60000,\"reconnect\":\"none\"}}");
  bayeux_client_start (f->client);
  g_assert_true (fixture_wait_server_count_connected (f, "/meta/connect", 2, 5000));
  advised = g_get_monotonic_time ();
  test_server_set_timeout (f->server, 5000);
  g_assert_true (fixture_wait_server_count_connected (f, "/meta/connect", 3, 5000));
  next = test_server_last_time (f->server, "/meta/connect");
  g_assert_cmpint (next - advised, >=, 350 * 1000);
  g_assert_cmpuint (f->errors->len, ==, 0);
  g_assert_true (fixture_is_connected (f));
}

typedef struct
{
  char    *advice;
  gboolean failing;
} HostsCase;

/* The second connect carries the hosts advice; then the server fails
 * every request (503) once @failing. */
static gboolean
advise_hosts (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  HostsCase *c = user_data;
  JsonObject *m = json_array_get_object_element (request, 0);

  if (c->failing)
    test_server_respond_raw (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
  else if (g_str_equal (json_object_get_string_member (m, "channel"), "/meta/connect") &&
           test_server_count (server, "/meta/connect") == 2)
    respond_connect_with_advice (msg, m, c->advice);
  else
    return FALSE;
  return TRUE;
}

/* The `hosts` advice feeds the failover list: when the url fails, the
 * client goes on with an advised host of the same site; an advised host
 * of another site is left out (and said so once); a stop forgets them. */
static void
test_advice_hosts (Fixture *f, gconstpointer data)
{
  TestServer *other = test_server_new ();
  HostsCase c = { 0 };
  g_autofree char *primary = g_strdup (test_server_get_url (f->server));
  g_autofree char *ws_url = NULL;

  /* Given as a ws:// URL: the same server over HTTP. */
  ws_url = g_strdup_printf ("ws%s", test_server_get_url (other) + 4);
  c.advice = g_strdup_printf ("{\"reconnect\":\"retry\",\"interval\":0,\"hosts\":[\"%s\",\"http://evil.example/cometd\","
                              "\"http://user@127.0.0.1:1/\"]}", ws_url);
  test_server_set_timeout (f->server, 200);
  test_server_set_timeout (other, 200);
  test_server_set_hook (f->server, advise_hosts, &c);
  bayeux_client_start (f->client);
  g_assert_true (fixture_wait_server_count_connected (f, "/meta/connect", 3, 5000));
  g_assert_cmpuint (fixture_count_errors_containing (f, "2 of its 3 hosts left out"), ==, 1);

  c.failing = TRUE;
  test_server_release (f->server);
  /* A connect there first (a cluster may share sessions): 402, then a
   * handshake there. */
  for (int i = 0; i < 1000 && test_server_count (other, "/meta/handshake") == 0; i++)
    test_wait_ms (10);
  g_assert_cmpuint (test_server_count (other, "/meta/handshake"), ==, 1);
  for (int i = 0; i < 1000 && test_server_count (other, "/meta/connect") < 2; i++)
    test_wait_ms (10);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_true (g_str_has_prefix (bayeux_client_get_current_url (f->client), test_server_get_url (other)));
  g_assert_cmpuint (fixture_count_errors_containing (f, "hosts left out"), ==, 1);  /* once */

  /* Forgotten at stop: the next start is on the url. */
  bayeux_client_stop (f->client);
  g_assert_true (test_wait_until (fixture_is_disconnected, f, 5000));
  g_assert_cmpstr (bayeux_client_get_current_url (f->client), ==, primary);

  test_server_set_hook (f->server, NULL, NULL);
  client_fixture_release (f);
  test_server_free (other);
  g_free (c.advice);
}

/* Bayeux 1.0, "Publish Response": a server MAY answer a publish. Answered
 * 200 without its reply (long polling), a publish was sent: no error. */
static gboolean
leave_publish_unanswered (TestServer *server, SoupServerMessage *msg, JsonArray *request, gpointer user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/quiet/ch") &&
      !g_str_equal (json_object_get_string_member (m, "channel"), "/service/quiet"))
    return FALSE;
  test_server_respond_raw (msg, SOUP_STATUS_OK, "[]");
  return TRUE;
}

static void
test_publish_unanswered (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(JsonNode) payload = json_from_string ("{\"n\":1}", NULL);

  test_server_set_hook (f->server, leave_publish_unanswered, NULL);
  fixture_start_connected (f);
  reply = fixture_publish (f, "/quiet/ch", payload, &error);
  g_assert_no_error (error);
  g_assert_null (reply);
  test_wait_ms (100);
  g_assert_cmpuint (f->errors->len, ==, 0);
  g_assert_true (fixture_is_connected (f));

  /* A remote call needs its answer: unanswered, it fails. */
  {
    GAsyncResult *r = NULL;
    g_autoptr(JsonNode) answer = NULL;

    bayeux_client_call_async (f->client, "/service/quiet", NULL, 2000, NULL, test_store_result, &r);
    answer = bayeux_client_call_finish (f->client, test_wait_result (&r, 5000), &error);
    g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
    g_assert_null (answer);
    g_object_unref (r);
  }
}

/* Over a WebSocket, a publish left unanswered is taken as sent shortly
 * before max-network-delay (2 s here): no error, the socket kept. */
static void
test_publish_unanswered_websocket (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(JsonNode) payload = json_from_string ("{\"n\":1}", NULL);
  gint64 start;

  test_server_set_timeout (f->server, 20000);
  test_server_set_websocket (f->server, TRUE, TRUE);
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  for (int i = 0; i < 500 && g_strcmp0 (bayeux_client_get_transport (f->client), "websocket") != 0; i++)
    test_wait_ms (10);
  g_assert_cmpstr (bayeux_client_get_transport (f->client), ==, "websocket");
  test_wait_ms (200);

  test_server_ws_set_silent (f->server, TRUE);
  start = g_get_monotonic_time ();
  reply = fixture_publish (f, "/quiet/ch", payload, &error);
  g_assert_no_error (error);
  g_assert_null (reply);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1400 * 1000);
  test_server_ws_set_silent (f->server, FALSE);
  test_wait_ms (1000);
  g_assert_cmpuint (test_server_ws_connections (f->server), ==, 1);
  g_assert_cmpuint (f->errors->len, ==, 0);
  g_assert_true (fixture_is_connected (f));
  g_assert_cmpstr (bayeux_client_get_transport (f->client), ==, "websocket");
}

/* Raw JSON in and out (issue 12): get_data_json, publish_json,
 * call_json_async                                                          */

/* { GPtrArray *, n }: whether the array holds n items or more. */
static gboolean
holds_at_least (gpointer data)
{
  GPtrArray *array = ((gpointer *) data)[0];

  return array->len >= GPOINTER_TO_UINT (((gpointer *) data)[1]);
}

/* Deliveries keep their data's text as the server wrote it. */
static void
test_data_json_received (Fixture *f, gconstpointer data)
{
  static const char *texts[] = {
    "{ \"text\" : \"h\\u00e9 \\\"q\\\" \\\\ \xc3\xa9\" ,\n  \"n\": 1e400, \"f\" : 0.1, \"big\": 123456789012345678901234567890 }",
    "[ 1, 2.50 , { \"data\" : [ ] }, \"]}\" ]",
    "-0.0e-5",
    "\"\\ud83d\\ude00\"",
    "null",
  };
  gpointer wait[2] = { NULL, GUINT_TO_POINTER (G_N_ELEMENTS (texts)) };

  client_fixture_keep_messages (f, "message::/raw/**");
  wait[0] = f->received;
  fixture_start_connected (f);
  fixture_subscribe (f, "/raw/**");
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    test_server_deliver_raw (f->server, "/raw/x", texts[i]);
  g_assert_true (test_wait_until (holds_at_least, wait, 5000));
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      gsize body_size, text_size;

      /* Kept after its dispatch: a copy of its own text, not the whole
       * response it came in. */
      bayeux_message_get_text_sizes_for_testing (g_ptr_array_index (f->received, i), &body_size, &text_size);
      g_assert_cmpuint (text_size, >, 0);
      g_assert_cmpuint (body_size, ==, text_size);
      g_assert_cmpstr (bayeux_message_get_data_json (g_ptr_array_index (f->received, i)), ==, texts[i]);
    }
}

/* Publishing JSON text: the server gets the same value. */
static void
test_publish_json (Fixture *f, gconstpointer data)
{
  static const char text[] = "{ \"n\" : 1, \"s\": \"h\\u00e9\", \"a\": [1, 2.5, {\"x\": null}], \"t\": true }";
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) result2 = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(BayeuxMessage) reply2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) expected = json_from_string (text, NULL);
  g_autoptr(JsonNode) expected2 = json_from_string ("[\"x\", 42]", NULL);

  fixture_start_connected (f);
  bayeux_client_publish_json_async (f->client, "/pj/async", text, NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  reply = bayeux_client_publish_json_finish (f->client, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_true (bayeux_message_get_successful (reply));
  g_assert_true (json_node_equal (json_object_get_member (test_server_last (f->server, "/pj/async"), "data"),
                                  expected));

  /* publish_finish completes it too. */
  bayeux_client_publish_json_async (f->client, "/pj/async", "7", NULL, test_store_result, &result2);
  test_wait_result (&result2, 5000);
  reply2 = bayeux_client_publish_finish (f->client, result2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (test_server_last (f->server, "/pj/async"), "data"), ==, 7);

  /* Fire and forget. */
  bayeux_client_publish_json (f->client, "/pj/plain", "[\"x\", 42]");
  g_assert_true (fixture_wait_server_count (f, "/pj/plain", 1, 5000));
  g_assert_true (json_node_equal (json_object_get_member (test_server_last (f->server, "/pj/plain"), "data"),
                                  expected2));

  /* Numbers json-glib 1.6 would write as "1e+22.0" (not JSON: the server
   * would refuse the whole request). */
  bayeux_client_publish_json (f->client, "/pj/exp", "[1e22, 10000000000000000000, 2E+300, -1e-300]");
  g_assert_true (fixture_wait_server_count (f, "/pj/exp", 1, 5000));
  {
    JsonArray *got = json_object_get_array_member (test_server_last (f->server, "/pj/exp"), "data");

    g_assert_cmpfloat (json_array_get_double_element (got, 0), ==, 1e22);
    g_assert_cmpfloat (json_array_get_double_element (got, 1), ==, 1e19);
    g_assert_cmpfloat (json_array_get_double_element (got, 2), ==, 2e300);
    g_assert_cmpfloat (json_array_get_double_element (got, 3), ==, -1e-300);
  }
  g_assert_cmpuint (f->errors->len, ==, 0);
}

/* Text that is not JSON (or too deep, or with a number no double holds):
 * a clear error, and nothing sent. */
static void
test_publish_json_invalid (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GString) too_deep_for_data = g_string_new (NULL);
  const char *bad[] = { "", "{\"n\":}", "[1,2", "{\"a\":1,\"a\":2}", "[1e400]", "nul", "{} {}",
                        "[\"a\\u0000b\"]", NULL, NULL };
  gpointer wait[2] = { f->errors, NULL };
  guint n;

  for (guint i = 0; i < 300; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < 300; i++)
    g_string_append_c (deep, ']');
  bad[G_N_ELEMENTS (bad) - 1] = deep->str;
  /* Valid alone, but deeper than data can be in a message (an array of
   * objects around it): 255 levels. */
  for (guint i = 0; i < 255; i++)
    g_string_append_c (too_deep_for_data, '[');
  for (guint i = 0; i < 255; i++)
    g_string_append_c (too_deep_for_data, ']');
  bad[G_N_ELEMENTS (bad) - 2] = too_deep_for_data->str;
  n = G_N_ELEMENTS (bad);

  fixture_start_connected (f);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(BayeuxMessage) reply = NULL;
      g_autoptr(GError) error = NULL;

      bayeux_client_publish_json_async (f->client, "/pj/bad", bad[i], NULL, test_store_result, &result);
      test_wait_result (&result, 5000);
      reply = bayeux_client_publish_json_finish (f->client, result, &error);
      g_assert_null (reply);
      g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_JSON);
      g_assert_true (g_str_has_prefix (error->message, "Publish to /pj/bad: Invalid JSON text: "));
      bayeux_client_publish_json (f->client, "/pj/bad", bad[i]);
    }
  wait[1] = GUINT_TO_POINTER (n);
  g_assert_true (test_wait_until (holds_at_least, wait, 5000));
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_JSON), ==, n);
  g_assert_cmpuint (fixture_count_errors_containing (f, "deeper than 256 levels"), ==, 1);

  /* A bad channel is still reported as one, before the text is read. */
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;

    bayeux_client_publish_json_async (f->client, "/pj/*", "{", NULL, test_store_result, &result);
    test_wait_result (&result, 5000);
    g_assert_null (bayeux_client_publish_json_finish (f->client, result, &error));
    g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);
  }

  /* Nothing reached the server; what follows does. */
  bayeux_client_publish_json (f->client, "/pj/after", "{}");
  g_assert_true (fixture_wait_server_count (f, "/pj/after", 1, 5000));
  g_assert_cmpuint (test_server_count (f->server, "/pj/bad"), ==, 0);
  g_assert_true (fixture_is_connected (f));
}

/* NULL text is a programming error: a critical, nothing queued. */
static void
test_publish_json_null (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(BayeuxClient) client = bayeux_client_new ("http://127.0.0.1:9/cometd");

      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      g_log_set_fatal_mask ("Bayeux", G_LOG_FATAL_MASK);
      bayeux_client_publish_json (client, "/x", NULL);
      bayeux_client_publish_json_async (client, "/x", NULL, NULL, NULL, NULL);
      bayeux_client_call_json_async (client, "/service/x", NULL, 0, NULL, NULL, NULL);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*bayeux_client_publish_json: assertion 'json != NULL' failed*"
                             "*bayeux_client_publish_json_async: assertion 'json != NULL' failed*"
                             "*bayeux_client_call_json_async: assertion 'json != NULL' failed*");
}

/* A remote call with JSON text in and out. */
static void
test_call_json (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GAsyncResult) r3 = NULL;
  g_autoptr(GAsyncResult) r4 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GError) e3 = NULL;
  g_autoptr(GError) e4 = NULL;
  g_autofree char *answer = NULL;

  test_server_set_timeout (f->server, 30000);
  test_server_set_hook (f->server, service_hook, NULL);
  fixture_start_connected (f);

  bayeux_client_call_json_async (f->client, "/service/echo", "{ \"n\" : 41 }", 2000, NULL, test_store_result, &r1);
  answer = bayeux_client_call_json_finish (f->client, test_wait_result (&r1, 5000), NULL);
  g_assert_cmpstr (answer, ==, "{\"echo\":{\"n\":41}}");

  bayeux_client_call_json_async (f->client, "/service/echo", "{", 2000, NULL, test_store_result, &r2);
  g_assert_null (bayeux_client_call_json_finish (f->client, test_wait_result (&r2, 5000), &e2));
  g_assert_error (e2, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_JSON);

  bayeux_client_call_json_async (f->client, "/chat/not-a-service", "{}", 0, NULL, test_store_result, &r3);
  g_assert_null (bayeux_client_call_json_finish (f->client, test_wait_result (&r3, 5000), &e3));
  g_assert_error (e3, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);

  bayeux_client_call_json_async (f->client, "/service/refuse", "[]", 2000, NULL, test_store_result, &r4);
  g_assert_null (bayeux_client_call_json_finish (f->client, test_wait_result (&r4, 5000), &e4));
  g_assert_error (e4, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);

  g_assert_cmpuint (test_server_count (f->server, "/service/echo"), ==, 1);
  test_server_set_hook (f->server, NULL, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add ("/bayeux/client/" path, Fixture, NULL, client_fixture_setup, fn, client_fixture_teardown)
  ADD ("handshake", test_handshake);
  ADD ("handshake-denied", test_handshake_denied);
  ADD ("handshake-ext-refreshed", test_handshake_ext_refreshed);
  ADD ("connect", test_connect);
  ADD ("advice/interval", test_interval);
  ADD ("advice/handshake", test_advice_handshake);
  ADD ("advice/none", test_advice_none);
  ADD ("advice/retry", test_advice_retry);
  ADD ("unknown-client", test_unknown_client);
  g_test_add ("/bayeux/client/unknown-client/cometd-strict", Fixture, "402::session_unknown",
              client_fixture_setup, test_unknown_client, client_fixture_teardown);
  g_test_add ("/bayeux/client/unknown-client/salesforce", Fixture, "403::Unknown client",
              client_fixture_setup, test_unknown_client, client_fixture_teardown);
  g_test_add ("/bayeux/client/unknown-client/faye", Fixture, "401:abc123:Unknown client",
              client_fixture_setup, test_unknown_client, client_fixture_teardown);
  ADD ("reply/matching", test_reply_matching);
  ADD ("reply/without-id", test_reply_without_id);
  ADD ("batching", test_batching);
  ADD ("connections", test_connections);
  ADD ("disconnect/ends-poll", test_disconnect_ends_poll);
  ADD ("disconnect/timeout", test_disconnect_timeout);
  ADD ("stop-and-restart", test_stop_and_restart);
  ADD ("reconnect", test_reconnect);
  ADD ("poll-deadline", test_poll_deadline);
  ADD ("limits/response", test_response_too_large);
  ADD ("limits/request", test_request_too_large);
  ADD ("bad-input", test_bad_input);
  ADD ("refused", test_refused);
  ADD ("invalid-channel", test_invalid_channel);
  ADD ("wildcards", test_wildcards);
  ADD ("lookup-cost", test_lookup_cost);
  ADD ("held-until-handshake", test_held_until_handshake);
  ADD ("unsubscribe", test_unsubscribe);
  ADD ("cookies", test_cookies);
  ADD ("cookies-per-client", test_cookies_per_client);
  ADD ("cancel", test_cancel);
  ADD ("stop-fails-pending", test_stop_fails_pending);
  ADD ("dispose-while-polling", test_dispose_while_polling);
  ADD ("thread", test_thread);
  ADD ("reentrant/callbacks", test_reentrant_callbacks);
  ADD ("reentrant/disconnect-from-handler", test_disconnect_from_handler);
  ADD ("reentrant/stop-from-notify", test_stop_from_notify);
  ADD ("reentrant/stop-from-notify-connected", test_stop_from_notify_connected);
  ADD ("stop-before-start", test_stop_before_start);
  ADD ("handshake-during-reconnect", test_handshake_during_reconnect);
  ADD ("disconnect/sends-queued", test_publish_then_disconnect);
  ADD ("disconnect/abandons-poll", test_disconnect_abandons_poll);
  ADD ("many-publishes-connected", test_many_publishes_connected);
  ADD ("poll-deadline-measured", test_poll_deadline_measured);
  ADD ("advice/newer-replaces-older", test_newer_advice);
  ADD ("duplicate-copies", test_duplicate_copies);
  ADD ("meta-signal", test_meta_signal);
  ADD ("headers", test_headers);
  ADD ("batch", test_batch);
  ADD ("remote-call", test_remote_call);
  ADD ("listeners", test_listeners);
  g_test_add_func ("/bayeux/client/listener-unknown", test_listener_unknown);
  g_test_add_func ("/bayeux/client/wrong-thread", test_wrong_thread);
  g_test_add_func ("/bayeux/client/no-password", test_no_password);
#define ADD_DATA(path, fn, data) g_test_add ("/bayeux/client/" path, Fixture, data, client_fixture_setup, fn, client_fixture_teardown)
  ADD_DATA ("advice/interval-negative", test_advice_stop, &stop_interval_negative);
  ADD_DATA ("advice/reconnect-unknown", test_advice_stop, &stop_reconnect_unknown);
  ADD_DATA ("advice/reconnect-unknown-long", test_advice_stop, &stop_reconnect_long);
#undef ADD_DATA
  ADD ("advice/transport-section", test_advice_transport_section);
  ADD ("advice/hosts", test_advice_hosts);
  ADD ("publish/unanswered", test_publish_unanswered);
  ADD ("publish/unanswered-websocket", test_publish_unanswered_websocket);
  ADD ("data-json/received", test_data_json_received);
  ADD ("publish-json", test_publish_json);
  ADD ("publish-json/invalid", test_publish_json_invalid);
  ADD ("call-json", test_call_json);
#undef ADD
  g_test_add_func ("/bayeux/client/publish-json/null", test_publish_json_null);

  return g_test_run ();
}
