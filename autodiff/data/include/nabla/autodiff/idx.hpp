// nabla::data — reading IDX files (MNIST, Fashion-MNIST), gzip-compressed or not.
#pragma once

#include <string>
#include <vector>

#include "nabla/autodiff/tensor.hpp"

namespace nabla::data {

/// Reads an IDX file (plain or .gz) into a tensor of its shape, values converted to double
/// (bytes stay 0–255: scale them yourself). A gzip file is recognised by its magic number, not
/// its name; several concatenated gzip members are read as one stream. Dimensions of 0 are
/// valid (an empty tensor).
///
/// Any file is safe to pass: memory follows the bytes really in the file, never the header's
/// claim, and every problem is a nabla::Error naming the file, what was wrong and what was
/// expected.
/// @throws nabla::Error when the path is empty, a directory, missing or unreadable; when the
///   header is short, its magic number wrong, its type code unknown or its rank not 1 to
///   Shape::max_rank; when the product of the dimensions overflows; when the file ends before
///   the data its header promises; when the gzip stream is corrupt (bad compressed data, CRC-32
///   or length mismatch) or truncated; and when anything follows the data (extra bytes in a
///   plain file, in the gzip stream, or after it): a file longer than its header says is taken
///   as a wrong header, not silently cut.
///
/// Example:
///   nabla::Tensor images = nabla::data::read_idx("train-images-idx3-ubyte.gz");  // [60000, 28,
///   28]
Tensor read_idx(const std::string& path);

/// Reads a one-dimensional IDX file of integer labels (plain or .gz), of any IDX type.
/// @throws nabla::Error as read_idx(), when the file is not one-dimensional, or when a label is
///   not an integer in int's range (2.5, 1e300, NaN...): the message names its index and value.
std::vector<int> read_idx_labels(const std::string& path);

}  // namespace nabla::data
