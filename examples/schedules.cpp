// The learning-rate schedules of nabla/optim/schedule.hpp over 1000 steps from a base rate of
// 0.1: prints the rate at a few steps and draws every schedule (schedules.svg, two panels:
// decays, and cycles with warm-up) into the working directory.
#include <nabla/optim.hpp>

#include <functional>
#include <string>
#include <vector>

#include "common/chart.hpp"

int main() {
  using namespace nabla::optim;
  struct Named {
    std::string name;
    std::function<double(long, double, double)> rate;
  };
  const std::vector<Named> decays = {
      {"StepDecay{300, 0.5}", StepDecay{.step_size = 300, .gamma = 0.5}},
      {"MultiStep{{400, 700}, 0.3}", MultiStep{.milestones = {400, 700}, .gamma = 0.3}},
      {"Exponential{0.997}", Exponential{.gamma = 0.997}},
      {"PolynomialDecay{1000, 2}", PolynomialDecay{.steps = 1000, .power = 2}}};
  const std::vector<Named> cycles = {
      {"CosineAnnealing{1000}", CosineAnnealing{.t_max = 1000}},
      {"CosineWarmRestarts{200, 2}", CosineWarmRestarts{.t_0 = 200, .t_mult = 2}},
      {"LinearWarmup{100, 0.1}", LinearWarmup{.steps = 100, .start_factor = 0.1}},
      {"OneCycle{0.1, 1000}", OneCycle{.max_lr = 0.1, .total_steps = 1000}}};
  const double base = 0.1;
  const auto panel = [&](const char* title, const std::vector<Named>& schedules) {
    chart::Chart c{.title = title,
                   .x = {.label = "step t"},
                   .y = {.label = "learning rate (base 0.1)", .min = 0, .max = 0.16},
                   .width = 500,
                   .height = 360};
    for (const Named& s : schedules) {
      chart::Series line{.name = s.name};
      fmt::print("{:<28}", s.name);
      for (long t = 0; t < 1000; ++t) {
        line.x.push_back(static_cast<double>(t));
        line.y.push_back(s.rate(t, base, 0));
        if (t % 250 == 0 || t == 999) fmt::print(" {:>9.3g}", line.y.back());
      }
      fmt::print("\n");
      c.series.push_back(line);
    }
    return c;
  };
  fmt::print("{:<28} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "learning rate at step", 0, 250, 500, 750,
             999);
  chart::write("schedules.svg",
               chart::svg({panel("decays", decays), panel("cosine cycles and warm-up", cycles)}));
  fmt::print("wrote schedules.svg\n");
}
