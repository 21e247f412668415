// The same quadratic bowl f(x, y) = ½(x² + 10y²) from the same start with a too-small, a
// too-large and a good learning rate; prints how each ends and writes the trajectories
// (learning_rate.csv) and a chart (learning_rate.svg: the three paths on the contour lines, and
// f per iteration on a logarithmic axis) into the working directory.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

#include "common/chart.hpp"

namespace {

struct Path {
  const char* label;
  double lr;
  const char* color;
  nabla::optim::Result result;
  std::vector<std::vector<double>> points;  // the start and every iterate
};

// Two panels: the paths on the contour lines of the bowl (clipped to x ∈ [−5, 5],
// y ∈ [−3, 3], equal scales), and f along each path on a logarithmic axis.
template <class F>
void write_chart(const std::vector<Path>& paths, const F& f) {
  chart::Chart plane{.title = "gradient descent paths on f(x, y) = ½(x² + 10y²)",
                     .x = {.label = "x (dimensionless)", .min = -5, .max = 5},
                     .y = {.label = "y (dimensionless)", .min = -3, .max = 3},
                     .legend = chart::Corner::top_right,
                     .width = 560,
                     .height = 380};
  for (const double level : {0.5, 2.0, 5.0, 10.0, 20.0}) {  // ½(x² + 10y²) = level
    chart::Series ellipse{
        .name = level == 0.5 ? "contours of f" : "", .color = "#bbbbbb", .width = 1};
    for (int k = 0; k <= 120; ++k) {
      const double t = 2 * std::numbers::pi * k / 120;
      ellipse.x.push_back(std::sqrt(2 * level) * std::cos(t));
      ellipse.y.push_back(std::sqrt(2 * level / 10) * std::sin(t));
    }
    plane.series.push_back(ellipse);
  }
  chart::Chart values{
      .title = "f along each path",
      .x = {.label = "iteration"},
      .y = {.label = "f(x, y) (dimensionless, log scale)", .scale = chart::Scale::log},
      .legend = chart::Corner::bottom_left,
      .width = 440,
      .height = 380};
  for (const Path& p : paths) {
    chart::Series path{.name = p.label, .color = p.color, .width = 1.5};
    chart::Series value = path;
    for (std::size_t k = 0; k < p.points.size(); ++k) {
      path.x.push_back(p.points[k][0]);
      path.y.push_back(p.points[k][1]);
      value.x.push_back(static_cast<double>(k));
      value.y.push_back(f(p.points[k]));
    }
    plane.series.push_back(path);
    values.series.push_back(value);
  }
  chart::write("learning_rate.svg", chart::svg({plane, values}));
}

}  // namespace

int main() {
  using namespace nabla::optim;
  const auto bowl = [](const auto& p) { return 0.5 * (p[0] * p[0] + 10.0 * p[1] * p[1]); };
  const std::vector<double> start = {-4.5, 1.5};
  // Along y the curvature is 10, so gradient descent is stable only for lr < 2/10 = 0.2.
  std::vector<Path> paths = {{"too small (lr = 0.002)", 0.002, "#0072b2", {}, {}},
                             {"too large (lr = 0.205)", 0.205, "#d55e00", {}, {}},
                             {"good (lr = 0.15)", 0.15, "#009e73", {}, {}}};
  std::FILE* csv = std::fopen("learning_rate.csv", "w");
  if (csv == nullptr) return 1;
  fmt::print(csv, "lr,iteration,x,y,f\n");
  for (Path& p : paths) {
    std::vector<std::vector<double>>& points = p.points;
    points = {start};
    p.result = minimize(bowl, start, GradientDescent{.lr = p.lr},
                        Stop{.grad_tol = 1e-6, .max_iterations = 150});
    // Re-run step by step to record the trajectory (the observer sees values, not points).
    auto opt = make_optimizer(GradientDescent{.lr = p.lr}, 2);
    std::vector<double> x = start, g(2);
    for (int k = 0; k < p.result.iterations; ++k) {
      nabla::gradient(bowl, x, g);
      opt->step(x, g);
      points.push_back(x);
    }
    for (std::size_t k = 0; k < points.size(); ++k)
      fmt::print(csv, "{},{},{:.10g},{:.10g},{:.10g}\n", p.lr, k, points[k][0], points[k][1],
                 bowl(points[k]));
    fmt::print("{:<24} {} after {} iterations: f = {:.4g} at ({:.4g}, {:.4g})\n", p.label,
               p.result.status, p.result.iterations, p.result.value, p.result.x[0], p.result.x[1]);
  }
  std::fclose(csv);
  write_chart(paths, bowl);
  fmt::print("wrote learning_rate.csv and learning_rate.svg\n");
  const bool shapes = paths[2].result.status == Status::gradient_converged &&
                      paths[0].result.status == Status::max_iterations &&
                      paths[1].result.value > bowl(start);
  return shapes ? 0 : 1;
}
