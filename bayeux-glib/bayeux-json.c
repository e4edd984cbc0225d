/* bayeux-json.c: JSON for the rest of the library: the parser of what
 * servers send, a deep copy, and the typed getters that read members of
 * messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room: it calls nothing of the client, the transports or the extensions,
 * and answers by return value only (it needs GLib, json-glib and the error
 * domain, nothing else).
 *
 * Messages from the server are hostile input: the getters read a member only
 * when it has the expected JSON type, never assume a member is there, and
 * take a NULL object for an absent one (so that they chain:
 * bayeux_json_get_object (bayeux_json_get_object (message, "ext"), "ack")).
 */
#include "bayeux-json-private.h"
#include "bayeux-error.h"

#include <math.h>
#include <string.h>

/* The parser */

static int
hex4 (const char *p,
      const char *end)
{
  int value = 0;

  if (end - p < 4)
    return -1;
  for (int i = 0; i < 4; i++)
    {
      int digit = g_ascii_xdigit_value (p[i]);
      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }
  return value;
}

typedef struct
{
  const char *p;
  const char *end;
  const char *why;
} Scanner;

static void
skip_space (Scanner *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

/* A string, s->p on its opening quote: checked (RFC 8259) and unescaped
 * into @out (emptied first). A \u0000 escape puts a NUL in @out, which ends
 * the string where json-glib's parser ends it too. */
static gboolean
scan_string (Scanner *s,
             GString *out)
{
  g_string_truncate (out, 0);
  for (s->p++; s->p < s->end; )
    {
      const char *run = s->p;
      unsigned char c;

      /* The plain run up to the next quote, backslash or control byte. */
      while (s->p < s->end && (c = (unsigned char) *s->p) != '"' && c != '\\' && c >= 0x20)
        s->p++;
      if (s->p > run)
        g_string_append_len (out, run, s->p - run);
      if (s->p >= s->end)
        break;

      c = (unsigned char) *s->p;
      if (c == '"')
        {
          s->p++;
          return TRUE;
        }
      if (c < 0x20)
        {
          s->why = "a control character in a string";
          return FALSE;
        }

      /* A backslash. */
      if (++s->p >= s->end)
        break;
      switch (*s->p)
        {
        case '"':  g_string_append_c (out, '"'); break;
        case '\\': g_string_append_c (out, '\\'); break;
        case '/':  g_string_append_c (out, '/'); break;
        case 'b':  g_string_append_c (out, '\b'); break;
        case 'f':  g_string_append_c (out, '\f'); break;
        case 'n':  g_string_append_c (out, '\n'); break;
        case 'r':  g_string_append_c (out, '\r'); break;
        case 't':  g_string_append_c (out, '\t'); break;
        case 'u':
          {
            int unit = hex4 (s->p + 1, s->end);
            gunichar ch = (gunichar) unit;

            if (unit >= 0xD800 && unit <= 0xDBFF)
              {
                /* a high surrogate must be followed by a low one */
                const char *q = s->p + 5;
                int low = (s->end - q >= 6 && q[0] == '\\' && q[1] == 'u') ? hex4 (q + 2, s->end) : -1;
                if (low < 0xDC00 || low > 0xDFFF)
                  unit = -1;
                else
                  {
                    ch = 0x10000 + (((gunichar) unit - 0xD800) << 10) + ((gunichar) low - 0xDC00);
                    s->p += 6;
                  }
              }
            else if (unit >= 0xDC00 && unit <= 0xDFFF)
              unit = -1;
            if (unit < 0)
              {
                s->why = "an invalid \\u escape";
                return FALSE;
              }
            s->p += 4;
            g_string_append_unichar (out, ch);
          }
          break;
        default:
          s->why = "an invalid escape";
          return FALSE;
        }
      s->p++;
    }

  s->why = "an unterminated string";
  return FALSE;
}

static gboolean
scan_digits (Scanner *s)
{
  const char *start = s->p;

  while (s->p < s->end && g_ascii_isdigit (*s->p))
    s->p++;
  return s->p > start;
}

/* A number, s->p on its first character: checked (RFC 8259) and made a
 * node as json-glib's parser makes it: an integer (no fraction, no
 * exponent) is a gint64, anything else a double. An integer out of the
 * gint64 range is a double too (json-glib 1.6 would wrap it). */
static JsonNode *
scan_number (Scanner *s)
{
  const char *start = s->p;
  gboolean integer = TRUE;
  gboolean negative = FALSE;
  guint64 magnitude = 0;
  gboolean overflow = FALSE;

  if (*s->p == '-')
    {
      negative = TRUE;
      s->p++;
    }
  if (s->p < s->end && *s->p == '0')
    s->p++;
  else if (s->p < s->end && g_ascii_isdigit (*s->p))
    {
      for (; s->p < s->end && g_ascii_isdigit (*s->p); s->p++)
        {
          guint digit = (guint) (*s->p - '0');

          if (magnitude > (G_MAXUINT64 - digit) / 10)
            overflow = TRUE;
          else
            magnitude = magnitude * 10 + digit;
        }
    }
  else
    goto bad;
  if (s->p < s->end && *s->p == '.')
    {
      integer = FALSE;
      s->p++;
      if (!scan_digits (s))
        goto bad;
    }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
    {
      integer = FALSE;
      s->p++;
      if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
        s->p++;
      if (!scan_digits (s))
        goto bad;
    }

  if (integer && !overflow &&
      magnitude <= (negative ? (guint64) G_MAXINT64 + 1 : (guint64) G_MAXINT64))
    {
      gint64 value = negative ? (gint64) (0 - magnitude) : (gint64) magnitude;
      return json_node_init_int (json_node_alloc (), value);
    }
  else
    {
      /* g_ascii_strtod wants a NUL-terminated copy of the number. */
      char buffer[64];
      gsize length = (gsize) (s->p - start);
      g_autofree char *heap = length < sizeof buffer ? NULL : g_strndup (start, length);

      if (heap == NULL)
        {
          memcpy (buffer, start, length);
          buffer[length] = '\0';
        }
      return json_node_init_double (json_node_alloc (), g_ascii_strtod (heap ? heap : buffer, NULL));
    }

bad:
  s->why = "an invalid number";
  return NULL;
}

static gboolean
scan_word (Scanner    *s,
           const char *word)
{
  gsize len = strlen (word);

  if ((gsize) (s->end - s->p) < len || memcmp (s->p, word, len) != 0)
    {
      s->why = "an invalid literal";
      return FALSE;
    }
  s->p += len;
  return TRUE;
}

typedef struct
{
  JsonObject *object;   /* one of the two */
  JsonArray  *array;
} Container;

static JsonNode *parse_valid_utf8 (const char *data, gsize length, GError **error);

/* Parses @data, one JSON text (RFC 8259) in UTF-8, nested no deeper than
 * BAYEUX_MAX_JSON_DEPTH, without duplicate member names, into a tree of
 * sealed (immutable) nodes: what json-glib's immutable parser would make of
 * it (but for integers past gint64: see scan_number()), in one pass,
 * without json-glib's parser. That one recurses (a body of a million '[' would
 * exhaust the stack), leaks memory on many malformed inputs (half surrogate
 * pairs, short \u escapes, trailing data: found by fuzzing), and its
 * GScanner was half the CPU of a client receiving many messages.
 * Iterative, O(n); each node is attached to its parent as soon as it is
 * made, so that on an error freeing the root frees all. */
JsonNode *
bayeux_json_parse (const char *data,
                   gsize       length,
                   GError    **error)
{
  const char *invalid;

  if (!g_utf8_validate_len (data, length, &invalid))
    {
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                   "Bad response: not valid UTF-8 at byte %" G_GSIZE_FORMAT, (gsize) (invalid - data));
      return NULL;
    }
  return parse_valid_utf8 (data, length, error);
}

/* bayeux_json_parse() of @data known to be UTF-8 already. */
static JsonNode *
parse_valid_utf8 (const char *data,
                  gsize       length,
                  GError    **error)
{
  Scanner scanner = { data, data + length, NULL };
  Scanner *s = &scanner;
  Container stack[BAYEUX_MAX_JSON_DEPTH];
  guint depth = 0;
  JsonNode *root = NULL;
  GString *name;
  GString *text;

  name = g_string_sized_new (32);    /* a member's name, until its value is made */
  text = g_string_sized_new (64);    /* a string value */
  skip_space (s);
  for (;;)
    {
      JsonNode *node;
      gboolean open = FALSE;

      /* A value. */
      if (s->p >= s->end)
        {
          s->why = "a value is missing";
          goto bad;
        }
      switch (*s->p)
        {
        case '[':
        case '{':
          if (depth == BAYEUX_MAX_JSON_DEPTH)
            {
              g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                           "Bad response: JSON nested deeper than %d levels at byte %" G_GSIZE_FORMAT,
                           BAYEUX_MAX_JSON_DEPTH, (gsize) (s->p - data));
              goto failed;
            }
          node = json_node_alloc ();
          if (*s->p == '[')
            {
              stack[depth].object = NULL;
              stack[depth].array = json_array_new ();
              json_node_init (node, JSON_NODE_ARRAY);
              json_node_take_array (node, stack[depth].array);
            }
          else
            {
              stack[depth].array = NULL;
              stack[depth].object = json_object_new ();
              json_node_init (node, JSON_NODE_OBJECT);
              json_node_take_object (node, stack[depth].object);
            }
          s->p++;
          open = TRUE;
          break;
        case '"':
          if (!scan_string (s, text))
            goto bad;
          node = json_node_init_string (json_node_alloc (), text->str);
          break;
        case 't':
          if (!scan_word (s, "true"))
            goto bad;
          node = json_node_init_boolean (json_node_alloc (), TRUE);
          break;
        case 'f':
          if (!scan_word (s, "false"))
            goto bad;
          node = json_node_init_boolean (json_node_alloc (), FALSE);
          break;
        case 'n':
          if (!scan_word (s, "null"))
            goto bad;
          node = json_node_init_null (json_node_alloc ());
          break;
        default:
          if (*s->p != '-' && !g_ascii_isdigit (*s->p))
            {
              s->why = "an unexpected character";
              goto bad;
            }
          node = scan_number (s);
          if (node == NULL)
            goto bad;
          break;
        }

      /* Attached at once: the parent owns it from now on. */
      if (depth == 0)
        root = node;
      else if (stack[depth - 1].array != NULL)
        json_array_add_element (stack[depth - 1].array, node);
      else
        json_object_set_member (stack[depth - 1].object, name->str, node);

      if (open)
        {
          gboolean is_array = stack[depth].array != NULL;

          depth++;
          skip_space (s);
          if (s->p < s->end && *s->p == (is_array ? ']' : '}'))
            {
              s->p++;
              depth--;   /* an empty container is a whole value */
            }
          else if (is_array)
            continue;    /* the first element */
          else
            goto member_name;
        }

      /* After a value: close containers, or go on to the next element. */
      for (;;)
        {
          skip_space (s);
          if (depth == 0)
            {
              if (s->p != s->end)
                {
                  s->why = "data after the JSON value";
                  goto bad;
                }
              g_string_free (name, TRUE);
              g_string_free (text, TRUE);
              json_node_seal (root);
              return root;
            }
          if (s->p < s->end && *s->p == (stack[depth - 1].array != NULL ? ']' : '}'))
            {
              s->p++;
              depth--;
              continue;
            }
          if (s->p < s->end && *s->p == ',')
            {
              s->p++;
              skip_space (s);
              break;
            }
          s->why = "a missing ',' or closing bracket";
          goto bad;
        }
      if (stack[depth - 1].array != NULL)
        continue;

member_name:
      if (s->p >= s->end || *s->p != '"')
        {
          s->why = "a missing member name";
          goto bad;
        }
      {
        const char *start = s->p;

        if (!scan_string (s, name))
          goto bad;
        /* json-glib keeps the last of duplicate names, at a cost linear in
         * the object's size for each: a body of repeated names would cost
         * quadratic time. No server sends them (RFC 8259: names SHOULD be
         * unique); refused. */
        if (json_object_has_member (stack[depth - 1].object, name->str))
          {
            s->p = start;
            s->why = "a duplicate member name";
            goto bad;
          }
      }
      skip_space (s);
      if (s->p >= s->end || *s->p != ':')
        {
          s->why = "a missing ':'";
          goto bad;
        }
      s->p++;
      skip_space (s);
    }

bad:
  g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
               "Bad response: not JSON: %s at byte %" G_GSIZE_FORMAT,
               s->why ? s->why : "a syntax error", (gsize) (s->p - data));
failed:
  g_clear_pointer (&root, json_node_unref);
  g_string_free (name, TRUE);
  g_string_free (text, TRUE);
  return NULL;
}

/* Parses a response body: a JSON array of messages, or (as some servers do
 * for a single reply) one message object.  Elements are checked by the
 * client, one by one, so that one bad message does not hide the others. */
JsonArray *
bayeux_json_parse_messages (const char *data,
                            gsize       length,
                            GError    **error)
{
  g_autoptr(JsonNode) root = NULL;

  if (length == 0)
    {
      g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                           "Bad response: empty body");
      return NULL;
    }

  root = bayeux_json_parse (data, length, error);
  if (root == NULL)
    return NULL;

  if (JSON_NODE_HOLDS_ARRAY (root))
    return json_array_ref (json_node_get_array (root));

  if (JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonArray *array = json_array_new ();
      json_array_add_element (array, g_steal_pointer (&root));
      return array;
    }

  g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                       "Bad response: not an array of Bayeux messages");
  return NULL;
}

/* Elements */

/* Bodies are bounded by max-message-size (a guint): 8 bytes a span. */
typedef struct
{
  guint32 offset;
  guint32 length;
} Span;

struct _BayeuxElements
{
  gatomicrefcount ref_count;
  GBytes         *body;
  GArray         *spans;       /* Span, of each element in @body */
  guint           deliveries;
};

/* Skips a string, s->p on its opening quote; whether it is the member name
 * "successful" (escapes are not looked into: no server escapes it). */
static gboolean
skip_string (Scanner  *s,
             gboolean *successful)
{
  const char *start = ++s->p;

  while (s->p < s->end && *s->p != '"')
    s->p += (*s->p == '\\' && s->end - s->p > 1) ? 2 : 1;
  if (s->p >= s->end)
    {
      s->p = s->end;
      s->why = "an unterminated string";
      return FALSE;
    }
  *successful = s->p - start == 10 && memcmp (start, "successful", 10) == 0;
  s->p++;
  return TRUE;
}

/* Skips one value, s->p on its first byte, checking only what the split
 * needs: nesting (no deeper than @max_depth, brackets matched), strings
 * closed. Adds 1 to *@deliveries for an object without a `successful`
 * member. */
static gboolean
skip_value (Scanner *s,
            guint    max_depth,
            guint   *deliveries)
{
  char closing[BAYEUX_MAX_JSON_DEPTH];
  guint depth = 0;
  gboolean top_object = s->p < s->end && *s->p == '{';
  gboolean has_successful = FALSE;

  while (s->p < s->end)
    {
      char c = *s->p;

      if (c == '"')
        {
          gboolean successful;
          if (!skip_string (s, &successful))
            return FALSE;
          /* A member name of the element itself (depth 1, then ':'). */
          if (successful && depth == 1 && top_object)
            {
              Scanner after = *s;
              skip_space (&after);
              has_successful |= after.p < after.end && *after.p == ':';
            }
        }
      else if (c == '[' || c == '{')
        {
          if (depth == max_depth)
            {
              s->why = "nesting deeper than the limit";
              return FALSE;
            }
          closing[depth++] = c == '[' ? ']' : '}';
          s->p++;
        }
      else if (c == ']' || c == '}')
        {
          if (depth == 0)
            break;   /* the end of the enclosing array */
          if (c != closing[depth - 1])
            {
              s->why = "a mismatched closing bracket";
              return FALSE;
            }
          s->p++;
          depth--;
        }
      else if (c == ',' && depth == 0)
        break;
      else
        s->p++;
      if (depth == 0 && (c == ']' || c == '}' || c == '"'))
        break;
    }
  if (depth > 0)
    {
      s->why = "an unterminated array or object";
      return FALSE;
    }
  if (top_object && !has_successful)
    (*deliveries)++;
  return TRUE;
}

BayeuxElements *
bayeux_elements_split (GBytes  *body,
                       GError **error)
{
  gsize length;
  const char *data = g_bytes_get_data (body, &length);   /* NULL when empty */
  Scanner scanner = { data, data, NULL };
  Scanner *s = &scanner;
  g_autoptr(GArray) spans = NULL;
  guint deliveries = 0;
  const char *invalid;
  BayeuxElements *self;

  if (length == 0 || data == NULL)
    {
      g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE, "Bad response: empty body");
      return NULL;
    }
  if (length > G_MAXUINT32)
    {
      g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE, "Bad response: larger than 4 GiB");
      return NULL;
    }
  if (!g_utf8_validate_len (data, length, &invalid))
    {
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                   "Bad response: not valid UTF-8 at byte %" G_GSIZE_FORMAT, (gsize) (invalid - data));
      return NULL;
    }

  scanner.end = data + length;
  spans = g_array_new (FALSE, FALSE, sizeof (Span));
  skip_space (s);
  if (s->p < s->end && *s->p == '{')
    {
      /* One message object: an array of one. */
      Span span = { 0, 0 };

      span.offset = (guint32) (s->p - data);
      if (!skip_value (s, BAYEUX_MAX_JSON_DEPTH, &deliveries))
        goto bad;
      span.length = (guint32) (s->p - data) - span.offset;
      g_array_append_val (spans, span);
    }
  else if (s->p < s->end && *s->p == '[')
    {
      s->p++;
      skip_space (s);
      if (s->p < s->end && *s->p == ']')
        s->p++;
      else
        for (;;)
          {
            Span span = { (guint32) (s->p - data), 0 };

            if (s->p >= s->end || *s->p == ',' || *s->p == ']')
              {
                s->why = "a missing array element";
                goto bad;
              }
            /* The array is one level: as deep as bayeux_json_parse() lets
             * the whole body nest. */
            if (!skip_value (s, BAYEUX_MAX_JSON_DEPTH - 1, &deliveries))
              goto bad;
            span.length = (guint32) (s->p - data) - span.offset;
            g_array_append_val (spans, span);
            skip_space (s);
            if (s->p < s->end && *s->p == ',')
              {
                s->p++;
                skip_space (s);
                continue;
              }
            if (s->p < s->end && *s->p == ']')
              {
                s->p++;
                break;
              }
            s->why = "a missing ',' or ']'";
            goto bad;
          }
    }
  else
    {
      g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                           "Bad response: not an array of Bayeux messages");
      return NULL;
    }
  skip_space (s);
  if (s->p != s->end)
    {
      s->why = "data after the JSON value";
      goto bad;
    }

  self = g_new0 (BayeuxElements, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->body = g_bytes_ref (body);
  self->spans = g_steal_pointer (&spans);
  self->deliveries = deliveries;
  return self;

bad:
  g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE, "Bad response: not JSON: %s at byte %" G_GSIZE_FORMAT,
               s->why ? s->why : "a syntax error", (gsize) (s->p - data));
  return NULL;
}

BayeuxElements *
bayeux_elements_ref (BayeuxElements *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
bayeux_elements_unref (BayeuxElements *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_clear_pointer (&self->body, g_bytes_unref);
  g_clear_pointer (&self->spans, g_array_unref);
  g_free (self);
}

guint
bayeux_elements_get_length (BayeuxElements *self)
{
  return self->spans->len;
}

guint
bayeux_elements_get_deliveries (BayeuxElements *self)
{
  return self->deliveries;
}

JsonNode *
bayeux_elements_parse (BayeuxElements *self,
                       guint           index,
                       GError        **error)
{
  const Span *span = &g_array_index (self->spans, Span, index);

  /* The split checked the whole body is UTF-8, and a span starts and ends
   * at ASCII bytes (after '[' or ',', before ',' or ']'): so is the span. */
  return parse_valid_utf8 ((const char *) g_bytes_get_data (self->body, NULL) + span->offset, span->length, error);
}

JsonArray *
bayeux_elements_to_array (BayeuxElements *self,
                          GError        **error)
{
  g_autoptr(JsonArray) array = json_array_sized_new (self->spans->len);

  for (guint i = 0; i < self->spans->len; i++)
    {
      JsonNode *element = bayeux_elements_parse (self, i, error);
      if (element == NULL)
        return NULL;
      json_array_add_element (array, element);
    }
  return g_steal_pointer (&array);
}

/* The copy */

/* Keeps the order of members. */
JsonNode *
bayeux_json_deep_copy (JsonNode *node)
{
  JsonNode *copy;

  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *source = json_node_get_object (node);
        JsonObject *object = json_object_new ();
        g_autoptr(GList) names = json_object_get_members (source);   /* in order */

        for (GList *l = names; l != NULL; l = l->next)
          json_object_set_member (object, l->data, bayeux_json_deep_copy (json_object_get_member (source, l->data)));
        copy = json_node_init_object (json_node_alloc (), object);
        json_object_unref (object);
        return copy;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *source = json_node_get_array (node);
        JsonArray *array = json_array_sized_new (json_array_get_length (source));

        for (guint i = 0; i < json_array_get_length (source); i++)
          json_array_add_element (array, bayeux_json_deep_copy (json_array_get_element (source, i)));
        copy = json_node_init_array (json_node_alloc (), array);
        json_array_unref (array);
        return copy;
      }
    case JSON_NODE_VALUE:
    case JSON_NODE_NULL:
    default:
      return json_node_copy (node);
    }
}

/* The getters (their contracts are in the header) */

/* The one place that looks at a member's type: each other getter is this
 * one and a json_node_get_*(). A JSON null has no value type. */
JsonNode *
bayeux_json_get_member (JsonObject *object,
                        const char *name,
                        GType       type)
{
  JsonNode *node;

  if (object == NULL)
    return NULL;
  node = json_object_get_member (object, name);
  if (node == NULL || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

const char *
bayeux_json_get_string (JsonObject *object,
                        const char *name)
{
  JsonNode *node = bayeux_json_get_member (object, name, G_TYPE_STRING);

  return node != NULL ? json_node_get_string (node) : NULL;
}

JsonObject *
bayeux_json_get_object (JsonObject *object,
                        const char *name)
{
  JsonNode *node = bayeux_json_get_member (object, name, JSON_TYPE_OBJECT);

  return node != NULL ? json_node_get_object (node) : NULL;
}

JsonArray *
bayeux_json_get_array (JsonObject *object,
                       const char *name)
{
  JsonNode *node = bayeux_json_get_member (object, name, JSON_TYPE_ARRAY);

  return node != NULL ? json_node_get_array (node) : NULL;
}

gboolean
bayeux_json_get_int (JsonObject *object,
                     const char *name,
                     gint64     *out)
{
  JsonNode *node = bayeux_json_get_member (object, name, G_TYPE_INT64);

  if (node == NULL)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

/* A double only when it is not an integer: one lookup for the common case. */
gboolean
bayeux_json_get_number (JsonObject *object,
                        const char *name,
                        double     *out)
{
  JsonNode *node = bayeux_json_get_member (object, name, G_TYPE_INT64);

  if (node != NULL)
    *out = (double) json_node_get_int (node);
  else if ((node = bayeux_json_get_member (object, name, G_TYPE_DOUBLE)) != NULL)
    *out = json_node_get_double (node);
  return node != NULL;
}

gboolean
bayeux_json_is_true (JsonObject *object,
                     const char *name)
{
  JsonNode *node = bayeux_json_get_member (object, name, G_TYPE_BOOLEAN);

  return node != NULL && json_node_get_boolean (node);
}

JsonObject *
bayeux_json_ensure_object (JsonObject *object,
                           const char *name)
{
  JsonNode *node = json_object_get_member (object, name);
  JsonObject *added;

  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    return bayeux_json_get_object (object, name);
  added = json_object_new ();
  json_object_set_object_member (object, name, added);
  return added;
}

/* Raw text: a member's value as it came, and JSON text from the
 * application */

void
bayeux_elements_get_span (BayeuxElements *self,
                          guint           index,
                          BayeuxSpan     *out)
{
  const Span *span = &g_array_index (self->spans, Span, index);

  out->body = self->body;
  out->offset = span->offset;
  out->length = span->length;
}

static const char *
raw_skip_space (const char *p,
                const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* Past the string @p is on (its opening quote); *@escaped is set when it
 * holds a backslash. */
static const char *
raw_skip_string (const char *p,
                 const char *end,
                 gboolean   *escaped)
{
  for (p++; p < end; p++)
    {
      if (*p == '\\')
        {
          *escaped = TRUE;
          p++;
        }
      else if (*p == '"')
        return p + 1;
    }
  return end;
}

/* Past the value @p is on, in text known to be valid JSON. */
static const char *
raw_skip_value (const char *p,
                const char *end)
{
  gsize depth = 0;

  while (p < end)
    {
      char c = *p;
      gboolean escaped = FALSE;

      if (c == '"')
        {
          p = raw_skip_string (p, end, &escaped);
          if (depth == 0)
            return p;
          continue;
        }
      if (c == '{' || c == '[')
        depth++;
      else if (c == '}' || c == ']')
        {
          if (depth == 0)
            return p;       /* a scalar ended by its container */
          if (--depth == 0)
            return p + 1;
        }
      else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'))
        return p;           /* a scalar ended */
      p++;
    }
  return p;
}

gboolean
bayeux_json_find_member (const char *data,
                         gsize       length,
                         const char *name,
                         gsize      *offset,
                         gsize      *value_length)
{
  const char *end = data + length;
  const char *p = raw_skip_space (data, end);
  gsize name_length = strlen (name);

  if (p >= end || *p != '{')
    return FALSE;
  p = raw_skip_space (p + 1, end);
  while (p < end && *p == '"')
    {
      const char *start = p;
      const char *value;
      gboolean escaped = FALSE;
      gboolean match;

      p = raw_skip_string (p, end, &escaped);
      if (!escaped)
        match = (gsize) (p - start) == name_length + 2 && memcmp (start + 1, name, name_length) == 0;
      else
        {
          /* A name spelled with escapes: compared unescaped. */
          Scanner s = { start, end, NULL };
          g_autoptr(GString) unescaped = g_string_new (NULL);

          /* (As the parser names the member: up to a \u0000.) */
          match = scan_string (&s, unescaped) && g_str_equal (unescaped->str, name);
        }
      p = raw_skip_space (p, end);
      if (p >= end || *p != ':')
        return FALSE;
      value = raw_skip_space (p + 1, end);
      p = raw_skip_value (value, end);
      if (match)
        {
          *offset = (gsize) (value - data);
          *value_length = (gsize) (p - value);
          return p > value;
        }
      p = raw_skip_space (p, end);
      if (p >= end || *p != ',')
        return FALSE;
      p = raw_skip_space (p + 1, end);
    }
  return FALSE;
}

/* Whether @node holds a number a double cannot hold (parsed as an
 * infinity: json-glib would write it as "inf.0", which is not JSON). */
static gboolean
holds_infinity (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        JsonNode *member;

        json_object_iter_init (&iter, json_node_get_object (node));
        while (json_object_iter_next (&iter, NULL, &member))
          if (holds_infinity (member))
            return TRUE;
        return FALSE;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        for (guint i = 0; i < json_array_get_length (array); i++)
          if (holds_infinity (json_array_get_element (array, i)))
            return TRUE;
        return FALSE;
      }
    case JSON_NODE_VALUE:
      return json_node_get_value_type (node) == G_TYPE_DOUBLE && !isfinite (json_node_get_double (node));
    case JSON_NODE_NULL:
    default:
      return FALSE;
    }
}

JsonNode *
bayeux_json_parse_text (const char  *text,
                        GError     **error)
{
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(JsonNode) node = bayeux_json_parse (text, strlen (text), &parse_error);
  const char *why;

  if (node == NULL)
    {
      /* The parser words its errors for what servers send. */
      why = parse_error->message;
      if (g_str_has_prefix (why, "Bad response: "))
        why += strlen ("Bad response: ");
      if (g_str_has_prefix (why, "not JSON: "))
        why += strlen ("not JSON: ");
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_JSON, "Invalid JSON text: %s", why);
      return NULL;
    }
  if (holds_infinity (node))
    {
      g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_JSON,
                           "Invalid JSON text: a number too large for a double");
      return NULL;
    }
  return g_steal_pointer (&node);
}
