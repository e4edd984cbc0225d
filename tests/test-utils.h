/* test-utils.h: an in-process Bayeux server and a client fixture for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "test-asan.h"
#include <bayeux-glib/bayeux-glib.h>

G_BEGIN_DECLS

typedef struct _TestServer TestServer;

/* Answers a request instead of the built-in server: return TRUE when the
 * request was answered (with test_server_respond_raw() or by hand). */
typedef gboolean (*TestServerHook) (TestServer        *server,
                                    SoupServerMessage *msg,
                                    JsonArray         *request,
                                    gpointer           user_data);

TestServer  *test_server_new            (void);
void         test_server_free           (TestServer *server);
const char  *test_server_get_url        (TestServer *server);

/* Knobs of the built-in server. */
void         test_server_set_timeout    (TestServer *server, guint timeout_ms);   /* advised long-poll timeout */
void         test_server_set_interval   (TestServer *server, guint interval_ms);
void         test_server_set_max_interval (TestServer *server, guint max_interval_ms); /* advised when not 0 */
/* The error of its replies to a session it does not know (default "402::Unknown client"). */
void         test_server_set_unknown_client_error (TestServer *server, const char *error);
void         test_server_set_hook       (TestServer *server, TestServerHook hook, gpointer user_data);
void         test_server_refuse_channel (TestServer *server, const char *channel); /* subscribe and publish */
void         test_server_set_hold_forever (TestServer *server, gboolean hold);   /* never answer held connects */
void         test_server_set_ignore_disconnect (TestServer *server, gboolean ignore);
void         test_server_set_cookie     (TestServer *server, const char *set_cookie);

/* Queues a raw answer for the next request whose first message is on
 * @meta_channel (or any request with NULL). */
void         test_server_queue_raw      (TestServer *server, const char *meta_channel,
                                         guint status, const char *body);
/* Queues a message for delivery to every client subscribed to a matching
 * channel; releases a held connect. */
void         test_server_deliver        (TestServer *server, const char *channel, const char *data_json);
/* The same, with @data_json sent as it is written (its spacing, escapes and
 * numbers kept), not as JSON-GLib would write it again. */
void         test_server_deliver_raw    (TestServer *server, const char *channel, const char *data_json);
/* Forgets all sessions: the next request gets 402::Unknown client. */
void         test_server_forget_clients (TestServer *server);
/* Answers a held connect now (with the pending deliveries). */
void         test_server_release        (TestServer *server);

void         test_server_respond_raw    (SoupServerMessage *msg, guint status, const char *body);

/* What happened. */
guint        test_server_count          (TestServer *server, const char *channel); /* messages received on it */
guint        test_server_requests       (TestServer *server);                      /* POSTs received */
guint        test_server_max_batch      (TestServer *server);                      /* most messages in one POST */
guint        test_server_held_connects  (TestServer *server);
guint        test_server_max_held_connects (TestServer *server);
guint        test_server_connections    (TestServer *server);                      /* distinct client sockets */
JsonObject  *test_server_last           (TestServer *server, const char *channel); /* last message on channel, borrowed */
const char  *test_server_last_cookie    (TestServer *server);                      /* Cookie header of the last request */
gint64       test_server_last_time      (TestServer *server, const char *channel); /* monotonic µs */
gint64       test_server_last_reply_time (TestServer *server, const char *channel);

/* Main-loop helpers. */
gboolean     test_wait_until            (gboolean (*condition) (gpointer), gpointer data, guint timeout_ms);
void         test_wait_ms               (guint ms);
GAsyncResult *test_wait_result          (GAsyncResult **slot, guint timeout_ms);
void         test_store_result          (GObject *source, GAsyncResult *result, gpointer slot);

G_END_DECLS

/* Appended for test-hostile.c. */
G_BEGIN_DECLS
/* Whether the built-in server holds a subscription matching exactly @channel. */
gboolean     test_server_is_subscribed  (TestServer *server, const char *channel);
/* @ms, stretched like the waits of test_wait_until() under Valgrind. */
guint        test_scaled_ms             (guint ms);
/* Whether the test runs under Valgrind. */
gboolean     test_under_valgrind        (void);
/* The same server over HTTPS on 127.0.0.1:0, presenting @certificate (which
 * holds its private key); its URL is https://127.0.0.1:PORT/cometd. */
TestServer  *test_server_new_tls        (GTlsCertificate *certificate);

G_END_DECLS

/* WebSocket: the server offers "websocket" in its handshake replies
 * (@offer) and accepts upgrades at its path (@accept); over it, it answers
 * as over HTTP, in frames. The knobs act on the latest connection. */
G_BEGIN_DECLS
void         test_server_set_websocket  (TestServer *server, gboolean offer, gboolean accept);
void         test_server_ws_send_raw    (TestServer *server, const char *text);
void         test_server_ws_close       (TestServer *server);   /* 1001, going away */
void         test_server_ws_set_silent  (TestServer *server, gboolean silent); /* read frames, never answer */
typedef enum {
  TEST_WS_FAULT_NONE,
  TEST_WS_CLOSE_AFTER_CONNECT,  /* close (1011) right after each successful /meta/connect reply */
  TEST_WS_CLOSE_ON_OPEN,        /* close (1011) each socket as soon as it is open */
} TestWsFault;
void         test_server_ws_set_fault   (TestServer *server, TestWsFault fault);
void         test_server_ws_send_binary (TestServer *server, const char *bytes);
void         test_server_ws_hold_upgrades (TestServer *server, gboolean hold); /* upgrades get no answer */
guint        test_server_ws_connections (TestServer *server);   /* upgrades accepted */
guint        test_server_ws_frames      (TestServer *server);   /* frames received */
gboolean     test_server_ws_is_open     (TestServer *server);
const char  *test_server_ws_upgrade_header (TestServer *server, const char *name); /* of the latest accepted upgrade */
/* CometD's ws.requireHandshakePerConnection: over a socket, a message of a
 * session handshaken elsewhere (by HTTP, or on an earlier socket) gets
 * 402::session_unknown (with advice handshake on a /meta/connect). */
void         test_server_ws_set_strict  (TestServer *server, gboolean strict);
/* A server of WebSockets only: every POST is answered @status (0: off). */
void         test_server_refuse_posts   (TestServer *server, guint status);
guint        test_server_posts          (TestServer *server);   /* POSTs received, refused ones too */
guint        test_server_handshakes     (TestServer *server, gboolean websocket); /* accepted, by HTTP or over a socket */
/* Upgrades without a Cookie header (before a handshake by HTTP set one,
 * with test_server_set_cookie) are refused with 400. */
void         test_server_ws_require_cookie (TestServer *server, gboolean require);
guint        test_server_ws_refused     (TestServer *server);   /* upgrades refused (an HTTP answer) */
G_END_DECLS

/* The client fixture: a test server, a client on it, and what the client
 * told the test. Every test-<area>.c that tests a BayeuxClient against the
 * test server uses it, as its GTest fixture, with `typedef ClientFixture
 * Fixture;`; a test file with state of its own defines struct
 * _FixtureExtra and keeps one in @x (its setup allocates it). */
G_BEGIN_DECLS
typedef struct _FixtureExtra FixtureExtra;

typedef struct
{
  TestServer   *server;
  BayeuxClient *client;      /* NULL until the test or the setup makes one */
  GPtrArray    *errors;      /* GError*, one for each ::error */
  GArray       *error_times; /* gint64: the monotonic time of each */
  GArray       *states;      /* BayeuxClientState, at each notify::state */
  GPtrArray    *received;    /* what the test keeps of the messages: strings (g_free), or
                              * BayeuxMessage* after client_fixture_keep_messages() */
  GPtrArray    *log;         /* strings (g_free) the test writes down as things happen */
  FixtureExtra *x;           /* the test file's own state, or NULL */
} ClientFixture;

/* The usual setup: client_fixture_init() with a new test server, and a
 * client made with bayeux_client_new() (max-network-delay 2000 ms,
 * backoff-increment 50 ms, max-backoff 200 ms), watched. */
void         client_fixture_setup       (ClientFixture *f, gconstpointer data);
/* client_fixture_release(), then frees the server and the arrays (not @x). */
void         client_fixture_teardown    (ClientFixture *f, gconstpointer data);
/* Takes @server and makes the arrays; no client yet. */
void         client_fixture_init        (ClientFixture *f, TestServer *server);
/* Records ::error and notify::state of f->client. */
void         client_fixture_watch       (ClientFixture *f);
/* Keeps a reference on each message of @detailed_signal ("message",
 * "message::/ws/**") of f->client in f->received, which must be empty. */
void         client_fixture_keep_messages (ClientFixture *f, const char *detailed_signal);
/* Drops f->client (if any) and checks that nothing else held it, then lets
 * the main loop run for 10 ms. */
void         client_fixture_release     (ClientFixture *f);

/* Conditions for test_wait_until(), on a ClientFixture. */
gboolean     fixture_is_connected       (gpointer f);
gboolean     fixture_is_disconnected    (gpointer f);
gboolean     fixture_is_unconnected     (gpointer f);
gboolean     fixture_has_error          (gpointer f);
gboolean     fixture_has_received       (gpointer f);
gboolean     fixture_server_holds_connect (gpointer f);

/* Starts the client and waits until it is connected and its connect is
 * held by the server. */
void         fixture_start_connected    (ClientFixture *f);
/* Subscribes and waits for the reply, which must be a success. */
void         fixture_subscribe          (ClientFixture *f, const char *channel);
/* Publishes and waits (5 s at most) for the reply: the reply, or NULL with
 * @error set. */
BayeuxMessage *fixture_publish          (ClientFixture *f, const char *channel, JsonNode *data, GError **error);
/* Waits until the server received @n messages or more on @channel (and,
 * for the _connected variant, the client is connected). */
gboolean     fixture_wait_server_count  (ClientFixture *f, const char *channel, guint n, guint timeout_ms);
gboolean     fixture_wait_server_count_connected (ClientFixture *f, const char *channel, guint n,
                                                  guint timeout_ms);
/* Subscribes and waits for the reply, which must be a failure: its error. */
GError      *fixture_subscribe_error    (ClientFixture *f, const char *channel);
/* Waits until the server received a second /meta/subscribe or more and
 * holds a subscription to @channel: the client subscribed again. */
gboolean     fixture_wait_resubscribed  (ClientFixture *f, const char *channel, guint timeout_ms);
/* How many of the errors match @domain and @code. */
guint        fixture_count_errors       (ClientFixture *f, GQuark domain, int code);
/* How many of the errors' messages contain @text. */
guint        fixture_count_errors_containing (ClientFixture *f, const char *text);
G_END_DECLS

/* Appended for test-http.c: the server's SoupServer, to add an auth
 * domain or an early handler to it. */
G_BEGIN_DECLS
SoupServer  *test_server_get_soup_server (TestServer *server);
/* From now on, the message of every log record of this process goes to the
 * returned string (a line each) instead of stderr: for a test that looks
 * for secrets in the logs, in a subprocess (a process sets its log writer
 * once). The string is the writer's until the process ends. */
GString     *test_capture_logs          (void);
G_END_DECLS
