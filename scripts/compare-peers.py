#!/usr/bin/env python3
"""Merges benchmark tables (one per library) into one comparison table and an SVG bar chart.

Usage: compare-peers.py NABLA_TABLE NAME=TABLE... --table OUT.md --svg OUT.svg
Each table is the Markdown printed by a *_bench program; ns per operation is compared.
"""
import argparse
import html


def read(path):
    rows = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 7 or cells[0] in ("function", "---") or cells[0].startswith("---"):
            continue
        rows[cells[0]] = {"ns": float(cells[5]), "grad_us": float(cells[3])}
    return rows


parser = argparse.ArgumentParser()
parser.add_argument("nabla")
parser.add_argument("peers", nargs="+")
parser.add_argument("--table", required=True)
parser.add_argument("--svg", required=True)
args = parser.parse_args()

nabla = read(args.nabla)
peers = []
for spec in args.peers:
    name, path = spec.split("=", 1)
    peers.append((name, read(path)))

names = [p[0] for p in peers]
lines = ["| function | nabla (ns/op) | " + " | ".join(f"{n} (ns/op)" for n in names) +
         " | fastest peer / nabla |",
         "|---|---|" + "---|" * len(names) + "---|"]
chart = []
for fn, r in nabla.items():
    times = [p[1][fn]["ns"] if fn in p[1] else None for p in peers]
    known = [t for t in times if t is not None]
    ratio = f"{min(known) / r['ns']:.2f}×" if known else "–"
    lines.append(f"| {fn} | {r['ns']:.2f} | " +
                 " | ".join(f"{t:.2f}" if t is not None else "–" for t in times) + f" | {ratio} |")
    chart.append((fn, r["ns"], times))
open(args.table, "w").write("\n".join(lines) + "\n")

# A horizontal bar chart: ns per operation for every library, one group per function.
colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
bar, gap, left, width = 9, 8, 300, 420
libs = ["nabla"] + names
height = 40 + len(chart) * (bar * len(libs) + gap) + 30
import math
top = max(max([v for v in [c[1]] + [t for t in c[2] if t is not None]]) for c in chart)
low = min(min([v for v in [c[1]] + [t for t in c[2] if t is not None]]) for c in chart)
# A logarithmic axis when the times span more than two decades (libtorch's scalar operations
# cost thousands of times nabla's).
log_axis = top / max(low, 1e-9) > 100
floor = low / 2


def bar_width(t):
    if log_axis:
        return width * (math.log10(t) - math.log10(floor)) / (math.log10(top) - math.log10(floor))
    return width * t / top

svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" height="{height}" '
       'font-family="sans-serif" font-size="11">',
       f'<text x="10" y="16" font-size="13">gradient time per elementary operation (ns, shorter is faster'
       f'{", logarithmic axis" if log_axis else ""})</text>']
for i, lib in enumerate(libs):
    svg.append(f'<rect x="{left + 10 + i * 90}" y="24" width="10" height="10" fill="{colors[i % 5]}"/>'
               f'<text x="{left + 24 + i * 90}" y="33">{html.escape(lib)}</text>')
y = 44
for fn, mine, times in chart:
    svg.append(f'<text x="{left - 6}" y="{y + bar * len(libs) / 2 + 4}" text-anchor="end">'
               f'{html.escape(fn)}</text>')
    for i, t in enumerate([mine] + times):
        if t is not None:
            w = max(1.0, bar_width(t))
            svg.append(f'<rect x="{left}" y="{y + i * bar}" width="{w:.1f}" height="{bar - 1}" '
                       f'fill="{colors[i % 5]}"/><text x="{left + w + 3:.1f}" y="{y + i * bar + bar - 2}" '
                       f'font-size="8">{t:.2f}</text>')
    y += bar * len(libs) + gap
svg.append("</svg>")
open(args.svg, "w").write("\n".join(svg) + "\n")
