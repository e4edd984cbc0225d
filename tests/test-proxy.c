/* test-proxy.c: the client through a real HTTP proxy (tinyproxy) on
 * loopback, in front of the in-process test server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test runs its own tinyproxy in the foreground (-d) on a free
 * loopback port, with a configuration and a log in a temporary folder, and
 * stops it (SIGTERM, then wait) before it ends. tinyproxy dies with this
 * process too (PR_SET_PDEATHSIG), so a failed assertion leaves nothing
 * behind. tinyproxy is a test dependency (Debian package `tinyproxy`,
 * installed by scripts/deps.sh): without it these tests fail, they do not
 * skip.
 *
 * Two ways to know that a request went through the proxy: tinyproxy adds a
 * `Via: … tinyproxy …` header to what it forwards (the test server checks
 * every request for it), and its log names each request it forwarded
 * (`Request (file descriptor N): POST http://127.0.0.1:PORT/cometd …`).
 *
 * The environment (http_proxy, honoured by default): tests/meson.build
 * runs every test with GIO_USE_PROXY_RESOLVER=dummy and no_proxy='*' so
 * that no test depends on the proxy settings of the machine. This one
 * undoes that for itself in main(), before anything asks GIO for its
 * default proxy resolver (which is chosen once per process): it points
 * http_proxy at the tinyproxy port and removes GIO_USE_PROXY_RESOLVER,
 * no_proxy and the desktop variables (on a GNOME desktop glib-networking
 * picks its GSettings resolver, which ignores http_proxy). What GIO does
 * then, on Debian bookworm (GLib 2.74, glib-networking 2.74, libproxy
 * 0.4.18): g_proxy_resolver_get_default () is glib-networking's libproxy
 * resolver (GLibproxyResolver), and libproxy's environment module answers
 * http_proxy for every http URL, loopback included (127.0.0.1, localhost,
 * ::1 are not bypassed unless no_proxy names them; libproxy 0.4 does not
 * understand no_proxy='*' at all). So a client on its own default session
 * honours http_proxy for the test server on 127.0.0.1, and that is tested
 * as is. Without glib-networking's proxy module, GIO's default resolver
 * is the dummy one (always direct://) and http_proxy is ignored: that test
 * then fails and says so.
 */
#include "test-utils.h"
#include "bayeux-proxy-cache-private.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

static guint proxy_port;   /* chosen in main(), before any GIO use */
static char *proxy_url;    /* http://127.0.0.1:PORT */

/* ------------------------------------------------------------------------ */
/* tinyproxy                                                                */

typedef struct
{
  GSubprocess *process;
  char        *dir;
  char        *log;          /* the log's text, read when stopped */
} Tinyproxy;

static guint
free_loopback_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static char *
find_tinyproxy (void)
{
  char *path = g_find_program_in_path ("tinyproxy");

  if (path == NULL && g_file_test ("/usr/sbin/tinyproxy", G_FILE_TEST_IS_EXECUTABLE))
    path = g_strdup ("/usr/sbin/tinyproxy");
  if (path == NULL)
    g_error ("tinyproxy not found (neither in PATH nor /usr/sbin): the proxy tests need it; "
             "install Debian's tinyproxy package (scripts/deps.sh does)");
  return path;
}

/* In the child, between fork and exec: die with the test. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
port_accepts (guint port)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);

  return socket != NULL && g_socket_connect (socket, address, NULL, NULL);
}

static char *
read_or_empty (const char *dir,
               const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

/* Starts tinyproxy on proxy_port, letting in only @allow. */
static void
tinyproxy_start (Tinyproxy  *self,
                 const char *allow)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *program = find_tinyproxy ();
  g_autofree char *config = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *output_path = NULL;
  gint64 deadline;

  g_assert_null (self->process);
  g_clear_pointer (&self->log, g_free);
  self->dir = g_dir_make_tmp ("bayeux-proxy-XXXXXX", &error);
  g_assert_no_error (error);
  config_path = g_build_filename (self->dir, "tinyproxy.conf", NULL);
  log_path = g_build_filename (self->dir, "tinyproxy.log", NULL);
  output_path = g_build_filename (self->dir, "output", NULL);

  /* No User: tinyproxy stays who we are (with a warning when root). */
  config = g_strdup_printf ("Port %u\n"
                            "Listen 127.0.0.1\n"
                            "Allow %s\n"
                            "Timeout 30\n"
                            "MaxClients 20\n"
                            "LogFile \"%s\"\n"
                            "LogLevel Info\n",
                            proxy_port, allow, log_path);
  g_file_set_contents (config_path, config, -1, &error);
  g_assert_no_error (error);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdout_file_path (launcher, output_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, output_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  self->process = g_subprocess_launcher_spawn (launcher, &error, program, "-d", "-c", config_path, NULL);
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + test_scaled_ms (5000) * G_TIME_SPAN_MILLISECOND;
  while (!port_accepts (proxy_port))
    {
      if (g_subprocess_get_identifier (self->process) == NULL || g_get_monotonic_time () > deadline)
        {
          g_autofree char *output = read_or_empty (self->dir, "output");
          g_autofree char *log = read_or_empty (self->dir, "tinyproxy.log");
          g_error ("tinyproxy did not start listening on 127.0.0.1:%u\n%s%s", proxy_port, output, log);
        }
      g_usleep (10 * 1000);
    }
  g_test_message ("tinyproxy %s on %s, letting in %s", program, proxy_url, allow);
}

static gboolean
process_done (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

/* Stops tinyproxy (SIGTERM, then wait; SIGKILL if it lingers), keeps its
 * log in self->log and removes its folder. */
static void
tinyproxy_stop (Tinyproxy *self)
{
  g_autoptr(GAsyncResult) result = NULL;
  const char *names[] = { "tinyproxy.conf", "tinyproxy.log", "output" };

  if (self->process == NULL)
    return;

  g_subprocess_send_signal (self->process, SIGTERM);
  g_subprocess_wait_async (self->process, NULL, test_store_result, &result);
  if (!test_wait_until (process_done, &result, 5000))
    {
      g_test_message ("tinyproxy ignored SIGTERM for 5 s: killing it");
      g_subprocess_force_exit (self->process);
      g_subprocess_wait (self->process, NULL, NULL);
    }
  g_clear_object (&self->process);

  g_free (self->log);
  self->log = read_or_empty (self->dir, "tinyproxy.log");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (self->dir, names[i], NULL);
      g_unlink (path);
    }
  g_rmdir (self->dir);
  g_clear_pointer (&self->dir, g_free);
}

static guint
count_substrings (const char *text,
                  const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* How many POSTs to @url tinyproxy forwarded, per its log. */
static guint
tinyproxy_posts_to (Tinyproxy  *self,
                    const char *url)
{
  g_autofree char *line = g_strdup_printf ("): POST %s HTTP/", url);

  g_assert_nonnull (self->log);
  return count_substrings (self->log, line);
}

/* ------------------------------------------------------------------------ */

typedef ClientFixture Fixture;

struct _FixtureExtra
{
  Tinyproxy proxy;
  guint     via_proxy;    /* requests the server got with tinyproxy's Via */
  guint     direct;       /* and without */
};

static gboolean
check_via (TestServer        *server,
           SoupServerMessage *msg,
           JsonArray         *request,
           gpointer           user_data)
{
  Fixture *f = user_data;
  const char *via = soup_message_headers_get_list (soup_server_message_get_request_headers (msg), "Via");

  if (via != NULL && strstr (via, "tinyproxy") != NULL)
    f->x->via_proxy++;
  else
    f->x->direct++;
  return FALSE;   /* the built-in server answers */
}

/* The tests make the client: f->client is NULL until then. */
static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  client_fixture_init (f, test_server_new ());
  f->x = g_new0 (FixtureExtra, 1);
  test_server_set_hook (f->server, check_via, f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  client_fixture_release (f);
  tinyproxy_stop (&f->x->proxy);
  g_free (f->x->proxy.log);
  client_fixture_teardown (f, data);
  g_free (f->x);
}

/* A client on a session of its own whose proxy resolver sends everything
 * to tinyproxy. */
static BayeuxClient *
client_new_through_proxy (Fixture *f)
{
  /* A GSimpleProxyResolver with no ignore list bypasses nothing, loopback
   * included: the test server on 127.0.0.1 is reached through the proxy. */
  g_autoptr(GProxyResolver) resolver = g_simple_proxy_resolver_new (proxy_url, NULL);
  g_autoptr(SoupSession) session = soup_session_new_with_options ("proxy-resolver", resolver, NULL);
  g_auto(GStrv) proxies = g_proxy_resolver_lookup (resolver, test_server_get_url (f->server), NULL, NULL);

  g_assert_nonnull (proxies);
  g_assert_cmpstr (proxies[0], ==, proxy_url);
  return bayeux_client_new_with_session (test_server_get_url (f->server), session);
}

static void
connect_signals (Fixture *f)
{
  client_fixture_watch (f);
  client_fixture_keep_messages (f, "message");
}

static gboolean
is_connected_and_subscribed (gpointer data)
{
  Fixture *f = data;

  return bayeux_client_get_state (f->client) == BAYEUX_CLIENT_STATE_CONNECTED &&
         bayeux_client_is_subscribed (f->client, "/chat") &&
         test_server_held_connects (f->server) > 0;
}

/* Connects, subscribes, publishes to its own subscription and receives the
 * message back; then disconnects and stops the proxy. Everything goes
 * through tinyproxy: the test server saw its Via header on every request,
 * and tinyproxy's log names each of them. */
static void
round_trip_through_proxy (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(JsonNode) data = json_from_string ("{\"text\":\"through the proxy\"}", NULL);
  BayeuxMessage *message;
  guint requests, forwarded;

  bayeux_client_subscribe (f->client, "/chat");
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (is_connected_and_subscribed, f, 5000));

  reply = fixture_publish (f, "/chat", data, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);

  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
  message = g_ptr_array_index (f->received, 0);
  g_assert_cmpstr (bayeux_message_get_channel (message), ==, "/chat");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (bayeux_message_get_data (message)), "text"),
                   ==, "through the proxy");

  bayeux_client_disconnect_async (f->client, NULL, test_store_result, &result);
  bayeux_client_disconnect_finish (f->client, test_wait_result (&result, 5000), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->errors->len, ==, 0);

  requests = test_server_requests (f->server);
  tinyproxy_stop (&f->x->proxy);
  forwarded = tinyproxy_posts_to (&f->x->proxy, test_server_get_url (f->server));
  g_test_message ("test server: %u requests, %u with tinyproxy's Via, %u without; tinyproxy forwarded %u POSTs",
                  requests, f->x->via_proxy, f->x->direct, forwarded);
  /* handshake, connect, subscribe, publish, connect, disconnect at least */
  g_assert_cmpuint (requests, >=, 5);
  /* Nothing came direct; everything the server saw came through the proxy
   * (the hook may see one request more than the server counted: one it
   * refused before parsing, say). */
  g_assert_cmpuint (f->x->direct, ==, 0);
  g_assert_cmpuint (f->x->via_proxy, >=, requests);
  /* What the proxy forwarded reached the server; its log may count one
   * POST more: one it was forwarding as it was stopped. */
  g_assert_cmpuint (forwarded, >=, f->x->via_proxy);
  g_assert_cmpuint (forwarded, <=, f->x->via_proxy + 1);
}

/* (1) An application's session with a proxy resolver: the client uses it. */
static void
test_session_resolver (Fixture       *f,
                       gconstpointer  data)
{
  tinyproxy_start (&f->x->proxy, "127.0.0.1");
  f->client = client_new_through_proxy (f);
  connect_signals (f);
  round_trip_through_proxy (f);
}

/* (2) http_proxy in the environment is honoured by a client with its own
 * default session. main() set http_proxy for this process and put GIO's
 * own default proxy resolver back (see the top of this file). */
static void
test_environment (Fixture       *f,
                  gconstpointer  data)
{
  GProxyResolver *resolver = g_proxy_resolver_get_default ();
  const char *url = test_server_get_url (f->server);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) proxies = g_proxy_resolver_lookup (resolver, url, NULL, &error);
  GProxyResolver *session_resolver;

  g_assert_no_error (error);
  g_test_message ("http_proxy=%s; default proxy resolver: %s; it answers %s for %s",
                  g_getenv ("http_proxy"), G_OBJECT_TYPE_NAME (resolver), proxies[0], url);
  if (g_strcmp0 (proxies[0], proxy_url) != 0)
    {
      g_test_fail_printf ("GIO's default proxy resolver (%s) answers %s for %s although http_proxy=%s: "
                          "GIO reads http_proxy only through glib-networking's libproxy module "
                          "(Debian packages glib-networking and libproxy1v5)",
                          G_OBJECT_TYPE_NAME (resolver), proxies[0], url, proxy_url);
      return;
    }

  tinyproxy_start (&f->x->proxy, "127.0.0.1");
  f->client = bayeux_client_new (url);
  connect_signals (f);
  /* The client's own session asks GIO's default resolver, through the
   * process's cache of its answers. */
  session_resolver = soup_session_get_proxy_resolver (bayeux_client_get_session (f->client));
  g_test_message ("the client's session resolver: %s", session_resolver ? G_OBJECT_TYPE_NAME (session_resolver) : "(none)");
  g_assert_true (session_resolver == bayeux_proxy_cache_get_default ());
  round_trip_through_proxy (f);
}

/* (3) A proxy that refuses us, or is not there: a clear error through
 * ::error for each attempt, retries that back off (100 ms more each time,
 * up to 400 ms, never a spin), nothing reaches the server; and once the
 * proxy lets us in, the client connects without being told to. */

typedef struct
{
  const char *allow;   /* tinyproxy's Allow, or NULL for no proxy at all */
  GQuark    (*domain) (void);
  int         code;
  const char *says;    /* in the error message */
} Refusal;

static const Refusal refusal_denied = { "127.0.0.2", bayeux_error_quark, BAYEUX_ERROR_HTTP, "403" };
static const Refusal refusal_down = { NULL, g_io_error_quark, G_IO_ERROR_CONNECTION_REFUSED, "proxy" };

static gboolean
is_connected (gpointer data)
{
  Fixture *f = data;

  return bayeux_client_get_state (f->client) == BAYEUX_CLIENT_STATE_CONNECTED &&
         bayeux_client_is_subscribed (f->client, "/chat");
}

static void
test_refused (Fixture       *f,
              gconstpointer  data)
{
  const Refusal *refusal = data;
  const guint window_ms = 2000;
  gint64 start, back;
  gint64 min_gap = G_MAXINT64;
  guint attempts;

  if (refusal->allow != NULL)
    tinyproxy_start (&f->x->proxy, refusal->allow);
  f->client = client_new_through_proxy (f);
  g_object_set (f->client, "backoff-increment", 100, "max-backoff", 400, NULL);
  connect_signals (f);

  bayeux_client_subscribe (f->client, "/chat");
  start = g_get_monotonic_time ();
  bayeux_client_start (f->client);
  test_wait_ms (window_ms);

  attempts = f->errors->len;
  for (guint i = 0; i < f->errors->len; i++)
    {
      GError *error = g_ptr_array_index (f->errors, i);

      g_assert_error (error, refusal->domain (), refusal->code);
      g_assert_nonnull (strstr (error->message, refusal->says));
      if (i > 0)
        min_gap = MIN (min_gap, g_array_index (f->error_times, gint64, i) - g_array_index (f->error_times, gint64, i - 1));
    }
  g_test_message ("%u failed attempts in %u ms, the closest %" G_GINT64_FORMAT " ms apart",
                  attempts, window_ms, min_gap / 1000);
  /* It keeps trying, but backs off: retries after 100, 200, 300, 400,
   * 400… ms, each jittered down by at most a quarter, are at most 9
   * attempts in 2 s (7 here, typically), never closer than 75 ms. */
  g_assert_cmpuint (attempts, >=, 3);
  g_assert_cmpuint (attempts, <=, 10);
  g_assert_cmpint (min_gap, >=, 70 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (bayeux_client_get_state (f->client), !=, BAYEUX_CLIENT_STATE_CONNECTED);
  g_assert_cmpuint (test_server_requests (f->server), ==, 0);

  if (refusal->allow != NULL)
    {
      tinyproxy_stop (&f->x->proxy);
      g_assert_cmpuint (count_substrings (f->x->proxy.log, "Unauthorized connection from \"127.0.0.1\""), >=, attempts);
      g_assert_cmpuint (tinyproxy_posts_to (&f->x->proxy, test_server_get_url (f->server)), ==, 0);
    }

  /* The proxy lets us in now: the next retry (at most 400 ms away) gets
   * through, without a reconnect from the application. */
  tinyproxy_start (&f->x->proxy, "127.0.0.1");
  back = g_get_monotonic_time ();
  g_assert_true (test_wait_until (is_connected, f, 3000));
  g_test_message ("connected %" G_GINT64_FORMAT " ms after the proxy let us in (%" G_GINT64_FORMAT " ms after start)",
                  (g_get_monotonic_time () - back) / 1000, (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpuint (f->x->direct, ==, 0);
  g_assert_cmpuint (f->x->via_proxy, ==, test_server_requests (f->server));
}

/* ------------------------------------------------------------------------ */

/* (4) The server offers a WebSocket, behind the proxy. libsoup sends a
 * ws:// upgrade to an HTTP proxy as a plain GET with the Upgrade header
 * (no CONNECT tunnel); tinyproxy forwards requests, not upgrades. Whatever
 * the proxy does with it, the client must end up working, every request
 * through the proxy: on the socket if the upgrade came through, or on long
 * polling at once, without an error, if it did not. */
static void
test_websocket_behind_proxy (Fixture       *f,
                             gconstpointer  data)
{
  const char *via;

  test_server_set_websocket (f->server, TRUE, TRUE);
  tinyproxy_start (&f->x->proxy, "127.0.0.1");
  f->client = client_new_through_proxy (f);
  connect_signals (f);
  round_trip_through_proxy (f);
  via = test_server_ws_upgrade_header (f->server, "Via");
  g_test_message ("transport: %s; upgrades accepted by the server: %u (Via: %s)",
                  bayeux_client_get_transport (f->client), test_server_ws_connections (f->server),
                  via ? via : "none");
  if (test_server_ws_connections (f->server) > 0)
    {
      /* An upgrade that reached the server came through the proxy. */
      g_assert_nonnull (via);
      g_assert_nonnull (strstr (via, "tinyproxy"));
    }
  else
    g_assert_cmpstr (bayeux_client_get_transport (f->client), ==, "long-polling");
}

static void
on_cached_lookup (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  char ***out = user_data;
  g_autoptr(GError) error = NULL;

  *out = g_proxy_resolver_lookup_finish (G_PROXY_RESOLVER (source), result, &error);
  g_assert_no_error (error);
}

/* Async lookup through @cache, run to its end. */
static char **
cached_lookup_async (BayeuxProxyCache *cache,
                     const char       *uri)
{
  char **proxies = NULL;

  g_proxy_resolver_lookup_async (G_PROXY_RESOLVER (cache), uri, NULL, on_cached_lookup, &proxies);
  while (proxies == NULL)
    g_main_context_iteration (NULL, TRUE);
  return proxies;
}

/* (0) The process's cache of proxy answers: the inner resolver is asked
 * once per scheme, host and port while the answer is fresh, again once it
 * is stale, and the answer is the inner one's. */
static void
test_cache (void)
{
  g_autoptr(GProxyResolver) inner = g_simple_proxy_resolver_new ("http://proxy.invalid:3128", NULL);
  g_autoptr(BayeuxProxyCache) cache = bayeux_proxy_cache_new (inner, 300);
  g_auto(GStrv) first = g_proxy_resolver_lookup (G_PROXY_RESOLVER (cache), "http://127.0.0.1:8080/cometd", NULL, NULL);
  g_auto(GStrv) same = NULL;
  g_auto(GStrv) async = NULL;
  g_auto(GStrv) other = NULL;
  g_auto(GStrv) stale = NULL;

  g_assert_cmpstr (first[0], ==, "http://proxy.invalid:3128");
  g_assert_cmpuint (bayeux_proxy_cache_get_lookups (cache), ==, 1);
  same = g_proxy_resolver_lookup (G_PROXY_RESOLVER (cache), "http://127.0.0.1:8080/other?x", NULL, NULL);
  async = cached_lookup_async (cache, "http://127.0.0.1:8080/");
  g_assert_cmpstrv (same, first);
  g_assert_cmpstrv (async, first);
  g_assert_cmpuint (bayeux_proxy_cache_get_lookups (cache), ==, 1);

  /* Another port, another scheme: asked. */
  other = cached_lookup_async (cache, "http://127.0.0.1:8081/cometd");
  g_strfreev (g_proxy_resolver_lookup (G_PROXY_RESOLVER (cache), "https://127.0.0.1:8080/", NULL, NULL));
  g_assert_cmpuint (bayeux_proxy_cache_get_lookups (cache), ==, 3);

  /* Lookups of a server made while one is under way wait for it: a
   * thousand clients started in one go ask once. */
  {
    char **answers[5] = { NULL, };

    for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
      g_proxy_resolver_lookup_async (G_PROXY_RESOLVER (cache), "http://127.0.0.2/cometd", NULL, on_cached_lookup,
                                     &answers[i]);
    for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
      {
        while (answers[i] == NULL)
          g_main_context_iteration (NULL, TRUE);
        g_assert_cmpstrv (answers[i], first);
        g_strfreev (answers[i]);
      }
    g_assert_cmpuint (bayeux_proxy_cache_get_lookups (cache), ==, 4);
    /* No port: the scheme's default, the same server. */
    g_strfreev (g_proxy_resolver_lookup (G_PROXY_RESOLVER (cache), "http://127.0.0.2:80/", NULL, NULL));
    g_assert_cmpuint (bayeux_proxy_cache_get_lookups (cache), ==, 4);
  }

  /* Stale: asked again. */
  g_usleep (350 * 1000);
  stale = g_proxy_resolver_lookup (G_PROXY_RESOLVER (cache), "http://127.0.0.1:8080/cometd", NULL, NULL);
  g_assert_cmpstrv (stale, first);
  g_assert_cmpuint (bayeux_proxy_cache_get_lookups (cache), ==, 5);
  g_assert_true (g_proxy_resolver_is_supported (G_PROXY_RESOLVER (cache)));
}

int
main (int    argc,
      char **argv)
{
  const char *desktop_variables[] = { "XDG_CURRENT_DESKTOP", "GNOME_DESKTOP_SESSION_ID",
                                      "KDE_FULL_SESSION", "DESKTOP_SESSION" };

  /* Before anything asks GIO for its default proxy resolver (the first
   * SoupSession does), and before any thread: see the top of this file. */
  proxy_port = free_loopback_port ();
  proxy_url = g_strdup_printf ("http://127.0.0.1:%u", proxy_port);
  g_setenv ("http_proxy", proxy_url, TRUE);
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("no_proxy");
  g_unsetenv ("NO_PROXY");
  g_unsetenv ("GIO_USE_PROXY_RESOLVER");
  for (guint i = 0; i < G_N_ELEMENTS (desktop_variables); i++)
    g_unsetenv (desktop_variables[i]);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/bayeux/proxy/cache", test_cache);
#define ADD(path, fn, data) g_test_add ("/bayeux/proxy/" path, Fixture, data, fixture_setup, fn, fixture_teardown)
  ADD ("session-resolver", test_session_resolver, NULL);
  ADD ("environment", test_environment, NULL);
  ADD ("refused/denied", test_refused, &refusal_denied);
  ADD ("refused/down", test_refused, &refusal_down);
  ADD ("websocket", test_websocket_behind_proxy, NULL);
#undef ADD

  return g_test_run ();
}
