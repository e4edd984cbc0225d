/* sf-model.c: a model of the Salesforce Streaming API (CometD) for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * We cannot reach Salesforce from the tests, so this server behaves as its
 * documentation (and the issue trackers of its clients) says it does. Each
 * behaviour and its source:
 *
 * - The CometD endpoint is <instance_url>/cometd/<API version>; only long
 *   polling: the handshake reply's supportedConnectionTypes is
 *   ["long-polling"] and its ext says {"replay": true, "payload.format":
 *   true} (Streaming API Developer Guide, "How the Client Connects";
 *   handshake replies quoted in cometd/cometd#775 and
 *   kdcllc/CometD.NetCore.Salesforce#43).
 * - The OAuth access token goes in `Authorization: Bearer <token>` on every
 *   request (EMP-Connector's LongPollingTransport.customize and
 *   BearerTokenExample). A handshake without it: `401::Request requires
 *   authentication` (Developer Guide, "Handling Streaming API Errors").
 * - An access token that expired: a held /meta/connect is answered
 *   `401::Authentication invalid` with advice reconnect none; a new
 *   handshake with it fails with `403::Handshake denied` and
 *   ext.sfdc.failureReason `401::Authentication invalid` ("Handling
 *   Streaming API Errors"); any other request with it gets HTTP 401
 *   (EMP-Connector issues 4 and 69, "stops after about an hour").
 * - A Bayeux session that ended (no reconnect within 40 s, or a server
 *   change behind the load balancer): `403::Unknown client` with advice
 *   {reconnect: handshake, interval: 0} ("Clients and Timeouts";
 *   cometd/cometd#775, EMP-Connector#4, aiosfstream#26).
 * - Connect replies advise {reconnect: retry, interval: 0, timeout:
 *   110000}; the timeout is configurable here, short in tests ("Clients and
 *   Timeouts": 110 s).
 * - Replay (durable streaming): events are kept per channel with growing
 *   replay ids (Salesforce keeps them 24 or 72 hours; here the last
 *   `retention` events). The handshake asks with ext.replay = true; a
 *   subscribe carries ext.replay = {"<channel>": id}: -1 new events only,
 *   -2 all kept ones then the new, N the kept ones after N ("Message
 *   Durability"). A map without the channel fails the subscribe with
 *   `400::The replayId for channel {X} wasn't found using the provided
 *   replay ID map {...}` (EMP-Connector#41); an id older than the window:
 *   `400::The replayId {N} you provided was invalid...`.
 * - Event messages: data = {"event": {"replayId", "createdDate", "type"},
 *   "sobject": {...}} on /topic/X; {"event": {"replayId"}, "payload":
 *   {...}} ... on /event/X__e and /data/X ("PushTopic Events", "Platform
 *   Event Message", "Change Event Message" in the developer guides; the
 *   EMP-Connector ReplayExtension reads data.event.replayId).
 * - Filtered PushTopic subscriptions, /topic/X?f1=v1&f2=v2: an event is
 *   delivered when any condition holds (the & is an OR), values may be
 *   quoted ("Filtered Subscriptions"). The event message carries the
 *   subscription's full name, query included, as its channel: EMP-Connector
 *   (Salesforce's own sample client) listens on the full filtered name
 *   (EmpConnector.subscribe, PR #43) and strips the query from
 *   message.getChannel() before keeping its replay id
 *   (ReplayExtension.topicWithoutQueryString). The replay map of such a
 *   subscribe is looked up by the base name: a map keyed by the filtered
 *   name fails (jsforce#888). Neither document says so outright: this is
 *   the model's reading of them.
 * - The token endpoint: POST /services/oauth2/token with
 *   grant_type=refresh_token&refresh_token=...&client_id=... answers
 *   {"access_token", "instance_url", "token_type": "Bearer", ...}, or 400
 *   {"error": "invalid_grant"} (Salesforce Help, "OAuth 2.0 Refresh Token
 *   Flow").
 *
 * Not modelled: WebSocket (Salesforce has none), cookies (BAYEUX_BROWSER),
 * the 32 KiB request limit, per-user access, wildcard refusal.
 */
#include "sf-model.h"

#include <string.h>

#define SF_DEFAULT_RETENTION 1000

typedef struct
{
  char              *id;
  char              *token;           /* the access token it was made with */
  gboolean           replay;          /* its handshake asked for replay */
  GPtrArray         *subscriptions;   /* char* */
  JsonArray         *queue;           /* event messages for its next connect reply */
  SoupServerMessage *held;            /* its paused /meta/connect */
  JsonObject        *held_reply;
  GSource           *held_timer;
  SfModel           *model;
} Session;

typedef struct
{
  gint64     next_id;
  GQueue     events;                  /* JsonObject* (the data member), oldest first */
  guint      published;
  guint      delivered;
} Channel;

struct _SfModel
{
  TestServer *server;
  char       *instance_url;
  char       *cometd_url;
  char       *cometd_path;
  guint       timeout_ms;
  guint       retention;
  char       *access_token;
  char       *refresh_token;
  char       *client_id;
  guint       next_session;
  guint       next_token;
  GHashTable *sessions;              /* id → Session */
  GHashTable *channels;              /* base name → Channel */
  guint       handshakes;
  guint       refreshes;
  guint       refused_subscribes;
  char       *last_subscribe_error;
  char       *last_replay_map;
};

static void session_answer_held (Session *session, const char *error, const char *reconnect);

static void
channel_free (gpointer data)
{
  Channel *channel = data;

  g_queue_clear_full (&channel->events, (GDestroyNotify) json_object_unref);
  g_free (channel);
}

static Channel *
channel_get (SfModel    *self,
             const char *base)
{
  Channel *channel = g_hash_table_lookup (self->channels, base);

  if (channel == NULL)
    {
      channel = g_new0 (Channel, 1);
      channel->next_id = 1;
      g_hash_table_insert (self->channels, g_strdup (base), channel);
    }
  return channel;
}

static void
session_clear_held (Session *session)
{
  if (session->held_timer != NULL)
    {
      g_source_destroy (session->held_timer);
      g_clear_pointer (&session->held_timer, g_source_unref);
    }
  g_clear_pointer (&session->held_reply, json_object_unref);
  if (session->held != NULL)
    {
      g_signal_handlers_disconnect_by_data (session->held, session);
      g_clear_object (&session->held);
    }
}

static void
session_free (gpointer data)
{
  Session *session = data;

  if (session->held != NULL)
    session_answer_held (session, "403::Unknown client", "handshake");
  session_clear_held (session);
  g_free (session->id);
  g_free (session->token);
  g_ptr_array_unref (session->subscriptions);
  json_array_unref (session->queue);
  g_free (session);
}

static char *
base_name (const char *channel)
{
  return g_strndup (channel, strcspn (channel, "?"));
}

static void
respond (SoupServerMessage *msg,
         guint              status,
         JsonArray         *replies)
{
  g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), replies);
  g_autofree char *text = json_to_string (node, FALSE);

  test_server_respond_raw (msg, status, text);
}

static JsonObject *
reply_for (JsonObject *request,
           gboolean    successful)
{
  JsonObject *reply = json_object_new ();

  json_object_set_string_member (reply, "channel", json_object_get_string_member_with_default (request, "channel", ""));
  if (json_object_has_member (request, "id"))
    json_object_set_member (reply, "id", json_node_copy (json_object_get_member (request, "id")));
  if (json_object_has_member (request, "clientId"))
    json_object_set_member (reply, "clientId", json_node_copy (json_object_get_member (request, "clientId")));
  json_object_set_boolean_member (reply, "successful", successful);
  return reply;
}

static JsonObject *
advice_new (SfModel    *self,
            const char *reconnect)
{
  JsonObject *advice = json_object_new ();

  json_object_set_string_member (advice, "reconnect", reconnect);
  json_object_set_int_member (advice, "interval", 0);
  if (g_str_equal (reconnect, "retry"))
    json_object_set_int_member (advice, "timeout", self->timeout_ms);
  return advice;
}

/* Answers the session's held connect: with its queued events, or with
 * @error (and advice @reconnect). */
static void
session_answer_held (Session    *session,
                     const char *error,
                     const char *reconnect)
{
  g_autoptr(JsonArray) replies = json_array_new ();
  SoupServerMessage *msg = session->held;
  JsonObject *reply;

  if (msg == NULL)
    return;
  reply = json_object_ref (session->held_reply);
  if (error != NULL)
    {
      json_object_set_boolean_member (reply, "successful", FALSE);
      json_object_set_string_member (reply, "error", error);
      json_object_set_object_member (reply, "advice", advice_new (session->model, reconnect));
      json_array_add_object_element (replies, reply);
    }
  else
    {
      json_object_set_object_member (reply, "advice", advice_new (session->model, "retry"));
      json_array_add_object_element (replies, reply);
      for (guint i = 0; i < json_array_get_length (session->queue); i++)
        json_array_add_element (replies, json_node_copy (json_array_get_element (session->queue, i)));
      json_array_unref (session->queue);
      session->queue = json_array_new ();
    }
  g_object_ref (msg);
  session_clear_held (session);
  respond (msg, SOUP_STATUS_OK, replies);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static gboolean
held_timeout_cb (gpointer data)
{
  Session *session = data;

  g_clear_pointer (&session->held_timer, g_source_unref);
  session_answer_held (session, NULL, NULL);
  return G_SOURCE_REMOVE;
}

static void
on_held_disconnected (SoupServerMessage *msg,
                      gpointer           data)
{
  Session *session = data;

  if (session->held == msg)
    session_clear_held (session);
}

/* Whether @event's record matches the query of the filtered @subscription
 * (any condition: Salesforce's & is an OR). */
static gboolean
filter_matches (const char *subscription,
                JsonObject *sobject)
{
  const char *query = strchr (subscription, '?');
  g_auto(GStrv) conditions = NULL;

  if (query == NULL)
    return TRUE;
  if (sobject == NULL)
    return FALSE;
  conditions = g_strsplit (query + 1, "&", -1);
  for (guint i = 0; conditions[i] != NULL; i++)
    {
      const char *eq = strchr (conditions[i], '=');
      g_autofree char *field = NULL;
      g_autofree char *value = NULL;
      g_autofree char *actual = NULL;
      JsonNode *node;
      size_t len;

      if (eq == NULL)
        continue;
      field = g_strndup (conditions[i], eq - conditions[i]);
      value = g_strdup (eq + 1);
      len = strlen (value);
      if (len >= 2 && value[0] == '\'' && value[len - 1] == '\'')
        {
          memmove (value, value + 1, len - 2);
          value[len - 2] = '\0';
        }
      node = json_object_get_member (sobject, field);
      if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
        continue;
      if (json_node_get_value_type (node) == G_TYPE_STRING)
        actual = g_strdup (json_node_get_string (node));
      else
        actual = json_to_string (node, FALSE);
      if (g_str_equal (actual, value))
        return TRUE;
    }
  return FALSE;
}

/* Queues @data, an event of @channel, for @subscription of @session if
 * the subscription's filter takes it; whether it did. */
static gboolean
session_queue_for (Session    *session,
                   const char *subscription,
                   Channel    *channel,
                   JsonObject *data)
{
  JsonNode *sobject = json_object_get_member (data, "sobject");
  JsonObject *message;

  if (!filter_matches (subscription,
                       sobject != NULL && JSON_NODE_HOLDS_OBJECT (sobject) ? json_node_get_object (sobject) : NULL))
    return FALSE;
  message = json_object_new ();
  /* The subscription's own name: a filtered one keeps its query. */
  json_object_set_string_member (message, "channel", subscription);
  json_object_set_object_member (message, "data", json_object_ref (data));
  json_array_add_object_element (session->queue, message);
  channel->delivered++;
  return TRUE;
}

/* Queues @data (an event of @base) for every subscription of @session it
 * goes to; whether any. */
static gboolean
session_queue_event (Session    *session,
                     const char *base,
                     JsonObject *data)
{
  gboolean queued = FALSE;

  for (guint i = 0; i < session->subscriptions->len; i++)
    {
      const char *subscription = g_ptr_array_index (session->subscriptions, i);
      g_autofree char *sub_base = base_name (subscription);

      if (g_str_equal (sub_base, base))
        queued |= session_queue_for (session, subscription, channel_get (session->model, base), data);
    }
  return queued;
}

static JsonObject *
event_data_new (const char *base,
                gint64      replay_id,
                JsonObject *payload)
{
  JsonObject *data = json_object_new ();
  JsonObject *event = json_object_new ();

  json_object_set_int_member (event, "replayId", replay_id);
  if (g_str_has_prefix (base, "/topic/"))
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *created = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.000Z");

      json_object_set_string_member (event, "createdDate", created);
      json_object_set_string_member (event, "type", "created");
      json_object_set_object_member (data, "event", event);
      json_object_set_object_member (data, "sobject", payload);
    }
  else
    {
      json_object_set_object_member (data, "event", event);
      json_object_set_object_member (data, "payload", payload);
    }
  return data;
}

static gint64
publish (SfModel    *self,
         const char *channel_name,
         JsonObject *payload,
         gboolean    wake)
{
  g_autofree char *base = base_name (channel_name);
  Channel *channel = channel_get (self, base);
  gint64 replay_id = channel->next_id++;
  JsonObject *data = event_data_new (base, replay_id, payload);
  GHashTableIter iter;
  Session *session;

  channel->published++;
  g_queue_push_tail (&channel->events, data);
  while (g_queue_get_length (&channel->events) > self->retention)
    json_object_unref (g_queue_pop_head (&channel->events));

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &session))
    if (session_queue_event (session, base, data) && wake)
      session_answer_held (session, NULL, NULL);
  return replay_id;
}

gint64
sf_model_publish (SfModel    *self,
                  const char *channel,
                  const char *json)
{
  g_autoptr(JsonNode) node = json_from_string (json, NULL);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return -1;
  return publish (self, channel, json_object_ref (json_node_get_object (node)), TRUE);
}

gint64
sf_model_publish_big (SfModel    *self,
                      const char *channel,
                      guint       n)
{
  g_autofree char *padding = g_strnfill (16 * 1024, 'x');
  GHashTableIter iter;
  Session *session;
  gint64 last = -1;

  for (guint i = 0; i < n; i++)
    {
      JsonObject *payload = json_object_new ();

      json_object_set_int_member (payload, "n", i);
      json_object_set_string_member (payload, "Description__c", padding);
      last = publish (self, channel, payload, FALSE);
    }
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &session))
    if (json_array_get_length (session->queue) > 0)
      session_answer_held (session, NULL, NULL);
  return last;
}

static char *
replay_map_text (JsonObject *map)
{
  GString *text = g_string_new ("{");
  GList *members = json_object_get_members (map);

  /* As Salesforce's Java prints a map: {key=value, ...} */
  for (GList *l = members; l != NULL; l = l->next)
    {
      g_autofree char *value = json_to_string (json_object_get_member (map, l->data), FALSE);
      g_string_append_printf (text, "%s%s=%s", l == members ? "" : ", ", (char *) l->data, value);
    }
  g_list_free (members);
  g_string_append_c (text, '}');
  return g_string_free (text, FALSE);
}

/* The subscribe of @m by @session: NULL, or its error. */
static char *
subscribe (SfModel    *self,
           Session    *session,
           JsonObject *m)
{
  const char *subscription = json_object_get_string_member_with_default (m, "subscription", "");
  g_autofree char *base = base_name (subscription);
  JsonNode *ext = json_object_get_member (m, "ext");
  JsonNode *replay = NULL;
  gint64 from = -1;
  Channel *channel;

  if (!g_str_has_prefix (base, "/topic/") && !g_str_has_prefix (base, "/event/") &&
      !g_str_has_prefix (base, "/data/") && !g_str_has_prefix (base, "/u/"))
    return g_strdup_printf ("400::The channel you requested to subscribe to does not exist {%s}", subscription);
  if (strchr (subscription, '?') != NULL && !g_str_has_prefix (base, "/topic/"))
    return g_strdup_printf ("400::Filters are only supported on PushTopic channels {%s}", subscription);

  g_clear_pointer (&self->last_replay_map, g_free);
  if (ext != NULL && JSON_NODE_HOLDS_OBJECT (ext))
    replay = json_object_get_member (json_node_get_object (ext), "replay");
  if (replay != NULL)
    {
      g_autoptr(JsonNode) copy = json_node_copy (replay);
      self->last_replay_map = json_to_string (copy, FALSE);
    }
  if (session->replay && replay != NULL && JSON_NODE_HOLDS_OBJECT (replay))
    {
      JsonObject *map = json_node_get_object (replay);
      JsonNode *id = json_object_get_member (map, base);

      if (id == NULL || !JSON_NODE_HOLDS_VALUE (id) || json_node_get_value_type (id) != G_TYPE_INT64)
        {
          g_autofree char *text = replay_map_text (map);
          return g_strdup_printf ("400::The replayId for channel {%s} wasn't found using the provided replay ID map "
                                  "{%s}. Ensure that the channel name you provided in the replay map is valid and "
                                  "matches the channel name used for subscribing.", base, text);
        }
      from = json_node_get_int (id);
    }

  channel = channel_get (self, base);
  if (from >= 0 && !g_queue_is_empty (&channel->events))
    {
      JsonObject *oldest = g_queue_peek_head (&channel->events);
      gint64 oldest_id = json_object_get_int_member (json_object_get_object_member (oldest, "event"), "replayId");

      if (from < oldest_id - 1)
        return g_strdup_printf ("400::The replayId {%" G_GINT64_FORMAT "} you provided was invalid. Please provide a "
                                "valid ID, -2 to replay all events, or -1 to replay only new events.", from);
    }
  else if (from >= channel->next_id)
    return g_strdup_printf ("400::The replayId {%" G_GINT64_FORMAT "} you provided was invalid. Please provide a "
                            "valid ID, -2 to replay all events, or -1 to replay only new events.", from);

  g_ptr_array_add (session->subscriptions, g_strdup (subscription));

  /* The kept events after @from, to this subscription only. */
  if (from == -2 || from >= 0)
    {
      for (GList *l = channel->events.head; l != NULL; l = l->next)
        {
          JsonObject *data = l->data;
          gint64 id = json_object_get_int_member (json_object_get_object_member (data, "event"), "replayId");

          if (from < 0 || id > from)
            session_queue_for (session, subscription, channel, data);
        }
    }
  return NULL;
}

static const char *
bearer_token (SoupServerMessage *msg)
{
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");

  /* Salesforce takes "OAuth <token>" too. */
  if (auth != NULL && g_str_has_prefix (auth, "Bearer "))
    return auth + strlen ("Bearer ");
  if (auth != NULL && g_str_has_prefix (auth, "OAuth "))
    return auth + strlen ("OAuth ");
  return NULL;
}

/* Answers the held connects of the sessions that have events queued (by
 * a replaying subscribe), but @except's. */
static void
wake_sessions (SfModel *self,
               Session *except)
{
  GHashTableIter iter;
  Session *session;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &session))
    if (session != except && session->held != NULL && json_array_get_length (session->queue) > 0)
      session_answer_held (session, NULL, NULL);
}

static gboolean
on_request (TestServer        *server,
            SoupServerMessage *msg,
            JsonArray         *request,
            gpointer           user_data)
{
  SfModel *self = user_data;
  g_autoptr(JsonArray) replies = json_array_new ();
  const char *token = bearer_token (msg);
  gboolean token_ok = token != NULL && g_strcmp0 (token, self->access_token) == 0;
  JsonObject *first = json_array_get_length (request) > 0 ? json_array_get_object_element (request, 0) : NULL;
  const char *first_channel = first ? json_object_get_string_member_with_default (first, "channel", "") : "";
  Session *hold_for = NULL;

  if (!g_str_equal (g_uri_get_path (soup_server_message_get_uri (msg)), self->cometd_path))
    {
      test_server_respond_raw (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return TRUE;
    }

  /* A missing or expired token, but on a handshake: HTTP 401. */
  if (!token_ok && !g_str_equal (first_channel, "/meta/handshake"))
    {
      test_server_respond_raw (msg, SOUP_STATUS_UNAUTHORIZED,
                               "[{\"errorCode\":\"INVALID_SESSION_ID\",\"message\":\"Session expired or invalid\"}]");
      return TRUE;
    }

  for (guint i = 0; i < json_array_get_length (request); i++)
    {
      JsonObject *m = json_array_get_object_element (request, i);
      const char *channel = json_object_get_string_member_with_default (m, "channel", "");
      const char *client_id = json_object_get_string_member_with_default (m, "clientId", NULL);
      Session *session = client_id ? g_hash_table_lookup (self->sessions, client_id) : NULL;
      JsonObject *reply;

      if (g_str_equal (channel, "/meta/handshake"))
        {
          JsonNode *ext = json_object_get_member (m, "ext");
          JsonObject *reply_ext;
          JsonArray *types;

          if (!token_ok)
            {
              reply = reply_for (m, FALSE);
              json_object_set_object_member (reply, "advice", advice_new (self, "none"));
              if (token == NULL)
                json_object_set_string_member (reply, "error", "401::Request requires authentication");
              else
                {
                  JsonObject *sfdc = json_object_new ();
                  JsonObject *rext = json_object_new ();

                  json_object_set_string_member (reply, "error", "403::Handshake denied");
                  json_object_set_string_member (sfdc, "failureReason", "401::Authentication invalid");
                  json_object_set_object_member (rext, "sfdc", sfdc);
                  json_object_set_object_member (reply, "ext", rext);
                }
              json_array_add_object_element (replies, reply);
              continue;
            }

          session = g_new0 (Session, 1);
          session->model = self;
          session->id = g_strdup_printf ("sf%08x%04x", g_random_int (), ++self->next_session);
          session->token = g_strdup (token);
          session->subscriptions = g_ptr_array_new_with_free_func (g_free);
          session->queue = json_array_new ();
          session->replay = ext != NULL && JSON_NODE_HOLDS_OBJECT (ext) &&
                            json_object_get_boolean_member_with_default (json_node_get_object (ext), "replay", FALSE);
          g_hash_table_insert (self->sessions, session->id, session);
          self->handshakes++;

          reply = reply_for (m, TRUE);
          json_object_set_string_member (reply, "clientId", session->id);
          json_object_set_string_member (reply, "version", "1.0");
          json_object_set_string_member (reply, "minimumVersion", "1.0");
          types = json_array_new ();
          json_array_add_string_element (types, "long-polling");
          json_object_set_array_member (reply, "supportedConnectionTypes", types);
          reply_ext = json_object_new ();
          json_object_set_boolean_member (reply_ext, "replay", TRUE);
          json_object_set_boolean_member (reply_ext, "payload.format", TRUE);
          json_object_set_object_member (reply, "ext", reply_ext);
          json_array_add_object_element (replies, reply);
          continue;
        }

      if (session == NULL)
        {
          reply = reply_for (m, FALSE);
          json_object_set_string_member (reply, "error", "403::Unknown client");
          json_object_set_object_member (reply, "advice", advice_new (self, "handshake"));
          json_array_add_object_element (replies, reply);
          continue;
        }

      if (g_str_equal (channel, "/meta/connect"))
        {
          const char *type = json_object_get_string_member_with_default (m, "connectionType", "");

          if (!g_str_equal (type, "long-polling"))
            {
              reply = reply_for (m, FALSE);
              json_object_set_string_member (reply, "error", "400::Unsupported connection type");
              json_array_add_object_element (replies, reply);
              continue;
            }
          /* One held connect a session: a second one answers the first. */
          session_answer_held (session, NULL, NULL);
          reply = reply_for (m, TRUE);
          json_object_set_object_member (reply, "advice", advice_new (self, "retry"));
          if (json_array_get_length (session->queue) > 0 || hold_for != NULL)
            {
              json_array_add_object_element (replies, reply);
              for (guint j = 0; j < json_array_get_length (session->queue); j++)
                json_array_add_element (replies, json_node_copy (json_array_get_element (session->queue, j)));
              json_array_unref (session->queue);
              session->queue = json_array_new ();
            }
          else
            {
              session->held_reply = reply;
              hold_for = session;
            }
        }
      else if (g_str_equal (channel, "/meta/subscribe"))
        {
          g_autofree char *error = subscribe (self, session, m);

          reply = reply_for (m, error == NULL);
          json_object_set_string_member (reply, "subscription",
                                         json_object_get_string_member_with_default (m, "subscription", ""));
          g_clear_pointer (&self->last_subscribe_error, g_free);
          if (error != NULL)
            {
              json_object_set_string_member (reply, "error", error);
              self->refused_subscribes++;
              self->last_subscribe_error = g_steal_pointer (&error);
            }
          json_array_add_object_element (replies, reply);
        }
      else if (g_str_equal (channel, "/meta/unsubscribe"))
        {
          const char *subscription = json_object_get_string_member_with_default (m, "subscription", "");

          for (guint j = 0; j < session->subscriptions->len; j++)
            if (g_str_equal (g_ptr_array_index (session->subscriptions, j), subscription))
              {
                g_ptr_array_remove_index (session->subscriptions, j);
                break;
              }
          reply = reply_for (m, TRUE);
          json_object_set_string_member (reply, "subscription", subscription);
          json_array_add_object_element (replies, reply);
        }
      else if (g_str_equal (channel, "/meta/disconnect"))
        {
          json_array_add_object_element (replies, reply_for (m, TRUE));
          g_hash_table_remove (self->sessions, client_id);
        }
      else
        {
          /* Publishing goes through the REST API, not CometD. */
          reply = reply_for (m, FALSE);
          json_object_set_string_member (reply, "error", "403::Publish not allowed");
          json_array_add_object_element (replies, reply);
        }
    }

  wake_sessions (self, hold_for);
  if (hold_for != NULL && json_array_get_length (replies) == 0)
    {
      hold_for->held = g_object_ref (msg);
      g_signal_connect (msg, "disconnected", G_CALLBACK (on_held_disconnected), hold_for);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_pause (msg);
      hold_for->held_timer = g_timeout_source_new (self->timeout_ms);
      g_source_set_callback (hold_for->held_timer, held_timeout_cb, hold_for, NULL);
      g_source_attach (hold_for->held_timer, NULL);
      return TRUE;
    }
  if (hold_for != NULL)
    {
      /* A connect batched with others: answered at once. */
      json_array_add_object_element (replies, g_steal_pointer (&hold_for->held_reply));
    }
  respond (msg, SOUP_STATUS_OK, replies);
  return TRUE;
}

static void
token_endpoint (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  SfModel *self = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GHashTable) form = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  const char *grant_type, *refresh_token, *client_id;
  g_autofree char *issued_at = NULL;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  {
    g_autofree char *form_text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    form = soup_form_decode (form_text);
  }
  grant_type = g_hash_table_lookup (form, "grant_type");
  refresh_token = g_hash_table_lookup (form, "refresh_token");
  client_id = g_hash_table_lookup (form, "client_id");
  if (g_strcmp0 (grant_type, "refresh_token") != 0 || g_strcmp0 (refresh_token, self->refresh_token) != 0 ||
      g_strcmp0 (client_id, self->client_id) != 0)
    {
      const char *error = "{\"error\":\"invalid_grant\",\"error_description\":\"expired access/refresh token\"}";

      soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, error, strlen (error));
      return;
    }

  g_free (self->access_token);
  self->access_token = g_strdup_printf ("00Dmodel!%08x%08x.%u", g_random_int (), g_random_int (), ++self->next_token);
  self->refreshes++;
  issued_at = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / 1000);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "access_token");
  json_builder_add_string_value (builder, self->access_token);
  json_builder_set_member_name (builder, "instance_url");
  json_builder_add_string_value (builder, self->instance_url);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, "https://login.salesforce.com/id/00Dmodel/005model");
  json_builder_set_member_name (builder, "token_type");
  json_builder_add_string_value (builder, "Bearer");
  json_builder_set_member_name (builder, "issued_at");
  json_builder_add_string_value (builder, issued_at);
  json_builder_set_member_name (builder, "scope");
  json_builder_add_string_value (builder, "api refresh_token");
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text, strlen (text));
}

SfModel *
sf_model_new (guint       timeout_ms,
              const char *access_token,
              const char *refresh_token,
              const char *client_id)
{
  SfModel *self = g_new0 (SfModel, 1);
  g_autoptr(GUri) uri = NULL;

  self->server = test_server_new ();
  self->timeout_ms = timeout_ms;
  self->retention = SF_DEFAULT_RETENTION;
  self->access_token = g_strdup (access_token);
  self->refresh_token = g_strdup (refresh_token);
  self->client_id = g_strdup (client_id);
  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, session_free);
  self->channels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, channel_free);

  /* The test server's URL is http://127.0.0.1:PORT/cometd, and its handler
   * takes every path under /cometd. */
  uri = g_uri_parse (test_server_get_url (self->server), G_URI_FLAGS_NONE, NULL);
  g_assert_nonnull (uri);
  self->instance_url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uri));
  self->cometd_path = g_strdup ("/cometd/" SF_MODEL_API_VERSION);
  self->cometd_url = g_strconcat (self->instance_url, self->cometd_path, NULL);
  test_server_set_hook (self->server, on_request, self);
  soup_server_add_handler (test_server_get_soup_server (self->server), "/services/oauth2/token",
                           token_endpoint, self, NULL);
  return self;
}

void
sf_model_free (SfModel *self)
{
  /* Held connects first: their messages belong to the server. */
  g_hash_table_remove_all (self->sessions);
  test_server_set_hook (self->server, NULL, NULL);
  test_server_free (self->server);
  g_hash_table_unref (self->sessions);
  g_hash_table_unref (self->channels);
  g_free (self->access_token);
  g_free (self->refresh_token);
  g_free (self->client_id);
  g_free (self->instance_url);
  g_free (self->cometd_url);
  g_free (self->cometd_path);
  g_free (self->last_subscribe_error);
  g_free (self->last_replay_map);
  g_free (self);
}

void
sf_model_expire_token (SfModel *self)
{
  GHashTableIter iter;
  Session *session;

  if (self->access_token == NULL)
    return;
  /* "Streaming API regularly validates the OAuth token while the client is
   * connected": a held connect learns it now. */
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &session))
    if (g_strcmp0 (session->token, self->access_token) == 0)
      {
        session_answer_held (session, "401::Authentication invalid", "none");
        g_hash_table_iter_remove (&iter);
      }
  g_clear_pointer (&self->access_token, g_free);
}

void
sf_model_expire_sessions (SfModel *self)
{
  /* session_free answers each held connect with 403::Unknown client. */
  g_hash_table_remove_all (self->sessions);
}

TestServer *sf_model_get_test_server (SfModel *self) { return self->server; }
const char *sf_model_get_instance_url (SfModel *self) { return self->instance_url; }
const char *sf_model_get_cometd_url (SfModel *self) { return self->cometd_url; }
const char *sf_model_get_access_token (SfModel *self) { return self->access_token; }
void sf_model_set_retention (SfModel *self, guint events) { self->retention = MAX (events, 1); }
guint sf_model_handshakes (SfModel *self) { return self->handshakes; }
guint sf_model_refreshes (SfModel *self) { return self->refreshes; }
guint sf_model_sessions (SfModel *self) { return g_hash_table_size (self->sessions); }
guint sf_model_refused_subscribes (SfModel *self) { return self->refused_subscribes; }
const char *sf_model_last_subscribe_error (SfModel *self) { return self->last_subscribe_error; }
const char *sf_model_last_replay_map (SfModel *self) { return self->last_replay_map; }

static Channel *
channel_find (SfModel    *self,
              const char *channel)
{
  g_autofree char *base = base_name (channel);

  return g_hash_table_lookup (self->channels, base);
}

guint
sf_model_published (SfModel    *self,
                    const char *channel)
{
  Channel *c = channel_find (self, channel);
  return c ? c->published : 0;
}

guint
sf_model_delivered (SfModel    *self,
                    const char *channel)
{
  Channel *c = channel_find (self, channel);
  return c ? c->delivered : 0;
}
