#!/usr/bin/env python3
"""nn::save's .npz files read by numpy, and numpy.savez's files loaded by nn::load.

Usage: npz_numpy.py NPZ_TOOL   (tests/npz_tool.cpp). Exits 77 (skipped) without numpy: Debian's
python3-numpy (scripts/install-deps) is used when the python3 on PATH has none.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    debian = "/usr/bin/python3"
    if os.path.exists(debian) and os.path.realpath(sys.executable) != os.path.realpath(debian):
        os.execv(debian, [debian] + sys.argv)
    print("numpy is not installed (Debian: python3-numpy); skipped")
    sys.exit(77)


def expected():
    """The parameters npz_tool writes and expects (the same formulas as in npz_tool.cpp)."""
    return {
        "W": np.arange(6, dtype=np.float64).reshape(2, 3) / 2 - 1,
        "b": np.array([-0.0, np.inf, 5e-324]),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 2)),
        "deep.layer": np.arange(8, dtype=np.float64).reshape(2, 2, 2) / 3,
    }


def tool(mode, path):
    return subprocess.run([sys.argv[1], mode, path], capture_output=True, text=True)


def main():
    failures = []

    def check(condition, what):
        if not condition:
            failures.append(what)

    with tempfile.TemporaryDirectory() as d:
        # nabla → numpy: names in order, float64, shapes, C order, values bit for bit.
        path = os.path.join(d, "nabla.npz")
        r = tool("write", path)
        check(r.returncode == 0, f"npz_tool write failed: {r.stdout}{r.stderr}")
        with np.load(path) as f:
            want = expected()
            check(f.files == list(want), f"names {f.files}, expected {list(want)}")
            for name, value in want.items():
                got = f[name]
                check(got.dtype == np.float64, f"{name}: dtype {got.dtype}")
                check(got.shape == value.shape, f"{name}: shape {got.shape}, expected {value.shape}")
                check(got.flags.c_contiguous, f"{name}: not in C order")
                check(got.tobytes() == value.tobytes(), f"{name}: values {got}, expected {value}")

        # numpy → nabla: savez (stored) and savez_compressed (deflated).
        for save in (np.savez, np.savez_compressed):
            path = os.path.join(d, f"{save.__name__}.npz")
            save(path, **expected())
            r = tool("check", path)
            check(r.returncode == 0, f"{save.__name__}: nn::load failed: {r.stdout}{r.stderr}")

        # numpy files nabla must refuse, with a message naming the problem.
        bad = {
            "float32": ({"W": expected()["W"].astype(np.float32)}, ["'W.npy'", "'<f4'"]),
            "shape": ({"W": expected()["W"].T.copy()}, ["'W'", "[3, 2]", "expected shape [2, 3]"]),
            "fortran": ({"W": np.asfortranarray(expected()["W"])}, ["fortran_order True"]),
            "missing": ({"W": None}, ["no entry 'W'", "[2, 3]"]),
        }
        for case, (change, parts) in bad.items():
            arrays = expected()
            for name, value in change.items():
                if value is None:
                    del arrays[name]
                else:
                    arrays[name] = value
            path = os.path.join(d, f"{case}.npz")
            np.savez(path, **arrays)
            r = tool("fail", path)
            check(r.returncode == 0, f"{case}: nn::load did not refuse it: {r.stdout}{r.stderr}")
            for p in parts:
                check(p in r.stdout, f"{case}: the message {r.stdout.strip()!r} lacks {p!r}")

    for f in failures:
        print("FAILED:", f)
    print(f"numpy {np.__version__}: {'ok' if not failures else f'{len(failures)} failure(s)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
