"""Echo state reservoir: leaky tanh units driven by the inputs.

x_t = (1 - a) x_{t-1} + a tanh(W_in u_t + b + W x_{t-1}),  x_{-1} = 0.

The arrays are in the chunked time-major layout of skrnn._layout (see
skrnn._elman). The recurrent matrix W is sparse (a reservoir keeps most of
its entries zero), made of K cyclic diagonals at random offsets (see _dia.h);
one step of a chunk multiplies it with the states of the chunk's running rows.
"""
from cython.parallel cimport prange

from _blas cimport gemm
from _common cimport floating, n_active, tanh_array


cdef extern from "_dia.h" nogil:
    void skrnn_dia_matvec_add_d(const double* data, const int* offsets, int n,
                                int diagonals, const double* x, double* y)
    void skrnn_dia_matvec_add_f(const float* data, const int* offsets, int n,
                                int diagonals, const float* x, float* y)


cdef void _run_chunk(
    const floating* U, const int* lengths, const floating* W_in,
    const floating* bias, const floating* W_data, const int* W_offsets,
    int diagonals, floating leak, const floating* X0, floating* Xs,
    floating* pre, int T, int S, int F, int N,
) noexcept nogil:
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int t, i, r, n
    cdef floating* x
    cdef const floating* x_prev
    cdef floating* p
    # Input projections of every step at once, into the state buffer.
    gemm(False, True, Tc * S, N, F, <floating> 1, U, F, W_in, F, <floating> 0, Xs, N)
    for t in range(T):
        n = n_active(lengths, S, t) if t < Tc else 0
        x = Xs + t * S * N
        for i in range(n):
            p = pre + i * N
            x_prev = (x - S * N if t > 0 else X0) + i * N
            for r in range(N):
                p[r] = x[i * N + r] + bias[r]
            if floating is float:
                skrnn_dia_matvec_add_f(W_data, W_offsets, N, diagonals, x_prev, p)
            else:
                skrnn_dia_matvec_add_d(W_data, W_offsets, N, diagonals, x_prev, p)
            tanh_array(p, N)
            for r in range(N):
                x[i * N + r] = (<floating> 1 - leak) * x_prev[r] + leak * p[r]
        for i in range(n * N, S * N):
            x[i] = 0


def run(
    const floating[:, :, :, ::1] U,
    const int[:, ::1] lengths,
    const floating[:, ::1] W_in,
    const floating[::1] bias,
    const floating[:, ::1] W_data,
    const int[::1] W_offsets,
    floating leak,
    const floating[:, :, ::1] X0,
    floating[:, :, :, ::1] Xs,
    floating[:, :, ::1] work,
    int n_threads,
):
    """Run the reservoir over a chunked batch from given states.

    Called on consecutive blocks of steps, with the last states of one block
    as the start of the next, it gives the states of the whole run.

    Parameters
    ----------
    U : ndarray of shape (n_chunks, T, S, F)
        Inputs; values at padded steps are ignored.
    lengths : ndarray of shape (n_chunks, S), int32
        Length of each sequence, non-increasing within a chunk.
    W_in : ndarray of shape (N, F)
        Input weights.
    bias : ndarray of shape (N,)
    W_data : ndarray of shape (K, N)
    W_offsets : ndarray of shape (K,), int32
        The (N, N) recurrent matrix as K cyclic diagonals: ``W[r, (r +
        W_offsets[k]) % N] = W_data[k, r]``, offsets in [0, N).
    leak : float
        Leak rate a in (0, 1].
    X0 : ndarray of shape (n_chunks, S, N)
        States before the first step (zeros at a sequence's start).
    Xs : ndarray of shape (n_chunks, T, S, N)
        Output: the states; zero at padded steps.
    work : ndarray of shape (n_chunks, S, N)
        Workspace.
    n_threads : int
        OpenMP threads over chunks.
    """
    cdef int C = U.shape[0], T = U.shape[1], S = U.shape[2], F = U.shape[3]
    cdef int N = W_in.shape[0], K = W_data.shape[0]
    cdef int c
    if W_data.shape[1] != N or W_offsets.shape[0] != K:
        raise ValueError("W_data must be (K, N) and W_offsets (K,)")
    if X0.shape[0] != C or X0.shape[1] != S or X0.shape[2] != N:
        raise ValueError("X0 must be (n_chunks, S, N)")
    for c in range(K):
        if not 0 <= W_offsets[c] < N:
            raise ValueError(f"offsets must be in [0, {N}), got {W_offsets[c]}")
    if C == 0 or T == 0 or S == 0 or N == 0:
        return
    with nogil:
        for c in prange(C, schedule='static', chunksize=1, num_threads=n_threads):
            _run_chunk(&U[c, 0, 0, 0], &lengths[c, 0], &W_in[0, 0], &bias[0],
                       &W_data[0, 0] if K > 0 else NULL,
                       &W_offsets[0] if K > 0 else NULL, K, leak,
                       &X0[c, 0, 0], &Xs[c, 0, 0, 0], &work[c, 0, 0], T, S, F, N)
