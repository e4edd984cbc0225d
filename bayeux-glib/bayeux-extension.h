/* bayeux-extension.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__BAYEUX_GLIB_INSIDE__) && !defined(BAYEUX_COMPILATION)
#error "Only <bayeux-glib/bayeux-glib.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include "bayeux-version.h"

G_BEGIN_DECLS

typedef struct _BayeuxClient BayeuxClient;

/**
 * BayeuxExtensionResult:
 * @BAYEUX_EXTENSION_CONTINUE: the message goes on (as the extension may
 *   have changed it) to the next extension, then to the client or the
 *   server.
 * @BAYEUX_EXTENSION_DROP: the message is dropped. A dropped subscribe,
 *   unsubscribe or publish (or its reply) fails the call that sent it with
 *   %BAYEUX_ERROR_DROPPED; a dropped `/meta/handshake` or `/meta/connect`
 *   (or its reply) counts as a failed one: it is reported through
 *   [signal@Client::error] and retried with the backoff; a dropped delivery
 *   is simply not delivered.
 * @BAYEUX_EXTENSION_HOLD: the extension keeps the message (it takes a
 *   reference on the [struct@Json.Object]) and lets it go on later with
 *   [method@Client.release_message].
 *
 * What an extension hook decided about a message.
 *
 * Since: 1.0
 */
typedef enum {
  BAYEUX_EXTENSION_CONTINUE,
  BAYEUX_EXTENSION_DROP,
  BAYEUX_EXTENSION_HOLD,
} BayeuxExtensionResult;

#define BAYEUX_TYPE_EXTENSION (bayeux_extension_get_type ())

BAYEUX_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (BayeuxExtension, bayeux_extension, BAYEUX, EXTENSION, GObject)

/**
 * BayeuxExtensionInterface:
 * @g_iface: the parent interface
 * @incoming: called for each message from the server, in the order the
 *   extensions were added, before the client acts on it
 * @outgoing: called for each message to the server, in the reverse order,
 *   each time it is sent
 * @added: called when the extension is added to a client
 * @removed: called when the extension is removed from a client (or the
 *   client is finalized)
 *
 * The hooks of a [iface@Extension]. Every hook is optional: a missing
 * `incoming` or `outgoing` lets messages through unchanged.
 *
 * Since: 1.0
 */
struct _BayeuxExtensionInterface
{
  GTypeInterface g_iface;

  BayeuxExtensionResult (*incoming) (BayeuxExtension *self,
                                     BayeuxClient    *client,
                                     JsonObject      *message);
  BayeuxExtensionResult (*outgoing) (BayeuxExtension *self,
                                     BayeuxClient    *client,
                                     JsonObject      *message);
  void                  (*added)    (BayeuxExtension *self,
                                     BayeuxClient    *client);
  void                  (*removed)  (BayeuxExtension *self,
                                     BayeuxClient    *client);

  /*< private >*/
  gpointer padding[8];
};

BAYEUX_AVAILABLE_IN_ALL
BayeuxExtensionResult bayeux_extension_incoming (BayeuxExtension *self,
                                                 BayeuxClient    *client,
                                                 JsonObject      *message);
BAYEUX_AVAILABLE_IN_ALL
BayeuxExtensionResult bayeux_extension_outgoing (BayeuxExtension *self,
                                                 BayeuxClient    *client,
                                                 JsonObject      *message);

G_END_DECLS
