/* bayeux-network-watch.c: whether the server can be reached
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see the top of bayeux-client.c): a plain struct
 * with a callback; it knows GIO, nothing of the client.
 *
 * It listens to a GNetworkMonitor and tells its owner, in the owner's main
 * context, whether the server is reachable. The default monitor speaks of
 * the network at large (a default route): a loopback server needs no
 * network, and a server on a LAN without a default route may still be
 * reachable, so the watch then asks about the server itself. A monitor
 * given by the application is obeyed as it is.
 */
#include "bayeux-network-watch-private.h"

struct _BayeuxNetworkWatch
{
  GWeakRef           owner;
  GMainContext      *context;
  GNetworkMonitor   *monitor;
  gboolean           is_default;
  gulong             handler;
  BayeuxNetworkFunc  func;      /* NULL once freed (async answers then do nothing) */
  GUri              *server;
  guint              serial;    /* of the latest can_reach question */
};

static BayeuxNetworkWatch *
watch_ref (BayeuxNetworkWatch *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
watch_clear (BayeuxNetworkWatch *self)
{
  g_weak_ref_clear (&self->owner);
  g_clear_pointer (&self->server, g_uri_unref);
  g_main_context_unref (self->context);
}

static void
watch_unref (BayeuxNetworkWatch *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) watch_clear);
}

static gboolean
host_is_loopback (GUri *uri)
{
  const char *host = g_uri_get_host (uri);
  g_autoptr(GInetAddress) address = host ? g_inet_address_new_from_string (host) : NULL;

  if (address != NULL)
    return g_inet_address_get_is_loopback (address);
  return host != NULL && (g_ascii_strcasecmp (host, "localhost") == 0 || g_str_has_suffix (host, ".localhost"));
}

static void
tell (BayeuxNetworkWatch *self,
      gboolean            available,
      gboolean            changed)
{
  g_autoptr(GObject) owner = g_weak_ref_get (&self->owner);

  if (owner != NULL && self->func != NULL)
    self->func (owner, available, changed);
}

typedef struct
{
  BayeuxNetworkWatch *watch;
  guint               serial;
  gboolean            changed;
} ReachCheck;

static void
on_can_reach (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  ReachCheck *check = user_data;
  gboolean reachable = g_network_monitor_can_reach_finish (G_NETWORK_MONITOR (source), result, NULL);

  /* Only the answer to the latest question counts: the network may have
   * come back while this one was asked. */
  if (check->serial == check->watch->serial)
    tell (check->watch, reachable, check->changed);
  watch_unref (check->watch);
  g_free (check);
}

static void
check_now (BayeuxNetworkWatch *self,
           gboolean            changed)
{
  gboolean available = g_network_monitor_get_network_available (self->monitor);

  /* The machine's network changing is nothing to a loopback server. */
  if (self->is_default && host_is_loopback (self->server))
    changed = FALSE;
  self->serial++;
  if (!available && self->is_default && host_is_loopback (self->server))
    available = TRUE;
  else if (!available && self->is_default)
    {
      ReachCheck *check = g_new0 (ReachCheck, 1);
      int port = g_uri_get_port (self->server);
      g_autoptr(GSocketConnectable) address = NULL;

      if (port <= 0)
        port = g_strcmp0 (g_uri_get_scheme (self->server), "https") == 0 ? 443 : 80;
      address = g_network_address_new (g_uri_get_host (self->server), (guint16) port);
      check->watch = watch_ref (self);
      check->serial = self->serial;
      check->changed = changed;
      g_main_context_push_thread_default (self->context);
      g_network_monitor_can_reach_async (self->monitor, address, NULL, on_can_reach, check);
      g_main_context_pop_thread_default (self->context);
      return;
    }

  tell (self, available, changed);
}

/**
 * bayeux_network_watch_check:
 * @self: a watch
 *
 * Asks the monitor now (in the watch's context) and tells the owner, at
 * once or, when the server itself must be asked about, later.
 */
void
bayeux_network_watch_check (BayeuxNetworkWatch *self)
{
  check_now (self, FALSE);
}

static gboolean
check_cb (gpointer user_data)
{
  BayeuxNetworkWatch *self = user_data;

  if (self->func != NULL)
    check_now (self, TRUE);
  return G_SOURCE_REMOVE;
}

static void
on_network_changed (GNetworkMonitor *monitor,
                    gboolean         available,
                    gpointer         user_data)
{
  BayeuxNetworkWatch *self = user_data;

  /* The default monitor emits in the context of whoever first asked for
   * it, maybe another thread than the owner's: go there. */
  if (g_main_context_is_owner (self->context))
    {
      check_now (self, TRUE);
      return;
    }
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, check_cb, watch_ref (self),
                              (GDestroyNotify) watch_unref);
}

/**
 * bayeux_network_watch_new:
 * @owner: the object @func is called for (weakly referenced)
 * @context: the owner's context, where @func is called
 * @monitor: (nullable): the monitor to obey; %NULL: the default one
 * @func: told whether the server can be reached
 *
 * Returns: (transfer full): a watch; call bayeux_network_watch_set_server()
 *   before bayeux_network_watch_check()
 */
BayeuxNetworkWatch *
bayeux_network_watch_new (GObject           *owner,
                          GMainContext      *context,
                          GNetworkMonitor   *monitor,
                          BayeuxNetworkFunc  func)
{
  BayeuxNetworkWatch *self = g_atomic_rc_box_new0 (BayeuxNetworkWatch);

  g_weak_ref_init (&self->owner, owner);
  self->context = g_main_context_ref (context);
  self->is_default = monitor == NULL;
  self->monitor = g_object_ref (monitor ? monitor : g_network_monitor_get_default ());
  self->func = func;
  self->handler = g_signal_connect (self->monitor, "network-changed", G_CALLBACK (on_network_changed), self);
  return self;
}

/* The server the next checks ask about. */
void
bayeux_network_watch_set_server (BayeuxNetworkWatch *self,
                                 GUri               *server)
{
  g_uri_ref (server);
  g_clear_pointer (&self->server, g_uri_unref);
  self->server = server;
}

/* Stops listening; an answer still to come is dropped. */
void
bayeux_network_watch_free (BayeuxNetworkWatch *self)
{
  g_clear_signal_handler (&self->handler, self->monitor);
  g_clear_object (&self->monitor);
  self->func = NULL;
  watch_unref (self);
}
