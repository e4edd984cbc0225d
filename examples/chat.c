/* chat.c: a Bayeux chat client, the bayeux-glib version of the original
 * POE::Component::Client::Bayeux synopsis.
 *
 * It joins /chat/demo, says that it has joined, prints every chat message
 * that arrives as "user: chat", and sends each line typed on its standard
 * input. Ctrl-C disconnects and quits.
 *
 *   bayeux-chat [--count N] URL [NAME]
 *
 * With --count N it disconnects and quits after N messages have arrived
 * (the tests use it).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <bayeux-glib/bayeux-glib.h>
#include <glib-unix.h>
#include <gio/gunixinputstream.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#define CHAT_CHANNEL "/chat/demo"

typedef struct
{
  GMainLoop        *loop;
  BayeuxClient     *client;
  GDataInputStream *input;
  GCancellable     *cancellable;
  char             *name;
  int               count;     /* messages to wait for, or 0 for no limit */
  int               received;
  int               exit_code;
  gboolean          quitting;
} Chat;

static void read_next_line (Chat *chat);

static JsonNode *
chat_message_new (const char *user,
                  const char *text)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "user");
  json_builder_add_string_value (builder, user);
  json_builder_set_member_name (builder, "chat");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
disconnect_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Chat *chat = user_data;
  g_autoptr(GError) error = NULL;

  if (!bayeux_client_disconnect_finish (BAYEUX_CLIENT (source), result, &error))
    g_printerr ("disconnect: %s\n", error->message);

  g_main_loop_quit (chat->loop);
}

static void
chat_quit (Chat *chat)
{
  if (chat->quitting)
    return;

  chat->quitting = TRUE;
  g_cancellable_cancel (chat->cancellable);
  bayeux_client_disconnect_async (chat->client, NULL, disconnect_cb, chat);
}

static void
on_message (BayeuxClient  *client,
            BayeuxMessage *message,
            gpointer       user_data)
{
  Chat *chat = user_data;
  JsonNode *data = bayeux_message_get_data (message);
  const char *user = NULL;
  const char *text = NULL;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    {
      JsonObject *object = json_node_get_object (data);

      user = json_object_get_string_member_with_default (object, "user", NULL);
      text = json_object_get_string_member_with_default (object, "chat", NULL);
    }

  if (user != NULL && text != NULL)
    {
      g_print ("%s: %s\n", user, text);
    }
  else
    {
      /* Not from a chat client: show it whole. */
      g_autofree char *json = bayeux_message_to_string (message);

      g_print ("%s\n", json);
    }

  chat->received++;
  if (chat->count > 0 && chat->received >= chat->count)
    chat_quit (chat);
}

static void
on_error (BayeuxClient  *client,
          GError        *error,
          BayeuxMessage *message,
          gpointer       user_data)
{
  if (message != NULL && bayeux_message_get_channel (message) != NULL)
    g_printerr ("error (%s): %s\n", bayeux_message_get_channel (message), error->message);
  else
    g_printerr ("error: %s\n", error->message);
}

static void
on_state_changed (BayeuxClient *client,
                  GParamSpec   *pspec,
                  gpointer      user_data)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (BAYEUX_TYPE_CLIENT_STATE);
  GEnumValue *value = g_enum_get_value (klass, bayeux_client_get_state (client));

  g_printerr ("[%s]\n", value != NULL ? value->value_nick : "?");
}

static void
publish_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = bayeux_client_publish_finish (BAYEUX_CLIENT (source), result, &error);
  if (reply == NULL)
    g_printerr ("publish: %s\n", error->message);
}

static void
chat_say (Chat       *chat,
          const char *text)
{
  g_autoptr(JsonNode) data = chat_message_new (chat->name, text);

  bayeux_client_publish_async (chat->client, CHAT_CHANNEL, data, NULL, publish_cb, chat);
}

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Chat *chat = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                    result, NULL, &error);
  if (line == NULL)
    {
      /* End of input (or no terminal at all): keep listening. */
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_printerr ("stdin: %s\n", error->message);
      return;
    }

  g_strstrip (line);
  if (*line != '\0')
    chat_say (chat, line);

  read_next_line (chat);
}

static void
read_next_line (Chat *chat)
{
  g_data_input_stream_read_line_async (chat->input, G_PRIORITY_DEFAULT,
                                       chat->cancellable, read_line_cb, chat);
}

static void
subscribe_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Chat *chat = user_data;
  g_autoptr(GError) error = NULL;

  if (!bayeux_client_subscribe_finish (BAYEUX_CLIENT (source), result, &error))
    {
      g_printerr ("subscribe %s: %s\n", CHAT_CHANNEL, error->message);
      chat->exit_code = EXIT_FAILURE;
      chat_quit (chat);
      return;
    }

  /* Subscribed: anything published from now on comes back to us, our own
   * join message included. */
  chat_say (chat, "has joined");
  read_next_line (chat);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  Chat *chat = user_data;

  if (chat->quitting)
    {
      /* A second Ctrl-C: do not wait for the server any longer. */
      g_main_loop_quit (chat->loop);
    }
  else
    {
      g_printerr ("disconnecting…\n");
      chat_quit (chat);
    }

  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stdin_stream = NULL;
  const char *count_env = g_getenv ("BAYEUX_CHAT_COUNT");
  int count = count_env != NULL ? atoi (count_env) : 0;
  gboolean verbose = FALSE;
  GOptionEntry entries[] = {
    { "count", 'n', 0, G_OPTION_ARG_INT, &count,
      "Disconnect and quit after N messages", "N" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      "Show the client's state changes", NULL },
    { NULL }
  };
  Chat chat = { 0 };
  guint sigint_id;
  guint sigterm_id;

  /* g_print() converts to the locale's character set. */
  setlocale (LC_ALL, "");
  /* One line at a time, also into a pipe. */
  setvbuf (stdout, NULL, _IOLBF, 0);

  context = g_option_context_new ("URL [NAME] - chat on " CHAT_CHANNEL);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
                                    "Type a line to send it; Ctrl-C to quit.\n"
                                    "G_MESSAGES_DEBUG=Bayeux shows the client's log, "
                                    "BAYEUX_DEBUG=wire the JSON it sends and receives.\n");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  if (argc < 2 || argc > 3)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      return EXIT_FAILURE;
    }

  chat.loop = g_main_loop_new (NULL, FALSE);
  chat.cancellable = g_cancellable_new ();
  chat.name = g_strdup (argc > 2 ? argv[2] : g_get_user_name ());
  chat.count = MAX (count, 0);
  chat.exit_code = EXIT_SUCCESS;
  chat.client = bayeux_client_new (argv[1]);

  stdin_stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  chat.input = g_data_input_stream_new (stdin_stream);

  g_signal_connect (chat.client, "message::" CHAT_CHANNEL, G_CALLBACK (on_message), &chat);
  g_signal_connect (chat.client, "error", G_CALLBACK (on_error), &chat);
  if (verbose)
    g_signal_connect (chat.client, "notify::state", G_CALLBACK (on_state_changed), &chat);

  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, &chat);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, &chat);

  /* The subscription is held until the handshake completes, then sent. */
  bayeux_client_subscribe_async (chat.client, CHAT_CHANNEL, NULL, subscribe_cb, &chat);
  bayeux_client_start (chat.client);

  g_printerr ("%s joining %s on %s (Ctrl-C to quit)\n", chat.name, CHAT_CHANNEL, argv[1]);
  g_main_loop_run (chat.loop);

  g_clear_handle_id (&sigint_id, g_source_remove);
  g_clear_handle_id (&sigterm_id, g_source_remove);
  g_cancellable_cancel (chat.cancellable);
  bayeux_client_stop (chat.client);
  g_clear_object (&chat.client);
  g_clear_object (&chat.input);
  g_clear_object (&chat.cancellable);
  g_clear_pointer (&chat.loop, g_main_loop_unref);
  g_free (chat.name);

  return chat.exit_code;
}
