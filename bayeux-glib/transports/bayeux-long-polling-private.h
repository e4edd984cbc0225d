/* bayeux-long-polling-private.h: the HTTP long-polling transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define BAYEUX_TYPE_LONG_POLLING (bayeux_long_polling_get_type ())

G_DECLARE_FINAL_TYPE (BayeuxLongPolling, bayeux_long_polling, BAYEUX, LONG_POLLING, GObject)

BayeuxLongPolling *bayeux_long_polling_new         (SoupSession        *session,
                                                    GUri               *uri,
                                                    SoupMessageHeaders *headers);
void               bayeux_long_polling_set_uri     (BayeuxLongPolling  *self,
                                                    GUri               *uri);
void               bayeux_long_polling_send_async  (BayeuxLongPolling  *self,
                                                    GBytes             *body,
                                                    gsize               max_response_size,
                                                    guint               timeout_ms,
                                                    GCancellable       *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer            user_data);
JsonArray         *bayeux_long_polling_send_finish (BayeuxLongPolling  *self,
                                                    GAsyncResult       *result,
                                                    GError            **error);

G_END_DECLS
