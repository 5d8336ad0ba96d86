#pragma once
// The pictures a learner looks at (issue #15), composed as Canvases and
// drawn by draw_png (convnet/io/plot.hpp): a conv layer's filters as the
// book's filter_show draws them (ch07/visualize_filter.py), the confusion
// matrix as a heat map, and a grid of captioned grey images (mistakes,
// feature maps). Each picture also returns where its tiles are, in pixels,
// so that callers and tests can find them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/io/image.hpp"
#include "convnet/io/plot.hpp"

namespace convnet {

struct Picture {
  Canvas canvas;
  // The picture's tiles in order (rgb unused): filters (set by set, filter
  // by filter), heat-map cells (row-major: true class, predicted class), or
  // images.
  std::vector<Canvas::Rect> tiles;
};

// One conv layer's filters, channel 0 of each (the book shows filter[i, 0]).
struct FilterSet {
  std::string title;            // drawn above the grid; "" for none
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<double> weights;  // count x rows x cols
};

// The grey level of weight w in a filter whose weights span [lo, hi]:
// min-max normalised per filter as matplotlib's imshow does, in the book's
// colour map gray_r (inverted: the largest weight black, the smallest white),
// rounded to the nearest level. A constant filter is white (as imshow).
std::uint8_t filter_grey(double w, double lo, double hi);

// Layout, as the book's filter_show: 8 tiles a row (fewer when there are
// fewer filters), each weight a square of max(1, 60 / max(rows, cols))
// pixels, a 1-pixel grey frame around each tile, the filter's index (0-based,
// as W1[i]) above it. Sets are stacked top to bottom, each under its title.
// width = 2 * 16 + n * tile_width + (n - 1) * 8 (at least 320), n = min(8, count).
Picture filter_picture(const std::vector<FilterSet>& sets);

// confusion[true][predicted] as a heat map: white for 0 to #348ABD for the
// largest count, by the square root of count / largest (so that a few
// mistakes still show), the count written in each cell (when cells are large
// enough), per-class accuracy on the right. Throws convnet::Error when not square.
Picture confusion_picture(const std::vector<std::vector<std::size_t>>& confusion);
// The colour of a cell holding `count` when the largest cell holds `largest`.
unsigned heat_colour(std::size_t count, std::size_t largest);

// Grey images in a grid of up to `columns` a row, each pixel a square of
// `scale` pixels in the book's gray_r (255 - value: ink dark on white), a
// caption under each; a title on top. Images may differ in size.
struct CaptionedImage {
  GrayImage image;
  std::string caption;
};
// min_width: the least width of a column (room for the caption).
Picture image_grid(const std::vector<CaptionedImage>& images, const std::string& title, int scale = 3,
                   std::size_t columns = 5, int min_width = 90);

// Pictures one above the other (e.g. one image_grid per layer), tiles in order.
Picture stack_pictures(const std::vector<Picture>& parts);

// A feature map (rows x cols floats) as grey levels, min-max normalised over
// the map (0 for the smallest value, 255 for the largest; all 0 if constant).
GrayImage normalised_map(const float* values, std::size_t rows, std::size_t cols);

}  // namespace convnet
