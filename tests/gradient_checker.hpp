#pragma once
// A Caffe-style gradient checker (caffe/test/test_gradient_check_util.hpp),
// without the macros: compares an analytic gradient against central
// differences, element by element, in double.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "convnet/core/tensor.hpp"

namespace convnet::test {

struct GradCheckResult {
  double max_rel_error = 0;   // over checked points
  std::size_t worst_index = 0;
  std::size_t checked = 0;
  std::size_t skipped = 0;    // points within h of a kink
  double max_abs_grad = 0;    // so a test can insist the gradient is not trivially 0
};

// f: the scalar objective evaluated at the current contents of `x`.
// analytic: d f / d x, computed by the code under test at the unperturbed x.
// kink(i): true when point i lies within h of a non-differentiable point
// (ReLU at 0, a max-pooling tie) — such points are skipped, as Caffe does.
// Relative error as Caffe: |a - n| / max(|a|, |n|, floor). stride > 1
// checks every stride-th element only (large tensors).
inline GradCheckResult check_gradient(Tensor<double>& x, const Tensor<double>& analytic,
                                      const std::function<double()>& f,
                                      const std::function<bool(std::size_t)>& kink = nullptr,
                                      double h = 1e-5, double floor = 1.0, std::size_t stride = 1) {
  GradCheckResult r;
  for (std::size_t i = 0; i < x.size(); i += stride) {
    if (kink && kink(i)) {
      ++r.skipped;
      continue;
    }
    const double orig = x[i];
    x[i] = orig + h;
    const double fp = f();
    x[i] = orig - h;
    const double fm = f();
    x[i] = orig;
    const double numeric = (fp - fm) / (2 * h);
    const double a = analytic[i];
    const double scale = std::max({std::fabs(a), std::fabs(numeric), floor});
    const double rel = std::fabs(a - numeric) / scale;
    if (rel > r.max_rel_error) {
      r.max_rel_error = rel;
      r.worst_index = i;
    }
    r.max_abs_grad = std::max(r.max_abs_grad, std::fabs(a));
    ++r.checked;
  }
  return r;
}

}  // namespace convnet::test
