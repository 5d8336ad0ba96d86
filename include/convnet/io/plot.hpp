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

// A picture made of filled rectangles, text and grey rasters (filters, heat
// maps, image grids: convnet/io/pictures.hpp), drawn with the same PLplot
// cairo driver and fonts as the charts. Coordinates are pixels from the
// top-left corner. Rectangles cover the pixels [x0, x1) x [y0, y1) in their
// colour (their outermost pixels may be blended with the neighbours by the
// driver's anti-aliasing), drawn in order, then the texts on top, then the
// rasters: these are painted into the PNG afterwards, pixel by pixel with
// libpng, so that every grey level is exactly the one given (PLplot's
// polygons blend the edges of adjacent cells); nothing is drawn over them.
struct Canvas {
  struct Rect {
    int x0, y0, x1, y1;
    unsigned rgb;  // 0xRRGGBB
  };
  struct Text {
    double x, y;           // reference point: the text is centred on y
    std::string text;      // UTF-8
    double height = 12;    // pixels
    double just = 0.5;     // 0: starts at x, 0.5: centred, 1: ends at x
    unsigned rgb = 0x000000;
    bool vertical = false;  // read bottom to top
  };
  struct Raster {
    int x = 0, y = 0;           // top-left pixel
    int scale = 1;              // each value a scale x scale square
    std::size_t rows = 0, cols = 0;
    std::vector<unsigned char> grey;  // rows x cols
    int frame = -1;             // >= 0: a 1-pixel frame of this grey level around it
  };
  int width = 0, height = 0;  // each 16..8192
  unsigned background = 0xFFFFFF;
  std::vector<Rect> rects;
  std::vector<Text> texts;
  std::vector<Raster> rasters;
};

// Draws `canvas` into a PNG file, atomically; errors as plot_png.
void draw_png(const std::string& path, const Canvas& canvas);

}  // namespace convnet
