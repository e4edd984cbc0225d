/* bayeux.c: the bayeux command-line client
 *
 *   bayeux subscribe [OPTION...] URL CHANNEL...
 *   bayeux publish [OPTION...] URL CHANNEL [JSON]
 *   bayeux info [OPTION...] URL
 *
 * One BayeuxClient, driven from the main loop: --header goes through
 * bayeux_client_set_header(), --cacert to the client's own session, and
 * `info` reads the handshake reply from the meta::/meta/handshake signal.
 * Every way out goes through app_finish(), which disconnects from the
 * server (disconnect_async) before the loop ends, unless the server was
 * never reached. The exit statuses are listed in the help's description.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <bayeux-glib/bayeux-glib.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
  STATUS_OK         = 0,
  STATUS_USAGE      = 1,
  STATUS_REFUSED    = 2,
  STATUS_TIMEOUT    = 3,
  STATUS_CONNECTION = 4,
  STATUS_BAD_INPUT  = 5,
} Status;

typedef enum {
  COMMAND_SUBSCRIBE,
  COMMAND_PUBLISH,
  COMMAND_INFO,
} Command;

/* Publishes read from standard input but not yet acknowledged: reading
 * stops at this many, so that a long input never overflows the client's
 * max-pending queue. */
#define MAX_IN_FLIGHT 100

/* Deeper JSON is refused before json-glib parses it (its parser recurses);
 * the library refuses responses nested deeper than this too, so such a
 * message could not come back to a subscriber anyway. */
#define MAX_JSON_DEPTH 64

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

static char     *opt_transport;
static char    **opt_headers;
static char     *opt_ext;
static char     *opt_cacert;
static gboolean  opt_insecure;
static gboolean  opt_verbose;
static gboolean  opt_version;
static gboolean  opt_help;
static double    opt_connect_timeout = 10;
static int       opt_count;
static double    opt_timeout;

/* String options are G_OPTION_ARG_FILENAME: taken as they are, not
 * converted from the locale's character set (JSON and header values are
 * UTF-8 or ASCII whatever the locale). */
static const GOptionEntry entries[] = {
  { "count", 'c', 0, G_OPTION_ARG_INT, &opt_count,
    "subscribe: exit after N messages", "N" },
  { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout,
    "subscribe: exit with status 3 when no message arrives for SECONDS", "SECONDS" },
  { "connect-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opt_connect_timeout,
    "Give up (status 4) when not connected for SECONDS (default 10; 0: never)", "SECONDS" },
  { "transport", 'T', 0, G_OPTION_ARG_STRING, &opt_transport,
    "Transports allowed, in order of preference: websocket, long-polling, or both comma-separated (default: websocket,long-polling)", "NAMES" },
  { "header", 'H', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_headers,
    "Add an HTTP header to every request (repeatable)", "NAME:VALUE" },
  { "ext", 'e', 0, G_OPTION_ARG_FILENAME, &opt_ext,
    "Send this JSON object as the handshake's ext (authentication)", "JSON" },
  { "cacert", 0, 0, G_OPTION_ARG_FILENAME, &opt_cacert,
    "Trust the certificate authorities in this PEM file", "FILE" },
  { "insecure", 'k', 0, G_OPTION_ARG_NONE, &opt_insecure,
    "Accept any TLS certificate, even one that does not verify", NULL },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
    "Show progress and the JSON sent and received (ext values redacted) on standard error", NULL },
  { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version,
    "Print the version and exit", NULL },
  { "help", 'h', 0, G_OPTION_ARG_NONE, &opt_help,
    "Print this help and exit", NULL },
  { NULL }
};

static const char summary[] =
  "A Bayeux (CometD, Faye) client: subscribe to channels, publish messages,\n"
  "and see what a server offers.";

/* Laid out for help2man (tools/meson.build): "Usage:" and "or:" lines make
 * the SYNOPSIS, "Options:" the OPTIONS; "Commands:" and "Exit status:"
 * become sections of their own, "Environment:" and "Examples:" are known to
 * it; a tag, two spaces and a text make an indented paragraph. */
static const char usage[] =
  "Usage: bayeux subscribe [OPTION...] URL CHANNEL...\n"
  "  or:  bayeux publish [OPTION...] URL CHANNEL [JSON]\n"
  "  or:  bayeux info [OPTION...] URL\n";

static const char description[] =
  "Commands:\n"
  "  subscribe URL CHANNEL...    Subscribe to each CHANNEL (a trailing /* matches\n"
  "                              one segment, /** any number) and print each\n"
  "                              message as it arrives, as one JSON line:\n"
  "                              {\"channel\":...,\"data\":...,\"id\":...} (id only\n"
  "                              when the message has one). Runs until\n"
  "                              interrupted, or --count or --timeout ends it.\n"
  "  publish URL CHANNEL [JSON]  Publish JSON on CHANNEL; without JSON, publish\n"
  "                              each line of standard input as one message\n"
  "                              (empty lines are skipped). Waits for the server\n"
  "                              to acknowledge every message, then disconnects.\n"
  "                              A line that is not JSON is reported with its\n"
  "                              number and skipped; the others are sent. A\n"
  "                              JSON argument starting with - goes after --.\n"
  "  info URL                    Handshake and print what the server offered, as\n"
  "                              JSON: version, supportedConnectionTypes, advice,\n"
  "                              clientId, ext.\n"
  "\n"
  "Exit status:\n"
  "  0   success\n"
  "  1   usage error: a bad option, argument, URL, channel or header\n"
  "  2   refused by the server (handshake, subscription or publish); the\n"
  "      server's error is on standard error\n"
  "  3   subscribe --timeout: no message arrived in time\n"
  "  4   connection failed: not connected within --connect-timeout, or not\n"
  "      connected again that long after losing the connection, or a message\n"
  "      could not be delivered\n"
  "  5   bad input: JSON that does not parse (on the command line or a line\n"
  "      of standard input), or a message too large to send\n"
  "When several apply, the first failure's status is returned. SIGINT and\n"
  "SIGTERM disconnect, then exit with status 128 + the signal's number.\n"
  "\n"
  "Environment:\n"
  "  BAYEUX_DEBUG=wire        the JSON dump of --verbose\n"
  "  G_MESSAGES_DEBUG=Bayeux  the client's state changes and retries\n"
  "\n"
  "Examples:\n"
  "  $ bayeux subscribe http://localhost:8000/faye '/chat/**'\n"
  "  $ echo '{\"text\":\"hi\"}' | bayeux publish http://localhost:8000/faye /chat/demo\n"
  "  $ bayeux publish http://localhost:8000/faye /numbers -- -1\n"
  "  $ bayeux info -H 'Authorization:Bearer TOKEN' https://example.org/cometd\n";

/* ------------------------------------------------------------------------ */
/* The run                                                                  */

typedef struct
{
  Command           command;
  GMainLoop        *loop;
  BayeuxClient     *client;
  const char       *url;
  char            **channels;      /* subscribe: all; publish: one */
  JsonNode         *data;          /* publish: the JSON argument */
  GPtrArray        *header_names;
  GPtrArray        *header_values;
  int               status;        /* the first failure's (a Status, or 128 + a signal) */
  gboolean          ready;         /* connected (and subscribed) */
  gboolean          finishing;     /* app_finish() was called */
  guint             connect_timer; /* until ready */
  guint             lost_timer;    /* since the connection was lost */
  guint             idle_timer;    /* subscribe --timeout */
  guint             sigint_id;
  guint             sigterm_id;
  GError           *last_error;    /* the last BayeuxClient::error */

  /* subscribe */
  guint             n_confirmed;
  guint             n_received;
  BayeuxMessage    *last_printed;

  /* publish */
  GDataInputStream *input;
  GCancellable     *input_cancellable;
  guint             line_number;
  guint             in_flight;
  gboolean          reading;
  gboolean          input_done;

  /* info */
  BayeuxMessage    *handshake_reply;  /* the successful one, from the meta signal */
  gboolean          handshake_done;   /* handshake_async completed */
  gboolean          connected;        /* the first /meta/connect succeeded */
} App;

static void read_next_line (App *app);

static void
note_status (App *app,
             int  status)
{
  if (app->status == STATUS_OK)
    app->status = status;
}

static Status
status_for_error (const GError *error)
{
  if (g_error_matches (error, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED) ||
      g_error_matches (error, BAYEUX_ERROR, BAYEUX_ERROR_HANDSHAKE_DENIED))
    return STATUS_REFUSED;
  if (g_error_matches (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL))
    return STATUS_USAGE;
  if (g_error_matches (error, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE))
    return STATUS_BAD_INPUT;
  return STATUS_CONNECTION;
}

static void
verbose (const char *format,
         ...) G_GNUC_PRINTF (1, 2);

static void
verbose (const char *format,
         ...)
{
  g_autofree char *text = NULL;
  va_list args;

  if (!opt_verbose)
    return;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("bayeux: %s\n", text);
}

static void
disconnect_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (!bayeux_client_disconnect_finish (BAYEUX_CLIENT (source), result, &error))
    g_printerr ("bayeux: disconnect: %s\n", error->message);
  else
    verbose ("disconnected");

  g_main_loop_quit (app->loop);
}

/* Ends the run with @status (unless an earlier failure set one). When
 * @tell_server, the client disconnects first; otherwise (the server was
 * never reached) it just stops. */
static void
app_finish (App      *app,
            int       status,
            gboolean  tell_server)
{
  note_status (app, status);
  if (app->finishing)
    return;

  app->finishing = TRUE;
  g_clear_handle_id (&app->connect_timer, g_source_remove);
  g_clear_handle_id (&app->lost_timer, g_source_remove);
  g_clear_handle_id (&app->idle_timer, g_source_remove);
  if (app->input_cancellable != NULL)
    g_cancellable_cancel (app->input_cancellable);

  if (tell_server)
    {
      bayeux_client_disconnect_async (app->client, NULL, disconnect_cb, app);
    }
  else
    {
      bayeux_client_stop (app->client);
      g_main_loop_quit (app->loop);
    }
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  App *app = user_data;

  app->connect_timer = 0;
  g_printerr ("bayeux: %s: not connected after %g s%s%s\n", app->url, opt_connect_timeout,
              app->last_error ? ": " : "", app->last_error ? app->last_error->message : "");
  /* A server that keeps refusing the handshake (and advising us to try
   * again) refused; anything else is a connection failure. */
  app_finish (app,
              app->last_error && g_error_matches (app->last_error, BAYEUX_ERROR, BAYEUX_ERROR_HANDSHAKE_DENIED)
              ? STATUS_REFUSED : STATUS_CONNECTION,
              FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
lost_timeout_cb (gpointer user_data)
{
  App *app = user_data;

  app->lost_timer = 0;
  g_printerr ("bayeux: %s: connection lost for %g s%s%s\n", app->url, opt_connect_timeout,
              app->last_error ? ": " : "", app->last_error ? app->last_error->message : "");
  app_finish (app, STATUS_CONNECTION, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
idle_timeout_cb (gpointer user_data)
{
  App *app = user_data;

  app->idle_timer = 0;
  g_printerr ("bayeux: no message within %g s\n", opt_timeout);
  app_finish (app, STATUS_TIMEOUT, TRUE);
  return G_SOURCE_REMOVE;
}

static void
restart_idle_timer (App *app)
{
  g_clear_handle_id (&app->idle_timer, g_source_remove);
  if (opt_timeout > 0 && !app->finishing)
    app->idle_timer = g_timeout_add ((guint) (opt_timeout * 1000), idle_timeout_cb, app);
}

/* Connected (and, for subscribe, subscribed): the connect timeout is over. */
static void
set_ready (App *app)
{
  app->ready = TRUE;
  g_clear_handle_id (&app->connect_timer, g_source_remove);
  if (app->command == COMMAND_SUBSCRIBE)
    restart_idle_timer (app);
}

static gboolean
on_signal (App *app,
           int  signum)
{
  if (app->finishing)
    {
      /* A second one: do not wait for the disconnect. */
      note_status (app, 128 + signum);
      bayeux_client_stop (app->client);
      g_main_loop_quit (app->loop);
      return G_SOURCE_CONTINUE;
    }
  verbose ("interrupted: disconnecting");
  app_finish (app, 128 + signum, TRUE);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigint (gpointer user_data)
{
  return on_signal (user_data, SIGINT);
}

static gboolean
on_sigterm (gpointer user_data)
{
  return on_signal (user_data, SIGTERM);
}

/* ------------------------------------------------------------------------ */
/* Client signals                                                           */

static void
on_error (BayeuxClient  *client,
          GError        *error,
          BayeuxMessage *message,
          gpointer       user_data)
{
  App *app = user_data;

  g_clear_error (&app->last_error);
  app->last_error = g_error_copy (error);
  if (app->finishing)
    return;

  /* A certificate that does not verify will not verify on the next try
   * either: say so now rather than after the connect timeout. */
  if (!app->ready && g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    {
      g_printerr ("bayeux: %s: %s (see --cacert and --insecure)\n", app->url, error->message);
      app_finish (app, STATUS_CONNECTION, FALSE);
      return;
    }

  /* While connecting, the library retries failures by itself: the last
   * one is printed if the connect timeout gives up. Once connected, each
   * is worth knowing of (the client recovers by itself). */
  if (app->ready || opt_verbose)
    g_printerr ("bayeux: %s\n", error->message);
}

static void
on_state_changed (BayeuxClient *client,
                  GParamSpec   *pspec,
                  gpointer      user_data)
{
  App *app = user_data;
  BayeuxClientState state = bayeux_client_get_state (client);

  if (app->finishing || !app->ready)
    return;

  switch (state)
    {
    case BAYEUX_CLIENT_STATE_CONNECTED:
      g_clear_handle_id (&app->lost_timer, g_source_remove);
      break;
    case BAYEUX_CLIENT_STATE_UNCONNECTED:
    case BAYEUX_CLIENT_STATE_HANDSHAKING:
      /* The library recovers by itself; we wait for it as long as for the
       * first connection. */
      if (app->lost_timer == 0 && opt_connect_timeout > 0)
        app->lost_timer = g_timeout_add ((guint) (opt_connect_timeout * 1000), lost_timeout_cb, app);
      break;
    case BAYEUX_CLIENT_STATE_DISCONNECTED:
      /* Not our doing: the server advised `none`, or refused a
       * re-handshake for good. */
      g_printerr ("bayeux: %s: the server ended the session%s%s\n", app->url,
                  app->last_error ? ": " : "", app->last_error ? app->last_error->message : "");
      app_finish (app, STATUS_CONNECTION, FALSE);
      break;
    case BAYEUX_CLIENT_STATE_DISCONNECTING:
      break;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
on_accept_certificate (BayeuxClient         *client,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  App *app = user_data;

  verbose ("accepting a TLS certificate that does not verify (errors 0x%x) for %s (--insecure)",
           errors, app->url);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* JSON input                                                               */

/* Refuses nesting deeper than MAX_JSON_DEPTH before json-glib, whose
 * parser recurses, sees the text. Brackets inside strings do not count. */
static gboolean
check_depth (const char  *text,
             gsize        length,
             GError     **error)
{
  guint depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > MAX_JSON_DEPTH)
            {
              g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                           "JSON nested deeper than %d levels", MAX_JSON_DEPTH);
              return FALSE;
            }
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

static JsonNode *
parse_json (const char  *text,
            gsize        length,
            GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;

  if (!g_utf8_validate_len (text, length, NULL))
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                           "not valid UTF-8");
      return NULL;
    }
  if (!check_depth (text, length, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, length, error))
    return NULL;

  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, "no JSON value");
      return NULL;
    }
  return json_node_ref (root);
}

/* json-glib says "<data>:1:3: Parse error: unexpected identifier `not',
 * expected value" of "not json". The name means nothing to the user, and
 * the column is where json-glib's scanner stopped (the token's last
 * character, or past it), not where the mistake starts: it is left out,
 * the token json-glib quotes shows the place. The line is kept when
 * @multi_line (a JSON argument may span lines; a line of standard input
 * is named by its own number). Returns "unexpected identifier `not',
 * expected value" (or "line 2: …"), else the message as it is. */
static char *
parse_error_text (const GError *error,
                  gboolean      multi_line)
{
  const char *text = error->message;
  const char *p;
  char *end;
  guint64 line;

  if (!g_str_has_prefix (text, "<data>:"))
    return g_strdup (text);

  p = text + strlen ("<data>:");
  line = g_ascii_strtoull (p, &end, 10);
  if (end == p || *end != ':')
    return g_strdup (text);
  p = end + 1;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p != ':')
    return g_strdup (text);
  p++;
  while (*p == ' ')
    p++;
  if (g_str_has_prefix (p, "Parse error: "))
    p += strlen ("Parse error: ");
  if (g_str_has_prefix (p, "scanner: "))
    p += strlen ("scanner: ");
  if (multi_line && line > 1)
    return g_strdup_printf ("line %" G_GUINT64_FORMAT ": %s", line, p);
  return g_strdup (p);
}

/* ------------------------------------------------------------------------ */
/* subscribe                                                                */

static void
print_message (BayeuxMessage *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  JsonNode *data = bayeux_message_get_data (message);
  const char *id = bayeux_message_get_id (message);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "channel");
  json_builder_add_string_value (builder, bayeux_message_get_channel (message));
  json_builder_set_member_name (builder, "data");
  if (data != NULL)
    json_builder_add_value (builder, json_node_copy (data));
  else
    json_builder_add_null_value (builder);
  if (id != NULL)
    {
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, id);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  /* UTF-8 as it is, not converted to the locale as g_print() would; one
   * flush per line, for whoever reads the pipe. */
  text = json_to_string (root, FALSE);
  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

static void
on_message (BayeuxClient  *client,
            BayeuxMessage *message,
            gpointer       user_data)
{
  App *app = user_data;

  /* The client emits a message once per subscription it matches (see
   * BayeuxClient::message): print it once. */
  if (app->finishing || message == app->last_printed)
    return;
  g_clear_pointer (&app->last_printed, bayeux_message_unref);
  app->last_printed = bayeux_message_ref (message);

  print_message (message);
  app->n_received++;
  if (opt_count > 0 && app->n_received >= (guint) opt_count)
    {
      app_finish (app, STATUS_OK, TRUE);
      return;
    }
  if (app->ready)
    restart_idle_timer (app);
}

typedef struct
{
  App  *app;
  char *channel;
} SubscribeCall;

static void
subscribe_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  SubscribeCall *call = user_data;
  App *app = call->app;
  g_autoptr(GError) error = NULL;
  g_autofree char *channel = g_steal_pointer (&call->channel);

  g_free (call);
  if (!bayeux_client_subscribe_finish (BAYEUX_CLIENT (source), result, &error))
    {
      if (!app->finishing)
        {
          g_printerr ("bayeux: %s\n", error->message);
          app_finish (app, status_for_error (error), TRUE);
        }
      return;
    }

  verbose ("subscribed to %s", channel);
  if (++app->n_confirmed == g_strv_length (app->channels) && !app->finishing)
    set_ready (app);
}

static void
run_subscribe (App *app)
{
  g_signal_connect (app->client, "message", G_CALLBACK (on_message), app);
  for (guint i = 0; app->channels[i] != NULL; i++)
    {
      SubscribeCall *call = g_new0 (SubscribeCall, 1);

      call->app = app;
      call->channel = g_strdup (app->channels[i]);
      bayeux_client_subscribe_async (app->client, app->channels[i], NULL, subscribe_cb, call);
    }
}

/* ------------------------------------------------------------------------ */
/* publish                                                                  */

static void
maybe_done_publishing (App *app)
{
  if (app->input_done && app->in_flight == 0 && !app->finishing)
    app_finish (app, STATUS_OK, TRUE);
}

typedef struct
{
  App   *app;
  guint  line_number;   /* 0 for the command-line argument */
} PublishCall;

static void
publish_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  PublishCall *call = user_data;
  App *app = call->app;
  guint line_number = call->line_number;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(GError) error = NULL;

  g_free (call);
  reply = bayeux_client_publish_finish (BAYEUX_CLIENT (source), result, &error);
  app->in_flight--;
  if (app->finishing)
    return;

  if (reply == NULL)
    {
      if (line_number > 0)
        g_printerr ("bayeux: line %u: %s\n", line_number, error->message);
      else
        g_printerr ("bayeux: %s\n", error->message);
      note_status (app, status_for_error (error));
    }
  else if (line_number > 0)
    verbose ("line %u: published", line_number);
  else
    verbose ("published");

  read_next_line (app);
  maybe_done_publishing (app);
}

static void
publish (App      *app,
         JsonNode *data,
         guint     line_number)
{
  PublishCall *call = g_new0 (PublishCall, 1);

  call->app = app;
  call->line_number = line_number;
  app->in_flight++;
  bayeux_client_publish_async (app->client, app->channels[0], data, NULL, publish_cb, call);
}

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) data = NULL;
  g_autofree char *line = NULL;
  gsize length = 0;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, &length, &error);
  app->reading = FALSE;
  if (app->finishing)
    return;

  if (line == NULL)
    {
      if (error != NULL)
        {
          g_printerr ("bayeux: standard input: %s\n", error->message);
          note_status (app, STATUS_BAD_INPUT);
        }
      app->input_done = TRUE;
      verbose ("end of input after %u lines", app->line_number);
      maybe_done_publishing (app);
      return;
    }

  app->line_number++;
  while (length > 0 && g_ascii_isspace (line[length - 1]))
    line[--length] = '\0';

  if (strspn (line, " \t\f\v") < length)
    {
      data = parse_json (line, length, &error);
      if (data == NULL)
        {
          g_autofree char *why = parse_error_text (error, FALSE);

          g_printerr ("bayeux: line %u: %s\n", app->line_number, why);
          note_status (app, STATUS_BAD_INPUT);
        }
      else
        publish (app, data, app->line_number);
    }

  read_next_line (app);
}

static void
read_next_line (App *app)
{
  if (app->input == NULL || app->reading || app->input_done || app->finishing ||
      app->in_flight >= MAX_IN_FLIGHT)
    return;

  app->reading = TRUE;
  g_data_input_stream_read_line_async (app->input, G_PRIORITY_DEFAULT, app->input_cancellable,
                                       read_line_cb, app);
}

static void
run_publish (App *app)
{
  /* Publishes left waiting by a lost connection give up as the connect
   * timeout does, rather than after the library's default minute; half a
   * second later, so that a first connection that never comes is reported
   * as such (the connect timer), not as a publish that was not sent (the
   * two timers of the same length raced). */
  if (opt_connect_timeout > 0)
    bayeux_client_set_max_pending_age (app->client, (guint) MIN (opt_connect_timeout * 1000 + 500, G_MAXUINT));

  if (app->data != NULL)
    {
      /* Held by the client until the handshake is done. */
      publish (app, app->data, 0);
      app->input_done = TRUE;
      return;
    }

  {
    g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);

    app->input = g_data_input_stream_new (in);
    g_data_input_stream_set_newline_type (app->input, G_DATA_STREAM_NEWLINE_TYPE_LF);
    app->input_cancellable = g_cancellable_new ();
    read_next_line (app);
  }
}

/* ------------------------------------------------------------------------ */
/* info                                                                     */

static void
print_info (App *app)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  JsonObject *out = json_object_new ();
  JsonObject *reply = bayeux_message_get_object (app->handshake_reply);
  g_autoptr(GList) members = json_object_get_members (reply);

  json_object_set_string_member (out, "url", app->url);
  /* All of the reply but its own bookkeeping. */
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;

      if (g_str_equal (name, "channel") || g_str_equal (name, "successful") || g_str_equal (name, "id"))
        continue;
      json_object_set_member (out, name, json_node_copy (json_object_get_member (reply, name)));
    }
  /* What this client uses, of what the server offered. */
  json_object_set_string_member (out, "transport", bayeux_client_get_transport (app->client));

  json_node_take_object (root, out);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  text = json_generator_to_data (generator, NULL);
  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

/* Prints once both the handshake is done and its reply was seen (the
 * library emits the meta signal before it completes handshake_async, but
 * nothing here depends on the order). */
static void
maybe_print_info (App *app)
{
  /* Once connected, so that it says which transport the client uses. */
  if (!app->handshake_done || app->handshake_reply == NULL || !app->connected || app->finishing)
    return;

  print_info (app);
  app_finish (app, STATUS_OK, TRUE);
}

/* meta::/meta/handshake: each handshake reply, once the client has acted
 * on it. A refused one (the client retries, per the advice) is reported
 * through BayeuxClient::error; `info` shows the first accepted one. */
static void
on_handshake_reply (BayeuxClient  *client,
                    BayeuxMessage *message,
                    gpointer       user_data)
{
  App *app = user_data;

  if (app->handshake_reply != NULL || !bayeux_message_get_successful (message))
    return;
  app->handshake_reply = bayeux_message_ref (message);
  maybe_print_info (app);
}

static void
on_info_state (BayeuxClient *client,
               GParamSpec   *pspec,
               gpointer      user_data)
{
  App *app = user_data;

  if (bayeux_client_get_state (client) != BAYEUX_CLIENT_STATE_CONNECTED || app->connected)
    return;
  app->connected = TRUE;
  maybe_print_info (app);
}

static void
run_info (App *app)
{
  g_signal_connect (app->client, "meta::/meta/handshake", G_CALLBACK (on_handshake_reply), app);
  g_signal_connect (app->client, "notify::state", G_CALLBACK (on_info_state), app);
}

/* ------------------------------------------------------------------------ */
/* Connecting                                                               */

static void
handshake_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (!bayeux_client_handshake_finish (BAYEUX_CLIENT (source), result, &error))
    {
      if (!app->finishing)
        {
          g_printerr ("bayeux: %s: %s\n", app->url, error->message);
          app_finish (app, status_for_error (error), FALSE);
        }
      return;
    }
  if (app->finishing)
    return;

  verbose ("connected to %s", app->url);
  switch (app->command)
    {
    case COMMAND_INFO:
      app->handshake_done = TRUE;
      maybe_print_info (app);
      break;
    case COMMAND_PUBLISH:
      set_ready (app);
      break;
    case COMMAND_SUBSCRIBE:
      break;   /* ready once subscribed */
    default:
      g_assert_not_reached ();
    }
}

/* ------------------------------------------------------------------------ */
/* Command line                                                             */

static int
usage_error (const char *format,
             ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format,
             ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("bayeux: %s\nTry \"bayeux --help\" for more information.\n", text);
  return STATUS_USAGE;
}

/* An HTTP token (RFC 9110, section 5.6.2). */
static gboolean
is_token (const char *name,
          gsize       length)
{
  if (length == 0)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isalnum (name[i]) && strchr ("!#$%&'*+-.^_`|~", name[i]) == NULL)
      return FALSE;
  return TRUE;
}

/* The client sends one value a name (bayeux_client_set_header replaces):
 * a name given again adds to its value, as a list (RFC 9110, section
 * 5.3), what a server reads as the repeated header. Takes @value. */
static void
add_header (App        *app,
            const char *name,
            gsize       length,
            char       *value)
{
  g_autofree char *key = g_strndup (name, length);

  for (guint i = 0; i < app->header_names->len; i++)
    {
      char **existing = (char **) &g_ptr_array_index (app->header_values, i);
      char *joined;

      if (g_ascii_strcasecmp (g_ptr_array_index (app->header_names, i), key) != 0)
        continue;
      joined = g_strconcat (*existing, g_ascii_strcasecmp (key, "Cookie") == 0 ? "; " : ", ", value, NULL);
      g_free (*existing);
      *existing = joined;
      g_free (value);
      return;
    }
  g_ptr_array_add (app->header_names, g_steal_pointer (&key));
  g_ptr_array_add (app->header_values, value);
}

static gboolean
parse_headers (App *app)
{
  app->header_names = g_ptr_array_new_with_free_func (g_free);
  app->header_values = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; opt_headers != NULL && opt_headers[i] != NULL; i++)
    {
      const char *arg = opt_headers[i];
      const char *colon = strchr (arg, ':');
      char *value;

      if (colon == NULL || !is_token (arg, colon - arg))
        {
          usage_error ("--header %s: expected NAME:VALUE, NAME an HTTP header name", arg);
          return FALSE;
        }
      value = g_strstrip (g_strdup (colon + 1));
      if (strpbrk (value, "\r\n") != NULL || !g_utf8_validate (value, -1, NULL))
        {
          g_free (value);
          usage_error ("--header %s: the value must be one line of text", arg);
          return FALSE;
        }
      add_header (app, arg, colon - arg, value);
    }
  return TRUE;
}

static gboolean
check_url (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  const char *scheme = uri ? g_uri_get_scheme (uri) : NULL;

  return uri != NULL && (g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "https") == 0) &&
         g_uri_get_host (uri) != NULL && g_uri_get_host (uri)[0] != '\0';
}

/* "--" ends the options, so that a JSON argument may start with a dash
 * (`bayeux publish URL /n -- -1`). GOptionContext removes it, except when
 * the argument after it starts with a dash: then it is left in argv. The
 * first "--" left is that separator (a later one is an argument). */
static void
drop_separator (int   *argc,
                char **argv)
{
  for (int i = 1; i < *argc; i++)
    {
      if (!g_str_equal (argv[i], "--"))
        continue;
      memmove (&argv[i], &argv[i + 1], (*argc - i - 1) * sizeof (char *));
      argv[--(*argc)] = NULL;
      return;
    }
}

/* GOptionContext's own help, with our usage lines instead of its one (for
 * help2man's SYNOPSIS) and in ASCII (it writes "[OPTION…]"). */
static void
print_help (GOptionContext *context)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
  const char *rest = strstr (help, "\n\n");
  g_autoptr(GString) text = g_string_new (usage);

  g_string_append (text, rest != NULL ? rest + 1 : help);
  g_string_replace (text, "\xe2\x80\xa6", "...", 0);   /* U+2026, in UTF-8 */
  fputs (text->str, stdout);
}

static void
print_version (void)
{
  /* help2man's layout: name, package and version on the first line. */
  g_print ("bayeux (bayeux-glib) %s\n"
           "License LGPL-2.1-or-later: GNU LGPL version 2.1 or later <https://gnu.org/licenses/lgpl-2.1.html>.\n"
           "This is free software: you are free to change and redistribute it.\n"
           "There is NO WARRANTY, to the extent permitted by law.\n",
           BAYEUX_VERSION_S);
}

/* Checks the arguments after the command and fills @app; returns a status
 * other than STATUS_OK (having said why) if they are wrong. */
static Status
parse_arguments (App    *app,
                 int     argc,
                 char  **argv)
{
  const char *command;
  int first_channel = 3;
  int n_channels;

  if (argc < 2)
    return usage_error ("no command given (subscribe, publish or info)");

  command = argv[1];
  if (g_str_equal (command, "subscribe"))
    {
      app->command = COMMAND_SUBSCRIBE;
      if (argc < 4)
        return usage_error ("usage: bayeux subscribe [OPTION...] URL CHANNEL...");
      n_channels = argc - 3;
    }
  else if (g_str_equal (command, "publish"))
    {
      app->command = COMMAND_PUBLISH;
      if (argc < 4 || argc > 5)
        return usage_error ("usage: bayeux publish [OPTION...] URL CHANNEL [JSON]");
      n_channels = 1;
    }
  else if (g_str_equal (command, "info"))
    {
      app->command = COMMAND_INFO;
      if (argc != 3)
        return usage_error ("usage: bayeux info [OPTION...] URL");
      n_channels = 0;
    }
  else
    return usage_error ("unknown command %s (subscribe, publish or info)", command);

  if (app->command != COMMAND_SUBSCRIBE && (opt_count != 0 || opt_timeout != 0))
    return usage_error ("--count and --timeout are options of subscribe");
  if (opt_count < 0)
    return usage_error ("--count: %d is not a number of messages", opt_count);
  if (opt_timeout < 0 || opt_timeout > G_MAXUINT / 1000)
    return usage_error ("--timeout: %g is not a number of seconds", opt_timeout);
  if (opt_connect_timeout < 0 || opt_connect_timeout > G_MAXUINT / 1000)
    return usage_error ("--connect-timeout: %g is not a number of seconds", opt_connect_timeout);
  if (opt_transport != NULL)
    {
      g_auto(GStrv) names = g_strsplit (opt_transport, ",", -1);

      for (guint i = 0; names[i] != NULL; i++)
        if (!g_str_equal (names[i], "websocket") && !g_str_equal (names[i], "long-polling"))
          return usage_error ("--transport %s: “%s” is not a transport (websocket, long-polling)",
                              opt_transport, names[i]);
      if (names[0] == NULL)
        return usage_error ("--transport: no transport named (websocket, long-polling)");
    }

  app->url = argv[2];
  if (!check_url (app->url))
    return usage_error ("%s is not an http:// or https:// URL", app->url);

  app->channels = g_new0 (char *, n_channels + 1);
  for (int i = 0; i < n_channels; i++)
    {
      g_autoptr(GError) error = NULL;
      const char *channel = argv[first_channel + i];
      /* Subscribing takes wildcards, and Salesforce's filters (/topic/X?a=b). */
      BayeuxChannelFlags flags = app->command == COMMAND_SUBSCRIBE
                                   ? BAYEUX_CHANNEL_ALLOW_WILDCARD | BAYEUX_CHANNEL_ALLOW_FILTER
                                   : BAYEUX_CHANNEL_NONE;

      if (!bayeux_channel_validate (channel, flags, &error))
        return usage_error ("%s", error->message);
      app->channels[i] = g_strdup (channel);
    }

  if (app->command == COMMAND_PUBLISH && argc == 5)
    {
      g_autoptr(GError) error = NULL;

      app->data = parse_json (argv[4], strlen (argv[4]), &error);
      if (app->data == NULL)
        {
          g_autofree char *why = parse_error_text (error, TRUE);

          g_printerr ("bayeux: the JSON argument: %s\n", why);
          return STATUS_BAD_INPUT;
        }
    }

  if (!parse_headers (app))
    return STATUS_USAGE;

  return STATUS_OK;
}

/* The client makes its own session (two connections per host, a cookie
 * jar for CometD's BAYEUX_BROWSER, an idle timeout under Node's keep-alive;
 * see bayeux-client.c): the options only add to it, before the first
 * request. */
static Status
make_client (App *app)
{
  SoupSession *session;
  g_autofree char *user_agent = g_strdup_printf ("bayeux/%s bayeux-glib/%s", BAYEUX_VERSION_S, BAYEUX_VERSION_S);

  app->client = bayeux_client_new (app->url);
  if (opt_transport != NULL)
    {
      g_auto(GStrv) names = g_strsplit (opt_transport, ",", -1);
      bayeux_client_set_transports (app->client, (const char * const *) names);
    }
  session = bayeux_client_get_session (app->client);
  soup_session_set_user_agent (session, user_agent);

  if (opt_cacert != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GTlsDatabase) database = g_tls_file_database_new (opt_cacert, &error);

      if (database == NULL)
        return usage_error ("--cacert %s: %s", opt_cacert, error->message);
      soup_session_set_tls_database (session, database);
    }

  for (guint i = 0; i < app->header_names->len; i++)
    bayeux_client_set_header (app->client, g_ptr_array_index (app->header_names, i),
                              g_ptr_array_index (app->header_values, i));

  if (opt_ext != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) ext = parse_json (opt_ext, strlen (opt_ext), &error);

      if (ext == NULL)
        {
          g_autofree char *why = parse_error_text (error, TRUE);

          g_printerr ("bayeux: --ext: %s\n", why);
          return STATUS_BAD_INPUT;
        }
      if (!JSON_NODE_HOLDS_OBJECT (ext))
        {
          g_printerr ("bayeux: --ext: not a JSON object\n");
          return STATUS_BAD_INPUT;
        }
      bayeux_client_set_handshake_ext (app->client, ext);
    }

  if (opt_insecure)
    {
      g_printerr ("bayeux: warning: --insecure: TLS certificates are not verified\n");
      g_signal_connect (app->client, "accept-certificate", G_CALLBACK (on_accept_certificate), app);
    }

  g_signal_connect (app->client, "error", G_CALLBACK (on_error), app);
  g_signal_connect (app->client, "notify::state", G_CALLBACK (on_state_changed), app);
  return STATUS_OK;
}

static void
app_clear (App *app)
{
  if (app->client != NULL)
    g_signal_handlers_disconnect_by_data (app->client, app);
  g_clear_object (&app->client);
  g_clear_pointer (&app->loop, g_main_loop_unref);
  g_clear_pointer (&app->channels, g_strfreev);
  g_clear_pointer (&app->data, json_node_unref);
  g_clear_pointer (&app->header_names, g_ptr_array_unref);
  g_clear_pointer (&app->header_values, g_ptr_array_unref);
  g_clear_error (&app->last_error);
  g_clear_pointer (&app->last_printed, bayeux_message_unref);
  g_clear_object (&app->input);
  g_clear_object (&app->input_cancellable);
  g_clear_pointer (&app->handshake_reply, bayeux_message_unref);
  g_clear_handle_id (&app->connect_timer, g_source_remove);
  g_clear_handle_id (&app->lost_timer, g_source_remove);
  g_clear_handle_id (&app->idle_timer, g_source_remove);
  g_clear_handle_id (&app->sigint_id, g_source_remove);
  g_clear_handle_id (&app->sigterm_id, g_source_remove);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  App app = { 0 };
  Status status;

  setlocale (LC_ALL, "");

  context = g_option_context_new ("COMMAND URL [ARGUMENT...]");
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_help_enabled (context, FALSE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  drop_separator (&argc, argv);

  if (opt_help)
    {
      print_help (context);
      return STATUS_OK;
    }

  if (opt_version)
    {
      print_version ();
      return STATUS_OK;
    }

  status = parse_arguments (&app, argc, argv);
  if (status == STATUS_OK && opt_verbose)
    {
      /* Read once, when the client first sends: set it before that. */
      const char *debug = g_getenv ("BAYEUX_DEBUG");
      g_autofree char *value = debug && *debug ? g_strconcat (debug, ",wire", NULL) : g_strdup ("wire");

      g_setenv ("BAYEUX_DEBUG", value, TRUE);
    }
  if (status == STATUS_OK)
    status = make_client (&app);
  if (status != STATUS_OK)
    {
      app_clear (&app);
      return status;
    }

  app.loop = g_main_loop_new (NULL, FALSE);
  app.sigint_id = g_unix_signal_add (SIGINT, on_sigint, &app);
  app.sigterm_id = g_unix_signal_add (SIGTERM, on_sigterm, &app);

  switch (app.command)
    {
    case COMMAND_SUBSCRIBE:
      run_subscribe (&app);
      break;
    case COMMAND_PUBLISH:
      run_publish (&app);
      break;
    case COMMAND_INFO:
      run_info (&app);
      break;
    default:
      g_assert_not_reached ();
    }

  bayeux_client_handshake_async (app.client, NULL, handshake_cb, &app);
  if (opt_connect_timeout > 0)
    app.connect_timer = g_timeout_add ((guint) (opt_connect_timeout * 1000), connect_timeout_cb, &app);

  g_main_loop_run (app.loop);

  /* Whatever is still pending completes now (and is ignored: finishing). */
  bayeux_client_stop (app.client);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  status = app.status;
  app_clear (&app);
  return status;
}
