// Exercises examples/common/chart.hpp on data that is hard to draw — several series, no data,
// one point, NaN and ±∞, magnitudes from 1e-300 to 1e300, negative ranges, logarithmic axes
// with values ≤ 0, fixed limits with points far outside, text that needs escaping — and writes
// one SVG per case into the working directory (tests/check_svg.py renders and checks them).
// Also checks that bad input throws nabla::Error. Exits 1 on a failure.
#include "chart.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr double nan_ = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

chart::Chart base(std::string title) {
  return {.title = std::move(title),
          .x = {.label = "x (units)"},
          .y = {.label = "y (units)"},
          .series = {}};
}

// Two named series from the given values (y2 defaults to y with the sign flipped).
chart::Chart pair(std::string title, const std::vector<double>& x, const std::vector<double>& y) {
  chart::Chart c = base(std::move(title));
  std::vector<double> flipped;
  for (const double v : y) flipped.push_back(-v);
  c.series = {{.name = "first", .x = x, .y = y, .markers = true},
              {.name = "second", .x = x, .y = flipped, .dashed = true}};
  return c;
}

bool throws(const chart::Chart& c, const char* what) {
  try {
    (void)chart::svg(c);
  } catch (const nabla::Error& e) {
    fmt::print("bad input rejected ({}): {}\n", what, e.what());
    return true;
  }
  fmt::print(stderr, "bad input accepted: {}\n", what);
  return false;
}

}  // namespace

int main() {
  std::vector<std::pair<std::string, chart::Chart>> cases;
  {
    chart::Chart c = base("five series & <escaping> \"quotes\" 'too'");
    for (int k = 0; k < 5; ++k) {
      chart::Series s{.name = fmt::format("series {} <{}>", k, k)};
      for (int i = 0; i <= 40; ++i) {
        s.x.push_back(i * 0.25);
        s.y.push_back(std::sin(i * 0.25 + k) * (k + 1));
      }
      c.series.push_back(s);
    }
    cases.emplace_back("several", c);
  }
  {
    chart::Chart c = base("no data at all");
    c.series = {{.name = "empty"}, {.name = "also empty"}};
    cases.emplace_back("empty", c);
    chart::Chart none = base("no series");
    none.always_legend = true;
    cases.emplace_back("no_series", none);
  }
  cases.emplace_back("single_point", pair("one point", {3}, {7}));
  cases.emplace_back("zero_point", pair("one point at zero", {0}, {0}));
  cases.emplace_back("nan_inf", pair("NaN and infinities", {0, 1, 2, 3, 4, 5, 6, 7},
                                     {1, nan_, 2, inf, 3, -inf, nan_, 4}));
  cases.emplace_back("all_nan", pair("only NaN", {nan_, nan_}, {nan_, inf}));
  cases.emplace_back("huge", pair("huge values", {1, 2, 3}, {1e300, -1e300, 5e299}));
  cases.emplace_back("tiny",
                     pair("tiny values", {1e-300, 2e-300, 3e-300}, {1e-300, 3e-300, 2e-300}));
  cases.emplace_back("subnormal", pair("subnormal values", {0, 1}, {5e-324, 1e-323}));
  cases.emplace_back("beyond", pair("beyond 1e300", {-1e308, 0, 1e308}, {1.7e308, 1, -1.7e308}));
  cases.emplace_back("mixed",
                     pair("1e-300 next to 1e300", {1, 2, 3, 4}, {1e-300, 1e300, -1e-300, 1}));
  cases.emplace_back("negative", pair("negative ranges", {-9, -8, -7}, {-1000, -1200, -1100}));
  cases.emplace_back("constant", pair("constant data", {1, 2, 3}, {1e10, 1e10, 1e10}));
  cases.emplace_back("narrow", pair("narrow range", {1, 2, 3}, {1, 1 + 1e-15, 1 + 2e-15}));
  {
    chart::Chart c =
        pair("log axes with values ≤ 0", {1, 10, 100, 1000, 1e4}, {1e-3, -1, 0, 5, 1e6});
    c.x.scale = chart::Scale::log;
    c.y.scale = chart::Scale::log;
    c.series[1].y = {1e-300, 1e300, 1, 1e-10, 1e10};
    cases.emplace_back("log", c);
    chart::Chart narrow = pair("log axis within a decade", {1, 2, 3}, {3, 4, 7});
    narrow.y.scale = chart::Scale::log;
    narrow.series[1].y = {5, 6, 6.5};
    cases.emplace_back("log_narrow", narrow);
    chart::Chart empty = base("log axes, no positive values");
    empty.x.scale = empty.y.scale = chart::Scale::log;
    empty.series = {{.name = "a", .x = {-1, 0}, .y = {0, -2}}, {.name = "b"}};
    cases.emplace_back("log_empty", empty);
  }
  {
    chart::Chart c = pair("fixed limits, points far outside", {-100, 0, 0.5, 1e200, 2},
                          {0, 0.5, 1e250, 0.2, -3e300});
    c.x.min = -1, c.x.max = 1, c.y.min = -1, c.y.max = 1;
    c.legend = chart::Corner::bottom_left;
    cases.emplace_back("limits", c);
    chart::Chart one = pair("one limit, data beyond it", {1, 2}, {5, 6});
    one.y.max = 0;
    one.legend = chart::Corner::top_left;
    cases.emplace_back("one_limit", one);
  }
  {
    std::vector<chart::Chart> row = {pair("left panel", {1, 2}, {3, 4}),
                                     pair("right panel", {-1, 0}, {nan_, 1})};
    row[1].legend = chart::Corner::bottom_right;
    chart::write("panels.svg", chart::svg(row));
  }
  for (const auto& [name, c] : cases) chart::write(name + ".svg", chart::svg(c));

  bool ok = true;
  chart::Chart bad = base("bad");
  bad.series = {{.name = "s", .x = {1, 2}, .y = {1}}};
  ok = throws(bad, "x and y of different lengths") && ok;
  bad = base("bad");
  bad.x.min = 2, bad.x.max = 1;
  ok = throws(bad, "min above max") && ok;
  bad = base("bad");
  bad.y.min = nan_;
  ok = throws(bad, "a NaN limit") && ok;
  bad = base("bad");
  bad.y.scale = chart::Scale::log, bad.y.min = 0;
  ok = throws(bad, "a log axis limit at 0") && ok;
  bad = base("bad");
  bad.width = 50;
  ok = throws(bad, "too small") && ok;
  try {
    chart::write("/nonexistent-directory/x.svg", "<svg/>");
    ok = false;
  } catch (const nabla::Error& e) {
    fmt::print("unwritable file rejected: {}\n", e.what());
  }
  try {
    (void)chart::svg(std::vector<chart::Chart>{});
    ok = false;
  } catch (const nabla::Error& e) {
    fmt::print("no charts rejected: {}\n", e.what());
  }
  fmt::print("wrote {} SVG files\n", cases.size() + 1);
  return ok ? 0 : 1;
}
