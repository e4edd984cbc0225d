/* bayeux-replay-extension.h: the Salesforce Streaming API replay extension
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

/**
 * BAYEUX_REPLAY_NEW_EVENTS:
 *
 * The replay id that asks for the events published from now on only
 * (Salesforce's `-1`): the default [property@ReplayExtension:default-replay-id].
 *
 * Since: 1.0
 */
#define BAYEUX_REPLAY_NEW_EVENTS (-1)

/**
 * BAYEUX_REPLAY_ALL_EVENTS:
 *
 * The replay id that asks for every event the server still keeps, then
 * the new ones (Salesforce's `-2`).
 *
 * Since: 1.0
 */
#define BAYEUX_REPLAY_ALL_EVENTS (-2)

#define BAYEUX_TYPE_REPLAY_EXTENSION (bayeux_replay_extension_get_type ())

BAYEUX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BayeuxReplayExtension, bayeux_replay_extension,
                      BAYEUX, REPLAY_EXTENSION, GObject)

BAYEUX_AVAILABLE_IN_ALL
BayeuxReplayExtension *bayeux_replay_extension_new                 (void);
BAYEUX_AVAILABLE_IN_ALL
BayeuxReplayExtension *bayeux_replay_extension_new_with_state_file (const char *path);
BAYEUX_AVAILABLE_IN_ALL
gint64   bayeux_replay_extension_get_default_replay_id (BayeuxReplayExtension *self);
BAYEUX_AVAILABLE_IN_ALL
void     bayeux_replay_extension_set_default_replay_id (BayeuxReplayExtension *self,
                                                        gint64                 replay_id);
BAYEUX_AVAILABLE_IN_ALL
gboolean bayeux_replay_extension_get_replay_id         (BayeuxReplayExtension *self,
                                                        const char            *channel,
                                                        gint64                *replay_id);
BAYEUX_AVAILABLE_IN_ALL
void     bayeux_replay_extension_set_replay_id         (BayeuxReplayExtension *self,
                                                        const char            *channel,
                                                        gint64                 replay_id);
BAYEUX_AVAILABLE_IN_ALL
const char *bayeux_replay_extension_get_state_file     (BayeuxReplayExtension *self);
BAYEUX_AVAILABLE_IN_ALL
void     bayeux_replay_extension_set_state_file        (BayeuxReplayExtension *self,
                                                        const char            *path);
BAYEUX_AVAILABLE_IN_ALL
gboolean bayeux_replay_extension_load                  (BayeuxReplayExtension  *self,
                                                        GError                **error);
BAYEUX_AVAILABLE_IN_ALL
gboolean bayeux_replay_extension_save                  (BayeuxReplayExtension  *self,
                                                        GError                **error);

G_END_DECLS
