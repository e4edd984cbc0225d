/* test-interop.c: BayeuxClient against real Faye and CometD servers and peers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts a real Bayeux server (faye-server.js or
 * cometd-server.js, next to this file) on a free loopback port, connects a
 * BayeuxClient to it, and, where a test needs someone on the other end of
 * a channel, a real peer client (peer.js: the CometD JavaScript client or
 * Faye's Node client). The Node scripts are found through the environment
 * variable BAYEUX_INTEROP_DIR, which meson sets to this directory, and need
 * `npm ci --prefix tests/interop` to have been run.
 *
 * The servers count the TCP connections they accept and say so when asked
 * (`STATS` on their stdin), for the tests of how many the client uses.
 *
 * Every Node process gets its stdin from a pipe to this program: it exits
 * when that pipe closes, so a crash here leaves no server behind. The
 * fixture also stops them (SIGTERM, then wait) after each test.
 *
 * Nothing waits forever: each test has an overall deadline, and waiting
 * past it fails the test (and runs the teardown) instead of hanging.
 */

#include <signal.h>
#include <string.h>

#include <bayeux-glib/bayeux-glib.h>

#define N_MESSAGES           200
#define TEST_TIMEOUT_MS      30000 /* for one whole test, setup included */
#define START_TIMEOUT_MS     15000 /* for a server script to print READY */
#define STOP_TIMEOUT_MS      5000  /* for a Node process to exit on SIGTERM */
#define SETTLE_MS            300   /* to see late duplicates or strays */
#define MAX_NETWORK_DELAY_MS 5000  /* the servers hold connects for 10 s */
/* Node's http server closes a kept-alive connection once it has been idle
 * for keepAliveTimeout (5 s, the scripts' setting) plus a grace of 1 s
 * (Node ≥ 20); the keep-alive test stays idle for longer than that. */
#define KEEP_ALIVE_IDLE_MS   7000
#define N_CONNECTIONS_MESSAGES 100
#define MAX_CONNECTIONS      2     /* one for the long poll, one for the rest */

typedef gboolean (*Predicate) (gpointer data);

static char *interop_dir;
static char *node_path;

/* Waiting ---------------------------------------------------------------- */

typedef struct {
  GMainLoop *loop;
  Predicate  done;
  gpointer   data;
  guint      timeout_id;
} RunUntil;

static gboolean
run_until_check_cb (gpointer user_data)
{
  RunUntil *ru = user_data;

  if (ru->done != NULL && ru->done (ru->data))
    g_main_loop_quit (ru->loop);

  return G_SOURCE_CONTINUE;
}

static gboolean
run_until_timeout_cb (gpointer user_data)
{
  RunUntil *ru = user_data;

  ru->timeout_id = 0;
  g_main_loop_quit (ru->loop);

  return G_SOURCE_REMOVE;
}

/* Runs the default main context until @done returns %TRUE or @timeout_ms
 * pass; a %NULL @done just lets @timeout_ms pass. */
static gboolean
run_until (Predicate done,
           gpointer  data,
           guint     timeout_ms)
{
  RunUntil ru = { NULL, done, data, 0 };
  guint check_id;

  if (done != NULL && done (data))
    return TRUE;

  ru.loop = g_main_loop_new (NULL, FALSE);
  check_id = g_timeout_add (10, run_until_check_cb, &ru);
  ru.timeout_id = g_timeout_add (timeout_ms, run_until_timeout_cb, &ru);
  g_main_loop_run (ru.loop);
  g_source_remove (check_id);
  g_clear_handle_id (&ru.timeout_id, g_source_remove);
  g_main_loop_unref (ru.loop);

  return done != NULL && done (data);
}

/* Pending: what an async call reports back ------------------------------- */

/* Reference counted, each callback holding a reference: a callback that
 * only fires after its test gave up (timed out) must not write into freed
 * memory. */
typedef struct {
  guint         n_expected;
  guint         n_done;
  guint         n_failed;
  GAsyncResult *result;      /* the last result, for single calls */
  GError       *first_error; /* for pending_publish_cb */
  gint64        done_time;   /* monotonic time of the last callback */
} Pending;

static void
pending_clear (gpointer data)
{
  Pending *pending = data;

  g_clear_object (&pending->result);
  g_clear_error (&pending->first_error);
}

static Pending *
pending_new (guint n_expected)
{
  Pending *pending = g_rc_box_new0 (Pending);

  pending->n_expected = n_expected;

  return pending;
}

static Pending *
pending_ref (Pending *pending)
{
  return g_rc_box_acquire (pending);
}

static void
pending_unref (Pending *pending)
{
  g_rc_box_release_full (pending, pending_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pending, pending_unref)

static gboolean
pending_is_done (gpointer data)
{
  Pending *pending = data;

  return pending->n_done >= pending->n_expected;
}

/* Keeps the result, for the test to call the _finish function. */
static void
pending_store_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Pending *pending = user_data;

  g_set_object (&pending->result, result);
  pending->done_time = g_get_monotonic_time ();
  pending->n_done++;
  pending_unref (pending);
}

/* Finishes a publish and counts the failures. */
static void
pending_publish_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Pending *pending = user_data;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = bayeux_client_publish_finish (BAYEUX_CLIENT (source), result, &error);
  if (reply == NULL)
    {
      pending->n_failed++;
      if (pending->first_error == NULL)
        pending->first_error = g_steal_pointer (&error);
    }
  pending->done_time = g_get_monotonic_time ();
  pending->n_done++;
  pending_unref (pending);
}

/* Child: a Node process ---------------------------------------------------- */

typedef struct {
  char             *name;
  GSubprocess      *process;
  GOutputStream    *stdin_pipe;
  GDataInputStream *stdout_lines;
  GCancellable     *cancellable;
  GPtrArray        *lines;       /* every line read from its stdout */
  gboolean          stdout_eof;
  gboolean          exited;
  char             *exit_text;   /* "exit status 0", "signal 15" */
  int               exit_status; /* -1 unless it exited normally */
} Child;

static void
child_clear (gpointer data)
{
  Child *child = data;

  g_free (child->name);
  g_clear_object (&child->process);
  g_clear_object (&child->stdin_pipe);
  g_clear_object (&child->stdout_lines);
  g_clear_object (&child->cancellable);
  g_clear_pointer (&child->lines, g_ptr_array_unref);
  g_free (child->exit_text);
}

static Child *
child_ref (Child *child)
{
  return g_rc_box_acquire (child);
}

static void
child_unref (Child *child)
{
  g_rc_box_release_full (child, child_clear);
}

static void child_read_line_cb (GObject      *source,
                                GAsyncResult *result,
                                gpointer      user_data);

static void
child_read_next_line (Child *child)
{
  g_data_input_stream_read_line_async (child->stdout_lines, G_PRIORITY_DEFAULT,
                                       child->cancellable, child_read_line_cb,
                                       child_ref (child));
}

static void
child_read_line_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Child *child = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                    result, NULL, &error);
  if (line != NULL)
    {
      /* A peer's MSG lines are checked by the tests; no need to log 200. */
      if (!g_str_has_prefix (line, "MSG "))
        g_test_message ("%s: %s", child->name, line);
      g_ptr_array_add (child->lines, g_steal_pointer (&line));
      child_read_next_line (child);
    }
  else
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_test_message ("%s: reading stdout: %s", child->name, error->message);
      child->stdout_eof = TRUE;
    }

  child_unref (child);
}

static void
child_wait_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Child *child = user_data;
  GSubprocess *process = G_SUBPROCESS (source);

  if (g_subprocess_wait_finish (process, result, NULL))
    {
      child->exited = TRUE;
      if (g_subprocess_get_if_exited (process))
        {
          child->exit_status = g_subprocess_get_exit_status (process);
          child->exit_text = g_strdup_printf ("exit status %d", child->exit_status);
        }
      else
        {
          child->exit_text = g_strdup_printf ("signal %d", g_subprocess_get_term_sig (process));
        }
      g_test_message ("%s: exited (%s)", child->name, child->exit_text);
    }

  child_unref (child);
}

/* Starts `node SCRIPT ARGS…` with its stdin and stdout piped to us; its
 * stderr goes to ours, so Node's own errors land in the test log. */
static Child *
child_spawn (const char          *name,
             const char * const  *args,
             GError             **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autofree char *command = NULL;
  GSubprocess *process;
  Child *child;

  g_strv_builder_add (builder, node_path);
  g_strv_builder_addv (builder, (const char **) args);
  argv = g_strv_builder_end (builder);

  command = g_strjoinv (" ", argv);
  g_test_message ("%s: starting %s", name, command);

  process = g_subprocess_newv ((const char * const *) argv,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE |
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                               error);
  if (process == NULL)
    return NULL;

  child = g_rc_box_new0 (Child);
  child->name = g_strdup (name);
  child->process = process;
  child->stdin_pipe = g_object_ref (g_subprocess_get_stdin_pipe (process));
  child->stdout_lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  child->cancellable = g_cancellable_new ();
  child->lines = g_ptr_array_new_with_free_func (g_free);
  child->exit_status = -1;

  child_read_next_line (child);
  g_subprocess_wait_async (process, child->cancellable, child_wait_cb, child_ref (child));

  return child;
}

static gboolean
child_is_exited (gpointer data)
{
  Child *child = data;

  return child->exited;
}

/* Writes one line on the child's stdin. */
static gboolean
child_send_line (Child       *child,
                 const char  *line,
                 GError     **error)
{
  g_autofree char *text = g_strconcat (line, "\n", NULL);

  return g_output_stream_write_all (child->stdin_pipe, text, strlen (text), NULL, NULL, error) &&
         g_output_stream_flush (child->stdin_pipe, NULL, error);
}

/* Stops the child (SIGTERM, then SIGKILL if it does not go) and drops it.
 * Never fails the test: this is cleanup. */
static void
child_stop (Child *child)
{
  if (child == NULL)
    return;

  if (!child->exited)
    {
      g_subprocess_send_signal (child->process, SIGTERM);
      if (!run_until (child_is_exited, child, STOP_TIMEOUT_MS))
        {
          g_test_message ("%s: still running after SIGTERM, killing it", child->name);
          g_subprocess_force_exit (child->process);
          run_until (child_is_exited, child, STOP_TIMEOUT_MS);
        }
    }

  g_output_stream_close (child->stdin_pipe, NULL, NULL);
  g_cancellable_cancel (child->cancellable);
  child_unref (child);
}

/* Waiting for a line from a child. */
typedef struct {
  Child      *child;
  const char *prefix;
  guint       next;  /* first line not looked at yet */
  const char *found; /* the line with @prefix, or an ERROR line */
} LineWait;

static gboolean
line_wait_is_done (gpointer data)
{
  LineWait *lw = data;

  for (; lw->next < lw->child->lines->len; lw->next++)
    {
      const char *line = g_ptr_array_index (lw->child->lines, lw->next);

      if (g_str_has_prefix (line, lw->prefix) || g_str_has_prefix (line, "ERROR"))
        {
          lw->found = line;
          return TRUE;
        }
    }

  /* It will not say anything more. */
  return lw->child->exited && lw->child->stdout_eof;
}

/* The fixture ------------------------------------------------------------ */

typedef struct {
  const char *name;   /* also peer.js --kind */
  const char *script;
  const char *mount;
} ServerKind;

static const ServerKind server_kinds[] = {
  { "faye", "faye-server.js", "/faye" },
  { "cometd", "cometd-server.js", "/cometd" },
};

typedef struct {
  const ServerKind *kind;
  gint64            deadline; /* monotonic time at which the test fails */
  Child            *server;
  char             *url;
  GPtrArray        *peers;    /* of Child */
  GPtrArray        *inboxes;  /* of GPtrArray of BayeuxMessage */
  BayeuxClient     *client;
  BayeuxClient     *extra_client; /* a second client, for some tests */
  guint             n_errors; /* ::error emissions, from either client */
} Fixture;

/* Waits for @done within what is left of the test's time; on timeout fails
 * the test, naming @what, and returns %FALSE: the test then returns. */
static gboolean
fixture_wait (Fixture    *fx,
              Predicate   done,
              gpointer    data,
              const char *what)
{
  gint64 left_ms = (fx->deadline - g_get_monotonic_time ()) / 1000;

  if (left_ms > 0 && run_until (done, data, (guint) left_ms))
    return TRUE;
  if (done (data))
    return TRUE;

  g_test_fail_printf ("timed out waiting for %s (a test has %d s in all)",
                      what, TEST_TIMEOUT_MS / 1000);
  return FALSE;
}

/* Waits for a line starting with @prefix from @child, among its lines from
 * the @from-th on, and returns it; if the child says ERROR, exits, or the
 * time is up, fails the test and returns %NULL. The line belongs to the
 * child. */
static const char *
fixture_wait_line_from (Fixture    *fx,
                        Child      *child,
                        const char *prefix,
                        guint       from,
                        gint64      timeout_ms)
{
  LineWait lw = { child, prefix, from, NULL };
  g_autofree char *what = g_strdup_printf ("'%s' from %s", prefix, child->name);
  gint64 saved_deadline = fx->deadline;

  if (timeout_ms > 0)
    fx->deadline = MIN (fx->deadline, g_get_monotonic_time () + timeout_ms * 1000);
  fixture_wait (fx, line_wait_is_done, &lw, what);
  fx->deadline = saved_deadline;

  if (lw.found != NULL && g_str_has_prefix (lw.found, prefix))
    return lw.found;

  if (lw.found != NULL)
    g_test_fail_printf ("%s failed: %s", child->name, lw.found);
  else if (child->exited)
    g_test_fail_printf ("%s ended (%s) before saying '%s'",
                        child->name, child->exit_text, prefix);
  return NULL;
}

/* fixture_wait_line_from() from the child's first line. */
static const char *
fixture_wait_line (Fixture    *fx,
                   Child      *child,
                   const char *prefix,
                   gint64      timeout_ms)
{
  return fixture_wait_line_from (fx, child, prefix, 0, timeout_ms);
}

/* The name a client goes by in the test log. */
static const char *
client_name (BayeuxClient *client)
{
  const char *name = g_object_get_data (G_OBJECT (client), "interop-name");

  return name != NULL ? name : "client";
}

static void
on_state_notify (BayeuxClient *client,
                 GParamSpec   *pspec,
                 gpointer      user_data)
{
  g_autofree char *state = g_enum_to_string (BAYEUX_TYPE_CLIENT_STATE,
                                             bayeux_client_get_state (client));

  g_test_message ("%s: state %s", client_name (client), state);
}

/* Failures nobody else hears of: logged, for the diagnosis, and counted
 * (the fixture is @user_data) for the tests that must see none. */
static void
on_error (BayeuxClient  *client,
          GError        *error,
          BayeuxMessage *message,
          gpointer       user_data)
{
  Fixture *fx = user_data;

  fx->n_errors++;
  g_test_message ("%s: error signal: %s (%s %d)", client_name (client), error->message,
                  g_quark_to_string (error->domain), error->code);
}

static void
on_message (BayeuxClient  *client,
            BayeuxMessage *message,
            gpointer       user_data)
{
  GPtrArray *inbox = user_data;

  g_ptr_array_add (inbox, bayeux_message_ref (message));
}

static gboolean
client_is_connected (gpointer data)
{
  return bayeux_client_get_state (BAYEUX_CLIENT (data)) == BAYEUX_CLIENT_STATE_CONNECTED;
}

/* Makes a client of the fixture's server (on @session, or on a session of
 * its own if %NULL), named @name in the log, and starts it. */
static BayeuxClient *
fixture_start_client (Fixture     *fx,
                      SoupSession *session,
                      const char  *name)
{
  BayeuxClient *client = bayeux_client_new_with_session (fx->url, session);

  g_object_set_data_full (G_OBJECT (client), "interop-name", g_strdup (name), g_free);
  bayeux_client_set_max_network_delay (client, MAX_NETWORK_DELAY_MS);
  g_signal_connect (client, "notify::state", G_CALLBACK (on_state_notify), NULL);
  g_signal_connect (client, "error", G_CALLBACK (on_error), fx);
  bayeux_client_start (client);

  return client;
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  const ServerKind *kind = data;
  g_autofree char *script = g_build_filename (interop_dir, kind->script, NULL);
  const char *args[] = { script, NULL };
  g_autoptr(GError) error = NULL;
  const char *ready;
  guint64 port;

  fx->kind = kind;
  fx->deadline = g_get_monotonic_time () + (gint64) TEST_TIMEOUT_MS * 1000;
  fx->peers = g_ptr_array_new ();
  fx->inboxes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);

  /* The server. */
  fx->server = child_spawn (kind->script, args, &error);
  if (fx->server == NULL)
    {
      g_test_fail_printf ("could not start %s: %s", kind->script, error->message);
      return;
    }
  ready = fixture_wait_line (fx, fx->server, "READY ", START_TIMEOUT_MS);
  if (ready == NULL)
    return;
  if (!g_ascii_string_to_unsigned (ready + strlen ("READY "), 10, 1, G_MAXUINT16, &port, &error))
    {
      g_test_fail_printf ("%s: bad READY line '%s': %s", kind->script, ready, error->message);
      return;
    }
  fx->url = g_strdup_printf ("http://127.0.0.1:%u%s", (guint) port, kind->mount);

  /* Our client, connected. */
  fx->client = fixture_start_client (fx, NULL, "client");
  fixture_wait (fx, client_is_connected, fx->client, "the client to connect");
}

/* Whether the setup worked; if not, the test fails (never passes empty). */
static gboolean
fixture_is_ready (Fixture *fx)
{
  if (fx->client != NULL && bayeux_client_get_state (fx->client) == BAYEUX_CLIENT_STATE_CONNECTED)
    return TRUE;

  if (!g_test_failed ())
    g_test_fail_printf ("the client is not connected to the %s server", fx->kind->name);
  return FALSE;
}

/* Stops and drops a client. Never fails the test: this is cleanup. */
static void
client_stop (BayeuxClient *client)
{
  if (client == NULL)
    return;

  g_signal_handlers_disconnect_matched (client, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                                        (gpointer) on_message, NULL);
  g_signal_handlers_disconnect_matched (client, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                                        (gpointer) on_state_notify, NULL);
  g_signal_handlers_disconnect_matched (client, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                                        (gpointer) on_error, NULL);

  /* Say goodbye to the server if we can, briefly. */
  if (bayeux_client_get_state (client) != BAYEUX_CLIENT_STATE_DISCONNECTED)
    {
      g_autoptr(Pending) pending = pending_new (1);

      bayeux_client_disconnect_async (client, NULL, pending_store_cb, pending_ref (pending));
      run_until (pending_is_done, pending, 3000);
    }
  bayeux_client_stop (client);
  g_object_unref (client);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_clear_pointer (&fx->extra_client, client_stop);
  g_clear_pointer (&fx->client, client_stop);

  for (guint i = 0; i < fx->peers->len; i++)
    child_stop (g_ptr_array_index (fx->peers, i));
  g_clear_pointer (&fx->peers, g_ptr_array_unref);
  g_clear_pointer (&fx->server, child_stop);
  g_clear_pointer (&fx->inboxes, g_ptr_array_unref);
  g_clear_pointer (&fx->url, g_free);
}

/* Collects the messages @client dispatches as `message::DETAIL`. */
static GPtrArray *
fixture_listen_on (Fixture      *fx,
                   BayeuxClient *client,
                   const char   *detail)
{
  GPtrArray *inbox = g_ptr_array_new_with_free_func ((GDestroyNotify) bayeux_message_unref);
  g_autofree char *detailed = g_strconcat ("message::", detail, NULL);

  g_ptr_array_add (fx->inboxes, inbox);
  g_signal_connect (client, detailed, G_CALLBACK (on_message), inbox);

  return inbox;
}

/* Collects the messages our client dispatches as `message::DETAIL`. */
static GPtrArray *
fixture_listen (Fixture    *fx,
                const char *detail)
{
  return fixture_listen_on (fx, fx->client, detail);
}

/* Subscribes @client to @channel, failing the test if that fails. */
static gboolean
fixture_subscribe_on (Fixture      *fx,
                      BayeuxClient *client,
                      const char   *channel)
{
  g_autoptr(Pending) pending = pending_new (1);
  g_autoptr(GError) error = NULL;
  g_autofree char *what = g_strdup_printf ("the reply to subscribing %s (%s)", channel, client_name (client));

  bayeux_client_subscribe_async (client, channel, NULL, pending_store_cb, pending_ref (pending));
  if (!fixture_wait (fx, pending_is_done, pending, what))
    return FALSE;
  if (!bayeux_client_subscribe_finish (client, pending->result, &error))
    {
      g_test_fail_printf ("%s: subscribing %s failed: %s", client_name (client), channel, error->message);
      return FALSE;
    }

  return TRUE;
}

/* Subscribes our client to @channel, failing the test if that fails. */
static gboolean
fixture_subscribe (Fixture    *fx,
                   const char *channel)
{
  return fixture_subscribe_on (fx, fx->client, channel);
}

/* Starts peer.js in the mode given by @option ("--subscribe" or
 * "--publish") on each of @channels, @count messages each. */
static Child *
fixture_spawn_peer (Fixture            *fx,
                    const char         *option,
                    const char * const *channels,
                    guint               count)
{
  g_autofree char *script = g_build_filename (interop_dir, "peer.js", NULL);
  g_autofree char *count_text = g_strdup_printf ("%u", count);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) args = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GError) error = NULL;
  Child *peer;

  g_strv_builder_add_many (builder, script, "--kind", fx->kind->name, "--url", fx->url,
                           "--count", count_text, NULL);
  for (guint i = 0; channels[i] != NULL; i++)
    g_strv_builder_add_many (builder, option, channels[i], NULL);
  args = g_strv_builder_end (builder);

  name = g_strdup_printf ("%s-peer%s", fx->kind->name, option + 1);
  peer = child_spawn (name, (const char * const *) args, &error);
  if (peer == NULL)
    {
      g_test_fail_printf ("could not start %s: %s", script, error->message);
      return NULL;
    }
  g_ptr_array_add (fx->peers, peer);

  return peer;
}

static gboolean
fixture_tell_peer (Fixture    *fx,
                   Child      *peer,
                   const char *line)
{
  g_autoptr(GError) error = NULL;

  if (!child_send_line (peer, line, &error))
    {
      g_test_fail_printf ("could not write to %s: %s", peer->name, error->message);
      return FALSE;
    }

  return TRUE;
}

/* The server's connection counts (see countConnections() in common.js). */
typedef struct {
  guint current; /* open now */
  guint max;     /* the most open at once */
  guint total;   /* accepted in all */
} ConnStats;

/* Asks the server for its connection counts (writes `STATS`, reads
 * `STATS <current> <max> <total>`); fails the test if it cannot. */
static gboolean
fixture_server_stats (Fixture   *fx,
                      ConnStats *stats)
{
  guint from = fx->server->lines->len;
  const char *line;
  g_auto(GStrv) fields = NULL;
  guint64 values[3];

  if (!fixture_tell_peer (fx, fx->server, "STATS"))
    return FALSE;
  line = fixture_wait_line_from (fx, fx->server, "STATS ", from, 5000);
  if (line == NULL)
    return FALSE;

  fields = g_strsplit (line + strlen ("STATS "), " ", -1);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    if (g_strv_length (fields) != G_N_ELEMENTS (values) ||
        !g_ascii_string_to_unsigned (fields[i], 10, 0, G_MAXUINT, &values[i], NULL))
      {
        g_test_fail_printf ("%s: bad STATS line '%s'", fx->server->name, line);
        return FALSE;
      }

  *stats = (ConnStats) { values[0], values[1], values[2] };
  return TRUE;
}

/* Messages and their data ------------------------------------------------ */

typedef struct {
  GPtrArray *inbox;
  guint      count;
} InboxWait;

static gboolean
inbox_wait_is_done (gpointer data)
{
  InboxWait *iw = data;

  return iw->inbox->len >= iw->count;
}

static JsonNode *
make_data (guint       seq,
           const char *from)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "seq");
  json_builder_add_int_value (builder, seq);
  json_builder_set_member_name (builder, "from");
  json_builder_add_string_value (builder, from);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* The `seq` of a {"seq": N, "from": FROM} data object, or -1 if @data is
 * not one. */
static gint64
data_seq (JsonNode   *data,
          const char *from)
{
  JsonObject *object;
  JsonNode *seq;

  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    return -1;
  object = json_node_get_object (data);
  seq = json_object_get_member (object, "seq");
  if (seq == NULL || !JSON_NODE_HOLDS_VALUE (seq) ||
      json_node_get_value_type (seq) != G_TYPE_INT64 ||
      g_strcmp0 (json_object_get_string_member_with_default (object, "from", NULL), from) != 0)
    return -1;

  return json_node_get_int (seq);
}

/* Checks that @seqs is exactly 0, 1, … @n - 1, and says how it is not. */
static void
check_sequence (GArray     *seqs,
                guint       n,
                const char *what)
{
  g_autoptr(GString) got = g_string_new (NULL);
  guint first_bad = G_MAXUINT;

  for (guint i = 0; i < seqs->len; i++)
    if (g_array_index (seqs, gint64, i) != i)
      {
        first_bad = i;
        break;
      }

  if (seqs->len == n && first_bad == G_MAXUINT)
    return;

  /* Show what came, from a little before the first difference. */
  for (guint i = first_bad == G_MAXUINT ? 0 : (first_bad > 5 ? first_bad - 5 : 0);
       i < seqs->len && got->len < 400; i++)
    g_string_append_printf (got, " %" G_GINT64_FORMAT, g_array_index (seqs, gint64, i));

  if (first_bad != G_MAXUINT)
    g_test_fail_printf ("%s: expected seq 0..%u in order; %u received, the %uth is wrong (-1: not our data):%s…",
                        what, n - 1, seqs->len, first_bad, got->str);
  else
    g_test_fail_printf ("%s: expected %u messages (seq 0..%u), received %u",
                        what, n, n - 1, seqs->len);
}

/* The tests -------------------------------------------------------------- */

/* A peer publishes; our client must get every message, once, in order. */
static void
test_receive (Fixture       *fx,
              gconstpointer  data)
{
  const char *channels[] = { "/interop/receive", NULL };
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  GPtrArray *inbox;
  InboxWait iw;
  Child *peer;

  if (!fixture_is_ready (fx))
    return;

  inbox = fixture_listen (fx, channels[0]);
  if (!fixture_subscribe (fx, channels[0]))
    return;

  peer = fixture_spawn_peer (fx, "--publish", channels, N_MESSAGES);
  if (peer == NULL || !fixture_tell_peer (fx, peer, "GO"))
    return;
  if (fixture_wait_line (fx, peer, "PUBLISHED ", 0) == NULL)
    return;

  iw = (InboxWait) { inbox, N_MESSAGES };
  fixture_wait (fx, inbox_wait_is_done, &iw, "all the messages");
  /* Anything repeated would come right after. */
  run_until (NULL, NULL, SETTLE_MS);

  for (guint i = 0; i < inbox->len; i++)
    {
      BayeuxMessage *message = g_ptr_array_index (inbox, i);
      gint64 seq = data_seq (bayeux_message_get_data (message), "peer");

      g_assert_cmpstr (bayeux_message_get_channel (message), ==, channels[0]);
      g_array_append_val (seqs, seq);
    }
  check_sequence (seqs, N_MESSAGES, "our client");
}

/* Our client publishes; a peer must get every message, once, in order. The
 * publishes are all started at once, without waiting for the replies: the
 * client must keep them in order. */
static void
test_publish (Fixture       *fx,
              gconstpointer  data)
{
  const char *channels[] = { "/interop/publish", NULL };
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(Pending) pending = pending_new (N_MESSAGES);
  Child *peer;

  if (!fixture_is_ready (fx))
    return;

  peer = fixture_spawn_peer (fx, "--subscribe", channels, N_MESSAGES);
  if (peer == NULL || fixture_wait_line (fx, peer, "READY", 0) == NULL)
    return;

  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autoptr(JsonNode) node = make_data (i, "glib");

      bayeux_client_publish_async (fx->client, channels[0], node, NULL,
                                   pending_publish_cb, pending_ref (pending));
    }

  if (!fixture_wait (fx, pending_is_done, pending, "the publish replies"))
    {
      g_test_message ("%u of %u publishes finished", pending->n_done, N_MESSAGES);
      return;
    }
  if (pending->n_failed > 0)
    g_test_fail_printf ("%u of %u publishes failed, the first with: %s",
                        pending->n_failed, N_MESSAGES, pending->first_error->message);

  if (fixture_wait_line (fx, peer, "DONE", 0) == NULL)
    g_test_message ("the peer received %u lines", peer->lines->len);

  for (guint i = 0; i < peer->lines->len; i++)
    {
      const char *line = g_ptr_array_index (peer->lines, i);
      g_autoptr(JsonNode) node = NULL;
      gint64 seq;

      if (!g_str_has_prefix (line, "MSG "))
        continue;
      node = json_from_string (line + strlen ("MSG "), NULL);
      seq = data_seq (node, "glib");
      g_array_append_val (seqs, seq);
    }
  check_sequence (seqs, N_MESSAGES, "the peer");
}

static char *
describe_channels (GPtrArray *inbox)
{
  g_autoptr(GString) text = g_string_new ("[");

  for (guint i = 0; i < inbox->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? " " : "",
                            bayeux_message_get_channel (g_ptr_array_index (inbox, i)));
  g_string_append_c (text, ']');

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
check_inbox (GPtrArray          *inbox,
             const char         *detail,
             const char * const *expected)
{
  g_autofree char *got = describe_channels (inbox);
  g_autofree char *want = NULL;
  g_autoptr(GString) text = g_string_new ("[");

  for (guint i = 0; expected[i] != NULL; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? " " : "", expected[i]);
  g_string_append_c (text, ']');
  want = g_string_free (g_steal_pointer (&text), FALSE);

  if (g_strcmp0 (got, want) != 0)
    g_test_fail_printf ("handler for message::%s received %s, expected %s", detail, got, want);
}

typedef struct {
  GPtrArray *wild_one;
  GPtrArray *wild_ab;
  GPtrArray *deep;
} WildWait;

static gboolean
wild_wait_is_done (gpointer data)
{
  WildWait *ww = data;

  return ww->wild_one->len >= 1 && ww->wild_ab->len >= 1 && ww->deep->len >= 1;
}

/* Wildcard subscriptions: the handler for the one-segment wildcard under
 * /wild gets /wild/a but not /wild/a/b, the any-depth one under /deep gets
 * /deep/a/b. /wild/a/b is subscribed to on its own, so the server does
 * deliver it to us: what is checked is our client's dispatch, not the
 * server's routing. (No two subscriptions overlap: cometd-nodejs-server
 * sends a message once per matching subscription.) */
static void
test_wildcards (Fixture       *fx,
                gconstpointer  data)
{
  /* Published in this order, one message each. */
  const char *channels[] = { "/wild/a/b", "/wild/a", "/deep/a/b", NULL };
  const char *wild_one_expected[] = { "/wild/a", NULL };
  const char *wild_ab_expected[] = { "/wild/a/b", NULL };
  const char *deep_expected[] = { "/deep/a/b", NULL };
  GPtrArray *wild_one, *wild_ab, *deep;
  WildWait ww;
  Child *peer;

  if (!fixture_is_ready (fx))
    return;

  wild_one = fixture_listen (fx, "/wild/*");
  wild_ab = fixture_listen (fx, "/wild/a/b");
  deep = fixture_listen (fx, "/deep/**");
  if (!fixture_subscribe (fx, "/wild/*") ||
      !fixture_subscribe (fx, "/wild/a/b") ||
      !fixture_subscribe (fx, "/deep/**"))
    return;

  peer = fixture_spawn_peer (fx, "--publish", channels, 1);
  if (peer == NULL || !fixture_tell_peer (fx, peer, "GO"))
    return;
  if (fixture_wait_line (fx, peer, "PUBLISHED ", 0) == NULL)
    return;

  ww = (WildWait) { wild_one, wild_ab, deep };
  fixture_wait (fx, wild_wait_is_done, &ww, "the wildcard messages");
  run_until (NULL, NULL, SETTLE_MS);

  check_inbox (wild_one, "/wild/*", wild_one_expected);
  check_inbox (wild_ab, "/wild/a/b", wild_ab_expected);
  check_inbox (deep, "/deep/**", deep_expected);
}

/* The servers refuse every channel under /forbidden: subscribing and
 * publishing there must fail with BAYEUX_ERROR_REFUSED and say why. */
static void
test_refused (Fixture       *fx,
              gconstpointer  data)
{
  const char *channel = "/forbidden/x";
  g_autoptr(Pending) subscribed = pending_new (1);
  g_autoptr(Pending) published = pending_new (1);
  g_autoptr(JsonNode) node = make_data (0, "glib");
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(GError) error = NULL;

  if (!fixture_is_ready (fx))
    return;

  bayeux_client_subscribe_async (fx->client, channel, NULL, pending_store_cb, pending_ref (subscribed));
  if (!fixture_wait (fx, pending_is_done, subscribed, "the reply to subscribing /forbidden/x"))
    return;
  g_assert_false (bayeux_client_subscribe_finish (fx->client, subscribed->result, &error));
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);
  if (error != NULL)
    {
      g_test_message ("subscribe error: %s", error->message);
      g_assert_cmpstr (error->message, !=, "");
    }
  g_assert_false (bayeux_client_is_subscribed (fx->client, channel));
  g_clear_error (&error);

  bayeux_client_publish_async (fx->client, channel, node, NULL, pending_store_cb, pending_ref (published));
  if (!fixture_wait (fx, pending_is_done, published, "the reply to publishing on /forbidden/x"))
    return;
  reply = bayeux_client_publish_finish (fx->client, published->result, &error);
  g_assert_null (reply);
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_REFUSED);
  if (error != NULL)
    {
      g_test_message ("publish error: %s", error->message);
      g_assert_cmpstr (error->message, !=, "");
    }

  /* Refusals are not connection failures. */
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
}

/* Disconnecting must not wait for the pending long poll to come back. */
static void
test_disconnect (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(Pending) pending = pending_new (1);
  g_autoptr(GError) error = NULL;
  gint64 start, elapsed;

  if (!fixture_is_ready (fx))
    return;

  /* Let the next /meta/connect go out and be held by the server. */
  run_until (NULL, NULL, 500);
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);

  start = g_get_monotonic_time ();
  bayeux_client_disconnect_async (fx->client, NULL, pending_store_cb, pending_ref (pending));
  if (!fixture_wait (fx, pending_is_done, pending, "disconnect_async to complete"))
    return;
  elapsed = pending->done_time - start;
  g_test_message ("disconnect_async completed in %" G_GINT64_FORMAT " ms", elapsed / 1000);

  g_assert_true (bayeux_client_disconnect_finish (fx->client, pending->result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (elapsed, <, G_USEC_PER_SEC);
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_DISCONNECTED);
}

/* Publishes {"seq": @seq, "from": "glib"} on @channel. */
static void
publish_seq (BayeuxClient *client,
             const char   *channel,
             guint         seq,
             Pending      *pending)
{
  g_autoptr(JsonNode) node = make_data (seq, "glib");

  bayeux_client_publish_async (client, channel, node, NULL,
                               pending_publish_cb, pending_ref (pending));
}

typedef struct {
  BayeuxClient *client;
  const char   *channel; /* it subscribes and publishes there */
  GPtrArray    *inbox;
} KeepAliveClient;

/* Each client publishes message @seq on its channel; waits for the replies
 * (which must be successes) and for each client to have received @seq + 1
 * messages. */
static gboolean
keep_alive_round (Fixture         *fx,
                  KeepAliveClient *clients,
                  guint            n_clients,
                  guint            seq)
{
  g_autoptr(Pending) pending = pending_new (n_clients);
  g_autofree char *what = g_strdup_printf ("the replies to publishing message %u", seq);

  for (guint i = 0; i < n_clients; i++)
    publish_seq (clients[i].client, clients[i].channel, seq, pending);

  if (!fixture_wait (fx, pending_is_done, pending, what))
    return FALSE;
  if (pending->n_failed > 0)
    {
      g_test_fail_printf ("publishing message %u: %u of %u publishes failed, the first with: %s",
                          seq, pending->n_failed, n_clients, pending->first_error->message);
      return FALSE;
    }

  for (guint i = 0; i < n_clients; i++)
    {
      InboxWait iw = { clients[i].inbox, seq + 1 };
      g_autofree char *what_in = g_strdup_printf ("%s to receive message %u",
                                                  client_name (clients[i].client), seq);

      if (!fixture_wait (fx, inbox_wait_is_done, &iw, what_in))
        return FALSE;
    }

  return TRUE;
}

/* Node's http server closes a kept-alive connection after ~6 s idle. A
 * client that then sends on it, or on a connection it believes is still
 * open, must not surface that: after staying idle longer than that, a
 * publish must still succeed and arrive, with no ::error at all.
 *
 * Two clients run side by side through the same idle time: the fixture's
 * (its own session, which closes idle connections itself after 4 s) and
 * one on a session that keeps idle connections for libsoup's default 60 s,
 * so that the server is the one to close them. */
static void
test_keep_alive (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(SoupSession) session = NULL;
  KeepAliveClient clients[2];
  ConnStats before, after, end;
  gboolean ok;

  if (!fixture_is_ready (fx))
    return;

  session = soup_session_new_with_options ("max-conns-per-host", 2,
                                           "idle-timeout", 60,
                                           "timeout", 0,
                                           NULL);
  soup_session_add_feature_by_type (session, SOUP_TYPE_COOKIE_JAR);
  fx->extra_client = fixture_start_client (fx, session, "client-60s-idle");
  if (!fixture_wait (fx, client_is_connected, fx->extra_client, "the second client to connect"))
    return;

  clients[0] = (KeepAliveClient) { fx->client, "/interop/keep-alive/default", NULL };
  clients[1] = (KeepAliveClient) { fx->extra_client, "/interop/keep-alive/idle-60s", NULL };
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      clients[i].inbox = fixture_listen_on (fx, clients[i].client, clients[i].channel);
      if (!fixture_subscribe_on (fx, clients[i].client, clients[i].channel))
        return;
    }

  ok = keep_alive_round (fx, clients, G_N_ELEMENTS (clients), 0) &&
       fixture_server_stats (fx, &before);
  if (ok)
    {
      g_test_message ("before the idle time: %u connections open (two clients), %u in all",
                      before.current, before.total);

      /* Idle, the long polls still running. */
      run_until (NULL, NULL, KEEP_ALIVE_IDLE_MS);

      ok = fixture_server_stats (fx, &after);
    }
  if (ok)
    {
      g_test_message ("after %d ms idle: %u connections open, %u in all",
                      KEEP_ALIVE_IDLE_MS, after.current, after.total);
      ok = keep_alive_round (fx, clients, G_N_ELEMENTS (clients), 1);
    }
  if (ok)
    {
      /* Anything repeated would come right after. */
      run_until (NULL, NULL, SETTLE_MS);

      for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
        {
          g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));

          for (guint j = 0; j < clients[i].inbox->len; j++)
            {
              BayeuxMessage *message = g_ptr_array_index (clients[i].inbox, j);
              gint64 seq = data_seq (bayeux_message_get_data (message), "glib");

              g_array_append_val (seqs, seq);
            }
          check_sequence (seqs, 2, client_name (clients[i].client));
          g_assert_cmpint (bayeux_client_get_state (clients[i].client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
        }

      if (fixture_server_stats (fx, &end))
        g_test_message ("at the end: %u connections open, at most %u at once (two clients), %u in all",
                        end.current, end.max, end.total);
    }

  /* Whatever went wrong above, the clients must not have complained. */
  g_assert_cmpuint (fx->n_errors, ==, 0);
}

typedef struct {
  GPtrArray **inboxes;
  guint       n_inboxes;
  guint       count;
} InboxesWait;

static gboolean
inboxes_wait_is_done (gpointer data)
{
  InboxesWait *iw = data;
  guint total = 0;

  for (guint i = 0; i < iw->n_inboxes; i++)
    total += iw->inboxes[i]->len;

  return total >= iw->count;
}

/* Never more than two connections to the server at once (one for the long
 * poll, one for the rest), even with many publishes in flight on several
 * channels: the server counts the TCP connections it accepts. */
static void
test_connections (Fixture       *fx,
                  gconstpointer  data)
{
  const char *channels[] = { "/interop/connections/a", "/interop/connections/b", "/interop/connections/c" };
  GPtrArray *inboxes[G_N_ELEMENTS (channels)];
  g_autoptr(Pending) pending = pending_new (N_CONNECTIONS_MESSAGES);
  InboxesWait iw;
  ConnStats stats;

  if (!fixture_is_ready (fx))
    return;

  for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
    {
      inboxes[i] = fixture_listen (fx, channels[i]);
      if (!fixture_subscribe (fx, channels[i]))
        return;
    }

  /* Let the next /meta/connect go out and be held by the server. */
  run_until (NULL, NULL, 500);

  /* All at once, round the channels: message i goes to channel i % 3. */
  for (guint i = 0; i < N_CONNECTIONS_MESSAGES; i++)
    publish_seq (fx->client, channels[i % G_N_ELEMENTS (channels)], i, pending);

  if (!fixture_wait (fx, pending_is_done, pending, "the publish replies"))
    {
      g_test_message ("%u of %u publishes finished", pending->n_done, N_CONNECTIONS_MESSAGES);
      return;
    }
  if (pending->n_failed > 0)
    g_test_fail_printf ("%u of %u publishes failed, the first with: %s",
                        pending->n_failed, N_CONNECTIONS_MESSAGES, pending->first_error->message);

  iw = (InboxesWait) { inboxes, G_N_ELEMENTS (inboxes), N_CONNECTIONS_MESSAGES };
  fixture_wait (fx, inboxes_wait_is_done, &iw, "all the messages");
  run_until (NULL, NULL, SETTLE_MS);

  /* Channel k gets messages k, k + 3, k + 6…, in order: as i / 3, those
   * are 0, 1, 2… */
  for (guint k = 0; k < G_N_ELEMENTS (channels); k++)
    {
      g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
      guint n_expected = (N_CONNECTIONS_MESSAGES + G_N_ELEMENTS (channels) - 1 - k) / G_N_ELEMENTS (channels);
      g_autofree char *what = g_strdup_printf ("%s (seq / 3)", channels[k]);

      for (guint j = 0; j < inboxes[k]->len; j++)
        {
          BayeuxMessage *message = g_ptr_array_index (inboxes[k], j);
          gint64 seq = data_seq (bayeux_message_get_data (message), "glib");

          g_assert_cmpstr (bayeux_message_get_channel (message), ==, channels[k]);
          seq = seq >= 0 && seq % G_N_ELEMENTS (channels) == k ? seq / (gint64) G_N_ELEMENTS (channels) : -1;
          g_array_append_val (seqs, seq);
        }
      check_sequence (seqs, n_expected, what);
    }

  /* The long poll is still running. */
  g_assert_cmpint (bayeux_client_get_state (fx->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
  g_assert_cmpuint (fx->n_errors, ==, 0);

  if (!fixture_server_stats (fx, &stats))
    return;
  g_test_message ("%s server: at most %u connections at once, %u in all, %u open now",
                  fx->kind->name, stats.max, stats.total, stats.current);
  g_assert_cmpuint (stats.max, >=, 1);
  g_assert_cmpuint (stats.max, <=, MAX_CONNECTIONS);
}

/* Setup ------------------------------------------------------------------ */

static char *prerequisites_problem;

/* Fails (does not skip) when the interop tests cannot run, saying how to
 * fix it. */
static void
test_prerequisites (void)
{
  if (prerequisites_problem != NULL)
    g_test_fail_printf ("%s", prerequisites_problem);
}

static char *
check_prerequisites (void)
{
  static const char *packages[] = { "faye", "cometd-nodejs-server", "cometd", "cometd-nodejs-client" };
  const char *dir = g_getenv ("BAYEUX_INTEROP_DIR");

  if (dir == NULL || *dir == '\0')
    return g_strdup ("BAYEUX_INTEROP_DIR is not set: run this test through `meson test --suite interop`, "
                     "or set it to the tests/interop source directory");
  interop_dir = g_canonicalize_filename (dir, NULL);

  node_path = g_find_program_in_path ("node");
  if (node_path == NULL)
    return g_strdup ("`node` (Node.js) is not in PATH: install it to run the interop tests");

  for (guint i = 0; i < G_N_ELEMENTS (packages); i++)
    {
      g_autofree char *path = g_build_filename (interop_dir, "node_modules", packages[i], "package.json", NULL);

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_strdup_printf ("%s is missing: the Node packages are not installed; "
                                "run `npm ci --prefix tests/interop` from the source root",
                                path);
    }

  return NULL;
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* A failed check fails the test but lets the teardown stop the servers. */
  g_test_set_nonfatal_assertions ();

  prerequisites_problem = check_prerequisites ();
  g_test_add_func ("/bayeux/interop/prerequisites", test_prerequisites);
  if (prerequisites_problem != NULL)
    {
      g_printerr ("test-interop: %s\n", prerequisites_problem);
      return g_test_run ();
    }

  for (guint i = 0; i < G_N_ELEMENTS (server_kinds); i++)
    {
      const ServerKind *kind = &server_kinds[i];
      static const struct {
        const char *name;
        void (*func) (Fixture *, gconstpointer);
      } tests[] = {
        { "receive-200", test_receive },
        { "publish-200", test_publish },
        { "wildcards", test_wildcards },
        { "refused", test_refused },
        { "disconnect", test_disconnect },
        { "connections", test_connections },
        { "keep-alive", test_keep_alive },
      };

      for (guint j = 0; j < G_N_ELEMENTS (tests); j++)
        {
          g_autofree char *path = g_strdup_printf ("/bayeux/interop/%s/%s", kind->name, tests[j].name);

          g_test_add (path, Fixture, kind, fixture_setup, tests[j].func, fixture_teardown);
        }
    }

  return g_test_run ();
}
