"""GRU layer: forward pass, inference and backpropagation through time.

The cell of torch.nn.GRU, gate rows r, z, n in that order::

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1},    h_{-1} = 0

The layout and the time loop are those of ``_time_loop.pxi`` (see
skrnn._elman); this file holds the cell math. The cache has K = 4 blocks of H
per row: ``[r, z, n, W_hn h_{t-1} + b_hn]``. Since r multiplies the hidden
projection of n, the recurrent product is kept apart (``gh``) and ``dA`` has
2 G = 6 blocks: the input-side gradients, then the hidden-side ones.
"""
from _common cimport floating, sigmoid1, tanh1

cdef enum:
    N_GATES = 3
    CACHE_WIDTH = 4
    DA_WIDTH = 6
    SEPARATE_HIDDEN = 1


cdef inline void _input_bias(
    const floating* b_ih, const floating* b_hh, floating* bias, int H,
) noexcept nogil:
    # b_hn is added to the hidden projection instead: r multiplies it
    cdef int j
    for j in range(2 * H):
        bias[j] = b_ih[j] + b_hh[j]
    for j in range(2 * H, 3 * H):
        bias[j] = b_ih[j]


cdef inline void _forward_step(
    floating* a, const floating* a_prev, const floating* gh,
    const floating* b_hh, const floating* h_prev, floating* h, int n, int H,
    int kind,
) noexcept nogil:
    cdef int P = CACHE_WIDTH * H, G = N_GATES * H
    cdef int i, j
    cdef floating* r
    cdef const floating* p
    cdef floating z, hn, nn
    cdef floating one = 1  # a literal 1 - x would be computed in double
    for i in range(n):
        r = a + i * P
        p = gh + i * G
        for j in range(2 * H):
            r[j] = sigmoid1(r[j] + p[j])
        for j in range(H):
            hn = p[2 * H + j] + b_hh[2 * H + j]
            nn = tanh1(r[2 * H + j] + r[j] * hn)
            z = r[H + j]
            r[2 * H + j] = nn
            r[3 * H + j] = hn
            h[i * H + j] = (one - z) * nn + z * h_prev[i * H + j]


cdef inline void _backward_step(
    const floating* a, const floating* a_prev, const floating* h,
    const floating* h_prev, const floating* g, floating* dh, floating* dc,
    floating* da, int n, int H, int kind,
) noexcept nogil:
    # da: dL/d(W_ih x_t + b_ih) of r, z, n, then dL/d(W_hh h_{t-1} + b_hh)
    # (its n block is times r); dh gets the direct path z_t * dL/dh_t.
    cdef int P = CACHE_WIDTH * H, D = DA_WIDTH * H, G = N_GATES * H
    cdef int i, j
    cdef const floating* c
    cdef floating* ai
    cdef floating* ah
    cdef floating d, r, z, nn, hn, dn, dr, dz
    cdef floating one = 1
    for i in range(n):
        c = a + i * P
        ai = da + i * D
        ah = ai + G
        for j in range(H):
            d = g[i * H + j] + dh[i * H + j]
            r = c[j]
            z = c[H + j]
            nn = c[2 * H + j]
            hn = c[3 * H + j]
            dn = d * (one - z) * (one - nn * nn)
            dr = dn * hn * r * (one - r)
            dz = d * (h_prev[i * H + j] - nn) * z * (one - z)
            ai[j] = dr
            ai[H + j] = dz
            ai[2 * H + j] = dn
            ah[j] = dr
            ah[H + j] = dz
            ah[2 * H + j] = dn * r
            dh[i * H + j] = d * z


include "_time_loop.pxi"
