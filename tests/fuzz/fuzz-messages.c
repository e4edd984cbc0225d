/* fuzz-messages.c: libFuzzer target on what a server sends us
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One input is one HTTP response body.  It goes through the same steps as a
 * body the transports receive: bayeux_elements_split() (UTF-8, nesting
 * depth, brackets, array or single object) and bayeux_elements_parse() of
 * each element, which must agree with bayeux_json_parse_messages() on the
 * whole body (both accept it, with as many elements, or neither does);
 * then for each element the
 * message checks and every getter, channel validation and the dispatch
 * candidates of the message's channel, the BAYEUX_DEBUG=wire redaction
 * of the element and of the whole batch, and the data's text as received
 * (bayeux_message_get_data_json() on the element's span).
 *
 * Besides crashes, leaks and sanitizer reports, a few properties are
 * checked (a failed check aborts, which libFuzzer reports as a crash):
 *  - every refusal comes with a BAYEUX_ERROR_BAD_RESPONSE (or, for channel
 *    names, BAYEUX_ERROR_INVALID_CHANNEL) error;
 *  - a message's getters agree with the JSON they read;
 *  - the data's text taken from the body parses to the same value as the
 *    tree's data;
 *  - each dispatch candidate of a valid channel is a valid pattern that
 *    matches the channel;
 *  - the redacted text, when it parses back, shows no value inside `ext`.
 *  - the incremental split (BayeuxSplitter, what long polling does while
 *    it reads) of the body cut into chunks (one byte each, a few bytes,
 *    random cuts drawn from the input itself) gives what the one-shot split
 *    gives (success or failure with the same error code; the same
 *    elements, deliveries, refused elements and their ids), with a
 *    per-message limit drawn from the input too;
 *  - where the envelope scan (bayeux_message_new_scanned, what the inbox
 *    tries first) takes an element, the parser takes it too and every
 *    getter of the two messages agrees (tests/scan-check.h).
 * GLib criticals and warnings (a g_return_if_fail() hit by server input)
 * abort too.
 *
 * Built with -Dfuzzing=true and clang (see run-fuzz.sh).  Without it the same
 * code is linked with fuzz-main.c, a driver that runs the seed corpus once:
 * the 'fuzz-corpus' test.
 */
#include "bayeux-glib.h"
#include "bayeux-channel-private.h"
#include "bayeux-debug-private.h"
#include "bayeux-json-private.h"
#include "bayeux-message-private.h"
#include "scan-check.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerInitialize   (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const BayeuxChannelFlags all_flags[] = {
  BAYEUX_CHANNEL_NONE,
  BAYEUX_CHANNEL_ALLOW_WILDCARD,
  BAYEUX_CHANNEL_ALLOW_META,
  BAYEUX_CHANNEL_ALLOW_WILDCARD | BAYEUX_CHANNEL_ALLOW_META,
};

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* A critical from the library means server input reached a precondition
   * check: a bug.  Make it a crash. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR);
  /* Registers the error quark and the boxed type once, outside the runs. */
  (void) BAYEUX_ERROR;
  (void) BAYEUX_TYPE_MESSAGE;
  return 0;
}

static void
check_string_getter (JsonObject *object,
                     const char *name,
                     const char *got)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    g_assert_null (got);
  else
    {
      g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_STRING);
      g_assert_cmpstr (got, ==, json_node_get_string (node));
    }
}

static void
check_channel (const char *channel)
{
  gboolean valid_plain = FALSE;
  g_autoptr(GPtrArray) candidates = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (all_flags); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean valid = bayeux_channel_validate (channel, all_flags[i], &error);

      if (valid)
        g_assert_no_error (error);
      else
        g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);
      if (all_flags[i] == BAYEUX_CHANNEL_NONE)
        valid_plain = valid;
    }

  /* The client only dispatches valid channels; the candidates of any name
   * that starts with '/' must still be computed safely. */
  candidates = bayeux_channel_candidates (channel);
  g_assert_cmpuint (candidates->len, >=, 2);
  g_assert_cmpstr (g_ptr_array_index (candidates, 0), ==, channel);
  g_assert_cmpstr (g_ptr_array_index (candidates, candidates->len - 1), ==, "/**");

  if (valid_plain)
    {
      for (guint i = 0; i < candidates->len; i++)
        {
          const char *pattern = g_ptr_array_index (candidates, i);
          g_autoptr(GError) error = NULL;

          if (!bayeux_channel_validate (pattern, BAYEUX_CHANNEL_ALLOW_WILDCARD | BAYEUX_CHANNEL_ALLOW_META, &error))
            g_error ("candidate “%s” of “%s” is not a valid pattern: %s", pattern, channel, error->message);
          if (!bayeux_channel_matches (pattern, channel))
            g_error ("candidate “%s” does not match “%s”", pattern, channel);
        }
    }
}

/* The redacted text of one message: no value left inside "ext". */
static void
check_redacted_message (JsonNode *message)
{
  JsonNode *ext;

  if (!JSON_NODE_HOLDS_OBJECT (message))
    return;
  ext = json_object_get_member (json_node_get_object (message), "ext");
  if (ext == NULL)
    return;
  if (JSON_NODE_HOLDS_OBJECT (ext))
    {
      JsonObject *object = json_node_get_object (ext);
      g_autoptr(GList) names = json_object_get_members (object);

      for (GList *l = names; l != NULL; l = l->next)
        {
          JsonNode *value = json_object_get_member (object, l->data);

          if (json_node_get_value_type (value) != G_TYPE_STRING ||
              strcmp (json_node_get_string (value), "[redacted]") != 0)
            g_error ("ext member “%s” not redacted", (const char *) l->data);
        }
    }
  else if (json_node_get_value_type (ext) != G_TYPE_STRING ||
           strcmp (json_node_get_string (ext), "[redacted]") != 0)
    g_error ("non-object ext not redacted");
}

static void
check_redact (JsonNode *messages)
{
  g_autofree char *text = bayeux_debug_redact (messages);
  g_autoptr(JsonNode) back = NULL;

  g_assert_nonnull (text);
  /* json-glib may print what it cannot read back (non-finite numbers):
   * the property is only checked on text that parses. */
  back = json_from_string (text, NULL);
  if (back == NULL)
    return;
  if (JSON_NODE_HOLDS_ARRAY (back))
    {
      JsonArray *array = json_node_get_array (back);
      for (guint i = 0; i < json_array_get_length (array); i++)
        check_redacted_message (json_array_get_element (array, i));
    }
  else
    check_redacted_message (back);
}

static void
check_message (BayeuxMessage *message)
{
  JsonObject *object = bayeux_message_get_object (message);
  const char *channel = bayeux_message_get_channel (message);
  const char *id = bayeux_message_get_id (message);
  const char *subscription = bayeux_message_get_subscription (message);
  JsonNode *data = bayeux_message_get_data (message);
  JsonNode *subscription_node;
  g_autoptr(BayeuxMessage) ref = bayeux_message_ref (message);
  g_autoptr(JsonNode) copy = NULL;
  g_autofree char *text = NULL;

  g_assert_true (ref == message);
  g_assert_nonnull (object);
  g_assert_nonnull (channel);
  g_assert_true (channel[0] == '/');
  check_string_getter (object, "channel", channel);
  check_string_getter (object, "clientId", bayeux_message_get_client_id (message));
  check_string_getter (object, "error", bayeux_message_get_error (message));

  if (json_object_has_member (object, "id") && !JSON_NODE_HOLDS_NULL (json_object_get_member (object, "id")))
    g_assert_nonnull (id);
  else
    g_assert_null (id);

  g_assert_true (data == json_object_get_member (object, "data"));
  g_assert_cmpint (bayeux_message_has_successful (message), ==, json_object_has_member (object, "successful"));
  if (bayeux_message_get_successful (message))
    g_assert_true (json_object_get_boolean_member (object, "successful"));

  subscription_node = json_object_get_member (object, "subscription");
  if (subscription_node == NULL)
    g_assert_null (subscription);
  else if (subscription != NULL && !JSON_NODE_HOLDS_ARRAY (subscription_node))
    g_assert_cmpstr (subscription, ==, json_node_get_string (subscription_node));

  if (bayeux_message_get_advice (message) != NULL)
    g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "advice")));
  if (bayeux_message_get_ext (message) != NULL)
    g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "ext")));

  copy = bayeux_message_to_json (message);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (copy));
  g_assert_true (json_node_get_object (copy) != object);   /* a deep copy */
  text = bayeux_message_to_string (message);
  g_assert_nonnull (text);

  check_channel (channel);
  if (subscription != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!bayeux_channel_validate (subscription, BAYEUX_CHANNEL_ALLOW_WILDCARD, &error))
        g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);
    }
}

/* A message made as the client makes it, with the span of its text: the
 * data's text (get_data_json, found by scanning the element) parses to the
 * tree's data; so does it for the message made again after the incoming
 * hooks (the text checked against the tree), the very same text. */
static void
check_data_json (BayeuxElements *elements,
                 guint           index,
                 JsonNode       *element)
{
  g_autoptr(BayeuxMessage) message = NULL;
  g_autoptr(BayeuxMessage) after_hooks = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  JsonNode *data;
  const char *text;
  BayeuxSpan span;

  bayeux_elements_get_span (elements, index, &span);
  message = bayeux_message_new_received (element, &span, NULL);
  if (message == NULL)
    return;
  data = bayeux_message_get_data (message);
  text = bayeux_message_get_data_json (message);
  if (data == NULL)
    {
      g_assert_null (text);
      return;
    }
  g_assert_nonnull (text);
  parsed = bayeux_json_parse (text, strlen (text), NULL);
  g_assert_nonnull (parsed);
  g_assert_true (json_node_equal (parsed, data));

  after_hooks = bayeux_message_new_parsed (bayeux_message_get_node (message), NULL);
  g_assert_nonnull (after_hooks);
  bayeux_message_keep_text (after_hooks, message);
  g_assert_cmpstr (bayeux_message_get_data_json (after_hooks), ==, text);
}

/* @data fed in chunks of @cut bytes (0: cuts drawn from @seed) must split
 * as @whole did (NULL: the one-shot split failed, with @whole_error). */
static void
check_chunked (const uint8_t  *data,
               size_t          size,
               gsize           max_element,
               gsize           cut,
               guint32         seed,
               BayeuxElements *whole,
               const GError   *whole_error)
{
  g_autoptr(BayeuxSplitter) splitter = bayeux_splitter_new (max_element);
  g_autoptr(BayeuxElements) elements = NULL;
  g_autoptr(GError) error = NULL;
  gsize at = 0;
  gboolean fed = TRUE;

  while (fed && at < size)
    {
      gsize n = cut;

      if (n == 0)
        {
          seed = seed * 1103515245u + 12345u;
          n = 1 + (seed >> 16) % 97;
        }
      n = MIN (n, size - at);
      fed = bayeux_splitter_feed (splitter, (const char *) data + at, n, &error);
      at += n;
      /* Kept: the elements within the limit, and of the one being read no
       * more than the limit and a chunk. */
      g_assert_cmpuint (bayeux_splitter_get_kept (splitter), <=, at);
    }
  if (fed)
    elements = bayeux_splitter_finish (splitter, &error);

  if (whole == NULL)
    {
      g_assert_null (elements);
      g_assert_error (error, whole_error->domain, whole_error->code);
      return;
    }
  g_assert_no_error (error);
  g_assert_nonnull (elements);
  g_assert_true (bayeux_elements_equal (whole, elements));
}

/* The incremental split against the one-shot one, with a limit for one
 * message drawn from the input (none, or a few to a few hundred bytes). */
static void
check_incremental (const uint8_t *data,
                   size_t         size)
{
  g_autoptr(GBytes) body = g_bytes_new (data, size);
  guint32 seed = size > 0 ? data[0] * 2654435761u + (guint32) size : 1;
  gsize max_element = size > 1 && data[size - 1] % 4 != 0 ? (gsize) (4 + (data[size - 1] * 7) % 400) : G_MAXSIZE;
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxElements) whole = bayeux_elements_split_limited (body, max_element, &error);

  if (whole == NULL)
    g_assert_nonnull (error);
  for (guint i = 0; whole != NULL && i < bayeux_elements_get_length (whole); i++)
    {
      const char *text;
      gsize length;
      g_autoptr(GError) element_error = NULL;
      g_autoptr(JsonNode) element = NULL;

      if (bayeux_elements_get_text (whole, i, &text, &length))
        {
          g_assert_cmpuint (length, <=, max_element);
          continue;
        }
      element = bayeux_elements_parse (whole, i, &element_error);
      g_assert_null (element);
      g_assert_error (element_error, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE);
    }
  check_chunked (data, size, max_element, 1, 0, whole, error);
  check_chunked (data, size, max_element, 3, 0, whole, error);
  check_chunked (data, size, max_element, 0, seed, whole, error);
  check_chunked (data, size, max_element, 0, seed ^ 0x9e3779b9u, whole, error);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) messages = NULL;
  g_autoptr(JsonNode) batch = NULL;
  g_autoptr(GBytes) body = g_bytes_new (data, size);
  g_autoptr(GError) split_error = NULL;
  g_autoptr(BayeuxElements) elements = bayeux_elements_split (body, &split_error);
  gboolean all_parsed = elements != NULL;

  check_incremental (data, size);

  /* What the transports do: the body split into its elements, each parsed
   * on its own. It must agree with parsing the whole body at once. */
  if (elements == NULL)
    g_assert_error (split_error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
  for (guint i = 0; elements != NULL && i < bayeux_elements_get_length (elements); i++)
    {
      g_autoptr(GError) element_error = NULL;
      g_autoptr(JsonNode) element = bayeux_elements_parse (elements, i, &element_error);

      if (element == NULL)
        {
          g_assert_error (element_error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
          all_parsed = FALSE;
        }
      else
        check_data_json (elements, i, element);
      scan_check_element (elements, i);
    }

  messages = bayeux_json_parse_messages ((const char *) data, size, &error);
  g_assert_true ((messages != NULL) == all_parsed);
  if (messages == NULL)
    {
      g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
      return 0;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (bayeux_elements_get_length (elements), ==, json_array_get_length (messages));

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonNode *element = json_array_get_element (messages, i);
      g_autoptr(GError) message_error = NULL;
      g_autoptr(BayeuxMessage) message = bayeux_message_new_from_json (element, &message_error);

      if (message == NULL)
        g_assert_error (message_error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
      else
        {
          g_assert_no_error (message_error);
          check_message (message);
        }
      check_redact (element);
    }

  /* What BAYEUX_DEBUG=wire prints for the whole response. */
  batch = json_node_init_array (json_node_alloc (), messages);
  check_redact (batch);

  return 0;
}
