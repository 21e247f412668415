// The same quadratic bowl f(x, y) = ½(x² + 10y²) from the same start with a too-small, a
// too-large and a good learning rate; prints how each ends and writes the trajectories
// (learning_rate.csv) and a picture of the contour lines with the three paths
// (learning_rate.svg) into the working directory.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

namespace {

struct Path {
  const char* label;
  double lr;
  const char* color;
  nabla::optim::Result result;
};

// Maps plot coordinates to SVG pixels: x ∈ [−5, 5], y ∈ [−3, 3].
double px(double x) { return 40 + (x + 5) * 60; }
double py(double y) { return 40 + (3 - y) * 60; }

}  // namespace

int main() {
  using namespace nabla::optim;
  const auto bowl = [](const auto& p) { return 0.5 * (p[0] * p[0] + 10.0 * p[1] * p[1]); };
  const std::vector<double> start = {-4.5, 1.5};
  // Along y the curvature is 10, so gradient descent is stable only for lr < 2/10 = 0.2.
  std::vector<Path> paths = {{"too small (lr = 0.002)", 0.002, "#1f77b4", {}},
                             {"too large (lr = 0.205)", 0.205, "#d62728", {}},
                             {"good (lr = 0.15)", 0.15, "#2ca02c", {}}};
  std::FILE* csv = std::fopen("learning_rate.csv", "w");
  if (csv == nullptr) return 1;
  fmt::print(csv, "lr,iteration,x,y,f\n");
  for (Path& p : paths) {
    std::vector<std::vector<double>> points = {start};
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
    // The picture: contour ellipses once, then this path.
    static std::string svg;
    if (svg.empty()) {
      svg =
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"680\" height=\"470\" "
          "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"680\" height=\"470\" "
          "fill=\"white\"/>\n";
      for (double level : {0.5, 2.0, 5.0, 10.0, 20.0}) {  // ½(x² + 10y²) = level
        svg += fmt::format(
            "<ellipse cx=\"{}\" cy=\"{}\" rx=\"{:.1f}\" ry=\"{:.1f}\" "
            "fill=\"none\" stroke=\"#bbb\"/>\n",
            px(0), py(0), std::sqrt(2 * level) * 60, std::sqrt(2 * level / 10) * 60);
      }
    }
    std::string line;
    for (const auto& q : points) {
      if (std::abs(q[0]) > 5 || std::abs(q[1]) > 3.3) break;  // leaves the picture
      line += fmt::format("{:.1f},{:.1f} ", px(q[0]), py(q[1]));
    }
    svg +=
        fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>\n",
                    line, p.color);
    if (&p == &paths.back()) {
      for (std::size_t k = 0; k < paths.size(); ++k)
        svg += fmt::format("<text x=\"50\" y=\"{}\" fill=\"{}\">{}</text>\n", 20 + 15 * k,
                           paths[k].color, paths[k].label);
      svg += "</svg>\n";
      std::FILE* out = std::fopen("learning_rate.svg", "w");
      if (out == nullptr) return 1;
      std::fputs(svg.c_str(), out);
      std::fclose(out);
    }
  }
  std::fclose(csv);
  fmt::print("wrote learning_rate.csv and learning_rate.svg\n");
  const bool shapes = paths[2].result.status == Status::gradient_converged &&
                      paths[0].result.status == Status::max_iterations &&
                      paths[1].result.value > bowl(start);
  return shapes ? 0 : 1;
}
