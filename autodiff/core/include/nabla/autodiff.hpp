// nabla — reverse-mode automatic differentiation: the umbrella header.
//
// The scalar core (this component: needs only fmt) and, when they are installed or on the
// include path, the headers of the other autodiff components: tensors (nabla-tensor), training
// utilities and layers (nabla-nn) and data files and saved parameters (nabla-data). Link the
// components you use; a program that uses only Var, the gradient helpers and check_gradient
// links with fmt alone.
// graph.hpp (Boost.Graph, heavy to compile) is never included here.
#pragma once

#include "nabla/autodiff/arithmetic.hpp"
#include "nabla/autodiff/check.hpp"
#include "nabla/autodiff/custom.hpp"
#include "nabla/autodiff/dual.hpp"
#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/expression.hpp"
#include "nabla/autodiff/format.hpp"
#include "nabla/autodiff/forward.hpp"
#include "nabla/autodiff/gradient.hpp"
#include "nabla/autodiff/math.hpp"
#include "nabla/autodiff/no_grad.hpp"
#include "nabla/autodiff/op.hpp"
#include "nabla/autodiff/parallel.hpp"
#include "nabla/autodiff/reduce.hpp"
#include "nabla/autodiff/tape.hpp"
#include "nabla/autodiff/thread_pool.hpp"
#include "nabla/autodiff/var.hpp"

#if __has_include("nabla/autodiff/tensor_var.hpp")
#include "nabla/autodiff/tensor.hpp"
#include "nabla/autodiff/tensor_custom.hpp"
#include "nabla/autodiff/tensor_dual.hpp"
#include "nabla/autodiff/tensor_var.hpp"
#endif
#if __has_include("nabla/autodiff/nn.hpp")
#include "nabla/autodiff/data_parallel.hpp"
#include "nabla/autodiff/layers.hpp"
#include "nabla/autodiff/nn.hpp"
#endif
#if __has_include("nabla/autodiff/idx.hpp")
#include "nabla/autodiff/idx.hpp"
#include "nabla/autodiff/npz.hpp"
#endif
