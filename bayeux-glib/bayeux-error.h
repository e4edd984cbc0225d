/* bayeux-error.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__BAYEUX_GLIB_INSIDE__) && !defined(BAYEUX_COMPILATION)
#error "Only <bayeux-glib/bayeux-glib.h> can be included directly."
#endif

#include <glib.h>
#include "bayeux-version.h"

G_BEGIN_DECLS

/**
 * BAYEUX_ERROR:
 *
 * The error domain of bayeux-glib. Errors in this domain are from the
 * [error@Bayeux.Error] enumeration. Errors from the layers below (network
 * errors in `G_IO_ERROR`, TLS errors, `SOUP_SESSION_ERROR`) are passed on
 * unchanged.
 *
 * Since: 1.0
 */
#define BAYEUX_ERROR (bayeux_error_quark ())

/**
 * BayeuxError:
 * @BAYEUX_ERROR_FAILED: a failure with no more specific code; the message
 *   says what happened.
 * @BAYEUX_ERROR_HANDSHAKE_DENIED: the server refused the handshake.
 * @BAYEUX_ERROR_UNKNOWN_CLIENT: the server does not know our client id
 *   (error `402`, or a `401` or `403` that says "unknown client", as Faye
 *   and the Salesforce Streaming API answer); the client handshakes again.
 * @BAYEUX_ERROR_REFUSED: the server refused a subscribe, unsubscribe or
 *   publish (`successful: false`); the message carries the server's error
 *   string.
 * @BAYEUX_ERROR_BAD_RESPONSE: the server sent something that is not valid
 *   Bayeux: not JSON, not an array of messages, a field of the wrong type,
 *   a reply nobody asked for.
 * @BAYEUX_ERROR_MESSAGE_TOO_LARGE: a message from the server, or a request
 *   body, is larger than [property@Client:max-message-size] (the other
 *   messages of that response are delivered), or a whole response or
 *   frame is larger than [property@Client:max-response-size].
 * @BAYEUX_ERROR_TIMEOUT: the server did not answer in time (the advised
 *   timeout plus [property@Client:max-network-delay]).
 * @BAYEUX_ERROR_DISCONNECTED: the operation could not complete because the
 *   client was stopped or disconnected, or the server told it to stop
 *   (advice `none`).
 * @BAYEUX_ERROR_HTTP: the server answered with an HTTP status other than
 *   2xx; the message names the status.
 * @BAYEUX_ERROR_INVALID_CHANNEL: a channel name is not valid for the
 *   operation (see [func@Bayeux.channel_validate]).
 * @BAYEUX_ERROR_QUEUE_FULL: a publish was dropped because
 *   [property@Client:max-pending] messages were already waiting to be sent;
 *   or, while [property@Client:paused], messages received were dropped
 *   because 10,000 were already held.
 * @BAYEUX_ERROR_EXPIRED: a publish was dropped because it waited longer
 *   than [property@Client:max-pending-age] to be sent.
 * @BAYEUX_ERROR_NETWORK_UNAVAILABLE: the network is unavailable (per
 *   [property@Client:network-monitor]); the client waits for it to come
 *   back, making no request meanwhile.
 * @BAYEUX_ERROR_DROPPED: an extension ([iface@Extension]) dropped the
 *   message, or the reply to it.
 * @BAYEUX_ERROR_INVALID_JSON: JSON text given by the application (to
 *   [method@Client.publish_json] or [method@Client.call_json_async]) is
 *   not valid JSON, nests deeper than 256 levels, repeats a member name,
 *   or holds a number beyond a double's range; the message says what and
 *   at which byte. Nothing was sent.
 *
 * Error codes in the [error@Bayeux.Error] domain.
 *
 * Since: 1.0
 */
typedef enum {
  BAYEUX_ERROR_FAILED,
  BAYEUX_ERROR_HANDSHAKE_DENIED,
  BAYEUX_ERROR_UNKNOWN_CLIENT,
  BAYEUX_ERROR_REFUSED,
  BAYEUX_ERROR_BAD_RESPONSE,
  BAYEUX_ERROR_MESSAGE_TOO_LARGE,
  BAYEUX_ERROR_TIMEOUT,
  BAYEUX_ERROR_DISCONNECTED,
  BAYEUX_ERROR_HTTP,
  BAYEUX_ERROR_INVALID_CHANNEL,
  BAYEUX_ERROR_QUEUE_FULL,
  BAYEUX_ERROR_EXPIRED,
  BAYEUX_ERROR_NETWORK_UNAVAILABLE,
  BAYEUX_ERROR_DROPPED,
  BAYEUX_ERROR_INVALID_JSON,
} BayeuxError;

BAYEUX_AVAILABLE_IN_ALL
GQuark bayeux_error_quark (void);

G_END_DECLS
