// _convnet: the C++ engine for Python. The pure-Python package (python/convnet/)
// gives it the book's class and function names; this file binds the free
// functions (im2col, col2im, the optimizer updates, the MNIST reader, the
// random state) and the error translation. Layers: layers.cpp; networks: networks.cpp.
#include <convnet/convnet.hpp>

#include "bindings.hpp"
#include "kernels/kernels.hpp"

namespace convnet::python {

void rng_from_numpy(RandomState& rng) {
  // np.random.get_state(): ('MT19937', key[624], pos, has_gauss, cached_gaussian)
  py::tuple st = py::module_::import("numpy.random").attr("get_state")();
  auto key = CArray<std::uint32_t>::ensure(st[1]);
  if (!key || key.size() != RandomState::kStateLen)
    throw std::runtime_error("numpy.random.get_state(): expected an MT19937 key of 624 words");
  RandomState::State s;
  std::memcpy(s.key.data(), key.data(), sizeof(s.key));
  s.pos = st[2].cast<int>();
  s.has_gauss = st[3].cast<int>();
  s.gauss = st[4].cast<double>();
  rng.set_state(s);
}

void rng_to_numpy(const RandomState& rng) {
  const auto& s = rng.state();
  py::array_t<std::uint32_t> key(RandomState::kStateLen);
  std::memcpy(key.mutable_data(), s.key.data(), sizeof(s.key));
  py::module_::import("numpy.random").attr("set_state")(py::make_tuple("MT19937", key, s.pos, s.has_gauss, s.gauss));
}

namespace {

// notebook In [2]: (N, C, H, W) -> (N*out_h*out_w, C*filter_h*filter_w)
template <class T>
py::array_t<T> im2col_py(py::handle input_data, std::size_t filter_h, std::size_t filter_w, std::size_t stride,
                         std::size_t pad) {
  Tensor<T> x, col;
  copy_in<T>(input_data, x, "input_data");
  {
    py::gil_scoped_release nogil;
    col = im2col(x, filter_h, filter_w, stride, pad);
  }
  return copy_out(col);
}

// notebook In [6]: the adjoint of im2col, back to input_shape (N, C, H, W)
template <class T>
py::array_t<T> col2im_py(py::handle col_in, std::vector<std::size_t> input_shape, std::size_t filter_h,
                         std::size_t filter_w, std::size_t stride, std::size_t pad) {
  Tensor<T> col, img;
  copy_in<T>(col_in, col, "col");
  {
    py::gil_scoped_release nogil;
    img = col2im(col, input_shape, filter_h, filter_w, stride, pad);
  }
  return copy_out(img);
}

// The optimizer updates work on the caller's arrays in place (the book's
// `params[key] -= ...`): optimizer.py hands over C-contiguous arrays of one
// dtype, checked again here because a wrong pointer would corrupt memory.
template <class T>
T* writable(py::array& a, std::size_t n, const char* what) {
  if (!py::isinstance<py::array_t<T>>(a) || !(a.flags() & py::array::c_style) || !a.writeable() ||
      std::size_t(a.size()) != n)
    throw py::value_error(std::string(what) + ": expected a writable C-contiguous array of " + std::to_string(n) +
                          " elements of the parameter's dtype");
  return static_cast<T*>(a.mutable_data());
}
template <class T>
const T* readable(py::array& a, std::size_t n, const char* what) {
  return writable<T>(a, n, what);
}

template <class T>
void bind_updates(py::module_& m, const char* suffix) {
  const std::string s = suffix;
  m.def(("sgd_update" + s).c_str(), [](double lr, py::array g, py::array p) {
    const std::size_t n = p.size();
    T* pp = writable<T>(p, n, "params");
    const T* gg = readable<T>(g, n, "grads");
    py::gil_scoped_release nogil;
    kernels::sgd_update(n, T(lr), gg, pp);
  });
  m.def(("momentum_update" + s).c_str(), [](double lr, double momentum, py::array g, py::array v, py::array p) {
    const std::size_t n = p.size();
    T* pp = writable<T>(p, n, "params");
    T* vv = writable<T>(v, n, "v");
    const T* gg = readable<T>(g, n, "grads");
    py::gil_scoped_release nogil;
    kernels::momentum_update(n, T(lr), T(momentum), gg, vv, pp);
  });
  m.def(("nesterov_update" + s).c_str(), [](double lr, double momentum, py::array g, py::array v, py::array p) {
    const std::size_t n = p.size();
    T* pp = writable<T>(p, n, "params");
    T* vv = writable<T>(v, n, "v");
    const T* gg = readable<T>(g, n, "grads");
    py::gil_scoped_release nogil;
    kernels::nesterov_update(n, T(lr), T(momentum), gg, vv, pp);
  });
  m.def(("adagrad_update" + s).c_str(), [](double lr, py::array g, py::array h, py::array p) {
    const std::size_t n = p.size();
    T* pp = writable<T>(p, n, "params");
    T* hh = writable<T>(h, n, "h");
    const T* gg = readable<T>(g, n, "grads");
    py::gil_scoped_release nogil;
    kernels::adagrad_update(n, T(lr), gg, hh, pp);
  });
  m.def(("rmsprop_update" + s).c_str(), [](double lr, double decay_rate, py::array g, py::array h, py::array p) {
    const std::size_t n = p.size();
    T* pp = writable<T>(p, n, "params");
    T* hh = writable<T>(h, n, "h");
    const T* gg = readable<T>(g, n, "grads");
    py::gil_scoped_release nogil;
    kernels::rmsprop_update(n, T(lr), T(decay_rate), gg, hh, pp);
  });
  // lr_t is computed by the caller in Python floats, as the book does.
  m.def(("adam_update" + s).c_str(), [](double lr_t, double one_m_beta1, double one_m_beta2, py::array g,
                                        py::array mm, py::array v, py::array p) {
    const std::size_t n = p.size();
    T* pp = writable<T>(p, n, "params");
    T* m1 = writable<T>(mm, n, "m");
    T* vv = writable<T>(v, n, "v");
    const T* gg = readable<T>(g, n, "grads");
    py::gil_scoped_release nogil;
    kernels::adam_update(n, T(lr_t), T(one_m_beta1), T(one_m_beta2), gg, m1, vv, pp);
  });
}

// A uint8 array that owns a moved-in vector (no copy of 47 MB of pixels).
py::array_t<std::uint8_t> owned_u8(std::vector<std::uint8_t>&& v, std::vector<std::size_t> shape) {
  auto* heap = new std::vector<std::uint8_t>(std::move(v));
  py::capsule free_it(heap, [](void* p) { delete static_cast<std::vector<std::uint8_t>*>(p); });
  return py::array_t<std::uint8_t>(shape, heap->data(), free_it);
}

// The engine's IDX reader (src/io/mnist.cpp): images (N, C, H, W) and labels
// (N,) as uint8, the book's _load_img/_load_label; mnist.py does the rest.
py::tuple read_mnist(const std::string& dir) {
  Mnist m;
  {
    py::gil_scoped_release nogil;
    m = load_mnist(dir);
  }
  auto part = [](Dataset& d) {
    const std::size_t n = d.count;
    return py::make_tuple(owned_u8(std::move(d.images), {n, d.channels, d.rows, d.cols}),
                          owned_u8(std::move(d.labels), {n}));
  };
  return py::make_tuple(part(m.train), part(m.test));
}

}  // namespace
}  // namespace convnet::python

PYBIND11_MODULE(_convnet, m) {
  using namespace convnet;
  using namespace convnet::python;
  m.doc() = "The convnet C++ engine; use it through the package convnet.";

  // convnet::Error names the input and what was expected (DESIGN.md §5):
  // for Python that is a ValueError; a failure of the machine is an OSError.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  m.def("im2col_f64", &im2col_py<double>);
  m.def("im2col_f32", &im2col_py<float>);
  m.def("col2im_f64", &col2im_py<double>);
  m.def("col2im_f32", &col2im_py<float>);
  bind_updates<double>(m, "_f64");
  bind_updates<float>(m, "_f32");
  m.def("read_mnist", &read_mnist, py::arg("dir"));

  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Threads for the engine's loops and its BLAS calls (0: all cores).");
  m.def("num_threads", &num_threads);
  m.def("blas_info", [] { return std::string(blas_info()); });
  m.def("blas_slow_kernel_warning", []() -> py::object {
    const char* w = blas_slow_kernel_warning();
    return w ? py::object(py::str(w)) : py::object(py::none());
  });
  m.attr("__version__") = version();
  m.attr("source_dir") = CONVNET_SOURCE_DIR;

  bind_layers(m);
  bind_networks(m);
}
