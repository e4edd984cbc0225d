/* bayeux-extension-util-private.h: reading and writing the fields of a
 * message in the built-in extensions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Messages from the server are hostile input: these read a field only when
 * it has the expected JSON type, and never assume a member is there.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The message's channel, or NULL when it has none or not a string. */
const char *bayeux_ext_util_channel     (JsonObject  *message);
/* The string member @name of @object, or NULL when absent or not a
 * string. */
const char *bayeux_ext_util_string      (JsonObject  *object,
                                         const char  *name);
/* The object member @name of @object, or NULL when absent or not an
 * object. */
JsonObject *bayeux_ext_util_object      (JsonObject  *object,
                                         const char  *name);
/* The message's `ext` object, added when it has none; NULL when it has an
 * `ext` that is not an object (left as it is). */
JsonObject *bayeux_ext_util_ensure_ext  (JsonObject  *message);
/* Whether the member @name of @object is an integer; if so, stores it in
 * @value. Numbers with a fraction or an exponent are not integers. */
gboolean    bayeux_ext_util_get_int     (JsonObject  *object,
                                         const char  *name,
                                         gint64      *value);
/* Whether the member @name of @object is a boolean; if so, stores it in
 * @value. */
gboolean    bayeux_ext_util_get_boolean (JsonObject  *object,
                                         const char  *name,
                                         gboolean    *value);
/* Whether the message is a successful reply (`successful` is true). */
gboolean    bayeux_ext_util_successful  (JsonObject  *message);

G_END_DECLS
