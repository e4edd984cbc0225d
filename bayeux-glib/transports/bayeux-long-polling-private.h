/* bayeux-long-polling-private.h: the HTTP long-polling transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A BayeuxTransport (bayeux-transport-private.h): the client makes it by
 * name and uses it only through that interface.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define BAYEUX_TYPE_LONG_POLLING (bayeux_long_polling_get_type ())

G_DECLARE_FINAL_TYPE (BayeuxLongPolling, bayeux_long_polling, BAYEUX, LONG_POLLING, GObject)

BayeuxLongPolling *bayeux_long_polling_new (SoupSession        *session,
                                            GUri               *uri,
                                            SoupMessageHeaders *headers);

G_END_DECLS
