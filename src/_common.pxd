# Shared by every kernel: the floating fused type and the element-wise
# activations. Header-only (inline functions), so any kernel can cimport it.
from cython cimport floating
from libc.math cimport exp, expf, tanh, tanhf

# Activation codes, the same numbers as skrnn._base.ACTIVATIONS.
cdef enum:
    IDENTITY = 0
    TANH = 1
    LOGISTIC = 2
    RELU = 3


cdef inline floating f_tanh(floating x) noexcept nogil:
    if floating is float:
        return tanhf(x)
    else:
        return tanh(x)


cdef inline floating f_sigmoid(floating x) noexcept nogil:
    # exp overflows to inf for very negative x, and 1 / inf is 0: no NaN.
    if floating is float:
        return 1.0 / (1.0 + expf(-x))
    else:
        return 1.0 / (1.0 + exp(-x))


cdef inline floating activate(floating x, int kind) noexcept nogil:
    if kind == TANH:
        return f_tanh(x)
    elif kind == LOGISTIC:
        return f_sigmoid(x)
    elif kind == RELU:
        return x if x > 0 else 0
    return x


cdef inline floating activation_derivative(floating y, int kind) noexcept nogil:
    """Derivative of the activation, written in terms of its output y."""
    if kind == TANH:
        return 1 - y * y
    elif kind == LOGISTIC:
        return y * (1 - y)
    elif kind == RELU:
        return 1 if y > 0 else 0
    return 1


cdef inline int n_active(const int* lengths, int chunk_size, int t) noexcept nogil:
    """How many rows of a chunk are still running at step t.

    The rows of a chunk are sorted by length, longest first, so the rows that
    are running at step t are always a prefix of the chunk.
    """
    cdef int n = chunk_size
    while n > 0 and lengths[n - 1] <= t:
        n -= 1
    return n
