/* bayeux-glib.h: the single public header of bayeux-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define __BAYEUX_GLIB_INSIDE__

#include "bayeux-version.h"
#include "bayeux-enums.h"
#include "bayeux-error.h"
#include "bayeux-channel.h"
#include "bayeux-message.h"
#include "bayeux-extension.h"
#include "bayeux-subscription.h"
#include "bayeux-client.h"
#include "extensions/bayeux-ack-extension.h"
#include "extensions/bayeux-replay-extension.h"
#include "extensions/bayeux-timesync-extension.h"

#undef __BAYEUX_GLIB_INSIDE__
