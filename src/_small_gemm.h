/*
 * A small-matrix product for the time loop's per-step products.
 *
 *     C (m, n) = A (m, k) @ B (k, n)        (accumulate == 0)
 *     C (m, n) = C + A (m, k) @ B (k, n)    (accumulate != 0)
 *
 * all row-major with row strides lda, ldb, ldc (each >= its width), and
 *
 *     C (m, n) = row0 + A (m, k) @ B (k, n) + A2 (m, k2) @ B2 (k2, n)
 *
 * (the _pair functions; row0 is one row of n values, added to every row):
 * a step's bias, input projection and recurrent product in one pass, where
 * the time loop would otherwise write the projection in one pass and add the
 * recurrent product in another.
 *
 * At the hidden sizes where a step's product is a few thousand multiply-adds,
 * BLAS spends much of a call packing B (W_hh) into its own layout; this reads
 * B in place, a panel of SKRNN_SG_VECS vectors of columns at a time (it stays
 * in L1 while every row block passes over it), with a tile of 4 rows x
 * SKRNN_SG_VECS vectors of accumulators in registers and k innermost.
 *
 * Every output element starts at C (or row0[j], or 0) and adds A[i, p] *
 * B[p, j] for p = 0, 1, ..., k - 1 in that order, then A2[i, p] * B2[p, j]
 * likewise (a multiply and an add, or one fused multiply-add where the build
 * contracts: the x86-64-v3 and v4 builds' -ffp-contract=fast).
 * Whether column j goes through a vector lane or the scalar tail depends on n
 * only, and a row is computed the same way in a 4-row tile as alone, so a
 * row's result does not depend on how many rows the call has, nor on the
 * other rows (tests/test_small_gemm.py checks it bit for bit).
 */
#ifndef SKRNN_SMALL_GEMM_H
#define SKRNN_SMALL_GEMM_H

#include <string.h>

#if defined(__AVX512F__)
#define SKRNN_SG_BYTES 64 /* one zmm register */
#elif defined(__AVX__)
#define SKRNN_SG_BYTES 32 /* one ymm register */
#else
#define SKRNN_SG_BYTES 16 /* one xmm register */
#endif
#define SKRNN_SG_ROWS 4

/* Where the time loop runs its per-step products through this product rather
 * than BLAS: W_hh h_{t-1} at H <= SKRNN_SG_FORWARD_MAX_H, the backward's
 * dA W_hh at G H <= SKRNN_SG_BACKWARD_MAX_GH. Measured against OpenBLAS per
 * build (benchmarks/RESULTS.md): with AVX2 it is faster up to H = 64; with
 * AVX-512's 16 accumulators of 16 lanes, the forward product up to H = 128
 * (at 256 a step's W_hh panel no longer stays in L1 and predict got no
 * faster) and the backward's up to G H = 1024 in float32, 512 in float64
 * (an LSTM-256 fit in float64 was 1.17x slower at 1024). */
#if defined(__AVX512F__)
#define SKRNN_SG_FORWARD_MAX_H 128
#define SKRNN_SG_BACKWARD_MAX_GH 1024
#define SKRNN_SG_BACKWARD_MAX_GH_DOUBLE 512 /* 8 lanes: LSTM-256 slower */
#else
#define SKRNN_SG_FORWARD_MAX_H 64
#define SKRNN_SG_BACKWARD_MAX_GH 128
#define SKRNN_SG_BACKWARD_MAX_GH_DOUBLE 128
#endif
/* With at most SKRNN_SG_FEW_ROWS rows (the training chunks of H >= 128), the
 * forward product up to H = SKRNN_SG_FORWARD_MAX_H_FEW_ROWS: BLAS packs W_hh
 * (1 MB at LSTM-256) for each step's product, which few rows do not pay
 * for (AVX-512: LSTM-256 and GRU-256 fits 12-20 % faster at 256, inference
 * chunks of 64 rows 6-17 % slower). */
#define SKRNN_SG_FEW_ROWS 32
#if defined(__AVX512F__)
#define SKRNN_SG_FORWARD_MAX_H_FEW_ROWS 256
#else
#define SKRNN_SG_FORWARD_MAX_H_FEW_ROWS SKRNN_SG_FORWARD_MAX_H
#endif
/* The weight gradients dA' Z of a chunk through this product (as (Z' dA)',
 * the GH columns in vector lanes) at H <= SKRNN_SG_GRAD_MAX_H, over blocks of
 * SKRNN_SG_GRAD_ROWS rows of dA and Z (a block of dA's panel stays in L1
 * while every tile of the product reads it). With AVX2, measured faster than
 * OpenBLAS up to H = 64 (at larger H BLAS's packing paid for itself), in
 * blocks of 256 rows (long sequences' dA no longer fit in L2). With AVX-512,
 * blocks of 64 rows (a panel of 64 x 64 floats, 16 KB) up to H = 128: a
 * minibatch's gradient pass (LSTM-128, minibatch 64, one thread, AMD EPYC
 * Zen 5) 18 % faster in float32 and 16 % in float64 than with OpenBLAS
 * 0.3.30's Haswell kernels, as fast as with its SkylakeX kernels. Not at 256:
 * there it was 1-8 % faster than the Haswell kernels but 8-30 % slower than
 * the SkylakeX ones (GRU-256, LSTM-256). */
#if defined(__AVX512F__)
#define SKRNN_SG_GRAD_MAX_H 128
#define SKRNN_SG_GRAD_ROWS 64
#else
#define SKRNN_SG_GRAD_MAX_H 64
#define SKRNN_SG_GRAD_ROWS 256
#endif
#ifndef SKRNN_SG_VECS
#if defined(__AVX512F__) /* 32 registers: 16 accumulators */
#define SKRNN_SG_VECS 4
#else
#define SKRNN_SG_VECS 2
#endif
#endif

#define SKRNN_SG_T float
#define SKRNN_SG_V skrnn_sg_vf
#define SKRNN_SG_NAME(x) skrnn_small_gemm_f##x
#include "_small_gemm_body.h"
#undef SKRNN_SG_T
#undef SKRNN_SG_V
#undef SKRNN_SG_NAME

#define SKRNN_SG_T double
#define SKRNN_SG_V skrnn_sg_vd
#define SKRNN_SG_NAME(x) skrnn_small_gemm_d##x
#include "_small_gemm_body.h"
#undef SKRNN_SG_T
#undef SKRNN_SG_V
#undef SKRNN_SG_NAME

#endif
