/* test-utils.c: an in-process Bayeux server on 127.0.0.1:0 for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small but real Bayeux server on a SoupServer in the test's own main
 * context: handshake, held /meta/connect (paused until a delivery, the
 * advised timeout, or a disconnect), subscribe, unsubscribe, publish with
 * delivery to matching subscriptions.  Tests make it misbehave with knobs
 * (refused channels, raw answers, held-forever polls, forgotten clients) or
 * a hook that answers a request itself, and read back what it received.
 *
 * And the client fixture of the test-<area>.c files (ClientFixture): the
 * server, a client on it, what the client reported, and the waits and steps
 * the tests share.
 */
#include "test-utils.h"

#include <string.h>

/* The sanitizers' runtime (GCC 12, clang 14) crashes in LeakSanitizer's
 * exit-time scan ("Tracer caught signal 11") once GnuTLS, loaded by the
 * glib-networking module, has used dynamic TLS: not tracking dynamic TLS
 * blocks avoids it (google/sanitizers#1322), and the leak check still runs.
 * Every test program linked with test-utils gets these defaults (test-tls.c
 * and test-websocket.c are the ones that use TLS); ASAN_OPTIONS from the
 * environment is read after them. */
#if TEST_UNDER_ASAN
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "intercept_tls_get_addr=0";
}
#endif

struct _TestServer
{
  SoupServer        *server;
  char              *url;
  guint              timeout_ms;
  guint              interval_ms;
  TestServerHook     hook;
  gpointer           hook_data;
  GHashTable        *refused;        /* channel set */
  gboolean           hold_forever;
  guint              max_interval_ms;   /* advised when not 0 */
  char              *unknown_client_error;   /* the error of a reply to a session it does not know */
  gboolean           ignore_disconnect;
  char              *set_cookie;
  GQueue             raw;            /* RawAnswer */

  guint              next_client;
  GHashTable        *clients;        /* clientId set */
  GHashTable        *subscriptions;  /* channel set (one client at a time is enough) */
  JsonArray         *deliveries;     /* messages for the next connect reply */

  SoupServerMessage *held;           /* the paused /meta/connect */
  JsonObject        *held_reply;
  GSource           *held_timer;
  guint              held_count;
  guint              max_held;
  GPtrArray         *paused_forever; /* messages never answered */

  /* Observations */
  GHashTable        *counts;         /* channel → count */
  GHashTable        *last;           /* channel → JsonObject */
  GHashTable        *last_time;      /* channel → gint64* */
  GHashTable        *last_reply_time;
  GHashTable        *ports;          /* client ports seen */
  guint              requests;
  guint              max_batch;
  char              *last_cookie;

  /* WebSocket (test_server_set_websocket) */
  gboolean           ws_offer;       /* the handshake reply offers "websocket" */
  gboolean           ws_accept;      /* upgrades are accepted */
  gboolean           ws_silent;      /* frames are read, never answered */
  gboolean           ws_hold_upgrades; /* upgrade requests get no answer */
  TestWsFault        ws_fault;
  SoupMessageHeaders *ws_upgrade_headers; /* of the latest upgrade request */
  SoupWebsocketConnection *ws;       /* the latest connection */
  JsonObject        *ws_held_reply;  /* its held /meta/connect */
  GSource           *ws_held_timer;
  guint              ws_connections;
  guint              ws_frames;
  gboolean           ws_strict;      /* a session is known only on the socket of its handshake */
  char              *ws_session;     /* the client id handshaken on the latest socket */
  guint              refuse_posts;   /* the status of every POST, or 0 */
  guint              posts;
  guint              handshakes[2];  /* by HTTP, over a WebSocket */
  gboolean           ws_require_cookie; /* upgrades without a Cookie are refused */
  guint              ws_refused;     /* upgrades refused */
  GPtrArray         *raw_data;       /* texts of test_server_deliver_raw(), by index */
};

typedef struct
{
  char  *channel;
  guint  status;
  char  *body;
} RawAnswer;

static void
raw_answer_free (gpointer data)
{
  RawAnswer *raw = data;

  g_free (raw->channel);
  g_free (raw->body);
  g_free (raw);
}

void
test_server_respond_raw (SoupServerMessage *msg,
                         guint              status,
                         const char        *body)
{
  soup_server_message_set_status (msg, status, NULL);
  if (body != NULL)
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body, strlen (body));
}

/* The replies as text: the data of a test_server_deliver_raw() delivery,
 * a placeholder in the tree, is put back as it was given. */
static char *
replies_to_text (TestServer *self,
                 JsonNode   *replies)
{
  g_autofree char *compact = json_to_string (replies, FALSE);
  GString *text = g_string_new (compact);

  for (guint i = 0; self->raw_data != NULL && i < self->raw_data->len; i++)
    {
      g_autofree char *placeholder = g_strdup_printf ("\"@@raw:%u@@\"", i);

      g_string_replace (text, placeholder, g_ptr_array_index (self->raw_data, i), 0);
    }
  return g_string_free (text, FALSE);
}

static void
respond_json (TestServer        *self,
              SoupServerMessage *msg,
              JsonArray         *replies)
{
  g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), replies);
  g_autofree char *text = replies_to_text (self, node);
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < json_array_get_length (replies); i++)
    {
      JsonObject *reply = json_array_get_object_element (replies, i);
      const char *channel = json_object_get_string_member_with_default (reply, "channel", "?");
      gint64 *t = g_new (gint64, 1);

      *t = now;
      g_hash_table_insert (self->last_reply_time, g_strdup (channel), t);
    }
  test_server_respond_raw (msg, SOUP_STATUS_OK, text);
}

static JsonObject *
reply_for (JsonObject *request,
           gboolean    successful)
{
  JsonObject *reply = json_object_new ();

  json_object_set_string_member (reply, "channel", json_object_get_string_member (request, "channel"));
  if (json_object_has_member (request, "id"))
    json_object_set_member (reply, "id", json_node_copy (json_object_get_member (request, "id")));
  if (json_object_has_member (request, "clientId"))
    json_object_set_string_member (reply, "clientId", json_object_get_string_member (request, "clientId"));
  json_object_set_boolean_member (reply, "successful", successful);
  return reply;
}

static JsonObject *
advice_new (TestServer *self,
            const char *reconnect)
{
  JsonObject *advice = json_object_new ();

  json_object_set_string_member (advice, "reconnect", reconnect);
  json_object_set_int_member (advice, "interval", self->interval_ms);
  json_object_set_int_member (advice, "timeout", self->timeout_ms);
  if (self->max_interval_ms > 0)
    json_object_set_int_member (advice, "maxInterval", self->max_interval_ms);
  return advice;
}

static void
answer_held (TestServer *self)
{
  g_autoptr(JsonArray) replies = json_array_new ();
  SoupServerMessage *msg = g_steal_pointer (&self->held);

  if (msg == NULL)
    return;

  if (self->held_timer != NULL)
    {
      g_source_destroy (self->held_timer);
      g_clear_pointer (&self->held_timer, g_source_unref);
    }
  self->held_count--;

  /* A poll of a session the server forgot gets no deliveries: they wait
   * for the next poll of a live session. */
  if (!g_hash_table_contains (self->clients,
                              json_object_get_string_member_with_default (self->held_reply, "clientId", "")))
    {
      json_object_set_boolean_member (self->held_reply, "successful", FALSE);
      json_object_set_string_member (self->held_reply, "error", self->unknown_client_error);
      json_array_add_object_element (replies, g_steal_pointer (&self->held_reply));
      respond_json (self, msg, replies);
      soup_server_message_unpause (msg);
      g_object_unref (msg);
      return;
    }

  /* The advice of now, not of when the poll arrived. */
  json_object_set_object_member (self->held_reply, "advice", advice_new (self, "retry"));
  json_array_add_object_element (replies, g_steal_pointer (&self->held_reply));
  for (guint i = 0; i < json_array_get_length (self->deliveries); i++)
    json_array_add_element (replies, json_node_copy (json_array_get_element (self->deliveries, i)));
  json_array_unref (self->deliveries);
  self->deliveries = json_array_new ();

  respond_json (self, msg, replies);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static gboolean
held_timeout_cb (gpointer user_data)
{
  TestServer *self = user_data;

  g_clear_pointer (&self->held_timer, g_source_unref);
  answer_held (self);
  return G_SOURCE_REMOVE;
}

static void
on_held_disconnected (SoupServerMessage *msg,
                      gpointer           user_data)
{
  TestServer *self = user_data;

  if (self->held == msg)
    {
      if (self->held_timer != NULL)
        {
          g_source_destroy (self->held_timer);
          g_clear_pointer (&self->held_timer, g_source_unref);
        }
      g_clear_pointer (&self->held_reply, json_object_unref);
      self->held_count--;
      g_clear_object (&self->held);
    }
}

static void
hold (TestServer        *self,
      SoupServerMessage *msg,
      JsonObject        *reply)
{
  /* One held connect at a time: a second one answers the first. */
  if (self->held != NULL)
    answer_held (self);

  self->held = g_object_ref (msg);
  self->held_reply = reply;
  self->held_count++;
  self->max_held = MAX (self->max_held, self->held_count);
  g_signal_connect (msg, "disconnected", G_CALLBACK (on_held_disconnected), self);
  /* A status now: SoupServer would otherwise take the paused request for a
   * WebSocket handshake when a WebSocket handler shares the path. */
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_pause (msg);

  if (!self->hold_forever)
    {
      self->held_timer = g_timeout_source_new (self->timeout_ms);
      g_source_set_callback (self->held_timer, held_timeout_cb, self, NULL);
      g_source_attach (self->held_timer, NULL);
    }
}

static void
observe (TestServer        *self,
         SoupServerMessage *msg,
         JsonArray         *request)
{
  self->requests++;
  self->max_batch = MAX (self->max_batch, json_array_get_length (request));
  if (msg != NULL)
    {
      GSocketAddress *remote = soup_server_message_get_remote_address (msg);
      const char *cookie = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Cookie");

      if (G_IS_INET_SOCKET_ADDRESS (remote))
        g_hash_table_add (self->ports, GUINT_TO_POINTER (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote))));
      g_free (self->last_cookie);
      self->last_cookie = g_strdup (cookie);
    }

  for (guint i = 0; i < json_array_get_length (request); i++)
    {
      JsonNode *node = json_array_get_element (request, i);
      JsonObject *object;
      const char *channel;
      gint64 *t;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      object = json_node_get_object (node);
      channel = json_object_get_string_member_with_default (object, "channel", "?");
      g_hash_table_insert (self->counts, g_strdup (channel),
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (self->counts, channel)) + 1));
      g_hash_table_insert (self->last, g_strdup (channel), json_object_ref (object));
      t = g_new (gint64, 1);
      *t = g_get_monotonic_time ();
      g_hash_table_insert (self->last_time, g_strdup (channel), t);
    }
}

static gboolean
queue_delivery (TestServer *self,
                const char *channel,
                JsonNode   *data,
                const char *id)
{
  GHashTableIter iter;
  const char *pattern;
  gboolean matched = FALSE;

  /* A filtered subscription (Salesforce's "/topic/X?field=value") gets
   * the messages of its base name: this server does not filter. */
  g_hash_table_iter_init (&iter, self->subscriptions);
  while (g_hash_table_iter_next (&iter, (gpointer *) &pattern, NULL))
    {
      g_autofree char *base = g_strndup (pattern, strcspn (pattern, "?"));

      if (bayeux_channel_matches (pattern, channel) || bayeux_channel_matches (base, channel))
        matched = TRUE;
    }

  if (matched)
    {
      JsonObject *message = json_object_new ();
      json_object_set_string_member (message, "channel", channel);
      json_object_set_member (message, "data", json_node_copy (data));
      if (id != NULL)
        json_object_set_string_member (message, "id", id);
      json_array_add_object_element (self->deliveries, message);
    }
  return matched;
}

/* ------------------------------------------------------------------------ */
/* The same server over a WebSocket: replies in frames, one /meta/connect
 * held at a time, answered (with the deliveries) as over HTTP. */

static void
ws_send (TestServer *self,
         JsonArray  *replies)
{
  g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), replies);
  g_autofree char *text = replies_to_text (self, node);
  gint64 now = g_get_monotonic_time ();
  gboolean connected = FALSE;

  for (guint i = 0; i < json_array_get_length (replies); i++)
    {
      JsonObject *reply = json_array_get_object_element (replies, i);
      gint64 *t = g_new (gint64, 1);

      connected |= g_strcmp0 (json_object_get_string_member_with_default (reply, "channel", ""), "/meta/connect") == 0 &&
                   json_object_get_boolean_member_with_default (reply, "successful", FALSE);
      *t = now;
      g_hash_table_insert (self->last_reply_time,
                           g_strdup (json_object_get_string_member_with_default (reply, "channel", "?")), t);
    }
  if (self->ws != NULL && soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    {
      soup_websocket_connection_send_text (self->ws, text);
      if (connected && self->ws_fault == TEST_WS_CLOSE_AFTER_CONNECT)
        soup_websocket_connection_close (self->ws, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, "after a good reply");
    }
}

static void
ws_clear_held (TestServer *self)
{
  if (self->ws_held_timer != NULL)
    {
      g_source_destroy (self->ws_held_timer);
      g_clear_pointer (&self->ws_held_timer, g_source_unref);
    }
  g_clear_pointer (&self->ws_held_reply, json_object_unref);
}

static void
ws_answer_held (TestServer *self)
{
  g_autoptr(JsonArray) replies = json_array_new ();
  JsonObject *reply = g_steal_pointer (&self->ws_held_reply);

  ws_clear_held (self);
  if (reply == NULL)
    return;
  if (!g_hash_table_contains (self->clients, json_object_get_string_member_with_default (reply, "clientId", "")))
    {
      json_object_set_boolean_member (reply, "successful", FALSE);
      json_object_set_string_member (reply, "error", self->unknown_client_error);
      json_array_add_object_element (replies, reply);
      ws_send (self, replies);
      return;
    }
  json_object_set_object_member (reply, "advice", advice_new (self, "retry"));
  json_array_add_object_element (replies, reply);
  for (guint i = 0; i < json_array_get_length (self->deliveries); i++)
    json_array_add_element (replies, json_node_copy (json_array_get_element (self->deliveries, i)));
  json_array_unref (self->deliveries);
  self->deliveries = json_array_new ();
  ws_send (self, replies);
}

static gboolean
ws_held_timeout_cb (gpointer user_data)
{
  TestServer *self = user_data;

  g_clear_pointer (&self->ws_held_timer, g_source_unref);
  ws_answer_held (self);
  return G_SOURCE_REMOVE;
}

static void server_callback (SoupServer *server, SoupServerMessage *msg, const char *path,
                             GHashTable *query, gpointer user_data);
static gboolean process_request (TestServer *self, SoupServerMessage *msg, JsonArray *request,
                                 JsonArray *replies, JsonObject **connect_reply, gboolean *delivered);

static void
on_ws_message (SoupWebsocketConnection *connection,
               gint                     type,
               GBytes                  *message,
               gpointer                 user_data)
{
  TestServer *self = user_data;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonArray) replies = json_array_new ();
  JsonObject *connect_reply = NULL;
  gboolean delivered = FALSE;

  self->ws_frames++;
  if (connection != self->ws)
    return;
  root = json_from_string (g_bytes_get_data (message, NULL), NULL);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return;

  observe (self, NULL, json_node_get_array (root));
  if (self->ws_silent)
    return;
  if (!process_request (self, NULL, json_node_get_array (root), replies, &connect_reply, &delivered))
    return;
  /* The held connect first, as Faye does: a disconnect's reply comes after
   * the answer to the poll it ends. */
  if (delivered && self->ws_held_reply != NULL && !self->hold_forever)
    ws_answer_held (self);
  if (json_array_get_length (replies) > 0)
    ws_send (self, replies);
  if (connect_reply != NULL)
    {
      ws_answer_held (self);   /* one held at a time */
      self->ws_held_reply = connect_reply;
      if (!self->hold_forever)
        {
          self->ws_held_timer = g_timeout_source_new (self->timeout_ms);
          g_source_set_callback (self->ws_held_timer, ws_held_timeout_cb, self, NULL);
          g_source_attach (self->ws_held_timer, NULL);
        }
    }
}

static void
ws_drop (TestServer *self)
{
  ws_clear_held (self);
  if (self->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->ws, self);
      if (soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (self->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      g_clear_object (&self->ws);
    }
}

static void
on_ws_closed (SoupWebsocketConnection *connection,
              gpointer                 user_data)
{
  TestServer *self = user_data;

  if (connection == self->ws)
    {
      ws_clear_held (self);
      g_signal_handlers_disconnect_by_data (self->ws, self);
      g_clear_object (&self->ws);
    }
}

static gboolean
ws_close_at_once_cb (gpointer user_data)
{
  SoupWebsocketConnection *connection = user_data;

  if (soup_websocket_connection_get_state (connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (connection, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, "at once");
  return G_SOURCE_REMOVE;
}

static void
ws_callback (SoupServer              *server,
             SoupServerMessage       *msg,
             const char              *path,
             SoupWebsocketConnection *connection,
             gpointer                 user_data)
{
  TestServer *self = user_data;

  ws_drop (self);
  g_clear_pointer (&self->ws_session, g_free);
  self->ws_connections++;
  g_clear_pointer (&self->ws_upgrade_headers, soup_message_headers_unref);
  self->ws_upgrade_headers = soup_message_headers_ref (soup_server_message_get_request_headers (msg));
  self->ws = g_object_ref (connection);
  soup_websocket_connection_set_max_incoming_payload_size (connection, 16 * 1024 * 1024);
  g_signal_connect (connection, "message", G_CALLBACK (on_ws_message), self);
  g_signal_connect (connection, "closed", G_CALLBACK (on_ws_closed), self);
  if (self->ws_fault == TEST_WS_CLOSE_ON_OPEN)
    g_idle_add_full (G_PRIORITY_DEFAULT, ws_close_at_once_cb, g_object_ref (connection), g_object_unref);
}

void
test_server_set_websocket (TestServer *self,
                           gboolean    offer,
                           gboolean    accept)
{
  self->ws_offer = offer;
  if (accept && !self->ws_accept)
    soup_server_add_websocket_handler (self->server, "/cometd", NULL, NULL, ws_callback, self, NULL);
  else if (!accept && self->ws_accept)
    {
      soup_server_remove_handler (self->server, "/cometd");
      soup_server_add_handler (self->server, "/cometd", server_callback, self, NULL);
    }
  self->ws_accept = accept;
}

void
test_server_ws_send_raw (TestServer *self,
                         const char *text)
{
  if (self->ws != NULL && soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (self->ws, text);
}

void
test_server_ws_close (TestServer *self)
{
  ws_drop (self);
}

void test_server_ws_set_silent (TestServer *self, gboolean silent) { self->ws_silent = silent; }
void test_server_ws_set_fault (TestServer *self, TestWsFault fault) { self->ws_fault = fault; }

void
test_server_ws_send_binary (TestServer *self,
                            const char *bytes)
{
  if (self->ws != NULL && soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_binary (self->ws, bytes, strlen (bytes));
}
void test_server_ws_hold_upgrades (TestServer *self, gboolean hold_) { self->ws_hold_upgrades = hold_; }

const char *
test_server_ws_upgrade_header (TestServer *self,
                               const char *name)
{
  return self->ws_upgrade_headers ? soup_message_headers_get_one (self->ws_upgrade_headers, name) : NULL;
}
guint test_server_ws_connections (TestServer *self) { return self->ws_connections; }
void test_server_ws_set_strict (TestServer *self, gboolean strict) { self->ws_strict = strict; }
void test_server_refuse_posts (TestServer *self, guint status) { self->refuse_posts = status; }
guint test_server_posts (TestServer *self) { return self->posts; }
void test_server_ws_require_cookie (TestServer *self, gboolean require) { self->ws_require_cookie = require; }
guint test_server_ws_refused (TestServer *self) { return self->ws_refused; }
guint test_server_handshakes (TestServer *self, gboolean websocket) { return self->handshakes[websocket != FALSE]; }
guint test_server_ws_frames (TestServer *self) { return self->ws_frames; }
gboolean test_server_ws_is_open (TestServer *self) { return self->ws != NULL; }

/* Answers the messages of @request into @replies, but a /meta/connect to
 * hold (@connect_reply). %FALSE when nothing is to be answered. @msg is
 * %NULL over a WebSocket. */
static gboolean
process_request (TestServer        *self,
                 SoupServerMessage *msg,
                 JsonArray         *request,
                 JsonArray         *replies,
                 JsonObject       **connect_reply,
                 gboolean          *delivered)
{
  for (guint i = 0; i < json_array_get_length (request); i++)
    {
      JsonObject *m = json_array_get_object_element (request, i);
      const char *channel = json_object_get_string_member (m, "channel");
      const char *client_id = json_object_get_string_member_with_default (m, "clientId", NULL);
      gboolean known = client_id != NULL && g_hash_table_contains (self->clients, client_id);
      /* CometD's ws.requireHandshakePerConnection: over a socket, only the
       * session of its own handshake (BayeuxServerImpl.unknownSession). */
      gboolean strict = msg == NULL && self->ws_strict && known && g_strcmp0 (client_id, self->ws_session) != 0;
      JsonObject *reply;

      if (g_str_equal (channel, "/meta/handshake"))
        {
          JsonArray *types = json_array_new ();
          char *id = g_strdup_printf ("client-%u", ++self->next_client);

          g_hash_table_add (self->clients, id);
          self->handshakes[msg == NULL]++;
          if (msg == NULL)
            {
              g_free (self->ws_session);
              self->ws_session = g_strdup (id);
            }
          reply = reply_for (m, TRUE);
          json_object_set_string_member (reply, "clientId", id);
          json_object_set_string_member (reply, "version", "1.0");
          if (self->ws_offer)
            json_array_add_string_element (types, "websocket");
          json_array_add_string_element (types, "long-polling");
          json_object_set_array_member (reply, "supportedConnectionTypes", types);
          json_object_set_object_member (reply, "advice", advice_new (self, "retry"));
          if (self->set_cookie != NULL && msg != NULL)
            soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie", self->set_cookie);
          json_array_add_object_element (replies, reply);
          continue;
        }

      if (strict && !g_str_equal (channel, "/meta/disconnect"))
        {
          reply = reply_for (m, FALSE);
          json_object_set_string_member (reply, "error", "402::session_unknown");
          if (g_str_equal (channel, "/meta/connect"))
            {
              JsonObject *advice = json_object_new ();

              json_object_set_string_member (advice, "reconnect", "handshake");
              json_object_set_int_member (advice, "interval", 0);
              json_object_set_object_member (reply, "advice", advice);
            }
          json_array_add_object_element (replies, reply);
          continue;
        }

      if (!known && !g_str_equal (channel, "/meta/disconnect"))
        {
          reply = reply_for (m, FALSE);
          json_object_set_string_member (reply, "error", self->unknown_client_error);
          json_object_set_object_member (reply, "advice", advice_new (self, "handshake"));
          json_array_add_object_element (replies, reply);
          continue;
        }

      if (g_str_equal (channel, "/meta/connect"))
        {
          JsonNode *advice_node = json_object_get_member (m, "advice");
          JsonObject *advice = advice_node && JSON_NODE_HOLDS_OBJECT (advice_node) ? json_node_get_object (advice_node) : NULL;
          reply = reply_for (m, TRUE);
          json_object_set_object_member (reply, "advice", advice_new (self, "retry"));
          if ((advice != NULL && json_object_get_int_member_with_default (advice, "timeout", -1) == 0) ||
              json_array_get_length (self->deliveries) > 0)
            {
              json_array_add_object_element (replies, reply);
              for (guint j = 0; j < json_array_get_length (self->deliveries); j++)
                json_array_add_element (replies, json_node_copy (json_array_get_element (self->deliveries, j)));
              json_array_unref (self->deliveries);
              self->deliveries = json_array_new ();
            }
          else
            *connect_reply = reply;
        }
      else if (g_str_equal (channel, "/meta/subscribe") || g_str_equal (channel, "/meta/unsubscribe"))
        {
          const char *subscription = json_object_get_string_member (m, "subscription");
          gboolean refused = g_hash_table_contains (self->refused, subscription);

          reply = reply_for (m, !refused);
          json_object_set_string_member (reply, "subscription", subscription);
          if (refused)
            json_object_set_string_member (reply, "error", "403:denied:Subscription refused by policy");
          else if (g_str_equal (channel, "/meta/subscribe"))
            g_hash_table_add (self->subscriptions, g_strdup (subscription));
          else
            g_hash_table_remove (self->subscriptions, subscription);
          json_array_add_object_element (replies, reply);
        }
      else if (g_str_equal (channel, "/meta/disconnect"))
        {
          if (self->ignore_disconnect)
            {
              if (msg != NULL)
                {
                  g_ptr_array_add (self->paused_forever, g_object_ref (msg));
                  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
                  soup_server_message_pause (msg);
                }
              return FALSE;
            }
          g_hash_table_remove (self->clients, client_id);
          json_array_add_object_element (replies, reply_for (m, TRUE));
          *delivered = TRUE;   /* answer the held connect too */
        }
      else
        {
          gboolean refused = g_hash_table_contains (self->refused, channel);

          reply = reply_for (m, !refused);
          if (refused)
            json_object_set_string_member (reply, "error", "403::Publish refused by policy");
          else
            {
              *delivered |= queue_delivery (self, channel, json_object_get_member (m, "data"),
                                           json_object_get_string_member_with_default (m, "id", NULL));
            }
          json_array_add_object_element (replies, reply);
        }
    }

  return TRUE;
}

static void
server_callback (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  TestServer *self = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonArray) replies = json_array_new ();
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  JsonArray *request;
  JsonObject *connect_reply = NULL;
  gboolean delivered = FALSE;
  RawAnswer *raw;

  /* A WebSocket upgrade: the WebSocket handler of the same path takes it
   * (or nobody answers it). */
  if (soup_server_message_get_method (msg) == SOUP_METHOD_GET &&
      soup_message_headers_header_contains (soup_server_message_get_request_headers (msg), "Upgrade", "websocket"))
    {
      if (self->ws_hold_upgrades)
        {
          g_ptr_array_add (self->paused_forever, g_object_ref (msg));
          soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
          soup_server_message_pause (msg);
          return;
        }
      if (self->ws_accept && self->ws_require_cookie &&
          soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Cookie") == NULL)
        {
          self->ws_refused++;
          test_server_respond_raw (msg, SOUP_STATUS_BAD_REQUEST, NULL);
          return;
        }
      if (self->ws_accept)
        return;
      self->ws_refused++;   /* answered 400 below */
    }

  if (soup_server_message_get_method (msg) == SOUP_METHOD_POST)
    self->posts++;
  if (soup_server_message_get_method (msg) == SOUP_METHOD_POST && self->refuse_posts != 0)
    {
      test_server_respond_raw (msg, self->refuse_posts, NULL);   /* a server of WebSockets only */
      return;
    }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST ||
      !json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL) ||
      json_parser_get_root (parser) == NULL ||   /* an empty body */
      !JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)))
    {
      test_server_respond_raw (msg, SOUP_STATUS_BAD_REQUEST, NULL);
      return;
    }
  request = json_node_get_array (json_parser_get_root (parser));
  observe (self, msg, request);

  if (self->hook != NULL && self->hook (self, msg, request, self->hook_data))
    return;

  raw = g_queue_peek_head (&self->raw);
  if (raw != NULL && json_array_get_length (request) > 0)
    {
      JsonObject *first = json_array_get_object_element (request, 0);
      if (raw->channel == NULL || g_strcmp0 (json_object_get_string_member (first, "channel"), raw->channel) == 0)
        {
          g_queue_pop_head (&self->raw);
          test_server_respond_raw (msg, raw->status, raw->body);
          raw_answer_free (raw);
          return;
        }
    }

  if (!process_request (self, msg, request, replies, &connect_reply, &delivered))
    return;

  if (connect_reply != NULL)
    {
      /* Other replies of a batch that holds a connect go first. */
      if (json_array_get_length (replies) > 0)
        g_warning ("test server: connect batched with other messages");
      hold (self, msg, connect_reply);
    }
  else
    respond_json (self, msg, replies);

  if (delivered && self->held != NULL && self->held != msg && !self->hold_forever)
    answer_held (self);
  if (delivered && self->ws_held_reply != NULL && !self->hold_forever)
    ws_answer_held (self);
}

TestServer *
test_server_new (void)
{
  TestServer *self = g_new0 (TestServer, 1);
  g_autoptr(GError) error = NULL;
  GSList *uris;

  self->server = soup_server_new (NULL, NULL);
  self->timeout_ms = 5000;
  self->unknown_client_error = g_strdup ("402::Unknown client");
  self->refused = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->deliveries = json_array_new ();
  self->paused_forever = g_ptr_array_new_with_free_func (g_object_unref);
  self->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->last = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) json_object_unref);
  self->last_time = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->last_reply_time = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->ports = g_hash_table_new (NULL, NULL);

  soup_server_add_handler (self->server, "/cometd", server_callback, self, NULL);
  soup_server_listen_local (self->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (self->server);
  g_assert_nonnull (uris);
  self->url = g_strdup_printf ("http://127.0.0.1:%d/cometd", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return self;
}

void
test_server_free (TestServer *self)
{
  g_clear_pointer (&self->unknown_client_error, g_free);
  if (self->held != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->held, on_held_disconnected, self);
      soup_server_message_unpause (self->held);
      g_clear_object (&self->held);
    }
  if (self->held_timer != NULL)
    {
      g_source_destroy (self->held_timer);
      g_source_unref (self->held_timer);
    }
  g_clear_pointer (&self->held_reply, json_object_unref);
  ws_drop (self);
  for (guint i = 0; i < self->paused_forever->len; i++)
    soup_server_message_unpause (g_ptr_array_index (self->paused_forever, i));
  soup_server_disconnect (self->server);
  g_object_unref (self->server);
  /* Let the closed connections finish in the main context. */
  test_wait_ms (50);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_ptr_array_unref (self->paused_forever);
  g_clear_pointer (&self->ws_upgrade_headers, soup_message_headers_unref);
  g_free (self->ws_session);
  g_queue_clear_full (&self->raw, raw_answer_free);
  g_hash_table_unref (self->refused);
  g_hash_table_unref (self->clients);
  g_hash_table_unref (self->subscriptions);
  json_array_unref (self->deliveries);
  g_clear_pointer (&self->raw_data, g_ptr_array_unref);
  g_hash_table_unref (self->counts);
  g_hash_table_unref (self->last);
  g_hash_table_unref (self->last_time);
  g_hash_table_unref (self->last_reply_time);
  g_hash_table_unref (self->ports);
  g_free (self->set_cookie);
  g_free (self->last_cookie);
  g_free (self->url);
  g_free (self);
}

const char *test_server_get_url (TestServer *self) { return self->url; }
void test_server_set_timeout (TestServer *self, guint ms) { self->timeout_ms = ms; }
void test_server_set_interval (TestServer *self, guint ms) { self->interval_ms = ms; }
void test_server_set_hold_forever (TestServer *self, gboolean hold_) { self->hold_forever = hold_; }
void test_server_set_max_interval (TestServer *self, guint max_interval_ms) { self->max_interval_ms = max_interval_ms; }
void
test_server_set_unknown_client_error (TestServer *self,
                                      const char *error)
{
  g_free (self->unknown_client_error);
  self->unknown_client_error = g_strdup (error);
}
void test_server_set_ignore_disconnect (TestServer *self, gboolean ignore) { self->ignore_disconnect = ignore; }
guint test_server_requests (TestServer *self) { return self->requests; }
guint test_server_max_batch (TestServer *self) { return self->max_batch; }
guint test_server_held_connects (TestServer *self) { return self->held_count; }
guint test_server_max_held_connects (TestServer *self) { return self->max_held; }
guint test_server_connections (TestServer *self) { return g_hash_table_size (self->ports); }
const char *test_server_last_cookie (TestServer *self) { return self->last_cookie; }

void
test_server_set_hook (TestServer     *self,
                      TestServerHook  hook,
                      gpointer        user_data)
{
  self->hook = hook;
  self->hook_data = user_data;
}

void
test_server_refuse_channel (TestServer *self,
                            const char *channel)
{
  g_hash_table_add (self->refused, g_strdup (channel));
}

void
test_server_set_cookie (TestServer *self,
                        const char *set_cookie)
{
  g_free (self->set_cookie);
  self->set_cookie = g_strdup (set_cookie);
}

void
test_server_queue_raw (TestServer *self,
                       const char *meta_channel,
                       guint       status,
                       const char *body)
{
  RawAnswer *raw = g_new0 (RawAnswer, 1);

  raw->channel = g_strdup (meta_channel);
  raw->status = status;
  raw->body = g_strdup (body);
  g_queue_push_tail (&self->raw, raw);
}

void
test_server_deliver (TestServer *self,
                     const char *channel,
                     const char *data_json)
{
  g_autoptr(JsonNode) data = json_from_string (data_json, NULL);

  g_assert_nonnull (data);
  queue_delivery (self, channel, data, NULL);
  if (self->held != NULL)
    answer_held (self);
  if (self->ws_held_reply != NULL)
    ws_answer_held (self);
}

void
test_server_deliver_raw (TestServer *self,
                         const char *channel,
                         const char *data_json)
{
  g_autoptr(JsonNode) check = json_from_string (data_json, NULL);
  g_autoptr(JsonNode) placeholder = json_node_new (JSON_NODE_VALUE);
  g_autofree char *name = NULL;

  g_assert_nonnull (check);
  if (self->raw_data == NULL)
    self->raw_data = g_ptr_array_new_with_free_func (g_free);
  name = g_strdup_printf ("@@raw:%u@@", self->raw_data->len);
  g_ptr_array_add (self->raw_data, g_strdup (data_json));
  json_node_set_string (placeholder, name);
  queue_delivery (self, channel, placeholder, NULL);
  if (self->held != NULL)
    answer_held (self);
  if (self->ws_held_reply != NULL)
    ws_answer_held (self);
}

void
test_server_forget_clients (TestServer *self)
{
  g_hash_table_remove_all (self->clients);
  g_hash_table_remove_all (self->subscriptions);
}

void
test_server_release (TestServer *self)
{
  answer_held (self);
  ws_answer_held (self);
}

guint
test_server_count (TestServer *self,
                   const char *channel)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->counts, channel));
}

JsonObject *
test_server_last (TestServer *self,
                  const char *channel)
{
  return g_hash_table_lookup (self->last, channel);
}

gint64
test_server_last_time (TestServer *self,
                       const char *channel)
{
  gint64 *t = g_hash_table_lookup (self->last_time, channel);
  return t ? *t : 0;
}

gint64
test_server_last_reply_time (TestServer *self,
                             const char *channel)
{
  gint64 *t = g_hash_table_lookup (self->last_reply_time, channel);
  return t ? *t : 0;
}

/* ------------------------------------------------------------------------ */

static gboolean
timeout_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
under_valgrind (void)
{
  const char *preload = g_getenv ("LD_PRELOAD");

  return preload != NULL && strstr (preload, "vgpreload") != NULL;
}

/* Under Valgrind everything is ~20 times slower, under AddressSanitizer
 * (full stack traces for each allocation) several times: deadlines for the
 * test's own waits are stretched (and, through test_scaled_ms(), the
 * generous ones a test gives the library for what must succeed). On a busy 2-core
 * machine a 5 s wait for a case that takes 1.7 s under ASan was seen to
 * run out. */
static guint
scaled (guint timeout_ms)
{
  if (under_valgrind ())
    return timeout_ms * 10;
  return TEST_UNDER_ASAN ? timeout_ms * 3 : timeout_ms;
}

gboolean
test_wait_until (gboolean (*condition) (gpointer),
                 gpointer  data,
                 guint     timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (scaled (timeout_ms), timeout_flag_cb, &timed_out);

  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return condition (data);
}

void
test_wait_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

void
test_store_result (GObject      *source,
                   GAsyncResult *result,
                   gpointer      slot)
{
  *(GAsyncResult **) slot = g_object_ref (result);
}

static gboolean
result_ready (gpointer slot)
{
  return *(GAsyncResult **) slot != NULL;
}

GAsyncResult *
test_wait_result (GAsyncResult **slot,
                  guint          timeout_ms)
{
  if (!test_wait_until (result_ready, slot, timeout_ms))
    g_error ("no result within %u ms", timeout_ms);
  return *slot;
}

/* ------------------------------------------------------------------------ */
/* Appended for test-hostile.c.                                             */

gboolean
test_server_is_subscribed (TestServer *self,
                           const char *channel)
{
  return g_hash_table_contains (self->subscriptions, channel);
}

guint
test_scaled_ms (guint ms)
{
  return scaled (ms);
}

gboolean
test_under_valgrind (void)
{
  return under_valgrind ();
}

/* ------------------------------------------------------------------------ */

/* The same server over HTTPS: its plain listener is replaced by one that
 * presents @certificate (with its private key). */
TestServer *
test_server_new_tls (GTlsCertificate *certificate)
{
  TestServer *self = test_server_new ();
  g_autoptr(GError) error = NULL;
  GSList *uris;

  g_assert_true (G_IS_TLS_CERTIFICATE (certificate));

  soup_server_disconnect (self->server);
  g_object_unref (self->server);
  self->server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_handler (self->server, "/cometd", server_callback, self, NULL);
  soup_server_listen_local (self->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY | SOUP_SERVER_LISTEN_HTTPS, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (self->server);
  g_assert_nonnull (uris);
  g_assert_cmpstr (g_uri_get_scheme (uris->data), ==, "https");
  g_free (self->url);
  self->url = g_strdup_printf ("https://127.0.0.1:%d/cometd", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return self;
}

/* ------------------------------------------------------------------------ */
/* The client fixture                                                       */

static void
fixture_on_error (BayeuxClient  *client,
                  GError        *error,
                  BayeuxMessage *message,
                  ClientFixture *f)
{
  gint64 now = g_get_monotonic_time ();

  g_test_message ("error signal: %s (%s %d)", error->message, g_quark_to_string (error->domain), error->code);
  g_ptr_array_add (f->errors, g_error_copy (error));
  g_array_append_val (f->error_times, now);
}

static void
fixture_on_state (GObject       *object,
                  GParamSpec    *pspec,
                  ClientFixture *f)
{
  BayeuxClientState state = bayeux_client_get_state (BAYEUX_CLIENT (object));

  g_array_append_val (f->states, state);
}

static void
fixture_on_message (BayeuxClient  *client,
                    BayeuxMessage *message,
                    ClientFixture *f)
{
  g_ptr_array_add (f->received, bayeux_message_ref (message));
}

void
client_fixture_init (ClientFixture *f,
                     TestServer    *server)
{
  f->server = server;
  f->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  f->error_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  f->states = g_array_new (FALSE, FALSE, sizeof (BayeuxClientState));
  f->received = g_ptr_array_new_with_free_func (g_free);
  f->log = g_ptr_array_new_with_free_func (g_free);
}

void
client_fixture_watch (ClientFixture *f)
{
  g_signal_connect (f->client, "error", G_CALLBACK (fixture_on_error), f);
  g_signal_connect (f->client, "notify::state", G_CALLBACK (fixture_on_state), f);
}

void
client_fixture_keep_messages (ClientFixture *f,
                              const char    *detailed_signal)
{
  g_assert_cmpuint (f->received->len, ==, 0);
  g_ptr_array_set_free_func (f->received, (GDestroyNotify) bayeux_message_unref);
  g_signal_connect (f->client, detailed_signal, G_CALLBACK (fixture_on_message), f);
}

void
client_fixture_setup (ClientFixture *f,
                      gconstpointer  data)
{
  client_fixture_init (f, test_server_new ());
  f->client = bayeux_client_new (test_server_get_url (f->server));
  g_object_set (f->client, "max-network-delay", 2000, "backoff-increment", 50, "max-backoff", 200, NULL);
  client_fixture_watch (f);
}

void
client_fixture_release (ClientFixture *f)
{
  if (f->client != NULL)
    {
      g_object_add_weak_pointer (G_OBJECT (f->client), (gpointer *) &f->client);
      g_object_unref (f->client);
      g_assert_null (f->client);   /* nothing else holds the client */
    }
  test_wait_ms (10);
}

void
client_fixture_teardown (ClientFixture *f,
                         gconstpointer  data)
{
  client_fixture_release (f);
  test_server_free (f->server);
  g_ptr_array_unref (f->errors);
  g_array_unref (f->error_times);
  g_array_unref (f->states);
  g_ptr_array_unref (f->received);
  g_ptr_array_unref (f->log);
}

gboolean
fixture_is_connected (gpointer f)
{
  return bayeux_client_get_state (((ClientFixture *) f)->client) == BAYEUX_CLIENT_STATE_CONNECTED;
}

gboolean
fixture_is_disconnected (gpointer f)
{
  return bayeux_client_get_state (((ClientFixture *) f)->client) == BAYEUX_CLIENT_STATE_DISCONNECTED;
}

gboolean
fixture_is_unconnected (gpointer f)
{
  return bayeux_client_get_state (((ClientFixture *) f)->client) == BAYEUX_CLIENT_STATE_UNCONNECTED;
}

gboolean
fixture_has_error (gpointer f)
{
  return ((ClientFixture *) f)->errors->len > 0;
}

gboolean
fixture_has_received (gpointer f)
{
  return ((ClientFixture *) f)->received->len > 0;
}

gboolean
fixture_server_holds_connect (gpointer f)
{
  return test_server_held_connects (((ClientFixture *) f)->server) > 0;
}

void
fixture_start_connected (ClientFixture *f)
{
  bayeux_client_start (f->client);
  g_assert_true (test_wait_until (fixture_is_connected, f, 5000));
  g_assert_true (test_wait_until (fixture_server_holds_connect, f, 5000));
}

void
fixture_subscribe (ClientFixture *f,
                   const char    *channel)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  bayeux_client_subscribe_async (f->client, channel, NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  ok = bayeux_client_subscribe_finish (f->client, result, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

GError *
fixture_subscribe_error (ClientFixture *f,
                         const char    *channel)
{
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;

  bayeux_client_subscribe_async (f->client, channel, NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  g_assert_false (bayeux_client_subscribe_finish (f->client, result, &error));
  return error;
}

BayeuxMessage *
fixture_publish (ClientFixture  *f,
                 const char     *channel,
                 JsonNode       *data,
                 GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  bayeux_client_publish_async (f->client, channel, data, NULL, test_store_result, &result);
  test_wait_result (&result, 5000);
  return bayeux_client_publish_finish (f->client, result, error);
}

typedef struct
{
  ClientFixture *f;
  const char    *channel;
  guint          n;
  gboolean       connected;
} ServerCount;

static gboolean
server_count_reached (gpointer data)
{
  ServerCount *c = data;

  return test_server_count (c->f->server, c->channel) >= c->n && (!c->connected || fixture_is_connected (c->f));
}

static gboolean
wait_server_count (ClientFixture *f,
                   const char    *channel,
                   guint          n,
                   gboolean       connected,
                   guint          timeout_ms)
{
  ServerCount c = { f, channel, n, connected };

  return test_wait_until (server_count_reached, &c, timeout_ms);
}

gboolean fixture_wait_server_count (ClientFixture *f, const char *channel, guint n, guint timeout_ms)
{ return wait_server_count (f, channel, n, FALSE, timeout_ms); }
gboolean fixture_wait_server_count_connected (ClientFixture *f, const char *channel, guint n, guint timeout_ms)
{ return wait_server_count (f, channel, n, TRUE, timeout_ms); }

static gboolean
resubscribed (gpointer data)
{
  ServerCount *c = data;

  return test_server_count (c->f->server, "/meta/subscribe") >= c->n && test_server_is_subscribed (c->f->server, c->channel);
}

gboolean
fixture_wait_resubscribed (ClientFixture *f,
                           const char    *channel,
                           guint          timeout_ms)
{
  ServerCount c = { f, channel, 2, FALSE };

  return test_wait_until (resubscribed, &c, timeout_ms);
}

guint
fixture_count_errors (ClientFixture *f,
                      GQuark         domain,
                      int            code)
{
  guint n = 0;

  for (guint i = 0; i < f->errors->len; i++)
    n += g_error_matches (g_ptr_array_index (f->errors, i), domain, code);
  return n;
}

guint
fixture_count_errors_containing (ClientFixture *f,
                                 const char    *text)
{
  guint n = 0;

  for (guint i = 0; i < f->errors->len; i++)
    if (strstr (((GError *) g_ptr_array_index (f->errors, i))->message, text) != NULL)
      n++;
  return n;
}

SoupServer *
test_server_get_soup_server (TestServer *self)
{
  return self->server;
}

static GLogWriterOutput
capture_writer (GLogLevelFlags   level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].value != NULL)
      {
        const char *text = fields[i].value;

        g_string_append_len (user_data, text, fields[i].length < 0 ? (gssize) strlen (text) : fields[i].length);
        g_string_append_c (user_data, '\n');
      }
  return G_LOG_WRITER_HANDLED;
}

GString *
test_capture_logs (void)
{
  GString *logs = g_string_new (NULL);

  g_log_set_writer_func (capture_writer, logs, NULL);
  return logs;
}
