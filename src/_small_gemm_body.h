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

/* nr (<= SKRNN_SG_ROWS) rows x nv (1 or 2) vectors of columns; called with
 * constants, so that the loops unroll and the accumulators stay in registers */
static inline __attribute__((always_inline)) void SKRNN_SG_NAME(_tile)(
    int nr, int nv, int k, const SKRNN_SG_T *a, int lda, const SKRNN_SG_T *b,
    int ldb, int accumulate, SKRNN_SG_T *c, int ldc)
{
    const int L = (int)(sizeof(SKRNN_SG_V) / sizeof(SKRNN_SG_T));
    SKRNN_SG_V acc[SKRNN_SG_ROWS][2], bv[2];
    SKRNN_SG_T x;
    int r, v, p;
    for (r = 0; r < nr; r++)
        for (v = 0; v < nv; v++) {
            if (accumulate)
                acc[r][v] = SKRNN_SG_NAME(_load)(c + r * ldc + v * L);
            else
                acc[r][v] = (SKRNN_SG_V){0};
        }
    for (p = 0; p < k; p++) {
        for (v = 0; v < nv; v++)
            bv[v] = SKRNN_SG_NAME(_load)(b + p * ldb + v * L);
        for (r = 0; r < nr; r++) {
            x = a[r * lda + p];
            for (v = 0; v < nv; v++)
                acc[r][v] += x * bv[v];
        }
    }
    for (r = 0; r < nr; r++)
        for (v = 0; v < nv; v++)
            memcpy(c + r * ldc + v * L, &acc[r][v], sizeof acc[r][v]);
}

/* columns j0 .. j0 + nv L - 1 of every row */
static inline __attribute__((always_inline)) void SKRNN_SG_NAME(_panel)(
    int nv, int m, int k, const SKRNN_SG_T *a, int lda, const SKRNN_SG_T *b,
    int ldb, int accumulate, SKRNN_SG_T *c, int ldc)
{
    int i;
    for (i = 0; i + SKRNN_SG_ROWS <= m; i += SKRNN_SG_ROWS)
        SKRNN_SG_NAME(_tile)(SKRNN_SG_ROWS, nv, k, a + i * lda, lda, b, ldb,
                             accumulate, c + i * ldc, ldc);
    for (; i < m; i++)
        SKRNN_SG_NAME(_tile)(1, nv, k, a + i * lda, lda, b, ldb, accumulate,
                             c + i * ldc, ldc);
}

static inline void SKRNN_SG_NAME()(
    int m, int n, int k, const SKRNN_SG_T *a, int lda, const SKRNN_SG_T *b,
    int ldb, int accumulate, SKRNN_SG_T *c, int ldc)
{
    const int L = (int)(sizeof(SKRNN_SG_V) / sizeof(SKRNN_SG_T));
    SKRNN_SG_T s;
    int i, j, p;
    for (j = 0; j + 2 * L <= n; j += 2 * L)
        SKRNN_SG_NAME(_panel)(2, m, k, a, lda, b + j, ldb, accumulate, c + j, ldc);
    if (j + L <= n) {
        SKRNN_SG_NAME(_panel)(1, m, k, a, lda, b + j, ldb, accumulate, c + j, ldc);
        j += L;
    }
    for (; j < n; j++)
        for (i = 0; i < m; i++) {
            s = accumulate ? c[i * ldc + j] : 0;
            for (p = 0; p < k; p++)
                s += a[i * lda + p] * b[p * ldb + j];
            c[i * ldc + j] = s;
        }
}
