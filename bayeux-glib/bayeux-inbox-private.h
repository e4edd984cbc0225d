/* bayeux-inbox-private.h: what the server sent, handled in order, in
 * slices of the main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

#include "bayeux-json-private.h"
#include "bayeux-task-private.h"

G_BEGIN_DECLS

typedef struct _BayeuxInbox BayeuxInbox;

/* What the inbox asks of its owner, for each batch (@batch: the owner's,
 * given to bayeux_inbox_push()). */
typedef struct
{
  /* The batch's first element is about to be handled. */
  void     (*begin)   (GObject        *owner,
                       BayeuxElements *elements,
                       gpointer        batch);
  /* One element and where its text is: @scanned (transfer none), a
   * message whose envelope was read without parsing it (see
   * bayeux_message_new_scanned), or else @element (transfer none), or NULL with
   * @error when it is not JSON (BAYEUX_ERROR_MESSAGE_TOO_LARGE when it
   * was refused unparsed as larger than max-message-size: then
   * @refused_id is the id of the request it replies to, when the split
   * could read one). Returns whether the rest of the batch is still
   * wanted. */
  gboolean (*element) (GObject          *owner,
                       BayeuxMessage    *scanned,
                       JsonNode         *element,
                       const BayeuxSpan *text,
                       const GError     *error,
                       const char       *refused_id,
                       gpointer          batch);
  /* The batch is over (handled, or no longer wanted); takes @batch. */
  void     (*end)     (GObject        *owner,
                       gpointer        batch);
} BayeuxInboxCallbacks;

BayeuxInbox *bayeux_inbox_new   (GObject                    *owner,
                                 GMainContext               *context,
                                 BayeuxReports              *reports,
                                 const BayeuxInboxCallbacks *callbacks,
                                 GDestroyNotify              batch_free);
void         bayeux_inbox_push  (BayeuxInbox                *self,
                                 BayeuxElements             *elements,
                                 gpointer                    batch);
void         bayeux_inbox_then  (BayeuxInbox                *self,
                                 void                      (*func) (GObject *owner, gpointer data),
                                 gpointer                    data,
                                 GDestroyNotify              destroy);
void         bayeux_inbox_clear (BayeuxInbox                *self);
void         bayeux_inbox_free  (BayeuxInbox                *self);

G_END_DECLS
