#!/usr/bin/python3
# check-devhelp.py: installs the build into a scratch folder and checks the
# Devhelp book that `meson install` put where Devhelp looks for it:
#
#   check-devhelp.py BUILD_DIR GIR TOML
#
# - $datadir/doc/bayeux-glib-1.0/bayeux-glib-1.0.devhelp2 exists and is a
#   Devhelp 2 book;
# - its index lists every public symbol of the GIR: each function, method,
#   constructor and function macro (their c:identifier), each class, record
#   (boxed), enumeration, bitfield and error domain (their c:type), each
#   enumeration member and constant, and each property and signal;
# - every page it links to was installed, and every narrative page of the
#   TOML's content_files (and every image of its content_images) is in the
#   book and linked from index.html.
#
# Run by meson (docs/meson.build) with /usr/bin/python3; prints one line per
# check, and every missing symbol.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import subprocess
import sys
import tempfile
import tomllib
import xml.etree.ElementTree as ET

CORE = "{http://www.gtk.org/introspection/core/1.0}"
C = "{http://www.gtk.org/introspection/c/1.0}"
GLIB = "{http://www.gtk.org/introspection/glib/1.0}"
DEVHELP = "{http://www.devhelp.net/book}"
BOOK = "bayeux-glib-1.0"

failures = []


def check(ok, what):
    print(f"{'ok' if ok else 'not ok'}: {what}")
    if not ok:
        failures.append(what)
    return ok


def build_option(build, name):
    out = subprocess.run(["meson", "introspect", build, "--buildoptions"],
                         check=True, capture_output=True, text=True).stdout
    return next(o["value"] for o in json.loads(out) if o["name"] == name)


def gir_symbols(path):
    """What the GIR declares public: {kind: set of names}."""
    root = ET.parse(path).getroot()
    ns = root.find(f"{CORE}namespace")
    symbols = {"function": set(), "type": set(), "member": set(), "property": set(),
               "signal": set()}
    for tag in ("function", "method", "constructor", "function-macro"):
        for element in ns.iter(f"{CORE}{tag}"):
            identifier = element.get(f"{C}identifier")
            if identifier:
                symbols["function"].add(identifier)
    for tag in ("class", "record", "enumeration", "bitfield", "interface", "union", "alias"):
        for element in ns.findall(f"{CORE}{tag}"):
            if element.get(f"{GLIB}is-gtype-struct-for"):
                continue   # BayeuxClientClass: listed as the class's members
            ctype = element.get(f"{C}type")
            if ctype:
                symbols["type"].add(ctype)
            for member in element.findall(f"{CORE}member"):
                symbols["member"].add(member.get(f"{C}identifier"))
            if tag in ("class", "interface"):
                name = element.get("name")
                for prop in element.findall(f"{CORE}property"):
                    symbols["property"].add(f"property.{name}.{prop.get('name')}.html")
                for signal in element.findall(f"{GLIB}signal"):
                    symbols["signal"].add(f"signal.{name}.{signal.get('name')}.html")
    for constant in ns.findall(f"{CORE}constant"):
        symbols["member"].add(constant.get(f"{C}type"))
    domains = {e.get(f"{C}type") for e in ns.findall(f"{CORE}enumeration")
               if e.get(f"{GLIB}error-domain")}
    return symbols, domains


def toml_list(path, key):
    """The list `key` of the [extra] table of a gi-docgen TOML file."""
    with open(path, "rb") as f:
        return tomllib.load(f).get("extra", {}).get(key, [])


def main():
    build, gir, toml = sys.argv[1:4]
    prefix = build_option(build, "prefix")
    datadir = build_option(build, "datadir")
    if not os.path.isabs(datadir):
        datadir = os.path.join(prefix, datadir)

    with tempfile.TemporaryDirectory() as dest:
        subprocess.run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild",
                        "--quiet"], check=True, stdout=subprocess.DEVNULL)
        book_dir = dest + os.path.join(datadir, "doc", BOOK)
        index = os.path.join(book_dir, f"{BOOK}.devhelp2")
        if not check(os.path.isfile(index), f"{os.path.join(datadir, 'doc', BOOK, BOOK)}.devhelp2 installed"):
            return 1

        book = ET.parse(index).getroot()
        check(book.tag == f"{DEVHELP}book" and book.get("version") == "2",
              "the index is a Devhelp 2 book")
        keywords = book.findall(f"{DEVHELP}functions/{DEVHELP}keyword")
        by_type = {}
        for keyword in keywords:
            by_type.setdefault(keyword.get("type"), set()).add(keyword.get("name"))
        names = {k.get("name") for k in keywords}
        links = {k.get("link") for k in keywords}

        symbols, domains = gir_symbols(gir)
        listed = by_type.get("function", set()) | by_type.get("macro", set())
        missing = sorted(symbols["function"] - listed)
        check(not missing, f"all {len(symbols['function'])} functions, methods, constructors and "
              f"macros of the GIR are in the index" + (f"; missing: {', '.join(missing)}" if missing else ""))
        types = by_type.get("struct", set()) | by_type.get("enum", set()) | by_type.get("union", set()) \
            | by_type.get("typedef", set())
        missing = sorted(symbols["type"] - types)
        check(not missing, f"all {len(symbols['type'])} classes, boxed types and enumerations are in "
              f"the index" + (f"; missing: {', '.join(missing)}" if missing else ""))
        missing = sorted(domains - by_type.get("enum", set()))
        check(bool(domains) and not missing, f"the error domain{'s' if len(domains) > 1 else ''} "
              f"{', '.join(sorted(domains))} in the index" + (f"; missing: {', '.join(missing)}" if missing else ""))
        missing = sorted(symbols["member"] - names)
        check(not missing, f"all {len(symbols['member'])} enumeration members and constants are in "
              f"the index" + (f"; missing: {', '.join(missing)}" if missing else ""))
        for kind in ("property", "signal"):
            missing = sorted(symbols[kind] - links)
            check(not missing, f"all {len(symbols[kind])} {kind.replace('y', 'ie')}s are in the index"
                  + (f"; missing: {', '.join(missing)}" if missing else ""))

        chapters = [s.get("link") for s in book.iter(f"{DEVHELP}sub")]
        targets = {link.split("#")[0] for link in list(links) + chapters + [book.get("link")]}
        missing = sorted(t for t in targets if not os.path.isfile(os.path.join(book_dir, t)))
        check(not missing, f"all {len(targets)} pages the index links to are installed"
              + (f"; missing: {', '.join(missing)}" if missing else ""))

        with open(os.path.join(book_dir, "index.html"), encoding="utf-8") as f:
            index_html = f.read()
        for page in toml_list(toml, "content_files"):
            html = page.replace(".md", ".html")
            check(html in chapters and f'href="{html}"' in index_html
                  and os.path.isfile(os.path.join(book_dir, html)),
                  f"page {html} installed, a chapter of the book and linked from index.html")
        for image in toml_list(toml, "content_images"):
            check(os.path.isfile(os.path.join(book_dir, os.path.basename(image))),
                  f"image {os.path.basename(image)} installed")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
