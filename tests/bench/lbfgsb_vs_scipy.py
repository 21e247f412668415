#!/usr/bin/env python3
"""SciPy's L-BFGS-B on the bounded problems of tests/optim/bounds_test.cpp (same starts, bounds
and tolerances), for the evaluation counts in docs/optimizers.md ("Bounds"). Not run by the test
suite: it needs SciPy (Debian's python3-scipy: /usr/bin/python3 tests/bench/lbfgsb_vs_scipy.py).

Prints one row per problem: the evaluations SciPy needed, f, the projected gradient and x; with
--reference, x to 17 digits (the constrained optima the C++ test compares against).
"""
import sys

import numpy as np
from scipy.optimize import minimize

INF = np.inf


def rosenbrock(x):
    f = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    g = np.array([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)])
    return f, g


def ext_rosenbrock(x):
    f, g = 0.0, np.zeros_like(x)
    for i in range(0, len(x), 2):
        fi, gi = rosenbrock(x[i:i + 2])
        f += fi
        g[i:i + 2] = gi
    return f, g


def wood(x):
    a, b, c, d = x
    f = (100 * (b - a * a) ** 2 + (1 - a) ** 2 + 90 * (d - c * c) ** 2 + (1 - c) ** 2
         + 10.1 * ((b - 1) ** 2 + (d - 1) ** 2) + 19.8 * (b - 1) * (d - 1))
    g = np.array([
        -400 * a * (b - a * a) - 2 * (1 - a),
        200 * (b - a * a) + 20.2 * (b - 1) + 19.8 * (d - 1),
        -360 * c * (d - c * c) - 2 * (1 - c),
        180 * (d - c * c) + 20.2 * (d - 1) + 19.8 * (b - 1),
    ])
    return f, g


def powell(x):
    a, b, c, d = x
    f = (a + 10 * b) ** 2 + 5 * (c - d) ** 2 + (b - 2 * c) ** 4 + 10 * (a - d) ** 4
    g = np.array([
        2 * (a + 10 * b) + 40 * (a - d) ** 3,
        20 * (a + 10 * b) + 4 * (b - 2 * c) ** 3,
        10 * (c - d) - 8 * (b - 2 * c) ** 3,
        -10 * (c - d) - 40 * (a - d) ** 3,
    ])
    return f, g


def beale(x):
    y = [1.5, 2.25, 2.625]
    f, g = 0.0, np.zeros(2)
    for i in range(1, 4):
        r = y[i - 1] - x[0] * (1 - x[1] ** i)
        f += r * r
        g[0] += 2 * r * -(1 - x[1] ** i)
        g[1] += 2 * r * x[0] * i * x[1] ** (i - 1)
    return f, g


def quadratic_problem(n):
    """½xᵀAx − bᵀx on [0, 1]ⁿ, A tridiagonal (1 + i on the diagonal, −0.4 beside it), with b
    chosen so that the minimizer is known: x*ᵢ = 0, 1, 0.5 for i mod 3 = 0, 1, 2, with gradient
    +1 at the lower bounds, −1 at the upper ones and 0 at the free coordinates."""
    A = np.diag(1.0 + np.arange(n)) - 0.4 * (np.eye(n, k=1) + np.eye(n, k=-1))
    xs = np.array([[0.0, 1.0, 0.5][i % 3] for i in range(n)])
    gs = np.array([[1.0, -1.0, 0.0][i % 3] for i in range(n)])
    b = A @ xs - gs

    def f(x):
        return 0.5 * x @ A @ x - b @ x, A @ x - b

    return f, xs


quad, quad_x = quadratic_problem(50)


def corner(x):
    return float(np.sum((x - 2) ** 2)), 2 * (x - 2)


# name, f, x0, lower, upper — the same as tests/optim/bounds_test.cpp's problems().
PROBLEMS = [
    ("Rosenbrock, x1 <= 0.5", rosenbrock, [-1.2, 1], [-2, -1], [0.5, 2]),
    ("Wood, x1 <= 0.8", wood, [-3, -1, -3, -1], [-10] * 4, [0.8, 10, 10, 10]),
    ("Powell singular, x1 >= 0.1", powell, [3, -1, 0, 1], [0.1, -20, -1, -1], [100, 20, 1, 50]),
    ("Beale, x2 <= 0.4", beale, [1, 1], [-4.5, -4.5], [4.5, 0.4]),
    ("Beale in [-4.5, 4.5]^2", beale, [1, 1], [-4.5, -4.5], [4.5, 4.5]),
    ("quadratic n=50 in [0, 1]^n", quad, [0.3] * 50, [0] * 50, [1] * 50),
    ("ext. Rosenbrock n=100, odd x <= 0.5", ext_rosenbrock, [-1.2, 1] * 50, [-INF] * 100,
     [0.5, INF] * 50),
    ("corner: sum (x-2)^2 in [-1, 1]^10", corner, [0] * 10, [-1] * 10, [1] * 10),
]


def projected_gradient(x, g, lo, hi):
    return np.linalg.norm(np.clip(x - g, lo, hi) - x)


def main():
    reference = "--reference" in sys.argv
    gtol = 1e-6
    for a in sys.argv[1:]:
        if a.startswith("--gtol="):
            gtol = float(a.split("=")[1])
    print(f"SciPy L-BFGS-B (m = 10, gtol = {gtol:g} on the max-norm of the projected gradient, "
          "ftol = 0, maxls = 25)")
    for name, f, x0, lo, hi in PROBLEMS:
        lo, hi = np.array(lo, float), np.array(hi, float)
        r = minimize(f, np.array(x0, float), jac=True, method="L-BFGS-B",
                     bounds=list(zip(lo, hi)),
                     options={"maxcor": 10, "gtol": gtol, "ftol": 0, "maxiter": 10000,
                              "maxfun": 100000, "maxls": 25})
        pg = projected_gradient(r.x, f(r.x)[1], lo, hi)
        print(f"{name:40s} nfev {r.nfev:5d} nit {r.nit:5d} f {r.fun:.12g} |pg| {pg:.2e} "
              f"{r.message}")
        if reference:
            print("   x =", ", ".join(f"{v:.17g}" for v in r.x[:8]))


if __name__ == "__main__":
    main()
