#pragma once
// What the binding files share: NumPy <-> Tensor copies, views, labels, the
// NumPy random state, and the guard against one object used by two threads.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <convnet/engine.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace py = pybind11;

namespace convnet::python {

// A C-contiguous array of T: pybind11 copies (and converts the dtype) only
// when the input is not one already — never reads strided memory as flat.
template <class T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

inline std::vector<std::size_t> shape_of(const py::array& a) {
  return std::vector<std::size_t>(a.shape(), a.shape() + a.ndim());
}

// obj as a C-contiguous array of T; `what` names the argument in errors.
template <class T>
CArray<T> as_carray(py::handle obj, const char* what) {
  auto a = CArray<T>::ensure(obj);
  if (!a) throw py::value_error(std::string(what) + ": expected an array of numbers");
  return a;
}

// a must have 1 to 4 dimensions (what names it in the error).
inline void check_dims(const py::array& a, const char* what) {
  if (a.ndim() < 1 || a.ndim() > 4)
    throw py::value_error(std::string(what) + ": expected 1 to 4 dimensions, got shape " +
                          shape_str(shape_of(a)));
}

// Copies a into t, reusing t's memory.
template <class T>
void copy_in(const CArray<T>& a, Tensor<T>& t, const char* what) {
  check_dims(a, what);
  t.resize(shape_of(a), false);
  if (t.size()) std::memcpy(t.data(), a.data(), t.size() * sizeof(T));
}

// A C-contiguous float32/float64 array is converted straight into t (the
// book's load_mnist gives float32 images to a float64 network): no temporary
// array, whose fresh pages the kernel would zero on every call.
template <class T, class S>
bool convert_in(const py::array& a, Tensor<T>& t, const char* what) {
  constexpr int aligned = py::detail::npy_api::NPY_ARRAY_ALIGNED_;
  if (!py::isinstance<py::array_t<S>>(a) || !(a.flags() & py::array::c_style) || !(a.flags() & aligned)) return false;
  check_dims(a, what);
  t.resize(shape_of(a), false);
  const S* src = static_cast<const S*>(a.data());
  T* dst = t.data();
  for (std::size_t i = 0, n = t.size(); i < n; ++i) dst[i] = T(src[i]);  // NumPy's astype rounding
  return true;
}

template <class T>
void copy_in(py::handle obj, Tensor<T>& t, const char* what) {
  if (py::isinstance<py::array>(obj)) {
    const auto a = py::reinterpret_borrow<py::array>(obj);
    if (convert_in<T, float>(a, t, what) || convert_in<T, double>(a, t, what)) return;
  }
  copy_in(as_carray<T>(obj, what), t, what);
}

// A new NumPy array holding a copy of t (the book's layers return new arrays).
template <class T>
py::array_t<T> copy_out(const Tensor<T>& t) {
  py::array_t<T> a(t.shape());
  if (t.size()) std::memcpy(a.mutable_data(), t.data(), t.size() * sizeof(T));
  return a;
}

// A NumPy view of t's memory; `owner` (the Python object that owns t) stays
// alive as long as the view does.
template <class T>
py::array_t<T> view_of(Tensor<T>& t, py::handle owner) {
  return py::array_t<T>(t.shape(), t.data(), owner);
}

// Labels as the book's SoftmaxWithLoss takes them: integer classes (N,) or
// one-hot rows (N, classes). Returns true for one-hot (then in `one_hot`).
template <class T>
bool read_labels(py::handle obj, std::vector<std::int32_t>& idx, Tensor<T>& one_hot, const char* what) {
  py::array a = py::array::ensure(obj);
  if (!a) throw py::value_error(std::string(what) + ": expected an array of labels");
  if (a.ndim() == 2) {
    copy_in<T>(a, one_hot, what);
    return true;
  }
  const char kind = a.dtype().kind();
  if (a.ndim() != 1 || (kind != 'i' && kind != 'u' && kind != 'b'))
    throw py::value_error(std::string(what) + ": expected integer labels (N,) or one-hot rows (N, classes), got " +
                          std::string(py::str(a.dtype())) + " of shape " + shape_str(shape_of(a)));
  auto v = CArray<std::int64_t>::ensure(a);
  idx.resize(std::size_t(v.size()));
  const std::int64_t* p = v.data();
  for (std::size_t i = 0; i < idx.size(); ++i) {
    if (p[i] < 0 || p[i] > INT32_MAX)
      throw py::value_error(std::string(what) + ": label " + std::to_string(p[i]) + " at index " +
                            std::to_string(i) + " is negative or too large");
    idx[i] = std::int32_t(p[i]);
  }
  return false;
}

// The engine's RandomState and NumPy's global (legacy) one are the same
// generator (MT19937, docs/NUMPY.md): copying the state across makes the
// engine draw exactly what np.random would, and NumPy continue after it.
void rng_from_numpy(RandomState& rng);
void rng_to_numpy(const RandomState& rng);

// The engine's layers and networks keep per-object buffers, and the GIL is
// released while they compute: a second thread entering the same object
// would share them. Refuse it instead (try-lock: nobody waits, no deadlock).
class Busy {
 public:
  Busy(std::atomic_flag& flag, const char* what) : flag_(flag) {
    if (flag_.test_and_set())
      throw std::runtime_error(std::string(what) + ": already in use by another thread");
  }
  ~Busy() { flag_.clear(); }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;

 private:
  std::atomic_flag& flag_;
};

void bind_layers(py::module_& m);
void bind_networks(py::module_& m);

}  // namespace convnet::python
