/* bayeux-extension.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bayeux-glib.h"

/**
 * BayeuxExtension:
 *
 * An extension sees every message a [class@Client] exchanges with its
 * server, and may change it, drop it or hold it for a while. Extensions are
 * how the protocol's `ext` fields are filled in and read: acknowledgements
 * ([class@AckExtension]), clock synchronization ([class@TimesyncExtension]),
 * replay ids ([class@ReplayExtension]), or an application's own.
 *
 * Implement the interface on any `GObject` and add an instance to a client
 * with [method@Client.add_extension]. In Python:
 *
 * ```python
 * class Stamp(GObject.Object, Bayeux.Extension):
 *     def do_outgoing(self, client, message):
 *         if message.get_string_member_with_default("channel", "") == "/meta/handshake":
 *             ext = Json.Object()
 *             ext.set_string_member("token", get_token())
 *             message.set_object_member("ext", ext)
 *         return Bayeux.ExtensionResult.CONTINUE
 *
 * client.add_extension(Stamp())
 * ```
 *
 * and in C, a type that implements it:
 *
 * ```c
 * static BayeuxExtensionResult
 * my_incoming (BayeuxExtension *ext, BayeuxClient *client, JsonObject *message)
 * {
 *   if (json_object_has_member (message, "data"))
 *     count_message (MY_EXTENSION (ext));
 *   return BAYEUX_EXTENSION_CONTINUE;
 * }
 *
 * static void
 * my_extension_iface_init (BayeuxExtensionInterface *iface)
 * {
 *   iface->incoming = my_incoming;
 * }
 *
 * G_DEFINE_FINAL_TYPE_WITH_CODE (MyExtension, my_extension, G_TYPE_OBJECT,
 *   G_IMPLEMENT_INTERFACE (BAYEUX_TYPE_EXTENSION, my_extension_iface_init))
 * ```
 *
 * ## Order and semantics (as CometD's)
 *
 * - Incoming messages go through the extensions in the order they were
 *   added; outgoing messages in the reverse order, so that the first
 *   extension added is the closest to the application on both ways.
 * - `incoming` sees every message from the server: replies to the
 *   client's requests (`/meta/handshake`, `/meta/connect`, …, and publish
 *   acknowledgements) and deliveries. The client has already checked the
 *   message's structure and matched a reply to its request by `id`; after
 *   the hooks it checks the message again, then acts on it. The message is
 *   hostile input: check the type of every field the hook reads.
 * - `outgoing` sees every message to the server, each time it is sent (a
 *   `/meta/connect` each long poll, a subscription again after a
 *   re-handshake), as a copy: changes made for one sending do not stay for
 *   the next. It carries the `clientId` of the session it is sent in
 *   (except the handshake).
 * - A hook returns [enum@ExtensionResult]: continue, drop the message, or
 *   hold it. A held message waits, without blocking other messages, until
 *   the extension calls [method@Client.release_message] with it; the
 *   client then resumes with the next extension. A hold ends if the client
 *   is stopped meanwhile (the message is dropped).
 *
 * Hooks run on the client's main context, during the client's processing:
 * they may call the client (publish, subscribe, release a message, stop
 * it), but must not block. A message released with
 * [method@Client.release_message] goes on from the main loop, after the
 * call returns. [method@Client.stop], [method@Client.disconnect_async] and
 * [method@Client.reconnect] called from an `outgoing` hook take effect
 * once the batch of messages being built has left (its messages are not
 * dropped or reordered); from an `incoming` hook, at once.
 *
 * Each message goes through the extensions that were there when it
 * started: one added meanwhile does not see it, one removed meanwhile sees
 * no more of it.
 *
 * Since: 1.0
 */

G_DEFINE_INTERFACE (BayeuxExtension, bayeux_extension, G_TYPE_OBJECT)

static void
bayeux_extension_default_init (BayeuxExtensionInterface *iface)
{
}

/**
 * bayeux_extension_incoming:
 * @self: an extension
 * @client: the client that received @message
 * @message: the message from the server, which the extension may change
 *
 * Calls the extension's `incoming` hook. The client calls it; applications
 * implement it.
 *
 * Returns: what the extension decided; %BAYEUX_EXTENSION_CONTINUE when it
 *   has no `incoming` hook
 *
 * Since: 1.0
 */
BayeuxExtensionResult
bayeux_extension_incoming (BayeuxExtension *self,
                           BayeuxClient    *client,
                           JsonObject      *message)
{
  BayeuxExtensionInterface *iface;

  g_return_val_if_fail (BAYEUX_IS_EXTENSION (self), BAYEUX_EXTENSION_CONTINUE);
  g_return_val_if_fail (message != NULL, BAYEUX_EXTENSION_CONTINUE);

  iface = BAYEUX_EXTENSION_GET_IFACE (self);
  return iface->incoming ? iface->incoming (self, client, message) : BAYEUX_EXTENSION_CONTINUE;
}

/**
 * bayeux_extension_outgoing:
 * @self: an extension
 * @client: the client sending @message
 * @message: the message to the server, which the extension may change
 *
 * Calls the extension's `outgoing` hook. The client calls it; applications
 * implement it.
 *
 * Returns: what the extension decided; %BAYEUX_EXTENSION_CONTINUE when it
 *   has no `outgoing` hook
 *
 * Since: 1.0
 */
BayeuxExtensionResult
bayeux_extension_outgoing (BayeuxExtension *self,
                           BayeuxClient    *client,
                           JsonObject      *message)
{
  BayeuxExtensionInterface *iface;

  g_return_val_if_fail (BAYEUX_IS_EXTENSION (self), BAYEUX_EXTENSION_CONTINUE);
  g_return_val_if_fail (message != NULL, BAYEUX_EXTENSION_CONTINUE);

  iface = BAYEUX_EXTENSION_GET_IFACE (self);
  return iface->outgoing ? iface->outgoing (self, client, message) : BAYEUX_EXTENSION_CONTINUE;
}
