#include "convnet/io/format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

namespace convnet {

std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // Shortest round-trip digits, then Python's layout rule (float_repr_style
  // 'short'): exponent form when the decimal exponent is < -4 or >= 16.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  const bool neg = s[0] == '-';
  if (neg) s.erase(0, 1);
  const auto epos = s.find('e');
  std::string digits = s.substr(0, epos);
  const int exp10 = std::stoi(s.substr(epos + 1));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  std::string out;
  if (exp10 < -4 || exp10 >= 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    out += e;
  } else if (exp10 < 0) {
    out = "0." + std::string(std::size_t(-exp10 - 1), '0') + digits;
  } else {
    const std::size_t intlen = std::size_t(exp10) + 1;
    if (digits.size() <= intlen)
      out = digits + std::string(intlen - digits.size(), '0') + ".0";
    else
      out = digits.substr(0, intlen) + "." + digits.substr(intlen);
  }
  return neg ? "-" + out : out;
}

namespace {
// One element's text, before alignment.
std::string element(double v, bool integral, int decimals) {
  char buf[64];
  if (integral) {
    std::snprintf(buf, sizeof buf, "%.0f.", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s(buf);
    // maxprec: drop trailing zeros
    while (s.back() == '0') s.pop_back();  // "1.000" -> "1." as NumPy
    return s;
  }
  return buf;
}
}  // namespace

std::string numpy_str(const Tensor<double>& a) {
  bool integral = true;
  for (double v : a)
    if (!(std::floor(v) == v && std::fabs(v) < 1e16)) integral = false;
  std::vector<std::string> items;
  std::size_t width = 0, frac = 0;
  for (double v : a) {
    items.push_back(element(v, integral, 8));
    width = std::max(width, items.back().find('.'));
    frac = std::max(frac, items.back().size() - items.back().find('.'));
  }
  // Align on the point: left pad the integer part, right pad the fraction.
  for (auto& s : items) {
    const std::size_t dot = s.find('.');
    s = std::string(width - dot, ' ') + s + std::string(frac - (s.size() - dot), ' ');
  }
  const auto& shape = a.shape();
  const std::size_t nd = shape.size();
  std::string out;
  std::size_t idx = 0;
  std::function<void(std::size_t, std::size_t)> rec = [&](std::size_t axis, std::size_t indent) {
    out += '[';
    for (std::size_t i = 0; i < shape[axis]; ++i) {
      if (i) {
        if (axis + 1 == nd) {
          out += ' ';
        } else {
          out += std::string(nd - axis - 1, '\n');
          out += std::string(indent + 1, ' ');
        }
      }
      if (axis + 1 == nd)
        out += items[idx++];
      else
        rec(axis + 1, indent + 1);
    }
    out += ']';
  };
  if (nd == 0 || a.size() == 0) return "[]";
  rec(0, 0);
  return out;
}

}  // namespace convnet
