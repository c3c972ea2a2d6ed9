"""GRU layer: forward pass and backpropagation through time.

The cell of torch.nn.GRU, gate rows r, z, n in that order::

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1},    h_{-1} = 0

Every array is in the chunked time-major layout that skrnn._layout builds (see
skrnn._elman): ``(n_chunks, T, S, width)``, rows of a chunk sorted by length,
longest first, so that the rows running at step t are a prefix of the chunk.
Chunks run in parallel (OpenMP, static schedule); each chunk writes its own
gradient block, which the caller sums in chunk order, so the result does not
depend on the number of threads.

The cache has K = 4 blocks of H per row: ``[r, z, n, W_hn h_{t-1} + b_hn]``.
"""
from cython.parallel cimport prange

import numpy as np

from _blas cimport gemm
from _common cimport floating, n_active, sigmoid_array, tanh_array


cdef void _forward_chunk(
    const floating* X, const int* lengths, const floating* W_ih,
    const floating* W_hh, const floating* b_ih, const floating* b_hh,
    const floating* h0, floating* Hs, floating* cache, floating* gh,
    int T, int S, int F, int H,
) noexcept nogil:
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int G = 3 * H, K = 4 * H
    cdef int t, i, j, n
    cdef const floating* h_prev
    cdef floating* h
    cdef floating* a
    cdef floating* p
    cdef floating z, hn
    # Input projections of every step at once, into the first 3H columns of
    # the cache, with b_ih and the hidden biases of r and z (b_hn is apart: it
    # is multiplied by r).
    gemm(False, True, Tc * S, G, F, <floating> 1, X, F, W_ih, F, <floating> 0,
         cache, K)
    for i in range(Tc * S):
        a = cache + i * K
        for j in range(2 * H):
            a[j] += b_ih[j] + b_hh[j]
        for j in range(2 * H, G):
            a[j] += b_ih[j]
    # The hidden projections W_hh h_{t-1}; zero at step 0.
    for i in range(S * G):
        gh[i] = 0
    for t in range(T):
        n = n_active(lengths, S, t) if t < Tc else 0
        h = Hs + t * S * H
        h_prev = h0
        if t > 0:
            h_prev = h - S * H
            if n > 0:
                gemm(False, True, n, G, H, <floating> 1, h_prev, H, W_hh, H,
                     <floating> 0, gh, G)
        for i in range(n):
            a = cache + (t * S + i) * K
            p = gh + i * G
            for j in range(2 * H):
                a[j] += p[j]
            sigmoid_array(a, 2 * H)
            for j in range(H):
                hn = p[2 * H + j] + b_hh[2 * H + j]
                a[3 * H + j] = hn
                a[2 * H + j] += a[j] * hn
            tanh_array(a + 2 * H, H)
            for j in range(H):
                z = a[H + j]
                h[i * H + j] = (1 - z) * a[2 * H + j] + z * h_prev[i * H + j]
        for i in range(n * H, S * H):
            h[i] = 0
        a = cache + t * S * K
        for i in range(n * K, S * K):
            a[i] = 0


def forward(
    const floating[:, :, :, ::1] X,
    const int[:, ::1] lengths,
    const floating[:, ::1] W_ih,
    const floating[:, ::1] W_hh,
    const floating[::1] b_ih,
    const floating[::1] b_hh,
    floating[:, :, :, ::1] Hs,
    floating[:, :, :, ::1] cache,
    int activation,
    int n_threads,
):
    """Run one GRU layer over a chunked batch.

    Parameters
    ----------
    X : ndarray of shape (n_chunks, T, S, F)
        Layer input; values at padded steps are ignored.
    lengths : ndarray of shape (n_chunks, S), int32
        Length of each sequence, non-increasing within a chunk (0 = empty row).
    W_ih : ndarray of shape (3 * H, F)
    W_hh : ndarray of shape (3 * H, H)
    b_ih, b_hh : ndarray of shape (3 * H,)
        Weights in PyTorch's layout, gate rows r, z, n.
    Hs : ndarray of shape (n_chunks, T, S, H)
        Output: the hidden states; zero at padded steps.
    cache : ndarray of shape (n_chunks, T, S, 4 * H)
        Output: per step and row ``[r, z, n, W_hn h_{t-1} + b_hn]``, what
        :func:`backward` needs; zero at padded steps.
    activation : int
        Ignored: the GRU's gate functions are fixed. Accepted so that every
        cell kernel has the same signature.
    n_threads : int
        OpenMP threads over chunks.
    """
    cdef int C = X.shape[0], T = X.shape[1], S = X.shape[2], F = X.shape[3]
    cdef int H = W_hh.shape[1]
    cdef int c
    if C == 0 or T == 0 or S == 0:
        return
    dtype = np.float32 if floating is float else np.float64
    cdef floating[:, :, ::1] gh = np.empty((C, S, 3 * H), dtype=dtype)
    cdef floating[:, ::1] h0 = np.zeros((S, H), dtype=dtype)
    with nogil:
        for c in prange(C, schedule='static', chunksize=1, num_threads=n_threads):
            _forward_chunk(&X[c, 0, 0, 0], &lengths[c, 0], &W_ih[0, 0],
                           &W_hh[0, 0], &b_ih[0], &b_hh[0], &h0[0, 0],
                           &Hs[c, 0, 0, 0], &cache[c, 0, 0, 0], &gh[c, 0, 0],
                           T, S, F, H)


cdef void _backward_chunk(
    const floating* X, const int* lengths, const floating* W_ih,
    const floating* W_hh, const floating* h0, const floating* Hs,
    const floating* cache, const floating* dHs, floating* dA, floating* dh,
    floating* dX, floating* dW_ih,
    floating* dW_hh, floating* db_ih, floating* db_hh, floating* sq_norms,
    int T, int S, int F, int H, int bptt_steps, bint need_dX,
) noexcept nogil:
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int G = 3 * H, K = 4 * H, A = 6 * H
    # each row of dA: the input-side gradients (G), then the hidden-side (G)
    cdef floating* dA_ih = dA
    cdef floating* dA_hh = dA + G
    cdef int t, i, j, n
    cdef const floating* h_prev
    cdef const floating* g
    cdef const floating* a
    cdef floating* ai
    cdef floating* ah
    cdef floating d, r, z, nn, hn, dn, dr, dz, total
    for i in range(S * H):
        dh[i] = 0
    for t in range(T):
        sq_norms[t] = 0
    for t in range(Tc - 1, -1, -1):
        n = n_active(lengths, S, t)
        h_prev = Hs + (t - 1) * S * H if t > 0 else h0
        g = dHs + t * S * H
        # dh holds the gradient reaching h_t from step t + 1. dA_ih gets the
        # gradient with respect to the input-side pre-activations of r, z, n,
        # dA_hh with respect to W_hh h_{t-1} + b_hh (its n block is times r).
        total = 0
        for i in range(n):
            a = cache + (t * S + i) * K
            ai = dA_ih + (t * S + i) * A
            ah = dA_hh + (t * S + i) * A
            for j in range(H):
                d = g[i * H + j] + dh[i * H + j]
                total += d * d
                r = a[j]
                z = a[H + j]
                nn = a[2 * H + j]
                hn = a[3 * H + j]
                dn = d * (1 - z) * (1 - nn * nn)
                dr = dn * hn * r * (1 - r)
                dz = d * (h_prev[i * H + j] - nn) * z * (1 - z)
                ai[j] = dr
                ai[H + j] = dz
                ai[2 * H + j] = dn
                ah[j] = dr
                ah[H + j] = dz
                ah[2 * H + j] = dn * r
                dh[i * H + j] = d * z
        sq_norms[t] = total
        for i in range((t * S + n) * A, (t + 1) * S * A):
            dA[i] = 0
        if t > 0:
            if bptt_steps > 0 and t % bptt_steps == 0:
                for i in range(n * H):
                    dh[i] = 0
            else:
                gemm(False, False, n, H, G, <floating> 1, dA_hh + t * S * A, A,
                     W_hh, H, <floating> 1, dh, H)
    # Weight gradients of the whole chunk as single GEMMs (h_{-1} = 0, so the
    # recurrent product starts at step 1).
    gemm(True, False, G, F, Tc * S, <floating> 1, dA_ih, A, X, F, <floating> 0,
         dW_ih, F)
    gemm(True, False, G, H, (Tc - 1) * S, <floating> 1, dA_hh + S * A, A, Hs, H,
         <floating> 0, dW_hh, H)
    for j in range(G):
        db_ih[j] = 0
        db_hh[j] = 0
    for i in range(Tc * S):
        ai = dA_ih + i * A
        ah = dA_hh + i * A
        for j in range(G):
            db_ih[j] += ai[j]
            db_hh[j] += ah[j]
    for i in range(Tc * S * A, T * S * A):
        dA[i] = 0
    if need_dX:
        gemm(False, False, Tc * S, F, G, <floating> 1, dA_ih, A, W_ih, F,
             <floating> 0, dX, F)
        for i in range(Tc * S * F, T * S * F):
            dX[i] = 0


def backward(
    const floating[:, :, :, ::1] X,
    const int[:, ::1] lengths,
    const floating[:, ::1] W_ih,
    const floating[:, ::1] W_hh,
    const floating[:, :, :, ::1] Hs,
    const floating[:, :, :, ::1] cache,
    const floating[:, :, :, ::1] dHs,
    floating[:, :, :, ::1] dX,
    floating[:, :, ::1] dW_ih,
    floating[:, :, ::1] dW_hh,
    floating[:, ::1] db_ih,
    floating[:, ::1] db_hh,
    floating[:, :, :, ::1] dA,
    floating[:, ::1] step_sq_norms,
    int activation,
    int bptt_steps,
    int n_threads,
):
    """Backpropagation through time for one GRU layer over a chunked batch.

    Parameters
    ----------
    X, lengths, W_ih, W_hh, Hs, cache : as in :func:`forward` (Hs, cache its
        outputs).
    dHs : ndarray of shape (n_chunks, T, S, H)
        Gradient of the loss with respect to each hidden state from above
        (read-out or next layer); ignored at padded steps.
    dX : ndarray of shape (n_chunks, T, S, F) or (0, 0, 0, 0)
        Output: gradient with respect to the layer input (zero at padded
        steps); skipped when empty.
    dW_ih : ndarray of shape (n_chunks, 3 * H, F)
    dW_hh : ndarray of shape (n_chunks, 3 * H, H)
    db_ih, db_hh : ndarray of shape (n_chunks, 3 * H)
        Output: each chunk's weight gradients; the caller sums them over
        chunks in chunk order. ``db_ih`` and ``db_hh`` differ in the n rows.
    dA : ndarray of shape (n_chunks, T, S, 6 * H)
        Output: per step (zero at padded steps), the gradient with respect to
        the input-side pre-activations ``W_ih x_t + b_ih`` (first 3 H), then
        the hidden-side ``W_hh h_{t-1} + b_hh`` (last 3 H; they differ in the
        n block, which r multiplies): step t's contribution to the weight
        gradients is ``dA_t[:, :3H]' x_t`` and ``dA_t[:, 3H:]' h_{t-1}``.
    step_sq_norms : ndarray of shape (n_chunks, T)
        Output: squared norm of the total gradient with respect to the hidden
        states of each step (all rows of the chunk), the vanishing-gradient
        picture.
    activation : int
        Ignored, as in :func:`forward`.
    bptt_steps : int
        Truncated BPTT window: the gradient does not flow from step t to step
        t - 1 when t is a multiple of it; 0 means full BPTT.
    n_threads : int
        OpenMP threads over chunks.
    """
    cdef int C = X.shape[0], T = X.shape[1], S = X.shape[2], F = X.shape[3]
    cdef int H = W_hh.shape[1]
    cdef bint need_dX = dX.shape[0] > 0
    cdef int c
    if C == 0 or T == 0 or S == 0:
        return
    dtype = np.float32 if floating is float else np.float64
    cdef floating[:, :, ::1] dh = np.empty((C, S, H), dtype=dtype)
    cdef floating[:, ::1] h0 = np.zeros((S, H), dtype=dtype)
    with nogil:
        for c in prange(C, schedule='static', chunksize=1, num_threads=n_threads):
            _backward_chunk(
                &X[c, 0, 0, 0], &lengths[c, 0], &W_ih[0, 0], &W_hh[0, 0],
                &h0[0, 0], &Hs[c, 0, 0, 0], &cache[c, 0, 0, 0], &dHs[c, 0, 0, 0],
                &dA[c, 0, 0, 0], &dh[c, 0, 0],
                &dX[c, 0, 0, 0] if need_dX else NULL, &dW_ih[c, 0, 0],
                &dW_hh[c, 0, 0], &db_ih[c, 0], &db_hh[c, 0], &step_sq_norms[c, 0],
                T, S, F, H, bptt_steps, need_dX)
