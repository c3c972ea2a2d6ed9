/*
 * Vectorisable exp, tanh and logistic over arrays.
 *
 * libm's scalar tanh per hidden unit is most of a forward pass. These are
 * branch-free (selects, not jumps) so that GCC at -O3 turns each loop into
 * SIMD code. Accuracy, measured against libm over [-40, 40] in float64: exp
 * within 2 ulp; tanh and logistic within 4e-16 absolute and 3e-15 relative
 * (|x| > 1e-300). float32 arrays are computed in float32 (more SIMD lanes):
 * exp within 2 ulp; logistic within 2e-7 relative and 1e-7 absolute, tanh
 * within 2e-7 relative and 1.5e-7 absolute over [-40, 40] (measured over 4
 * million points, with and without fused multiply-adds).
 */
#ifndef SKRNN_FASTMATH_H
#define SKRNN_FASTMATH_H

#include <stdint.h>
#include <string.h>

/* Compile the array loops for AVX2 and AVX-512 too, picked at run time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SKRNN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) static
#else
#define SKRNN_CLONES static inline
#endif

static inline double skrnn_exp(double x)
{
    /* exp(x) = 2^k exp(r), k = round(x / ln 2), |r| <= ln 2 / 2 */
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52: rounds to int */
    double kd, k, r, p, scale;
    int64_t bits, shift_bits;
    x = x > 708.0 ? 708.0 : x;
    x = x < -708.0 ? -708.0 : x;
    kd = x * log2e + shifter;
    k = kd - shifter;
    r = (x - k * ln2_hi) - k * ln2_lo;
    /* Taylor series of exp(r) to r^12: error < 2e-17 on |r| <= 0.347 */
    p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    /* kd's low mantissa bits hold k: no float-to-int conversion needed */
    memcpy(&bits, &kd, sizeof bits);
    memcpy(&shift_bits, &shifter, sizeof shift_bits);
    bits = (bits - shift_bits + 1023) << 52;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline double skrnn_tanh(double x)
{
    double a = x < 0 ? -x : x;
    double x2 = x * x;
    /* small |x|: odd Taylor series to x^11, error < 5e-18 relative */
    double s = -1382.0 / 155925.0;
    s = s * x2 + 62.0 / 2835.0;
    s = s * x2 - 17.0 / 315.0;
    s = s * x2 + 2.0 / 15.0;
    s = s * x2 - 1.0 / 3.0;
    s = x + x * x2 * s;
    /* otherwise 1 - 2 / (exp(2|x|) + 1) with the sign of x */
    double t = 1.0 - 2.0 / (skrnn_exp(2.0 * a) + 1.0);
    t = x < 0 ? -t : t;
    return a < 0.03 ? s : t;
}

static inline double skrnn_sigmoid(double x)
{
    return 1.0 / (1.0 + skrnn_exp(-x));
}

/* float32 all the way (twice the SIMD lanes of double, no conversions) */

/* exp's range reduction: x = k ln2 + r with |r| <= ln2 / 2; returns r and
 * sets *scale = 2^k (|x| <= 88) */
static inline float skrnn_reducef(float x, float *scale)
{
    const float log2e = 1.44269504f;
    const float ln2_hi = 0.693359375f; /* 9 bits: k * ln2_hi is exact */
    const float ln2_lo = -2.12194440e-4f;
    const float shifter = 12582912.0f; /* 1.5 * 2^23: rounds to int */
    float kd = x * log2e + shifter;
    float k = kd - shifter;
    int32_t bits, shift_bits;
    /* kd's low mantissa bits hold k: no float-to-int conversion needed */
    memcpy(&bits, &kd, sizeof bits);
    memcpy(&shift_bits, &shifter, sizeof shift_bits);
    bits = (bits - shift_bits + 127) << 23;
    memcpy(scale, &bits, sizeof *scale);
    return (x - k * ln2_hi) - k * ln2_lo;
}

/* q(r) with exp(r) = 1 + r + r^2 q(r): Taylor to r^7, error < 6e-9 on
 * |r| <= 0.347 */
static inline float skrnn_exp_tailf(float r)
{
    float q = 1.0f / 5040.0f;
    q = q * r + 1.0f / 720.0f;
    q = q * r + 1.0f / 120.0f;
    q = q * r + 1.0f / 24.0f;
    q = q * r + 1.0f / 6.0f;
    return q * r + 0.5f;
}

static inline float skrnn_expf(float x)
{
    float scale, r;
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.0f ? -87.0f : x;
    r = skrnn_reducef(x, &scale);
    return ((skrnn_exp_tailf(r) * r + 1.0f) * r + 1.0f) * scale;
}

static inline float skrnn_tanhf(float x)
{
    /* tanh(x) = e / (e + 2) with e = expm1(2x): one exp-like polynomial and
     * one division, no second series for small |x| (expm1 keeps its relative
     * accuracy there). |x| > 9 rounds to +-1. */
    float scale, r, e;
    x = x > 9.0f ? 9.0f : x;
    x = x < -9.0f ? -9.0f : x;
    r = skrnn_reducef(2.0f * x, &scale);
    /* expm1(2x) = 2^k expm1(r) + (2^k - 1), the second term exact */
    e = scale * (r + (r * r) * skrnn_exp_tailf(r)) + (scale - 1.0f);
    return e / (e + 2.0f);
}

static inline float skrnn_sigmoidf(float x)
{
    return 1.0f / (1.0f + skrnn_expf(-x));
}

SKRNN_CLONES void skrnn_tanh_d(double *x, int n)
{
    for (int i = 0; i < n; i++) x[i] = skrnn_tanh(x[i]);
}

SKRNN_CLONES void skrnn_tanh_f(float *x, int n)
{
    for (int i = 0; i < n; i++) x[i] = skrnn_tanhf(x[i]);
}

SKRNN_CLONES void skrnn_sigmoid_d(double *x, int n)
{
    for (int i = 0; i < n; i++) x[i] = skrnn_sigmoid(x[i]);
}

SKRNN_CLONES void skrnn_sigmoid_f(float *x, int n)
{
    for (int i = 0; i < n; i++) x[i] = skrnn_sigmoidf(x[i]);
}

/* Flush denormal floats to zero in this thread (x86's FTZ and DAZ bits):
 * long sequences' backward passes carry gradients that decay below the
 * smallest normal float (1.2e-38 in float32), and every product with a
 * denormal takes a microcode assist of about a hundred cycles (an LSTM-32
 * fit over 400 steps ran 3x slower per step than over 100 with 4 % of dA
 * denormal). Returns the thread's previous control word, for
 * skrnn_restore_denormals; elsewhere a no-op. */
#if defined(__SSE2__)
#include <xmmintrin.h>
static inline unsigned int skrnn_flush_denormals(void)
{
    unsigned int old = _mm_getcsr();
    _mm_setcsr(old | 0x8040); /* FTZ (bit 15) and DAZ (bit 6) */
    return old;
}

static inline void skrnn_restore_denormals(unsigned int old)
{
    _mm_setcsr(old);
}
#else
static inline unsigned int skrnn_flush_denormals(void) { return 0; }
static inline void skrnn_restore_denormals(unsigned int old) { (void)old; }
#endif

/* 1 if this CPU (and its OS) runs code of an x86-64 level, where GCC can
 * tell; 0 elsewhere (other compilers and architectures) */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12
#define SKRNN_CPU_SUPPORTS(level) (__builtin_cpu_init(), __builtin_cpu_supports(level) != 0)
#else
#define SKRNN_CPU_SUPPORTS(level) 0
#endif

/* x86-64-v3: AVX2, FMA, BMI2 and the rest, which the second build of the cell
 * kernels needs (src/meson.build) */
static inline int skrnn_cpu_has_x86_64_v3(void)
{
    return SKRNN_CPU_SUPPORTS("x86-64-v3");
}

/* x86-64-v4: AVX-512 F, BW, CD, DQ and VL, which the third build needs */
static inline int skrnn_cpu_has_x86_64_v4(void)
{
    return SKRNN_CPU_SUPPORTS("x86-64-v4");
}

#endif
