/* bayeux-message-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bayeux-message.h"
#include "bayeux-json-private.h"

G_BEGIN_DECLS

BayeuxMessage *bayeux_message_new_take_object (JsonObject *object);
/* Wraps @node without copying it: for nodes nobody else modifies. */
BayeuxMessage *bayeux_message_new_parsed      (JsonNode   *node,
                                               GError    **error);
/* The message's own node (not a copy). */
JsonNode      *bayeux_message_get_node        (BayeuxMessage *self);

G_END_DECLS
