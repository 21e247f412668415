#!/usr/bin/env python3
"""Merges the standard AD workloads' tables (one per library, printed by workloads_bench and
the peers' *_workloads_bench) into one table: each library's gradient time over the
hand-written adjoint's, measured in that library's own process, and nabla / each peer.

Usage: compare-workloads.py NABLA_OUTPUT NAME=OUTPUT... > TABLE.md
"""
import sys


def read(path):
    """{(workload, size): (library / hand, ns per op)} from a workloads program's output."""
    rows = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 12 or cells[0] == "workload" or cells[0].startswith("---"):
            continue
        rows[(cells[0], cells[1])] = float(cells[9])
    return rows


nabla = read(sys.argv[1])
peers = [(spec.split("=", 1)[0], read(spec.split("=", 1)[1])) for spec in sys.argv[2:]]
names = [name for name, _ in peers]
print("| workload | size | nabla / hand | " + " | ".join(f"{n} / hand" for n in names) + " | " +
      " | ".join(f"nabla / {n}" for n in names) + " |")
print("|---|---|---|" + "---|" * (2 * len(names)))
for (workload, size), mine in nabla.items():
    theirs = [p.get((workload, size)) for _, p in peers]
    print(f"| {workload} | {size} | {mine:.2f} | " +
          " | ".join("–" if t is None else f"{t:.2f}" for t in theirs) + " | " +
          " | ".join("–" if t is None else f"{mine / t:.2f}" for t in theirs) + " |")
