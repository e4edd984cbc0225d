/* bayeux-transport-private.h: what the client asks of a transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include "bayeux-json-private.h"

G_BEGIN_DECLS

#define BAYEUX_TYPE_TRANSPORT (bayeux_transport_get_type ())

G_DECLARE_INTERFACE (BayeuxTransport, bayeux_transport, BAYEUX, TRANSPORT, GObject)

/* What a send tells its caller (@user_data: the caller's, per send). */
typedef struct
{
  /* The send is over, called once, always from the main loop (never from
   * inside a call to the transport): with the messages that answered it
   * (a transport where a request has its own response), or with none
   * when every id it carried is answered (a transport where replies come
   * as ::messages), or with @error. Cancelled: G_IO_ERROR_CANCELLED. */
  void     (*done)    (gpointer      user_data,
                       BayeuxElements *messages,
                       const GError *error);
  /* Whether the reply to @id is still awaited (asked, by a transport where
   * replies come as ::messages, after each of them). */
  gboolean (*pending) (gpointer      user_data,
                       const char   *id);
} BayeuxSendCallbacks;

struct _BayeuxTransportInterface
{
  GTypeInterface parent_iface;

  void     (*set_uri)     (BayeuxTransport           *self,
                           GUri                      *uri);
  /* @max_message_size bounds each message the server sends,
   * @max_response_size a whole response or frame: see
   * bayeux_transport_send(). */
  void     (*open_async)  (BayeuxTransport           *self,
                           gsize                      max_message_size,
                           gsize                      max_response_size,
                           guint                      timeout_ms,
                           GCancellable              *cancellable,
                           GAsyncReadyCallback        callback,
                           gpointer                   user_data);
  gboolean (*open_finish) (BayeuxTransport           *self,
                           GAsyncResult              *result,
                           GError                   **error);
  void     (*send)        (BayeuxTransport           *self,
                           GBytes                    *batch,
                           GPtrArray                 *ids,
                           gsize                      max_message_size,
                           gsize                      max_response_size,
                           guint                      timeout_ms,
                           GCancellable              *cancellable,
                           const BayeuxSendCallbacks *callbacks,
                           gpointer                   user_data);
  void     (*close)       (BayeuxTransport           *self);
  gboolean (*is_open)     (BayeuxTransport           *self);
  /* Optional: the client has handled replies since the last ::messages
   * (it handles a long frame in slices): the sends whose replies are all
   * in end now. */
  void     (*check_answered) (BayeuxTransport        *self);
};

BayeuxTransport *bayeux_transport_new         (const char                *name,
                                               SoupSession               *session,
                                               GUri                      *uri,
                                               SoupMessageHeaders        *headers);
gboolean         bayeux_transport_name_known  (const char                *name);
void             bayeux_transport_set_uri     (BayeuxTransport           *self,
                                               GUri                      *uri);
void             bayeux_transport_open_async  (BayeuxTransport           *self,
                                               gsize                      max_message_size,
                                               gsize                      max_response_size,
                                               guint                      timeout_ms,
                                               GCancellable              *cancellable,
                                               GAsyncReadyCallback        callback,
                                               gpointer                   user_data);
gboolean         bayeux_transport_open_finish (BayeuxTransport           *self,
                                               GAsyncResult              *result,
                                               GError                   **error);
void             bayeux_transport_send        (BayeuxTransport           *self,
                                               GBytes                    *batch,
                                               GPtrArray                 *ids,
                                               gsize                      max_message_size,
                                               gsize                      max_response_size,
                                               guint                      timeout_ms,
                                               GCancellable              *cancellable,
                                               const BayeuxSendCallbacks *callbacks,
                                               gpointer                   user_data);
void             bayeux_transport_close       (BayeuxTransport           *self);
void             bayeux_transport_check_answered (BayeuxTransport        *self);
gboolean         bayeux_transport_is_open     (BayeuxTransport           *self);

/* For the implementations. */
void             bayeux_transport_emit_messages       (BayeuxTransport *self,
                                                       BayeuxElements  *messages);
void             bayeux_transport_emit_closed         (BayeuxTransport *self,
                                                       const GError    *error);
gboolean         bayeux_transport_accept_certificate  (SoupMessage          *msg,
                                                       GTlsCertificate      *certificate,
                                                       GTlsCertificateFlags  errors,
                                                       gpointer              transport);
void             bayeux_transport_add_headers         (SoupMessage        *msg,
                                                       SoupMessageHeaders *headers);
void             bayeux_transport_note_retry_after    (BayeuxTransport    *self,
                                                       SoupMessage        *msg);
/* The failure of a request answered with an HTTP status other than 2xx
 * (BAYEUX_ERROR_HTTP), and whether an error is one for @status. */
GError          *bayeux_transport_status_error        (SoupMessage        *msg);
gboolean         bayeux_transport_error_has_status    (const GError       *error,
                                                       guint               status);

/* Retry-After: the delay a server asked for after refusing a request. */
gint64           bayeux_transport_get_retry_after     (BayeuxTransport    *self);
gint64           bayeux_transport_take_retry_after    (BayeuxTransport    *self);
gint64           bayeux_retry_after_parse             (const char         *value,
                                                       GDateTime          *now);

/* A deadline and a caller's cancellable, joined in one cancellable of our
 * own (transports' requests and openings). The deadlines of a main
 * context share one timer source (a thousand clients, a thousand requests
 * held: one source, not a thousand for the main loop to walk at each
 * iteration). */
typedef struct _BayeuxDeadlines BayeuxDeadlines;

typedef struct
{
  GCancellable    *cancellable;  /* ours: cancelled by the deadline or the caller's */
  GCancellable    *caller;
  gulong           handler;
  BayeuxDeadlines *timers;       /* the context's shared timer, while due */
  GSequenceIter   *entry;        /* in it */
  gint64           expiry;       /* monotonic µs */
  guint            timeout_ms;
  gboolean         timed_out;
} BayeuxDeadline;

void     bayeux_deadline_init        (BayeuxDeadline *self,
                                      guint           timeout_ms,
                                      GCancellable   *caller,
                                      GMainContext   *context,
                                      const char     *name);
void     bayeux_deadline_stop        (BayeuxDeadline *self);
void     bayeux_deadline_clear       (BayeuxDeadline *self);
gboolean bayeux_deadline_timed_out   (BayeuxDeadline *self,
                                      const GError   *error);

G_END_DECLS
