// nabla::data — NumPy .npz archives: named float64 arrays that numpy.load reads and numpy.savez
// writes; and nn::save / nn::load for a Parameters set (and a model's buffers) in that format.
//
// An .npz file is a zip archive of .npy files, one per array ("<name>.npy"). Written: .npy format
// 1.0, '<f8' (float64, little-endian), C order, in "stored" (uncompressed) zip entries with
// zlib's CRC-32 (the data component links zlib). Read: .npy 1.0, 2.0 and 3.0 of '<f8' in C order,
// stored or deflated entries (numpy.savez and numpy.savez_compressed), zip64 extra fields.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "nabla/autodiff/tensor.hpp"

namespace nabla::data {

/// One array to write: its name (the archive entry is "<name>.npy"; empty: "arr_<position>", as
/// numpy.savez names positional arrays) and its values.
struct NpzArray {
  std::string name;  ///< the key numpy.load gives it
  TensorView value;  ///< float64 values in C order
};

/// One array read back.
struct NpzEntry {
  std::string name;  ///< the entry's name without ".npy"
  Tensor value;      ///< its values and shape
};

/// One array to load into: the name to look for and the buffer to fill (its shape is the shape
/// expected).
struct NpzTarget {
  std::string name;         ///< the key (empty: "arr_<position>")
  MutableTensorView value;  ///< filled with the entry's values
};

/// Writes the arrays to `path` as an .npz archive (first to "<path>.tmp", then renamed over
/// `path`, so a failed write leaves an existing file as it was).
/// @throws nabla::Error for duplicate names, an archive beyond zip's 4 GiB / 65535 entries, or a
/// file that cannot be written (the system's reason is given).
void write_npz(const std::string& path, std::span<const NpzArray> arrays);

/// Every array of the .npz archive at `path`, in the archive's order.
/// @throws nabla::Error naming the file and entry for anything that is not a valid archive of
/// float64 C-order .npy arrays: missing or unreadable file, truncated or corrupt zip structure,
/// CRC-32 mismatch, encrypted or unsupported compression, a bad .npy header, another dtype
/// (e.g. '<f4'), Fortran order, or data shorter or longer than the shape says.
std::vector<NpzEntry> read_npz(const std::string& path);

/// Fills each target from the entry of its name in the .npz archive at `path`, all or nothing:
/// every check is made before any target is written.
/// @throws nabla::Error (as read_npz, and) for a missing entry, an entry whose shape differs
/// from the target's (naming the entry, the expected and the found shape), or an entry in the
/// file that no target names, or two targets of one name.
void load_npz(const std::string& path, std::span<const NpzTarget> targets);

}  // namespace nabla::data

#if __has_include("nabla/autodiff/layers.hpp")
#include "nabla/autodiff/layers.hpp"
#include "nabla/autodiff/nn.hpp"

namespace nabla::nn {

namespace npz_detail {
// The parameters (and the model's buffers) as named views, in the set's order.
inline std::vector<data::NpzTarget> npz_targets(Parameters& params, Module* model) {
  std::vector<data::NpzTarget> t;
  for (std::size_t k = 0; k < params.count(); ++k) {
    const Parameter p = params.at(k);
    t.push_back({p.name(), p.value()});
  }
  if (model != nullptr) {
    std::vector<std::pair<std::string, MutableTensorView>> buffers;
    model->buffers(buffers);
    for (auto& [name, view] : buffers) t.push_back({std::move(name), view});
  }
  return t;
}
inline void npz_save(Parameters& params, Module* model, const std::string& path) {
  std::vector<data::NpzArray> arrays;
  for (data::NpzTarget& t : npz_targets(params, model))
    arrays.push_back({std::move(t.name), t.value});
  data::write_npz(path, arrays);
}
}  // namespace npz_detail

/// Saves every parameter of the set to `path` as a NumPy .npz archive, one float64 array per
/// parameter under its name ("arr_<k>" for an unnamed one): numpy.load(path)["W"].
/// @throws nabla::Error as data::write_npz.
inline void save(Parameters& params, const std::string& path) {
  npz_detail::npz_save(params, nullptr, path);
}
/// Saves the parameters and the model's buffers (BatchNorm1d's running statistics).
/// @throws nabla::Error as data::write_npz.
inline void save(Parameters& params, Module& model, const std::string& path) {
  npz_detail::npz_save(params, &model, path);
}
/// Loads every parameter of the set from the .npz archive at `path` (as written by save or by
/// numpy.savez with the same names and shapes), all or nothing.
/// @throws nabla::Error as data::load_npz: a missing name, a shape mismatch (the entry, the
/// expected and the found shape), an entry no parameter names, a corrupt or truncated file.
inline void load(Parameters& params, const std::string& path) {
  data::load_npz(path, npz_detail::npz_targets(params, nullptr));
}
/// Loads the parameters and the model's buffers.
/// @throws nabla::Error as data::load_npz.
inline void load(Parameters& params, Module& model, const std::string& path) {
  data::load_npz(path, npz_detail::npz_targets(params, &model));
}

}  // namespace nabla::nn
#endif
