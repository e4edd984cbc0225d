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
#include "bayeux-envelope-private.h"
#include "bayeux-error.h"

#include <math.h>
#include <string.h>

/* The parser */

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
            int unit = bayeux_hex4 (s->p + 1, s->end);
            gunichar ch = (gunichar) unit;

            if (unit >= 0xD800 && unit <= 0xDBFF)
              {
                /* a high surrogate must be followed by a low one */
                const char *q = s->p + 5;
                int low = (s->end - q >= 6 && q[0] == '\\' && q[1] == 'u') ? bayeux_hex4 (q + 2, s->end) : -1;
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
JsonNode *
bayeux_json_parse_utf8 (const char  *data,
                        gsize        length,
                        GError     **error)
{
  return parse_valid_utf8 (data, length, error);
}

/* The parser's two buffers (a member's name, a string value), kept for
 * the next parse on the same thread: a message's parse used to allocate
 * and free them each time. */
typedef struct
{
  GString *name;
  GString *text;
} Scratch;

/* Buffers larger than this are not kept (one huge string in a message). */
#define SCRATCH_KEEP 65536

static void
scratch_free (gpointer data)
{
  Scratch *scratch = data;

  g_string_free (scratch->name, TRUE);
  g_string_free (scratch->text, TRUE);
  g_free (scratch);
}

static GPrivate scratch_key = G_PRIVATE_INIT (scratch_free);

/* The thread's buffers, taken (NULL in the thread's slot meanwhile: a
 * parse never nests, but this keeps it right if one did). */
static Scratch *
scratch_take (void)
{
  Scratch *scratch = g_private_get (&scratch_key);

  if (scratch == NULL)
    {
      scratch = g_new (Scratch, 1);
      scratch->name = g_string_sized_new (32);
      scratch->text = g_string_sized_new (64);
    }
  else
    g_private_set (&scratch_key, NULL);
  return scratch;
}

static void
scratch_give_back (Scratch *scratch)
{
  if (scratch->name->allocated_len > SCRATCH_KEEP || scratch->text->allocated_len > SCRATCH_KEEP ||
      g_private_get (&scratch_key) != NULL)
    scratch_free (scratch);
  else
    g_private_set (&scratch_key, scratch);
}

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
  Scratch *scratch = scratch_take ();
  GString *name = scratch->name;     /* a member's name, until its value is made */
  GString *text = scratch->text;     /* a string value */
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
              scratch_give_back (scratch);
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
  scratch_give_back (scratch);
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

/* Bodies are bounded by max-response-size (a guint): 8 bytes a span. A
 * refused element (larger than the split's limit for one message) has
 * SPAN_REFUSED as its length and its offset in the body as the server sent
 * it; what else is known of it is in a Refused record. */
typedef struct
{
  guint32 offset;
  guint32 length;
} Span;

#define SPAN_REFUSED G_MAXUINT32

typedef struct
{
  guint  index;
  gsize  offset;     /* in the body as the server sent it */
  gsize  size;
  char  *id;         /* of the request it replies to: it has `successful` and an id */
} Refused;

struct _BayeuxElements
{
  gatomicrefcount ref_count;
  GBytes         *body;        /* the elements' bytes (of a streamed body: those kept) */
  GArray         *spans;       /* Span, of each element in @body */
  GArray         *refused;     /* Refused, or NULL when none was */
  gsize           max_element;
  guint           deliveries;
};

static void
refused_clear (gpointer data)
{
  g_free (((Refused *) data)->id);
}

/* What a depth-1 string of an object element was, when a ':' follows it. */
enum { NAME_OTHER, NAME_SUCCESSFUL, NAME_ID };
/* The element's id: not met yet, being read (a string, an integer), read,
 * or not one we can match (escaped, too long, not an integer). */
enum { ID_NONE, ID_STRING, ID_NUMBER, ID_DONE, ID_BAD };

#define ID_MAX 64
#define HEAD_MAX 16

/* What the scan knows of the element it is in. */
typedef struct
{
  gsize       start;         /* its offset in the body */
  gsize       kept_start;    /* streamed: its offset in kept */
  gboolean    too_large;
  guint       max_depth;
  guint       depth;
  gboolean    top_object;
  gboolean    has_successful;
  gboolean    in_string;
  gboolean    escape;        /* in a string, after a backslash */
  gboolean    head_wanted;   /* the string is at depth 1 of an object: its start is kept */
  guint       string_len;
  char        head[HEAD_MAX];
  guint       name;          /* a depth-1 string just ended: NAME_*, until the next byte that is not space */
  gboolean    name_pending;
  gboolean    id_next;       /* after "id" ':': the next value is the id */
  guint       id_state;
  guint       id_len;
  char        id[ID_MAX + 1];
} ElementScan;

typedef enum
{
  SPLIT_START,     /* before the body's value */
  SPLIT_FIRST,     /* after '[': an element or ']' */
  SPLIT_NEXT,      /* after ',': an element */
  SPLIT_ELEMENT,   /* in an element */
  SPLIT_AFTER,     /* after an element: ',' or ']' */
  SPLIT_END,       /* after the body's value: white space only */
  SPLIT_FAILED,
} SplitState;

/* The scanner of a body, resumable at any byte: the one-shot split is one
 * feed of the whole body. It checks only what the split needs (UTF-8,
 * nesting, brackets matched, strings closed, commas between elements);
 * each element is checked when it is parsed. */
struct _BayeuxSplitter
{
  SplitState  state;
  gboolean    single;        /* the body is one message object, not an array */
  gsize       max_element;
  gsize       consumed;      /* bytes of the body scanned */
  GByteArray *kept;          /* streamed: the bytes of the elements kept; one-shot: NULL */
  GArray     *spans;
  GArray     *refused;
  guint       deliveries;
  GError     *error;

  /* A UTF-8 sequence cut by the end of a chunk. */
  guchar      pending[4];
  guint       pending_len;
  gsize       pending_at;

  /* The element being scanned. */
  ElementScan el;
  char        closing[BAYEUX_MAX_JSON_DEPTH];
};

static inline gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static gboolean
split_fail (BayeuxSplitter *self,
            const char     *why,
            gsize           at)
{
  self->state = SPLIT_FAILED;
  if (self->error == NULL)
    self->error = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE, "Bad response: not JSON: %s at byte %"
                               G_GSIZE_FORMAT, why, at);
  return FALSE;
}

static void
element_begin (BayeuxSplitter *self,
               char            first,
               gsize           at,
               guint           max_depth)
{
  self->state = SPLIT_ELEMENT;
  self->el = (ElementScan) {
    .start = at,
    .kept_start = self->kept != NULL ? self->kept->len : 0,
    .max_depth = max_depth,
    .top_object = first == '{',
  };
}

/* The element being scanned ends before body offset @at. */
static void
element_end (BayeuxSplitter *self,
             gsize           at)
{
  gsize size = at - self->el.start;

  if (self->el.top_object && !self->el.has_successful)
    self->deliveries++;
  if (size > self->max_element)
    self->el.too_large = TRUE;
  if (self->el.too_large)
    {
      Span span = { (guint32) self->el.start, SPAN_REFUSED };
      Refused refused = { self->spans->len, self->el.start, size, NULL };

      if (self->kept != NULL)
        g_byte_array_set_size (self->kept, (guint) self->el.kept_start);
      if (self->el.has_successful && self->el.id_state == ID_DONE)
        refused.id = g_strndup (self->el.id, self->el.id_len);
      if (self->refused == NULL)
        {
          self->refused = g_array_new (FALSE, FALSE, sizeof (Refused));
          g_array_set_clear_func (self->refused, refused_clear);
        }
      g_array_append_val (self->refused, refused);
      g_array_append_val (self->spans, span);
    }
  else
    {
      Span span = { (guint32) (self->kept != NULL ? self->el.kept_start : self->el.start), (guint32) size };

      g_array_append_val (self->spans, span);
    }
  self->state = self->single ? SPLIT_END : SPLIT_AFTER;
}

/* Keeps the element's bytes [@from, @to) of a streamed body, while it is
 * within the limit; past it, drops what was kept of it. */
static void
element_keep (BayeuxSplitter *self,
              const char     *from,
              const char     *to,
              gsize           to_at)
{
  if (self->kept == NULL || self->el.too_large)
    return;
  if (to_at - self->el.start > self->max_element)
    {
      self->el.too_large = TRUE;
      g_byte_array_set_size (self->kept, (guint) self->el.kept_start);
      return;
    }
  g_byte_array_append (self->kept, (const guint8 *) from, (guint) (to - from));
}

/* The id's bytes [@from, @to), of a string or an integer. */
static void
id_add (BayeuxSplitter *self,
        const char     *from,
        const char     *to)
{
  if (self->el.id_len + (gsize) (to - from) > ID_MAX || memchr (from, '\\', to - from) != NULL)
    {
      self->el.id_state = ID_BAD;
      return;
    }
  memcpy (self->el.id + self->el.id_len, from, to - from);
  self->el.id_len += (guint) (to - from);
}

/* An integer id ends: made as json-glib's getter prints it. */
static void
id_number_end (BayeuxSplitter *self,
               char            next)
{
  gint64 value;

  self->el.id[self->el.id_len] = '\0';
  if (next == '.' || next == 'e' || next == 'E' || self->el.id_len == 0 ||
      !g_ascii_string_to_signed (self->el.id, 10, G_MININT64, G_MAXINT64, &value, NULL))
    {
      self->el.id_state = ID_BAD;
      return;
    }
  self->el.id_len = (guint) g_snprintf (self->el.id, sizeof self->el.id, "%" G_GINT64_FORMAT, value);
  self->el.id_state = ID_DONE;
}

/* Scans the element from @p (@data: the chunk, at body offset
 * self->consumed); returns where it stopped: at @end still in it, or with
 * *@ended just after its last byte (a closing bracket or quote) or on the
 * ',' or ']' after it; NULL on an error. */
static const char *
scan_element (BayeuxSplitter *self,
              const char     *data,
              const char     *p,
              const char     *end,
              gboolean       *ended)
{
  *ended = TRUE;
  while (p < end)
    {
      char c;

      if (self->el.in_string)
        {
          const char *run = p;
          const char *whole;
          gboolean closed = FALSE;

          if (self->el.escape)
            {
              self->el.escape = FALSE;
              p++;
            }
          while (p < end)
            {
              c = *p;
              if (c == '"')
                {
                  closed = TRUE;
                  break;
                }
              if (c == '\\')
                {
                  if (end - p > 1)
                    p += 2;
                  else
                    {
                      self->el.escape = TRUE;
                      p++;
                    }
                  continue;
                }
              p++;
            }
          /* A name across chunks is kept to be compared at its end (one
           * within this chunk is compared where it is). */
          if (self->el.head_wanted && (!closed || self->el.string_len > 0) && self->el.string_len < HEAD_MAX)
            memcpy (self->el.head + self->el.string_len, run, MIN ((gsize) (p - run), HEAD_MAX - self->el.string_len));
          if (self->el.id_state == ID_STRING)
            id_add (self, run, p);
          whole = self->el.string_len == 0 ? run : NULL;
          self->el.string_len += (guint) MIN ((gsize) (p - run), G_MAXUINT - self->el.string_len);
          if (!closed)
            {
              *ended = FALSE;
              return p;
            }

          /* The closing quote. */
          p++;
          self->el.in_string = FALSE;
          if (self->el.id_state == ID_STRING)
            self->el.id_state = ID_DONE;
          if (self->el.head_wanted)
            {
              const char *name = whole != NULL ? whole : self->el.head;

              if (self->el.string_len == 10 && memcmp (name, "successful", 10) == 0)
                self->el.name = NAME_SUCCESSFUL;
              else if (self->el.string_len == 2 && name[0] == 'i' && name[1] == 'd')
                self->el.name = NAME_ID;
              else
                self->el.name = NAME_OTHER;
              self->el.name_pending = self->el.name != NAME_OTHER;
            }
          if (self->el.depth == 0)
            return p;   /* the element was a string */
          continue;
        }

      c = *p;
      /* Nothing to watch (nearly always): straight to the structure. */
      if (G_LIKELY (!self->el.name_pending && !self->el.id_next && self->el.id_state != ID_NUMBER))
        goto structure;
      if (self->el.id_state == ID_NUMBER && !(c >= '0' && c <= '9'))
        id_number_end (self, c);
      if (is_space (c))
        {
          p++;
          continue;
        }
      if (self->el.name_pending)
        {
          self->el.name_pending = FALSE;
          if (c == ':')
            {
              if (self->el.name == NAME_SUCCESSFUL)
                self->el.has_successful = TRUE;
              else if (self->el.id_state == ID_NONE)
                {
                  self->el.id_next = TRUE;
                  p++;
                  continue;
                }
            }
        }
      if (self->el.id_next)
        {
          self->el.id_next = FALSE;
          if (c == '"')
            self->el.id_state = ID_STRING;
          else if (c == '-' || (c >= '0' && c <= '9'))
            self->el.id_state = ID_NUMBER;
          else
            self->el.id_state = ID_BAD;
          if (c == '-')
            {
              self->el.id[self->el.id_len++] = '-';
              p++;
              continue;
            }
        }

    structure:
      switch (c)
        {
        case '"':
          self->el.in_string = TRUE;
          self->el.head_wanted = self->el.depth == 1 && self->el.top_object;
          self->el.string_len = 0;
          p++;
          break;
        case '[':
        case '{':
          if (self->el.depth == self->el.max_depth)
            {
              split_fail (self, "nesting deeper than the limit", self->consumed + (gsize) (p - data));
              return NULL;
            }
          self->closing[self->el.depth++] = c == '[' ? ']' : '}';
          p++;
          break;
        case ']':
        case '}':
          if (self->el.depth == 0)
            return p;   /* the end of the enclosing array (or not JSON) */
          if (c != self->closing[self->el.depth - 1])
            {
              split_fail (self, "a mismatched closing bracket", self->consumed + (gsize) (p - data));
              return NULL;
            }
          p++;
          if (--self->el.depth == 0)
            return p;
          break;
        case ',':
          if (self->el.depth == 0)
            return p;
          p++;
          break;
        default:
          if (self->el.id_state == ID_NUMBER)
            {
              if (self->el.id_len >= ID_MAX)
                self->el.id_state = ID_BAD;
              else
                self->el.id[self->el.id_len++] = c;
            }
          p++;
          break;
        }
    }
  *ended = FALSE;
  return p;
}

/* Whether [@p, @p + @n) (n < 4) can begin a UTF-8 sequence that a next
 * chunk completes. */
static gboolean
utf8_prefix (const guchar *p,
             gsize         n)
{
  guchar candidate[4];
  gsize want;

  if (p[0] >= 0xC2 && p[0] <= 0xDF)
    want = 2;
  else if (p[0] >= 0xE0 && p[0] <= 0xEF)
    want = 3;
  else if (p[0] >= 0xF0 && p[0] <= 0xF4)
    want = 4;
  else
    return FALSE;
  if (n >= want)
    return FALSE;
  /* Completed with the smallest continuation bytes each lead allows. */
  memcpy (candidate, p, n);
  for (gsize i = n; i < want; i++)
    candidate[i] = i > 1 ? 0x80 : p[0] == 0xE0 ? 0xA0 : p[0] == 0xF0 ? 0x90 : 0x80;
  return g_utf8_validate_len ((const char *) candidate, want, NULL);
}

/* Checks that a chunk is UTF-8, a sequence cut at its end completed by the
 * next one. */
static gboolean
split_validate (BayeuxSplitter *self,
                const char     *data,
                gsize           length)
{
  const char *invalid;
  gsize at = self->consumed;

  if (self->pending_len > 0)
    {
      gsize want = self->pending[0] >= 0xF0 ? 4 : self->pending[0] >= 0xE0 ? 3 : 2;
      gsize take = MIN (want - self->pending_len, length);

      memcpy (self->pending + self->pending_len, data, take);
      self->pending_len += (guint) take;
      data += take;
      length -= take;
      at += take;
      if (self->pending_len < want)
        {
          if (utf8_prefix (self->pending, self->pending_len))
            return TRUE;
        }
      else if (g_utf8_validate_len ((const char *) self->pending, want, NULL))
        self->pending_len = 0;
      if (self->pending_len > 0)
        goto bad_pending;
    }
  if (g_utf8_validate_len (data, length, &invalid))
    return TRUE;
  if ((gsize) (data + length - invalid) < 4 && utf8_prefix ((const guchar *) invalid, data + length - invalid))
    {
      self->pending_len = (guint) (data + length - invalid);
      memcpy (self->pending, invalid, self->pending_len);
      self->pending_at = at + (gsize) (invalid - data);
      return TRUE;
    }
  self->pending_at = at + (gsize) (invalid - data);

bad_pending:
  self->state = SPLIT_FAILED;
  self->error = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                             "Bad response: not valid UTF-8 at byte %" G_GSIZE_FORMAT, self->pending_at);
  return FALSE;
}

/* Scans @data, the next @length bytes of the body, already known to be
 * UTF-8. */
static gboolean
split_scan (BayeuxSplitter *self,
            const char     *data,
            gsize           length)
{
  const char *p = data;
  const char *end = data + length;

  while (p < end)
    {
      char c;

      if (self->state == SPLIT_ELEMENT)
        {
          const char *from = self->el.start > self->consumed ? data + (self->el.start - self->consumed) : data;
          gboolean ended;
          const char *stop = scan_element (self, data, p, end, &ended);

          if (stop == NULL)
            return FALSE;
          if (!ended)
            {
              element_keep (self, from, end, self->consumed + length);
              p = end;
              break;
            }
          element_keep (self, from, stop, self->consumed + (gsize) (stop - data));
          element_end (self, self->consumed + (gsize) (stop - data));
          p = stop;
          continue;
        }

      c = *p;
      if (is_space (c))
        {
          p++;
          continue;
        }
      switch (self->state)
        {
        case SPLIT_START:
          if (c == '[')
            {
              self->state = SPLIT_FIRST;
              p++;
            }
          else if (c == '{')
            {
              /* One message object: an array of one. */
              self->single = TRUE;
              element_begin (self, c, self->consumed + (gsize) (p - data), BAYEUX_MAX_JSON_DEPTH);
            }
          else
            {
              self->state = SPLIT_FAILED;
              self->error = g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                                 "Bad response: not an array of Bayeux messages");
              return FALSE;
            }
          break;
        case SPLIT_FIRST:
          if (c == ']')
            {
              self->state = SPLIT_END;
              p++;
              break;
            }
          G_GNUC_FALLTHROUGH;
        case SPLIT_NEXT:
          if (c == ',' || c == ']')
            return split_fail (self, "a missing array element", self->consumed + (gsize) (p - data));
          /* The array is one level: as deep as bayeux_json_parse() lets
           * the whole body nest. */
          element_begin (self, c, self->consumed + (gsize) (p - data), BAYEUX_MAX_JSON_DEPTH - 1);
          break;
        case SPLIT_AFTER:
          if (c == ',')
            self->state = SPLIT_NEXT;
          else if (c == ']')
            self->state = SPLIT_END;
          else
            return split_fail (self, "a missing ',' or ']'", self->consumed + (gsize) (p - data));
          p++;
          break;
        case SPLIT_END:
          return split_fail (self, "data after the JSON value", self->consumed + (gsize) (p - data));
        case SPLIT_ELEMENT:
        case SPLIT_FAILED:
        default:
          g_assert_not_reached ();
        }
    }
  self->consumed += length;
  return TRUE;
}

/* A splitter of a body that comes in chunks: elements larger than
 * @max_element bytes are refused (their bytes not kept past the limit),
 * the others kept, so that what it holds is the body less the refused
 * elements and the bytes between elements. */
BayeuxSplitter *
bayeux_splitter_new (gsize max_element)
{
  BayeuxSplitter *self = g_new0 (BayeuxSplitter, 1);

  self->max_element = max_element;
  self->kept = g_byte_array_new ();
  self->spans = g_array_new (FALSE, FALSE, sizeof (Span));
  return self;
}

void
bayeux_splitter_free (BayeuxSplitter *self)
{
  g_clear_pointer (&self->kept, g_byte_array_unref);
  g_clear_pointer (&self->spans, g_array_unref);
  g_clear_pointer (&self->refused, g_array_unref);
  g_clear_error (&self->error);
  g_free (self);
}

gboolean
bayeux_splitter_feed (BayeuxSplitter *self,
                      const char     *data,
                      gsize           length,
                      GError        **error)
{
  if (self->state != SPLIT_FAILED && self->consumed + length > G_MAXUINT32)
    {
      self->state = SPLIT_FAILED;
      self->error = g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE,
                                         "Bad response: larger than 4 GiB");
    }
  if (self->state != SPLIT_FAILED && length > 0)
    {
      if (split_validate (self, data, length))
        split_scan (self, data, length);
    }
  if (self->state == SPLIT_FAILED)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }
  return TRUE;
}

gsize
bayeux_splitter_get_kept (BayeuxSplitter *self)
{
  return self->kept != NULL ? self->kept->len : 0;
}

/* The end of the body: what it held, or NULL with @error. @body: the
 * whole body (one-shot) or NULL (streamed: the bytes kept). */
static BayeuxElements *
split_finish (BayeuxSplitter *self,
              GBytes         *body,
              GError        **error)
{
  BayeuxElements *elements;

  if (self->state == SPLIT_FAILED)
    goto failed;
  if (self->pending_len > 0)
    {
      self->state = SPLIT_FAILED;
      self->error = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                 "Bad response: not valid UTF-8 at byte %" G_GSIZE_FORMAT, self->pending_at);
      goto failed;
    }
  switch (self->state)
    {
    case SPLIT_START:
      self->state = SPLIT_FAILED;
      self->error = g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                         self->consumed == 0 ? "Bad response: empty body"
                                                             : "Bad response: not an array of Bayeux messages");
      goto failed;
    case SPLIT_FIRST:
    case SPLIT_NEXT:
      split_fail (self, "a missing array element", self->consumed);
      goto failed;
    case SPLIT_ELEMENT:
      if (self->el.in_string)
        split_fail (self, "an unterminated string", self->consumed);
      else if (self->el.depth > 0)
        split_fail (self, "an unterminated array or object", self->consumed);
      else
        split_fail (self, self->single ? "data after the JSON value" : "a missing ',' or ']'", self->consumed);
      goto failed;
    case SPLIT_AFTER:
      split_fail (self, "a missing ',' or ']'", self->consumed);
      goto failed;
    case SPLIT_END:
    case SPLIT_FAILED:
    default:
      break;
    }

  elements = g_new0 (BayeuxElements, 1);
  g_atomic_ref_count_init (&elements->ref_count);
  elements->body = body != NULL ? g_bytes_ref (body) : g_byte_array_free_to_bytes (g_steal_pointer (&self->kept));
  elements->spans = g_steal_pointer (&self->spans);
  elements->refused = g_steal_pointer (&self->refused);
  elements->max_element = self->max_element;
  elements->deliveries = self->deliveries;
  return elements;

failed:
  g_propagate_error (error, g_error_copy (self->error));
  return NULL;
}

BayeuxElements *
bayeux_splitter_finish (BayeuxSplitter *self,
                        GError        **error)
{
  return split_finish (self, NULL, error);
}

BayeuxElements *
bayeux_elements_split_limited (GBytes  *body,
                               gsize    max_element,
                               GError **error)
{
  gsize length;
  const char *data = g_bytes_get_data (body, &length);   /* NULL when empty */
  BayeuxSplitter splitter = { 0 };
  BayeuxElements *self = NULL;
  const char *invalid;

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
  /* The whole body first: a bad byte anywhere is the answer, wherever the
   * scan would stop. */
  if (!g_utf8_validate_len (data, length, &invalid))
    {
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                   "Bad response: not valid UTF-8 at byte %" G_GSIZE_FORMAT, (gsize) (invalid - data));
      return NULL;
    }

  /* One feed, nothing kept: the spans are the body's own. */
  splitter.max_element = max_element;
  splitter.spans = g_array_new (FALSE, FALSE, sizeof (Span));
  if (split_scan (&splitter, data, length))
    self = split_finish (&splitter, body, error);
  else
    g_propagate_error (error, g_steal_pointer (&splitter.error));
  g_clear_pointer (&splitter.spans, g_array_unref);
  g_clear_pointer (&splitter.refused, g_array_unref);
  g_clear_error (&splitter.error);
  return self;
}

BayeuxElements *
bayeux_elements_split (GBytes  *body,
                       GError **error)
{
  return bayeux_elements_split_limited (body, G_MAXSIZE, error);
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
  g_clear_pointer (&self->refused, g_array_unref);
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

guint
bayeux_elements_get_refused (BayeuxElements *self)
{
  return self->refused != NULL ? self->refused->len : 0;
}

/* The refused elements are in index order: a binary search (a hostile
 * answer may refuse a million of them). */
static const Refused *
find_refused (BayeuxElements *self,
              guint           index)
{
  guint low = 0;
  guint high = self->refused != NULL ? self->refused->len : 0;

  while (low < high)
    {
      guint mid = low + (high - low) / 2;
      const Refused *refused = &g_array_index (self->refused, Refused, mid);

      if (refused->index == index)
        return refused;
      if (refused->index < index)
        low = mid + 1;
      else
        high = mid;
    }
  return NULL;
}

const char *
bayeux_elements_get_refused_id (BayeuxElements *self,
                                guint           index)
{
  const Refused *refused = g_array_index (self->spans, Span, index).length == SPAN_REFUSED
                           ? find_refused (self, index) : NULL;

  return refused != NULL ? refused->id : NULL;
}

gboolean
bayeux_elements_get_text (BayeuxElements  *self,
                          guint            index,
                          const char     **data,
                          gsize           *length)
{
  const Span *span = &g_array_index (self->spans, Span, index);

  if (span->length == SPAN_REFUSED)
    return FALSE;
  *data = (const char *) g_bytes_get_data (self->body, NULL) + span->offset;
  *length = span->length;
  return TRUE;
}

gboolean
bayeux_elements_equal (BayeuxElements *a,
                       BayeuxElements *b)
{
  if (a->spans->len != b->spans->len || a->deliveries != b->deliveries ||
      bayeux_elements_get_refused (a) != bayeux_elements_get_refused (b))
    return FALSE;
  for (guint i = 0; i < a->spans->len; i++)
    {
      const char *a_text = NULL, *b_text = NULL;
      gsize a_length = 0, b_length = 0;

      if (bayeux_elements_get_text (a, i, &a_text, &a_length) != bayeux_elements_get_text (b, i, &b_text, &b_length) ||
          a_length != b_length || (a_length > 0 && memcmp (a_text, b_text, a_length) != 0) ||
          g_strcmp0 (bayeux_elements_get_refused_id (a, i), bayeux_elements_get_refused_id (b, i)) != 0)
        return FALSE;
    }
  return TRUE;
}

JsonNode *
bayeux_elements_parse (BayeuxElements *self,
                       guint           index,
                       GError        **error)
{
  const Span *span = &g_array_index (self->spans, Span, index);

  if (span->length == SPAN_REFUSED)
    {
      const Refused *refused = find_refused (self, index);

      /* Never quoted: its text is the server's, and may be anything. */
      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE,
                   "A message of %" G_GSIZE_FORMAT " bytes at byte %" G_GSIZE_FORMAT " of the response is larger "
                   "than max-message-size (%" G_GSIZE_FORMAT " bytes): refused, the others delivered",
                   refused->size, refused->offset, self->max_element);
      return NULL;
    }
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

  /* A refused element has no text to keep. */
  out->body = span->length != SPAN_REFUSED ? self->body : NULL;
  out->offset = span->offset;
  out->length = span->length != SPAN_REFUSED ? span->length : 0;
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

/* Whether @node cannot go out as a message's data: it holds a number a
 * double cannot hold (parsed as an infinity: json-glib would write it as
 * "inf.0", which is not JSON), or nests deeper than @depth. */
static gboolean
unpublishable (JsonNode *node,
                guint     depth)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        JsonNode *member;

        if (depth == 0)
          return TRUE;
        json_object_iter_init (&iter, json_node_get_object (node));
        while (json_object_iter_next (&iter, NULL, &member))
          if (unpublishable (member, depth - 1))
            return TRUE;
        return FALSE;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        if (depth == 0)
          return TRUE;
        for (guint i = 0; i < json_array_get_length (array); i++)
          if (unpublishable (json_array_get_element (array, i), depth - 1))
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

/* Whether @text has a "\u0000" in a string: json-glib's strings end at a
 * NUL, so the value would be cut there. */
static gboolean
has_nul_escape (const char *text)
{
  gboolean in_string = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (!in_string)
        in_string = *p == '"';
      else if (*p == '"')
        in_string = FALSE;
      else if (*p == '\\')
        {
          if (p[1] == 'u' && g_ascii_strncasecmp (p + 2, "0000", 4) == 0)
            return TRUE;
          if (p[1] != '\0')
            p++;
        }
    }
  return FALSE;
}

/* json_to_string(), but valid JSON: json-glib 1.6 writes a double whose
 * shortest form has an exponent and no point with ".0" appended ("1e+22.0",
 * which no parser takes): the ".0" after an exponent goes. */
char *
bayeux_json_to_string (JsonNode *node)
{
  char *text = json_to_string (node, FALSE);
  gboolean in_string = FALSE;
  char *out = text;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (in_string)
        {
          if (*p == '\\' && p[1] != '\0')
            *out++ = *p++;
          else if (*p == '"')
            in_string = FALSE;
        }
      else if (*p == '"')
        in_string = TRUE;
      else if ((*p == 'e' || *p == 'E') && out > text && g_ascii_isdigit (out[-1]))
        {
          /* The exponent: its sign and digits, then a ".0" to drop. */
          *out++ = *p++;
          if (*p == '+' || *p == '-')
            *out++ = *p++;
          while (g_ascii_isdigit (*p))
            *out++ = *p++;
          if (p[0] == '.' && p[1] == '0' && !g_ascii_isdigit (p[2]))
            p += 2;
          p--;
          continue;
        }
      *out++ = *p;
    }
  *out = '\0';
  return text;
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
  if (unpublishable (node, BAYEUX_MAX_JSON_DEPTH - 2))
    {
      /* Deeper than data can be in a message (an array of objects): the
       * server would pass it on to other clients, which refuse it. */
      g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_JSON,
                           "Invalid JSON text: a number too large for a double, or nesting deeper than a "
                           "message's data may");
      return NULL;
    }
  if (has_nul_escape (text))
    {
      g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_JSON,
                           "Invalid JSON text: a \\u0000 in a string (it would be cut there)");
      return NULL;
    }
  return g_steal_pointer (&node);
}
