/* getting-started.c: subscribe to a channel, publish a message on it,
 * print the message when the server delivers it back, and disconnect.
 *
 *   cc -o getting-started getting-started.c $(pkg-config --cflags --libs bayeux-glib-1.0)
 *   ./getting-started http://127.0.0.1:8000/faye
 */
#include <bayeux-glib/bayeux-glib.h>

#define CHANNEL "/hello"

typedef struct {
  GMainLoop *loop;
  int        status;     /* the exit status */
  gboolean   received;   /* our message came back */
  gboolean   published;  /* the server confirmed the publish */
} App;

static void
disconnected_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (!bayeux_client_disconnect_finish (BAYEUX_CLIENT (source), result, &error))
    g_printerr ("disconnect: %s\n", error->message);
  g_main_loop_quit (app->loop);
}

/* Done once the message came back and the publish was confirmed (the
 * delivery may come first: over a WebSocket the server sends them in any
 * order, and a disconnect fails what still waits for an answer). */
static void
maybe_disconnect (BayeuxClient *client,
                  App          *app)
{
  if (app->received && app->published)
    bayeux_client_disconnect_async (client, NULL, disconnected_cb, app);
}

/* Each message that arrives on our subscription to CHANNEL. */
static void
on_message (BayeuxClient  *client,
            BayeuxMessage *message,
            gpointer       user_data)
{
  App *app = user_data;
  JsonNode *data = bayeux_message_get_data (message);   /* owned by message */
  const char *text = NULL;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    text = json_object_get_string_member_with_default (json_node_get_object (data), "text", NULL);
  g_print ("received \"%s\" on %s\n", text ? text : "?", bayeux_message_get_channel (message));

  app->received = TRUE;
  maybe_disconnect (client, app);
}

/* Failures that no _finish function reports: lost connections (the client
 * recovers by itself), refusals of fire-and-forget calls, bad input. */
static void
on_error (BayeuxClient  *client,
          GError        *error,
          BayeuxMessage *message,   /* nullable */
          gpointer       user_data)
{
  g_printerr ("error: %s\n", error->message);
}

static void
published_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;

  reply = bayeux_client_publish_finish (BAYEUX_CLIENT (source), result, &error);
  if (reply == NULL)
    {
      g_printerr ("publish: %s\n", error->message);
      app->status = 1;
      g_main_loop_quit (app->loop);
      return;
    }
  app->published = TRUE;
  maybe_disconnect (BAYEUX_CLIENT (source), app);
}

static void
subscribed_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  BayeuxClient *client = BAYEUX_CLIENT (source);
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) data = NULL;

  if (!bayeux_client_subscribe_finish (client, result, &error))
    {
      /* BAYEUX_ERROR_REFUSED, with the server's error string, for example */
      g_printerr ("subscribe: %s\n", error->message);
      app->status = 1;
      g_main_loop_quit (app->loop);
      return;
    }

  /* Subscribed: what we publish now comes back to us. */
  data = json_from_string ("{\"text\": \"Hello from C\"}", NULL);
  bayeux_client_publish_async (client, CHANNEL, data, NULL, published_cb, app);
}

int
main (int   argc,
      char *argv[])
{
  const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:8000/faye";
  App app = { g_main_loop_new (NULL, FALSE), 0, FALSE, FALSE };
  g_autoptr(BayeuxClient) client = bayeux_client_new (url);

  g_signal_connect (client, "message::" CHANNEL, G_CALLBACK (on_message), &app);
  g_signal_connect (client, "error", G_CALLBACK (on_error), &app);

  /* Held until the handshake is done, then sent. */
  bayeux_client_subscribe_async (client, CHANNEL, NULL, subscribed_cb, &app);
  bayeux_client_start (client);

  g_main_loop_run (app.loop);
  g_main_loop_unref (app.loop);
  return app.status;
}
