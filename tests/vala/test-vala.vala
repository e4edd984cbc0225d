/* test-vala.vala: the VAPI works: a Vala program against bayeux-glib-1.0,
 * built and run by tests/vala/check-vala.sh.
 *
 *   test-vala [URL]
 *
 * First the offline checks: a client's properties, detailed signals,
 * publish (queued, never sent), the error domain. Then, given the URL of
 * a Bayeux server (check-vala.sh starts tests/interop/faye-server.js), a
 * round trip as a Vala application makes it: handshake_async, subscribe_async
 * and publish_async with yield, its own message back through the detailed
 * message["/vala"] signal, the handshake reply through meta["/meta/handshake"],
 * then disconnect_async. Exits 0 when all of it worked.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

const string CHANNEL = "/vala";
const int64 ROUND_TRIP_TIMEOUT = 20 * TimeSpan.SECOND;

int offline_checks () {
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

    try {
        var data = Json.from_string ("{\"user\": \"Vala\"}");
        client.publish ("/chat/demo", data);
        Bayeux.channel_validate ("/a/*/b", Bayeux.ChannelFlags.ALLOW_WILDCARD);
        return 1;
    } catch (Bayeux.Error e) {
        assert (e is Bayeux.Error.INVALID_CHANNEL);
    } catch (GLib.Error e) {
        return 1;
    }
    return 0;
}

/* Against the server at @url; returns the exit status. */
async int round_trip (string url) {
    var client = new Bayeux.Client (url);
    Json.Node? received = null;
    string? handshake_client_id = null;
    int n_received = 0;

    client.meta["/meta/handshake"].connect ((reply) => {
        if (reply.get_successful ())
            handshake_client_id = reply.get_client_id ();
    });
    client.message[CHANNEL].connect ((m) => {
        n_received++;
        if (received == null)
            received = m.get_data ().copy ();
    });
    client.error.connect ((e, m) => {
        printerr ("test-vala: client error: %s\n", e.message);
    });

    try {
        yield client.handshake_async (null);
        assert (client.state == Bayeux.ClientState.HANDSHAKING ||
                client.state == Bayeux.ClientState.CONNECTED);
        if (handshake_client_id == null || handshake_client_id != client.client_id) {
            printerr ("test-vala: meta::/meta/handshake gave %s, the client has %s\n",
                      handshake_client_id ?? "nothing", client.client_id);
            return 1;
        }

        yield client.subscribe_async (CHANNEL, null);
        assert (client.is_subscribed (CHANNEL));

        var data = Json.from_string ("{\"from\": \"vala\", \"n\": 42}");
        var reply = yield client.publish_async (CHANNEL, data, null);
        assert (reply.get_successful ());

        /* Our own message comes back to us, subscribed. */
        var deadline = get_monotonic_time () + ROUND_TRIP_TIMEOUT;
        while (received == null && get_monotonic_time () < deadline) {
            Timeout.add (20, round_trip.callback);
            yield;
        }
        if (received == null) {
            printerr ("test-vala: our message did not come back on %s\n", CHANNEL);
            return 1;
        }
        var object = received.get_object ();
        if (object == null || object.get_string_member_with_default ("from", "") != "vala" ||
            object.get_int_member_with_default ("n", 0) != 42) {
            printerr ("test-vala: received %s\n", Json.to_string (received, false));
            return 1;
        }

        yield client.disconnect_async (null);
        assert (client.state == Bayeux.ClientState.DISCONNECTED);
    } catch (GLib.Error e) {
        printerr ("test-vala: %s\n", e.message);
        return 1;
    }

    print ("vala: round trip through %s: handshake, subscribe, publish, %d message back, disconnect\n",
           url, n_received);
    return 0;
}

int main (string[] args) {
    if (offline_checks () != 0)
        return 1;

    if (args.length < 2) {
        print ("vala: ok (offline checks only: no server URL given)\n");
        return 0;
    }

    var loop = new MainLoop ();
    int status = 1;
    round_trip.begin (args[1], (source, result) => {
        status = round_trip.end (result);
        loop.quit ();
    });
    /* A hung round trip fails rather than waiting for meson's timeout. */
    Timeout.add_seconds (60, () => {
        printerr ("test-vala: the round trip did not end within 60 s\n");
        loop.quit ();
        return Source.REMOVE;
    });
    loop.run ();

    if (status == 0)
        print ("vala: ok\n");
    return status;
}
