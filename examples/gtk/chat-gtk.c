/* chat-gtk.c: a GTK 4 + libadwaita chat application on bayeux-glib.
 *
 * The window has the server's URL and your nickname (and a Connect
 * button), the messages of /chat/demo, and an entry to send one; a side
 * panel lists the client's subscriptions (its `subscriptions` list model)
 * with their state and message count. The header bar shows the client's
 * state, bound to its `state` property;
 * a banner says when the server cannot be reached and the client is
 * retrying, a toast when the connection is back. The client reconnects
 * (and subscribes again) by itself when the server restarts. Errors are
 * told in plain words (error_to_text()); the library's own message, for
 * whoever wants the details, is in the banner's tooltip or behind a
 * toast's Details button, never the main text.
 *
 *   bayeux-chat-gtk [--url URL] [--nick NAME] [--auto-connect]
 *
 * Test hook: when the environment variable BAYEUX_GTK_TEST_FILE names a
 * file, the application appends one line to it for each thing it shows:
 * `ROW <text>` when a message row is mapped on screen, `STATE <nick>` on
 * each state change, `TOAST <title>`, `BANNER <text>`, and
 * `SUB <channel> <state nick> <count>` each time a row of the
 * subscriptions panel is bound or shows a new state or message count. The
 * rows also carry their text as their accessible label.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <adwaita.h>
#include <bayeux-glib/bayeux-glib.h>
#include <glib-unix.h>
#include <stdio.h>

#define APPLICATION_ID "org.example.BayeuxChat"
#define CHAT_CHANNEL   "/chat/demo"
#define STATUS_CHANNEL "/chat/status" /* only counted, in the subscriptions panel */
#define DEFAULT_URL    "http://127.0.0.1:8000/faye"

/* An interactive application should not leave its user waiting for the
 * library's default 30 s between two attempts to reach the server. */
#define MAX_BACKOFF_MS 5000

/* The width of the nickname column, in pixels. */
#define NICK_WIDTH 88

/* The width of the subscriptions panel, in pixels. */
#define PANEL_WIDTH 220

/* ------------------------------------------------------------------------ */
/* Test hook                                                                */

static void
test_log (const char *kind,
          const char *text)
{
  const char *path = g_getenv ("BAYEUX_GTK_TEST_FILE");
  g_autofree char *line = NULL;
  FILE *file;

  if (path == NULL || *path == '\0')
    return;

  /* One line per event, whatever the text holds. */
  line = g_strdelimit (g_strdup (text), "\r\n", ' ');
  file = fopen (path, "a");
  if (file == NULL)
    return;
  fprintf (file, "%s %s\n", kind, line);
  fclose (file);
}

/* ------------------------------------------------------------------------ */
/* The window                                                               */

#define CHAT_TYPE_WINDOW (chat_window_get_type ())
G_DECLARE_FINAL_TYPE (ChatWindow, chat_window, CHAT, WINDOW, AdwApplicationWindow)

struct _ChatWindow
{
  AdwApplicationWindow  parent_instance;

  BayeuxClient         *client;
  GBinding             *subtitle_binding;
  GBinding             *icon_binding;
  char                 *nick;
  char                 *host;           /* the server, as the window names it */

  gboolean              joined;         /* said "has joined" already */
  gboolean              was_connected;  /* connected since the last start */
  gboolean              lost;           /* lost the connection, recovering */
  gboolean              stopping;       /* the user asked to disconnect */
  gboolean              retrying;       /* Retry Now: disconnecting to start again */
  gboolean              closing;        /* disconnecting before closing */
  gboolean              stick_to_bottom;

  AdwWindowTitle       *title;
  GtkWidget            *status_icon;
  GtkWidget            *banner;
  GtkWidget            *banner_label;
  AdwToastOverlay      *toasts;
  GtkWidget            *url_entry;
  GtkWidget            *nick_entry;
  GtkWidget            *connect_button;
  GtkWidget            *scroller;
  GtkWidget            *list;
  GtkWidget            *message_entry;
  GtkWidget            *send_button;

  /* The subscriptions panel: the client's list model, through a
   * selection model that outlives clients. */
  GtkWidget            *panel_button;
  GtkWidget            *panel_stack;
  GtkNoSelection       *subscriptions;
};

G_DEFINE_FINAL_TYPE (ChatWindow, chat_window, ADW_TYPE_APPLICATION_WINDOW)

/* A toast; @details (nullable), the technical text behind it, is shown by
 * its Details button (the win.error-details action). */
static void
chat_window_toast_with_details (ChatWindow *self,
                                const char *title,
                                const char *details)
{
  /* Toast titles are Pango markup (in libadwaita 1.2, always). */
  g_autofree char *markup = g_markup_escape_text (title, -1);
  AdwToast *toast = adw_toast_new (markup);

  adw_toast_set_timeout (toast, details != NULL ? 8 : 4);
  if (details != NULL)
    {
      adw_toast_set_button_label (toast, "Details");
      adw_toast_set_action_name (toast, "win.error-details");
      adw_toast_set_action_target_value (toast, g_variant_new_string (details));
    }
  adw_toast_overlay_add_toast (self->toasts, toast);
  test_log ("TOAST", title);
}

static void
chat_window_toast (ChatWindow *self,
                   const char *title)
{
  chat_window_toast_with_details (self, title, NULL);
}

/* The banner, or none (@text %NULL); @details (nullable) is its tooltip. */
static void
chat_window_show_banner_with_details (ChatWindow *self,
                                      const char *text,
                                      const char *details)
{
  if (text != NULL)
    {
      if (g_strcmp0 (gtk_label_get_text (GTK_LABEL (self->banner_label)), text) != 0)
        test_log ("BANNER", text);
      gtk_label_set_text (GTK_LABEL (self->banner_label), text);
    }
  gtk_widget_set_tooltip_text (self->banner_label, text != NULL ? details : NULL);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->banner), text != NULL);
}

static void
chat_window_show_banner (ChatWindow *self,
                         const char *text)
{
  chat_window_show_banner_with_details (self, text, NULL);
}

/* What @error means to the user, in plain words, for a banner or a toast
 * (no full stop: the caller adds what comes next). The library's messages
 * are for developers: they name protocol fields, and the server's error
 * string can hold the session's client id (`401:<id>:Unknown client`). So
 * *@details gets the message when the words leave something out (a
 * tooltip, or the toast's Details), and NULL when they say it all. */
static char *
error_to_text (const GError  *error,
               const char    *host,
               char         **details)
{
  *details = g_strdup (error->message);

  if (error->domain == BAYEUX_ERROR)
    {
      switch ((BayeuxError) error->code)
        {
        case BAYEUX_ERROR_UNKNOWN_CLIENT:
          /* Nothing more to know, and the message holds the client id. */
          g_clear_pointer (details, g_free);
          return g_strdup ("The server restarted or forgot this session: joining again…");
        case BAYEUX_ERROR_TIMEOUT:
          return g_strdup_printf ("%s is not answering", host);
        case BAYEUX_ERROR_HTTP:
          return g_strdup_printf ("The server at %s answered with an error", host);
        case BAYEUX_ERROR_NETWORK_UNAVAILABLE:
          g_clear_pointer (details, g_free);
          return g_strdup ("The network is down: waiting for it to come back…");
        case BAYEUX_ERROR_HANDSHAKE_DENIED:
          return g_strdup_printf ("The server at %s did not let this application in", host);
        case BAYEUX_ERROR_REFUSED:
          return g_strdup ("The server refused it");
        case BAYEUX_ERROR_MESSAGE_TOO_LARGE:
          return g_strdup ("Too large for the server");
        case BAYEUX_ERROR_QUEUE_FULL:
        case BAYEUX_ERROR_EXPIRED:
          return g_strdup_printf ("%s could not be reached in time", host);
        case BAYEUX_ERROR_DISCONNECTED:
          g_clear_pointer (details, g_free);
          return g_strdup ("Not connected");
        case BAYEUX_ERROR_BAD_RESPONSE:
          return g_strdup_printf ("The server at %s answered something this application does not understand", host);
        case BAYEUX_ERROR_FAILED:
        case BAYEUX_ERROR_INVALID_CHANNEL:
        case BAYEUX_ERROR_DROPPED:
        case BAYEUX_ERROR_INVALID_JSON:
        default:
          break;
        }
    }
  else if (error->domain == G_TLS_ERROR)
    {
      if (error->code == G_TLS_ERROR_BAD_CERTIFICATE)
        return g_strdup ("The server's certificate is not trusted");
      return g_strdup_printf ("No secure connection to %s could be made", host);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE) ||
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
           error->domain == G_RESOLVER_ERROR)
    {
      return g_strdup_printf ("Cannot reach %s", host);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      return g_strdup_printf ("%s is not answering", host);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    {
      return g_strdup_printf ("The connection to %s was cut", host);
    }

  return g_strdup_printf ("Something went wrong with %s", host);
}

/* win.error-details: a toast's Details. */
static void
on_error_details (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  ChatWindow *self = user_data;
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), "Details",
                                              g_variant_get_string (parameter, NULL));

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", "Close");
  gtk_window_present (GTK_WINDOW (dialog));
}

static const char *
state_nick (BayeuxClientState state)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (BAYEUX_TYPE_CLIENT_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "unknown";
}

/* The header bar's subtitle, bound to the client's state. */
static gboolean
state_to_subtitle (GBinding     *binding,
                   const GValue *from,
                   GValue       *to,
                   gpointer      user_data)
{
  ChatWindow *self = user_data;
  BayeuxClientState state = g_value_get_enum (from);

  switch (state)
    {
    case BAYEUX_CLIENT_STATE_DISCONNECTED:
      g_value_set_string (to, "Not connected");
      break;
    case BAYEUX_CLIENT_STATE_HANDSHAKING:
      g_value_take_string (to, g_strdup_printf (self->was_connected ? "Reconnecting to %s…"
                                                                    : "Connecting to %s…",
                                                self->host));
      break;
    case BAYEUX_CLIENT_STATE_CONNECTED:
      g_value_take_string (to, g_strdup_printf ("Connected to %s", self->host));
      break;
    case BAYEUX_CLIENT_STATE_UNCONNECTED:
      g_value_set_string (to, "Connection lost, reconnecting…");
      break;
    case BAYEUX_CLIENT_STATE_DISCONNECTING:
      g_value_set_string (to, "Disconnecting…");
      break;
    default:
      return FALSE;
    }

  return TRUE;
}

/* The header bar's icon, bound to the client's state. */
static gboolean
state_to_icon_name (GBinding     *binding,
                    const GValue *from,
                    GValue       *to,
                    gpointer      user_data)
{
  BayeuxClientState state = g_value_get_enum (from);

  switch (state)
    {
    case BAYEUX_CLIENT_STATE_DISCONNECTED:
    case BAYEUX_CLIENT_STATE_DISCONNECTING:
      g_value_set_string (to, "network-offline-symbolic");
      break;
    case BAYEUX_CLIENT_STATE_HANDSHAKING:
      g_value_set_string (to, "network-idle-symbolic");
      break;
    case BAYEUX_CLIENT_STATE_CONNECTED:
      g_value_set_string (to, "network-transmit-receive-symbolic");
      break;
    case BAYEUX_CLIENT_STATE_UNCONNECTED:
      g_value_set_string (to, "network-error-symbolic");
      break;
    default:
      return FALSE;
    }

  return TRUE;
}

static void
chat_window_update_controls (ChatWindow        *self,
                             BayeuxClientState  state)
{
  gboolean idle = state == BAYEUX_CLIENT_STATE_DISCONNECTED && !self->retrying;
  gboolean connected = state == BAYEUX_CLIENT_STATE_CONNECTED;
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  const char *status_class;

  /* Move the focus out of what is about to become insensitive. */
  if (focus != NULL &&
      ((!idle && (gtk_widget_is_ancestor (focus, self->url_entry) ||
                  gtk_widget_is_ancestor (focus, self->nick_entry))) ||
       (!connected && gtk_widget_is_ancestor (focus, self->message_entry))))
    gtk_widget_grab_focus (self->connect_button);

  gtk_widget_set_sensitive (self->url_entry, idle);
  gtk_widget_set_sensitive (self->nick_entry, idle);
  gtk_widget_set_sensitive (self->connect_button, state != BAYEUX_CLIENT_STATE_DISCONNECTING);
  gtk_button_set_label (GTK_BUTTON (self->connect_button), idle ? "Connect" : "Disconnect");
  if (idle)
    {
      gtk_widget_remove_css_class (self->connect_button, "destructive-action");
      gtk_widget_add_css_class (self->connect_button, "suggested-action");
    }
  else
    {
      gtk_widget_remove_css_class (self->connect_button, "suggested-action");
      gtk_widget_add_css_class (self->connect_button, "destructive-action");
    }
  gtk_widget_set_sensitive (self->message_entry, connected);
  gtk_widget_set_sensitive (self->send_button, connected);

  switch (state)
    {
    case BAYEUX_CLIENT_STATE_CONNECTED:
      status_class = "success";
      break;
    case BAYEUX_CLIENT_STATE_HANDSHAKING:
      status_class = "warning";
      break;
    case BAYEUX_CLIENT_STATE_UNCONNECTED:
      status_class = "error";
      break;
    case BAYEUX_CLIENT_STATE_DISCONNECTED:
    case BAYEUX_CLIENT_STATE_DISCONNECTING:
    default:
      status_class = "dim-label";
      break;
    }
  gtk_widget_set_css_classes (self->status_icon, (const char *[]) { status_class, NULL });
}

static void
on_state_changed (BayeuxClient *client,
                  GParamSpec   *pspec,
                  ChatWindow   *self)
{
  BayeuxClientState state = bayeux_client_get_state (client);

  test_log ("STATE", state_nick (state));

  switch (state)
    {
    case BAYEUX_CLIENT_STATE_CONNECTED:
      self->retrying = FALSE;
      chat_window_show_banner (self, NULL);
      if (self->lost)
        chat_window_toast (self, "Reconnected: the connection is back");
      self->lost = FALSE;
      self->was_connected = TRUE;
      if (gtk_widget_get_visible (GTK_WIDGET (self)))
        gtk_widget_grab_focus (self->message_entry);
      break;

    case BAYEUX_CLIENT_STATE_HANDSHAKING:
    case BAYEUX_CLIENT_STATE_UNCONNECTED:
      if (state == BAYEUX_CLIENT_STATE_HANDSHAKING)
        self->retrying = FALSE;
      /* Not asked for: the client recovers by itself, say so. */
      if (self->was_connected && !self->lost && !self->stopping)
        {
          self->lost = TRUE;
          chat_window_show_banner (self, "Connection lost. Reconnecting…");
        }
      break;

    case BAYEUX_CLIENT_STATE_DISCONNECTED:
      if (self->retrying)
        break;   /* handshaking again next */
      chat_window_show_banner (self, NULL);
      if (!self->stopping)
        chat_window_toast (self, "Disconnected by the server");
      self->stopping = FALSE;
      self->was_connected = FALSE;
      self->lost = FALSE;
      break;

    case BAYEUX_CLIENT_STATE_DISCONNECTING:
    default:
      break;
    }

  chat_window_update_controls (self, state);
}

static void
on_error (BayeuxClient  *client,
          GError        *error,
          BayeuxMessage *message,
          ChatWindow    *self)
{
  BayeuxClientState state = bayeux_client_get_state (client);
  g_autofree char *details = NULL;
  g_autofree char *what = error_to_text (error, self->host, &details);
  g_autofree char *text = NULL;

  if (state == BAYEUX_CLIENT_STATE_HANDSHAKING || state == BAYEUX_CLIENT_STATE_UNCONNECTED)
    {
      /* A failure the client is retrying: one banner, kept up to date,
       * rather than a toast for every attempt. */
      if (g_str_has_suffix (what, "…"))
        text = g_steal_pointer (&what);
      else
        text = g_strdup_printf ("%s. %s", what, self->lost ? "Reconnecting…" : "Retrying…");
      chat_window_show_banner_with_details (self, text, details);
      return;
    }

  /* Which channel, when it is one of the application's. */
  if (message != NULL && bayeux_message_get_channel (message) != NULL &&
      !g_str_has_prefix (bayeux_message_get_channel (message), "/meta/"))
    text = g_strdup_printf ("%s: %s", bayeux_message_get_channel (message), what);
  else
    text = g_steal_pointer (&what);
  chat_window_toast_with_details (self, text, details);
}

static void
on_row_mapped (GtkWidget *row,
               gpointer   user_data)
{
  test_log ("ROW", g_object_get_data (G_OBJECT (row), "chat-text"));
  g_signal_handlers_disconnect_by_func (row, on_row_mapped, user_data);
}

static void
chat_window_add_row (ChatWindow *self,
                     const char *user,
                     const char *text)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *time = g_date_time_format (now, "%H:%M");
  g_autofree char *row_text = NULL;
  GtkWidget *row;
  GtkWidget *box;
  GtkWidget *label;

  row_text = user != NULL ? g_strdup_printf ("%s: %s", user, text) : g_strdup (text);

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  /* The nickname, in a column of its own (the same width in any font). */
  label = gtk_label_new (user != NULL ? user : "data");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_yalign (GTK_LABEL (label), 0);
  gtk_widget_set_size_request (label, NICK_WIDTH, -1);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (label, user != NULL ? "heading" : "dim-label");
  gtk_box_append (GTK_BOX (box), label);

  label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  if (user == NULL)
    gtk_widget_add_css_class (label, "monospace");
  gtk_box_append (GTK_BOX (box), label);

  label = gtk_label_new (time);
  gtk_label_set_yalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (box), label);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, row_text,
                                  -1);
  g_object_set_data_full (G_OBJECT (row), "chat-text", g_steal_pointer (&row_text), g_free);
  g_signal_connect (row, "map", G_CALLBACK (on_row_mapped), NULL);

  gtk_list_box_append (GTK_LIST_BOX (self->list), row);
}

static void
on_message (BayeuxClient  *client,
            BayeuxMessage *message,
            ChatWindow    *self)
{
  JsonNode *data = bayeux_message_get_data (message);
  const char *user = NULL;
  const char *text = NULL;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    {
      JsonObject *object = json_node_get_object (data);

      user = json_object_get_string_member_with_default (object, "user", NULL);
      text = json_object_get_string_member_with_default (object, "chat", NULL);
    }

  if (user != NULL && text != NULL)
    {
      chat_window_add_row (self, user, text);
    }
  else
    {
      /* Not from a chat client: show its data whole. */
      g_autofree char *json = data != NULL ? json_to_string (data, FALSE) : g_strdup ("null");

      chat_window_add_row (self, NULL, json);
    }
}

/* ------------------------------------------------------------------------ */
/* The subscriptions panel                                                  */

/* A subscription's state, in words. */
static const char *
subscription_state_to_text (BayeuxSubscriptionState state)
{
  switch (state)
    {
    case BAYEUX_SUBSCRIPTION_STATE_PENDING:
      return "Waiting for the server";
    case BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED:
      return "Subscribed";
    case BAYEUX_SUBSCRIPTION_STATE_REFUSED:
      return "Refused by the server";
    case BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED:
      return "Unsubscribed";
    default:
      return "Unknown";
    }
}

static const char *
subscription_state_nick (BayeuxSubscriptionState state)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (BAYEUX_TYPE_SUBSCRIPTION_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "unknown";
}

/* A row: the channel, and under it the state and the message count. */
static void
on_subscription_setup (GtkSignalListItemFactory *factory,
                       GtkListItem              *list_item,
                       gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *channel = gtk_label_new (NULL);
  GtkWidget *state = gtk_label_new (NULL);
  GtkWidget *count = gtk_label_new (NULL);

  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  gtk_label_set_xalign (GTK_LABEL (channel), 0);
  gtk_label_set_ellipsize (GTK_LABEL (channel), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (channel, "heading");
  gtk_box_append (GTK_BOX (box), channel);

  gtk_label_set_xalign (GTK_LABEL (state), 0);
  gtk_widget_set_hexpand (state, TRUE);
  gtk_widget_add_css_class (state, "caption");
  gtk_box_append (GTK_BOX (line), state);
  gtk_widget_add_css_class (count, "caption");
  gtk_widget_add_css_class (count, "numeric");
  gtk_widget_add_css_class (count, "dim-label");
  gtk_box_append (GTK_BOX (line), count);
  gtk_box_append (GTK_BOX (box), line);

  g_object_set_data (G_OBJECT (box), "channel-label", channel);
  g_object_set_data (G_OBJECT (box), "state-label", state);
  g_object_set_data (G_OBJECT (box), "count-label", count);
  gtk_list_item_set_child (list_item, box);
  gtk_list_item_set_activatable (list_item, FALSE);
}

/* Shows the row's subscription as it is now. */
static void
subscription_row_update (GtkListItem *list_item)
{
  BayeuxSubscription *subscription = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *state_label = g_object_get_data (G_OBJECT (box), "state-label");
  BayeuxSubscriptionState state = bayeux_subscription_get_state (subscription);
  guint64 count = bayeux_subscription_get_message_count (subscription);
  const char *channel = bayeux_subscription_get_channel (subscription);
  const char *state_class;
  g_autofree char *count_text = NULL;
  g_autofree char *label = NULL;
  g_autofree char *line = NULL;

  if (count == 1)
    count_text = g_strdup ("1 message");
  else
    count_text = g_strdup_printf ("%" G_GUINT64_FORMAT " messages", count);

  switch (state)
    {
    case BAYEUX_SUBSCRIPTION_STATE_SUBSCRIBED:
      state_class = "success";
      break;
    case BAYEUX_SUBSCRIPTION_STATE_PENDING:
      state_class = "warning";
      break;
    case BAYEUX_SUBSCRIPTION_STATE_REFUSED:
      state_class = "error";
      break;
    case BAYEUX_SUBSCRIPTION_STATE_UNSUBSCRIBED:
    default:
      state_class = "dim-label";
      break;
    }

  gtk_label_set_text (g_object_get_data (G_OBJECT (box), "channel-label"), channel);
  gtk_label_set_text (GTK_LABEL (state_label), subscription_state_to_text (state));
  gtk_widget_set_css_classes (state_label, (const char *[]) { "caption", state_class, NULL });
  gtk_label_set_text (g_object_get_data (G_OBJECT (box), "count-label"), count_text);

  label = g_strdup_printf ("%s: %s, %s", channel, subscription_state_to_text (state), count_text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (box),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);

  line = g_strdup_printf ("%s %s %" G_GUINT64_FORMAT, channel, subscription_state_nick (state), count);
  test_log ("SUB", line);
}

/* notify::state and notify::message-count of the row's subscription. */
static void
on_subscription_notify (BayeuxSubscription *subscription,
                        GParamSpec         *pspec,
                        GtkListItem        *list_item)
{
  subscription_row_update (list_item);
}

static void
on_subscription_bind (GtkSignalListItemFactory *factory,
                      GtkListItem              *list_item,
                      gpointer                  user_data)
{
  BayeuxSubscription *subscription = gtk_list_item_get_item (list_item);

  /* The row follows its subscription until it is unbound. */
  g_signal_connect_object (subscription, "notify::state",
                           G_CALLBACK (on_subscription_notify), list_item, 0);
  g_signal_connect_object (subscription, "notify::message-count",
                           G_CALLBACK (on_subscription_notify), list_item, 0);
  subscription_row_update (list_item);
}

static void
on_subscription_unbind (GtkSignalListItemFactory *factory,
                        GtkListItem              *list_item,
                        gpointer                  user_data)
{
  g_signal_handlers_disconnect_by_func (gtk_list_item_get_item (list_item),
                                        on_subscription_notify, list_item);
}

/* The list, or a placeholder when there is nothing in it. */
static void
on_subscriptions_changed (GListModel *model,
                          guint       position,
                          guint       removed,
                          guint       added,
                          ChatWindow *self)
{
  gtk_stack_set_visible_child_name (GTK_STACK (self->panel_stack),
                                    g_list_model_get_n_items (model) > 0 ? "list" : "empty");
}

/* The panel, on the right of the messages, in a revealer that the
 * header bar's button opens and closes. */
static GtkWidget *
subscriptions_panel_new (ChatWindow *self)
{
  GtkWidget *revealer = gtk_revealer_new ();
  GtkWidget *panel = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *title = gtk_label_new ("Subscriptions");
  GtkWidget *placeholder = gtk_label_new ("No subscriptions");
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkWidget *view;
  GtkWidget *scroller;

  /* A card, as the messages are: a title, then the list. */
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "heading");
  gtk_widget_set_margin_top (title, 10);
  gtk_widget_set_margin_bottom (title, 10);
  gtk_widget_set_margin_start (title, 12);
  gtk_widget_set_margin_end (title, 12);
  gtk_box_append (GTK_BOX (panel), title);
  gtk_box_append (GTK_BOX (panel), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));

  g_signal_connect (factory, "setup", G_CALLBACK (on_subscription_setup), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (on_subscription_bind), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_subscription_unbind), NULL);

  /* No model until there is a client: chat_window_connect() sets it. */
  self->subscriptions = gtk_no_selection_new (NULL);
  g_signal_connect (self->subscriptions, "items-changed",
                    G_CALLBACK (on_subscriptions_changed), self);
  view = gtk_list_view_new (GTK_SELECTION_MODEL (g_object_ref (self->subscriptions)), factory);
  gtk_list_view_set_show_separators (GTK_LIST_VIEW (view), TRUE);
  gtk_widget_add_css_class (view, "chat-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "Subscriptions",
                                  -1);
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), view);

  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_widget_set_valign (placeholder, GTK_ALIGN_START);
  gtk_widget_set_margin_top (placeholder, 24);

  self->panel_stack = gtk_stack_new ();
  gtk_stack_add_named (GTK_STACK (self->panel_stack), scroller, "list");
  gtk_stack_add_named (GTK_STACK (self->panel_stack), placeholder, "empty");
  gtk_stack_set_visible_child_name (GTK_STACK (self->panel_stack), "empty");
  gtk_widget_set_vexpand (self->panel_stack, TRUE);
  gtk_box_append (GTK_BOX (panel), self->panel_stack);

  gtk_widget_add_css_class (panel, "card");
  gtk_widget_set_overflow (panel, GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_size_request (panel, PANEL_WIDTH, -1);
  gtk_widget_set_margin_start (panel, 12);
  gtk_revealer_set_transition_type (GTK_REVEALER (revealer),
                                    GTK_REVEALER_TRANSITION_TYPE_SLIDE_LEFT);
  gtk_revealer_set_reveal_child (GTK_REVEALER (revealer), TRUE);
  gtk_revealer_set_child (GTK_REVEALER (revealer), panel);

  /* The header bar's button opens and closes it. */
  self->panel_button = gtk_toggle_button_new ();
  gtk_button_set_icon_name (GTK_BUTTON (self->panel_button), "sidebar-show-right-symbolic");
  gtk_widget_set_tooltip_text (self->panel_button, "Subscriptions");
  g_object_bind_property (revealer, "reveal-child", self->panel_button, "active",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);

  return revealer;
}

static void
publish_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(ChatWindow) self = user_data;
  g_autoptr(BayeuxMessage) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *details = NULL;
  g_autofree char *what = NULL;
  g_autofree char *text = NULL;

  reply = bayeux_client_publish_finish (BAYEUX_CLIENT (source), result, &error);
  if (reply != NULL || BAYEUX_CLIENT (source) != self->client)
    return;

  what = error_to_text (error, self->host, &details);
  text = g_strdup_printf ("Message not sent. %s", what);
  chat_window_toast_with_details (self, text, details);
}

static void
chat_window_say (ChatWindow *self,
                 const char *text)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) data = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "user");
  json_builder_add_string_value (builder, self->nick);
  json_builder_set_member_name (builder, "chat");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
  data = json_builder_get_root (builder);

  bayeux_client_publish_async (self->client, CHAT_CHANNEL, data, NULL,
                               publish_cb, g_object_ref (self));
}

static void
subscribe_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(ChatWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = bayeux_client_subscribe_finish (BAYEUX_CLIENT (source), result, &error);
  if (BAYEUX_CLIENT (source) != self->client)
    return;   /* an earlier connection, or the window is closing */

  if (!ok)
    {
      g_autofree char *details = NULL;
      g_autofree char *what = NULL;
      g_autofree char *text = NULL;

      /* Stopped before the subscription got through: nothing to say. */
      if (g_error_matches (error, BAYEUX_ERROR, BAYEUX_ERROR_DISCONNECTED) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      what = error_to_text (error, self->host, &details);
      text = g_strdup_printf ("Cannot join %s. %s", CHAT_CHANNEL, what);
      chat_window_toast_with_details (self, text, details);
      return;
    }

  /* Subscribed: what is published from now on comes back to us, our own
   * join message included. The client subscribes again by itself after a
   * reconnection. */
  if (!self->joined)
    {
      self->joined = TRUE;
      chat_window_say (self, "has joined");
    }
}

static void
chat_window_drop_client (ChatWindow *self)
{
  if (self->client == NULL)
    return;

  g_clear_pointer (&self->subtitle_binding, g_binding_unbind);
  g_clear_pointer (&self->icon_binding, g_binding_unbind);
  /* The list model is the client's: the panel lets go of it first. */
  if (self->subscriptions != NULL)
    gtk_no_selection_set_model (self->subscriptions, NULL);
  g_signal_handlers_disconnect_by_data (self->client, self);
  bayeux_client_stop (self->client);
  g_clear_object (&self->client);
}

/* An entry's text, without leading or trailing white space. */
static char *
entry_text (GtkWidget *entry)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
}

static char *
url_host (GUri *uri)
{
  if (g_uri_get_port (uri) > 0)
    return g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  return g_strdup (g_uri_get_host (uri));
}

/* Connects with the URL and nickname of the entries. */
static void
chat_window_connect (ChatWindow *self)
{
  g_autofree char *url = entry_text (self->url_entry);
  g_autofree char *nick = entry_text (self->nick_entry);
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (*nick == '\0')
    {
      chat_window_toast (self, "Choose a nickname first");
      gtk_widget_grab_focus (self->nick_entry);
      return;
    }

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL ||
      (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0))
    {
      g_autofree char *text = g_strdup_printf ("“%s” is not an http:// or https:// URL", url);

      chat_window_toast (self, text);
      gtk_widget_grab_focus (self->url_entry);
      return;
    }

  chat_window_drop_client (self);
  g_free (self->nick);
  self->nick = g_steal_pointer (&nick);
  g_free (self->host);
  self->host = url_host (uri);
  self->joined = FALSE;
  self->was_connected = FALSE;
  self->lost = FALSE;
  self->stopping = FALSE;
  self->retrying = FALSE;

  self->client = bayeux_client_new (url);
  bayeux_client_set_max_backoff (self->client, MAX_BACKOFF_MS);

  /* The header bar follows the client's state. */
  self->subtitle_binding =
    g_object_bind_property_full (self->client, "state", self->title, "subtitle",
                                 G_BINDING_SYNC_CREATE,
                                 state_to_subtitle, NULL, self, NULL);
  self->icon_binding =
    g_object_bind_property_full (self->client, "state", self->status_icon, "icon-name",
                                 G_BINDING_SYNC_CREATE,
                                 state_to_icon_name, NULL, NULL, NULL);

  g_signal_connect (self->client, "notify::state", G_CALLBACK (on_state_changed), self);
  g_signal_connect (self->client, "message::" CHAT_CHANNEL, G_CALLBACK (on_message), self);
  g_signal_connect (self->client, "error", G_CALLBACK (on_error), self);

  /* Held until the handshake completes, then sent. */
  bayeux_client_subscribe_async (self->client, CHAT_CHANNEL, NULL,
                                 subscribe_cb, g_object_ref (self));

  /* A second subscription, through a handle, whose messages are only
   * counted (in the panel). The client keeps the handle (in its list
   * model) until it is cancelled or the client goes. Not a pattern such as
   * /chat/**: some servers (CometD) send a message once for each
   * subscription it matches, and /chat/demo would then show each line
   * twice. */
  g_object_unref (bayeux_client_add_subscription (self->client, STATUS_CHANNEL, NULL));

  /* The panel lists the client's subscriptions, as they come and go. */
  gtk_no_selection_set_model (self->subscriptions, bayeux_client_get_subscriptions (self->client));

  bayeux_client_start (self->client);
}

static void
disconnect_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ChatWindow) self = user_data;

  /* Whatever the server said, the client is disconnected now. */
  bayeux_client_disconnect_finish (BAYEUX_CLIENT (source), result, NULL);
  /* (Unless the window went already, the application quitting.) */
  if (self->closing && BAYEUX_CLIENT (source) == self->client)
    gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_connect_clicked (GtkButton  *button,
                    ChatWindow *self)
{
  if (self->client != NULL &&
      bayeux_client_get_state (self->client) != BAYEUX_CLIENT_STATE_DISCONNECTED)
    {
      self->stopping = TRUE;
      self->retrying = FALSE;
      bayeux_client_disconnect_async (self->client, NULL, disconnect_cb, g_object_ref (self));
      return;
    }

  chat_window_connect (self);
}

static void
on_send (GtkWidget  *widget,
         ChatWindow *self)
{
  g_autofree char *text = entry_text (self->message_entry);

  if (*text == '\0' || self->client == NULL ||
      bayeux_client_get_state (self->client) != BAYEUX_CLIENT_STATE_CONNECTED)
    return;

  chat_window_say (self, text);
  gtk_editable_set_text (GTK_EDITABLE (self->message_entry), "");
}

static void
on_retry_clicked (GtkButton  *button,
                  ChatWindow *self)
{
  if (self->client == NULL)
    return;

  /* Disconnects, then handshakes again at once instead of waiting out
   * the client's backoff. */
  self->retrying = TRUE;
  if (self->was_connected)
    self->lost = TRUE;   /* say when it is back */
  chat_window_show_banner (self, "Reconnecting…");
  bayeux_client_reconnect (self->client);
}

/* Keeps the newest message in view, unless the user scrolled up. */
static void
on_adjustment_changed (GtkAdjustment *adjustment,
                       ChatWindow    *self)
{
  if (self->stick_to_bottom)
    gtk_adjustment_set_value (adjustment,
                              gtk_adjustment_get_upper (adjustment) -
                              gtk_adjustment_get_page_size (adjustment));
}

static void
on_adjustment_value_changed (GtkAdjustment *adjustment,
                             ChatWindow    *self)
{
  self->stick_to_bottom = gtk_adjustment_get_value (adjustment) >=
    gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment) - 1.0;
}

static gboolean
chat_window_close_request (GtkWindow *window)
{
  ChatWindow *self = CHAT_WINDOW (window);

  /* Say goodbye to the server (it answers within the client's
   * max-network-delay) before going. */
  if (!self->closing && self->client != NULL &&
      bayeux_client_get_state (self->client) != BAYEUX_CLIENT_STATE_DISCONNECTED)
    {
      self->closing = TRUE;
      self->stopping = TRUE;
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      bayeux_client_disconnect_async (self->client, NULL, disconnect_cb, g_object_ref (self));
      return TRUE;
    }

  if (GTK_WINDOW_CLASS (chat_window_parent_class)->close_request != NULL)
    return GTK_WINDOW_CLASS (chat_window_parent_class)->close_request (window);
  return FALSE;
}

static void
chat_window_dispose (GObject *object)
{
  ChatWindow *self = CHAT_WINDOW (object);

  chat_window_drop_client (self);
  if (self->subscriptions != NULL)
    g_signal_handlers_disconnect_by_data (self->subscriptions, self);
  g_clear_object (&self->subscriptions);

  G_OBJECT_CLASS (chat_window_parent_class)->dispose (object);
}

static void
chat_window_finalize (GObject *object)
{
  ChatWindow *self = CHAT_WINDOW (object);

  g_free (self->nick);
  g_free (self->host);

  G_OBJECT_CLASS (chat_window_parent_class)->finalize (object);
}

static void
chat_window_class_init (ChatWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = chat_window_dispose;
  object_class->finalize = chat_window_finalize;
  window_class->close_request = chat_window_close_request;
}

static GtkWidget *
banner_new (ChatWindow *self)
{
  GtkWidget *revealer = gtk_revealer_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *button = gtk_button_new_with_label ("Retry Now");

  gtk_widget_add_css_class (box, "chat-banner");
  self->banner_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->banner_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->banner_label), 0);
  gtk_widget_set_hexpand (self->banner_label, TRUE);
  gtk_box_append (GTK_BOX (box), self->banner_label);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_signal_connect (button, "clicked", G_CALLBACK (on_retry_clicked), self);
  gtk_box_append (GTK_BOX (box), button);
  gtk_revealer_set_child (GTK_REVEALER (revealer), box);

  return revealer;
}

static void
chat_window_init (ChatWindow *self)
{
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *page = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *connect_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *send_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *body = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *chat = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *placeholder = gtk_label_new ("No messages yet");
  GtkAdjustment *adjustment;
  static const GActionEntry actions[] = {
    { "error-details", on_error_details, "s", NULL, NULL },
  };

  self->stick_to_bottom = TRUE;
  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);

  gtk_window_set_title (GTK_WINDOW (self), "Bayeux Chat");
  gtk_window_set_default_size (GTK_WINDOW (self), 900, 560);

  /* Header bar: the title, and the client's state as subtitle and icon. */
  self->title = ADW_WINDOW_TITLE (adw_window_title_new ("Bayeux Chat", "Not connected"));
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), GTK_WIDGET (self->title));
  self->status_icon = gtk_image_new_from_icon_name ("network-offline-symbolic");
  gtk_widget_add_css_class (self->status_icon, "dim-label");
  gtk_widget_set_tooltip_text (self->status_icon, "Connection state");
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), self->status_icon);
  gtk_box_append (GTK_BOX (content), header);

  /* Shown while the server cannot be reached. */
  self->banner = banner_new (self);
  gtk_box_append (GTK_BOX (content), self->banner);

  /* Server and nickname. */
  self->url_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->url_entry), DEFAULT_URL);
  gtk_editable_set_text (GTK_EDITABLE (self->url_entry), DEFAULT_URL);
  gtk_entry_set_input_purpose (GTK_ENTRY (self->url_entry), GTK_INPUT_PURPOSE_URL);
  gtk_widget_set_hexpand (self->url_entry, TRUE);
  gtk_widget_set_tooltip_text (self->url_entry, "The Bayeux server");
  self->nick_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->nick_entry), "Nickname");
  gtk_editable_set_width_chars (GTK_EDITABLE (self->nick_entry), 12);
  self->connect_button = gtk_button_new_with_label ("Connect");
  gtk_widget_add_css_class (self->connect_button, "suggested-action");
  g_signal_connect (self->url_entry, "activate", G_CALLBACK (on_connect_clicked), self);
  g_signal_connect (self->nick_entry, "activate", G_CALLBACK (on_connect_clicked), self);
  g_signal_connect (self->connect_button, "clicked", G_CALLBACK (on_connect_clicked), self);
  gtk_box_append (GTK_BOX (connect_row), self->url_entry);
  gtk_box_append (GTK_BOX (connect_row), self->nick_entry);
  gtk_box_append (GTK_BOX (connect_row), self->connect_button);
  gtk_box_append (GTK_BOX (page), connect_row);

  /* The messages. */
  self->list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (self->list, "chat-list");
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 24);
  gtk_widget_set_margin_bottom (placeholder, 24);
  gtk_list_box_set_placeholder (GTK_LIST_BOX (self->list), placeholder);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "Messages",
                                  -1);
  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), self->list);
  gtk_widget_set_vexpand (self->scroller, TRUE);
  gtk_widget_add_css_class (self->scroller, "card");
  adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scroller));
  g_signal_connect (adjustment, "changed", G_CALLBACK (on_adjustment_changed), self);
  g_signal_connect (adjustment, "value-changed", G_CALLBACK (on_adjustment_value_changed), self);
  gtk_box_append (GTK_BOX (chat), self->scroller);

  /* What to say. */
  self->message_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->message_entry), "Message " CHAT_CHANNEL);
  gtk_widget_set_hexpand (self->message_entry, TRUE);
  self->send_button = gtk_button_new_with_label ("Send");
  g_signal_connect (self->message_entry, "activate", G_CALLBACK (on_send), self);
  g_signal_connect (self->send_button, "clicked", G_CALLBACK (on_send), self);
  gtk_box_append (GTK_BOX (send_row), self->message_entry);
  gtk_box_append (GTK_BOX (send_row), self->send_button);
  gtk_box_append (GTK_BOX (chat), send_row);

  /* The messages on the left, the subscriptions panel on the right. */
  gtk_widget_set_hexpand (chat, TRUE);
  gtk_box_append (GTK_BOX (body), chat);
  gtk_box_append (GTK_BOX (body), subscriptions_panel_new (self));
  gtk_widget_set_vexpand (body, TRUE);
  gtk_box_append (GTK_BOX (page), body);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), self->panel_button);

  gtk_widget_set_margin_top (page, 12);
  gtk_widget_set_margin_bottom (page, 12);
  gtk_widget_set_margin_start (page, 12);
  gtk_widget_set_margin_end (page, 12);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 1100);
  adw_clamp_set_child (ADW_CLAMP (clamp), page);

  /* Errors go to toasts over the page. */
  self->toasts = ADW_TOAST_OVERLAY (adw_toast_overlay_new ());
  adw_toast_overlay_set_child (self->toasts, clamp);
  gtk_widget_set_vexpand (GTK_WIDGET (self->toasts), TRUE);
  gtk_box_append (GTK_BOX (content), GTK_WIDGET (self->toasts));

  adw_application_window_set_content (ADW_APPLICATION_WINDOW (self), content);
  chat_window_update_controls (self, BAYEUX_CLIENT_STATE_DISCONNECTED);
}

static ChatWindow *
chat_window_new (AdwApplication *application)
{
  return g_object_new (CHAT_TYPE_WINDOW, "application", application, NULL);
}

/* ------------------------------------------------------------------------ */
/* The application                                                          */

typedef struct
{
  char     *url;
  char     *nick;
  gboolean  auto_connect;
  guint     signal_ids[2];
} ChatOptions;

static const char css[] =
  ".chat-banner { padding: 6px 12px;\n"
  "               background-color: @warning_bg_color; color: @warning_fg_color; }\n"
  ".chat-list { background: none; }\n";

static gint
on_handle_local_options (GApplication *application,
                         GVariantDict *options,
                         ChatOptions  *chat)
{
  g_variant_dict_lookup (options, "url", "s", &chat->url);
  g_variant_dict_lookup (options, "nick", "s", &chat->nick);
  g_variant_dict_lookup (options, "auto-connect", "b", &chat->auto_connect);

  return -1;   /* go on */
}

static gboolean
on_quit_signal (gpointer user_data)
{
  GtkApplication *application = user_data;
  GList *windows = gtk_application_get_windows (application);
  gboolean all_closing = TRUE;

  /* Close the windows (each disconnects first); a second signal quits. */
  for (GList *l = windows; l != NULL; l = l->next)
    all_closing &= CHAT_IS_WINDOW (l->data) && CHAT_WINDOW (l->data)->closing;
  if (windows == NULL || all_closing)
    {
      g_application_quit (G_APPLICATION (application));
      return G_SOURCE_CONTINUE;
    }

  /* Closing a window removes it from the list: work on a copy. */
  windows = g_list_copy (windows);
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);

  return G_SOURCE_CONTINUE;
}

static void
on_startup (GApplication *application,
            ChatOptions  *chat)
{
  g_autoptr(GtkCssProvider) provider = gtk_css_provider_new ();

  gtk_css_provider_load_from_data (provider, css, -1);
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  chat->signal_ids[0] = g_unix_signal_add (SIGINT, on_quit_signal, application);
  chat->signal_ids[1] = g_unix_signal_add (SIGTERM, on_quit_signal, application);
}

static void
on_shutdown (GApplication *application,
             ChatOptions  *chat)
{
  g_clear_handle_id (&chat->signal_ids[0], g_source_remove);
  g_clear_handle_id (&chat->signal_ids[1], g_source_remove);
}

static void
on_activate (GApplication *application,
             ChatOptions  *chat)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (application));
  ChatWindow *self;

  if (window != NULL)
    {
      gtk_window_present (window);
      return;
    }

  self = chat_window_new (ADW_APPLICATION (application));
  if (chat->url != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->url_entry), chat->url);
  gtk_editable_set_text (GTK_EDITABLE (self->nick_entry),
                         chat->nick != NULL ? chat->nick : g_get_user_name ());
  gtk_window_present (GTK_WINDOW (self));

  if (chat->auto_connect)
    chat_window_connect (self);
  else
    gtk_widget_grab_focus (self->connect_button);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(AdwApplication) application = NULL;
  ChatOptions chat = { 0 };
  const GOptionEntry entries[] = {
    { "url", 'u', 0, G_OPTION_ARG_STRING, NULL,
      "The Bayeux server (default " DEFAULT_URL ")", "URL" },
    { "nick", 'n', 0, G_OPTION_ARG_STRING, NULL,
      "Your nickname (default: your user name)", "NAME" },
    { "auto-connect", 'c', 0, G_OPTION_ARG_NONE, NULL,
      "Connect at once", NULL },
    { NULL }
  };
  int status;

  application = adw_application_new (APPLICATION_ID, G_APPLICATION_NON_UNIQUE);
  g_application_add_main_option_entries (G_APPLICATION (application), entries);
  g_application_set_option_context_summary (G_APPLICATION (application),
                                            "Chat on " CHAT_CHANNEL " through a Bayeux server.");
  g_signal_connect (application, "handle-local-options",
                    G_CALLBACK (on_handle_local_options), &chat);
  g_signal_connect (application, "startup", G_CALLBACK (on_startup), &chat);
  g_signal_connect (application, "shutdown", G_CALLBACK (on_shutdown), &chat);
  g_signal_connect (application, "activate", G_CALLBACK (on_activate), &chat);

  status = g_application_run (G_APPLICATION (application), argc, argv);

  g_free (chat.url);
  g_free (chat.nick);

  return status;
}
