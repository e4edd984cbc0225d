/* bayeux-batch-private.h: ops into the JSON text of a request
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bayeux-client.h"
#include "bayeux-extension-chain-private.h"
#include "bayeux-outbox-private.h"

G_BEGIN_DECLS

typedef enum {
  BAYEUX_SERIALIZED,
  BAYEUX_SERIALIZE_FAILED,   /* too large, or dropped by an extension */
  BAYEUX_SERIALIZE_HELD,     /* an extension holds it */
  BAYEUX_SERIALIZE_STOPPED,  /* an extension's hook stopped the client */
} BayeuxSerializeResult;

/* What a batch asks of the client, read for each op. */
typedef struct
{
  /* The session's client id (nullable: none yet). */
  const char *(*client_id)  (BayeuxClient *client);
  /* max-message-size. */
  guint       (*max_size)   (BayeuxClient *client);
  /* @op cannot be sent (too large, dropped by an extension): its call
   * fails. Takes @op. */
  void        (*unsendable) (BayeuxClient *client,
                             BayeuxOp     *op,
                             const GError *error);
  /* A hook stopped the client while @op went through. Takes @op. */
  void        (*stopped)    (BayeuxClient *client,
                             BayeuxOp     *op);
} BayeuxBatchCallbacks;

BayeuxSerializeResult bayeux_batch_serialize (BayeuxExtensionChain       *extensions,
                                              BayeuxOp                   *op,
                                              const BayeuxBatchCallbacks *callbacks,
                                              BayeuxClient               *client,
                                              char                      **text,
                                              GError                    **error);
gboolean              bayeux_batch_take      (BayeuxOutbox               *outbox,
                                              BayeuxExtensionChain       *extensions,
                                              const BayeuxBatchCallbacks *callbacks,
                                              BayeuxClient               *client,
                                              GString                    *body,
                                              GPtrArray                  *ids,
                                              gsize                       room);

G_END_DECLS
