/* salesforce.c: events from the Salesforce Streaming API (PushTopic,
 * platform events, Change Data Capture), with bayeux-glib.
 *
 * It subscribes to one channel (a filtered PushTopic channel too:
 * "/topic/Invoices?Status__c=Open"), prints each event as
 * "event <replayId> <payload>", keeps the replay id of the last one in a
 * state file so that a restart picks up where it stopped, and when the
 * OAuth access token expires gets a new one with the refresh token and
 * goes on. It never prints a token.
 *
 *   salesforce-events [OPTION…]
 *
 *   --instance-url URL    SALESFORCE_INSTANCE_URL   https://MyDomain.my.salesforce.com
 *   --access-token T      SALESFORCE_ACCESS_TOKEN
 *   --refresh-token R     SALESFORCE_REFRESH_TOKEN  (no refresh without it)
 *   --client-id C         SALESFORCE_CLIENT_ID      the connected app's consumer key
 *   --client-secret S     SALESFORCE_CLIENT_SECRET  if the app requires it
 *   --channel NAME        SALESFORCE_CHANNEL        /event/Order_Placed__e, /data/ChangeEvents…
 *   --state-file PATH     default: $XDG_STATE_HOME/bayeux-salesforce/replay.ini
 *   --api-version V       default 59.0
 *   --max-events N        quit after N events (the tests use it)
 *
 * Options take precedence over the environment; tokens are better given in
 * the environment than on a command line other users can read.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <bayeux-glib/bayeux-glib.h>
#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

typedef struct
{
  GMainLoop             *loop;
  BayeuxClient          *client;
  BayeuxReplayExtension *replay;
  SoupSession           *http;        /* for the token endpoint */
  char                  *instance_url;
  char                  *refresh_token;
  char                  *client_id;
  char                  *client_secret;
  char                  *channel;
  int                    max_events;
  int                    received;
  int                    exit_code;
  gboolean               quitting;
} App;

static void
quit_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  App *app = data;

  /* A failed disconnect changes nothing here: we are leaving. */
  bayeux_client_disconnect_finish (BAYEUX_CLIENT (source), result, NULL);
  g_main_loop_quit (app->loop);
}

static void
app_quit (App *app,
          int  exit_code)
{
  if (app->quitting)
    return;
  app->quitting = TRUE;
  if (exit_code != 0)
    app->exit_code = exit_code;
  bayeux_client_disconnect_async (app->client, NULL, quit_cb, app);
}

static gboolean
on_signal (gpointer data)
{
  app_quit (data, 0);
  return G_SOURCE_CONTINUE;
}

/* Each event: data.event.replayId, and the record (data.sobject, PushTopic)
 * or the payload (data.payload, platform and change events). */
static void
on_event (BayeuxClient  *client,
          BayeuxMessage *message,
          gpointer       data)
{
  App *app = data;
  JsonNode *node = bayeux_message_get_data (message);
  JsonObject *object, *event;
  JsonNode *payload;
  g_autofree char *text = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return;
  object = json_node_get_object (node);
  event = json_object_get_object_member (object, "event");
  payload = json_object_get_member (object, "sobject");
  if (payload == NULL)
    payload = json_object_get_member (object, "payload");
  if (event == NULL || payload == NULL)
    return;
  text = json_to_string (payload, FALSE);
  g_print ("event %" G_GINT64_FORMAT " %s\n", json_object_get_int_member_with_default (event, "replayId", -1), text);

  if (app->max_events > 0 && ++app->received >= app->max_events)
    app_quit (app, 0);
}

static void
on_error (BayeuxClient  *client,
          GError        *error,
          BayeuxMessage *message,
          gpointer       data)
{
  App *app = data;

  g_printerr ("salesforce-events: %s\n", error->message);
  if (bayeux_client_get_state (client) == BAYEUX_CLIENT_STATE_DISCONNECTED && !app->quitting)
    {
      app->exit_code = 1;
      g_main_loop_quit (app->loop);
    }
}

static void
subscribed_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  App *app = data;
  g_autoptr(GError) error = NULL;

  if (!bayeux_client_subscribe_finish (BAYEUX_CLIENT (source), result, &error))
    {
      /* A client that stopped said why through ::error already. */
      if (bayeux_client_get_state (BAYEUX_CLIENT (source)) != BAYEUX_CLIENT_STATE_DISCONNECTED)
        g_printerr ("salesforce-events: %s\n", error->message);
      app_quit (app, 1);
      return;
    }
  g_print ("subscribed %s\n", app->channel);
}

/* The token endpoint's answer: the new access token goes in the header,
 * and the client handshakes again with it (and subscribes again, from the
 * last replay id). */
static void
token_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  App *app = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  const char *token = NULL;
  g_autofree char *value = NULL;

  if (body != NULL && soup_message_get_status (msg) == SOUP_STATUS_OK &&
      json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error) &&
      (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root))
    token = json_object_get_string_member_with_default (json_node_get_object (root), "access_token", NULL);
  if (token == NULL)
    {
      g_printerr ("salesforce-events: the token refresh failed: %s\n",
                  error ? error->message : soup_message_get_reason_phrase (msg));
      app_quit (app, 1);
      return;
    }

  g_print ("token refreshed\n");
  value = g_strconcat ("Bearer ", token, NULL);
  bayeux_client_set_header (app->client, "Authorization", value);
  bayeux_client_reconnect (app->client);
}

/* The access token expired (or was revoked): get a new one, without
 * blocking the main loop. Refused twice in a row: give up. */
static gboolean
on_authenticate (BayeuxClient *client,
                 GError       *error,
                 gboolean      retrying,
                 gpointer      data)
{
  App *app = data;
  g_autofree char *url = NULL;
  g_autofree char *form = NULL;
  g_autoptr(SoupMessage) msg = NULL;

  if (retrying || app->refresh_token == NULL || app->client_id == NULL)
    {
      g_printerr ("salesforce-events: authentication failed: %s\n", error->message);
      return FALSE;   /* reported through ::error, and the client stops */
    }

  url = g_strconcat (app->instance_url, "/services/oauth2/token", NULL);
  if (app->client_secret != NULL)
    form = soup_form_encode ("grant_type", "refresh_token", "refresh_token", app->refresh_token,
                             "client_id", app->client_id, "client_secret", app->client_secret, NULL);
  else
    form = soup_form_encode ("grant_type", "refresh_token", "refresh_token", app->refresh_token,
                             "client_id", app->client_id, NULL);
  msg = soup_message_new_from_encoded_form (SOUP_METHOD_POST, url, g_steal_pointer (&form));
  if (msg == NULL)
    {
      g_printerr ("salesforce-events: bad instance URL\n");
      return FALSE;
    }
  g_print ("access token refused: refreshing it\n");
  soup_session_send_and_read_async (app->http, msg, G_PRIORITY_DEFAULT, NULL, token_cb, app);
  return TRUE;
}

static char *
option_or_env (char       *option,
               const char *variable)
{
  const char *value = g_getenv (variable);

  if (option != NULL)
    return option;
  return value != NULL && *value != '\0' ? g_strdup (value) : NULL;
}

int
main (int   argc,
      char *argv[])
{
  App app = { 0 };
  char *access_token = NULL;
  char *state_file = NULL;
  char *api_version = NULL;
  GOptionEntry entries[] = {
    { "instance-url", 0, 0, G_OPTION_ARG_STRING, &app.instance_url, "The org's instance URL", "URL" },
    { "access-token", 0, 0, G_OPTION_ARG_STRING, &access_token, "The OAuth access token", "T" },
    { "refresh-token", 0, 0, G_OPTION_ARG_STRING, &app.refresh_token, "The OAuth refresh token", "R" },
    { "client-id", 0, 0, G_OPTION_ARG_STRING, &app.client_id, "The connected app's consumer key", "C" },
    { "client-secret", 0, 0, G_OPTION_ARG_STRING, &app.client_secret, "Its consumer secret, if needed", "S" },
    { "channel", 0, 0, G_OPTION_ARG_STRING, &app.channel, "The channel to subscribe to", "NAME" },
    { "state-file", 0, 0, G_OPTION_ARG_FILENAME, &state_file, "Where the replay ids are kept", "PATH" },
    { "api-version", 0, 0, G_OPTION_ARG_STRING, &api_version, "The API version (59.0)", "V" },
    { "max-events", 0, 0, G_OPTION_ARG_INT, &app.max_events, "Quit after N events", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— print Salesforce Streaming API events");
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *bearer = NULL;
  g_autofree char *base = NULL;
  gint64 last;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("salesforce-events: %s\n", error->message);
      return 2;
    }
  app.instance_url = option_or_env (app.instance_url, "SALESFORCE_INSTANCE_URL");
  access_token = option_or_env (access_token, "SALESFORCE_ACCESS_TOKEN");
  app.refresh_token = option_or_env (app.refresh_token, "SALESFORCE_REFRESH_TOKEN");
  app.client_id = option_or_env (app.client_id, "SALESFORCE_CLIENT_ID");
  app.client_secret = option_or_env (app.client_secret, "SALESFORCE_CLIENT_SECRET");
  app.channel = option_or_env (app.channel, "SALESFORCE_CHANNEL");
  if (app.instance_url == NULL || access_token == NULL || app.channel == NULL)
    {
      g_printerr ("salesforce-events: the instance URL, an access token and a channel are needed "
                  "(see --help)\n");
      return 2;
    }
  if (state_file == NULL)
    state_file = g_build_filename (g_get_user_state_dir (), "bayeux-salesforce", "replay.ini", NULL);

  /* The CometD endpoint of the instance; long polling is all Salesforce has. */
  url = g_strdup_printf ("%s/cometd/%s", app.instance_url, api_version ? api_version : "59.0");
  app.client = bayeux_client_new (url);
  app.http = soup_session_new ();
  bearer = g_strconcat ("Bearer ", access_token, NULL);
  bayeux_client_set_header (app.client, "Authorization", bearer);
  /* Salesforce offers long polling only: no WebSocket upgrade to try first. */
  bayeux_client_set_transports (app.client, (const char *[]) { "long-polling", NULL });
  /* One event (a record with long text fields) may pass the default 1 MiB
   * a message; an answer of many events is bounded by max-response-size
   * (64 MiB), not by this (EMP-Connector issue 60, "Buffering capacity
   * 1048576 exceeded", was about whole answers). */
  bayeux_client_set_max_message_size (app.client, 10 * 1024 * 1024);

  /* Replay: from the id kept in the state file (the first run: new events
   * only), written as events arrive, and on exit. */
  app.replay = g_object_new (BAYEUX_TYPE_REPLAY_EXTENSION, "state-file", state_file, NULL);
  bayeux_client_add_extension (app.client, BAYEUX_EXTENSION (app.replay));
  base = g_strndup (app.channel, strcspn (app.channel, "?"));
  if (bayeux_replay_extension_get_replay_id (app.replay, base, &last))
    g_print ("resuming %s after %" G_GINT64_FORMAT "\n", base, last);

  g_signal_connect (app.client, "message", G_CALLBACK (on_event), &app);
  g_signal_connect (app.client, "error", G_CALLBACK (on_error), &app);
  g_signal_connect (app.client, "authenticate", G_CALLBACK (on_authenticate), &app);

  app.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  bayeux_client_subscribe_async (app.client, app.channel, NULL, subscribed_cb, &app);
  bayeux_client_start (app.client);
  g_main_loop_run (app.loop);

  /* The last replay ids, now (the extension writes them a second after
   * they change, and when it goes). */
  if (!bayeux_replay_extension_save (app.replay, &error))
    g_printerr ("salesforce-events: %s\n", error->message);
  bayeux_client_stop (app.client);
  g_clear_object (&app.client);
  g_clear_object (&app.replay);
  g_clear_object (&app.http);
  g_main_loop_unref (app.loop);
  g_free (app.instance_url);
  g_free (access_token);
  g_free (app.refresh_token);
  g_free (app.client_id);
  g_free (app.client_secret);
  g_free (app.channel);
  g_free (state_file);
  g_free (api_version);
  return app.exit_code;
}
