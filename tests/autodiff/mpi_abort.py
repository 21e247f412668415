#!/usr/bin/env python3
"""A rank that throws outside nabla's collectives ends the whole MPI job with an error, within
a time-out, not a hang (Note [MPI failure behaviour]).

  mpi_abort.py MPIRUN RANKS MPI_TEST
runs MPIRUN -np RANKS MPI_TEST --throw-on-last-rank and checks that it ends within 60 s with
a non-zero status, and that the throwing rank's message was printed."""
import subprocess
import sys
import time

mpirun, ranks, program = sys.argv[1:4]
start = time.monotonic()
try:
    run = subprocess.run([mpirun, "-np", ranks, program, "--throw-on-last-rank"],
                         capture_output=True, text=True, timeout=60)
except subprocess.TimeoutExpired:
    sys.exit(f"FAIL: the job still ran after 60 s with {ranks} ranks: a hang")
elapsed = time.monotonic() - start
last = int(ranks) - 1
expected = f"rank {last} of {ranks}: thrown on purpose"
output = run.stdout + run.stderr
print(output)
if run.returncode == 0:
    sys.exit("FAIL: the job ended with status 0 (expected an error)")
if expected not in output:
    sys.exit(f"FAIL: the output does not contain {expected!r}")
print(f"OK: ended with status {run.returncode} after {elapsed:.1f} s")
