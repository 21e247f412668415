// nabla — Tensor: dense, row-major, N-d arrays of doubles (plain data, nothing recorded).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <new>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace nabla {

/// The dimensions of a tensor (rank 0 to 8). A rank-0 shape is a scalar with one element.
class Shape {
 public:
  /// Most dimensions a shape can have.
  static constexpr std::size_t max_rank = 8;
  /// Most elements a shape can have (2⁵⁷: its bytes, and every product of dimensions, fit in
  /// a size_t with room to spare).
  static constexpr std::size_t max_size = std::size_t{1} << 57;

  /// The rank-0 (scalar) shape.
  constexpr Shape() noexcept = default;
  /// A shape from its dimensions, e.g. `Shape{64, 784}`.
  /// @throws nabla::Error beyond max_rank dimensions or max_size elements.
  Shape(std::initializer_list<std::size_t> dims) : Shape(std::span<const std::size_t>(dims)) {}
  /// A shape from its dimensions.
  /// @throws nabla::Error beyond max_rank dimensions or max_size elements.
  explicit Shape(std::span<const std::size_t> dims);

  /// Number of dimensions.
  [[nodiscard]] constexpr std::size_t rank() const noexcept { return rank_; }
  /// Dimension k (0 ≤ k < rank()).
  [[nodiscard]] constexpr std::size_t operator[](std::size_t k) const noexcept { return dims_[k]; }
  /// Dimension k; negative k counts from the end (−1 is the last).
  /// @throws nabla::Error when k is out of range.
  [[nodiscard]] std::size_t dim(std::ptrdiff_t k) const;
  /// Number of elements (the product of the dimensions; 1 for rank 0; never overflows: the
  /// constructor checks it against max_size).
  [[nodiscard]] constexpr std::size_t size() const noexcept {
    std::size_t n = 1;
    for (std::size_t k = 0; k < rank_; ++k) n *= dims_[k];
    return n;
  }
  /// The dimensions as a span.
  [[nodiscard]] std::span<const std::size_t> dims() const noexcept { return {dims_.data(), rank_}; }
  /// Iteration over the dimensions.
  [[nodiscard]] const std::size_t* begin() const noexcept { return dims_.data(); }
  /// @copydoc begin
  [[nodiscard]] const std::size_t* end() const noexcept { return dims_.data() + rank_; }
  /// Equal ranks and dimensions.
  friend bool operator==(const Shape& a, const Shape& b) noexcept {
    return a.rank_ == b.rank_ && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  std::array<std::size_t, max_rank> dims_{};
  std::size_t rank_ = 0;
};

/// "[64, 784]" (and "[]" for a scalar).
std::string to_string(const Shape& shape);

/// A read-only (T = const double) or writable (T = double) view of contiguous row-major data.
template <class T>
class BasicTensorView {
 public:
  BasicTensorView() = default;
  /// A view of `data` with the given shape (data must hold shape.size() values).
  BasicTensorView(T* data, const Shape& shape) noexcept : data_(data), shape_(shape) {}
  /// A writable view converts to a read-only one.
  template <class U>
  requires std::is_convertible_v<U*, T*> BasicTensorView(const BasicTensorView<U>& v)
  noexcept : data_(v.data()), shape_(v.shape()) {}

  /// The first value.
  [[nodiscard]] T* data() const noexcept { return data_; }
  /// The dimensions.
  [[nodiscard]] const Shape& shape() const noexcept { return shape_; }
  /// Number of values.
  [[nodiscard]] std::size_t size() const noexcept { return shape_.size(); }
  /// Number of dimensions.
  [[nodiscard]] std::size_t rank() const noexcept { return shape_.rank(); }
  /// The values in row-major order.
  [[nodiscard]] std::span<T> span() const noexcept { return {data_, size()}; }
  /// Element i of the row-major order.
  [[nodiscard]] T& operator[](std::size_t i) const noexcept { return data_[i]; }
  /// The element at a multi-index (one index per dimension; not checked).
  template <class... I>
  [[nodiscard]] T& operator()(I... i) const noexcept {
    const std::size_t idx[] = {static_cast<std::size_t>(i)...};
    std::size_t offset = 0;
    for (std::size_t k = 0; k < sizeof...(I); ++k) offset = offset * shape_[k] + idx[k];
    return data_[offset];
  }

 private:
  T* data_ = nullptr;
  Shape shape_;
};

/// A read-only view of tensor data.
using TensorView = BasicTensorView<const double>;
/// A writable view of tensor data.
using MutableTensorView = BasicTensorView<double>;

namespace detail {
/// The view's values; throws nabla::Error naming `function` when the view has elements but no
/// data (a default-constructed view is rank 0, one element, and points nowhere).
std::span<const double> view_values(TensorView view, const char* function);
}  // namespace detail

namespace detail {
/// std::allocator with 64-byte alignment (a cache line; AVX-512 loads).
template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete (p, std::align_val_t{64}); }
  template <class U>
  friend bool operator==(const AlignedAllocator&, const AlignedAllocator<U>&) noexcept {
    return true;
  }
};
}  // namespace detail

/// A dense, row-major N-d array of doubles with value semantics (copies copy the data), its
/// storage aligned to 64 bytes. Plain data: nothing is recorded (see TensorVar for that).
///
/// Example:
///   nabla::Tensor a({2, 3}, {1, 2, 3, 4, 5, 6});
///   a(1, 2) = 7.0;                       // row 1, column 2
///   fmt::print("{}\n", a);               // shape and values (format.hpp)
class Tensor {
 public:
  /// A rank-0 tensor holding 0.
  Tensor() : data_(1, 0.0) {}
  /// A tensor of the given shape filled with `fill`.
  /// @throws nabla::Error when memory for it cannot be allocated.
  explicit Tensor(const Shape& shape, double fill = 0.0);
  /// A tensor of the given shape with the given values (row-major).
  /// @throws nabla::Error when the number of values is not shape.size().
  Tensor(const Shape& shape, std::span<const double> values);
  /// A tensor of the given shape with the given values (row-major).
  /// @throws nabla::Error when the number of values is not shape.size().
  Tensor(const Shape& shape, std::initializer_list<double> values)
      : Tensor(shape, std::span<const double>(values.begin(), values.size())) {}
  /// A copy of a view's data.
  /// @throws nabla::Error when the view has elements but no data (a default-constructed view).
  explicit Tensor(TensorView view)
      : Tensor(view.shape(), detail::view_values(view, "nabla::Tensor")) {}

  /// The dimensions.
  [[nodiscard]] const Shape& shape() const noexcept { return shape_; }
  /// Number of values.
  [[nodiscard]] std::size_t size() const noexcept { return data_.size(); }
  /// Number of dimensions.
  [[nodiscard]] std::size_t rank() const noexcept { return shape_.rank(); }
  /// The values, row-major (64-byte aligned).
  [[nodiscard]] double* data() noexcept { return data_.data(); }
  /// @copydoc data()
  [[nodiscard]] const double* data() const noexcept { return data_.data(); }
  /// The values as a span, row-major.
  [[nodiscard]] std::span<double> span() noexcept { return data_; }
  /// @copydoc span()
  [[nodiscard]] std::span<const double> span() const noexcept { return data_; }
  /// Value i of the row-major order.
  [[nodiscard]] double& operator[](std::size_t i) noexcept { return data_[i]; }
  /// @copydoc operator[](std::size_t)
  [[nodiscard]] double operator[](std::size_t i) const noexcept { return data_[i]; }
  /// The element at a multi-index (not checked; see at() for a checked access).
  template <class... I>
  [[nodiscard]] double& operator()(I... i) noexcept {
    return MutableTensorView(*this)(i...);
  }
  /// @copydoc operator()(I...)
  template <class... I>
  [[nodiscard]] double operator()(I... i) const noexcept {
    return TensorView(*this)(i...);
  }
  /// The element at a multi-index, checked.
  /// @throws nabla::Error when the number of indices is not the rank or one is out of range.
  [[nodiscard]] double& at(std::span<const std::size_t> index);

  /// The same data with another shape of the same size.
  /// @throws nabla::Error when the sizes differ.
  [[nodiscard]] Tensor reshaped(const Shape& shape) const&;
  /// @copydoc reshaped
  [[nodiscard]] Tensor reshaped(const Shape& shape) &&;

  /// A read-only view of the data.
  operator TensorView() const noexcept { return {data_.data(), shape_}; }  // NOLINT: implicit
  /// A writable view of the data.
  operator MutableTensorView() noexcept { return {data_.data(), shape_}; }  // NOLINT: implicit

  /// Equal shapes and values.
  friend bool operator==(const Tensor& a, const Tensor& b) noexcept {
    return a.shape_ == b.shape_ && a.data_ == b.data_;
  }

 private:
  Shape shape_;
  std::vector<double, detail::AlignedAllocator<double>> data_;
};

/// The shape and values, with at most `edge` values shown at each end of every dimension:
/// "Tensor[2, 3] [[1, 2, 3], [4, 5, 6]]".
std::string to_string(TensorView t, std::size_t edge = 3);

}  // namespace nabla
