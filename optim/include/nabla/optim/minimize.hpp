// nabla::optim — minimize(): run a method to convergence with stopping rules, statuses, the best
// point seen and (on request) the history.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdio>
#include <functional>
#include <limits>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "nabla/autodiff/forward.hpp"
#include "nabla/autodiff/gradient.hpp"
#include "nabla/optim/methods.hpp"
#include "nabla/optim/optimizer.hpp"

namespace nabla::optim {

/// When minimize() stops (whichever rule fires first). 0 disables a rule.
struct Stop {
  double grad_tol = 1e-8;  ///< ‖∇f‖₂ ≤ grad_tol (with Bounds: the projected gradient)
  double grad_rtol = 0;  ///< ‖∇f‖₂ ≤ grad_rtol·‖∇f(x₀)‖₂ (relative to the start)
  double step_tol = 0;   ///< ‖xₖ₊₁ − xₖ‖₂ ≤ step_tol
  double value_tol = 0;  ///< |fₖ₊₁ − fₖ| ≤ value_tol·|fₖ| (relative change of f)
  double target = -std::numeric_limits<double>::infinity();  ///< f ≤ target
  int max_iterations = 1000;                                 ///< updates of x
  int max_evaluations = 0;  ///< evaluations of f and ∇f (0: none, but never past INT_MAX)
  double time_limit_s = 0;  ///< wall time
};

/// Box constraints for minimize(): lowerᵢ ≤ xᵢ ≤ upperᵢ. Each vector has one entry per coordinate
/// of x0, or is empty (no bound on that side); −∞ in lower and +∞ in upper leave a coordinate
/// unbounded on that side, and lowerᵢ == upperᵢ fixes it. Pass it spelled out, `Bounds{...}`
/// (a bare `{}` in that place is the Stop).
///
/// Example: `minimize(f, {0.5, 2.0}, LBFGS{}, Bounds{.lower = {0, 0}, .upper = {1, inf}});`
struct Bounds {
  std::vector<double> lower{};  ///< lower bounds, x0.size() entries or empty (none); −∞ allowed
  std::vector<double> upper{};  ///< upper bounds, x0.size() entries or empty (none); +∞ allowed
};

/// Why minimize() stopped.
enum class Status {
  gradient_converged,   ///< ‖∇f‖ ≤ grad_tol, or ≤ grad_rtol·‖∇f(x₀)‖
  step_converged,       ///< the step became shorter than step_tol
  value_converged,      ///< f changed by less than value_tol (relative)
  target_reached,       ///< f ≤ target
  max_iterations,       ///< the iteration budget ran out
  max_evaluations,      ///< the evaluation budget ran out
  time_limit,           ///< the wall-time budget ran out
  diverged,             ///< f or ∇f became NaN or infinite; x is the last finite iterate
  stopped_by_callback,  ///< the observer asked to stop
  line_search_failed,   ///< no acceptable step along the line: L-BFGS (even along −∇f after
                        ///< dropping its memory) or GradientDescent{.line_search = true}
  precision_limit,      ///< converged as far as doubles allow: f is flat to rounding along the
                        ///< search direction and ∇f is small (Note [Precision limit])
};

/// The name of a status, e.g. "gradient_converged".
std::string_view to_string(Status status) noexcept;

/// What an observer sees after each iteration.
struct Iteration {
  int iteration = 0;       ///< updates of x so far
  double value = 0;        ///< f at the new x
  double grad_norm = 0;    ///< ‖∇f‖₂ at the new x (Bounds: projected)
  double step = 0;         ///< ‖Δx‖₂ of this iteration
  double lr = 0;           ///< learning rate, the accepted step length of a line search, or
                           ///< the trust radius after the step (NewtonCG, Newton)
  int evaluations = 0;     ///< evaluations of f and ∇f so far
  double elapsed_s = 0;    ///< wall time since the start
  int max_iterations = 0;  ///< the iteration budget (Stop::max_iterations), for progress bars
};

/// The trace of a run (filled when the observer is optim::history()).
struct History {
  std::vector<Iteration> iterations;
};

struct Result;

/// A callback after each iteration (return false to stop), whether to keep the history, and a
/// callback when the run ends. Any callable `bool(const Iteration&)` converts to an Observer;
/// combine observers with `|`.
///
/// Example: `minimize(f, x0, Adam{}, {}, [](const Iteration& it) { return it.value > 1e-3; });`
struct Observer {
  std::function<bool(const Iteration&)> callback{};  ///< may be empty
  bool record_history = false;                       ///< fill Result::history
  std::function<void(const Result&)> on_finish{};    ///< may be empty

  Observer() = default;
  /// An observer that calls `f` after each iteration.
  template <class F>
  requires std::is_invocable_r_v<bool, F&, const Iteration&> Observer(F f)
      : callback(std::move(f)) {}  // NOLINT: implicit, so a lambda is an Observer
};

/// Both observers: every callback runs; the run stops when either asks to.
Observer operator|(Observer a, Observer b);

/// Records every iteration into Result::history (and calls `then`, if any). Costs nothing when
/// not used: without it minimize() keeps no trace.
Observer history(std::function<bool(const Iteration&)> then = {});

/// A live one-line progress bar on a terminal (rewritten in place, at most 10 times a second),
/// or a plain log line every `every` iterations when `out` is not a terminal; then a final line
/// with the status.
Observer progress(int every = 100, std::FILE* out = stderr);

/// Writes every iteration to a CSV file (iteration,value,grad_norm,step,lr,evaluations,elapsed_s).
/// @throws nabla::Error when the file cannot be opened.
Observer csv(const std::string& path);

/// What minimize() returns.
struct Result {
  std::vector<double> x;       ///< where the method ended (its last finite iterate)
  double value = 0;            ///< f(x)
  std::vector<double> best_x;  ///< the lowest point evaluated
  double best_value = 0;       ///< f(best_x)
  double grad_norm = 0;  ///< ‖∇f(x)‖₂; with Bounds the projected gradient ‖P(x − ∇f(x)) − x‖₂
  /// With Bounds, per coordinate: −1 at its lower bound (also when lower == upper), +1 at its
  /// upper bound, 0 strictly inside; empty without Bounds.
  std::vector<int> active;
  int iterations = 0;           ///< updates of x
  int evaluations = 0;          ///< evaluations of f and ∇f
  int hessian_evaluations = 0;  ///< Hessian-vector products (NewtonCG) or dense Hessians (Newton)
  Status status = Status::max_iterations;
  History history;  ///< filled with optim::history()
};

namespace detail {
/// f(x) with its gradient written into g: what the methods need of a function.
using Objective = std::function<double(std::span<const double>, std::span<double>)>;

/// A first-order method; with `bounds`, projected onto them after each update.
Result run_first_order(const Objective& f, std::vector<double> x, Optimizer& optimizer,
                       const GradientDescent* armijo, const Stop& stop, const Observer& observer,
                       const Bounds* bounds = nullptr);
Result run_lbfgs(const Objective& f, std::vector<double> x, const LBFGS& method, const Stop& stop,
                 const Observer& observer);
/// L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995), optim/src/lbfgsb.cpp.
Result run_lbfgsb(const Objective& f, std::vector<double> x, const LBFGS& method,
                  const Bounds& bounds, const Stop& stop, const Observer& observer);

/// ∇²f(x)·v written into hv.
using HessianVector =
    std::function<void(std::span<const double> x, std::span<const double> v, std::span<double> hv)>;
/// ∇²f(x), n×n row-major, written into h.
using HessianMatrix = std::function<void(std::span<const double> x, std::span<double> h)>;

Result run_newton_cg(const Objective& f, const HessianVector& hvp, std::vector<double> x,
                     const NewtonCG& method, const Stop& stop, const Observer& observer);
Result run_newton(const Objective& f, const HessianMatrix& hessian, std::vector<double> x,
                  const Newton& method, const Stop& stop, const Observer& observer);

/// Whether f can be evaluated on Dual<Var> (forward over reverse), as the Newton methods need.
template <class F>
inline constexpr bool twice_differentiable = std::is_invocable_v<F&, std::span<const Dual<Var>>>;
/// An objective object that supplies its own Hessian-vector products, as nabla::parallel_sum's
/// and nabla::mpi::distributed_sum's sums do for generic shard functions (NewtonCG takes them).
template <class F>
concept SuppliesHessianVectorProduct = requires(F& f, std::span<const double> x,
                                                std::span<const double> v, std::span<double> hv) {
  f.hessian_vector_product(x, v, hv);
};
/// An objective object that supplies its own dense Hessian, n×n row-major (Newton takes it).
template <class F>
concept SuppliesHessian = requires(F& f, std::span<const double> x, std::span<double> h) {
  f.hessian(x, h);
};

/// Adapts f: a function of Vars is differentiated by nabla; a function (x, g) → f that writes
/// its own gradient is used as it is.
template <class F>
Objective objective(F& f) {
  if constexpr (std::is_invocable_r_v<double, F&, std::span<const double>, std::span<double>>) {
    return [&f](std::span<const double> x, std::span<double> g) { return f(x, g); };
  } else {
    static_assert(ScalarFunction<F>,
                  "minimize: f must be callable as f(std::span<const nabla::Var>) -> Var (or a "
                  "generic lambda taking const auto&), or as f(std::span<const double> x, "
                  "std::span<double> g) -> double writing its gradient into g");
    return
        [&f](std::span<const double> x, std::span<double> g) { return nabla::gradient(f, x, g); };
  }
}
}  // namespace detail

/// Minimizes f from x0 with a method (GradientDescent, Momentum, Nesterov, AdaGrad, RMSProp,
/// Adam, AdamW, LBFGS, NewtonCG, Newton). Gradients come from nabla's reverse mode unless f
/// supplies its own; the Newton methods take second derivatives by forward over reverse, so
/// their f must be generic in its number type (a lambda taking `const auto&`) — or, when it is
/// not, an object that supplies them: `hessian_vector_product(x, v, hv)` for NewtonCG,
/// `hessian(x, h)` for Newton (nabla::parallel_sum and mpi::distributed_sum of a generic shard
/// function). A generic f is differentiated by nabla even when it also has such members.
/// Not converging is not an error: the status says why the run ended, and best_x holds the
/// lowest point evaluated — also after divergence.
/// @throws nabla::Error for invalid options or stopping rules.
///
/// Example:
///   auto r = nabla::optim::minimize(rosenbrock, {-1.2, 1.0}, nabla::optim::LBFGS{});
///   fmt::print("{}\n", r);   // with <nabla/optim/format.hpp>
template <class F, class Method>
Result minimize(F&& f, std::vector<double> x0, Method method, Stop stop = {},
                Observer observer = {}) {
  const detail::Objective objective = detail::objective(f);
  if constexpr (std::same_as<Method, LBFGS>) {
    return detail::run_lbfgs(objective, std::move(x0), method, stop, observer);
  } else if constexpr (std::same_as<Method, NewtonCG> || std::same_as<Method, Newton>) {
    // The method first: a first-order method never looks at second derivatives. A generic f
    // is differentiated by nabla, as before objects could supply them; an object that f is
    // not callable on Duals may supply its own (parallel_sum, mpi::distributed_sum).
    using G = std::remove_reference_t<F>;
    constexpr bool own = detail::twice_differentiable<F>;
    constexpr bool supplied = [] {  // only the member this method calls is looked at
      if constexpr (std::same_as<Method, NewtonCG>) {
        return detail::SuppliesHessianVectorProduct<G>;
      } else {
        return detail::SuppliesHessian<G>;
      }
    }();
    static_assert(own || supplied,
                  "minimize: NewtonCG and Newton need second derivatives: f must be generic in "
                  "its number type (a lambda taking const auto& x, callable with "
                  "std::span<const nabla::Dual<nabla::Var>>), or an object with "
                  "hessian_vector_product(x, v, hv) (NewtonCG) or hessian(x, h) (Newton) — "
                  "nabla::parallel_sum and mpi::distributed_sum have them when their shard "
                  "function is generic; an f(x, g) that writes only its gradient has no Hessian — "
                  "use LBFGS for it");
    if constexpr (std::same_as<Method, NewtonCG>) {
      const detail::HessianVector hvp = [&f](std::span<const double> x, std::span<const double> v,
                                             std::span<double> hv) {
        if constexpr (own) {
          const std::vector<double> product = nabla::hessian_vector_product(f, x, v);
          std::copy(product.begin(), product.end(), hv.begin());
        } else if constexpr (supplied) {
          f.hessian_vector_product(x, v, hv);
        }
      };
      return detail::run_newton_cg(objective, hvp, std::move(x0), method, stop, observer);
    } else {
      const detail::HessianMatrix hessian = [&f](std::span<const double> x, std::span<double> h) {
        if constexpr (own) {
          const nabla::Hessian H = nabla::hessian(f, x);
          std::copy(H.data.begin(), H.data.end(), h.begin());
        } else if constexpr (supplied) {
          f.hessian(x, h);
        }
      };
      return detail::run_newton(objective, hessian, std::move(x0), method, stop, observer);
    }
  } else {
    const auto optimizer = make_optimizer(method, x0.size());
    const GradientDescent* armijo = nullptr;
    if constexpr (std::same_as<Method, GradientDescent>) {
      if (method.line_search) armijo = &method;
    }
    return detail::run_first_order(objective, std::move(x0), *optimizer, armijo, stop, observer);
  }
}

/// minimize() from a braced starting point.
template <class F, class Method>
Result minimize(F&& f, std::initializer_list<double> x0, Method method, Stop stop = {},
                Observer observer = {}) {
  return minimize(std::forward<F>(f), std::vector<double>(x0), method, stop, std::move(observer));
}

/// minimize() from a starting point given as any range of doubles that is not a std::vector:
/// `std::array`, `std::span<const double>`, `Eigen::VectorXd` (nabla::DoubleRange; Eigen is not
/// included for it). The point is copied into the run's iterate; f is called as for the
/// std::vector overload (with `std::span<const Var>`, or `(x, g)` with spans of double).
///
/// Example:
///   Eigen::VectorXd x0(2);  x0 << -1.2, 1.0;
///   auto r = nabla::optim::minimize(rosenbrock, x0, nabla::optim::LBFGS{});
template <class F, class Method, DoubleRange R>
requires(!std::convertible_to<const R&, std::vector<double>>) Result
    minimize(F&& f, const R& x0, Method method, Stop stop = {}, Observer observer = {}) {
  return minimize(std::forward<F>(f),
                  std::vector<double>(std::ranges::begin(x0), std::ranges::end(x0)), method, stop,
                  std::move(observer));
}

/// Minimizes f from x0 within box constraints: LBFGS runs as L-BFGS-B (Byrd, Lu, Nocedal & Zhu
/// 1995), every first-order method is projected onto the box after each update (with a projected
/// Armijo search for GradientDescent{.line_search = true}). An x0 outside the box is projected
/// onto it; Stop::grad_tol and grad_rtol apply to the projected gradient ‖P(x − ∇f) − x‖₂;
/// Result::active says which bounds hold at the end (docs/optimizers.md, "Bounds").
/// @throws nabla::Error for invalid bounds (a size other than x0's, NaN, lower > upper,
/// lower = +∞ or upper = −∞), options or stopping rules.
///
/// Example:
///   auto r = minimize(f, {0.5, 0.5}, LBFGS{}, Bounds{.lower = {0, 0}, .upper = {1, 1}});
template <class F, class Method, std::same_as<Bounds> B>
Result minimize(F&& f, std::vector<double> x0, Method method, const B& bounds, Stop stop = {},
                Observer observer = {}) {
  const detail::Objective objective = detail::objective(f);
  if constexpr (std::same_as<Method, LBFGS>) {
    return detail::run_lbfgsb(objective, std::move(x0), method, bounds, stop, observer);
  } else if constexpr (std::same_as<Method, NewtonCG> || std::same_as<Method, Newton>) {
    static_assert(!std::same_as<Method, Method>,
                  "minimize: NewtonCG and Newton take no Bounds (trust regions without a box); "
                  "use LBFGS, which runs as L-BFGS-B within bounds");
    return Result{};
  } else {
    const auto optimizer = make_optimizer(method, x0.size());
    const GradientDescent* armijo = nullptr;
    if constexpr (std::same_as<Method, GradientDescent>) {
      if (method.line_search) armijo = &method;
    }
    return detail::run_first_order(objective, std::move(x0), *optimizer, armijo, stop, observer,
                                   &bounds);
  }
}

/// minimize() within bounds from a braced starting point.
template <class F, class Method, std::same_as<Bounds> B>
Result minimize(F&& f, std::initializer_list<double> x0, Method method, const B& bounds,
                Stop stop = {}, Observer observer = {}) {
  return minimize(std::forward<F>(f), std::vector<double>(x0), method, bounds, stop,
                  std::move(observer));
}

/// minimize() within bounds from a starting point given as a range of doubles (std::array,
/// std::span<const double>, Eigen::VectorXd, ...: nabla::DoubleRange).
template <class F, class Method, DoubleRange R, std::same_as<Bounds> B>
requires(!std::convertible_to<const R&, std::vector<double>>) Result
    minimize(F&& f, const R& x0, Method method, const B& bounds, Stop stop = {},
             Observer observer = {}) {
  return minimize(std::forward<F>(f),
                  std::vector<double>(std::ranges::begin(x0), std::ranges::end(x0)), method, bounds,
                  stop, std::move(observer));
}

}  // namespace nabla::optim
