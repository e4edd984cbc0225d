/* bayeux-client.c: the Bayeux client state machine
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The class's documentation is in bayeux-client-calls.c.
 *
 * Architecture (bayeux-glib/README.md maps the rooms and draws the calls):
 * this file keeps the session state machine (handshake, the /meta/connect
 * loop, advice applied, re-handshakes, stop and disconnect), the slots and
 * what goes in them, opening and losing the WebSocket, switching servers,
 * the GObject and the public API (the application's calls, from subscribe
 * to publish, in bayeux-client-calls.c). Private rooms answer it by return
 * value or through callbacks it hands in, never by calling it by name.
 *
 * Two "slots" hold at most one request each: the control slot carries
 * /meta/handshake, /meta/connect and /meta/disconnect; the batch slot the
 * rest, batched (what is queued in one main-loop iteration leaves in one
 * request). The long poll never delays a publish.
 *
 * Transports are reached through the private BayeuxTransport interface:
 * "long-polling" (self->polling), and "websocket" (self->streaming), made
 * when a server first offers it. Over the socket the slots stay, each with
 * at most one frame awaiting replies (stream_request) that come in any
 * frame, matched by id. Messages from either transport go to the inbox
 * room, which hands them back in order, and each reply is matched and
 * classified once (bayeux_calls_match).
 */
#include "bayeux-glib.h"
#include "bayeux-channel-private.h"
#include "bayeux-advice-private.h"
#include "bayeux-batch-private.h"
#include "bayeux-calls-private.h"
#include "bayeux-client-private.h"
#include "bayeux-clock-watch-private.h"
#include "bayeux-cookie-jar-private.h"
#include "bayeux-context-private.h"
#include "bayeux-debug-private.h"
#include "bayeux-extension-chain-private.h"
#include "bayeux-inbox-private.h"
#include "bayeux-message-private.h"
#include "bayeux-outbox-private.h"
#include "bayeux-subscriptions-private.h"
#include "bayeux-network-watch-private.h"
#include "bayeux-servers-private.h"
#include "bayeux-task-private.h"
#include "bayeux-proxy-cache-private.h"
#include "transports/bayeux-transport-policy-private.h"
#include "transports/bayeux-transport-private.h"

#include <string.h>

#define DEFAULT_MAX_NETWORK_DELAY 10000
#define DEFAULT_MAX_MESSAGE_SIZE  (1024 * 1024)
#define DEFAULT_MAX_RESPONSE_SIZE (64 * 1024 * 1024)
#define DEFAULT_BACKOFF_INCREMENT 1000
#define DEFAULT_MAX_BACKOFF       30000
#define DEFAULT_POLL_TIMEOUT      60000
#define DEFAULT_MAX_PENDING       1000
#define DEFAULT_MAX_PENDING_AGE   60000
/* A successful /meta/connect that carried nothing and came back in less
 * than half the advised timeout is "early"; after this many in a row the
 * server is not holding polls and the client backs off, so that it never
 * spins. */
#define EARLY_CONNECTS_TOLERATED  3
#define MIN_CONNECT_CYCLE_US      (100 * 1000)
/* Paused, the client holds at most this many messages (the oldest go). */
#define PAUSED_HELD_MAX           10000
/* How long a client whose ::authenticate handler promised new credentials
 * waits for bayeux_client_reconnect() before it reports and stops. */
#define CREDENTIALS_WAIT_MS       (5 * 60 * 1000)

typedef enum {
  SLOT_CONTROL,
  SLOT_BATCH,
} Slot;

/* A request in a slot, and then its response in the inbox; or (@frame) a
 * WebSocket frame in the inbox, whose replies may answer either slot. */
typedef struct
{
  GWeakRef   client;
  Slot       slot;
  guint      serial;
  GPtrArray *ids;
  guint      generation;   /* the client's, when the response came */
  gboolean   frame;
} Request;

struct _BayeuxClient
{
  GObject            parent_instance;

  GMainContext      *context;
  SoupSession       *session;
  BayeuxTransport   *polling;          /* "long-polling": every request can go this way */
  BayeuxTransport   *streaming;        /* "websocket", made when a server first offers it */
  SoupMessageHeaders *headers;       /* set_header's, shared with both transports */
  const char        *transport_name; /* in use (a static string) */
  BayeuxTransportPolicy *policy;        /* allowed, offered, and whether the WebSocket works */
  gboolean           ws_opening;         /* the control slot is opening it */
  Request           *stream_request[2];  /* per slot: the request awaiting replies on the socket */
  char              *url;
  BayeuxServers     *servers;       /* the url and the fallback urls, one in use */

  BayeuxClientState  state;
  char              *client_id;
  guint              max_network_delay;
  guint              max_message_size;
  guint              max_response_size;
  guint              backoff_increment;
  guint              max_backoff;
  JsonNode          *handshake_ext;
  guint              max_pending;
  guint              max_pending_age;

  GNetworkMonitor   *network_monitor;
  gboolean           network_down;
  BayeuxNetworkWatch *network_watch;

  guint              generation;  /* bumped by stop and disconnect */

  BayeuxAdvice       advice;          /* the latest, and the backoff */
  gint64             unconnected_since;   /* monotonic µs, 0 when connected */
  gboolean           immediate_connect;

  BayeuxSubscriptions *subscriptions;     /* the application's, and listeners */
  gboolean           resubscribe_needed;
  BayeuxOutbox      *outbox;              /* ops queued, deferred, and sent awaiting a reply */
  BayeuxCalls        calls;              /* the application's calls (their room's view of us) */

  GCancellable      *cancellable[2];
  gboolean           busy[2];
  guint              serial[2];

  GSource           *control_timer;
  GSource           *flush_idle;
  GSource           *retry_timer;
  BayeuxClockWatch  *clock_watch;       /* suspends, while running */
  gint64             control_sent_at;
  guint              response_deliveries;
  guint              early_connects;
  guint              rehandshakes;     /* since a long poll was last held */
  guint              batch_depth;      /* batch_begin without batch_end yet */
  BayeuxReports     *reports;             /* for ::error, in order */
  BayeuxInbox       *inbox;               /* what came, handled in order, in slices */

  GPtrArray         *handshake_tasks;
  GPtrArray         *disconnect_tasks;
  gboolean           restart_after_disconnect;
  gboolean           disposing;

  gboolean           paused;             /* no /meta/connect but to keep the session */
  gboolean           connect_withheld;   /* one is due at resume */
  gint64             control_done_at;    /* monotonic µs: the last handshake or connect answered */
  gint64             network_probed_at;  /* monotonic µs: the last connect because the network changed */
  GSource           *network_probe_timer; /* one more, when a second has passed since that one */
  GQueue             held;               /* deliveries while paused, or not yet dispatched since */
  guint              held_dropped;       /* the oldest dropped past PAUSED_HELD_MAX */
  GSource           *held_idle;          /* dispatching them, resumed */

  gboolean           awaiting_credentials; /* ::authenticate said they come: no request till reconnect */
  gboolean           credentials_retry;  /* new credentials given, no handshake accepted since */
  GSource           *credentials_timer;  /* the bound of that wait */
  GError            *credentials_error;  /* what refused them: reported if the wait runs out */
  guint              credentials_wait_ms;

  BayeuxExtensionChain *extensions;      /* and the messages they hold */
  GSource           *disconnect_idle;    /* a disconnect asked for from an outgoing hook */
};

G_DEFINE_FINAL_TYPE (BayeuxClient, bayeux_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_URL,
  PROP_SESSION,
  PROP_STATE,
  PROP_CLIENT_ID,
  PROP_TRANSPORT,
  PROP_MAX_NETWORK_DELAY,
  PROP_MAX_MESSAGE_SIZE,
  PROP_MAX_RESPONSE_SIZE,
  PROP_BACKOFF_INCREMENT,
  PROP_MAX_BACKOFF,
  PROP_HANDSHAKE_EXT,
  PROP_MAX_PENDING,
  PROP_MAX_PENDING_AGE,
  PROP_NETWORK_MONITOR,
  PROP_FALLBACK_URLS,
  PROP_CURRENT_URL,
  PROP_TRANSPORTS,
  PROP_SUBSCRIPTIONS,
  PROP_PAUSED,
  N_PROPS
};


static GParamSpec *properties[N_PROPS];
static guint signals[BAYEUX_CLIENT_N_SIGNALS];

static void schedule_flush   (BayeuxClient *self);
static void begin_disconnect (BayeuxClient *self);
static gboolean is_running   (BayeuxClient *self);
static void start_internal   (BayeuxClient *self);
static gboolean next_server  (BayeuxClient *self);
static void     use_server   (BayeuxClient *self, guint server);
static void update_watchdog  (BayeuxClient *self);
static void drop_websocket   (BayeuxClient *self, const GError *error);
static void open_websocket   (BayeuxClient *self);
static void set_transport_name (BayeuxClient *self, const char *name);

/* ------------------------------------------------------------------------ */
/* Signals                                                                  */

static void
emit_error (GObject       *owner,
            const GError  *error,
            BayeuxMessage *message)
{
  g_signal_emit (owner, signals[BAYEUX_CLIENT_SIGNAL_ERROR], 0, error, message);
}

/* Reports through ::error, always from an idle of the client's context (so
 * never from inside a public call), in the order reported. Takes @error. */
static void
report_error (BayeuxClient  *self,
              GError        *error,
              BayeuxMessage *message)
{
  if (self->disposing || self->reports == NULL)
    {
      g_error_free (error);
      return;
    }

  g_debug ("error: %s", error->message);
  bayeux_reports_add (self->reports, error, message);
}

/* ------------------------------------------------------------------------ */
/* State                                                                    */

static const char *
state_nick (BayeuxClientState state)
{
  GEnumClass *klass = g_type_class_peek (BAYEUX_TYPE_CLIENT_STATE);
  GEnumValue *value = klass ? g_enum_get_value (klass, state) : NULL;

  return value ? value->value_nick : "?";
}

static void
set_state (BayeuxClient      *self,
           BayeuxClientState  state)
{
  if (self->state == state)
    return;

  g_debug ("state: %s -> %s", state_nick (self->state), state_nick (state));
  self->state = state;

  if (state == BAYEUX_CLIENT_STATE_UNCONNECTED && self->unconnected_since == 0)
    self->unconnected_since = g_get_monotonic_time ();
  else if (state == BAYEUX_CLIENT_STATE_CONNECTED)
    self->unconnected_since = 0;

  if (!self->disposing)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* A public call or a timer runs between these two: property notifications
 * are held until its end, so that a notify handler that calls back into
 * the client (stop() on "handshaking", say) finds it consistent. Responses
 * are not wrapped (each transition they cause is notified, a connected
 * client is seen connected): there, what follows a notification checks
 * self->generation, which stop and disconnect bump. */
static void
begin_change (BayeuxClient *self)
{
  g_object_ref (self);
  g_object_freeze_notify (G_OBJECT (self));
}

static void
end_change (BayeuxClient *self)
{
  g_object_thaw_notify (G_OBJECT (self));
  g_object_unref (self);
}

static void
set_client_id (BayeuxClient *self,
               const char   *client_id)
{
  if (g_strcmp0 (self->client_id, client_id) == 0)
    return;

  g_free (self->client_id);
  self->client_id = g_strdup (client_id);
  if (!self->disposing)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT_ID]);
}

/* Applies the advice of @message (newer advice replaces older; the
 * section of our transport overlays the general fields; `hosts` go to the
 * servers); bad fields are reported. Returns whether it said how to
 * reconnect (a `reconnect` field, or a negative interval). */
static gboolean
apply_advice (BayeuxClient  *self,
              BayeuxMessage *message)
{
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) bad = NULL;
  JsonArray *hosts = NULL;
  gboolean reconnect;

  if (message == NULL)
    return FALSE;
  reconnect = bayeux_advice_apply (&self->advice, bayeux_message_get_advice (message), self->transport_name,
                                   &hosts, &errors);
  for (guint i = 0; errors != NULL && i < errors->len; i++)
    report_error (self, g_error_copy (g_ptr_array_index (errors, i)), message);
  if (hosts != NULL && !bayeux_servers_set_advised (self->servers, hosts, &bad))
    report_error (self, g_steal_pointer (&bad), message);
  return reconnect;
}

/* The server advised to stop (reconnect none, a negative interval, a
 * reconnect value not understood). */
static GError *
advised_stop_error (BayeuxClient *self,
                    const char   *what)
{
  return g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_DISCONNECTED, "The server advised %s (%s)", what,
                      bayeux_advice_stop_reason (&self->advice));
}

static gint64
next_failure_delay (BayeuxClient *self)
{
  gint64 polling = bayeux_transport_take_retry_after (self->polling);
  gint64 streaming = self->streaming ? bayeux_transport_take_retry_after (self->streaming) : 0;

  return bayeux_advice_next_failure_delay (&self->advice, self->backoff_increment, self->max_backoff,
                                           MAX (polling, streaming));
}

/* ------------------------------------------------------------------------ */
/* Ops and subscriptions                                                    */

/* Whether the server knows us: a session to subscribe in. */
static gboolean
session_ready (BayeuxClient *self)
{
  return self->client_id != NULL &&
         (self->state == BAYEUX_CLIENT_STATE_HANDSHAKING ||
          self->state == BAYEUX_CLIENT_STATE_CONNECTED ||
          self->state == BAYEUX_CLIENT_STATE_UNCONNECTED);
}

/* Whether queued messages may leave now. While the connection is lost they
 * wait (publishes within max-pending and max-pending-age) and leave once a
 * /meta/connect succeeds again. */
static gboolean
can_send (BayeuxClient *self)
{
  return self->client_id != NULL && !self->network_down &&
         (self->state == BAYEUX_CLIENT_STATE_HANDSHAKING ||
          self->state == BAYEUX_CLIENT_STATE_CONNECTED);
}


static void
enqueue (BayeuxClient *self,
         BayeuxOp     *op)
{
  if (op->kind == BAYEUX_OP_PUBLISH && !can_send (self) && bayeux_outbox_length (self->outbox) >= self->max_pending)
    {
      g_autoptr(GError) error = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_QUEUE_FULL,
                                             "%u messages are already waiting to be sent (max-pending)",
                                             self->max_pending);
      bayeux_calls_drop (&self->calls, op, error);
      bayeux_op_free (op);
      return;
    }

  bayeux_outbox_push (self->outbox, op);
  schedule_flush (self);
  bayeux_outbox_schedule_expiry (self->outbox, self->max_pending_age);
}

/* Drops the publishes that waited longer than max-pending-age; completes
 * those sent over the WebSocket that the server left unanswered. */
static void
on_expired (gpointer user_data)
{
  BayeuxClient *self = user_data;
  GQueue *expired;
  BayeuxOp *op;

  begin_change (self);
  expired = bayeux_outbox_take_expired (self->outbox, self->max_pending_age);
  if (!g_queue_is_empty (expired))
    {
      g_autoptr(GError) error = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_EXPIRED,
                                             "Not sent within %u ms (max-pending-age)", self->max_pending_age);

      while ((op = g_queue_pop_head (expired)) != NULL)
        {
          bayeux_calls_drop (&self->calls, op, error);
          bayeux_op_free (op);
        }
    }
  g_queue_free (expired);
  bayeux_outbox_schedule_expiry (self->outbox, self->max_pending_age);

  /* Publishes sent over the WebSocket whose reply did not come: sent. */
  expired = bayeux_outbox_take_unanswered (self->outbox);
  if (!g_queue_is_empty (expired))
    {
      g_autoptr(GError) error = g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT,
                                                     "The server did not answer in time (WebSocket)");

      while ((op = g_queue_pop_head (expired)) != NULL)
        bayeux_calls_unanswered (&self->calls, op, error);
      if (self->streaming != NULL)
        bayeux_transport_check_answered (self->streaming);
    }
  g_queue_free (expired);
  end_change (self);
}

/* Sends what the last transport failures (or a re-handshake) left over,
 * once the connection works again: subscriptions first, so that messages
 * published after them (held during the handshake, say) reach them. A
 * successful connect (@after_connect) does not cut the backoff of lost
 * requests short: while their retry timer runs, they wait for it. */
static void
resume (BayeuxClient *self,
        gboolean      after_connect)
{
  GQueue first = G_QUEUE_INIT;

  if (after_connect && self->retry_timer != NULL)
    {
      schedule_flush (self);
      return;
    }

  if (self->resubscribe_needed)
    {
      g_autoptr(GPtrArray) unsent = bayeux_subscriptions_take_unsent (self->subscriptions);

      self->resubscribe_needed = FALSE;
      for (guint i = 0; i < unsent->len; i++)
        g_queue_push_tail (&first, bayeux_calls_subscribe_op (&self->calls, g_ptr_array_index (unsent, i)));
    }

  bayeux_outbox_resume (self->outbox, &first);
  schedule_flush (self);
}

static gboolean
retry_cb_step (BayeuxClient *self)
{

  g_clear_pointer (&self->retry_timer, g_source_unref);
  /* If the connection is lost, the next successful connect resumes. */
  if (can_send (self))
    resume (self, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
retry_cb (gpointer user_data)
{
  BayeuxClient *self = user_data;
  gboolean ret;

  begin_change (self);
  ret = retry_cb_step (self);
  end_change (self);
  return ret;
}

/* Subscribes and unsubscribes lost in transport are sent again after the
 * backoff, without waiting for the long poll to come back. */
static void
schedule_retry (BayeuxClient *self)
{
  if (self->retry_timer != NULL)
    return;

  self->retry_timer = bayeux_source_attach (self->context, (guint) next_failure_delay (self), G_PRIORITY_DEFAULT,
                                            retry_cb, self, NULL, "[bayeux] retry");
}

/* ------------------------------------------------------------------------ */
/* Stopping                                                                 */

static void
abandon_slot (BayeuxClient *self,
              Slot          slot)
{
  self->serial[slot]++;
  /* The transport ends it (cancelled): a request of an older serial. */
  self->stream_request[slot] = NULL;
  g_cancellable_cancel (self->cancellable[slot]);
  g_object_unref (self->cancellable[slot]);
  self->cancellable[slot] = g_cancellable_new ();
  self->busy[slot] = FALSE;
}

static void
abandon_control (BayeuxClient *self)
{
  g_clear_pointer (&self->control_timer, bayeux_source_destroy);
  bayeux_extension_chain_drop_control (self->extensions);
  if (self->busy[SLOT_CONTROL])
    {
      /* Over a WebSocket, the server may still answer what was given up
       * (Faye answers the held /meta/connect when the disconnect comes):
       * that answer is expected, not an error. */
      gboolean answer_expected = self->stream_request[SLOT_CONTROL] != NULL;

      abandon_slot (self, SLOT_CONTROL);
      bayeux_outbox_abandon_control (self->outbox, answer_expected);
    }
  /* An open given up: the transport is ready for the next one at once. */
  if (self->ws_opening)
    {
      self->ws_opening = FALSE;
      bayeux_transport_close (self->streaming);
    }
  bayeux_outbox_clear_control (self->outbox);
}

/* Ends the holds of the extensions: the messages are dropped, their calls
 * fail with @reason. */
static void
drop_held (BayeuxClient *self,
           const GError *reason)
{
  GList *ops = bayeux_extension_chain_take_held (self->extensions);

  for (GList *l = ops; l != NULL; l = l->next)
    {
      bayeux_calls_drop (&self->calls, l->data, reason);
      bayeux_op_free (l->data);
    }
  g_list_free (ops);
}

static void
end_credentials_wait (BayeuxClient *self)
{
  self->awaiting_credentials = FALSE;
  g_clear_pointer (&self->credentials_timer, bayeux_source_destroy);
  g_clear_error (&self->credentials_error);
}

/* Ends everything: no request in flight, no timer, every waiting call
 * completed with @reason (or a generic "stopped" error). Subscriptions are
 * kept, unconfirmed, and are sent again by the next start. */
static void
stop_internal (BayeuxClient *self,
               const GError *reason)
{
  g_autoptr(GError) stopped = NULL;
  g_autoptr(GPtrArray) handshake_tasks = NULL;
  g_autoptr(GList) ops = NULL;
  BayeuxOp *op;

  if (reason == NULL)
    reason = stopped = g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_DISCONNECTED, "The client was stopped");

  self->generation++;

  abandon_control (self);
  if (self->busy[SLOT_BATCH])
    abandon_slot (self, SLOT_BATCH);
  g_clear_pointer (&self->flush_idle, bayeux_source_destroy);
  bayeux_outbox_stop (self->outbox);
  g_clear_pointer (&self->retry_timer, bayeux_source_destroy);

  end_credentials_wait (self);
  self->credentials_retry = FALSE;
  set_client_id (self, NULL);
  self->immediate_connect = FALSE;
  if (self->streaming != NULL)
    bayeux_transport_close (self->streaming);

  drop_held (self, reason);
  ops = bayeux_outbox_take_pending (self->outbox);
  for (GList *l = ops; l; l = l->next)
    {
      bayeux_calls_drop (&self->calls, l->data, reason);
      bayeux_op_free (l->data);
    }
  while ((op = bayeux_outbox_pop (self->outbox)) != NULL)
    {
      bayeux_calls_drop (&self->calls, op, reason);
      bayeux_op_free (op);
    }
  while ((op = bayeux_outbox_pop_deferred (self->outbox)) != NULL)
    {
      bayeux_calls_drop (&self->calls, op, reason);
      bayeux_op_free (op);
    }

  bayeux_subscriptions_reset (self->subscriptions, reason);
  self->resubscribe_needed = FALSE;

  handshake_tasks = g_steal_pointer (&self->handshake_tasks);
  self->handshake_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  bayeux_task_return_all (handshake_tasks, reason);

  /* The hosts a server advised are of its session: a new start begins at the url. */
  if (bayeux_servers_forget_advised (self->servers) && self->polling != NULL)
    use_server (self, 0);

  set_state (self, BAYEUX_CLIENT_STATE_DISCONNECTED);
  update_watchdog (self);
}

/* The server told us to stop (advice none), or we cannot go on. */
static void
stop_with_error (BayeuxClient  *self,
                 GError        *error,
                 BayeuxMessage *message)
{
  g_autoptr(GPtrArray) disconnect_tasks = g_steal_pointer (&self->disconnect_tasks);

  self->disconnect_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  stop_internal (self, error);
  bayeux_task_return_all (disconnect_tasks, NULL);
  report_error (self, error, message);
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */

static void
request_free (Request *req)
{
  g_weak_ref_clear (&req->client);
  g_clear_pointer (&req->ids, g_ptr_array_unref);
  g_free (req);
}

/* What bounds a whole response or frame: max-response-size, never less
 * than one message. */
static gsize
response_limit (BayeuxClient *self)
{
  return MAX (self->max_response_size, self->max_message_size);
}

static gboolean
websocket_open (BayeuxClient *self)
{
  return self->streaming != NULL && bayeux_transport_is_open (self->streaming);
}

static void     on_send_done    (gpointer user_data, BayeuxElements *messages, const GError *error);
static gboolean request_pending (gpointer user_data, const char *id);

static const BayeuxSendCallbacks send_callbacks = {
  .done = on_send_done,
  .pending = request_pending,
};

/* Sends @body (a JSON array of the messages of @ids) on @slot: over the
 * WebSocket when it is open (but a handshake the policy sends by HTTP:
 * @http_only), else in an HTTP POST. */
static void
send_request (BayeuxClient *self,
              Slot          slot,
              GString      *body,
              GPtrArray    *ids,
              guint         timeout_ms,
              gboolean      http_only)
{
  Request *req = g_new0 (Request, 1);
  g_autoptr(GBytes) bytes = g_string_free_to_bytes (body);
  BayeuxTransport *transport;

  g_weak_ref_init (&req->client, self);
  req->slot = slot;
  req->serial = self->serial[slot];
  req->ids = g_ptr_array_ref (ids);
  self->busy[slot] = TRUE;

  if (bayeux_debug_flags () & BAYEUX_DEBUG_WIRE)
    {
      g_autoptr(JsonNode) node = json_from_string (g_bytes_get_data (bytes, NULL), NULL);
      if (node != NULL)
        bayeux_debug_wire (">>>", node);
    }

  /* Over the socket the replies come in frames, whenever: the request
   * ends when each of its messages has its reply (the transport asks
   * request_pending), or at the deadline. */
  if (!http_only && websocket_open (self))
    {
      g_assert (self->stream_request[slot] == NULL);
      self->stream_request[slot] = req;
      transport = self->streaming;
    }
  else
    transport = self->polling;

  g_main_context_push_thread_default (self->context);
  bayeux_transport_send (transport, bytes, ids, self->max_message_size, response_limit (self), timeout_ms,
                         self->cancellable[slot], &send_callbacks, req);
  g_main_context_pop_thread_default (self->context);
}

static GError *
stopped_error (void)
{
  return g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_DISCONNECTED, "The client was stopped");
}

/* A queued op that cannot be sent (too large, dropped by an extension):
 * its call fails; a subscription ends. Takes @op. */
static void
fail_unsendable (BayeuxClient *self,
                 BayeuxOp     *op,
                 const GError *error)
{
  bayeux_calls_unsendable (&self->calls, op, error);
}

static const char *
get_client_id (BayeuxClient *self)
{
  return self->client_id;
}

static guint
get_max_message_size (BayeuxClient *self)
{
  return self->max_message_size;
}

/* A hook stopped the client while @op went through a batch. */
static void
batch_stopped (BayeuxClient *self,
               BayeuxOp     *op)
{
  g_autoptr(GError) stopped = stopped_error ();

  bayeux_calls_drop (&self->calls, op, stopped);
  bayeux_op_free (op);
}

static const BayeuxBatchCallbacks batch_callbacks = {
  .client_id = get_client_id,
  .max_size = get_max_message_size,
  .unsendable = fail_unsendable,
  .stopped = batch_stopped,
};

static void op_done (BayeuxClient *self, BayeuxOp *op, BayeuxMessage *reply, const GError *transport_error);

/* The control op that took the control slot could not be sent (an
 * extension dropped it): the slot is free, and the op fails as if lost in
 * transport (a handshake or connect is retried). Takes @op. */
static void
control_op_unsent (BayeuxClient *self,
                   BayeuxOp     *op,
                   const GError *error)
{
  self->busy[SLOT_CONTROL] = FALSE;
  bayeux_outbox_clear_control (self->outbox);
  op_done (self, op, NULL, error);
}

static void
send_control_op (BayeuxClient *self,
                 BayeuxOp     *op,
                 gboolean      with_outbox,
                 guint         timeout_ms)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;
  GString *body;

  op->with_outbox = with_outbox;
  op->timeout_ms = timeout_ms;
  /* The control slot is taken while the extensions look at the op, and
   * while one of them holds it. */
  self->busy[SLOT_CONTROL] = TRUE;
  bayeux_outbox_set_control (self->outbox, op);

  switch (bayeux_batch_serialize (self->extensions, op, &batch_callbacks, self, &text, &error))
    {
    case BAYEUX_SERIALIZE_HELD:
      bayeux_extension_chain_hold_control (self->extensions, op);
      return;

    case BAYEUX_SERIALIZE_STOPPED:
      bayeux_op_free (op);
      return;

    case BAYEUX_SERIALIZE_FAILED:
      if (g_error_matches (error, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE) && op->kind == BAYEUX_OP_HANDSHAKE)
        {
          /* A huge handshake ext: nothing to retry. */
          self->busy[SLOT_CONTROL] = FALSE;
          bayeux_outbox_clear_control (self->outbox);
          bayeux_op_free (op);
          stop_with_error (self, g_steal_pointer (&error), NULL);
        }
      else
        control_op_unsent (self, op, error);
      return;

    case BAYEUX_SERIALIZED:
    default:
      break;
    }

  body = g_string_new ("[");
  /* A disconnect takes what is still queued along, before it. */
  if (with_outbox)
    {
      if (!bayeux_batch_take (self->outbox, self->extensions, &batch_callbacks, self, body, ids,
                              self->max_message_size - MIN (strlen (text) + 1, self->max_message_size)))
        {
          /* A hook stopped the client. */
          g_string_free (body, TRUE);
          bayeux_op_free (op);
          return;
        }
    }
  if (ids->len > 0)
    g_string_append_c (body, ',');
  g_string_append (body, text);
  g_string_append_c (body, ']');
  bayeux_outbox_commit (self->outbox, op, ids);
  send_request (self, SLOT_CONTROL, body, ids, timeout_ms,
                op->kind == BAYEUX_OP_HANDSHAKE &&
                !bayeux_transport_policy_handshake_sent (self->policy, websocket_open (self)));
}

static gboolean
flush_idle_cb (gpointer user_data)
{
  BayeuxClient *self = user_data;
  g_autoptr(GPtrArray) ids = NULL;
  gboolean stopped;
  GString *body;

  g_clear_pointer (&self->flush_idle, g_source_unref);

  if (self->busy[SLOT_BATCH] || self->batch_depth > 0 || !can_send (self) || bayeux_outbox_is_empty (self->outbox))
    return G_SOURCE_REMOVE;

  ids = g_ptr_array_new_with_free_func (g_free);
  body = g_string_new ("[");
  stopped = !bayeux_batch_take (self->outbox, self->extensions, &batch_callbacks, self, body, ids,
                                self->max_message_size);
  g_string_append_c (body, ']');

  if (ids->len == 0 || stopped)
    {
      g_string_free (body, TRUE);
      return G_SOURCE_REMOVE;
    }

  /* Over the socket, a publish's reply may never come: it is taken as
   * sent shortly before the request's deadline (which drops the socket). */
  if (websocket_open (self))
    bayeux_outbox_await_optional (self->outbox, ids, self->max_network_delay -
                                                     MIN (1000, self->max_network_delay / 4));
  send_request (self, SLOT_BATCH, body, ids, self->max_network_delay, FALSE);
  return G_SOURCE_REMOVE;
}

static void
schedule_flush (BayeuxClient *self)
{
  if (self->flush_idle != NULL || self->busy[SLOT_BATCH])
    return;

  self->flush_idle = bayeux_source_attach (self->context, 0, G_PRIORITY_DEFAULT, flush_idle_cb, self, NULL,
                                           "[bayeux] flush");
}

static void
send_handshake (BayeuxClient *self)
{
  BayeuxOp *op = bayeux_outbox_new_op (self->outbox, BAYEUX_OP_HANDSHAKE, "/meta/handshake", NULL, NULL);
  JsonArray *types = json_array_new ();

  const char * const *allowed = bayeux_transport_policy_get_allowed (self->policy);

  for (guint i = 0; allowed[i] != NULL; i++)
    json_array_add_string_element (types, allowed[i]);
  json_object_set_string_member (op->message, "version", "1.0");
  json_object_set_string_member (op->message, "minimumVersion", "1.0");
  json_object_set_array_member (op->message, "supportedConnectionTypes", types);
  if (self->handshake_ext != NULL)
    json_object_set_member (op->message, "ext", bayeux_json_deep_copy (self->handshake_ext));

  send_control_op (self, op, FALSE, self->max_network_delay);
}

static void
send_connect (BayeuxClient *self)
{
  guint timeout = self->max_network_delay;
  guint generation = self->generation;
  BayeuxOp *op;

  if (!websocket_open (self) && g_str_equal (self->transport_name, "websocket"))
    {
      set_transport_name (self, "long-polling");
      if (generation != self->generation)
        return;   /* a handler stopped the client */
    }
  op = bayeux_outbox_new_op (self->outbox, BAYEUX_OP_CONNECT, "/meta/connect", NULL, NULL);

  json_object_set_string_member (op->message, "connectionType", self->transport_name);
  if (websocket_open (self))
    self->response_deliveries = 0;
  if (self->immediate_connect)
    {
      /* Ask for an immediate answer, so that the client is connected (and
       * learns the advice) at once rather than after a whole long poll. */
      JsonObject *advice = json_object_new ();
      json_object_set_int_member (advice, "timeout", 0);
      json_object_set_object_member (op->message, "advice", advice);
    }
  else
    timeout += (guint) MIN (self->advice.timeout, (gint64) G_MAXUINT - timeout);

  send_control_op (self, op, FALSE, timeout);
}

static void schedule_control (BayeuxClient *self, gint64 delay_ms);

/* Paused: whether the next /meta/connect waits for the resume; if so, the
 * timer comes back when one is due anyway to keep the session. CometD
 * forgets a session maxInterval after its last connect was answered: one
 * goes at 3/4 of that. Faye advises no maxInterval and forgets a session
 * 1.6 (Redis) or 2 (memory) timeouts after its last connect arrived: one
 * goes 1.2 timeouts after the last was sent. Only a connected session
 * waits: the first connect of a session, and one after a failure (the
 * client is not connected, and publishing waits for it), go at once. A
 * connect that goes while paused asks for an immediate answer: a
 * keep-alive, not a long poll that would take what the server queues as
 * it comes. */
static gboolean
withhold_connect (BayeuxClient *self)
{
  gint64 due = self->advice.max_interval > 0
                 ? self->control_done_at + MAX (self->advice.max_interval * 3 / 4, 1000) * 1000
                 : self->control_sent_at + MAX (self->advice.timeout * 6 / 5, 1000) * 1000;
  gint64 now = g_get_monotonic_time ();

  self->connect_withheld = FALSE;
  if (!self->paused || self->client_id == NULL)
    return FALSE;
  if (now >= due || self->state != BAYEUX_CLIENT_STATE_CONNECTED || self->immediate_connect)
    {
      g_debug ("paused: a /meta/connect, answered at once, %s",
               now >= due ? "so that the server keeps the session" : "to be connected");
      self->immediate_connect = TRUE;
      return FALSE;
    }
  self->connect_withheld = TRUE;
  schedule_control (self, (due - now + 999) / 1000);
  return TRUE;
}

static gboolean
control_timer_cb_step (BayeuxClient *self)
{

  g_clear_pointer (&self->control_timer, g_source_unref);
  if (self->busy[SLOT_CONTROL] || self->network_down)
    return G_SOURCE_REMOVE;   /* the network's return schedules us again */
  if (self->awaiting_credentials)
    return G_SOURCE_REMOVE;   /* bayeux_client_reconnect() does */
  if (withhold_connect (self))
    return G_SOURCE_REMOVE;

  self->control_sent_at = g_get_monotonic_time ();
  if (self->client_id == NULL)
    {
      set_state (self, BAYEUX_CLIENT_STATE_HANDSHAKING);
      if (!websocket_open (self) && bayeux_transport_policy_handshake_websocket (self->policy))
        open_websocket (self);   /* then the handshake over it, or by HTTP */
      else
        send_handshake (self);
    }
  else if (!websocket_open (self) && (bayeux_transport_policy_want_websocket (self->policy) || !bayeux_transport_policy_allows (self->policy, "long-polling")))
    open_websocket (self);   /* then the connect, over it or by long polling */
  else
    send_connect (self);
  return G_SOURCE_REMOVE;
}

static gboolean
control_timer_cb (gpointer user_data)
{
  BayeuxClient *self = user_data;
  gboolean ret;

  begin_change (self);
  ret = control_timer_cb_step (self);
  end_change (self);
  return ret;
}

/* The next handshake (without a client id) or connect, after @delay_ms. */
static void
schedule_control (BayeuxClient *self,
                  gint64        delay_ms)
{
  g_clear_pointer (&self->control_timer, bayeux_source_destroy);

  self->control_timer = delay_ms > 0 ? g_timeout_source_new ((guint) delay_ms) : g_idle_source_new ();
  /* The next long poll, due at once, waits for what the messages of the
   * last one caused (a handler's publish, say): latency is in the reply to
   * a message, not in a poll that will wait anyway. Only by long polling:
   * there, nothing comes in while no poll is out, so it cannot starve. */
  if (delay_ms <= 0 && self->state == BAYEUX_CLIENT_STATE_CONNECTED && !websocket_open (self))
    g_source_set_priority (self->control_timer, G_PRIORITY_DEFAULT_IDLE);
  else
    g_source_set_priority (self->control_timer, G_PRIORITY_DEFAULT);
  g_source_set_callback (self->control_timer, control_timer_cb, self, NULL);
  g_source_set_static_name (self->control_timer, "[bayeux] control");
  g_source_attach (self->control_timer, self->context);
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */

static void
rehandshake (BayeuxClient *self,
             gint64        delay_ms)
{
  BayeuxOp *op;

  guint generation = self->generation;

  g_debug ("re-handshaking in %" G_GINT64_FORMAT " ms", delay_ms);
  bayeux_transport_policy_rehandshake (self->policy, websocket_open (self));
  /* A long poll of the old session is of no use any more. */
  abandon_control (self);
  set_client_id (self, NULL);
  if (generation != self->generation)
    return;   /* a notify handler stopped the client */
  self->advice.reconnect = BAYEUX_RECONNECT_RETRY;

  /* The server forgot the old session: its subscriptions are gone (they are
   * sent again after the handshake) and so is whatever was to be
   * unsubscribed. */
  bayeux_subscriptions_reset (self->subscriptions, NULL);
  while ((op = bayeux_outbox_pop_deferred (self->outbox)) != NULL)
    {
      bayeux_task_return (op->task, NULL, NULL);
      bayeux_op_free (op);
    }

  set_state (self, BAYEUX_CLIENT_STATE_HANDSHAKING);
  if (generation == self->generation)
    schedule_control (self, delay_ms);
}

/* A re-handshake the server asked for (402, advice handshake): the first
 * since a long poll was last held at once (after the advised interval),
 * then with the backoff, so that a server that keeps asking can never
 * cause a handshake storm. */
static void
rehandshake_as_advised (BayeuxClient *self)
{
  rehandshake (self, self->rehandshakes++ == 0 ? self->advice.interval : next_failure_delay (self));
}

static void
handshake_done (BayeuxClient  *self,
                BayeuxMessage *reply,
                BayeuxVerdict  verdict,
                const GError  *transport_error)
{
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GError) bad = NULL;
  const char *client_id;
  guint generation = self->generation;

  self->control_done_at = g_get_monotonic_time ();
  if (reply != NULL)
    apply_advice (self, reply);

  if (transport_error != NULL || verdict != BAYEUX_REPLY_OK)
    {
      GError *error = transport_error ? g_error_copy (transport_error)
                                      : bayeux_reply_error (reply, verdict, BAYEUX_ERROR_HANDSHAKE_DENIED, "Handshake denied");

      if (self->advice.reconnect == BAYEUX_RECONNECT_NONE)
        {
          stop_with_error (self, error, reply);
          return;
        }
      report_error (self, error, reply);
      if (transport_error != NULL && !next_server (self))
        schedule_control (self, self->advice.interval);   /* another server, at once */
      else
        schedule_control (self, next_failure_delay (self));
      return;
    }

  bayeux_servers_succeeded (self->servers);
  if (!bayeux_transport_policy_start_session (self->policy, reply, &bad))
    {
      report_error (self, g_steal_pointer (&bad), reply);
      schedule_control (self, next_failure_delay (self));
      return;
    }
  client_id = bayeux_message_get_client_id (reply);
  if (!bayeux_transport_policy_want_websocket (self->policy))
    {
      g_autoptr(GError) gone = g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_FAILED,
                                                    "The server no longer offers the WebSocket transport");

      drop_websocket (self, gone);
      set_transport_name (self, "long-polling");
      if (generation != self->generation)
        return;   /* a handler stopped the client */
    }

  g_debug ("handshake accepted, client id %s", client_id);
  set_client_id (self, client_id);
  /* The backoff is reset by a successful connect, not here: a server that
   * accepts handshakes but fails every connect must still see it grow. */
  self->immediate_connect = TRUE;
  self->resubscribe_needed = TRUE;

  tasks = g_steal_pointer (&self->handshake_tasks);
  self->handshake_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  bayeux_task_return_all (tasks, NULL);

  if (self->client_id == NULL || self->state != BAYEUX_CLIENT_STATE_HANDSHAKING || generation != self->generation)
    return;   /* a handler stopped us */

  if (self->advice.reconnect == BAYEUX_RECONNECT_NONE)
    {
      stop_with_error (self, advised_stop_error (self, "not to connect"), reply);
      return;
    }

  g_clear_pointer (&self->retry_timer, bayeux_source_destroy);
  resume (self, FALSE);
  schedule_control (self, 0);
  schedule_flush (self);
}

static void
connect_done (BayeuxClient  *self,
              BayeuxMessage *reply,
              BayeuxVerdict  verdict,
              const GError  *transport_error)
{
  gboolean advised = FALSE;
  guint generation = self->generation;

  self->control_done_at = g_get_monotonic_time ();
  if (!is_running (self))
    return;
  if (reply != NULL)
    advised = apply_advice (self, reply);

  if (transport_error == NULL && verdict == BAYEUX_REPLY_OK)
    {
      gint64 took = g_get_monotonic_time () - self->control_sent_at;
      /* Early: nothing came and the poll was not held (half the advised
       * timeout), or the advice itself makes a cycle too short to be
       * anything but a spin (timeout and interval near 0). */
      gboolean early = !self->immediate_connect && self->response_deliveries == 0 &&
                       ((self->advice.timeout > 0 && took < self->advice.timeout * 1000 / 2) ||
                        took + self->advice.interval * 1000 < MIN_CONNECT_CYCLE_US);

      bayeux_transport_policy_connected (self->policy, websocket_open (self), !early && !self->immediate_connect);

      self->early_connects = early ? self->early_connects + 1 : 0;
      if (!self->immediate_connect && !(advised && self->advice.reconnect == BAYEUX_RECONNECT_HANDSHAKE))
        self->rehandshakes = 0;   /* a poll was held: the session works */
      self->immediate_connect = FALSE;
      self->credentials_retry = FALSE;   /* the new credentials work */
      bayeux_servers_succeeded (self->servers);
      if (self->early_connects <= EARLY_CONNECTS_TOLERATED && bayeux_transport_policy_settled (self->policy) &&
          !(advised && self->advice.reconnect == BAYEUX_RECONNECT_HANDSHAKE))
        self->advice.backoff = 0;
      set_state (self, BAYEUX_CLIENT_STATE_CONNECTED);
      if (generation != self->generation)
        return;   /* a notify handler stopped the client */

      if (advised && self->advice.reconnect == BAYEUX_RECONNECT_NONE)
        stop_with_error (self, advised_stop_error (self, "to stop"), reply);
      else if (advised && self->advice.reconnect == BAYEUX_RECONNECT_HANDSHAKE)
        rehandshake_as_advised (self);
      else
        {
          resume (self, TRUE);
          if (self->early_connects > EARLY_CONNECTS_TOLERATED)
            {
              g_debug ("the server answers connects at once without holding them: backing off");
              schedule_control (self, next_failure_delay (self));
            }
          else
            schedule_control (self, self->advice.interval);
        }
      return;
    }

  {
    GError *error = transport_error ? g_error_copy (transport_error)
                                    : bayeux_reply_error (reply, verdict, BAYEUX_ERROR_FAILED, "Connect failed");
    gboolean expired = self->unconnected_since != 0 && self->advice.max_interval > 0 &&
                       g_get_monotonic_time () - self->unconnected_since > self->advice.max_interval * 1000;

    if (self->advice.reconnect == BAYEUX_RECONNECT_NONE)
      {
        stop_with_error (self, error, reply);
        return;
      }

    report_error (self, error, reply);
    if (verdict == BAYEUX_REPLY_UNKNOWN_CLIENT || self->advice.reconnect == BAYEUX_RECONNECT_HANDSHAKE || expired)
      {
        /* The first time since a long poll worked, at once (after the
         * advised interval): the server said what to do. Again and again,
         * with the backoff: never a handshake storm. */
        rehandshake_as_advised (self);
      }
    else
      {
        /* The next connect asks for an immediate answer: the client knows
         * at once that it is connected again, and what waited meanwhile
         * leaves without waiting for a whole long poll. */
        self->immediate_connect = TRUE;
        set_state (self, BAYEUX_CLIENT_STATE_UNCONNECTED);
        if (generation != self->generation)
          return;
        /* Another server at once (a cluster shares sessions; if it does
         * not know ours, it says 402 and the client handshakes again). */
        if (transport_error != NULL && !next_server (self))
          schedule_control (self, self->advice.interval);
        else
          schedule_control (self, next_failure_delay (self));
      }
  }
}

static void
disconnect_done (BayeuxClient  *self,
                 BayeuxMessage *reply,
                 BayeuxVerdict  verdict,
                 const GError  *transport_error)
{
  g_autoptr(GPtrArray) tasks = g_steal_pointer (&self->disconnect_tasks);
  g_autoptr(GError) error = NULL;
  gboolean restart = self->restart_after_disconnect;

  if (transport_error != NULL)
    error = g_error_copy (transport_error);
  else if (verdict == BAYEUX_REPLY_REFUSED)
    error = bayeux_reply_error (reply, verdict, BAYEUX_ERROR_FAILED, "Disconnect failed");

  self->disconnect_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->restart_after_disconnect = FALSE;
  if (restart)
    {
      /* handshake_async calls made meanwhile wait for the new session. */
      g_autoptr(GPtrArray) handshake_tasks = g_steal_pointer (&self->handshake_tasks);

      self->handshake_tasks = g_ptr_array_new_with_free_func (g_object_unref);
      stop_internal (self, NULL);
      g_ptr_array_extend_and_steal (self->handshake_tasks, g_steal_pointer (&handshake_tasks));
    }
  else
    stop_internal (self, NULL);
  bayeux_task_return_all (tasks, error);

  if (restart && self->state == BAYEUX_CLIENT_STATE_DISCONNECTED)
    start_internal (self);
}

/* Whether @op was sent in the session we have now (not before a
 * re-handshake). */
static gboolean
op_of_this_session (BayeuxClient *self,
                    BayeuxOp     *op)
{
  return self->client_id != NULL &&
         g_strcmp0 (json_object_get_string_member_with_default (op->message, "clientId", NULL), self->client_id) == 0;
}

/* ------------------------------------------------------------------------ */
/* New credentials                                                          */

static gboolean
credentials_timer_cb (gpointer user_data)
{
  BayeuxClient *self = user_data;
  GError *error = g_error_new (self->credentials_error->domain, self->credentials_error->code,
                               "%s (no new credentials within %u s)", self->credentials_error->message,
                               self->credentials_wait_ms / 1000);

  g_clear_pointer (&self->credentials_timer, g_source_unref);
  begin_change (self);
  end_credentials_wait (self);
  stop_with_error (self, error, NULL);
  end_change (self);
  return G_SOURCE_REMOVE;
}

/* The server refused our credentials, if that is what @op's failure
 * (@reply or @transport_error) says: ::authenticate asks the application
 * for new ones. Returns whether they come (the client then waits, without
 * a request, for bayeux_client_reconnect(), CREDENTIALS_WAIT_MS at most),
 * or came already (the handler reconnected), or a handler stopped us. */
static gboolean
authenticate (BayeuxClient  *self,
              gint           code,
              BayeuxMessage *reply,
              BayeuxVerdict  verdict,
              const GError  *transport_error)
{
  g_autoptr(GError) error = NULL;
  guint generation = self->generation;
  gboolean handled = FALSE;

  if (self->awaiting_credentials)
    return TRUE;
  if (!is_running (self) || !bayeux_reply_refuses_credentials (reply, verdict, transport_error))
    return FALSE;

  error = transport_error != NULL ? g_error_copy (transport_error)
                                  : bayeux_reply_error (reply, verdict, code, "The server refused the credentials");
  self->awaiting_credentials = TRUE;
  g_signal_emit (self, signals[BAYEUX_CLIENT_SIGNAL_AUTHENTICATE], 0, error, self->credentials_retry, &handled);
  if (generation != self->generation || !self->awaiting_credentials)
    return TRUE;   /* stopped, or reconnected at once */
  if (!handled)
    {
      self->awaiting_credentials = FALSE;
      return FALSE;
    }

  g_debug ("waiting for new credentials, %u ms at most", self->credentials_wait_ms);
  self->credentials_error = g_steal_pointer (&error);
  self->credentials_timer = bayeux_source_attach (self->context, self->credentials_wait_ms, G_PRIORITY_DEFAULT,
                                                  credentials_timer_cb, self, NULL, "[bayeux] credentials");
  /* The session ends here: what is queued waits for the next one (its
   * socket too: a new one carries the next handshake). */
  abandon_control (self);
  if (self->streaming != NULL)
    bayeux_transport_close (self->streaming);
  set_client_id (self, NULL);
  if (generation == self->generation)
    set_state (self, BAYEUX_CLIENT_STATE_UNCONNECTED);
  return TRUE;
}

/* A reply, or (with @reply NULL) a transport failure, for @op. Takes @op. */
static void
op_done (BayeuxClient  *self,
         BayeuxOp      *op,
         BayeuxMessage *reply,
         const GError  *transport_error)
{
  BayeuxVerdict verdict = bayeux_reply_classify (reply);

  /* Refused credentials end the session's handshake or connect while the
   * application fetches new ones; other calls fail (or are kept) as after
   * any failure. */
  if (reply == NULL || verdict == BAYEUX_REPLY_REFUSED)
    {
      if ((op->kind == BAYEUX_OP_HANDSHAKE || op_of_this_session (self, op)) &&
          authenticate (self, op->kind == BAYEUX_OP_HANDSHAKE ? BAYEUX_ERROR_HANDSHAKE_DENIED : BAYEUX_ERROR_FAILED,
                        reply, verdict, transport_error) &&
          (op->kind == BAYEUX_OP_HANDSHAKE || op->kind == BAYEUX_OP_CONNECT))
        {
          bayeux_op_free (op);
          return;
        }
    }

  /* A /meta/connect of a session given up since (an extension held its
   * reply across a re-handshake, say) says nothing of this one. */
  if (op->kind == BAYEUX_OP_CONNECT && !op_of_this_session (self, op))
    {
      g_debug ("reply to /meta/connect %s of an earlier session: ignored", op->id);
      bayeux_op_free (op);
      return;
    }

  if (op->kind != BAYEUX_OP_HANDSHAKE && op->kind != BAYEUX_OP_CONNECT && reply != NULL && op_of_this_session (self, op))
    apply_advice (self, reply);
  if (verdict == BAYEUX_REPLY_UNKNOWN_CLIENT && op->kind != BAYEUX_OP_CONNECT && op->kind != BAYEUX_OP_DISCONNECT &&
      op->kind != BAYEUX_OP_HANDSHAKE && op_of_this_session (self, op) &&
      (self->state == BAYEUX_CLIENT_STATE_CONNECTED || self->state == BAYEUX_CLIENT_STATE_UNCONNECTED ||
       self->state == BAYEUX_CLIENT_STATE_HANDSHAKING))
    {
      report_error (self, bayeux_reply_error (reply, verdict, BAYEUX_ERROR_UNKNOWN_CLIENT, "The server does not know this client"),
                    reply);
      rehandshake_as_advised (self);
    }

  switch (op->kind)
    {
    case BAYEUX_OP_HANDSHAKE:
      handshake_done (self, reply, verdict, transport_error);
      break;
    case BAYEUX_OP_CONNECT:
      connect_done (self, reply, verdict, transport_error);
      break;
    case BAYEUX_OP_DISCONNECT:
      disconnect_done (self, reply, verdict, transport_error);
      break;
    case BAYEUX_OP_SUBSCRIBE:
      if (reply == NULL)
        {
          /* Lost in transport: kept, and sent again once connected. */
          BayeuxSubEntry *sub = bayeux_subscriptions_lookup (self->subscriptions, op->channel);
          if (sub != NULL)
            {
              sub->in_flight = FALSE;
              self->resubscribe_needed = TRUE;
              schedule_retry (self);
            }
        }
      /* A reply for a session the server has since forgotten (the client
       * handshook again meanwhile) says nothing of the subscription in this
       * one: it is sent again, and that answer counts. */
      else if (op_of_this_session (self, op))
        bayeux_calls_subscribed (&self->calls, op, reply, verdict);
      break;
    case BAYEUX_OP_UNSUBSCRIBE:
      if (reply != NULL)
        bayeux_calls_unsubscribed (&self->calls, op, reply, verdict);
      else
        {
          bayeux_outbox_defer (self->outbox, op);
          schedule_retry (self);
          return;
        }
      break;
    case BAYEUX_OP_PUBLISH:
      if (reply != NULL)
        {
          if (bayeux_calls_published (&self->calls, op, reply, verdict,
                                      self->state != BAYEUX_CLIENT_STATE_DISCONNECTING))
            return;
        }
      else
        bayeux_calls_drop (&self->calls, op, transport_error);
      break;
    default:
      g_assert_not_reached ();
    }

  bayeux_op_free (op);
}

static void
emit_message (BayeuxClient  *self,
              const char    *pattern,
              GQuark         detail,
              BayeuxMessage *message)
{
  g_signal_emit (self, signals[BAYEUX_CLIENT_SIGNAL_MESSAGE], detail, message);
}

static void deliver (BayeuxClient *self, BayeuxMessage *message, gboolean held);

/* @message (a delivery) goes to its subscriptions, or is held while
 * paused. */
static void
dispatch (BayeuxClient  *self,
          BayeuxMessage *message)
{
  /* Paused, or still handing out what came while paused: in order. */
  if (self->paused || self->held.length > 0)
    {
      g_queue_push_tail (&self->held, bayeux_message_ref (message));
      if (self->held.length > PAUSED_HELD_MAX)
        {
          bayeux_message_unref (g_queue_pop_head (&self->held));
          if (self->held_dropped++ == 0)
            report_error (self, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_QUEUE_FULL,
                                             "Paused with %u messages held: the oldest are dropped",
                                             PAUSED_HELD_MAX), NULL);
        }
      return;
    }
  deliver (self, message, FALSE);
}

/* Hands @message to its subscriptions. One @held while paused may match
 * none now: the application cancelled them meanwhile, which is no error. */
static void
deliver (BayeuxClient  *self,
         BayeuxMessage *message,
         gboolean       held)
{
  const char *channel = bayeux_message_get_channel (message);
  g_autoptr(GError) error = NULL;
  gboolean matched;

  if (!bayeux_channel_validate (channel, BAYEUX_CHANNEL_ALLOW_FILTER, &error))
    {
      report_error (self, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                       "Bad message from the server: %s", error->message), message);
      return;
    }

  matched = bayeux_subscriptions_dispatch (self->subscriptions, self, message, emit_message);

  if (!matched && !held)
    report_error (self, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_FAILED,
                                     "Message on %s matches no subscription", channel), message);
}

/* Resumed: the messages held while paused go out, in order, in slices of
 * 10 ms (a handler may pause again). */
static gboolean
held_idle_cb (gpointer user_data)
{
  BayeuxClient *self = g_object_ref (user_data);
  gint64 until = g_get_monotonic_time () + 10 * 1000;
  gboolean more;

  while (!self->paused && !self->disposing && self->held.length > 0 && g_get_monotonic_time () < until)
    {
      g_autoptr(BayeuxMessage) message = g_queue_pop_head (&self->held);

      deliver (self, message, TRUE);
    }
  more = !self->paused && !self->disposing && self->held.length > 0 && self->held_idle != NULL;
  if (!more)
    g_clear_pointer (&self->held_idle, bayeux_source_destroy);
  g_object_unref (self);
  return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* The client acts on a message from the server, once the incoming
 * extensions let it through: @op is the request it answers, if any. */
static void
finish_incoming (BayeuxClient  *self,
                 BayeuxMessage *message,
                 BayeuxOp      *op)
{
  if (op == NULL)
    dispatch (self, message);
  else
    {
      op_done (self, op, message, NULL);
      /* Observers of the meta channels see the reply once the client has
       * acted on it. */
      if (bayeux_channel_is_meta (bayeux_message_get_channel (message)))
        g_signal_emit (self, signals[BAYEUX_CLIENT_SIGNAL_META],
                       g_quark_from_string (bayeux_message_get_channel (message)), message);
    }
  /* Kept (by the application, or held): not with its whole response. */
  if (bayeux_message_is_shared (message))
    bayeux_message_compact (message);
}

/* An extension dropped the reply to @op: a /meta/connect or handshake is
 * then as good as lost in transport (the client retries it); a
 * subscribe, unsubscribe or publish fails with BAYEUX_ERROR_DROPPED.
 * Takes @op. */
static void
on_incoming_dropped (BayeuxClient *self,
                     BayeuxOp     *op,
                     const char   *channel)
{
  g_autoptr(GError) error = bayeux_extension_chain_dropped_error (channel, TRUE);

  if (BAYEUX_OP_IS_CONTROL (op))
    op_done (self, op, NULL, error);
  else
    fail_unsendable (self, op, error);
}

/* A hook stopped the client: the reply's request failed with it. */
static void
on_incoming_stopped (BayeuxClient *self,
                     BayeuxOp     *op)
{
  g_autoptr(GError) stopped = NULL;

  if (op == NULL)
    return;
  stopped = stopped_error ();
  bayeux_calls_drop (&self->calls, op, stopped);
  bayeux_op_free (op);
}

/* The incoming extensions let @message through (or broke it: @error). */
static void
on_incoming_done (BayeuxClient  *self,
                  BayeuxMessage *message,
                  BayeuxOp      *op,
                  const GError  *error)
{
  if (message == NULL)
    {
      if (op != NULL)
        op_done (self, op, NULL, error);
      else
        report_error (self, g_error_copy (error), NULL);
      return;
    }
  finish_incoming (self, message, op);
}

/* One message from the server (an element of a response or a frame),
 * which came on @slot. */
static void
handle_incoming (BayeuxClient     *self,
                 Slot              slot,
                 BayeuxMessage    *scanned,
                 JsonNode         *element,
                 const BayeuxSpan *text)
{
  g_autoptr(GError) bad = NULL;
  g_autoptr(BayeuxMessage) message = NULL;
  BayeuxOp *op = NULL;

  switch (bayeux_calls_match (&self->calls, scanned, element, text, slot == SLOT_CONTROL, &message, &op, &bad))
    {
    case BAYEUX_MATCH_LATE:
      return;
    case BAYEUX_MATCH_BAD:
      /* A broken or mismatched reply fails its request now, as if lost
       * (over a WebSocket nothing else would end it before its deadline). */
      if (op != NULL)
        op_done (self, op, NULL, bad);
      report_error (self, g_steal_pointer (&bad), message);
      return;
    case BAYEUX_MATCH_DELIVERY:
    case BAYEUX_MATCH_REPLY:
    default:
      break;
    }

  if (!bayeux_extension_chain_is_empty (self->extensions))
    {
      bayeux_extension_chain_run_incoming (self->extensions, g_steal_pointer (&message), op);
      return;
    }

  finish_incoming (self, message, op);
}

static gboolean
request_current (BayeuxClient *self,
                 Request      *req)
{
  return req->serial == self->serial[req->slot];
}

/* Whatever a request's response left unanswered failed: with @error (the
 * request failed) or as a bad response; but a publish the response (a
 * 200) left unanswered was sent (see bayeux_calls_unanswered). */
static void
fail_unanswered (BayeuxClient *self,
                 Request      *req,
                 const GError *error)
{
  g_autoptr(GError) unanswered = NULL;

  if (!request_current (self, req) || req->generation != self->generation)
    return;

  if (error == NULL)
    unanswered = g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                      "The server's response has no reply to our request");
  for (guint i = 0; i < req->ids->len; i++)
    {
      BayeuxOp *op;

      if (!request_current (self, req) || req->generation != self->generation)
        break;
      op = bayeux_outbox_take_id (self->outbox, g_ptr_array_index (req->ids, i));
      /* A server MAY leave a publish unanswered: sent, not failed. */
      if (op != NULL && error == NULL && op->kind == BAYEUX_OP_PUBLISH && op_of_this_session (self, op))
        bayeux_calls_unanswered (&self->calls, op, unanswered);
      else if (op != NULL)
        op_done (self, op, NULL, error ? error : unanswered);
    }
}

/* fail_unanswered(), then the batch slot takes what waits. */
static void
finish_request (BayeuxClient *self,
                Request      *req,
                const GError *error)
{
  fail_unanswered (self, req, error);
  if (req->slot == SLOT_BATCH)
    schedule_flush (self);
  request_free (req);
}

static void
on_incoming_begin (GObject        *owner,
                   BayeuxElements *messages,
                   gpointer        batch)
{
  BayeuxClient *self = BAYEUX_CLIENT (owner);
  Request *req = batch;

  /* Deliveries (messages without `successful`) make a /meta/connect not
   * "early" (see connect_done): those of its own response, or, over a
   * WebSocket, those since it was sent (send_connect starts the count). */
  if (!req->frame)
    self->response_deliveries = 0;
  self->response_deliveries += bayeux_elements_get_deliveries (messages);
}

/* A handler may stop or disconnect the client (or the request be given
 * up): then the rest of the batch is of no concern. */
static gboolean
on_incoming_element (GObject          *owner,
                     BayeuxMessage    *scanned,
                     JsonNode         *element,
                     const BayeuxSpan *text,
                     const GError     *error,
                     const char       *refused_id,
                     gpointer          batch)
{
  BayeuxClient *self = BAYEUX_CLIENT (owner);
  Request *req = batch;
  BayeuxOp *op;

  if (req->generation != self->generation || (!req->frame && !request_current (self, req)))
    return FALSE;
  if (scanned != NULL || element != NULL)
    {
      handle_incoming (self, req->slot, scanned, element, text);
      return TRUE;
    }
  /* A reply too large to be read: its request fails with that error (over
   * a WebSocket nothing else would end it before its deadline). */
  op = refused_id != NULL ? bayeux_outbox_take_id (self->outbox, refused_id) : NULL;
  if (op != NULL)
    op_done (self, op, NULL, error);
  report_error (self, g_error_copy (error), NULL);
  return TRUE;
}

/* What a response left unanswered failed; over a WebSocket, the sends
 * whose replies are all in end. */
static void
on_incoming_end (GObject  *owner,
                 gpointer  batch)
{
  BayeuxClient *self = BAYEUX_CLIENT (owner);
  Request *req = batch;

  if (req->frame && self->streaming != NULL)
    bayeux_transport_check_answered (self->streaming);
  if (req->frame)
    request_free (req);
  else
    finish_request (self, req, NULL);
}

static const BayeuxInboxCallbacks inbox_callbacks = {
  .begin = on_incoming_begin,
  .element = on_incoming_element,
  .end = on_incoming_end,
};

/* The transport is done with @user_data, a Request: with the response's
 * messages, or with all its replies in (no messages, no error), or with
 * @error. Over the socket, a lost connection was dealt with before (see
 * websocket_lost): the request is of an older serial then. */
static void
on_send_done (gpointer        user_data,
              BayeuxElements *messages,
              const GError *error)
{
  Request *req = user_data;
  g_autoptr(BayeuxClient) self = g_weak_ref_get (&req->client);

  if (self == NULL || !request_current (self, req))
    {
      request_free (req);
      return;
    }

  if (self->stream_request[req->slot] == req)
    self->stream_request[req->slot] = NULL;
  self->busy[req->slot] = FALSE;
  req->generation = self->generation;

  /* The one way in for messages from the server, from either transport:
   * the inbox room hands them back one by one, in order, in slices. */
  if (messages != NULL)
    {
      bayeux_inbox_push (self->inbox, messages, req);   /* it ends @req */
      return;
    }
  if (error != NULL)
    {
      g_debug ("request failed: %s", error->message);
      if (req->slot == SLOT_BATCH)
        report_error (self, g_error_copy (error), NULL);
    }
  finish_request (self, req, error);
}

/* ------------------------------------------------------------------------ */
/* The WebSocket                                                            */

/* The socket was lost: the request of @slot on it failed with @error. Its
 * send is ended by the transport later, as a request of an older serial. */
static void
finish_stream_request (BayeuxClient *self,
                       Slot          slot,
                       const GError *error)
{
  Request *req = g_steal_pointer (&self->stream_request[slot]);

  if (req == NULL)
    return;
  self->busy[slot] = FALSE;
  req->generation = self->generation;
  fail_unanswered (self, req, error);
  if (req->serial == self->serial[slot])
    self->serial[slot]++;
  if (slot == SLOT_BATCH)
    schedule_flush (self);
}

/* Whether the reply to @id, of @user_data's request, is still awaited. */
static gboolean
request_pending (gpointer    user_data,
                 const char *id)
{
  Request *req = user_data;
  g_autoptr(BayeuxClient) self = g_weak_ref_get (&req->client);

  return self != NULL && bayeux_outbox_is_pending (self->outbox, id);
}

/* A frame: its replies may answer any request (by id; an id-less connect
 * reply, the connect out). As in a response, its state changes are
 * notified one by one, not coalesced. */
static void
on_websocket_messages (BayeuxTransport *transport,
                       BayeuxElements  *messages,
                       gpointer         user_data)
{
  BayeuxClient *self = user_data;
  Request *frame = g_new0 (Request, 1);

  frame->slot = SLOT_CONTROL;
  frame->generation = self->generation;
  frame->frame = TRUE;
  g_weak_ref_init (&frame->client, self);
  bayeux_inbox_push (self->inbox, messages, frame);
}

/* The socket closed, failed, or went silent: the requests on it fail as
 * when a connection is lost, and the next /meta/connect opens a new one
 * (or goes by long polling, the WebSocket given up). Reported once (by the
 * connect it fails, if one was out); the next connect waits the backoff,
 * which only a connect held over a new socket resets (policy_settled). */
static void
websocket_lost (BayeuxClient *self,
                const GError *error)
{
  g_autoptr(GError) fallback = NULL;   /* set when given up for long polling */
  gboolean connect_out = self->stream_request[SLOT_CONTROL] != NULL;

  bayeux_transport_policy_lost (self->policy, error, &fallback);

  g_debug ("WebSocket lost: %s", error->message);
  if (!connect_out)
    report_error (self, g_error_copy (error), NULL);
  if (fallback != NULL)
    report_error (self, g_error_copy (fallback), NULL);
  drop_websocket (self, error);
  if (!connect_out && self->control_timer != NULL && is_running (self))
    schedule_control (self, fallback != NULL ? 0 : next_failure_delay (self));
}

/* Closes the socket (if open or opening): the requests on it fail with
 * @error, as when it closes by itself; an open in progress is given up and
 * the next /meta/connect (or open) goes at once. */
static void
drop_websocket (BayeuxClient *self,
                const GError *error)
{
  gboolean opening = self->ws_opening;

  if (opening)
    abandon_control (self);   /* closes the socket */
  else if (self->streaming != NULL)
    bayeux_transport_close (self->streaming);
  finish_stream_request (self, SLOT_BATCH, error);
  finish_stream_request (self, SLOT_CONTROL, error);
  if (opening && is_running (self) && self->control_timer == NULL && !self->busy[SLOT_CONTROL])
    schedule_control (self, 0);
}

/* After the frames that came before (the inbox may still be at them). */
static void
websocket_closed (GObject  *owner,
                  gpointer  data)
{
  BayeuxClient *self = BAYEUX_CLIENT (owner);
  /* Gone silent (a timer): notifications held to the end, as for timers;
   * closed by the server: each transition notified, as for a response. */
  gboolean timer = g_error_matches (data, BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT);

  if (self->state == BAYEUX_CLIENT_STATE_DISCONNECTED || self->ws_opening || websocket_open (self))
    return;
  if (timer)
    begin_change (self);
  websocket_lost (self, data);
  if (timer)
    end_change (self);
}

static void
on_websocket_closed (BayeuxTransport *transport,
                     const GError    *error,
                     gpointer         user_data)
{
  bayeux_inbox_then (BAYEUX_CLIENT (user_data)->inbox, websocket_closed, g_error_copy (error),
                     (GDestroyNotify) g_error_free);
}

static void
set_transport_name (BayeuxClient *self,
                    const char   *name)
{
  if (g_strcmp0 (self->transport_name, name) == 0)
    return;
  self->transport_name = name;
  g_debug ("transport: %s", name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRANSPORT]);
}

static void
on_websocket_open (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Request *req = user_data;
  g_autoptr(BayeuxClient) self = g_weak_ref_get (&req->client);
  g_autoptr(GError) error = NULL;
  gboolean opened = bayeux_transport_open_finish (BAYEUX_TRANSPORT (source), result, &error);
  guint retry_in_s = 0;

  if (self == NULL || !request_current (self, req))
    {
      if (opened)
        bayeux_transport_close (BAYEUX_TRANSPORT (source));
      request_free (req);
      return;
    }
  request_free (req);

  self->busy[SLOT_CONTROL] = FALSE;
  self->ws_opening = FALSE;
  if (opened)
    {
      guint generation = self->generation;

      bayeux_transport_policy_opened (self->policy);
      set_transport_name (self, "websocket");
      if (generation != self->generation)
        return;   /* a handler stopped the client */
      if (self->client_id == NULL)
        send_handshake (self);   /* its first frame */
      else
        send_connect (self);
    }
  else if (authenticate (self, self->client_id == NULL ? BAYEUX_ERROR_HANDSHAKE_DENIED : BAYEUX_ERROR_FAILED,
                         NULL, BAYEUX_REPLY_NONE, error))
    return;   /* an upgrade answered 401: new credentials first */
  else if (self->client_id == NULL && !bayeux_transport_policy_handshake_open_failed (self->policy, error))
    handshake_done (self, NULL, BAYEUX_REPLY_NONE, error);   /* unreachable: as a failed handshake */
  else if (self->client_id == NULL)
    {
      /* Refused: no WebSocket here, or not before a session. By HTTP, as
       * before (then the socket after the handshake, if offered). */
      g_debug ("WebSocket refused before a handshake (%s): handshakes by HTTP", error->message);
      if (bayeux_transport_get_retry_after (self->streaming) > 0)
        schedule_control (self, next_failure_delay (self));   /* refused for now (Retry-After): wait */
      else
        send_handshake (self);
    }
  else if (bayeux_transport_policy_open_failed (self->policy, error, &retry_in_s) &&
           bayeux_transport_policy_allows (self->policy, "long-polling"))
    {
      /* The server (or a proxy) does not let WebSockets through: long
       * polling for a while, as the application asked (no error). */
      guint generation = self->generation;

      g_debug ("WebSocket refused (%s): long polling, the WebSocket again in %u s", error->message, retry_in_s);
      set_transport_name (self, "long-polling");
      if (generation != self->generation)
        return;   /* a handler stopped the client */
      if (bayeux_transport_get_retry_after (self->streaming) > 0)
        schedule_control (self, next_failure_delay (self));   /* refused for now (Retry-After): wait */
      else
        send_connect (self);
    }
  else   /* it worked before (the server is away, as a long poll would find), or only it is allowed */
    connect_done (self, NULL, BAYEUX_REPLY_NONE, error);
}

static gboolean on_transport_accept_certificate (GObject *transport, GTlsCertificate *certificate,
                                                 GTlsCertificateFlags errors, gpointer user_data);

/* Made the first time a server offers it: a client on long polling only
 * never has one, nor its extension manager on the session. */
static void
ensure_websocket (BayeuxClient *self)
{
  if (self->streaming != NULL)
    return;
  self->streaming = bayeux_transport_new ("websocket", self->session, bayeux_servers_get_uri (self->servers),
                                          self->headers);
  g_signal_connect_object (self->streaming, "accept-certificate", G_CALLBACK (on_transport_accept_certificate),
                           self, 0);
  g_signal_connect_object (self->streaming, "messages", G_CALLBACK (on_websocket_messages), self, 0);
  g_signal_connect_object (self->streaming, "closed", G_CALLBACK (on_websocket_closed), self, 0);
}

static void
open_websocket (BayeuxClient *self)
{
  Request *req = g_new0 (Request, 1);

  ensure_websocket (self);

  g_weak_ref_init (&req->client, self);
  req->slot = SLOT_CONTROL;
  req->serial = self->serial[SLOT_CONTROL];
  req->ids = g_ptr_array_new ();
  self->busy[SLOT_CONTROL] = TRUE;
  self->ws_opening = TRUE;
  self->control_sent_at = g_get_monotonic_time ();

  g_main_context_push_thread_default (self->context);
  bayeux_transport_open_async (self->streaming, self->max_message_size, response_limit (self), self->max_network_delay,
                               self->cancellable[SLOT_CONTROL], on_websocket_open, req);
  g_main_context_pop_thread_default (self->context);
}

/* ------------------------------------------------------------------------ */
/* Disconnecting                                                            */

static gboolean
disconnect_idle_cb (gpointer user_data)
{
  BayeuxClient *self = user_data;

  g_clear_pointer (&self->disconnect_idle, g_source_unref);
  begin_change (self);
  begin_disconnect (self);
  end_change (self);
  return G_SOURCE_REMOVE;
}

static void
begin_disconnect (BayeuxClient *self)
{
  BayeuxOp *op;

  if (self->state == BAYEUX_CLIENT_STATE_DISCONNECTING)
    return;

  /* From an outgoing hook, a batch is being built: the disconnect (which
   * takes what is queued along) leaves once it is sent, in order. */
  if (bayeux_extension_chain_in_outgoing (self->extensions))
    {
      if (self->disconnect_idle == NULL)
        {
          self->disconnect_idle = bayeux_source_attach (self->context, 0, G_PRIORITY_DEFAULT, disconnect_idle_cb,
                                                        self, NULL, "[bayeux] disconnect");
        }
      return;
    }

  if (self->client_id == NULL)
    {
      /* Nothing to tell the server. */
      disconnect_done (self, NULL, BAYEUX_REPLY_NONE, NULL);
      return;
    }

  if (self->network_down)
    {
      g_autoptr(GError) error = g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_NETWORK_UNAVAILABLE,
                                                     "The server could not be told: the network is unavailable");
      disconnect_done (self, NULL, BAYEUX_REPLY_NONE, error);
      return;
    }

  set_state (self, BAYEUX_CLIENT_STATE_DISCONNECTING);
  /* End the long poll at once: do not wait for its timeout. */
  abandon_control (self);
  self->generation++;
  op = bayeux_outbox_new_op (self->outbox, BAYEUX_OP_DISCONNECT, "/meta/disconnect", NULL, NULL);
  send_control_op (self, op, TRUE, self->max_network_delay);
}

/* ------------------------------------------------------------------------ */
/* Servers: the url, then the fallback urls                                 */

static void
use_server (BayeuxClient *self,
            guint         server)
{
  GUri *uri;

  if (!bayeux_servers_select (self->servers, server))
    return;
  uri = bayeux_servers_get_uri (self->servers);
  bayeux_transport_set_uri (self->polling, uri);
  bayeux_network_watch_set_server (self->network_watch, uri);
  /* A socket to the old server is of no use: a poll (or open) on it goes
   * again at once, to the new one; what else waited on it failed. */
  if (self->stream_request[SLOT_CONTROL] != NULL || self->ws_opening)
    {
      abandon_control (self);
      if (is_running (self))
        schedule_control (self, 0);
    }
  {
    g_autoptr(GError) moved = g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_FAILED, "Moved to another server: %s",
                                           bayeux_servers_get_url (self->servers));
    drop_websocket (self, moved);
  }
  if (self->streaming != NULL)
    bayeux_transport_set_uri (self->streaming, uri);
  g_debug ("server: %s", bayeux_servers_get_url (self->servers));
  if (!self->disposing)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_URL]);
}

/* After a transport failure of a handshake or connect: the next server in
 * the list. Returns whether all were tried since the last success (the
 * retry then waits the backoff; a switch to another server does not). */
static gboolean
next_server (BayeuxClient *self)
{
  guint n = bayeux_servers_count (self->servers);

  if (n == 1)
    return TRUE;
  use_server (self, bayeux_servers_next_index (self->servers));
  return bayeux_servers_failed (self->servers, n);
}

/* ------------------------------------------------------------------------ */
/* Network and suspend                                                      */

static gboolean
is_running (BayeuxClient *self)
{
  return self->state != BAYEUX_CLIENT_STATE_DISCONNECTED && self->state != BAYEUX_CLIENT_STATE_DISCONNECTING;
}

/* Re-establishes the connection at once: the long poll in flight (if any)
 * is presumed dead, and the backoff is forgotten. */
static void
reconnect_now (BayeuxClient *self)
{
  if (self->awaiting_credentials)
    return;   /* nothing goes before bayeux_client_reconnect() */
  abandon_control (self);
  self->advice.backoff = 0;
  self->immediate_connect = TRUE;
  schedule_control (self, 0);
}

/* The network changed and the server is still reachable (a new address,
 * another Wi-Fi): the long poll out may be on a connection that now leads
 * nowhere, and would only be found dead after its timeout plus
 * max-network-delay; a client waiting out its backoff may now get through.
 * A connect answered at once finds out now: by long polling on new
 * connections; over a WebSocket on the socket (answered within
 * max-network-delay, or the socket is lost and another opened, as any lost
 * socket). At most one a second: a change within a second of the last
 * probe makes one more probe when that second is over (a move is often two
 * changes: the old route going, then the new one). */
static void network_moved (BayeuxClient *self);

static gboolean
network_probe_cb (gpointer user_data)
{
  BayeuxClient *self = user_data;

  g_clear_pointer (&self->network_probe_timer, g_source_unref);
  begin_change (self);
  network_moved (self);
  end_change (self);
  return G_SOURCE_REMOVE;
}

static void
network_moved (BayeuxClient *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 next = self->network_probed_at + G_USEC_PER_SEC;

  if (!is_running (self) || self->network_down || self->state == BAYEUX_CLIENT_STATE_HANDSHAKING ||
      self->state == BAYEUX_CLIENT_STATE_DISCONNECTING)
    return;   /* not connected yet, or going */
  if (self->network_probed_at != 0 && now < next)
    {
      if (self->network_probe_timer == NULL)
        self->network_probe_timer = bayeux_source_attach (self->context, (guint) ((next - now + 999) / 1000),
                                                          G_PRIORITY_DEFAULT, network_probe_cb, self, NULL,
                                                          "[bayeux] network probe");
      return;
    }
  self->network_probed_at = now;
  g_debug ("the network changed: a connect answered at once, on new connections");
  bayeux_transport_close (self->polling);   /* its requests for a while on new connections */
  reconnect_now (self);
}

static void
set_network_available (BayeuxClient *self,
                       gboolean      available,
                       gboolean      changed)
{
  if (self->network_down == !available)
    {
      if (available && changed)
        network_moved (self);
      return;
    }

  self->network_down = !available;
  g_debug ("network %s", available ? "available" : "unavailable");
  if (!is_running (self))
    return;

  if (!available)
    {
      /* No request until it comes back: no retry storm, one error. */
      abandon_control (self);
      set_state (self, BAYEUX_CLIENT_STATE_UNCONNECTED);
      report_error (self, g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_NETWORK_UNAVAILABLE,
                                               "The network is unavailable: waiting for it"), NULL);
    }
  else
    reconnect_now (self);
}

static void
on_network (GObject  *owner,
            gboolean  available,
            gboolean  changed)
{
  BayeuxClient *self = BAYEUX_CLIENT (owner);

  begin_change (self);
  set_network_available (self, available, changed);
  end_change (self);
}

/* The system was suspended: a long poll in flight is dead. */
static void
suspended (BayeuxClient *self,
           gint64        seconds)
{
  if (is_running (self) && !self->network_down)
    {
      g_debug ("the system was suspended for about %" G_GINT64_FORMAT " s: reconnecting now", seconds);
      reconnect_now (self);
    }
}

static void
on_suspended (GObject *owner,
              gint64   seconds)
{
  BayeuxClient *self = BAYEUX_CLIENT (owner);

  begin_change (self);
  suspended (self, seconds);
  end_change (self);
}

void
bayeux_client_check_clocks (BayeuxClient *self,
                            gint64        wall_now,
                            gint64        monotonic_now)
{
  gint64 seconds;

  if (bayeux_clock_watch_check (self->clock_watch, wall_now, monotonic_now, &seconds))
    suspended (self, seconds);
}

/* The clocks are watched while the client runs. */
static void
update_watchdog (BayeuxClient *self)
{
  if (self->clock_watch != NULL)
    bayeux_clock_watch_set_active (self->clock_watch, is_running (self));
}

/* An extension released the outgoing @op it held. */
static void
on_outgoing_released (BayeuxClient *self,
                      BayeuxOp     *op,
                      gboolean      control,
                      gboolean      drop)
{
  if (drop)
    {
      g_autoptr(GError) error = bayeux_extension_chain_dropped_error (json_object_get_string_member (op->message, "channel"), FALSE);

      if (control)
        control_op_unsent (self, op, error);
      else
        fail_unsendable (self, op, error);
    }
  else if (control)
    send_control_op (self, op, op->with_outbox, op->timeout_ms);
  else
    {
      /* First in line: it was due before what is queued now. */
      bayeux_outbox_push_front (self->outbox, op);
      schedule_flush (self);
    }
}

static guint
get_generation (BayeuxClient *self)
{
  return self->generation;
}

static const BayeuxChainCallbacks chain_callbacks = {
  .generation = get_generation,
  .begin = begin_change,
  .end = end_change,
  .incoming_done = on_incoming_done,
  .incoming_dropped = on_incoming_dropped,
  .incoming_stopped = on_incoming_stopped,
  .outgoing_released = on_outgoing_released,
};

static const BayeuxCallsCallbacks calls_callbacks = {
  .report = report_error,
  .enqueue = enqueue,
  .session_ready = session_ready,
};

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static gboolean
on_transport_accept_certificate (GObject              *transport,
                                 GTlsCertificate      *certificate,
                                 GTlsCertificateFlags  errors,
                                 gpointer              user_data)
{
  BayeuxClient *self = user_data;
  gboolean accept = FALSE;

  g_signal_emit (self, signals[BAYEUX_CLIENT_SIGNAL_ACCEPT_CERTIFICATE], 0, certificate, errors, &accept);
  g_debug ("server certificate with errors 0x%x %s by the application", errors, accept ? "accepted" : "refused");
  return accept;
}

static void
bayeux_client_constructed (GObject *object)
{
  BayeuxClient *self = BAYEUX_CLIENT (object);

  G_OBJECT_CLASS (bayeux_client_parent_class)->constructed (object);

  self->context = g_main_context_ref_thread_default ();
  self->clock_watch = bayeux_clock_watch_new (object, self->context, on_suspended);
  self->outbox = bayeux_outbox_new (self->context, on_expired, self);
  self->reports = bayeux_reports_new (object, self->context, emit_error);
  self->inbox = bayeux_inbox_new (object, self->context, self->reports, &inbox_callbacks,
                                  (GDestroyNotify) request_free);
  self->extensions = bayeux_extension_chain_new (self, self->context, &chain_callbacks);
  /* The rooms it points to live until finalize, as it does. */
  self->calls = (BayeuxCalls) {
    .client = self,
    .context = self->context,
    .subscriptions = self->subscriptions,
    .outbox = self->outbox,
    .callbacks = &calls_callbacks,
  };

  if (self->session == NULL)
    {
      g_autofree char *user_agent = g_strdup_printf ("bayeux-glib/%s", BAYEUX_VERSION_S);

      /* Two connections: one for the long poll, one for the rest. The idle
       * timeout is below Node's 5 s keep-alive so that we close an idle
       * connection before the server does. */
      /* The system's proxy answers are asked once per server for all the
       * clients of the process (bayeux-proxy-cache.c). */
      self->session = soup_session_new_with_options ("max-conns-per-host", 2,
                                                     "idle-timeout", 4,
                                                     "timeout", 0,
                                                     "user-agent", user_agent,
                                                     "proxy-resolver", bayeux_proxy_cache_get_default (),
                                                     NULL);
      bayeux_cookie_jar_add_bounded (self->session, self->context);   /* 50 cookies, 8 KiB */
    }
  /* BAYEUX_DEBUG=http: on the application's session too (once). */
  bayeux_debug_attach_logger (self->session);

  self->servers = bayeux_servers_new (self->url);

  self->polling = bayeux_transport_new ("long-polling", self->session, bayeux_servers_get_uri (self->servers),
                                        self->headers);
  g_signal_connect_object (self->polling, "accept-certificate", G_CALLBACK (on_transport_accept_certificate),
                           self, 0);

  self->network_watch = bayeux_network_watch_new (object, self->context, self->network_monitor, on_network);
  if (self->network_monitor == NULL)
    self->network_monitor = g_object_ref (g_network_monitor_get_default ());
  bayeux_network_watch_set_server (self->network_watch, bayeux_servers_get_uri (self->servers));
  bayeux_network_watch_check (self->network_watch);
}

static void
bayeux_client_dispose (GObject *object)
{
  BayeuxClient *self = BAYEUX_CLIENT (object);

  self->disposing = TRUE;
  self->calls.disposing = TRUE;
  g_clear_pointer (&self->disconnect_idle, bayeux_source_destroy);
  g_clear_pointer (&self->held_idle, bayeux_source_destroy);
  g_clear_pointer (&self->network_probe_timer, bayeux_source_destroy);
  if (self->context != NULL)
    stop_internal (self, NULL);
  if (self->reports != NULL)
    bayeux_reports_clear (self->reports);
  if (self->inbox != NULL)
    bayeux_inbox_clear (self->inbox);
  g_clear_pointer (&self->network_watch, bayeux_network_watch_free);
  g_clear_object (&self->network_monitor);
  if (self->streaming != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->streaming, self);
      bayeux_transport_close (self->streaming);
    }
  g_clear_object (&self->streaming);
  g_clear_object (&self->polling);
  g_clear_object (&self->session);
  if (self->extensions != NULL)
    bayeux_extension_chain_remove_all (self->extensions);
  /* The listeners' data goes now (a GJS or Python closure may hold the
   * client: that cycle ends here). */
  bayeux_subscriptions_remove_listeners (self->subscriptions);
  /* The handles end, and leave the list (a handle's closures may hold
   * the client too). */
  bayeux_subscriptions_end_handles (self->subscriptions);

  G_OBJECT_CLASS (bayeux_client_parent_class)->dispose (object);
}

static void
bayeux_client_finalize (GObject *object)
{
  BayeuxClient *self = BAYEUX_CLIENT (object);

  g_clear_pointer (&self->subscriptions, bayeux_subscriptions_free);
  g_queue_clear_full (&self->held, (GDestroyNotify) bayeux_message_unref);
  g_clear_pointer (&self->headers, soup_message_headers_unref);
  g_clear_pointer (&self->outbox, bayeux_outbox_free);
  g_clear_pointer (&self->extensions, bayeux_extension_chain_free);
  g_clear_pointer (&self->policy, bayeux_transport_policy_free);
  g_clear_pointer (&self->handshake_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->disconnect_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->handshake_ext, json_node_unref);
  g_clear_object (&self->cancellable[SLOT_CONTROL]);
  g_clear_object (&self->cancellable[SLOT_BATCH]);
  g_clear_pointer (&self->servers, bayeux_servers_free);
  g_clear_pointer (&self->reports, bayeux_reports_free);
  g_clear_pointer (&self->inbox, bayeux_inbox_free);
  g_clear_pointer (&self->clock_watch, bayeux_clock_watch_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->client_id);
  g_free (self->url);

  G_OBJECT_CLASS (bayeux_client_parent_class)->finalize (object);
}

static void
bayeux_client_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  BayeuxClient *self = BAYEUX_CLIENT (object);

  switch (prop_id)
    {
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_CLIENT_ID:
      g_value_set_string (value, self->client_id);
      break;
    case PROP_TRANSPORT:
      g_value_set_string (value, bayeux_client_get_transport (self));
      break;
    case PROP_MAX_NETWORK_DELAY:
      g_value_set_uint (value, self->max_network_delay);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint (value, self->max_message_size);
      break;
    case PROP_MAX_RESPONSE_SIZE:
      g_value_set_uint (value, self->max_response_size);
      break;
    case PROP_BACKOFF_INCREMENT:
      g_value_set_uint (value, self->backoff_increment);
      break;
    case PROP_MAX_BACKOFF:
      g_value_set_uint (value, self->max_backoff);
      break;
    case PROP_HANDSHAKE_EXT:
      g_value_set_boxed (value, self->handshake_ext);
      break;
    case PROP_MAX_PENDING:
      g_value_set_uint (value, self->max_pending);
      break;
    case PROP_MAX_PENDING_AGE:
      g_value_set_uint (value, self->max_pending_age);
      break;
    case PROP_NETWORK_MONITOR:
      g_value_set_object (value, self->network_monitor);
      break;
    case PROP_FALLBACK_URLS:
      g_value_set_boxed (value, bayeux_client_get_fallback_urls (self));
      break;
    case PROP_CURRENT_URL:
      g_value_set_string (value, bayeux_client_get_current_url (self));
      break;
    case PROP_TRANSPORTS:
      g_value_set_boxed (value, bayeux_client_get_transports (self));
      break;
    case PROP_SUBSCRIPTIONS:
      g_value_set_object (value, bayeux_subscriptions_get_model (self->subscriptions));
      break;
    case PROP_PAUSED:
      g_value_set_boolean (value, self->paused);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* A setting in milliseconds or bytes: its public accessors (in
 * bayeux-client-calls.c) go through the property, bounded by its pspec. */
static void
set_uint (BayeuxClient *self,
          guint        *field,
          const GValue *value,
          GParamSpec   *pspec)
{
  if (*field == g_value_get_uint (value))
    return;
  *field = g_value_get_uint (value);
  g_object_notify_by_pspec (G_OBJECT (self), pspec);
}

static void
bayeux_client_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  BayeuxClient *self = BAYEUX_CLIENT (object);

  switch (prop_id)
    {
    case PROP_URL:
      self->url = g_value_dup_string (value);
      break;
    case PROP_SESSION:
      self->session = g_value_dup_object (value);
      break;
    case PROP_MAX_NETWORK_DELAY:
      set_uint (self, &self->max_network_delay, value, pspec);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      set_uint (self, &self->max_message_size, value, pspec);
      break;
    case PROP_MAX_RESPONSE_SIZE:
      set_uint (self, &self->max_response_size, value, pspec);
      break;
    case PROP_BACKOFF_INCREMENT:
      set_uint (self, &self->backoff_increment, value, pspec);
      break;
    case PROP_MAX_BACKOFF:
      set_uint (self, &self->max_backoff, value, pspec);
      break;
    case PROP_HANDSHAKE_EXT:
      bayeux_client_set_handshake_ext (self, g_value_get_boxed (value));
      break;
    case PROP_MAX_PENDING:
      set_uint (self, &self->max_pending, value, pspec);
      break;
    case PROP_MAX_PENDING_AGE:
      set_uint (self, &self->max_pending_age, value, pspec);
      break;
    case PROP_NETWORK_MONITOR:
      self->network_monitor = g_value_dup_object (value);
      break;
    case PROP_FALLBACK_URLS:
      bayeux_client_set_fallback_urls (self, g_value_get_boxed (value));
      break;
    case PROP_TRANSPORTS:
      if (g_value_get_boxed (value) != NULL)
        bayeux_client_set_transports (self, g_value_get_boxed (value));
      break;
    case PROP_PAUSED:
      bayeux_client_set_paused (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bayeux_client_class_init (BayeuxClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = bayeux_client_constructed;
  object_class->dispose = bayeux_client_dispose;
  object_class->finalize = bayeux_client_finalize;
  object_class->get_property = bayeux_client_get_property;
  object_class->set_property = bayeux_client_set_property;

  /**
   * BayeuxClient:url:
   *
   * The server's Bayeux endpoint, an `http` or `https` URL such as
   * `https://example.org/cometd`, read back as given (password included).
   *
   * Since: 1.0
   */
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:session:
   *
   * The [class@Soup.Session] the client sends its requests with. When none
   * is given at construction the client makes its own, with two
   * connections per host (the long poll never blocks another request) and
   * a cookie jar of its own (50 cookies and 8 KiB at most, oldest dropped).
   *
   * Since: 1.0
   */
  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, SOUP_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:state:
   *
   * The state of the connection to the server; see [enum@ClientState] and
   * the [states page](states.html).
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, BAYEUX_TYPE_CLIENT_STATE, BAYEUX_CLIENT_STATE_DISCONNECTED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:client-id:
   *
   * The `clientId` the server gave in its handshake reply, or %NULL while
   * there is none.
   *
   * Since: 1.0
   */
  properties[PROP_CLIENT_ID] =
    g_param_spec_string ("client-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:transport:
   *
   * The name of the transport in use, as the protocol names it:
   * `websocket` or `long-polling`. With the WebSocket first in
   * [property@Client:transports], the handshake goes over it too (the
   * transport is `websocket` as soon as the socket opens); else the
   * handshake goes over HTTP, and the `/meta/connect` loop and everything
   * else then over a WebSocket when the server offers it and
   * [property@Client:transports] allows it. Notified when it changes: when
   * the WebSocket opens, and when the client falls back to long polling.
   *
   * Since: 1.0
   */
  properties[PROP_TRANSPORT] =
    g_param_spec_string ("transport", NULL, NULL, "long-polling",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:transports:
   *
   * The transports the client may use, in order of preference, named as
   * the protocol names them: `websocket`, `long-polling`. The default is
   * both, WebSocket first: the client opens a WebSocket at the server's URL
   * (`ws://` or `wss://`) and sends its handshake over it, offering these,
   * as CometD's own clients do; if the reply offers `websocket`, the
   * session runs over that socket, else it long-polls (and handshakes over
   * HTTP from then on). If the upgrade is refused (an HTTP answer: the
   * server has no WebSocket there, or not before a session), the handshake
   * goes over HTTP, from then on until this property changes, and the
   * WebSocket is opened after it, as with `long-polling` first: then the
   * client handshakes over HTTP, offering these, and if the server's reply
   * offers `websocket`, it opens a WebSocket and runs the session over it.
   * A server that binds a session to the socket of its handshake (CometD's
   * `ws.requireHandshakePerConnection`) answers the connect on a new
   * socket with `402`: the client handshakes again over that socket.
   *
   * If the WebSocket cannot be opened (the server or a proxy refuses the
   * upgrade, or it fails before it ever worked in this session), the
   * client falls back to long polling for the rest of the session, and
   * tries again after the next handshake. A WebSocket that dies after it
   * worked is treated as a lost long poll: the client reconnects, with
   * its backoff, over a new WebSocket.
   *
   * Set `long-polling` alone to never use a WebSocket, or `websocket`
   * alone to never long-poll (the handshake then goes over HTTP only when
   * the upgrade before it is refused). May be
   * set at any time; it takes effect at the next handshake. Names this
   * version does not know are ignored, with a warning.
   *
   * Since: 1.0
   */
  properties[PROP_TRANSPORTS] =
    g_param_spec_boxed ("transports", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:subscriptions:
   *
   * The live subscription handles ([class@Subscription]), as a list
   * model: see [method@Client.get_subscriptions].
   *
   * Since: 1.0
   */
  properties[PROP_SUBSCRIPTIONS] =
    g_param_spec_object ("subscriptions", NULL, NULL, G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:paused:
   *
   * Flow control: while %TRUE, the client stops asking the server for
   * messages (no `/meta/connect` goes out, over HTTP or a WebSocket), so
   * the server keeps them queued, and holds (in order, undelivered) those
   * that still arrive: the answer to a long poll that was out, a message
   * pushed on a WebSocket. Publishing, subscribing and unsubscribing go on.
   * By long polling the server queues what comes meanwhile; over a
   * WebSocket, Faye (and CometD unless it delivers on `/meta/connect`
   * only) push messages as they come whether a connect is out or not: there
   * the client holds them.
   * Set back to %FALSE, the held messages are delivered and the long
   * poll resumes at once.
   *
   * So that the server keeps the session, a paused client still sends a
   * `/meta/connect` when it would otherwise forget it: three quarters of
   * the server's advised `maxInterval` after the last one was answered
   * (CometD's default `maxInterval` is 10 s), or, when the server advises
   * no `maxInterval` (Faye), 1.2 advised `timeout`s after the last one
   * was sent; never less than a second apart. What that connect brings is
   * held too, at most 10,000 messages: past that the oldest are dropped
   * and reported once per pause through [signal@Client::error]
   * (%BAYEUX_ERROR_QUEUE_FULL). A connect sent while paused asks for an
   * immediate answer, not a long poll. The connects that make the client
   * connected (the first of a session, one after a failure) go at once,
   * so a client paused before it starts becomes connected, and one that
   * loses its connection while paused connects again. Held messages stay
   * held across [method@Client.stop] and are delivered once resumed. See
   * the subscriptions page of the manual.
   *
   * Since: 1.0
   */
  properties[PROP_PAUSED] =
    g_param_spec_boolean ("paused", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:max-network-delay:
   *
   * How long, in milliseconds, a request may take beyond what the server
   * advised: a handshake, publish, subscribe or disconnect that gets no
   * whole answer in this time fails with %BAYEUX_ERROR_TIMEOUT, and so
   * does a long poll after the advised timeout plus this delay.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_NETWORK_DELAY] =
    g_param_spec_uint ("max-network-delay", NULL, NULL, 1, G_MAXINT32, DEFAULT_MAX_NETWORK_DELAY,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:max-message-size:
   *
   * The largest message, in bytes, the client accepts from the server, and
   * the largest request body it sends. Each message of a response (or of a
   * WebSocket frame) is bounded on its own: a larger one is refused alone,
   * without being kept past the limit (never parsed, never quoted), and
   * reported once for the response through [signal@Client::error] with
   * %BAYEUX_ERROR_MESSAGE_TOO_LARGE (its size and byte offset); the
   * request it replies to, when its id can be read, fails with that error;
   * the other messages of the response are delivered, in order. A whole
   * response is bounded by [property@Client:max-response-size] instead.
   * A message larger than this on its own is not sent (the same error);
   * batches are split to fit. The default is 1 MiB.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_MESSAGE_SIZE] =
    g_param_spec_uint ("max-message-size", NULL, NULL, 64, G_MAXINT32, DEFAULT_MAX_MESSAGE_SIZE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:max-response-size:
   *
   * The largest response body (or WebSocket frame), in bytes, the client
   * reads: a larger one fails whole with %BAYEUX_ERROR_MESSAGE_TOO_LARGE,
   * without being read past the limit, and the client polls again. It
   * bounds the memory one response takes, with the split's index (8 bytes
   * a message): by long polling its messages are split as it is read (a
   * message over [property@Client:max-message-size] is dropped as soon as
   * it is past that limit), and handled one by one once it is in; a
   * WebSocket frame is held whole while it is split.
   * Never less than max-message-size (the larger of the two applies). The
   * default, 64 MiB, is 64 default messages: a client that falls behind
   * gets its backlog in one long-poll answer (at 50,000 messages of 200
   * bytes a second, 64 MiB is six seconds of them), and none of it is lost
   * for being big. A change applies to the next request (or WebSocket).
   *
   * Since: 1.0
   */
  properties[PROP_MAX_RESPONSE_SIZE] =
    g_param_spec_uint ("max-response-size", NULL, NULL, 64, G_MAXINT32, DEFAULT_MAX_RESPONSE_SIZE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:backoff-increment:
   *
   * After each failed request the client waits the advised interval plus a
   * backoff that grows by this many milliseconds (up to
   * [property@Client:max-backoff]), jittered; it is reset by a success.
   *
   * Since: 1.0
   */
  properties[PROP_BACKOFF_INCREMENT] =
    g_param_spec_uint ("backoff-increment", NULL, NULL, 1, G_MAXINT32, DEFAULT_BACKOFF_INCREMENT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:max-backoff:
   *
   * The largest backoff, in milliseconds: also the longest a `Retry-After` can make it wait.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_BACKOFF] =
    g_param_spec_uint ("max-backoff", NULL, NULL, 1, G_MAXINT32, DEFAULT_MAX_BACKOFF,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:handshake-ext:
   *
   * The `ext` object sent with each handshake (authentication tokens
   * usually), or %NULL. It is redacted from debug output.
   *
   * Since: 1.0
   */
  properties[PROP_HANDSHAKE_EXT] =
    g_param_spec_boxed ("handshake-ext", NULL, NULL, JSON_TYPE_NODE,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:max-pending:
   *
   * The most messages that may wait to be sent while the connection is
   * lost (or before the first handshake). A publish beyond it fails at once
   * with %BAYEUX_ERROR_QUEUE_FULL. Subscribe and unsubscribe requests are
   * never dropped.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_PENDING] =
    g_param_spec_uint ("max-pending", NULL, NULL, 0, G_MAXINT32, DEFAULT_MAX_PENDING,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:max-pending-age:
   *
   * How long, in milliseconds, a publish may wait to be sent. One that
   * waited longer fails with %BAYEUX_ERROR_EXPIRED.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_PENDING_AGE] =
    g_param_spec_uint ("max-pending-age", NULL, NULL, 1, G_MAXINT32, DEFAULT_MAX_PENDING_AGE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:network-monitor:
   *
   * The [iface@Gio.NetworkMonitor] the client listens to: while it says the
   * network is unavailable the client makes no request (state
   * %BAYEUX_CLIENT_STATE_UNCONNECTED, one [signal@Client::error] with
   * %BAYEUX_ERROR_NETWORK_UNAVAILABLE), and when it comes back the client
   * reconnects at once instead of waiting out its backoff. When it says
   * the network changed but is still there (a new address, another
   * Wi-Fi), the client checks at once with a `/meta/connect` answered at
   * once (by long polling on a new connection), at most once a second: see
   * the errors page of the manual. By default,
   * [func@Gio.NetworkMonitor.get_default], which is ignored for a server
   * on a loopback address.
   *
   * Since: 1.0
   */
  properties[PROP_NETWORK_MONITOR] =
    g_param_spec_object ("network-monitor", NULL, NULL, G_TYPE_NETWORK_MONITOR,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:fallback-urls:
   *
   * Other endpoints of the same Bayeux service (nodes of a cluster that
   * share their sessions, such as Faye with its Redis engine), tried in
   * order after [property@Client:url] when a handshake or connect fails in
   * transport (connection refused or reset, timeout, HTTP error). The
   * client stays on the server that works. A server that does not know the
   * session answers `402`: the client handshakes again there and
   * resubscribes every subscription.
   *
   * Since: 1.0
   */
  properties[PROP_FALLBACK_URLS] =
    g_param_spec_boxed ("fallback-urls", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BayeuxClient:current-url:
   *
   * The endpoint in use, [property@Client:url] or a fallback, without any
   * password (`http://user@host/…`), as logs and errors name it.
   *
   * Since: 1.0
   */
  properties[PROP_CURRENT_URL] =
    g_param_spec_string ("current-url", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  bayeux_client_class_add_signals (klass, signals);
}

static void
bayeux_client_init (BayeuxClient *self)
{
  self->state = BAYEUX_CLIENT_STATE_DISCONNECTED;
  self->max_network_delay = DEFAULT_MAX_NETWORK_DELAY;
  self->max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
  self->max_response_size = DEFAULT_MAX_RESPONSE_SIZE;
  self->backoff_increment = DEFAULT_BACKOFF_INCREMENT;
  self->max_backoff = DEFAULT_MAX_BACKOFF;
  bayeux_advice_init (&self->advice, DEFAULT_POLL_TIMEOUT);
  self->max_pending = DEFAULT_MAX_PENDING;
  self->max_pending_age = DEFAULT_MAX_PENDING_AGE;
  self->credentials_wait_ms = CREDENTIALS_WAIT_MS;
  self->subscriptions = bayeux_subscriptions_new ();
  self->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  self->handshake_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->disconnect_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancellable[SLOT_CONTROL] = g_cancellable_new ();
  self->cancellable[SLOT_BATCH] = g_cancellable_new ();
  self->policy = bayeux_transport_policy_new ();
  self->transport_name = "long-polling";
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

/**
 * bayeux_client_new:
 * @url: the server's Bayeux endpoint, an `http` or `https` URL
 *
 * Creates a client for the server at @url. It does nothing until
 * [method@Client.start] or [method@Client.handshake_async].
 *
 * Returns: (transfer full): a new client
 *
 * Since: 1.0
 */
BayeuxClient *
bayeux_client_new (const char *url)
{
  g_return_val_if_fail (url != NULL, NULL);

  return g_object_new (BAYEUX_TYPE_CLIENT, "url", url, NULL);
}

/**
 * bayeux_client_new_with_session:
 * @url: the server's Bayeux endpoint, an `http` or `https` URL
 * @session: (nullable): the session to send requests with
 *
 * Creates a client that uses @session (its proxy, TLS and cookie
 * settings). See the class documentation for what sharing a session
 * between clients means.
 *
 * Returns: (transfer full): a new client
 *
 * Since: 1.0
 */
BayeuxClient *
bayeux_client_new_with_session (const char  *url,
                                SoupSession *session)
{
  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (session == NULL || SOUP_IS_SESSION (session), NULL);

  return g_object_new (BAYEUX_TYPE_CLIENT, "url", url, "session", session, NULL);
}

/**
 * bayeux_client_get_url:
 * @self: a client
 *
 * Gets [property@Client:url].
 *
 * Returns: (transfer none): the server's URL
 *
 * Since: 1.0
 */
const char *
bayeux_client_get_url (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);

  return self->url;
}

/**
 * bayeux_client_get_session:
 * @self: a client
 *
 * Gets [property@Client:session].
 *
 * Returns: (transfer none): the session
 *
 * Since: 1.0
 */
SoupSession *
bayeux_client_get_session (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);

  return self->session;
}

/**
 * bayeux_client_get_state:
 * @self: a client
 *
 * Gets [property@Client:state].
 *
 * Returns: the state
 *
 * Since: 1.0
 */
BayeuxClientState
bayeux_client_get_state (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, BAYEUX_CLIENT_STATE_DISCONNECTED);

  return self->state;
}

/**
 * bayeux_client_get_client_id:
 * @self: a client
 *
 * Gets [property@Client:client-id].
 *
 * Returns: (transfer none) (nullable): the client id, or %NULL
 *
 * Since: 1.0
 */
const char *
bayeux_client_get_client_id (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);

  return self->client_id;
}

/**
 * bayeux_client_get_transport:
 * @self: a client
 *
 * Gets [property@Client:transport].
 *
 * Returns: (transfer none): the transport's name
 *
 * Since: 1.0
 */
const char *
bayeux_client_get_transport (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);

  return self->transport_name;
}

/**
 * bayeux_client_get_transports:
 * @self: a client
 *
 * Gets [property@Client:transports].
 *
 * Returns: (transfer none) (array zero-terminated=1): the allowed
 *   transports, in order of preference
 *
 * Since: 1.0
 */
const char * const *
bayeux_client_get_transports (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);

  return bayeux_transport_policy_get_allowed (self->policy);
}

/**
 * bayeux_client_set_transports:
 * @self: a client
 * @transports: (array zero-terminated=1): the allowed transports, in order
 *   of preference: `websocket`, `long-polling`
 *
 * Sets [property@Client:transports]. At least one name must be known.
 *
 * Since: 1.0
 */
void
bayeux_client_set_transports (BayeuxClient       *self,
                              const char * const *transports)
{
  GStrv known;

  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (transports != NULL);

  known = bayeux_transport_policy_known (transports);
  g_return_if_fail (known != NULL);
  if (!bayeux_transport_policy_set_allowed (self->policy, known))
    return;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRANSPORTS]);
}

/**
 * bayeux_client_get_network_monitor:
 * @self: a client
 *
 * Gets [property@Client:network-monitor].
 *
 * Returns: (transfer none): the network monitor
 *
 * Since: 1.0
 */
GNetworkMonitor *
bayeux_client_get_network_monitor (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);

  return self->network_monitor;
}

/**
 * bayeux_client_get_fallback_urls:
 * @self: a client
 *
 * Gets [property@Client:fallback-urls].
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the
 *   fallback endpoints, or %NULL
 *
 * Since: 1.0
 */
const char * const *
bayeux_client_get_fallback_urls (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);

  return bayeux_servers_get_fallback_urls (self->servers);
}

/**
 * bayeux_client_set_fallback_urls:
 * @self: a client
 * @urls: (nullable) (array zero-terminated=1): other `http` or `https`
 *   endpoints of the same service, in order
 *
 * Sets [property@Client:fallback-urls]. A URL that is not valid is left
 * out with a warning. The client goes back to [property@Client:url] for
 * its next request.
 *
 * Since: 1.0
 */
void
bayeux_client_set_fallback_urls (BayeuxClient       *self,
                                 const char * const *urls)
{
  BAYEUX_CLIENT_CHECK (self);

  /* (fallback-urls is set after constructed: not a construct property) */
  g_return_if_fail (self->servers != NULL);

  if (!bayeux_servers_set_fallbacks (self->servers, urls))
    return;
  if (self->polling != NULL)
    use_server (self, 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FALLBACK_URLS]);
}

/**
 * bayeux_client_get_current_url:
 * @self: a client
 *
 * Gets [property@Client:current-url].
 *
 * Returns: (transfer none): the endpoint in use
 *
 * Since: 1.0
 */
const char *
bayeux_client_get_current_url (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);

  return bayeux_servers_get_url (self->servers);
}

/**
 * bayeux_client_get_handshake_ext:
 * @self: a client
 *
 * Gets [property@Client:handshake-ext].
 *
 * Returns: (transfer none) (nullable): the ext object sent with handshakes
 *
 * Since: 1.0
 */
JsonNode *
bayeux_client_get_handshake_ext (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);

  return self->handshake_ext;
}

/**
 * bayeux_client_set_handshake_ext:
 * @self: a client
 * @ext: (nullable): a JSON object node, or %NULL
 *
 * Sets [property@Client:handshake-ext], the `ext` object sent with the
 * next handshakes. A node that is not an object is ignored with a warning.
 *
 * Since: 1.0
 */
void
bayeux_client_set_handshake_ext (BayeuxClient *self,
                                 JsonNode     *ext)
{
  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (ext == NULL || JSON_NODE_HOLDS_OBJECT (ext));

  if (ext == NULL && self->handshake_ext == NULL)
    return;
  g_clear_pointer (&self->handshake_ext, json_node_unref);
  self->handshake_ext = ext ? bayeux_json_deep_copy (ext) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HANDSHAKE_EXT]);
}

/**
 * bayeux_client_set_header:
 * @self: a client
 * @name: an HTTP header name
 * @value: (nullable): its value, or %NULL to remove the header
 *
 * Adds @name to every HTTP request the client sends from now on, its
 * WebSocket upgrade included (an `Authorization` token for the server's
 * front end, say), replacing a previous value. Headers are redacted from `BAYEUX_DEBUG=http` output
 * only when they carry credentials (`Authorization`, cookies).
 *
 * Since: 1.0
 */
void
bayeux_client_set_header (BayeuxClient *self,
                          const char   *name,
                          const char   *value)
{
  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (name != NULL && name[0] != '\0');

  /* Shared with both transports: the next requests and upgrades carry it. */
  if (value != NULL)
    soup_message_headers_replace (self->headers, name, value);
  else
    soup_message_headers_remove (self->headers, name);
}

/**
 * bayeux_client_add_extension:
 * @self: a client
 * @extension: an extension
 *
 * Adds @extension to the client's extensions: from now on it sees every
 * message the client sends and receives (see [iface@Extension] for the
 * order). An extension may be added at any time, also while the client
 * runs; add those that change the handshake (acknowledgements, replay)
 * before [method@Client.start].
 *
 * Since: 1.0
 */
void
bayeux_client_add_extension (BayeuxClient    *self,
                             BayeuxExtension *extension)
{
  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (BAYEUX_IS_EXTENSION (extension));
  g_return_if_fail (!bayeux_extension_chain_contains (self->extensions, extension));

  bayeux_extension_chain_add (self->extensions, extension);
}

/**
 * bayeux_client_remove_extension:
 * @self: a client
 * @extension: an extension added with [method@Client.add_extension]
 *
 * Removes @extension: it sees no more messages. Messages it holds can
 * still be released with [method@Client.release_message].
 *
 * Since: 1.0
 */
void
bayeux_client_remove_extension (BayeuxClient    *self,
                                BayeuxExtension *extension)
{
  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (BAYEUX_IS_EXTENSION (extension));

  if (!bayeux_extension_chain_remove (self->extensions, extension))
    g_critical ("%s: the extension %p was not added to this client", G_STRFUNC, extension);
}

/**
 * bayeux_client_get_extensions:
 * @self: a client
 *
 * Gets the client's extensions, in the order they were added.
 *
 * Returns: (transfer container) (element-type BayeuxExtension): the
 *   extensions
 *
 * Since: 1.0
 */
GPtrArray *
bayeux_client_get_extensions (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, NULL);

  /* The elements are borrowed: (transfer container). */
  return bayeux_extension_chain_list (self->extensions);
}

/**
 * bayeux_client_release_message:
 * @self: a client
 * @message: a message an extension held (it returned
 *   %BAYEUX_EXTENSION_HOLD for it)
 * @drop: %TRUE to drop the message, %FALSE to let it go on
 *
 * Ends an extension's hold on @message. The message goes on to the next
 * extension, then to the server (an outgoing message) or to the client
 * (an incoming one), or is dropped, as if the hook had returned
 * %BAYEUX_EXTENSION_CONTINUE or %BAYEUX_EXTENSION_DROP, from the main loop
 * (not from inside this call: signals and callbacks come after it returns),
 * in the order of the releases. Call it after the hook that held @message
 * has returned. A hold ends by itself when the
 * client is stopped: releasing the message then does nothing.
 *
 * Since: 1.0
 */
void
bayeux_client_release_message (BayeuxClient *self,
                               JsonObject   *message,
                               gboolean      drop)
{
  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (message != NULL);

  /* It goes on from the main loop, not from inside this call. */
  if (!bayeux_extension_chain_release (self->extensions, message, drop))
    g_debug ("release_message: %p is not held (the client was stopped meanwhile?)", message);
}

/**
 * bayeux_client_batch_begin:
 * @self: a client
 *
 * Starts a batch: the messages queued until the matching
 * [method@Client.batch_end] leave together, in as few requests as
 * [property@Client:max-message-size] allows. Batches nest. Messages queued
 * in one main-loop iteration are batched anyway; this is for a batch built
 * across iterations. Bindings may prefer [method@Client.batch].
 *
 * Since: 1.0
 */
void
bayeux_client_batch_begin (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK (self);

  self->batch_depth++;
}

/**
 * bayeux_client_batch_end:
 * @self: a client
 *
 * Ends a batch started with [method@Client.batch_begin]; the outermost end
 * sends it.
 *
 * Since: 1.0
 */
void
bayeux_client_batch_end (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (self->batch_depth > 0);

  if (--self->batch_depth == 0)
    schedule_flush (self);
}

/**
 * bayeux_client_batch:
 * @self: a client
 * @func: (scope call): queues the messages of the batch
 * @user_data: data for @func
 *
 * Calls @func between [method@Client.batch_begin] and
 * [method@Client.batch_end]: what it queues leaves together.
 *
 * Since: 1.0
 */
void
bayeux_client_batch (BayeuxClient    *self,
                     BayeuxBatchFunc  func,
                     gpointer         user_data)
{
  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (func != NULL);

  bayeux_client_batch_begin (self);
  func (self, user_data);
  bayeux_client_batch_end (self);
}

/**
 * bayeux_client_add_listener:
 * @self: a client
 * @channel: a channel or pattern, as given to [method@Client.subscribe]
 * @func: (scope notified) (closure user_data) (destroy notify): called
 *   for each message that arrives on the subscription to @channel
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data when the listener is removed or
 *   the client disposed
 *
 * Adds a listener for the messages of the subscription to @channel: the
 * same messages as a `message::@channel` handler of
 * [signal@Client::message] gets, in the same circumstances (a message on
 * `/chat/demo` reaches the listeners of `/chat/demo`, of `/chat/*` and of
 * `/chat/**` if each is subscribed), right after the signal's handlers.
 * A listener does not subscribe: it hears nothing until @channel is
 * subscribed, and stays (silent) after an unsubscription, until removed.
 *
 * Listeners are for applications with many subscriptions: the client
 * finds the listeners of a subscription by hash lookup, whatever their
 * number, whereas GLib walks every handler of the signal (all details) for
 * each emission, so a thousand `message::…` handlers cost each message a
 * thousand comparisons. Measured in bench/ (scenario 6).
 *
 * A listener may add or remove listeners, unsubscribe, stop or disconnect
 * the client: one removed during a dispatch is not called after its
 * removal (its data is freed once the dispatch is done with it); one added
 * during a dispatch hears the message being dispatched only if it was added
 * for a subscription whose turn has not come yet (a message on `/chat/demo`
 * goes to the listeners of `/chat/demo` before those of `/chat/**`).
 *
 * Returns: the listener's identifier (never 0), for
 *   [method@Client.remove_listener]
 *
 * Since: 1.0
 */
guint
bayeux_client_add_listener (BayeuxClient      *self,
                            const char        *channel,
                            BayeuxMessageFunc  func,
                            gpointer           user_data,
                            GDestroyNotify     notify)
{
  BAYEUX_CLIENT_CHECK_VAL (self, 0);
  g_return_val_if_fail (channel != NULL, 0);
  g_return_val_if_fail (func != NULL, 0);
  g_return_val_if_fail (!self->disposing, 0);

  return bayeux_subscriptions_add_listener (self->subscriptions, channel, func, user_data, notify);
}

/**
 * bayeux_client_remove_listener:
 * @self: a client
 * @listener_id: what [method@Client.add_listener] returned
 *
 * Removes a listener: it is not called again, and its data is freed: at
 * once, or, when it is removed from inside its own call, once that call
 * returns. Removing one that is gone already (or was never added) warns.
 *
 * Since: 1.0
 */
void
bayeux_client_remove_listener (BayeuxClient *self,
                               guint         listener_id)
{
  BAYEUX_CLIENT_CHECK (self);

  if (!bayeux_subscriptions_remove_listener (self->subscriptions, listener_id))
    g_warning ("%s: no listener %u on client %p", G_STRFUNC, listener_id, (void *) self);
}

/**
 * bayeux_client_is_subscribed:
 * @self: a client
 * @channel: a channel or pattern
 *
 * Whether the application holds a subscription to @channel (confirmed by
 * the server or still to be sent).
 *
 * Returns: %TRUE if @channel is among the client's subscriptions
 *
 * Since: 1.0
 */
gboolean
bayeux_client_is_subscribed (BayeuxClient *self,
                             const char   *channel)
{
  BAYEUX_CLIENT_CHECK_VAL (self, FALSE);
  g_return_val_if_fail (channel != NULL, FALSE);

  return bayeux_subscriptions_lookup (self->subscriptions, channel) != NULL;
}

/**
 * bayeux_client_start:
 * @self: a client
 *
 * Handshakes, then keeps a `/meta/connect` long poll going, following the
 * server's advice and backing off after failures, until
 * [method@Client.stop] or [method@Client.disconnect_async], or until the
 * server advises `reconnect: none`. Failures are reported through
 * [signal@Client::error]. Does nothing if the client is already started.
 *
 * Since: 1.0
 */
void
bayeux_client_start (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK (self);

  if (self->state == BAYEUX_CLIENT_STATE_DISCONNECTING)
    {
      self->restart_after_disconnect = TRUE;
      return;
    }
  if (self->state != BAYEUX_CLIENT_STATE_DISCONNECTED)
    return;

  begin_change (self);
  start_internal (self);
  end_change (self);
}

static void
start_internal (BayeuxClient *self)
{

  bayeux_advice_restart (&self->advice);
  self->early_connects = 0;
  self->rehandshakes = 0;
  self->unconnected_since = 0;
  set_state (self, BAYEUX_CLIENT_STATE_HANDSHAKING);
  update_watchdog (self);
  if (self->network_down)
    {
      set_state (self, BAYEUX_CLIENT_STATE_UNCONNECTED);
      report_error (self, g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_NETWORK_UNAVAILABLE,
                                               "The network is unavailable: waiting for it"), NULL);
    }
  schedule_control (self, 0);
}

/**
 * bayeux_client_stop:
 * @self: a client
 *
 * Sends `/meta/disconnect` and ends the long poll at once, as
 * [method@Client.disconnect_async] does, without a completion. Pending
 * calls fail with %BAYEUX_ERROR_DISCONNECTED. Subscriptions are kept and
 * are sent again by the next [method@Client.start].
 *
 * Since: 1.0
 */
void
bayeux_client_stop (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK (self);

  begin_change (self);
  self->restart_after_disconnect = FALSE;
  if (self->state != BAYEUX_CLIENT_STATE_DISCONNECTED)
    begin_disconnect (self);
  else
    stop_internal (self, NULL);   /* calls held before any start fail too */
  end_change (self);
}

/**
 * bayeux_client_reconnect:
 * @self: a client
 *
 * Disconnects (waiting at most [property@Client:max-network-delay] for the
 * server), handshakes again and resubscribes every subscription. Starts
 * the client if it was not started.
 *
 * Since: 1.0
 */
void
bayeux_client_reconnect (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK (self);

  if (self->state == BAYEUX_CLIENT_STATE_DISCONNECTED)
    {
      bayeux_client_start (self);
      return;
    }
  if (!self->awaiting_credentials && self->credentials_retry && self->client_id == NULL &&
      self->state == BAYEUX_CLIENT_STATE_HANDSHAKING)
    return;   /* the handshake with the new credentials is on its way */
  begin_change (self);
  if (self->awaiting_credentials)
    {
      /* ::authenticate promised them: a handshake with them now, with the
       * backoff if the last ones were refused too. */
      end_credentials_wait (self);
      rehandshake (self, self->credentials_retry ? next_failure_delay (self) : 0);
      self->credentials_retry = TRUE;
      end_change (self);
      return;
    }
  self->restart_after_disconnect = TRUE;
  begin_disconnect (self);
  end_change (self);
}

/**
 * bayeux_client_handshake_async:
 * @self: a client
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the handshake is done
 * @user_data: data for @callback
 *
 * Starts the client as [method@Client.start] does, and completes when the
 * server accepted the handshake (at once if it already has), or when it
 * refused it for good (advice `reconnect: none`), or when the client is
 * stopped, or when @cancellable is cancelled. Transport failures and
 * refusals with advice to retry are retried per the advice and backoff,
 * each reported through [signal@Client::error].
 *
 * Cancelling only stops waiting: the client goes on; call
 * [method@Client.stop] to stop it.
 *
 * Since: 1.0
 */
void
bayeux_client_handshake_async (BayeuxClient        *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = bayeux_task_new (self, bayeux_client_handshake_async, FALSE, cancellable, callback, user_data);
  bayeux_client_start (self);
  if (self->client_id != NULL && self->state != BAYEUX_CLIENT_STATE_DISCONNECTING)
    bayeux_task_return (task, NULL, NULL);
  else
    g_ptr_array_add (self->handshake_tasks, g_object_ref (task));
}

/**
 * bayeux_client_handshake_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Client.handshake_async].
 *
 * Returns: %TRUE if the server accepted the handshake
 *
 * Since: 1.0
 */
gboolean
bayeux_client_handshake_finish (BayeuxClient *self,
                                GAsyncResult *result,
                                GError      **error)
{
  BAYEUX_CLIENT_CHECK_VAL (self, FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bayeux_client_handshake_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * bayeux_client_get_paused:
 * @self: a client
 *
 * Gets [property@Client:paused].
 *
 * Returns: whether delivery is paused
 *
 * Since: 1.0
 */
gboolean
bayeux_client_get_paused (BayeuxClient *self)
{
  BAYEUX_CLIENT_CHECK_VAL (self, FALSE);

  return self->paused;
}

/**
 * bayeux_client_set_paused:
 * @self: a client
 * @paused: %TRUE to pause delivery, %FALSE to resume it
 *
 * Sets [property@Client:paused].
 *
 * Since: 1.0
 */
void
bayeux_client_set_paused (BayeuxClient *self,
                          gboolean      paused)
{
  BAYEUX_CLIENT_CHECK (self);

  paused = !!paused;
  if (self->paused == paused)
    return;
  self->paused = paused;
  if (!paused)
    {
      self->held_dropped = 0;
      if (self->held.length > 0 && self->held_idle == NULL)
        /* Below redraws: a backlog of thousands does not freeze a window. */
        self->held_idle = bayeux_source_attach (self->context, 0, G_PRIORITY_DEFAULT_IDLE, held_idle_cb, self,
                                                NULL, "[bayeux] resumed");
      if (self->connect_withheld && is_running (self) && !self->busy[SLOT_CONTROL])
        schedule_control (self, 0);
      self->connect_withheld = FALSE;
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
}

/**
 * bayeux_client_disconnect_async:
 * @self: a client
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the client is disconnected
 * @user_data: data for @callback
 *
 * Sends `/meta/disconnect` and ends the pending long poll at once. Either
 * way the client ends in state %BAYEUX_CLIENT_STATE_DISCONNECTED with no
 * request in flight; the call fails when the server could not be told
 * within [property@Client:max-network-delay]. Pending calls fail with
 * %BAYEUX_ERROR_DISCONNECTED; subscriptions are kept for the next
 * [method@Client.start].
 *
 * Cancelling only stops waiting: the client still disconnects.
 *
 * Since: 1.0
 */
void
bayeux_client_disconnect_async (BayeuxClient        *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  BAYEUX_CLIENT_CHECK (self);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = bayeux_task_new (self, bayeux_client_disconnect_async, FALSE, cancellable, callback, user_data);
  begin_change (self);
  self->restart_after_disconnect = FALSE;
  if (self->state == BAYEUX_CLIENT_STATE_DISCONNECTED)
    {
      stop_internal (self, NULL);   /* calls held before any start fail too */
      bayeux_task_return (task, NULL, NULL);
    }
  else
    {
      g_ptr_array_add (self->disconnect_tasks, g_object_ref (task));
      begin_disconnect (self);
    }
  end_change (self);
}

/**
 * bayeux_client_disconnect_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Completes [method@Client.disconnect_async].
 *
 * Returns: %TRUE if the server was told
 *
 * Since: 1.0
 */
gboolean
bayeux_client_disconnect_finish (BayeuxClient *self,
                                 GAsyncResult *result,
                                 GError      **error)
{
  BAYEUX_CLIENT_CHECK_VAL (self, FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bayeux_client_disconnect_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

BayeuxSubscriptions *
bayeux_client_peek_subscriptions (BayeuxClient *self)
{
  return self->subscriptions;
}

void
bayeux_client_set_credentials_wait_for_testing (BayeuxClient *self,
                                                guint         wait_ms)
{
  self->credentials_wait_ms = wait_ms;
}

gint64
bayeux_client_next_failure_delay_for_testing (BayeuxClient *self)
{
  return next_failure_delay (self);
}

guint
bayeux_client_get_requests_in_flight (BayeuxClient *self)
{
  return (self->busy[SLOT_CONTROL] ? 1 : 0) + (self->busy[SLOT_BATCH] ? 1 : 0);
}

/* The calls room of @self, for bayeux-client-calls.c (the public calls
 * API); NULL once the client is disposed. */
BayeuxCalls *
bayeux_client_get_calls (BayeuxClient *self)
{
  return self->disposing ? NULL : &self->calls;
}

/* The main context @self belongs to. */
GMainContext *
bayeux_client_get_context (BayeuxClient *self)
{
  return self->context;
}
