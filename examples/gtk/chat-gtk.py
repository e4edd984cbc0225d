#!/usr/bin/python3
# chat-gtk.py: the GTK 4 + libadwaita chat application (chat-gtk.c) in
# Python, through PyGObject.
#
# The window has the server's URL and your nickname (and a Connect button),
# the messages of /chat/demo, and an entry to send one; a side panel lists
# the client's subscriptions (its `subscriptions` list model) with their
# state and message count. The header bar shows the client's state, bound
# to its `state` property; a banner says
# when the server cannot be reached and the client is retrying, a toast
# when the connection is back. The client reconnects (and subscribes again)
# by itself when the server restarts. Errors are told in plain words
# (error_to_text()); the library's own message, for whoever wants the
# details, is in the banner's tooltip or behind a toast's Details button,
# never the main text.
#
#   /usr/bin/python3 examples/gtk/chat-gtk.py [--url URL] [--nick NAME] [--auto-connect]
#
# From a build folder that was not installed, point GObject-Introspection
# and the dynamic linker at it, e.g.:
#
#   GI_TYPELIB_PATH=_build/bayeux-glib LD_LIBRARY_PATH=_build/bayeux-glib \
#     /usr/bin/python3 examples/gtk/chat-gtk.py --auto-connect
#
# Test hook: when the environment variable BAYEUX_GTK_TEST_FILE names a
# file, the application appends one line to it for each thing it shows:
# `ROW <text>` when a message row is mapped on screen, `STATE <nick>` on
# each state change, `TOAST <title>`, `BANNER <text>`, and
# `SUB <channel> <state nick> <count>` each time a row of the subscriptions
# panel is bound or shows a new state or message count. The rows also carry
# their text as their accessible label.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import getpass
import json
import os
import signal
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Gdk", "4.0")
gi.require_version("Gtk", "4.0")
gi.require_version("Adw", "1")
gi.require_version("Bayeux", "1.0")
from gi.repository import Adw, Bayeux, Gdk, Gio, GLib, GObject, Gtk, Pango  # noqa: E402

APPLICATION_ID = "org.example.BayeuxChat"
CHANNEL = "/chat/demo"
STATUS_CHANNEL = "/chat/status"  # only counted, in the subscriptions panel
DEFAULT_URL = "http://127.0.0.1:8000/faye"

# An interactive application should not leave its user waiting for the
# library's default 30 s between two attempts to reach the server.
MAX_BACKOFF_MS = 5000

# The width of the nickname column, in pixels.
NICK_WIDTH = 88

# The width of the subscriptions panel, in pixels.
PANEL_WIDTH = 220

State = Bayeux.ClientState
SubscriptionState = Bayeux.SubscriptionState

CSS = """
.chat-banner { padding: 6px 12px; background-color: @warning_bg_color; color: @warning_fg_color; }
.chat-list { background: none; }
"""


def test_log(kind, text):
    """The test hook: one line per thing shown."""
    path = os.environ.get("BAYEUX_GTK_TEST_FILE")
    if not path:
        return
    line = text.replace("\r", " ").replace("\n", " ")
    with open(path, "a", encoding="utf-8") as file:
        file.write(f"{kind} {line}\n")


def state_nick(state):
    return state.value_nick


def subscription_state_to_text(state):
    """A subscription's state, in words."""
    return {
        SubscriptionState.PENDING: "Waiting for the server",
        SubscriptionState.SUBSCRIBED: "Subscribed",
        SubscriptionState.REFUSED: "Refused by the server",
        SubscriptionState.UNSUBSCRIBED: "Unsubscribed",
    }.get(state, "Unknown")


def error_to_text(error, host):
    """What ERROR (a GLib.Error) means to the user, in plain words, for a
    banner or a toast (no full stop: the caller adds what comes next), and
    the details: the library's message when the words leave something out
    (for a tooltip, or the toast's Details), else None. The library's
    messages are for developers: they name protocol fields, and the
    server's error string can hold the session's client id
    (`401:<id>:Unknown client`)."""
    details = error.message
    if error.domain == GLib.quark_to_string(Bayeux.error_quark()):
        code = error.code
        if code == Bayeux.Error.UNKNOWN_CLIENT:
            # Nothing more to know, and the message holds the client id.
            return "The server restarted or forgot this session: joining again…", None
        if code == Bayeux.Error.TIMEOUT:
            return f"{host} is not answering", details
        if code == Bayeux.Error.HTTP:
            return f"The server at {host} answered with an error", details
        if code == Bayeux.Error.NETWORK_UNAVAILABLE:
            return "The network is down: waiting for it to come back…", None
        if code == Bayeux.Error.HANDSHAKE_DENIED:
            return f"The server at {host} did not let this application in", details
        if code == Bayeux.Error.REFUSED:
            return "The server refused it", details
        if code == Bayeux.Error.MESSAGE_TOO_LARGE:
            return "Too large for the server", details
        if code in (Bayeux.Error.QUEUE_FULL, Bayeux.Error.EXPIRED):
            return f"{host} could not be reached in time", details
        if code == Bayeux.Error.DISCONNECTED:
            return "Not connected", None
        if code == Bayeux.Error.BAD_RESPONSE:
            return (f"The server at {host} answered something this application does not "
                    "understand", details)
    elif error.domain == GLib.quark_to_string(Gio.tls_error_quark()):
        if error.code == Gio.TlsError.BAD_CERTIFICATE:
            return "The server's certificate is not trusted", details
        return f"No secure connection to {host} could be made", details
    elif error.domain == GLib.quark_to_string(Gio.resolver_error_quark()):
        return f"Cannot reach {host}", details
    elif error.domain == GLib.quark_to_string(Gio.io_error_quark()):
        if error.code in (Gio.IOErrorEnum.CONNECTION_REFUSED, Gio.IOErrorEnum.HOST_UNREACHABLE,
                          Gio.IOErrorEnum.NETWORK_UNREACHABLE, Gio.IOErrorEnum.NOT_FOUND):
            return f"Cannot reach {host}", details
        if error.code == Gio.IOErrorEnum.TIMED_OUT:
            return f"{host} is not answering", details
        if error.code in (Gio.IOErrorEnum.PARTIAL_INPUT, Gio.IOErrorEnum.CONNECTION_CLOSED,
                          Gio.IOErrorEnum.BROKEN_PIPE):
            return f"The connection to {host} was cut", details
    return f"Something went wrong with {host}", details


class ChatWindow(Adw.ApplicationWindow):
    def __init__(self, application):
        super().__init__(application=application, title="Bayeux Chat",
                         default_width=900, default_height=560)
        self.client = None
        self.bindings = []
        self.client_handlers = []
        self.nick = None
        self.host = None
        self.joined = False         # said "has joined" already
        self.was_connected = False  # connected since the last start
        self.lost = False           # lost the connection, recovering
        self.stopping = False       # the user asked to disconnect
        self.retrying = False       # Retry Now: disconnecting to start again
        self.closing = False        # disconnecting before closing
        self.stick_to_bottom = True

        content = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)

        # Header bar: the title, and the client's state as subtitle and icon.
        header = Adw.HeaderBar()
        self.title_widget = Adw.WindowTitle(title="Bayeux Chat", subtitle="Not connected")
        header.set_title_widget(self.title_widget)
        self.status_icon = Gtk.Image(icon_name="network-offline-symbolic",
                                     tooltip_text="Connection state")
        self.status_icon.add_css_class("dim-label")
        header.pack_start(self.status_icon)
        content.append(header)

        # Shown while the server cannot be reached.
        self.banner = Gtk.Revealer()
        banner_box = Gtk.Box(spacing=12)
        banner_box.add_css_class("chat-banner")
        self.banner_label = Gtk.Label(wrap=True, xalign=0, hexpand=True)
        banner_box.append(self.banner_label)
        self.retry_button = Gtk.Button(label="Retry Now", valign=Gtk.Align.CENTER)
        self.retry_button.connect("clicked", self.on_retry_clicked)
        banner_box.append(self.retry_button)
        self.banner.set_child(banner_box)
        content.append(self.banner)

        page = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12, margin_top=12,
                       margin_bottom=12, margin_start=12, margin_end=12)

        # Server and nickname.
        connect_row = Gtk.Box(spacing=6)
        self.url_entry = Gtk.Entry(text=DEFAULT_URL, placeholder_text=DEFAULT_URL,
                                   input_purpose=Gtk.InputPurpose.URL, hexpand=True,
                                   tooltip_text="The Bayeux server")
        self.nick_entry = Gtk.Entry(placeholder_text="Nickname", width_chars=12)
        self.connect_button = Gtk.Button(label="Connect")
        self.connect_button.add_css_class("suggested-action")
        for widget in (self.url_entry, self.nick_entry):
            widget.connect("activate", self.on_connect_clicked)
        self.connect_button.connect("clicked", self.on_connect_clicked)
        for widget in (self.url_entry, self.nick_entry, self.connect_button):
            connect_row.append(widget)
        page.append(connect_row)

        # The messages on the left, the subscriptions panel on the right.
        body = Gtk.Box(vexpand=True)
        chat = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12, hexpand=True)
        body.append(chat)
        body.append(self.subscriptions_panel_new())
        header.pack_end(self.panel_button)
        page.append(body)

        # The messages.
        self.list = Gtk.ListBox(selection_mode=Gtk.SelectionMode.NONE)
        self.list.add_css_class("chat-list")
        placeholder = Gtk.Label(label="No messages yet", margin_top=24, margin_bottom=24)
        placeholder.add_css_class("dim-label")
        self.list.set_placeholder(placeholder)
        self.list.update_property([Gtk.AccessibleProperty.LABEL], ["Messages"])
        scroller = Gtk.ScrolledWindow(hscrollbar_policy=Gtk.PolicyType.NEVER, vexpand=True,
                                      child=self.list)
        scroller.add_css_class("card")
        adjustment = scroller.get_vadjustment()
        adjustment.connect("changed", self.on_adjustment_changed)
        adjustment.connect("value-changed", self.on_adjustment_value_changed)
        chat.append(scroller)

        # What to say.
        send_row = Gtk.Box(spacing=6)
        self.message_entry = Gtk.Entry(placeholder_text="Message " + CHANNEL, hexpand=True)
        self.send_button = Gtk.Button(label="Send")
        self.message_entry.connect("activate", self.on_send)
        self.send_button.connect("clicked", self.on_send)
        send_row.append(self.message_entry)
        send_row.append(self.send_button)
        chat.append(send_row)

        # Errors go to toasts over the page.
        self.toasts = Adw.ToastOverlay(child=Adw.Clamp(maximum_size=1100, child=page),
                                       vexpand=True)
        content.append(self.toasts)

        # A toast's Details.
        details_action = Gio.SimpleAction(name="error-details",
                                          parameter_type=GLib.VariantType("s"))
        details_action.connect("activate", self.on_error_details)
        self.add_action(details_action)

        self.set_content(content)
        self.connect("close-request", self.on_close_request)
        self.update_controls(State.DISCONNECTED)

    # -- showing things -----------------------------------------------------

    def toast(self, title, details=None):
        """A toast; DETAILS, the technical text behind it, is shown by its
        Details button (the win.error-details action)."""
        # Toast titles are Pango markup (in libadwaita 1.2, always).
        toast = Adw.Toast(title=GLib.markup_escape_text(title),
                          timeout=8 if details is not None else 4)
        if details is not None:
            toast.set_button_label("Details")
            toast.set_action_name("win.error-details")
            toast.set_action_target_value(GLib.Variant("s", details))
        self.toasts.add_toast(toast)
        test_log("TOAST", title)

    def show_banner(self, text, details=None):
        """The banner, or none (TEXT None); DETAILS is its tooltip."""
        if text is not None:
            if self.banner_label.get_text() != text:
                test_log("BANNER", text)
            self.banner_label.set_text(text)
        self.banner_label.set_tooltip_text(details if text is not None else None)
        self.banner.set_reveal_child(text is not None)

    def on_error_details(self, _action, parameter):
        dialog = Adw.MessageDialog(transient_for=self, heading="Details",
                                   body=parameter.get_string())
        dialog.add_response("close", "Close")
        dialog.present()

    def add_row(self, user, text):
        row_text = f"{user}: {text}" if user is not None else text
        box = Gtk.Box(spacing=12, margin_top=6, margin_bottom=6, margin_start=12, margin_end=12)

        # The nickname, in a column of its own (the same width in any font).
        label = Gtk.Label(label=user if user is not None else "data", xalign=0, yalign=0,
                          width_request=NICK_WIDTH, ellipsize=Pango.EllipsizeMode.END)
        label.add_css_class("heading" if user is not None else "dim-label")
        box.append(label)

        label = Gtk.Label(label=text, xalign=0, wrap=True, selectable=True, hexpand=True,
                          wrap_mode=Pango.WrapMode.WORD_CHAR)
        if user is None:
            label.add_css_class("monospace")
        box.append(label)

        label = Gtk.Label(label=GLib.DateTime.new_now_local().format("%H:%M"), yalign=0)
        label.add_css_class("dim-label")
        label.add_css_class("caption")
        box.append(label)

        row = Gtk.ListBoxRow(child=box, activatable=False)
        row.update_property([Gtk.AccessibleProperty.LABEL], [row_text])

        def on_mapped(widget):
            test_log("ROW", row_text)
            widget.disconnect(handler)

        handler = row.connect("map", on_mapped)
        self.list.append(row)

    # -- the subscriptions panel --------------------------------------------

    def subscriptions_panel_new(self):
        """The panel, on the right of the messages, in a revealer that the
        header bar's button opens and closes."""
        # A card, as the messages are: a title, then the list.
        panel = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, width_request=PANEL_WIDTH,
                        margin_start=12, overflow=Gtk.Overflow.HIDDEN)
        panel.add_css_class("card")
        title = Gtk.Label(label="Subscriptions", xalign=0, margin_top=10, margin_bottom=10,
                          margin_start=12, margin_end=12)
        title.add_css_class("heading")
        panel.append(title)
        panel.append(Gtk.Separator(orientation=Gtk.Orientation.HORIZONTAL))

        factory = Gtk.SignalListItemFactory()
        factory.connect("setup", self.on_subscription_setup)
        factory.connect("bind", self.on_subscription_bind)
        factory.connect("unbind", self.on_subscription_unbind)

        # No model until there is a client: connect_to_server() sets it.
        self.subscriptions = Gtk.NoSelection()
        self.subscriptions.connect("items-changed", self.on_subscriptions_changed)
        view = Gtk.ListView(model=self.subscriptions, factory=factory, show_separators=True)
        view.add_css_class("chat-list")
        view.update_property([Gtk.AccessibleProperty.LABEL], ["Subscriptions"])
        scroller = Gtk.ScrolledWindow(hscrollbar_policy=Gtk.PolicyType.NEVER, child=view)

        placeholder = Gtk.Label(label="No subscriptions", wrap=True, valign=Gtk.Align.START,
                                margin_top=24)
        placeholder.add_css_class("dim-label")

        self.panel_stack = Gtk.Stack(vexpand=True)
        self.panel_stack.add_named(scroller, "list")
        self.panel_stack.add_named(placeholder, "empty")
        self.panel_stack.set_visible_child_name("empty")
        panel.append(self.panel_stack)

        self.panel_revealer = Gtk.Revealer(
            transition_type=Gtk.RevealerTransitionType.SLIDE_LEFT, reveal_child=True, child=panel)

        # The header bar's button opens and closes it.
        self.panel_button = Gtk.ToggleButton(icon_name="sidebar-show-right-symbolic",
                                             tooltip_text="Subscriptions")
        self.panel_revealer.bind_property("reveal-child", self.panel_button, "active",
                                          GObject.BindingFlags.SYNC_CREATE
                                          | GObject.BindingFlags.BIDIRECTIONAL)
        return self.panel_revealer

    @staticmethod
    def on_subscription_setup(_factory, list_item):
        """A row: the channel, and under it the state and the message count."""
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=2, margin_top=8,
                      margin_bottom=8, margin_start=12, margin_end=12)
        box.channel_label = Gtk.Label(xalign=0, ellipsize=Pango.EllipsizeMode.MIDDLE)
        box.channel_label.add_css_class("heading")
        box.append(box.channel_label)
        line = Gtk.Box(spacing=6)
        box.state_label = Gtk.Label(xalign=0, hexpand=True)
        line.append(box.state_label)
        box.count_label = Gtk.Label()
        for css_class in ("caption", "numeric", "dim-label"):
            box.count_label.add_css_class(css_class)
        line.append(box.count_label)
        box.append(line)
        list_item.set_child(box)
        list_item.set_activatable(False)

    @staticmethod
    def subscription_row_update(list_item):
        """Shows the row's subscription as it is now."""
        subscription = list_item.get_item()
        box = list_item.get_child()
        state = subscription.get_state()
        count = subscription.get_message_count()
        channel = subscription.get_channel()
        count_text = "1 message" if count == 1 else f"{count} messages"
        state_class = {
            SubscriptionState.SUBSCRIBED: "success",
            SubscriptionState.PENDING: "warning",
            SubscriptionState.REFUSED: "error",
        }.get(state, "dim-label")

        box.channel_label.set_text(channel)
        box.state_label.set_text(subscription_state_to_text(state))
        box.state_label.set_css_classes(["caption", state_class])
        box.count_label.set_text(count_text)
        box.update_property([Gtk.AccessibleProperty.LABEL],
                            [f"{channel}: {subscription_state_to_text(state)}, {count_text}"])
        test_log("SUB", f"{channel} {state.value_nick} {count}")

    def on_subscription_bind(self, _factory, list_item):
        # The row follows its subscription until it is unbound.
        subscription = list_item.get_item()
        list_item.handlers = [
            subscription.connect("notify::state", self.on_subscription_notify, list_item),
            subscription.connect("notify::message-count", self.on_subscription_notify,
                                 list_item),
        ]
        self.subscription_row_update(list_item)

    @staticmethod
    def on_subscription_unbind(_factory, list_item):
        subscription = list_item.get_item()
        for handler in getattr(list_item, "handlers", []):
            subscription.disconnect(handler)
        list_item.handlers = []

    def on_subscription_notify(self, _subscription, _pspec, list_item):
        self.subscription_row_update(list_item)

    def on_subscriptions_changed(self, model, _position, _removed, _added):
        """The list, or a placeholder when there is nothing in it."""
        self.panel_stack.set_visible_child_name("list" if model.get_n_items() > 0 else "empty")

    def update_controls(self, state):
        idle = state == State.DISCONNECTED and not self.retrying
        connected = state == State.CONNECTED

        # Move the focus out of what is about to become insensitive.
        focus = self.get_focus()
        if focus is not None and (
                (not idle and (focus.is_ancestor(self.url_entry)
                               or focus.is_ancestor(self.nick_entry)))
                or (not connected and focus.is_ancestor(self.message_entry))):
            self.connect_button.grab_focus()

        self.url_entry.set_sensitive(idle)
        self.nick_entry.set_sensitive(idle)
        self.connect_button.set_sensitive(state != State.DISCONNECTING)
        self.connect_button.set_label("Connect" if idle else "Disconnect")
        if idle:
            self.connect_button.remove_css_class("destructive-action")
            self.connect_button.add_css_class("suggested-action")
        else:
            self.connect_button.remove_css_class("suggested-action")
            self.connect_button.add_css_class("destructive-action")
        self.message_entry.set_sensitive(connected)
        self.send_button.set_sensitive(connected)

        status_class = {
            State.CONNECTED: "success",
            State.HANDSHAKING: "warning",
            State.UNCONNECTED: "error",
        }.get(state, "dim-label")
        self.status_icon.set_css_classes([status_class])

    # -- the header bar, bound to the client's state ------------------------

    def state_to_subtitle(self, binding, state):
        if state == State.DISCONNECTED:
            return "Not connected"
        if state == State.HANDSHAKING:
            return f"Reconnecting to {self.host}…" if self.was_connected \
                else f"Connecting to {self.host}…"
        if state == State.CONNECTED:
            return f"Connected to {self.host}"
        if state == State.UNCONNECTED:
            return "Connection lost, reconnecting…"
        return "Disconnecting…"

    @staticmethod
    def state_to_icon_name(binding, state):
        return {
            State.HANDSHAKING: "network-idle-symbolic",
            State.CONNECTED: "network-transmit-receive-symbolic",
            State.UNCONNECTED: "network-error-symbolic",
        }.get(state, "network-offline-symbolic")

    # -- the client ---------------------------------------------------------

    def on_state_changed(self, client, _pspec):
        state = client.get_state()
        test_log("STATE", state_nick(state))

        if state == State.CONNECTED:
            self.retrying = False
            self.show_banner(None)
            if self.lost:
                self.toast("Reconnected: the connection is back")
            self.lost = False
            self.was_connected = True
            if self.get_visible():
                self.message_entry.grab_focus()
        elif state in (State.HANDSHAKING, State.UNCONNECTED):
            if state == State.HANDSHAKING:
                self.retrying = False
            # Not asked for: the client recovers by itself, say so.
            if self.was_connected and not self.lost and not self.stopping:
                self.lost = True
                self.show_banner("Connection lost. Reconnecting…")
        elif state == State.DISCONNECTED and self.retrying:
            pass  # handshaking again next
        elif state == State.DISCONNECTED:
            self.show_banner(None)
            if not self.stopping:
                self.toast("Disconnected by the server")
            self.stopping = False
            self.was_connected = False
            self.lost = False

        self.update_controls(state)

    def on_error(self, client, error, message):
        state = client.get_state()
        what, details = error_to_text(error, self.host)
        if state in (State.HANDSHAKING, State.UNCONNECTED):
            # A failure the client is retrying: one banner, kept up to
            # date, rather than a toast for every attempt.
            if not what.endswith("…"):
                what += ". Reconnecting…" if self.lost else ". Retrying…"
            self.show_banner(what, details)
            return
        # Which channel, when it is one of the application's.
        channel = message.get_channel() if message is not None else None
        if channel and not channel.startswith("/meta/"):
            what = f"{channel}: {what}"
        self.toast(what, details)

    def on_message(self, client, message):
        # The data as the server sent it: JSON text for json.loads.
        text = message.get_data_json()
        chat = json.loads(text) if text is not None else None
        if (isinstance(chat, dict) and isinstance(chat.get("user"), str)
                and isinstance(chat.get("chat"), str)):
            self.add_row(chat["user"], chat["chat"])
        else:
            # Not from a chat client: show its data whole.
            self.add_row(None, text if text is not None else "null")

    def say(self, text):
        self.client.publish_json_async(CHANNEL, json.dumps({"user": self.nick, "chat": text}), None,
                                       self.on_published)

    def on_published(self, client, result):
        try:
            client.publish_json_finish(result)
        except GLib.Error as error:
            if client is self.client:
                what, details = error_to_text(error, self.host)
                self.toast(f"Message not sent. {what}", details)

    def on_subscribed(self, client, result):
        try:
            client.subscribe_finish(result)
        except GLib.Error as error:
            # Stopped before the subscription got through: nothing to say.
            if client is self.client and not error.matches(Bayeux.error_quark(),
                                                           Bayeux.Error.DISCONNECTED):
                what, details = error_to_text(error, self.host)
                self.toast(f"Cannot join {CHANNEL}. {what}", details)
            return
        # Subscribed: what is published from now on comes back to us, our
        # own join message included. The client subscribes again by itself
        # after a reconnection.
        if client is self.client and not self.joined:
            self.joined = True
            self.say("has joined")

    def drop_client(self):
        if self.client is None:
            return
        for binding in self.bindings:
            binding.unbind()
        self.bindings = []
        # The list model is the client's: the panel lets go of it first.
        self.subscriptions.set_model(None)
        for handler in self.client_handlers:
            self.client.disconnect(handler)
        self.client.stop()
        self.client = None

    def connect_to_server(self):
        """Connects with the URL and nickname of the entries."""
        url = self.url_entry.get_text().strip()
        nick = self.nick_entry.get_text().strip()
        if not nick:
            self.toast("Choose a nickname first")
            self.nick_entry.grab_focus()
            return
        try:
            uri = GLib.Uri.parse(url, GLib.UriFlags.NONE)
        except GLib.Error:
            uri = None
        if uri is None or not uri.get_host() or uri.get_scheme() not in ("http", "https"):
            self.toast(f"“{url}” is not an http:// or https:// URL")
            self.url_entry.grab_focus()
            return

        self.drop_client()
        self.nick = nick
        port = uri.get_port()
        self.host = f"{uri.get_host()}:{port}" if port > 0 else uri.get_host()
        self.joined = self.was_connected = self.lost = self.stopping = self.retrying = False

        client = Bayeux.Client.new(url)
        client.props.max_backoff = MAX_BACKOFF_MS
        self.client = client

        # The header bar follows the client's state.
        flags = GObject.BindingFlags.SYNC_CREATE
        self.bindings = [
            client.bind_property("state", self.title_widget, "subtitle", flags,
                                 self.state_to_subtitle),
            client.bind_property("state", self.status_icon, "icon-name", flags,
                                 self.state_to_icon_name),
        ]
        self.client_handlers = [
            client.connect("notify::state", self.on_state_changed),
            client.connect("message::" + CHANNEL, self.on_message),
            client.connect("error", self.on_error),
        ]

        # Held until the handshake completes, then sent.
        client.subscribe_async(CHANNEL, None, self.on_subscribed)

        # A second subscription, through a handle, whose messages are only
        # counted (in the panel). The client keeps the handle (in its list
        # model) until it is cancelled or the client goes. Not a pattern
        # such as /chat/**: some servers (CometD) send a message once for
        # each subscription it matches, and /chat/demo would then show each
        # line twice.
        client.add_subscription(STATUS_CHANNEL, None)

        # The panel lists the client's subscriptions, as they come and go.
        self.subscriptions.set_model(client.get_subscriptions())

        client.start()

    def on_connect_clicked(self, _widget):
        if self.client is not None and self.client.get_state() != State.DISCONNECTED:
            self.stopping = True
            self.retrying = False
            self.client.disconnect_async(None, self.on_disconnected)
            return
        self.connect_to_server()

    def on_disconnected(self, client, result):
        try:
            client.disconnect_finish(result)
        except GLib.Error:
            pass  # whatever the server said, the client is disconnected now
        # (Unless the window went already, the application quitting.)
        if self.closing and client is self.client:
            self.drop_client()
            self.destroy()

    def on_send(self, _widget):
        text = self.message_entry.get_text().strip()
        if not text or self.client is None or self.client.get_state() != State.CONNECTED:
            return
        self.say(text)
        self.message_entry.set_text("")

    def on_retry_clicked(self, _button):
        if self.client is None:
            return
        # Disconnects, then handshakes again at once instead of waiting out
        # the client's backoff.
        self.retrying = True
        if self.was_connected:
            self.lost = True  # say when it is back
        self.show_banner("Reconnecting…")
        self.client.reconnect()

    # Keeps the newest message in view, unless the user scrolled up.
    def on_adjustment_changed(self, adjustment):
        if self.stick_to_bottom:
            adjustment.set_value(adjustment.get_upper() - adjustment.get_page_size())

    def on_adjustment_value_changed(self, adjustment):
        self.stick_to_bottom = (adjustment.get_value()
                                >= adjustment.get_upper() - adjustment.get_page_size() - 1.0)

    def on_close_request(self, _window):
        # Say goodbye to the server (it answers within the client's
        # max-network-delay) before going.
        if (not self.closing and self.client is not None
                and self.client.get_state() != State.DISCONNECTED):
            self.closing = self.stopping = True
            self.set_visible(False)
            self.client.disconnect_async(None, self.on_disconnected)
            return True
        self.drop_client()
        return False


class ChatApplication(Adw.Application):
    def __init__(self):
        super().__init__(application_id=APPLICATION_ID,
                         flags=Gio.ApplicationFlags.NON_UNIQUE)
        self.url = None
        self.nick = None
        self.auto_connect = False
        self.add_main_option("url", ord("u"), GLib.OptionFlags.NONE, GLib.OptionArg.STRING,
                             f"The Bayeux server (default {DEFAULT_URL})", "URL")
        self.add_main_option("nick", ord("n"), GLib.OptionFlags.NONE, GLib.OptionArg.STRING,
                             "Your nickname (default: your user name)", "NAME")
        self.add_main_option("auto-connect", ord("c"), GLib.OptionFlags.NONE,
                             GLib.OptionArg.NONE, "Connect at once", None)
        self.set_option_context_summary(f"Chat on {CHANNEL} through a Bayeux server.")
        self.signal_ids = []

    def do_handle_local_options(self, options):
        options = options.end().unpack()
        self.url = options.get("url")
        self.nick = options.get("nick")
        self.auto_connect = options.get("auto-connect", False)
        return -1  # go on

    def do_startup(self):
        Adw.Application.do_startup(self)
        provider = Gtk.CssProvider()
        provider.load_from_data(CSS.encode())
        Gtk.StyleContext.add_provider_for_display(Gdk.Display.get_default(), provider,
                                                  Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)
        self.signal_ids = [GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, self.on_quit_signal)
                           for signum in (signal.SIGINT, signal.SIGTERM)]

    def do_shutdown(self):
        for source_id in self.signal_ids:
            GLib.source_remove(source_id)
        self.signal_ids = []
        Adw.Application.do_shutdown(self)

    def do_activate(self):
        window = self.get_active_window()
        if window is not None:
            window.present()
            return
        window = ChatWindow(self)
        if self.url:
            window.url_entry.set_text(self.url)
        window.nick_entry.set_text(self.nick or getpass.getuser())
        window.present()
        if self.auto_connect:
            window.connect_to_server()
        else:
            window.connect_button.grab_focus()

    def on_quit_signal(self):
        # Close the windows (each disconnects first); a second signal quits.
        windows = self.get_windows()
        if not windows or all(getattr(window, "closing", False) for window in windows):
            self.quit()
        else:
            for window in list(windows):
                window.close()
        return GLib.SOURCE_CONTINUE


def main():
    return ChatApplication().run(sys.argv)


if __name__ == "__main__":
    sys.exit(main())
