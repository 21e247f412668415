#include "nabla/autodiff/data_parallel.hpp"

#include <fmt/format.h>

#include "nabla/autodiff/error.hpp"

namespace nabla::nn {

namespace {
// Sets this thread's gradient redirect for a scope, restoring the previous one (a nested
// DataParallel run inline on a worker: Note [Thread pool]).
class Redirect {
 public:
  explicit Redirect(const detail::GradientRedirect& r) : previous_(detail::gradient_redirect) {
    detail::gradient_redirect = &r;
  }
  ~Redirect() { detail::gradient_redirect = previous_; }
  Redirect(const Redirect&) = delete;
  Redirect& operator=(const Redirect&) = delete;

 private:
  const detail::GradientRedirect* previous_;
};
}  // namespace

double DataParallel::run(const Shards& shards, const std::function<Var(Shard)>& loss) {
  const void* storage = params_->storage_.get();
  return sums_.run(function, *pool_, shards.count(), params_->gradients(),
                   [&](std::size_t k, std::span<double> row) {
                     std::fill(row.begin(), row.end(), 0.0);  // sweeps add into it
                     const detail::GradientRedirect target{storage, row.data()};
                     const Redirect redirect(target);
                     const detail::RewindGuard recording;  // rewinds also when loss throws
                     return detail::backward_loss(loss(shards[k]));
                   });
}

void DataParallel::check_sizes(std::size_t x, std::size_t g) const {
  if (x != params_->size() || g != params_->size()) {
    detail::fail(function, fmt::format("x has {} entries and g {} for a set of {} parameters "
                                       "(expected {} each)",
                                       x, g, params_->size(), params_->size()));
  }
}

}  // namespace nabla::nn
