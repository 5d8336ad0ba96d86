// Filters, confusion heat map and image grids as Canvases: text and cells
// through PLplot, in the charts' fonts; grey tiles as rasters painted
// exactly afterwards (PLplot's polygons would blend the edges of adjacent
// cells, and plimage would pass the levels through a colour map), so each
// grey level in the PNG is the one computed here.
#include "convnet/io/pictures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "convnet/core/error.hpp"

namespace convnet {

namespace {
constexpr int kMargin = 16, kGap = 8, kLabel = 14, kTitle = 30;
constexpr unsigned kFrame = 0x555555, kText = 0x000000, kLabelGrey = 0x555555;


// A raster of grey levels with a frame (painted exactly: Canvas::Raster).
void add_raster(Canvas& c, const Canvas::Rect& tile, int scale, std::size_t rows, std::size_t cols,
                std::vector<std::uint8_t> grey) {
  c.rasters.push_back({tile.x0, tile.y0, scale, rows, cols, std::move(grey), int(kFrame & 0xFF)});
}
}  // namespace

std::uint8_t filter_grey(double w, double lo, double hi) {
  if (!(hi > lo)) return 255;
  const double v = 255.0 * (hi - w) / (hi - lo);
  return std::uint8_t(std::clamp(std::lround(v), 0L, 255L));
}

Picture filter_picture(const std::vector<FilterSet>& sets) {
  Picture p;
  int width = 320, y = kMargin;
  for (const FilterSet& s : sets) {
    if (s.count == 0 || s.rows == 0 || s.cols == 0 || s.weights.size() != s.count * s.rows * s.cols)
      throw Error("filter_picture: " + std::to_string(s.weights.size()) + " weights for " + std::to_string(s.count) +
                  " filters of " + std::to_string(s.rows) + "x" + std::to_string(s.cols));
    const int cell = std::max(1, 60 / int(std::max(s.rows, s.cols)));
    const int tw = cell * int(s.cols), th = cell * int(s.rows);
    const int n = int(std::min<std::size_t>(8, s.count));
    width = std::max(width, 2 * kMargin + n * tw + (n - 1) * kGap);
    if (!s.title.empty()) {
      p.canvas.texts.push_back({double(kMargin), y + kTitle / 2.0, s.title, 14, 0.0, kText});
      y += kTitle;
    }
    const std::size_t plane = s.rows * s.cols;
    for (std::size_t i = 0; i < s.count; ++i) {
      const int x0 = kMargin + int(i % 8) * (tw + kGap);
      const int y0 = y + int(i / 8) * (kLabel + th + kGap) + kLabel;
      const double* w = s.weights.data() + i * plane;
      const auto [lo, hi] = std::minmax_element(w, w + plane);
      std::vector<std::uint8_t> g(plane);
      for (std::size_t k = 0; k < plane; ++k) g[k] = filter_grey(w[k], *lo, *hi);
      const Canvas::Rect tile{x0, y0, x0 + tw, y0 + th, 0};
      add_raster(p.canvas, tile, cell, s.rows, s.cols, std::move(g));
      p.canvas.texts.push_back({x0 + tw / 2.0, y0 - kLabel / 2.0 - 1, std::to_string(i), 10, 0.5, kLabelGrey});
      p.tiles.push_back(tile);
    }
    const int grid_rows = int((s.count + 7) / 8);
    y += grid_rows * (kLabel + th + kGap) + kGap;
  }
  p.canvas.width = width;
  p.canvas.height = y + kMargin - kGap;
  return p;
}

unsigned heat_colour(std::size_t count, std::size_t largest) {
  const double t = largest ? std::sqrt(double(count) / double(largest)) : 0.0;
  auto mix = [t](unsigned to) { return unsigned(std::lround(255.0 + (double(to) - 255.0) * t)); };
  return mix(0x34) << 16 | mix(0x8A) << 8 | mix(0xBD);
}

Picture confusion_picture(const std::vector<std::vector<std::size_t>>& m) {
  const std::size_t K = m.size();
  for (const auto& row : m)
    if (row.size() != K) throw Error("confusion_picture: the matrix is not square");
  if (K == 0) throw Error("confusion_picture: no classes");
  Picture p;
  Canvas& c = p.canvas;
  const int cell = std::clamp(600 / int(K), 6, 44);
  const bool counts = cell >= 24;
  const int left = 80, top = 76, acc_w = 110;
  c.width = left + int(K) * cell + acc_w;
  c.height = top + int(K) * cell + kMargin + 8;
  std::size_t largest = 0;
  for (const auto& row : m)
    for (auto v : row) largest = std::max(largest, v);
  c.texts.push_back({left + K * cell / 2.0, 18, "confusion matrix", 16, 0.5, kText});
  c.texts.push_back({left + K * cell / 2.0, 44, "predicted class", 12, 0.5, kLabelGrey});
  c.texts.push_back({22, top + K * cell / 2.0, "true class", 12, 0.5, kLabelGrey, true});
  c.texts.push_back({left + K * cell + acc_w / 2.0, 44, "accuracy", 12, 0.5, kLabelGrey});
  const bool every_label = cell >= 14;
  for (std::size_t k = 0; k < K; ++k) {
    if (!every_label && k % 5) continue;
    c.texts.push_back({left + (k + 0.5) * cell, top - 10.0, std::to_string(k), 11, 0.5, kLabelGrey});
    c.texts.push_back({left - 8.0, top + (k + 0.5) * cell, std::to_string(k), 11, 1.0, kLabelGrey});
  }
  for (std::size_t r = 0; r < K; ++r) {
    std::size_t total = 0;
    for (std::size_t col = 0; col < K; ++col) {
      const std::size_t v = m[r][col];
      total += v;
      const Canvas::Rect t{left + int(col) * cell, top + int(r) * cell, left + int(col + 1) * cell,
                           top + int(r + 1) * cell, heat_colour(v, largest)};
      c.rects.push_back(t);
      p.tiles.push_back(t);
      if (counts) {
        const bool dark = largest && double(v) / double(largest) > 0.35;
        c.texts.push_back({(t.x0 + t.x1) / 2.0, (t.y0 + t.y1) / 2.0, std::to_string(v), cell >= 40 ? 11.0 : 9.0, 0.5,
                           dark ? 0xFFFFFFu : kText});
      }
    }
    char acc[32];
    if (total)
      std::snprintf(acc, sizeof acc, "%.1f%%", 100.0 * double(m[r][r]) / double(total));
    else
      std::snprintf(acc, sizeof acc, "-");
    if (every_label || r % 5 == 0)
      c.texts.push_back({left + K * cell + acc_w / 2.0, top + (r + 0.5) * cell, acc, 11, 0.5, kText});
  }
  return p;
}

Picture image_grid(const std::vector<CaptionedImage>& images, const std::string& title, int scale,
                   std::size_t columns, int min_width) {
  Picture p;
  Canvas& c = p.canvas;
  scale = std::max(1, scale);
  columns = std::max<std::size_t>(1, std::min(columns, images.size()));
  // Column widths and row heights from the largest image of each.
  std::vector<int> col_w(columns, 0), row_h((images.size() + columns - 1) / columns, 0);
  for (std::size_t i = 0; i < images.size(); ++i) {
    const GrayImage& g = images[i].image;
    if (g.rows == 0 || g.cols == 0 || g.pixels.size() != g.rows * g.cols)
      throw Error("image_grid: image " + std::to_string(i) + " is empty or inconsistent");
    col_w[i % columns] = std::max({col_w[i % columns], int(g.cols) * scale, min_width});
    row_h[i / columns] = std::max(row_h[i / columns], int(g.rows) * scale);
  }
  const int caption = 20;
  int y = kMargin + (title.empty() ? 0 : kTitle);
  std::vector<int> xs(columns, kMargin);
  for (std::size_t k = 1; k < columns; ++k) xs[k] = xs[k - 1] + col_w[k - 1] + 2 * kGap;
  c.width = std::max(320, xs.back() + col_w.back() + kMargin);
  if (!title.empty()) c.texts.push_back({double(kMargin), kMargin + kTitle / 2.0 - 4, title, 14, 0.0, kText});
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::size_t r = i / columns, k = i % columns;
    if (k == 0 && r > 0) y += row_h[r - 1] + caption + kGap;
    const GrayImage& g = images[i].image;
    const int x0 = xs[k] + (col_w[k] - int(g.cols) * scale) / 2;
    std::vector<std::uint8_t> inv(g.pixels.size());
    for (std::size_t j = 0; j < inv.size(); ++j) inv[j] = std::uint8_t(255 - g.pixels[j]);
    const Canvas::Rect tile{x0, y, x0 + int(g.cols) * scale, y + int(g.rows) * scale, 0};
    add_raster(c, tile, scale, g.rows, g.cols, std::move(inv));
    c.texts.push_back({xs[k] + col_w[k] / 2.0, y + row_h[r] + caption / 2.0 + 1, images[i].caption, 11, 0.5, kText});
    p.tiles.push_back(tile);
  }
  c.height = y + (row_h.empty() ? 0 : row_h.back() + caption) + kMargin;
  return p;
}

Picture stack_pictures(const std::vector<Picture>& parts) {
  Picture p;
  int y = 0;
  for (const Picture& part : parts) {
    const Canvas& c = part.canvas;
    p.canvas.width = std::max(p.canvas.width, c.width);
    for (auto r : c.rects) r.y0 += y, r.y1 += y, p.canvas.rects.push_back(r);
    for (auto t : c.texts) t.y += y, p.canvas.texts.push_back(t);
    for (auto r : c.rasters) r.y += y, p.canvas.rasters.push_back(r);
    for (auto t : part.tiles) t.y0 += y, t.y1 += y, p.tiles.push_back(t);
    y += c.height;
  }
  p.canvas.height = y;
  return p;
}

GrayImage normalised_map(const float* v, std::size_t rows, std::size_t cols) {
  GrayImage g{rows, cols, std::vector<std::uint8_t>(rows * cols, 0)};
  const auto [lo, hi] = std::minmax_element(v, v + rows * cols);
  if (rows * cols == 0 || !(*hi > *lo)) return g;
  for (std::size_t i = 0; i < rows * cols; ++i)
    g.pixels[i] = std::uint8_t(std::lround(255.0 * (double(v[i]) - *lo) / (double(*hi) - *lo)));
  return g;
}

}  // namespace convnet
