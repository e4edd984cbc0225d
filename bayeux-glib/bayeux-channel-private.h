/* bayeux-channel-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean   bayeux_channel_is_meta    (const char *channel);
GPtrArray *bayeux_channel_candidates (const char *channel);

G_END_DECLS
