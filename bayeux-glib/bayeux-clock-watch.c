/* bayeux-clock-watch.c: noticing that the system was suspended
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see the top of bayeux-client.c): a plain struct
 * with a callback; it knows GLib, nothing of the client.
 *
 * After a suspend, a long poll in flight is dead (the server gave up on
 * it, or its connection is gone), but nothing says so until its deadline:
 * the client wants to start again at once. The monotonic clock stops
 * during a suspend and the wall clock does not, so a wall clock that moved
 * further than the monotonic one means a suspend. On Linux the kernel says
 * when the wall clock jumps (a timerfd cancelled on clock changes and on
 * resume), so an idle client learns of a suspend without waking up; one
 * such timer serves every client of a main context. Elsewhere, a timer
 * compares the clocks every few seconds.
 */
#include "bayeux-clock-watch-private.h"
#include "bayeux-context-private.h"

#ifdef __linux__
#include <errno.h>
#include <glib-unix.h>
#include <sys/timerfd.h>
#include <unistd.h>
#endif

/* How much further the wall clock must have moved than the monotonic
 * clock for it to be a suspend, and, where the kernel cannot tell us when
 * the clocks jump, how often to look. */
#define WATCHDOG_PERIOD_S     5
#define SUSPEND_THRESHOLD_US  (10 * G_USEC_PER_SEC)

struct _BayeuxClockWatch
{
  GObject           *owner;       /* not referenced: it owns the watch */
  GMainContext      *context;
  BayeuxSuspendFunc  func;
  gboolean           shared;      /* in the kernel's clock watch of its context */
  GSource           *watchdog;    /* else: a timer */
  gint64             wall;
  gint64             monotonic;
};

/**
 * bayeux_clock_watch_check:
 * @self: a watch
 * @wall_now: the wall clock (µs)
 * @monotonic_now: the monotonic clock (µs)
 * @seconds: (out): about how long the system was suspended
 *
 * Compares the clocks with their last reading (and keeps these).
 *
 * Returns: whether the system was suspended since the last reading
 */
gboolean
bayeux_clock_watch_check (BayeuxClockWatch *self,
                          gint64            wall_now,
                          gint64            monotonic_now,
                          gint64           *seconds)
{
  gint64 wall_delta = wall_now - self->wall;
  gint64 monotonic_delta = monotonic_now - self->monotonic;

  self->wall = wall_now;
  self->monotonic = monotonic_now;
  *seconds = (wall_delta - monotonic_delta) / G_USEC_PER_SEC;
  return wall_delta - monotonic_delta > SUSPEND_THRESHOLD_US;
}

static void
check_now (BayeuxClockWatch *self)
{
  gint64 seconds;

  if (bayeux_clock_watch_check (self, g_get_real_time (), g_get_monotonic_time (), &seconds))
    self->func (self->owner, seconds);
}

#ifdef __linux__
/* A timer on the wall clock, set to the far future, that the kernel cancels
 * when the wall clock jumps relative to the monotonic clock: when it is
 * set, and on resume from a suspend (timerfd_resume). */
static gboolean
clock_jump_arm (int fd)
{
  struct itimerspec spec = { { 0, 0 }, { G_MAXINT32, 0 } };

  return timerfd_settime (fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, NULL) == 0;
}

/* One timer a main context, shared by the watches of that context: an
 * application with many clients does not hold a file descriptor each. */
typedef struct
{
  int        fd;
  GSource   *source;
  GPtrArray *watches;   /* BayeuxClockWatch: they leave before they go */
} SharedWatch;

static GMutex      shared_lock;
static GHashTable *shared_watches;   /* GMainContext → SharedWatch */

static gboolean
clock_jump_cb (gint         fd,
               GIOCondition condition,
               gpointer     user_data)
{
  GMainContext *context = user_data;
  g_autoptr(GPtrArray) watches = g_ptr_array_new ();
  g_autoptr(GPtrArray) owners = g_ptr_array_new_with_free_func (g_object_unref);
  guint64 expirations;
  SharedWatch *shared;

  /* ECANCELED: the clock jumped. The timer must be armed again. */
  if (read (fd, &expirations, sizeof expirations) < 0 && errno != ECANCELED && errno != EAGAIN)
    return G_SOURCE_CONTINUE;
  clock_jump_arm (fd);

  /* The owners are held during the calls: a call may drop another
   * client, whose watch then stays until its owner goes. */
  g_mutex_lock (&shared_lock);
  shared = shared_watches ? g_hash_table_lookup (shared_watches, context) : NULL;
  for (guint i = 0; shared != NULL && i < shared->watches->len; i++)
    {
      BayeuxClockWatch *watch = g_ptr_array_index (shared->watches, i);

      g_ptr_array_add (watches, watch);
      g_ptr_array_add (owners, g_object_ref (watch->owner));
    }
  g_mutex_unlock (&shared_lock);

  for (guint i = 0; i < watches->len; i++)
    check_now (g_ptr_array_index (watches, i));
  return G_SOURCE_CONTINUE;
}

/* Adds @self to the shared watch of its context; FALSE when the kernel has
 * no such timer. */
static gboolean
shared_add (BayeuxClockWatch *self)
{
  SharedWatch *shared;

  g_mutex_lock (&shared_lock);
  if (shared_watches == NULL)
    shared_watches = g_hash_table_new (NULL, NULL);
  shared = g_hash_table_lookup (shared_watches, self->context);
  if (shared == NULL)
    {
      int fd = timerfd_create (CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);

      if (fd < 0 || !clock_jump_arm (fd))
        {
          if (fd >= 0)
            close (fd);
          g_mutex_unlock (&shared_lock);
          return FALSE;
        }
      shared = g_new0 (SharedWatch, 1);
      shared->fd = fd;
      shared->watches = g_ptr_array_new ();
      shared->source = g_unix_fd_source_new (fd, G_IO_IN);
      g_source_set_callback (shared->source, (GSourceFunc) G_CALLBACK (clock_jump_cb), self->context, NULL);
      g_source_set_static_name (shared->source, "[bayeux] suspend watchdog");
      g_source_attach (shared->source, self->context);
      g_hash_table_insert (shared_watches, self->context, shared);
    }
  g_ptr_array_add (shared->watches, self);
  g_mutex_unlock (&shared_lock);
  return TRUE;
}

static void
shared_remove (BayeuxClockWatch *self)
{
  SharedWatch *shared;

  g_mutex_lock (&shared_lock);
  shared = shared_watches ? g_hash_table_lookup (shared_watches, self->context) : NULL;
  if (shared != NULL && g_ptr_array_remove_fast (shared->watches, self) && shared->watches->len == 0)
    {
      g_hash_table_remove (shared_watches, self->context);
      bayeux_source_destroy (shared->source);
      close (shared->fd);
      g_ptr_array_unref (shared->watches);
      g_free (shared);
    }
  g_mutex_unlock (&shared_lock);
}
#endif

static gboolean
watchdog_cb (gpointer user_data)
{
  BayeuxClockWatch *self = user_data;
  GObject *owner = g_object_ref (self->owner);

  check_now (self);
  g_object_unref (owner);
  return G_SOURCE_CONTINUE;
}

/**
 * bayeux_clock_watch_new:
 * @owner: the object @func is called for, held during each call
 * @context: the context to watch in
 * @func: called from @context after a suspend, while the watch is active
 *
 * Returns: (transfer full): an inactive watch
 */
BayeuxClockWatch *
bayeux_clock_watch_new (GObject           *owner,
                        GMainContext      *context,
                        BayeuxSuspendFunc  func)
{
  BayeuxClockWatch *self = g_new0 (BayeuxClockWatch, 1);

  self->owner = owner;
  self->context = g_main_context_ref (context);
  self->func = func;
  return self;
}

/**
 * bayeux_clock_watch_set_active:
 * @self: a watch
 * @active: whether to watch
 *
 * Starts or stops watching (the clocks are read anew when it starts). An
 * active watch costs one wake-up every few seconds where the kernel cannot
 * say when the clocks jump (coalesced with others by
 * g_timeout_source_new_seconds()), none elsewhere.
 */
void
bayeux_clock_watch_set_active (BayeuxClockWatch *self,
                               gboolean          active)
{
  if (active && !self->shared && self->watchdog == NULL)
    {
      self->wall = g_get_real_time ();
      self->monotonic = g_get_monotonic_time ();
#ifdef __linux__
      self->shared = shared_add (self);
#endif
      if (!self->shared)
        {
          self->watchdog = g_timeout_source_new_seconds (WATCHDOG_PERIOD_S);
          g_source_set_callback (self->watchdog, watchdog_cb, self, NULL);
          g_source_set_static_name (self->watchdog, "[bayeux] suspend watchdog");
          g_source_attach (self->watchdog, self->context);
        }
    }
  else if (!active)
    {
#ifdef __linux__
      if (self->shared)
        shared_remove (self);
#endif
      self->shared = FALSE;
      g_clear_pointer (&self->watchdog, bayeux_source_destroy);
    }
}

/* Stops watching and frees @self. */
void
bayeux_clock_watch_free (BayeuxClockWatch *self)
{
  bayeux_clock_watch_set_active (self, FALSE);
  g_main_context_unref (self->context);
  g_free (self);
}
