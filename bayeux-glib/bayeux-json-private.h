/* bayeux-json-private.h: the parser of what servers send, a deep copy, and
 * typed getters of members
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The getters read a member only when it has the expected JSON type (a
 * JSON null is no type); a NULL @object reads as an object without
 * members, so that they chain.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* How deep bayeux_json_parse() lets arrays and objects nest. */
#define BAYEUX_MAX_JSON_DEPTH 256

/* One JSON text in UTF-8 into a tree of sealed nodes, or NULL with
 * BAYEUX_ERROR_BAD_RESPONSE. */
JsonNode   *bayeux_json_parse          (const char  *data,
                                        gsize        length,
                                        GError     **error);
/* The same, of @data known to be valid UTF-8 (checked by a split). */
JsonNode   *bayeux_json_parse_utf8     (const char  *data,
                                        gsize        length,
                                        GError     **error);
/* A response body: an array of messages, or one message object (made an
 * array of one); NULL with BAYEUX_ERROR_BAD_RESPONSE otherwise. */
JsonArray  *bayeux_json_parse_messages (const char  *data,
                                        gsize        length,
                                        GError     **error);

/* A response body (or frame) split into its elements, each parsed only
 * when it is asked for: the body is kept as it came (no copy), with the
 * span of each element, so that a response costs about its own size in
 * memory however many messages it holds, and a parse tree lives only
 * while its message is handled. */
typedef struct _BayeuxElements BayeuxElements;

/* @body (a reference is taken): an array of messages, or one message
 * object. The whole body is checked to be UTF-8 and well nested (depth,
 * brackets, strings, commas between elements); each element is checked
 * when it is parsed. NULL with BAYEUX_ERROR_BAD_RESPONSE otherwise. */
BayeuxElements *bayeux_elements_split          (GBytes          *body,
                                                GError         **error);
/* The same, an element larger than @max_element bytes refused alone: it
 * stays in its place, bayeux_elements_parse() of it fails with
 * BAYEUX_ERROR_MESSAGE_TOO_LARGE (its size and offset, never its text),
 * and the others are there as they would be without it. */
BayeuxElements *bayeux_elements_split_limited  (GBytes          *body,
                                                gsize            max_element,
                                                GError         **error);
BayeuxElements *bayeux_elements_ref            (BayeuxElements  *self);
void            bayeux_elements_unref          (BayeuxElements  *self);
guint           bayeux_elements_get_length     (BayeuxElements  *self);
/* How many elements are objects without a `successful` member: the
 * messages delivered rather than replies. */
guint           bayeux_elements_get_deliveries (BayeuxElements  *self);
/* How many elements were refused as larger than the limit. */
guint           bayeux_elements_get_refused    (BayeuxElements  *self);
/* Of a refused element @index that has `successful` (a reply), the id it
 * carries (a string, or an integer as json-glib prints it), read by the
 * scan without parsing it: so that the request it answers can end. NULL
 * for the others. */
const char     *bayeux_elements_get_refused_id (BayeuxElements  *self,
                                                guint            index);
/* The text of element @index, FALSE for a refused one. */
gboolean        bayeux_elements_get_text       (BayeuxElements  *self,
                                                guint            index,
                                                const char     **data,
                                                gsize           *length);
/* Whether @a and @b hold the same elements (text, refused ones and their
 * ids) and deliveries: a split in chunks against a one-shot one. */
gboolean        bayeux_elements_equal          (BayeuxElements  *a,
                                                BayeuxElements  *b);
/* Element @index, parsed (transfer full), or NULL with
 * BAYEUX_ERROR_BAD_RESPONSE when it is not valid JSON (or
 * BAYEUX_ERROR_MESSAGE_TOO_LARGE when it was refused). */
JsonNode       *bayeux_elements_parse          (BayeuxElements  *self,
                                                guint            index,
                                                GError         **error);
/* All of them, as an array; NULL when one is not valid JSON. */
JsonArray      *bayeux_elements_to_array       (BayeuxElements  *self,
                                                GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BayeuxElements, bayeux_elements_unref)

/* Where a message's text is: @length bytes at @offset in @body. */
typedef struct
{
  GBytes *body;
  gsize   offset;
  gsize   length;
} BayeuxSpan;

/* The span of element @index (its body borrowed from @self). */
void            bayeux_elements_get_span       (BayeuxElements  *self,
                                                guint            index,
                                                BayeuxSpan      *span);
/* In @data, one JSON object known to be valid (parsed already), where the
 * value of the member @name is: FALSE when it has none. A name spelled
 * with escapes is compared unescaped. */
gboolean        bayeux_json_find_member        (const char      *data,
                                                gsize            length,
                                                const char      *name,
                                                gsize           *offset,
                                                gsize           *value_length);
/* JSON text from the application (NUL-terminated), parsed as
 * bayeux_json_parse() parses what servers send (UTF-8, bounded depth, no
 * duplicate names), and with no number beyond a double's range (it could
 * not be written back as JSON); else NULL with
 * BAYEUX_ERROR_INVALID_JSON. */
/* json_to_string() (compact) as valid JSON: json-glib 1.6 writes 1e22 as
 * "1e+22.0". */
char           *bayeux_json_to_string          (JsonNode        *node);
JsonNode       *bayeux_json_parse_text         (const char      *text,
                                                GError         **error);

/* The split of a body that comes in chunks (a long-polling response as it
 * is read): the same checks and the same elements as
 * bayeux_elements_split_limited() of the whole body, whatever the chunks,
 * with the state of its scan kept from one chunk to the next (so each byte
 * is scanned once). It keeps the bytes of the elements within
 * @max_element and drops those of a larger one as soon as it is past the
 * limit: what it holds is the body less the refused elements. A UTF-8 or
 * syntax error is found in the chunk where it is (a one-shot split finds a
 * bad UTF-8 byte first, wherever it is): the same error code, maybe
 * another offset. */
typedef struct _BayeuxSplitter BayeuxSplitter;

BayeuxSplitter *bayeux_splitter_new      (gsize            max_element);
/* The next @length bytes of the body; FALSE with @error (and every later
 * feed or finish fails the same) when they cannot be of a Bayeux body. */
gboolean        bayeux_splitter_feed     (BayeuxSplitter  *self,
                                          const char      *data,
                                          gsize            length,
                                          GError         **error);
/* The bytes it holds now. */
gsize           bayeux_splitter_get_kept (BayeuxSplitter  *self);
/* The body is over: its elements, or NULL with @error. Once. */
BayeuxElements *bayeux_splitter_finish   (BayeuxSplitter  *self,
                                          GError         **error);
void            bayeux_splitter_free     (BayeuxSplitter  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BayeuxSplitter, bayeux_splitter_free)

/* A copy of @node that shares nothing with it (json_node_copy() shares
 * objects and arrays in json-glib 1.6). */
JsonNode   *bayeux_json_deep_copy      (JsonNode    *node);

/* The member @name when json_node_get_value_type() is @type for it
 * (G_TYPE_STRING, G_TYPE_INT64, G_TYPE_DOUBLE, G_TYPE_BOOLEAN,
 * JSON_TYPE_OBJECT, JSON_TYPE_ARRAY), else NULL. */
JsonNode   *bayeux_json_get_member     (JsonObject  *object,
                                        const char  *name,
                                        GType        type);
/* The string member @name, or NULL. */
const char *bayeux_json_get_string     (JsonObject  *object,
                                        const char  *name);
/* The object member @name, or NULL. */
JsonObject *bayeux_json_get_object     (JsonObject  *object,
                                        const char  *name);
/* The array member @name, or NULL. */
JsonArray  *bayeux_json_get_array      (JsonObject  *object,
                                        const char  *name);
/* Whether the member @name is an integer (no fraction, no exponent); if
 * so, stores it in @out, else leaves @out alone. */
gboolean    bayeux_json_get_int        (JsonObject  *object,
                                        const char  *name,
                                        gint64      *out);
/* Whether the member @name is a number, integer or not; if so, stores it
 * in @out, else leaves @out alone. */
gboolean    bayeux_json_get_number     (JsonObject  *object,
                                        const char  *name,
                                        double      *out);
/* Whether the member @name is the boolean true. */
gboolean    bayeux_json_is_true        (JsonObject  *object,
                                        const char  *name);
/* The object member @name of @object (not NULL), added empty when absent
 * or null; NULL when it is something else, which is left as it is. */
JsonObject *bayeux_json_ensure_object  (JsonObject  *object,
                                        const char  *name);

G_END_DECLS
