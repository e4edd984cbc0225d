/* bayeux-message.h
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

#define BAYEUX_TYPE_MESSAGE (bayeux_message_get_type ())

typedef struct _BayeuxMessage BayeuxMessage;

BAYEUX_AVAILABLE_IN_ALL
GType          bayeux_message_get_type       (void) G_GNUC_CONST;
BAYEUX_AVAILABLE_IN_ALL
BayeuxMessage *bayeux_message_new_from_json  (JsonNode       *node,
                                              GError        **error);
BAYEUX_AVAILABLE_IN_ALL
BayeuxMessage *bayeux_message_ref            (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
void           bayeux_message_unref          (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
const char    *bayeux_message_get_channel    (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
const char    *bayeux_message_get_id         (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
const char    *bayeux_message_get_client_id  (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
JsonNode      *bayeux_message_get_data       (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
const char    *bayeux_message_get_data_json  (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
gboolean       bayeux_message_has_successful (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
gboolean       bayeux_message_get_successful (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
const char    *bayeux_message_get_error      (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
const char    *bayeux_message_get_subscription (BayeuxMessage *self);
BAYEUX_AVAILABLE_IN_ALL
JsonObject    *bayeux_message_get_advice     (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
JsonObject    *bayeux_message_get_ext        (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
JsonObject    *bayeux_message_get_object     (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
JsonNode      *bayeux_message_to_json        (BayeuxMessage  *self);
BAYEUX_AVAILABLE_IN_ALL
char          *bayeux_message_to_string      (BayeuxMessage  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BayeuxMessage, bayeux_message_unref)

G_END_DECLS
