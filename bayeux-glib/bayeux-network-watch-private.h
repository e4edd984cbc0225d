/* bayeux-network-watch-private.h: whether the server can be reached
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _BayeuxNetworkWatch BayeuxNetworkWatch;

/* Called, in the watch's context, with what the network says of the
 * server: each time the monitor speaks (maybe to say the same again). */
/* Whether the server can be reached; @changed: told because the network
 * changed (the monitor said so), not because the owner asked. */
typedef void (*BayeuxNetworkFunc) (GObject  *owner,
                                   gboolean  available,
                                   gboolean  changed);

BayeuxNetworkWatch *bayeux_network_watch_new        (GObject            *owner,
                                                     GMainContext       *context,
                                                     GNetworkMonitor    *monitor,
                                                     BayeuxNetworkFunc   func);
void                bayeux_network_watch_free       (BayeuxNetworkWatch *self);
void                bayeux_network_watch_set_server (BayeuxNetworkWatch *self,
                                                     GUri               *server);
void                bayeux_network_watch_check      (BayeuxNetworkWatch *self);

G_END_DECLS
