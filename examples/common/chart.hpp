// A small SVG line-chart writer for the examples: axes with "nice" ticks (1, 2, 5 × 10^k) and
// their values, a logarithmic axis when asked, axis labels, a title, a legend box, and clipping
// to the plot area. Header-only; every example that draws a chart uses it, and
// tests/chart/chart_stress.cpp with tests/check_svg.py checks what it writes.
//
//   chart::Chart c{.title = "loss", .x = {.label = "epoch"}, .y = {.label = "loss (nats)"}};
//   c.series.push_back({.name = "training", .x = {1, 2, 3}, .y = {0.9, 0.5, 0.4}});
//   chart::write("loss.svg", chart::svg(c));
//
// Robustness: NaN and ±∞ values, values ≤ 0 on a logarithmic axis, and points whose position
// overflows a double are gaps in their line; lines are clipped to the plot area; an empty
// chart, a single point and constant data still get a sensible range. The output never holds
// a non-finite coordinate.
#pragma once

#include <nabla/autodiff/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chart {

/// How an axis maps values to positions.
enum class Scale { linear, log };

/// One axis: its label (name and unit, e.g. "time (ns)"), scale and optional fixed limits
/// (without them the axis spans the data, widened to whole tick steps).
struct Axis {
  std::string label = {};
  Scale scale = Scale::linear;
  std::optional<double> min = {}, max = {};
};

/// One line of a chart: (x[i], y[i]) joined in order. A series without a name is left out of
/// the legend; an empty colour takes the next colour of the palette. Every member has a default,
/// so designated initializers name only what they set.
struct Series {
  std::string name = {};
  std::vector<double> x = {}, y = {};
  std::string color = {};
  double width = 2;      ///< stroke width in pixels
  bool markers = false;  ///< a dot on every point
  bool dashed = false;
};

/// Where the legend box goes inside the plot area.
enum class Corner { top_right, top_left, bottom_right, bottom_left };

/// A chart: a title, two axes, the series and the size in pixels. The legend lists the named
/// series; it is drawn when there are two or more of them (or one, with `always_legend`).
struct Chart {
  std::string title = {};
  Axis x = {}, y = {};
  std::vector<Series> series = {};
  Corner legend = Corner::top_right;
  bool always_legend = false;
  int width = 480, height = 340;
};

namespace detail {

/// The palette for series without a colour (colour-blind safe, after Okabe and Ito).
inline constexpr std::string_view palette[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                               "#e69f00", "#56b4e9", "#000000", "#f0e442"};
/// Finite values beyond this magnitude do not widen an automatic axis (their differences
/// would overflow); they are drawn as points far outside, clipped away.
inline constexpr double max_magnitude = 1e300;
inline constexpr double font_size = 12;

/// Text for SVG character data and attribute values: the five XML specials escaped, control
/// characters that XML 1.0 forbids replaced by '?'.
inline std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 && c != '\t' && c != '\n' && c != '\r') ? '?' : c;
      }
    }
  }
  return out;
}

/// An estimate of the rendered width of a text in pixels (UTF-8 code points × average width).
inline double text_width(std::string_view text, double size = font_size) {
  std::size_t points = 0;
  for (const char c : text) points += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return 0.6 * size * static_cast<double>(points);
}

/// 10^e for any integer exponent a double can hold (std::pow(10, e) may be inexact but is
/// within an ulp; an exponent below the subnormal range gives 0).
inline double pow10(int e) { return std::pow(10.0, static_cast<double>(e)); }

/// The "nice" step (1, 2 or 5 × 10^k) nearest to `raw` (> 0, finite): raw/10^k below 1.5
/// gives 1, below 3 gives 2, below 7 gives 5, else 10 (so range/5 gives 4 to 7 intervals).
inline double nice_step(double raw) {
  int e = static_cast<int>(std::floor(std::log10(raw)));
  // raw / 10^e in [1, 10), computed in two stages near the ends of the double range.
  double f = e < -290 ? (raw * 1e300) / pow10(e + 300) : raw / pow10(e);
  double m = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  if (m == 10) m = 1, ++e;
  return e < -290 ? m * pow10(e + 300) * 1e-300 : m * pow10(e);
}

/// Tick labels that tell the ticks apart with as few digits as possible: fixed notation with
/// the decimals of the step (1, 2 or 5 × 10^k) between 1e-4 and 1e6, otherwise "%g" with 1 to
/// 17 significant digits and a short exponent ("1e-05" becomes "1e-5").
inline std::vector<std::string> tick_labels(const std::vector<double>& values, double step) {
  double largest = 0;
  for (const double v : values) largest = std::max(largest, std::abs(v));
  const bool fixed = largest < 1e6 && step >= 1e-4;
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  std::vector<std::string> labels(values.size());
  for (int digits = 1; digits <= 17; ++digits) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (fixed) {
        labels[i] = fmt::format("{:.{}f}", values[i], decimals + digits - 1);
        continue;
      }
      std::string s = fmt::format("{:.{}g}", values[i], digits);
      if (const auto e = s.find('e'); e != std::string::npos) {
        std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
        const bool negative = exponent[0] == '-';
        exponent.erase(0, exponent.find_first_not_of("+-0"));
        s = mantissa + "e" + (negative ? "-" : "") + (exponent.empty() ? "0" : exponent);
      }
      labels[i] = s;
    }
    bool distinct = true;
    for (std::size_t i = 1; i < labels.size(); ++i)
      distinct = distinct && labels[i] != labels[i - 1];
    if (distinct) break;
  }
  return labels;
}

/// One axis, resolved: its range in axis units (log10 of the value on a log axis), the ticks
/// with their labels, and the minor ticks (log axes).
struct Resolved {
  Scale scale = Scale::linear;
  double lo = 0, hi = 1;             // axis units
  std::vector<double> ticks, minor;  // axis units
  std::vector<std::string> labels;

  /// The position of a point given in axis units, 0 at lo and 1 at hi.
  double at(double a) const { return (a - lo) / (hi - lo); }

  /// A value's position along the axis, 0 at lo and 1 at hi; NaN for a gap (a non-finite
  /// value, a value ≤ 0 on a log axis, a position that overflows).
  double unit(double v) const {
    if (!std::isfinite(v) || (scale == Scale::log && v <= 0)) return std::nan("");
    const double a = scale == Scale::log ? std::log10(v) : v;
    const double u = at(a);
    return std::isfinite(u) ? u : std::nan("");
  }
};

/// Chooses the range and ticks of one axis from its settings and the values of all series.
inline Resolved resolve(const Axis& axis, const std::vector<const std::vector<double>*>& data,
                        std::string_view which) {
  const bool log = axis.scale == Scale::log;
  for (const auto& limit : {axis.min, axis.max}) {
    if (limit && (!std::isfinite(*limit) || std::abs(*limit) > max_magnitude))
      throw nabla::Error("chart::svg", fmt::format("the {} axis limit {} is not a finite number "
                                                   "of magnitude at most 1e300",
                                                   which, *limit));
    if (limit && log && *limit <= 0)
      throw nabla::Error(
          "chart::svg",
          fmt::format("the {} axis is logarithmic but has the limit {} (≤ 0)", which, *limit));
  }
  if (axis.min && axis.max && !(*axis.min < *axis.max))
    throw nabla::Error("chart::svg", fmt::format("the {} axis has min {} not below max {}", which,
                                                 *axis.min, *axis.max));
  // The data's extent in axis units.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto* values : data)
    for (const double v : *values)
      if (std::isfinite(v) && std::abs(v) <= max_magnitude && (!log || v > 0)) {
        const double a = log ? std::log10(v) : v;
        lo = std::min(lo, a), hi = std::max(hi, a);
      }
  const auto to_axis = [&](double v) { return log ? std::log10(v) : v; };
  if (axis.min) lo = to_axis(*axis.min);
  if (axis.max) hi = to_axis(*axis.max);
  if (lo > hi) {  // no data: a unit range (a decade on a log axis) next to a given limit
    lo = axis.max ? hi - 1 : axis.min ? lo : 0;
    hi = lo + 1;
  }
  // Constant data gets half its order of magnitude on either side (±1 around 0).
  if (lo == hi && !log && !axis.min && !axis.max) {
    const double pad =
        lo == 0 ? 1 : 0.5 * pow10(static_cast<int>(std::floor(std::log10(std::abs(lo)))));
    lo -= pad, hi += pad;
  }
  // A range narrower than 1e-9 of its magnitude (or 1e-300) is widened around its middle: no
  // chart resolves less, and the ticks stay distinct doubles.
  const double mid = lo / 2 + hi / 2, least = std::max(std::abs(mid) * 1e-9, 1e-300);
  if (hi - lo < least) {
    if (!axis.min && !axis.max)
      lo = mid - least, hi = mid + least;
    else if (!axis.max)
      hi = lo + least;
    else if (!axis.min)
      lo = hi - least;
  }
  Resolved r{.scale = axis.scale, .lo = lo, .hi = hi, .ticks = {}, .minor = {}, .labels = {}};
  if (log) {
    // Ticks on whole decades (every 1, 2, 5, 10... decades), minor ticks at 2..9 × 10^k; on
    // an axis of at most two decades the ticks at 2 and 5 × 10^k get values too.
    if (!axis.min) r.lo = std::floor(r.lo);
    if (!axis.max) r.hi = std::ceil(r.hi);
    if (r.hi - r.lo < 1 && !axis.min) r.lo = r.hi - 1;
    if (r.hi - r.lo < 1 && !axis.max) r.hi = r.lo + 1;
    const double step = std::max(1.0, nice_step((r.hi - r.lo) / 6));
    const bool minor = step == 1 && r.hi - r.lo <= 6, labelled_2_5 = step == 1 && r.hi - r.lo <= 2;
    const auto label = [](int mantissa, int e) {
      return e >= -3 && e <= 4 ? fmt::format("{:g}", mantissa * pow10(e))
                               : fmt::format("{}e{}", mantissa, e);
    };
    for (double k = std::floor(r.lo / step) * step; k <= r.hi + 1e-9; k += step) {
      for (int m = 1; m <= (minor ? 9 : 1); ++m) {
        const double a = k + std::log10(m);
        if (a < r.lo - 1e-9 || a > r.hi + 1e-9) continue;
        if (m == 1 || (labelled_2_5 && (m == 2 || m == 5))) {
          r.ticks.push_back(a);
          r.labels.push_back(label(m, static_cast<int>(k)));
        } else {
          r.minor.push_back(a);
        }
      }
    }
    return r;
  }
  const double step = nice_step((r.hi - r.lo) / 5);
  if (!axis.min) r.lo = std::floor(r.lo / step) * step;
  if (!axis.max && std::isfinite(std::ceil(r.hi / step) * step))
    r.hi = std::ceil(r.hi / step) * step;
  const double first = std::ceil(r.lo / step - 1e-9), last = std::floor(r.hi / step + 1e-9);
  for (double k = first; k <= last && r.ticks.size() < 50; ++k) {
    const double t = k * step;
    r.ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  r.labels = tick_labels(r.ticks, step);
  return r;
}

struct Point {
  double x, y;  // plot units: [0, 1] × [0, 1] is the plot area
};

/// Clips the segment a → b to the unit square (Liang and Barsky); false when nothing of it is
/// inside or its extent overflows.
inline bool clip(Point& a, Point& b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  if (!std::isfinite(dx) || !std::isfinite(dy)) return false;
  double t0 = 0, t1 = 1;
  const double p[] = {-dx, dx, -dy, dy}, q[] = {a.x, 1 - a.x, a.y, 1 - a.y};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0)
      t0 = std::max(t0, t);
    else
      t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  const Point start{a.x + t0 * dx, a.y + t0 * dy}, end{a.x + t1 * dx, a.y + t1 * dy};
  a = start, b = end;
  return std::isfinite(a.x) && std::isfinite(a.y) && std::isfinite(b.x) && std::isfinite(b.y);
}

/// The distance from p to the segment a–b.
inline double distance_to_segment(Point p, Point a, Point b) {
  const double dx = b.x - a.x, dy = b.y - a.y, length2 = dx * dx + dy * dy;
  const double t =
      length2 > 0 ? std::clamp(((p.x - a.x) * dx + (p.y - a.y) * dy) / length2, 0.0, 1.0) : 0.0;
  return std::hypot(a.x + t * dx - p.x, a.y + t * dy - p.y);
}

/// A polyline (in pixels) without the points that lie within `tolerance` pixels of the simpler
/// line (Ramer, Douglas and Peucker): straight and flat stretches of many points shrink to their
/// ends, and the drawing does not change visibly.
inline std::vector<Point> simplify(const std::vector<Point>& line, double tolerance) {
  if (line.size() < 3) return line;
  std::vector<char> keep(line.size(), 0);
  keep.front() = keep.back() = 1;
  std::vector<std::pair<std::size_t, std::size_t>> todo = {{0, line.size() - 1}};
  while (!todo.empty()) {
    const auto [first, last] = todo.back();
    todo.pop_back();
    double worst = 0;
    std::size_t at = first;
    for (std::size_t k = first + 1; k < last; ++k)
      if (const double d = distance_to_segment(line[k], line[first], line[last]); d > worst)
        worst = d, at = k;
    if (worst > tolerance) {
      keep[at] = 1;
      todo.push_back({first, at});
      todo.push_back({at, last});
    }
  }
  std::vector<Point> kept;
  for (std::size_t k = 0; k < line.size(); ++k)
    if (keep[k]) kept.push_back(line[k]);
  return kept;
}

/// Appends one panel (a chart at horizontal offset `left`) to `out`.
inline void panel(std::string& out, const Chart& c, int offset, int index) {
  if (c.width < 120 || c.height < 100)
    throw nabla::Error("chart::svg", fmt::format("the chart \"{}\" is {}×{} pixels; at least "
                                                 "120×100 are needed",
                                                 c.title, c.width, c.height));
  std::vector<const std::vector<double>*> xs, ys;
  for (const Series& s : c.series) {
    if (s.x.size() != s.y.size())
      throw nabla::Error("chart::svg", fmt::format("the series \"{}\" has {} x values but {} y "
                                                   "values",
                                                   s.name, s.x.size(), s.y.size()));
    if (!(s.width > 0 && s.width < 100))
      throw nabla::Error("chart::svg",
                         fmt::format("the series \"{}\" has the stroke width {}", s.name, s.width));
    xs.push_back(&s.x), ys.push_back(&s.y);
  }
  const Resolved ax = resolve(c.x, xs, "x"), ay = resolve(c.y, ys, "y");
  // The layout: room on the left for the widest y tick label and the rotated y label.
  double widest = 0;
  for (const auto& l : ay.labels) widest = std::max(widest, text_width(l));
  // On the right, room for half the last x tick label (centred on the plot's edge).
  const double left = 30 + widest + 8, top = 36, bottom = 48,
               right = std::max(16.0, ax.labels.empty() ? 0 : text_width(ax.labels.back()) / 2 + 4);
  const double w = c.width - left - right, h = c.height - top - bottom;
  if (w < 40 || h < 40)
    throw nabla::Error("chart::svg", fmt::format("the chart \"{}\" leaves no room for its plot "
                                                 "area ({}×{} pixels)",
                                                 c.title, c.width, c.height));
  const auto px = [&](double u) { return left + u * w; };
  const auto py = [&](double v) { return top + (1 - v) * h; };
  out += fmt::format("<g transform=\"translate({},0)\">\n", offset);
  out += fmt::format(
      "<text class=\"title\" x=\"{:.1f}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" "
      "font-weight=\"bold\">{}</text>\n",
      left + w / 2, escape(c.title));
  // Grid and ticks.
  const auto line = [&](std::string_view kind, double x1, double y1, double x2, double y2,
                        std::string_view stroke) {
    out += fmt::format(
        "<line class=\"{}\" x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\" "
        "stroke=\"{}\"/>\n",
        kind, x1, y1, x2, y2, stroke);
  };
  const auto tick_label = [&](double x, double y, std::string_view anchor, std::string_view text) {
    out += fmt::format(
        "<text class=\"tick-label\" x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"{}\">{}</text>\n", x, y,
        anchor, escape(text));
  };
  for (std::size_t i = 0; i < ax.ticks.size(); ++i) {
    const double x = px(ax.at(ax.ticks[i]));
    line("grid", x, top, x, top + h, "#e5e5e5");
    line("tick", x, top + h, x, top + h + 5, "#333");
    tick_label(x, top + h + 18, "middle", ax.labels[i]);
  }
  for (std::size_t i = 0; i < ay.ticks.size(); ++i) {
    const double y = py(ay.at(ay.ticks[i]));
    line("grid", left, y, left + w, y, "#e5e5e5");
    line("tick", left - 5, y, left, y, "#333");
    tick_label(left - 8, y + 4, "end", ay.labels[i]);
  }
  for (const double m : ax.minor)
    line("minor-tick", px(ax.at(m)), top + h, px(ax.at(m)), top + h + 3, "#333");
  for (const double m : ay.minor)
    line("minor-tick", left - 3, py(ay.at(m)), left, py(ay.at(m)), "#333");
  out += fmt::format(
      "<text class=\"axis-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n"
      "<text class=\"axis-label\" transform=\"translate(14,{:.1f}) rotate(-90)\" "
      "text-anchor=\"middle\">{}</text>\n",
      left + w / 2, static_cast<double>(c.height) - 10, escape(c.x.label), top + h / 2,
      escape(c.y.label));
  // The series, clipped to the plot area.
  const std::string clip_id = fmt::format("plot-area-{}", index);
  out += fmt::format(
      "<clipPath id=\"{}\"><rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\"/>"
      "</clipPath>\n<g clip-path=\"url(#{})\">\n",
      clip_id, left - 5, top - 5, w + 10, h + 10, clip_id);
  bool any_point = false;
  std::vector<std::string> colors;
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series& s = c.series[k];
    const std::string color =
        escape(s.color.empty() ? palette[k % std::size(palette)] : std::string_view(s.color));
    colors.push_back(color);
    std::vector<Point> p(s.x.size());
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = {ax.unit(s.x[i]), ay.unit(s.y[i])};
    const auto valid = [&](std::size_t i) {
      return i < p.size() && std::isfinite(p[i].x) && std::isfinite(p[i].y);
    };
    const auto inside = [&](std::size_t i) {
      return valid(i) && p[i].x >= 0 && p[i].x <= 1 && p[i].y >= 0 && p[i].y <= 1;
    };
    // Runs of visible segments become polylines; a run continues while segments are unclipped
    // at their start.
    std::vector<std::vector<Point>> runs;
    bool open = false;
    for (std::size_t i = 0; i + 1 < p.size(); ++i) {
      Point a = p[i], b = p[i + 1];
      if (!valid(i) || !valid(i + 1) || !clip(a, b)) {
        open = false;
        continue;
      }
      const bool continues = open && a.x == p[i].x && a.y == p[i].y;
      if (!continues) runs.push_back({a});
      runs.back().push_back(b);
      open = b.x == p[i + 1].x && b.y == p[i + 1].y;
    }
    const std::string dash = s.dashed ? " stroke-dasharray=\"6,4\"" : "";
    for (const auto& run : runs) {
      std::vector<Point> pixels;
      for (const Point& q : run) pixels.push_back({px(q.x), py(q.y)});
      std::string points;
      for (const Point& q : simplify(pixels, 0.1))
        points += fmt::format("{:.2f},{:.2f} ", q.x, q.y);
      points.pop_back();
      out += fmt::format(
          "<polyline class=\"series\" points=\"{}\" fill=\"none\" stroke=\"{}\" "
          "stroke-width=\"{}\" stroke-linejoin=\"round\"{}/>\n",
          points, color, s.width, dash);
    }
    // Markers: every point when asked, and points with no visible line to a neighbour.
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (!inside(i)) continue;
      any_point = true;
      const bool isolated = (i == 0 || !valid(i - 1)) && !valid(i + 1);
      if (s.markers || isolated)
        out += fmt::format(
            "<circle class=\"marker\" cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"{}\" fill=\"{}\"/>\n",
            px(p[i].x), py(p[i].y), s.markers ? 3.5 : 2.5, color);
    }
    any_point = any_point || !runs.empty();
  }
  out += "</g>\n";
  out += fmt::format(
      "<rect class=\"frame\" x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" "
      "fill=\"none\" stroke=\"#333\"/>\n",
      left, top, w, h);
  if (!any_point)
    out += fmt::format(
        "<text class=\"note\" x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\" fill=\"#777\">no "
        "data to show</text>\n",
        left + w / 2, top + h / 2);
  // The legend: a line sample and the name of each named series.
  std::vector<std::size_t> named;
  for (std::size_t k = 0; k < c.series.size(); ++k)
    if (!c.series[k].name.empty()) named.push_back(k);
  if (named.size() >= 2 || (c.always_legend && !named.empty())) {
    double text = 0;
    for (const std::size_t k : named) text = std::max(text, text_width(c.series[k].name));
    const double row = 16, bw = std::min(w - 8, 8 + 24 + 6 + text + 8),
                 bh = 6 + row * static_cast<double>(named.size());
    const bool right_side = c.legend == Corner::top_right || c.legend == Corner::bottom_right;
    const bool top_side = c.legend == Corner::top_right || c.legend == Corner::top_left;
    const double x0 = right_side ? left + w - bw - 6 : left + 6,
                 y0 = top_side ? top + 6 : top + h - bh - 6;
    out += fmt::format(
        "<g class=\"legend\">\n<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" "
        "fill=\"white\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n",
        x0, y0, bw, bh);
    for (std::size_t j = 0; j < named.size(); ++j) {
      const Series& s = c.series[named[j]];
      const double y = y0 + 3 + row * (static_cast<double>(j) + 0.5);
      out += fmt::format(
          "<line x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\" stroke=\"{}\" "
          "stroke-width=\"{}\"{}/>\n<text class=\"legend-label\" x=\"{:.2f}\" y=\"{:.2f}\">{}"
          "</text>\n",
          x0 + 8, y, x0 + 32, y, colors[named[j]], std::min(s.width, 4.0),
          s.dashed ? " stroke-dasharray=\"6,4\"" : "", x0 + 38, y + 4, escape(s.name));
    }
    out += "</g>\n";
  }
  out += "</g>\n";
}

}  // namespace detail

/// The SVG document of charts side by side, left to right (one figure with several panels).
/// Throws nabla::Error for an empty list, a series whose x and y differ in length, axis limits
/// that are not finite, not increasing or ≤ 0 on a log axis, or a size too small for a plot.
inline std::string svg(const std::vector<Chart>& charts) {
  if (charts.empty()) throw nabla::Error("chart::svg", "no charts to draw");
  int width = 0, height = 0;
  for (const Chart& c : charts) width += c.width, height = std::max(height, c.height);
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"{2}\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
      width, height, detail::font_size);
  int offset = 0;
  for (std::size_t i = 0; i < charts.size(); ++i) {
    detail::panel(out, charts[i], offset, static_cast<int>(i));
    offset += charts[i].width;
  }
  return out + "</svg>\n";
}

/// The SVG document of one chart (see the overload for several).
inline std::string svg(const Chart& chart) { return svg(std::vector<Chart>{chart}); }

/// Writes `text` to the file at `path`; throws nabla::Error when the file cannot be written.
inline void write(const std::string& path, std::string_view text) {
  std::FILE* out = std::fopen(path.c_str(), "wb");
  bool ok = out != nullptr;
  if (ok) {
    ok = std::fwrite(text.data(), 1, text.size(), out) == text.size();
    ok = std::fclose(out) == 0 && ok;
  }
  if (!ok) throw nabla::Error("chart::write", fmt::format("cannot write {}", path));
}

}  // namespace chart
