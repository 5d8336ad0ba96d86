"""convnet: the course notebook's CNN (cnn_notebook.md) on the C++ engine.

The notebook's names, arguments and NumPy arrays, computed by the engine:

    import numpy as np
    import convnet
    from convnet import layers, optimizer

    np.random.seed(0)
    (x_train, t_train), (x_test, t_test) = convnet.load_mnist(flatten=False)
    network = convnet.SimpleConvNet()          # float64, like the notebook
    grad = network.gradient(x_train[:100], t_train[:100])
    optimizer.Adam().update(network.params, grad)

float64 by default, as the notebook's NumPy; dtype=numpy.float32 for speed.
Random numbers (initial weights, dropout masks) come from NumPy's global
random state, so np.random.seed reproduces the NumPy notebook's run.
"""
import numpy as np

from . import _convnet
from ._convnet import blas_info, num_threads, set_num_threads
from ._util import check_int, engine, promoted
from . import layers, optimizer
from .mnist import load_mnist
from .network import Sequential, SimpleConvNet

__version__ = _convnet.__version__
__all__ = ['im2col', 'col2im', 'layers', 'optimizer', 'SimpleConvNet', 'Sequential', 'load_mnist',
           'set_num_threads', 'num_threads', 'blas_info']


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """Images (N, C, H, W) -> a 2-D array (N*out_h*out_w, C*filter_h*filter_w) (notebook In [2]).

    Rows are ordered (n, out_y, out_x) and columns (c, filter_y, filter_x), as the
    notebook's. The result is float32 for float32 input, float64 otherwise.
    """
    x = np.asarray(input_data)
    if x.ndim != 4:
        raise ValueError(f'input_data: expected an (N, C, H, W) array, got shape {x.shape}')
    return engine('im2col', promoted(x))(x, check_int('filter_h', filter_h, 1), check_int('filter_w', filter_w, 1),
                                         check_int('stride', stride, 1), check_int('pad', pad))


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The adjoint of im2col back to input_shape (N, C, H, W) (notebook In [6]).

    Each entry of col is added to the pixel it came from (overlaps add up);
    padding is cropped. float32 for float32 col, float64 otherwise.
    """
    c = np.asarray(col)
    shape = tuple(input_shape)
    if len(shape) != 4:
        raise ValueError(f'input_shape: expected (N, C, H, W), got {shape}')
    shape = [check_int(f'input_shape[{i}]', d) for i, d in enumerate(shape)]
    return engine('col2im', promoted(c))(c, shape, check_int('filter_h', filter_h, 1),
                                         check_int('filter_w', filter_w, 1), check_int('stride', stride, 1),
                                         check_int('pad', pad))


# OpenBLAS may have been loaded by NumPy before the engine could choose its
# kernels (docs/PERFORMANCE.md, BLAS): say so rather than run slowly in silence.
if _convnet.blas_slow_kernel_warning():
    import warnings
    warnings.warn('convnet: ' + _convnet.blas_slow_kernel_warning(), RuntimeWarning, stacklevel=2)
