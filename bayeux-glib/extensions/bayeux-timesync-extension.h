/* bayeux-timesync-extension.h: CometD's clock synchronization extension
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

#define BAYEUX_TYPE_TIMESYNC_EXTENSION (bayeux_timesync_extension_get_type ())

BAYEUX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BayeuxTimesyncExtension, bayeux_timesync_extension,
                      BAYEUX, TIMESYNC_EXTENSION, GObject)

BAYEUX_AVAILABLE_IN_ALL
BayeuxTimesyncExtension *bayeux_timesync_extension_new             (void);
BAYEUX_AVAILABLE_IN_ALL
gint64                   bayeux_timesync_extension_get_offset      (BayeuxTimesyncExtension *self);
BAYEUX_AVAILABLE_IN_ALL
gint64                   bayeux_timesync_extension_get_lag         (BayeuxTimesyncExtension *self);
BAYEUX_AVAILABLE_IN_ALL
gint64                   bayeux_timesync_extension_get_server_time (BayeuxTimesyncExtension *self);

G_END_DECLS
