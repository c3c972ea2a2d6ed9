# Shared by every kernel: the floating fused type and the element-wise
# activations. Header-only (inline functions), so any kernel can cimport it.
from cython cimport floating
from libc.math cimport exp, expf, tanh, tanhf

# Activation codes; Python reads them from skrnn._elman.ACTIVATIONS.
cdef enum:
    IDENTITY = 0
    TANH = 1
    LOGISTIC = 2
    RELU = 3


cdef extern from "_fastmath.h" nogil:
    double skrnn_exp(double x)
    double skrnn_tanh(double x)
    double skrnn_sigmoid(double x)
    void skrnn_tanh_d(double* x, int n)
    void skrnn_tanh_f(float* x, int n)
    void skrnn_sigmoid_d(double* x, int n)
    void skrnn_sigmoid_f(float* x, int n)
    unsigned int skrnn_flush_denormals()
    void skrnn_restore_denormals(unsigned int old)
    int skrnn_cpu_has_x86_64_v3()
    int skrnn_cpu_has_x86_64_v4()


cdef inline void tanh_array(floating* x, int n) noexcept nogil:
    """In-place tanh of n values (vectorised, see _fastmath.h)."""
    if floating is float:
        skrnn_tanh_f(x, n)
    else:
        skrnn_tanh_d(x, n)


cdef inline void sigmoid_array(floating* x, int n) noexcept nogil:
    """In-place logistic function of n values (vectorised, see _fastmath.h)."""
    if floating is float:
        skrnn_sigmoid_f(x, n)
    else:
        skrnn_sigmoid_d(x, n)


cdef inline void activate_array(floating* x, int n, int kind) noexcept nogil:
    """In-place activation of n values."""
    cdef int i
    if kind == TANH:
        tanh_array(x, n)
    elif kind == LOGISTIC:
        sigmoid_array(x, n)
    elif kind == RELU:
        for i in range(n):
            x[i] = x[i] if x[i] > 0 else 0


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
