/* test-websocket.c: the WebSocket transport against in-process servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two servers on 127.0.0.1:0 in the test's own main context: a SoupServer
 * with a WebSocket handler (/ws), a plain handler (/plain) and a redirect
 * (/redirect), for the well-behaved cases; and a raw GSocketService that
 * reads the upgrade request and then answers what the test wants (nothing
 * at all, a bad 101, a 101 with an extension nobody offered, or a valid 101
 * followed by frames written byte by byte), for everything SoupServer
 * cannot be made to send: fragments, floods, invalid UTF-8, bad framing,
 * resets.
 */
#include "test-utils.h"
#include "transports/bayeux-websocket-private.h"
#include "bayeux-json-private.h"

#include <string.h>
#include <sys/socket.h>

#define MAX_SIZE      (64 * 1024)
#define OPEN_TIMEOUT  test_scaled_ms (5000)   /* for opens that must succeed */
#define WAIT          5000      /* ms, for anything the test waits for */
#define KiB           1024
#define MiB           (1024 * 1024)
/* What may sit in the kernel's socket buffers on loopback between the raw
 * server's writes and libsoup's reads (tcp_rmem and tcp_wmem maxima). */
#define SOCKET_BUFFERS (32 * MiB)

#define HANDSHAKE "[{\"channel\":\"/meta/handshake\",\"id\":\"1\",\"version\":\"1.0\"}]"

/* ------------------------------------------------------------------------ */
/* The raw server                                                           */

typedef enum {
  RAW_HOLD,         /* reads the request, never answers */
  RAW_BAD_ACCEPT,   /* a 101 with a wrong Sec-WebSocket-Accept */
  RAW_DEFLATE,      /* a 101 accepting permessage-deflate, which nobody offered */
  RAW_UPGRADE,      /* a valid 101; then the test writes frames */
} RawMode;

typedef struct
{
  GSocketService    *service;
  guint16            port;
  RawMode            mode;
  GSocketConnection *conn;          /* the last one accepted */
  GByteArray        *in;            /* what the client sent: request, then frames */
  gsize              request_end;   /* where the frames begin in @in */
  gboolean           upgraded;
  gboolean           eof;           /* the client closed (or reset) */
  guint8             buffer[4096];
  GCancellable      *cancellable;
  guint              pending;       /* async operations in flight */

  /* Endless writing of one chunk (a flood) */
  GBytes            *flood;
  guint64            written;
  gboolean           write_failed;
} RawServer;

static char *
accept_key (const char *key)
{
  g_autofree char *text = g_strconcat (key, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", NULL);
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize length = sizeof digest;

  g_checksum_update (checksum, (const guchar *) text, -1);
  g_checksum_get_digest (checksum, digest, &length);
  g_checksum_free (checksum);
  return g_base64_encode (digest, length);
}

/* The value of header @name in the request in raw->in. */
static char *
raw_request_header (RawServer  *raw,
                    const char *name)
{
  g_autofree char *request = g_strndup ((const char *) raw->in->data, raw->request_end);
  g_auto(GStrv) lines = g_strsplit (request, "\r\n", -1);
  gsize name_length = strlen (name);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], name, name_length) == 0 && lines[i][name_length] == ':')
      return g_strstrip (g_strdup (lines[i] + name_length + 1));
  return NULL;
}

static void
raw_write (RawServer    *raw,
           gconstpointer data,
           gsize         length)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (raw->conn));
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (out, data, length, NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
raw_write_bytes (RawServer *raw,
                 GBytes    *bytes)
{
  gsize length;
  gconstpointer data = g_bytes_get_data (bytes, &length);

  raw_write (raw, data, length);
}

static void
raw_answer (RawServer *raw)
{
  g_autofree char *key = raw_request_header (raw, "Sec-WebSocket-Key");
  g_autofree char *accept = key != NULL ? accept_key (key) : g_strdup ("none");
  g_autofree char *answer = NULL;

  switch (raw->mode)
    {
    case RAW_HOLD:
      return;
    case RAW_BAD_ACCEPT:
      answer = g_strdup ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
      break;
    case RAW_DEFLATE:
      answer = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                                accept);
      break;
    case RAW_UPGRADE:
      answer = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
      raw->upgraded = TRUE;
      break;
    default:
      g_assert_not_reached ();
    }
  raw_write (raw, answer, strlen (answer));
}

static void raw_read_next (RawServer *raw);

static void
on_raw_read (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  RawServer *raw = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  raw->pending--;
  if (n <= 0)
    {
      raw->eof = TRUE;
      return;
    }

  g_byte_array_append (raw->in, raw->buffer, (guint) n);
  if (raw->request_end == 0)
    {
      const char *end = g_strstr_len ((const char *) raw->in->data, raw->in->len, "\r\n\r\n");

      if (end != NULL)
        {
          raw->request_end = (gsize) (end - (const char *) raw->in->data) + 4;
          raw_answer (raw);
        }
    }
  raw_read_next (raw);
}

static void
raw_read_next (RawServer *raw)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (raw->conn));

  raw->pending++;
  g_input_stream_read_async (in, raw->buffer, sizeof raw->buffer, G_PRIORITY_DEFAULT, raw->cancellable,
                             on_raw_read, raw);
}

static gboolean
on_raw_incoming (GSocketService    *service,
                 GSocketConnection *connection,
                 GObject           *source_object,
                 gpointer           user_data)
{
  RawServer *raw = user_data;

  g_assert_null (raw->conn);   /* one connection per test */
  raw->conn = g_object_ref (connection);
  raw_read_next (raw);
  return TRUE;
}

static RawServer *
raw_server_new (RawMode mode)
{
  RawServer *raw = g_new0 (RawServer, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  raw->mode = mode;
  raw->in = g_byte_array_new ();
  raw->cancellable = g_cancellable_new ();
  raw->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (raw->service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  raw->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (raw->service, "incoming", G_CALLBACK (on_raw_incoming), raw);
  g_socket_service_start (raw->service);
  return raw;
}

static gboolean
raw_idle (gpointer data)
{
  return ((RawServer *) data)->pending == 0;
}

static void
raw_server_free (RawServer *raw)
{
  g_cancellable_cancel (raw->cancellable);
  if (raw->conn != NULL)
    g_io_stream_close (G_IO_STREAM (raw->conn), NULL, NULL);
  g_assert_true (test_wait_until (raw_idle, raw, WAIT));
  g_socket_service_stop (raw->service);
  g_socket_listener_close (G_SOCKET_LISTENER (raw->service));
  g_object_unref (raw->service);
  g_clear_object (&raw->conn);
  g_clear_pointer (&raw->flood, g_bytes_unref);
  g_byte_array_unref (raw->in);
  g_object_unref (raw->cancellable);
  g_free (raw);
}

/* A frame from the server (unmasked). */
static GBytes *
frame (guint8        first,
       gconstpointer payload,
       guint64       length,
       gboolean      with_payload)
{
  GByteArray *out = g_byte_array_new ();
  guint8 header[10];
  guint header_length;

  header[0] = first;
  if (length < 126)
    {
      header[1] = (guint8) length;
      header_length = 2;
    }
  else if (length <= 0xffff)
    {
      header[1] = 126;
      header[2] = (guint8) (length >> 8);
      header[3] = (guint8) length;
      header_length = 4;
    }
  else
    {
      header[1] = 127;
      for (guint i = 0; i < 8; i++)
        header[2 + i] = (guint8) (length >> (56 - 8 * i));
      header_length = 10;
    }
  g_byte_array_append (out, header, header_length);
  if (with_payload && length > 0)
    g_byte_array_append (out, payload, (guint) length);
  return g_byte_array_free_to_bytes (out);
}

#define FIN          0x80
#define OP_CONTINUE  0x00
#define OP_TEXT      0x01
#define OP_BINARY    0x02
#define OP_PING      0x09

static GBytes *
text_frame (const char *text)
{
  return frame (FIN | OP_TEXT, text, strlen (text), TRUE);
}

static void raw_flood_next (RawServer *raw);

static void
on_raw_flood_written (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  RawServer *raw = user_data;
  gsize written = 0;
  gboolean ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &written, NULL);

  raw->pending--;
  raw->written += written;
  if (!ok)
    {
      raw->write_failed = TRUE;
      return;
    }
  raw_flood_next (raw);
}

static void
raw_flood_next (RawServer *raw)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (raw->conn));
  gsize length;
  gconstpointer data = g_bytes_get_data (raw->flood, &length);

  raw->pending++;
  g_output_stream_write_all_async (out, data, length, G_PRIORITY_DEFAULT, raw->cancellable,
                                   on_raw_flood_written, raw);
}

/* Writes @chunk again and again, until the client closes. */
static void
raw_flood (RawServer *raw,
           GBytes    *chunk)
{
  raw->flood = g_bytes_ref (chunk);
  raw_flood_next (raw);
}

/* The code of the first close frame the client sent (masked), 0 if none. */
static guint
raw_client_close_code (RawServer *raw)
{
  const guint8 *p = raw->in->data + raw->request_end;
  const guint8 *end = raw->in->data + raw->in->len;

  while (end - p >= 6)
    {
      guint length = p[1] & 0x7f;
      const guint8 *mask = p + 2;
      gsize header = 6;

      if (length == 126)
        {
          length = (guint) p[2] << 8 | p[3];
          mask = p + 4;
          header = 8;
        }
      g_assert_cmpuint (length, <, 127);   /* nothing large comes from the client here */
      if ((gsize) (end - p) < header + length)
        return 0;
      if ((p[0] & 0x0f) == 0x08 && length >= 2)
        return (guint) (p[header] ^ mask[0]) << 8 | (guint) (p[header + 1] ^ mask[1]);
      p += header + length;
    }
  return 0;
}

static gboolean
raw_got_close (gpointer data)
{
  return raw_client_close_code (data) != 0;
}

static void
raw_reset (RawServer *raw)
{
  GSocket *socket = g_socket_connection_get_socket (raw->conn);
  struct linger linger = { 1, 0 };

  g_assert_cmpint (setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &linger, sizeof linger), ==, 0);
  g_socket_close (socket, NULL);
}

/* ------------------------------------------------------------------------ */
/* The fixture                                                              */

typedef struct
{
  SoupServer      *server;
  guint16          port;
  SoupSession     *session;
  BayeuxWebSocket *ws;
  SoupMessageHeaders *headers;   /* the application's, given to ws */
  RawServer       *raw;

  /* Server side */
  GPtrArray       *server_conns;      /* SoupWebsocketConnection */
  GPtrArray       *server_frames;     /* char *: text frames received */
  guint            server_closed;
  guint            server_close_code; /* the client's close code, on the last one closed */
  gboolean         server_echo;
  guint            upgrades;          /* upgrade requests that reached /ws */
  guint            plain_hits;
  char            *upgrade_token;     /* X-Test-Token */
  char            *upgrade_removed;   /* X-Removed */
  char            *upgrade_cookie;
  char            *upgrade_extensions;

  /* Client side */
  GPtrArray       *messages;          /* JsonArray */
  GPtrArray       *closed;            /* GError */
  gboolean         close_in_messages;
  guint            accept_calls;
  GTlsCertificateFlags accept_flags;
  gboolean         accept;
} Fixture;

static void
on_server_message (SoupWebsocketConnection *conn,
                   int                      type,
                   GBytes                  *message,
                   Fixture                 *f)
{
  gsize length;
  const char *data = g_bytes_get_data (message, &length);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  g_ptr_array_add (f->server_frames, g_strndup (data, length));
  if (f->server_echo)
    soup_websocket_connection_send_message (conn, SOUP_WEBSOCKET_DATA_TEXT, message);
}

static void
on_server_closed (SoupWebsocketConnection *conn,
                  Fixture                 *f)
{
  f->server_closed++;
  f->server_close_code = soup_websocket_connection_get_close_code (conn);
}

static void
replace_string (char       **slot,
                const char  *value)
{
  g_free (*slot);
  *slot = g_strdup (value);
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *conn,
              gpointer                 user_data)
{
  Fixture *f = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  f->upgrades++;
  replace_string (&f->upgrade_token, soup_message_headers_get_one (headers, "X-Test-Token"));
  replace_string (&f->upgrade_removed, soup_message_headers_get_one (headers, "X-Removed"));
  replace_string (&f->upgrade_cookie, soup_message_headers_get_one (headers, "Cookie"));
  replace_string (&f->upgrade_extensions, soup_message_headers_get_list (headers, "Sec-WebSocket-Extensions"));

  g_ptr_array_add (f->server_conns, g_object_ref (conn));
  g_signal_connect (conn, "message", G_CALLBACK (on_server_message), f);
  g_signal_connect (conn, "closed", G_CALLBACK (on_server_closed), f);
}

static void
on_plain (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  Fixture *f = user_data;

  f->plain_hits++;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "hello", 5);
}

static void
on_redirect (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  soup_server_message_set_redirect (msg, SOUP_STATUS_FOUND, "/ws");
}

/* Never answered. */
static void
on_hold (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  soup_server_message_pause (msg);
}

static void
on_messages (BayeuxWebSocket *ws,
             BayeuxElements  *elements,
             Fixture         *f)
{
  g_autoptr(GError) error = NULL;
  JsonArray *messages = bayeux_elements_to_array (elements, &error);

  /* Each element is parsed when the client asks: the test asks at once. */
  g_assert_no_error (error);
  g_ptr_array_add (f->messages, messages);
  if (f->close_in_messages)
    bayeux_websocket_close (ws);
}

static void
on_closed (BayeuxWebSocket *ws,
           GError          *error,
           Fixture         *f)
{
  g_assert_nonnull (error);
  g_assert_false (bayeux_websocket_is_open (ws));
  g_test_message ("closed: %s (%s %d)", error->message, g_quark_to_string (error->domain), error->code);
  g_ptr_array_add (f->closed, g_error_copy (error));
}

static gboolean
on_accept_certificate (BayeuxWebSocket      *ws,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       Fixture              *f)
{
  f->accept_calls++;
  f->accept_flags = errors;
  return f->accept;
}

static GUri *
fixture_uri (Fixture    *f,
             const char *scheme,
             guint16     port,
             const char *path)
{
  g_autofree char *url = g_strdup_printf ("%s://127.0.0.1:%u%s", scheme, port, path);

  return g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
}

static void
fixture_new_ws (Fixture *f,
                GUri    *uri)
{
  g_clear_pointer (&f->headers, soup_message_headers_unref);
  f->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  f->ws = bayeux_websocket_new (f->session, uri, f->headers);
  g_signal_connect (f->ws, "messages", G_CALLBACK (on_messages), f);
  g_signal_connect (f->ws, "closed", G_CALLBACK (on_closed), f);
  g_signal_connect (f->ws, "accept-certificate", G_CALLBACK (on_accept_certificate), f);
}

/* A new session (with a SoupWebsocketExtensionManager, as an application
 * may have, if @with_manager) and a new transport on it. */
static void
fixture_new_session (Fixture  *f,
                     gboolean  with_manager)
{
  g_autoptr(GUri) uri = fixture_uri (f, "http", f->port, "/ws");

  g_clear_object (&f->ws);
  soup_session_abort (f->session);
  g_object_unref (f->session);
  f->session = soup_session_new ();
  if (with_manager)
    soup_session_add_feature_by_type (f->session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);
  fixture_new_ws (f, uri);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;
  GSList *uris;

  f->server_conns = g_ptr_array_new_with_free_func (g_object_unref);
  f->server_frames = g_ptr_array_new_with_free_func (g_free);
  f->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) json_array_unref);
  f->closed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);

  f->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (f->server, "/ws", NULL, NULL, on_websocket, f, NULL);
  soup_server_add_handler (f->server, "/plain", on_plain, f, NULL);
  soup_server_add_handler (f->server, "/redirect", on_redirect, f, NULL);
  soup_server_add_handler (f->server, "/hold", on_hold, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  f->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  f->session = soup_session_new ();
  uri = fixture_uri (f, "http", f->port, "/ws");
  fixture_new_ws (f, uri);
}

static gboolean
server_all_closed (gpointer data)
{
  Fixture *f = data;

  return f->server_closed == f->server_conns->len;
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->ws != NULL)
    {
      g_object_add_weak_pointer (G_OBJECT (f->ws), (gpointer *) &f->ws);
      bayeux_websocket_close (f->ws);
      g_object_unref (f->ws);
      /* An open connection holds no reference on the transport. */
      g_assert_null (f->ws);
    }
  g_clear_pointer (&f->headers, soup_message_headers_unref);
  g_assert_true (test_wait_until (server_all_closed, f, WAIT));
  for (guint i = 0; i < f->server_conns->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (f->server_conns, i), f);
  g_clear_pointer (&f->raw, raw_server_free);

  soup_server_disconnect (f->server);
  g_object_unref (f->server);
  soup_session_abort (f->session);
  g_object_unref (f->session);
  /* Let the closed connections go (they are released from idles). */
  test_wait_ms (50);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  g_ptr_array_unref (f->server_conns);
  g_ptr_array_unref (f->server_frames);
  g_ptr_array_unref (f->messages);
  g_ptr_array_unref (f->closed);
  g_free (f->upgrade_token);
  g_free (f->upgrade_removed);
  g_free (f->upgrade_cookie);
  g_free (f->upgrade_extensions);
}

/* Helpers ---------------------------------------------------------------- */

static GError *
open_ws (Fixture *f,
         gsize    max_message_size,
         guint    timeout_ms)
{
  GAsyncResult *result = NULL;
  GError *error = NULL;

  bayeux_websocket_open_async (f->ws, max_message_size, max_message_size, timeout_ms, NULL, test_store_result, &result);
  test_wait_result (&result, WAIT + timeout_ms);
  if (bayeux_websocket_open_finish (f->ws, result, &error))
    g_assert_true (bayeux_websocket_is_open (f->ws));
  else
    g_assert_false (bayeux_websocket_is_open (f->ws));
  g_object_unref (result);
  return error;
}

static void
use_raw (Fixture *f,
         RawMode  mode)
{
  g_autoptr(GUri) uri = NULL;

  f->raw = raw_server_new (mode);
  uri = fixture_uri (f, "http", f->raw->port, "/ws");
  bayeux_websocket_set_uri (f->ws, uri);
}

static void
send_text (Fixture    *f,
           const char *text)
{
  g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
  g_autoptr(GError) error = NULL;

  g_assert_true (bayeux_websocket_send (f->ws, body, &error));
  g_assert_no_error (error);
}

static SoupWebsocketConnection *
server_conn (Fixture *f)
{
  g_assert_cmpuint (f->server_conns->len, >, 0);
  return g_ptr_array_index (f->server_conns, f->server_conns->len - 1);
}

typedef struct
{
  GPtrArray *array;
  guint      n;
} Count;

static gboolean
count_reached (gpointer data)
{
  Count *c = data;

  return c->array->len >= c->n;
}

static gboolean
wait_count (GPtrArray *array,
            guint      n)
{
  Count c = { array, n };

  return test_wait_until (count_reached, &c, WAIT);
}

static gboolean
raw_has_request (gpointer data)
{
  return ((RawServer *) data)->request_end > 0;
}

static gboolean
raw_saw_eof (gpointer data)
{
  return ((RawServer *) data)->eof;
}

static gboolean
raw_write_stopped (gpointer data)
{
  return ((RawServer *) data)->write_failed;
}

static JsonObject *
message_at (Fixture *f,
            guint    frame_index,
            guint    message_index)
{
  JsonArray *array = g_ptr_array_index (f->messages, frame_index);

  g_assert_cmpuint (message_index, <, json_array_get_length (array));
  return json_array_get_object_element (array, message_index);
}

/* A JSON array of one message, padded to exactly @size bytes. */
static char *
message_of_size (gsize size)
{
  const char *head = "[{\"channel\":\"/size\",\"data\":\"";
  const char *tail = "\"}]";
  gsize fixed = strlen (head) + strlen (tail);
  GString *s = g_string_new (head);

  g_assert_cmpuint (size, >, fixed);
  for (gsize i = 0; i < size - fixed; i++)
    g_string_append_c (s, 'x');
  g_string_append (s, tail);
  g_assert_cmpuint (s->len, ==, size);
  return g_string_free (s, FALSE);
}

static void
assert_closed (Fixture *f,
               GQuark   domain,
               int      code)
{
  const GError *error;

  g_assert_true (wait_count (f->closed, 1));
  g_assert_cmpuint (f->closed->len, ==, 1);
  error = g_ptr_array_index (f->closed, 0);
  g_assert_error (error, domain, code);
  g_assert_false (bayeux_websocket_is_open (f->ws));
}

/* ------------------------------------------------------------------------ */
/* Opening, sending, receiving                                              */

static void
test_round_trip (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  JsonObject *reply;

  f->server_echo = TRUE;
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  g_assert_cmpuint (f->upgrades, ==, 1);
  /* Nothing offered: no permessage-deflate, and the guard never leaves. */
  g_assert_null (f->upgrade_extensions);

  send_text (f, HANDSHAKE);
  g_assert_true (wait_count (f->messages, 1));
  g_assert_cmpuint (f->server_frames->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->server_frames, 0), ==, HANDSHAKE);
  g_assert_cmpuint (json_array_get_length (g_ptr_array_index (f->messages, 0)), ==, 1);
  reply = message_at (f, 0, 0);
  g_assert_cmpstr (json_object_get_string_member (reply, "channel"), ==, "/meta/handshake");
  g_assert_cmpstr (json_object_get_string_member (reply, "id"), ==, "1");
  g_assert_cmpuint (f->closed->len, ==, 0);
}

/* An application's session with permessage-deflate enabled: still not
 * offered (libsoup 3.2 inflates without bound), and the session keeps it. */
static void
test_deflate_not_offered (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture_new_session (f, TRUE);
  g_assert_true (soup_session_has_feature (f->session, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE));
  f->server_echo = TRUE;

  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  g_assert_null (f->upgrade_extensions);
  send_text (f, HANDSHAKE);
  g_assert_true (wait_count (f->messages, 1));

  g_assert_true (soup_session_has_feature (f->session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER));
  g_assert_true (soup_session_has_feature (f->session, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE));
}

static void
test_several_messages (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);

  soup_websocket_connection_send_text (server_conn (f),
                                       "[{\"channel\":\"/a\",\"id\":\"1\"},{\"channel\":\"/b\",\"id\":\"2\"},"
                                       "{\"channel\":\"/c\",\"id\":\"3\"}]");
  soup_websocket_connection_send_text (server_conn (f), "[{\"channel\":\"/d\",\"id\":\"4\"}]");
  g_assert_true (wait_count (f->messages, 2));

  /* One emission per frame, in order. */
  g_assert_cmpuint (json_array_get_length (g_ptr_array_index (f->messages, 0)), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (message_at (f, 0, 0), "id"), ==, "1");
  g_assert_cmpstr (json_object_get_string_member (message_at (f, 0, 1), "id"), ==, "2");
  g_assert_cmpstr (json_object_get_string_member (message_at (f, 0, 2), "channel"), ==, "/c");
  g_assert_cmpuint (json_array_get_length (g_ptr_array_index (f->messages, 1)), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (message_at (f, 1, 0), "id"), ==, "4");
  g_assert_cmpuint (f->closed->len, ==, 0);
}

/* Faye sends a lone reply as an object. */
static void
test_single_object (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);

  soup_websocket_connection_send_text (server_conn (f), "{\"channel\":\"/meta/connect\",\"successful\":true}");
  g_assert_true (wait_count (f->messages, 1));
  g_assert_cmpuint (json_array_get_length (g_ptr_array_index (f->messages, 0)), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (message_at (f, 0, 0), "channel"), ==, "/meta/connect");
  g_assert_true (json_object_get_boolean_member (message_at (f, 0, 0), "successful"));
  g_assert_cmpuint (f->closed->len, ==, 0);
}

static void
test_header (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  /* The caller's table, shared: changed after the transport was made. */
  soup_message_headers_replace (f->headers, "X-Test-Token", "abc123");
  soup_message_headers_replace (f->headers, "X-Removed", "1");
  soup_message_headers_remove (f->headers, "X-Removed");
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  g_assert_cmpstr (f->upgrade_token, ==, "abc123");
  g_assert_null (f->upgrade_removed);
}

/* The session's cookie jar applies to the upgrade (CometD's BAYEUX_BROWSER). */
static void
test_cookie (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(SoupCookieJar) jar = soup_cookie_jar_new ();
  g_autoptr(GUri) uri = fixture_uri (f, "http", f->port, "/ws");
  g_autoptr(GError) error = NULL;

  soup_session_add_feature (f->session, SOUP_SESSION_FEATURE (jar));
  soup_cookie_jar_set_cookie (jar, uri, "BAYEUX_BROWSER=abc123; Path=/");
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  g_assert_nonnull (f->upgrade_cookie);
  g_assert_nonnull (strstr (f->upgrade_cookie, "BAYEUX_BROWSER=abc123"));
}

/* ------------------------------------------------------------------------ */
/* Opening that fails                                                       */

/* A server without WebSocket: 404, a plain 200, a redirect (not followed);
 * then set_uri() to one with it. */
static void
test_refused (Fixture       *f,
              gconstpointer  data)
{
  static const char *paths[] = { "/nothing", "/plain", "/redirect" };
  g_autoptr(GUri) good = fixture_uri (f, "http", f->port, "/ws");
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GUri) uri = fixture_uri (f, "http", f->port, paths[i]);
      g_autoptr(GError) refused = NULL;

      bayeux_websocket_set_uri (f->ws, uri);
      refused = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
      g_test_message ("%s: %s", paths[i], refused ? refused->message : "open");
      g_assert_error (refused, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET);
    }
  g_assert_cmpuint (f->plain_hits, ==, 1);
  g_assert_cmpuint (f->upgrades, ==, 0);   /* the redirect was not followed */
  g_assert_cmpuint (f->closed->len, ==, 0);

  bayeux_websocket_set_uri (f->ws, good);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  g_assert_cmpuint (f->upgrades, ==, 1);
}

static void
test_bad_handshake (Fixture       *f,
                    gconstpointer  data)
{
  RawMode mode = GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;

  use_raw (f, mode);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_test_message ("%s", error ? error->message : "open");
  g_assert_error (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE);
  g_assert_cmpuint (f->closed->len, ==, 0);
}

/* The same with the application's permessage-deflate on the session: it
 * was not offered, so it is refused all the same. */
static void
test_unoffered_deflate_with_manager (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture_new_session (f, TRUE);
  use_raw (f, RAW_DEFLATE);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_error (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE);
  g_assert_null (raw_request_header (f->raw, "Sec-WebSocket-Extensions"));
}

static void
test_connection_refused (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) error = NULL;

  /* A port nobody listens on. */
  g_assert_true (g_socket_bind (socket, address, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  uri = fixture_uri (f, "http", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)), "/ws");
  g_socket_close (socket, NULL);

  bayeux_websocket_set_uri (f->ws, uri);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

/* A server that accepts the connection and never answers. */
static void
test_timeout (Fixture       *f,
              gconstpointer  data)
{
  guint timeout_ms = test_scaled_ms (300);
  gint64 start;
  gint64 elapsed_ms;
  g_autoptr(GError) error = NULL;

  use_raw (f, RAW_HOLD);
  start = g_get_monotonic_time ();
  error = open_ws (f, MAX_SIZE, timeout_ms);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("%s after %" G_GINT64_FORMAT " ms", error ? error->message : "open", elapsed_ms);
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_TIMEOUT);
  g_assert_cmpint (elapsed_ms, >=, timeout_ms - 10);
  g_assert_cmpint (elapsed_ms, <, timeout_ms + test_scaled_ms (1000));
  g_assert_true (f->raw->request_end > 0);   /* it did reach the server */
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  use_raw (f, RAW_HOLD);
  bayeux_websocket_open_async (f->ws, MAX_SIZE, MAX_SIZE, OPEN_TIMEOUT, cancellable, test_store_result, &result);
  g_assert_true (test_wait_until (raw_has_request, f->raw, WAIT));
  g_cancellable_cancel (cancellable);
  test_wait_result (&result, WAIT);
  g_assert_false (bayeux_websocket_open_finish (f->ws, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (bayeux_websocket_is_open (f->ws));
  g_object_unref (result);
}

/* ------------------------------------------------------------------------ */
/* Ends the client did not ask for                                          */

static void
test_peer_close (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const GError *closed;

  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  soup_websocket_connection_close (server_conn (f), 4001, "going down");
  assert_closed (f, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  closed = g_ptr_array_index (f->closed, 0);
  g_assert_nonnull (strstr (closed->message, "4001"));
  g_assert_nonnull (strstr (closed->message, "going down"));

  /* Open again at once, and it works. */
  f->server_echo = TRUE;
  g_clear_error (&error);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  send_text (f, HANDSHAKE);
  g_assert_true (wait_count (f->messages, 1));
  g_assert_cmpuint (f->closed->len, ==, 1);
}

/* The socket closes without a close frame. */
static void
test_peer_drop (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  use_raw (f, RAW_UPGRADE);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  g_io_stream_close (G_IO_STREAM (f->raw->conn), NULL, NULL);
  assert_closed (f, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
}

/* A TCP reset: the read error, as GIO gives it. */
static void
test_peer_reset (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const GError *closed;

  use_raw (f, RAW_UPGRADE);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  raw_reset (f->raw);
  g_assert_true (wait_count (f->closed, 1));
  closed = g_ptr_array_index (f->closed, 0);
  g_assert_true (closed->domain == G_IO_ERROR);
}

/* A write that fails inside send(): ::closed comes later, from the main
 * loop, not from inside the call. */
static void
test_send_error_deferred (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static (HANDSHAKE, strlen (HANDSHAKE));
  gboolean sent;

  use_raw (f, RAW_UPGRADE);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  raw_reset (f->raw);
  /* Let the reset arrive, without letting the client read it. */
  g_usleep (200 * 1000);

  sent = bayeux_websocket_send (f->ws, body, &error);
  g_assert_no_error (error);
  g_assert_true (sent);
  g_assert_cmpuint (f->closed->len, ==, 0);
  /* The write failed at once: the transport knows (and says so later). */
  g_assert_false (bayeux_websocket_is_open (f->ws));

  g_assert_true (wait_count (f->closed, 1));
  g_assert_true (((GError *) g_ptr_array_index (f->closed, 0))->domain == G_IO_ERROR);
  g_assert_false (bayeux_websocket_send (f->ws, body, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
}

/* ------------------------------------------------------------------------ */
/* Sizes                                                                    */

/* Frames: exactly the limit passes, one byte more closes. */
static void
test_too_large_frame (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *fits = message_of_size (1 * KiB);
  g_autofree char *too_large = message_of_size (1 * KiB + 1);
  g_autoptr(GError) error = NULL;

  error = open_ws (f, 1 * KiB, OPEN_TIMEOUT);
  g_assert_no_error (error);
  soup_websocket_connection_send_text (server_conn (f), fits);
  g_assert_true (wait_count (f->messages, 1));
  soup_websocket_connection_send_text (server_conn (f), too_large);
  assert_closed (f, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE);
  g_assert_cmpuint (f->messages->len, ==, 1);
  g_assert_true (test_wait_until (server_all_closed, f, WAIT));
}

/* A frame that announces 1 GiB, then streams: refused from its header. */
static void
test_too_large_announced (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GBytes) header = frame (FIN | OP_TEXT, NULL, (guint64) 1024 * MiB, FALSE);
  g_autoptr(GBytes) zeros = g_bytes_new_take (g_malloc0 (64 * KiB), 64 * KiB);
  g_autoptr(GError) error = NULL;

  use_raw (f, RAW_UPGRADE);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  raw_write_bytes (f->raw, header);
  raw_flood (f->raw, zeros);
  assert_closed (f, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE);
  g_test_message ("%" G_GUINT64_FORMAT " bytes written when closed", f->raw->written);
  g_assert_cmpuint (f->raw->written, <, SOCKET_BUFFERS);
  g_assert_true (test_wait_until (raw_write_stopped, f->raw, WAIT));
}

/* Writes @text as a text message in fragments of @piece bytes, with a
 * ping between the first two. */
static void
raw_write_fragmented (RawServer  *raw,
                      const char *text,
                      gsize       piece)
{
  gsize length = strlen (text);

  for (gsize at = 0; at < length; at += piece)
    {
      gsize n = MIN (piece, length - at);
      guint8 first = (at == 0 ? OP_TEXT : OP_CONTINUE) | (at + n == length ? FIN : 0);
      g_autoptr(GBytes) bytes = frame (first, text + at, n, TRUE);

      raw_write_bytes (raw, bytes);
      if (at == 0)
        {
          g_autoptr(GBytes) ping = frame (FIN | OP_PING, "hi", 2, TRUE);
          raw_write_bytes (raw, ping);
        }
    }
}

/* A fragmented message: delivered whole, up to exactly the limit; one byte
 * more (each fragment far below the limit) closes. */
static void
test_fragments (Fixture       *f,
                gconstpointer  data)
{
  const char *small = "[{\"channel\":\"/meta/connect\",\"successful\":true,\"id\":\"7\"}]";
  g_autofree char *fits = message_of_size (4 * KiB);
  g_autofree char *too_large = message_of_size (4 * KiB + 1);
  g_autoptr(GError) error = NULL;

  use_raw (f, RAW_UPGRADE);
  error = open_ws (f, 4 * KiB, OPEN_TIMEOUT);
  g_assert_no_error (error);

  raw_write_fragmented (f->raw, small, 10);
  raw_write_fragmented (f->raw, fits, 128);
  g_assert_true (wait_count (f->messages, 2));
  g_assert_cmpstr (json_object_get_string_member (message_at (f, 0, 0), "id"), ==, "7");
  g_assert_cmpuint (strlen (json_object_get_string_member (message_at (f, 1, 0), "data")), ==,
                    4 * KiB - strlen ("[{\"channel\":\"/size\",\"data\":\"\"}]"));
  g_assert_cmpuint (f->closed->len, ==, 0);

  raw_write_fragmented (f->raw, too_large, 128);
  assert_closed (f, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE);
  g_assert_cmpuint (f->messages->len, ==, 2);
  g_assert_true (test_wait_until (raw_saw_eof, f->raw, WAIT));
  g_assert_cmpuint (raw_client_close_code (f->raw), ==, SOUP_WEBSOCKET_CLOSE_TOO_BIG);
}

/* Endless continuation frames, each a quarter of the limit: libsoup 3.2
 * alone would assemble them for ever. The socket is closed once the
 * message passes the limit, with memory bounded by it. */
static void
test_fragment_flood (Fixture       *f,
                     gconstpointer  data)
{
  gboolean with_manager = GPOINTER_TO_INT (data);
  g_autofree char *spaces = g_strnfill (16 * KiB, ' ');
  g_autoptr(GBytes) first = frame (OP_TEXT, "[", 1, TRUE);
  g_autoptr(GBytes) more = frame (OP_CONTINUE, spaces, 16 * KiB, TRUE);
  g_autoptr(GError) error = NULL;

  fixture_new_session (f, with_manager);
  use_raw (f, RAW_UPGRADE);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  /* The guard never appears on the wire. */
  g_assert_null (g_strstr_len ((const char *) f->raw->in->data, f->raw->request_end, "guard"));

  raw_write_bytes (f->raw, first);
  raw_flood (f->raw, more);
  assert_closed (f, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE);
  g_test_message ("%" G_GUINT64_FORMAT " bytes written when closed", f->raw->written);
  g_assert_cmpuint (f->raw->written, <, SOCKET_BUFFERS);
  g_assert_true (test_wait_until (raw_write_stopped, f->raw, WAIT));
  g_assert_cmpuint (raw_client_close_code (f->raw), ==, SOUP_WEBSOCKET_CLOSE_TOO_BIG);
  g_assert_cmpuint (f->messages->len, ==, 0);

  /* The session offers what it offered: permessage-deflate if the
   * application had it; nothing if the manager is the transport's. */
  g_assert_true (soup_session_has_feature (f->session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER));
  g_assert_true (soup_session_has_feature (f->session, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE) == with_manager);
}

/* ------------------------------------------------------------------------ */
/* Garbage                                                                  */

typedef struct
{
  const char *path;
  guint8      first;      /* the frame's first byte */
  const char *payload;
  guint       close_code; /* the close frame the client sends */
} Garbage;

static char deep[300 * 2 + 1];

static const Garbage garbage[] = {
  { "not-json", FIN | OP_TEXT, "hello", SOUP_WEBSOCKET_CLOSE_BAD_DATA },
  { "truncated", FIN | OP_TEXT, "[{\"channel\":", SOUP_WEBSOCKET_CLOSE_BAD_DATA },
  { "scalar", FIN | OP_TEXT, "42", SOUP_WEBSOCKET_CLOSE_BAD_DATA },
  { "string", FIN | OP_TEXT, "\"[]\"", SOUP_WEBSOCKET_CLOSE_BAD_DATA },
  { "empty", FIN | OP_TEXT, "", SOUP_WEBSOCKET_CLOSE_BAD_DATA },
  { "trailing-data", FIN | OP_TEXT, "[{}] []", SOUP_WEBSOCKET_CLOSE_BAD_DATA },
  /* (A frame whose array holds an element that is not JSON, a lone
   * surrogate say, is delivered: that element is bad, the rest is not; see
   * /bayeux/json/elements.) */
  { "deep", FIN | OP_TEXT, deep, SOUP_WEBSOCKET_CLOSE_BAD_DATA },
  { "invalid-utf8", FIN | OP_TEXT, "[{\"channel\":\"\xc3\x28\"}]", SOUP_WEBSOCKET_CLOSE_BAD_DATA },
  { "binary", FIN | OP_BINARY, "[{\"channel\":\"/x\"}]", SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA },
  { "reserved-bits", FIN | 0x40 | OP_TEXT, "[]", SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR },
  { "bad-opcode", FIN | 0x03, "[]", SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR },
};

/* Then a valid frame in the same write: after garbage nothing is read. */
static void
test_garbage (Fixture       *f,
              gconstpointer  data)
{
  const Garbage *g = data;
  g_autoptr(GBytes) bad = frame (g->first, g->payload, strlen (g->payload), TRUE);
  g_autoptr(GBytes) good = text_frame ("[{\"channel\":\"/after\"}]");
  g_autoptr(GByteArray) both = g_byte_array_new ();
  g_autoptr(GError) error = NULL;

  use_raw (f, RAW_UPGRADE);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);

  g_byte_array_append (both, g_bytes_get_data (bad, NULL), (guint) g_bytes_get_size (bad));
  g_byte_array_append (both, g_bytes_get_data (good, NULL), (guint) g_bytes_get_size (good));
  raw_write (f->raw, both->data, both->len);

  assert_closed (f, BAYEUX_ERROR, BAYEUX_ERROR_BAD_RESPONSE);
  g_assert_cmpuint (f->messages->len, ==, 0);
  /* The client closed the socket. */
  g_assert_true (test_wait_until (raw_saw_eof, f->raw, WAIT));
  g_assert_cmpuint (raw_client_close_code (f->raw), ==, g->close_code);
}

/* ------------------------------------------------------------------------ */
/* close(), dispose                                                         */

static void
test_close_reopen (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static (HANDSHAKE, strlen (HANDSHAKE));

  f->server_echo = TRUE;
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  send_text (f, HANDSHAKE);
  g_assert_true (wait_count (f->messages, 1));

  bayeux_websocket_close (f->ws);
  g_assert_false (bayeux_websocket_is_open (f->ws));
  g_assert_false (bayeux_websocket_send (f->ws, body, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_clear_error (&error);
  g_assert_true (test_wait_until (server_all_closed, f, WAIT));
  g_assert_cmpuint (f->server_close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  bayeux_websocket_close (f->ws);   /* harmless */

  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  send_text (f, HANDSHAKE);
  g_assert_true (wait_count (f->messages, 2));
  g_assert_cmpuint (f->upgrades, ==, 2);
  /* No ::closed for a close the client asked for. */
  g_assert_cmpuint (f->closed->len, ==, 0);
}

/* Frames that arrive after close() are dropped, even those already read. */
static void
test_close_drops_frames (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  use_raw (f, RAW_UPGRADE);
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  f->close_in_messages = TRUE;
  {
    g_autoptr(GBytes) one = text_frame ("[{\"channel\":\"/1\"}]");
    g_autoptr(GBytes) two = text_frame ("[{\"channel\":\"/2\"}]");
    g_autoptr(GBytes) three = text_frame ("not even JSON");
    g_autoptr(GByteArray) all = g_byte_array_new ();

    g_byte_array_append (all, g_bytes_get_data (one, NULL), (guint) g_bytes_get_size (one));
    g_byte_array_append (all, g_bytes_get_data (two, NULL), (guint) g_bytes_get_size (two));
    g_byte_array_append (all, g_bytes_get_data (three, NULL), (guint) g_bytes_get_size (three));
    raw_write (f->raw, all->data, all->len);
  }
  /* (The server does not answer the close frame: libsoup would close the
   * socket 5 s later.) */
  g_assert_true (test_wait_until (raw_got_close, f->raw, WAIT));
  test_wait_ms (50);
  g_assert_cmpuint (f->messages->len, ==, 1);
  g_assert_cmpuint (f->closed->len, ==, 0);
  g_assert_cmpuint (raw_client_close_code (f->raw), ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
}

/* close() while opening: the open fails as cancelled, and a new one can
 * start at once. */
static void
test_close_while_opening (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GUri) good = fixture_uri (f, "http", f->port, "/ws");
  GAsyncResult *first = NULL;
  GAsyncResult *second = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static (HANDSHAKE, strlen (HANDSHAKE));

  use_raw (f, RAW_HOLD);
  bayeux_websocket_open_async (f->ws, MAX_SIZE, MAX_SIZE, OPEN_TIMEOUT, NULL, test_store_result, &first);
  g_assert_true (test_wait_until (raw_has_request, f->raw, WAIT));
  g_assert_false (bayeux_websocket_send (f->ws, body, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_clear_error (&error);

  bayeux_websocket_close (f->ws);
  g_assert_null (first);   /* completes from the main loop */
  bayeux_websocket_set_uri (f->ws, good);
  bayeux_websocket_open_async (f->ws, MAX_SIZE, MAX_SIZE, OPEN_TIMEOUT, NULL, test_store_result, &second);

  test_wait_result (&first, WAIT);
  g_assert_false (bayeux_websocket_open_finish (f->ws, first, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  test_wait_result (&second, WAIT);
  g_assert_true (bayeux_websocket_open_finish (f->ws, second, &error));
  g_assert_no_error (error);
  g_assert_true (bayeux_websocket_is_open (f->ws));
  g_assert_cmpuint (f->closed->len, ==, 0);
  g_object_unref (first);
  g_object_unref (second);
}

/* The last reference dropped while opening: the open still completes (its
 * task holds the transport), then the transport goes and closes its
 * socket (1001). */
static void
test_unref_while_opening (Fixture       *f,
                          gconstpointer  data)
{
  GAsyncResult *result = NULL;
  BayeuxWebSocket *ws = f->ws;
  g_autoptr(GError) error = NULL;

  g_object_add_weak_pointer (G_OBJECT (ws), (gpointer *) &ws);
  bayeux_websocket_open_async (ws, MAX_SIZE, MAX_SIZE, OPEN_TIMEOUT, NULL, test_store_result, &result);
  g_object_unref (g_steal_pointer (&f->ws));
  g_assert_nonnull (ws);

  test_wait_result (&result, WAIT);
  g_assert_true (bayeux_websocket_open_finish (BAYEUX_WEBSOCKET (g_async_result_get_source_object (result)),
                                               result, &error));
  g_object_unref (ws);   /* get_source_object's reference */
  g_assert_no_error (error);
  g_object_unref (result);
  g_assert_null (ws);

  g_assert_true (test_wait_until (server_all_closed, f, WAIT));
  g_assert_cmpuint (f->server_closed, ==, 1);
  g_assert_cmpuint (f->server_close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  g_assert_cmpuint (f->closed->len, ==, 0);
}

/* Disposed (g_object_run_dispose) while opening: the open is cancelled. */
static void
test_dispose_while_opening (Fixture       *f,
                            gconstpointer  data)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  use_raw (f, RAW_HOLD);
  bayeux_websocket_open_async (f->ws, MAX_SIZE, MAX_SIZE, OPEN_TIMEOUT, NULL, test_store_result, &result);
  g_assert_true (test_wait_until (raw_has_request, f->raw, WAIT));
  g_object_run_dispose (G_OBJECT (f->ws));
  test_wait_result (&result, WAIT);
  g_assert_false (bayeux_websocket_open_finish (f->ws, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (bayeux_websocket_is_open (f->ws));
  g_object_unref (result);
  /* The server's connection is closed (the cancelled request's). */
  g_assert_true (test_wait_until (raw_saw_eof, f->raw, WAIT));
}

/* The last reference dropped while open, with frames on the way: the
 * transport goes at once, no signal follows, the socket is closed (1001). */
static void
test_dispose_while_open (Fixture       *f,
                         gconstpointer  data)
{
  BayeuxWebSocket *ws = f->ws;
  g_autoptr(GError) error = NULL;

  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  for (guint i = 0; i < 10; i++)
    soup_websocket_connection_send_text (server_conn (f), "[{\"channel\":\"/late\"}]");

  g_object_add_weak_pointer (G_OBJECT (ws), (gpointer *) &ws);
  g_object_unref (g_steal_pointer (&f->ws));
  g_assert_null (ws);

  g_assert_true (test_wait_until (server_all_closed, f, WAIT));
  g_assert_cmpuint (f->server_close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  g_assert_cmpuint (f->messages->len, ==, 0);
  g_assert_cmpuint (f->closed->len, ==, 0);
}

/* The same from inside a ::messages handler (inside libsoup's read loop). */
static void
on_messages_unref (BayeuxWebSocket *ws,
                   BayeuxElements  *messages,
                   Fixture         *f)
{
  if (f->ws != NULL)
    g_object_unref (g_steal_pointer (&f->ws));
}

static void
test_unref_in_handler (Fixture       *f,
                       gconstpointer  data)
{
  BayeuxWebSocket *ws = f->ws;
  g_autoptr(GError) error = NULL;

  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  g_signal_connect (ws, "messages", G_CALLBACK (on_messages_unref), f);
  g_object_add_weak_pointer (G_OBJECT (ws), (gpointer *) &ws);
  for (guint i = 0; i < 3; i++)
    soup_websocket_connection_send_text (server_conn (f), "[{\"channel\":\"/x\"}]");

  g_assert_true (test_wait_until (server_all_closed, f, WAIT));
  g_assert_null (ws);
  g_assert_cmpuint (f->messages->len, ==, 1);
  g_assert_cmpuint (f->closed->len, ==, 0);
}

static void
test_send_not_open (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GBytes) body = g_bytes_new_static (HANDSHAKE, strlen (HANDSHAKE));
  g_autoptr(GError) error = NULL;

  /* Never opened. */
  g_assert_false (bayeux_websocket_send (f->ws, body, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_clear_error (&error);

  /* After the server closed it. */
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  soup_websocket_connection_close (server_conn (f), SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  assert_closed (f, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_false (bayeux_websocket_send (f->ws, body, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_assert_cmpuint (f->server_frames->len, ==, 0);
}

/* ------------------------------------------------------------------------ */
/* wss://                                                                   */

static void
test_tls (Fixture       *f,
          gconstpointer  data)
{
  g_autofree char *cert_file = g_test_build_filename (G_TEST_DIST, "tls", "self-signed.pem", NULL);
  g_autofree char *key_file = g_test_build_filename (G_TEST_DIST, "tls", "self-signed-key.pem", NULL);
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) error = NULL;
  GSList *uris;
  guint16 port;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("no TLS backend (glib-networking)");
      return;
    }

  certificate = g_tls_certificate_new_from_files (cert_file, key_file, &error);
  g_assert_no_error (error);
  server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_websocket_handler (server, "/ws", NULL, NULL, on_websocket, f, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY | SOUP_SERVER_LISTEN_HTTPS, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  uri = fixture_uri (f, "https", port, "/ws");
  bayeux_websocket_set_uri (f->ws, uri);

  /* Refused by default (the handler says no). */
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_test_message ("%s", error ? error->message : "open");
  g_assert_true (error != NULL && error->domain == G_TLS_ERROR);
  g_assert_cmpuint (f->accept_calls, >=, 1);
  g_assert_true (f->accept_flags & G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_assert_cmpuint (f->upgrades, ==, 0);
  g_clear_error (&error);

  /* Accepted by the handler. */
  f->accept = TRUE;
  f->server_echo = TRUE;
  error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
  g_assert_no_error (error);
  send_text (f, HANDSHAKE);
  g_assert_true (wait_count (f->messages, 1));

  bayeux_websocket_close (f->ws);
  g_assert_true (test_wait_until (server_all_closed, f, WAIT));
  soup_server_disconnect (server);
}

/* ------------------------------------------------------------------------ */
/* The session                                                              */

/* A session without an extension manager, with requests in flight when the
 * transport gives it one: libsoup 3.2 drops a reference on the new manager
 * for each of them (see ensure_extension_manager()). The manager must
 * survive that (or the next request crashes) and be freed with the session
 * (or Valgrind reports it lost); the guard must work. */
static void
test_busy_session (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GUri) hold = fixture_uri (f, "http", f->port, "/hold");
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *too_large = message_of_size (4 * KiB + 1);
  GAsyncResult *results[3] = { NULL, NULL, NULL };
  g_autoptr(GError) error = NULL;

  g_clear_object (&f->ws);
  soup_session_abort (f->session);
  g_object_unref (f->session);
  f->session = soup_session_new ();
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new_from_uri (SOUP_METHOD_GET, hold);
      soup_session_send_async (f->session, msg, G_PRIORITY_DEFAULT, cancellable, test_store_result, &results[i]);
    }
  test_wait_ms (100);

  f->raw = raw_server_new (RAW_UPGRADE);
  uri = fixture_uri (f, "http", f->raw->port, "/ws");
  fixture_new_ws (f, uri);
  g_assert_true (soup_session_has_feature (f->session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER));

  g_cancellable_cancel (cancellable);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autoptr(GInputStream) stream = NULL;

      test_wait_result (&results[i], WAIT);
      stream = soup_session_send_finish (f->session, results[i], &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
      g_object_unref (results[i]);
    }
  g_assert_true (soup_session_has_feature (f->session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER));

  error = open_ws (f, 4 * KiB, OPEN_TIMEOUT);
  g_assert_no_error (error);
  raw_write_fragmented (f->raw, too_large, 128);
  assert_closed (f, BAYEUX_ERROR, BAYEUX_ERROR_MESSAGE_TOO_LARGE);
}

/* BAYEUX_DEBUG=http: the upgrade (by the session's SoupLogger) and the
 * socket's life, in a subprocess (the flags are read once). */
static void
test_debug_http (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (g_test_subprocess ())
    {
      g_autoptr(SoupCookieJar) jar = soup_cookie_jar_new ();
      g_autoptr(GUri) http = fixture_uri (f, "http", f->port, "/ws");

      g_assert_cmpstr (g_getenv ("BAYEUX_DEBUG"), ==, "http");
      fixture_new_session (f, FALSE);
      soup_session_add_feature (f->session, SOUP_SESSION_FEATURE (jar));
      soup_cookie_jar_set_cookie (jar, http, "BAYEUX_BROWSER=cookie-value-42; Path=/");
      error = open_ws (f, MAX_SIZE, OPEN_TIMEOUT);
      g_assert_no_error (error);
      soup_websocket_connection_close (server_conn (f), 4002, "bye");
      assert_closed (f, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
      return;
    }

  g_setenv ("BAYEUX_DEBUG", "http", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("BAYEUX_DEBUG");
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*GET /ws HTTP/1.1*");
  g_test_trap_assert_stderr ("*Upgrade: websocket*");
  g_test_trap_assert_stderr ("*101 Switching Protocols*");
  g_test_trap_assert_stderr ("*Cookie: [redacted]*");
  g_test_trap_assert_stderr_unmatched ("*cookie-value-42*");
  g_test_trap_assert_stderr_unmatched ("*guard*");
  g_test_trap_assert_stderr ("*WebSocket ws://127.0.0.1:*/ws open*");
  g_test_trap_assert_stderr ("*WebSocket ws://127.0.0.1:*/ws closed: *4002: bye*");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < 300; i++)
    {
      deep[i] = '[';
      deep[600 - 1 - i] = ']';
    }

#define ADD(path, func, data) \
  g_test_add ("/bayeux/websocket/" path, Fixture, data, fixture_setup, func, fixture_teardown)

  ADD ("open/round-trip", test_round_trip, NULL);
  ADD ("open/deflate-not-offered", test_deflate_not_offered, NULL);
  ADD ("open/header", test_header, NULL);
  ADD ("open/cookie", test_cookie, NULL);
  ADD ("receive/several-messages", test_several_messages, NULL);
  ADD ("receive/single-object", test_single_object, NULL);
  ADD ("refused/http", test_refused, NULL);
  ADD ("refused/bad-accept", test_bad_handshake, GINT_TO_POINTER (RAW_BAD_ACCEPT));
  ADD ("refused/unoffered-deflate", test_bad_handshake, GINT_TO_POINTER (RAW_DEFLATE));
  ADD ("refused/unoffered-deflate-extension-manager", test_unoffered_deflate_with_manager, NULL);
  ADD ("refused/connection-refused", test_connection_refused, NULL);
  ADD ("open/timeout", test_timeout, NULL);
  ADD ("open/cancel", test_cancel, NULL);
  ADD ("closed/peer-close", test_peer_close, NULL);
  ADD ("closed/peer-drop", test_peer_drop, NULL);
  ADD ("closed/peer-reset", test_peer_reset, NULL);
  ADD ("closed/send-error-deferred", test_send_error_deferred, NULL);
  ADD ("size/frame", test_too_large_frame, NULL);
  ADD ("size/announced-1gib", test_too_large_announced, NULL);
  ADD ("size/fragments", test_fragments, NULL);
  ADD ("size/fragment-flood", test_fragment_flood, GINT_TO_POINTER (FALSE));
  ADD ("size/fragment-flood-extension-manager", test_fragment_flood, GINT_TO_POINTER (TRUE));
  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      g_autofree char *path = g_strconcat ("/bayeux/websocket/garbage/", garbage[i].path, NULL);
      g_test_add (path, Fixture, &garbage[i], fixture_setup, test_garbage, fixture_teardown);
    }
  ADD ("close/reopen", test_close_reopen, NULL);
  ADD ("close/drops-frames", test_close_drops_frames, NULL);
  ADD ("close/while-opening", test_close_while_opening, NULL);
  ADD ("dispose/unref-while-opening", test_unref_while_opening, NULL);
  ADD ("dispose/while-opening", test_dispose_while_opening, NULL);
  ADD ("dispose/while-open", test_dispose_while_open, NULL);
  ADD ("dispose/unref-in-handler", test_unref_in_handler, NULL);
  ADD ("send/not-open", test_send_not_open, NULL);
  ADD ("tls/accept-certificate", test_tls, NULL);
  ADD ("session/busy", test_busy_session, NULL);
  ADD ("debug/http", test_debug_http, NULL);

#undef ADD

  return g_test_run ();
}
