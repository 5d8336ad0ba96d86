// The engine's networks (Sequential<T>, SimpleConvNet<T>) for
// python/convnet/network.py. params() are views of the engine's own
// parameter memory, so an optimizer written in Python (the book's Adam)
// updating them in place updates the network; the views keep the box alive.
#include <memory>

#include <convnet/train/evaluate.hpp>

#include "bindings.hpp"

namespace convnet::python {
namespace {

template <class T>
struct NetBox {
  RandomState rng;  // declared first: the network's Dropout layers point to it
  std::unique_ptr<Sequential<T>> net;
  bool draws = false;  // has Dropout: NumPy's random state is synced around Train passes
  Tensor<T> x, t_one_hot;
  std::vector<std::int32_t> t;
  std::atomic_flag busy;
};

// Builds the network drawing its weights from NumPy's global random state
// (the book's np.random.randn calls, in its order), which then moves on.
template <class T, class Make>
std::unique_ptr<NetBox<T>> build(Make make) {
  auto box = std::make_unique<NetBox<T>>();
  rng_from_numpy(box->rng);
  box->net = make(box->rng);
  rng_to_numpy(box->rng);
  for (const auto& l : box->net->architecture().layers) box->draws |= l.type == LayerType::Dropout;
  return box;
}

// Runs f (GIL released) on the box's network; a Train pass through Dropout
// draws from NumPy's random state.
template <class T, class F>
auto run(NetBox<T>& b, bool train, F f) {
  const bool sync = train && b.draws;
  if (sync) rng_from_numpy(b.rng);
  decltype(f()) r;
  {
    py::gil_scoped_release nogil;
    r = f();
  }
  if (sync) rng_to_numpy(b.rng);
  return r;
}

// numpy_exact: the notebook's algorithms in NumPy's operation order (bit for
// bit NumPy's results in float64); otherwise the fast kernels, float64 too.
Kernels kernels(bool numpy_exact) { return numpy_exact ? Kernels::NumpyExact : Kernels::Fast; }

template <class T>
py::dict named(const NamedTensors<T>& ts, py::handle owner, bool view) {
  py::dict d;  // insertion order: W1, b1, W2, ... as the book's dicts
  for (const auto& [name, t] : ts) d[py::str(name)] = view ? py::object(view_of(*t, owner)) : py::object(copy_out(*t));
  return d;
}

template <class T>
void bind(py::module_& m, const std::string& s) {
  using B = NetBox<T>;
  py::class_<B>(m, ("Network" + s).c_str())
      .def_static("simple_convnet",
                  [](std::array<std::size_t, 3> input_dim, std::size_t filter_num, std::size_t filter_size,
                     std::size_t pad, std::size_t stride, std::size_t hidden_size, std::size_t output_size,
                     double weight_init_std, bool numpy_exact) {
                    SimpleConvNetConfig c;
                    c.input_dim = input_dim;
                    c.conv_param = {filter_num, filter_size, pad, stride};
                    c.hidden_size = hidden_size;
                    c.output_size = output_size;
                    c.weight_init_std = weight_init_std;
                    return build<T>(
                        [&](RandomState& rng) { return std::make_unique<SimpleConvNet<T>>(c, rng, kernels(numpy_exact)); });
                  })
      .def_static("sequential",
                  [](const std::string& json, const std::string& source, bool numpy_exact) {
                    const Architecture arch = Architecture::from_json(json, source);
                    return build<T>(
                        [&](RandomState& rng) { return std::make_unique<Sequential<T>>(arch, rng, kernels(numpy_exact)); });
                  })
      .def("predict", [](B& b, py::handle x, bool train) {
        Busy guard(b.busy, "predict");
        copy_in<T>(x, b.x, "x");
        const Tensor<T>* y = run(b, train, [&] { return &b.net->predict(b.x, train ? Mode::Train : Mode::Eval); });
        return copy_out(*y);
      })
      .def("loss", [](B& b, py::handle x, py::handle t, bool train) {
        Busy guard(b.busy, "loss");
        copy_in<T>(x, b.x, "x");
        if (read_labels<T>(t, b.t, b.t_one_hot, "t"))  // the engine's one-hot loss is a Train pass
          return double(run(b, true, [&] { return b.net->loss(b.x, b.t_one_hot); }));
        return double(run(b, train, [&] { return b.net->loss(b.x, b.t, train ? Mode::Train : Mode::Eval); }));
      })
      .def("gradient", [](py::object self, py::handle x, py::handle t) {
        B& b = self.cast<B&>();
        Busy guard(b.busy, "gradient");
        copy_in<T>(x, b.x, "x");
        const bool one_hot = read_labels<T>(t, b.t, b.t_one_hot, "t");
        const NamedTensors<T>* g = run(b, true, [&] {
          return one_hot ? &b.net->gradient(b.x, b.t_one_hot) : &b.net->gradient(b.x, b.t);
        });
        return named(*g, self, false);  // new arrays, as the book's gradient() returns
      })
      .def("count_correct", [](B& b, py::handle x, py::handle t) {
        Busy guard(b.busy, "accuracy");
        copy_in<T>(x, b.x, "x");
        if (read_labels<T>(t, b.t, b.t_one_hot, "t"))
          throw py::value_error("accuracy: expected integer labels here (one-hot rows are argmax-ed by the caller)");
        return run(b, false, [&] { return b.net->count_correct(b.x, b.t); });
      })
      .def("params", [](py::object self) { return named(self.cast<B&>().net->params(), self, true); })
      .def("buffers", [](py::object self) { return named(self.cast<B&>().net->buffers(), self, true); })
      .def("layer_names", [](B& b) {
        std::vector<std::string> names;
        for (const auto& [name, layer] : b.net->layers()) names.push_back(name);
        return names;
      })
      .def("architecture_json", [](B& b) { return b.net->architecture().to_json(); })
      .def("numpy_exact", [](B& b) { return b.net->kernels() == Kernels::NumpyExact; })
      .def("eval_forward_size", [](B& b, std::size_t batch_size) {
        return eval_forward_size(b.net->architecture(), b.net->kernels(), sizeof(T), batch_size);
      })
      .def("loss_train_mode", [](B& b) { return b.net->architecture().loss_train_mode; });
}

}  // namespace

void bind_networks(py::module_& m) {
  bind<double>(m, "_f64");
  bind<float>(m, "_f32");
}

}  // namespace convnet::python
