#!/usr/bin/python3
# check-flatpak-module.py: checks the Flatpak module of the documentation
# (docs/snippets/flatpak-module.json, shown in docs/consumers.md.in):
#
#   check-flatpak-module.py MODULE.json MESON_OPTIONS.txt
#
# It must be JSON, and a module flatpak-builder can build: a "name"
# ("bayeux-glib"), "buildsystem": "meson", "config-opts" a list of -D
# options that meson_options.txt declares (with values of the right kind),
# and "sources" a non-empty list of sources each with a "type" and the
# fields that type needs (git: url and tag, commit or branch; archive: url
# or path, and sha256).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import re
import sys

failures = []


def check(ok, what):
    print(f"{'ok' if ok else 'not ok'}: {what}")
    if not ok:
        failures.append(what)
    return ok


def meson_options(path):
    """{name: (type, choices or None)} from meson_options.txt."""
    options = {}
    text = open(path, encoding="utf-8").read()
    for match in re.finditer(r"option\(\s*'([^']+)'\s*,\s*type\s*:\s*'([^']+)'(.*?)\)\s*$", text, re.M | re.S):
        name, kind, rest = match.groups()
        choices = re.search(r"choices\s*:\s*\[([^\]]*)\]", rest)
        options[name] = (kind, re.findall(r"'([^']*)'", choices.group(1)) if choices else None)
    return options


VALUES = {
    "boolean": {"true", "false"},
    "feature": {"enabled", "disabled", "auto"},
}


def main():
    module_path, options_path = sys.argv[1:3]
    try:
        with open(module_path, encoding="utf-8") as f:
            module = json.load(f)
    except ValueError as e:
        check(False, f"{module_path} is JSON: {e}")
        return 1
    check(isinstance(module, dict), "the module is a JSON object")
    check(module.get("name") == "bayeux-glib", 'name is "bayeux-glib"')
    check(module.get("buildsystem") == "meson", 'buildsystem is "meson"')

    options = meson_options(options_path)
    opts = module.get("config-opts", [])
    if check(isinstance(opts, list) and all(isinstance(o, str) for o in opts),
             "config-opts is a list of strings"):
        for opt in opts:
            match = re.fullmatch(r"-D([A-Za-z0-9_-]+)=(.*)", opt)
            if not check(match is not None, f"config-opts {opt!r} is -DNAME=VALUE"):
                continue
            name, value = match.groups()
            if not check(name in options, f"config-opts {opt!r}: {name} is an option of meson_options.txt"):
                continue
            kind, choices = options[name]
            allowed = set(choices) if choices else VALUES.get(kind)
            check(allowed is None or value in allowed,
                  f"config-opts {opt!r}: {value!r} is a value of a {kind} option")

    cleanup = module.get("cleanup", [])
    check(isinstance(cleanup, list) and all(isinstance(c, str) and c.startswith("/") for c in cleanup),
          "cleanup, if any, is a list of absolute paths")

    sources = module.get("sources")
    if check(isinstance(sources, list) and len(sources) > 0, "sources is a non-empty list"):
        for i, source in enumerate(sources):
            if not check(isinstance(source, dict) and isinstance(source.get("type"), str),
                         f"sources[{i}] is an object with a type"):
                continue
            kind = source["type"]
            if kind == "git":
                check(isinstance(source.get("url"), str) and source["url"].startswith(("https://", "git@", "file://")),
                      f"sources[{i}]: git source with a url")
                check(any(isinstance(source.get(k), str) for k in ("tag", "commit", "branch")),
                      f"sources[{i}]: git source with a tag, commit or branch")
            elif kind == "archive":
                check(isinstance(source.get("url") or source.get("path"), str),
                      f"sources[{i}]: archive source with a url or path")
                check(isinstance(source.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", source["sha256"]),
                      f"sources[{i}]: archive source with a sha256")
            else:
                check(kind in ("dir", "file", "patch", "shell", "script"),
                      f"sources[{i}]: known source type {kind!r}")

    known = {"name", "buildsystem", "config-opts", "cleanup", "sources", "builddir",
             "build-options", "post-install", "modules", "make-args", "make-install-args",
             "cleanup-platform", "no-autogen", "build-commands", "run-tests", "test-rule"}
    unknown = sorted(set(module) - known) if isinstance(module, dict) else []
    check(not unknown, "no unknown module field" + (f": {', '.join(unknown)}" if unknown else ""))

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
