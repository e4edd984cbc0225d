/* scan-check.h: the envelope scan (bayeux_message_new_scanned) against the
 * parser, for one element of a body; shared by test-json and the fuzz
 * target
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where the scan takes an element, the parser must take it too, and the
 * two messages must say the same thing through every getter: channel, id,
 * clientId, error, subscription, successful, data (the same JSON text),
 * the data's text as received, the whole message. Where the scan says no,
 * nothing is checked: the parser then decides, as it always did.
 */
#pragma once

#include "bayeux-glib.h"
#include "bayeux-json-private.h"
#include "bayeux-message-private.h"

#include <string.h>

/* A node's JSON text, or NULL for NULL: json_node_equal() takes 4 and 4.0
 * for equal, the text does not. */
static inline char *
scan_check_text (JsonNode *node)
{
  return node != NULL ? bayeux_json_to_string (node) : NULL;
}

/* Whether the scan took element @index of @elements (checked to agree with
 * the parser when it did). */
static inline gboolean
scan_check_element (BayeuxElements *elements,
                    guint           index)
{
  g_autoptr(BayeuxMessage) scanned = NULL;
  g_autoptr(BayeuxMessage) parsed = NULL;
  g_autoptr(JsonNode) element = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *scanned_data = NULL;
  g_autofree char *parsed_data = NULL;
  g_autofree char *scanned_text = NULL;
  g_autofree char *parsed_text = NULL;
  BayeuxSpan span;

  bayeux_elements_get_span (elements, index, &span);
  if (span.body == NULL)
    return FALSE;
  scanned = bayeux_message_new_scanned (&span);
  if (scanned == NULL)
    return FALSE;

  element = bayeux_elements_parse (elements, index, &error);
  g_assert_no_error (error);
  g_assert_nonnull (element);
  parsed = bayeux_message_new_received (element, &span, &error);
  g_assert_no_error (error);
  g_assert_nonnull (parsed);

  g_assert_cmpstr (bayeux_message_get_channel (scanned), ==, bayeux_message_get_channel (parsed));
  g_assert_cmpstr (bayeux_message_get_id (scanned), ==, bayeux_message_get_id (parsed));
  g_assert_cmpstr (bayeux_message_get_client_id (scanned), ==, bayeux_message_get_client_id (parsed));
  g_assert_cmpstr (bayeux_message_get_error (scanned), ==, bayeux_message_get_error (parsed));
  g_assert_cmpstr (bayeux_message_get_subscription (scanned), ==, bayeux_message_get_subscription (parsed));
  g_assert_cmpint (bayeux_message_has_successful (scanned), ==, bayeux_message_has_successful (parsed));
  g_assert_cmpint (bayeux_message_get_successful (scanned), ==, bayeux_message_get_successful (parsed));
  g_assert_null (bayeux_message_get_advice (scanned));
  g_assert_null (bayeux_message_get_ext (scanned));

  scanned_data = scan_check_text (bayeux_message_get_data (scanned));
  parsed_data = scan_check_text (bayeux_message_get_data (parsed));
  g_assert_cmpstr (scanned_data, ==, parsed_data);
  g_assert_cmpstr (bayeux_message_get_data_json (scanned), ==, bayeux_message_get_data_json (parsed));

  scanned_text = bayeux_message_to_string (scanned);
  parsed_text = bayeux_message_to_string (parsed);
  g_assert_cmpstr (scanned_text, ==, parsed_text);
  g_assert_cmpuint (json_object_get_size (bayeux_message_get_object (scanned)), ==,
                    json_object_get_size (bayeux_message_get_object (parsed)));
  return TRUE;
}
