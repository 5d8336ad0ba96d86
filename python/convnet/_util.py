"""Helpers shared by the package's modules: choosing the engine's dtype."""
import numpy as np

from . import _convnet


def suffix(dtype):
    """'_f32' or '_f64': the engine class or function for a float dtype."""
    dt = np.dtype(dtype)
    if dt == np.float32:
        return '_f32'
    if dt == np.float64:
        return '_f64'
    raise ValueError(f'dtype: expected numpy.float32 or numpy.float64, got {dt}')


def promoted(*arrays):
    """The dtype NumPy's arithmetic would give these arrays, as the engine has it:
    float32 only when that is NumPy's answer, float64 otherwise (ints, float16, ...)."""
    dt = np.result_type(*[np.asarray(a) if not isinstance(a, np.ndarray) else a for a in arrays])
    return np.float32 if dt == np.float32 else np.float64


def engine(name, dtype):
    """The engine class or function `name` for dtype, e.g. Relu_f64."""
    return getattr(_convnet, name + suffix(dtype))


def check_int(name, value, minimum=0):
    """value as an int >= minimum, or a ValueError naming the argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f'{name}: expected an integer >= {minimum}, got {value!r}')
    return int(value)
