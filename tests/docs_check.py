#!/usr/bin/env python3
"""Checks that code blocks in the docs are the real example files.

A block preceded by `<!-- include: examples/name.cpp -->` must equal that file.
Run with --fix to rewrite the blocks from the files.
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
pattern = re.compile(r"(<!-- include: (\S+) -->\n```(\w*)\n)(.*?)(```)", re.S)
fix = "--fix" in sys.argv
stale = []
for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
    text = page.read_text()

    def replace(m):
        source = (root / m.group(2)).read_text()
        if m.group(4) != source:
            stale.append(f"{page.relative_to(root)}: block for {m.group(2)} differs from the file")
        return m.group(1) + source + m.group(5)

    new = pattern.sub(replace, text)
    if fix and new != text:
        page.write_text(new)
if stale and not fix:
    print("\n".join(stale))
    print("run tests/docs_check.py --fix to update the docs")
    sys.exit(1)
print("docs include the current example files")
