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
/* bayeux_message_new_parsed() of a message from the server, with where its
 * text is (nullable; the body is referenced): see get_data_json(). */
BayeuxMessage *bayeux_message_new_received    (JsonNode          *node,
                                               const BayeuxSpan  *text,
                                               GError           **error);
/* A message from the server read by its envelope, its trees made on first
 * use; NULL when the envelope scan leaves it to the parser (see
 * bayeux-envelope.c). The body is referenced. */
BayeuxMessage *bayeux_message_new_scanned     (const BayeuxSpan  *text);
/* @self was made of @before's tree after the incoming hooks: it keeps
 * @before's text, checked against its tree before it is used. */
void           bayeux_message_keep_text       (BayeuxMessage *self,
                                               BayeuxMessage *before);
/* Copies the text out of the response's body (see the .c). */
void           bayeux_message_compact         (BayeuxMessage *self);
gboolean       bayeux_message_is_shared       (BayeuxMessage *self);
void           bayeux_message_get_text_sizes_for_testing (BayeuxMessage *self,
                                                          gsize         *body_size,
                                                          gsize         *text_size);
/* The message's own node (not a copy). */
JsonNode      *bayeux_message_get_node        (BayeuxMessage *self);

G_END_DECLS
