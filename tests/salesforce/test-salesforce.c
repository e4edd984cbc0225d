/* test-salesforce.c: the client against a model of the Salesforce Streaming
 * API (sf-model.c): bearer token, token expiry and refresh, session expiry,
 * filtered PushTopic channels, replay across a restart, the size limit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sf-model.h"

#include <glib/gstdio.h>

#define ORDERS   "/event/Order_Placed__e"
#define INVOICES "/topic/InvoiceStatementUpdates"

typedef struct
{
  SfModel      *model;
  BayeuxClient *client;
  BayeuxReplayExtension *replay;
  GPtrArray    *events;        /* "channel replayId", one per event message */
  GPtrArray    *errors;        /* GError* */
  SoupSession  *http;          /* for the token refresh */
  guint         authenticate;  /* ::authenticate emissions */
  guint         retrying;      /* ... with retrying set */
  guint         refreshed;
} Fixture;

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  f->model = sf_model_new (1000, "token-one", "refresh-secret", "client-app");
  f->events = g_ptr_array_new_with_free_func (g_free);
  f->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  f->http = soup_session_new ();
}

static void
release_client (Fixture *f)
{
  if (f->client != NULL)
    {
      bayeux_client_stop (f->client);
      g_object_add_weak_pointer (G_OBJECT (f->client), (gpointer *) &f->client);
      g_object_unref (f->client);
      test_wait_ms (20);
      g_assert_null (f->client);
    }
  g_clear_object (&f->replay);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  release_client (f);
  g_clear_object (&f->http);
  sf_model_free (f->model);
  g_ptr_array_unref (f->events);
  g_ptr_array_unref (f->errors);
}

static void
on_message (BayeuxClient  *client,
            BayeuxMessage *message,
            gpointer       data)
{
  Fixture *f = data;
  JsonNode *node = bayeux_message_get_data (message);
  JsonObject *event;

  if (g_str_has_prefix (bayeux_message_get_channel (message), "/meta/") || node == NULL ||
      !JSON_NODE_HOLDS_OBJECT (node))
    return;
  event = json_object_get_object_member (json_node_get_object (node), "event");
  g_ptr_array_add (f->events, g_strdup_printf ("%s %" G_GINT64_FORMAT, bayeux_message_get_channel (message),
                                               event ? json_object_get_int_member (event, "replayId") : -1));
}

static void
on_error (BayeuxClient  *client,
          GError        *error,
          BayeuxMessage *message,
          gpointer       data)
{
  Fixture *f = data;

  g_ptr_array_add (f->errors, g_error_copy (error));
}

/* A client of the model's CometD endpoint with @token (or none), as the
 * examples make it, with the test's short backoffs. */
static void
make_client (Fixture    *f,
             const char *token,
             gboolean    replay)
{
  f->client = bayeux_client_new (sf_model_get_cometd_url (f->model));
  g_object_set (f->client, "max-network-delay", 2000, "backoff-increment", 50, "max-backoff", 200, NULL);
  if (token != NULL)
    {
      g_autofree char *value = g_strconcat ("Bearer ", token, NULL);
      bayeux_client_set_header (f->client, "Authorization", value);
    }
  if (replay)
    {
      f->replay = bayeux_replay_extension_new ();
      bayeux_client_add_extension (f->client, BAYEUX_EXTENSION (f->replay));
    }
  g_signal_connect (f->client, "message", G_CALLBACK (on_message), f);
  g_signal_connect (f->client, "error", G_CALLBACK (on_error), f);
}

static void
subscribe (Fixture    *f,
           const char *channel)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  bayeux_client_subscribe_async (f->client, channel, NULL, test_store_result, &result);
  if (bayeux_client_get_state (f->client) == BAYEUX_CLIENT_STATE_DISCONNECTED)
    bayeux_client_start (f->client);
  g_assert_nonnull (test_wait_result (&result, 5000));
  bayeux_client_subscribe_finish (f->client, result, &error);
  g_assert_no_error (error);
  g_object_unref (result);
}

typedef struct
{
  Fixture *f;
  guint    n;
} Count;

static gboolean
has_events (gpointer data)
{
  Count *c = data;
  return c->f->events->len >= c->n;
}

static gboolean
wait_events (Fixture *f,
             guint    n)
{
  Count c = { f, n };
  return test_wait_until (has_events, &c, 5000);
}

static gboolean
has_error (gpointer data)
{
  Fixture *f = data;
  return f->errors->len > 0;
}

/* The events received are exactly @channel 1..@n, in order. */
static void
assert_events (Fixture    *f,
               const char *channel,
               guint       n)
{
  for (guint i = 0; i < MIN (f->events->len, n); i++)
    {
      g_autofree char *expected = g_strdup_printf ("%s %u", channel, i + 1);
      g_assert_cmpstr (g_ptr_array_index (f->events, i), ==, expected);
    }
  g_assert_cmpuint (f->events->len, ==, n);
}

/* The events received are exactly those given (NULL-terminated). */
static void
assert_received (Fixture    *f,
                 const char *first,
                 ...) G_GNUC_NULL_TERMINATED;

static void
assert_received (Fixture    *f,
                 const char *first,
                 ...)
{
  va_list args;
  guint n = 0;

  va_start (args, first);
  for (const char *expected = first; expected != NULL; expected = va_arg (args, const char *), n++)
    {
      g_assert_cmpuint (f->events->len, >, n);
      g_assert_cmpstr (g_ptr_array_index (f->events, n), ==, expected);
    }
  va_end (args);
  g_assert_cmpuint (f->events->len, ==, n);
}

static void
publish_orders (Fixture *f,
                guint    n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"OrderNumber__c\":\"%u\"}", sf_model_published (f->model, ORDERS) + 1);
      g_assert_cmpint (sf_model_publish (f->model, ORDERS, json), >, 0);
    }
}

/* The handshake carries the access token in Authorization; without it the
 * model refuses (401::Request requires authentication, reconnect none) and
 * the client stops. Only long polling is offered. */
static void
test_bearer_handshake (Fixture       *f,
                       gconstpointer  data)
{
  make_client (f, NULL, FALSE);
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (has_error, f, 5000));
  g_assert_nonnull (strstr (((GError *) g_ptr_array_index (f->errors, 0))->message, "401"));
  g_assert_cmpuint (sf_model_handshakes (f->model), ==, 0);
  release_client (f);
  g_ptr_array_set_size (f->errors, 0);

  make_client (f, "token-one", FALSE);
  subscribe (f, ORDERS);
  g_assert_cmpuint (sf_model_handshakes (f->model), ==, 1);
  g_assert_cmpstr (bayeux_client_get_transport (f->client), ==, "long-polling");
  publish_orders (f, 1);
  g_assert_true (wait_events (f, 1));
  assert_events (f, ORDERS, 1);
  g_assert_cmpuint (f->errors->len, ==, 0);
}

/* ------------------------------------------------------------------------ */
/* The token refresh, as the examples do it: an async POST to the token
 * endpoint, then set_header + reconnect. */

static void
on_token (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  Fixture *f = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  g_autofree char *value = NULL;

  g_assert_no_error (error);
  json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  value = g_strconcat ("Bearer ", json_object_get_string_member (json_node_get_object (root), "access_token"), NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "instance_url"), ==,
                   sf_model_get_instance_url (f->model));
  f->refreshed++;
  bayeux_client_set_header (f->client, "Authorization", value);
  bayeux_client_reconnect (f->client);
}

static gboolean
on_authenticate (BayeuxClient *client,
                 GError       *error,
                 gboolean      retrying,
                 gpointer      data)
{
  Fixture *f = data;
  g_autofree char *url = g_strconcat (sf_model_get_instance_url (f->model), "/services/oauth2/token", NULL);
  g_autoptr(SoupMessage) msg = NULL;
  g_autofree char *form = NULL;

  f->authenticate++;
  if (retrying)
    {
      f->retrying++;
      return FALSE;
    }
  form = soup_form_encode ("grant_type", "refresh_token", "refresh_token", "refresh-secret",
                           "client_id", "client-app", NULL);
  msg = soup_message_new_from_encoded_form ("POST", url, g_steal_pointer (&form));
  soup_session_send_and_read_async (f->http, msg, G_PRIORITY_DEFAULT, NULL, on_token, f);
  return TRUE;
}

/* The token expires while connected: the held connect gets
 * 401::Authentication invalid (reconnect none); ::authenticate; the
 * handler refreshes through the token endpoint; the client handshakes with
 * the new token and subscribes again from the last replay id: the events
 * published meanwhile arrive, none twice, none lost. */
static void
test_token_expiry (Fixture       *f,
                   gconstpointer  data)
{
  make_client (f, "token-one", TRUE);
  g_signal_connect (f->client, "authenticate", G_CALLBACK (on_authenticate), f);
  subscribe (f, ORDERS);
  publish_orders (f, 3);
  g_assert_true (wait_events (f, 3));

  sf_model_expire_token (f->model);
  publish_orders (f, 3);          /* while the client has no session */
  g_assert_true (wait_events (f, 6));
  publish_orders (f, 1);          /* and live, on the new session */
  g_assert_true (wait_events (f, 7));
  test_wait_ms (100);
  assert_events (f, ORDERS, 7);
  g_assert_cmpuint (f->authenticate, ==, 1);
  g_assert_cmpuint (f->retrying, ==, 0);
  g_assert_cmpuint (f->refreshed, ==, 1);
  g_assert_cmpuint (sf_model_refreshes (f->model), ==, 1);
  g_assert_cmpuint (sf_model_handshakes (f->model), ==, 2);
  g_assert_cmpstr (sf_model_last_replay_map (f->model), ==, "{\"" ORDERS "\":3}");
  g_assert_cmpuint (f->errors->len, ==, 0);
}

/* A refresh token that does not work either: the new handshake is refused
 * too (403::Handshake denied, failureReason 401), ::authenticate comes
 * again with retrying, the handler gives up: the client reports and stops. */
static gboolean
on_authenticate_stale (BayeuxClient *client,
                       GError       *error,
                       gboolean      retrying,
                       gpointer      data)
{
  Fixture *f = data;

  f->authenticate++;
  if (retrying)
    {
      f->retrying++;
      return FALSE;
    }
  /* The expired token again, as a broken refresh would. */
  bayeux_client_set_header (client, "Authorization", "Bearer token-one");
  bayeux_client_reconnect (client);
  return TRUE;
}

static gboolean
is_disconnected (gpointer data)
{
  Fixture *f = data;
  return bayeux_client_get_state (f->client) == BAYEUX_CLIENT_STATE_DISCONNECTED;
}

static void
test_token_refresh_fails (Fixture       *f,
                          gconstpointer  data)
{
  make_client (f, "token-one", TRUE);
  g_signal_connect (f->client, "authenticate", G_CALLBACK (on_authenticate_stale), f);
  subscribe (f, ORDERS);
  sf_model_expire_token (f->model);
  g_assert_true (test_wait_until (is_disconnected, f, 5000));
  g_assert_true (test_wait_until (has_error, f, 5000));
  g_assert_cmpuint (f->authenticate, ==, 2);
  g_assert_cmpuint (f->retrying, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (f->errors, 0), BAYEUX_ERROR, BAYEUX_ERROR_HANDSHAKE_DENIED);
  g_assert_cmpuint (sf_model_handshakes (f->model), ==, 1);
}

/* The Bayeux session ends (403::Unknown client, advice handshake): the
 * client handshakes again by itself and subscribes again from its last
 * replay id. */
static void
test_session_expiry (Fixture       *f,
                     gconstpointer  data)
{
  make_client (f, "token-one", TRUE);
  subscribe (f, ORDERS);
  publish_orders (f, 2);
  g_assert_true (wait_events (f, 2));

  sf_model_expire_sessions (f->model);
  publish_orders (f, 2);
  g_assert_true (wait_events (f, 4));
  publish_orders (f, 1);
  g_assert_true (wait_events (f, 5));
  test_wait_ms (100);
  assert_events (f, ORDERS, 5);
  g_assert_cmpuint (sf_model_handshakes (f->model), ==, 2);
  g_assert_cmpstr (sf_model_last_replay_map (f->model), ==, "{\"" ORDERS "\":2}");
}

/* A filtered PushTopic subscription gets only the matching records (the
 * conditions are ORed), on its own full name. */
static void
test_filtered (Fixture       *f,
               gconstpointer  data)
{
  const char *filtered = INVOICES "?Status__c=Open&Amount__c=100";

  make_client (f, "token-one", FALSE);
  subscribe (f, filtered);
  sf_model_publish (f->model, INVOICES, "{\"Id\":\"a1\",\"Status__c\":\"Open\",\"Amount__c\":5}");
  sf_model_publish (f->model, INVOICES, "{\"Id\":\"a2\",\"Status__c\":\"Closed\",\"Amount__c\":5}");
  sf_model_publish (f->model, INVOICES, "{\"Id\":\"a3\",\"Status__c\":\"Closed\",\"Amount__c\":100}");
  sf_model_publish (f->model, INVOICES, "{\"Id\":\"a4\",\"Status__c\":\"Draft\"}");
  sf_model_publish (f->model, INVOICES, "{\"Id\":\"a5\",\"Status__c\":\"Open\"}");
  g_assert_true (wait_events (f, 3));
  test_wait_ms (100);
  assert_received (f, INVOICES "?Status__c=Open&Amount__c=100 1", INVOICES "?Status__c=Open&Amount__c=100 3",
                   INVOICES "?Status__c=Open&Amount__c=100 5", NULL);
  g_assert_cmpuint (sf_model_delivered (f->model, INVOICES), ==, 3);
}

/* A filtered subscription with the replay extension: Salesforce looks the
 * subscription up in ext.replay by its base name (jsforce#888; the model
 * refuses a map keyed by the filtered name as Salesforce does), and the
 * events arrive on the filtered name: the extension keeps their replay id
 * under the base name, and subscribes again from it after a new session. */
static void
test_filtered_replay (Fixture       *f,
                      gconstpointer  data)
{
  const char *filtered = INVOICES "?Status__c=Open";

  make_client (f, "token-one", TRUE);
  subscribe (f, filtered);
  g_assert_cmpstr (sf_model_last_replay_map (f->model), ==, "{\"" INVOICES "\":-1}");
  sf_model_publish (f->model, INVOICES, "{\"Status__c\":\"Open\"}");
  sf_model_publish (f->model, INVOICES, "{\"Status__c\":\"Closed\"}");
  g_assert_true (wait_events (f, 1));

  sf_model_expire_sessions (f->model);
  sf_model_publish (f->model, INVOICES, "{\"Status__c\":\"Open\"}");
  g_assert_true (wait_events (f, 2));
  test_wait_ms (100);
  assert_received (f, INVOICES "?Status__c=Open 1", INVOICES "?Status__c=Open 3", NULL);
  g_assert_cmpstr (sf_model_last_replay_map (f->model), ==, "{\"" INVOICES "\":1}");
  g_assert_cmpuint (sf_model_refused_subscribes (f->model), ==, 0);
}

/* The application restarts: a new client and extension, given the replay
 * id the first one had reached, get the events published in between and
 * none of the earlier ones. */
static void
test_restart_replay (Fixture       *f,
                     gconstpointer  data)
{
  gint64 last = 0;

  make_client (f, "token-one", TRUE);
  subscribe (f, ORDERS);
  publish_orders (f, 3);
  g_assert_true (wait_events (f, 3));
  g_assert_true (bayeux_replay_extension_get_replay_id (f->replay, ORDERS, &last));
  g_assert_cmpint (last, ==, 3);
  release_client (f);

  publish_orders (f, 2);          /* while the application is not running */

  g_ptr_array_set_size (f->events, 0);
  make_client (f, "token-one", TRUE);
  bayeux_replay_extension_set_replay_id (f->replay, ORDERS, last);
  subscribe (f, ORDERS);
  g_assert_true (wait_events (f, 2));
  test_wait_ms (100);
  assert_received (f, ORDERS " 4", ORDERS " 5", NULL);
}

/* The same through the extension's state file (the `state-file`
 * property), by property name as the examples use it. */
static void
test_restart_state_file (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  BayeuxReplayExtension *replay;

  dir = g_dir_make_tmp ("sf-replay-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "replay.ini", NULL);

  for (guint run = 0; run < 2; run++)
    {
      make_client (f, "token-one", FALSE);
      replay = g_object_new (BAYEUX_TYPE_REPLAY_EXTENSION, "state-file", path, NULL);
      f->replay = replay;
      bayeux_client_add_extension (f->client, BAYEUX_EXTENSION (replay));
      g_ptr_array_set_size (f->events, 0);
      subscribe (f, ORDERS);
      if (run == 0)
        {
          publish_orders (f, 3);
          g_assert_true (wait_events (f, 3));
          release_client (f);        /* finalizing the extension saves its ids */
          publish_orders (f, 2);
        }
      else
        {
          g_assert_true (wait_events (f, 2));
          test_wait_ms (100);
          assert_received (f, ORDERS " 4", ORDERS " 5", NULL);
        }
    }
  release_client (f);
  g_unlink (path);
  g_rmdir (dir);
}

/* A long-poll answer of more than 1 MiB (Salesforce batches can be:
 * EMP-Connector issue 60): taken whole with the default settings
 * (max-message-size bounds each event, not the answer); an event larger
 * than max-message-size is refused alone, and reported. */
static void
test_size_limit (Fixture       *f,
                 gconstpointer  data)
{
  guint before;

  make_client (f, "token-one", FALSE);
  subscribe (f, ORDERS);
  sf_model_publish_big (f->model, ORDERS, 80);
  g_assert_true (wait_events (f, 80));
  g_assert_cmpuint (f->errors->len, ==, 0);
  g_assert_cmpstr (g_ptr_array_index (f->events, 79), ==, ORDERS " 80");
  release_client (f);

  g_ptr_array_set_size (f->errors, 0);
  make_client (f, "token-one", FALSE);
  bayeux_client_set_max_message_size (f->client, 8 * 1024);
  subscribe (f, ORDERS);
  before = f->events->len;
  sf_model_publish_big (f->model, ORDERS, 3);
  g_assert_true (test_wait_until (has_error, f, 5000));
  g_assert_error ((GError *) g_ptr_array_index (f->errors, 0), BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE);
  g_assert_cmpuint (f->errors->len, ==, 1);   /* one report for the answer */
  g_assert_cmpuint (f->events->len, ==, before);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add ("/salesforce/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("handshake/bearer", test_bearer_handshake);
  ADD ("token/expiry", test_token_expiry);
  ADD ("token/refresh-fails", test_token_refresh_fails);
  ADD ("session/expiry", test_session_expiry);
  ADD ("filtered", test_filtered);
  ADD ("filtered/replay", test_filtered_replay);
  ADD ("replay/restart", test_restart_replay);
  ADD ("replay/state-file", test_restart_state_file);
  ADD ("size-limit", test_size_limit);
#undef ADD

  return g_test_run ();
}
