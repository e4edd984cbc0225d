/* bayeux-extension-util.c: reading and writing the fields of a message in
 * the built-in extensions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bayeux-extension-util-private.h"

static JsonNode *
member_value (JsonObject *object,
              const char *name,
              GType       type)
{
  JsonNode *node;

  if (object == NULL)
    return NULL;
  node = json_object_get_member (object, name);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

const char *
bayeux_ext_util_string (JsonObject *object,
                        const char *name)
{
  JsonNode *node = member_value (object, name, G_TYPE_STRING);

  return node != NULL ? json_node_get_string (node) : NULL;
}

const char *
bayeux_ext_util_channel (JsonObject *message)
{
  return bayeux_ext_util_string (message, "channel");
}

JsonObject *
bayeux_ext_util_object (JsonObject *object,
                        const char *name)
{
  JsonNode *node;

  if (object == NULL)
    return NULL;
  node = json_object_get_member (object, name);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

JsonObject *
bayeux_ext_util_ensure_ext (JsonObject *message)
{
  JsonObject *ext;

  JsonNode *node = json_object_get_member (message, "ext");

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      ext = json_object_new ();
      json_object_set_object_member (message, "ext", ext);
      return ext;
    }
  return bayeux_ext_util_object (message, "ext");
}

gboolean
bayeux_ext_util_get_int (JsonObject *object,
                         const char *name,
                         gint64     *value)
{
  JsonNode *node = member_value (object, name, G_TYPE_INT64);

  if (node == NULL)
    return FALSE;
  *value = json_node_get_int (node);
  return TRUE;
}

gboolean
bayeux_ext_util_get_boolean (JsonObject *object,
                             const char *name,
                             gboolean   *value)
{
  JsonNode *node = member_value (object, name, G_TYPE_BOOLEAN);

  if (node == NULL)
    return FALSE;
  *value = json_node_get_boolean (node);
  return TRUE;
}

gboolean
bayeux_ext_util_successful (JsonObject *message)
{
  gboolean successful = FALSE;

  return bayeux_ext_util_get_boolean (message, "successful", &successful) && successful;
}
