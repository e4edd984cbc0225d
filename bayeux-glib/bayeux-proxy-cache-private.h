/* bayeux-proxy-cache-private.h: the system's proxy answers, kept a few
 * seconds per server (see the .c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* How long an answer is kept (s). */
#define BAYEUX_PROXY_CACHE_TTL_S 10

#define BAYEUX_TYPE_PROXY_CACHE (bayeux_proxy_cache_get_type ())
G_DECLARE_FINAL_TYPE (BayeuxProxyCache, bayeux_proxy_cache, BAYEUX, PROXY_CACHE, GObject)

/* A cache in front of @inner, answers kept @ttl_ms. */
BayeuxProxyCache *bayeux_proxy_cache_new         (GProxyResolver   *inner,
                                                  guint             ttl_ms);
/* The process's, in front of g_proxy_resolver_get_default(). */
GProxyResolver   *bayeux_proxy_cache_get_default (void);
/* How many times @self asked its inner resolver (tests). */
guint             bayeux_proxy_cache_get_lookups (BayeuxProxyCache *self);

G_END_DECLS
