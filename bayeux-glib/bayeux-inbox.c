/* bayeux-inbox.c: what the server sent, handled in order, in slices of the
 * main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see bayeux-glib/README.md): it answers through the
 * callback table the client hands in; it calls nothing of the client by
 * name.
 *
 * Each response (or WebSocket frame) comes as BayeuxElements: the body as
 * it came and the span of each message in it. The inbox parses one element
 * at a time and hands it to the client, so that only the message being
 * handled has a parse tree: a response costs about its own size in memory,
 * whatever the number of messages in it. Batches are handled in the order
 * they came, each from its first element to its last; one that takes
 * longer than SLICE_US goes on from an idle of the main loop, so that a
 * response of 100,000 messages never blocks the application for long. A
 * batch that fits in a slice (nearly all) is handled at once, from the
 * transport's callback, as before there were slices. A batch is one burst
 * of the failure reports (one ::error for each kind of failure in it), and
 * is logged whole under BAYEUX_DEBUG=wire.
 */
#include "bayeux-inbox-private.h"
#include "bayeux-context-private.h"
#include "bayeux-debug-private.h"
#include "bayeux-message-private.h"

/* How long one slice may run (µs), checked every CHECK_EVERY elements. */
#define SLICE_US     10000
#define CHECK_EVERY  16

typedef struct
{
  BayeuxElements *elements;
  gpointer        batch;
  guint           next;     /* the next element to handle */
  gboolean        begun;
  void          (*then) (GObject *owner, gpointer data);   /* or a call, in its turn */
  GDestroyNotify  destroy;  /* of the call's batch (data) */
} Item;

struct _BayeuxInbox
{
  GObject                    *owner;       /* not referenced: it owns the inbox; held while it runs */
  GMainContext               *context;
  BayeuxReports              *reports;     /* the owner's */
  const BayeuxInboxCallbacks *callbacks;
  GDestroyNotify              batch_free;
  GQueue                      queue;       /* Item, in order */
  GSource                    *idle;        /* the next slice */
  gboolean                    running;
  guint                       epoch;       /* bumped by clear(): a run under way stops */
};

static void
item_free (Item *item)
{
  g_clear_pointer (&item->elements, bayeux_elements_unref);
  if (item->then != NULL && item->destroy != NULL && item->batch != NULL)
    item->destroy (item->batch);
  g_free (item);
}

static void
log_wire (BayeuxElements *elements)
{
  g_autoptr(JsonArray) array = bayeux_elements_to_array (elements, NULL);
  g_autoptr(JsonNode) node = array != NULL ? json_node_init_array (json_node_alloc (), array) : NULL;

  if (node != NULL)
    bayeux_debug_wire ("<<<", node);
  else   /* not shown: its text may hold what the redaction hides */
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "<<< (%u messages, one of them not JSON)",
                      bayeux_elements_get_length (elements));
}

static void run (BayeuxInbox *self);

static gboolean
slice_cb (gpointer user_data)
{
  BayeuxInbox *self = user_data;

  g_clear_pointer (&self->idle, g_source_unref);
  run (self);
  return G_SOURCE_REMOVE;
}

/* Handles the queued batches until the slice's time is up. */
static void
run (BayeuxInbox *self)
{
  GObject *owner = self->owner;
  guint epoch = self->epoch;
  gint64 start = g_get_monotonic_time ();
  guint handled = 0;
  Item *item;

  if (self->running)
    return;   /* a handler iterated the main loop: the outer run goes on */
  self->running = TRUE;
  g_object_ref (owner);

  while ((item = g_queue_peek_head (&self->queue)) != NULL)
    {
      guint length;
      gboolean wanted = TRUE;

      if (item->then != NULL)
        {
          g_queue_pop_head (&self->queue);
          item->then (owner, item->batch);
          item_free (item);
          if (epoch != self->epoch)
            goto out;
          continue;
        }
      length = bayeux_elements_get_length (item->elements);

      if (!item->begun)
        {
          item->begun = TRUE;
          if (bayeux_debug_flags () & BAYEUX_DEBUG_WIRE)
            log_wire (item->elements);
          bayeux_reports_begin_burst (self->reports);
          self->callbacks->begin (owner, item->elements, item->batch);
          if (epoch != self->epoch)
            goto out;
        }
      while (wanted && item->next < length)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(JsonNode) element = NULL;
          g_autoptr(BayeuxMessage) scanned = NULL;
          BayeuxSpan text;
          guint index = item->next;

          if (++handled % CHECK_EVERY == 0 && g_get_monotonic_time () - start > SLICE_US)
            {
              self->idle = bayeux_source_attach (self->context, 0, G_PRIORITY_DEFAULT, slice_cb, self, NULL,
                                                 "[bayeux] incoming slice");
              goto out;
            }
          bayeux_elements_get_span (item->elements, item->next, &text);
          /* Most messages are read by their envelope; the others parsed. */
          if (text.body != NULL)
            scanned = bayeux_message_new_scanned (&text);
          if (scanned != NULL)
            item->next++;
          else
            element = bayeux_elements_parse (item->elements, item->next++, &error);
          /* What the element makes the owner report joins the burst. */
          bayeux_reports_set_merging (self->reports, TRUE);
          wanted = self->callbacks->element (owner, scanned, element, &text, error,
                                             element == NULL && scanned == NULL
                                               ? bayeux_elements_get_refused_id (item->elements, index)
                                                             : NULL,
                                             item->batch);
          bayeux_reports_set_merging (self->reports, FALSE);
          if (epoch != self->epoch)
            goto out;
        }
      g_queue_pop_head (&self->queue);
      {
        gpointer batch = g_steal_pointer (&item->batch);

        item_free (item);
        bayeux_reports_end_burst (self->reports);
        self->callbacks->end (owner, batch);
      }
      if (epoch != self->epoch)
        goto out;
    }

out:
  self->running = FALSE;
  g_object_unref (owner);
}

BayeuxInbox *
bayeux_inbox_new (GObject                    *owner,
                  GMainContext               *context,
                  BayeuxReports              *reports,
                  const BayeuxInboxCallbacks *callbacks,
                  GDestroyNotify              batch_free)
{
  BayeuxInbox *self = g_new0 (BayeuxInbox, 1);

  self->owner = owner;
  self->context = g_main_context_ref (context);
  self->reports = reports;
  self->callbacks = callbacks;
  self->batch_free = batch_free;
  g_queue_init (&self->queue);
  return self;
}

/* Queues @batch (taken) with @elements and handles what it can now. */
void
bayeux_inbox_push (BayeuxInbox    *self,
                   BayeuxElements *elements,
                   gpointer        batch)
{
  Item *item = g_new0 (Item, 1);

  item->elements = bayeux_elements_ref (elements);
  item->batch = batch;
  g_queue_push_tail (&self->queue, item);
  if (self->idle == NULL)
    run (self);
}

/* Calls @func (@owner, @data) once what is queued before it is handled:
 * at once when nothing is. @data is freed with @destroy after the call, or
 * when the inbox is cleared. */
void
bayeux_inbox_then (BayeuxInbox    *self,
                   void          (*func) (GObject *owner, gpointer data),
                   gpointer        data,
                   GDestroyNotify  destroy)
{
  Item *item = g_new0 (Item, 1);

  item->then = func;
  item->batch = data;
  item->destroy = destroy;
  g_queue_push_tail (&self->queue, item);
  if (self->idle == NULL)
    run (self);
}

/* Drops what is queued, without telling the owner (it is being disposed):
 * a run under way stops after the element being handled. */
void
bayeux_inbox_clear (BayeuxInbox *self)
{
  Item *item;

  self->epoch++;
  g_clear_pointer (&self->idle, bayeux_source_destroy);
  item = g_queue_peek_head (&self->queue);
  if (item != NULL && item->begun)
    bayeux_reports_end_burst (self->reports);
  while ((item = g_queue_pop_head (&self->queue)) != NULL)
    {
      if (item->batch != NULL && item->then == NULL)
        self->batch_free (item->batch);
      item_free (item);
    }
}

void
bayeux_inbox_free (BayeuxInbox *self)
{
  bayeux_inbox_clear (self);
  g_main_context_unref (self->context);
  g_free (self);
}
