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

/* Rows in blocks of 16 whose sums stay in registers over all the slots. */
#define SKRNN_ELL_BLOCK 16

SKRNN_CLONES void skrnn_ell_matvec_add_d(const double *data, const int *indices,
                                         int n, int slots, const double *x,
                                         double *y)
{
    int r0 = 0;
    for (; r0 + SKRNN_ELL_BLOCK <= n; r0 += SKRNN_ELL_BLOCK) {
        double acc[SKRNN_ELL_BLOCK] = {0};
        for (int k = 0; k < slots; k++) {
            const double *d = data + (long)k * n + r0;
            const int *ix = indices + (long)k * n + r0;
            for (int j = 0; j < SKRNN_ELL_BLOCK; j++) acc[j] += d[j] * x[ix[j]];
        }
        for (int j = 0; j < SKRNN_ELL_BLOCK; j++) y[r0 + j] += acc[j];
    }
    for (; r0 < n; r0++) {
        double acc = 0;
        for (int k = 0; k < slots; k++)
            acc += data[(long)k * n + r0] * x[indices[(long)k * n + r0]];
        y[r0] += acc;
    }
}

SKRNN_CLONES void skrnn_ell_matvec_add_f(const float *data, const int *indices,
                                         int n, int slots, const float *x, float *y)
{
    int r0 = 0;
    for (; r0 + SKRNN_ELL_BLOCK <= n; r0 += SKRNN_ELL_BLOCK) {
        float acc[SKRNN_ELL_BLOCK] = {0};
        for (int k = 0; k < slots; k++) {
            const float *d = data + (long)k * n + r0;
            const int *ix = indices + (long)k * n + r0;
            for (int j = 0; j < SKRNN_ELL_BLOCK; j++) acc[j] += d[j] * x[ix[j]];
        }
        for (int j = 0; j < SKRNN_ELL_BLOCK; j++) y[r0 + j] += acc[j];
    }
    for (; r0 < n; r0++) {
        float acc = 0;
        for (int k = 0; k < slots; k++)
            acc += data[(long)k * n + r0] * x[indices[(long)k * n + r0]];
        y[r0] += acc;
    }
}

#endif
