/* bayeux-websocket-private.h: the WebSocket transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define BAYEUX_TYPE_WEBSOCKET (bayeux_websocket_get_type ())

G_DECLARE_FINAL_TYPE (BayeuxWebSocket, bayeux_websocket, BAYEUX, WEBSOCKET, GObject)

BayeuxWebSocket *bayeux_websocket_new         (SoupSession         *session,
                                               GUri                *uri,
                                               SoupMessageHeaders  *headers);
void             bayeux_websocket_set_uri     (BayeuxWebSocket     *self,
                                               GUri                *uri);
void             bayeux_websocket_open_async  (BayeuxWebSocket     *self,
                                               gsize                max_message_size,
                                               gsize                max_frame_size,
                                               guint                timeout_ms,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean         bayeux_websocket_open_finish (BayeuxWebSocket     *self,
                                               GAsyncResult        *result,
                                               GError             **error);
gboolean         bayeux_websocket_send        (BayeuxWebSocket     *self,
                                               GBytes              *body,
                                               GError             **error);
void             bayeux_websocket_close       (BayeuxWebSocket     *self);
gboolean         bayeux_websocket_is_open     (BayeuxWebSocket     *self);

G_END_DECLS
