/* bayeux-ack-extension.c: CometD's message acknowledgement extension
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The protocol (the `ack` member of `ext`):
 *
 *   client → /meta/handshake         ext.ack = true      "I can acknowledge"
 *   server → handshake reply         ext.ack = true, or  "so can I"
 *                                    {enabled: true, batch: N}
 *   server → /meta/connect reply     ext.ack = N         the number of the batch
 *                                                        of messages it carries
 *   client → next /meta/connect      ext.ack = N         "I have everything up to
 *                                                        batch N"
 *
 * The server keeps each message until a /meta/connect acknowledges its
 * batch, and sends the unacknowledged ones again with the next reply: a
 * long poll lost with its messages costs nothing. It also delivers every
 * message through /meta/connect replies only, so they come in order.
 */
#include "bayeux-glib.h"
#include "bayeux-json-private.h"

/**
 * BayeuxAckExtension:
 *
 * CometD's message acknowledgement extension, client side: with a server
 * that has the matching server-side extension (CometD's
 * `AcknowledgedMessagesExtension`, cometd-nodejs-server's
 * `AcknowledgedMessagesExtension`), no message is lost and none is
 * delivered twice when a long poll fails while it carries messages.
 *
 * Add it to the client before [method@Client.start]:
 *
 * ```c
 * g_autoptr(BayeuxAckExtension) ack = bayeux_ack_extension_new ();
 * bayeux_client_add_extension (client, BAYEUX_EXTENSION (ack));
 * bayeux_client_start (client);
 * ```
 *
 * ```python
 * client.add_extension(Bayeux.AckExtension.new())
 * ```
 *
 * The handshake asks the server for acknowledgements; once the server says
 * it supports them ([property@AckExtension:active]), each `/meta/connect`
 * carries the number of the last batch of messages received, and the
 * server sends again what that poll did not acknowledge. Every message then
 * comes through the long poll, in the order the server queued it. A server
 * without the extension ignores the request: the client works as without
 * it.
 *
 * The acknowledgement covers the transport: a message counts as received
 * once its long poll's response was read, before the incoming extensions
 * and the [signal@Client::message] handlers see it. An extension that
 * holds a delivery ([enum@Bayeux.ExtensionResult.HOLD]) holds it past its
 * acknowledgement.
 *
 * An extension is added to one client at a time (the batch numbers are
 * those of one session).
 *
 * Since: 1.0
 */

struct _BayeuxAckExtension
{
  GObject       parent_instance;

  BayeuxClient *client;   /* the client it was added to (not a reference) */
  gboolean      active;   /* the server acknowledged ext.ack in this session */
  gint64        batch;    /* the last batch received */
};

static void bayeux_ack_extension_iface_init (BayeuxExtensionInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BayeuxAckExtension, bayeux_ack_extension, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BAYEUX_TYPE_EXTENSION,
                                                      bayeux_ack_extension_iface_init))

enum {
  PROP_0,
  PROP_ACTIVE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_active (BayeuxAckExtension *self,
            gboolean            active)
{
  active = !!active;
  if (self->active == active)
    return;
  self->active = active;
  g_debug ("ack extension: %s", active ? "the server acknowledges messages" : "inactive");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

static BayeuxExtensionResult
bayeux_ack_extension_outgoing (BayeuxExtension *extension,
                               BayeuxClient    *client,
                               JsonObject      *message)
{
  BayeuxAckExtension *self = BAYEUX_ACK_EXTENSION (extension);
  const char *channel = bayeux_json_get_string (message, "channel");
  JsonObject *ext;

  if (g_strcmp0 (channel, "/meta/handshake") == 0)
    {
      /* A new session: its batches start anew. */
      self->batch = 0;
      set_active (self, FALSE);
      ext = bayeux_json_ensure_object (message, "ext");
      if (ext != NULL)
        json_object_set_boolean_member (ext, "ack", TRUE);
    }
  else if (g_strcmp0 (channel, "/meta/connect") == 0 && self->active)
    {
      ext = bayeux_json_ensure_object (message, "ext");
      if (ext != NULL)
        json_object_set_int_member (ext, "ack", self->batch);
    }

  return BAYEUX_EXTENSION_CONTINUE;
}

static BayeuxExtensionResult
bayeux_ack_extension_incoming (BayeuxExtension *extension,
                               BayeuxClient    *client,
                               JsonObject      *message)
{
  BayeuxAckExtension *self = BAYEUX_ACK_EXTENSION (extension);
  const char *channel = bayeux_json_get_string (message, "channel");
  JsonObject *ext = bayeux_json_get_object (message, "ext");
  gint64 batch;

  if (g_strcmp0 (channel, "/meta/handshake") == 0)
    {
      JsonObject *ack = bayeux_json_get_object (ext, "ack");
      gboolean enabled;

      if (ack != NULL)
        {
          /* The newer form: {"enabled": true, "batch": N}. */
          enabled = bayeux_json_is_true (ack, "enabled");
          if (enabled && bayeux_json_get_int (ack, "batch", &batch) && batch >= 0)
            self->batch = batch;
        }
      else
        enabled = bayeux_json_is_true (ext, "ack");

      set_active (self, enabled && bayeux_json_is_true (message, "successful"));
    }
  else if (g_strcmp0 (channel, "/meta/connect") == 0 && self->active &&
           bayeux_json_is_true (message, "successful") &&
           bayeux_json_get_int (ext, "ack", &batch) && batch >= 0)
    {
      self->batch = batch;
    }

  return BAYEUX_EXTENSION_CONTINUE;
}

static void
bayeux_ack_extension_added (BayeuxExtension *extension,
                            BayeuxClient    *client)
{
  BayeuxAckExtension *self = BAYEUX_ACK_EXTENSION (extension);

  if (self->client != NULL)
    g_critical ("A BayeuxAckExtension was added to a second client: "
                "its batches are those of one session");
  self->client = client;
}

static void
bayeux_ack_extension_removed (BayeuxExtension *extension,
                              BayeuxClient    *client)
{
  BayeuxAckExtension *self = BAYEUX_ACK_EXTENSION (extension);

  if (self->client == client)
    self->client = NULL;
  self->batch = 0;
  set_active (self, FALSE);
}

static void
bayeux_ack_extension_iface_init (BayeuxExtensionInterface *iface)
{
  iface->outgoing = bayeux_ack_extension_outgoing;
  iface->incoming = bayeux_ack_extension_incoming;
  iface->added = bayeux_ack_extension_added;
  iface->removed = bayeux_ack_extension_removed;
}

static void
bayeux_ack_extension_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  BayeuxAckExtension *self = BAYEUX_ACK_EXTENSION (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      g_value_set_boolean (value, self->active);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bayeux_ack_extension_class_init (BayeuxAckExtensionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = bayeux_ack_extension_get_property;

  /**
   * BayeuxAckExtension:active:
   *
   * Whether the server acknowledges messages in the current session: its
   * handshake reply said it supports the extension. %FALSE before the
   * first handshake, from each new handshake until its reply, and after
   * the extension is removed from its client.
   *
   * Since: 1.0
   */
  properties[PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bayeux_ack_extension_init (BayeuxAckExtension *self)
{
}

/**
 * bayeux_ack_extension_new:
 *
 * Creates an acknowledgement extension, to add to a client with
 * [method@Client.add_extension].
 *
 * Returns: (transfer full): a new extension
 *
 * Since: 1.0
 */
BayeuxAckExtension *
bayeux_ack_extension_new (void)
{
  return g_object_new (BAYEUX_TYPE_ACK_EXTENSION, NULL);
}

/**
 * bayeux_ack_extension_get_active:
 * @self: an acknowledgement extension
 *
 * Gets [property@AckExtension:active]: whether the server acknowledges
 * messages in the current session.
 *
 * Returns: %TRUE when the server supports acknowledgements
 *
 * Since: 1.0
 */
gboolean
bayeux_ack_extension_get_active (BayeuxAckExtension *self)
{
  g_return_val_if_fail (BAYEUX_IS_ACK_EXTENSION (self), FALSE);

  return self->active;
}
