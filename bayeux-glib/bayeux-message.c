/* bayeux-message.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bayeux-glib.h"
#include "bayeux-message-private.h"
#include "bayeux-envelope-private.h"

#include <string.h>

/**
 * BayeuxMessage:
 *
 * One Bayeux message: a JSON object with a `channel` and, depending on its
 * kind, `id`, `clientId`, `data`, `successful`, `error`, `advice`, `ext` and
 * other fields.
 *
 * A `BayeuxMessage` is immutable and reference counted. Messages that the
 * client receives are checked when they are parsed: every field this API
 * reads has the type the protocol gives it, so the getters never fail on
 * hostile input. Fields that this API does not know are kept and can be read
 * with [method@Message.get_object].
 *
 * A message from the server also keeps its text as it came: its `data`
 * is given as that text by [method@Message.get_data_json], for
 * `json.loads()` in Python and `JSON.parse()` in JavaScript. Most messages
 * from the server are read by their envelope alone: the JSON-GLib tree of
 * their `data` is built on the first call to [method@Message.get_data],
 * and the tree of the whole message on the first call of a getter that
 * returns part of it ([method@Message.get_object],
 * [method@Message.get_advice], [method@Message.get_ext]); each is built
 * once and kept, and may be asked for from any thread.
 *
 * Since: 1.0
 */
struct _BayeuxMessage
{
  gatomicrefcount  ref_count;
  /* The tree: an object node, owned, and its object. A scanned message
   * (bayeux_message_new_scanned) makes it on first use, under text_lock,
   * from its text. */
  JsonNode        *node;
  JsonObject      *object;
  char            *id;       /* normalized: a numeric id is kept as text (a scanned message's is in strings) */
  /* A scanned message: its envelope, read once (in strings), and where its
   * `data` is in its text (from the element's start; has_data FALSE when
   * absent), its tree made on first use. The getters of a message made of
   * a tree read the tree, as before. */
  gboolean         scanned;
  gboolean         has_data;
  gboolean         has_successful;
  gboolean         successful;
  const char      *channel;
  const char      *client_id;
  const char      *error;
  const char      *subscription;
  gsize            data_offset;
  gsize            data_length;
  JsonNode        *data;
  /* A message from the server: the span of its text in the body it came
   * in (a reference on the body, no copy, while it is dispatched; one kept
   * after that gets a copy of its own text: bayeux_message_compact()), or
   * body NULL. Read and swapped under text_lock. */
  BayeuxSpan       text;
  /* Extensions' incoming hooks ran on the tree after the text was read:
   * the text's data is used only when it equals the tree's. */
  gboolean         text_unverified;
  char            *data_json;   /* bayeux_message_get_data_json(), made once */
  char             strings[];   /* a scanned message's envelope */
};

G_DEFINE_BOXED_TYPE (BayeuxMessage, bayeux_message, bayeux_message_ref, bayeux_message_unref)

/* Guards the text's body of every message, which compact() swaps while
 * another thread may read it (get_data_json, once per message). */
static GMutex text_lock;

/* A member that the protocol types: absent, or of @type (see
 * bayeux_json_get_member()). */
static gboolean
check_member (JsonObject  *object,
              const char  *name,
              GType        type,
              GError     **error)
{
  if (bayeux_json_get_member (object, name, type) != NULL || !json_object_has_member (object, name))
    return TRUE;

  g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
               "Bad Bayeux message: field “%s” has the wrong type", name);
  return FALSE;
}

/**
 * bayeux_message_new_from_json:
 * @node: a JSON node holding one Bayeux message (an object)
 * @error: return location for a #GError
 *
 * Checks @node and wraps it as a message. The node must be an object with a
 * string `channel` that starts with `/`; the fields `id` (a string, or a
 * number, kept as text), `clientId`, `error` and `subscription` (strings, or
 * for `subscription` an array of strings), `successful` (a boolean),
 * `advice` and `ext` (objects) must have their protocol types when present.
 * The message keeps a copy of @node: changing @node afterwards does not
 * change the message.
 *
 * Returns: (transfer full): a new message, or %NULL with @error set to
 *   %BAYEUX_ERROR_BAD_RESPONSE
 *
 * Since: 1.0
 */
BayeuxMessage *
bayeux_message_new_from_json (JsonNode  *node,
                              GError   **error)
{
  g_autoptr(JsonNode) copy = NULL;

  g_return_val_if_fail (node != NULL, NULL);

  copy = bayeux_json_deep_copy (node);
  return bayeux_message_new_parsed (copy, error);
}

BayeuxMessage *
bayeux_message_new_parsed (JsonNode  *node,
                           GError   **error)
{
  BayeuxMessage *self;
  JsonObject *object;
  const char *channel;
  JsonNode *id;
  JsonArray *subscriptions;
  char *id_text = NULL;

  g_return_val_if_fail (node != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                           "Bad Bayeux message: not a JSON object");
      return NULL;
    }

  object = json_node_get_object (node);
  channel = bayeux_json_get_string (object, "channel");
  if (channel == NULL || channel[0] != '/')
    {
      g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                           "Bad Bayeux message: no valid “channel” field");
      return NULL;
    }

  if (!check_member (object, "clientId", G_TYPE_STRING, error) ||
      !check_member (object, "error", G_TYPE_STRING, error) ||
      !check_member (object, "successful", G_TYPE_BOOLEAN, error) ||
      !check_member (object, "advice", JSON_TYPE_OBJECT, error) ||
      !check_member (object, "ext", JSON_TYPE_OBJECT, error))
    return NULL;

  /* A string, or an array of strings (an array with another element is
   * then checked as a string, and fails). */
  subscriptions = bayeux_json_get_array (object, "subscription");
  for (guint i = 0; subscriptions != NULL && i < json_array_get_length (subscriptions); i++)
    if (json_node_get_value_type (json_array_get_element (subscriptions, i)) != G_TYPE_STRING)
      subscriptions = NULL;
  if (subscriptions == NULL && !check_member (object, "subscription", G_TYPE_STRING, error))
    return NULL;

  id = json_object_get_member (object, "id");
  if (id != NULL)
    {
      GType type = json_node_get_value_type (id);

      if (type == G_TYPE_STRING)
        id_text = g_strdup (json_node_get_string (id));
      else if (type == G_TYPE_INT64)
        id_text = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (id));
      else if (!JSON_NODE_HOLDS_NULL (id))
        {
          g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                               "Bad Bayeux message: field “id” has the wrong type");
          return NULL;
        }
    }

  self = g_new0 (BayeuxMessage, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->node = json_node_ref (node);
  self->object = object;
  self->id = id_text;

  return self;
}

/* A message parsed from @text (its body is referenced). */
BayeuxMessage *
bayeux_message_new_received (JsonNode          *node,
                             const BayeuxSpan  *text,
                             GError           **error)
{
  BayeuxMessage *self = bayeux_message_new_parsed (node, error);

  if (self != NULL && text != NULL && text->body != NULL)
    {
      self->text = *text;
      g_bytes_ref (self->text.body);
    }
  return self;
}

/* A copy of @length bytes at @offset of @element into @strings, NUL
 * terminated; the copy. */
static const char *
put_string (char       **strings,
            const char  *element,
            gsize        offset,
            gsize        length)
{
  char *copy = *strings;

  memcpy (copy, element + offset, length);
  copy[length] = '\0';
  *strings += length + 1;
  return copy;
}

/* A message from the server whose envelope bayeux_envelope_scan() read
 * (its body is referenced): no tree is made until someone asks for one.
 * NULL when the scan says no: the caller parses @text instead. */
BayeuxMessage *
bayeux_message_new_scanned (const BayeuxSpan *text)
{
  static const BayeuxEnvelopeField strings[] = {
    BAYEUX_ENVELOPE_CHANNEL, BAYEUX_ENVELOPE_CLIENT_ID, BAYEUX_ENVELOPE_ERROR, BAYEUX_ENVELOPE_SUBSCRIPTION,
    BAYEUX_ENVELOPE_ID,
  };
  const char *element = (const char *) g_bytes_get_data (text->body, NULL) + text->offset;
  const char *put[G_N_ELEMENTS (strings)] = { NULL, };
  BayeuxEnvelope envelope;
  BayeuxMessage *self;
  gsize size = 0;
  char *next;

  if (!bayeux_envelope_scan (element, text->length, &envelope))
    return NULL;
  if (BAYEUX_ENVELOPE_HAS (&envelope, BAYEUX_ENVELOPE_ID) && envelope.id_kind == BAYEUX_ENVELOPE_ID_NULL)
    envelope.seen &= ~(1u << BAYEUX_ENVELOPE_ID);
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (BAYEUX_ENVELOPE_HAS (&envelope, strings[i]))
      size += envelope.length[strings[i]] + 1;

  /* One block: the message and its envelope's strings. */
  self = g_malloc0 (sizeof (BayeuxMessage) + size);
  next = self->strings;
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (BAYEUX_ENVELOPE_HAS (&envelope, strings[i]))
      put[i] = put_string (&next, element, envelope.offset[strings[i]], envelope.length[strings[i]]);
  g_atomic_ref_count_init (&self->ref_count);
  self->scanned = TRUE;
  self->channel = put[0];
  self->client_id = put[1];
  self->error = put[2];
  self->subscription = put[3];
  self->id = (char *) put[4];   /* in strings: not freed alone */
  self->has_successful = BAYEUX_ENVELOPE_HAS (&envelope, BAYEUX_ENVELOPE_SUCCESSFUL);
  self->successful = self->has_successful && envelope.successful;
  self->has_data = BAYEUX_ENVELOPE_HAS (&envelope, BAYEUX_ENVELOPE_DATA);
  self->data_offset = envelope.offset[BAYEUX_ENVELOPE_DATA];
  self->data_length = envelope.length[BAYEUX_ENVELOPE_DATA];
  self->text = *text;
  g_bytes_ref (self->text.body);
  return self;
}

/* The tree of @length bytes at @offset of @self's text (checked already:
 * it parses). Parsed outside text_lock (held only to take the body, which
 * compact() may swap): threads parse at once. */
static JsonNode *
parse_text (BayeuxMessage *self,
            gsize          offset,
            gsize          length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  const char *element;
  JsonNode *node;

  g_mutex_lock (&text_lock);
  body = g_bytes_ref (self->text.body);
  element = (const char *) g_bytes_get_data (body, NULL) + self->text.offset;
  g_mutex_unlock (&text_lock);
  node = bayeux_json_parse_utf8 (element + offset, length, &error);

  if (node == NULL)
    {
      /* Cannot be: the scan checked it. An empty object rather than a crash. */
      g_critical ("bayeux: a scanned message does not parse: %s", error->message);
      node = json_node_init_object (json_node_alloc (), json_object_new ());
    }
  return node;
}

/* The message's tree, made on first use for a scanned message (the first
 * one made is kept when threads race). */
static JsonObject *
ensure_object (BayeuxMessage *self)
{
  JsonNode *node;

  if (g_atomic_pointer_get (&self->object) != NULL)
    return self->object;
  node = parse_text (self, 0, self->text.length);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_critical ("bayeux: a scanned message is not an object");
      json_node_unref (node);
      node = json_node_init_object (json_node_alloc (), json_object_new ());
    }
  g_mutex_lock (&text_lock);
  if (self->object == NULL)
    {
      self->node = g_steal_pointer (&node);
      g_atomic_pointer_set (&self->object, json_node_get_object (self->node));
    }
  g_mutex_unlock (&text_lock);
  g_clear_pointer (&node, json_node_unref);
  return self->object;
}

/* @self, made of @before's tree after the incoming hooks, keeps its text
 * for get_data_json(), to be checked against the tree first. */
void
bayeux_message_keep_text (BayeuxMessage *self,
                          BayeuxMessage *before)
{
  g_return_if_fail (self->text.body == NULL);

  if (before->text.body == NULL)
    return;
  self->text = before->text;
  g_bytes_ref (self->text.body);
  self->text_unverified = TRUE;
}

/* The message outlives its dispatch (the application, or a queue, kept
 * it): its text is copied out of the response's body, so that it does not
 * keep the whole body (megabytes, for one small message) alive. */
void
bayeux_message_compact (BayeuxMessage *self)
{
  GBytes *old = NULL;

  g_mutex_lock (&text_lock);
  if (self->text.body != NULL && g_bytes_get_size (self->text.body) > self->text.length)
    {
      /* A copy (a GBytes slice would keep its parent, the whole body). */
      old = self->text.body;
      self->text.body = g_bytes_new ((const char *) g_bytes_get_data (old, NULL) + self->text.offset,
                                     self->text.length);
      self->text.offset = 0;
    }
  g_mutex_unlock (&text_lock);
  g_clear_pointer (&old, g_bytes_unref);
}

/* For tests: the size of the body @self holds (0: none), and of its text. */
void
bayeux_message_get_text_sizes_for_testing (BayeuxMessage *self,
                                           gsize         *body_size,
                                           gsize         *text_size)
{
  g_mutex_lock (&text_lock);
  *body_size = self->text.body != NULL ? g_bytes_get_size (self->text.body) : 0;
  *text_size = self->text.length;
  g_mutex_unlock (&text_lock);
}

/* Whether anyone but the caller holds @self. */
gboolean
bayeux_message_is_shared (BayeuxMessage *self)
{
  return !g_atomic_ref_count_compare (&self->ref_count, 1);
}

JsonNode *
bayeux_message_get_node (BayeuxMessage *self)
{
  ensure_object (self);
  return self->node;
}

/* Takes a message the client built itself: always valid. */
BayeuxMessage *
bayeux_message_new_take_object (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  BayeuxMessage *self;

  json_object_unref (object);
  self = bayeux_message_new_parsed (node, NULL);
  g_assert (self != NULL);
  return self;
}

/**
 * bayeux_message_ref:
 * @self: a message
 *
 * Acquires a reference.
 *
 * Returns: (transfer full): @self
 *
 * Since: 1.0
 */
BayeuxMessage *
bayeux_message_ref (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bayeux_message_unref:
 * @self: (transfer full): a message
 *
 * Releases a reference; the message is freed with its last reference.
 *
 * Since: 1.0
 */
void
bayeux_message_unref (BayeuxMessage *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_clear_pointer (&self->node, json_node_unref);
      g_clear_pointer (&self->data, json_node_unref);
      if (!self->scanned)
        g_free (self->id);
      g_clear_pointer (&self->text.body, g_bytes_unref);
      g_free (self->data_json);
      g_free (self);
    }
}

/**
 * bayeux_message_get_channel:
 * @self: a message
 *
 * The channel the message is on, such as `/chat/demo` or `/meta/connect`.
 *
 * Returns: (transfer none): the channel name
 *
 * Since: 1.0
 */
const char *
bayeux_message_get_channel (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->scanned)
    return self->channel;
  return bayeux_json_get_string (self->object, "channel");
}

/**
 * bayeux_message_get_id:
 * @self: a message
 *
 * The message's `id`. A numeric id sent by a server is given as its
 * decimal text.
 *
 * Returns: (transfer none) (nullable): the id, or %NULL when absent
 *
 * Since: 1.0
 */
const char *
bayeux_message_get_id (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->id;
}

/**
 * bayeux_message_get_client_id:
 * @self: a message
 *
 * The message's `clientId`.
 *
 * Returns: (transfer none) (nullable): the client id, or %NULL when absent
 *
 * Since: 1.0
 */
const char *
bayeux_message_get_client_id (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->scanned)
    return self->client_id;
  return bayeux_json_get_string (self->object, "clientId");
}

/**
 * bayeux_message_get_data:
 * @self: a message
 *
 * The message's `data`: what was published.
 *
 * Returns: (transfer none) (nullable): the data, or %NULL when absent
 *
 * Since: 1.0
 */
JsonNode *
bayeux_message_get_data (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (!self->scanned)
    return json_object_get_member (self->object, "data");
  if (!self->has_data)
    return NULL;
  if (g_atomic_pointer_get (&self->data) != NULL)
    return self->data;
  /* The whole tree made already: its member. */
  if (g_atomic_pointer_get (&self->object) != NULL)
    return json_object_get_member (self->object, "data");
  /* Only `data` is made a tree (once): the envelope was read already. */
  {
    JsonNode *data = parse_text (self, self->data_offset, self->data_length);

    if (!g_atomic_pointer_compare_and_exchange (&self->data, NULL, data))
      json_node_unref (data);
  }
  return self->data;
}

/* The text of @data as the server sent it, or NULL when the message has
 * no text, or when hooks changed its data since. */
static char *
data_as_received (BayeuxMessage *self,
                  JsonNode      *data)
{
  g_autoptr(GBytes) body = NULL;
  const char *element;
  gsize offset;
  gsize length;
  BayeuxSpan text;

  g_mutex_lock (&text_lock);
  text = self->text;
  body = text.body != NULL ? g_bytes_ref (text.body) : NULL;
  g_mutex_unlock (&text_lock);
  if (body == NULL)
    return NULL;
  element = (const char *) g_bytes_get_data (body, NULL) + text.offset;
  if (self->scanned)
    {
      offset = self->data_offset;
      length = self->data_length;
    }
  else if (!bayeux_json_find_member (element, text.length, "data", &offset, &length))
    return NULL;
  if (self->text_unverified)
    {
      g_autoptr(JsonNode) received = bayeux_json_parse (element + offset, length, NULL);

      if (received == NULL || !json_node_equal (received, data))
        return NULL;
    }
  return g_strndup (element + offset, length);
}

/**
 * bayeux_message_get_data_json:
 * @self: a message
 *
 * The message's `data` as JSON text, for the JSON parser of a language
 * binding: `json.loads (message.get_data_json ())` in Python,
 * `JSON.parse (message.get_data_json ())` in JavaScript. For a message
 * from the server, it is the text exactly as the server sent it (its
 * spacing, escapes and the spelling of its numbers kept), taken from the
 * response without making JSON-GLib nodes of it again; an extension that
 * changed the `data` in its `incoming` hook gets its change: the text is
 * then made from the changed data. For a message made with
 * [ctor@Message.new_from_json] the text is made from its data.
 *
 * The text is made once, on the first call, and kept with the message.
 *
 * Returns: (transfer none) (nullable): the data as JSON text, valid as long
 *   as @self is; %NULL when the message has no `data`
 *
 * Since: 1.0
 */
const char *
bayeux_message_get_data_json (BayeuxMessage *self)
{
  JsonNode *data;
  char *text;

  g_return_val_if_fail (self != NULL, NULL);

  text = g_atomic_pointer_get (&self->data_json);
  if (text != NULL)
    return text;
  if (self->scanned && !self->has_data)
    return NULL;
  /* A scanned message's text is its data, as received: no tree needed. */
  data = self->scanned ? NULL : json_object_get_member (self->object, "data");
  if (!self->scanned && data == NULL)
    return NULL;

  text = data_as_received (self, data);
  if (text == NULL)
    text = bayeux_json_to_string (data != NULL ? data : bayeux_message_get_data (self));
  /* A message may be read from several threads: the first text made is
   * kept. */
  if (!g_atomic_pointer_compare_and_exchange (&self->data_json, NULL, text))
    {
      g_free (text);
      text = g_atomic_pointer_get (&self->data_json);
    }
  return text;
}

/**
 * bayeux_message_has_successful:
 * @self: a message
 *
 * Whether the message has a `successful` field, that is whether it is a
 * reply to a request rather than a message published by someone.
 *
 * Returns: %TRUE if the message has a `successful` field
 *
 * Since: 1.0
 */
gboolean
bayeux_message_has_successful (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->scanned)
    return self->has_successful;
  return json_object_has_member (self->object, "successful");
}

/**
 * bayeux_message_get_successful:
 * @self: a message
 *
 * The message's `successful` field.
 *
 * Returns: %TRUE if the field is present and true
 *
 * Since: 1.0
 */
gboolean
bayeux_message_get_successful (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->scanned)
    return self->successful;
  return bayeux_json_is_true (self->object, "successful");
}

/**
 * bayeux_message_get_error:
 * @self: a message
 *
 * The message's `error` field: by convention `code:args:text`, such as
 * `402::Unknown client`.
 *
 * Returns: (transfer none) (nullable): the error string, or %NULL
 *
 * Since: 1.0
 */
const char *
bayeux_message_get_error (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->scanned)
    return self->error;
  return bayeux_json_get_string (self->object, "error");
}

/**
 * bayeux_message_get_subscription:
 * @self: a message
 *
 * The `subscription` field of a `/meta/subscribe` or `/meta/unsubscribe`
 * message. When the server sent an array, the first element.
 *
 * Returns: (transfer none) (nullable): the subscription, or %NULL
 *
 * Since: 1.0
 */
const char *
bayeux_message_get_subscription (BayeuxMessage *self)
{
  JsonArray *array;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->scanned)
    return self->subscription;   /* only a string is scanned */
  array = bayeux_json_get_array (self->object, "subscription");
  if (array != NULL)
    return json_array_get_length (array) > 0 ? json_array_get_string_element (array, 0) : NULL;
  return bayeux_json_get_string (self->object, "subscription");
}

/**
 * bayeux_message_get_advice:
 * @self: a message
 *
 * The message's `advice` object (`reconnect`, `interval`, `timeout` …).
 *
 * Returns: (transfer none) (nullable): the advice, or %NULL
 *
 * Since: 1.0
 */
JsonObject *
bayeux_message_get_advice (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  /* A scanned message has none (the scan leaves a message with one to the
   * parser): no tree made to say so. */
  if (self->scanned)
    return NULL;
  return bayeux_json_get_object (self->object, "advice");
}

/**
 * bayeux_message_get_ext:
 * @self: a message
 *
 * The message's `ext` object, where extensions put their fields.
 *
 * Returns: (transfer none) (nullable): the ext object, or %NULL
 *
 * Since: 1.0
 */
JsonObject *
bayeux_message_get_ext (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->scanned)
    return NULL;
  return bayeux_json_get_object (self->object, "ext");
}

/**
 * bayeux_message_get_object:
 * @self: a message
 *
 * The whole message as a JSON object, for fields this API has no getter
 * for. Do not modify it.
 *
 * Returns: (transfer none): the message object
 *
 * Since: 1.0
 */
JsonObject *
bayeux_message_get_object (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return ensure_object (self);
}

/**
 * bayeux_message_to_json:
 * @self: a message
 *
 * A copy of the message as a JSON node.
 *
 * Returns: (transfer full): a new JSON node holding the message object
 *
 * Since: 1.0
 */
JsonNode *
bayeux_message_to_json (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  ensure_object (self);
  return bayeux_json_deep_copy (self->node);
}

/**
 * bayeux_message_to_string:
 * @self: a message
 *
 * The message as compact JSON text.
 *
 * Returns: (transfer full): a newly allocated string
 *
 * Since: 1.0
 */
char *
bayeux_message_to_string (BayeuxMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  ensure_object (self);
  return bayeux_json_to_string (self->node);
}
