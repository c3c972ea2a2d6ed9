"""LSTM layer: forward pass and backpropagation through time.

The cell of torch.nn.LSTM, gate rows i, f, g, o in that order::

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t),    h_{-1} = c_{-1} = 0

Every array is in the chunked time-major layout that skrnn._layout builds (see
skrnn._elman): ``(n_chunks, T, S, width)``, rows of a chunk sorted by length,
longest first, so that the rows running at step t are a prefix of the chunk.
Chunks run in parallel (OpenMP, static schedule); each chunk writes its own
gradient block, which the caller sums in chunk order, so the result does not
depend on the number of threads.

The cache has K = 6 blocks of H per row: ``[i, f, g, o, c, tanh(c)]``; its
first four blocks hold the gate pre-activations until the gates are applied.
"""
from cython.parallel cimport prange

import numpy as np

from _blas cimport gemm
from _common cimport floating, n_active, sigmoid_array, tanh_array


cdef void _forward_chunk(
    const floating* X, const int* lengths, const floating* W_ih,
    const floating* W_hh, const floating* b_ih, const floating* b_hh,
    floating* Hs, floating* cache, int T, int S, int F, int H,
) noexcept nogil:
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int G = 4 * H, K = 6 * H
    cdef int t, i, j, n
    cdef floating* h
    cdef floating* a
    cdef const floating* prev
    # Input projections of every step at once into the gate columns, plus
    # both biases.
    gemm(False, True, Tc * S, G, F, <floating> 1, X, F, W_ih, F, <floating> 0,
         cache, K)
    for i in range(Tc * S):
        a = cache + i * K
        for j in range(G):
            a[j] += b_ih[j] + b_hh[j]
    for t in range(T):
        n = n_active(lengths, S, t) if t < Tc else 0
        h = Hs + t * S * H
        if t > 0 and n > 0:
            gemm(False, True, n, G, H, <floating> 1, h - S * H, H, W_hh, H,
                 <floating> 1, cache + t * S * K, K)
        for i in range(n):
            a = cache + (t * S + i) * K
            sigmoid_array(a, 2 * H)
            tanh_array(a + 2 * H, H)
            sigmoid_array(a + 3 * H, H)
            if t > 0:
                prev = a - S * K
                for j in range(H):
                    a[4 * H + j] = a[H + j] * prev[4 * H + j] + a[j] * a[2 * H + j]
            else:
                for j in range(H):
                    a[4 * H + j] = a[j] * a[2 * H + j]
            for j in range(H):
                a[5 * H + j] = a[4 * H + j]
            tanh_array(a + 5 * H, H)
            for j in range(H):
                h[i * H + j] = a[3 * H + j] * a[5 * H + j]
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
    """Run one LSTM layer over a chunked batch.

    Parameters
    ----------
    X : ndarray of shape (n_chunks, T, S, F)
        Layer input; values at padded steps are ignored.
    lengths : ndarray of shape (n_chunks, S), int32
        Length of each sequence, non-increasing within a chunk (0 = empty row).
    W_ih : ndarray of shape (4 * H, F)
    W_hh : ndarray of shape (4 * H, H)
    b_ih, b_hh : ndarray of shape (4 * H,)
        Weights in PyTorch's layout, gate rows i, f, g, o.
    Hs : ndarray of shape (n_chunks, T, S, H)
        Output: the hidden states; zero at padded steps.
    cache : ndarray of shape (n_chunks, T, S, 6 * H)
        Output: per step and row ``[i, f, g, o, c, tanh(c)]``, what
        :func:`backward` needs; zero at padded steps.
    activation : int
        Ignored: the LSTM's gate functions are fixed. Accepted so that every
        cell kernel has the same signature.
    n_threads : int
        OpenMP threads over chunks.
    """
    cdef int C = X.shape[0], T = X.shape[1], S = X.shape[2], F = X.shape[3]
    cdef int H = W_hh.shape[1]
    cdef int c
    if C == 0 or T == 0 or S == 0:
        return
    with nogil:
        for c in prange(C, schedule='static', chunksize=1, num_threads=n_threads):
            _forward_chunk(&X[c, 0, 0, 0], &lengths[c, 0], &W_ih[0, 0],
                           &W_hh[0, 0], &b_ih[0], &b_hh[0], &Hs[c, 0, 0, 0],
                           &cache[c, 0, 0, 0], T, S, F, H)


cdef void _backward_chunk(
    const floating* X, const int* lengths, const floating* W_ih,
    const floating* W_hh, const floating* Hs, const floating* cache,
    const floating* dHs, floating* dA, floating* dh, floating* dc, floating* dX,
    floating* dW_ih, floating* dW_hh, floating* db_ih, floating* db_hh,
    floating* sq_norms, int T, int S, int F, int H, int bptt_steps,
    bint need_dX,
) noexcept nogil:
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int G = 4 * H, K = 6 * H
    cdef int t, i, j, n
    cdef const floating* g
    cdef const floating* a
    cdef floating* da
    cdef floating d, ig, fg, gg, og, tc, c_prev, dcc, total
    for i in range(S * H):
        dh[i] = 0
        dc[i] = 0
    for t in range(T):
        sq_norms[t] = 0
    for t in range(Tc - 1, -1, -1):
        n = n_active(lengths, S, t)
        g = dHs + t * S * H
        # dh and dc hold the gradients reaching h_t and c_t from step t + 1.
        total = 0
        for i in range(n):
            a = cache + (t * S + i) * K
            da = dA + (t * S + i) * G
            for j in range(H):
                d = g[i * H + j] + dh[i * H + j]
                total += d * d
                ig = a[j]
                fg = a[H + j]
                gg = a[2 * H + j]
                og = a[3 * H + j]
                tc = a[5 * H + j]
                c_prev = (a - S * K)[4 * H + j] if t > 0 else 0
                dcc = dc[i * H + j] + d * og * (1 - tc * tc)
                da[j] = dcc * gg * ig * (1 - ig)
                da[H + j] = dcc * c_prev * fg * (1 - fg)
                da[2 * H + j] = dcc * ig * (1 - gg * gg)
                da[3 * H + j] = d * tc * og * (1 - og)
                dc[i * H + j] = dcc * fg
        sq_norms[t] = total
        for i in range((t * S + n) * G, (t + 1) * S * G):
            dA[i] = 0
        if t > 0:
            if bptt_steps > 0 and t % bptt_steps == 0:
                for i in range(n * H):
                    dh[i] = 0
                    dc[i] = 0
            else:
                gemm(False, False, n, H, G, <floating> 1, dA + t * S * G, G,
                     W_hh, H, <floating> 0, dh, H)
    # Weight gradients of the whole chunk as single GEMMs (h_{-1} = 0, so the
    # recurrent product starts at step 1).
    gemm(True, False, G, F, Tc * S, <floating> 1, dA, G, X, F, <floating> 0,
         dW_ih, F)
    gemm(True, False, G, H, (Tc - 1) * S, <floating> 1, dA + S * G, G, Hs, H,
         <floating> 0, dW_hh, H)
    for j in range(G):
        db_ih[j] = 0
    for i in range(Tc * S):
        da = dA + i * G
        for j in range(G):
            db_ih[j] += da[j]
    for j in range(G):
        db_hh[j] = db_ih[j]
    for i in range(Tc * S * G, T * S * G):
        dA[i] = 0
    if need_dX:
        gemm(False, False, Tc * S, F, G, <floating> 1, dA, G, W_ih, F,
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
    """Backpropagation through time for one LSTM layer over a chunked batch.

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
    dW_ih : ndarray of shape (n_chunks, 4 * H, F)
    dW_hh : ndarray of shape (n_chunks, 4 * H, H)
    db_ih, db_hh : ndarray of shape (n_chunks, 4 * H)
        Output: each chunk's weight gradients (equal for the two biases); the
        caller sums them over chunks in chunk order.
    dA : ndarray of shape (n_chunks, T, S, 4 * H)
        Output: gradient with respect to the gate pre-activations of each
        step (zero at padded steps): step t's contribution to the weight
        gradients is ``dA_t' x_t`` and ``dA_t' h_{t-1}``.
    step_sq_norms : ndarray of shape (n_chunks, T)
        Output: squared norm of the total gradient with respect to the hidden
        states of each step (all rows of the chunk).
    activation : int
        Ignored, as in :func:`forward`.
    bptt_steps : int
        Truncated BPTT window: the gradient does not flow from step t to step
        t - 1 (through h nor c) when t is a multiple of it; 0 means full BPTT.
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
    cdef floating[:, :, ::1] dc = np.empty((C, S, H), dtype=dtype)
    with nogil:
        for c in prange(C, schedule='static', chunksize=1, num_threads=n_threads):
            _backward_chunk(
                &X[c, 0, 0, 0], &lengths[c, 0], &W_ih[0, 0], &W_hh[0, 0],
                &Hs[c, 0, 0, 0], &cache[c, 0, 0, 0], &dHs[c, 0, 0, 0],
                &dA[c, 0, 0, 0], &dh[c, 0, 0], &dc[c, 0, 0],
                &dX[c, 0, 0, 0] if need_dX else NULL, &dW_ih[c, 0, 0],
                &dW_hh[c, 0, 0], &db_ih[c, 0], &db_hh[c, 0], &step_sq_norms[c, 0],
                T, S, F, H, bptt_steps, need_dX)
