/* bayeux-cookie-jar.c: the cookie jar of the client's own session, bounded
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see bayeux-glib/README.md): it knows libsoup,
 * nothing of the client.
 *
 * A server may set a new cookie on every answer; a SoupCookieJar keeps
 * them all, and every request carries them all in its Cookie header, which
 * grows until servers refuse it (Node's limit for all headers is 16 KiB,
 * Apache's for one header 8,190 bytes). The jar made here holds at most
 * BAYEUX_COOKIE_JAR_MAX_COOKIES cookies and BAYEUX_COOKIE_JAR_MAX_BYTES of
 * them: past either bound, the cookie set least recently (a cookie set
 * again counts as new) is deleted, until the jar is within both, the new
 * one too if it is larger than the bound on its own.
 *
 * A watcher on SoupCookieJar::changed keeps a copy of each cookie (the jar
 * deletes only a cookie equal to one it holds: name, value and path), in
 * the order they were set. It cannot delete from there: libsoup emits
 * ::changed with the jar's lock held. So the cookies over the bound are
 * deleted from an idle of high priority, in the client's main context
 * (the session's): it runs before the next request starts, which is when
 * the jar writes the Cookie header.
 *
 * Each deletion is logged at debug level with the cookie's name and
 * domain, never its value (cookies are credentials).
 */
#include "bayeux-cookie-jar-private.h"
#include "bayeux-context-private.h"

#include <string.h>

typedef struct
{
  SoupCookieJar *jar;       /* not owned: this lives as long as its ::changed handler */
  GMainContext  *context;   /* the client's */
  GQueue         cookies;   /* SoupCookie copies, the one set least recently first */
  gsize          bytes;
  GSource       *prune;     /* the idle that deletes the cookies over the bound */
} Bound;

static gsize
cookie_size (SoupCookie *cookie)
{
  /* "name=value; " */
  return strlen (soup_cookie_get_name (cookie)) + strlen (soup_cookie_get_value (cookie)) + 3;
}

/* Whether @a and @b are the same cookie (one replaces the other). */
static gboolean
same_cookie (SoupCookie *a,
             SoupCookie *b)
{
  return g_str_equal (soup_cookie_get_name (a), soup_cookie_get_name (b)) &&
         g_strcmp0 (soup_cookie_get_domain (a), soup_cookie_get_domain (b)) == 0 &&
         g_strcmp0 (soup_cookie_get_path (a), soup_cookie_get_path (b)) == 0;
}

static void
forget (Bound      *self,
        SoupCookie *cookie)
{
  for (GList *l = self->cookies.head; l != NULL; l = l->next)
    if (same_cookie (l->data, cookie))
      {
        self->bytes -= cookie_size (l->data);
        soup_cookie_free (l->data);
        g_queue_delete_link (&self->cookies, l);
        return;
      }
}

static gboolean
over_bound (Bound *self)
{
  return self->cookies.length > BAYEUX_COOKIE_JAR_MAX_COOKIES || self->bytes > BAYEUX_COOKIE_JAR_MAX_BYTES;
}

static gboolean
prune_cb (gpointer user_data)
{
  Bound *self = user_data;

  while (over_bound (self))
    {
      SoupCookie *oldest = g_queue_pop_head (&self->cookies);

      g_debug ("cookie jar over its bound (%u cookies, %" G_GSIZE_FORMAT " bytes; at most %u and %u): "
               "dropping the oldest, “%s” for %s", self->cookies.length + 1, self->bytes,
               BAYEUX_COOKIE_JAR_MAX_COOKIES, BAYEUX_COOKIE_JAR_MAX_BYTES, soup_cookie_get_name (oldest),
               soup_cookie_get_domain (oldest));
      self->bytes -= cookie_size (oldest);
      /* Emits ::changed for a cookie no longer in the queue: a no-op. */
      soup_cookie_jar_delete_cookie (self->jar, oldest);
      soup_cookie_free (oldest);
    }
  g_clear_pointer (&self->prune, g_source_unref);   /* only now: no second idle from the ::changed above */
  return G_SOURCE_REMOVE;
}

static void
on_changed (SoupCookieJar *jar,
            SoupCookie    *old_cookie,
            SoupCookie    *new_cookie,
            gpointer       user_data)
{
  Bound *self = user_data;

  if (old_cookie != NULL)
    forget (self, old_cookie);
  if (new_cookie != NULL)
    {
      g_queue_push_tail (&self->cookies, soup_cookie_copy (new_cookie));
      self->bytes += cookie_size (new_cookie);
    }
  if (over_bound (self) && self->prune == NULL)
    {
      self->prune = bayeux_source_attach (self->context, 0, G_PRIORITY_HIGH, prune_cb, self, NULL,
                                          "[bayeux] cookie jar bound");
    }
}

static void
bound_free (gpointer  data,
            GClosure *closure)
{
  Bound *self = data;

  g_clear_pointer (&self->prune, bayeux_source_destroy);
  g_queue_clear_full (&self->cookies, (GDestroyNotify) soup_cookie_free);
  g_main_context_unref (self->context);
  g_free (self);
}

/* Adds to @session (of the client of @context) a cookie jar (in memory)
 * that holds at most BAYEUX_COOKIE_JAR_MAX_COOKIES cookies and
 * BAYEUX_COOKIE_JAR_MAX_BYTES. */
void
bayeux_cookie_jar_add_bounded (SoupSession  *session,
                               GMainContext *context)
{
  g_autoptr(SoupCookieJar) jar = soup_cookie_jar_new ();
  Bound *bound = g_new0 (Bound, 1);

  bound->jar = jar;
  bound->context = g_main_context_ref (context);
  g_signal_connect_data (jar, "changed", G_CALLBACK (on_changed), bound, bound_free, 0);
  soup_session_add_feature (session, SOUP_SESSION_FEATURE (jar));
}
