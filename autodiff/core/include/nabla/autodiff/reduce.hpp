// nabla — reductions recorded as one vectorised statement: n operands, no intermediate
// statements (a loop `s += x[i]` records n statements; sum(x) records one).
#pragma once

#include <cstddef>
#include <span>

#include "nabla/autodiff/var.hpp"

namespace nabla {

namespace detail {
/// Throws unless the two vectors of a reduction have one size.
void check_equal_sizes(const char* function, std::size_t a, std::size_t b);
}  // namespace detail

/// Σ xᵢ as one statement;  ∂/∂xᵢ = 1.
/// Example: `nabla::Var s = nabla::sum(x);`
Var sum(std::span<const Var> xs);

/// Π xᵢ as one statement (1 for no operand);  ∂/∂xᵢ = Πⱼ≠ᵢ xⱼ, without a division (exact
/// where some xⱼ are 0). The value, and the gradient of prod itself, are bit for bit what the
/// loop `p *= x[i]` gives, overflow, NaN and the rule 0 · anything = 0 on the way back included
/// (docs/functions.md). Under an outer adjoint a the gradient is a · Πⱼ≠ᵢ xⱼ, which rounds
/// differently from the loop and overflows where Πⱼ≠ᵢ xⱼ does even if a times it would not.
/// Example: `nabla::Var p = nabla::prod(x);`
Var prod(std::span<const Var> xs);

/// Σ xᵢ² as one statement;  ∂/∂xᵢ = 2xᵢ.
Var squared_norm(std::span<const Var> xs);

/// Σ aᵢ bᵢ of two variable vectors as one statement;  ∂/∂aᵢ = bᵢ, ∂/∂bᵢ = aᵢ.
/// @throws nabla::Error when the sizes differ.
Var dot(std::span<const Var> a, std::span<const Var> b);
/// Σ aᵢ bᵢ with constant weights a (data times parameters);  ∂/∂bᵢ = aᵢ.
/// @throws nabla::Error when the sizes differ.
Var dot(std::span<const double> a, std::span<const Var> b);
/// Σ aᵢ bᵢ with constant weights b;  ∂/∂aᵢ = bᵢ.
/// @throws nabla::Error when the sizes differ.
Var dot(std::span<const Var> a, std::span<const double> b);

/// The log density of observations y under Normal(μ, σ):
///   Σᵢ −½((yᵢ − μ)/σ)² − ln σ − ½ ln 2π,
/// as one statement with two operands;  ∂/∂μ = Σ (yᵢ − μ)/σ²,  ∂/∂σ = Σ (yᵢ − μ)²/σ³ − n/σ.
/// @throws nabla::Error when σ ≤ 0.
Var normal_log_density(std::span<const double> y, const Var& mu, const Var& sigma);
/// The same with variable observations;  ∂/∂yᵢ = −(yᵢ − μ)/σ².
/// @throws nabla::Error when σ ≤ 0.
Var normal_log_density(std::span<const Var> y, const Var& mu, const Var& sigma);

}  // namespace nabla
