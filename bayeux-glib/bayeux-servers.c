/* bayeux-servers.c: the server's URL and its fallbacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see bayeux-glib/README.md): a plain struct that
 * answers by return value; it knows GLib, json-glib, libsoup's URI flags
 * and its TLD list, and the error domain, nothing of the client.
 *
 * The servers are the client's `url` (index 0) and then its
 * `fallback-urls`, in order. One is in use. After a transport failure of a
 * handshake or connect the client goes on with the next one at once, round
 * the list; once every server failed in a row since the last success, it
 * waits the backoff before the next try (bayeux_servers_failed says so).
 *
 * After them come the hosts the server advised (the `hosts` advice field),
 * bounded and checked (see bayeux_servers_set_advised): each advice that
 * carries `hosts` replaces them, and they are forgotten at stop.
 */
#include "bayeux-servers-private.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "bayeux-error.h"

struct _BayeuxServers
{
  GUri      *primary;        /* of the url */
  GStrv      fallback_urls;  /* as the application gave them (NULL: none) */
  GPtrArray *fallbacks;      /* GUri, the valid ones */
  GPtrArray *advised;        /* GUri, from the server's `hosts` advice, after the fallbacks */
  GStrv      advised_given;  /* the `hosts` they came from (the first ones), to see a repeat */
  guint      index;          /* 0: primary, i > 0: fallbacks[i - 1], then advised */
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
  self->advised = g_ptr_array_new_with_free_func ((GDestroyNotify) g_uri_unref);
  use (self, 0, self->primary);
  return self;
}

void
bayeux_servers_free (BayeuxServers *self)
{
  g_uri_unref (self->primary);
  g_strfreev (self->fallback_urls);
  g_ptr_array_unref (self->fallbacks);
  g_ptr_array_unref (self->advised);
  g_strfreev (self->advised_given);
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
  GUri *uri;

  if (index == 0)
    uri = self->primary;
  else if (index - 1 < self->fallbacks->len)
    uri = g_ptr_array_index (self->fallbacks, index - 1);
  else
    uri = g_ptr_array_index (self->advised, index - 1 - self->fallbacks->len);

  if (index == self->index && uri == self->uri)
    return FALSE;
  use (self, index, uri);
  return TRUE;
}

/* How many servers there are (the url, the valid fallbacks and the
 * advised hosts). */
guint
bayeux_servers_count (BayeuxServers *self)
{
  return 1 + self->fallbacks->len + self->advised->len;
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

/* ------------------------------------------------------------------------ */
/* The hosts the server advised                                            */

#define MAX_HOST_LENGTH 1024

/* The site of @host: its registrable domain (example.com for
 * a.b.example.com), or the host itself when it has none (an IP address,
 * localhost, a name without a dot). */
static char *
site_of (const char *host)
{
  const char *base = soup_tld_get_base_domain (host, NULL);

  return g_ascii_strdown (base != NULL ? base : host, -1);
}

/* @entry of a `hosts` advice as a server: an http, https, ws or wss URL
 * (ws is taken as http, wss as https: the client derives the WebSocket
 * URL from the HTTP one), or a host name or IP address, optionally with a
 * port, that stands for the url with that host. NULL when it is not
 * acceptable: too long, user information, a fragment, another site than
 * the url's, or plain http when the url is https. */
static GUri *
advised_uri (BayeuxServers *self,
             const char    *entry)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *site = NULL, *own_site = NULL;
  const char *scheme, *own_scheme = g_uri_get_scheme (self->primary);

  if (strlen (entry) > MAX_HOST_LENGTH || strchr (entry, '@') != NULL || strchr (entry, '#') != NULL)
    return NULL;
  if (strstr (entry, "://") != NULL)
    uri = g_uri_parse (entry, SOUP_HTTP_URI_FLAGS, NULL);
  else
    {
      /* A host[:port]: the url's scheme and path on that host. */
      g_autofree char *url = g_strdup_printf ("%s://%s%s%s%s", own_scheme, entry, g_uri_get_path (self->primary),
                                              g_uri_get_query (self->primary) ? "?" : "",
                                              g_uri_get_query (self->primary) ? g_uri_get_query (self->primary) : "");
      uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
    }
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      g_uri_get_user (uri) != NULL)
    return NULL;

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "ws") == 0 || g_ascii_strcasecmp (scheme, "wss") == 0)
    {
      GUri *http = g_uri_build (SOUP_HTTP_URI_FLAGS, scheme[2] == '\0' ? "http" : "https", NULL,
                                g_uri_get_host (uri), g_uri_get_port (uri), g_uri_get_path (uri),
                                g_uri_get_query (uri), NULL);
      g_uri_unref (uri);
      uri = http;
      scheme = g_uri_get_scheme (uri);
    }
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    return NULL;
  /* Never from https down to http. */
  if (g_ascii_strcasecmp (own_scheme, "https") == 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    return NULL;
  /* Only the url's own site: the client sends the application's headers
   * and handshake ext there (see docs/security.md). */
  site = site_of (g_uri_get_host (uri));
  own_site = site_of (g_uri_get_host (self->primary));
  if (!g_str_equal (site, own_site))
    return NULL;
  return g_steal_pointer (&uri);
}

/* Whether @uri is the url or one of the fallbacks. */
static gboolean
is_configured (BayeuxServers *self,
               GUri          *uri)
{
  g_autofree char *text = g_uri_to_string (uri);
  g_autofree char *primary = g_uri_to_string (self->primary);

  if (g_str_equal (text, primary))
    return TRUE;
  for (guint i = 0; i < self->fallbacks->len; i++)
    {
      g_autofree char *fallback = g_uri_to_string (g_ptr_array_index (self->fallbacks, i));

      if (g_str_equal (text, fallback))
        return TRUE;
    }
  return FALSE;
}

/* Sets the advised hosts from the `hosts` advice @hosts (a JSON array;
 * empty: none). The first BAYEUX_SERVERS_MAX_ADVISED (8) entries are looked
 * at, the rest ignored; an entry that is not acceptable (see advised_uri)
 * or that is the url or a fallback is left out. A server in use that is
 * no longer advised stays in use until it fails (then the url is next).
 *
 * Returns FALSE with @error (BAYEUX_ERROR_BAD_RESPONSE, not quoting the
 * entries) when entries were left out or ignored, reported once for a
 * given list: the same list again is nothing new. */
gboolean
bayeux_servers_set_advised (BayeuxServers  *self,
                            JsonArray      *hosts,
                            GError        **error)
{
  guint length = json_array_get_length (hosts);
  guint n = MIN (length, BAYEUX_SERVERS_MAX_ADVISED);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) given = NULL;
  g_autofree char *in_use = NULL;
  guint refused = 0;

  for (guint i = 0; i < n; i++)
    {
      const char *entry = json_node_get_value_type (json_array_get_element (hosts, i)) == G_TYPE_STRING
                            ? json_array_get_string_element (hosts, i) : NULL;

      g_strv_builder_add (builder, entry == NULL ? "\1" : strlen (entry) > MAX_HOST_LENGTH ? "\2" : entry);
    }
  if (length > n)
    g_strv_builder_add (builder, "\3");
  given = g_strv_builder_end (builder);
  if (self->advised_given != NULL && g_strv_equal ((const char * const *) self->advised_given,
                                                   (const char * const *) given))
    return TRUE;

  if (self->index > self->fallbacks->len)
    in_use = g_uri_to_string (self->uri);
  g_ptr_array_set_size (self->advised, 0);
  for (guint i = 0; i < n; i++)
    {
      GUri *uri = given[i][0] > '\3' ? advised_uri (self, given[i]) : NULL;

      if (uri == NULL)
        refused++;
      else if (is_configured (self, uri))
        g_uri_unref (uri);
      else
        g_ptr_array_add (self->advised, uri);
    }
  g_strfreev (self->advised_given);
  self->advised_given = g_steal_pointer (&given);

  /* The server in use, if advised: where it is now, or (no longer
   * advised) the last one, so that the url is next. */
  if (in_use != NULL)
    {
      self->index = bayeux_servers_count (self) - 1;
      for (guint i = 0; i < self->advised->len; i++)
        {
          g_autofree char *text = g_uri_to_string (g_ptr_array_index (self->advised, i));

          if (g_str_equal (text, in_use))
            use (self, 1 + self->fallbacks->len + i, g_ptr_array_index (self->advised, i));
        }
    }

  if (refused > 0 || length > n)
    {
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                   "Bad advice from the server: %u of its %u hosts left out (at most %u are taken, each an http, "
                   "https, ws or wss URL or a host name of the url's site, without user information)",
                   refused + (length - n), length, (guint) BAYEUX_SERVERS_MAX_ADVISED);
      return FALSE;
    }
  return TRUE;
}

/* Forgets the advised hosts (at stop). Returns whether the server in use
 * was one of them: the caller then selects the url. */
gboolean
bayeux_servers_forget_advised (BayeuxServers *self)
{
  gboolean in_use = self->index > self->fallbacks->len;

  g_ptr_array_set_size (self->advised, 0);
  g_clear_pointer (&self->advised_given, g_strfreev);
  if (in_use)
    self->index = bayeux_servers_count (self) - 1;
  return in_use;
}

/* How many advised hosts there are. */
guint
bayeux_servers_advised_count (BayeuxServers *self)
{
  return self->advised->len;
}
