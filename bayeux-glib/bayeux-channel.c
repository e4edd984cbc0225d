/* bayeux-channel.c: channel name validation and wildcard matching
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bayeux-glib.h"
#include "bayeux-channel-private.h"

#include <string.h>

/* Bayeux 1.0: a segment is one or more of alpha, digit and the marks
 * "-_!~()$@".  Servers accept a little more in practice (CometD and Faye
 * allow '.', ':' and '+'), so we accept those too; what we never accept is
 * what breaks the syntax: empty segments, '*' outside a wildcard segment,
 * whitespace and control characters. */
static gboolean
is_segment_char (char c)
{
  return g_ascii_isalnum (c) || strchr ("-_!~()$@.:+=,;", c) != NULL;
}

/* The longest channel name, and the most segments, the client takes: a
 * name is matched through each of its ancestors, and a server's hostile
 * name of a megabyte must not cost gigabytes. */
#define MAX_CHANNEL_LENGTH   4096
#define MAX_CHANNEL_SEGMENTS 64

/* What is wrong with @query, the filter after "?" (NULL: nothing): one or
 * more field=value joined by "&"; a value is 'quoted' (anything but a
 * control character or a quote: spaces, "&") or plain (no space, "&" or
 * "?"); UTF-8. */
static const char *
filter_problem (const char *query)
{
  const char *p = query;

  if (!g_utf8_validate (query, -1, NULL))
    return "a filter is not UTF-8";
  do
    {
      const char *field = p;

      while (g_ascii_isalnum (*p) || *p == '_' || *p == '.')
        p++;
      if (p == field)
        return "a filter condition starts with a field name";
      if (*p++ != '=')
        return "a filter condition is field=value";
      if (*p == '\0' || *p == '&')
        return "a filter condition has an empty value";
      if (*p == '\'')
        {
          for (p++; *p != '\'' && *p != '\0'; p++)
            if ((guchar) *p < ' ' || *p == 0x7f)
              return "invalid character in a filter";
          if (*p++ != '\'')
            return "a quoted filter value lacks its closing quote";
          if (*p != '\0' && *p != '&')
            return "a filter condition goes on after its quoted value";
        }
      while (*p != '\0' && *p != '&')
        {
          if ((guchar) *p <= ' ' || *p == 0x7f || *p == '?')
            return "invalid character in a filter";
          p++;
        }
    }
  while (*p++ == '&');
  return NULL;
}

/**
 * bayeux_channel_validate:
 * @channel: a channel name, such as `/chat/demo` or `/stocks/**`
 * @flags: what is allowed besides a plain channel name
 * @error: return location for a #GError in the [error@Bayeux.Error] domain
 *
 * Checks that @channel is a valid Bayeux channel name: it starts with `/`,
 * it has one or more non-empty segments made of letters, digits and the
 * characters `-_!~()$@.:+=,;`, and a wildcard segment (`*` for one segment,
 * `**` for any depth) appears only as the last segment and only when @flags
 * has %BAYEUX_CHANNEL_ALLOW_WILDCARD. Channels under `/meta/` are reserved
 * to the protocol and accepted only with %BAYEUX_CHANNEL_ALLOW_META. With
 * %BAYEUX_CHANNEL_ALLOW_FILTER, a name without wildcard may be followed by
 * a filter: `?`, then one or more conditions `field=value` joined by `&`,
 * a field made of letters, digits, `_` and `.`, a value either quoted
 * (`Name='San Francisco'`: anything but a quote or a control character)
 * or plain (`Amount__c=100`: no space, `&` or `?`), in UTF-8. A name is
 * at most 4096 bytes and 64 segments long.
 *
 * Returns: %TRUE if @channel is valid, %FALSE with @error set to
 *   %BAYEUX_ERROR_INVALID_CHANNEL otherwise
 *
 * Since: 1.0
 */
gboolean
bayeux_channel_validate (const char          *channel,
                         BayeuxChannelFlags   flags,
                         GError             **error)
{
  const char *p;
  const char *why = NULL;
  const char *filter = channel != NULL ? strchr (channel, '?') : NULL;
  g_autofree char *base = NULL;
  guint segments = 0;

  if (channel != NULL && strnlen (channel, MAX_CHANNEL_LENGTH + 1) > MAX_CHANNEL_LENGTH)
    {
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL,
                   "Invalid channel name: longer than %d bytes", MAX_CHANNEL_LENGTH);
      return FALSE;
    }
  if (filter != NULL)
    {
      why = !(flags & BAYEUX_CHANNEL_ALLOW_FILTER) ? "a filter (“?…”) is only allowed on a subscription"
                                                   : filter_problem (filter + 1);
      base = g_strndup (channel, (gsize) (filter - channel));
      if (why == NULL && !bayeux_channel_validate (base, flags & ~BAYEUX_CHANNEL_ALLOW_WILDCARD, NULL))
        why = strchr (base, '*') != NULL ? "a filter goes on a channel without wildcard" : "invalid channel before the filter";
      if (why != NULL)
        {
          g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL,
                       "Invalid channel name “%s”: %s", channel, why);
          return FALSE;
        }
      return TRUE;
    }

  if (channel == NULL || channel[0] != '/' || channel[1] == '\0')
    {
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL,
                   "Invalid channel name “%s”: a channel starts with “/” and has at least one segment",
                   channel ? channel : "(null)");
      return FALSE;
    }

  p = channel;
  while (*p == '/' && why == NULL)
    {
      const char *seg = ++p;
      gsize len;

      while (*p != '\0' && *p != '/')
        p++;
      len = p - seg;

      if (len == 0)
        why = "empty segment";
      else if (++segments > MAX_CHANNEL_SEGMENTS)
        why = "more than 64 segments";
      else if ((len == 1 && seg[0] == '*') || (len == 2 && seg[0] == '*' && seg[1] == '*'))
        {
          if (*p != '\0')
            why = "a wildcard may only be the last segment";
          else if (!(flags & BAYEUX_CHANNEL_ALLOW_WILDCARD))
            why = "wildcards are not allowed here";
        }
      else
        {
          for (gsize i = 0; i < len && why == NULL; i++)
            if (!is_segment_char (seg[i]))
              why = seg[i] == '*' ? "“*” is only allowed as a whole segment" : "invalid character";
        }
    }

  if (why == NULL && !(flags & BAYEUX_CHANNEL_ALLOW_META) && bayeux_channel_is_meta (channel))
    why = "/meta/ channels are reserved to the protocol";

  if (why != NULL)
    {
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL,
                   "Invalid channel name “%s”: %s", channel, why);
      return FALSE;
    }

  return TRUE;
}

/**
 * bayeux_channel_matches:
 * @pattern: a channel name, possibly ending with a `*` or `**` segment
 * @channel: a channel name without wildcards
 *
 * Whether a message on @channel is delivered to a subscription to the
 * pattern. `/a/*` matches `/a/b` but not `/a/b/c`; `/a/**` matches both;
 * a name without wildcard matches only itself.
 *
 * Returns: %TRUE if @pattern matches @channel
 *
 * Since: 1.0
 */
gboolean
bayeux_channel_matches (const char *pattern,
                        const char *channel)
{
  gsize plen;

  g_return_val_if_fail (pattern != NULL, FALSE);
  g_return_val_if_fail (channel != NULL, FALSE);

  plen = strlen (pattern);

  if (plen >= 3 && g_str_has_suffix (pattern, "/**"))
    {
      /* prefix "/a/" must start the channel, with at least one more char */
      gsize prefix = plen - 2;
      return strncmp (pattern, channel, prefix) == 0 && channel[prefix] != '\0';
    }

  if (plen >= 2 && g_str_has_suffix (pattern, "/*"))
    {
      gsize prefix = plen - 1;
      return strncmp (pattern, channel, prefix) == 0 && channel[prefix] != '\0' &&
             strchr (channel + prefix, '/') == NULL;
    }

  return strcmp (pattern, channel) == 0;
}

gboolean
bayeux_channel_is_meta (const char *channel)
{
  return g_str_has_prefix (channel, "/meta/") || g_str_equal (channel, "/meta");
}

/* The subscriptions that can match @channel are, at most: the channel
 * itself, its parent with "/*", and each ancestor with "/**" (the root's
 * "/**" included).  Collecting them is O(depth) and independent of how many
 * subscriptions exist: the caller does one hash lookup per candidate. */
/* The first @length bytes of @channel, then @suffix (no printf: this runs
 * for every message received). */
static char *
prefix_with (const char *channel,
             gsize       length,
             const char *suffix)
{
  gsize suffix_length = strlen (suffix);
  char *out = g_malloc (length + suffix_length + 1);

  memcpy (out, channel, length);
  memcpy (out + length, suffix, suffix_length + 1);
  return out;
}

GPtrArray *
bayeux_channel_candidates (const char *channel)
{
  GPtrArray *out;
  const char *last_slash;
  const char *filter = strchr (channel, '?');

  /* A filtered name (Salesforce): itself, then what its base name matches. */
  if (filter != NULL)
    {
      g_autofree char *base = g_strndup (channel, (gsize) (filter - channel));

      out = bayeux_channel_candidates (base);
      g_ptr_array_insert (out, 0, g_strdup (channel));
      return out;
    }

  out = g_ptr_array_new_with_free_func (g_free);
  last_slash = strrchr (channel, '/');
  g_ptr_array_add (out, g_strdup (channel));
  if (last_slash != NULL)
    g_ptr_array_add (out, prefix_with (channel, (gsize) (last_slash - channel), "/*"));

  for (const char *p = channel + strlen (channel); p > channel; p--)
    if (*p == '/')
      g_ptr_array_add (out, prefix_with (channel, (gsize) (p - channel), "/**"));
  g_ptr_array_add (out, g_strdup ("/**"));

  return out;
}
