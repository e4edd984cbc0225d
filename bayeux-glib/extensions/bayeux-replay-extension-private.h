/* bayeux-replay-extension-private.h: what the tests read of the replay
 * extension's state file
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bayeux-glib.h"

G_BEGIN_DECLS

/* How many writes of the state file were tried, and how many succeeded,
 * since @self was made. */
void bayeux_replay_extension_get_write_counts (BayeuxReplayExtension *self,
                                               guint                 *attempts,
                                               guint                 *writes);

G_END_DECLS
