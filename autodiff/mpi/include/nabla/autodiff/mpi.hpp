// nabla::mpi — the MPI component (nabla-mpi): sums over data shards and training across ranks.
#pragma once

#include "nabla/autodiff/mpi_data_parallel.hpp"  // IWYU pragma: export
#include "nabla/autodiff/mpi_run.hpp"            // IWYU pragma: export
#include "nabla/autodiff/mpi_sum.hpp"            // IWYU pragma: export
