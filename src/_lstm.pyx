"""LSTM layer: forward pass, inference and backpropagation through time.

The cell of torch.nn.LSTM, gate rows i, f, g, o in that order::

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t),    h_{-1} = c_{-1} = 0

The layout and the time loop are those of ``_time_loop.pxi`` (see
skrnn._elman); this file holds the cell math. The cache has K = 6 blocks of H
per row: ``[i, f, g, o, c, tanh(c)]``; its first four blocks hold the gate
pre-activations until the gates are applied. ``dA`` has the G = 4 gate blocks.
"""
from _common cimport floating, sigmoid1, tanh1

cdef enum:
    N_GATES = 4
    CACHE_WIDTH = 6
    DA_WIDTH = 4
    SEPARATE_HIDDEN = 0


cdef inline void _input_bias(
    const floating* b_ih, const floating* b_hh, floating* bias, int H,
) noexcept nogil:
    cdef int j
    for j in range(N_GATES * H):
        bias[j] = b_ih[j] + b_hh[j]


cdef inline void _forward_step(
    floating* a, const floating* a_prev, const floating* gh,
    const floating* b_hh, const floating* h_prev, floating* h, int n, int H,
    int kind,
) noexcept nogil:
    cdef int P = CACHE_WIDTH * H
    cdef int i, j
    cdef floating* r
    cdef const floating* prev
    cdef floating c, tc
    for i in range(n):
        r = a + i * P
        # c_{t-1}: the previous step's c block, or the zero state
        prev = a_prev + i * P + 4 * H if a_prev != NULL else h_prev + i * H
        for j in range(2 * H):
            r[j] = sigmoid1(r[j])
        for j in range(H):
            r[2 * H + j] = tanh1(r[2 * H + j])
            r[3 * H + j] = sigmoid1(r[3 * H + j])
        for j in range(H):
            c = r[H + j] * prev[j] + r[j] * r[2 * H + j]
            tc = tanh1(c)
            r[4 * H + j] = c
            r[5 * H + j] = tc
            h[i * H + j] = r[3 * H + j] * tc


cdef inline void _backward_step(
    const floating* a, const floating* a_prev, const floating* h,
    const floating* h_prev, const floating* g, floating* dh, floating* dc,
    floating* da, int n, int H, int kind,
) noexcept nogil:
    cdef int P = CACHE_WIDTH * H, D = DA_WIDTH * H
    cdef int i, j
    cdef const floating* r
    cdef floating* d_row
    cdef floating d, ig, fg, gg, og, tc, c_prev, dcc
    cdef floating one = 1  # a literal 1 - x would be computed in double
    # c_{t-1}: the cache's c block, or at step 0 the zero state h_prev; one
    # pointer and stride, so that the loop holds no branch
    cdef const floating* cp = a_prev + 4 * H if a_prev != NULL else h_prev
    cdef int stride = P if a_prev != NULL else H
    for i in range(n):
        r = a + i * P
        d_row = da + i * D
        for j in range(H):
            d = g[i * H + j] + dh[i * H + j]
            ig = r[j]
            fg = r[H + j]
            gg = r[2 * H + j]
            og = r[3 * H + j]
            tc = r[5 * H + j]
            c_prev = cp[i * stride + j]
            dcc = dc[i * H + j] + d * og * (one - tc * tc)
            d_row[j] = dcc * gg * ig * (one - ig)
            d_row[H + j] = dcc * c_prev * fg * (one - fg)
            d_row[2 * H + j] = dcc * ig * (one - gg * gg)
            d_row[3 * H + j] = d * tc * og * (one - og)
            dc[i * H + j] = dcc * fg


include "_time_loop.pxi"
