/* test-debug.c: BAYEUX_DEBUG=wire,http dumps, with secrets redacted
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-utils.h"

#include <string.h>

static GPtrArray *logged;

static GLogWriterOutput
capture_writer (GLogLevelFlags   level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }
  if (g_strcmp0 (domain, "Bayeux") == 0 && message != NULL)
    g_ptr_array_add (logged, g_strdup (message));
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR))
    return g_log_writer_default (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

static gboolean
is_connected (gpointer data)
{
  return bayeux_client_get_state (data) == BAYEUX_CLIENT_STATE_CONNECTED;
}

static gboolean
logged_containing (const char *needle)
{
  for (guint i = 0; i < logged->len; i++)
    if (strstr (g_ptr_array_index (logged, i), needle) != NULL)
      return TRUE;
  return FALSE;
}

static void
add_authorization (SoupSession *session, SoupMessage *msg, gpointer data)
{
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", "Bearer secret-bearer-77");
}

static void
test_wire (void)
{
  TestServer *server = test_server_new ();
  g_autoptr(BayeuxClient) client = NULL;
  g_autoptr(JsonNode) ext = json_from_string ("{\"auth\": {\"token\": \"s3cret-token\"}}", NULL);

  test_server_set_cookie (server, "BAYEUX_BROWSER=cookie-value-42; Path=/");
  client = bayeux_client_new (test_server_get_url (server));
  bayeux_client_set_handshake_ext (client, ext);
  g_signal_connect (bayeux_client_get_session (client), "request-queued", G_CALLBACK (add_authorization), NULL);
  bayeux_client_start (client);
  g_assert_true (test_wait_until (is_connected, client, 5000));

  g_assert_true (logged_containing (">>> [{\"channel\":\"/meta/handshake\""));
  g_assert_true (logged_containing ("<<< [{\"channel\":\"/meta/handshake\""));
  g_assert_true (logged_containing ("\"/meta/connect\""));
  /* ext keys are shown, their values never */
  g_assert_true (logged_containing ("\"ext\":{\"auth\":\"[redacted]\"}"));
  g_assert_false (logged_containing ("s3cret-token"));
  /* http: headers are logged, the cookie's value is not */
  g_assert_true (logged_containing ("POST /cometd HTTP/1.1"));
  g_assert_true (logged_containing ("Cookie: [redacted]"));
  g_assert_false (logged_containing ("cookie-value-42"));
  g_assert_true (logged_containing ("Authorization: [redacted]"));
  g_assert_false (logged_containing ("secret-bearer-77"));

  /* the ext sent is still the real one */
  g_assert_cmpstr (json_object_get_string_member (
                     json_object_get_object_member (
                       json_object_get_object_member (test_server_last (server, "/meta/handshake"), "ext"), "auth"),
                     "token"), ==, "s3cret-token");

  g_clear_object (&client);
  test_wait_ms (10);
  test_server_free (server);
}

int
main (int argc, char **argv)
{
  /* Read once, at the first use of the library. */
  g_setenv ("BAYEUX_DEBUG", "wire,http", TRUE);
  g_test_init (&argc, &argv, NULL);
  logged = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);

  g_test_add_func ("/bayeux/debug/wire-and-http", test_wire);

  {
    int ret = g_test_run ();
    g_ptr_array_unref (logged);
    return ret;
  }
}
