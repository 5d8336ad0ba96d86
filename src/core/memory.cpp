#include "convnet/core/memory.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "convnet/core/error.hpp"

namespace convnet {

std::size_t sat_add(std::size_t a, std::size_t b) {
  std::size_t r;
  return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}
std::size_t sat_mul(std::size_t a, std::size_t b) {
  std::size_t r;
  return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

std::size_t MemoryEstimate::total() const {
  std::size_t t = 0;
  for (std::size_t v : {params, grads, optimizer, scratch, train_batch, eval_batch, data}) t = sat_add(t, v);
  return t;
}

MemoryEstimate estimate_memory(const std::vector<LayerFootprint>& layers, std::size_t elem_size,
                               const MemoryUse& use) {
  MemoryEstimate e;
  auto note = [&](const std::string& what, std::size_t bytes) {
    if (bytes > e.largest_bytes) e.largest_bytes = bytes, e.largest = what;
  };
  const std::string batch = " for a batch of ";
  for (const auto& l : layers) {
    const std::size_t p = sat_mul(l.params, elem_size);
    e.params = sat_add(e.params, p);
    note(l.name + " parameters", p);
    const std::size_t s = sat_mul(l.scratch, elem_size);
    e.scratch = sat_add(e.scratch, s);
    note(l.name + " buffers", s);
    const std::size_t ev = sat_mul(sat_mul(l.eval_sample, elem_size), use.eval_batch_size);
    e.eval_batch = sat_add(e.eval_batch, ev);
    note(l.name + " activations" + batch + std::to_string(use.eval_batch_size), ev);
    if (!use.training) continue;
    e.grads = sat_add(e.grads, p);
    e.optimizer = sat_add(e.optimizer, sat_mul(p, use.optimizer_copies));
    note(l.name + " optimizer state", sat_mul(p, use.optimizer_copies));
    const std::size_t tr = sat_mul(sat_mul(l.train_sample, elem_size), use.batch_size);
    e.train_batch = sat_add(e.train_batch, tr);
    note(l.name + " activations" + batch + std::to_string(use.batch_size), tr);
  }
  if (use.training)  // the minibatch's indices (size_t) and labels (int32)
    e.train_batch = sat_add(e.train_batch, sat_mul(use.batch_size, sizeof(std::size_t) + 4));
  e.eval_batch = sat_add(e.eval_batch, sat_mul(use.eval_batch_size, 4));
  e.data = use.data_bytes;
  note("the data set", e.data);
  return e;
}

namespace {
// A number of bytes from a cgroup limit file; SIZE_MAX for "max" or absent.
std::size_t read_limit(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  if (!(f >> s) || s == "max") return SIZE_MAX;
  try {
    const unsigned long long v = std::stoull(s);
    return v >= SIZE_MAX ? SIZE_MAX : std::size_t(v);
  } catch (...) {
    return SIZE_MAX;
  }
}

// The lowest limit in `file` at the cgroup `rel` under `root` or any ancestor
// (a parent's limit binds its children too).
std::size_t lowest_limit(const std::string& root, std::string rel, const std::string& file) {
  std::size_t lo = SIZE_MAX;
  while (true) {
    lo = std::min(lo, read_limit(root + rel + "/" + file));
    if (rel.empty() || rel == "/") break;
    const auto slash = rel.rfind('/');
    rel = slash == std::string::npos ? "" : rel.substr(0, slash);
  }
  return lo;
}
}  // namespace

AvailableMemory available_memory() {
  AvailableMemory a;
  {
    std::ifstream f("/proc/meminfo");
    std::string key, unit;
    unsigned long long kb = 0;
    while (f >> key >> kb) {
      std::getline(f, unit);
      if (key == "MemAvailable:") {
        a.bytes = sat_mul(std::size_t(kb), 1024);
        a.source = "MemAvailable";
        break;
      }
    }
  }
  // /proc/self/cgroup: "0::/path" (v2) and "N:...memory...:/path" (v1).
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    const auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    const std::string controllers = line.substr(c1 + 1, c2 - c1 - 1), rel = line.substr(c2 + 1);
    std::size_t lim = SIZE_MAX;
    std::string source;
    if (line.compare(0, c1, "0") == 0 && controllers.empty()) {
      lim = std::min(lowest_limit("/sys/fs/cgroup", rel, "memory.max"),
                     lowest_limit("/sys/fs/cgroup/unified", rel, "memory.max"));
      source = "cgroup memory.max";
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      // v1 reports "no limit" as a huge page-aligned number: read_limit keeps it.
      lim = lowest_limit("/sys/fs/cgroup/memory", rel, "memory.limit_in_bytes");
      source = "cgroup memory.limit_in_bytes";
    }
    if (lim < a.bytes) a.bytes = lim, a.source = source;
  }
  return a;
}

std::string format_bytes(std::size_t bytes) {
  if (bytes == SIZE_MAX) return "more than 16 EiB";
  static const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) v /= 1024, ++u;
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%zu bytes", bytes);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

void check_memory(const MemoryEstimate& need, const std::string& what, const AvailableMemory& avail) {
  const std::size_t total = need.total();
  if (total != SIZE_MAX && total <= avail.bytes) return;
  std::string msg = what + " needs about " + format_bytes(total);
  if (!need.largest.empty()) msg += " (largest: " + need.largest + ", " + format_bytes(need.largest_bytes) + ")";
  if (avail.bytes == SIZE_MAX)
    msg += ", more than any machine has";
  else
    msg += ", more than the " + format_bytes(avail.bytes) + " available (" + avail.source + ")";
  throw Error(msg);
}

}  // namespace convnet
