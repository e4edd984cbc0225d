/* bayeux-proxy-cache.c: the system's proxy answers, asked once per server
 * for a few seconds, shared by every client of the process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room: it calls nothing of the library (GIO alone).
 *
 * libsoup asks the session's GProxyResolver before each new connection.
 * The default one on GNOME (libproxy) answers from a worker thread after
 * reading the system's settings again, and a client that makes its own
 * session makes its own connections: a thousand clients started together
 * asked it two thousand times the same question. This resolver asks the
 * inner one once per scheme, host and port, keeps the answer for
 * BAYEUX_PROXY_CACHE_TTL_S seconds (a change of the system's settings is
 * seen that much later), for at most MAX_ENTRIES servers, and asks again
 * after a failed lookup. Lookups of a server made while one is under way
 * wait for its answer (a thousand clients started in one go ask once).
 */
#include "bayeux-proxy-cache-private.h"

#define MAX_ENTRIES 64

typedef struct
{
  char   **proxies;
  gint64   expiry;    /* monotonic µs */
} Entry;

/* The async lookups of one server waiting for the inner resolver. */
typedef struct
{
  char      *key;
  GPtrArray *tasks;   /* GTask*, the first one's lookup under way */
} Pending;

struct _BayeuxProxyCache
{
  GObject         parent_instance;
  GProxyResolver *inner;
  gint64          ttl_us;
  GMutex          lock;      /* clients of several threads share it */
  GHashTable     *entries;   /* "scheme://host:port" → Entry */
  GHashTable     *pending;   /* "scheme://host:port" → Pending */
  guint           lookups;   /* of the inner resolver, for tests */
};

static void bayeux_proxy_cache_iface_init (GProxyResolverInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BayeuxProxyCache, bayeux_proxy_cache, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_PROXY_RESOLVER, bayeux_proxy_cache_iface_init))

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_strfreev (entry->proxies);
  g_free (entry);
}

/* What the answer depends on: the scheme, host and port (the scheme's
 * default when none is given). NULL for a URI that does not parse (asked
 * each time). */
static char *
cache_key (const char *uri)
{
  g_autoptr(GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  const char *scheme;
  int port;

  if (parsed == NULL || g_uri_get_host (parsed) == NULL)
    return NULL;
  scheme = g_uri_get_scheme (parsed);
  port = g_uri_get_port (parsed);
  if (port < 0)
    port = g_ascii_strcasecmp (scheme, "https") == 0 || g_ascii_strcasecmp (scheme, "wss") == 0 ? 443 : 80;
  return g_strdup_printf ("%s://%s:%d", scheme, g_uri_get_host (parsed), port);
}

static void
pending_free (gpointer data)
{
  Pending *pending = data;

  g_free (pending->key);
  g_ptr_array_unref (pending->tasks);
  g_free (pending);
}

/* The cached answer (a copy), or NULL. */
static char **
cache_find (BayeuxProxyCache *self,
            const char       *key)
{
  char **proxies = NULL;
  Entry *entry;

  if (key == NULL)
    return NULL;
  g_mutex_lock (&self->lock);
  entry = g_hash_table_lookup (self->entries, key);
  if (entry != NULL && entry->expiry > g_get_monotonic_time ())
    proxies = g_strdupv (entry->proxies);
  g_mutex_unlock (&self->lock);
  return proxies;
}

static void
cache_store (BayeuxProxyCache  *self,
             const char        *key,
             char             **proxies)
{
  Entry *entry;

  if (key == NULL || proxies == NULL)
    return;
  entry = g_new (Entry, 1);
  entry->proxies = g_strdupv (proxies);
  entry->expiry = g_get_monotonic_time () + self->ttl_us;
  g_mutex_lock (&self->lock);
  if (g_hash_table_size (self->entries) >= MAX_ENTRIES && !g_hash_table_contains (self->entries, key))
    g_hash_table_remove_all (self->entries);
  g_hash_table_replace (self->entries, g_strdup (key), entry);
  g_mutex_unlock (&self->lock);
}

static gboolean
bayeux_proxy_cache_is_supported (GProxyResolver *resolver)
{
  BayeuxProxyCache *self = BAYEUX_PROXY_CACHE (resolver);
  GProxyResolverInterface *inner = G_PROXY_RESOLVER_GET_IFACE (self->inner);

  /* GSimpleProxyResolver has no is_supported (always supported). */
  return inner->is_supported == NULL || inner->is_supported (self->inner);
}

static char **
bayeux_proxy_cache_lookup (GProxyResolver  *resolver,
                           const char      *uri,
                           GCancellable    *cancellable,
                           GError         **error)
{
  BayeuxProxyCache *self = BAYEUX_PROXY_CACHE (resolver);
  g_autofree char *key = cache_key (uri);
  char **proxies = cache_find (self, key);

  if (proxies != NULL)
    return proxies;
  g_atomic_int_inc (&self->lookups);
  proxies = g_proxy_resolver_lookup (self->inner, uri, cancellable, error);
  cache_store (self, key, proxies);
  return proxies;
}

/* The inner resolver answered a server's lookup: every lookup that waited
 * for it gets the answer (or the error). */
static void
on_inner_lookup (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Pending *pending = user_data;
  BayeuxProxyCache *self = g_task_get_source_object (g_ptr_array_index (pending->tasks, 0));
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) proxies = g_proxy_resolver_lookup_finish (G_PROXY_RESOLVER (source), result, &error);

  g_object_ref (self);
  cache_store (self, pending->key, proxies);
  g_mutex_lock (&self->lock);
  g_hash_table_steal (self->pending, pending->key);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < pending->tasks->len; i++)
    {
      GTask *task = g_ptr_array_index (pending->tasks, i);

      if (proxies != NULL)
        g_task_return_pointer (task, g_strdupv (proxies), (GDestroyNotify) g_strfreev);
      else
        g_task_return_error (task, g_error_copy (error));
    }
  pending_free (pending);
  g_object_unref (self);
}

static void
bayeux_proxy_cache_lookup_async (GProxyResolver      *resolver,
                                 const char          *uri,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  BayeuxProxyCache *self = BAYEUX_PROXY_CACHE (resolver);
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *key = cache_key (uri);
  char **proxies = cache_find (self, key);
  Pending *pending;

  g_task_set_source_tag (task, bayeux_proxy_cache_lookup_async);
  g_task_set_name (task, "[bayeux] proxy lookup");
  if (proxies != NULL)
    {
      g_task_return_pointer (task, proxies, (GDestroyNotify) g_strfreev);
      g_object_unref (task);
      return;
    }
  if (key == NULL)
    {
      /* Not cacheable: asked alone. */
      pending = g_new0 (Pending, 1);
      pending->tasks = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (pending->tasks, task);
      g_atomic_int_inc (&self->lookups);
      g_proxy_resolver_lookup_async (self->inner, uri, NULL, on_inner_lookup, pending);
      return;
    }

  /* One lookup of a server at a time; the others wait for its answer. The
   * inner lookup is not cancelled with the first caller (the others still
   * want it): a cancelled caller gets its cancellation when it ends. */
  g_mutex_lock (&self->lock);
  pending = g_hash_table_lookup (self->pending, key);
  if (pending != NULL)
    {
      g_ptr_array_add (pending->tasks, task);
      g_mutex_unlock (&self->lock);
      return;
    }
  pending = g_new0 (Pending, 1);
  pending->key = g_strdup (key);
  pending->tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (pending->tasks, task);
  g_hash_table_insert (self->pending, pending->key, pending);
  g_mutex_unlock (&self->lock);
  g_atomic_int_inc (&self->lookups);
  g_proxy_resolver_lookup_async (self->inner, uri, NULL, on_inner_lookup, pending);
}

static char **
bayeux_proxy_cache_lookup_finish (GProxyResolver  *resolver,
                                  GAsyncResult    *result,
                                  GError         **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
bayeux_proxy_cache_iface_init (GProxyResolverInterface *iface)
{
  iface->is_supported = bayeux_proxy_cache_is_supported;
  iface->lookup = bayeux_proxy_cache_lookup;
  iface->lookup_async = bayeux_proxy_cache_lookup_async;
  iface->lookup_finish = bayeux_proxy_cache_lookup_finish;
}

static void
bayeux_proxy_cache_finalize (GObject *object)
{
  BayeuxProxyCache *self = BAYEUX_PROXY_CACHE (object);

  g_clear_object (&self->inner);
  g_hash_table_unref (self->entries);
  g_hash_table_unref (self->pending);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (bayeux_proxy_cache_parent_class)->finalize (object);
}

static void
bayeux_proxy_cache_class_init (BayeuxProxyCacheClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bayeux_proxy_cache_finalize;
}

static void
bayeux_proxy_cache_init (BayeuxProxyCache *self)
{
  g_mutex_init (&self->lock);
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  self->pending = g_hash_table_new (g_str_hash, g_str_equal);   /* owned by the lookups under way */
  self->ttl_us = BAYEUX_PROXY_CACHE_TTL_S * G_USEC_PER_SEC;
}

BayeuxProxyCache *
bayeux_proxy_cache_new (GProxyResolver *inner,
                        guint           ttl_ms)
{
  BayeuxProxyCache *self = g_object_new (BAYEUX_TYPE_PROXY_CACHE, NULL);

  self->inner = g_object_ref (inner);
  self->ttl_us = (gint64) ttl_ms * 1000;
  return self;
}

/* The process's cache in front of g_proxy_resolver_get_default() (transfer
 * none; it lives as long as the process). */
GProxyResolver *
bayeux_proxy_cache_get_default (void)
{
  static gsize once;
  static BayeuxProxyCache *shared;

  if (g_once_init_enter (&once))
    {
      shared = bayeux_proxy_cache_new (g_proxy_resolver_get_default (), BAYEUX_PROXY_CACHE_TTL_S * 1000);
      g_once_init_leave (&once, 1);
    }
  return G_PROXY_RESOLVER (shared);
}

guint
bayeux_proxy_cache_get_lookups (BayeuxProxyCache *self)
{
  return (guint) g_atomic_int_get (&self->lookups);
}
