/* bayeux-envelope.c: a message's envelope read straight from its text
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room: it calls nothing of the library (GLib alone).
 *
 * Nearly every message a client receives is a delivery shaped like
 * {"channel":"/chat/demo","data":{…},"id":"42"}. Building a json-glib tree
 * of the whole message (an object, its hash table, a node and a name per
 * member) cost about a third of a subscriber's CPU, and most of it was
 * thrown away: the client reads the envelope, and the application reads
 * `data`, if anything. This scan reads the envelope into spans of the
 * text in one pass, and checks `data` without building anything; the
 * message builds the tree of `data` (or of the whole message) only when
 * someone asks for it.
 *
 * It is a fast path, not a second parser with opinions of its own: it
 * says yes only to a plain subset of what bayeux_json_parse() takes, for
 * which the two cannot differ, and no to anything else, valid or not
 * (escaped names, unknown members, deep nesting, large objects...): the
 * caller then parses the element as before, errors and all.
 */
#include "bayeux-envelope-private.h"

#include <string.h>

/* How deep `data` may nest, and how many member names its open objects may
 * hold at once (for the duplicate check), before the scan leaves the
 * element to the parser. */
#define MAX_DEPTH 64
#define MAX_NAMES 64

static inline const char *
skip_space (const char *p,
            const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* The bytes a string's plain run stops at: the quote, the backslash and
 * the control characters. */
static const guint8 stops[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 1, [92] = 1,
};

/* A string, @p on its opening quote, checked as the parser checks it:
 * after its closing quote, or NULL. *@escaped is set when it has an
 * escape. */
static const char *
skip_string (const char *p,
             const char *end,
             gboolean   *escaped)
{
  for (p++;;)
    {
      int unit;

      while (p < end && !stops[(guchar) *p])
        p++;
      if (p >= end || (guchar) *p < 0x20)
        return NULL;
      if (*p == '"')
        return p + 1;

      *escaped = TRUE;
      if (++p >= end)
        return NULL;
      switch (*p)
        {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          p++;
          break;
        case 'u':
          unit = bayeux_hex4 (p + 1, end);
          p += 5;
          if (unit >= 0xD800 && unit <= 0xDBFF)
            {
              /* A high surrogate, followed by a low one. */
              int low = (end - p >= 6 && p[0] == '\\' && p[1] == 'u') ? bayeux_hex4 (p + 2, end) : -1;

              if (low < 0xDC00 || low > 0xDFFF)
                return NULL;
              p += 6;
            }
          else if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF))
            return NULL;
          break;
        default:
          return NULL;
        }
    }
}

static const char *
skip_digits (const char *p,
             const char *end)
{
  const char *start = p;

  while (p < end && g_ascii_isdigit (*p))
    p++;
  return p > start ? p : NULL;
}

/* A number (RFC 8259), @p on its first character. */
static const char *
skip_number (const char *p,
             const char *end)
{
  if (*p == '-')
    p++;
  if (p < end && *p == '0')
    p++;
  else if ((p = skip_digits (p, end)) == NULL)
    return NULL;
  if (p < end && *p == '.' && (p = skip_digits (p + 1, end)) == NULL)
    return NULL;
  if (p < end && (*p == 'e' || *p == 'E'))
    {
      p++;
      if (p < end && (*p == '+' || *p == '-'))
        p++;
      return skip_digits (p, end);
    }
  return p;
}

static const char *
skip_word (const char *p,
           const char *end,
           const char *word,
           gsize       length)
{
  return (gsize) (end - p) >= length && memcmp (p, word, length) == 0 ? p + length : NULL;
}

typedef struct
{
  const char *name;
  gsize       length;
} Name;

/* One JSON value, @p on its first character, checked as the parser checks
 * it (but duplicate names compared only among unescaped ones: an escaped
 * name gives up). After it, or NULL. */
static const char *
skip_value (const char *p,
            const char *end)
{
  gboolean is_object[MAX_DEPTH];
  guint names_from[MAX_DEPTH];
  Name names[MAX_NAMES];
  guint depth = 0;
  guint n_names = 0;

value:
  if (p >= end)
    return NULL;
  switch (*p)
    {
    case '{':
    case '[':
      if (depth == MAX_DEPTH)
        return NULL;
      is_object[depth] = *p == '{';
      names_from[depth] = n_names;
      depth++;
      p = skip_space (p + 1, end);
      if (p < end && *p == (is_object[depth - 1] ? '}' : ']'))
        {
          p++;
          depth--;
          break;
        }
      if (is_object[depth - 1])
        goto name;
      goto value;
    case '"':
      {
        gboolean escaped = FALSE;

        p = skip_string (p, end, &escaped);
      }
      break;
    case 't':
      p = skip_word (p, end, "true", 4);
      break;
    case 'f':
      p = skip_word (p, end, "false", 5);
      break;
    case 'n':
      p = skip_word (p, end, "null", 4);
      break;
    default:
      p = (*p == '-' || g_ascii_isdigit (*p)) ? skip_number (p, end) : NULL;
      break;
    }
  if (p == NULL)
    return NULL;

  /* After a value: close containers, or on to the next element. */
  while (depth > 0)
    {
      gboolean object = is_object[depth - 1];

      p = skip_space (p, end);
      if (p < end && *p == (object ? '}' : ']'))
        {
          p++;
          n_names = names_from[depth - 1];
          depth--;
          continue;
        }
      if (p >= end || *p != ',')
        return NULL;
      p = skip_space (p + 1, end);
      if (object)
        goto name;
      goto value;
    }
  return p;

name:
  {
    const char *start = p + 1;
    gboolean escaped = FALSE;
    gsize length;

    if (p >= end || *p != '"' || (p = skip_string (p, end, &escaped)) == NULL || escaped)
      return NULL;
    length = (gsize) (p - 1 - start);
    for (guint i = names_from[depth - 1]; i < n_names; i++)
      if (names[i].length == length && memcmp (names[i].name, start, length) == 0)
        return NULL;
    if (n_names == MAX_NAMES)
      return NULL;
    names[n_names].name = start;
    names[n_names].length = length;
    n_names++;
    p = skip_space (p, end);
    if (p >= end || *p != ':')
      return NULL;
    p = skip_space (p + 1, end);
    goto value;
  }
}

static int
field_of (const char *name,
          gsize       length)
{
#define IS(literal) (length == sizeof literal - 1 && memcmp (name, literal, sizeof literal - 1) == 0)
  if (IS ("channel"))
    return BAYEUX_ENVELOPE_CHANNEL;
  if (IS ("data"))
    return BAYEUX_ENVELOPE_DATA;
  if (IS ("id"))
    return BAYEUX_ENVELOPE_ID;
  if (IS ("clientId"))
    return BAYEUX_ENVELOPE_CLIENT_ID;
  if (IS ("successful"))
    return BAYEUX_ENVELOPE_SUCCESSFUL;
  if (IS ("subscription"))
    return BAYEUX_ENVELOPE_SUBSCRIPTION;
  if (IS ("error"))
    return BAYEUX_ENVELOPE_ERROR;
#undef IS
  return -1;
}

gboolean
bayeux_envelope_scan (const char     *data,
                      gsize           length,
                      BayeuxEnvelope *envelope)
{
  const char *p = data;
  const char *end = data + length;

  envelope->seen = 0;
  p = skip_space (p, end);
  if (p >= end || *p != '{')
    return FALSE;
  p = skip_space (p + 1, end);
  for (;;)
    {
      const char *name = p + 1;
      const char *value;
      gboolean escaped = FALSE;
      gboolean quoted = FALSE;
      int field;

      if (p >= end || *p != '"' || (p = skip_string (p, end, &escaped)) == NULL || escaped)
        return FALSE;
      field = field_of (name, (gsize) (p - 1 - name));
      if (field < 0 || (envelope->seen & (1u << field)) != 0)
        return FALSE;
      p = skip_space (p, end);
      if (p >= end || *p != ':')
        return FALSE;
      value = p = skip_space (p + 1, end);
      if (p >= end)
        return FALSE;

      switch (field)
        {
        case BAYEUX_ENVELOPE_DATA:
          p = skip_value (p, end);
          break;
        case BAYEUX_ENVELOPE_SUCCESSFUL:
          envelope->successful = *p == 't';
          p = *p == 't' ? skip_word (p, end, "true", 4) : skip_word (p, end, "false", 5);
          break;
        case BAYEUX_ENVELOPE_ID:
          if (*p == 'n')
            {
              envelope->id_kind = BAYEUX_ENVELOPE_ID_NULL;
              p = skip_word (p, end, "null", 4);
              break;
            }
          if (*p != '"')
            {
              /* An integer written as the library would print it: no
               * "-0", no fraction or exponent, no overflow. */
              envelope->id_kind = BAYEUX_ENVELOPE_ID_INTEGER;
              if (*p == '-')
                p++;
              if (p >= end || !g_ascii_isdigit (*p))
                return FALSE;
              if (*p == '0' && (p > value || (p + 1 < end && g_ascii_isdigit (p[1]))))
                return FALSE;   /* "-0", or a leading zero */
              while (p < end && g_ascii_isdigit (*p))
                p++;
              if (p - value > 18 || (p < end && (*p == '.' || *p == 'e' || *p == 'E')))
                return FALSE;
              break;
            }
          envelope->id_kind = BAYEUX_ENVELOPE_ID_STRING;
          G_GNUC_FALLTHROUGH;
        default:
          /* A string, without escapes: its characters are its value. */
          if (*p != '"' || (p = skip_string (p, end, &escaped)) == NULL || escaped)
            return FALSE;
          quoted = TRUE;
          break;
        }
      if (p == NULL)
        return FALSE;
      /* A string's span is its characters, less the quotes. */
      envelope->offset[field] = (gsize) (value - data) + (quoted ? 1 : 0);
      envelope->length[field] = (gsize) (p - value) - (quoted ? 2 : 0);
      envelope->seen |= 1u << field;

      p = skip_space (p, end);
      if (p < end && *p == ',')
        {
          p = skip_space (p + 1, end);
          continue;
        }
      if (p >= end || *p != '}')
        return FALSE;
      break;
    }
  if (skip_space (p + 1, end) != end)
    return FALSE;

  return BAYEUX_ENVELOPE_HAS (envelope, BAYEUX_ENVELOPE_CHANNEL) &&
         envelope->length[BAYEUX_ENVELOPE_CHANNEL] > 0 &&
         data[envelope->offset[BAYEUX_ENVELOPE_CHANNEL]] == '/';
}
