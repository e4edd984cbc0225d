/* sf-model-server.c: the Salesforce Streaming API model (sf-model.c) as a
 * program, for tests that run the examples against it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   sf-model-server [--timeout MS] [--retention N]
 *                   --access-token T --refresh-token R --client-id C
 *
 * It listens on 127.0.0.1 (a free port), prints "READY <instance_url>" and
 * reads commands on its standard input, a line each, answering each with
 * one line:
 *
 *   PUBLISH <channel> <json>   → OK <replay id>
 *   BIG <channel> <n>          → OK <last replay id>  (n events, > 1 MiB, in one answer)
 *   EXPIRE_TOKEN               → OK   (the access token stops working)
 *   EXPIRE_SESSION             → OK   (403::Unknown client on the next request)
 *   COUNT <channel>            → COUNT <published> <delivered>
 *   STATS                      → STATS handshakes=N refreshes=N sessions=N refused_subscribes=N
 *
 * It exits when its standard input closes. The tokens are the caller's;
 * it never prints one.
 */
#include "sf-model.h"

#include <gio/gunixinputstream.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct
{
  SfModel          *model;
  GDataInputStream *input;
  GMainLoop        *loop;
} Server;

static void read_next (Server *server);

static void
answer (const char *format,
        ...) G_GNUC_PRINTF (1, 2);

static void
answer (const char *format,
        ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

static void
run_command (Server     *server,
             const char *line)
{
  g_auto(GStrv) words = g_strsplit (line, " ", 3);
  guint n = g_strv_length (words);

  if (n == 0)
    answer ("ERROR empty");
  else if (g_str_equal (words[0], "PUBLISH") && n == 3)
    {
      gint64 id = sf_model_publish (server->model, words[1], words[2]);

      if (id < 0)
        answer ("ERROR not a JSON object");
      else
        answer ("OK %" G_GINT64_FORMAT, id);
    }
  else if (g_str_equal (words[0], "BIG") && n == 3)
    answer ("OK %" G_GINT64_FORMAT,
            sf_model_publish_big (server->model, words[1], (guint) g_ascii_strtoull (words[2], NULL, 10)));
  else if (g_str_equal (words[0], "EXPIRE_TOKEN"))
    {
      sf_model_expire_token (server->model);
      answer ("OK");
    }
  else if (g_str_equal (words[0], "EXPIRE_SESSION"))
    {
      sf_model_expire_sessions (server->model);
      answer ("OK");
    }
  else if (g_str_equal (words[0], "COUNT") && n == 2)
    answer ("COUNT %u %u", sf_model_published (server->model, words[1]),
            sf_model_delivered (server->model, words[1]));
  else if (g_str_equal (words[0], "STATS"))
    answer ("STATS handshakes=%u refreshes=%u sessions=%u refused_subscribes=%u",
            sf_model_handshakes (server->model), sf_model_refreshes (server->model),
            sf_model_sessions (server->model), sf_model_refused_subscribes (server->model));
  else
    answer ("ERROR unknown command");
}

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  Server *server = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (server->input, result, NULL, &error);

  if (line == NULL)
    {
      g_main_loop_quit (server->loop);
      return;
    }
  g_strchomp (line);
  run_command (server, line);
  read_next (server);
}

static void
read_next (Server *server)
{
  g_data_input_stream_read_line_async (server->input, G_PRIORITY_DEFAULT, NULL, on_line, server);
}

int
main (int   argc,
      char *argv[])
{
  int timeout = 110000;
  int retention = 1000;
  g_autofree char *access_token = NULL;
  g_autofree char *refresh_token = NULL;
  g_autofree char *client_id = NULL;
  GOptionEntry entries[] = {
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Advised long-poll timeout (default 110000)", "MS" },
    { "retention", 0, 0, G_OPTION_ARG_INT, &retention, "Events kept per channel (default 1000)", "N" },
    { "access-token", 0, 0, G_OPTION_ARG_STRING, &access_token, "The access token taken at start", "T" },
    { "refresh-token", 0, 0, G_OPTION_ARG_STRING, &refresh_token, "The refresh token", "R" },
    { "client-id", 0, 0, G_OPTION_ARG_STRING, &client_id, "The connected app's client id", "C" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— a model of the Salesforce Streaming API");
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stdin_stream = NULL;
  Server server = { 0 };

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "It prints \"READY <instance URL>\", then reads commands on its standard input, a line each:\n"
    "  PUBLISH <channel> <json>   an event (answers OK <replay id>)\n"
    "  BIG <channel> <n>          n events in one answer of more than 1 MiB\n"
    "  EXPIRE_TOKEN               the access token stops working\n"
    "  EXPIRE_SESSION             403::Unknown client on the next request\n"
    "  COUNT <channel>            events published and delivered\n"
    "  STATS                      handshakes, refreshes, sessions, refused subscribes\n"
    "It exits when its standard input closes.");
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      access_token == NULL || refresh_token == NULL || client_id == NULL || timeout <= 0 || retention <= 0)
    {
      g_printerr ("sf-model-server: %s\n",
                  error ? error->message : "--access-token, --refresh-token and --client-id are needed");
      return 2;
    }

  server.model = sf_model_new ((guint) timeout, access_token, refresh_token, client_id);
  sf_model_set_retention (server.model, (guint) retention);
  server.loop = g_main_loop_new (NULL, FALSE);
  stdin_stream = g_unix_input_stream_new (0, FALSE);
  server.input = g_data_input_stream_new (stdin_stream);

  answer ("READY %s", sf_model_get_instance_url (server.model));
  read_next (&server);
  g_main_loop_run (server.loop);

  g_object_unref (server.input);
  g_main_loop_unref (server.loop);
  sf_model_free (server.model);
  return 0;
}
