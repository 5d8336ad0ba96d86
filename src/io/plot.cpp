// Line charts with PLplot's cairo driver, styled like matplotlib's 'ggplot'.
//
// PLplot keeps global state, reports fatal errors through plexit() (which
// prints and calls exit()) and, given an unknown device, asks on stdin for
// another one. So: calls are serialised by a mutex; each chart gets a stream
// of its own (plmkstrm ... plend1); the device is checked before plinit; the
// exit handler longjmps back to the one function that drives PLplot, whose
// locals are all trivial; non-fatal errors (plabort) go to the stream's
// plsError buffer instead of stderr and are thrown afterwards; user text is
// cleaned so that PLplot has nothing to warn about (plplot_text).
//
// Layout is done in pixels: the viewport is the page (plvpor 0..1) with world
// coordinates = pixels, except while drawing the data lines, whose window is
// the data range over the panel.
#include "convnet/io/plot.hpp"

#include <plplot.h>
#include <png.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>

#include "convnet/io/atomic_file.hpp"
#include "convnet/core/error.hpp"

namespace convnet {

namespace {

// ------------------------------------------------------------------ style

// cmap0 slots.
enum Colour : PLINT {
  kPage = 0,        // figure background: white
  kPanel = 1,       // #E5E5E5
  kGrid = 2,        // white
  kTickLabel = 3,   // #555555
  kText = 4,        // title and legend text: black
  kClear = 5,       // fully transparent: for measuring the legend
  kLegendEdge = 6,  // #CCCCCC
  kSeries = 8,      // first of the ggplot cycle
};
constexpr std::array<unsigned, 7> kCycle = {0xE24A33, 0x348ABD, 0x988ED5, 0x777777,
                                            0xFBC15E, 0x8EBA42, 0xFFB5B8};
constexpr PLINT kColours = kSeries + static_cast<PLINT>(kCycle.size());

// Panel margins as fractions of the page (matplotlib's subplot defaults).
constexpr double kLeft = 0.125, kRight = 0.90, kBottom = 0.11, kTop = 0.88;

// ------------------------------------------------------------------ chart data

struct Ticks {
  std::vector<double> at;  // data coordinates
  std::vector<std::string> labels;
};

// One finite stretch of a series.
struct Run {
  std::vector<PLFLT> x, y;
};

// PLplot state of one picture's stream, shared by charts and canvases.
struct StreamState {
  std::string tmp_path;
  PLINT width = 0, height = 0;
  bool stream_open = false;
  PLINT error_code = 0;
  char error_text[2048] = "";  // plsError: PLplot writes here instead of stderr
  std::vector<const char*> device_menus = std::vector<const char*>(256),
                           device_names = std::vector<const char*>(256);
};

// Everything draw() needs, prepared beforehand so that draw() creates no C++
// object that a longjmp could skip.
struct Job : StreamState {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // data window
  Ticks xticks, yticks;
  std::string title, xlabel, ylabel;  // as PLplot text (plplot_text)
  std::vector<std::string> labels;     // legend labels, as PLplot text
  std::vector<std::vector<Run>> runs;  // per series
  // legend arrays, one entry per labelled series
  std::vector<const char*> legend_text;
  std::vector<PLINT> legend_opt, legend_colour, legend_text_colour, legend_style, clear;
  std::vector<PLFLT> legend_width;
};

// A Canvas, with its texts cleaned for PLplot beforehand.
struct CanvasJob : StreamState {
  const Canvas* canvas = nullptr;
  std::vector<std::string> texts;  // plplot_text of canvas->texts[i].text
};

// "Nice" tick step for [lo, hi]: 1, 2, 2.5 or 5 x 10^k, the smallest giving at
// most max_ticks ticks (as matplotlib's MaxNLocator).
Ticks make_ticks(double lo, double hi, int max_ticks) {
  Ticks t;
  const double span = hi - lo;
  if (!(span > 0) || !std::isfinite(span)) return t;
  double step = 0;
  int decimals = 0;
  const double base = std::pow(10.0, std::floor(std::log10(span / max_ticks)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0, 20.0}) {
    step = m * base;
    if (std::floor(hi / step) - std::ceil(lo / step) + 1 <= max_ticks) break;
  }
  // Decimals needed to write multiples of the step exactly.
  while (decimals < 12 && std::abs(step * std::pow(10.0, decimals) -
                                   std::round(step * std::pow(10.0, decimals))) > 1e-6)
    ++decimals;
  const double first = std::ceil(lo / step - 1e-9);
  for (int n = 0; n <= max_ticks + 1; ++n) {  // bounded even when k + 1 == k
    double v = (first + n) * step;
    if (!(v <= hi + step * 1e-9)) break;
    if (std::abs(v) < step * 1e-9) v = 0;  // no "-0.0"
    char buf[64];
    if (std::abs(v) >= 1e7)
      std::snprintf(buf, sizeof buf, "%.3g", v);
    else
      std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    t.at.push_back(v);
    t.labels.emplace_back(buf);
  }
  return t;
}

// Data range with matplotlib's 5% margins; a degenerate range is widened.
std::pair<double, double> padded(double lo, double hi) {
  if (!(lo <= hi)) return {0.0, 1.0};  // no finite data
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(lo))) {
    const double d = lo == 0 ? 0.5 : std::abs(lo) * 0.05;
    return {lo - d, hi + d};
  }
  const double m = 0.05 * (hi - lo);
  return {lo - m, hi + m};
}

// ------------------------------------------------------------------ PLplot glue

std::mutex g_mutex;          // PLplot is not thread-safe
std::jmp_buf* g_jump = nullptr;  // set while one of our streams is active
char g_error[512];           // first PLplot error message of this chart

// Fatal PLplot error: back to draw() rather than exit().
int on_plexit(const char* msg) {
  if (!g_jump) return 1;  // not our stream: PLplot's own behaviour
  std::snprintf(g_error, sizeof g_error, "%s", msg ? msg : "fatal error");
  std::longjmp(*g_jump, 1);
}

// Non-fatal PLplot error (the operation was skipped): remember it. PLplot
// itself still prints it unless the stream has plsError set, as ours have.
void on_plabort(const char* msg) {
  if (!g_jump) return;  // not our stream
  if (!g_error[0]) std::snprintf(g_error, sizeof g_error, "%s", msg ? msg : "error");
}

void set_colour(PLINT i, unsigned rgb, double alpha = 1.0) {
  plscol0a(i, (rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF, alpha);
}

// Ends our stream after a failure; its own errors are ignored.
void end_stream_quietly() {
  std::jmp_buf jump;
  if (setjmp(jump)) {
    g_jump = nullptr;
    return;
  }
  g_jump = &jump;
  plend1();
  g_jump = nullptr;
}

// Page pixel -> world coordinates while the world is the page (y up).
struct Page {
  double w, h;
  double px(double fx) const { return fx * w; }
  double py(double fy) const { return fy * h; }
};

// A user's string as PLplot text: valid UTF-8 (bad bytes become '?'), at
// most 200 characters, and '#' (PLplot's escape character) doubled.
std::string plplot_text(const std::string& s) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size() && chars < 200; ++chars) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3
                          : (b >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 0x2;
    if (!ok) {
      out += '?';
      ++i;
    } else if (s[i] == '#') {
      out += "##";
      ++i;
    } else if (b < 0x20) {  // control characters
      out += ' ';
      ++i;
    } else {
      out.append(s, i, len);
      i += len;
    }
  }
  return out;
}

// Approximate width of a tick label in character heights (measured with the
// default sans font: a digit is about 0.8 character heights wide).
double label_width_chars(const std::string& s) {
  double w = 0;
  for (char ch : s) w += (ch == '.' ? 0.4 : ch == '-' ? 0.5 : 0.8);
  return w;
}

// Whether segment a-b crosses the rectangle [x0, x1] x [y0, y1].
bool segment_hits(double ax, double ay, double bx, double by, double x0, double y0, double x1,
                  double y1) {
  // Liang-Barsky: clip the segment to the rectangle.
  double t0 = 0, t1 = 1;
  const double dx = bx - ax, dy = by - ay;
  const double p[4] = {-dx, dx, -dy, dy}, q[4] = {ax - x0, x1 - ax, ay - y0, y1 - ay};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
    } else {
      const double r = q[i] / p[i];
      if (p[i] < 0) t0 = std::max(t0, r);
      else t1 = std::min(t1, r);
    }
  }
  return t0 <= t1;
}

enum class Drawn { Ok, Failed, NoDriver, NoStream };

// A new stream writing a pngcairo page of j.width x j.height to j.tmp_path;
// called inside draw()'s setjmp, so its locals are trivial too.
Drawn open_stream(StreamState& j) {
  PLINT stream = -1;
  plmkstrm(&stream);
  if (stream <= 0) return Drawn::NoStream;  // all PL_NSTREAMS in use
  j.stream_open = true;
  plsError(&j.error_code, j.error_text);
  // An unknown device would make plinit prompt on stdin for another one.
  int n = static_cast<int>(j.device_names.size());
  const char** menus = j.device_menus.data();
  const char** names = j.device_names.data();
  plgDevs(&menus, &names, &n);
  int i = 0;
  while (i < n && !(names[i] && std::strcmp(names[i], "pngcairo") == 0)) ++i;
  if (i == n) return Drawn::NoDriver;
  plsdev("pngcairo");
  plsfnam(j.tmp_path.c_str());
  plspage(0.0, 0.0, j.width, j.height, 0, 0);
  return Drawn::Ok;
}

// The cairo driver strokes every filled polygon with a line at least 1 px
// wide; a rectangle inset by half a pixel so covers exactly the pixels
// [x0, x1) x [y0, y1) (world = page pixels, y up), without anti-aliased edges.
void fill_px(double x0, double y0, double x1, double y1) {
  plwidth(1.0);
  PLFLT fx[4] = {x0 + 0.5, x1 - 0.5, x1 - 0.5, x0 + 0.5};
  PLFLT fy[4] = {y0 + 0.5, y0 + 0.5, y1 - 0.5, y1 - 0.5};
  plfill(4, fx, fy);
}

// The one function that drives PLplot. After a failure (g_error says which)
// the stream may still be open (j.stream_open).
Drawn draw(Job& j) {
  std::jmp_buf jump;
  if (setjmp(jump)) return Drawn::Failed;
  g_jump = &jump;

  const Page page{double(j.width), double(j.height)};
  if (const Drawn d = open_stream(j); d != Drawn::Ok) return d;
  plscmap0n(kColours);
  set_colour(kPage, 0xFFFFFF);
  set_colour(kPanel, 0xE5E5E5);
  set_colour(kGrid, 0xFFFFFF);
  set_colour(kTickLabel, 0x555555);
  set_colour(kText, 0x000000);
  set_colour(kClear, 0x000000, 0.0);
  set_colour(kLegendEdge, 0xCCCCCC);
  for (std::size_t i = 0; i < kCycle.size(); ++i) set_colour(kSeries + PLINT(i), kCycle[i]);
  plinit();
  pladv(0);

  // Text sizes scale with the page, like a figure saved at a fixed dpi.
  const double scale = std::min(page.w / 800.0, page.h / 600.0);
  const double base_mm = 3.6 * scale;  // ~ matplotlib's 10 pt at 100 dpi
  plschr(base_mm, 1.0);
  PLFLT mx0, mx1, my0, my1;  // page size in mm
  plgspa(&mx0, &mx1, &my0, &my1);
  const double char_px = base_mm * page.h / (my1 - my0);  // character height

  // The world is the page, in pixels. The left margin grows if the y tick
  // labels and the y label need more room than matplotlib's 12.5%.
  plvpor(0, 1, 0, 1);
  plwind(0, page.w, 0, page.h);
  const double tick = 4.5 * scale, pad = 4.5 * scale;
  const double label_px = 1.2 * char_px, title_px = 1.44 * char_px;
  double ytick_w = 0;
  for (const auto& l : j.yticks.labels) ytick_w = std::max(ytick_w, label_width_chars(l) * char_px);
  const double ylabel_x = tick + pad + ytick_w + 8 * scale + 0.5 * label_px;  // left of panel
  // Whole pixels, so that the panel and grid edges stay crisp.
  const double L = std::round(std::max(page.px(kLeft), ylabel_x + label_px));
  const double R = std::round(page.px(kRight)), B = std::round(page.py(kBottom)),
               T = std::round(page.py(kTop));
  auto xpix = [&](double x) { return L + (x - j.x0) / (j.x1 - j.x0) * (R - L); };
  auto ypix = [&](double y) { return B + (y - j.y0) / (j.y1 - j.y0) * (T - B); };
  const double line_px = std::max(1.0, std::round(1.1 * scale));  // grid and ticks
  auto snap = [&](double centre) { return std::round(centre - line_px / 2); };

  // Panel, white grid at the major ticks, grey tick marks pointing out.
  plcol0(kPanel);
  fill_px(L, B, R, T);
  plcol0(kGrid);
  for (double t : j.xticks.at) fill_px(snap(xpix(t)), B, snap(xpix(t)) + line_px, T);
  for (double t : j.yticks.at) fill_px(L, snap(ypix(t)), R, snap(ypix(t)) + line_px);
  plcol0(kTickLabel);
  for (double t : j.xticks.at) fill_px(snap(xpix(t)), B - tick, snap(xpix(t)) + line_px, B);
  for (double t : j.yticks.at) fill_px(L - tick, snap(ypix(t)), L, snap(ypix(t)) + line_px);
  // Tick labels (plptex centres text vertically on its reference point).
  for (std::size_t i = 0; i < j.xticks.at.size(); ++i)
    plptex(xpix(j.xticks.at[i]), B - tick - pad - 0.5 * char_px, 1, 0, 0.5,
           j.xticks.labels[i].c_str());
  for (std::size_t i = 0; i < j.yticks.at.size(); ++i)
    plptex(L - tick - pad, ypix(j.yticks.at[i]), 1, 0, 1.0, j.yticks.labels[i].c_str());

  // Axis labels (1.2x) and title (1.44x), in pixels from the panel.
  plcol0(kTickLabel);
  plschr(0, 1.2);
  if (!j.xlabel.empty())
    plptex((L + R) / 2, B - tick - pad - char_px - 7 * scale - 0.5 * label_px, 1, 0, 0.5,
           j.xlabel.c_str());
  if (!j.ylabel.empty()) plptex(L - ylabel_x, (B + T) / 2, 0, 1, 0.5, j.ylabel.c_str());
  plcol0(kText);
  plschr(0, 1.44);
  if (!j.title.empty())
    plptex((L + R) / 2, T + 11 * scale + 0.5 * title_px, 1, 0, 0.5, j.title.c_str());
  plschr(0, 1.0);

  // Data lines, clipped to the panel.
  plvpor(L / page.w, R / page.w, B / page.h, T / page.h);
  plwind(j.x0, j.x1, j.y0, j.y1);
  plwidth(2.0 * scale);
  for (std::size_t s = 0; s < j.runs.size(); ++s) {
    plcol0(kSeries + PLINT(s % kCycle.size()));
    for (const Run& run : j.runs[s]) {
      if (run.x.size() >= 2) {
        plline(PLINT(run.x.size()), run.x.data(), run.y.data());
      } else {  // a lone point: a dot
        plssym(0, 0.7);
        plstring(1, run.x.data(), run.y.data(), "#(850)");
      }
    }
  }

  // Legend, where it covers the fewest data (matplotlib's loc="best").
  const PLINT n = PLINT(j.legend_text.size());
  if (n > 0) {
    const PLFLT sample = 0.07;  // line sample length, viewport fraction
    PLFLT lw = 0, lh = 0;
    pllegend(&lw, &lh, 0, PL_POSITION_INSIDE | PL_POSITION_TOP | PL_POSITION_RIGHT, 0, 0, sample,
             kClear, kClear, 1, 0, 0, n, j.legend_opt.data(), 1.0, 1.0, 2.0, 0.0, j.clear.data(),
             j.legend_text.data(), nullptr, nullptr, nullptr, nullptr, j.clear.data(),
             j.legend_style.data(), j.legend_width.data(), nullptr, nullptr, nullptr, nullptr);
    const double gap_x = 10.0 * scale / (R - L), gap_y = 10.0 * scale / (T - B);
    const PLINT corners[8] = {
        PL_POSITION_TOP | PL_POSITION_RIGHT,    PL_POSITION_TOP | PL_POSITION_LEFT,
        PL_POSITION_BOTTOM | PL_POSITION_LEFT,  PL_POSITION_BOTTOM | PL_POSITION_RIGHT,
        PL_POSITION_RIGHT,                      PL_POSITION_LEFT,
        PL_POSITION_BOTTOM,                     PL_POSITION_TOP};
    PLINT best = corners[0];
    long best_cost = std::numeric_limits<long>::max();
    for (PLINT pos : corners) {
      // The candidate rectangle in viewport fractions.
      double rx0, ry0;
      if (pos & PL_POSITION_LEFT) rx0 = gap_x;
      else if (pos & PL_POSITION_RIGHT) rx0 = 1 - gap_x - lw;
      else rx0 = 0.5 - lw / 2;
      if (pos & PL_POSITION_BOTTOM) ry0 = gap_y;
      else if (pos & PL_POSITION_TOP) ry0 = 1 - gap_y - lh;
      else ry0 = 0.5 - lh / 2;
      // Half a character of clearance around the box counts as covered.
      const double mx = 0.5 * char_px / (R - L), my = 0.5 * char_px / (T - B);
      const double rx1 = rx0 + lw + mx, ry1 = ry0 + lh + my;
      rx0 -= mx, ry0 -= my;
      long cost = 0;
      for (const auto& runs : j.runs)
        for (const Run& run : runs)
          for (std::size_t k = 0; k < run.x.size(); ++k) {
            const double fx = (run.x[k] - j.x0) / (j.x1 - j.x0);
            const double fy = (run.y[k] - j.y0) / (j.y1 - j.y0);
            if (fx >= rx0 && fx <= rx1 && fy >= ry0 && fy <= ry1) ++cost;
            if (k + 1 < run.x.size()) {
              const double gx = (run.x[k + 1] - j.x0) / (j.x1 - j.x0);
              const double gy = (run.y[k + 1] - j.y0) / (j.y1 - j.y0);
              if (segment_hits(fx, fy, gx, gy, rx0, ry0, rx1, ry1)) ++cost;
            }
          }
      if (cost < best_cost) best_cost = cost, best = pos;
    }
    const double ox = (best & (PL_POSITION_LEFT | PL_POSITION_RIGHT)) ? gap_x : 0.0;
    const double oy = (best & (PL_POSITION_TOP | PL_POSITION_BOTTOM)) ? gap_y : 0.0;
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_INSIDE | best, ox,
             oy, sample, kPanel, kLegendEdge, 1, 0, 0, n, j.legend_opt.data(), 1.0, 1.0, 2.0, 0.0,
             j.legend_text_colour.data(), j.legend_text.data(), nullptr, nullptr, nullptr, nullptr,
             j.legend_colour.data(), j.legend_style.data(), j.legend_width.data(), nullptr,
             nullptr, nullptr, nullptr);
  }

  plend1();  // writes the PNG
  j.stream_open = false;
  g_jump = nullptr;
  return Drawn::Ok;
}

// Draws a Canvas: the page is the world, in pixels; a Canvas's y runs down.
// Each rectangle takes its colour through one cmap0 slot set just before
// the fill, so any number of exact colours can be drawn.
Drawn draw(CanvasJob& j) {
  std::jmp_buf jump;
  if (setjmp(jump)) return Drawn::Failed;
  g_jump = &jump;
  const Canvas& c = *j.canvas;
  if (const Drawn d = open_stream(j); d != Drawn::Ok) return d;
  plscmap0n(2);
  set_colour(0, c.background);
  set_colour(1, 0x000000);
  plinit();
  pladv(0);
  plvpor(0, 1, 0, 1);
  plwind(0, j.width, 0, j.height);
  PLFLT mx0, mx1, my0, my1;  // page size in mm: text heights are given in pixels
  plgspa(&mx0, &mx1, &my0, &my1);
  const double mm_per_px = (my1 - my0) / j.height;
  for (const Canvas::Rect& r : c.rects) {
    set_colour(1, r.rgb);
    plcol0(1);
    fill_px(r.x0, j.height - r.y1, r.x1, j.height - r.y0);
  }
  for (std::size_t i = 0; i < c.texts.size(); ++i) {
    const Canvas::Text& t = c.texts[i];
    set_colour(1, t.rgb);
    plcol0(1);
    // The text's height is a capital's; plptex centres it on its reference point.
    plschr(t.height * mm_per_px, 1.0);
    const double dx = t.vertical ? 0 : 1, dy = t.vertical ? 1 : 0;
    plptex(t.x, j.height - t.y, dx, dy, t.just, j.texts[i].c_str());
  }
  plend1();  // writes the PNG
  j.stream_open = false;
  g_jump = nullptr;
  return Drawn::Ok;
}

// The file PLplot wrote must be a whole PNG: signature first, IEND last.
bool looks_like_png(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  return b.size() > 20 && std::memcmp(b.data(), sig, 8) == 0 &&
         std::memcmp(b.data() + b.size() - 12, iend, 12) == 0;
}

template <class J>
void render(const std::string& path, J& job) {
  // PLplot reads "%n" in a file name as a family member number.
  if (job.tmp_path.find("%n") != std::string::npos)
    throw Error(path + ": cannot draw picture: PLplot cannot write to a path containing \"%n\"");
  std::lock_guard<std::mutex> lock(g_mutex);
  // PLplot cannot say why a file fails to open: try it first.
  if (std::FILE* f = std::fopen(job.tmp_path.c_str(), "wb")) {
    std::fclose(f);
  } else {
    const int err = errno;
    throw Error(path + ": cannot create " + job.tmp_path + ": " + std::strerror(err));
  }
  plsexit(on_plexit);
  plsabort(on_plabort);
  g_error[0] = '\0';
  PLINT previous = 0;
  plgstrm(&previous);
  const Drawn drawn = draw(job);
  g_jump = nullptr;
  if (job.stream_open) end_stream_quietly();
  plsstrm(previous);
  const std::string what = path + ": cannot draw chart: ";
  if (drawn == Drawn::NoDriver)
    throw Error(what + "PLplot has no pngcairo driver (install plplot-driver-cairo)");
  if (drawn == Drawn::NoStream) throw Error(what + "no free PLplot stream");
  if (drawn != Drawn::Ok || g_error[0])
    throw Error(what + "PLplot: " + (g_error[0] ? g_error : "unknown error"));
  if (!looks_like_png(job.tmp_path)) throw Error(what + "PLplot wrote no complete PNG");
}

}  // namespace

void plot_png(const std::string& path, const Chart& chart) {
  if (chart.width < 64 || chart.width > 8192 || chart.height < 64 || chart.height > 8192)
    throw Error(path + ": chart size must be 64..8192 pixels each way, found " +
                std::to_string(chart.width) + "x" + std::to_string(chart.height));
  Job job;
  job.title = plplot_text(chart.title);
  job.xlabel = plplot_text(chart.xlabel);
  job.ylabel = plplot_text(chart.ylabel);
  job.width = chart.width;
  job.height = chart.height;

  // Finite runs of each series, and the data range.
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  for (const Series& s : chart.series) {
    if (s.x.size() != s.y.size())
      throw Error(path + ": series \"" + s.label + "\" has " + std::to_string(s.x.size()) +
                  " x values but " + std::to_string(s.y.size()) + " y values");
    auto& runs = job.runs.emplace_back();
    bool in_run = false;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        in_run = false;
        continue;
      }
      if (!in_run) runs.emplace_back(), in_run = true;
      runs.back().x.push_back(s.x[i]);
      runs.back().y.push_back(s.y[i]);
      xlo = std::min(xlo, s.x[i]), xhi = std::max(xhi, s.x[i]);
      ylo = std::min(ylo, s.y[i]), yhi = std::max(yhi, s.y[i]);
    }
  }
  std::tie(job.x0, job.x1) = padded(xlo, xhi);
  if (chart.ylim) {
    const auto [a, b] = *chart.ylim;
    if (!std::isfinite(a) || !std::isfinite(b) || !(a < b))
      throw Error(path + ": ylim must be finite with low < high, found (" + std::to_string(a) +
                  ", " + std::to_string(b) + ")");
    job.y0 = a, job.y1 = b;
  } else {
    std::tie(job.y0, job.y1) = padded(ylo, yhi);
  }
  if (!std::isfinite(job.x1 - job.x0) || !std::isfinite(job.y1 - job.y0))
    throw Error(path + ": cannot plot data spanning more than the largest double");
  job.xticks = make_ticks(job.x0, job.x1, std::clamp(chart.width / 90, 3, 10));
  job.yticks = make_ticks(job.y0, job.y1, std::clamp(chart.height / 80, 3, 10));

  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    if (chart.series[s].label.empty()) continue;  // unlabelled: not in the legend
    job.labels.push_back(plplot_text(chart.series[s].label));
    job.legend_opt.push_back(PL_LEGEND_LINE);
    job.legend_colour.push_back(kSeries + PLINT(s % kCycle.size()));
    job.legend_text_colour.push_back(kText);
    job.legend_style.push_back(1);
    job.legend_width.push_back(2.0 * std::min(chart.width / 800.0, chart.height / 600.0));
    job.clear.push_back(kClear);
  }

  for (const auto& l : job.labels) job.legend_text.push_back(l.c_str());  // labels stay put now

  write_file_atomic(path, [&](const std::string& tmp) {
    job.tmp_path = tmp;
    render(path, job);
  });
}

namespace {
// Paints the rasters into the PNG PLplot wrote, exactly (libpng's simplified
// API: read as RGB on the background colour, write back as RGB).
void paint_rasters(const std::string& path, const std::string& file, const Canvas& canvas) {
  png_image im{};
  im.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&im, file.c_str()))
    throw Error(path + ": cannot read back the picture: " + im.message);
  im.format = PNG_FORMAT_RGB;
  std::vector<png_byte> px(PNG_IMAGE_SIZE(im));
  const png_color bg{png_byte(canvas.background >> 16), png_byte(canvas.background >> 8), png_byte(canvas.background)};
  if (!png_image_finish_read(&im, &bg, px.data(), 0, nullptr))
    throw Error(path + ": cannot read back the picture: " + im.message);
  const long W = long(im.width), H = long(im.height);
  auto put = [&](long x, long y, int g) {
    if (x < 0 || y < 0 || x >= W || y >= H) return;  // clipped to the page
    png_byte* p = &px[std::size_t((y * W + x) * 3)];
    p[0] = p[1] = p[2] = png_byte(g);
  };
  for (const Canvas::Raster& r : canvas.rasters) {
    const long w = long(r.cols) * r.scale, h = long(r.rows) * r.scale;
    if (r.frame >= 0)
      for (long i = -1; i <= w; ++i)
        for (long j = -1; j <= h; ++j)
          if (i < 0 || j < 0 || i == w || j == h) put(r.x + i, r.y + j, r.frame);
    for (long j = 0; j < h; ++j)
      for (long i = 0; i < w; ++i) put(r.x + i, r.y + j, r.grey[std::size_t(j / r.scale) * r.cols + std::size_t(i / r.scale)]);
  }
  png_image out{};
  out.version = PNG_IMAGE_VERSION;
  out.width = im.width;
  out.height = im.height;
  out.format = PNG_FORMAT_RGB;
  png_image_free(&im);
  if (!png_image_write_to_file(&out, file.c_str(), 0, px.data(), 0, nullptr))
    throw Error(path + ": cannot write PNG: " + out.message);
}
}  // namespace

void draw_png(const std::string& path, const Canvas& canvas) {
  if (canvas.width < 16 || canvas.width > 8192 || canvas.height < 16 || canvas.height > 8192)
    throw Error(path + ": picture size must be 16..8192 pixels each way, found " + std::to_string(canvas.width) +
                "x" + std::to_string(canvas.height));
  CanvasJob job;
  job.canvas = &canvas;
  job.width = canvas.width;
  job.height = canvas.height;
  for (const auto& t : canvas.texts) job.texts.push_back(plplot_text(t.text));
  for (const auto& r : canvas.rasters)
    if (r.scale < 1 || r.grey.size() != r.rows * r.cols)
      throw Error(path + ": a raster of " + std::to_string(r.rows) + "x" + std::to_string(r.cols) + " has " +
                  std::to_string(r.grey.size()) + " values");
  write_file_atomic(path, [&](const std::string& tmp) {
    job.tmp_path = tmp;
    render(path, job);
    if (!canvas.rasters.empty()) paint_rasters(path, tmp, canvas);
  });
}

}  // namespace convnet
