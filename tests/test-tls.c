/* test-tls.c: https:// servers the client must not trust by default
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The in-process Bayeux server over HTTPS on 127.0.0.1, with the
 * certificates of tests/tls/ (see its README): a server certificate signed
 * by a private CA, and a self-signed one.  TLS is verified by default: a
 * client refuses both servers with a G_TLS_ERROR, without spinning, and
 * trusts one only when the application says so, with its own
 * GTlsDatabase or through BayeuxClient::accept-certificate.
 *
 * Needs glib-networking's TLS backend: without it the test fails (a client
 * that cannot do TLS at all would pass the refusal tests for the wrong
 * reason).
 */
#include "test-utils.h"

#include <string.h>

typedef ClientFixture Fixture;

struct _FixtureExtra
{
  GTlsCertificate *certificate;   /* the server's, with its key */
  guint            accept_calls;  /* BayeuxClient::accept-certificate emissions */
  GTlsCertificateFlags accept_flags;
  gboolean         accept_same;   /* the certificate offered was the server's */
};

typedef struct
{
  const char *cert;   /* file names in tests/tls/ */
  const char *key;
} ServerCert;

static const ServerCert self_signed = { "self-signed.pem", "self-signed-key.pem" };
static const ServerCert ca_signed = { "server.pem", "server-key.pem" };

static char *
tls_file (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "tls", name, NULL);
}

/* f->received: the data of the messages on /tls/demo, as text. */
static void
on_message (BayeuxClient  *client,
            BayeuxMessage *message,
            Fixture       *f)
{
  g_ptr_array_add (f->received, json_to_string (bayeux_message_get_data (message), FALSE));
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  const ServerCert *which = data;
  g_autofree char *cert = tls_file (which->cert);
  g_autofree char *key = tls_file (which->key);
  g_autoptr(GError) error = NULL;

  f->x = g_new0 (FixtureExtra, 1);
  f->x->certificate = g_tls_certificate_new_from_files (cert, key, &error);
  g_assert_no_error (error);
  client_fixture_init (f, test_server_new_tls (f->x->certificate));
  g_assert_true (g_str_has_prefix (test_server_get_url (f->server), "https://127.0.0.1:"));
}

/* Creates the client: with @session, or its own default one. */
static void
fixture_client (Fixture     *f,
                SoupSession *session)
{
  if (session != NULL)
    f->client = bayeux_client_new_with_session (test_server_get_url (f->server), session);
  else
    f->client = bayeux_client_new (test_server_get_url (f->server));
  /* A small backoff: a client that retried without waiting would make
   * dozens of attempts a second.  A generous network delay: a request that
   * opens a connection waits for a TLS handshake, which takes half a second
   * under ASan and more under Valgrind. */
  g_object_set (f->client, "max-network-delay", 10000, "backoff-increment", 50, "max-backoff", 200, NULL);
  client_fixture_watch (f);
  g_signal_connect (f->client, "message::/tls/demo", G_CALLBACK (on_message), f);
}

/* Runs the main loop for a while (longer under Valgrind). */
static void
drain_main_loop (void)
{
  test_wait_ms (test_under_valgrind () ? 2000 : 200);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->client != NULL)
    bayeux_client_stop (f->client);
  client_fixture_release (f);
  /* The server is in this process: soup_server_disconnect() closes its
   * connections synchronously, and closing one whose TLS handshake waits
   * for the client would block for good if the client's side of it were
   * still open (its cancelled operations finish in this main loop). */
  drain_main_loop ();
  client_fixture_teardown (f, data);
  g_object_unref (f->x->certificate);
  g_free (f->x);
}

static gboolean
ever_connected (Fixture *f)
{
  for (guint i = 0; i < f->states->len; i++)
    if (g_array_index (f->states, BayeuxClientState, i) == BAYEUX_CLIENT_STATE_CONNECTED)
      return TRUE;
  return FALSE;
}

static gboolean
all_errors_are_tls (Fixture *f)
{
  for (guint i = 0; i < f->errors->len; i++)
    {
      GError *error = g_ptr_array_index (f->errors, i);
      if (error->domain != G_TLS_ERROR)
        {
          g_test_message ("not a TLS error: %s", error->message);
          return FALSE;
        }
    }
  return TRUE;
}

/* The client is started against a server it must not trust: it reports
 * a clear TLS error, never connects, never sends a Bayeux message, and
 * retries at the pace of its backoff, not in a loop. */
static void
assert_refused (Fixture *f)
{
  GError *first;
  guint errors_before, errors_after;

  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_has_error, f, 5000));

  first = g_ptr_array_index (f->errors, 0);
  g_assert_error (first, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (first->message);
  g_test_message ("refused with: %s", first->message);
  g_assert_nonnull (strstr (first->message, "certificate"));

  /* One second of retries: each attempt is refused again (one error each),
   * and the backoff (50 ms more per failure, 200 ms at most) bounds them. */
  errors_before = f->errors->len;
  test_wait_ms (1000);
  errors_after = f->errors->len;
  g_test_message ("%u failed attempts in 1 s", errors_after - errors_before);
  g_assert_cmpuint (errors_after - errors_before, <=, 20);

  g_assert_true (all_errors_are_tls (f));
  g_assert_false (ever_connected (f));
  g_assert_cmpint (bayeux_client_get_state (f->client), !=, BAYEUX_CLIENT_STATE_CONNECTED);
  g_assert_null (bayeux_client_get_client_id (f->client));
  /* Not one HTTP request got through the refused TLS handshake. */
  g_assert_cmpuint (test_server_requests (f->server), ==, 0);
}

/* A subscription, then a message published to it comes back. */
static void
assert_round_trip (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) data = json_from_string ("{\"text\":\"over TLS\"}", NULL);
  g_autoptr(BayeuxMessage) reply = NULL;

  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_nonnull (bayeux_client_get_client_id (f->client));

  fixture_subscribe (f, "/tls/demo");

  reply = fixture_publish (f, "/tls/demo", data, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_true (bayeux_message_get_successful (reply));

  g_assert_true (test_wait_until (fixture_has_received, f, 5000));
  g_assert_cmpstr (g_ptr_array_index (f->received, 0), ==, "{\"text\":\"over TLS\"}");
  g_assert_cmpuint (test_server_count (f->server, "/tls/demo"), ==, 1);
  g_assert_cmpuint (f->errors->len, ==, 0);
}

/* ------------------------------------------------------------------------ */

static void
test_default_refuses (Fixture       *f,
                      gconstpointer  data)
{
  fixture_client (f, NULL);
  assert_refused (f);
}

static void
test_tls_database (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *ca = tls_file ("ca.pem");
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsDatabase) database = g_tls_file_database_new (ca, &error);
  g_autoptr(SoupSession) session = NULL;

  g_assert_no_error (error);
  session = soup_session_new ();
  soup_session_set_tls_database (session, database);
  fixture_client (f, session);
  g_assert_true (bayeux_client_get_session (f->client) == session);
  assert_round_trip (f);
}

/* Counts an accept-certificate emission and keeps what it offered. */
static void
record_offer (Fixture              *f,
              GTlsCertificate      *certificate,
              GTlsCertificateFlags  errors)
{
  f->x->accept_calls++;
  f->x->accept_flags = errors;
  f->x->accept_same = g_tls_certificate_is_same (certificate, f->x->certificate);
}

static gboolean
accept_expected (BayeuxClient         *client,
                 GTlsCertificate      *certificate,
                 GTlsCertificateFlags  errors,
                 Fixture              *f)
{
  record_offer (f, certificate, errors);
  return f->x->accept_same;   /* pinned: that certificate and no other */
}

static gboolean
refuse_all (BayeuxClient         *client,
            GTlsCertificate      *certificate,
            GTlsCertificateFlags  errors,
            Fixture              *f)
{
  record_offer (f, certificate, errors);
  return FALSE;
}

static void
test_accept_certificate (Fixture       *f,
                         gconstpointer  data)
{
  fixture_client (f, NULL);
  g_signal_connect (f->client, "accept-certificate", G_CALLBACK (accept_expected), f);
  assert_round_trip (f);

  g_assert_cmpuint (f->x->accept_calls, >=, 1);
  g_assert_true (f->x->accept_same);
  g_assert_true (f->x->accept_flags & G_TLS_CERTIFICATE_UNKNOWN_CA);
}

static void
test_accept_certificate_refused (Fixture       *f,
                                 gconstpointer  data)
{
  guint calls;

  fixture_client (f, NULL);
  g_signal_connect (f->client, "accept-certificate", G_CALLBACK (refuse_all), f);
  assert_refused (f);

  /* The handler was asked, about the server's certificate, once for each
   * attempt. */
  g_assert_cmpuint (f->x->accept_calls, >=, 1);
  g_assert_true (f->x->accept_same);
  g_assert_true (f->x->accept_flags & G_TLS_CERTIFICATE_UNKNOWN_CA);
  calls = f->x->accept_calls;
  g_assert_cmpuint (calls, <=, f->errors->len + 2);
}

/* ------------------------------------------------------------------------ */

static void
test_no_tls_backend (void)
{
  g_test_fail_printf ("GIO has no TLS backend (%s): install glib-networking (Debian: apt-get install "
                      "glib-networking) to run the TLS tests",
                      G_OBJECT_TYPE_NAME (g_tls_backend_get_default ()));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_add_func ("/bayeux/tls/backend", test_no_tls_backend);
      return g_test_run ();
    }

#define ADD(path, cert, fn) g_test_add ("/bayeux/tls/" path, Fixture, &cert, fixture_setup, fn, fixture_teardown)
  ADD ("default/self-signed", self_signed, test_default_refuses);
  ADD ("default/private-ca", ca_signed, test_default_refuses);
  ADD ("tls-database", ca_signed, test_tls_database);
  ADD ("accept-certificate/accepted", self_signed, test_accept_certificate);
  ADD ("accept-certificate/refused", self_signed, test_accept_certificate_refused);
#undef ADD

  return g_test_run ();
}
