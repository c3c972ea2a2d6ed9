/*
 * y += A x for a CSR matrix A, vectorised over each row's nonzeros (gathers),
 * compiled for AVX-512, AVX2 and the baseline, picked at run time. The sum of
 * a row is split over SIMD lanes: deterministic on one machine, whatever the
 * number of threads.
 */
#ifndef SKRNN_CSR_H
#define SKRNN_CSR_H

#include "_fastmath.h"

SKRNN_CLONES void skrnn_csr_matvec_add_d(const double *data, const int *indices,
                                         const int *indptr, int n_rows,
                                         const double *x, double *y)
{
    for (int r = 0; r < n_rows; r++) {
        double acc = 0.0;
#ifdef _OPENMP
#pragma omp simd reduction(+ : acc)
#endif
        for (int k = indptr[r]; k < indptr[r + 1]; k++) acc += data[k] * x[indices[k]];
        y[r] += acc;
    }
}

SKRNN_CLONES void skrnn_csr_matvec_add_f(const float *data, const int *indices,
                                         const int *indptr, int n_rows,
                                         const float *x, float *y)
{
    for (int r = 0; r < n_rows; r++) {
        float acc = 0.0f;
#ifdef _OPENMP
#pragma omp simd reduction(+ : acc)
#endif
        for (int k = indptr[r]; k < indptr[r + 1]; k++) acc += data[k] * x[indices[k]];
        y[r] += acc;
    }
}

#endif
