#!/usr/bin/env python3
"""nabla's least_squares next to SciPy's least_squares (method 'lm' and 'trf') on the problems
of tests/optim/nist_strd.hpp, from the same starts with the same tolerances.

Not run by the test suite. Needs SciPy (Debian: python3-scipy; run with /usr/bin/python3 when
another python3 comes first). The nabla numbers are the lines of the least_squares_evals
program (tests/bench/least_squares_evals.cpp, nabla's default options):

  /usr/bin/python3 tests/bench/least_squares_scipy.py build/tests/bench/least_squares_evals

Without the program's path only the SciPy columns are printed.

SciPy gets exact Jacobians (written below and checked against central differences).
ftol = xtol = gtol = 1e-10, nabla's defaults. What the tolerances mean:
  - nabla and SciPy 'lm' (MINPACK's lmder) share the definitions: ftol bounds the relative
    actual and predicted reductions of the cost, xtol the trust radius relative to ‖D·x‖, gtol
    the largest |cosine| between the residuals and a column of J (0 when the residuals are 0).
  - SciPy 'trf': ftol is the same relative reduction test (dF < ftol·F with agreement of the
    model); xtol is ‖dx‖ < xtol·(xtol + ‖x‖), the step actually taken rather than the trust
    radius; gtol is ‖g_scaled‖∞ < gtol, an absolute test on the scaled gradient (not a cosine).
Scaling: nabla scales by the Jacobian's column norms (MINPACK mode 1), which is SciPy's
x_scale='jac'; SciPy's default x_scale=1.0 does not scale (lm: MINPACK mode 2 with diag = 1).
The main columns use x_scale='jac'; the x_scale=1 columns are SciPy's defaults. SciPy 'lm'
starts with MINPACK's factor 100 (trust radius 100·‖D·x0‖), nabla and 'trf' with 1.
Budgets: SciPy 100·n evaluations, nabla 100·(n + 1).
Counting: nabla's one evaluation is the residuals and their Jacobian together; SciPy counts
nfev (residuals) and njev (Jacobians) separately. 'lm' evaluates the Jacobian only at accepted
points, so its njev ≤ nfev. The comparison is nabla's evaluations against SciPy's nfev.
Reached: every parameter within 1e-4 of the certified value (Puromycin 5e-4: 4 published
digits), the rule of least_squares_evals.
"""
import re
import subprocess
import sys

import numpy as np
from scipy.optimize import least_squares

TOL = 1e-10

misra_x = [77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1,
           689.1, 760.0]
misra_y = [10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40,
           75.47, 81.78]


def exponential(b, x):
    e = np.exp(-b[1] * x)
    return b[0] * (1 - e), np.column_stack([1 - e, b[0] * x * e])


def misra1d(b, x):
    d = 1 + b[1] * x
    return b[0] * b[1] * x / d, np.column_stack([b[1] * x / d, b[0] * x / d**2])


def mgh09(b, x):
    num = x * x + x * b[1]
    den = x * x + x * b[2] + b[3]
    return b[0] * num / den, np.column_stack(
        [num / den, b[0] * x / den, -b[0] * num * x / den**2, -b[0] * num / den**2])


def michaelis_menten(b, x):
    d = b[1] + x
    return b[0] * x / d, np.column_stack([x / d, -b[0] * x / d**2])


# name, model, x, y, starts, certified b, reached tolerance (copied from nist_strd.hpp)
PROBLEMS = [
    ("Misra1a", exponential, misra_x, misra_y, [[500, 1e-4], [250, 5e-4]],
     [2.3894212918E+02, 5.5015643181E-04], 1e-4),
    ("Misra1d", misra1d, misra_x, misra_y, [[500, 1e-4], [450, 3e-4]],
     [4.3736970754E+02, 3.0227324449E-04], 1e-4),
    ("BoxBOD", exponential, [1, 2, 3, 5, 7, 10], [109, 149, 149, 191, 213, 224],
     [[1, 1], [100, 0.75]], [2.1380940889E+02, 5.4723748542E-01], 1e-4),
    ("MGH09", mgh09, [4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625],
     [1.957000E-01, 1.947000E-01, 1.735000E-01, 1.600000E-01, 8.440000E-02, 6.270000E-02,
      4.560000E-02, 3.420000E-02, 3.230000E-02, 2.350000E-02, 2.460000E-02],
     [[25, 39, 41.5, 39], [0.25, 0.39, 0.415, 0.39]],
     [1.9280693458E-01, 1.9128232873E-01, 1.2305650693E-01, 1.3606233068E-01], 1e-4),
    ("Puromycin", michaelis_menten,
     [0.02, 0.02, 0.06, 0.06, 0.11, 0.11, 0.22, 0.22, 0.56, 0.56, 1.10, 1.10],
     [76, 47, 97, 107, 123, 139, 159, 152, 191, 201, 207, 200], [[200, 0.1], [100, 1.0]],
     [212.7, 0.06412], 5e-4),
]


def check_jacobian(model, x, b):
    """The written Jacobian against central differences: a typo would skew every count."""
    _, J = model(b, x)
    for j in range(len(b)):
        h = 1e-6 * max(abs(b[j]), 1e-3)
        up, down = list(b), list(b)
        up[j] += h
        down[j] -= h
        fd = (model(up, x)[0] - model(down, x)[0]) / (2 * h)
        scale = max(np.max(np.abs(J[:, j])), 1e-300)
        assert np.max(np.abs(fd - J[:, j])) <= 1e-5 * scale, (model.__name__, j)


def scipy_fit(model, x, y, x0, method, x_scale):
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    with np.errstate(over="ignore"):  # exp overflows on BoxBOD's plateau: a rejected trial
        res = least_squares(lambda b: model(b, x)[0] - y, np.asarray(x0, float),
                            jac=lambda b: model(b, x)[1], method=method, x_scale=x_scale,
                            ftol=TOL, xtol=TOL, gtol=TOL)
    return res


def reached(b, certified, rel):
    return all(abs(g - c) <= rel * abs(c) for g, c in zip(b, certified))


def nabla_counts(program):
    out = subprocess.run([program], capture_output=True, text=True).stdout
    counts = {}
    for line in out.splitlines():
        m = re.match(r"(\S+) start (\d+): evaluations (\d+) .*status (\S+) .*reached (\S+)", line)
        if m:
            counts[(m[1], int(m[2]))] = (int(m[3]), m[4], m[5] == "yes")
    return counts


def main():
    nabla = nabla_counts(sys.argv[1]) if len(sys.argv) > 1 else {}
    cols = [("lm", "jac"), ("trf", "jac"), ("lm", 1.0), ("trf", 1.0)]
    head = ("| problem | start | nabla evals | SciPy lm nfev (njev) | SciPy trf nfev (njev) "
            "| lm, x_scale=1 | trf, x_scale=1 |")
    print(head)
    print("|" + "---|" * 7)
    # Per column: the counts, and the counts with a run that missed the certified values as ∞.
    columns = {"nabla": []}
    strict = {"nabla": []}
    for c in cols:
        columns[c] = []
        strict[c] = []
    for name, model, x, y, starts, certified, rel in PROBLEMS:
        check_jacobian(model, np.asarray(x, float), certified)
        for s, x0 in enumerate(starts, 1):
            cells = [name, str(s)]
            if (name, s) in nabla:
                ev, status, ok = nabla[(name, s)]
                columns["nabla"].append(ev)
                strict["nabla"].append(ev if ok else np.inf)
                cells.append(f"{ev}{'' if ok else ' (missed)'}")
            else:
                cells.append("–")
            for c in cols:
                res = scipy_fit(model, x, y, x0, *c)
                ok = reached(res.x, certified, rel)
                columns[c].append(res.nfev)
                strict[c].append(res.nfev if ok else np.inf)
                cells.append(f"{res.nfev} ({res.njev}){'' if ok else ' (missed)'}")
            print("| " + " | ".join(cells) + " |")
    for label, table in (("**median**", columns), ("**median, a miss as ∞**", strict)):
        med = [label, ""]
        med.append(f"{np.median(table['nabla']):g}" if table["nabla"] else "–")
        for c in cols:
            med.append(f"{np.median(table[c]):g}")
        print("| " + " | ".join(med) + " |")


if __name__ == "__main__":
    main()
