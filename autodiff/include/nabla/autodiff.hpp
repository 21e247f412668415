// nabla — reverse-mode automatic differentiation: the umbrella header.
#pragma once

#include "nabla/autodiff/arithmetic.hpp"
#include "nabla/autodiff/check.hpp"
#include "nabla/autodiff/custom.hpp"
#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/expression.hpp"
#include "nabla/autodiff/format.hpp"
#include "nabla/autodiff/gradient.hpp"
#include "nabla/autodiff/idx.hpp"
#include "nabla/autodiff/math.hpp"
#include "nabla/autodiff/nn.hpp"
#include "nabla/autodiff/op.hpp"
#include "nabla/autodiff/reduce.hpp"
#include "nabla/autodiff/tape.hpp"
#include "nabla/autodiff/tensor.hpp"
#include "nabla/autodiff/tensor_var.hpp"
#include "nabla/autodiff/var.hpp"
