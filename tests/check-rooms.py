#!/usr/bin/env python3
# check-rooms.py: the library's files call each other as bayeux-glib/README.md
# says, read from what each object file of the built library defines and
# uses (nm), not from its includes:
#
#   - no circle: no two files that reach each other through their calls;
#   - no room calls the client by name: only the client's own files
#     (bayeux-client.c, and bayeux-client-calls.c, its public calls and
#     signals, read as one file with it) and the
#     built-in extensions (users of the public API) may call a
#     bayeux_client_* function;
#   - the client reaches transports only through the private interface: it
#     calls no function of transports/bayeux-long-polling.c or
#     transports/bayeux-websocket.c, and only the factory names them.
#
#   check-rooms.py NM LIBRARY.a
#
# It sees calls by symbol only (not g_signal_emit_by_name, nor inline
# functions of a header); so that it cannot pass on output it failed to
# read, it also checks calls that must be there (the client calls its
# rooms and the transport interface; the factory names both transports).
#
# Prints each file's callees, then "N passed, N failed" (a TAP-less test).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import re
import subprocess
import sys


def members(nm, archive):
    out = subprocess.run([nm, "-A", archive], capture_output=True, text=True, check=True).stdout
    defs, uses = {}, {}
    for line in out.splitlines():
        m = re.match(r"^[^:]*:([^:]+):\s*(?:[0-9a-f]+)?\s+([A-Za-z])\s+(\S+)$", line)
        if not m:
            continue
        member, kind, sym = m.groups()
        name = member.split(".a.p/")[-1]
        for suffix in (".c.o", ".o"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        name = name.replace("transports_", "transports/").replace("extensions_", "extensions/")
        # The client's public calls and signals are the client, in a file of
        # their own: one node (they call each other).
        if name == "bayeux-client-calls":
            name = "bayeux-client"
        defs.setdefault(name, set())
        uses.setdefault(name, set())
        if kind == "U":
            uses[name].add(sym)
        elif kind in "TDBR":
            defs[name].add(sym)
    return defs, uses


def main():
    defs, uses = members(sys.argv[1], sys.argv[2])
    owner = {s: f for f, ss in defs.items() for s in ss}
    calls = {f: {owner[s] for s in uses[f] if s in owner and owner[s] != f} for f in uses}
    failures = []

    def reach(start):
        seen, stack = set(), [start]
        while stack:
            for m in calls.get(stack.pop(), ()):
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        return seen

    for f in sorted(calls):
        print(f"{f} -> {', '.join(sorted(calls[f])) or '(nothing of ours)'}")
        if f in reach(f):
            failures.append(("circle", f"{f} is in a circle of calls"))
        if f not in ("bayeux-client", "bayeux-client-calls") and not f.startswith("extensions/"):
            called = sorted(s for s in uses[f] if s.startswith("bayeux_client_") and not s.endswith("_get_type"))
            if called:
                failures.append(("client", f"{f} calls the client by name: {', '.join(called)}"))
        concrete = {"transports/bayeux-long-polling", "transports/bayeux-websocket"}
        if f not in concrete and f != "transports/bayeux-transport-factory" and calls[f] & concrete:
            failures.append(("transport", f"{f} names a concrete transport: {', '.join(sorted(calls[f] & concrete))}"))

    expected = {
        "bayeux-client": {"bayeux-calls", "bayeux-outbox", "bayeux-subscriptions", "transports/bayeux-transport"},
        "transports/bayeux-transport-factory": {"transports/bayeux-long-polling", "transports/bayeux-websocket"},
    }
    for f, callees in expected.items():
        missing = callees - calls.get(f, set())
        if missing:
            failures.append(("read", f"{f} is not seen calling {', '.join(sorted(missing))}: nm's output not read?"))
    if "bayeux_client_new" not in defs.get("bayeux-client", set()):
        failures.append(("read", "bayeux_client_new is not seen defined in bayeux-client"))
    for _, failure in failures:
        print(f"FAIL: {failure}")
    failed = len({kind for kind, _ in failures})
    print(f"{4 - failed} passed, {failed} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
