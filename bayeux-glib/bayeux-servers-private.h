/* bayeux-servers-private.h: the server's URL and its fallbacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _BayeuxServers BayeuxServers;

/* At most this many `hosts` of an advice are taken. */
#define BAYEUX_SERVERS_MAX_ADVISED 8

BayeuxServers *bayeux_servers_new           (const char         *url);
void           bayeux_servers_free          (BayeuxServers      *self);
gboolean       bayeux_servers_set_fallbacks (BayeuxServers      *self,
                                             const char * const *urls);
const char * const *bayeux_servers_get_fallback_urls (BayeuxServers      *self);
GUri       *bayeux_servers_get_uri    (BayeuxServers *self);
const char *bayeux_servers_get_url    (BayeuxServers *self);
gboolean    bayeux_servers_select     (BayeuxServers *self,
                                       guint          index);
guint       bayeux_servers_count      (BayeuxServers *self);
guint       bayeux_servers_next_index (BayeuxServers *self);
gboolean    bayeux_servers_failed     (BayeuxServers *self,
                                       guint          count);
void        bayeux_servers_succeeded  (BayeuxServers *self);
gboolean    bayeux_servers_set_advised    (BayeuxServers  *self,
                                           JsonArray      *hosts,
                                           GError        **error);
gboolean    bayeux_servers_forget_advised (BayeuxServers  *self);
guint       bayeux_servers_advised_count  (BayeuxServers  *self);

G_END_DECLS
