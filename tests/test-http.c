/* test-http.c: what the client does with HTTP itself: Retry-After,
 * credentials in the URL, cookies
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue 11, points 5, 6 and 7: a server that asks the client to wait (429,
 * 503 with Retry-After), one that wants Basic credentials (given in the
 * URL), and one that sets a new cookie on every answer. Each test runs the
 * client against the in-process test server (tests/test-utils.c); the
 * timing checks are lower bounds, or upper bounds with a wide margin, so
 * that they hold under ASan and Valgrind.
 */
#include "test-utils.h"
#include "bayeux-cookie-jar-private.h"
#include "transports/bayeux-transport-private.h"

#include <string.h>

typedef ClientFixture Fixture;

#define MARGIN_MS 20   /* timers never fire early; this covers clock reads on both sides */

/* A fixture with its server and no client yet: the test makes it. */
static void
setup_bare (Fixture       *f,
            gconstpointer  data)
{
  client_fixture_init (f, test_server_new ());
}

/* The client of the usual fixture, on @url. */
static void
make_client (Fixture    *f,
             const char *url)
{
  f->client = bayeux_client_new (url);
  g_object_set (f->client, "max-network-delay", 2000, "backoff-increment", 50, "max-backoff", 200, NULL);
  client_fixture_watch (f);
}

/* ------------------------------------------------------------------------ */
/* Retry-After                                                              */

/* Each request whose first message is on @channel: the first @refusals
 * are answered @status with Retry-After: @retry_after[i] (DATE_IN_2_S: an
 * HTTP date 2 s after the refusal), the others as usual. When each came,
 * and when each refusal was answered. */
#define DATE_IN_2_S "date in 2 s"
typedef struct
{
  const char  *channel;
  guint        status;
  const char  *retry_after[4];
  guint        refusals;
  guint        refused;
  gboolean     armed;      /* refuse only from now on */
  GArray      *came;       /* gint64, monotonic µs, each request on @channel */
  GArray      *answered;   /* gint64, each refusal */
} Refuser;

static void
refuser_init (Refuser    *r,
              const char *channel,
              guint       status)
{
  *r = (Refuser) { .channel = channel, .status = status, .armed = TRUE };
  r->came = g_array_new (FALSE, FALSE, sizeof (gint64));
  r->answered = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static void
refuser_clear (Refuser *r)
{
  g_array_unref (r->came);
  g_array_unref (r->answered);
}

static void
refuse (SoupServerMessage *msg,
        guint              status,
        const char        *retry_after,
        GArray            *answered)
{
  g_autoptr(GDateTime) then = g_date_time_new_now_utc ();
  g_autofree char *date = NULL;
  gint64 now;

  if (g_strcmp0 (retry_after, DATE_IN_2_S) == 0)
    {
      g_autoptr(GDateTime) later = g_date_time_add_seconds (then, 2);

      retry_after = date = soup_date_time_to_string (later, SOUP_DATE_HTTP);
    }
  test_server_respond_raw (msg, status, NULL);
  if (retry_after != NULL)
    soup_message_headers_append (soup_server_message_get_response_headers (msg), "Retry-After", retry_after);
  now = g_get_monotonic_time ();
  g_array_append_val (answered, now);
}

/* Whether the first message of @request is on @channel. */
static gboolean
first_is (JsonArray  *request,
          const char *channel)
{
  JsonObject *first = json_array_get_length (request) > 0 ? json_array_get_object_element (request, 0) : NULL;

  return first != NULL && g_strcmp0 (json_object_get_string_member (first, "channel"), channel) == 0;
}

static gboolean
refuse_hook (TestServer        *server,
             SoupServerMessage *msg,
             JsonArray         *request,
             gpointer           user_data)
{
  Refuser *r = user_data;
  gint64 now = g_get_monotonic_time ();

  if (!first_is (request, r->channel) || !r->armed)
    return FALSE;
  g_array_append_val (r->came, now);
  if (r->refused >= r->refusals)
    return FALSE;
  refuse (msg, r->status, r->retry_after[r->refused++], r->answered);
  return TRUE;
}

static gboolean
came_twice_after (gpointer data)
{
  Refuser *r = data;

  return r->came->len > r->refusals;
}

/* The time (ms) from the answer of refusal @i to the request that followed. */
static gint64
gap_after (Refuser *r,
           guint    i)
{
  return (g_array_index (r->came, gint64, i + 1) - g_array_index (r->answered, gint64, i)) / 1000;
}

/* The parser: delay-seconds and HTTP-dates; anything else is no advice. */
static void
test_retry_after_parse (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2024, 5, 1, 12, 0, 0);

  g_assert_cmpint (bayeux_retry_after_parse ("4", now), ==, 4000);
  g_assert_cmpint (bayeux_retry_after_parse (" 120 ", now), ==, 120000);
  g_assert_cmpint (bayeux_retry_after_parse ("0", now), ==, 0);
  g_assert_cmpint (bayeux_retry_after_parse ("Wed, 01 May 2024 12:00:09 GMT", now), ==, 9000);
  g_assert_cmpint (bayeux_retry_after_parse ("Wed, 01 May 2024 11:00:00 GMT", now), ==, 0);   /* past */
  /* Huge: bounded already here (a day); the client bounds it far lower. */
  g_assert_cmpint (bayeux_retry_after_parse ("99999999999999999999999", now), ==, 24 * 3600 * 1000);
  g_assert_cmpint (bayeux_retry_after_parse ("Fri, 31 Dec 9999 23:59:59 GMT", now), ==, 24 * 3600 * 1000);
  g_assert_cmpint (bayeux_retry_after_parse ("", now), ==, -1);
  g_assert_cmpint (bayeux_retry_after_parse ("-1", now), ==, -1);
  g_assert_cmpint (bayeux_retry_after_parse ("1.5", now), ==, -1);
  g_assert_cmpint (bayeux_retry_after_parse ("soon", now), ==, -1);
}

/* 503 with Retry-After: 1 on the handshake: the next handshake waits at
 * least 1 s (the backoff alone is 50 ms). Before the fix it came 50 ms
 * later. */
static void
test_retry_after_seconds (Fixture *f, gconstpointer data)
{
  Refuser r;

  refuser_init (&r, "/meta/handshake", SOUP_STATUS_SERVICE_UNAVAILABLE);
  r.retry_after[0] = "1";
  r.refusals = 1;
  make_client (f, test_server_get_url (f->server));
  g_object_set (f->client, "max-backoff", 10000, NULL);
  test_server_set_hook (f->server, refuse_hook, &r);

  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (came_twice_after, &r, 5000));
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_test_message ("handshake after 503 Retry-After: 1 came %" G_GINT64_FORMAT " ms later", gap_after (&r, 0));
  g_assert_cmpint (gap_after (&r, 0), >=, 1000 - MARGIN_MS);
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_HTTP), ==, 1);

  test_server_set_hook (f->server, NULL, NULL);
  refuser_clear (&r);
}

/* 429 with Retry-After as an HTTP date (2 s ahead, so at least 1 s given
 * its one-second resolution) on a /meta/connect of a connected client:
 * the next connect waits that long. */
static void
test_retry_after_date (Fixture *f, gconstpointer data)
{
  Refuser r;

  refuser_init (&r, "/meta/connect", 429 /* Too Many Requests */);
  r.retry_after[0] = DATE_IN_2_S;
  r.refusals = 1;
  r.armed = FALSE;
  make_client (f, test_server_get_url (f->server));
  g_object_set (f->client, "max-backoff", 10000, NULL);
  test_server_set_hook (f->server, refuse_hook, &r);
  test_server_set_timeout (f->server, 100);   /* connects come back soon */

  fixture_start_connected (f);
  r.armed = TRUE;
  g_assert_true (test_wait_until (came_twice_after, &r, 6000));
  g_test_message ("connect after 429 Retry-After: (+2 s) came %" G_GINT64_FORMAT " ms later", gap_after (&r, 0));
  g_assert_cmpint (gap_after (&r, 0), >=, 1000 - MARGIN_MS);
  g_assert_cmpuint (fixture_count_errors (f, BAYEUX_ERROR, BAYEUX_ERROR_HTTP), ==, 1);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));

  test_server_set_hook (f->server, NULL, NULL);
  refuser_clear (&r);
}

/* A hostile Retry-After (a huge number, a date in year 9999) cannot
 * silence the client: it waits max-backoff (200 ms here) at most. */
static void
test_retry_after_bounded (Fixture *f, gconstpointer data)
{
  Refuser r;

  refuser_init (&r, "/meta/handshake", SOUP_STATUS_SERVICE_UNAVAILABLE);
  r.retry_after[0] = "4000000000";
  r.retry_after[1] = "Fri, 31 Dec 9999 23:59:59 GMT";
  r.refusals = 2;
  make_client (f, test_server_get_url (f->server));
  test_server_set_hook (f->server, refuse_hook, &r);

  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (came_twice_after, &r, 3000));
  g_assert_true (test_wait_until (fixture_is_connected, f, 3000));
  for (guint i = 0; i < 2; i++)
    {
      g_test_message ("handshake %u after a huge Retry-After came %" G_GINT64_FORMAT " ms later", i + 2,
                      gap_after (&r, i));
      /* The bound, not less: the server did ask to wait. */
      g_assert_cmpint (gap_after (&r, i), >=, 200 - MARGIN_MS);
      g_assert_cmpint (gap_after (&r, i), <, test_scaled_ms (200 + 1000));
    }

  test_server_set_hook (f->server, NULL, NULL);
  refuser_clear (&r);
}

/* The WebSocket upgrade refused with 503 and Retry-After: 1: the client
 * falls back to long polling as for any refused upgrade, but its
 * /meta/connect waits the second the server asked for (before the fix it
 * went at once); so does the handshake by HTTP after the upgrade before it
 * was refused so. */
typedef struct
{
  guint   upgrades;
  GArray *answered;   /* gint64 */
} UpgradeRefuser;

static void
refuse_upgrade (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  UpgradeRefuser *u = user_data;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET ||
      !soup_message_headers_header_contains (soup_server_message_get_request_headers (msg), "Upgrade", "websocket"))
    return;
  u->upgrades++;
  refuse (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "1", u->answered);
}

static void
upgrade_refuser_free (gpointer data)
{
  UpgradeRefuser *u = data;

  g_array_unref (u->answered);
  g_free (u);
}

static void
test_retry_after_websocket (Fixture *f, gconstpointer data)
{
  UpgradeRefuser *up = g_new0 (UpgradeRefuser, 1);
  UpgradeRefuser u;
  gint64 gap;

  /* The handler lives as long as the server: so does its data. */
  up->answered = g_array_new (FALSE, FALSE, sizeof (gint64));
  test_server_set_websocket (f->server, TRUE, FALSE);
  soup_server_add_early_handler (test_server_get_soup_server (f->server), "/cometd", refuse_upgrade, up,
                                 upgrade_refuser_free);
  make_client (f, test_server_get_url (f->server));
  g_object_set (f->client, "max-backoff", 10000, NULL);

  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  u = *up;
  /* The upgrade before the handshake (refused: the handshake by HTTP, a
   * second later), and the one after it, as before. */
  g_assert_cmpuint (u.upgrades, ==, 2);
  g_assert_cmpstr (bayeux_client_get_transport (f->client), ==, "long-polling");
  gap = (test_server_last_time (f->server, "/meta/handshake") - g_array_index (u.answered, gint64, 0)) / 1000;
  g_test_message ("handshake after the first upgrade's 503 Retry-After: 1 came %" G_GINT64_FORMAT " ms later", gap);
  g_assert_cmpint (gap, >=, 1000 - MARGIN_MS);
  gap = (test_server_last_time (f->server, "/meta/connect") - g_array_index (u.answered, gint64, 1)) / 1000;
  g_test_message ("connect after the upgrade's 503 Retry-After: 1 came %" G_GINT64_FORMAT " ms later", gap);
  g_assert_cmpint (gap, >=, 1000 - MARGIN_MS);
}

/* A Retry-After is for the next request only: after a refusal with
 * Retry-After: 30 (bounded by max-backoff, 1 s here), a connect that works
 * and then a plain 500, the next connect waits the plain backoff, not the
 * bound again (the server's wish is not kept for later failures). */
static void
test_retry_after_once (Fixture *f, gconstpointer data)
{
  Refuser r;

  refuser_init (&r, "/meta/connect", 429 /* Too Many Requests */);
  r.retry_after[0] = "30";
  r.refusals = 1;
  r.armed = FALSE;
  make_client (f, test_server_get_url (f->server));
  g_object_set (f->client, "backoff-increment", 50, "max-backoff", 1000, NULL);
  test_server_set_hook (f->server, refuse_hook, &r);
  test_server_set_timeout (f->server, 100);   /* connects come back soon */

  fixture_start_connected (f);
  r.armed = TRUE;
  g_assert_true (test_wait_until (came_twice_after, &r, 5000));
  g_test_message ("connect after 429 Retry-After: 30 came %" G_GINT64_FORMAT " ms later (max-backoff 1000)",
                  gap_after (&r, 0));
  g_assert_cmpint (gap_after (&r, 0), >=, 1000 - MARGIN_MS);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));

  /* Then a plain failure, once the connect after it came and worked. */
  r.came->len = 0;
  r.answered->len = 0;
  r.refused = 0;
  r.retry_after[0] = NULL;
  r.status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  g_assert_true (test_wait_until (came_twice_after, &r, 5000));
  g_test_message ("connect after a plain 500 came %" G_GINT64_FORMAT " ms later", gap_after (&r, 0));
  g_assert_cmpint (gap_after (&r, 0), <, 700);

  test_server_set_hook (f->server, NULL, NULL);
  refuser_clear (&r);
}

/* ------------------------------------------------------------------------ */
/* Credentials in the URL                                                   */

#define USER     "bayeux"
#define PASSWORD "s3cr3t-Pa55"

/* What the server saw of the requests that carried credentials. */
typedef struct
{
  guint posts;            /* POSTs with an Authorization header */
  guint bad_bodies;       /* of those, how many did not carry a JSON array */
  guint unauthorized;     /* 401 answers */
  guint bad_requests;     /* 400 answers to POSTs (not to the refused upgrade before the handshake) */
} AuthWatch;

static gboolean
check_password (SoupAuthDomain    *domain,
                SoupServerMessage *msg,
                const char        *username,
                const char        *password,
                gpointer           user_data)
{
  return g_str_equal (username, USER) && g_str_equal (password, PASSWORD);
}

/* Only WebSocket upgrades need credentials (the auth filter): the first
 * challenge the client meets is on the upgrade. */
static gboolean
only_upgrades (SoupAuthDomain    *domain,
               SoupServerMessage *msg,
               gpointer           user_data)
{
  return soup_server_message_get_method (msg) == SOUP_METHOD_GET;
}

static void
on_request_finished (SoupServer        *server,
                     SoupServerMessage *msg,
                     gpointer           user_data)
{
  AuthWatch *w = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  guint status = soup_server_message_get_status (msg);

  w->unauthorized += status == SOUP_STATUS_UNAUTHORIZED;
  w->bad_requests += status == SOUP_STATUS_BAD_REQUEST && soup_server_message_get_method (msg) == SOUP_METHOD_POST;
  if (soup_message_headers_get_one (headers, "Authorization") != NULL &&
      soup_server_message_get_method (msg) == SOUP_METHOD_POST)
    {
      g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
      g_autoptr(JsonNode) json = g_bytes_get_size (body) > 0 ? json_from_string (g_bytes_get_data (body, NULL), NULL)
                                                              : NULL;

      w->posts++;
      w->bad_bodies += json == NULL || !JSON_NODE_HOLDS_ARRAY (json);
    }
}

/* The server's URL with USER:PASSWORD in it; an auth domain for Basic
 * credentials on its path (@filter: which requests need them). */
static char *
require_basic_auth (Fixture               *f,
                    SoupAuthDomainFilter   filter,
                    AuthWatch             *w)
{
  SoupServer *server = test_server_get_soup_server (f->server);
  g_autoptr(SoupAuthDomain) domain = soup_auth_domain_basic_new ("realm", "bayeux-test", NULL);
  g_autoptr(GUri) uri = g_uri_parse (test_server_get_url (f->server), G_URI_FLAGS_NONE, NULL);

  soup_auth_domain_basic_set_auth_callback (domain, check_password, NULL, NULL);
  soup_auth_domain_add_path (domain, "/cometd");
  if (filter != NULL)
    soup_auth_domain_set_filter (domain, filter, NULL, NULL);
  soup_server_add_auth_domain (server, domain);
  g_signal_connect (server, "request-finished", G_CALLBACK (on_request_finished), w);
  return g_strdup_printf ("http://" USER ":" PASSWORD "@127.0.0.1:%d%s", g_uri_get_port (uri),
                          g_uri_get_path (uri));
}

/* http://user:password@host/: libsoup answers the server's 401 by sending
 * the request again with the credentials; that POST must carry the whole
 * body again. Before the fix it went out empty: 400, an HTTP error and a
 * backoff before the handshake worked. */
static void
test_credentials (Fixture *f, gconstpointer data)
{
  AuthWatch w = { 0 };
  g_autofree char *url = require_basic_auth (f, NULL, &w);
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(GError) error = NULL;

  make_client (f, url);
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  reply = fixture_publish (f, "/auth/ping", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);

  g_assert_cmpuint (w.unauthorized, >=, 1);   /* the credentials were asked for */
  g_assert_cmpuint (w.posts, >=, 3);          /* handshake, connect, publish */
  g_assert_cmpuint (w.bad_bodies, ==, 0);
  g_assert_cmpuint (w.bad_requests, ==, 0);
  g_assert_cmpuint (f->errors->len, ==, 0);
  g_assert_cmpuint (test_server_count (f->server, "/meta/handshake"), ==, 1);
  g_signal_handlers_disconnect_by_data (test_server_get_soup_server (f->server), &w);
}

/* The WebSocket upgrade with credentials in the URL: challenged (only the
 * upgrade needs them here), libsoup sends it again with them, and the
 * socket opens; no error, no fallback. */
static void
test_credentials_websocket (Fixture *f, gconstpointer data)
{
  AuthWatch w = { 0 };
  g_autofree char *url = require_basic_auth (f, only_upgrades, &w);

  test_server_set_websocket (f->server, TRUE, TRUE);
  make_client (f, url);
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_cmpstr (bayeux_client_get_transport (f->client), ==, "websocket");
  g_assert_cmpuint (w.unauthorized, ==, 1);   /* the upgrade, answered once more with them */
  g_assert_nonnull (test_server_ws_upgrade_header (f->server, "Authorization"));
  g_assert_cmpuint (test_server_ws_connections (f->server), ==, 1);
  g_assert_cmpuint (f->errors->len, ==, 0);
  g_signal_handlers_disconnect_by_data (test_server_get_soup_server (f->server), &w);
}

/* ------------------------------------------------------------------------ */
/* Cookies                                                                  */

#define COOKIE_SECRET "v4lue-0f-a-c00kie"

/* Every answer but those to /meta/connect (held, they would come late)
 * sets one more cookie: flood000, flood001…, each of @value_size bytes of
 * value (starting with COOKIE_SECRET). */
typedef struct
{
  guint value_size;
  guint set;
} CookieFlood;

static gboolean
flood_cookies (TestServer        *server,
               SoupServerMessage *msg,
               JsonArray         *request,
               gpointer           user_data)
{
  CookieFlood *c = user_data;
  g_autofree char *padding = g_strnfill (c->value_size - strlen (COOKIE_SECRET), 'x');
  g_autofree char *cookie = NULL;

  if (first_is (request, "/meta/connect"))
    return FALSE;
  cookie = g_strdup_printf ("flood%03u=" COOKIE_SECRET "%s; Path=/", c->set++, padding);
  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie", cookie);
  return FALSE;   /* the server answers as usual */
}

/* How many cookies the Cookie header @header carries. */
static guint
count_cookies (const char *header)
{
  guint n = header != NULL && header[0] != '\0';

  for (const char *p = header; p != NULL && (p = strstr (p, "; ")) != NULL; p += 2)
    n++;
  return n;
}

/* Publishes until the server set @n cookies; each publish carries what the
 * answers before it set. Prints the size of the Cookie header on the way. */
static void
publish_until (Fixture     *f,
               CookieFlood *c,
               guint        n)
{
  while (c->set < n)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BayeuxMessage) reply = fixture_publish (f, "/cookies/flood", NULL, &error);
      const char *header;

      g_assert_no_error (error);
      g_assert_nonnull (reply);
      header = test_server_last_cookie (f->server);
      if (c->set % 50 == 0 || c->set >= n)
        g_test_message ("after %u cookies of %u bytes set: Cookie header of %zu bytes, %u cookies", c->set,
                        c->value_size, header ? strlen (header) : 0, count_cookies (header));
    }
}

/* A server that sets a new cookie on every answer: the client's jar keeps
 * the newest, within 50 cookies and 8 KiB, oldest dropped first.
 * Before the fix the Cookie header grew with every answer (1.59 MB after
 * 396 cookies of 4 KB in the issue). */
static void
test_cookies_bounded (Fixture *f, gconstpointer data)
{
  CookieFlood small = { 32, 0 };
  CookieFlood large = { 3000, 0 };
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autofree char *newest = NULL;
  const char *header;

  make_client (f, test_server_get_url (f->server));
  test_server_set_hook (f->server, flood_cookies, &small);
  fixture_start_connected (f);

  /* Small cookies: the count is the bound. */
  publish_until (f, &small, 200);
  newest = g_strdup_printf ("flood%03u=", small.set - 1);
  reply = fixture_publish (f, "/cookies/flood", NULL, NULL);   /* carries the 200th */
  header = test_server_last_cookie (f->server);
  g_assert_cmpuint (count_cookies (header), ==, 50);
  g_assert_nonnull (strstr (header, newest));
  g_assert_null (strstr (header, "flood149="));   /* the 150 oldest are gone */
  g_assert_nonnull (strstr (header, "flood150="));

  /* Large ones: the bytes are. */
  large.set = small.set;
  test_server_set_hook (f->server, flood_cookies, &large);
  publish_until (f, &large, small.set + 40);
  g_clear_pointer (&newest, g_free);
  newest = g_strdup_printf ("flood%03u=", large.set - 1);
  g_clear_pointer (&reply, bayeux_message_unref);
  reply = fixture_publish (f, "/cookies/flood", NULL, NULL);
  header = test_server_last_cookie (f->server);
  g_assert_cmpuint (strlen (header), <=, 8192);
  g_assert_cmpuint (count_cookies (header), ==, 2);   /* 3,011 bytes each: a third would pass 8 KiB */
  g_assert_nonnull (strstr (header, newest));

  g_assert_cmpuint (f->errors->len, ==, 0);
  g_assert_cmpint (bayeux_client_get_state (f->client), ==, BAYEUX_CLIENT_STATE_CONNECTED);
  test_server_set_hook (f->server, NULL, NULL);
}

/* Dropping cookies is said at debug level, with the cookie's name, never
 * its value: in a subprocess, every debug switch on and the logs kept. */
static void
test_cookies_log (void)
{
  if (g_test_subprocess ())
    {
      Fixture f = { 0 };
      CookieFlood flood = { 32, 0 };
      GString *captured_logs;

      g_setenv ("BAYEUX_DEBUG", "all", TRUE);
      g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
      captured_logs = test_capture_logs ();

      setup_bare (&f, NULL);
      make_client (&f, test_server_get_url (f.server));
      test_server_set_hook (f.server, flood_cookies, &flood);
      fixture_start_connected (&f);
      publish_until (&f, &flood, BAYEUX_COOKIE_JAR_MAX_COOKIES + 5);
      test_server_set_hook (f.server, NULL, NULL);
      client_fixture_teardown (&f, NULL);

      g_assert_nonnull (strstr (captured_logs->str, "cookie jar over its bound"));
      g_assert_nonnull (strstr (captured_logs->str, "“flood000” for 127.0.0.1"));
      if (strstr (captured_logs->str, COOKIE_SECRET) != NULL)
        g_error ("a cookie's value in the logs:\n%s", captured_logs->str);
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* An application's own session keeps its own jar, unbounded by the client
 * (its cookie policy is the application's). */
static void
test_cookies_own_session (Fixture *f, gconstpointer data)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  CookieFlood flood = { 32, 0 };
  g_autoptr(BayeuxMessage) reply = NULL;
  guint set;

  soup_session_add_feature_by_type (session, SOUP_TYPE_COOKIE_JAR);
  f->client = bayeux_client_new_with_session (test_server_get_url (f->server), session);
  client_fixture_watch (f);
  test_server_set_hook (f->server, flood_cookies, &flood);
  fixture_start_connected (f);
  publish_until (f, &flood, BAYEUX_COOKIE_JAR_MAX_COOKIES + 10);
  set = flood.set;
  reply = fixture_publish (f, "/cookies/flood", NULL, NULL);
  g_assert_cmpuint (count_cookies (test_server_last_cookie (f->server)), ==, set);
  test_server_set_hook (f->server, NULL, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, setup, fn) g_test_add ("/bayeux/http/" path, Fixture, NULL, setup, fn, client_fixture_teardown)
  g_test_add_func ("/bayeux/http/retry-after/parse", test_retry_after_parse);
  ADD ("retry-after/seconds", setup_bare, test_retry_after_seconds);
  ADD ("retry-after/date", setup_bare, test_retry_after_date);
  ADD ("retry-after/bounded", setup_bare, test_retry_after_bounded);
  ADD ("retry-after/websocket", setup_bare, test_retry_after_websocket);
  ADD ("retry-after/once", setup_bare, test_retry_after_once);
  ADD ("credentials", setup_bare, test_credentials);
  ADD ("credentials/websocket", setup_bare, test_credentials_websocket);
  ADD ("cookies/bounded", setup_bare, test_cookies_bounded);
  g_test_add_func ("/bayeux/http/cookies/log", test_cookies_log);
  ADD ("cookies/own-session", setup_bare, test_cookies_own_session);
#undef ADD

  return g_test_run ();
}
