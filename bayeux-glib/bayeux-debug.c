/* bayeux-debug.c: BAYEUX_DEBUG=wire,http
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bayeux-glib.h"
#include "bayeux-debug-private.h"
#include "bayeux-message-private.h"

#include <string.h>

guint
bayeux_debug_flags (void)
{
  static gsize flags_once = 0;
  static guint flags = 0;

  if (g_once_init_enter (&flags_once))
    {
      const GDebugKey keys[] = {
        { "wire", BAYEUX_DEBUG_WIRE },
        { "http", BAYEUX_DEBUG_HTTP },
      };
      flags = g_parse_debug_string (g_getenv ("BAYEUX_DEBUG"), keys, G_N_ELEMENTS (keys));
      g_once_init_leave (&flags_once, 1);
    }

  return flags;
}

/* Replaces every value inside each message's "ext" (where authentication
 * tokens travel) by "[redacted]", keeping the keys so that the dump still
 * shows which extensions are in play. */
static void
redact_ext (JsonNode *message)
{
  JsonObject *object;
  JsonNode *ext;

  if (!JSON_NODE_HOLDS_OBJECT (message))
    return;
  object = json_node_get_object (message);
  ext = json_object_get_member (object, "ext");
  if (ext == NULL)
    return;
  if (JSON_NODE_HOLDS_OBJECT (ext))
    {
      JsonObject *ext_object = json_node_get_object (ext);
      g_autoptr(GList) names = json_object_get_members (ext_object);

      for (GList *l = names; l; l = l->next)
        json_object_set_string_member (ext_object, l->data, "[redacted]");
    }
  else
    json_object_set_string_member (object, "ext", "[redacted]");
}

char *
bayeux_debug_redact (JsonNode *messages)
{
  g_autoptr(JsonNode) copy = bayeux_json_deep_copy (messages);

  if (JSON_NODE_HOLDS_ARRAY (copy))
    {
      JsonArray *array = json_node_get_array (copy);
      for (guint i = 0; i < json_array_get_length (array); i++)
        redact_ext (json_array_get_element (array, i));
    }
  else
    redact_ext (copy);

  return json_to_string (copy, FALSE);
}

void
bayeux_debug_wire (const char *direction,
                   JsonNode   *messages)
{
  g_autofree char *text = NULL;

  if (!(bayeux_debug_flags () & BAYEUX_DEBUG_WIRE))
    return;

  text = bayeux_debug_redact (messages);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "%s %s", direction, text);
}

static const char * const secret_headers[] = { "Cookie", "Set-Cookie", "Authorization", "Proxy-Authorization" };

static void
print_redacted (SoupLogger         *logger,
                SoupLoggerLogLevel  level,
                char                direction,
                const char         *data,
                gpointer            user_data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (secret_headers); i++)
    {
      gsize len = strlen (secret_headers[i]);
      if (g_ascii_strncasecmp (data, secret_headers[i], len) == 0 && data[len] == ':')
        {
          g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "%c %s: [redacted]",
                            direction, secret_headers[i]);
          return;
        }
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "%c %s", direction, data);
}

void
bayeux_debug_attach_logger (SoupSession *session)
{
  g_autoptr(SoupLogger) logger = NULL;

  if (!(bayeux_debug_flags () & BAYEUX_DEBUG_HTTP) || soup_session_has_feature (session, SOUP_TYPE_LOGGER))
    return;

  logger = soup_logger_new (SOUP_LOGGER_LOG_HEADERS);
  soup_logger_set_printer (logger, print_redacted, NULL, NULL);
  soup_session_add_feature (session, SOUP_SESSION_FEATURE (logger));
}
