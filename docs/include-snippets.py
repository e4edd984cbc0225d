#!/usr/bin/env python3
# include-snippets.py: makes a documentation page from its template by
# putting the files of docs/snippets/ in it, so that what a page shows is
# exactly what the tests build and run (tests/consumers/).
#
#   include-snippets.py TEMPLATE.md.in OUTPUT.md SNIPPETS_DIR
#
# A line that is only `{{snippet:NAME}}` becomes a fenced code block with
# the contents of SNIPPETS_DIR/NAME, its language taken from the file name
# (.c, .py, .js, .json, .build, .wrap). Any other line is copied unchanged.
# A snippet that does not exist is an error.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import re
import sys

LANGUAGES = {
    ".c": "c",
    ".py": "python",
    ".js": "js",
    ".json": "json",
    ".build": "meson",
    ".wrap": "ini",
    ".sh": "sh",
}

DIRECTIVE = re.compile(r"^\{\{snippet:(?P<name>[A-Za-z0-9._-]+)\}\}\s*$")


def main():
    template, output, snippets = sys.argv[1:4]
    lines = []
    with open(template, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            match = DIRECTIVE.match(line)
            if match is None:
                lines.append(line)
                continue
            name = match.group("name")
            path = os.path.join(snippets, name)
            language = LANGUAGES.get(os.path.splitext(name)[1])
            if language is None or not os.path.isfile(path):
                sys.exit(f"{template}:{number}: no snippet {name} in {snippets}")
            with open(path, encoding="utf-8") as s:
                text = s.read()
            if "```" in text:
                sys.exit(f"{path}: a snippet cannot contain ```")
            lines.append(f"```{language}\n")
            lines.append(text if text.endswith("\n") else text + "\n")
            lines.append("```\n")
    with open(output, "w", encoding="utf-8") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
