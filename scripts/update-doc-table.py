#!/usr/bin/env python3
"""Replaces the text between <!-- NAME:begin --> and <!-- NAME:end --> in a Markdown file
with the Markdown table rows found in a file (lines starting with '|').

Usage: update-doc-table.py DOC NAME TABLE_FILE
"""
import re
import sys

doc, name, table_file = sys.argv[1:4]
rows = [l for l in open(table_file).read().splitlines() if l.startswith("|")]
text = open(doc).read()
pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
if not pattern.search(text):
    sys.exit(f"{doc}: no <!-- {name}:begin --> ... <!-- {name}:end --> markers")
text = pattern.sub(lambda m: m.group(1) + "\n".join(rows) + "\n" + m.group(2), text)
open(doc, "w").write(text)
