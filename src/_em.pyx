"""E-step of Ma & Ji's EM training: the mean-field forward filter.

For each sequence, from zt(-1) = 0::

    h(n)  = sigmoid(W_ih x(n) + W_hh zt(n-1) + b)
    zt(n) = clip(h(n) + K (d(n) - V h(n) - c), eps, 1 - eps)   (target at n)
    zt(n) = clip(h(n), eps, 1 - eps)                             (no target)

The next step is predicted from the corrected state zt(n). Arrays are in the
chunked time-major layout of skrnn._layout (see skrnn._elman); chunks run in
parallel (OpenMP, static schedule) and write only their own rows, so the
result does not depend on the number of threads.
"""
from cython.parallel cimport prange

from _blas cimport gemm
from _common cimport floating, n_active, sigmoid_array


cdef void _filter_chunk(
    const floating* X, const int* lengths, const floating* W_ih,
    const floating* W_hh, const floating* b, const floating* V,
    const floating* c, const floating* K, const floating* D, const floating* has,
    floating eps, floating* Zt, floating* r, int T, int S, int F, int H, int n_out,
) noexcept nogil:
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int t, i, j, k, n
    cdef floating* z
    cdef const floating* d
    gemm(False, True, Tc * S, H, F, <floating> 1, X, F, W_ih, F, <floating> 0, Zt, H)
    for i in range(Tc * S):
        for j in range(H):
            Zt[i * H + j] += b[j]
    for t in range(T):
        n = n_active(lengths, S, t) if t < Tc else 0
        z = Zt + t * S * H
        if t > 0 and n > 0:
            gemm(False, True, n, H, H, <floating> 1, z - S * H, H, W_hh, H,
                 <floating> 1, z, H)
        sigmoid_array(z, n * H)
        if n > 0:
            # residuals of every running row, zero where a step has no target
            d = D + t * S * n_out
            gemm(False, True, n, n_out, H, <floating> -1, z, H, V, H, <floating> 0,
                 r, n_out)
            for i in range(n):
                for j in range(n_out):
                    k = i * n_out + j
                    r[k] = (r[k] + d[k] - c[j]) * has[t * S + i]
            gemm(False, True, n, H, n_out, <floating> 1, r, n_out, K, n_out,
                 <floating> 1, z, H)
        for i in range(n * H):
            if z[i] < eps:
                z[i] = eps
            elif z[i] > <floating> 1 - eps:
                z[i] = <floating> 1 - eps
        for i in range(n * H, S * H):
            z[i] = 0


def filter(
    const floating[:, :, :, ::1] X,
    const int[:, ::1] lengths,
    const floating[:, ::1] W_ih,
    const floating[:, ::1] W_hh,
    const floating[::1] b,
    const floating[:, ::1] V,
    const floating[::1] c,
    const floating[:, ::1] K,
    const floating[:, :, :, ::1] D,
    const floating[:, :, ::1] has_target,
    floating eps,
    floating[:, :, :, ::1] Zt,
    floating[:, :, ::1] work,
    int n_threads,
):
    """Run the E-step filter over a chunked batch.

    Parameters
    ----------
    X : ndarray of shape (n_chunks, T, S, F)
        Inputs; ignored at padded steps.
    lengths : ndarray of shape (n_chunks, S), int32
        Length of each sequence, non-increasing within a chunk.
    W_ih : ndarray of shape (H, F)
    W_hh : ndarray of shape (H, H)
    b : ndarray of shape (H,)
        Hidden weights (the columns of W for x, z and the constant 1).
    V : ndarray of shape (O, H)
    c : ndarray of shape (O,)
        Read-out.
    K : ndarray of shape (H, O)
        Gain ``V' (V V' + (lambda1 / lambda2) I)^-1``.
    D : ndarray of shape (n_chunks, T, S, O)
        Targets; any finite value where there is none.
    has_target : ndarray of shape (n_chunks, T, S)
        1 where the step has a target, else 0.
    eps : float
        States are clipped into [eps, 1 - eps].
    Zt : ndarray of shape (n_chunks, T, S, H)
        Output: the corrected states zt; zero at padded steps.
    work : ndarray of shape (n_chunks, S, O)
        Workspace.
    n_threads : int
        OpenMP threads over chunks.
    """
    cdef int C = X.shape[0], T = X.shape[1], S = X.shape[2], F = X.shape[3]
    cdef int H = W_hh.shape[0], n_out = V.shape[0]
    cdef int ch
    if C == 0 or T == 0 or S == 0:
        return
    with nogil:
        for ch in prange(C, schedule='static', chunksize=1, num_threads=n_threads):
            _filter_chunk(&X[ch, 0, 0, 0], &lengths[ch, 0], &W_ih[0, 0], &W_hh[0, 0],
                          &b[0], &V[0, 0], &c[0], &K[0, 0], &D[ch, 0, 0, 0],
                          &has_target[ch, 0, 0], eps, &Zt[ch, 0, 0, 0],
                          &work[ch, 0, 0], T, S, F, H, n_out)
