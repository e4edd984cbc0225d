/* interop-utils.h: real Bayeux servers and peers for the interop tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by test-interop.c, test-recovery.c and test-cluster.c: Node
 * processes (the servers and peer.js) and other programs (redis-server)
 * driven through their stdin and stdout, a GTest fixture that starts a
 * server and a connected client, and helpers to wait on the main loop with
 * a deadline instead of hanging.
 */
#pragma once

#include <bayeux-glib/bayeux-glib.h>

G_BEGIN_DECLS

#define TEST_TIMEOUT_MS      30000 /* for one whole test, setup included */
#define START_TIMEOUT_MS     15000 /* for a server script to print READY */
#define STOP_TIMEOUT_MS      5000  /* for a Node process to exit on SIGTERM */
#define SETTLE_MS            300   /* to see late duplicates or strays */
#define MAX_NETWORK_DELAY_MS 5000  /* the servers hold connects for 10 s */

typedef gboolean (*Predicate) (gpointer data);

/* Runs the default main context until @done returns %TRUE or @timeout_ms
 * pass; a %NULL @done just lets @timeout_ms pass. */
gboolean run_until (Predicate done,
                    gpointer  data,
                    guint     timeout_ms);

/* Pending: what an async call reports back. Reference counted, each
 * callback holding a reference: a callback that only fires after its test
 * gave up (timed out) must not write into freed memory. */
typedef struct {
  guint         n_expected;
  guint         n_done;
  guint         n_failed;
  GAsyncResult *result;      /* the last result, for single calls */
  GError       *first_error; /* for pending_publish_cb */
  gint64        done_time;   /* monotonic time of the last callback */
} Pending;

Pending  *pending_new        (guint n_expected);
Pending  *pending_ref        (Pending *pending);
void      pending_unref      (Pending *pending);
gboolean  pending_is_done    (gpointer data);
/* Keeps the result, for the test to call the _finish function. */
void      pending_store_cb   (GObject      *source,
                              GAsyncResult *result,
                              gpointer      user_data);
/* Finishes a publish and counts the failures. */
void      pending_publish_cb (GObject      *source,
                              GAsyncResult *result,
                              gpointer      user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pending, pending_unref)

/* Child: a Node process, its stdin and stdout piped to us. */
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

Child    *child_spawn     (const char          *name,
                           const char * const  *args,
                           GError             **error);
/* Starts a program that is not a Node script (@argv[0] looked up in PATH),
 * stdin and stdout piped as for the scripts; on Linux it gets SIGTERM if
 * the test program dies. */
Child    *child_spawn_program (const char          *name,
                               const char * const  *argv,
                               GError             **error);
gboolean  child_is_exited (gpointer data);
gboolean  child_send_line (Child       *child,
                           const char  *line,
                           GError     **error);
/* SIGKILL, then waits for it to be gone; the child is kept (not freed). */
void      child_kill      (Child *child);
/* SIGTERM (then SIGKILL), and drops the child. Never fails the test. */
void      child_stop      (Child *child);

/* The fixture: one server, our client, peers. */
typedef struct {
  const char *name;   /* also peer.js --kind */
  const char *script;
  const char *mount;
  const char *transports; /* the client's transports property, space-separated; NULL: the default */
  const char *label;      /* in test paths; NULL: name */
} ServerKind;

/* Our client with its default transports: WebSocket on Faye (the handshake
 * over it), long polling (fallback, after the upgrade is refused) on
 * CometD. */
extern const ServerKind server_kinds[2];
/* Our client forced to long polling. */
extern const ServerKind server_kinds_long_polling[2];
/* Faye, long polling first: the handshake by HTTP, then the WebSocket. */
extern const ServerKind server_kinds_long_polling_first[1];

typedef struct {
  const ServerKind *kind;
  gint64            deadline;   /* monotonic time at which the test fails */
  guint             time_limit_ms; /* what the deadline allowed, for messages */
  Child            *server;
  guint16           port;       /* the server's, kept across restarts */
  char             *url;
  GPtrArray        *peers;      /* of Child */
  GPtrArray        *inboxes;    /* of GPtrArray of BayeuxMessage */
  BayeuxClient     *client;
  BayeuxClient     *extra_client; /* a second client, for some tests */
  guint             n_errors;   /* ::error emissions, from either client */
} Fixture;

void         fixture_setup          (Fixture       *fx,
                                     gconstpointer  data);
void         fixture_teardown       (Fixture       *fx,
                                     gconstpointer  data);
gboolean     fixture_is_ready       (Fixture *fx);
/* Gives the test @time_limit_ms from now on, instead of what was left. */
void         fixture_set_time_limit (Fixture *fx,
                                     guint    time_limit_ms);
gboolean     fixture_wait           (Fixture    *fx,
                                     Predicate   done,
                                     gpointer    data,
                                     const char *what);
const char  *fixture_wait_line_from (Fixture    *fx,
                                     Child      *child,
                                     const char *prefix,
                                     guint       from,
                                     gint64      timeout_ms);
const char  *fixture_wait_line      (Fixture    *fx,
                                     Child      *child,
                                     const char *prefix,
                                     gint64      timeout_ms);

/* Starts the server script (on fx->port if not 0, else on any free port,
 * which is then kept in fx->port) and waits for its READY. */
gboolean     fixture_start_server   (Fixture *fx);
/* Kills the server with SIGKILL, as a crash would, and waits for it to be
 * gone. */
void         fixture_kill_server    (Fixture *fx);
/* fixture_kill_server() (if still running), then fixture_start_server()
 * on the same port. */
gboolean     fixture_restart_server (Fixture *fx);

const char  *client_name            (BayeuxClient *client);
gboolean     client_is_connected    (gpointer data);
/* A client of fx->url, its state logged and its errors counted in
 * fx->n_errors; fixture_start_client() also starts it. */
BayeuxClient *fixture_new_client    (Fixture     *fx,
                                     SoupSession *session,
                                     const char  *name);
BayeuxClient *fixture_start_client  (Fixture     *fx,
                                     SoupSession *session,
                                     const char  *name);
GPtrArray   *fixture_listen_on      (Fixture      *fx,
                                     BayeuxClient *client,
                                     const char   *detail);
GPtrArray   *fixture_listen         (Fixture    *fx,
                                     const char *detail);
gboolean     fixture_subscribe_on   (Fixture      *fx,
                                     BayeuxClient *client,
                                     const char   *channel);
gboolean     fixture_subscribe      (Fixture    *fx,
                                     const char *channel);
/* Starts `peer.js --kind KIND --url URL` with @args after those. */
Child       *fixture_spawn_peer_args (Fixture            *fx,
                                      const char         *name,
                                      const char * const *args);
/* The same, the peer talking to @url instead of fx->url. */
Child       *fixture_spawn_peer_at  (Fixture            *fx,
                                     const char         *name,
                                     const char         *url,
                                     const char * const *args);
/* Starts peer.js in the mode given by @option ("--subscribe" or
 * "--publish") on each of @channels, @count messages each. */
Child       *fixture_spawn_peer     (Fixture            *fx,
                                     const char         *option,
                                     const char * const *channels,
                                     guint               count);
gboolean     fixture_tell_peer      (Fixture    *fx,
                                     Child      *peer,
                                     const char *line);

/* The server's connection counts (see countConnections() in common.js). */
typedef struct {
  guint current; /* open now */
  guint max;     /* the most open at once */
  guint total;   /* accepted in all */
} ConnStats;

gboolean     fixture_server_stats   (Fixture   *fx,
                                     ConnStats *stats);

/* Messages and their data. */
typedef struct {
  GPtrArray *inbox;
  guint      count;
} InboxWait;

gboolean     inbox_wait_is_done     (gpointer data);
JsonNode    *make_data              (guint       seq,
                                     const char *from);
gint64       data_seq               (JsonNode   *data,
                                     const char *from);
void         check_sequence         (GArray     *seqs,
                                     guint       n,
                                     const char *what);

/* Checks that Node and the packages are there and adds the test
 * /bayeux/interop/prerequisites, which fails (does not skip) saying how to
 * fix it if not. Returns whether the other tests can run; if not, main()
 * adds no more and returns g_test_run(). Call after g_test_init(). */
gboolean     interop_init           (const char *program);

G_END_DECLS
