/* test-credentials.c: BayeuxClient::authenticate, new credentials for a
 * client whose token expired, against the in-process test server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-utils.h"
#include "bayeux-client-private.h"

typedef ClientFixture Fixture;

/* The server's idea of the credentials, and how it refuses others. */
typedef enum {
  REFUSE_HTTP_401,        /* any POST: HTTP 401 */
  REFUSE_HANDSHAKE_401,   /* the handshake: 401::Authentication invalid, reconnect none */
  REFUSE_HANDSHAKE_SFDC,  /* the handshake: 403::Handshake denied, ext.sfdc.failureReason 401 */
  REFUSE_CONNECT,         /* the handshake is accepted, the connect gets HTTP 401 */
} Refusal;

struct _FixtureExtra
{
  char     *token;          /* the one the server takes now */
  Refusal   refusal;
  guint     refused;        /* requests refused */
  guint     emissions;      /* ::authenticate */
  GPtrArray *retrying;      /* "0" or "1" per emission */
  GError   *last_error;     /* of the last emission */
  gboolean  handled;        /* what the handler returns */
  char     *next_token;     /* what it gives, at once or after give_after_ms */
  guint     give_after_ms;  /* 0: reconnect from inside the handler */
  guint     requests_at_emission;
};

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  client_fixture_setup (f, data);
  f->x = g_new0 (FixtureExtra, 1);
  f->x->token = g_strdup ("one");
  f->x->retrying = g_ptr_array_new ();
  bayeux_client_set_header (f->client, "Authorization", "Bearer one");
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  client_fixture_teardown (f, data);
  g_free (f->x->token);
  g_free (f->x->next_token);
  g_ptr_array_unref (f->x->retrying);
  g_clear_error (&f->x->last_error);
  g_free (f->x);
}

static gboolean
check_token (TestServer        *server,
             SoupServerMessage *msg,
             JsonArray         *request,
             gpointer           user_data)
{
  Fixture *f = user_data;
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  g_autofree char *expected = g_strconcat ("Bearer ", f->x->token, NULL);
  JsonObject *first = json_array_get_object_element (request, 0);
  const char *channel = json_object_get_string_member_with_default (first, "channel", "");
  g_autofree char *body = NULL;

  if (g_strcmp0 (auth, expected) == 0)
    return FALSE;   /* the built-in server answers */
  if (f->x->refusal == REFUSE_CONNECT && !g_str_equal (channel, "/meta/connect"))
    return FALSE;

  f->x->refused++;
  switch (f->x->refusal)
    {
    case REFUSE_HTTP_401:
    case REFUSE_CONNECT:
      test_server_respond_raw (msg, 401, "");
      return TRUE;
    case REFUSE_HANDSHAKE_401:
    case REFUSE_HANDSHAKE_SFDC:
      if (!g_str_equal (channel, "/meta/handshake"))
        {
          test_server_respond_raw (msg, 401, "");
          return TRUE;
        }
      if (f->x->refusal == REFUSE_HANDSHAKE_401)
        body = g_strdup_printf ("[{\"channel\":\"/meta/handshake\",\"id\":\"%s\",\"successful\":false,"
                                "\"error\":\"401::Authentication invalid\",\"advice\":{\"reconnect\":\"none\"}}]",
                                json_object_get_string_member (first, "id"));
      else
        body = g_strdup_printf ("[{\"channel\":\"/meta/handshake\",\"id\":\"%s\",\"successful\":false,"
                                "\"error\":\"403::Handshake denied\",\"ext\":{\"sfdc\":{\"failureReason\":"
                                "\"401::Authentication invalid\"}},\"advice\":{\"reconnect\":\"none\"}}]",
                                json_object_get_string_member (first, "id"));
      test_server_respond_raw (msg, 200, body);
      return TRUE;
    default:
      g_assert_not_reached ();
    }
}

static void
give_token (Fixture *f)
{
  g_autofree char *value = g_strconcat ("Bearer ", f->x->next_token, NULL);

  bayeux_client_set_header (f->client, "Authorization", value);
  bayeux_client_reconnect (f->client);
}

static gboolean
give_token_cb (gpointer data)
{
  give_token (data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_authenticate (BayeuxClient *client,
                 GError       *error,
                 gboolean      retrying,
                 gpointer      user_data)
{
  Fixture *f = user_data;

  f->x->emissions++;
  f->x->requests_at_emission = test_server_requests (f->server);
  g_ptr_array_add (f->x->retrying, (char *) (retrying ? "1" : "0"));
  g_clear_error (&f->x->last_error);
  f->x->last_error = g_error_copy (error);
  if (f->x->handled && f->x->next_token != NULL)
    {
      if (f->x->give_after_ms == 0)
        give_token (f);
      else
        g_timeout_add (f->x->give_after_ms, give_token_cb, f);
    }
  return f->x->handled;
}

static void
expire_token (Fixture    *f,
              const char *now)
{
  g_free (f->x->token);
  f->x->token = g_strdup (now);
}

static gboolean
has_emitted (gpointer data)
{
  Fixture *f = data;
  return f->x->emissions > 0;
}

/* The token expires while connected: HTTP 401 on the next request. The
 * handler fetches a new one (300 ms later): meanwhile no request goes; then
 * the client handshakes with it, is connected, and resubscribed. */
static void
test_http_401_refresh (Fixture       *f,
                       gconstpointer  data)
{
  guint handshakes;

  test_server_set_timeout (f->server, 200);
  test_server_set_hook (f->server, check_token, f);
  g_signal_connect (f->client, "authenticate", G_CALLBACK (on_authenticate), f);
  f->x->handled = TRUE;
  f->x->next_token = g_strdup ("two");
  f->x->give_after_ms = 300;
  client_fixture_keep_messages (f, "message::/a");
  fixture_start_connected (f);
  fixture_subscribe (f, "/a");
  handshakes = test_server_count (f->server, "/meta/handshake");

  expire_token (f, "two");
  g_assert_true (test_wait_until (has_emitted, f, 5000));
  g_assert_error (f->x->last_error, BAYEUX_ERROR, BAYEUX_ERROR_HTTP);
  g_assert_cmpstr (g_ptr_array_index (f->x->retrying, 0), ==, "0");
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_UNCONNECTED);
  g_assert_null (bayeux_client_get_client_id (f->client));
  /* The wait: nothing is sent. */
  test_wait_ms (200);
  g_assert_cmpuint (test_server_requests (f->server), ==, f->x->requests_at_emission);

  g_assert_true (fixture_wait_resubscribed (f, "/a", 5000));
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, handshakes + 1);
  g_assert_cmpuint (f->x->emissions, ==, 1);
  g_assert_cmpuint (f->x->refused, ==, 1);
  /* Handled: the application heard of it through ::authenticate only. */
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_HTTP), ==, 0);
  test_server_deliver (f->server, "/a", "{\"n\":1}");
  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
}

static gboolean
server_has_a (gpointer data)
{
  Fixture *f = data;
  return test_server_is_subscribed (f->server, "/a");
}

/* The Salesforce way: the handshake refused with 401::Authentication
 * invalid and reconnect none (or 403::Handshake denied saying 401 in
 * ext.sfdc); new credentials given from inside the handler. */
static void
test_handshake_401_refresh (Fixture       *f,
                            gconstpointer  data)
{
  f->x->refusal = GPOINTER_TO_INT (data);
  test_server_set_hook (f->server, check_token, f);
  g_signal_connect (f->client, "authenticate", G_CALLBACK (on_authenticate), f);
  f->x->handled = TRUE;
  f->x->next_token = g_strdup ("two");
  expire_token (f, "two");   /* already expired at start */
  bayeux_client_subscribe (f->client, "/a");
  bayeux_client_start (f->client);

  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_true (test_wait_until (server_has_a, f, 5000));
  g_assert_cmpuint (f->x->emissions, ==, 1);
  g_assert_error (f->x->last_error, BAYEUX_ERROR, BAYEUX_ERROR_HANDSHAKE_DENIED);
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 2);
  g_assert_cmpuint (f->errors->len, ==, 0);
}

/* No handler: as before ::authenticate existed. A refused handshake with
 * reconnect none stops the client; an HTTP 401 is retried after the
 * backoff, reported each time. */
static void
test_no_handler (Fixture       *f,
                 gconstpointer  data)
{
  f->x->refusal = GPOINTER_TO_INT (data);
  test_server_set_hook (f->server, check_token, f);
  expire_token (f, "two");
  bayeux_client_start (f->client);

  if (f->x->refusal == REFUSE_HANDSHAKE_401)
    {
      g_assert_true (test_wait_until (fixture_is_disconnected, f, 5000));
      g_assert_true (test_wait_until (fixture_has_error, f, 5000));
      g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_HANDSHAKE_DENIED), ==, 1);
      g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 1);
    }
  else
    {
      test_wait_ms (600);
      g_assert_cmpint (bayeux_client_get_state (f->client), !=, BAYEUX_CLIENT_STATE_DISCONNECTED);
      g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_HTTP), >=, 2);
      g_assert_cmpuint (f->x->refused, >=, 2);
    }
}

/* A handler that declines (returns FALSE) is as no handler. */
static void
test_declined (Fixture       *f,
               gconstpointer  data)
{
  test_server_set_hook (f->server, check_token, f);
  g_signal_connect (f->client, "authenticate", G_CALLBACK (on_authenticate), f);
  f->x->refusal = REFUSE_HANDSHAKE_401;
  expire_token (f, "two");
  bayeux_client_start (f->client);

  g_assert_true (test_wait_until (fixture_is_disconnected, f, 5000));
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_cmpuint (f->x->emissions, ==, 1);
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_HANDSHAKE_DENIED), ==, 1);
}

/* The new credentials are refused too, again and again (the handler gives
 * the same wrong token at once): ::authenticate says it is a retry, and
 * the handshakes wait out the backoff: no storm. */
static void
test_retrying (Fixture       *f,
               gconstpointer  data)
{
  guint handshakes;

  test_server_set_hook (f->server, check_token, f);
  g_signal_connect (f->client, "authenticate", G_CALLBACK (on_authenticate), f);
  f->x->refusal = GPOINTER_TO_INT (data);
  f->x->handled = TRUE;
  f->x->next_token = g_strdup ("wrong");
  expire_token (f, "two");
  bayeux_client_start (f->client);

  test_wait_ms (1000);
  handshakes = test_server_count (f->server, "/meta/handshake");
  g_test_message ("%u handshakes in 1 s, backoff increment 50 ms, max 200 ms", handshakes);
  /* One per refused handshake (the last one may still be on its way). */
  g_assert_cmpuint (f->x->emissions, <=, handshakes);
  g_assert_cmpuint (f->x->emissions + 1, >=, handshakes);
  g_assert_cmpuint (handshakes, >=, 3);
  /* 0, 50, 100, 150, 200, 200… ms (jittered down by a quarter at most). */
  g_assert_cmpuint (handshakes, <=, 12);
  g_assert_cmpstr (g_ptr_array_index (f->x->retrying, 0), ==, "0");
  g_assert_cmpstr (g_ptr_array_index (f->x->retrying, 1), ==, "1");
  g_assert_cmpstr (g_ptr_array_index (f->x->retrying, f->x->retrying->len - 1), ==, "1");
  g_assert_cmpuint (f->errors->len, ==, 0);
}

static gboolean
credentials_error_reported (gpointer data)
{
  return fixture_count_errors_containing (data, "no new credentials within") > 0;
}

/* A handler that promises and never gives: the client waits (bounded),
 * sending nothing, then reports the refusal and stops. */
static void
test_wait_runs_out (Fixture       *f,
                    gconstpointer  data)
{
  guint requests;

  bayeux_client_set_credentials_wait_for_testing (f->client, 500);
  test_server_set_hook (f->server, check_token, f);
  g_signal_connect (f->client, "authenticate", G_CALLBACK (on_authenticate), f);
  f->x->handled = TRUE;
  fixture_start_connected (f);
  expire_token (f, "two");
  bayeux_client_publish (f->client, "/p", NULL);
  g_assert_true (test_wait_until (has_emitted, f, 5000));
  requests = test_server_requests (f->server);

  g_assert_true (test_wait_until (fixture_is_disconnected, f, 5000));
  g_assert_true (test_wait_until (credentials_error_reported, f, 5000));
  g_assert_cmpuint (test_server_requests (f->server), ==, requests);
  g_assert_cmpuint (fixture_count_errors_containing (f, "no new credentials within"), ==, 1);
  g_assert_cmpuint (f->x->emissions, ==, 1);
}

/* What the application sends while the client waits leaves in the new
 * session; bayeux_client_stop() ends the wait. */
static void
test_calls_wait (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;

  test_server_set_timeout (f->server, 200);
  test_server_set_hook (f->server, check_token, f);
  g_signal_connect (f->client, "authenticate", G_CALLBACK (on_authenticate), f);
  f->x->handled = TRUE;
  fixture_start_connected (f);
  expire_token (f, "two");
  g_assert_true (test_wait_until (has_emitted, f, 5000));

  bayeux_client_publish_async (f->client, "/p", NULL, NULL, test_store_result, &result);
  bayeux_client_subscribe (f->client, "/b");
  test_wait_ms (100);
  g_assert_null (result);
  g_assert_cmpuint (test_server_count (f->server, "/p"), ==, 0);

  f->x->next_token = g_strdup ("two");
  give_token (f);
  give_token (f);   /* twice: the second does nothing more */
  test_wait_result (&result, 5000);
  reply = bayeux_client_publish_finish (f->client, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (test_server_count (f->server, "/p"), ==, 1);
  g_assert_true (test_server_is_subscribed (f->server, "/b"));

  /* A second expiry, and a stop while waiting. */
  g_clear_pointer (&f->x->next_token, g_free);
  expire_token (f, "three");
  g_assert_true (test_wait_until (fixture_is_unconnected, f, 5000));
  g_assert_cmpuint (f->x->emissions, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (f->x->retrying, 1), ==, "0");
  bayeux_client_stop (f->client);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
  test_wait_ms (100);
  g_assert_cmpuint (fixture_count_errors_containing (f, "no new credentials"), ==, 0);
}

/* Faye's "401:<id>:Unknown client" is an unknown client, not refused
 * credentials: the client handshakes again by itself. */
static gboolean
faye_unknown_once (TestServer        *server,
                   SoupServerMessage *msg,
                   JsonArray         *request,
                   gpointer           user_data)
{
  JsonObject *m = json_array_get_object_element (request, 0);
  g_autofree char *body = NULL;

  if (!g_str_equal (json_object_get_string_member (m, "channel"), "/meta/connect"))
    return FALSE;
  test_server_set_hook (server, NULL, NULL);
  test_server_forget_clients (server);
  body = g_strdup_printf ("[{\"channel\":\"/meta/connect\",\"id\":\"%s\",\"successful\":false,"
                          "\"error\":\"401:%s:Unknown client\"}]",
                          json_object_get_string_member (m, "id"), json_object_get_string_member (m, "clientId"));
  test_server_respond_raw (msg, 200, body);
  return TRUE;
}

static void
test_unknown_client_is_not (Fixture       *f,
                            gconstpointer  data)
{
  g_signal_connect (f->client, "authenticate", G_CALLBACK (on_authenticate), f);
  f->x->handled = TRUE;
  test_server_set_timeout (f->server, 200);
  fixture_start_connected (f);
  test_server_set_hook (f->server, faye_unknown_once, NULL);
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 2);
  g_assert_cmpuint (f->x->emissions, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn, data) g_test_add ("/bayeux/credentials/" path, Fixture, data, setup, fn, teardown)
  ADD ("refresh/http-401", test_http_401_refresh, NULL);
  ADD ("refresh/handshake-401", test_handshake_401_refresh, GINT_TO_POINTER (REFUSE_HANDSHAKE_401));
  ADD ("refresh/handshake-sfdc-403", test_handshake_401_refresh, GINT_TO_POINTER (REFUSE_HANDSHAKE_SFDC));
  ADD ("no-handler/handshake-401", test_no_handler, GINT_TO_POINTER (REFUSE_HANDSHAKE_401));
  ADD ("no-handler/http-401", test_no_handler, GINT_TO_POINTER (REFUSE_HTTP_401));
  ADD ("declined", test_declined, NULL);
  ADD ("retrying", test_retrying, GINT_TO_POINTER (REFUSE_HANDSHAKE_401));
  /* Accepted by the handshake, refused by the connect: still a retry. */
  ADD ("retrying/connect", test_retrying, GINT_TO_POINTER (REFUSE_CONNECT));
  ADD ("wait-runs-out", test_wait_runs_out, NULL);
  ADD ("calls-wait", test_calls_wait, NULL);
  ADD ("unknown-client-is-not", test_unknown_client_is_not, NULL);
  return g_test_run ();
}
