#!/usr/bin/env python3
"""Merges the tensor rows of nabla and its peers into one markdown table.

Usage: compare-tensor-peers.py nabla.txt "Stan Math=stan.txt" "libtorch=torch.txt" --table out.md
Each input is a tensor_bench-style output: "| row | plain (µs) | gradient (µs) | ratio |" rows,
then optional "per-op overhead ... N ns per op" and "MLP training step ...: N µs" lines; only
the first table's rows are read.
"""
import re
import sys


def parse(path):
    rows, extra = {}, {}
    first_table_done = False  # tensor_bench prints more tables after it (HVP rows)
    for line in open(path, encoding="utf-8"):
        m = re.match(r"\| (.+?) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", line)
        if m and not first_table_done:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))
        elif rows and not line.startswith("|"):
            first_table_done = True
        m = re.search(r"per-op overhead.*: (\d+) ns per op", line)
        if m:
            extra["overhead"] = float(m.group(1))
        m = re.search(r"MLP training step .*?: (\d+) µs", line)
        if m:
            extra["step"] = float(m.group(1))
    return rows, extra


args = sys.argv[1:]
out = args[args.index("--table") + 1]
args = args[: args.index("--table")]
nabla_rows, nabla_extra = parse(args[0])
peers = [(a.split("=", 1)[0], *parse(a.split("=", 1)[1])) for a in args[1:]]
lines = ["| row | plain double (µs) | nabla (µs) | " + " | ".join(f"{n} (µs)" for n, _, _ in peers)
         + " | best peer / nabla |", "|---" * (4 + len(peers)) + "|"]
for row, (plain, grad) in nabla_rows.items():
    cells, best = [], None
    for _, rows, _ in peers:
        if row in rows:
            cells.append(f"{rows[row][1]:.0f}")
            best = rows[row][1] if best is None else min(best, rows[row][1])
        else:
            cells.append("—")
    ratio = f"{best / grad:.2f}×" if best else "—"
    lines.append(f"| {row} | {plain:.0f} | **{grad:.0f}** | " + " | ".join(cells) + f" | {ratio} |")
for key, label, unit in [("overhead", "1000 chained adds on a 1-element tensor, per op", "ns"),
                         ("step", "MLP training step (64×784-128-10, Adam)", "µs")]:
    if key in nabla_extra:
        cells = [f"{e[key]:.0f}" if key in e else "—" for _, _, e in peers]
        best = min([e[key] for _, _, e in peers if key in e], default=None)
        ratio = f"{best / nabla_extra[key]:.2f}×" if best else "—"
        lines.append(f"| {label} ({unit}) | — | **{nabla_extra[key]:.0f}** | " + " | ".join(cells)
                     + f" | {ratio} |")
open(out, "w", encoding="utf-8").write("\n".join(lines) + "\n")
print("\n".join(lines))
