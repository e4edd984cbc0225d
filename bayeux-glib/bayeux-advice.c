/* bayeux-advice.c: the server's advice and the backoff policy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A room of the client (see the top of bayeux-client.c): a plain struct
 * that answers by return value; it knows json-glib and the error domain,
 * nothing of the client.
 */
#include "bayeux-advice-private.h"
#include "bayeux-error.h"
#include "bayeux-json-private.h"

/* Sets the advice of a new client: no interval, @timeout (ms) until the
 * server says otherwise. */
void
bayeux_advice_init (BayeuxAdvice *self,
                    gint64        timeout)
{
  *self = (BayeuxAdvice) { .reconnect = BAYEUX_RECONNECT_RETRY, .timeout = timeout };
}

/* What a (re)started client forgets: the backoff, `reconnect` and
 * `interval`. The advised timeout is kept. */
void
bayeux_advice_restart (BayeuxAdvice *self)
{
  self->backoff = 0;
  self->reconnect = BAYEUX_RECONNECT_RETRY;
  self->interval = 0;
}

/* Appends @error (taken) to *@errors, made when needed. */
static void
add_error (GPtrArray **errors,
           GError    *error)
{
  if (*errors == NULL)
    *errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_ptr_array_add (*errors, error);
}

/* Reads the duration @name of @advice. Absent: FALSE, *out untouched.
 * Present but not a number of milliseconds (a string, a negative number):
 * an error appended to @errors, and *out untouched. A value above @max is
 * bounded to it, so that a hostile server cannot make us wait for days,
 * and reported once (again only when the server changes it). */
static gboolean
get_ms (JsonObject *advice,
        const char *name,
        gint64      max,
        double     *reported,
        GPtrArray **errors,
        gint64     *out)
{
  double value = -1;

  if (!json_object_has_member (advice, name))
    return FALSE;
  bayeux_json_get_number (advice, name, &value);
  if (!(value >= 0))
    {
      add_error (errors, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                      "Bad advice from the server: “%s” is not a duration in milliseconds; ignored",
                                      name));
      return FALSE;
    }

  if (value > (double) max)
    {
      if (value != *reported)
        add_error (errors, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                        "Bad advice from the server: “%s” of %.0f ms is out of range; %"
                                        G_GINT64_FORMAT " ms used instead", name, value, max));
      *reported = value;
      *out = max;
      return TRUE;
    }
  *reported = 0;
  *out = (gint64) value;
  return TRUE;
}

/* Applies the `advice` object of a message: newer advice replaces older,
 * field by field. Each bad field is left out and described by a
 * BAYEUX_ERROR_BAD_RESPONSE appended to *@errors (made when needed).
 * Returns whether the advice carried a valid `reconnect` field. */
gboolean
bayeux_advice_apply (BayeuxAdvice *self,
                     JsonObject   *advice,
                     GPtrArray   **errors)
{
  const char *reconnect;

  if (advice == NULL)
    return FALSE;

  get_ms (advice, "interval", BAYEUX_ADVICE_MAX_INTERVAL, &self->out_of_range[0], errors, &self->interval);
  get_ms (advice, "timeout", BAYEUX_ADVICE_MAX_TIMEOUT, &self->out_of_range[1], errors, &self->timeout);
  get_ms (advice, "maxInterval", BAYEUX_ADVICE_MAX_MAX_INTERVAL, &self->out_of_range[2], errors,
          &self->max_interval);

  if (!json_object_has_member (advice, "reconnect"))
    return FALSE;
  reconnect = bayeux_json_get_string (advice, "reconnect");
  if (reconnect == NULL)
    {
      add_error (errors, g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                              "Bad advice from the server: “reconnect” is not a string; ignored"));
      return FALSE;
    }

  if (g_str_equal (reconnect, "none"))
    self->reconnect = BAYEUX_RECONNECT_NONE;
  else if (g_str_equal (reconnect, "handshake"))
    self->reconnect = BAYEUX_RECONNECT_HANDSHAKE;
  else
    self->reconnect = BAYEUX_RECONNECT_RETRY;
  return TRUE;
}

/* The delay before retrying after one more failure (ms): the advised
 * interval plus a backoff that grows by @increment up to @max_backoff. The
 * backoff is jittered (75 %–100 %) so that many clients cut off together
 * do not come back in lockstep.
 *
 * @retry_after: what the server asked for (Retry-After, ms from now; 0:
 * nothing) is the least delay, up to @max_backoff: a server may slow the
 * client down as far as the application lets its own backoff grow, never
 * further (a Retry-After of days does not silence the client). */
gint64
bayeux_advice_next_failure_delay (BayeuxAdvice *self,
                                  guint         increment,
                                  guint         max_backoff,
                                  gint64        retry_after)
{
  guint64 backoff = (guint64) self->backoff + increment;
  guint jittered;

  self->backoff = (guint) MIN (backoff, (guint64) max_backoff);
  jittered = self->backoff - (guint) (g_random_double () * self->backoff / 4.0);
  return MAX (self->interval + MAX (jittered, 1), MIN (retry_after, (gint64) max_backoff));
}
