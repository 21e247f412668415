// Nonlinear regression problems with reference results for least_squares():
// NIST StRD (https://www.itl.nist.gov/div898/strd/nls/nls_main.shtml): data, the two starting
// points and the certified values (parameters, standard errors, residual sum of squares);
// and Bates & Watts' Puromycin data (Nonlinear Regression Analysis and Its Applications, 1988,
// §2.1: the treated enzyme), whose published estimates have 4 significant digits.
#pragma once

#include <cmath>
#include <vector>

namespace nist {

/// A regression problem y ≈ model(b, x) with its reference solution.
struct Problem {
  const char* name;
  std::vector<double> x, y;
  std::vector<std::vector<double>> starts;
  std::vector<double> b, se;  ///< certified parameters and standard errors
  double rss;                 ///< certified residual sum of squares (0: not given)
};

// Misra1a (lower difficulty): y = b1·(1 − exp(−b2·x)). Misra1d uses the same data.
inline const std::vector<double> misra_x = {77.6,  114.9, 141.1, 190.8, 239.9, 289.0, 332.8,
                                            378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0};
inline const std::vector<double> misra_y = {10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02,
                                            44.82, 50.76, 55.05, 61.01, 66.40, 75.47, 81.78};

inline const Problem misra1a = {"Misra1a",
                                misra_x,
                                misra_y,
                                {{500, 1e-4}, {250, 5e-4}},
                                {2.3894212918E+02, 5.5015643181E-04},
                                {2.7070075241E+00, 7.2668688436E-06},
                                1.2455138894E-01};

// Misra1d (average difficulty): y = b1·b2·x / (1 + b2·x), a rational model.
inline const Problem misra1d = {"Misra1d",
                                misra_x,
                                misra_y,
                                {{500, 1e-4}, {450, 3e-4}},
                                {4.3736970754E+02, 3.0227324449E-04},
                                {3.6489174345E+00, 2.9334354479E-06},
                                5.6419295283E-02};

// BoxBOD (higher difficulty): y = b1·(1 − exp(−b2·x)); from start 1 a long first step lands on
// the plateau b2 → ∞.
inline const Problem boxbod = {"BoxBOD",
                               {1, 2, 3, 5, 7, 10},
                               {109, 149, 149, 191, 213, 224},
                               {{1, 1}, {100, 0.75}},
                               {2.1380940889E+02, 5.4723748542E-01},
                               {1.2354515176E+01, 1.0455993237E-01},
                               1.1680088766E+03};

// MGH09, Kowalik & Osborne (higher difficulty): y = b1·(x² + x·b2) / (x² + x·b3 + b4).
inline const Problem mgh09 = {
    "MGH09",
    {4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625},
    {1.957000E-01, 1.947000E-01, 1.735000E-01, 1.600000E-01, 8.440000E-02, 6.270000E-02,
     4.560000E-02, 3.420000E-02, 3.230000E-02, 2.350000E-02, 2.460000E-02},
    {{25, 39, 41.5, 39}, {0.25, 0.39, 0.415, 0.39}},
    {1.9280693458E-01, 1.9128232873E-01, 1.2305650693E-01, 1.3606233068E-01},
    {1.1435312227E-02, 1.9633220911E-01, 8.0842031232E-02, 9.0025542308E-02},
    3.0750560385E-04};

// Puromycin, treated (Michaelis–Menten): rate = Vm·c / (K + c). Published: Vm = 212.7 ± 6.947,
// K = 0.06412 ± 0.008281 (4 significant digits; no RSS given).
inline const Problem puromycin = {
    "Puromycin",
    {0.02, 0.02, 0.06, 0.06, 0.11, 0.11, 0.22, 0.22, 0.56, 0.56, 1.10, 1.10},
    {76, 47, 97, 107, 123, 139, 159, 152, 191, 201, 207, 200},
    {{200, 0.1}, {100, 1.0}},
    {212.7, 0.06412},
    {6.947, 0.008281},
    0};

// The models of the problems, written once for double, Var and Dual: y = model(b, x).
inline const auto exponential = [](const auto& b, double x) {
  using std::exp;
  return b[0] * (1.0 - exp(-b[1] * x));
};
inline const auto misra1d_model = [](const auto& b, double x) {
  return b[0] * b[1] * x / (1.0 + b[1] * x);
};
inline const auto mgh09_model = [](const auto& b, double x) {
  return b[0] * (x * x + x * b[1]) / (x * x + x * b[2] + b[3]);
};
inline const auto michaelis_menten = [](const auto& b, double x) { return b[0] * x / (b[1] + x); };

}  // namespace nist
