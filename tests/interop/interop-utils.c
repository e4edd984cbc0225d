/* interop-utils.c: real Bayeux servers and peers for the interop tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Node scripts (next to this file) are found through the environment
 * variable BAYEUX_INTEROP_DIR, which meson sets to this directory, and need
 * `npm ci --prefix tests/interop` to have been run.
 *
 * Every Node process gets its stdin from a pipe to the test program: it
 * exits when that pipe closes, so a crash there leaves no server behind.
 * The fixture also stops them (SIGTERM, then wait) after each test.
 *
 * Nothing waits forever: each test has an overall deadline, and waiting
 * past it fails the test (and runs the teardown) instead of hanging.
 */

#include <signal.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "interop-utils.h"

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
gboolean
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

static void
pending_clear (gpointer data)
{
  Pending *pending = data;

  g_clear_object (&pending->result);
  g_clear_error (&pending->first_error);
}

Pending *
pending_new (guint n_expected)
{
  Pending *pending = g_rc_box_new0 (Pending);

  pending->n_expected = n_expected;

  return pending;
}

Pending *
pending_ref (Pending *pending)
{
  return g_rc_box_acquire (pending);
}

void
pending_unref (Pending *pending)
{
  g_rc_box_release_full (pending, pending_clear);
}


gboolean
pending_is_done (gpointer data)
{
  Pending *pending = data;

  return pending->n_done >= pending->n_expected;
}

/* Keeps the result, for the test to call the _finish function. */
void
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
void
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

#ifdef __linux__
/* In the child, before exec: a program that does not watch its stdin (such
 * as redis-server) gets SIGTERM when the test program dies, so that even a
 * crashed test leaves nothing behind. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}
#endif

static Child *
child_spawn_argv (const char          *name,
                  const char * const  *argv,
                  gboolean             die_with_us,
                  GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *command = NULL;
  GSubprocess *process;
  Child *child;

  command = g_strjoinv (" ", (char **) argv);
  g_test_message ("%s: starting %s", name, command);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE);
#ifdef __linux__
  if (die_with_us)
    g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
#endif
  process = g_subprocess_launcher_spawnv (launcher, argv, error);
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

/* Starts `node SCRIPT ARGS…` with its stdin and stdout piped to us; its
 * stderr goes to ours, so Node's own errors land in the test log. */
Child *
child_spawn (const char          *name,
             const char * const  *args,
             GError             **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;

  g_strv_builder_add (builder, node_path);
  g_strv_builder_addv (builder, (const char **) args);
  argv = g_strv_builder_end (builder);

  return child_spawn_argv (name, (const char * const *) argv, FALSE, error);
}

/* Starts a program that is not a Node script: @argv[0] is looked up in
 * PATH. It also gets SIGTERM (on Linux) if the test program dies. */
Child *
child_spawn_program (const char          *name,
                     const char * const  *argv,
                     GError             **error)
{
  return child_spawn_argv (name, argv, TRUE, error);
}

gboolean
child_is_exited (gpointer data)
{
  Child *child = data;

  return child->exited;
}

/* Writes one line on the child's stdin. */
gboolean
child_send_line (Child       *child,
                 const char  *line,
                 GError     **error)
{
  g_autofree char *text = g_strconcat (line, "\n", NULL);

  return g_output_stream_write_all (child->stdin_pipe, text, strlen (text), NULL, NULL, error) &&
         g_output_stream_flush (child->stdin_pipe, NULL, error);
}

void
child_kill (Child *child)
{
  if (child->exited)
    return;

  g_subprocess_force_exit (child->process);
  if (!run_until (child_is_exited, child, STOP_TIMEOUT_MS))
    g_test_message ("%s: still there %d ms after SIGKILL", child->name, STOP_TIMEOUT_MS);
}

/* Stops the child (SIGTERM, then SIGKILL if it does not go) and drops it.
 * Never fails the test: this is cleanup. */
void
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

const ServerKind server_kinds[2] = {
  { "faye", "faye-server.js", "/faye", NULL, NULL },
  { "cometd", "cometd-server.js", "/cometd", NULL, NULL },
};

const ServerKind server_kinds_long_polling_first[1] = {
  { "faye", "faye-server.js", "/faye", "long-polling websocket", "faye-long-polling-first" },
};

const ServerKind server_kinds_long_polling[2] = {
  { "faye", "faye-server.js", "/faye", "long-polling", "faye-long-polling" },
  { "cometd", "cometd-server.js", "/cometd", "long-polling", "cometd-long-polling" },
};

/* Waits for @done within what is left of the test's time; on timeout fails
 * the test, naming @what, and returns %FALSE: the test then returns. */
gboolean
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

  g_test_fail_printf ("timed out waiting for %s (the test has %u s in all)",
                      what, fx->time_limit_ms / 1000);
  return FALSE;
}

void
fixture_set_time_limit (Fixture *fx,
                        guint    time_limit_ms)
{
  fx->time_limit_ms = time_limit_ms;
  fx->deadline = g_get_monotonic_time () + (gint64) time_limit_ms * 1000;
}

/* Waits for a line starting with @prefix from @child, among its lines from
 * the @from-th on, and returns it; if the child says ERROR, exits, or the
 * time is up, fails the test and returns %NULL. The line belongs to the
 * child. */
const char *
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
const char *
fixture_wait_line (Fixture    *fx,
                   Child      *child,
                   const char *prefix,
                   gint64      timeout_ms)
{
  return fixture_wait_line_from (fx, child, prefix, 0, timeout_ms);
}

/* The name a client goes by in the test log. */
const char *
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

static void
on_transport_notify (BayeuxClient *client,
                     GParamSpec   *pspec,
                     gpointer      user_data)
{
  g_test_message ("%s: transport %s", client_name (client), bayeux_client_get_transport (client));
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

gboolean
client_is_connected (gpointer data)
{
  return bayeux_client_get_state (BAYEUX_CLIENT (data)) == BAYEUX_CLIENT_STATE_CONNECTED;
}

/* Makes a client of the fixture's server (on @session, or on a session of
 * its own if %NULL), named @name in the log, its state changes logged and
 * its errors counted, but does not start it. */
BayeuxClient *
fixture_new_client (Fixture     *fx,
                    SoupSession *session,
                    const char  *name)
{
  BayeuxClient *client = bayeux_client_new_with_session (fx->url, session);

  g_object_set_data_full (G_OBJECT (client), "interop-name", g_strdup (name), g_free);
  bayeux_client_set_max_network_delay (client, MAX_NETWORK_DELAY_MS);
  if (fx->kind->transports != NULL)
    {
      g_auto(GStrv) transports = g_strsplit (fx->kind->transports, " ", -1);
      bayeux_client_set_transports (client, (const char * const *) transports);
    }
  g_signal_connect (client, "notify::state", G_CALLBACK (on_state_notify), NULL);
  g_signal_connect (client, "notify::transport", G_CALLBACK (on_transport_notify), NULL);
  g_signal_connect (client, "error", G_CALLBACK (on_error), fx);

  return client;
}

/* fixture_new_client(), and starts it. */
BayeuxClient *
fixture_start_client (Fixture     *fx,
                      SoupSession *session,
                      const char  *name)
{
  BayeuxClient *client = fixture_new_client (fx, session, name);

  bayeux_client_start (client);

  return client;
}

/* Waits for the server's READY line; %NULL (without failing the test) if
 * it exits first or the time is up. */
static const char *
server_wait_ready (Fixture *fx,
                   Child   *server)
{
  LineWait lw = { server, "READY ", 0, NULL };
  gint64 left_ms = (fx->deadline - g_get_monotonic_time ()) / 1000;

  run_until (line_wait_is_done, &lw, (guint) CLAMP (left_ms, 0, START_TIMEOUT_MS));

  return lw.found != NULL && g_str_has_prefix (lw.found, "READY ") ? lw.found : NULL;
}

gboolean
fixture_start_server (Fixture *fx)
{
  g_autofree char *script = g_build_filename (interop_dir, fx->kind->script, NULL);
  g_autofree char *port_text = g_strdup_printf ("%u", fx->port);
  const char *args[] = { script, "--port", port_text, NULL };
  const char *ready = NULL;
  guint64 port;

  if (fx->port == 0)
    args[1] = NULL;  /* any free port */
  g_clear_pointer (&fx->server, child_stop);

  /* The port of a server that was just killed may not be free again at
   * once: try a few times (each attempt is logged). */
  for (guint attempt = 0; ready == NULL && attempt < 20; attempt++)
    {
      g_autoptr(GError) error = NULL;

      if (attempt > 0)
        {
          g_clear_pointer (&fx->server, child_stop);
          run_until (NULL, NULL, 100);
        }
      fx->server = child_spawn (fx->kind->script, args, &error);
      if (fx->server == NULL)
        {
          g_test_fail_printf ("could not start %s: %s", fx->kind->script, error->message);
          return FALSE;
        }
      ready = server_wait_ready (fx, fx->server);
      if (ready == NULL && !fx->server->exited)
        break;  /* out of time: it is not a busy port */
    }

  if (ready == NULL)
    {
      g_test_fail_printf ("%s did not say READY (%s)", fx->kind->script,
                          fx->server->exited ? fx->server->exit_text : "timed out");
      return FALSE;
    }
  if (!g_ascii_string_to_unsigned (ready + strlen ("READY "), 10, 1, G_MAXUINT16, &port, NULL) ||
      (fx->port != 0 && port != fx->port))
    {
      g_test_fail_printf ("%s: bad READY line '%s'", fx->kind->script, ready);
      return FALSE;
    }

  fx->port = (guint16) port;
  if (fx->url == NULL)
    fx->url = g_strdup_printf ("http://127.0.0.1:%u%s", fx->port, fx->kind->mount);
  return TRUE;
}

void
fixture_kill_server (Fixture *fx)
{
  if (fx->server != NULL)
    child_kill (fx->server);
}

gboolean
fixture_restart_server (Fixture *fx)
{
  g_return_val_if_fail (fx->port != 0, FALSE);

  fixture_kill_server (fx);
  return fixture_start_server (fx);
}

void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  fx->kind = data;
  fixture_set_time_limit (fx, TEST_TIMEOUT_MS);
  fx->peers = g_ptr_array_new ();
  fx->inboxes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);

  if (!fixture_start_server (fx))
    return;

  /* Our client, connected. */
  fx->client = fixture_start_client (fx, NULL, "client");
  fixture_wait (fx, client_is_connected, fx->client, "the client to connect");
}

/* Whether the setup worked; if not, the test fails (never passes empty). */
gboolean
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

void
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
GPtrArray *
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
GPtrArray *
fixture_listen (Fixture    *fx,
                const char *detail)
{
  return fixture_listen_on (fx, fx->client, detail);
}

/* Subscribes @client to @channel, failing the test if that fails. */
gboolean
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
gboolean
fixture_subscribe (Fixture    *fx,
                   const char *channel)
{
  return fixture_subscribe_on (fx, fx->client, channel);
}

/* Starts `peer.js --kind KIND --url URL` and then @args, named @name in
 * the log; the fixture stops it. */
Child *
fixture_spawn_peer_args (Fixture            *fx,
                         const char         *name,
                         const char * const *args)
{
  return fixture_spawn_peer_at (fx, name, fx->url, args);
}

/* fixture_spawn_peer_args(), the peer talking to the server at @url (a
 * node of a cluster, say) instead of the fixture's. */
Child *
fixture_spawn_peer_at (Fixture            *fx,
                       const char         *name,
                       const char         *url,
                       const char * const *args)
{
  g_autofree char *script = g_build_filename (interop_dir, "peer.js", NULL);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  Child *peer;

  g_strv_builder_add_many (builder, script, "--kind", fx->kind->name, "--url", url, NULL);
  g_strv_builder_addv (builder, (const char **) args);
  argv = g_strv_builder_end (builder);

  peer = child_spawn (name, (const char * const *) argv, &error);
  if (peer == NULL)
    {
      g_test_fail_printf ("could not start %s: %s", script, error->message);
      return NULL;
    }
  g_ptr_array_add (fx->peers, peer);

  return peer;
}

/* Starts peer.js in the mode given by @option ("--subscribe" or
 * "--publish") on each of @channels, @count messages each. */
Child *
fixture_spawn_peer (Fixture            *fx,
                    const char         *option,
                    const char * const *channels,
                    guint               count)
{
  g_autofree char *count_text = g_strdup_printf ("%u", count);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) args = NULL;
  g_autofree char *name = g_strdup_printf ("%s-peer%s", fx->kind->name, option + 1);

  g_strv_builder_add_many (builder, "--count", count_text, NULL);
  for (guint i = 0; channels[i] != NULL; i++)
    g_strv_builder_add_many (builder, option, channels[i], NULL);
  args = g_strv_builder_end (builder);

  return fixture_spawn_peer_args (fx, name, (const char * const *) args);
}

gboolean
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

/* Asks the server for its connection counts (writes `STATS`, reads
 * `STATS <current> <max> <total>`); fails the test if it cannot. */
gboolean
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

gboolean
inbox_wait_is_done (gpointer data)
{
  InboxWait *iw = data;

  return iw->inbox->len >= iw->count;
}

JsonNode *
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
gint64
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
void
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

gboolean
interop_init (const char *program)
{
  prerequisites_problem = check_prerequisites ();
  g_test_add_func ("/bayeux/interop/prerequisites", test_prerequisites);
  if (prerequisites_problem != NULL)
    {
      g_printerr ("%s: %s\n", program, prerequisites_problem);
      return FALSE;
    }

  return TRUE;
}
