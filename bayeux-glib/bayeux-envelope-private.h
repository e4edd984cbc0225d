/* bayeux-envelope-private.h: a message's envelope read straight from its
 * text, without building a tree
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The value of the 4 hex digits at @p (a \u escape's), or -1. */
static inline int
bayeux_hex4 (const char *p,
             const char *end)
{
  int value = 0;

  if (end - p < 4)
    return -1;
  for (int i = 0; i < 4; i++)
    {
      int digit = g_ascii_xdigit_value (p[i]);

      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }
  return value;
}

typedef enum
{
  BAYEUX_ENVELOPE_CHANNEL,
  BAYEUX_ENVELOPE_ID,
  BAYEUX_ENVELOPE_CLIENT_ID,
  BAYEUX_ENVELOPE_ERROR,
  BAYEUX_ENVELOPE_SUBSCRIPTION,
  BAYEUX_ENVELOPE_SUCCESSFUL,
  BAYEUX_ENVELOPE_DATA,
  BAYEUX_ENVELOPE_N_FIELDS
} BayeuxEnvelopeField;

/* Where each member is in the text: for a string member, its characters
 * (between the quotes, no escape in them); for `id`, a string's
 * characters or an integer's digits (id_kind); for `data`, its whole JSON
 * value. */
typedef struct
{
  guint  seen;                                  /* 1 << field */
  gsize  offset[BAYEUX_ENVELOPE_N_FIELDS];
  gsize  length[BAYEUX_ENVELOPE_N_FIELDS];
  gboolean successful;
  enum { BAYEUX_ENVELOPE_ID_STRING, BAYEUX_ENVELOPE_ID_INTEGER, BAYEUX_ENVELOPE_ID_NULL } id_kind;
} BayeuxEnvelope;

#define BAYEUX_ENVELOPE_HAS(env, field) (((env)->seen & (1u << (field))) != 0)

/* Reads the envelope of @data, one element of a body (UTF-8 and within
 * BAYEUX_MAX_JSON_DEPTH: the split checked both). TRUE only when the
 * element is a message that the library's parser would take as it is and
 * that the envelope says all of: an object whose members are among
 * `channel`, `id`, `clientId`, `error`, `subscription`, `successful` and
 * `data`, each once, the strings without escapes or control characters,
 * `channel` starting with '/', `id` a string, null or a plain integer
 * written in at most 18 characters (its sign included), `subscription` a string, `successful` a boolean, and
 * `data` valid JSON (checked here: grammar, escapes, member names unique
 * in each object). FALSE for anything else, valid or not: the caller then
 * parses the element as before, which reports what is wrong with it. */
gboolean bayeux_envelope_scan (const char     *data,
                               gsize           length,
                               BayeuxEnvelope *envelope);

G_END_DECLS
