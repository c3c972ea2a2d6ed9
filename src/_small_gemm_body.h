/*
 * The body of _small_gemm.h, included once per type with SKRNN_SG_T (the
 * element type), SKRNN_SG_V (the name of its vector type) and
 * SKRNN_SG_NAME(suffix) (the function names) defined. No include guard.
 */
typedef SKRNN_SG_T SKRNN_SG_V __attribute__((vector_size(SKRNN_SG_BYTES)));

static inline SKRNN_SG_V SKRNN_SG_NAME(_load)(const SKRNN_SG_T *p)
{
    SKRNN_SG_V v;
    memcpy(&v, p, sizeof v); /* unaligned load */
    return v;
}

/* acc[r][v] += A[r, p] * B[p, v-th vector] for p = 0 .. k - 1, in order;
 * with trans, A is stored transposed: A[r, p] = a[p lda + r] */
static inline __attribute__((always_inline)) void SKRNN_SG_NAME(_sweep)(
    int trans, int nr, int nv, int k, const SKRNN_SG_T *a, int lda,
    const SKRNN_SG_T *b, int ldb, SKRNN_SG_V acc[][SKRNN_SG_VECS])
{
    const int L = (int)(sizeof(SKRNN_SG_V) / sizeof(SKRNN_SG_T));
    SKRNN_SG_V bv[SKRNN_SG_VECS];
    SKRNN_SG_T x;
    int r, v, p;
    for (p = 0; p < k; p++) {
        for (v = 0; v < nv; v++)
            bv[v] = SKRNN_SG_NAME(_load)(b + p * ldb + v * L);
        for (r = 0; r < nr; r++) {
            x = trans ? a[p * lda + r] : a[r * lda + p];
            for (v = 0; v < nv; v++)
                acc[r][v] += x * bv[v];
        }
    }
}

/* nr (<= SKRNN_SG_ROWS) rows x nv (<= SKRNN_SG_VECS) vectors of columns;
 * called with constants, so that the loops unroll and the accumulators stay
 * in registers; A2 B2 (never transposed) after A B. */
static inline __attribute__((always_inline)) void SKRNN_SG_NAME(_tile)(
    int trans, int nr, int nv, int k, const SKRNN_SG_T *a, int lda, const SKRNN_SG_T *b,
    int ldb, int k2, const SKRNN_SG_T *a2, int lda2, const SKRNN_SG_T *b2,
    int ldb2, const SKRNN_SG_T *row0, int accumulate, SKRNN_SG_T *c, int ldc)
{
    const int L = (int)(sizeof(SKRNN_SG_V) / sizeof(SKRNN_SG_T));
    SKRNN_SG_V acc[SKRNN_SG_ROWS][SKRNN_SG_VECS];
    int r, v;
    for (r = 0; r < nr; r++)
        for (v = 0; v < nv; v++) {
            if (accumulate)
                acc[r][v] = SKRNN_SG_NAME(_load)(c + r * ldc + v * L);
            else if (row0 != NULL)
                acc[r][v] = SKRNN_SG_NAME(_load)(row0 + v * L);
            else
                acc[r][v] = (SKRNN_SG_V){0};
        }
    SKRNN_SG_NAME(_sweep)(trans, nr, nv, k, a, lda, b, ldb, acc);
    SKRNN_SG_NAME(_sweep)(0, nr, nv, k2, a2, lda2, b2, ldb2, acc);
    for (r = 0; r < nr; r++)
        for (v = 0; v < nv; v++)
            memcpy(c + r * ldc + v * L, &acc[r][v], sizeof acc[r][v]);
}

/* columns j .. j + nv L - 1 of every row */
static inline __attribute__((always_inline)) void SKRNN_SG_NAME(_panel)(
    int trans, int nv, int m, int k, const SKRNN_SG_T *a, int lda, const SKRNN_SG_T *b,
    int ldb, int k2, const SKRNN_SG_T *a2, int lda2, const SKRNN_SG_T *b2,
    int ldb2, const SKRNN_SG_T *row0, int accumulate, SKRNN_SG_T *c, int ldc)
{
    int i;
    for (i = 0; i + SKRNN_SG_ROWS <= m; i += SKRNN_SG_ROWS)
        SKRNN_SG_NAME(_tile)(trans, SKRNN_SG_ROWS, nv, k, a + (trans ? i : i * lda),
                             lda, b, ldb, k2,
                             a2 + i * lda2, lda2, b2, ldb2, row0, accumulate,
                             c + i * ldc, ldc);
    for (; i < m; i++)
        SKRNN_SG_NAME(_tile)(trans, 1, nv, k, a + (trans ? i : i * lda), lda, b,
                             ldb, k2,
                             a2 + i * lda2, lda2, b2, ldb2, row0, accumulate,
                             c + i * ldc, ldc);
}

/* C = A B + A2 B2 (A' B with trans), starting from C (accumulate), else from
 * the row row0 (unless NULL), else from 0; k2 = 0 leaves A2 and B2 unread */
static inline __attribute__((always_inline)) void SKRNN_SG_NAME(_any)(
    int trans, int m, int n, int k, const SKRNN_SG_T *a, int lda, const SKRNN_SG_T *b,
    int ldb, int k2, const SKRNN_SG_T *a2, int lda2, const SKRNN_SG_T *b2,
    int ldb2, const SKRNN_SG_T *row0, int accumulate, SKRNN_SG_T *c, int ldc)
{
    const int L = (int)(sizeof(SKRNN_SG_V) / sizeof(SKRNN_SG_T));
    SKRNN_SG_T s;
    int i, j, p;
#define SKRNN_SG_PANEL(nv)                                                    \
    SKRNN_SG_NAME(_panel)(trans, nv, m, k, a, lda, b + j, ldb, k2, a2, lda2, b2 + j, \
                          ldb2, row0 != NULL ? row0 + j : NULL, accumulate,   \
                          c + j, ldc)
    for (j = 0; j + SKRNN_SG_VECS * L <= n; j += SKRNN_SG_VECS * L)
        SKRNN_SG_PANEL(SKRNN_SG_VECS);
#if SKRNN_SG_VECS > 2
    if (j + 2 * L <= n) {
        SKRNN_SG_PANEL(2);
        j += 2 * L;
    }
#endif
    if (j + L <= n) {
        SKRNN_SG_PANEL(1);
        j += L;
    }
#undef SKRNN_SG_PANEL
    for (; j < n; j++)
        for (i = 0; i < m; i++) {
            s = accumulate ? c[i * ldc + j] : (row0 != NULL ? row0[j] : 0);
            for (p = 0; p < k; p++)
                s += (trans ? a[p * lda + i] : a[i * lda + p]) * b[p * ldb + j];
            for (p = 0; p < k2; p++)
                s += a2[i * lda2 + p] * b2[p * ldb2 + j];
            c[i * ldc + j] = s;
        }
}

static inline void SKRNN_SG_NAME(_pair)(
    int m, int n, int k, const SKRNN_SG_T *a, int lda, const SKRNN_SG_T *b,
    int ldb, int k2, const SKRNN_SG_T *a2, int lda2, const SKRNN_SG_T *b2,
    int ldb2, const SKRNN_SG_T *row0, int accumulate, SKRNN_SG_T *c, int ldc)
{
    SKRNN_SG_NAME(_any)(0, m, n, k, a, lda, b, ldb, k2, a2, lda2, b2, ldb2, row0,
                        accumulate, c, ldc);
}

static inline void SKRNN_SG_NAME()(
    int m, int n, int k, const SKRNN_SG_T *a, int lda, const SKRNN_SG_T *b,
    int ldb, int accumulate, SKRNN_SG_T *c, int ldc)
{
    SKRNN_SG_NAME(_pair)(m, n, k, a, lda, b, ldb, 0, a, lda, b, ldb, NULL,
                         accumulate, c, ldc);
}

/* C (m, n) (+)= A' B with A (k, m): a chunk's weight gradients (k the
 * chunk's rows of all steps), without BLAS's packing */
static inline void SKRNN_SG_NAME(_tn)(
    int m, int n, int k, const SKRNN_SG_T *a, int lda, const SKRNN_SG_T *b,
    int ldb, int accumulate, SKRNN_SG_T *c, int ldc)
{
    SKRNN_SG_NAME(_any)(1, m, n, k, a, lda, b, ldb, 0, a, lda, b, ldb, NULL,
                        accumulate, c, ldc);
}
