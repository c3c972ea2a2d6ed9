"""Elman RNN layer: forward pass and backpropagation through time.

h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), h_{-1} = 0 (torch.nn.RNN).

Every array is in the chunked time-major layout that skrnn._layout builds: a
batch of sequences is cut into chunks of ``S`` sequences, sorted by length
(longest first) inside each chunk, and stored ``(n_chunks, T, S, width)`` so
that a chunk's rows at one step are one contiguous block (one GEMM per step)
and a chunk's rows over all steps are one block too (one GEMM for all input
projections, one per weight gradient). Chunks run in parallel (OpenMP, static
schedule); each chunk writes its own gradient block, which the caller sums in
chunk order, so the result does not depend on the number of threads.
"""
from cython.parallel cimport prange

import numpy as np

from _blas cimport gemm
from _common cimport (
    IDENTITY, LOGISTIC, RELU, TANH, activate_array, activation_derivative, floating,
    n_active,
)

# The activation codes every kernel takes (the enum in _common.pxd).
ACTIVATIONS = {"identity": IDENTITY, "tanh": TANH, "logistic": LOGISTIC, "relu": RELU}


cdef void _forward_chunk(
    const floating* X, const int* lengths, const floating* W_ih,
    const floating* W_hh, const floating* b_ih, const floating* b_hh,
    floating* Hs, int T, int S, int F, int H, int kind,
) noexcept nogil:
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int t, i, j, n
    cdef floating* row
    # Input projections of every step at once, then the biases.
    gemm(False, True, Tc * S, H, F, <floating> 1, X, F, W_ih, F, <floating> 0, Hs, H)
    for i in range(Tc * S):
        row = Hs + i * H
        for j in range(H):
            row[j] += b_ih[j] + b_hh[j]
    for t in range(T):
        n = n_active(lengths, S, t) if t < Tc else 0
        row = Hs + t * S * H
        if t > 0 and n > 0:
            gemm(False, True, n, H, H, <floating> 1, row - S * H, H, W_hh, H,
                 <floating> 1, row, H)
        activate_array(row, n * H, kind)
        for i in range(n * H, S * H):
            row[i] = 0


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
    """Run one Elman layer over a chunked batch.

    Parameters
    ----------
    X : ndarray of shape (n_chunks, T, S, F)
        Layer input; values at padded steps are ignored.
    lengths : ndarray of shape (n_chunks, S), int32
        Length of each sequence, non-increasing within a chunk (0 = empty row).
    W_ih : ndarray of shape (H, F)
    W_hh : ndarray of shape (H, H)
    b_ih, b_hh : ndarray of shape (H,)
    Hs : ndarray of shape (n_chunks, T, S, H)
        Output: the hidden states; zero at padded steps.
    cache : ndarray of shape (n_chunks, T, S, 0)
        Unused: an Elman cell recovers all it needs from ``Hs``.
    activation : int
        0 identity, 1 tanh, 2 logistic, 3 relu.
    n_threads : int
        OpenMP threads over chunks.
    """
    cdef int C = X.shape[0], T = X.shape[1], S = X.shape[2], F = X.shape[3]
    cdef int H = W_hh.shape[0]
    cdef int c
    if C == 0 or T == 0 or S == 0:
        return
    with nogil:
        for c in prange(C, schedule='static', chunksize=1, num_threads=n_threads):
            _forward_chunk(&X[c, 0, 0, 0], &lengths[c, 0], &W_ih[0, 0],
                           &W_hh[0, 0], &b_ih[0], &b_hh[0], &Hs[c, 0, 0, 0],
                           T, S, F, H, activation)


cdef void _backward_chunk(
    const floating* X, const int* lengths, const floating* W_ih,
    const floating* W_hh, const floating* Hs, const floating* dHs,
    floating* dA, floating* dh, floating* dX, floating* dW_ih, floating* dW_hh,
    floating* db_ih, floating* db_hh, floating* sq_norms, int T, int S, int F,
    int H, int kind, int bptt_steps, bint need_dX,
) noexcept nogil:
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int t, i, j, n
    cdef const floating* h
    cdef const floating* g
    cdef floating* a
    cdef floating d, total
    for i in range(S * H):
        dh[i] = 0
    for t in range(T):
        sq_norms[t] = 0
    for t in range(Tc - 1, -1, -1):
        n = n_active(lengths, S, t)
        h = Hs + t * S * H
        g = dHs + t * S * H
        a = dA + t * S * H
        # dh holds the gradient reaching h_t from step t + 1.
        total = 0
        for i in range(n * H):
            d = g[i] + dh[i]
            total += d * d
            a[i] = d * activation_derivative(h[i], kind)
        sq_norms[t] = total
        for i in range(n * H, S * H):
            a[i] = 0
        if t > 0:
            if bptt_steps > 0 and t % bptt_steps == 0:
                for i in range(n * H):
                    dh[i] = 0
            else:
                gemm(False, False, n, H, H, <floating> 1, a, H, W_hh, H,
                     <floating> 0, dh, H)
    # Weight gradients of the whole chunk as single GEMMs (h_{-1} = 0, so the
    # recurrent product starts at step 1).
    gemm(True, False, H, F, Tc * S, <floating> 1, dA, H, X, F, <floating> 0, dW_ih, F)
    gemm(True, False, H, H, (Tc - 1) * S, <floating> 1, dA + S * H, H, Hs, H,
         <floating> 0, dW_hh, H)
    for j in range(H):
        db_ih[j] = 0
    for i in range(Tc * S):
        a = dA + i * H
        for j in range(H):
            db_ih[j] += a[j]
    for j in range(H):
        db_hh[j] = db_ih[j]
    for i in range(Tc * S * H, T * S * H):
        dA[i] = 0
    if need_dX:
        gemm(False, False, Tc * S, F, H, <floating> 1, dA, H, W_ih, F,
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
    """Backpropagation through time for one Elman layer over a chunked batch.

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
    dW_ih : ndarray of shape (n_chunks, H, F)
    dW_hh : ndarray of shape (n_chunks, H, H)
    db_ih, db_hh : ndarray of shape (n_chunks, H)
        Output: each chunk's weight gradients; the caller sums them over
        chunks in chunk order.
    dA : ndarray of shape (n_chunks, T, S, H)
        Output: gradient with respect to the pre-activations ``W_ih x_t +
        b_ih + W_hh h_{t-1} + b_hh`` of each step (zero at padded steps):
        step t's contribution to the weight gradients is ``dA_t' x_t`` and
        ``dA_t' h_{t-1}``.
    step_sq_norms : ndarray of shape (n_chunks, T)
        Output: squared norm of the total gradient with respect to the hidden
        states of each step (all rows of the chunk), the vanishing-gradient
        picture.
    activation : int
        As in :func:`forward`.
    bptt_steps : int
        Truncated BPTT window: the gradient does not flow from step t to step
        t - 1 when t is a multiple of it; 0 means full BPTT.
    n_threads : int
        OpenMP threads over chunks.
    """
    cdef int C = X.shape[0], T = X.shape[1], S = X.shape[2], F = X.shape[3]
    cdef int H = W_hh.shape[0]
    cdef bint need_dX = dX.shape[0] > 0
    cdef int c
    if C == 0 or T == 0 or S == 0:
        return
    dtype = np.float32 if floating is float else np.float64
    cdef floating[:, :, ::1] dh = np.empty((C, S, H), dtype=dtype)
    with nogil:
        for c in prange(C, schedule='static', chunksize=1, num_threads=n_threads):
            _backward_chunk(
                &X[c, 0, 0, 0], &lengths[c, 0], &W_ih[0, 0], &W_hh[0, 0],
                &Hs[c, 0, 0, 0], &dHs[c, 0, 0, 0], &dA[c, 0, 0, 0], &dh[c, 0, 0],
                &dX[c, 0, 0, 0] if need_dX else NULL, &dW_ih[c, 0, 0],
                &dW_hh[c, 0, 0], &db_ih[c, 0], &db_hh[c, 0], &step_sq_norms[c, 0],
                T, S, F, H, activation, bptt_steps, need_dX)
