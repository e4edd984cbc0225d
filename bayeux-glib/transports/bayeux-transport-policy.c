/* bayeux-transport-policy.c: which transport the next connect uses
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see bayeux-glib/README.md): a plain struct that
 * answers by return value; it knows json-glib and the WebSocket's errors,
 * nothing of the client.
 *
 * The application allows some transports (the `transports` property, in
 * order of preference); each handshake reply says which ones the server
 * offers (`supportedConnectionTypes`). The client connects over a
 * WebSocket when both allow it and it has not failed in this session,
 * else by long polling. A WebSocket that could not be opened before it
 * ever worked, or whose upgrade the server (or a proxy) refused, is given
 * up for the rest of the session; one that worked and then could not be
 * opened again means the server is away, as a long poll would find.
 */
#include "bayeux-transport-policy-private.h"
#include "bayeux-transport-private.h"

#include <libsoup/soup.h>

struct _BayeuxTransportPolicy
{
  GStrv    allowed;   /* known names, in order of preference */
  gboolean offered;   /* the WebSocket, allowed and offered in the last handshake reply */
  gboolean failed;    /* it could not be opened in this session */
  gboolean worked;    /* it was open in this session */
};

/* Both transports allowed, WebSocket first. */
BayeuxTransportPolicy *
bayeux_transport_policy_new (void)
{
  BayeuxTransportPolicy *self = g_new0 (BayeuxTransportPolicy, 1);

  self->allowed = g_strsplit ("websocket long-polling", " ", -1);
  return self;
}

void
bayeux_transport_policy_free (BayeuxTransportPolicy *self)
{
  g_strfreev (self->allowed);
  g_free (self);
}

/* The names of @names that are transports of ours, in order, each once;
 * an unknown one is left out with a warning. Returns: (transfer full)
 * (nullable): NULL when none is known */
GStrv
bayeux_transport_policy_known (const char * const *names)
{
  g_autoptr(GPtrArray) known = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; names[i] != NULL; i++)
    {
      if (!bayeux_transport_name_known (names[i]))
        g_warning ("BayeuxClient: unknown transport “%s” left out", names[i]);
      else if (!g_ptr_array_find_with_equal_func (known, names[i], g_str_equal, NULL))
        g_ptr_array_add (known, g_strdup (names[i]));
    }
  if (known->len == 0)
    return NULL;
  g_ptr_array_add (known, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&known), FALSE);
}

/* Allows @names (taken; from bayeux_transport_policy_known()). Returns
 * whether they differ from those allowed before. */
gboolean
bayeux_transport_policy_set_allowed (BayeuxTransportPolicy *self,
                                     GStrv                  names)
{
  if (g_strv_equal ((const char * const *) self->allowed, (const char * const *) names))
    {
      g_strfreev (names);
      return FALSE;
    }
  g_strfreev (self->allowed);
  self->allowed = names;
  return TRUE;
}

const char * const *
bayeux_transport_policy_get_allowed (BayeuxTransportPolicy *self)
{
  return (const char * const *) self->allowed;
}

gboolean
bayeux_transport_policy_allows (BayeuxTransportPolicy *self,
                                const char            *name)
{
  return g_strv_contains ((const char * const *) self->allowed, name);
}

/* Reads a handshake reply's `supportedConnectionTypes` (@types, nullable:
 * any JSON). Returns whether the server offers an allowed transport;
 * *@websocket: whether the WebSocket is among them. */
gboolean
bayeux_transport_policy_offered (BayeuxTransportPolicy *self,
                                 JsonNode              *types,
                                 gboolean              *websocket)
{
  gboolean long_polling = FALSE;

  *websocket = FALSE;
  if (types == NULL || !JSON_NODE_HOLDS_ARRAY (types))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (types)); i++)
    {
      JsonNode *type = json_array_get_element (json_node_get_array (types), i);

      if (json_node_get_value_type (type) != G_TYPE_STRING)
        continue;
      if (g_str_equal (json_node_get_string (type), "long-polling"))
        long_polling = bayeux_transport_policy_allows (self, "long-polling");
      else if (g_str_equal (json_node_get_string (type), "websocket"))
        *websocket = bayeux_transport_policy_allows (self, "websocket");
    }
  return long_polling || *websocket;
}

/* A new session, whose server offers the WebSocket or not: each session
 * tries it again. */
void
bayeux_transport_policy_start_session (BayeuxTransportPolicy *self,
                                       gboolean               websocket)
{
  self->offered = websocket;
  self->failed = FALSE;
  self->worked = FALSE;
}

/* Whether the next /meta/connect should go over a WebSocket. */
gboolean
bayeux_transport_policy_want_websocket (BayeuxTransportPolicy *self)
{
  return self->offered && !self->failed && bayeux_transport_policy_allows (self, "websocket");
}

/* The WebSocket is open. */
void
bayeux_transport_policy_opened (BayeuxTransportPolicy *self)
{
  self->worked = TRUE;
}

/* The WebSocket could not be opened (@error). Returns TRUE when it is
 * given up for the session (long polling from now on): it never worked in
 * this session, or the upgrade was refused; FALSE when it worked before
 * (the server is away: a connect failure). */
gboolean
bayeux_transport_policy_open_failed (BayeuxTransportPolicy *self,
                                     const GError          *error)
{
  if (self->worked && error->domain != SOUP_WEBSOCKET_ERROR)
    return FALSE;
  self->failed = TRUE;
  return TRUE;
}
