/* bayeux-context-private.h: main-context helpers: the thread rule of
 * BayeuxClient, and letting a source go
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A client belongs to the main context it was created in: it is used from
 * the thread that runs that context. A call from another thread while the
 * context's own thread runs it would race with the client's callbacks (and
 * trips GLib's own checks): every public entry point refuses it with a
 * critical that names the rule, never a crash.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Destroys @source and drops the caller's reference: a GDestroyNotify for
 * g_clear_pointer (&source, bayeux_source_destroy). */
static inline void
bayeux_source_destroy (gpointer source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

/* A source calling @func (@data, freed with @notify) from @context, at
 * @priority: a timer of @delay_ms, or an idle with @delay_ms 0. @name is
 * static. Returns: (transfer full): the source, attached */
static inline GSource *
bayeux_source_attach (GMainContext   *context,
                      guint           delay_ms,
                      gint            priority,
                      GSourceFunc     func,
                      gpointer        data,
                      GDestroyNotify  notify,
                      const char     *name)
{
  GSource *source = delay_ms > 0 ? g_timeout_source_new (delay_ms) : g_idle_source_new ();

  g_source_set_priority (source, priority);
  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, name);
  g_source_attach (source, context);
  return source;
}

/* Whether the calling thread may use what belongs to @context: it runs
 * (owns) @context, or nobody does and it may take it. */
static inline gboolean
bayeux_context_usable (GMainContext *context)
{
  if (context == NULL || g_main_context_is_owner (context))
    return TRUE;
  /* Another thread may hold the context for a moment without running it:
   * GIO's worker threads acquire the global default context in
   * g_main_context_invoke() (seen under Valgrind: a TLS handshake's). A
   * thread that runs the context holds it for good: asked again for up to
   * 5 ms before the answer is no. */
  for (int i = 0; i < 100; i++)
    {
      if (g_main_context_acquire (context))
        {
          g_main_context_release (context);
          return TRUE;
        }
      g_usleep (50);
    }
  return FALSE;
}

#define BAYEUX_THREAD_RULE "called from another thread than its main context's: a BayeuxClient is used from " \
                           "the thread that runs the main context it was created in (see “Main context” in its " \
                           "documentation)"

/* The thread rule at a public entry point of what belongs to @context: the
 * caller may use it; else a critical naming the rule, and return (@val). */
#define BAYEUX_THREAD_CHECK_VAL(context, val)                           \
  G_STMT_START {                                                        \
    if (G_UNLIKELY (!bayeux_context_usable (context)))                  \
      {                                                                 \
        g_critical ("%s: " BAYEUX_THREAD_RULE, G_STRFUNC);              \
        return (val);                                                   \
      }                                                                 \
  } G_STMT_END

#define BAYEUX_THREAD_CHECK(context)                                    \
  G_STMT_START {                                                        \
    if (G_UNLIKELY (!bayeux_context_usable (context)))                  \
      {                                                                 \
        g_critical ("%s: " BAYEUX_THREAD_RULE, G_STRFUNC);              \
        return;                                                         \
      }                                                                 \
  } G_STMT_END

/* The checks at a public entry point of BayeuxClient (in the client's own
 * files, which include bayeux-client-private.h): @self is a client, and
 * the caller may use it; else a critical, and return (@val). */
#define BAYEUX_CLIENT_CHECK_VAL(self, val)                              \
  G_STMT_START {                                                        \
    g_return_val_if_fail (BAYEUX_IS_CLIENT (self), val);                \
    BAYEUX_THREAD_CHECK_VAL (bayeux_client_get_context (self), val);    \
  } G_STMT_END

#define BAYEUX_CLIENT_CHECK(self)                                       \
  G_STMT_START {                                                        \
    g_return_if_fail (BAYEUX_IS_CLIENT (self));                         \
    BAYEUX_THREAD_CHECK (bayeux_client_get_context (self));             \
  } G_STMT_END

G_END_DECLS
