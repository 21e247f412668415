#include "nabla/autodiff/tensor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <new>

#include "nabla/autodiff/error.hpp"

namespace nabla {

Shape::Shape(std::span<const std::size_t> dims) {
  if (dims.size() > max_rank) {
    detail::fail("nabla::Shape",
                 fmt::format("{} dimensions given (expected at most {})", dims.size(), max_rank));
  }
  // The product of the non-zero dimensions is bounded (so strides never overflow either),
  // checked without overflowing: n <= max_size throughout.
  std::size_t n = 1;
  for (const std::size_t d : dims) {
    if (d == 0) continue;
    if (n > max_size / d) {
      detail::fail("nabla::Shape", fmt::format("[{}] has more than 2^57 elements (expected a "
                                               "product of the non-zero dimensions of at most "
                                               "{})",
                                               fmt::join(dims, ", "), max_size));
    }
    n *= d;
  }
  std::copy(dims.begin(), dims.end(), dims_.begin());
  rank_ = dims.size();
}

Tensor::Tensor(const Shape& shape, double fill) : shape_(shape) {
  try {
    data_.assign(shape.size(), fill);
  } catch (const std::bad_alloc&) {
    detail::fail("nabla::Tensor", fmt::format("out of memory allocating shape {} ({} values)",
                                              to_string(shape), shape.size()));
  }
}

std::size_t Shape::dim(std::ptrdiff_t k) const {
  const auto r = static_cast<std::ptrdiff_t>(rank_);
  if (k < -r || k >= r) {
    detail::fail("nabla::Shape::dim", fmt::format("axis {} is out of range for shape {} "
                                                  "(expected -{} <= axis < {})",
                                                  k, to_string(*this), r, r));
  }
  return dims_[static_cast<std::size_t>(k < 0 ? k + r : k)];
}

std::span<const double> detail::view_values(TensorView view, const char* function) {
  if (view.data() == nullptr && view.size() != 0) {
    detail::fail(function, fmt::format("the view has no data (got a null view of shape {}, {} "
                                       "element(s); expected a view of data: a default-"
                                       "constructed TensorView is rank 0 and points nowhere)",
                                       to_string(view.shape()), view.size()));
  }
  return view.span();
}

std::string to_string(const Shape& shape) {
  return fmt::format("[{}]", fmt::join(shape.dims(), ", "));
}

Tensor::Tensor(const Shape& shape, std::span<const double> values)
    : shape_(shape), data_(values.begin(), values.end()) {
  if (values.size() != shape.size()) {
    detail::fail("nabla::Tensor", fmt::format("{} values given for shape {} (expected {})",
                                              values.size(), to_string(shape), shape.size()));
  }
}

double& Tensor::at(std::span<const std::size_t> index) {
  if (index.size() != rank()) {
    detail::fail("nabla::Tensor::at", fmt::format("{} indices given for shape {} (expected {})",
                                                  index.size(), to_string(shape_), rank()));
  }
  std::size_t offset = 0;
  for (std::size_t k = 0; k < rank(); ++k) {
    if (index[k] >= shape_[k]) {
      detail::fail("nabla::Tensor::at", fmt::format("index [{}] is out of range for shape {}",
                                                    fmt::join(index, ", "), to_string(shape_)));
    }
    offset = offset * shape_[k] + index[k];
  }
  return data_[offset];
}

Tensor Tensor::reshaped(const Shape& shape) const& { return Tensor(*this).reshaped(shape); }

Tensor Tensor::reshaped(const Shape& shape) && {
  if (shape.size() != size()) {
    detail::fail("nabla::Tensor::reshaped",
                 fmt::format("cannot reshape {} ({} elements) to {} ({} elements); expected "
                             "the same number of elements",
                             to_string(shape_), size(), to_string(shape), shape.size()));
  }
  Tensor t(std::move(*this));
  t.shape_ = shape;
  return t;
}

namespace {
void print(std::string& out, TensorView t, std::size_t dim, std::size_t offset, std::size_t stride,
           std::size_t edge) {
  const std::size_t n = t.shape()[dim];
  if (n == 0) {
    out += "[]";
    return;
  }
  const std::size_t inner = stride / n;
  out += '[';
  for (std::size_t i = 0; i < n; ++i) {
    if (n > 2 * edge && i == edge) {
      out += "..., ";
      i = n - edge - 1;
      continue;
    }
    if (dim + 1 == t.rank()) {
      out += fmt::format("{:.6g}", t[offset + i]);
    } else {
      print(out, t, dim + 1, offset + i * inner, inner, edge);
    }
    if (i + 1 < n) out += ", ";
  }
  out += ']';
}
}  // namespace

std::string to_string(TensorView t, std::size_t edge) {
  (void)detail::view_values(t, "nabla::to_string");
  std::string out = fmt::format("Tensor{} ", to_string(t.shape()));
  if (t.rank() == 0) {
    out += fmt::format("{:.6g}", t[0]);
  } else {
    print(out, t, 0, 0, t.size(), std::max<std::size_t>(edge, 1));
  }
  return out;
}

}  // namespace nabla
