# Row-major GEMM over scipy's BLAS for both floating types, and a small-matrix
# product without BLAS for the per-step products (_small_gemm.h). Header-only.
from scipy.linalg.cython_blas cimport dgemm, sgemm
from _common cimport floating


cdef inline void gemm(bint trans_a, bint trans_b, int m, int n, int k,
                      floating alpha, const floating* a, int lda,
                      const floating* b, int ldb, floating beta,
                      floating* c, int ldc) noexcept nogil:
    """C (m, n) = alpha * op(A) @ op(B) + beta * C, all arrays row-major.

    op(A) is (m, k) and op(B) is (k, n); lda, ldb, ldc are row strides. A
    row-major matrix is its column-major transpose, so this calls BLAS for
    C.T = op(B).T @ op(A).T. With k == 0 the product is empty: C = beta * C.
    """
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    cdef int i, j
    if m <= 0 or n <= 0:
        return
    if k <= 0:
        for i in range(m):
            for j in range(n):
                c[i * ldc + j] = 0 if beta == 0 else beta * c[i * ldc + j]
        return
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float*> b, &ldb, <float*> a, &lda,
              &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double*> b, &ldb, <double*> a, &lda,
              &beta, c, &ldc)


cdef extern from "_small_gemm.h" nogil:
    void skrnn_small_gemm_f(int m, int n, int k, const float* a, int lda,
                            const float* b, int ldb, int accumulate, float* c,
                            int ldc)
    void skrnn_small_gemm_d(int m, int n, int k, const double* a, int lda,
                            const double* b, int ldb, int accumulate,
                            double* c, int ldc)
    void skrnn_small_gemm_f_tn(int m, int n, int k, const float* a, int lda,
                               const float* b, int ldb, int accumulate, float* c,
                               int ldc)
    void skrnn_small_gemm_d_tn(int m, int n, int k, const double* a, int lda,
                               const double* b, int ldb, int accumulate, double* c,
                               int ldc)
    void skrnn_small_gemm_f_pair(int m, int n, int k, const float* a, int lda,
                                 const float* b, int ldb, int k2,
                                 const float* a2, int lda2, const float* b2,
                                 int ldb2, const float* row0, int accumulate,
                                 float* c, int ldc)
    void skrnn_small_gemm_d_pair(int m, int n, int k, const double* a, int lda,
                                 const double* b, int ldb, int k2,
                                 const double* a2, int lda2, const double* b2,
                                 int ldb2, const double* row0, int accumulate,
                                 double* c, int ldc)


cdef inline void small_gemm(int m, int n, int k, const floating* a, int lda,
                            const floating* b, int ldb, bint accumulate,
                            floating* c, int ldc) noexcept nogil:
    """C (m, n) = A @ B (+ C if accumulate), all row-major, without BLAS.

    For the time loop's per-step products (see _small_gemm.h): each output
    row is computed the same way whatever m, so a row's result does not
    depend on how many rows the call has.
    """
    if floating is float:
        skrnn_small_gemm_f(m, n, k, a, lda, b, ldb, accumulate, c, ldc)
    else:
        skrnn_small_gemm_d(m, n, k, a, lda, b, ldb, accumulate, c, ldc)


cdef inline void small_gemm_pair(
    int m, int n, int k, const floating* a, int lda, const floating* b, int ldb,
    int k2, const floating* a2, int lda2, const floating* b2, int ldb2,
    const floating* row0, floating* c, int ldc,
) noexcept nogil:
    """C (m, n) = row0 + A @ B + A2 @ B2 (row0 a row of n values, added to
    every row), in that order, without BLAS; k2 = 0 leaves A2 and B2 unread.

    A step's input projection and recurrent product in one pass (see
    _small_gemm.h), row by row as small_gemm.
    """
    if floating is float:
        skrnn_small_gemm_f_pair(m, n, k, a, lda, b, ldb, k2, a2, lda2, b2, ldb2,
                                row0, 0, c, ldc)
    else:
        skrnn_small_gemm_d_pair(m, n, k, a, lda, b, ldb, k2, a2, lda2, b2, ldb2,
                                row0, 0, c, ldc)


cdef inline void small_gemm_tn(
    int m, int n, int k, const floating* a, int lda, const floating* b, int ldb,
    bint accumulate, floating* c, int ldc,
) noexcept nogil:
    """C (m, n) (+)= A' @ B with A (k, m), all row-major, without BLAS: each
    element sums over p = 0 .. k - 1 in order (after C's value with
    accumulate)."""
    if floating is float:
        skrnn_small_gemm_f_tn(m, n, k, a, lda, b, ldb, accumulate, c, ldc)
    else:
        skrnn_small_gemm_d_tn(m, n, k, a, lda, b, ldb, accumulate, c, ldc)
