/* bayeux-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bayeux-glib.h"

/**
 * bayeux_error_quark:
 *
 * The quark of the [error@Bayeux.Error] error domain.
 *
 * Returns: the error domain
 *
 * Since: 1.0
 */
G_DEFINE_QUARK (bayeux-error-quark, bayeux_error)
