# The time loop of every cell kernel, written once: included at the end of
# _elman.pyx, _gru.pyx and _lstm.pyx, which define before the include
#
#   N_GATES, CACHE_WIDTH, DA_WIDTH, SEPARATE_HIDDEN (a cdef enum, per hidden
#       unit: gate blocks, cache blocks (0: the pre-activations are the
#       states), dA blocks; SEPARATE_HIDDEN: the recurrent product goes to its
#       own buffer, the hidden-side gradient to the second half of dA, and the
#       cell's backward step writes its own part of dh);
#   _input_bias(b_ih, b_hh, bias, H): the bias added to the input projection;
#   _forward_step(a, a_prev, gh, b_hh, h_prev, h, n, H, kind): the cell
#       math of one step on its n running rows (rows of a: CACHE_WIDTH * H or,
#       for CACHE_WIDTH 0, H values; a_prev: the previous step's rows, NULL at
#       step 0; gh: the recurrent products when SEPARATE_HIDDEN);
#   _backward_step(a, a_prev, h, h_prev, g, dh, dc, da, n, H, kind): the
#       gradients of one step (g + dh is dL/dh_t).
#
# Two options of every cell live here, outside the cell math:
#   leaky units (leak_rate a < 1): h_t = (1 - a) h_{t-1} + a cell(x_t, h_{t-1}),
#       the cell's own output kept in `cell_out` for the backward pass (it is
#       what the cell's backward step reads as "h");
#   skip connections through time (skip_steps k > 0): W_skip h_{t-k} (shape
#       (G H, H)) is added to the input-side pre-activations at every step
#       t >= k, like a second input.
# With a = 1 and k = 0 the code paths are those of the plain cell.
# A third, for GRU-D: decay of the previous state (`state_decay` given, one
# factor per row, step and unit): the cell reads hhat_t = gamma_t * h_{t-1} in
# place of h_{t-1} everywhere (recurrent product, the cell math, the leak),
# kept in `decayed` for the backward pass, which also returns
# dL/dgamma_t = h_{t-1} * dL/dhhat_t. Without it, the code paths are today's.
# A fourth, for training: recurrent dropout (`recurrent_mask` given, one factor
# per row and unit, the same at every step): the recurrent product reads
# mask * h_{t-1} (after the decay, if any), kept in `masked` for the backward
# pass; the cell math and the leak read the unmasked state. Without it, the
# code paths are today's.
#
# Layout: see skrnn._layout and the docstring of _elman.pyx.
from cython.parallel cimport parallel, prange
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

import numpy as np

from _blas cimport gemm, small_gemm, small_gemm_pair, small_gemm_tn
from _common cimport (
    floating, n_active, skrnn_cpu_has_x86_64_v3, skrnn_cpu_has_x86_64_v4,
    skrnn_flush_denormals, skrnn_restore_denormals,
)

# Steps per input-projection GEMM (forward and inference alike, so that the
# two compute the same sums).
cdef enum:
    TIME_BLOCK = 16

# Which per-step products run through small_gemm rather than BLAS (chosen by
# measurement per build, see _small_gemm.h and benchmarks/RESULTS.md): W_hh
# h_{t-1} (and the skip connection's) at H <= SMALL_FORWARD_MAX_H, the
# backward's dA W_hh at G H <= SMALL_BACKWARD_MAX_GH (_DOUBLE in float64).
# Up to H = SMALL_FORWARD_MAX_H the choice depends on the layer's shape and
# dtype only, never on the number of rows, so a row's states are the same in
# training and in inference chunks. Above it, products of at most
# SMALL_FEW_ROWS rows (training chunks) still run through small_gemm up to
# SMALL_FORWARD_MAX_H_FEW_ROWS, larger ones (inference chunks) through BLAS,
# whose sums may depend on the rows anyway: the states agree to rounding.
cdef extern from "_small_gemm.h":
    enum:
        SMALL_FORWARD_MAX_H "SKRNN_SG_FORWARD_MAX_H"
        SMALL_BACKWARD_MAX_GH "SKRNN_SG_BACKWARD_MAX_GH"
        SMALL_BACKWARD_MAX_GH_DOUBLE "SKRNN_SG_BACKWARD_MAX_GH_DOUBLE"
        SMALL_FEW_ROWS "SKRNN_SG_FEW_ROWS"
        SMALL_FORWARD_MAX_H_FEW_ROWS "SKRNN_SG_FORWARD_MAX_H_FEW_ROWS"
# Where the per-step products are small and so are the input rows
# (F <= SMALL_INPUT_MAX_F), each step's bias, input projection and recurrent
# product are one small product (_step_input), in place of the projection of
# TIME_BLOCK steps by BLAS and then the recurrent product. The weight
# gradients go through the small product at H <= SMALL_GRAD_MAX_H, over
# blocks of SMALL_GRAD_ROWS rows (both per build: see _small_gemm.h).
cdef enum:
    SMALL_INPUT_MAX_F = 64
cdef extern from "_small_gemm.h":
    enum:
        SMALL_GRAD_MAX_H "SKRNN_SG_GRAD_MAX_H"
        SMALL_GRAD_ROWS "SKRNN_SG_GRAD_ROWS"


cdef inline void _project(
    const floating* X, const floating* W_ih, const floating* bias, floating* a,
    int rows, int lda, int F, int GH,
) noexcept nogil:
    """Input projections ``X W_ih' + bias`` of ``rows`` rows into ``a``."""
    cdef int i, j
    cdef floating* r
    gemm(False, True, rows, GH, F, <floating> 1, X, F, W_ih, F, <floating> 0, a, lda)
    for i in range(rows):
        r = a + i * lda
        for j in range(GH):
            r[j] += bias[j]


cdef inline bint _small_forward(int H, int rows) noexcept nogil:
    """Whether a forward product of ``rows`` rows runs through small_gemm."""
    return H <= SMALL_FORWARD_MAX_H or (
        H <= SMALL_FORWARD_MAX_H_FEW_ROWS and rows <= SMALL_FEW_ROWS)


cdef inline void _step_product(
    const floating* h, const floating* W, const floating* W_t, floating* out,
    int n, int ldo, int H, int GH, bint accumulate,
) noexcept nogil:
    """``out (+)= h W'`` for n rows: h (n, H), W (GH, H) and its transpose
    W_t (H, GH), out (n, GH) with row stride ldo."""
    if _small_forward(H, n):
        small_gemm(n, GH, H, h, H, W_t, GH, accumulate, out, ldo)
    else:
        gemm(False, True, n, GH, H, <floating> 1, h, H, W, H,
             <floating> (1 if accumulate else 0), out, ldo)


cdef inline void _step_product_back(
    const floating* da, int ldd, const floating* W, floating* out, int n,
    int H, int GH, bint accumulate,
) noexcept nogil:
    """``out (+)= da W`` for n rows: da (n, GH) with row stride ldd, W (GH, H),
    out (n, H)."""
    cdef int most = SMALL_BACKWARD_MAX_GH
    if floating is double:
        most = SMALL_BACKWARD_MAX_GH_DOUBLE
    if GH <= most:
        small_gemm(n, H, GH, da, ldd, W, H, accumulate, out, H)
    else:
        gemm(False, False, n, H, GH, <floating> 1, da, ldd, W, H,
             <floating> (1 if accumulate else 0), out, H)


cdef inline bint _one_pass_input(int F, int H, int S) noexcept nogil:
    """Whether each step's input goes through _step_input in chunks of S
    rows (forward and inference alike, so that the two compute the same sums
    where _small_forward does not depend on the rows)."""
    return _small_forward(H, S) and F <= SMALL_INPUT_MAX_F


cdef inline void _step_input(
    const floating* x, const floating* W_ih_t, const floating* bias,
    const floating* h_prev, const floating* W_hh_t, floating* a, int n,
    int lda, int F, int H, int GH,
) noexcept nogil:
    """A step's pre-activations in one pass: ``a = bias + x W_ih' + h_prev
    W_hh'`` for n rows (no recurrent product if h_prev is NULL); W_ih_t
    (F, GH) and W_hh_t (H, GH) are the transposes."""
    if h_prev != NULL:
        small_gemm_pair(n, GH, F, x, F, W_ih_t, GH, H, h_prev, H, W_hh_t, GH,
                        bias, a, lda)
    else:
        small_gemm_pair(n, GH, F, x, F, W_ih_t, GH, 0, x, F, W_ih_t, GH, bias,
                        a, lda)


cdef inline void _weight_grad(
    const floating* dA, int ldd, const floating* Z, int rows, int K, int GH,
    floating* dW, floating* scratch,
) noexcept nogil:
    """``dW (GH, K) = dA' Z`` over ``rows`` rows: dA (rows, GH) with row
    stride ldd, Z (rows, K). Where the step products are small (scratch not
    NULL: K GH values) as ``(Z' dA)'``, whose GH columns are vector lanes,
    without BLAS's packing of dA, over blocks of SMALL_GRAD_ROWS rows (the
    same sums in the same order: a block's rows of dA and Z stay in cache
    while every tile of the product reads them); otherwise one BLAS GEMM."""
    cdef int i, j, done = 0, block
    if scratch == NULL:
        gemm(True, False, GH, K, rows, <floating> 1, dA, ldd, Z, K, <floating> 0,
             dW, K)
        return
    while True:  # once at least: no rows is a product of zeros
        block = min(SMALL_GRAD_ROWS, rows - done)
        small_gemm_tn(K, GH, block, Z + done * K, K, dA + done * ldd, ldd,
                      done > 0, scratch, GH)
        done += block
        if done >= rows:
            break
    for i in range(GH):
        for j in range(K):
            dW[i * K + j] = scratch[j * GH + i]


cdef inline void _recurrent(
    const floating* h_prev, const floating* W_hh, const floating* W_hh_t,
    floating* a, floating* gh, int n, int lda, int H, int GH,
) noexcept nogil:
    """Add ``W_hh h_{t-1}`` to the step's rows (or, SEPARATE_HIDDEN, put it in gh)."""
    if SEPARATE_HIDDEN:
        _step_product(h_prev, W_hh, W_hh_t, gh, n, GH, H, GH, False)
    else:
        _step_product(h_prev, W_hh, W_hh_t, a, n, lda, H, GH, True)


cdef inline void _skip(
    const floating* h_skip, const floating* W_skip, const floating* W_skip_t,
    floating* a, int n, int lda, int H, int GH,
) noexcept nogil:
    """Add ``W_skip h_{t-k}`` to the step's input-side rows."""
    _step_product(h_skip, W_skip, W_skip_t, a, n, lda, H, GH, True)


cdef inline void _leak(
    floating* h, const floating* h_prev, floating* out, int m, floating leak,
) noexcept nogil:
    """Leaky unit: ``h = (1 - leak) h_prev + leak h``, keeping the cell's
    output ``h`` in ``out`` first (unless NULL)."""
    cdef int i
    cdef floating keep = <floating> 1 - leak
    if out != NULL:
        memcpy(out, h, m * sizeof(floating))
    for i in range(m):
        h[i] = keep * h_prev[i] + leak * h[i]


cdef inline void _decay(
    const floating* h_prev, const floating* gamma, floating* out, int m,
) noexcept nogil:
    """Decayed previous state: ``out = gamma * h_prev``."""
    cdef int i
    for i in range(m):
        out[i] = gamma[i] * h_prev[i]


cdef inline void _decay_backward(
    const floating* h_prev, const floating* gamma, floating* dh,
    floating* dgamma, int m,
) noexcept nogil:
    """From dh = dL/dhhat: ``dgamma = h_prev * dh``, then ``dh = gamma * dh``
    (dL/dh_{t-1})."""
    cdef int i
    for i in range(m):
        dgamma[i] = h_prev[i] * dh[i]
        dh[i] = gamma[i] * dh[i]


cdef void _forward_chunk(
    const floating* X, const int* lengths, const floating* W_ih,
    const floating* W_ih_t, const floating* W_hh, const floating* W_hh_t,
    const floating* bias,
    const floating* b_hh, const floating* zeros, floating* Hs, floating* cache,
    floating* gh,
    int T, int S, int F, int H, int kind,
    const floating* W_skip, const floating* W_skip_t, floating* cell_out,
    floating leak, int skip, const floating* decay, floating* decayed,
    const floating* rmask,
    floating* masked,
) noexcept nogil:
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int GH = N_GATES * H
    cdef int P = CACHE_WIDTH * H if CACHE_WIDTH else H
    cdef floating* pre = cache if CACHE_WIDTH else Hs
    cdef bint fused = _one_pass_input(F, H, S)
    cdef int b, t, i, n
    cdef floating* a
    cdef floating* h
    cdef const floating* h_prev
    cdef const floating* h_rec
    if not fused:
        for b in range((Tc + TIME_BLOCK - 1) // TIME_BLOCK):
            t = b * TIME_BLOCK
            _project(X + t * S * F, W_ih, bias, pre + t * S * P,
                     min(TIME_BLOCK, Tc - t) * S, P, F, GH)
    if SEPARATE_HIDDEN:
        memset(gh, 0, S * GH * sizeof(floating))
    for t in range(T):
        n = n_active(lengths, S, t) if t < Tc else 0
        a = pre + t * S * P
        h = Hs + t * S * H
        h_prev = h - S * H if t > 0 else zeros
        if n > 0:
            # the state the recurrent product reads (NULL: none at step 0)
            h_rec = NULL
            if t > 0:
                if decay != NULL:
                    _decay(h_prev, decay + t * S * H, decayed + t * S * H, n * H)
                    h_prev = decayed + t * S * H
                h_rec = h_prev
                if rmask != NULL:
                    # the same elementwise product as the decay's
                    _decay(h_prev, rmask, masked + t * S * H, n * H)
                    h_rec = masked + t * S * H
            if fused:
                _step_input(X + t * S * F, W_ih_t, bias,
                            NULL if SEPARATE_HIDDEN else h_rec, W_hh_t, a, n, P,
                            F, H, GH)
            if h_rec != NULL and (SEPARATE_HIDDEN or not fused):
                _recurrent(h_rec, W_hh, W_hh_t, a, gh, n, P, H, GH)
            if skip > 0 and t >= skip:
                _skip(h - skip * S * H, W_skip, W_skip_t, a, n, P, H, GH)
            _forward_step(a, a - S * P if t > 0 else NULL, gh, b_hh, h_prev, h,
                          n, H, kind)
            if leak < 1:
                _leak(h, h_prev, cell_out + t * S * H, n * H, leak)
        for i in range(n * H, S * H):
            h[i] = 0
        if leak < 1:
            for i in range(n * H, S * H):
                cell_out[t * S * H + i] = 0
        if decay != NULL:
            for i in range((n if t > 0 else 0) * H, S * H):
                decayed[t * S * H + i] = 0
        if rmask != NULL:
            for i in range((n if t > 0 else 0) * H, S * H):
                masked[t * S * H + i] = 0
        if CACHE_WIDTH:
            for i in range(n * P, S * P):
                a[i] = 0


cdef void _infer_chunk(
    const floating* X, const int* lengths, const floating* W_ih,
    const floating* W_ih_t, const floating* W_hh, const floating* W_hh_t,
    const floating* bias,
    const floating* b_hh, const floating* zeros, floating* Hs, floating* last,
    floating* work,
    floating* ring, floating* gh, int T, int S, int F, int H, int kind,
    const floating* W_skip, const floating* W_skip_t, floating leak, int skip,
    const floating* decay, floating* hhat,
) noexcept nogil:
    # work holds TIME_BLOCK + 1 steps of rows: slot 0 carries the step before
    # the block (its cell state), slots 1.. the block's projections. Without
    # Hs, the states live in ring (two steps, or skip + 1 with skip
    # connections) and only each row's last state is kept, in last.
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int GH = N_GATES * H
    cdef int P = (CACHE_WIDTH if CACHE_WIDTH else 1) * H
    cdef int block = S * P
    cdef int R = skip + 1 if skip > 1 else 2
    cdef bint fused = _one_pass_input(F, H, S)
    cdef int t, i, n, slot, ending
    cdef floating* a
    cdef floating* h
    cdef const floating* h_prev = zeros
    if last != NULL:
        memset(last, 0, S * H * sizeof(floating))
    if SEPARATE_HIDDEN:
        memset(gh, 0, S * GH * sizeof(floating))
    for t in range(Tc):
        slot = t % TIME_BLOCK + 1
        if slot == 1:
            if t > 0:
                memcpy(work, work + TIME_BLOCK * block, block * sizeof(floating))
            if not fused:
                _project(X + t * S * F, W_ih, bias, work + block,
                         min(TIME_BLOCK, Tc - t) * S, P, F, GH)
        a = work + slot * block
        n = n_active(lengths, S, t)
        h = Hs + t * S * H if Hs != NULL else ring + (t % R) * S * H
        if t > 0 and decay != NULL:
            _decay(h_prev, decay + t * S * H, hhat, n * H)
            h_prev = hhat
        if fused:
            _step_input(X + t * S * F, W_ih_t, bias,
                        NULL if SEPARATE_HIDDEN or t == 0 else h_prev, W_hh_t, a,
                        n, P, F, H, GH)
        if t > 0 and (SEPARATE_HIDDEN or not fused):
            _recurrent(h_prev, W_hh, W_hh_t, a, gh, n, P, H, GH)
        if skip > 0 and t >= skip:
            _skip(Hs + (t - skip) * S * H if Hs != NULL
                  else ring + ((t - skip) % R) * S * H, W_skip, W_skip_t, a, n,
                  P, H, GH)
        _forward_step(a, a - block if t > 0 else NULL, gh, b_hh, h_prev, h, n,
                      H, kind)
        if leak < 1:
            _leak(h, h_prev, NULL, n * H, leak)
        if Hs != NULL:
            for i in range(n * H, S * H):
                h[i] = 0
        if last != NULL:
            ending = n_active(lengths, S, t + 1)
            if ending < n:
                memcpy(last + ending * H, h + ending * H,
                       (n - ending) * H * sizeof(floating))
        h_prev = h
    if Hs != NULL and Tc < T:
        memset(Hs + Tc * S * H, 0, (T - Tc) * S * H * sizeof(floating))


cdef void _backward_chunk(
    const floating* X, const int* lengths, const floating* W_ih,
    const floating* W_hh, const floating* zeros, const floating* Hs,
    const floating* cache, const floating* dHs, floating* dA, floating* dh,
    floating* dc, floating* dX, floating* dW_ih, floating* dW_hh,
    floating* db_ih, floating* db_hh, floating* sq_norms, int T, int S, int F,
    int H, int kind, int bptt_steps, bint need_dX,
    const floating* W_skip, const floating* cell_out, floating* dW_skip,
    floating* total, floating leak, int skip, const floating* decay,
    const floating* decayed, floating* decay_grad, const floating* rmask,
    const floating* masked, floating* rec, floating* scratch,
) noexcept nogil:
    # With leaky units, total holds dL/dh_t of the step (S H values): the cell
    # sees leak times it, the previous state gets (1 - leak) times it. With
    # recurrent dropout, rec (S H values) holds the gradient with respect to
    # the masked state the recurrent product read, before the mask.
    cdef int Tc = lengths[0] if S > 0 else 0
    cdef int GH = N_GATES * H
    cdef int P = CACHE_WIDTH * H if CACHE_WIDTH else H
    cdef int D = DA_WIDTH * H
    cdef const floating* pre = cache if CACHE_WIDTH else Hs
    cdef floating* dA_hh = dA + (GH if SEPARATE_HIDDEN else 0)
    # vanishing gradients below the normal range count as 0 (_fastmath.h)
    cdef unsigned int fp_mode = skrnn_flush_denormals()
    cdef int t, i, j, n
    cdef bint cut
    cdef floating d, sq
    cdef const floating* a
    cdef const floating* h
    cdef const floating* h_prev
    cdef const floating* g
    cdef floating* da
    cdef floating* dah
    memset(dh, 0, S * H * sizeof(floating))
    memset(dc, 0, S * H * sizeof(floating))
    if sq_norms != NULL:
        for t in range(T):
            sq_norms[t] = 0
    if decay != NULL:
        memset(decay_grad, 0, T * S * H * sizeof(floating))
    for t in range(Tc - 1, -1, -1):
        n = n_active(lengths, S, t)
        a = pre + t * S * P
        h = Hs + t * S * H
        # what the cell read as the previous state
        h_prev = zeros if t == 0 else (
            decayed + t * S * H if decay != NULL else h - S * H)
        # dh (and dc) hold the gradients reaching step t from step t + 1;
        # the skip connection adds step t + k's, unless a truncation window
        # boundary lies between them.
        if skip > 0 and t + skip < Tc and (
                bptt_steps == 0 or (t + skip) // bptt_steps == t // bptt_steps):
            _step_product_back(dA + (t + skip) * S * D, D, W_skip, dh, n, H, GH,
                               True)
        g = dHs + t * S * H
        if sq_norms != NULL:
            # the norm in its own pass, so that the cell's step loop has no
            # reduction and vectorises
            sq = 0
            for i in range(n * H):
                d = g[i] + dh[i]
                sq = sq + d * d
            sq_norms[t] = sq
        if leak < 1:
            for i in range(n * H):
                d = g[i] + dh[i]
                total[i] = d
                dh[i] = leak * d
            _backward_step(
                a, a - S * P if t > 0 else NULL, cell_out + t * S * H, h_prev,
                zeros, dh, dc, dA + t * S * D, n, H, kind)
        else:
            _backward_step(
                a, a - S * P if t > 0 else NULL, h, h_prev, g, dh, dc,
                dA + t * S * D, n, H, kind)
        for i in range((t * S + n) * D, (t + 1) * S * D):
            dA[i] = 0
        if t > 0:
            cut = bptt_steps > 0 and t % bptt_steps == 0
            # a decayed state's factor has its gradient even where truncation
            # cuts the path to h_{t-1}
            if not cut or decay != NULL:
                if rmask != NULL:
                    _step_product_back(dA_hh + t * S * D, D, W_hh, rec, n, H,
                                       GH, False)
                    if SEPARATE_HIDDEN:
                        for i in range(n * H):
                            dh[i] += rmask[i] * rec[i]
                    else:
                        for i in range(n * H):
                            dh[i] = rmask[i] * rec[i]
                else:
                    _step_product_back(dA_hh + t * S * D, D, W_hh, dh, n, H,
                                       GH, SEPARATE_HIDDEN)
                if leak < 1:
                    for i in range(n * H):
                        dh[i] += (<floating> 1 - leak) * total[i]
                if decay != NULL:
                    _decay_backward(h - S * H, decay + t * S * H, dh,
                                    decay_grad + t * S * H, n * H)
            if cut:
                for i in range(n * H):
                    dh[i] = 0
                    dc[i] = 0
    # Weight gradients of the whole chunk as single GEMMs (h_{-1} = 0, so the
    # recurrent product starts at step 1).
    _weight_grad(dA, D, X, Tc * S, F, GH, dW_ih, scratch)
    _weight_grad(dA_hh + S * D, D, masked + S * H if rmask != NULL else (
                     decayed + S * H if decay != NULL else Hs),
                 (Tc - 1) * S, H, GH, dW_hh, scratch)
    if skip > 0:
        if Tc > skip:
            gemm(True, False, GH, H, (Tc - skip) * S, <floating> 1,
                 dA + skip * S * D, D, Hs, H, <floating> 0, dW_skip, H)
        else:
            memset(dW_skip, 0, GH * H * sizeof(floating))
    for j in range(GH):
        db_ih[j] = 0
        db_hh[j] = 0
    for i in range(Tc * S):
        da = dA + i * D
        for j in range(GH):
            db_ih[j] += da[j]
        if SEPARATE_HIDDEN:
            dah = dA_hh + i * D
            for j in range(GH):
                db_hh[j] += dah[j]
    if not SEPARATE_HIDDEN:
        for j in range(GH):
            db_hh[j] = db_ih[j]
    for i in range(Tc * S * D, T * S * D):
        dA[i] = 0
    if need_dX:
        gemm(False, False, Tc * S, F, GH, <floating> 1, dA, D, W_ih, F,
             <floating> 0, dX, F)
        for i in range(Tc * S * F, T * S * F):
            dX[i] = 0
    skrnn_restore_denormals(fp_mode)


# ----------------------------------------------------------- shape checks
def _expect(name, array, want):
    got = tuple(array.shape)
    if got != tuple(want):
        raise ValueError(
            f"{name} has shape {got}, expected {tuple(want)} from the shapes "
            "of X and W_hh."
        )


def _check_layer(X, lengths, W_ih, W_hh):
    """Check a layer's input, lengths and weight matrices; return (C, T, S, F, H)."""
    C, T, S, F = X.shape
    H = W_hh.shape[1]
    _expect("W_hh", W_hh, (N_GATES * H, H))
    _expect("W_ih", W_ih, (N_GATES * H, F))
    _expect("lengths", lengths, (C, S))
    lens = np.asarray(lengths)
    if lens.size and (lens.min() < 0 or lens.max() > T):
        raise ValueError(f"lengths must lie in [0, {T}] (the steps of X).")
    if S > 1 and np.any(lens[:, 1:] > lens[:, :-1]):
        raise ValueError("lengths must be non-increasing within each chunk.")
    return C, T, S, F, H


def _check_options(leak_rate, skip_steps, W_skip, H):
    """Check the leaky-unit and skip-connection arguments."""
    if not 0 < leak_rate <= 1:
        raise ValueError(f"leak_rate must lie in (0, 1], got {leak_rate!r}.")
    if skip_steps < 0:
        raise ValueError(f"skip_steps must be 0 (off) or positive, got {skip_steps}.")
    if skip_steps > 0:
        if W_skip is None:
            raise ValueError("skip_steps > 0 needs W_skip of shape (G * H, H).")
        _expect("W_skip", W_skip, (N_GATES * H, H))


def _check_decay(shape, **arrays):
    """Check the state decay's arrays (all of shape (C, T, S, H))."""
    for name, array in arrays.items():
        if array is None:
            raise ValueError(
                f"state_decay needs {name} of shape (C, T, S, H) = {tuple(shape)}.")
        _expect(name, array, shape)


def _check_mask(shape, recurrent_mask, masked):
    """Check the recurrent dropout's arrays: the mask (C, S, H) and the
    masked states (C, T, S, H) of ``shape`` = (C, T, S, H)."""
    C, T, S, H = shape
    _expect("recurrent_mask", recurrent_mask, (C, S, H))
    if masked is None:
        raise ValueError(
            f"recurrent_mask needs masked of shape (C, T, S, H) = {tuple(shape)}.")
    _expect("masked", masked, shape)


# ------------------------------------------------------------ entry points
def cpu_has_x86_64_v3():
    """Whether this CPU runs the kernels' x86-64-v3 build (AVX2, FMA); False
    where it cannot tell (other compilers and architectures)."""
    return bool(skrnn_cpu_has_x86_64_v3())


def cpu_has_x86_64_v4():
    """Whether this CPU runs the kernels' x86-64-v4 build (AVX-512); False
    where it cannot tell (other compilers and architectures)."""
    return bool(skrnn_cpu_has_x86_64_v4())


def small_forward_rows(int H):
    """Up to how many rows a forward step's products at hidden size ``H``
    run through the small product in this build (a large number: any; 0:
    none, BLAS); what skrnn._layout sizes inference chunks by."""
    if H <= SMALL_FORWARD_MAX_H:
        return 2**31 - 1
    if H <= SMALL_FORWARD_MAX_H_FEW_ROWS:
        return SMALL_FEW_ROWS
    return 0


def _small_operand(W, int H):
    """``W'`` contiguous, which the per-step small product reads where it
    may be used (H <= SMALL_FORWARD_MAX_H_FEW_ROWS); elsewhere ``W`` itself,
    never read, so that the BLAS sizes pay for no transpose."""
    if H <= SMALL_FORWARD_MAX_H_FEW_ROWS:
        return np.ascontiguousarray(np.asarray(W).T)
    return W


def small_product(const floating[:, :] a, const floating[:, :] b,
                  floating[:, :] c, bint accumulate, a2=None, b2=None,
                  row0=None, bint trans=False, int repeat=1, bint blas=False):
    """``c[...] = a @ b`` (``+ c`` if accumulate) by the per-step small product;
    with ``a2``, ``b2`` and ``row0`` (then not accumulate), ``c[...] = row0 +
    a @ b + a2 @ b2`` by the pair product of a step's input; with ``trans``
    (then neither), ``c[...] = a.T @ b`` by the weight gradients' product.
    ``repeat`` runs it that many times, ``blas`` by BLAS instead (both for
    benchmarks/bench_small_product.py).

    For tests: the time loop's own code on arrays whose rows are contiguous
    (any row strides, as in the kernels' strided rows).
    """
    cdef int m = a.shape[1 if trans else 0], k = a.shape[0 if trans else 1]
    cdef int n = b.shape[1]
    if trans and (accumulate or a2 is not None):
        raise ValueError("trans takes neither accumulate nor a pair.")
    if b.shape[0] != k or c.shape[0] != m or c.shape[1] != n:
        raise ValueError(
            f"shapes {tuple(a.shape)} @ {tuple(b.shape)} -> {tuple(c.shape)} "
            "do not match.")
    cdef bint pair = a2 is not None
    cdef const floating[:, :] x2 = a2 if pair else a
    cdef const floating[:, :] w2 = b2 if pair else b
    cdef const floating[:] r0 = row0 if pair else c[0]
    cdef int k2 = x2.shape[1] if pair else 0
    if pair and (accumulate or x2.shape[0] != m or w2.shape[0] != k2
                 or w2.shape[1] != n or r0.shape[0] != n):
        raise ValueError(
            f"shapes {(m, n)} + {tuple(a2.shape)} @ {tuple(b2.shape)} and row0 "
            f"{tuple(row0.shape)} do not match (or accumulate with a pair).")
    cdef Py_ssize_t size = sizeof(floating)
    for name, x in (("a", a), ("b", b), ("c", c), ("a2", x2), ("b2", w2)):
        if x.strides[1] != size or x.strides[0] % size or x.strides[0] < 0:
            raise ValueError(f"{name} must have contiguous rows.")
    if pair and r0.strides[0] != size:
        raise ValueError("row0 must be contiguous.")
    if m == 0 or n == 0:
        return
    cdef int lda = <int> (a.strides[0] // size), ldb = <int> (b.strides[0] // size)
    cdef int lda2 = <int> (x2.strides[0] // size), ldb2 = <int> (w2.strides[0] // size)
    cdef int ldc = <int> (c.strides[0] // size)
    cdef const floating* pa = &a[0, 0] if k > 0 else NULL
    cdef const floating* pb = &b[0, 0] if k > 0 else NULL
    cdef const floating* pa2 = &x2[0, 0] if k2 > 0 else pa
    cdef const floating* pb2 = &w2[0, 0] if k2 > 0 else pb
    cdef int r, i, j
    with nogil:
        for r in range(repeat):
            if blas:
                # what BLAS computes in the time loop's place (the projection,
                # then the recurrent product added), for benchmarks
                gemm(trans, False, m, n, k, <floating> 1, pa, lda, pb, ldb,
                     <floating> (1 if accumulate else 0), &c[0, 0], ldc)
                if pair:
                    for i in range(m):
                        for j in range(n):
                            c[i, j] += r0[j]
                    gemm(False, False, m, n, k2, <floating> 1, pa2, lda2, pb2,
                         ldb2, <floating> 1, &c[0, 0], ldc)
            elif trans:
                small_gemm_tn(m, n, k, pa, lda, pb, ldb, False, &c[0, 0], ldc)
            elif pair:
                small_gemm_pair(m, n, k, pa, lda, pb, ldb, k2, pa2, lda2, pb2,
                                ldb2, &r0[0], &c[0, 0], ldc)
            else:
                small_gemm(m, n, k, pa, lda, pb, ldb, accumulate, &c[0, 0], ldc)


def forward(
    const floating[:, :, :, ::1] X,
    const int[:, ::1] lengths,
    const floating[:, ::1] W_ih,
    const floating[:, ::1] W_hh,
    const floating[::1] b_ih,
    const floating[::1] b_hh,
    floating[:, :, :, ::1] Hs,
    floating[:, :, :, ::1] cache,
    int activation,
    int n_threads,
    double leak_rate=1.0,
    int skip_steps=0,
    W_skip=None,
    cell_out=None,
    state_decay=None,
    decayed=None,
    recurrent_mask=None,
    masked=None,
):
    """Run one layer over a chunked batch, keeping what :func:`backward` needs.

    G is the cell's number of gate blocks (Elman 1, GRU 3, LSTM 4) and K its
    cache width per hidden unit (Elman 0, GRU 4, LSTM 6); see the module
    docstring for the cell's equations and cache.

    Parameters
    ----------
    X : ndarray of shape (n_chunks, T, S, F)
        Layer input; values at padded steps are ignored.
    lengths : ndarray of shape (n_chunks, S), int32
        Length of each sequence, non-increasing within a chunk (0 = empty row).
    W_ih : ndarray of shape (G * H, F)
    W_hh : ndarray of shape (G * H, H)
    b_ih, b_hh : ndarray of shape (G * H,)
        Weights in PyTorch's layout.
    Hs : ndarray of shape (n_chunks, T, S, H)
        Output: the hidden states; zero at padded steps.
    cache : ndarray of shape (n_chunks, T, S, K * H)
        Output: per step and row what :func:`backward` needs; zero at padded
        steps.
    activation : int
        Elman: 0 identity, 1 tanh, 2 logistic, 3 relu. Ignored by the gated
        cells, whose gate functions are fixed.
    n_threads : int
        OpenMP threads over chunks.
    leak_rate : float in (0, 1], default=1.0
        Leaky units: ``h_t = (1 - leak_rate) h_{t-1} + leak_rate cell_t``,
        where ``cell_t`` is the cell's output from ``x_t`` and ``h_{t-1}``;
        1 is the plain cell.
    skip_steps : int, default=0
        Skip connection through time: ``W_skip h_{t-k}`` is added to the
        input-side pre-activations at steps ``t >= k``; 0 means none.
    W_skip : ndarray of shape (G * H, H), default=None
        The skip connection's weights; needed when ``skip_steps > 0``.
    cell_out : ndarray of shape (n_chunks, T, S, H), default=None
        Output, needed when ``leak_rate < 1``: the cell's outputs
        ``cell_t`` (zero at padded steps), which :func:`backward` reads.
    state_decay : ndarray of shape (n_chunks, T, S, H), default=None
        Decay of the previous state (GRU-D): at step t the cell reads
        ``state_decay[t] * h_{t-1}`` in place of ``h_{t-1}``; None: no decay.
    decayed : ndarray of shape (n_chunks, T, S, H), default=None
        Output, needed with ``state_decay``: the decayed previous states the
        cell read (zero at step 0 and at padded steps), which
        :func:`backward` reads.
    recurrent_mask : ndarray of shape (n_chunks, S, H), default=None
        Recurrent dropout (training): at every step the recurrent product
        ``W_hh h_{t-1}`` of row s reads ``recurrent_mask[s] * h_{t-1}``
        (after the decay, with ``state_decay``); the rest of the cell and the
        leak read ``h_{t-1}`` unmasked. None: no mask.
    masked : ndarray of shape (n_chunks, T, S, H), default=None
        Output, needed with ``recurrent_mask``: the masked previous states
        the recurrent product read (zero at step 0 and at padded steps),
        which :func:`backward` reads.
    """
    cdef int C, T, S, F, H
    C, T, S, F, H = _check_layer(X, lengths, W_ih, W_hh)
    _expect("b_ih", b_ih, (N_GATES * H,))
    _expect("b_hh", b_hh, (N_GATES * H,))
    _expect("Hs", Hs, (C, T, S, H))
    _expect("cache", cache, (C, T, S, CACHE_WIDTH * H))
    _check_options(leak_rate, skip_steps, W_skip, H)
    cdef bint leaky = leak_rate < 1
    if leaky:
        if cell_out is None:
            raise ValueError("leak_rate < 1 needs cell_out of shape (C, T, S, H).")
        _expect("cell_out", cell_out, (C, T, S, H))
    cdef bint decaying = state_decay is not None
    if decaying:
        _check_decay((C, T, S, H), state_decay=state_decay, decayed=decayed)
    cdef bint masking = recurrent_mask is not None
    if masking:
        _check_mask((C, T, S, H), recurrent_mask, masked)
    cdef int c
    if C == 0 or T == 0 or S == 0:
        return
    dtype = np.float32 if floating is float else np.float64
    cdef floating leak = leak_rate
    cdef int skip = skip_steps
    cdef const floating[:, ::1] Ws = W_skip if skip > 0 else np.zeros((1, 1), dtype)
    cdef const floating[:, ::1] W_hh_t = _small_operand(W_hh, H)
    cdef const floating[:, ::1] W_ih_t = _small_operand(W_ih, H)
    cdef const floating[:, ::1] Ws_t = _small_operand(Ws, H)
    cdef floating[:, :, :, ::1] out = (
        cell_out if leaky else np.zeros((1, 1, 1, 1), dtype))
    cdef const floating[:, :, :, ::1] sd = (
        state_decay if decaying else np.zeros((1, 1, 1, 1), dtype))
    cdef floating[:, :, :, ::1] dec = (
        decayed if decaying else np.zeros((1, 1, 1, 1), dtype))
    cdef const floating[:, :, ::1] rm = (
        recurrent_mask if masking else np.zeros((1, 1, 1), dtype))
    cdef floating[:, :, :, ::1] msk = (
        masked if masking else np.zeros((1, 1, 1, 1), dtype))
    cdef floating[::1] bias = np.empty(N_GATES * H, dtype=dtype)
    _input_bias(&b_ih[0], &b_hh[0], &bias[0], H)
    cdef floating[::1] zeros = np.zeros(S * H, dtype=dtype)
    cdef floating[:, ::1] gh = np.empty(
        (C, S * N_GATES * H if SEPARATE_HIDDEN else 1), dtype=dtype)
    with nogil:
        for c in prange(C, schedule='static', chunksize=1, num_threads=n_threads):
            _forward_chunk(&X[c, 0, 0, 0], &lengths[c, 0], &W_ih[0, 0],
                           &W_ih_t[0, 0],
                           &W_hh[0, 0], &W_hh_t[0, 0], &bias[0], &b_hh[0], &zeros[0],
                           &Hs[c, 0, 0, 0], &cache[c, 0, 0, 0], &gh[c, 0],
                           T, S, F, H, activation, &Ws[0, 0], &Ws_t[0, 0],
                           &out[c, 0, 0, 0] if leaky else NULL, leak, skip,
                           &sd[c, 0, 0, 0] if decaying else NULL,
                           &dec[c, 0, 0, 0] if decaying else NULL,
                           &rm[c, 0, 0] if masking else NULL,
                           &msk[c, 0, 0, 0] if masking else NULL)


def infer(
    const floating[:, :, :, ::1] X,
    const int[:, ::1] lengths,
    const floating[:, ::1] W_ih,
    const floating[:, ::1] W_hh,
    const floating[::1] b_ih,
    const floating[::1] b_hh,
    floating[:, :, :, ::1] Hs,
    floating[:, :, ::1] last,
    int activation,
    int n_threads,
    double leak_rate=1.0,
    int skip_steps=0,
    W_skip=None,
    state_decay=None,
):
    """Run one layer for prediction only: no cache, states as long as needed.

    The same sums in the same order as :func:`forward`, so the states are
    the ones :func:`forward` computes. Each thread works in a few steps'
    worth of memory.

    Parameters
    ----------
    X, lengths, W_ih, W_hh, b_ih, b_hh, activation, n_threads :
        As in :func:`forward`.
    leak_rate, skip_steps, W_skip, state_decay :
        As in :func:`forward` (no ``cell_out`` or ``decayed``: nothing is
        kept).
    Hs : ndarray of shape (n_chunks, T, S, H) or (0, 0, 0, 0)
        Output: every hidden state (zero at padded steps); skipped when empty.
    last : ndarray of shape (n_chunks, S, H) or (0, 0, 0)
        Output: the state at each row's last real step (zero for empty rows);
        skipped when empty.
    """
    cdef int C, T, S, F, H
    C, T, S, F, H = _check_layer(X, lengths, W_ih, W_hh)
    _expect("b_ih", b_ih, (N_GATES * H,))
    _expect("b_hh", b_hh, (N_GATES * H,))
    cdef bint want_all = Hs.shape[0] > 0
    cdef bint want_last = last.shape[0] > 0
    if want_all:
        _expect("Hs", Hs, (C, T, S, H))
    if want_last:
        _expect("last", last, (C, S, H))
    _check_options(leak_rate, skip_steps, W_skip, H)
    cdef bint decaying = state_decay is not None
    if decaying:
        _check_decay((C, T, S, H), state_decay=state_decay)
    cdef int c
    if C == 0 or T == 0 or S == 0 or not (want_all or want_last):
        return
    dtype = np.float32 if floating is float else np.float64
    cdef floating leak = leak_rate
    cdef int skip = skip_steps
    cdef const floating[:, ::1] Ws = W_skip if skip > 0 else np.zeros((1, 1), dtype)
    cdef const floating[:, ::1] W_hh_t = _small_operand(W_hh, H)
    cdef const floating[:, ::1] W_ih_t = _small_operand(W_ih, H)
    cdef const floating[:, ::1] Ws_t = _small_operand(Ws, H)
    cdef const floating[:, :, :, ::1] sd = (
        state_decay if decaying else np.zeros((1, 1, 1, 1), dtype))
    cdef floating[::1] bias = np.empty(N_GATES * H, dtype=dtype)
    _input_bias(&b_ih[0], &b_hh[0], &bias[0], H)
    cdef floating[::1] zeros = np.zeros(S * H, dtype=dtype)
    cdef signed char[::1] failed = np.zeros(C, dtype=np.int8)
    cdef size_t n_work = (TIME_BLOCK + 1) * S * (CACHE_WIDTH if CACHE_WIDTH else 1) * H
    cdef size_t n_ring = 0 if want_all else (skip + 1 if skip > 1 else 2) * S * H
    cdef size_t n_gh = S * N_GATES * H if SEPARATE_HIDDEN else 0
    cdef size_t n_hhat = S * H if decaying else 0
    cdef floating* work
    with nogil, parallel(num_threads=n_threads):
        work = <floating*> malloc(
            (n_work + n_ring + n_gh + n_hhat) * sizeof(floating))
        for c in prange(C, schedule='static', chunksize=1):
            if work == NULL:
                failed[c] = 1
                continue
            _infer_chunk(&X[c, 0, 0, 0], &lengths[c, 0], &W_ih[0, 0],
                         &W_ih_t[0, 0],
                         &W_hh[0, 0], &W_hh_t[0, 0], &bias[0], &b_hh[0], &zeros[0],
                         &Hs[c, 0, 0, 0] if want_all else NULL,
                         &last[c, 0, 0] if want_last else NULL,
                         work, work + n_work, work + n_work + n_ring,
                         T, S, F, H, activation, &Ws[0, 0], &Ws_t[0, 0],
                         leak, skip,
                         &sd[c, 0, 0, 0] if decaying else NULL,
                         work + n_work + n_ring + n_gh)
        free(work)
    if np.any(failed):
        raise MemoryError("could not allocate the inference workspace")


def backward(
    const floating[:, :, :, ::1] X,
    const int[:, ::1] lengths,
    const floating[:, ::1] W_ih,
    const floating[:, ::1] W_hh,
    const floating[:, :, :, ::1] Hs,
    const floating[:, :, :, ::1] cache,
    const floating[:, :, :, ::1] dHs,
    floating[:, :, :, ::1] dX,
    floating[:, :, ::1] dW_ih,
    floating[:, :, ::1] dW_hh,
    floating[:, ::1] db_ih,
    floating[:, ::1] db_hh,
    floating[:, :, :, ::1] dA,
    floating[:, ::1] step_sq_norms,
    int activation,
    int bptt_steps,
    int n_threads,
    double leak_rate=1.0,
    int skip_steps=0,
    W_skip=None,
    cell_out=None,
    dW_skip=None,
    state_decay=None,
    decayed=None,
    decay_grad=None,
    recurrent_mask=None,
    masked=None,
):
    """Backpropagation through time for one layer over a chunked batch.

    G and K as in :func:`forward`; D is the width of ``dA`` per hidden unit
    (G, or 2 G for the GRU, whose hidden-side gradients differ from the
    input-side ones).

    Parameters
    ----------
    X, lengths, W_ih, W_hh, Hs, cache : as in :func:`forward` (Hs, cache its
        outputs).
    dHs : ndarray of shape (n_chunks, T, S, H)
        Gradient of the loss with respect to each hidden state from above
        (read-out or next layer); ignored at padded steps.
    dX : ndarray of shape (n_chunks, T, S, F) or (0, 0, 0, 0)
        Output: gradient with respect to the layer input (zero at padded
        steps); skipped when empty.
    dW_ih : ndarray of shape (n_chunks, G * H, F)
    dW_hh : ndarray of shape (n_chunks, G * H, H)
    db_ih, db_hh : ndarray of shape (n_chunks, G * H)
        Output: each chunk's weight gradients; the caller sums them over
        chunks in chunk order.
    dA : ndarray of shape (n_chunks, T, S, D * H)
        Output: per step (zero at padded steps), the gradient with respect to
        the input-side pre-activations ``W_ih x_t + b_ih`` (first G H), and
        for the GRU then the hidden-side ``W_hh h_{t-1} + b_hh``: step t's
        contribution to the weight gradients is ``dA_t[:, :GH]' x_t`` and
        ``dA_t[:, -GH:]' h_{t-1}``.
    step_sq_norms : ndarray of shape (n_chunks, T) or (n_chunks, 0)
        Output: squared norm of the total gradient with respect to the hidden
        states of each step (all rows of the chunk), the vanishing-gradient
        picture; not computed with no columns.
    activation : int
        As in :func:`forward`.
    bptt_steps : int
        Truncated BPTT window: the gradient does not flow from step t to step
        t - 1 (through any state) when t is a multiple of it; 0 means full
        BPTT.
    n_threads : int
        OpenMP threads over chunks.
    leak_rate, skip_steps, W_skip : as in :func:`forward`.
    cell_out : ndarray of shape (n_chunks, T, S, H), default=None
        :func:`forward`'s output of that name; needed when ``leak_rate < 1``.
    dW_skip : ndarray of shape (n_chunks, G * H, H), default=None
        Output, needed when ``skip_steps > 0``: each chunk's gradient of
        ``W_skip``. Truncated BPTT cuts the skip connection too where a
        window boundary lies between ``t - k`` and ``t``.
    state_decay, decayed : ndarray of shape (n_chunks, T, S, H), default=None
        :func:`forward`'s input and output of those names; None: no decay.
    decay_grad : ndarray of shape (n_chunks, T, S, H), default=None
        Output, needed with ``state_decay``: dL/d(state_decay), that is
        ``h_{t-1} * dL/dhhat_t`` (zero at step 0 and at padded steps; where
        truncated BPTT cuts the path to ``h_{t-1}``, the factor keeps its
        gradient).
    recurrent_mask, masked : default=None
        :func:`forward`'s input and output of those names; None: no mask.
        The gradient reaching ``h_{t-1}`` through ``W_hh`` is times the mask,
        and ``dW_hh`` is taken on the masked states.
    """
    cdef int C, T, S, F, H
    C, T, S, F, H = _check_layer(X, lengths, W_ih, W_hh)
    cdef int GH = N_GATES * H
    cdef bint need_dX = dX.shape[0] > 0
    _expect("Hs", Hs, (C, T, S, H))
    _expect("cache", cache, (C, T, S, CACHE_WIDTH * H))
    _expect("dHs", dHs, (C, T, S, H))
    if need_dX:
        _expect("dX", dX, (C, T, S, F))
    _expect("dW_ih", dW_ih, (C, GH, F))
    _expect("dW_hh", dW_hh, (C, GH, H))
    _expect("db_ih", db_ih, (C, GH))
    _expect("db_hh", db_hh, (C, GH))
    _expect("dA", dA, (C, T, S, DA_WIDTH * H))
    cdef bint norms = step_sq_norms.shape[1] > 0
    _expect("step_sq_norms", step_sq_norms, (C, T if norms else 0))
    _check_options(leak_rate, skip_steps, W_skip, H)
    cdef bint leaky = leak_rate < 1
    if leaky:
        if cell_out is None:
            raise ValueError("leak_rate < 1 needs forward's cell_out.")
        _expect("cell_out", cell_out, (C, T, S, H))
    if skip_steps > 0:
        if dW_skip is None:
            raise ValueError("skip_steps > 0 needs dW_skip of shape (C, G * H, H).")
        _expect("dW_skip", dW_skip, (C, GH, H))
    cdef bint decaying = state_decay is not None
    if decaying:
        _check_decay((C, T, S, H), state_decay=state_decay, decayed=decayed,
                     decay_grad=decay_grad)
    cdef bint masking = recurrent_mask is not None
    if masking:
        _check_mask((C, T, S, H), recurrent_mask, masked)
    cdef int c
    if C == 0 or T == 0 or S == 0:
        return
    dtype = np.float32 if floating is float else np.float64
    cdef floating leak = leak_rate
    cdef int skip = skip_steps
    cdef const floating[:, ::1] Ws = W_skip if skip > 0 else np.zeros((1, 1), dtype)
    cdef floating[:, :, ::1] dWs = dW_skip if skip > 0 else np.zeros((1, 1, 1), dtype)
    cdef floating[:, :, :, ::1] out = (
        cell_out if leaky else np.zeros((1, 1, 1, 1), dtype))
    cdef const floating[:, :, :, ::1] sd = (
        state_decay if decaying else np.zeros((1, 1, 1, 1), dtype))
    cdef const floating[:, :, :, ::1] dec = (
        decayed if decaying else np.zeros((1, 1, 1, 1), dtype))
    cdef floating[:, :, :, ::1] dsd = (
        decay_grad if decaying else np.zeros((1, 1, 1, 1), dtype))
    cdef const floating[:, :, ::1] rm = (
        recurrent_mask if masking else np.zeros((1, 1, 1), dtype))
    cdef const floating[:, :, :, ::1] msk = (
        masked if masking else np.zeros((1, 1, 1, 1), dtype))
    cdef floating[:, :, ::1] rec = np.empty(
        (C if masking else 1, S if masking else 1, H if masking else 1), dtype=dtype)
    cdef floating[:, :, ::1] total = np.empty(
        (C if leaky else 1, S if leaky else 1, H if leaky else 1), dtype=dtype)
    cdef floating[:, :, ::1] dh = np.empty((C, S, H), dtype=dtype)
    cdef floating[:, :, ::1] dc = np.empty((C, S, H), dtype=dtype)
    cdef floating[::1] zeros = np.zeros(S * H, dtype=dtype)
    # the weight gradients' transposes, where the step products are small
    cdef bint small = (
        H <= SMALL_GRAD_MAX_H and F <= SMALL_INPUT_MAX_F)
    cdef floating[:, ::1] scratch = np.empty(
        (C, max(F, H) * GH if small else 1), dtype=dtype)
    with nogil:
        for c in prange(C, schedule='static', chunksize=1, num_threads=n_threads):
            _backward_chunk(
                &X[c, 0, 0, 0], &lengths[c, 0], &W_ih[0, 0], &W_hh[0, 0],
                &zeros[0], &Hs[c, 0, 0, 0], &cache[c, 0, 0, 0], &dHs[c, 0, 0, 0],
                &dA[c, 0, 0, 0], &dh[c, 0, 0], &dc[c, 0, 0],
                &dX[c, 0, 0, 0] if need_dX else NULL, &dW_ih[c, 0, 0],
                &dW_hh[c, 0, 0], &db_ih[c, 0], &db_hh[c, 0],
                &step_sq_norms[c, 0] if norms else NULL,
                T, S, F, H, activation, bptt_steps, need_dX, &Ws[0, 0],
                &out[c, 0, 0, 0] if leaky else NULL,
                &dWs[c, 0, 0] if skip > 0 else NULL,
                &total[c, 0, 0] if leaky else NULL, leak, skip,
                &sd[c, 0, 0, 0] if decaying else NULL,
                &dec[c, 0, 0, 0] if decaying else NULL,
                &dsd[c, 0, 0, 0] if decaying else NULL,
                &rm[c, 0, 0] if masking else NULL,
                &msk[c, 0, 0, 0] if masking else NULL,
                &rec[c, 0, 0] if masking else NULL,
                &scratch[c, 0] if small else NULL)
