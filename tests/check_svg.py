#!/usr/bin/env python3
"""Runs a program that writes SVG charts, then checks every chart it wrote.

  check_svg.py [--svg NAME]... [--all] -- COMMAND [ARG...]

COMMAND runs in a fresh temporary directory; each --svg NAME must exist there afterwards
(--all: every *.svg there, at least one). Each SVG must
  - be well-formed XML with an <svg> root and no NaN or infinity in any attribute or tick label;
  - render with rsvg-convert (Debian package librsvg2-bin) to a non-empty PNG;
  - have, in every chart panel (a top-level <g> of the writers in examples/common/chart.hpp and
    scripts/compare-peers.py), a non-empty title, two axis labels, and ticks with tick values;
    and a legend with a label per series when the panel draws two or more colours of series.
Exits 1 with a message per problem; rsvg-convert missing is a failure (scripts/install-deps
installs it).
"""
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
BAD_NUMBER = re.compile(r"(?i)\b(nan|inf|infinity)\b")


def classes(element):
    return element.get("class", "").split()


def check_panel(name, panel, problems):
    texts = {}
    for el in panel.iter():
        for c in classes(el):
            texts.setdefault(c, []).append(el)
    title = [t for t in texts.get("title", []) if (t.text or "").strip()]
    if not title:
        problems.append(f"{name}: a panel has no title")
    label = title[0].text if title else "?"
    axis_labels = [t for t in texts.get("axis-label", []) if (t.text or "").strip()]
    if len(axis_labels) < 2:
        problems.append(f"{name} [{label}]: {len(axis_labels)} axis labels, 2 needed")
    tick_labels = [t for t in texts.get("tick-label", []) if (t.text or "").strip()]
    for t in tick_labels:
        if BAD_NUMBER.search(t.text):
            problems.append(f"{name} [{label}]: the tick label '{t.text}'")
    if len(tick_labels) < 4:
        problems.append(f"{name} [{label}]: {len(tick_labels)} tick labels, at least 4 needed")
    if len(texts.get("tick", [])) < 2:
        problems.append(f"{name} [{label}]: no tick marks")
    colours = {el.get("stroke") or el.get("fill") for el in texts.get("series", [])}
    legend_labels = [t for t in texts.get("legend-label", []) if (t.text or "").strip()]
    if len(colours) >= 2 and len(legend_labels) < 2:
        problems.append(f"{name} [{label}]: {len(colours)} series colours but "
                        f"{len(legend_labels)} legend labels")
    return label, len(tick_labels), len(legend_labels)


def check(path, problems):
    name = path.name
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        problems.append(f"{name}: not well-formed XML: {e}")
        return
    if root.tag != NS + "svg":
        problems.append(f"{name}: the root is {root.tag}, not <svg>")
        return
    for el in root.iter():
        for key, value in el.attrib.items():
            if BAD_NUMBER.search(value):
                problems.append(f"{name}: <{el.tag.replace(NS, '')} {key}=\"{value[:80]}\">")
    png = path.with_suffix(".png")
    run = subprocess.run(["rsvg-convert", "-f", "png", "-o", str(png), str(path)],
                         capture_output=True, text=True)
    if run.returncode != 0 or not png.exists() or png.stat().st_size == 0:
        problems.append(f"{name}: rsvg-convert failed ({run.returncode}): {run.stderr.strip()}")
        return
    panels = [g for g in root if g.tag == NS + "g"]
    if not panels:
        problems.append(f"{name}: no chart panels (top-level <g>)")
    summary = [check_panel(name, g, problems) for g in panels]
    print(f"{name}: rendered {png.stat().st_size} bytes of PNG; panels: " +
          "; ".join(f"'{t}' ({n} tick labels, {k} legend labels)" for t, n, k in summary))


def main(argv):
    if "--" not in argv:
        sys.exit(__doc__)
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    names = [options[i + 1] for i, o in enumerate(options) if o == "--svg"]
    every = "--all" in options
    if not command or (not names and not every):
        sys.exit(__doc__)
    if shutil.which("rsvg-convert") is None:
        sys.exit("rsvg-convert not found: install librsvg2-bin (scripts/install-deps does)")
    with tempfile.TemporaryDirectory(prefix="check_svg.") as tmp:
        directory = pathlib.Path(tmp)
        # Meson names built programs relative to the build directory: make that absolute.
        if pathlib.Path(command[0]).exists():
            command[0] = str(pathlib.Path(command[0]).resolve())
        run = subprocess.run(command, cwd=directory)
        if run.returncode != 0:
            sys.exit(f"{' '.join(command)} exited with {run.returncode}")
        paths = [directory / n for n in names]
        if every:
            paths += sorted(p for p in directory.glob("*.svg") if p not in paths)
        if not paths:
            sys.exit("no SVG files were written")
        problems = []
        for p in paths:
            if not p.exists():
                problems.append(f"{p.name}: not written")
            else:
                check(p, problems)
        for problem in problems:
            print("FAILED:", problem)
        if problems:
            sys.exit(1)
        print(f"all {len(paths)} SVG files render and have titles, axes, ticks and legends")


if __name__ == "__main__":
    main(sys.argv[1:])
