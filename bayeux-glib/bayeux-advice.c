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

#include <string.h>

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
  self->stop_reason[0] = '\0';
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

/* Sets what stopped the client: reconnect NONE, because of @reason. */
static void
advise_stop (BayeuxAdvice *self,
             const char   *reason)
{
  self->reconnect = BAYEUX_RECONNECT_NONE;
  g_strlcpy (self->stop_reason, reason, sizeof self->stop_reason);
}

/* The fields of one level of an advice (the general one, or the section
 * of our transport). Returns whether it said how to reconnect: a
 * `reconnect` field (a string), or a negative `interval`. */
static gboolean
apply_fields (BayeuxAdvice *self,
              JsonObject   *advice,
              JsonArray   **hosts,
              GPtrArray   **errors)
{
  const char *reconnect;
  double interval = 0;
  gboolean advised = FALSE;

  /* A negative interval: "the message should not be retried" (Bayeux 1.0,
   * `interval` advice field). Not a bad value: a stop, as reconnect none. */
  if (bayeux_json_get_number (advice, "interval", &interval) && interval < 0)
    {
      char reason[sizeof self->stop_reason];

      if (interval >= -1e9)
        g_snprintf (reason, sizeof reason, "interval: %.0f", interval);
      else
        g_strlcpy (reason, "a negative interval", sizeof reason);
      advise_stop (self, reason);
      advised = TRUE;
    }
  else
    get_ms (advice, "interval", BAYEUX_ADVICE_MAX_INTERVAL, &self->out_of_range[0], errors, &self->interval);
  get_ms (advice, "timeout", BAYEUX_ADVICE_MAX_TIMEOUT, &self->out_of_range[1], errors, &self->timeout);
  get_ms (advice, "maxInterval", BAYEUX_ADVICE_MAX_MAX_INTERVAL, &self->out_of_range[2], errors,
          &self->max_interval);

  if (json_object_has_member (advice, "hosts"))
    {
      JsonNode *node = json_object_get_member (advice, "hosts");

      if (JSON_NODE_HOLDS_ARRAY (node))
        *hosts = json_node_get_array (node);
      else
        add_error (errors, g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                                "Bad advice from the server: “hosts” is not an array; ignored"));
    }

  if (!json_object_has_member (advice, "reconnect") || advised)
    return advised;
  reconnect = bayeux_json_get_string (advice, "reconnect");
  if (reconnect == NULL)
    {
      add_error (errors, g_error_new_literal (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                              "Bad advice from the server: “reconnect” is not a string; ignored"));
      return FALSE;
    }

  if (g_str_equal (reconnect, "none"))
    advise_stop (self, "reconnect: none");
  else if (g_str_equal (reconnect, "handshake"))
    self->reconnect = BAYEUX_RECONNECT_HANDSHAKE;
  else if (g_str_equal (reconnect, "retry"))
    self->reconnect = BAYEUX_RECONNECT_RETRY;
  else
    {
      /* "Any client that does not implement all defined values of
       * reconnect MUST NOT automatically retry or handshake": a value we
       * do not know is not a retry. Quoted only when short and plain. */
      char reason[sizeof self->stop_reason];
      gboolean plain = strlen (reconnect) <= 24;

      for (const char *p = reconnect; plain && *p != '\0'; p++)
        plain = g_ascii_isprint (*p) && *p != '"';
      if (plain)
        g_snprintf (reason, sizeof reason, "reconnect: “%s”, not understood", reconnect);
      else
        g_strlcpy (reason, "a reconnect value not understood", sizeof reason);
      advise_stop (self, reason);
    }
  return TRUE;
}

/* Applies the `advice` object of a message: newer advice replaces older,
 * field by field. The section named after @transport (the transport in
 * use, as `"websocket": {...}`; nullable) overlays the general fields
 * (Bayeux 1.0: "Advice fields may occur either in the top level of an
 * advice object or within a transport specific section"); sections of
 * other transports are ignored. Each bad field is left out and described
 * by a BAYEUX_ERROR_BAD_RESPONSE appended to *@errors (made when needed).
 * *@hosts is set to the `hosts` array (borrowed from @advice) when there
 * is one, left untouched else.
 *
 * A negative `interval`, or a `reconnect` value that is none of retry,
 * handshake and none, sets reconnect NONE (a stop):
 * bayeux_advice_stop_reason() then says why.
 *
 * Returns whether the advice said how to reconnect (a valid `reconnect`
 * field, or a negative interval). */
gboolean
bayeux_advice_apply (BayeuxAdvice *self,
                     JsonObject   *advice,
                     const char   *transport,
                     JsonArray   **hosts,
                     GPtrArray   **errors)
{
  JsonNode *section = NULL;
  gboolean advised;

  if (advice == NULL)
    return FALSE;

  if (transport != NULL && json_object_has_member (advice, transport))
    {
      section = json_object_get_member (advice, transport);
      if (!JSON_NODE_HOLDS_OBJECT (section))
        {
          add_error (errors, g_error_new (BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE,
                                          "Bad advice from the server: its “%s” section is not an object; ignored",
                                          transport));
          section = NULL;
        }
    }

  advised = apply_fields (self, advice, hosts, errors);
  if (section != NULL && apply_fields (self, json_node_get_object (section), hosts, errors))
    advised = TRUE;
  return advised;
}

/* Why the advice said to stop (reconnect is NONE): "reconnect: none", a
 * negative interval, or a reconnect value not understood. */
const char *
bayeux_advice_stop_reason (BayeuxAdvice *self)
{
  return self->stop_reason[0] != '\0' ? self->stop_reason : "reconnect: none";
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
