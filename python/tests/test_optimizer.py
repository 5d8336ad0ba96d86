"""convnet.optimizer against the book's common/optimizer.py (book.py): same
arithmetic in float64, updates in place, strided params, errors."""
import numpy as np
import pytest

import book
from convnet import optimizer

NAMES = ['SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSprop', 'Adam']


def make_params(dtype=np.float64):
    r = np.random.RandomState(0)
    return {'W1': r.randn(3, 2, 2, 2).astype(dtype), 'b1': r.randn(3).astype(dtype), 'W2': r.randn(5, 4).astype(dtype)}


def grads_for(params, step):
    r = np.random.RandomState(100 + step)
    return {k: r.randn(*v.shape) for k, v in params.items()}


@pytest.mark.parametrize('name', NAMES)
def test_matches_book_in_place(name):
    ours, theirs = make_params(), make_params()
    arrays = {k: v for k, v in ours.items()}
    o, t = getattr(optimizer, name)(), getattr(book, name)()
    for step in range(5):
        g = grads_for(ours, step)
        o.update(ours, g)
        t.update(theirs, g)
    for k in ours:
        assert ours[k] is arrays[k]                         # the same arrays, changed in place
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize('name', NAMES)
def test_non_default_arguments(name):
    kwargs = {'SGD': dict(lr=0.1), 'Momentum': dict(lr=0.05, momentum=0.5), 'Nesterov': dict(lr=0.05, momentum=0.7),
              'AdaGrad': dict(lr=0.2), 'RMSprop': dict(lr=0.02, decay_rate=0.9),
              'Adam': dict(lr=0.01, beta1=0.8, beta2=0.99)}[name]
    ours, theirs = make_params(), make_params()
    o, t = getattr(optimizer, name)(**kwargs), getattr(book, name)(**kwargs)
    for step in range(3):
        g = grads_for(ours, step)
        o.update(ours, g)
        t.update(theirs, g)
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-14, atol=1e-15)


def test_adam_attributes_as_the_book():
    o = optimizer.Adam()
    p = make_params()
    o.update(p, grads_for(p, 0))
    o.update(p, grads_for(p, 1))
    assert o.iter == 2 and set(o.m) == set(p) and o.v['W2'].shape == (5, 4)


def test_strided_and_float32_params():
    base = np.random.RandomState(1).randn(6, 8)
    ours = {'W': base.copy()[:, ::2]}                     # a strided view: updated through a copy
    theirs = {'W': base.copy()[:, ::2]}
    view = ours['W']
    g = {'W': np.random.RandomState(2).randn(6, 4)}
    optimizer.Adam().update(ours, g)
    book.Adam().update(theirs, g)
    assert ours['W'] is view
    np.testing.assert_allclose(view, theirs['W'], rtol=1e-14)
    p32 = make_params(np.float32)
    ref = {k: v.astype(np.float64) for k, v in p32.items()}
    o, t = optimizer.Adam(), book.Adam()
    for step in range(3):
        g = grads_for(p32, step)
        o.update(p32, g)                                   # float64 grads cast to the params' dtype
        t.update(ref, g)
    for k in p32:
        assert p32[k].dtype == np.float32
        np.testing.assert_allclose(p32[k], ref[k], rtol=1e-5, atol=1e-6)


def test_errors():
    p = make_params()
    with pytest.raises(ValueError, match=r"grads\['W2'\]: expected shape \(5, 4\) like params\['W2'\], got \(4, 5\)"):
        g = grads_for(p, 0)
        g['W2'] = g['W2'].T
        optimizer.SGD().update(p, g)
    with pytest.raises(TypeError, match=r"params\['n'\]: expected a float32 or float64 NumPy array, got int64"):
        optimizer.SGD().update({'n': np.arange(3)}, {'n': np.ones(3)})
    with pytest.raises(KeyError):
        optimizer.Adam().update(p, {'W1': np.zeros((3, 2, 2, 2))})
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match='read-only'):
        optimizer.SGD().update({'r': ro}, {'r': np.ones(3)})
