/* bayeux-transport-factory.c: transports by name
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The only file that names the concrete transports (the client asks for
 * them by their Bayeux connection type). Apart from bayeux-transport.c so
 * that the interface and the transports that implement it do not depend
 * on each other both ways.
 */
#include "bayeux-transport-private.h"
#include "bayeux-long-polling-private.h"
#include "bayeux-websocket-private.h"

/* Whether @name is a transport of ours. */
gboolean
bayeux_transport_name_known (const char *name)
{
  return g_strcmp0 (name, "long-polling") == 0 || g_strcmp0 (name, "websocket") == 0;
}

/**
 * bayeux_transport_new:
 * @name: `long-polling` or `websocket` (the Bayeux connection types)
 * @session: the session to send with
 * @uri: the server's http(s) URL
 * @headers: (nullable): the application's headers, added to each request
 *   as they are when it is sent (shared: the caller may change them)
 *
 * Returns: (transfer full) (nullable): a transport, or %NULL for an
 *   unknown @name
 */
BayeuxTransport *
bayeux_transport_new (const char         *name,
                      SoupSession        *session,
                      GUri               *uri,
                      SoupMessageHeaders *headers)
{
  if (g_strcmp0 (name, "long-polling") == 0)
    return BAYEUX_TRANSPORT (bayeux_long_polling_new (session, uri, headers));
  if (g_strcmp0 (name, "websocket") == 0)
    return BAYEUX_TRANSPORT (bayeux_websocket_new (session, uri, headers));
  return NULL;
}
