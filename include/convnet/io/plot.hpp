#pragma once
// Accuracy / loss charts as PNG files: the notebook's In [16]
// (plt.plot(...); plt.legend(); plt.title(...); plt.ylim(0, 1.0)).
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace convnet {

// One line of a chart. x and y must have the same length; NaN or infinite
// points leave a gap in the line (an isolated point is drawn as a dot).
struct Series {
  std::string label;
  std::vector<double> x, y;
};

struct Chart {
  std::string title, xlabel, ylabel;
  std::optional<std::pair<double, double>> ylim;  // e.g. {0, 1}; else from the data
  std::vector<Series> series;
  int width = 800, height = 600;  // pixels, each 64..8192
};

// Draws a line chart into a PNG file with PLplot's cairo driver ("pngcairo"),
// atomically (temporary file, then rename).
// Style: matplotlib's 'ggplot' as far as PLplot allows — light grey panel
// (#E5E5E5), white grid lines at the major ticks, no box, grey tick labels,
// series colours #E24A33, #348ABD, then the rest of the ggplot cycle, a legend
// placed where it covers the fewest data (as loc="best"), title and axis labels.
// PLplot prints nothing to the terminal. Throws convnet::Error naming `path`
// if the chart is invalid (size, x/y lengths, ylim), the file cannot be
// written, or PLplot fails (e.g. the cairo driver is not installed).
// Safe to call repeatedly and from several threads (calls are serialised).
void plot_png(const std::string& path, const Chart& chart);

}  // namespace convnet
