/*
 * y += A x for a sparse matrix A made of K cyclic diagonals: diagonal k has
 * offset o_k and values data[k * n + r], so that A[r, (r + o_k) mod n] =
 * data[k * n + r]. Each diagonal is two contiguous multiply-adds (before and
 * after the wrap), which vectorise without gathers; compiled for AVX-512,
 * AVX2 and the baseline, picked at run time. Deterministic: each y[r] adds its
 * K terms in diagonal order.
 */
#ifndef SKRNN_DIA_H
#define SKRNN_DIA_H

#include "_fastmath.h"

SKRNN_CLONES void skrnn_dia_matvec_add_d(const double *data, const int *offsets,
                                         int n, int diagonals, const double *x,
                                         double *restrict y)
{
    for (int k = 0; k < diagonals; k++) {
        const double *d = data + (long)k * n;
        int o = offsets[k], split = n - o;
        for (int r = 0; r < split; r++) y[r] += d[r] * x[r + o];
        for (int r = split; r < n; r++) y[r] += d[r] * x[r - split];
    }
}

SKRNN_CLONES void skrnn_dia_matvec_add_f(const float *data, const int *offsets,
                                         int n, int diagonals, const float *x,
                                         float *restrict y)
{
    for (int k = 0; k < diagonals; k++) {
        const float *d = data + (long)k * n;
        int o = offsets[k], split = n - o;
        for (int r = 0; r < split; r++) y[r] += d[r] * x[r + o];
        for (int r = split; r < n; r++) y[r] += d[r] * x[r - split];
    }
}

#endif
