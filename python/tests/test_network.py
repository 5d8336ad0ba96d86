"""convnet.SimpleConvNet and Sequential: NumPy's random draws, params as views of
the engine's memory, gradients against the notebook's NumPy network, float32,
errors, the GIL, and no leaks."""
import gc
import os
import sys
import threading

import numpy as np
import pytest

import book
import convnet
from convnet import layers, optimizer

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'reference'))
import notebook  # noqa: E402  (the notebook's NumPy classes)

SMALL = dict(input_dim=(1, 10, 10), conv_param={'filter_num': 4, 'filter_size': 3, 'pad': 0, 'stride': 1},
             hidden_size=8, output_size=5, weight_init_std=0.1)


def batch(n=6, shape=(1, 10, 10), classes=5, seed=0):
    r = np.random.RandomState(seed)
    return r.rand(n, *shape).astype(np.float32), r.randint(0, classes, n).astype(np.uint8)


def test_weights_are_numpys_draws_in_the_books_order():
    np.random.seed(0)
    ours = convnet.SimpleConvNet()
    after_ours = np.random.rand()
    np.random.seed(0)
    theirs = notebook.SimpleConvNet()
    assert list(ours.params) == ['W1', 'b1', 'W2', 'b2', 'W3', 'b3']
    for k, v in theirs.params.items():
        assert ours.params[k].dtype == np.float64
        np.testing.assert_array_equal(ours.params[k], v)
    assert np.random.rand() == after_ours


def test_gradient_loss_predict_match_notebook():
    np.random.seed(1)
    ours = convnet.SimpleConvNet(**SMALL)
    np.random.seed(1)
    theirs = notebook.SimpleConvNet(**SMALL)
    x, t = batch()
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-13, atol=1e-15)
    assert ours.loss(x, t) == pytest.approx(theirs.loss(x, t), rel=1e-13)
    g1, g2 = ours.gradient(x, t), theirs.gradient(x, t)
    assert list(g1) == list(g2)
    for k in g2:
        np.testing.assert_allclose(g1[k], g2[k], rtol=1e-12, atol=1e-15)
    one_hot = np.eye(5)[t]
    for k, v in ours.gradient(x, one_hot).items():
        np.testing.assert_allclose(v, g2[k], rtol=1e-12, atol=1e-15)
    assert ours.accuracy(x, t, batch_size=4) == theirs.accuracy(x, t, batch_size=4)   # 4 of 6: notebook's rule
    assert ours.accuracy(x, one_hot, batch_size=3) == theirs.accuracy(x, one_hot, batch_size=3)


@pytest.mark.parametrize('numpy_exact', [False, True])
def test_accuracy_counts_whole_batches_as_the_notebook_in_any_chunking(numpy_exact):
    # 1234 images, batches of 100: the notebook counts the first 1200 and
    # divides by 1234. The fast kernels take 500 at a time (500, 500, 200).
    np.random.seed(2)
    ours = convnet.SimpleConvNet(**SMALL, numpy_exact=numpy_exact)
    np.random.seed(2)
    theirs = notebook.SimpleConvNet(**SMALL)
    x, t = batch(n=1234, seed=3)
    expected = int(np.sum(np.argmax(theirs.predict(x[:1200]), axis=1) == t[:1200]))
    assert 0 < expected < 1200
    assert ours.accuracy(x, t) == expected / 1234 == theirs.accuracy(x, t)


def test_params_are_views_a_python_adam_changes_the_network():
    np.random.seed(2)
    net = convnet.SimpleConvNet(**SMALL)
    x, t = batch()
    before = net.predict(x)
    W1 = net.params['W1']
    assert not W1.flags.owndata
    grad = net.gradient(x, t)
    book.Adam().update(net.params, grad)                       # plain NumPy, in place
    assert not np.array_equal(net.predict(x), before)
    # and the same update through a NumPy copy of the network gives the same scores
    np.random.seed(2)
    ref = notebook.SimpleConvNet(**SMALL)
    book.Adam().update(ref.params, ref.gradient(x, t))
    np.testing.assert_allclose(net.predict(x), ref.predict(x), rtol=1e-12)
    W1[...] = 0                                                # writing a view reaches the engine
    assert np.all(net.predict(x) == net.predict(x)[0])         # no conv features: one row for all


def test_views_keep_the_network_alive():
    np.random.seed(3)
    net = convnet.SimpleConvNet(**SMALL)
    W2 = net.params['W2']
    expected = W2.copy()
    del net
    gc.collect()
    junk = [np.random.rand(1000) for _ in range(100)]          # reuse freed memory, if it were freed
    np.testing.assert_array_equal(W2, expected)
    del junk


def test_float32_network():
    np.random.seed(4)
    n32 = convnet.SimpleConvNet(dtype=np.float32, **SMALL)
    np.random.seed(4)
    n64 = convnet.SimpleConvNet(**SMALL)
    assert n32.params['W1'].dtype == np.float32
    np.testing.assert_array_equal(n32.params['W1'], n64.params['W1'].astype(np.float32))
    x, t = batch()
    assert n32.predict(x).dtype == np.float32
    np.testing.assert_allclose(n32.predict(x), n64.predict(x), rtol=1e-4, atol=1e-6)
    assert isinstance(n32.loss(x, t), np.float32)
    for k, v in n32.gradient(x, t).items():
        assert v.dtype == np.float32
        np.testing.assert_allclose(v, n64.gradient(x, t)[k], rtol=1e-3, atol=1e-6)
    opt = optimizer.Adam()
    for _ in range(3):
        opt.update(n32.params, n32.gradient(x, t))
    assert n32.loss(x, t) < n64.loss(x, t)


def test_sequential_from_dict_matches_simple_convnet():
    arch = {'input': [1, 10, 10], 'weight_init_std': 0.1,
            'layers': [{'type': 'conv', 'filters': 4, 'size': 3}, {'type': 'relu'},
                       {'type': 'pool', 'size': 2, 'stride': 2}, {'type': 'affine', 'units': 8},
                       {'type': 'relu'}, {'type': 'affine', 'units': 5}]}
    np.random.seed(5)
    seq = convnet.Sequential(arch)
    np.random.seed(5)
    simple = convnet.SimpleConvNet(**SMALL)
    x, t = batch()
    for k in simple.params:
        np.testing.assert_array_equal(seq.params[k], simple.params[k])
    np.testing.assert_array_equal(seq.predict(x), simple.predict(x))
    # The fast kernels fuse the first three layers, in float64 too; numpy_exact keeps them.
    assert seq.layer_names == ['Conv1+Relu1+Pool1', 'Affine1', 'Relu2', 'Affine2'] and not seq.numpy_exact
    exact = convnet.Sequential(arch, numpy_exact=True)
    assert exact.layer_names == ['Conv1', 'Relu1', 'Pool1', 'Affine1', 'Relu2', 'Affine2'] and exact.numpy_exact
    assert convnet.Sequential(seq.architecture()).params['W2'].shape == (64, 8)


def test_sequential_dropout_and_batchnorm_draw_from_numpy():
    arch = {'input': [1, 6, 6], 'layers': [{'type': 'affine', 'units': 7}, {'type': 'batchnorm'}, {'type': 'relu'},
                                          {'type': 'dropout', 'ratio': 0.3}, {'type': 'affine', 'units': 3}]}
    x, t = batch(8, (1, 6, 6), 3)
    np.random.seed(6)
    net = convnet.Sequential(arch)
    g1 = net.gradient(x, t)
    after = np.random.rand()
    np.random.seed(6)
    net2 = convnet.Sequential(arch)
    g2 = net2.gradient(x, t)
    assert np.random.rand() == after                           # the masks came from NumPy's stream
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k])
    assert set(net.buffers) == {'running_mean1', 'running_var1'}
    assert np.any(net.buffers['running_mean1'] != 0)           # the training pass updated the view's memory


def test_errors():
    net = convnet.SimpleConvNet(**SMALL)
    x, t = batch()
    with pytest.raises(ValueError, match=r'input \(6, 1, 12, 12\) does not match the architecture'):
        net.predict(np.zeros((6, 1, 12, 12)))
    with pytest.raises(ValueError, match=r'label 9 at row 0 is outside 0..4'):
        net.loss(x, np.full(6, 9))
    with pytest.raises(ValueError, match=r"conv_param\['stride'\]: expected an integer >= 1, got 0"):
        convnet.SimpleConvNet(conv_param={'filter_num': 3, 'filter_size': 3, 'pad': 0, 'stride': 0})
    with pytest.raises(ValueError, match='filter'):
        convnet.SimpleConvNet(input_dim=(1, 4, 4), conv_param={'filter_num': 3, 'filter_size': 7, 'pad': 0, 'stride': 1})
    with pytest.raises(ValueError, match=r'dtype: expected numpy.float32 or numpy.float64, got int32'):
        convnet.SimpleConvNet(dtype=np.int32)
    with pytest.raises(ValueError, match=r'layers\[0\]'):
        convnet.Sequential({'input': [1, 6, 6], 'layers': [{'type': 'pool'}]})
    with pytest.raises(ValueError, match=r'batch_size: expected an integer >= 1, got 0'):
        net.accuracy(x, t, batch_size=0)


def test_gil_is_released_while_the_engine_computes():
    np.random.seed(7)
    net = convnet.SimpleConvNet()
    x = np.random.rand(400, 1, 28, 28)
    t = np.zeros(400, dtype=np.int64)
    done = threading.Event()

    def work():
        for _ in range(2):
            net.gradient(x, t)
        done.set()

    th = threading.Thread(target=work)
    count = 0
    th.start()
    while not done.is_set():
        count += 1                                             # runs only while the engine has let go of the GIL
    th.join()
    assert count > 10000


def rss_kib():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') // 1024


def test_no_leak_over_10000_calls():
    np.random.seed(8)
    net = convnet.SimpleConvNet(**SMALL)
    x, t = batch(2)
    relu, conv = layers.Relu(), layers.Convolution(np.ones((2, 1, 3, 3)), np.zeros(2))

    def calls(n):
        for _ in range(n):
            net.predict(x)
            net.loss(x, t)
            net.gradient(x, t)
            net._impl.params()
            relu.backward(relu.forward(x))
            conv.backward(conv.forward(x))
            convnet.im2col(x, 2, 2)

    calls(1000)
    gc.collect()
    before = rss_kib()
    calls(10000)
    gc.collect()
    grown = rss_kib() - before
    assert grown < 2048, f'RSS grew by {grown} KiB over 10000 calls'


def test_strided_input_and_architecture_files():
    np.random.seed(9)
    net = convnet.SimpleConvNet(**SMALL)
    big = np.random.rand(6, 2, 20, 20)
    x = big[:, :1, ::2, ::2]                                   # strided float64 view
    np.testing.assert_array_equal(net.predict(x), net.predict(np.ascontiguousarray(x)))
    np.testing.assert_array_equal(net.predict(x.astype(np.float32)), net.predict(x.astype(np.float32).copy()))
    repo = os.path.join(os.path.dirname(__file__), '..', '..')
    deep = convnet.Sequential(os.path.join(repo, 'examples', 'deep_convnet.json'), dtype=np.float32)
    assert [k for k in deep.params if k.startswith('W')] == [f'W{i}' for i in range(1, 9)]
    assert deep.predict(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 10)


def test_any_input_dtype_and_layout_reads_as_numpys_astype():
    # float32/float64 C-contiguous inputs are converted by the binding itself,
    # anything else through NumPy: both must read what x.astype(dtype) holds.
    np.random.seed(10)
    base = np.random.rand(4, 1, 10, 10) * 3 - 1
    unaligned = np.frombuffer(b'\0' + base.tobytes(), dtype=np.float64, count=base.size, offset=1).reshape(base.shape)
    assert not unaligned.flags.aligned
    inputs = [base, base.astype(np.float32), base.astype('>f8'), base.astype('>f4'), np.asfortranarray(base),
              base.astype(np.float32)[:, :, ::-1, :], unaligned, (np.abs(base) * 50).astype(np.uint8)]
    for dtype in (np.float64, np.float32):
        np.random.seed(11)
        net = convnet.SimpleConvNet(dtype=dtype, **SMALL)
        for x in inputs:
            want = net.predict(np.ascontiguousarray(x).astype(dtype))
            np.testing.assert_array_equal(net.predict(x), want, err_msg=f'{dtype.__name__} net, input {x.dtype} '
                                          f'c_contiguous={x.flags.c_contiguous} aligned={x.flags.aligned}')
