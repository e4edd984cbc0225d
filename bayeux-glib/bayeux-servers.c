/* bayeux-servers.c: the server's URL and its fallbacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see bayeux-glib/README.md): a plain struct that
 * answers by return value; it knows GLib and libsoup's URI flags, nothing
 * of the client.
 *
 * The servers are the client's `url` (index 0) and then its
 * `fallback-urls`, in order. One is in use. After a transport failure of a
 * handshake or connect the client goes on with the next one at once, round
 * the list; once every server failed in a row since the last success, it
 * waits the backoff before the next try (bayeux_servers_failed says so).
 */
#include "bayeux-servers-private.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <string.h>

struct _BayeuxServers
{
  GUri      *primary;        /* of the url */
  GStrv      fallback_urls;  /* as the application gave them (NULL: none) */
  GPtrArray *fallbacks;      /* GUri, the valid ones */
  guint      index;          /* 0: primary, i > 0: fallbacks[i - 1] */
  GUri      *uri;            /* in use */
  char      *url;            /* in use, as a string */
  guint      failed;         /* in a row, across the list */
};

/* @url as an http or https GUri, or NULL with @error. */
static GUri *
parse_url (const char *url,
           GError    **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, error);

  if (uri == NULL)
    return NULL;
  if (g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
    {
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_SCHEME, "not an http or https URL");
      return NULL;
    }
  return g_steal_pointer (&uri);
}

static void
use (BayeuxServers *self,
     guint          index,
     GUri          *uri)
{
  self->index = index;
  g_uri_ref (uri);
  g_clear_pointer (&self->uri, g_uri_unref);
  self->uri = uri;
  g_free (self->url);
  /* Shown, logged and put in errors: never the password. */
  self->url = g_uri_to_string_partial (uri, G_URI_HIDE_PASSWORD | G_URI_HIDE_AUTH_PARAMS);
}

/* @text (a URL that may not parse, or a message that quotes it) with the
 * user information of @url (user:password@) left out. */
static char *
redact (const char *text,
        const char *url)
{
  const char *start = url ? strstr (url, "://") : NULL;
  const char *end, *at = NULL;
  g_autofree char *userinfo = NULL;
  g_auto(GStrv) parts = NULL;

  if (start == NULL)
    return g_strdup (text);
  start += 3;
  end = start + strcspn (start, "/?#");
  for (const char *p = start; p < end; p++)
    if (*p == '@')
      at = p;
  if (at == NULL)
    return g_strdup (text);
  userinfo = g_strndup (start, at + 1 - start);
  parts = g_strsplit (text, userinfo, -1);
  return g_strjoinv ("…@", parts);
}

/* Servers with @url (nullable) in use. A URL that is not a valid http or
 * https one is a programming error: critical, and a URL that cannot be
 * reached stands in for it. */
BayeuxServers *
bayeux_servers_new (const char *url)
{
  BayeuxServers *self = g_new0 (BayeuxServers, 1);
  g_autoptr(GError) error = NULL;

  if (url != NULL)
    self->primary = parse_url (url, &error);
  if (self->primary == NULL)
    {
      g_autofree char *shown = redact (url ? url : "(null)", url);
      g_autofree char *why = error ? redact (error->message, url) : NULL;

      g_critical ("BayeuxClient: “%s” is not a valid http or https URL%s%s", shown, why ? ": " : "",
                  why ? why : "");
      self->primary = g_uri_parse ("http://invalid.invalid/", SOUP_HTTP_URI_FLAGS, NULL);
    }
  self->fallbacks = g_ptr_array_new_with_free_func ((GDestroyNotify) g_uri_unref);
  use (self, 0, self->primary);
  return self;
}

void
bayeux_servers_free (BayeuxServers *self)
{
  g_uri_unref (self->primary);
  g_strfreev (self->fallback_urls);
  g_ptr_array_unref (self->fallbacks);
  g_uri_unref (self->uri);
  g_free (self->url);
  g_free (self);
}

/* Sets the fallbacks (nullable: none); an invalid URL is left out with a
 * warning. The failures are forgotten. Returns FALSE when they are the
 * same as before (nothing done). The caller then selects the url again. */
gboolean
bayeux_servers_set_fallbacks (BayeuxServers      *self,
                              const char * const *urls)
{
  if ((urls == NULL || urls[0] == NULL) ? self->fallback_urls == NULL
                                        : (self->fallback_urls != NULL &&
                                           g_strv_equal ((const char * const *) self->fallback_urls, urls)))
    return FALSE;
  g_clear_pointer (&self->fallback_urls, g_strfreev);
  self->fallback_urls = (urls == NULL || urls[0] == NULL) ? NULL : g_strdupv ((char **) urls);
  g_ptr_array_set_size (self->fallbacks, 0);
  for (gsize i = 0; urls != NULL && urls[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      GUri *uri = parse_url (urls[i], &error);

      if (uri == NULL)
        {
          g_autofree char *shown = redact (urls[i], urls[i]);
          g_autofree char *why = redact (error->message, urls[i]);

          g_warning ("BayeuxClient: fallback URL “%s” left out: %s", shown, why);
        }
      else
        g_ptr_array_add (self->fallbacks, uri);
    }
  self->failed = 0;
  return TRUE;
}

/* The fallbacks as given (nullable). */
const char * const *
bayeux_servers_get_fallback_urls (BayeuxServers *self)
{
  return (const char * const *) self->fallback_urls;
}

/* The server in use. */
GUri *
bayeux_servers_get_uri (BayeuxServers *self)
{
  return self->uri;
}

/* The server in use, as a string without its password (shown and logged). */
const char *
bayeux_servers_get_url (BayeuxServers *self)
{
  return self->url;
}

/* Uses the server @index (0: the url). Returns FALSE when it is in use
 * already (nothing done). */
gboolean
bayeux_servers_select (BayeuxServers *self,
                       guint          index)
{
  GUri *uri = index == 0 ? self->primary : g_ptr_array_index (self->fallbacks, index - 1);

  if (index == self->index && uri == self->uri)
    return FALSE;
  use (self, index, uri);
  return TRUE;
}

/* How many servers there are (the url and the valid fallbacks). */
guint
bayeux_servers_count (BayeuxServers *self)
{
  return 1 + self->fallbacks->len;
}

/* The index of the server after the one in use, round the list. */
guint
bayeux_servers_next_index (BayeuxServers *self)
{
  return (self->index + 1) % bayeux_servers_count (self);
}

/* A transport failure of a handshake or connect, when there were @count
 * servers. Returns whether every one failed in a row since the last
 * success (the retry then waits the backoff; a switch to another server
 * does not). */
gboolean
bayeux_servers_failed (BayeuxServers *self,
                       guint          count)
{
  return ++self->failed >= count;
}

/* A handshake or connect worked: the failures are forgotten. */
void
bayeux_servers_succeeded (BayeuxServers *self)
{
  self->failed = 0;
}
