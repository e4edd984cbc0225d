/* bayeux-message-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bayeux-message.h"

G_BEGIN_DECLS

BayeuxMessage *bayeux_message_new_take_object (JsonObject *object);

G_END_DECLS
