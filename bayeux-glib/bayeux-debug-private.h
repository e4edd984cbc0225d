/* bayeux-debug-private.h: BAYEUX_DEBUG handling
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum {
  BAYEUX_DEBUG_WIRE = 1 << 0,
  BAYEUX_DEBUG_HTTP = 1 << 1,
} BayeuxDebugFlags;

guint  bayeux_debug_flags         (void);
char  *bayeux_debug_redact        (JsonNode    *messages);
void   bayeux_debug_wire          (const char  *direction,
                                   JsonNode    *messages);
void   bayeux_debug_attach_logger (SoupSession *session);

G_END_DECLS
