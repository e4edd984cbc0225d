/* bayeux-ack-extension.h: CometD's message acknowledgement extension
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__BAYEUX_GLIB_INSIDE__) && !defined(BAYEUX_COMPILATION)
#error "Only <bayeux-glib/bayeux-glib.h> can be included directly."
#endif

#include <glib-object.h>
#include <bayeux-glib/bayeux-version.h>
#include <bayeux-glib/bayeux-extension.h>

G_BEGIN_DECLS

#define BAYEUX_TYPE_ACK_EXTENSION (bayeux_ack_extension_get_type ())

BAYEUX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BayeuxAckExtension, bayeux_ack_extension, BAYEUX, ACK_EXTENSION, GObject)

BAYEUX_AVAILABLE_IN_ALL
BayeuxAckExtension *bayeux_ack_extension_new        (void);
BAYEUX_AVAILABLE_IN_ALL
gboolean            bayeux_ack_extension_get_active (BayeuxAckExtension *self);

G_END_DECLS
