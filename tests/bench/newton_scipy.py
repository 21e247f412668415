#!/usr/bin/env python3
"""NewtonCG and Newton next to SciPy's trust-ncg and trust-exact on the same problems.

Not run by the test suite. Needs SciPy (Debian: python3-scipy; run with /usr/bin/python3 when
another python3 comes first). The nabla numbers are the messages of
`optim_test --run_test=newton --log_level=message` (tests/optim/newton_test.cpp, the same
problems, starting points and gradient tolerances):

  tests/bench/newton_scipy.py build/tests/optim_test

SciPy gets exact derivatives: each f is evaluated once on a small second-order Taylor type
(value, gradient, dense Hessian), so nothing here is a finite difference. SciPy counts nfev
(f), njev (∇f) and nhev (Hessian-vector products for trust-ncg, Hessians for trust-exact)
separately; nabla counts evaluations of f and ∇f together, and Hessian-vector products or
Hessians separately.
"""
import math
import re
import subprocess
import sys

import numpy as np
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess


class T:
    """A number with its gradient and Hessian with respect to the n inputs."""

    def __init__(self, v, g, h):
        self.v, self.g, self.h = v, g, h

    @staticmethod
    def lift(a, like):
        if isinstance(a, T):
            return a
        n = like.g.shape[0]
        return T(float(a), np.zeros(n), np.zeros((n, n)))

    def __add__(a, b):
        b = T.lift(b, a)
        return T(a.v + b.v, a.g + b.g, a.h + b.h)

    __radd__ = __add__

    def __neg__(a):
        return T(-a.v, -a.g, -a.h)

    def __sub__(a, b):
        return a + (-T.lift(b, a))

    def __rsub__(a, b):
        return T.lift(b, a) + (-a)

    def __mul__(a, b):
        b = T.lift(b, a)
        return T(a.v * b.v, a.v * b.g + b.v * a.g,
                 a.v * b.h + b.v * a.h + np.outer(a.g, b.g) + np.outer(b.g, a.g))

    __rmul__ = __mul__

    def __truediv__(a, b):
        return a * T.lift(b, a).apply(lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3)

    def __rtruediv__(a, b):
        return T.lift(b, a) / a

    def __lt__(a, b):
        return a.v < (b.v if isinstance(b, T) else b)

    def apply(a, f, d1, d2):
        return T(f(a.v), d1(a.v) * a.g, d1(a.v) * a.h + d2(a.v) * np.outer(a.g, a.g))


def exp(a):
    return a.apply(math.exp, math.exp, math.exp)


def sqrt(a):
    return a.apply(math.sqrt, lambda x: 0.5 / math.sqrt(x), lambda x: -0.25 / x**1.5)


def atan(a):
    return a.apply(math.atan, lambda x: 1 / (1 + x * x), lambda x: -2 * x / (1 + x * x) ** 2)


def sq(a):
    return a * a


def taylor(f, x):
    n = len(x)
    return f([T(float(x[i]), np.eye(n)[i], np.zeros((n, n))) for i in range(n)])


# Moré, Garbow & Hillstrom, as tests/optim/mgh_problems.hpp.
def freudenstein_roth(x):
    return (sq(-13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1])
            + sq(-29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1]))


def beale(x):
    y = [1.5, 2.25, 2.625]
    f = 0.0
    for i in range(1, 4):
        p = x[1]
        for _ in range(i - 1):
            p = p * x[1]
        f = f + sq(y[i - 1] - x[0] * (1.0 - p))
    return f


def helical_valley(x):
    theta = atan(x[1] / x[0]) / (2 * math.pi) + (0.5 if x[0] < 0.0 else 0.0)
    return sq(10.0 * (x[2] - 10.0 * theta)) + sq(10.0 * (sqrt(x[0] * x[0] + x[1] * x[1]) - 1.0)) + sq(x[2])


def box3d(x):
    f = 0.0
    for i in range(1, 11):
        t = 0.1 * i
        f = f + sq(exp(-t * x[0]) - exp(-t * x[1]) - x[2] * (math.exp(-t) - math.exp(-10 * t)))
    return f


problems = {
    "Rosenbrock": (lambda x: sq(10.0 * (x[1] - x[0] * x[0])) + sq(1.0 - x[0]), [-1.2, 1], 1e-9),
    "Freudenstein-Roth": (freudenstein_roth, [0.5, -2], 1e-9),
    "Powell badly scaled": (lambda x: sq(1e4 * x[0] * x[1] - 1.0) + sq(exp(-x[0]) + exp(-x[1]) - 1.0001), [0, 1], 1e-9),
    "Brown badly scaled": (lambda x: sq(x[0] - 1e6) + sq(x[1] - 2e-6) + sq(x[0] * x[1] - 2.0), [1, 1], 1e-9),
    "Beale": (beale, [1, 1], 1e-9),
    "Helical valley": (helical_valley, [-1, 0, 0], 1e-9),
    "Box 3-D": (box3d, [0, 10, 20], 1e-9),
    "Powell singular": (lambda x: sq(x[0] + 10.0 * x[1]) + 5.0 * sq(x[2] - x[3]) + sq(sq(x[1] - 2.0 * x[2])) + 10.0 * sq(sq(x[0] - x[3])), [3, -1, 0, 1], 1e-9),
    "Wood": (lambda x: 100.0 * sq(x[1] - x[0] * x[0]) + sq(1.0 - x[0]) + 90.0 * sq(x[3] - x[2] * x[2]) + sq(1.0 - x[2]) + 10.1 * (sq(x[1] - 1.0) + sq(x[3] - 1.0)) + 19.8 * (x[1] - 1.0) * (x[3] - 1.0), [-3, -1, -3, -1], 1e-9),
}


def ill_conditioned(n=100, condition=1e6):
    """½ Σ λᵢ(uᵢ − 1)², u = R x (the chain of 30° rotations of newton_test.cpp)."""
    c, s = math.sqrt(3) / 2, 0.5
    R = np.eye(n)
    for i in range(n - 1):
        G = np.eye(n)
        G[i, i], G[i, i + 1], G[i + 1, i], G[i + 1, i + 1] = c, -s, s, c
        R = G @ R
    lam = condition ** (np.arange(n) / (n - 1))
    H = R.T @ np.diag(lam) @ R
    b = R.T @ lam
    f = lambda x: 0.5 * np.sum(lam * (R @ x - 1) ** 2)
    return f, (lambda x: H @ x - b), (lambda x: H), (lambda x, p: H @ p)


def scipy_runs():
    rows = {}
    for name, (f, x0, gtol) in problems.items():
        cache = {}

        def at(x, f=f, cache=cache):
            key = tuple(x)
            if key not in cache:
                cache.clear()
                cache[key] = taylor(f, x)
            return cache[key]

        for method in ("trust-ncg", "trust-exact"):
            kw = {"hessp": lambda x, p: at(x).h @ p} if method == "trust-ncg" else {"hess": lambda x: at(x).h}
            r = minimize(lambda x: at(x).v, np.array(x0, float), jac=lambda x: at(x).g,
                         method=method, options={"gtol": gtol, "maxiter": 10000}, **kw)
            rows[(name, method)] = r
    x0 = np.array([-1.2, 1.0] * 50)
    for method in ("trust-ncg", "trust-exact"):
        kw = {"hessp": lambda x, p: rosen_hess(x) @ p} if method == "trust-ncg" else {"hess": rosen_hess}
        rows[("chained Rosenbrock n=100", method)] = minimize(
            rosen, x0, jac=rosen_der, method=method, options={"gtol": 1e-10, "maxiter": 10000}, **kw)
    f, g, h, hp = ill_conditioned()
    x0 = np.zeros(100)
    gtol = 1e-10 * np.linalg.norm(g(x0))  # the test's grad_rtol = 1e-10
    for method in ("trust-ncg", "trust-exact"):
        kw = {"hessp": hp} if method == "trust-ncg" else {"hess": h}
        rows[("ill-conditioned quadratic n=100", method)] = minimize(
            f, x0, jac=g, method=method, options={"gtol": gtol, "maxiter": 100000}, **kw)
    return rows


def nabla_runs(optim_test):
    out = subprocess.run([optim_test, "--run_test=newton", "--log_level=message"],
                         capture_output=True, text=True).stdout
    out = re.sub(r"\x1b\[[0-9;]*m", "", out)
    line = re.compile(r"^(.*) (NewtonCG|Newton): (\w+) after (\d+) iterations \((\d+) evaluations\)"
                      r": f = (\S+),.*?(?:, (\d+) (?:HVPs|Hessians|Hessian-vector products))?$")
    rows = {}
    for text in out.splitlines():
        m = line.match(text)
        if m:
            rows[(m[1], m[2])] = m
    return rows


def main():
    ours = nabla_runs(sys.argv[1]) if len(sys.argv) > 1 else {}
    theirs = scipy_runs()
    print("| problem | method | iterations | f, ∇f evaluations | Hessian products / Hessians | f |")
    print("|---|---|---|---|---|---|")
    for name in [*problems, "chained Rosenbrock n=100", "ill-conditioned quadratic n=100"]:
        for method, peer in (("NewtonCG", "trust-ncg"), ("Newton", "trust-exact")):
            m = ours.get((name, method))
            if m:
                print(f"| {name} | nabla {method} | {m[4]} | {m[5]} | {m[7] or '?'} | {float(m[6]):.3g} |")
            r = theirs[(name, peer)]
            print(f"| {name} | SciPy {peer} | {r.nit} | {r.nfev} f, {r.njev} ∇f | {r.get('nhev', '?')} | {r.fun:.3g} |")


if __name__ == "__main__":
    main()
