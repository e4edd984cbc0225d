/* consumer.c: a program built against bayeux-glib as a Meson subproject.
 *
 * It needs no server: it checks that the header, the version macros, the
 * channel functions, the error domain and a client (its properties and
 * signals) are usable from the subproject's build, and prints "ok".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <bayeux-glib/bayeux-glib.h>

#if !BAYEUX_CHECK_VERSION (1, 0, 0)
#error "bayeux-glib 1.0.0 or later is needed"
#endif

static void
on_message (BayeuxClient  *client,
            BayeuxMessage *message,
            gpointer       user_data)
{
  guint *received = user_data;

  if (client != NULL && message != NULL)
    (*received)++;
}

int
main (void)
{
  g_autoptr(BayeuxClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(BayeuxMessage) message = NULL;
  g_autofree char *url = NULL;
  BayeuxClientState state;
  guint received = 0;

  if (!bayeux_channel_matches ("/chat/*", "/chat/demo") || bayeux_channel_matches ("/chat/*", "/chat/a/b"))
    g_error ("bayeux_channel_matches () is wrong");
  if (bayeux_channel_validate ("/chat/*", BAYEUX_CHANNEL_NONE, &error))
    g_error ("a wildcard was accepted as a channel");
  if (!g_error_matches (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL))
    g_error ("unexpected error: %s", error->message);

  node = json_from_string ("{\"channel\": \"/chat/demo\", \"data\": {\"text\": \"hi\"}, \"id\": \"1\"}", NULL);
  message = bayeux_message_new_from_json (node, NULL);
  if (message == NULL || g_strcmp0 (bayeux_message_get_channel (message), "/chat/demo") != 0)
    g_error ("bayeux_message_new_from_json () failed");

  client = bayeux_client_new ("http://127.0.0.1:9/cometd");
  g_signal_connect (client, "message::/chat/demo", G_CALLBACK (on_message), &received);
  g_object_get (client, "url", &url, "state", &state, NULL);
  if (g_strcmp0 (url, "http://127.0.0.1:9/cometd") != 0 || state != BAYEUX_CLIENT_STATE_DISCONNECTED)
    g_error ("unexpected client properties");
  if (g_strcmp0 (bayeux_client_get_transport (client), "long-polling") != 0)
    g_error ("unexpected transport");
  if (received != 0)
    g_error ("a message arrived from nowhere");

  g_print ("ok: bayeux-glib %s as a subproject\n", BAYEUX_VERSION_S);
  return 0;
}
