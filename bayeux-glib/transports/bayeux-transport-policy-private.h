/* bayeux-transport-policy-private.h: which transport the next connect uses
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "bayeux-message.h"

G_BEGIN_DECLS

typedef struct _BayeuxTransportPolicy BayeuxTransportPolicy;

BayeuxTransportPolicy *bayeux_transport_policy_new         (void);
void                   bayeux_transport_policy_free        (BayeuxTransportPolicy *self);
GStrv                  bayeux_transport_policy_known       (const char * const    *names);
gboolean               bayeux_transport_policy_set_allowed (BayeuxTransportPolicy *self,
                                                            GStrv                  names);
const char * const    *bayeux_transport_policy_get_allowed    (BayeuxTransportPolicy *self);
gboolean bayeux_transport_policy_allows         (BayeuxTransportPolicy *self,
                                                 const char            *name);
gboolean bayeux_transport_policy_start_session  (BayeuxTransportPolicy *self,
                                                 BayeuxMessage         *reply,
                                                 GError               **error);
gboolean bayeux_transport_policy_handshake_websocket   (BayeuxTransportPolicy *self);
gboolean bayeux_transport_policy_handshake_sent        (BayeuxTransportPolicy *self,
                                                        gboolean               socket_open);
gboolean bayeux_transport_policy_handshake_open_failed (BayeuxTransportPolicy *self,
                                                        const GError          *error);
void     bayeux_transport_policy_rehandshake           (BayeuxTransportPolicy *self,
                                                        gboolean               socket_open);
gboolean bayeux_transport_policy_want_websocket (BayeuxTransportPolicy *self);
void     bayeux_transport_policy_connected      (BayeuxTransportPolicy *self,
                                                 gboolean               websocket,
                                                 gboolean               held);
gboolean bayeux_transport_policy_settled        (BayeuxTransportPolicy *self);
gboolean bayeux_transport_policy_open_failed    (BayeuxTransportPolicy *self,
                                                 const GError          *error,
                                                 guint                 *retry_in_s);
void     bayeux_transport_policy_opened         (BayeuxTransportPolicy *self);
void     bayeux_transport_policy_set_clock      (BayeuxTransportPolicy *self,
                                                 gint64               (*now) (void));
gboolean bayeux_transport_policy_lost           (BayeuxTransportPolicy *self,
                                                 const GError          *error,
                                                 GError               **fallback);

G_END_DECLS
