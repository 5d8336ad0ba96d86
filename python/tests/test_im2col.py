"""convnet.im2col / col2im against the notebook's NumPy In [2] / In [6]."""
import numpy as np
import pytest

import book
import convnet

CASES = [  # (N, C, H, W), filter_h, filter_w, stride, pad
    ((2, 1, 4, 4), 3, 3, 1, 0),
    ((2, 3, 7, 5), 3, 2, 2, 1),
    ((1, 2, 6, 6), 2, 2, 2, 0),
    ((3, 2, 5, 8), 5, 3, 3, 2),
    ((1, 1, 1, 1), 1, 1, 1, 0),
]


@pytest.mark.parametrize('shape,fh,fw,stride,pad', CASES)
def test_im2col_matches_notebook(shape, fh, fw, stride, pad):
    x = np.random.RandomState(1).randn(*shape)
    got = convnet.im2col(x, fh, fw, stride=stride, pad=pad)
    want = book.im2col(x, fh, fw, stride, pad)
    assert got.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize('shape,fh,fw,stride,pad', CASES)
def test_col2im_matches_notebook(shape, fh, fw, stride, pad):
    rows = book.im2col(np.zeros(shape), fh, fw, stride, pad).shape
    col = np.random.RandomState(2).randn(*rows)
    got = convnet.col2im(col, shape, fh, fw, stride=stride, pad=pad)
    want = book.col2im(col, shape, fh, fw, stride, pad)
    assert got.shape == tuple(shape)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


def test_notebook_in5_example():
    # In [3]-[5]: integer-valued input, a 3x3 filter, stride 1
    x = np.random.RandomState(0).rand(2, 1, 4, 4) * 100 // 1
    col = convnet.im2col(x, filter_h=3, filter_w=3, stride=1, pad=0)
    assert col.shape == (8, 9)
    np.testing.assert_array_equal(col[0], x[0, 0, :3, :3].ravel())
    np.testing.assert_array_equal(col, book.im2col(x, 3, 3))


def test_col2im_is_adjoint_of_im2col():
    rs = np.random.RandomState(3)
    x = rs.randn(2, 3, 6, 5)
    c = rs.randn(*convnet.im2col(x, 3, 3, 2, 1).shape)
    # <im2col(x), c> == <x, col2im(c)>
    assert np.isclose(np.sum(convnet.im2col(x, 3, 3, 2, 1) * c), np.sum(x * convnet.col2im(c, x.shape, 3, 3, 2, 1)))


def test_float32_in_float32_out():
    x = np.random.RandomState(4).randn(2, 2, 5, 5).astype(np.float32)
    col = convnet.im2col(x, 3, 3, 1, 1)
    assert col.dtype == np.float32
    np.testing.assert_array_equal(col, book.im2col(x, 3, 3, 1, 1).astype(np.float32))
    img = convnet.col2im(col, x.shape, 3, 3, 1, 1)
    assert img.dtype == np.float32
    np.testing.assert_allclose(img, book.col2im(col.astype(np.float64), x.shape, 3, 3, 1, 1), rtol=1e-6)


def test_strided_and_other_dtypes_are_converted_not_misread():
    big = np.random.RandomState(5).randn(4, 3, 10, 12)
    x = big[::2, 1:, ::2, ::3]              # not contiguous
    np.testing.assert_array_equal(convnet.im2col(x, 2, 2), book.im2col(np.ascontiguousarray(x), 2, 2))
    xf = np.asfortranarray(big)
    np.testing.assert_array_equal(convnet.im2col(xf, 3, 3), book.im2col(big, 3, 3))
    xi = (big * 10).astype(np.int64)        # ints: float64 out, as the notebook's np.zeros
    got = convnet.im2col(xi, 3, 3)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, book.im2col(xi, 3, 3))
    np.testing.assert_array_equal(convnet.im2col(x.tolist(), 2, 2), book.im2col(np.array(x.tolist()), 2, 2))


def test_errors_name_the_argument():
    x = np.zeros((2, 1, 4, 4))
    with pytest.raises(ValueError, match=r'input_data: expected an \(N, C, H, W\) array, got shape \(4, 4\)'):
        convnet.im2col(np.zeros((4, 4)), 3, 3)
    with pytest.raises(ValueError, match=r'stride: expected an integer >= 1, got 0'):
        convnet.im2col(x, 3, 3, stride=0)
    with pytest.raises(ValueError, match=r'pad: expected an integer >= 0, got -1'):
        convnet.im2col(x, 3, 3, pad=-1)
    with pytest.raises(ValueError, match=r'filter 5 is larger than the padded input 4'):
        convnet.im2col(x, 5, 3)
    with pytest.raises(ValueError, match=r'col2im: expected col of shape \(8, 9\) for input \(2, 1, 4, 4\), got \(8, 8\)'):
        convnet.col2im(np.zeros((8, 8)), x.shape, 3, 3)
    with pytest.raises(ValueError, match=r'input_shape: expected \(N, C, H, W\)'):
        convnet.col2im(np.zeros((8, 9)), (1, 4, 4), 3, 3)
    with pytest.raises(ValueError, match=r'input_data: expected an array of numbers'):
        convnet.im2col(np.array([[[['a']]]], dtype=object), 1, 1)
