#!/usr/bin/env python3
"""Runs a command twice and checks that it repeats itself: the determinism of a program run
(e.g. a data-parallel training on MPI ranks for a fixed seed and rank count) and that only one
process prints.

usage: repeat_run.py [--ignore REGEX]... [--file PATH]... -- COMMAND...

Both runs must exit with status 0. Their standard outputs — carriage returns read as line
breaks, the --ignore patterns (timings, say) removed — must be equal, and no non-empty line may
appear twice in one output (with several ranks, a line printed by every rank would). Every
--file must hold the same bytes after the second run as after the first.
"""
import re
import subprocess
import sys


def main(argv):
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    ignore, files = [], []
    i = 0
    while i < len(options):
        if options[i] == "--ignore" and i + 1 < len(options):
            ignore.append(re.compile(options[i + 1]))
        elif options[i] == "--file" and i + 1 < len(options):
            files.append(options[i + 1])
        else:
            print(f"repeat_run.py: unknown option {options[i]}\n{__doc__}", file=sys.stderr)
            return 2
        i += 2
    if not command:
        print(f"repeat_run.py: no command\n{__doc__}", file=sys.stderr)
        return 2
    outputs, contents = [], []
    for run in (1, 2):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"run {run} of {' '.join(command)} exited with {done.returncode}:\n"
                  f"{done.stdout}\n{done.stderr}", file=sys.stderr)
            return 1
        text = done.stdout.replace("\r", "\n")
        for pattern in ignore:
            text = pattern.sub("", text)
        lines = [line for line in text.split("\n") if line.strip()]
        seen = set()
        for line in lines:
            if line in seen:
                print(f"run {run}: the line {line!r} was printed twice (expected one printing "
                      f"process)", file=sys.stderr)
                return 1
            seen.add(line)
        outputs.append(lines)
        data = []
        for path in files:
            with open(path, "rb") as f:
                data.append(f.read())
        contents.append(data)
    if outputs[0] != outputs[1]:
        for a, b in zip(outputs[0], outputs[1]):
            if a != b:
                print(f"the runs differ:\n  {a}\n  {b}", file=sys.stderr)
                break
        else:
            print(f"the runs printed {len(outputs[0])} and {len(outputs[1])} lines",
                  file=sys.stderr)
        return 1
    for path, first, second in zip(files, contents[0], contents[1]):
        if first != second:
            print(f"{path} differs between the runs ({len(first)} and {len(second)} bytes)",
                  file=sys.stderr)
            return 1
    print(f"two runs, {len(outputs[0])} lines and {len(files)} file(s): the same")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
