#!/usr/bin/env python3
"""Merges benchmark tables (one per library) into one comparison table and an SVG bar chart.

Usage: compare-peers.py NABLA_TABLE NAME=TABLE... --table OUT.md [--svg OUT.svg]
                        [--versus NAME --summary OUT.md]
       compare-peers.py --redraw DOC.md --svg OUT.svg
Each table is the Markdown printed by a *_bench program; ns per operation is compared.
--versus NAME adds a column nabla / NAME (time ratio per row; below 1: nabla is faster) and
--summary writes that ratio's geometric mean over all rows, the small rows and the large rows
(10⁶ elements, 1000×1000, 10⁴×100, batch 64) with the lowest and highest row.
--redraw draws the chart again from the merged table between <!-- peers:begin --> and
<!-- peers:end --> in DOC.md (docs/benchmarks.md), without the peer libraries.

The chart has what examples/common/chart.hpp gives the C++ examples' charts: a title, axis
labels with units, ticks with their values (1, 2, 5 × 10^k; whole decades with minor ticks on a
logarithmic axis), a legend box, escaped text; tests/check_svg.py renders and checks it.
"""
import argparse
import html
import math
import re


def read(path):
    rows = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 7 or cells[0] in ("function", "---") or cells[0].startswith("---"):
            continue
        rows[cells[0]] = {"ns": float(cells[5]), "grad_us": float(cells[3])}
    return rows


def read_merged(doc):
    """(peer names, [(function, nabla ns, [peer ns or None])]) from the merged table in doc."""
    text = open(doc).read()
    block = re.search(r"<!-- peers:begin -->\n(.*?)<!-- peers:end -->", text, re.S)
    if not block:
        raise SystemExit(f"{doc}: no <!-- peers:begin --> ... <!-- peers:end --> markers")
    lines = [l for l in block.group(1).splitlines() if l.startswith("|")]
    header = [c.strip() for c in lines[0].strip().strip("|").split("|")]
    names = [re.sub(r"\s*\(ns/op\)$", "", h) for h in header[2:] if h.endswith("(ns/op)")]
    chart = []
    for line in lines[2:]:
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        value = lambda c: None if c in ("–", "-", "") else float(c)
        chart.append((cells[0], value(cells[1]), [value(c) for c in cells[2:2 + len(names)]]))
    return names, chart


parser = argparse.ArgumentParser()
parser.add_argument("nabla", nargs="?")
parser.add_argument("peers", nargs="*")
parser.add_argument("--table")
parser.add_argument("--svg")
parser.add_argument("--redraw", metavar="DOC")
parser.add_argument("--versus", metavar="NAME")
parser.add_argument("--summary", metavar="OUT")
args = parser.parse_args()
if args.redraw:
    if not args.svg:
        parser.error("--redraw needs --svg")
    names, chart = read_merged(args.redraw)
elif args.nabla and args.peers and args.table:
    chart, names = None, None
else:
    parser.error("give NABLA_TABLE NAME=TABLE... --table OUT.md, or --redraw DOC.md")

LARGE = re.compile(r"10⁶|10⁴|1000×1000|batch 64")


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def merge():
    nabla = read(args.nabla)
    peers = []
    for spec in args.peers:
        name, path = spec.split("=", 1)
        peers.append((name, read(path)))
    names = [p[0] for p in peers]
    versus = dict(peers).get(args.versus) if args.versus else None
    if args.versus and versus is None:
        raise SystemExit(f"--versus {args.versus}: no such peer")
    extra = f" nabla / {args.versus} |" if versus is not None else ""
    lines = ["| function | nabla (ns/op) | " + " | ".join(f"{n} (ns/op)" for n in names) +
             " | fastest peer / nabla |" + extra,
             "|---|---|" + "---|" * len(names) + "---|" + ("---|" if extra else "")]
    chart, ratios = [], []
    for fn, r in nabla.items():
        times = [p[1][fn]["ns"] if fn in p[1] else None for p in peers]
        known = [t for t in times if t is not None]
        ratio = f"{min(known) / r['ns']:.2f}×" if known else "–"
        line = (f"| {fn} | {r['ns']:.2f} | " +
                " | ".join(f"{t:.2f}" if t is not None else "–" for t in times) +
                f" | {ratio} |")
        if versus is not None:
            if fn in versus:
                ratios.append((fn, r["ns"] / versus[fn]["ns"]))
                line += f" {ratios[-1][1]:.2f} |"
            else:
                line += " – |"
        lines.append(line)
        chart.append((fn, r["ns"], times))
    open(args.table, "w").write("\n".join(lines) + "\n")
    if args.summary and ratios:
        out = [f"| rows | count | geometric mean of nabla / {args.versus} | lowest | highest |",
               "|---|---|---|---|---|"]
        groups = [("all", ratios),
                  ("small", [r for r in ratios if not LARGE.search(r[0])]),
                  ("large", [r for r in ratios if LARGE.search(r[0])])]
        for label, group in groups:
            if not group:
                continue
            low, high = min(group, key=lambda r: r[1]), max(group, key=lambda r: r[1])
            out.append(f"| {label} | {len(group)} | {geometric_mean([r[1] for r in group]):.2f} | "
                       f"{low[1]:.2f} ({low[0]}) | {high[1]:.2f} ({high[0]}) |")
        open(args.summary, "w").write("\n".join(out) + "\n")
    return names, chart


if chart is None:
    names, chart = merge()
if not args.svg:
    raise SystemExit(0)


def nice_step(raw):
    """The step of 1, 2 or 5 × 10^k nearest to raw (> 0), as chart.hpp's nice_step."""
    e = math.floor(math.log10(raw))
    f = raw / 10.0 ** e
    m = 1 if f < 1.5 else 2 if f < 3 else 5 if f < 7 else 10
    return m * 10.0 ** e


def log_axis_ticks(low, high):
    """Decades covering [low, high] (> 0): (lo, hi in log10, [(position, label)], [minor])."""
    lo, hi = math.floor(math.log10(low)), math.ceil(math.log10(high))
    # A bar at the lowest value must be visible: start a decade lower when it is near a decade.
    if math.log10(low) - lo < 0.3:
        lo -= 1
    hi = max(hi, lo + 1)
    step = max(1, round(nice_step((hi - lo) / 6)))
    ticks = [(k, f"{10.0 ** k:g}" if -3 <= k <= 4 else f"1e{k}")
             for k in range(lo, hi + 1) if k % step == 0]
    minor = [k + math.log10(m) for k in range(lo, hi) for m in range(2, 10)] if step == 1 else []
    return lo, hi, ticks, minor


def linear_axis_ticks(high):
    """0 to a whole step above high: (lo, hi, [(position, label)], [])."""
    step = nice_step(high / 5)
    hi = math.ceil(high / step) * step
    ticks = [(k * step, f"{k * step:g}") for k in range(0, round(hi / step) + 1)]
    return 0.0, hi, ticks, []


def text_width(text, size):
    return 0.6 * size * len(text)


# A horizontal bar chart: ns per operation for every library, one group of bars per function.
# A logarithmic axis when the times span more than two decades (libtorch's scalar operations
# cost thousands of times nabla's).
libs = ["nabla"] + names
colors = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"]
values = [t for _, mine, times in chart for t in [mine] + times
          if t is not None and math.isfinite(t) and t > 0]
low, high = (min(values), max(values)) if values else (1.0, 10.0)
log_axis = high / low > 100
lo, hi, ticks, minor = log_axis_ticks(low, high) if log_axis else linear_axis_ticks(high)
scale = math.log10 if log_axis else (lambda t: t)

bar, gap, font = 9, 8, 11
left = max([120] + [text_width(fn, font) + 40 for fn, _, _ in chart])
width, right = 440, 60
legend_top, legend_row = 34, 16
per_row = max(1, int((left + width) // 130))
legend_height = 8 + legend_row * math.ceil(len(libs) / per_row)
top = legend_top + legend_height + 26
plot_height = max(1, len(chart)) * (bar * len(libs) + gap) + gap
total_width, total_height = round(left + width + right), round(top + plot_height + 46)


def x_of(t):
    """A time's pixel position on the axis, or None when it cannot be drawn."""
    if t is None or not math.isfinite(t) or t <= 0:
        return None
    u = (scale(t) - lo) / (hi - lo)
    return left + width * min(max(u, 0.0), 1.0)


e = html.escape
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width}" height="{total_height}" '
       f'viewBox="0 0 {total_width} {total_height}" font-family="sans-serif" font-size="{font}">',
       f'<rect width="{total_width}" height="{total_height}" fill="white"/>',
       '<g>',
       f'<text class="title" x="{left + width / 2:.1f}" y="20" text-anchor="middle" font-size="14" '
       f'font-weight="bold">Gradient time per elementary operation (shorter is faster)</text>']
# The legend: a box under the title with a swatch and the name of each library.
svg.append(f'<g class="legend"><rect x="{left:.1f}" y="{legend_top}" width="{width:.1f}" '
           f'height="{legend_height}" fill="white" stroke="#999"/>')
for i, lib in enumerate(libs):
    x = left + 8 + (i % per_row) * (width - 16) / per_row
    y = legend_top + 4 + legend_row * (i // per_row)
    svg.append(f'<rect x="{x:.1f}" y="{y + 3}" width="10" height="10" fill="{colors[i % len(colors)]}"/>'
               f'<text class="legend-label" x="{x + 14:.1f}" y="{y + 12}">{e(lib)}</text>')
svg.append("</g>")
# Grid lines, ticks and their values at the top and the bottom of the plot area.
bottom = top + plot_height
for position, label in ticks:
    x = left + width * (position - lo) / (hi - lo)
    svg.append(f'<line class="grid" x1="{x:.2f}" y1="{top}" x2="{x:.2f}" y2="{bottom}" stroke="#e5e5e5"/>')
    for y0, y1, ty in ((top - 5, top, top - 8), (bottom, bottom + 5, bottom + 17)):
        svg.append(f'<line class="tick" x1="{x:.2f}" y1="{y0}" x2="{x:.2f}" y2="{y1}" stroke="#333"/>'
                   f'<text class="tick-label" x="{x:.2f}" y="{ty}" text-anchor="middle">{e(label)}</text>')
for position in minor:
    x = left + width * (position - lo) / (hi - lo)
    svg.append(f'<line class="minor-tick" x1="{x:.2f}" y1="{bottom}" x2="{x:.2f}" y2="{bottom + 3}" '
               'stroke="#333"/>')
# One group of bars per function, its name on the left; a time without a bar reads "n/a".
y = top + gap
for fn, mine, times in chart:
    svg.append(f'<text class="category-label" x="{left - 6:.1f}" y="{y + bar * len(libs) / 2 + 4:.1f}" '
               f'text-anchor="end">{e(fn)}</text>')
    for i, t in enumerate([mine] + times):
        end = x_of(t)
        if end is None:
            svg.append(f'<text x="{left + 3:.1f}" y="{y + i * bar + bar - 2}" font-size="8" '
                       'fill="#777">n/a</text>')
            continue
        w = max(1.0, end - left)
        svg.append(f'<rect class="series" x="{left:.1f}" y="{y + i * bar}" width="{w:.1f}" '
                   f'height="{bar - 1}" fill="{colors[i % len(colors)]}"/>'
                   f'<text x="{left + w + 3:.1f}" y="{y + i * bar + bar - 2}" font-size="8">{t:.2f}</text>')
    y += bar * len(libs) + gap
svg.append(f'<rect class="frame" x="{left:.1f}" y="{top}" width="{width}" height="{plot_height}" '
           'fill="none" stroke="#333"/>')
svg.append(f'<text class="axis-label" x="{left + width / 2:.1f}" y="{total_height - 10}" '
           f'text-anchor="middle">gradient time per elementary operation '
           f'(ns{", logarithmic axis" if log_axis else ""})</text>')
svg.append(f'<text class="axis-label" transform="translate(14,{top + plot_height / 2:.1f}) rotate(-90)" '
           'text-anchor="middle">benchmark function</text>')
svg.append("</g>")
svg.append("</svg>")
open(args.svg, "w").write("\n".join(svg) + "\n")
