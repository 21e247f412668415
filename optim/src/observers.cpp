#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "nabla/autodiff/error.hpp"
#include "nabla/optim/minimize.hpp"

namespace nabla::optim {

Observer operator|(Observer a, Observer b) {
  Observer both;
  both.record_history = a.record_history || b.record_history;
  if (a.callback || b.callback) {
    both.callback = [a = std::move(a.callback), b = std::move(b.callback)](const Iteration& it) {
      const bool go_a = !a || a(it);
      const bool go_b = !b || b(it);
      return go_a && go_b;
    };
  }
  if (a.on_finish || b.on_finish) {
    both.on_finish = [a = std::move(a.on_finish), b = std::move(b.on_finish)](const Result& r) {
      if (a) a(r);
      if (b) b(r);
    };
  }
  return both;
}

Observer history(std::function<bool(const Iteration&)> then) {
  Observer o;
  o.callback = std::move(then);
  o.record_history = true;
  return o;
}

Observer progress(int every, std::FILE* out) {
  const bool terminal = isatty(fileno(out)) != 0;
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  Observer o;
  o.callback = [terminal, every, last, out](const Iteration& it) {
    const auto now = std::chrono::steady_clock::now();
    if (terminal) {
      if (now - *last < std::chrono::milliseconds(100)) return true;
      *last = now;
      // A bar of the iteration budget, then the numbers.
      // In 64 bits: 20·iteration overflows an int past ~1e8 iterations (a negative width
      // made fmt throw); clamped to the bar, whatever the Iteration says.
      const int width = 20;
      const long long share = it.max_iterations > 0 ? 20LL * it.iteration / it.max_iterations : 0;
      const int filled = static_cast<int>(std::clamp<long long>(share, 0, width));
      fmt::print(out,
                 "\r\x1b[2K[{:#<{}}{:.<{}}] {:>7}/{}  f = {:<14.8g} |grad| = {:<10.3g} "
                 "lr = {:<9.3g} {:.1f} s",
                 "", filled, "", width - filled, it.iteration, it.max_iterations, it.value,
                 it.grad_norm, it.lr, it.elapsed_s);
      std::fflush(out);
    } else if (every > 0 && it.iteration % every == 0) {
      fmt::print(out,
                 "iteration {} f = {:.10g} |grad| = {:.3g} lr = {:.3g} evaluations = {} {:.2f} s\n",
                 it.iteration, it.value, it.grad_norm, it.lr, it.evaluations, it.elapsed_s);
    }
    return true;
  };
  o.on_finish = [terminal, out](const Result& r) {
    fmt::print(out, "{}{} after {} iterations ({} evaluations): f = {:.10g}, |grad| = {:.3g}\n",
               terminal ? "\r\x1b[2K" : "", to_string(r.status), r.iterations, r.evaluations,
               r.value, r.grad_norm);
  };
  return o;
}

Observer csv(const std::string& path) {
  std::shared_ptr<std::FILE> file(std::fopen(path.c_str(), "w"), [](std::FILE* f) {
    if (f != nullptr) std::fclose(f);
  });
  if (!file) {
    nabla::detail::fail(
        "nabla::optim::csv",
        fmt::format("cannot open '{}' for writing (expected a writable path)", path));
  }
  fmt::print(file.get(), "iteration,value,grad_norm,step,lr,evaluations,elapsed_s\n");
  Observer o;
  o.callback = [file](const Iteration& it) {
    fmt::print(file.get(), "{},{:.17g},{:.17g},{:.17g},{:.17g},{},{:.6f}\n", it.iteration, it.value,
               it.grad_norm, it.step, it.lr, it.evaluations, it.elapsed_s);
    return true;
  };
  o.on_finish = [file](const Result&) { std::fflush(file.get()); };
  return o;
}

}  // namespace nabla::optim
