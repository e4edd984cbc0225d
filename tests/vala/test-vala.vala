/* test-vala.vala: the VAPI works: a Vala program against bayeux-glib-1.0,
 * built and run by tests/vala/meson.build.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
int main () {
    var client = new Bayeux.Client ("http://127.0.0.1:9/cometd");
    client.message["/chat/demo"].connect ((m) => {
        print ("%s\n", m.get_channel ());
    });
    client.error.connect ((e, m) => {
        print ("error: %s\n", e.message);
    });
    assert (client.state == Bayeux.ClientState.DISCONNECTED);
    assert (client.transport == "long-polling");
    assert (client.max_network_delay == 10000);

    var data = Json.from_string ("{\"user\": \"Vala\"}");
    client.publish ("/chat/demo", data);

    try {
        Bayeux.channel_validate ("/a/*/b", Bayeux.ChannelFlags.ALLOW_WILDCARD);
        return 1;
    } catch (Bayeux.Error e) {
        assert (e is Bayeux.Error.INVALID_CHANNEL);
    } catch (GLib.Error e) {
        return 1;
    }
    print ("vala: ok\n");
    return 0;
}
