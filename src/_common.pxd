# Shared by every kernel: the floating fused type and the element-wise
# activations. Header-only (inline functions), so any kernel can cimport it.
from cython cimport floating

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
    float skrnn_tanhf(float x)
    float skrnn_sigmoidf(float x)
    void skrnn_tanh_d(double* x, int n)
    void skrnn_tanh_f(float* x, int n)
    void skrnn_sigmoid_d(double* x, int n)
    void skrnn_sigmoid_f(float* x, int n)
    unsigned int skrnn_flush_denormals()
    void skrnn_restore_denormals(unsigned int old)
    int skrnn_cpu_has_x86_64_v3()
    int skrnn_cpu_has_x86_64_v4()


cdef inline floating tanh1(floating x) noexcept nogil:
    """tanh of one value, inlined: a loop over them vectorises in the
    caller's build (the cells' x86-64-v3 and -v4 builds)."""
    if floating is float:
        return skrnn_tanhf(x)
    else:
        return skrnn_tanh(x)


cdef inline floating sigmoid1(floating x) noexcept nogil:
    """The logistic function of one value, inlined as :func:`tanh1`."""
    if floating is float:
        return skrnn_sigmoidf(x)
    else:
        return skrnn_sigmoid(x)


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


cdef inline floating activation_derivative(floating y, int kind) noexcept nogil:
    """Derivative of the activation, written in terms of its output y."""
    # <floating> 1: a literal 1 - y would be computed in double
    if kind == TANH:
        return <floating> 1 - y * y
    elif kind == LOGISTIC:
        return y * (<floating> 1 - y)
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
