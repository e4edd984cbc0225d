/* test-message.c: BayeuxMessage parsing and getters, wire-debug redaction
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <bayeux-glib/bayeux-glib.h>
#include "bayeux-message-private.h"
#include "bayeux-debug-private.h"
#include "bayeux-json-private.h"

#include <string.h>

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static BayeuxMessage *
parse_message (const char *text)
{
  g_autoptr(JsonNode) node = parse_json (text);
  g_autoptr(GError) error = NULL;
  BayeuxMessage *message = bayeux_message_new_from_json (node, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

static const char full_message[] =
  "{"
  "  \"channel\": \"/meta/subscribe\","
  "  \"id\": \"42\","
  "  \"clientId\": \"Un1q31d3nt1f13r\","
  "  \"data\": { \"text\": \"hello\", \"n\": 3, \"list\": [1, 2] },"
  "  \"successful\": true,"
  "  \"error\": \"403:/chat/demo:Forbidden\","
  "  \"advice\": { \"reconnect\": \"retry\", \"interval\": 0, \"timeout\": 30000 },"
  "  \"ext\": { \"ack\": true, \"auth\": { \"token\": \"t\" } },"
  "  \"subscription\": \"/chat/demo\","
  "  \"timestamp\": \"2024-01-01T00:00:00\","
  "  \"x-custom\": [\"kept\"]"
  "}";

static void
test_parse_full (void)
{
  g_autoptr(BayeuxMessage) message = parse_message (full_message);
  JsonNode *data;
  JsonObject *object;
  JsonObject *advice;
  JsonObject *ext;

  g_assert_cmpstr (bayeux_message_get_channel (message), ==, "/meta/subscribe");
  g_assert_cmpstr (bayeux_message_get_id (message), ==, "42");
  g_assert_cmpstr (bayeux_message_get_client_id (message), ==, "Un1q31d3nt1f13r");
  g_assert_true (bayeux_message_has_successful (message));
  g_assert_true (bayeux_message_get_successful (message));
  g_assert_cmpstr (bayeux_message_get_error (message), ==, "403:/chat/demo:Forbidden");
  g_assert_cmpstr (bayeux_message_get_subscription (message), ==, "/chat/demo");

  data = bayeux_message_get_data (message);
  g_assert_nonnull (data);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (data));
  object = json_node_get_object (data);
  g_assert_cmpstr (json_object_get_string_member (object, "text"), ==, "hello");
  g_assert_cmpint (json_object_get_int_member (object, "n"), ==, 3);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "list")), ==, 2);

  advice = bayeux_message_get_advice (message);
  g_assert_nonnull (advice);
  g_assert_cmpstr (json_object_get_string_member (advice, "reconnect"), ==, "retry");
  g_assert_cmpint (json_object_get_int_member (advice, "interval"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (advice, "timeout"), ==, 30000);

  ext = bayeux_message_get_ext (message);
  g_assert_nonnull (ext);
  g_assert_true (json_object_get_boolean_member (ext, "ack"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (ext, "auth"), "token"),
                   ==, "t");

  /* fields without a getter are kept */
  object = bayeux_message_get_object (message);
  g_assert_nonnull (object);
  g_assert_cmpstr (json_object_get_string_member (object, "channel"), ==, "/meta/subscribe");
  g_assert_cmpstr (json_object_get_string_member (object, "timestamp"), ==, "2024-01-01T00:00:00");
  g_assert_true (json_object_has_member (object, "x-custom"));
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (object, "x-custom"), 0),
                   ==, "kept");
}

static void
test_parse_minimal (void)
{
  g_autoptr(BayeuxMessage) message = parse_message ("{\"channel\": \"/chat/demo\"}");

  g_assert_cmpstr (bayeux_message_get_channel (message), ==, "/chat/demo");
  g_assert_null (bayeux_message_get_id (message));
  g_assert_null (bayeux_message_get_client_id (message));
  g_assert_null (bayeux_message_get_data (message));
  g_assert_false (bayeux_message_has_successful (message));
  g_assert_false (bayeux_message_get_successful (message));
  g_assert_null (bayeux_message_get_error (message));
  g_assert_null (bayeux_message_get_subscription (message));
  g_assert_null (bayeux_message_get_advice (message));
  g_assert_null (bayeux_message_get_ext (message));
  g_assert_cmpuint (json_object_get_size (bayeux_message_get_object (message)), ==, 1);
}

static void
test_parse_unsuccessful (void)
{
  g_autoptr(BayeuxMessage) message =
    parse_message ("{\"channel\": \"/meta/connect\", \"successful\": false, \"error\": \"402::Unknown client\"}");

  g_assert_true (bayeux_message_has_successful (message));
  g_assert_false (bayeux_message_get_successful (message));
  g_assert_cmpstr (bayeux_message_get_error (message), ==, "402::Unknown client");
}

static void
test_parse_numeric_id (void)
{
  g_autoptr(BayeuxMessage) seven = parse_message ("{\"channel\": \"/meta/connect\", \"id\": 7}");
  g_autoptr(BayeuxMessage) zero = parse_message ("{\"channel\": \"/meta/connect\", \"id\": 0}");
  g_autoptr(BayeuxMessage) big = parse_message ("{\"channel\": \"/meta/connect\", \"id\": 9007199254740993}");
  g_autoptr(BayeuxMessage) text = parse_message ("{\"channel\": \"/meta/connect\", \"id\": \"7\"}");

  g_assert_cmpstr (bayeux_message_get_id (seven), ==, "7");
  g_assert_cmpstr (bayeux_message_get_id (zero), ==, "0");
  g_assert_cmpstr (bayeux_message_get_id (big), ==, "9007199254740993");
  g_assert_cmpstr (bayeux_message_get_id (text), ==, "7");
}

static void
test_parse_data_kinds (void)
{
  g_autoptr(BayeuxMessage) string = parse_message ("{\"channel\": \"/a\", \"data\": \"text\"}");
  g_autoptr(BayeuxMessage) array = parse_message ("{\"channel\": \"/a\", \"data\": [1, \"two\"]}");
  g_autoptr(BayeuxMessage) null = parse_message ("{\"channel\": \"/a\", \"data\": null}");

  g_assert_cmpstr (json_node_get_string (bayeux_message_get_data (string)), ==, "text");
  g_assert_true (JSON_NODE_HOLDS_ARRAY (bayeux_message_get_data (array)));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (bayeux_message_get_data (array))), ==, 2);
  g_assert_nonnull (bayeux_message_get_data (null));
  g_assert_true (JSON_NODE_HOLDS_NULL (bayeux_message_get_data (null)));
}

static void
test_parse_subscription_array (void)
{
  g_autoptr(BayeuxMessage) array =
    parse_message ("{\"channel\": \"/meta/subscribe\", \"successful\": true,"
                   " \"subscription\": [\"/a/*\", \"/b/**\"]}");
  g_autoptr(BayeuxMessage) empty =
    parse_message ("{\"channel\": \"/meta/subscribe\", \"subscription\": []}");
  JsonNode *node;

  g_assert_cmpstr (bayeux_message_get_subscription (array), ==, "/a/*");
  node = json_object_get_member (bayeux_message_get_object (array), "subscription");
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
  g_assert_cmpstr (json_array_get_string_element (json_node_get_array (node), 1), ==, "/b/**");

  g_assert_null (bayeux_message_get_subscription (empty));
}

static void
test_reject (void)
{
  const struct {
    const char *what;
    const char *json;
  } cases[] = {
    { "an array", "[{\"channel\": \"/a\"}]" },
    { "an empty array", "[]" },
    { "a string", "\"/a\"" },
    { "a number", "7" },
    { "null", "null" },
    { "no channel", "{\"id\": \"1\", \"data\": {}}" },
    { "an empty object", "{}" },
    { "a numeric channel", "{\"channel\": 5}" },
    { "a boolean channel", "{\"channel\": true}" },
    { "a null channel", "{\"channel\": null}" },
    { "an object channel", "{\"channel\": {\"name\": \"/a\"}}" },
    { "an array channel", "{\"channel\": [\"/a\"]}" },
    { "a relative channel", "{\"channel\": \"a/b\"}" },
    { "an empty channel", "{\"channel\": \"\"}" },
    { "an object id", "{\"channel\": \"/a\", \"id\": {\"n\": 1}}" },
    { "a boolean id", "{\"channel\": \"/a\", \"id\": true}" },
    { "an array id", "{\"channel\": \"/a\", \"id\": [1]}" },
    { "a numeric clientId", "{\"channel\": \"/a\", \"clientId\": 12345}" },
    { "an object clientId", "{\"channel\": \"/a\", \"clientId\": {}}" },
    { "a string successful", "{\"channel\": \"/meta/connect\", \"successful\": \"true\"}" },
    { "a numeric successful", "{\"channel\": \"/meta/connect\", \"successful\": 1}" },
    { "a numeric error", "{\"channel\": \"/meta/connect\", \"error\": 402}" },
    { "a string advice", "{\"channel\": \"/meta/connect\", \"advice\": \"retry\"}" },
    { "an array advice", "{\"channel\": \"/meta/connect\", \"advice\": [\"retry\"]}" },
    { "a numeric advice", "{\"channel\": \"/meta/connect\", \"advice\": 0}" },
    { "an array ext", "{\"channel\": \"/a\", \"ext\": [{\"ack\": true}]}" },
    { "a string ext", "{\"channel\": \"/a\", \"ext\": \"auth\"}" },
    { "a subscription array with a number",
      "{\"channel\": \"/meta/subscribe\", \"subscription\": [\"/a\", 5]}" },
    { "a subscription array with an object",
      "{\"channel\": \"/meta/subscribe\", \"subscription\": [{}]}" },
    { "a numeric subscription", "{\"channel\": \"/meta/subscribe\", \"subscription\": 5}" },
    { "an object subscription", "{\"channel\": \"/meta/subscribe\", \"subscription\": {}}" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) node = parse_json (cases[i].json);
      g_autoptr(GError) error = NULL;
      g_autoptr(BayeuxMessage) message = NULL;

      message = bayeux_message_new_from_json (node, &error);
      if (message != NULL)
        {
          g_test_fail_printf ("a message with %s was accepted: %s", cases[i].what, cases[i].json);
          continue;
        }
      g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);

      /* a NULL error location is allowed too */
      g_assert_null (bayeux_message_new_from_json (node, NULL));
    }
}

static void
test_ref_unref (void)
{
  BayeuxMessage *message = parse_message ("{\"channel\": \"/chat/demo\", \"id\": 3}");
  BayeuxMessage *ref;

  ref = bayeux_message_ref (message);
  g_assert_true (ref == message);

  bayeux_message_unref (message);
  /* still alive through the second reference */
  g_assert_cmpstr (bayeux_message_get_channel (ref), ==, "/chat/demo");
  g_assert_cmpstr (bayeux_message_get_id (ref), ==, "3");
  bayeux_message_unref (ref);
}

static void
test_boxed_type (void)
{
  g_autoptr(BayeuxMessage) message = parse_message ("{\"channel\": \"/chat/demo\"}");
  BayeuxMessage *copy;

  g_assert_true (G_TYPE_IS_BOXED (BAYEUX_TYPE_MESSAGE));
  copy = g_boxed_copy (BAYEUX_TYPE_MESSAGE, message);
  g_assert_true (copy == message);
  g_boxed_free (BAYEUX_TYPE_MESSAGE, copy);
  g_assert_cmpstr (bayeux_message_get_channel (message), ==, "/chat/demo");
}

static void
test_to_json (void)
{
  g_autoptr(BayeuxMessage) message = parse_message (full_message);
  g_autoptr(JsonNode) original = parse_json (full_message);
  g_autoptr(JsonNode) copy = bayeux_message_to_json (message);
  JsonObject *object;

  g_assert_nonnull (copy);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (copy));
  g_assert_true (json_node_equal (copy, original));

  /* Changing the copy, at the top and deep down, leaves the message alone. */
  object = json_node_get_object (copy);
  g_assert_true (object != bayeux_message_get_object (message));
  json_object_set_string_member (object, "channel", "/changed");
  json_object_set_string_member (object, "added", "yes");
  json_object_remove_member (object, "clientId");
  json_object_set_string_member (json_object_get_object_member (object, "data"), "text", "changed");
  json_object_set_boolean_member (json_object_get_object_member (object, "ext"), "ack", FALSE);

  g_assert_cmpstr (bayeux_message_get_channel (message), ==, "/meta/subscribe");
  g_assert_cmpstr (bayeux_message_get_client_id (message), ==, "Un1q31d3nt1f13r");
  g_assert_false (json_object_has_member (bayeux_message_get_object (message), "added"));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (bayeux_message_get_data (message)),
                                                  "text"),
                   ==, "hello");
  g_assert_true (json_object_get_boolean_member (bayeux_message_get_ext (message), "ack"));

  g_clear_pointer (&copy, json_node_unref);
  copy = bayeux_message_to_json (message);
  g_assert_true (json_node_equal (copy, original));
}

static void
test_to_string (void)
{
  g_autoptr(BayeuxMessage) message = parse_message (full_message);
  g_autoptr(JsonNode) original = parse_json (full_message);
  g_autofree char *text = bayeux_message_to_string (message);
  g_autofree char *text_again = NULL;
  g_autoptr(JsonNode) reparsed = NULL;
  g_autoptr(BayeuxMessage) again = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (text);
  /* compact: no newlines */
  g_assert_null (strchr (text, '\n'));

  reparsed = parse_json (text);
  g_assert_true (json_node_equal (reparsed, original));

  again = bayeux_message_new_from_json (reparsed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);
  g_assert_cmpstr (bayeux_message_get_channel (again), ==, bayeux_message_get_channel (message));
  g_assert_cmpstr (bayeux_message_get_id (again), ==, bayeux_message_get_id (message));
  g_assert_cmpstr (bayeux_message_get_client_id (again), ==, bayeux_message_get_client_id (message));
  g_assert_cmpstr (bayeux_message_get_subscription (again), ==, "/chat/demo");

  text_again = bayeux_message_to_string (again);
  g_assert_cmpstr (text_again, ==, text);
}

static void
test_take_object (void)
{
  JsonObject *object = json_object_new ();
  g_autoptr(BayeuxMessage) message = NULL;

  json_object_set_string_member (object, "channel", "/meta/handshake");
  json_object_set_int_member (object, "id", 1);
  message = bayeux_message_new_take_object (object);

  g_assert_cmpstr (bayeux_message_get_channel (message), ==, "/meta/handshake");
  g_assert_cmpstr (bayeux_message_get_id (message), ==, "1");
  g_assert_true (bayeux_message_get_object (message) == object);
}

static const char wire_batch[] =
  "["
  "  {"
  "    \"channel\": \"/meta/handshake\","
  "    \"version\": \"1.0\","
  "    \"supportedConnectionTypes\": [\"long-polling\"],"
  "    \"ext\": { \"auth\": { \"token\": \"s3cret\" } },"
  "    \"id\": \"1\""
  "  },"
  "  {"
  "    \"channel\": \"/chat/demo\","
  "    \"data\": { \"text\": \"hi\" },"
  "    \"ext\": { \"auth\": { \"token\": \"s3cret\" }, \"ack\": \"s3cret\" },"
  "    \"id\": \"2\""
  "  }"
  "]";

static void
test_debug_redact (void)
{
  g_autoptr(JsonNode) messages = parse_json (wire_batch);
  g_autofree char *text = bayeux_debug_redact (messages);
  g_autoptr(JsonNode) redacted = NULL;

  g_assert_nonnull (text);
  g_test_message ("redacted: %s", text);
  g_assert_null (strstr (text, "s3cret"));
  g_assert_nonnull (strstr (text, "auth"));
  g_assert_nonnull (strstr (text, "/meta/handshake"));
  g_assert_nonnull (strstr (text, "/chat/demo"));

  /* still JSON, still an array of two messages, non-ext fields intact */
  redacted = parse_json (text);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (redacted));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (redacted)), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_node_get_array (redacted), 1),
                                                  "id"),
                   ==, "2");
  g_assert_nonnull (strstr (text, "\"hi\""));
}

static void
test_debug_redact_single (void)
{
  g_autoptr(JsonNode) message =
    parse_json ("{\"channel\": \"/meta/connect\", \"ext\": {\"auth\": {\"token\": \"s3cret\"}}}");
  g_autoptr(JsonNode) odd = parse_json ("[{\"channel\": \"/a\", \"ext\": \"s3cret\"}, 5, null]");
  g_autofree char *text = bayeux_debug_redact (message);
  g_autofree char *odd_text = bayeux_debug_redact (odd);

  g_assert_null (strstr (text, "s3cret"));
  g_assert_nonnull (strstr (text, "auth"));
  g_assert_nonnull (strstr (text, "/meta/connect"));

  g_assert_null (strstr (odd_text, "s3cret"));
  g_assert_nonnull (strstr (odd_text, "\"/a\""));
}

/* Redaction is for the log only: the messages themselves (which are then
 * parsed and dispatched, or sent) must keep their ext. */
static void
test_debug_redact_input_unchanged (void)
{
  g_autoptr(JsonNode) messages = parse_json (wire_batch);
  g_autoptr(JsonNode) original = parse_json (wire_batch);
  g_autofree char *text = bayeux_debug_redact (messages);
  g_autofree char *after = json_to_string (messages, FALSE);

  g_assert_null (strstr (text, "s3cret"));
  if (!json_node_equal (messages, original))
    g_test_fail_printf ("bayeux_debug_redact() changed its input: %s", after);
}

/* The response body checks before json-glib parses (the transport's). */
static void
test_body_checks (void)
{
  static const struct { const char *body; gboolean ok; } cases[] = {
    { "[{\"channel\":\"/a\",\"data\":\"\\ud83d\\ude00\"}]", TRUE },   /* a whole pair */
    { "[{\"channel\":\"/a\",\"data\":\"\\u00e9\\\\u\"}]", TRUE },     /* an escaped backslash, then u */
    { "[\"\\ud83d\\u0041\"]", FALSE },                                 /* high, then not low: json-glib leaks */
    { "[\"\\ud83d\"]", FALSE },                                         /* high alone */
    { "[\"\\ude00\"]", FALSE },                                         /* low alone */
    { "[\"\\ud83\\\\u0041\"]", FALSE },                                 /* three hex digits: json-glib leaks */
    { "[\"\\x41\"]", FALSE },                                           /* no such escape */
    { "81[]", FALSE },                                                  /* data after the value: json-glib leaks */
    { "[1,]", FALSE },
    { "[01]", FALSE },
    { "[1.]", FALSE },
    { "[-]", FALSE },
    { "[1e]", FALSE },
    { "[\"a\tb\"]", FALSE },                                            /* a raw control character */
    { "{\"a\" 1}", FALSE },
    { "{\"a\":1,}", FALSE },
    { "[tru]", FALSE },
    { "[[]", FALSE },
    { " [ {\"channel\" : \"/a\" , \"n\" : -1.5e+3 , \"t\":[true,false,null,{}]} ] ", TRUE },
    { "[\"\xff\"]", FALSE },                                            /* not UTF-8 */
    { "{\"channel\":\"/a\"}", TRUE },                                   /* one object */
    { "42", FALSE },
    { "", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonArray) messages = bayeux_json_parse_messages (cases[i].body, strlen (cases[i].body), &error);

      g_autofree char *printable = g_strescape (cases[i].body, NULL);

      g_test_message ("%s", printable);
      if (cases[i].ok)
        {
          g_assert_no_error (error);
          g_assert_nonnull (messages);
        }
      else
        {
          g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
          g_assert_null (messages);
        }
    }
}

/* Raw JSON: get_data_json() --------------------------------------------- */

/* The messages of @body as the client makes them, with their text. */
static GPtrArray *
received_messages (const char *body)
{
  g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxElements) elements = bayeux_elements_split (bytes, &error);
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify) bayeux_message_unref);

  g_assert_no_error (error);
  for (guint i = 0; i < bayeux_elements_get_length (elements); i++)
    {
      g_autoptr(JsonNode) node = bayeux_elements_parse (elements, i, &error);
      BayeuxSpan span;

      g_assert_no_error (error);
      bayeux_elements_get_span (elements, i, &span);
      g_ptr_array_add (messages, bayeux_message_new_received (node, &span, &error));
      g_assert_no_error (error);
    }
  return messages;   /* they keep the body, not @bytes' owner */
}

/* The data's text as the server wrote it: spacing, escapes, numbers a
 * double cannot hold or would spell otherwise, a member named with
 * escapes, "data" in strings and in other members before it. */
static void
test_data_json_received (void)
{
  static const struct {
    const char *element;
    const char *data;     /* NULL: no data */
  } cases[] = {
    { "{\"channel\":\"/a\",\"data\":{ \"text\" : \"h\\u00e9 \\\"q\\\" \\\\ \\/\" ,\n \"n\": 1e400, \"f\" : 0.1 }}",
      "{ \"text\" : \"h\\u00e9 \\\"q\\\" \\\\ \\/\" ,\n \"n\": 1e400, \"f\" : 0.1 }" },
    { "{\"channel\":\"/a\",\"ext\":{\"data\":\"not this\"},\"id\":\"x\\\"data\\\":\",\"data\" : [ 1, 2.50 ,{\"data\":[]}, \"]}\" ] }",
      "[ 1, 2.50 ,{\"data\":[]}, \"]}\" ]" },
    { "{ \"data\":123456789012345678901234567890 , \"channel\" : \"/a\" }", "123456789012345678901234567890" },
    { "{\"channel\":\"/a\",\"data\":-0.0e-5}", "-0.0e-5" },
    { "{\"channel\":\"/a\",\"data\":null}", "null" },
    { "{\"channel\":\"/a\",\"data\":\"\\ud83d\\ude00 \xf0\x9f\x98\x80\"}", "\"\\ud83d\\ude00 \xf0\x9f\x98\x80\"" },
    { "{\"channel\":\"/a\",\"d\\u0061ta\":{\"escaped\":\"name\"}}", "{\"escaped\":\"name\"}" },
    { "{\"channel\":\"/a\",\"dat\":1,\"datas\":2}", NULL },
    { "{\"channel\":\"/a\"}", NULL },
  };
  g_autoptr(GString) body = g_string_new ("[ ");
  g_autoptr(GPtrArray) messages = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_string_append_printf (body, "%s%s\n", i > 0 ? " ,\n" : "", cases[i].element);
  g_string_append (body, "]");
  messages = received_messages (body->str);
  g_assert_cmpuint (messages->len, ==, G_N_ELEMENTS (cases));

  for (guint i = 0; i < messages->len; i++)
    {
      BayeuxMessage *message = g_ptr_array_index (messages, i);
      const char *text = bayeux_message_get_data_json (message);

      g_assert_cmpstr (text, ==, cases[i].data);
      /* Made once: the same string each time. */
      g_assert_true (bayeux_message_get_data_json (message) == text);
      if (text != NULL)
        {
          /* The same value as the tree's. */
          g_autoptr(JsonNode) parsed = bayeux_json_parse (text, strlen (text), NULL);

          g_assert_nonnull (parsed);
          g_assert_true (parsed != NULL && json_node_equal (parsed, bayeux_message_get_data (message)));
        }
    }
}

/* A message made by the application: its data written by JSON-GLib. */
static void
test_data_json_local (void)
{
  g_autoptr(BayeuxMessage) message = parse_message ("{\"channel\":\"/a\", \"data\": { \"n\" : 1 , \"s\": \"\\u00e9\" }}");
  g_autoptr(BayeuxMessage) empty = parse_message ("{\"channel\":\"/a\"}");

  g_assert_cmpstr (bayeux_message_get_data_json (message), ==, "{\"n\":1,\"s\":\"\xc3\xa9\"}");
  g_assert_null (bayeux_message_get_data_json (empty));
}

/* What the client does after the incoming hooks: a message made of the
 * tree they may have changed keeps the text, and uses it only while its
 * data is still what the text says. */
static void
test_data_json_after_hooks (void)
{
  g_autoptr(GPtrArray) messages = received_messages (
    "[{\"channel\":\"/a\",\"data\":{ \"n\" : 1 , \"f\": 0.1 }},"
    " {\"channel\":\"/b\",\"data\":{ \"n\" : 2 }},"
    " {\"channel\":\"/c\",\"data\":[ 3 ]},"
    " {\"channel\":\"/d\",\"data\":[ 4 ]}]");
  BayeuxMessage *before;
  JsonObject *object;
  g_autoptr(BayeuxMessage) untouched = NULL;
  g_autoptr(BayeuxMessage) changed = NULL;
  g_autoptr(BayeuxMessage) replaced = NULL;
  g_autoptr(BayeuxMessage) removed = NULL;

  /* Another member changed, not the data: the text is still good. */
  before = g_ptr_array_index (messages, 0);
  object = bayeux_message_get_object (before);
  json_object_set_boolean_member (object, "seen", TRUE);
  untouched = bayeux_message_new_parsed (bayeux_message_get_node (before), NULL);
  bayeux_message_keep_text (untouched, before);
  g_assert_cmpstr (bayeux_message_get_data_json (untouched), ==, "{ \"n\" : 1 , \"f\": 0.1 }");

  /* The data changed in place. */
  before = g_ptr_array_index (messages, 1);
  object = json_node_get_object (bayeux_message_get_data (before));
  json_object_set_boolean_member (object, "touched", TRUE);
  changed = bayeux_message_new_parsed (bayeux_message_get_node (before), NULL);
  bayeux_message_keep_text (changed, before);
  g_assert_cmpstr (bayeux_message_get_data_json (changed), ==, "{\"n\":2,\"touched\":true}");

  /* The data replaced. */
  before = g_ptr_array_index (messages, 2);
  object = bayeux_message_get_object (before);
  json_object_set_string_member (object, "data", "new");
  replaced = bayeux_message_new_parsed (bayeux_message_get_node (before), NULL);
  bayeux_message_keep_text (replaced, before);
  g_assert_cmpstr (bayeux_message_get_data_json (replaced), ==, "\"new\"");

  /* The data removed. */
  before = g_ptr_array_index (messages, 3);
  object = bayeux_message_get_object (before);
  json_object_remove_member (object, "data");
  removed = bayeux_message_new_parsed (bayeux_message_get_node (before), NULL);
  bayeux_message_keep_text (removed, before);
  g_assert_null (bayeux_message_get_data_json (removed));
}

/* Text from the application: our parser's checks, worded for it. */
static void
test_parse_text (void)
{
  static const char *bad[] = { "", " ", "{\"n\":}", "[1,2", "{\"a\":1,\"a\":2}", "1e400", "[-1e999]", "nul",
                               "{\"a\":1} x", "'single'", "\"\\ud800\"" };
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(JsonNode) good = bayeux_json_parse_text ("{ \"n\" : [1, 2.5, \"\\u00e9\", null, true] }", NULL);

  g_assert_nonnull (good);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = bayeux_json_parse_text (bad[i], &error);

      g_assert_null (node);
      g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_JSON);
      g_assert_true (g_str_has_prefix (error->message, "Invalid JSON text: "));
      g_assert_null (strstr (error->message, "response"));
    }

  for (guint i = 0; i < 300; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < 300; i++)
    g_string_append_c (deep, ']');
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = bayeux_json_parse_text (deep->str, &error);

    g_assert_null (node);
    g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_JSON);
    g_assert_nonnull (strstr (error->message, "deeper than 256"));
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* report every failing check, and run the other tests */
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/bayeux/message/parse/full", test_parse_full);
  g_test_add_func ("/bayeux/message/parse/minimal", test_parse_minimal);
  g_test_add_func ("/bayeux/message/parse/unsuccessful", test_parse_unsuccessful);
  g_test_add_func ("/bayeux/message/parse/numeric-id", test_parse_numeric_id);
  g_test_add_func ("/bayeux/message/parse/data-kinds", test_parse_data_kinds);
  g_test_add_func ("/bayeux/message/parse/subscription-array", test_parse_subscription_array);
  g_test_add_func ("/bayeux/message/reject", test_reject);
  g_test_add_func ("/bayeux/message/body-checks", test_body_checks);
  g_test_add_func ("/bayeux/message/ref-unref", test_ref_unref);
  g_test_add_func ("/bayeux/message/boxed-type", test_boxed_type);
  g_test_add_func ("/bayeux/message/to-json", test_to_json);
  g_test_add_func ("/bayeux/message/to-string", test_to_string);
  g_test_add_func ("/bayeux/message/take-object", test_take_object);
  g_test_add_func ("/bayeux/message/debug-redact", test_debug_redact);
  g_test_add_func ("/bayeux/message/debug-redact/single", test_debug_redact_single);
  g_test_add_func ("/bayeux/message/debug-redact/input-unchanged", test_debug_redact_input_unchanged);
  g_test_add_func ("/bayeux/message/data-json/received", test_data_json_received);
  g_test_add_func ("/bayeux/message/data-json/local", test_data_json_local);
  g_test_add_func ("/bayeux/message/data-json/after-hooks", test_data_json_after_hooks);
  g_test_add_func ("/bayeux/message/parse-text", test_parse_text);

  return g_test_run ();
}
