/* bayeux-clock-watch-private.h: noticing that the system was suspended
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct _BayeuxClockWatch BayeuxClockWatch;

/* Called when the system was suspended for about @seconds. */
typedef void (*BayeuxSuspendFunc) (GObject *owner,
                                   gint64   seconds);

BayeuxClockWatch *bayeux_clock_watch_new        (GObject           *owner,
                                                 GMainContext      *context,
                                                 BayeuxSuspendFunc  func);
void              bayeux_clock_watch_free       (BayeuxClockWatch  *self);
void              bayeux_clock_watch_set_active (BayeuxClockWatch  *self,
                                                 gboolean           active);
gboolean          bayeux_clock_watch_check      (BayeuxClockWatch  *self,
                                                 gint64             wall_now,
                                                 gint64             monotonic_now,
                                                 gint64            *seconds);

G_END_DECLS
