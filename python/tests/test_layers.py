"""convnet.layers against the book's NumPy layers (book.py), numerical gradients,
the book's attribute semantics, float32 and errors."""
import numpy as np
import pytest

import book
from convnet import layers


def rs(seed=0):
    return np.random.RandomState(seed)


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_relu_and_sigmoid_match_book():
    x = rs().randn(3, 2, 4, 5)
    d = rs(1).randn(*x.shape)
    for ours, theirs in ((layers.Relu(), book.Relu()), (layers.Sigmoid(), book.Sigmoid())):
        close(ours.forward(x), theirs.forward(x), 1e-15)
        close(ours.backward(d), theirs.backward(d), 1e-15)


def test_affine_matches_book_and_keeps_its_input():
    W, b = rs().randn(24, 5), rs(1).randn(5)
    ours, theirs = layers.Affine(W, b), book.Affine(W, b)
    x = rs(2).randn(3, 2, 3, 4)                        # flattened to (3, 24), as the book's
    out = ours.forward(x * 1.0)                         # a temporary: the layer must keep its own copy
    close(out, theirs.forward(x))
    d = rs(3).randn(3, 5)
    dx = ours.backward(d)
    close(dx, theirs.backward(d))
    assert dx.shape == x.shape
    close(ours.dW, theirs.dW)
    close(ours.db, theirs.db)


@pytest.mark.parametrize('stride,pad', [(1, 0), (2, 1), (1, 2)])
def test_convolution_matches_book(stride, pad):
    W, b = rs().randn(4, 3, 3, 3), rs(1).randn(4)
    ours, theirs = layers.Convolution(W, b, stride, pad), book.Convolution(W, b, stride, pad)
    x = rs(2).randn(2, 3, 7, 6)
    out = ours.forward(x)
    close(out, theirs.forward(x))
    d = rs(3).randn(*out.shape)
    close(ours.backward(d), theirs.backward(d))
    assert ours.dW.shape == W.shape and ours.db.shape == b.shape
    close(ours.dW, theirs.dW)
    close(ours.db, theirs.db)


@pytest.mark.parametrize('ph,pw,stride', [(2, 2, 2), (3, 3, 1), (2, 3, 2)])
def test_pooling_matches_book(ph, pw, stride):
    x = rs().randn(2, 3, 8, 7)
    ours, theirs = layers.Pooling(ph, pw, stride), book.Pooling(ph, pw, stride)
    out = ours.forward(x)
    np.testing.assert_array_equal(out, theirs.forward(x))
    d = rs(1).randn(*out.shape)
    close(ours.backward(d), theirs.backward(d), 1e-15)


def test_pooling_default_stride_is_the_notebooks():
    # In [8]: stride=1 (the book's common/layers.py has 2)
    x = rs().randn(1, 1, 4, 4)
    assert layers.Pooling(2, 2).forward(x).shape == (1, 1, 3, 3)


def test_softmax_with_loss_matches_book_int_and_one_hot():
    x = rs().randn(6, 4)
    t = np.array([0, 3, 1, 2, 2, 0], dtype=np.uint8)   # load_mnist's label dtype
    for labels in (t, np.eye(4)[t]):
        ours, theirs = layers.SoftmaxWithLoss(), book.SoftmaxWithLoss()
        loss = ours.forward(x, labels)
        assert isinstance(loss, np.float64)
        assert loss == pytest.approx(theirs.forward(x, labels), rel=1e-14)
        close(ours.y, theirs.y, 1e-15)
        close(ours.backward(), theirs.backward(), 1e-15)


def test_batchnorm_matches_book_train_and_test():
    gamma, beta = rs().rand(12) + 0.5, rs(1).randn(12)
    ours, theirs = layers.BatchNormalization(gamma, beta), book.BatchNormalization(gamma, beta)
    for step in range(3):
        x = rs(2 + step).randn(5, 3, 2, 2)              # (N, C, H, W) seen as (N, 12), as the book's
        close(ours.forward(x), theirs.forward(x))
        d = rs(9).randn(*x.shape)
        close(ours.backward(d), theirs.backward(d), 1e-10)
        close(ours.dgamma, theirs.dgamma)
        close(ours.dbeta, theirs.dbeta)
    close(ours.running_mean, theirs.running_mean)
    close(ours.running_var, theirs.running_var)
    x = rs(7).randn(4, 3, 2, 2)
    close(ours.forward(x, train_flg=False), theirs.forward(x, train_flg=False))
    mean = ours.running_mean.copy()
    ours.forward(x, train_flg=False)
    np.testing.assert_array_equal(ours.running_mean, mean)   # only training updates them


def test_batchnorm_given_running_statistics():
    gamma, beta = np.ones(3), np.zeros(3)
    bn = layers.BatchNormalization(gamma, beta, momentum=0.5, running_mean=np.full(3, 2.0), running_var=np.full(3, 4.0))
    x = np.array([[2.0, 4.0, 6.0]])
    close(bn.forward(x, train_flg=False), (x - 2.0) / np.sqrt(4.0 + 10e-7))


def test_dropout_masks_come_from_numpys_global_state():
    x = rs().randn(4, 6)
    np.random.seed(3)
    ours = layers.Dropout(0.3)
    out = ours.forward(x)
    after_ours = np.random.rand()
    np.random.seed(3)
    theirs = book.Dropout(0.3)
    np.testing.assert_array_equal(out, theirs.forward(x))
    assert np.random.rand() == after_ours                    # NumPy's stream moved on by the same draws
    d = rs(1).randn(*x.shape)
    np.testing.assert_array_equal(ours.backward(d), theirs.backward(d))
    np.testing.assert_array_equal(ours.forward(x, train_flg=False), theirs.forward(x, train_flg=False))


def test_parameters_are_the_python_arrays():
    # The book's layers share W with network.params: an in-place update must reach the layer.
    W, b = rs().randn(4, 3), np.zeros(3)
    aff = layers.Affine(W, b)
    x = rs(1).randn(2, 4)
    before = aff.forward(x)
    W *= 2
    b += 1
    close(aff.forward(x), before * 2 + 1)
    aff.W = rs(2).randn(4, 5)                                # rebinding (new shape) works too
    aff.b = np.zeros(5)
    assert aff.forward(x).shape == (2, 5)


NUM_CASES = {
    'Convolution': lambda: layers.Convolution(rs(1).randn(2, 2, 3, 3), rs(2).randn(2), stride=2, pad=1),
    'Affine': lambda: layers.Affine(rs(1).randn(18, 3), rs(2).randn(3)),
    'Pooling': lambda: layers.Pooling(2, 2, stride=2),
    'Relu': lambda: layers.Relu(),
    'Sigmoid': lambda: layers.Sigmoid(),
    'BatchNormalization': lambda: layers.BatchNormalization(rs(1).rand(18) + 0.5, rs(2).randn(18)),
}


@pytest.mark.parametrize('name', NUM_CASES)
def test_numerical_gradients(name):
    layer = NUM_CASES[name]()
    x = rs(3).randn(2, 2, 3, 3)
    w = rs(4).randn(*layer.forward(x).shape)              # loss = sum(forward(x) * w)

    def f():
        return np.sum(layer.forward(x) * w)

    f()
    dx = layer.backward(w)
    close(dx, book.numerical_gradient(f, x), 1e-6)
    for p, g in (('W', 'dW'), ('b', 'db'), ('gamma', 'dgamma'), ('beta', 'dbeta')):
        if hasattr(layer, p):
            f()
            layer.backward(w)
            analytic = getattr(layer, g)
            close(analytic, book.numerical_gradient(f, getattr(layer, p)), 1e-6)


def test_softmax_with_loss_numerical_gradient():
    x = rs().randn(3, 5)
    t = np.array([1, 4, 0])
    layer = layers.SoftmaxWithLoss()
    layer.forward(x, t)
    # the loss takes log(y + 1e-7): its exact derivative differs from (y - t) / N by ~1e-6
    close(layer.backward(), book.numerical_gradient(lambda: layer.forward(x, t), x), 1e-5)


def test_float32():
    W, b = rs().randn(4, 3, 3, 3).astype(np.float32), rs(1).randn(4).astype(np.float32)
    x = rs(2).randn(2, 3, 6, 6).astype(np.float32)
    conv = layers.Convolution(W, b, 1, 1)
    out = conv.forward(x)
    assert out.dtype == np.float32
    ref = book.Convolution(W.astype(np.float64), b.astype(np.float64), 1, 1)
    np.testing.assert_allclose(out, ref.forward(x.astype(np.float64)), rtol=1e-5, atol=1e-5)
    d = rs(3).randn(*out.shape).astype(np.float32)
    assert conv.backward(d).dtype == np.float32 and conv.dW.dtype == np.float32
    ref.backward(d.astype(np.float64))
    np.testing.assert_allclose(conv.dW, ref.dW, rtol=1e-4, atol=1e-4)
    # float32 images with the book's float64 weights compute in float64, as NumPy's np.dot does
    conv64 = layers.Convolution(W.astype(np.float64), b.astype(np.float64), 1, 1)
    assert conv64.forward(x).dtype == np.float64
    assert layers.Relu().forward(x).dtype == np.float32
    assert layers.Relu().forward(x.astype(np.int32)).dtype == np.float64


def test_errors():
    conv = layers.Convolution(np.zeros((4, 3, 3, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r'Convolution: input \(2, 2, 5, 5\) does not match W \(4, 3, 3, 3\)'):
        conv.forward(np.zeros((2, 2, 5, 5)))
    with pytest.raises(ValueError, match=r'Convolution: expected W \(FN, C, FH, FW\) and b \(FN,\)'):
        layers.Convolution(np.zeros((4, 3, 3)), np.zeros(4)).forward(np.zeros((1, 3, 5, 5)))
    with pytest.raises(ValueError, match=r'backward: called before forward'):
        layers.Relu().backward(np.zeros(3))
    conv.forward(np.zeros((2, 3, 5, 5)))
    with pytest.raises(ValueError, match=r'Convolution.backward: expected dout \(2, 4, 3, 3\)'):
        conv.backward(np.zeros((2, 4, 3, 4)))
    aff = layers.Affine(np.zeros((6, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r'Affine: input \(3, 5\) does not flatten to \(N, 6\)'):
        aff.forward(np.zeros((3, 5)))
    loss = layers.SoftmaxWithLoss()
    with pytest.raises(ValueError, match=r'label 7 at row 1 is outside 0..2'):
        loss.forward(np.zeros((2, 3)), np.array([0, 7]))
    with pytest.raises(ValueError, match=r't: expected integer labels \(N,\) or one-hot rows'):
        loss.forward(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r'x: expected 1 to 4 dimensions, got shape \(1, 1, 1, 1, 1\)'):
        layers.Relu().forward(np.zeros((1, 1, 1, 1, 1)))
    with pytest.raises(ValueError, match=r'dropout_ratio: expected a number in \[0, 1\)'):
        layers.Dropout(1.5)
    with pytest.raises(ValueError, match=r'stride: expected an integer >= 1, got 0'):
        layers.Pooling(2, 2, stride=0).forward(np.zeros((1, 1, 4, 4)))
