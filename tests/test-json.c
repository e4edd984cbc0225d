/* test-json.c: bayeux_json_parse(), the parser of what servers send, against
 * json-glib's own parser
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The client parses response bodies and WebSocket frames with a parser of
 * its own (one pass, iterative, no GScanner) that must make the very tree
 * json-glib's immutable parser makes: same node types (a gint64 for an
 * integer, a double otherwise), same values, same member order, every node
 * sealed. Two differences, on purpose: duplicate member names are refused
 * (json-glib keeps the last, at a cost that makes a body of repeated names
 * quadratic), and integers past gint64 are doubles (json-glib wraps them).
 * Invalid UTF-8 is refused, as json-glib refuses it. These tests parse the same
 * text with both and compare the trees node by node: fixed cases for each
 * corner of RFC 8259, the fuzz seed corpus, and thousands of random
 * documents. Malformed text is refused with BAYEUX_ERROR_BAD_RESPONSE and a
 * reason, at the byte where it goes wrong. Last, the typed getters of
 * bayeux-json-private.h on a member of each JSON type.
 */
#include <bayeux-glib/bayeux-glib.h>
#include "bayeux-json-private.h"
#include "scan-check.h"

#include <math.h>
#include <string.h>

/* Same tree: types, values (doubles bit for bit), member names and order. */
static void
assert_same (JsonNode   *ours,
             JsonNode   *theirs,
             const char *path)
{
  g_assert_cmpint (JSON_NODE_TYPE (ours), ==, JSON_NODE_TYPE (theirs));
  g_assert_true (json_node_is_immutable (ours));
  switch (JSON_NODE_TYPE (ours))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *a = json_node_get_object (ours);
        JsonObject *b = json_node_get_object (theirs);
        g_autoptr(GList) names_a = json_object_get_members (a);
        g_autoptr(GList) names_b = json_object_get_members (b);
        GList *la, *lb;

        g_assert_cmpuint (json_object_get_size (a), ==, json_object_get_size (b));
        for (la = names_a, lb = names_b; la != NULL && lb != NULL; la = la->next, lb = lb->next)
          {
            g_autofree char *child = g_strdup_printf ("%s.%s", path, (const char *) la->data);

            g_assert_cmpstr (la->data, ==, lb->data);
            assert_same (json_object_get_member (a, la->data), json_object_get_member (b, lb->data), child);
          }
        g_assert_true (la == NULL && lb == NULL);
      }
      break;
    case JSON_NODE_ARRAY:
      {
        JsonArray *a = json_node_get_array (ours);
        JsonArray *b = json_node_get_array (theirs);

        g_assert_cmpuint (json_array_get_length (a), ==, json_array_get_length (b));
        for (guint i = 0; i < json_array_get_length (a); i++)
          {
            g_autofree char *child = g_strdup_printf ("%s[%u]", path, i);

            assert_same (json_array_get_element (a, i), json_array_get_element (b, i), child);
          }
      }
      break;
    case JSON_NODE_VALUE:
      g_assert_true (json_node_get_value_type (ours) == json_node_get_value_type (theirs));
      switch (json_node_get_value_type (ours))
        {
        case G_TYPE_INT64:
          g_assert_cmpint (json_node_get_int (ours), ==, json_node_get_int (theirs));
          break;
        case G_TYPE_DOUBLE:
          {
            double x = json_node_get_double (ours), y = json_node_get_double (theirs);
            g_assert_cmpmem (&x, sizeof x, &y, sizeof y);
          }
          break;
        case G_TYPE_BOOLEAN:
          g_assert_cmpint (json_node_get_boolean (ours), ==, json_node_get_boolean (theirs));
          break;
        case G_TYPE_STRING:
          g_assert_cmpstr (json_node_get_string (ours), ==, json_node_get_string (theirs));
          break;
        default:
          g_assert_not_reached ();
        }
      break;
    case JSON_NODE_NULL:
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Parses @text with both parsers; both must accept it, with the same tree. */
static void
check_same (const char *text,
            gsize       length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ours = bayeux_json_parse (text, length, &error);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();

  g_assert_no_error (error);
  g_assert_nonnull (ours);
  json_parser_load_from_data (parser, text, (gssize) length, &error);
  g_assert_no_error (error);
  assert_same (ours, json_parser_get_root (parser), "$");
}

static void
test_cases (void)
{
  static const char *cases[] = {
    "0", "-0", "1", "-1", "42", " 7 ", "9223372036854775807", "-9223372036854775808",
    "1.5", "-0.0", "0.1", "1e3", "1E3", "1e+3", "2.5e-3", "-1.25E+10", "123456789.987654321",
    "1.7976931348623157e308", "5e-324", "3.141592653589793",
    "true", "false", "null",
    "\"\"", "\"a\"", "\"caf\xc3\xa9\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\u20ac\"",
    "\"\\ud83d\\ude00 smile\"", "\"x\\u0000y\"", "\"\\u001f\"", "\"\xf0\x9f\x98\x80\"",
    "[]", "{}", "[[]]", "[{}]", "{\"a\":[]}", " [ 1 , 2 , 3 ] ", "\t\r\n[\n]\n",
    "{\"a\":1,\"b\":\"two\",\"c\":[true,false,null],\"d\":{\"e\":1.5}}",
    "{\"\":0}", "{\"a\":{\"a\":1},\"b\":{\"a\":2}}",
    "{\"k\\u00e9y\":\"v\",\"k\\n\":1}",
    /* one case on two lines: the parentheses tell clang the concatenation is meant */
    ("[{\"channel\":\"/meta/connect\",\"successful\":true,\"advice\":{\"reconnect\":\"retry\",\"interval\":0,"
     "\"timeout\":30000}},{\"channel\":\"/chat\",\"data\":{\"text\":\"hi\",\"n\":[1,2.5,-3e2]},\"id\":\"7\"}]"),
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("%s", cases[i]);
      check_same (cases[i], strlen (cases[i]));
    }
}

/* Integers past gint64: a double (json-glib 1.6 would wrap them around;
 * nothing compares with it there). */
static void
test_big_integers (void)
{
  static const struct { const char *text; double value; } cases[] = {
    { "9223372036854775808", 9223372036854775808.0 },
    { "-9223372036854775809", -9223372036854775809.0 },
    { "18446744073709551616", 18446744073709551616.0 },
    { "123456789012345678901234567890", 123456789012345678901234567890.0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = bayeux_json_parse (cases[i].text, strlen (cases[i].text), &error);

      g_assert_no_error (error);
      g_assert_true (json_node_get_value_type (node) == G_TYPE_DOUBLE);
      g_assert_cmpfloat (json_node_get_double (node), ==, cases[i].value);
    }
}

static void
test_malformed (void)
{
  static const struct { const char *text; const char *why; gsize at; } cases[] = {
    { "", "a value is missing", 0 },
    { "   ", "a value is missing", 3 },
    { "[", "a value is missing", 1 },
    { "[1,", "a value is missing", 3 },
    { "[1", "a missing ',' or closing bracket", 2 },
    { "[1 2]", "a missing ',' or closing bracket", 3 },
    { "[1,]", "an unexpected character", 3 },
    { "{", "a missing member name", 1 },
    { "{\"a\"}", "a missing ':'", 4 },
    { "{\"a\":}", "an unexpected character", 5 },
    { "{a:1}", "a missing member name", 1 },
    { "{\"a\":1,}", "a missing member name", 7 },
    { "[1]]", "data after the JSON value", 3 },
    { "1 2", "data after the JSON value", 2 },
    { "01", "data after the JSON value", 1 },
    { "-", "an invalid number", 1 },
    { "1.", "an invalid number", 2 },
    { "1e", "an invalid number", 2 },
    { ".5", "an unexpected character", 0 },
    { "+1", "an unexpected character", 0 },
    { "tru", "an invalid literal", 0 },
    { "nul", "an invalid literal", 0 },
    { "\"abc", "an unterminated string", 4 },
    { "\"a\\", "an unterminated string", 3 },
    { "\"\\x\"", "an invalid escape", 2 },
    { "\"\\u12\"", "an invalid \\u escape", 2 },
    { "\"\\ud800\"", "an invalid \\u escape", 2 },
    { "\"\\udc00\"", "an invalid \\u escape", 2 },
    { "\"\\ud800\\u0041\"", "an invalid \\u escape", 2 },
    { "\"a\nb\"", "a control character in a string", 2 },
    { "[\"a\",{\"b\":[1,{\"c\":\"\\q\"}]}]", "an invalid escape", 20 },
    { "{\"a\":1,\"a\":2}", "a duplicate member name", 7 },
    { "{\"a\":{\"x\":1,\"y\":2,\"x\":3}}", "a duplicate member name", 18 },
    { "{\"a\\u0000b\":1,\"a\":2}", "a duplicate member name", 14 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = bayeux_json_parse (cases[i].text, strlen (cases[i].text), &error);
      g_autofree char *expected = g_strdup_printf ("Bad response: not JSON: %s at byte %" G_GSIZE_FORMAT,
                                                   cases[i].why, cases[i].at);

      g_test_message ("%s → %s", cases[i].text, error ? error->message : "(accepted)");
      g_assert_null (node);
      g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
      g_assert_cmpstr (error->message, ==, expected);
    }
}

static void
test_utf8 (void)
{
  static const struct { const char *text; gsize at; } cases[] = {
    { "\"\xff\"", 1 },
    { "[\"ok\",\"\xed\xa0\x80\"]", 7 },   /* a surrogate, encoded */
    { "{\"caf\xc3\":1}", 5 },               /* cut short */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = bayeux_json_parse (cases[i].text, strlen (cases[i].text), &error);
      g_autofree char *expected = g_strdup_printf ("Bad response: not valid UTF-8 at byte %" G_GSIZE_FORMAT,
                                                   cases[i].at);

      g_assert_null (node);
      g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
      g_assert_cmpstr (error->message, ==, expected);
    }
}

/* Nesting: up to the limit is parsed (and is the same tree); one more is
 * refused, without recursion, and a million '[' costs nothing. */
static void
test_depth (void)
{
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  char *flood;

  for (guint i = 0; i < BAYEUX_MAX_JSON_DEPTH; i++)
    g_string_append (deep, i % 2 ? "{\"k\":" : "[");
  g_string_append (deep, "1");
  for (guint i = BAYEUX_MAX_JSON_DEPTH; i > 0; i--)
    g_string_append (deep, (i - 1) % 2 ? "}" : "]");
  check_same (deep->str, deep->len);

  g_string_prepend (deep, "[");
  g_string_append (deep, "]");
  node = bayeux_json_parse (deep->str, deep->len, &error);
  g_assert_null (node);
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
  g_assert_nonnull (strstr (error->message, "nested deeper"));
  g_clear_error (&error);

  flood = g_malloc (1000000);
  memset (flood, '[', 1000000);
  node = bayeux_json_parse (flood, 1000000, &error);
  g_assert_null (node);
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
  g_free (flood);
}

/* The fuzz seed corpus: real server answers, each the same tree. */
static void
test_corpus (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fuzz", "corpus", NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);
      g_autofree char *text = NULL;
      gsize length;

      g_assert_true (g_file_get_contents (file, &text, &length, NULL));
      /* Only the seeds that are JSON (some are deliberately not). */
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) node = bayeux_json_parse (text, length, &error);
        if (node == NULL)
          continue;
      }
      check_same (text, length);
      n++;
    }
  g_test_message ("%u seeds compared", n);
  g_assert_cmpuint (n, >=, 10);
}

/* Random documents: every kind of value, escapes, unicode, numbers of every
 * shape, whitespace anywhere, deep and wide. */
static void
random_space (GString *out,
              GRand   *rand)
{
  static const char spaces[] = " \t\r\n";

  while (g_rand_int_range (rand, 0, 4) == 0)
    g_string_append_c (out, spaces[g_rand_int_range (rand, 0, 4)]);
}

static void
random_string (GString *out,
               GRand   *rand)
{
  static const char *pieces[] = {
    "a", "Z", " ", "0", "/", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\\"", "\\\\", "\\/", "\\b",
    "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u00e9", "\\u20AC", "\\ud83d\\ude00", "\\uDBFF\\uDFFF", "\\u0001",
    "channel", "/meta/connect", "data",
  };
  int n = g_rand_int_range (rand, 0, 8);

  g_string_append_c (out, '"');
  for (int i = 0; i < n; i++)
    g_string_append (out, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
  g_string_append_c (out, '"');
}

static void
random_number (GString *out,
               GRand   *rand)
{
  switch (g_rand_int_range (rand, 0, 6))
    {
    case 0:
      g_string_append_printf (out, "%d", g_rand_int_range (rand, -1000, 1000));
      break;
    case 1:
      g_string_append_printf (out, "%" G_GINT64_FORMAT,
                              (gint64) (((guint64) g_rand_int (rand) << 32) | g_rand_int (rand)));
      break;
    case 2:
      g_string_append_printf (out, "%s%u.%u", g_rand_boolean (rand) ? "-" : "", g_rand_int_range (rand, 0, 100000),
                              g_rand_int (rand));
      break;
    case 3:
      g_string_append_printf (out, "%u%s%s%d", g_rand_int_range (rand, 0, 10), g_rand_boolean (rand) ? "e" : "E",
                              g_rand_boolean (rand) ? "+" : (g_rand_boolean (rand) ? "-" : ""),
                              g_rand_int_range (rand, 0, 300));
      break;
    case 4:
      {
        char buffer[G_ASCII_DTOSTR_BUF_SIZE];
        double value = g_rand_double_range (rand, -1e6, 1e6);
        g_string_append (out, g_ascii_dtostr (buffer, sizeof buffer, value));
        if (strchr (buffer, '.') == NULL && strchr (buffer, 'e') == NULL)
          g_string_append (out, ".5");
      }
      break;
    default:
      g_string_append (out, g_rand_boolean (rand) ? "0" : "-0");
      break;
    }
}

static void
random_value (GString *out,
              GRand   *rand,
              guint    depth)
{
  int kind = g_rand_int_range (rand, 0, depth < 6 ? 8 : 5);

  random_space (out, rand);
  switch (kind)
    {
    case 0: g_string_append (out, "true"); break;
    case 1: g_string_append (out, g_rand_boolean (rand) ? "false" : "null"); break;
    case 2: random_string (out, rand); break;
    case 3:
    case 4: random_number (out, rand); break;
    case 5:
    case 6:
      {
        int n = g_rand_int_range (rand, 0, 6);
        g_string_append_c (out, '{');
        for (int i = 0; i < n; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            random_space (out, rand);
            /* any name, made unique by its index (duplicates are
             * refused: test_malformed) */
            random_string (out, rand);
            g_string_truncate (out, out->len - 1);
            g_string_append_printf (out, "#%d\"", i);
            random_space (out, rand);
            g_string_append_c (out, ':');
            random_value (out, rand, depth + 1);
          }
        random_space (out, rand);
        g_string_append_c (out, '}');
      }
      break;
    default:
      {
        int n = g_rand_int_range (rand, 0, 6);
        g_string_append_c (out, '[');
        for (int i = 0; i < n; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            random_value (out, rand, depth + 1);
          }
        random_space (out, rand);
        g_string_append_c (out, ']');
      }
      break;
    }
  random_space (out, rand);
}

static void
test_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  g_autoptr(GString) text = g_string_new (NULL);
  guint documents = g_test_thorough () ? 50000 : 3000;

  for (guint i = 0; i < documents; i++)
    {
      g_string_truncate (text, 0);
      random_value (text, rand, 0);
      check_same (text->str, text->len);

      /* Cut short anywhere: refused (or, cut inside a number or after the
       * value, still the same tree), never a crash or a leak. */
      if (text->len > 1)
        {
          gsize cut = (gsize) g_rand_int_range (rand, 1, (gint32) text->len);
          g_autoptr(GError) error = NULL;
          g_autoptr(JsonNode) node = bayeux_json_parse (text->str, cut, &error);

          if (node == NULL)
            g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
          else
            check_same (text->str, cut);
        }
    }
}

/* Whether the envelope scan takes the one message @text (checked against
 * the parser when it does). */
static gboolean
envelope_takes (const char *text)
{
  g_autofree char *body = g_strdup_printf ("[%s]", text);
  g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxElements) elements = bayeux_elements_split (bytes, &error);

  if (elements == NULL)
    return FALSE;
  g_assert_cmpuint (bayeux_elements_get_length (elements), ==, 1);
  return scan_check_element (elements, 0);
}

/* The scan takes plain messages and leaves anything else to the parser
 * (which then takes or refuses it as before). */
static void
test_envelope_cases (void)
{
  static const char *taken[] = {
    "{\"channel\":\"/a\"}",
    "{\"channel\":\"/chat/demo\",\"data\":{\"seq\":1,\"text\":\"hello, world\"},\"id\":\"12\"}",
    " { \"data\" : [1, 2.5e3, -0, true, false, null, \"caf\u00e9 \\u00e9 \\ud83d\\ude00\"] , \"channel\" : \"/a/b\" } ",
    "{\"channel\":\"/a\",\"id\":42}",
    "{\"channel\":\"/a\",\"id\":-7}",
    "{\"channel\":\"/a\",\"id\":0}",
    "{\"channel\":\"/a\",\"id\":123456789012345678}",
    "{\"channel\":\"/a\",\"id\":null}",
    "{\"channel\":\"/meta/subscribe\",\"successful\":true,\"clientId\":\"abc\",\"subscription\":\"/x\",\"id\":\"3\"}",
    "{\"channel\":\"/meta/subscribe\",\"successful\":false,\"error\":\"403::denied\",\"id\":\"4\"}",
    "{\"channel\":\"/a\",\"data\":null}",
    "{\"channel\":\"/a\",\"data\":{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}}",
    "{\"channel\":\"/a\",\"data\":\"\\u0000 cut\"}",
    "{\"channel\":\"/a\",\"data\":123456789012345678901234567890}",
    "{\"channel\":\"/a\",\"data\":1e999}",
  };
  static const char *left[] = {
    /* Valid, but not plain: the parser reads them. */
    "{\"channel\":\"/a\",\"advice\":{\"reconnect\":\"retry\"}}",
    "{\"channel\":\"/a\",\"ext\":{}}",
    "{\"channel\":\"/a\",\"other\":1}",
    "{\"chan\\u006eel\":\"/a\"}",
    "{\"channel\":\"/\\u0061\"}",
    "{\"channel\":\"/a\",\"id\":\"\\u0031\"}",
    "{\"channel\":\"/a\",\"id\":1234567890123456789}",
    "{\"channel\":\"/a\",\"id\":-0}",
    "{\"channel\":\"/meta/unsubscribe\",\"successful\":true,\"subscription\":[\"/x\"]}",
    "{\"channel\":\"/a\",\"data\":{\"\\u0061\":1}}",
    /* Refused by the parser: the scan must not take them either. */
    "{\"channel\":\"/a\",\"channel\":\"/b\"}",
    "{\"channel\":\"/a\",\"data\":{\"x\":1,\"x\":2}}",
    "{\"channel\":\"/a\",\"data\":{\"x\":{\"y\":1,\"y\":2}}}",
    "{\"channel\":\"/a\",\"data\":\"\\ud83d\"}",
    "{\"channel\":\"/a\",\"data\":\"\\ude00\"}",
    "{\"channel\":\"/a\",\"data\":\"\\x\"}",
    "{\"channel\":\"/a\",\"data\":01}",
    "{\"channel\":\"/a\",\"data\":1.}",
    "{\"channel\":\"/a\",\"data\":-}",
    "{\"channel\":\"/a\",\"data\":tru}",
    "{\"channel\":\"/a\",\"data\":[1,]}",
    "{\"channel\":\"/a\",\"data\":{\"x\":1,}}",
    "{\"channel\":\"/a\",\"data\":{\"x\" 1}}",
    "{\"channel\":\"/a\",\"data\":\"\t\"}",
    "{\"channel\":\"/a\" \"data\":1}",
    "{\"channel\":\"a\"}",
    "{\"channel\":\"\"}",
    "{\"channel\":1}",
    "{\"channel\":\"/a\",\"id\":1.5}",
    "{\"channel\":\"/a\",\"id\":1e3}",
    "{\"channel\":\"/a\",\"id\":true}",
    "{\"channel\":\"/a\",\"successful\":1}",
    "{\"channel\":\"/a\",\"clientId\":null}",
    "{\"channel\":\"/a\",\"subscription\":3}",
    "{\"data\":1}",
    "{}",
    "[]",
    "\"/a\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (taken); i++)
    {
      g_test_message ("taken: %s", taken[i]);
      g_assert_true (envelope_takes (taken[i]));
    }
  for (guint i = 0; i < G_N_ELEMENTS (left); i++)
    {
      g_test_message ("left: %s", left[i]);
      g_assert_false (envelope_takes (left[i]));
    }
}

/* Random messages, plain and not, whole and damaged: wherever the scan
 * takes one, it agrees with the parser (scan_check_element). */
static void
test_envelope_random (void)
{
  static const char *names[] = { "channel", "data", "id", "clientId", "successful", "subscription", "error",
                                 "advice", "ext", "dat\\u0061" };
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  g_autoptr(GString) text = g_string_new (NULL);
  guint documents = g_test_thorough () ? 50000 : 5000;
  guint taken = 0;

  for (guint i = 0; i < documents; i++)
    {
      int members = g_rand_int_range (rand, 0, 6);

      g_string_assign (text, "{");
      random_space (text, rand);
      g_string_append (text, "\"channel\":");
      if (g_rand_int_range (rand, 0, 8) == 0)
        random_string (text, rand);
      else
        g_string_append_printf (text, "\"/r/%u\"", g_rand_int_range (rand, 0, 10));
      for (int m = 0; m < members; m++)
        {
          const char *name = names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))];

          g_string_append_printf (text, ",\"%s\":", name);
          random_space (text, rand);
          switch (g_rand_int_range (rand, 0, 4))
            {
            case 0:
              random_string (text, rand);
              break;
            case 1:
              random_number (text, rand);
              break;
            case 2:
              g_string_append (text, g_rand_boolean (rand) ? "true" : "null");
              break;
            default:
              random_value (text, rand, 0);
              break;
            }
        }
      g_string_append_c (text, '}');
      /* Damaged now and then: a byte dropped. */
      if (g_rand_int_range (rand, 0, 5) == 0 && text->len > 2)
        g_string_erase (text, g_rand_int_range (rand, 1, (gint32) text->len - 1), 1);
      if (envelope_takes (text->str))
        taken++;
    }
  g_test_message ("%u of %u taken by the scan", taken, documents);
  g_assert_cmpuint (taken, >=, documents / 20);
}

/* bayeux_elements_split() then bayeux_elements_to_array() must agree with
 * parsing the whole body at once: the same tree when that parses (an array,
 * or one object made an array of one), a BAD_RESPONSE otherwise (from the
 * split, or from the element that is bad); and the count of deliveries
 * (objects without `successful`) must be the tree's. */
static void
check_split (const char *text,
             gsize       length)
{
  g_autoptr(GBytes) body = g_bytes_new (text, length);
  g_autoptr(GError) whole_error = NULL;
  g_autoptr(JsonNode) whole = bayeux_json_parse (text, length, &whole_error);
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxElements) elements = bayeux_elements_split (body, &error);
  g_autoptr(JsonArray) array = elements ? bayeux_elements_to_array (elements, &error) : NULL;
  gboolean whole_ok = whole != NULL && (JSON_NODE_HOLDS_ARRAY (whole) || JSON_NODE_HOLDS_OBJECT (whole));

  if (!whole_ok)
    {
      g_assert_null (array);
      g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
      return;
    }
  g_assert_no_error (error);
  g_assert_nonnull (array);
  {
    g_autoptr(JsonNode) got = json_node_init_array (json_node_alloc (), array);
    g_autoptr(JsonNode) want = NULL;
    guint deliveries = 0;

    json_node_seal (got);

    if (JSON_NODE_HOLDS_ARRAY (whole))
      want = json_node_ref (whole);
    else
      {
        g_autoptr(JsonArray) one = json_array_new ();
        json_array_add_element (one, json_node_ref (whole));
        want = json_node_init_array (json_node_alloc (), one);
        json_node_seal (want);
      }
    assert_same (got, want, "$");
    for (guint i = 0; i < json_array_get_length (json_node_get_array (want)); i++)
      {
        JsonNode *e = json_array_get_element (json_node_get_array (want), i);
        if (JSON_NODE_HOLDS_OBJECT (e) && !json_object_has_member (json_node_get_object (e), "successful"))
          deliveries++;
      }
    g_assert_cmpuint (bayeux_elements_get_deliveries (elements), ==, deliveries);
  }
}

/* Bodies for the split, good and bad. */
static const char * const split_cases[] = {
  "[]", " [ ] ", "{}", "[1]", "[1,2,3]", "[ {\"a\" : [1, {\"b\": \"]}\\\"[\"}]} , 2 ]",
  "[{\"successful\":true},{\"channel\":\"/a\"},{\"x\":{\"successful\":1}}]",
  "{\"channel\":\"/meta/connect\",\"successful\":true}", "[\"successful\"]",
  "[1 2]", "[1,]", "[,1]", "[1}", "[{]", "[{}", "[\"abc", "[1] x", "", "  ", "42", "\"[]\"", "null",
  "[{\"channel\":\"\\ud800\"}]", "[{\"a\" \"b\"}]", "[tru]", "[\"\xc3\x28\"]", "[[[[]]]]", "[{\"a\":1}  ,  {}]",
  /* UTF-8 sequences a chunk can cut, escapes */
  "[\"\xe2\x82\xac\xf0\x9f\x98\x80\"]", "[\"\xe2\x82\"]", "[\"a\\\\\"]", "[{\"a\":\"\\\"\"}]",
};

static void
test_elements (void)
{
  const char * const *cases = split_cases;
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) deep = g_string_new ("[");

  for (gsize i = 0; i < G_N_ELEMENTS (split_cases); i++)
    check_split (cases[i], strlen (cases[i]));

  /* Nesting past the limit is refused by the split, before any parse. */
  for (guint i = 0; i < BAYEUX_MAX_JSON_DEPTH + 1; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < BAYEUX_MAX_JSON_DEPTH + 1; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, ']');
  {
    g_autoptr(GBytes) body = g_bytes_new (deep->str, deep->len);
    g_autoptr(GError) error = NULL;
    g_autoptr(BayeuxElements) elements = bayeux_elements_split (body, &error);

    g_assert_null (elements);
    g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
  }

  /* At the depth limit, whole or split, the same answer. */
  for (guint depth = BAYEUX_MAX_JSON_DEPTH - 2; depth <= BAYEUX_MAX_JSON_DEPTH + 1; depth++)
    {
      g_autoptr(GString) nested = g_string_new (NULL);

      for (guint i = 0; i < depth; i++)
        g_string_append_c (nested, '[');
      for (guint i = 0; i < depth; i++)
        g_string_append_c (nested, ']');
      check_split (nested->str, nested->len);
      g_string_prepend (nested, "{\"a\":");
      g_string_append (nested, "}");
      check_split (nested->str, nested->len);
    }

  /* Random arrays of random values, whole and cut short. */
  for (guint i = 0; i < (g_test_thorough () ? 20000u : 2000u); i++)
    {
      guint n = (guint) g_rand_int_range (rand, 0, 6);

      g_string_assign (text, "[");
      for (guint j = 0; j < n; j++)
        {
          if (j > 0)
            g_string_append_c (text, ',');
          random_value (text, rand, 1);
        }
      g_string_append_c (text, ']');
      check_split (text->str, text->len);
      if (text->len > 1)
        check_split (text->str, (gsize) g_rand_int_range (rand, 1, (gint32) text->len));
    }
}

/* bayeux_elements_split_limited() of @text (limit @max), and a
 * BayeuxSplitter fed it in chunks of every size from 1 to 9 bytes: the same
 * elements (their text), deliveries, refused elements and ids. Returns the
 * one-shot split (NULL when it failed, as the chunked ones must). */
static BayeuxElements *
check_chunked_split (const char *text,
                     gsize       max)
{
  gsize length = strlen (text);
  g_autoptr(GBytes) body = g_bytes_new (text, length);
  g_autoptr(GError) whole_error = NULL;
  BayeuxElements *whole = bayeux_elements_split_limited (body, max, &whole_error);

  for (gsize cut = 1; cut <= 9; cut++)
    {
      g_autoptr(BayeuxSplitter) splitter = bayeux_splitter_new (max);
      g_autoptr(BayeuxElements) elements = NULL;
      g_autoptr(GError) error = NULL;
      gboolean fed = TRUE;

      for (gsize at = 0; fed && at < length; at += cut)
        fed = bayeux_splitter_feed (splitter, text + at, MIN (cut, length - at), &error);
      if (fed)
        elements = bayeux_splitter_finish (splitter, &error);
      if (whole == NULL)
        {
          g_assert_null (elements);
          g_assert_error (error, whole_error->domain, whole_error->code);
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (bayeux_elements_equal (whole, elements));
    }
  return whole;
}

/* The split of a body read in chunks, and a message over the limit refused
 * alone (its size and offset reported, its id read for the request it
 * replies to), the others kept. */
static void
test_elements_incremental (void)
{
  g_autoptr(BayeuxElements) elements = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  const char *text;
  gsize length;

  for (gsize i = 0; i < G_N_ELEMENTS (split_cases); i++)
    {
      g_clear_pointer (&elements, bayeux_elements_unref);
      elements = check_chunked_split (split_cases[i], G_MAXSIZE);
      g_clear_pointer (&elements, bayeux_elements_unref);
      elements = check_chunked_split (split_cases[i], 4);
    }

  /* Refused alone: the reply with an id (a string, an integer), the
   * delivery without; the others kept, in their places. */
  g_clear_pointer (&elements, bayeux_elements_unref);
  elements = check_chunked_split ("[{\"channel\":\"/a\",\"data\":1},"
                                  "{\"channel\":\"/meta/subscribe\",\"id\":\"17\",\"successful\":true,\"ext\":\"xxxxxxxxxxxxxxxxxxxx\"},"
                                  "{\"channel\":\"/b\",\"data\":\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"},"
                                  "{\"ext\":[\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"], \"successful\" : false, \"id\" : 42 },"
                                  "{\"channel\":\"/c\",\"data\":3}]", 40);
  g_assert_nonnull (elements);
  g_assert_cmpuint (bayeux_elements_get_length (elements), ==, 5);
  g_assert_cmpuint (bayeux_elements_get_refused (elements), ==, 3);
  g_assert_cmpuint (bayeux_elements_get_deliveries (elements), ==, 3);
  g_assert_cmpstr (bayeux_elements_get_refused_id (elements, 1), ==, "17");
  g_assert_null (bayeux_elements_get_refused_id (elements, 2));   /* a delivery */
  g_assert_cmpstr (bayeux_elements_get_refused_id (elements, 3), ==, "42");
  g_assert_true (bayeux_elements_get_text (elements, 4, &text, &length));
  g_assert_cmpmem (text, length, "{\"channel\":\"/c\",\"data\":3}", 25);
  node = bayeux_elements_parse (elements, 1, &error);
  g_assert_null (node);
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, " at byte 27 "));
  g_assert_null (strstr (error->message, "xxx"));

  /* A streamed body keeps no more of a big message than the limit and a
   * chunk. */
  {
    g_autoptr(BayeuxSplitter) splitter = bayeux_splitter_new (1024);
    g_autofree char *big = g_strnfill (64 * 1024, 'b');

    g_assert_true (bayeux_splitter_feed (splitter, "[{\"channel\":\"/a\",\"data\":\"", 25, NULL));
    for (guint i = 0; i < 16; i++)
      {
        g_assert_true (bayeux_splitter_feed (splitter, big, 64 * 1024, NULL));
        g_assert_cmpuint (bayeux_splitter_get_kept (splitter), <=, 1024);
      }
    g_assert_true (bayeux_splitter_feed (splitter, "\"},{\"channel\":\"/b\"}]", 20, NULL));
    g_clear_pointer (&elements, bayeux_elements_unref);
    elements = bayeux_splitter_finish (splitter, NULL);
    g_assert_cmpuint (bayeux_elements_get_length (elements), ==, 2);
    g_assert_cmpuint (bayeux_elements_get_refused (elements), ==, 1);
    g_assert_cmpuint (bayeux_splitter_get_kept (splitter), ==, 0);   /* handed over */
  }
}

/* The typed getters read a member only when it has the expected type, leave
 * the out value alone otherwise, and take a NULL object. */
static void
test_getters (void)
{
  const char *text = "{\"s\": \"x\", \"i\": 7, \"d\": 2.5, \"t\": true, \"f\": false, "
                     "\"n\": null, \"o\": {\"k\": 1}, \"a\": [1]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = bayeux_json_parse (text, strlen (text), &error);
  JsonObject *object;
  gint64 integer = -1;
  double number = -1;

  g_assert_no_error (error);
  object = json_node_get_object (node);

  g_assert_cmpstr (bayeux_json_get_string (object, "s"), ==, "x");
  g_assert_null (bayeux_json_get_string (object, "i"));
  g_assert_null (bayeux_json_get_string (object, "n"));
  g_assert_null (bayeux_json_get_string (object, "absent"));
  g_assert_null (bayeux_json_get_string (NULL, "s"));

  g_assert_nonnull (bayeux_json_get_object (object, "o"));
  g_assert_null (bayeux_json_get_object (object, "a"));
  g_assert_null (bayeux_json_get_object (object, "n"));
  g_assert_nonnull (bayeux_json_get_array (object, "a"));
  g_assert_null (bayeux_json_get_array (object, "o"));
  g_assert_true (bayeux_json_get_int (bayeux_json_get_object (object, "o"), "k", &integer));
  g_assert_cmpint (integer, ==, 1);
  g_assert_false (bayeux_json_get_int (bayeux_json_get_object (object, "a"), "k", &integer));

  g_assert_true (bayeux_json_get_int (object, "i", &integer));
  g_assert_cmpint (integer, ==, 7);
  g_assert_false (bayeux_json_get_int (object, "d", &integer));
  g_assert_false (bayeux_json_get_int (object, "s", &integer));
  g_assert_cmpint (integer, ==, 7);

  g_assert_true (bayeux_json_get_number (object, "i", &number));
  g_assert_cmpfloat (number, ==, 7);
  g_assert_true (bayeux_json_get_number (object, "d", &number));
  g_assert_cmpfloat (number, ==, 2.5);
  g_assert_false (bayeux_json_get_number (object, "s", &number));
  g_assert_false (bayeux_json_get_number (object, "t", &number));
  g_assert_false (bayeux_json_get_number (object, "n", &number));
  g_assert_false (bayeux_json_get_number (object, "absent", &number));
  g_assert_cmpfloat (number, ==, 2.5);

  {
    /* Only the boolean true is true. */
    static const struct { const char *name; gboolean expected; } truths[] = {
      { "t", TRUE }, { "f", FALSE }, { "i", FALSE }, { "absent", FALSE },
    };

    for (guint i = 0; i < G_N_ELEMENTS (truths); i++)
      g_assert_cmpint (bayeux_json_is_true (object, truths[i].name), ==, truths[i].expected);
    g_assert_false (bayeux_json_is_true (NULL, "t"));
  }
}

/* bayeux_json_ensure_object() adds an object where there is none or a null,
 * and leaves any other member alone. */
static void
test_ensure_object (void)
{
  g_autoptr(JsonObject) object = json_object_new ();
  JsonObject *ext;

  ext = bayeux_json_ensure_object (object, "ext");
  g_assert_nonnull (ext);
  g_assert_true (bayeux_json_get_object (object, "ext") == ext);
  g_assert_true (bayeux_json_ensure_object (object, "ext") == ext);

  json_object_set_null_member (object, "null");
  g_assert_nonnull (bayeux_json_ensure_object (object, "null"));
  g_assert_nonnull (bayeux_json_get_object (object, "null"));

  json_object_set_string_member (object, "string", "x");
  g_assert_null (bayeux_json_ensure_object (object, "string"));
  g_assert_cmpstr (bayeux_json_get_string (object, "string"), ==, "x");
}

/* Doubles json-glib 1.6 writes as "1e+22.0" come out as JSON; strings
 * that look so are left alone. */
static void
test_to_string (void)
{
  g_autoptr(JsonNode) node = json_from_string ("{\"s\":\"1e+22.0 \\\" 2e5.0\",\"a\":[1e22,-2e-300,1.5,3e100],"
                                               "\"t\":true,\"i\":7}", NULL);
  g_autofree char *text = bayeux_json_to_string (node);
  g_autoptr(JsonNode) again = json_from_string (text, NULL);

  g_assert_nonnull (node);
  g_assert_true (g_str_has_prefix (text, "{\"s\":\"1e+22.0 \\\" 2e5.0\",\"a\":[1e+22,"));
  g_assert_nonnull (again);
  g_assert_true (json_node_equal (node, again));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/bayeux/json/cases", test_cases);
  g_test_add_func ("/bayeux/json/big-integers", test_big_integers);
  g_test_add_func ("/bayeux/json/malformed", test_malformed);
  g_test_add_func ("/bayeux/json/utf8", test_utf8);
  g_test_add_func ("/bayeux/json/depth", test_depth);
  g_test_add_func ("/bayeux/json/corpus", test_corpus);
  g_test_add_func ("/bayeux/json/random", test_random);
  g_test_add_func ("/bayeux/json/elements", test_elements);
  g_test_add_func ("/bayeux/json/elements/incremental", test_elements_incremental);
  g_test_add_func ("/bayeux/json/getters", test_getters);
  g_test_add_func ("/bayeux/json/envelope/cases", test_envelope_cases);
  g_test_add_func ("/bayeux/json/envelope/random", test_envelope_random);
  g_test_add_func ("/bayeux/json/to-string", test_to_string);
  g_test_add_func ("/bayeux/json/ensure-object", test_ensure_object);

  return g_test_run ();
}
