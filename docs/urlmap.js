// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Where gi-docgen finds the online reference of each namespace that the
// bayeux-glib reference links to.
baseURLs = [
  [ 'GLib', 'https://docs.gtk.org/glib/' ],
  [ 'GObject', 'https://docs.gtk.org/gobject/' ],
  [ 'Gio', 'https://docs.gtk.org/gio/' ],
  [ 'Soup', 'https://libsoup.org/libsoup-3.0/' ],
  [ 'Json', 'https://gnome.pages.gitlab.gnome.org/json-glib/' ],
]
