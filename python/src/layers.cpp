// The engine's layers (src/core/layers/) for python/convnet/layers.py, which
// gives them the book's constructors and attributes (common/layers.py).
// Each box owns the engine layer and copies of its inputs: the engine keeps
// pointers to x until backward (Affine keeps self.x), so x must live here,
// not in a NumPy temporary. Outputs are new arrays, as the book's are.
#include <memory>

#include "bindings.hpp"

namespace convnet::python {
namespace {

template <class T, class L>
struct Box {
  std::unique_ptr<L> layer;
  Tensor<T> x, dout;
  std::atomic_flag busy;
};

template <class T, class L>
py::array_t<T> forward(Box<T, L>& b, py::handle x, Mode mode, const char* name) {
  Busy guard(b.busy, name);
  copy_in<T>(x, b.x, "x");
  const Tensor<T>* out;
  {
    py::gil_scoped_release nogil;
    out = &b.layer->forward(b.x, mode);
  }
  return copy_out(*out);
}

template <class T, class L>
py::array_t<T> backward(Box<T, L>& b, py::handle dout, const char* name) {
  Busy guard(b.busy, name);
  if (!b.layer) throw py::value_error(std::string(name) + ".backward: called before forward");
  copy_in<T>(dout, b.dout, "dout");
  const Tensor<T>* dx;
  {
    py::gil_scoped_release nogil;
    dx = &b.layer->backward(b.dout);
  }
  return copy_out(*dx);
}

// The engine layer, once a forward has built it.
template <class T, class L>
L& built(Box<T, L>& b, const char* name) {
  if (!b.layer) throw py::value_error(std::string(name) + ": no gradients before forward and backward");
  return *b.layer;
}

// W and b as the layer holds them now: the Python object's arrays are the
// parameters (the book's layers share them with network.params, and an
// optimizer updates them in place), so each forward copies them in. Same
// shapes: a copy into the engine's tensors; new shapes: a new engine layer,
// whose constructor checks them.
template <class T, class L, class Make>
void set_wb(Box<T, L>& box, py::handle W, py::handle b, Make make) {
  auto w = as_carray<T>(W, "W");
  auto bb = as_carray<T>(b, "b");
  if (box.layer && shape_of(w) == box.layer->W.shape() && shape_of(bb) == box.layer->b.shape()) {
    std::memcpy(box.layer->W.data(), w.data(), box.layer->W.size() * sizeof(T));
    std::memcpy(box.layer->b.data(), bb.data(), box.layer->b.size() * sizeof(T));
    return;
  }
  Tensor<T> wt, bt;
  copy_in(w, wt, "W");
  copy_in(bb, bt, "b");
  box.layer = make(std::move(wt), std::move(bt));
}

template <class T>
void bind(py::module_& m, const std::string& s) {
  struct Conv : Box<T, Convolution<T>> {
    std::size_t stride = 1, pad = 0;  // the engine layer is built at the first forward, from W
  };
  py::class_<Conv>(m, ("Convolution" + s).c_str())
      .def(py::init([](std::size_t stride, std::size_t pad) {
        if (stride == 0) throw py::value_error("Convolution: stride must be >= 1, got 0");
        auto c = std::make_unique<Conv>();
        c->stride = stride, c->pad = pad;
        return c;
      }))
      .def("forward", [](Conv& c, py::handle W, py::handle b, py::handle x) {
        {
          Busy guard(c.busy, "Convolution");
          set_wb<T>(c, W, b, [&](Tensor<T> w, Tensor<T> bb) {
            return std::make_unique<Convolution<T>>(std::move(w), std::move(bb), c.stride, c.pad);
          });
        }
        return forward<T>(c, x, Mode::Train, "Convolution");
      })
      .def("backward", [](Conv& c, py::handle dout) { return backward<T>(c, dout, "Convolution"); })
      .def("dW", [](Conv& c) { return copy_out(built<T>(c, "Convolution").dW); })
      .def("db", [](Conv& c) { return copy_out(built<T>(c, "Convolution").db); });

  using Aff = Box<T, Affine<T>>;
  py::class_<Aff>(m, ("Affine" + s).c_str())
      .def(py::init<>())
      .def("forward", [](Aff& a, py::handle W, py::handle b, py::handle x) {
        {
          Busy guard(a.busy, "Affine");
          set_wb(a, W, b, [](Tensor<T> w, Tensor<T> bb) { return std::make_unique<Affine<T>>(std::move(w), std::move(bb)); });
        }
        return forward(a, x, Mode::Train, "Affine");
      })
      .def("backward", [](Aff& a, py::handle dout) { return backward(a, dout, "Affine"); })
      .def("dW", [](Aff& a) { return copy_out(built<T>(a, "Affine").dW); })
      .def("db", [](Aff& a) { return copy_out(built<T>(a, "Affine").db); });

  using Pool = Box<T, Pooling<T>>;
  py::class_<Pool>(m, ("Pooling" + s).c_str())
      .def(py::init([](std::size_t pool_h, std::size_t pool_w, std::size_t stride, std::size_t pad) {
        auto p = std::make_unique<Pool>();
        p->layer = std::make_unique<Pooling<T>>(pool_h, pool_w, stride, pad);
        return p;
      }))
      .def("forward", [](Pool& p, py::handle x) { return forward(p, x, Mode::Train, "Pooling"); })
      .def("backward", [](Pool& p, py::handle dout) { return backward(p, dout, "Pooling"); });

  using R = Box<T, Relu<T>>;
  py::class_<R>(m, ("Relu" + s).c_str())
      .def(py::init([] {
        auto r = std::make_unique<R>();
        r->layer = std::make_unique<Relu<T>>();
        return r;
      }))
      .def("forward", [](R& r, py::handle x) { return forward(r, x, Mode::Train, "Relu"); })
      .def("backward", [](R& r, py::handle dout) { return backward(r, dout, "Relu"); });

  using S = Box<T, Sigmoid<T>>;
  py::class_<S>(m, ("Sigmoid" + s).c_str())
      .def(py::init([] {
        auto r = std::make_unique<S>();
        r->layer = std::make_unique<Sigmoid<T>>();
        return r;
      }))
      .def("forward", [](S& r, py::handle x) { return forward(r, x, Mode::Train, "Sigmoid"); })
      .def("backward", [](S& r, py::handle dout) { return backward(r, dout, "Sigmoid"); });

  // Dropout's masks come from NumPy's global random state (the book's
  // np.random.rand(*x.shape) > dropout_ratio): the engine layer draws from a
  // RandomState loaded from NumPy's and written back after.
  struct Drop : Box<T, Dropout<T>> {
    RandomState rng;
  };
  py::class_<Drop>(m, ("Dropout" + s).c_str())
      .def(py::init([](double ratio) {
        auto d = std::make_unique<Drop>();
        d->layer = std::make_unique<Dropout<T>>(ratio, &d->rng);
        return d;
      }))
      .def("forward", [](Drop& d, py::handle x, bool train) {
        if (!train) return forward<T>(d, x, Mode::Eval, "Dropout");
        rng_from_numpy(d.rng);
        auto out = forward<T>(d, x, Mode::Train, "Dropout");
        rng_to_numpy(d.rng);
        return out;
      })
      .def("backward", [](Drop& d, py::handle dout) { return backward<T>(d, dout, "Dropout"); });

  // The book's BatchNormalization; gamma, beta and the running statistics
  // are the Python object's (copied in before each forward, the running
  // statistics copied back out after a training one, as the book rebinds them).
  struct BN : Box<T, BatchNormalization<T>> {
    double momentum = 0.9;  // the engine layer is built at the first forward, from gamma
  };
  py::class_<BN>(m, ("BatchNormalization" + s).c_str())
      .def(py::init([](double momentum) {
        if (!(momentum >= 0 && momentum <= 1))
          throw py::value_error("BatchNormalization: momentum must be in [0, 1], got " + std::to_string(momentum));
        auto b = std::make_unique<BN>();
        b->momentum = momentum;
        return b;
      }))
      .def("forward", [](BN& b, py::handle gamma, py::handle beta, py::handle running_mean,
                         py::handle running_var, py::handle x, bool train) {
        {
          Busy guard(b.busy, "BatchNormalization");
          auto g = as_carray<T>(gamma, "gamma");
          auto be = as_carray<T>(beta, "beta");
          auto rm = as_carray<T>(running_mean, "running_mean");
          auto rv = as_carray<T>(running_var, "running_var");
          if (!b.layer || shape_of(g) != b.layer->gamma.shape() || shape_of(be) != b.layer->beta.shape()) {
            Tensor<T> gt, bt;
            copy_in(g, gt, "gamma");
            copy_in(be, bt, "beta");
            b.layer = std::make_unique<BatchNormalization<T>>(std::move(gt), std::move(bt), b.momentum);
          } else {
            std::memcpy(b.layer->gamma.data(), g.data(), b.layer->gamma.size() * sizeof(T));
            std::memcpy(b.layer->beta.data(), be.data(), b.layer->beta.size() * sizeof(T));
          }
          auto& L = *b.layer;
          if (shape_of(rm) != L.running_mean.shape() || shape_of(rv) != L.running_var.shape())
            throw py::value_error("BatchNormalization: expected running_mean and running_var of shape " +
                                  shape_str(L.running_mean.shape()) + " like gamma, got " +
                                  shape_str(shape_of(rm)) + " and " + shape_str(shape_of(rv)));
          std::memcpy(L.running_mean.data(), rm.data(), L.running_mean.size() * sizeof(T));
          std::memcpy(L.running_var.data(), rv.data(), L.running_var.size() * sizeof(T));
        }
        return forward<T>(b, x, train ? Mode::Train : Mode::Eval, "BatchNormalization");
      })
      .def("backward", [](BN& b, py::handle dout) { return backward<T>(b, dout, "BatchNormalization"); })
      .def("dgamma", [](BN& b) { return copy_out(built<T>(b, "BatchNormalization").dgamma); })
      .def("dbeta", [](BN& b) { return copy_out(built<T>(b, "BatchNormalization").dbeta); })
      .def("running_mean", [](BN& b) { return copy_out(built<T>(b, "BatchNormalization").running_mean); })
      .def("running_var", [](BN& b) { return copy_out(built<T>(b, "BatchNormalization").running_var); });

  struct Loss {
    SoftmaxWithLoss<T> layer;
    Tensor<T> x, t_one_hot;
    std::vector<std::int32_t> t;
    bool forwarded = false;
    std::atomic_flag busy;
  };
  py::class_<Loss>(m, ("SoftmaxWithLoss" + s).c_str())
      .def(py::init<>())
      .def("forward", [](Loss& l, py::handle x, py::handle t) {
        Busy guard(l.busy, "SoftmaxWithLoss");
        copy_in<T>(x, l.x, "x");
        const bool one_hot = read_labels<T>(t, l.t, l.t_one_hot, "t");
        py::gil_scoped_release nogil;
        const T loss = one_hot ? l.layer.forward(l.x, l.t_one_hot) : l.layer.forward(l.x, l.t);
        l.forwarded = true;
        return double(loss);
      })
      .def("backward", [](Loss& l, double dout) {
        Busy guard(l.busy, "SoftmaxWithLoss");
        if (!l.forwarded) throw py::value_error("SoftmaxWithLoss.backward: called before forward");
        const Tensor<T>* dx;
        {
          py::gil_scoped_release nogil;
          dx = &l.layer.backward(T(dout));
        }
        return copy_out(*dx);
      })
      .def("y", [](Loss& l) { return copy_out(l.layer.y()); });
}

}  // namespace

void bind_layers(py::module_& m) {
  bind<double>(m, "_f64");
  bind<float>(m, "_f32");
}

}  // namespace convnet::python
