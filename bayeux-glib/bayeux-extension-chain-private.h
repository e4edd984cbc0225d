/* bayeux-extension-chain-private.h: the extensions a message goes through
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bayeux-client.h"
#include "bayeux-extension.h"
#include "bayeux-outbox-private.h"

G_BEGIN_DECLS

typedef struct _BayeuxExtensionChain BayeuxExtensionChain;

/* What the chain asks of the client. Each function that has an @op takes
 * it (it may be NULL where said). */
typedef struct
{
  /* A number that changes when the client stops (a hook may stop it). */
  guint (*generation)        (BayeuxClient  *client);
  /* A public call or a timer begins and ends (see begin_change). */
  void  (*begin)             (BayeuxClient  *client);
  void  (*end)               (BayeuxClient  *client);
  /* An incoming message went through: @message (checked again after the
   * hooks), or @error when the hooks broke it. @op (nullable): the
   * request it answers. */
  void  (*incoming_done)     (BayeuxClient  *client,
                              BayeuxMessage *message,
                              BayeuxOp            *op,
                              const GError  *error);
  /* An extension dropped the reply to @op, on @channel. */
  void  (*incoming_dropped)  (BayeuxClient  *client,
                              BayeuxOp            *op,
                              const char    *channel);
  /* A hook stopped the client while the reply to @op (nullable) went
   * through. */
  void  (*incoming_stopped)  (BayeuxClient  *client,
                              BayeuxOp            *op);
  /* An extension released the outgoing @op it held (the control op, or
   * one of a batch), to go on or (@drop) to be dropped. */
  void  (*outgoing_released) (BayeuxClient  *client,
                              BayeuxOp            *op,
                              gboolean       control,
                              gboolean       drop);
} BayeuxChainCallbacks;

BayeuxExtensionChain *bayeux_extension_chain_new         (BayeuxClient               *client,
                                                          GMainContext               *context,
                                                          const BayeuxChainCallbacks *callbacks);
void                  bayeux_extension_chain_free        (BayeuxExtensionChain       *self);
void                  bayeux_extension_chain_add         (BayeuxExtensionChain       *self,
                                                          BayeuxExtension            *extension);
gboolean              bayeux_extension_chain_remove      (BayeuxExtensionChain       *self,
                                                          BayeuxExtension            *extension);
void                  bayeux_extension_chain_remove_all  (BayeuxExtensionChain       *self);
gboolean              bayeux_extension_chain_contains    (BayeuxExtensionChain       *self,
                                                          BayeuxExtension            *extension);
GPtrArray            *bayeux_extension_chain_list        (BayeuxExtensionChain       *self);
gboolean              bayeux_extension_chain_is_empty    (BayeuxExtensionChain       *self);
gboolean              bayeux_extension_chain_in_outgoing (BayeuxExtensionChain       *self);

BayeuxExtensionResult  bayeux_extension_chain_run_outgoing  (BayeuxExtensionChain *self,
                                                             BayeuxOp             *op,
                                                             gboolean             *stopped);
void                   bayeux_extension_chain_hold_control  (BayeuxExtensionChain *self,
                                                             BayeuxOp             *op);
void                   bayeux_extension_chain_drop_control  (BayeuxExtensionChain *self);
void                   bayeux_extension_chain_run_incoming  (BayeuxExtensionChain *self,
                                                             BayeuxMessage        *message,
                                                             BayeuxOp             *op);
gboolean               bayeux_extension_chain_release       (BayeuxExtensionChain *self,
                                                             JsonObject           *message,
                                                             gboolean              drop);
GError                *bayeux_extension_chain_dropped_error (const char           *channel,
                                                             gboolean              reply);
GList                 *bayeux_extension_chain_take_held     (BayeuxExtensionChain *self);

G_END_DECLS
