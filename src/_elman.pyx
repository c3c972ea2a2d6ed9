"""Elman RNN layer: forward pass, inference and backpropagation through time.

h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), h_{-1} = 0 (torch.nn.RNN).

Every array is in the chunked time-major layout that skrnn._layout builds: a
batch of sequences is cut into chunks of ``S`` sequences, sorted by length
(longest first) inside each chunk, and stored ``(n_chunks, T, S, width)`` so
that a chunk's rows at one step are one contiguous block (one GEMM per step)
and a chunk's rows over all steps are one block too (one GEMM per weight
gradient, one per block of steps for the input projections). Chunks run in
parallel (OpenMP, static schedule); each chunk writes its own gradient block,
which the caller sums in chunk order, so the result does not depend on the
number of threads.

The time loop is written once, in ``_time_loop.pxi``, for every cell; this
file holds the Elman cell's math. The Elman cell keeps no cache (K = 0): its
pre-activations are computed in place in ``Hs``, and ``backward`` recovers the
activation's derivative from the states.
"""
from _common cimport (
    IDENTITY, LOGISTIC, RELU, TANH, activate_array, activation_derivative, floating,
)

cdef enum:
    N_GATES = 1
    CACHE_WIDTH = 0
    DA_WIDTH = 1
    SEPARATE_HIDDEN = 0

# The activation codes every kernel takes (the enum in _common.pxd).
ACTIVATIONS = {"identity": IDENTITY, "tanh": TANH, "logistic": LOGISTIC, "relu": RELU}


cdef inline void _input_bias(
    const floating* b_ih, const floating* b_hh, floating* bias, int H,
) noexcept nogil:
    cdef int j
    for j in range(H):
        bias[j] = b_ih[j] + b_hh[j]


cdef inline void _forward_step(
    floating* a, const floating* a_prev, const floating* gh,
    const floating* b_hh, const floating* h_prev, floating* h, int n, int H,
    int kind,
) noexcept nogil:
    # a is h itself in the training pass, a workspace when inferring
    cdef int i
    if a != h:
        for i in range(n * H):
            h[i] = a[i]
    activate_array(h, n * H, kind)


cdef inline void _backward_step(
    const floating* a, const floating* a_prev, const floating* h,
    const floating* h_prev, const floating* g, floating* dh, floating* dc,
    floating* da, int n, int H, int kind,
) noexcept nogil:
    cdef int i
    cdef floating d
    for i in range(n * H):
        d = g[i] + dh[i]
        da[i] = d * activation_derivative(h[i], kind)


include "_time_loop.pxi"
