// nabla::optim — the optimization methods as option structs. Each update rule is implemented
// once, on flat buffers, by the object make_optimizer() returns (optimizer.hpp); the formulas
// and defaults are in docs/optimizers.md.
#pragma once

#include "nabla/optim/schedule.hpp"

namespace nabla::optim {

/// x ← x − lr·g  (optionally with Armijo backtracking in minimize()).
struct GradientDescent {
  double lr = 0.01;          ///< learning rate (the first trial step with line_search)
  bool line_search = false;  ///< minimize(): backtrack until f(x − t g) ≤ f(x) − c1·t·‖g‖²
  double c1 = 1e-4;          ///< Armijo sufficient-decrease constant
  double shrink = 0.5;       ///< backtracking factor
  Extras extras{};           ///< schedule, clipping, coupled weight decay (none with line_search)
};

/// Heavy-ball momentum (PyTorch's SGD form): v ← ρv + g;  x ← x − lr·v.
struct Momentum {
  double lr = 0.01;
  double rho = 0.9;
  Extras extras{};  ///< schedule, clipping, coupled weight decay
};

/// Nesterov momentum (PyTorch's SGD nesterov form): v ← ρv + g;  x ← x − lr·(g + ρv).
struct Nesterov {
  double lr = 0.01;
  double rho = 0.9;
  Extras extras{};  ///< schedule, clipping, coupled weight decay
};

/// AdaGrad (Duchi, Hazan & Singer 2011): s ← s + g²;  x ← x − lr·g/(√s + ε).
struct AdaGrad {
  double lr = 0.01;
  double eps = 1e-10;
  double initial_accumulator = 0.0;
  Extras extras{};  ///< schedule, clipping, coupled weight decay
};

/// RMSProp (Tieleman & Hinton 2012; PyTorch's form): s ← αs + (1 − α)g²; with `centered`,
/// m ← αm + (1 − α)g and the denominator is √(s − m²) + ε; with `momentum` μ > 0,
/// b ← μb + g/(√s + ε) and x ← x − lr·b, else x ← x − lr·g/(√s + ε).
struct RMSProp {
  double lr = 0.01;
  double alpha = 0.99;
  double eps = 1e-8;
  double momentum = 0.0;
  bool centered = false;
  Extras extras{};  ///< schedule, clipping, coupled weight decay
};

/// Adam (Kingma & Ba 2015), as PyTorch and Optax: with coupled L2 weight decay g ← g + λx,
/// m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  m̂ = m/(1 − β₁ᵗ),  v̂ = v/(1 − β₂ᵗ)
/// (AMSGrad: v̂ from the running maximum of v),  x ← x − lr·m̂/(√v̂ + ε).
struct Adam {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  ///< coupled L2: added to the gradient
  bool amsgrad = false;
  Extras extras{};  ///< schedule, clipping, coupled weight decay
};

/// AdamW (Loshchilov & Hutter 2019): Adam without the coupled term, and decoupled decay
/// x ← x − lr·λ·x before the Adam step.
struct AdamW {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;  ///< decoupled, multiplied by lr
  bool amsgrad = false;
  Extras extras{};  ///< schedule, clipping, coupled weight decay
};

/// The strong Wolfe conditions for a line search along d from x:
/// f(x + αd) ≤ f(x) + c1·α·∇f·d  and  |∇f(x + αd)·d| ≤ c2·|∇f(x)·d|.
struct StrongWolfe {
  double c1 = 1e-4;
  double c2 = 0.9;
  int max_evaluations = 25;  ///< per line search
};

/// Limited-memory BFGS (Nocedal & Wright, Algorithm 7.4 with the two-loop recursion, and the
/// line search of Algorithms 3.5–3.6). When the line search fails, the memory is dropped and the
/// search is retried once along −∇f; a second failure ends the run with Status::line_search_failed
/// — or Status::precision_limit when f is flat to rounding there and ∇f is small.
struct LBFGS {
  int history = 10;
  StrongWolfe line_search{};
};

/// Trust-region Newton-CG (Steihaug–Toint): each step minimises the quadratic model
/// m(p) = ∇f·p + ½pᵀ∇²f p inside ‖p‖ ≤ Δ by conjugate gradients on Hessian-vector products
/// (Nocedal & Wright, Algorithm 7.2), truncated at the boundary, at negative curvature, or when
/// ‖r‖ ≤ min(cg_tolerance, √‖∇f‖)·‖∇f‖; the radius follows Algorithm 4.1. One Hessian-vector
/// product per CG iteration (Result::hessian_evaluations). f must be generic in its number type.
struct NewtonCG {
  double initial_radius = 1.0;  ///< Δ₀
  double max_radius = 1000.0;   ///< the radius never grows past this (finite, >= Δ₀)
  double eta = 0.15;            ///< a step is accepted when actual/predicted decrease > eta
  double cg_tolerance = 0.5;    ///< the cap of the CG forcing term min(cg_tolerance, √‖∇f‖)
  int max_cg_iterations = 0;    ///< CG iterations per step (0: 10·n)
};

/// Trust-region Newton with the dense exact Hessian, the subproblem solved exactly (Nocedal &
/// Wright §4.3: Cholesky of ∇²f + μI, μ from an eigendecomposition, the hard case included) —
/// for small n.
/// One dense Hessian per accepted step (Result::hessian_evaluations). f must be generic.
struct Newton {
  double initial_radius = 1.0;  ///< Δ₀
  double max_radius = 1000.0;   ///< the radius never grows past this (finite, >= Δ₀)
  double eta = 0.15;            ///< a step is accepted when actual/predicted decrease > eta
  int max_dimension = 200;      ///< larger n throws nabla::Error (use NewtonCG)
};

}  // namespace nabla::optim
