/* smoke.c: a program built against the INSTALLED bayeux-glib, through its
 * pkg-config file only (see check-install.sh).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <bayeux-glib/bayeux-glib.h>
#include <stdio.h>

int
main (void)
{
  g_autoptr(BayeuxClient) client = bayeux_client_new ("http://127.0.0.1:9/cometd");
  g_autoptr(GError) error = NULL;

  if (!BAYEUX_CHECK_VERSION (BAYEUX_MAJOR_VERSION, BAYEUX_MINOR_VERSION, 0))
    return 1;
  if (bayeux_client_get_state (client) != BAYEUX_CLIENT_STATE_DISCONNECTED)
    return 1;
  if (bayeux_channel_validate ("/a/*/b", BAYEUX_CHANNEL_ALLOW_WILDCARD, &error) ||
      !g_error_matches (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL))
    return 1;
  printf ("installed bayeux-glib %s works\n", BAYEUX_VERSION_S);
  return 0;
}
