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
 * WebSocket when both allow it and it is not given up, else by long
 * polling.
 *
 * A socket works once a /meta/connect over it succeeded: one that opens
 * and then closes, or stays silent, before that did not work (whether an
 * earlier socket of the session worked or not). After
 * MAX_UNWORKING sockets in a row that did not work (one, for a refused
 * upgrade, or on a later try), the WebSocket is given up: long polling,
 * and the WebSocket is tried again after GIVE_UP_FIRST_S seconds, twice as
 * long after each give-up in a row (up to GIVE_UP_MAX_S). A socket lost
 * after it worked counts against the backoff (bayeux_transport_policy_
 * settled() is FALSE) until a connect over a new one has been held: a
 * server that closes each socket after a good reply cannot make the client
 * open sockets at any rate.
 *
 * The handshake goes over a WebSocket when it comes first among those
 * allowed, as CometD's clients do (cometd.js `_handshake`): the socket is
 * opened first and carries the handshake, so that a server that binds a
 * session to the socket of its handshake (CometD's
 * ws.requireHandshakePerConnection), or has no long polling at all, works.
 * By HTTP instead, for good (until the allowed transports change): when the
 * upgrade before a handshake is refused with an HTTP answer (no WebSocket
 * here, or not before a session: the socket is then opened after the
 * handshake, as it always was), and when the reply to a handshake over a
 * socket does not offer the WebSocket. Network failures of that socket are
 * failed handshakes (the backoff); MAX_UNWORKING of them in a row, before a
 * handshake over a socket ever worked, give the WebSocket up as above (the
 * handshakes go by HTTP meanwhile). A server that asks for a new handshake
 * on a socket that never carried a successful connect, after a handshake by
 * HTTP, binds sessions to sockets: from then on the handshakes go over the
 * socket whatever the order.
 */
#include "bayeux-transport-policy-private.h"
#include "bayeux-transport-private.h"
#include "bayeux-error.h"

#include <libsoup/soup.h>

/* Sockets that may fail to work before the WebSocket is given up. */
#define MAX_UNWORKING    3
/* How long it is given up for: the first time, and at most (seconds). */
#define GIVE_UP_FIRST_S  60
#define GIVE_UP_MAX_S    3600

struct _BayeuxTransportPolicy
{
  GStrv    allowed;    /* known names, in order of preference */
  gboolean offered;    /* the WebSocket, allowed and offered in the last handshake reply */
  gboolean worked;     /* a connect over it succeeded in this session */
  gboolean socket_worked; /* a connect over the socket open now succeeded */
  guint    unworking;  /* sockets in a row that failed before one worked */
  guint    losses;     /* sockets lost in a row since a connect was held over one */
  guint    give_ups;   /* in a row, without the WebSocket working in between */
  gint64   retry_at;   /* monotonic µs: given up until then */
  gint64 (*now) (void); /* g_get_monotonic_time, or the tests' clock */
  gboolean hs_http;     /* handshakes by HTTP: an upgrade before one was refused, or not offered */
  gboolean hs_http_once; /* the next handshake by HTTP: its upgrade was refused for now */
  gboolean hs_strict;   /* handshakes over the socket: the server binds sessions to sockets */
  gboolean hs_over_ws;  /* the last handshake went over the socket */
  gboolean hs_worked;   /* a handshake over a socket succeeded (and offered it) */
};

static gboolean did_not_work (BayeuxTransportPolicy *self, gboolean refused, guint *retry_in_s);

/* Both transports allowed, WebSocket first. */
BayeuxTransportPolicy *
bayeux_transport_policy_new (void)
{
  BayeuxTransportPolicy *self = g_new0 (BayeuxTransportPolicy, 1);

  self->allowed = g_strsplit ("websocket long-polling", " ", -1);
  self->now = g_get_monotonic_time;
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
  self->hs_http = self->hs_strict = self->hs_http_once = FALSE;
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

/* Reads `supportedConnectionTypes` (@types, nullable: any JSON). Returns
 * whether the server offers an allowed transport; *@websocket: whether
 * the WebSocket is among them. */
static gboolean
offered (BayeuxTransportPolicy *self,
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

/* A successful handshake @reply: a new session, when it has a client id
 * and offers an allowed transport (else FALSE with BAD_RESPONSE). Each
 * session must see the WebSocket work again over a new socket (a given-up
 * WebSocket stays given up). */
gboolean
bayeux_transport_policy_start_session (BayeuxTransportPolicy  *self,
                                       BayeuxMessage          *reply,
                                       GError                **error)
{
  const char *client_id = bayeux_message_get_client_id (reply);
  gboolean websocket;

  if (client_id == NULL || client_id[0] == '\0')
    {
      g_set_error_literal (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE, "Handshake reply without a clientId");
      return FALSE;
    }
  if (!offered (self, json_object_get_member (bayeux_message_get_object (reply), "supportedConnectionTypes"),
                &websocket))
    {
      g_autofree char *allowed = g_strjoinv (", ", self->allowed);

      g_set_error (error, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                   "The server offers none of the allowed transports (%s)", allowed);
      return FALSE;
    }
  self->offered = websocket;
  self->worked = FALSE;
  if (self->hs_over_ws && websocket)
    self->hs_worked = TRUE;
  else if (self->hs_over_ws)
    self->hs_http = TRUE;   /* it carried one, but the server does not offer it: as before */
  return TRUE;
}

/* Whether the next handshake goes over a WebSocket (opened for it when
 * none is): it comes first among the allowed transports (or the server
 * binds sessions to sockets), it is not given up, and no upgrade before a
 * handshake was refused. */
gboolean
bayeux_transport_policy_handshake_websocket (BayeuxTransportPolicy *self)
{
  if (!bayeux_transport_policy_allows (self, "websocket"))
    return FALSE;
  if (!bayeux_transport_policy_allows (self, "long-polling"))
    return TRUE;   /* the only way */
  if (self->now () < self->retry_at || self->hs_http_once)
    return FALSE;
  return self->hs_strict || (g_str_equal (self->allowed[0], "websocket") && !self->hs_http);
}

/* A handshake leaves; @socket_open: a socket is open. Returns whether it
 * goes over it. */
gboolean
bayeux_transport_policy_handshake_sent (BayeuxTransportPolicy *self,
                                        gboolean               socket_open)
{
  self->hs_over_ws = socket_open && bayeux_transport_policy_handshake_websocket (self);
  self->hs_http_once = FALSE;
  return self->hs_over_ws;
}

/* The socket opened for a handshake could not be (@error). Returns TRUE
 * when the handshake goes by HTTP now, long polling being allowed: the
 * upgrade was refused, with an HTTP answer that says no WebSocket here
 * (or not before a session: the next handshakes by HTTP too, unless one
 * over a socket worked before) or not now (5xx, 429, 401:
 * BAYEUX_ERROR_HTTP; the next tries the socket again). FALSE when it
 * failed as a handshake fails (the backoff): a network error (the
 * MAX_UNWORKING-th in a row before one over a socket worked gives the
 * WebSocket up, and the next handshakes go by HTTP), or any failure when
 * the WebSocket is the only transport allowed. */
gboolean
bayeux_transport_policy_handshake_open_failed (BayeuxTransportPolicy *self,
                                               const GError          *error)
{
  guint retry_in_s;

  self->hs_over_ws = FALSE;
  if (!bayeux_transport_policy_allows (self, "long-polling"))
    return FALSE;   /* no other way: a failed handshake, retried */
  if (error->domain == SOUP_WEBSOCKET_ERROR)
    {
      /* No WebSocket here (or not before a session): the next handshakes
       * by HTTP too; only this one if one over a socket worked before. */
      if (!self->hs_worked)
        self->hs_http = TRUE;
      self->hs_strict = FALSE;
      return TRUE;
    }
  /* Refused for now (BAYEUX_ERROR_HTTP: 5xx, 429, 401…): this handshake
   * by HTTP (a proxy that does not pass upgrades may say 502 or 503 for
   * good), the next over a socket again (a server of WebSockets only may
   * be restarting). */
  if (g_error_matches (error, BAYEUX_ERROR, BAYEUX_ERROR_HTTP))
    {
      self->hs_http_once = TRUE;
      return TRUE;
    }
  /* A network error: the backoff; before one worked, counted. */
  if (!self->hs_worked)
    {
      self->socket_worked = FALSE;
      did_not_work (self, FALSE, &retry_in_s);
    }
  return FALSE;
}

/* A new handshake is due (the server asked, or forgot us) while a socket
 * is open (@socket_open) or not. Asked on a socket that never carried a
 * successful connect, after a handshake by HTTP: the server binds sessions
 * to the socket of their handshake, so the next ones go over the socket. */
void
bayeux_transport_policy_rehandshake (BayeuxTransportPolicy *self,
                                     gboolean               socket_open)
{
  if (socket_open && !self->hs_over_ws && !self->socket_worked && !self->hs_strict)
    {
      g_debug ("a new socket does not know the session of a handshake by HTTP: handshakes over the socket");
      self->hs_strict = TRUE;
    }
}

/* A new socket is open: it works once a connect over it succeeds. */
void
bayeux_transport_policy_opened (BayeuxTransportPolicy *self)
{
  self->socket_worked = FALSE;
}

/* For tests: the monotonic clock the policy reads. */
void
bayeux_transport_policy_set_clock (BayeuxTransportPolicy *self,
                                   gint64               (*now) (void))
{
  self->now = now;
}

/* Whether the next /meta/connect should go over a WebSocket. */
gboolean
bayeux_transport_policy_want_websocket (BayeuxTransportPolicy *self)
{
  return self->offered && self->now () >= self->retry_at &&
         bayeux_transport_policy_allows (self, "websocket");
}

/* A /meta/connect succeeded, over the WebSocket (@websocket) or not;
 * @held: the server held it (a long poll, not an immediate answer): the
 * connection is settled. */
void
bayeux_transport_policy_connected (BayeuxTransportPolicy *self,
                                   gboolean               websocket,
                                   gboolean               held)
{
  if (websocket)
    {
      self->worked = TRUE;
      self->socket_worked = TRUE;
      self->unworking = 0;
      self->give_ups = 0;
    }
  if (held)
    self->losses = 0;
}

/* Whether no socket was lost since a connect was held over one: a
 * successful connect may then reset the backoff. */
gboolean
bayeux_transport_policy_settled (BayeuxTransportPolicy *self)
{
  return self->losses == 0;
}

/* Gives the WebSocket up (long polling) for a while; *@retry_in_s: how
 * long. */
static void
give_up (BayeuxTransportPolicy *self,
         guint                 *retry_in_s)
{
  guint seconds = GIVE_UP_FIRST_S;

  for (guint i = 0; i < self->give_ups && seconds < GIVE_UP_MAX_S; i++)
    seconds *= 2;
  seconds = MIN (seconds, GIVE_UP_MAX_S);
  self->give_ups++;
  self->unworking = 0;
  self->retry_at = self->now () + (gint64) seconds * G_USEC_PER_SEC;
  *retry_in_s = seconds;
}

/* A socket that did not work (@refused: its upgrade was refused). Returns
 * whether the WebSocket is given up now. */
static gboolean
did_not_work (BayeuxTransportPolicy *self,
              gboolean               refused,
              guint                 *retry_in_s)
{
  if (self->socket_worked)
    return FALSE;
  if (refused || self->give_ups > 0 || ++self->unworking >= MAX_UNWORKING)
    {
      give_up (self, retry_in_s);
      return TRUE;
    }
  return FALSE;
}

/* The WebSocket could not be opened (@error). Returns TRUE when it is
 * given up (long polling, for *@retry_in_s seconds): it never worked in
 * this session, or the upgrade was refused; FALSE when it worked before
 * (the server is away: a connect failure). */
gboolean
bayeux_transport_policy_open_failed (BayeuxTransportPolicy *self,
                                     const GError          *error,
                                     guint                 *retry_in_s)
{
  if (self->worked && error->domain != SOUP_WEBSOCKET_ERROR)
    return FALSE;
  self->worked = self->socket_worked = FALSE;
  return did_not_work (self, TRUE, retry_in_s);
}

/* An open socket closed, failed or went silent (@error), not by the
 * client's will. Returns TRUE when the WebSocket is given up now: it was
 * the MAX_UNWORKING-th in a row that never carried a successful connect;
 * then, if long polling is allowed, *@fallback is what to tell the
 * application (once). */
gboolean
bayeux_transport_policy_lost (BayeuxTransportPolicy  *self,
                              const GError           *error,
                              GError                **fallback)
{
  guint retry_in_s = 0;

  self->losses++;
  if (!did_not_work (self, FALSE, &retry_in_s))
    return FALSE;
  if (bayeux_transport_policy_allows (self, "long-polling"))
    g_set_error (fallback, error->domain, error->code, "The WebSocket does not work with this server (%s): long "
                 "polling, and the WebSocket again in %u s", error->message, retry_in_s);
  return TRUE;
}
