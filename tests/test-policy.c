/* test-policy.c: the transport policy, on its own, with a clock of the
 * test's: when a WebSocket counts as working, when it is given up for long
 * polling, when it is tried again, and when a lost socket stops counting
 * against the backoff (issue 11, points 1 and 2)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <bayeux-glib/bayeux-glib.h>
#include "transports/bayeux-transport-policy-private.h"

#include <libsoup/soup.h>
#include <string.h>

#define SECOND ((gint64) G_USEC_PER_SEC)

static gint64 clock_now = 1000 * SECOND;

static gint64
test_clock (void)
{
  return clock_now;
}

/* Starts a session with a handshake reply offering @types (JSON). */
static void
start (BayeuxTransportPolicy *policy,
       const char            *types)
{
  g_autofree char *text = g_strdup_printf ("{\"channel\":\"/meta/handshake\",\"successful\":true,"
                                           "\"clientId\":\"c1\",\"supportedConnectionTypes\":%s}", types);
  g_autoptr(JsonNode) node = json_from_string (text, NULL);
  g_autoptr(BayeuxMessage) reply = bayeux_message_new_from_json (node, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (bayeux_transport_policy_start_session (policy, reply, &error));
  g_assert_no_error (error);
}

static BayeuxTransportPolicy *
new_session (void)
{
  BayeuxTransportPolicy *policy = bayeux_transport_policy_new ();

  bayeux_transport_policy_set_clock (policy, test_clock);
  start (policy, "[\"websocket\",\"long-polling\"]");
  g_assert_true (bayeux_transport_policy_want_websocket (policy));
  return policy;
}

/* Loses one socket that closed before any connect over it worked. */
static gboolean
lose (BayeuxTransportPolicy *policy,
      GError               **fallback)
{
  g_autoptr(GError) closed = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "closed (1011)");

  return bayeux_transport_policy_lost (policy, closed, fallback);
}

/* Three sockets that never carried a successful connect: given up, said
 * once; tried again after 60 s, then 120 s, 240 s … after give-ups in a
 * row, one socket each time; a WebSocket that works starts over. */
static void
test_give_up_and_retry (void)
{
  BayeuxTransportPolicy *policy = new_session ();
  g_autoptr(GError) fallback = NULL;
  gint64 expect[] = { 60, 120, 240, 480, 960, 1920, 3600, 3600 };

  g_assert_false (lose (policy, &fallback));
  g_assert_false (lose (policy, &fallback));
  g_assert_null (fallback);
  g_assert_true (lose (policy, &fallback));
  g_assert_error (fallback, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_nonnull (strstr (fallback->message, "again in 60 s"));
  g_assert_false (bayeux_transport_policy_want_websocket (policy));

  for (gsize i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      g_autoptr(GError) again = NULL;
      g_autofree char *text = g_strdup_printf ("again in %" G_GINT64_FORMAT " s", i + 1 < G_N_ELEMENTS (expect) ? expect[i + 1] : 3600);

      clock_now += expect[i] * SECOND - 1;
      g_assert_false (bayeux_transport_policy_want_websocket (policy));
      clock_now += 1;
      g_assert_true (bayeux_transport_policy_want_websocket (policy));
      /* One socket on a later try: given up again at once, for longer. */
      g_assert_true (lose (policy, &again));
      g_assert_nonnull (strstr (again->message, text));
    }

  /* It works again: a socket lost after it worked is not a give-up... */
  clock_now += 3600 * SECOND;
  g_assert_true (bayeux_transport_policy_want_websocket (policy));
  bayeux_transport_policy_opened (policy);
  bayeux_transport_policy_connected (policy, TRUE, TRUE);
  g_clear_error (&fallback);
  g_assert_false (lose (policy, &fallback));
  /* ...but the sockets after it must work on their own: three that do not
   * (a backend behind a balancer without WebSockets, say) are a give-up,
   * for 60 s again. */
  for (guint i = 0; i < 2; i++)
    {
      bayeux_transport_policy_opened (policy);
      g_assert_false (lose (policy, &fallback));
    }
  bayeux_transport_policy_opened (policy);
  g_assert_true (lose (policy, &fallback));
  g_assert_nonnull (strstr (fallback->message, "again in 60 s"));
  bayeux_transport_policy_free (policy);
}

/* A loss counts against the backoff until a connect is held over a new
 * socket; a connect answered at once does not settle it. */
static void
test_settled (void)
{
  BayeuxTransportPolicy *policy = new_session ();
  g_autoptr(GError) fallback = NULL;

  g_assert_true (bayeux_transport_policy_settled (policy));
  bayeux_transport_policy_connected (policy, TRUE, TRUE);
  g_assert_false (lose (policy, &fallback));
  g_assert_false (bayeux_transport_policy_settled (policy));
  bayeux_transport_policy_connected (policy, TRUE, FALSE);   /* answered at once */
  g_assert_false (bayeux_transport_policy_settled (policy));
  bayeux_transport_policy_connected (policy, TRUE, TRUE);    /* held */
  g_assert_true (bayeux_transport_policy_settled (policy));
  /* A long poll held after a fallback settles it too. */
  g_assert_false (lose (policy, &fallback));
  bayeux_transport_policy_connected (policy, FALSE, TRUE);
  g_assert_true (bayeux_transport_policy_settled (policy));
  bayeux_transport_policy_free (policy);
}

/* A refused upgrade gives the WebSocket up at once, silently (the caller
 * logs it); one that worked and then cannot be reopened is a server away,
 * unless the upgrade itself is refused. */
static void
test_open_failed (void)
{
  BayeuxTransportPolicy *policy = new_session ();
  g_autoptr(GError) refused = g_error_new_literal (SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET, "no");
  g_autoptr(GError) unreachable = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "refused");
  guint retry_in_s = 0;

  g_assert_true (bayeux_transport_policy_open_failed (policy, unreachable, &retry_in_s));
  g_assert_cmpuint (retry_in_s, ==, 60);
  g_assert_false (bayeux_transport_policy_want_websocket (policy));
  bayeux_transport_policy_free (policy);

  policy = new_session ();
  bayeux_transport_policy_connected (policy, TRUE, TRUE);
  g_assert_false (bayeux_transport_policy_open_failed (policy, unreachable, &retry_in_s));
  g_assert_true (bayeux_transport_policy_want_websocket (policy));
  g_assert_true (bayeux_transport_policy_open_failed (policy, refused, &retry_in_s));
  g_assert_false (bayeux_transport_policy_want_websocket (policy));
  bayeux_transport_policy_free (policy);
}

/* A handshake reply without a client id, or offering none of the allowed
 * transports, starts no session. */
static void
test_start_session_refused (void)
{
  static const char * const replies[] = {
    "{\"channel\":\"/meta/handshake\",\"successful\":true,\"supportedConnectionTypes\":[\"long-polling\"]}",
    "{\"channel\":\"/meta/handshake\",\"successful\":true,\"clientId\":\"\",\"supportedConnectionTypes\":[\"long-polling\"]}",
    "{\"channel\":\"/meta/handshake\",\"successful\":true,\"clientId\":\"c\",\"supportedConnectionTypes\":[\"callback-polling\"]}",
    "{\"channel\":\"/meta/handshake\",\"successful\":true,\"clientId\":\"c\",\"supportedConnectionTypes\":\"long-polling\"}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (replies); i++)
    {
      BayeuxTransportPolicy *policy = bayeux_transport_policy_new ();
      g_autoptr(JsonNode) node = json_from_string (replies[i], NULL);
      g_autoptr(BayeuxMessage) reply = bayeux_message_new_from_json (node, NULL);
      g_autoptr(GError) error = NULL;

      g_assert_false (bayeux_transport_policy_start_session (policy, reply, &error));
      g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
      bayeux_transport_policy_free (policy);
    }
}

/* Where the handshake goes (issue 13): over a WebSocket when it comes
 * first; by HTTP for good after an upgrade refused before it (until the
 * allowed transports change) or a reply over a socket that does not offer
 * it; an unreachable server counts as sockets that did not work (three:
 * given up, by HTTP meanwhile) unless a handshake over a socket worked; a
 * new socket that does not know a session handshaken by HTTP makes the
 * handshakes go over sockets, whatever the order. */
static void
test_handshake (void)
{
  BayeuxTransportPolicy *policy = bayeux_transport_policy_new ();
  g_autoptr(GError) refused = g_error_new_literal (SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET, "404");
  g_autoptr(GError) unreachable = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "refused");
  const char *lp_first[] = { "long-polling", "websocket", NULL };
  const char *ws_first[] = { "websocket", "long-polling", NULL };

  bayeux_transport_policy_set_clock (policy, test_clock);
  g_assert_true (bayeux_transport_policy_handshake_websocket (policy));
  g_assert_false (bayeux_transport_policy_handshake_sent (policy, FALSE));   /* no socket: by HTTP */
  g_assert_true (bayeux_transport_policy_handshake_sent (policy, TRUE));
  g_assert_true (bayeux_transport_policy_handshake_open_failed (policy, refused));
  g_assert_false (bayeux_transport_policy_handshake_websocket (policy));
  g_assert_false (bayeux_transport_policy_handshake_sent (policy, TRUE));
  bayeux_transport_policy_set_allowed (policy, g_strdupv ((GStrv) lp_first));
  g_assert_false (bayeux_transport_policy_handshake_websocket (policy));
  bayeux_transport_policy_set_allowed (policy, g_strdupv ((GStrv) ws_first));
  g_assert_true (bayeux_transport_policy_handshake_websocket (policy));

  /* Unreachable: failed handshakes; the third gives the WebSocket up. */
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (bayeux_transport_policy_handshake_websocket (policy));
      g_assert_false (bayeux_transport_policy_handshake_open_failed (policy, unreachable));
    }
  g_assert_false (bayeux_transport_policy_handshake_websocket (policy));
  clock_now += 60 * SECOND;
  g_assert_true (bayeux_transport_policy_handshake_websocket (policy));

  /* Over a socket, but the reply does not offer it: by HTTP from now on. */
  g_assert_true (bayeux_transport_policy_handshake_sent (policy, TRUE));
  start (policy, "[\"long-polling\"]");
  g_assert_false (bayeux_transport_policy_want_websocket (policy));
  g_assert_false (bayeux_transport_policy_handshake_websocket (policy));
  bayeux_transport_policy_free (policy);

  /* Once one over a socket worked, an unreachable server is only that. */
  policy = bayeux_transport_policy_new ();
  bayeux_transport_policy_set_clock (policy, test_clock);
  g_assert_true (bayeux_transport_policy_handshake_sent (policy, TRUE));
  start (policy, "[\"websocket\",\"long-polling\"]");
  for (guint i = 0; i < 5; i++)
    g_assert_false (bayeux_transport_policy_handshake_open_failed (policy, unreachable));
  g_assert_true (bayeux_transport_policy_handshake_websocket (policy));
  bayeux_transport_policy_free (policy);

  /* Long polling first: by HTTP; a new socket that never carried a
   * successful connect when a new handshake is due: over the socket. Not
   * after a connect over it worked. */
  policy = bayeux_transport_policy_new ();
  bayeux_transport_policy_set_allowed (policy, g_strdupv ((GStrv) lp_first));
  g_assert_false (bayeux_transport_policy_handshake_sent (policy, FALSE));
  start (policy, "[\"websocket\",\"long-polling\"]");
  bayeux_transport_policy_opened (policy);
  bayeux_transport_policy_connected (policy, TRUE, TRUE);
  bayeux_transport_policy_rehandshake (policy, TRUE);
  g_assert_false (bayeux_transport_policy_handshake_websocket (policy));
  bayeux_transport_policy_opened (policy);
  bayeux_transport_policy_rehandshake (policy, FALSE);
  g_assert_false (bayeux_transport_policy_handshake_websocket (policy));
  bayeux_transport_policy_rehandshake (policy, TRUE);
  g_assert_true (bayeux_transport_policy_handshake_websocket (policy));
  g_assert_true (bayeux_transport_policy_handshake_sent (policy, TRUE));
  bayeux_transport_policy_free (policy);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bayeux/policy/give-up-and-retry", test_give_up_and_retry);
  g_test_add_func ("/bayeux/policy/settled", test_settled);
  g_test_add_func ("/bayeux/policy/open-failed", test_open_failed);
  g_test_add_func ("/bayeux/policy/start-session-refused", test_start_session_refused);
  g_test_add_func ("/bayeux/policy/handshake", test_handshake);
  return g_test_run ();
}
