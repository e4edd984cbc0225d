/* bayeux-channel.h: channel names
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__BAYEUX_GLIB_INSIDE__) && !defined(BAYEUX_COMPILATION)
#error "Only <bayeux-glib/bayeux-glib.h> can be included directly."
#endif

#include <glib.h>
#include "bayeux-version.h"

G_BEGIN_DECLS

/**
 * BayeuxChannelFlags:
 * @BAYEUX_CHANNEL_NONE: a plain channel name: no wildcard allowed.
 * @BAYEUX_CHANNEL_ALLOW_WILDCARD: a trailing `*` or `**` segment is allowed
 *   (subscriptions).
 * @BAYEUX_CHANNEL_ALLOW_META: `/meta/` channels are allowed (they are
 *   reserved to the protocol; the client refuses them from applications).
 * @BAYEUX_CHANNEL_ALLOW_FILTER: a filter after the name is allowed, as the
 *   Salesforce Streaming API's PushTopic channels take on subscribe:
 *   `/topic/InvoiceStatementUpdates?Status__c=Open&Amount__c=100` (a name
 *   without wildcard, `?`, then one or more `field=value` joined by `&`;
 *   a value may be quoted: `City='San Francisco'`).
 *
 * What [func@Bayeux.channel_validate] accepts.
 *
 * Since: 1.0
 */
typedef enum /*< flags >*/ {
  BAYEUX_CHANNEL_NONE           = 0,
  BAYEUX_CHANNEL_ALLOW_WILDCARD = 1 << 0,
  BAYEUX_CHANNEL_ALLOW_META     = 1 << 1,
  BAYEUX_CHANNEL_ALLOW_FILTER   = 1 << 2,
} BayeuxChannelFlags;

BAYEUX_AVAILABLE_IN_ALL
gboolean bayeux_channel_validate (const char          *channel,
                                  BayeuxChannelFlags   flags,
                                  GError             **error);
BAYEUX_AVAILABLE_IN_ALL
gboolean bayeux_channel_matches  (const char          *pattern,
                                  const char          *channel);

G_END_DECLS
