#include "ad_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <fstream>
#include <optional>
#include <string_view>

namespace nabla::test {

double central_difference(const std::function<double(double)>& f, double x, double h) {
  return detail::richardson_difference([&](double t) { return f(x + t); }, h).derivative;
}

double fd_step(double x, double distance_to_singularity, double scale_cap, double scale_floor) {
  double h = 1e-3 * std::min(std::max(std::abs(x), scale_floor), scale_cap);
  h = std::min(h, distance_to_singularity / 100);
  return (x + h) - x;  // exactly representable next to x
}

double relative_fd_step(double x, double distance_to_singularity) {
  return fd_step(x, distance_to_singularity, inf, x == 0 ? 1e-2 : 0.0);
}

bool close(double a, double b, double rtol, double atol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::abs(a - b) <= atol + rtol * std::max(std::abs(a), std::abs(b));
}

std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = lo + (hi - lo) * i / (n - 1);
  return v;
}

void expect_forward_matches_reverse(const std::string& what, double forward, double reverse) {
  BOOST_CHECK_MESSAGE(close(forward, reverse, 1e-13, 0),
                      what << ": forward mode " << forward << ", reverse mode " << reverse);
}

void expect_same_value(const std::string& what, double got, double expected) {
  BOOST_CHECK_MESSAGE(close(got, expected, 0, 0),
                      what << ": value " << got << ", expected " << expected);
}

void expect_partial(const std::string& what, double analytic, double closed_form,
                    const std::function<double(double)>& f, double x, double h) {
  BOOST_CHECK_MESSAGE(close(analytic, closed_form, 1e-11, 1e-300),
                      what << ": derivative " << analytic << ", closed form " << closed_form);
  if (!std::isfinite(closed_form) || !std::isfinite(f(x)) || !(h > 0)) return;
  const double numeric = central_difference(f, x, h);
  // Finite differences resolve the derivative to about eps·|f|/h: allow for it.
  const double rounding = 1e-13 * (std::abs(f(x)) + 1e-300) / h;
  BOOST_CHECK_MESSAGE(close(analytic, numeric, 2e-6, 1e-10 + rounding),
                      what << ": derivative " << analytic << ", finite differences " << numeric
                           << " (step " << h << ")");
}

void expect_second_order(const std::string& what, double analytic, double other,
                         const std::function<double(double)>& df, double x, double h) {
  // The two ways round differently, and a second derivative near a zero is a difference of
  // larger terms: allow rounding relative to the first derivative.
  const double d = df(x);
  BOOST_CHECK_MESSAGE(
      close(analytic, other, 1e-10, 1e-14 * (std::isfinite(d) ? std::abs(d) : 0.0) + 1e-300),
      what << ": " << analytic << " one way, " << other << " the other");
  if (!std::isfinite(d) || !(h > 0) || !std::isfinite(analytic)) return;
  const double left = df(x - h), right = df(x + h);
  if (!std::isfinite(left) || !std::isfinite(right)) return;
  if (std::abs(right - left) > 0.5 * (std::abs(right) + std::abs(left))) return;  // a kink
  const double numeric = central_difference(df, x, h);
  const double rounding = 1e-13 * (std::abs(d) + 1e-300) / h;
  BOOST_CHECK_MESSAGE(close(analytic, numeric, 2e-6, 1e-10 + rounding),
                      what << ": " << analytic << ", finite differences of the derivative "
                           << numeric << " (step " << h << ")");
}

// ---- Tensor operations ----

double relative_step(const std::vector<Tensor>& inputs, std::size_t input, std::size_t index) {
  return relative_fd_step(inputs[input][index]);
}

double unit_step(const std::vector<Tensor>& inputs, std::size_t input, std::size_t index) {
  return fd_step(inputs[input][index], inf, 1.0);
}

namespace {

enum class Recorded { constant, variable, parameter };

struct Sweep {
  Tensor value;
  std::vector<std::optional<Tensor>> gradient;  // per recorded input
  bool requires_grad = false;
};

bool is_fixed(const TensorCheck& check, std::size_t input) {
  return std::find(check.fixed.begin(), check.fixed.end(), input) != check.fixed.end();
}

// One recording of op: its value and, after a sweep seeded with the cotangent w (when given),
// what each recorded input's gradient holds. Inputs are recorded `as` given, except the fixed
// ones and, when `only` names an input, all the others: those are constants.
Sweep record(const TensorOp& op, const std::vector<Tensor>& inputs, const TensorCheck& check,
             Recorded as, std::size_t only, const Tensor* w) {
  Tape& tape = Tape::active();
  const Position start = tape.position();
  Sweep s;
  std::vector<Tensor> values = inputs;  // a parameter's value buffer
  s.gradient.resize(inputs.size());
  std::vector<TensorVar> xs;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const bool recorded = !is_fixed(check, i) && (only == inputs.size() || only == i);
    if (!recorded || as == Recorded::constant) {
      xs.push_back(constant(inputs[i]));
    } else if (as == Recorded::variable) {
      xs.push_back(variable(inputs[i]));
    } else {
      s.gradient[i] = Tensor(inputs[i].shape(), 1.0);
      xs.push_back(parameter(values[i], *s.gradient[i]));
    }
  }
  const TensorVar y = op(xs);
  s.value = Tensor(y.value());
  s.requires_grad = y.requires_grad();
  if (w != nullptr) {
    backward(sum(y * constant(*w)));
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (as == Recorded::variable && xs[i].requires_grad()) s.gradient[i] = Tensor(adjoint(xs[i]));
    }
  }
  tape.rewind(start);
  return s;
}

bool same(const Tensor& a, const Tensor& b) {
  if (!(a.shape() == b.shape())) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!close(a[i], b[i], 0, 0)) return false;
  }
  return true;
}

std::string describe(const std::vector<Tensor>& inputs) {
  std::string out = "inputs";
  for (const Tensor& x : inputs) {
    double largest = 0;
    for (double v : x.span()) largest = std::max(largest, std::abs(v));
    out += fmt::format(" {} (|x| <= {:g})", to_string(x.shape()), largest);
  }
  return out;
}

// The checks of tensor_op_failures at one point; each failure is added to `failures`.
void check_tensor_op(const std::string& at, const TensorOp& op, const std::vector<Tensor>& inputs,
                     const TensorCheck& check, std::vector<std::string>& failures) {
  const auto expect = [&](bool ok, const auto& message) {
    if (!ok) failures.push_back(at + message());
  };
  Tape& tape = Tape::active();
  const std::size_t k = inputs.size();
  const Sweep constants = record(op, inputs, check, Recorded::constant, k, nullptr);
  expect(!constants.requires_grad,
         [] { return std::string(": constant inputs gave a recorded result"); });
  std::mt19937_64 rng(check.seed);
  std::uniform_real_distribution<double> u(0.5, 1.5);
  Tensor w(constants.value.shape());
  for (double& v : w.span()) v = (rng() >> 63) != 0 ? u(rng) : -u(rng);

  const Sweep all = record(op, inputs, check, Recorded::variable, k, &w);
  expect(same(all.value, constants.value), [&] {
    return fmt::format(": recorded inputs change the value: {} instead of {}", to_string(all.value),
                       to_string(constants.value));
  });
  const Sweep parameters = record(op, inputs, check, Recorded::parameter, k, &w);
  for (std::size_t i = 0; i < k; ++i) {
    if (!all.gradient[i]) continue;  // a fixed input
    const Tensor& gradient = *all.gradient[i];
    if (k > 1) {
      const Sweep alone = record(op, inputs, check, Recorded::variable, i, &w);
      expect(alone.gradient[i] && same(*alone.gradient[i], gradient), [&] {
        return fmt::format(
            ", input {}: the gradient is {} when the other inputs are constants, {} "
            "when they are variables",
            i, alone.gradient[i] ? to_string(*alone.gradient[i]) : "none", to_string(gradient));
      });
    }
    // A gradient helper's sweep (consuming, bounded below by its own input) writes nothing into
    // the other inputs: variables recorded before its input, or parameters recorded inside it.
    for (const Recorded as : {Recorded::variable, Recorded::parameter}) {
      const Position start = tape.position();
      std::vector<Tensor> values = inputs, buffers;  // the parameters' buffers
      buffers.reserve(k);
      std::vector<TensorVar> outer;
      for (std::size_t j = 0; j < k; ++j) {
        buffers.emplace_back(inputs[j].shape(), 1.0);
        const bool other = j != i && all.gradient[j];
        outer.push_back(other && as == Recorded::variable ? variable(inputs[j])
                                                          : constant(inputs[j]));
      }
      const ValueAndGradient helper = value_and_gradient(
          [&](const TensorVar& t) {
            std::vector<TensorVar> xs = outer;
            for (std::size_t j = 0; j < k; ++j) {
              if (j != i && all.gradient[j] && as == Recorded::parameter) {
                xs[j] = parameter(values[j], buffers[j]);
              }
            }
            xs[i] = t;
            return sum(op(xs) * constant(w));
          },
          inputs[i]);
      expect(same(Tensor(gradient.shape(), helper.gradient), gradient), [&] {
        return fmt::format(", input {}: value_and_gradient gives [{}], a backward sweep {}", i,
                           fmt::join(helper.gradient, ", "), to_string(gradient));
      });
      for (std::size_t j = 0; j < k; ++j) {
        if (j == i || !all.gradient[j]) continue;
        const Tensor reached = as == Recorded::variable ? Tensor(adjoint(outer[j])) : buffers[j];
        const double untouched = as == Recorded::variable ? 0.0 : 1.0;
        expect(same(reached, Tensor(reached.shape(), untouched)), [&] {
          return fmt::format(
              ", input {}: value_and_gradient for input {} wrote into it, a {} "
              "(its gradient: {})",
              j, i, as == Recorded::variable ? "variable recorded before" : "parameter",
              to_string(reached));
        });
      }
      tape.rewind(start);
    }
    const Tensor& buffer = *parameters.gradient[i];
    for (std::size_t c = 0; c < buffer.size(); ++c) {
      const double g = gradient[c];
      expect(!std::isfinite(g) || close(buffer[c], 1 + g, 1e-12, 1e-12), [&] {
        return fmt::format(
            ", input {} [{}]: a parameter's gradient buffer holding 1 ends at {} "
            "(expected 1 + {}: added to, not overwritten)",
            i, c, buffer[c], g);
      });
    }
  }
  if (check.derivative) {
    if (k == 0 || !all.gradient[0] || !(inputs[0].shape() == constants.value.shape())) {
      failures.push_back(at +
                         ": a closed-form derivative needs an elementwise operation of input 0");
      return;
    }
    for (std::size_t c = 0; c < inputs[0].size(); ++c) {
      const double d = check.derivative(inputs[0][c]);
      const double got = (*all.gradient[0])[c];
      expect(close(got, w[c] * d, 1e-13, std::numeric_limits<double>::min()), [&] {
        return fmt::format(" [{}] at x = {}: derivative {}, closed form {}", c, inputs[0][c],
                           got / w[c], d);
      });
    }
  }

  // Finite differences of Σ w·(op(x + t·e) − op(x)): the elements that do not move add exactly
  // nothing, so a large unchanged element cannot drown a small change.
  double input_scale = 0;
  if (check.rounded_on_input_scale) {
    for (const Tensor& x : inputs) {
      for (double v : x.span()) input_scale = std::max(input_scale, std::abs(v));
    }
  }
  std::vector<Tensor> moved = inputs;
  for (std::size_t i = 0; i < k; ++i) {
    if (is_fixed(check, i)) continue;
    for (std::size_t c = 0; c < inputs[i].size(); ++c) {
      const double h = check.step ? check.step(inputs, i, c) : unit_step(inputs, i, c);
      if (!(h > 0) || !std::isfinite(h)) continue;
      // Σ |w|·|y| over every element, the largest seen: what rounding in the values limits the
      // differences to (a derivative too small to move any y reads as 0, which is no error).
      double magnitude = 0, weights = 0;
      const auto g = [&](double t) {
        const Position start = tape.position();
        moved[i][c] = inputs[i][c] + t;
        std::vector<TensorVar> xs;
        for (const Tensor& x : moved) xs.push_back(constant_view(x));
        const TensorView y = op(xs).value();
        double change = 0, size = 0;
        weights = 0;
        for (std::size_t j = 0; j < y.size(); ++j) {
          if (y[j] != constants.value[j]) change += w[j] * (y[j] - constants.value[j]);
          size += std::abs(w[j]) *
                  (std::max(std::abs(y[j]), std::abs(constants.value[j])) + input_scale);
          weights += std::abs(w[j]);
        }
        magnitude = std::max(magnitude, size);
        moved[i][c] = inputs[i][c];
        tape.rewind(start);
        return change;
      };
      const double numeric = detail::richardson_difference(g, h).derivative;
      const double analytic = (*all.gradient[i])[c];
      const double rounding = 64 *
                              (std::numeric_limits<double>::epsilon() * magnitude +
                               std::numeric_limits<double>::denorm_min() * weights) /
                              h;
      expect(close(analytic, numeric, check.rtol, rounding), [&] {
        return fmt::format(
            ", input {} [{}] at x = {}: vector-Jacobian product {}, finite "
            "differences {} (step {}, rounding bound {})",
            i, c, inputs[i][c], analytic, numeric, h, rounding);
      });
    }
  }
}

}  // namespace

std::vector<std::string> tensor_op_failures(const std::string& what, const TensorOp& op,
                                            const std::vector<Tensor>& inputs,
                                            const TensorCheck& check) {
  const std::string at = what + " at " + describe(inputs);
  std::vector<std::string> failures;
  Tape tape;
  Tape::Scope scope(tape);
  try {
    check_tensor_op(at, op, inputs, check, failures);
  } catch (const std::exception& e) {
    failures.push_back(at + " threw: " + e.what());
  }
  return failures;
}

void expect_tensor_op(const std::string& what, const TensorOp& op,
                      const std::vector<Tensor>& inputs, const TensorCheck& check) {
  const std::vector<std::string> failures = tensor_op_failures(what, op, inputs, check);
  std::string all;
  for (const std::string& f : failures) all += "\n  " + f;
  BOOST_CHECK_MESSAGE(failures.empty(), failures.size() << " failed checks:" << all);
}

// ---- Reading the public headers ----

namespace {

// (std::regex would be shorter, but GCC 12's <regex> fails -Werror=maybe-uninitialized under
// the sanitizers.)
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// s without every occurrence of `what` (only whole words when `word`).
std::string erase_all(std::string s, std::string_view what, bool word) {
  for (std::size_t at = 0; (at = s.find(what, at)) != std::string::npos;) {
    const bool whole = (at == 0 || !word_char(s[at - 1])) &&
                       (at + what.size() == s.size() || !word_char(s[at + what.size()]));
    if (word && !whole) {
      at += what.size();
    } else {
      s.erase(at, what.size());
    }
  }
  return s;
}

// Parameter types of a declaration: names, defaults, const, & and std:: dropped.
std::string parameter_types(const std::string& list) {
  std::vector<std::string> parts(1);
  int depth = 0;
  for (char ch : list) {
    depth += ch == '<' ? 1 : ch == '>' ? -1 : 0;
    if (ch == ',' && depth == 0) {
      parts.emplace_back();
    } else {
      parts.back() += ch;
    }
  }
  std::string out;
  for (std::string p : parts) {
    p = p.substr(0, p.find('='));
    for (const char* noise : {"std::", "nabla::", "&"}) p = erase_all(p, noise, false);
    p = erase_all(p, "const", true);
    while (!p.empty() && space(p.back())) p.pop_back();
    std::size_t name = p.size();
    while (name > 0 && word_char(p[name - 1])) --name;
    if (name > 0 && name < p.size() && space(p[name - 1])) p.erase(name);  // the parameter's name
    std::erase_if(p, space);
    if (p.empty()) continue;
    out += (out.empty() ? "" : ",") + p;
  }
  return out;
}

}  // namespace

std::set<std::string> declared_functions(const std::string& path,
                                         const std::vector<std::string>& return_types) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::string text, line;
  while (std::getline(in, line)) text += line.substr(0, line.find("//")) + '\n';
  std::set<std::string> found;
  const std::size_t n = text.size();
  for (const std::string& type : return_types) {
    for (std::size_t at = 0; (at = text.find(type, at)) != std::string::npos; at += type.size()) {
      // The return type: the whole word, then space.
      std::size_t q = at + type.size();
      if ((at > 0 && word_char(text[at - 1])) || q == n || !space(text[q])) continue;
      while (q < n && space(text[q])) ++q;
      // The name: an identifier, operator(), or operator and its symbol.
      std::string name;
      if (text.compare(q, 10, "operator()") == 0) {
        name = "operator()";
        q += 10;
      } else if (text.compare(q, 8, "operator") == 0) {
        const std::size_t symbol = q + 8;
        for (q = symbol; q < n && text[q] != '(' && !space(text[q]);) ++q;
        name = "operator" + text.substr(symbol, q - symbol);
      } else {
        const std::size_t start = q;
        while (q < n && word_char(text[q])) ++q;
        name = text.substr(start, q - start);
      }
      while (q < n && space(text[q])) ++q;
      if (name.empty() || q == n || text[q] != '(') continue;
      const std::size_t close = text.find(')', q);
      if (close == std::string::npos) continue;
      const std::string parameters = text.substr(q + 1, close - q - 1);
      if (parameters.find('(') != std::string::npos) continue;  // a call, not a declaration
      found.insert(name + "(" + parameter_types(parameters) + ")");
    }
  }
  return found;
}

}  // namespace nabla::test
