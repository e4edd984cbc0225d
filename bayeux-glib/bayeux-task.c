/* bayeux-task.c: back to the application, from an idle: GTasks that
 * return exactly once, and failure reports in order
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see bayeux-glib/README.md): it knows GIO and
 * BayeuxMessage, nothing of the client.
 *
 * Every async call of the client returns exactly once: with the server's
 * answer, with an error when the client stops, when its cancellable is
 * cancelled (at once, from the task's context, whatever the client is
 * doing), or at its deadline. The first of these wins; the others do
 * nothing. A task always returns from an idle of its context, never from
 * inside the state machine: a callback may call back into the client
 * (unsubscribe from a subscribe callback, stop from anywhere) and find it
 * consistent.
 */
#include "bayeux-task-private.h"
#include "bayeux-context-private.h"

#define TASK_RETURNED "bayeux-returned"
#define TASK_HANDLER  "bayeux-cancel-handler"
#define TASK_TIMER    "bayeux-timer"
#define TASK_MESSAGE  "bayeux-returns-message"
#define TASK_TIMEOUT  "bayeux-timeout-error"

/* Whether @task may return now (it has not yet); if so it is marked
 * returned, and its cancel handler and timer go. */
static gboolean
task_begin_return (GTask *task)
{
  gulong handler;

  if (task == NULL || g_object_get_data (G_OBJECT (task), TASK_RETURNED) != NULL)
    return FALSE;
  g_object_set_data (G_OBJECT (task), TASK_RETURNED, GINT_TO_POINTER (1));

  handler = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (task), TASK_HANDLER));
  if (handler != 0)
    g_cancellable_disconnect (g_task_get_cancellable (task), handler);
  g_object_set_data (G_OBJECT (task), TASK_TIMER, NULL);
  return TRUE;
}

typedef struct
{
  GTask         *task;
  GError        *error;
  BayeuxMessage *message;
} Completion;

static gboolean
complete_idle (gpointer user_data)
{
  Completion *c = user_data;

  if (c->error != NULL)
    g_task_return_error (c->task, g_steal_pointer (&c->error));
  else if (g_object_get_data (G_OBJECT (c->task), TASK_MESSAGE) != NULL)
    g_task_return_pointer (c->task, g_steal_pointer (&c->message), (GDestroyNotify) bayeux_message_unref);
  else
    g_task_return_boolean (c->task, TRUE);
  return G_SOURCE_REMOVE;
}

static void
completion_free (gpointer data)
{
  Completion *c = data;

  g_object_unref (c->task);
  g_clear_error (&c->error);
  g_clear_pointer (&c->message, bayeux_message_unref);
  g_free (c);
}

/**
 * bayeux_task_return:
 * @task: (nullable): a task of bayeux_task_new(), or %NULL (nothing done)
 * @message: (nullable): the result of a task that returns a message
 * @error: (transfer full) (nullable): the failure; %NULL: success
 *
 * Returns @task from an idle of its context, unless it returned already
 * (then @error is freed). A task made to return a message returns @message
 * (%NULL on failure); another returns %TRUE.
 */
void
bayeux_task_return (GTask         *task,
                    BayeuxMessage *message,
                    GError        *error)
{
  Completion *c;
  GSource *source;

  if (!task_begin_return (task))
    {
      g_clear_error (&error);
      return;
    }

  c = g_new0 (Completion, 1);
  c->task = g_object_ref (task);
  c->error = error;
  c->message = (message != NULL && error == NULL) ? bayeux_message_ref (message) : NULL;
  source = bayeux_source_attach (g_task_get_context (task), 0, G_PRIORITY_DEFAULT, complete_idle, c, completion_free,
                                 "[bayeux] complete");
  g_source_unref (source);
}

/**
 * bayeux_task_return_all:
 * @tasks: (element-type GTask): tasks, emptied first
 * @error: (nullable): the failure of each; %NULL: success
 *
 * Returns every task of @tasks. The array is emptied before any returns:
 * completing a task must not find it still waiting.
 */
void
bayeux_task_return_all (GPtrArray    *tasks,
                        const GError *error)
{
  g_autoptr(GPtrArray) taken = g_ptr_array_copy (tasks, NULL, NULL);

  g_ptr_array_set_free_func (taken, g_object_unref);
  g_ptr_array_set_free_func (tasks, NULL);
  g_ptr_array_set_size (tasks, 0);
  g_ptr_array_set_free_func (tasks, g_object_unref);
  for (guint i = 0; i < taken->len; i++)
    bayeux_task_return (g_ptr_array_index (taken, i), NULL, error ? g_error_copy (error) : NULL);
}

static gboolean
return_cancelled_idle (gpointer user_data)
{
  GTask *task = user_data;

  if (task_begin_return (task))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled");
  return G_SOURCE_REMOVE;
}

static void
on_task_cancelled (GCancellable *cancellable,
                   gpointer      user_data)
{
  /* May run in any thread: hop to the task's context. */
  GSource *source = bayeux_source_attach (g_task_get_context (G_TASK (user_data)), 0, G_PRIORITY_DEFAULT_IDLE,
                                          return_cancelled_idle, g_object_ref (user_data), g_object_unref,
                                          "[bayeux] cancel");
  g_source_unref (source);
}

/**
 * bayeux_task_new:
 * @source_object: the client
 * @source_tag: the public function
 * @returns_message: whether it returns a #BayeuxMessage (else a boolean)
 * @cancellable: (nullable): cancels the wait: the task returns
 *   %G_IO_ERROR_CANCELLED at once
 * @callback: (scope async): the caller's callback
 * @user_data: its data
 *
 * Returns: (transfer full): a task that returns exactly once
 */
GTask *
bayeux_task_new (gpointer             source_object,
                 gpointer             source_tag,
                 gboolean             returns_message,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (source_object, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  if (returns_message)
    g_object_set_data (G_OBJECT (task), TASK_MESSAGE, GINT_TO_POINTER (1));
  if (cancellable != NULL)
    {
      /* The handler holds no reference (it would be a cycle through the
       * task's own cancellable); it is disconnected before the task is
       * returned, so the task outlives it. */
      gulong handler = g_cancellable_connect (cancellable, G_CALLBACK (on_task_cancelled), task, NULL);
      g_object_set_data (G_OBJECT (task), TASK_HANDLER, GSIZE_TO_POINTER (handler));
    }
  return task;
}

static gboolean
timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  const GError *error = g_object_get_data (G_OBJECT (task), TASK_TIMEOUT);

  bayeux_task_return (task, NULL, g_error_copy (error));
  return G_SOURCE_REMOVE;
}

/**
 * bayeux_task_fail_after:
 * @task: a task of bayeux_task_new()
 * @timeout_ms: its deadline, in milliseconds
 * @error: (transfer full): what it fails with then
 *
 * Gives @task a deadline. The task owns its timer: it goes when the task
 * returns or is freed, so it never outlives it.
 */
void
bayeux_task_fail_after (GTask  *task,
                        guint   timeout_ms,
                        GError *error)
{
  GSource *timer = g_timeout_source_new (timeout_ms);

  g_object_set_data_full (G_OBJECT (task), TASK_TIMEOUT, error, (GDestroyNotify) g_error_free);
  g_source_set_callback (timer, timeout_cb, task, NULL);
  g_source_set_static_name (timer, "[bayeux] remote call timeout");
  g_source_attach (timer, g_task_get_context (task));
  g_object_set_data_full (G_OBJECT (task), TASK_TIMER, timer, bayeux_source_destroy);
}

/* ------------------------------------------------------------------------ */
/* Failure reports: in the order reported, always from an idle of the
 * owner's context (so never from inside a public call).
 *
 * Within a burst (one response or frame from the server, however it is
 * sliced), failures of the same domain and code are told as one: the
 * first, with how many more there were and the first few of their reasons.
 * A response of 500,000 bad elements is one ::error, not 500,000, and the
 * reports held at any time are bounded by the kinds of failure, not by
 * what the server sends.                                                   */

/* The reasons of merged failures kept, and how long each may be. */
#define MAX_MORE_REASONS  3
#define MAX_REASON_CHARS  160
/* Reports held at most; beyond it a report joins the newest one of its
 * kind (kinds are finite, so the queue is bounded still). */
#define MAX_REPORTS       64

typedef struct
{
  GError        *error;
  BayeuxMessage *message;
  guint          more;      /* failures merged into this one */
  GString       *reasons;   /* the first MAX_MORE_REASONS of theirs, or NULL */
} Report;

struct _BayeuxReports
{
  GObject          *owner;   /* not referenced: it owns the reports; held while they go out */
  GMainContext     *context;
  BayeuxReportFunc  func;
  GQueue            queue;   /* Report */
  GSource          *idle;
  guint             burst;   /* depth of begin_burst() calls */
  guint             held;    /* reports of the queue's head made before the burst */
  gboolean          merging; /* the burst's own failures are being reported */
};

static void
report_free (gpointer data)
{
  Report *report = data;

  g_error_free (report->error);
  g_clear_pointer (&report->message, bayeux_message_unref);
  if (report->reasons != NULL)
    g_string_free (report->reasons, TRUE);
  g_free (report);
}

/* The text told for @report: its own, and what was merged into it. */
static void
report_seal (Report *report)
{
  char *text;

  if (report->more == 0)
    return;
  text = g_strdup_printf ("%s (and %u more: %s%s)", report->error->message,
                          report->more, report->reasons->str,
                          report->more > MAX_MORE_REASONS ? "; …" : "");
  g_free (report->error->message);
  report->error->message = text;
  report->more = 0;
}

static gboolean
reports_idle_cb (gpointer user_data)
{
  BayeuxReports *self = user_data;
  GObject *owner = g_object_ref (self->owner);
  Report *report;

  g_clear_pointer (&self->idle, g_source_unref);
  /* During a burst, only the reports from before it go. */
  while ((self->burst == 0 || self->held > 0) && (report = g_queue_pop_head (&self->queue)) != NULL)
    {
      if (self->burst > 0)
        self->held--;
      report_seal (report);
      self->func (owner, report->error, report->message);
      report_free (report);
    }
  g_object_unref (owner);
  return G_SOURCE_REMOVE;
}

static void
reports_schedule (BayeuxReports *self)
{
  if (self->idle != NULL || g_queue_is_empty (&self->queue) || (self->burst > 0 && self->held == 0))
    return;
  self->idle = bayeux_source_attach (self->context, 0, G_PRIORITY_DEFAULT, reports_idle_cb, self, NULL,
                                     "[bayeux] error");
}

/* Reports for @owner, told through @func from idles of @context. */
BayeuxReports *
bayeux_reports_new (GObject          *owner,
                    GMainContext     *context,
                    BayeuxReportFunc  func)
{
  BayeuxReports *self = g_new0 (BayeuxReports, 1);

  self->owner = owner;
  self->context = g_main_context_ref (context);
  self->func = func;
  g_queue_init (&self->queue);
  return self;
}

/* Drops the reports not yet told (the owner is being disposed): an
 * emission under way stops after the report being told. */
void
bayeux_reports_clear (BayeuxReports *self)
{
  g_clear_pointer (&self->idle, bayeux_source_destroy);
  g_queue_clear_full (&self->queue, report_free);
  self->held = 0;
}

/* Frees @self (when the owner is finalized: nothing is being told). */
void
bayeux_reports_free (BayeuxReports *self)
{
  bayeux_reports_clear (self);
  g_main_context_unref (self->context);
  g_free (self);
}

/* Merges @error (taken) into @report. */
static void
report_merge (Report *report,
              GError *error)
{
  if (report->reasons == NULL)
    report->reasons = g_string_new (NULL);
  if (report->more < MAX_MORE_REASONS)
    {
      g_autofree char *reason = g_utf8_substring (error->message, 0,
                                                  MIN (g_utf8_strlen (error->message, -1), MAX_REASON_CHARS));
      g_string_append_printf (report->reasons, "%s%s", report->more > 0 ? "; " : "", reason);
    }
  report->more++;
  g_error_free (error);
}

/* Reports @error (taken) with @message (nullable), after those before it;
 * during a burst, a failure like one already reported in it joins that
 * one. */
void
bayeux_reports_add (BayeuxReports *self,
                    GError        *error,
                    BayeuxMessage *message)
{
  Report *report;

  if (self->burst > 0 && self->merging)
    for (GList *l = g_queue_peek_nth_link (&self->queue, self->held); l != NULL; l = l->next)
      {
        report = l->data;
        if (report->error->domain == error->domain && report->error->code == error->code)
          {
            report_merge (report, error);
            return;
          }
      }
  if (g_queue_get_length (&self->queue) >= MAX_REPORTS)
    for (GList *l = g_queue_peek_tail_link (&self->queue); l != NULL; l = l->prev)
      {
        report = l->data;
        if (report->error->domain == error->domain && report->error->code == error->code)
          {
            report_merge (report, error);
            return;
          }
      }

  report = g_new0 (Report, 1);
  report->error = error;
  report->message = message ? bayeux_message_ref (message) : NULL;
  g_queue_push_tail (&self->queue, report);
  reports_schedule (self);
}

/* Whether the failures reported now are the burst's own (what the
 * elements of the response made the owner report), to be merged; others,
 * made while the burst lasts (between slices), are told after it, apart. */
void
bayeux_reports_set_merging (BayeuxReports *self,
                            gboolean       merging)
{
  self->merging = merging;
}

/* The failures reported until the matching end_burst() come from one
 * response: they are told once it is over, those of a kind as one. */
void
bayeux_reports_begin_burst (BayeuxReports *self)
{
  if (self->burst++ == 0)
    self->held = g_queue_get_length (&self->queue);
}

void
bayeux_reports_end_burst (BayeuxReports *self)
{
  g_return_if_fail (self->burst > 0);

  if (--self->burst == 0)
    {
      self->held = 0;
      reports_schedule (self);
    }
}
