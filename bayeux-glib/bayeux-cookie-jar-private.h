/* bayeux-cookie-jar-private.h: the cookie jar of the client's own session, bounded
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* What the jar holds at most: cookies, and bytes of their names and values
 * (each counted as it goes in a Cookie header, "name=value; "). */
#define BAYEUX_COOKIE_JAR_MAX_COOKIES 50
#define BAYEUX_COOKIE_JAR_MAX_BYTES   8192

void bayeux_cookie_jar_add_bounded (SoupSession  *session,
                                    GMainContext *context);

G_END_DECLS
