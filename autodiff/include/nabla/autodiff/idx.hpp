// nabla::data — reading IDX files (MNIST, Fashion-MNIST), gzip-compressed or not.
#pragma once

#include <string>
#include <vector>

#include "nabla/autodiff/tensor.hpp"

namespace nabla::data {

/// Reads an IDX file (plain or .gz) into a tensor of its shape, values converted to double
/// (bytes stay 0–255: scale them yourself).
/// @throws nabla::Error when the file is missing, is not IDX, or is shorter than its header says.
///
/// Example:
///   nabla::Tensor images = nabla::data::read_idx("train-images-idx3-ubyte.gz");  // [60000, 28, 28]
Tensor read_idx(const std::string& path);

/// Reads a one-dimensional IDX file of integer labels (plain or .gz).
/// @throws nabla::Error as read_idx(), or when the file is not one-dimensional.
std::vector<int> read_idx_labels(const std::string& path);

}  // namespace nabla::data
