/* bayeux-subscriptions.c: the subscription table, dispatch and listeners
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see the top of bayeux-client.c): a plain struct
 * that answers by return value; the client hands in the function that
 * emits its ::message signal. It calls nothing of the client by name (the
 * client pointer is only passed on to listeners).
 *
 * The table holds the application's subscriptions by channel (or
 * pattern), whether or not the server confirmed them: they outlive
 * sessions, and are sent again after each handshake. A message is
 * dispatched to each subscription it matches, found by hash lookups of the
 * few patterns that can match its channel (bayeux_channel_candidates),
 * whatever the number of subscriptions. Listeners (add_listener) are
 * called after the signal, found by hash lookup too, then the ::message
 * signal of each handle (BayeuxSubscription) on the subscription.
 *
 * An entry holds the live handles on its channel (bayeux_client_subscribe
 * makes one, its "legacy" handle; add_subscription one per call), in the
 * order made; the entry goes with its last handle. Every live handle is
 * also in the list model the application sees (get_model).
 */
#include "bayeux-subscriptions-private.h"
#include "bayeux-error.h"
#include "bayeux-channel-private.h"
#include "bayeux-task-private.h"

#include <string.h>

/* A listener: called for the messages of one subscription. Reference
 * counted: a dispatch holds the ones it calls, and a removed one is only
 * marked. */
typedef struct
{
  gatomicrefcount    ref;
  guint              id;
  gboolean           removed;
  char              *pattern;
  BayeuxMessageFunc  func;
  gpointer           user_data;
  GDestroyNotify     notify;
} Listener;

/* The list of live handles the application sees: a GListModel it cannot
 * change (a GListStore would let it append or remove items). */
#define HANDLE_TYPE_LIST (handle_list_get_type ())
G_DECLARE_FINAL_TYPE (HandleList, handle_list, HANDLE, LIST, GObject)

struct _HandleList
{
  GObject    parent_instance;
  GPtrArray *items;   /* BayeuxSubscription*, a reference each */
};

static GType
handle_list_get_item_type (GListModel *model)
{
  return BAYEUX_TYPE_SUBSCRIPTION;
}

static guint
handle_list_get_n_items (GListModel *model)
{
  return HANDLE_LIST (model)->items->len;
}

static gpointer
handle_list_get_item (GListModel *model,
                      guint       position)
{
  HandleList *self = HANDLE_LIST (model);

  return position < self->items->len ? g_object_ref (g_ptr_array_index (self->items, position)) : NULL;
}

static void
handle_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = handle_list_get_item_type;
  iface->get_n_items = handle_list_get_n_items;
  iface->get_item = handle_list_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (HandleList, handle_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, handle_list_model_init))

static void
handle_list_finalize (GObject *object)
{
  g_ptr_array_unref (HANDLE_LIST (object)->items);
  G_OBJECT_CLASS (handle_list_parent_class)->finalize (object);
}

static void
handle_list_class_init (HandleListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = handle_list_finalize;
}

static void
handle_list_init (HandleList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

/* Empties @self; one items-changed, none when it was empty. */
static void
handle_list_clear (HandleList *self)
{
  guint n = self->items->len;

  if (n == 0)
    return;
  g_ptr_array_set_size (self->items, 0);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
}

struct _BayeuxSubscriptions
{
  GHashTable *table;          /* channel → BayeuxSubEntry */
  GHashTable *listeners;      /* pattern → GPtrArray of Listener, in the order added */
  GHashTable *listener_ids;   /* id → Listener (borrowed from listeners) */
  guint       last_listener_id;
  guint       last_lookups;
  HandleList *model;          /* every live handle, in the order made */
  GHashTable *filtered;       /* base channel → GPtrArray of the filtered subscriptions on it */
};

BayeuxSubEntry *
bayeux_sub_entry_ref (BayeuxSubEntry *sub)
{
  sub->refs++;
  return sub;
}

void
bayeux_sub_entry_unref (BayeuxSubEntry *sub)
{
  if (--sub->refs > 0)
    return;
  g_free (sub->channel);
  g_ptr_array_unref (sub->waiting);
  g_ptr_array_unref (sub->handles);
  g_free (sub);
}

/* A copy of @handles, holding a reference on each. */
static GPtrArray *
handles_copy (GPtrArray *handles)
{
  GPtrArray *copy = g_ptr_array_new_full (handles->len, g_object_unref);

  for (guint i = 0; i < handles->len; i++)
    g_ptr_array_add (copy, g_object_ref (g_ptr_array_index (handles, i)));
  return copy;
}

static Listener *
listener_ref (Listener *listener)
{
  g_atomic_ref_count_inc (&listener->ref);
  return listener;
}

/* The data goes with the last reference: after the dispatch that is calling
 * it, if a listener is removed (or the client disposed) from inside. */
static void
listener_unref (Listener *listener)
{
  if (!g_atomic_ref_count_dec (&listener->ref))
    return;
  if (listener->notify != NULL)
    listener->notify (listener->user_data);
  g_free (listener->pattern);
  g_free (listener);
}

/* Adds (@add) or removes @channel in the index of filtered subscriptions
 * by base name, if it has a filter ("/topic/X?a=b": Salesforce delivers
 * their messages on the base name). */
static void
filter_index (BayeuxSubscriptions *self,
              const char          *channel,
              gboolean             add)
{
  const char *filter = strchr (channel, '?');
  g_autofree char *base = NULL;
  GPtrArray *list;

  if (filter == NULL)
    return;
  base = g_strndup (channel, (gsize) (filter - channel));
  list = g_hash_table_lookup (self->filtered, base);
  if (add)
    {
      if (list == NULL)
        {
          list = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (self->filtered, g_steal_pointer (&base), list);
        }
      g_ptr_array_add (list, g_strdup (channel));
      return;
    }
  for (guint i = 0; list != NULL && i < list->len; i++)
    if (g_str_equal (g_ptr_array_index (list, i), channel))
      {
        g_ptr_array_remove_index (list, i);
        break;
      }
  if (list != NULL && list->len == 0)
    g_hash_table_remove (self->filtered, base);
}

/* An empty table, with no listener. */
BayeuxSubscriptions *
bayeux_subscriptions_new (void)
{
  BayeuxSubscriptions *self = g_new0 (BayeuxSubscriptions, 1);

  self->table = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) bayeux_sub_entry_unref);
  self->listeners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  self->listener_ids = g_hash_table_new (NULL, NULL);
  self->model = g_object_new (HANDLE_TYPE_LIST, NULL);
  self->filtered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  return self;
}

/* The client goes: every live handle ends (unsubscribed) and leaves the
 * model, and the subscriptions go with them. */
void
bayeux_subscriptions_end_handles (BayeuxSubscriptions *self)
{
  GList *entries = g_hash_table_get_values (self->table);
  g_autoptr(GError) gone = g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_DISCONNECTED, "The client is gone");

  g_hash_table_steal_all (self->table);
  g_hash_table_remove_all (self->filtered);
  for (GList *l = entries; l != NULL; l = l->next)
    {
      BayeuxSubEntry *sub = l->data;

      sub->removed = TRUE;
      bayeux_task_return_all (sub->waiting, gone);
      bayeux_subscriptions_set_state (self, sub, BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED, NULL);
    }
  g_list_free_full (entries, (GDestroyNotify) bayeux_sub_entry_unref);
  handle_list_clear (self->model);
}

/* Frees the table; the listeners go first (bayeux_subscriptions_remove_listeners),
 * and every live handle ends (bayeux_subscriptions_end_handles). */
void
bayeux_subscriptions_free (BayeuxSubscriptions *self)
{
  bayeux_subscriptions_remove_listeners (self);
  bayeux_subscriptions_end_handles (self);
  g_object_unref (self->model);
  g_hash_table_unref (self->filtered);
  g_hash_table_unref (self->table);
  g_hash_table_unref (self->listener_ids);
  g_hash_table_unref (self->listeners);
  g_free (self);
}

/* The subscription to @channel, or NULL. */
BayeuxSubEntry *
bayeux_subscriptions_lookup (BayeuxSubscriptions *self,
                             const char          *channel)
{
  return g_hash_table_lookup (self->table, channel);
}

/* The subscription to @channel, made (unconfirmed) when there is none. */
BayeuxSubEntry *
bayeux_subscriptions_add (BayeuxSubscriptions *self,
                          const char          *channel)
{
  BayeuxSubEntry *sub = g_hash_table_lookup (self->table, channel);

  if (sub == NULL)
    {
      sub = g_new0 (BayeuxSubEntry, 1);
      sub->channel = g_strdup (channel);
      sub->quark = g_quark_from_string (channel);
      sub->waiting = g_ptr_array_new_with_free_func (g_object_unref);
      sub->handles = g_ptr_array_new_with_free_func (g_object_unref);
      sub->refs = 1;   /* the table's */
      g_hash_table_insert (self->table, sub->channel, sub);
      filter_index (self, sub->channel, TRUE);
    }
  return sub;
}

/* Ends the subscription to @channel (its waiting calls done, its handles
 * gone): out of the table; who still holds the entry sees it removed. */
void
bayeux_subscriptions_remove (BayeuxSubscriptions *self,
                             const char          *channel)
{
  BayeuxSubEntry *sub = g_hash_table_lookup (self->table, channel);

  if (sub == NULL)
    return;
  g_warn_if_fail (sub->handles->len == 0);
  sub->removed = TRUE;
  filter_index (self, sub->channel, FALSE);
  g_hash_table_remove (self->table, channel);
}

/* The live handles, as a list model (transfer none). */
GListModel *
bayeux_subscriptions_get_model (BayeuxSubscriptions *self)
{
  return G_LIST_MODEL (self->model);
}

/* Adds @handle (live) to @sub and to the model. The model's
 * items-changed comes last: its handlers (which may cancel handles, even
 * this one) find the table as it now is. The caller holds @sub. */
void
bayeux_subscriptions_attach (BayeuxSubscriptions *self,
                             BayeuxSubEntry      *sub,
                             BayeuxSubscription  *handle)
{
  g_ptr_array_add (sub->handles, g_object_ref (handle));
  g_ptr_array_add (self->model->items, g_object_ref (handle));
  g_list_model_items_changed (G_LIST_MODEL (self->model), self->model->items->len - 1, 0, 1);
}

/* Takes @handle out of @sub and of the model; items-changed last, as in
 * attach. The caller holds @sub. */
void
bayeux_subscriptions_detach (BayeuxSubscriptions *self,
                             BayeuxSubEntry      *sub,
                             BayeuxSubscription  *handle)
{
  guint position;

  g_object_ref (handle);   /* the arrays may hold the last references */
  if (sub->legacy == handle)
    sub->legacy = NULL;
  g_ptr_array_remove (sub->handles, handle);
  if (g_ptr_array_find (self->model->items, handle, &position))
    {
      g_ptr_array_remove_index (self->model->items, position);
      g_list_model_items_changed (G_LIST_MODEL (self->model), position, 1, 0);
    }
  g_object_unref (handle);
}

/* Moves every handle of @sub to @state (a final one takes them out of the
 * model too), with @error (nullable). */
void
bayeux_subscriptions_set_state (BayeuxSubscriptions     *self,
                                BayeuxSubEntry          *sub,
                                BayeuxSubscriptionState  state,
                                const GError            *error)
{
  g_autoptr(GPtrArray) handles = handles_copy (sub->handles);
  gboolean final = state == BAYEUX_SUBSCRIPTION_STATE_REFUSED || state == BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED;

  /* Only the handles of now: one a handler makes meanwhile is another
   * subscription's start, and stays. Handlers may end the entry: held. */
  bayeux_sub_entry_ref (sub);
  if (final)
    for (guint i = 0; i < handles->len; i++)
      if (g_ptr_array_find (sub->handles, g_ptr_array_index (handles, i), NULL))
        bayeux_subscriptions_detach (self, sub, g_ptr_array_index (handles, i));
  /* A notify handler may cancel handles: each is looked at on its own. */
  bayeux_sub_entry_unref (sub);
  for (guint i = 0; i < handles->len; i++)
    bayeux_subscription_set_state (g_ptr_array_index (handles, i), state, error);
}

/* The ext of the next /meta/subscribe of @sub: its handles' ext objects
 * merged, newer members winning. Returns: (transfer full) (nullable) */
JsonNode *
bayeux_subscriptions_merged_ext (BayeuxSubEntry *sub)
{
  JsonObject *merged = NULL;
  JsonNode *node;

  for (guint i = 0; i < sub->handles->len; i++)
    {
      JsonNode *ext = bayeux_subscription_peek_ext (g_ptr_array_index (sub->handles, i));
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      if (ext == NULL)
        continue;
      if (merged == NULL)
        merged = json_object_new ();
      json_object_iter_init (&iter, json_node_get_object (ext));
      while (json_object_iter_next (&iter, &name, &member))
        json_object_set_member (merged, name, json_node_copy (member));
    }
  if (merged == NULL)
    return NULL;
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, merged);
  return node;
}

/* The server forgot them (or the client stopped): every subscription is
 * unconfirmed and none in flight; with @reason, their waiting calls fail. */
void
bayeux_subscriptions_reset (BayeuxSubscriptions *self,
                            const GError        *reason)
{
  GHashTableIter iter;
  BayeuxSubEntry *sub;

  g_hash_table_iter_init (&iter, self->table);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &sub))
    {
      sub->confirmed = FALSE;
      sub->in_flight = FALSE;
      if (reason != NULL)
        bayeux_task_return_all (sub->waiting, reason);
    }
  /* Then the handles' notifications, the table no longer walked (a
   * handler may cancel one, which may end its entry). */
  {
    g_autoptr(GPtrArray) handles = handles_copy (self->model->items);

    for (guint i = 0; i < handles->len; i++)
      bayeux_subscription_set_state (g_ptr_array_index (handles, i), BAYEUX_SUBSCRIPTION_STATE_PENDING, reason);
  }
}

/* The subscriptions to send: neither confirmed nor in flight. They are
 * marked in flight. Returns: (transfer container): the entries */
GPtrArray *
bayeux_subscriptions_take_unsent (BayeuxSubscriptions *self)
{
  GPtrArray *unsent = g_ptr_array_new ();
  GHashTableIter iter;
  BayeuxSubEntry *sub;

  g_hash_table_iter_init (&iter, self->table);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &sub))
    if (!sub->confirmed && !sub->in_flight)
      {
        sub->in_flight = TRUE;
        g_ptr_array_add (unsent, sub);
      }
  return unsent;
}

/* @message to the subscription @pattern, if there is one: @emit, the
 * listeners, the handles. Returns whether there was. */
static gboolean
dispatch_to (BayeuxSubscriptions *self,
             BayeuxClient        *client,
             const char          *pattern,
             BayeuxMessage       *message,
             BayeuxEmitFunc       emit)
{
  BayeuxSubEntry *sub = g_hash_table_lookup (self->table, pattern);

  self->last_lookups++;
  if (sub == NULL)
    return FALSE;
  emit (client, pattern, sub->quark, message);
  bayeux_subscriptions_call_listeners (self, client, pattern, message);
  /* Looked up again: a handler may unsubscribe. */
  sub = g_hash_table_lookup (self->table, pattern);
  if (sub != NULL && sub->handles->len == 1)
    {
      g_autoptr(BayeuxSubscription) one = g_object_ref (g_ptr_array_index (sub->handles, 0));
      bayeux_subscription_deliver (one, message);
    }
  else if (sub != NULL)
    {
      /* A copy: a handler may cancel handles or make new ones (which hear
       * the next message). */
      g_autoptr(GPtrArray) handles = handles_copy (sub->handles);

      for (guint j = 0; j < handles->len; j++)
        bayeux_subscription_deliver (g_ptr_array_index (handles, j), message);
    }
  return TRUE;
}

/* Dispatches @message (its channel valid, without wildcards) to each
 * subscription it matches: @emit, then the listeners. Returns whether it
 * matched one. */
gboolean
bayeux_subscriptions_dispatch (BayeuxSubscriptions *self,
                               BayeuxClient        *client,
                               BayeuxMessage       *message,
                               BayeuxEmitFunc       emit)
{
  const char *channel = bayeux_message_get_channel (message);
  gboolean matched = FALSE;
  gsize length;
  char stack[256];
  char *candidate;
  const char *slash;

  /* A filtered name, or filtered subscriptions: the general way. */
  if (g_hash_table_size (self->filtered) > 0 || strchr (channel, '?') != NULL)
    {
      g_autoptr(GPtrArray) candidates = bayeux_channel_candidates (channel);
      /* A message on /topic/X is for the filtered subscriptions /topic/X?… too. */
      GPtrArray *filtered = g_hash_table_lookup (self->filtered, channel);

      for (guint i = 0; filtered != NULL && i < filtered->len; i++)
        g_ptr_array_add (candidates, g_strdup (g_ptr_array_index (filtered, i)));
      self->last_lookups = 0;   /* dispatch_to() counts each */
      for (guint i = 0; i < candidates->len; i++)
        matched |= dispatch_to (self, client, g_ptr_array_index (candidates, i), message, emit);
      return matched;
    }

  /* The candidates of bayeux_channel_candidates(), in its order, made in
   * one buffer (no allocation for each message): the channel, its
   * parent's "/*", then each ancestor's "/**" up to "/**". */
  self->last_lookups = 0;
  length = strlen (channel);
  candidate = length + 4 <= sizeof stack ? stack : g_malloc (length + 4);
  matched |= dispatch_to (self, client, channel, message, emit);
  slash = strrchr (channel, '/');
  if (slash != NULL)
    {
      gsize at = (gsize) (slash - channel);

      memcpy (candidate, channel, at);
      memcpy (candidate + at, "/*", 3);
      matched |= dispatch_to (self, client, candidate, message, emit);
    }
  for (gsize at = length; at > 0; at--)
    if (channel[at] == '/')
      {
        memcpy (candidate, channel, at);
        memcpy (candidate + at, "/**", 4);
        matched |= dispatch_to (self, client, candidate, message, emit);
      }
  matched |= dispatch_to (self, client, "/**", message, emit);
  if (candidate != stack)
    g_free (candidate);
  return matched;
}

/* The number of table lookups the last dispatch made. */
guint
bayeux_subscriptions_get_last_lookups (BayeuxSubscriptions *self)
{
  return self->last_lookups;
}

/* Adds a listener for @pattern; returns its id (never 0). */
guint
bayeux_subscriptions_add_listener (BayeuxSubscriptions *self,
                                   const char          *pattern,
                                   BayeuxMessageFunc    func,
                                   gpointer             user_data,
                                   GDestroyNotify       notify)
{
  Listener *listener = g_new0 (Listener, 1);
  GPtrArray *list;

  g_atomic_ref_count_init (&listener->ref);
  do
    listener->id = ++self->last_listener_id;
  while (listener->id == 0 || g_hash_table_contains (self->listener_ids, GUINT_TO_POINTER (listener->id)));
  listener->pattern = g_strdup (pattern);
  listener->func = func;
  listener->user_data = user_data;
  listener->notify = notify;

  list = g_hash_table_lookup (self->listeners, listener->pattern);
  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func ((GDestroyNotify) listener_unref);
      g_hash_table_insert (self->listeners, g_strdup (pattern), list);
    }
  g_ptr_array_add (list, listener);   /* the table's reference */
  g_hash_table_insert (self->listener_ids, GUINT_TO_POINTER (listener->id), listener);
  return listener->id;
}

/* Marks it removed and takes it out of the tables; its data goes with its
 * last reference (listener_unref). */
static void
listener_remove (BayeuxSubscriptions *self,
                 Listener            *listener)
{
  GPtrArray *list = g_hash_table_lookup (self->listeners, listener->pattern);

  listener_ref (listener);
  listener->removed = TRUE;
  g_hash_table_remove (self->listener_ids, GUINT_TO_POINTER (listener->id));
  if (list != NULL)
    {
      g_ptr_array_remove (list, listener);   /* drops the table's reference */
      if (list->len == 0)
        g_hash_table_remove (self->listeners, listener->pattern);
    }
  listener_unref (listener);
}

/* Removes the listener @id; FALSE when there is none. */
gboolean
bayeux_subscriptions_remove_listener (BayeuxSubscriptions *self,
                                      guint                id)
{
  Listener *listener = g_hash_table_lookup (self->listener_ids, GUINT_TO_POINTER (id));

  if (listener == NULL)
    return FALSE;
  listener_remove (self, listener);
  return TRUE;
}

/* Removes every listener (a GJS or Python closure may hold the client:
 * that cycle ends here). */
void
bayeux_subscriptions_remove_listeners (BayeuxSubscriptions *self)
{
  while (g_hash_table_size (self->listener_ids) > 0)
    {
      GHashTableIter iter;
      gpointer listener;

      g_hash_table_iter_init (&iter, self->listener_ids);
      g_hash_table_iter_next (&iter, NULL, &listener);
      listener_remove (self, listener);
    }
}

/* Calls the listeners of @pattern, in the order they were added; each one
 * added before this call and not removed by the time its turn comes. */
void
bayeux_subscriptions_call_listeners (BayeuxSubscriptions *self,
                                     BayeuxClient        *client,
                                     const char          *pattern,
                                     BayeuxMessage       *message)
{
  GPtrArray *list;
  Listener *one;
  g_autoptr(GPtrArray) several = NULL;

  /* Most clients have none: no hashing of the pattern for each message. */
  if (g_hash_table_size (self->listeners) == 0)
    return;
  list = g_hash_table_lookup (self->listeners, pattern);
  if (list == NULL)
    return;
  if (list->len == 1)
    {
      one = listener_ref (g_ptr_array_index (list, 0));
      one->func (client, message, one->user_data);
      listener_unref (one);
      return;
    }

  /* A copy: a listener may add or remove listeners (or dispose the
   * client, which removes them all). */
  several = g_ptr_array_new_full (list->len, (GDestroyNotify) listener_unref);
  for (guint i = 0; i < list->len; i++)
    g_ptr_array_add (several, listener_ref (g_ptr_array_index (list, i)));
  for (guint i = 0; i < several->len; i++)
    {
      Listener *listener = g_ptr_array_index (several, i);

      if (!listener->removed)
        listener->func (client, message, listener->user_data);
    }
}
