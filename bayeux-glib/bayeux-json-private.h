/* bayeux-json-private.h: the parser of what servers send, and a deep copy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
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
/* A response body: an array of messages, or one message object (made an
 * array of one); NULL with BAYEUX_ERROR_BAD_RESPONSE otherwise. */
JsonArray  *bayeux_json_parse_messages (const char  *data,
                                        gsize        length,
                                        GError     **error);

/* A copy of @node that shares nothing with it (json_node_copy() shares
 * objects and arrays in json-glib 1.6). */
JsonNode   *bayeux_json_deep_copy      (JsonNode    *node);

G_END_DECLS
