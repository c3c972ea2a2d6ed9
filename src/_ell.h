/*
 * y += A x for a sparse matrix A stored by "slots" (ELLPACK, column-major):
 * every row has the same number K of nonzeros, slot k of row r at
 * data[k * n + r], indices[k * n + r]. The loop runs over rows inside each
 * slot, so it vectorises with gathers and no horizontal sums; compiled for
 * AVX-512, AVX2 and the baseline, picked at run time. Deterministic: each
 * y[r] adds its K terms in slot order.
 */
#ifndef SKRNN_CSR_H
#define SKRNN_CSR_H

#include "_fastmath.h"

SKRNN_CLONES void skrnn_ell_matvec_add_d(const double *data, const int *indices,
                                         int n, int slots, const double *x,
                                         double *y)
{
    for (int k = 0; k < slots; k++) {
        const double *d = data + (long)k * n;
        const int *ix = indices + (long)k * n;
        for (int r = 0; r < n; r++) y[r] += d[r] * x[ix[r]];
    }
}

SKRNN_CLONES void skrnn_ell_matvec_add_f(const float *data, const int *indices,
                                         int n, int slots, const float *x, float *y)
{
    for (int k = 0; k < slots; k++) {
        const float *d = data + (long)k * n;
        const int *ix = indices + (long)k * n;
        for (int r = 0; r < n; r++) y[r] += d[r] * x[ix[r]];
    }
}

#endif
