/* bayeux-task-private.h: GTasks that return exactly once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "bayeux-message.h"

G_BEGIN_DECLS

GTask *bayeux_task_new        (gpointer             source_object,
                               gpointer             source_tag,
                               gboolean             returns_message,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data);
void   bayeux_task_return     (GTask               *task,
                               BayeuxMessage       *message,
                               GError              *error);
void   bayeux_task_fail_after (GTask               *task,
                               guint                timeout_ms,
                               GError              *error);
void   bayeux_task_return_all (GPtrArray           *tasks,
                               const GError        *error);

/* Failures reported to the application, in order, from an idle. */
typedef struct _BayeuxReports BayeuxReports;

/* Reports @error (with @message, nullable) to the application. */
typedef void (*BayeuxReportFunc) (GObject       *owner,
                                  const GError  *error,
                                  BayeuxMessage *message);

BayeuxReports *bayeux_reports_new  (GObject          *owner,
                                    GMainContext     *context,
                                    BayeuxReportFunc  func);
void           bayeux_reports_clear (BayeuxReports    *self);
void           bayeux_reports_free (BayeuxReports    *self);
void           bayeux_reports_add  (BayeuxReports    *self,
                                    GError           *error,
                                    BayeuxMessage    *message);
void           bayeux_reports_begin_burst (BayeuxReports *self);
void           bayeux_reports_set_merging (BayeuxReports *self,
                                           gboolean       merging);
void           bayeux_reports_end_burst   (BayeuxReports *self);

G_END_DECLS
