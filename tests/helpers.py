"""Helpers shared by the tests (fixtures stay in conftest.py)."""

import numpy as np
import reference as ref

from skrnn._kernels import elman, gru, lstm
from skrnn._layout import from_chunks, make_chunking, rows_to_chunks, to_chunks

# name: (kernel module, gates per unit, cache width per unit, reference step,
# init); the kernels this CPU runs (skrnn._kernels)
KERNEL_CELLS = {
    "rnn": (elman, 1, 0, ref.elman_step, ref.elman_init),
    "gru": (gru, 3, 4, ref.gru_step, ref.gru_init),
    "lstm": (lstm, 4, 6, ref.lstm_step, ref.lstm_init),
}


def ragged_problem(rng, n=30, max_steps=9, n_features=3):
    """Sequences of random lengths as a NaN-padded array, with their lengths."""
    lengths = rng.integers(1, max_steps + 1, size=n)
    lengths[0] = max_steps
    X = rng.normal(size=(n, max_steps, n_features))
    for i, length in enumerate(lengths):
        X[i, length:] = np.nan
    return X, lengths


def layer_problem(n_gates, rng, B=11, T=7, F=3, H=4, skip=False):
    """A ragged batch (NaN after each length, the first sequence full) and
    one layer's random weights ``[W_ih, W_hh, b_ih, b_hh]`` (and ``W_skip``
    with ``skip``) for direct kernel calls, float64."""
    lengths = rng.integers(1, T + 1, size=B)
    lengths[0] = T
    X = rng.normal(size=(B, T, F))
    for i, n in enumerate(lengths):
        X[i, n:] = np.nan
    GH = n_gates * H
    weights = [
        rng.uniform(-0.6, 0.6, size=(GH, F)),
        rng.uniform(-0.6, 0.6, size=(GH, H)),
        rng.uniform(-0.3, 0.3, size=GH),
        rng.uniform(-0.3, 0.3, size=GH),
    ]
    if skip:
        weights.append(rng.uniform(-0.6, 0.6, size=(GH, H)))
    return X, lengths, weights


def assert_weight_gradients(f, weights, grads, n_weights=None, eps=1e-6):
    """Central differences of ``f(weights)`` against ``grads``, for the
    first ``n_weights`` arrays (all by default)."""
    for k in range(len(weights) if n_weights is None else n_weights):
        num = np.zeros_like(weights[k])
        for idx in np.ndindex(weights[k].shape):
            wp = [v.copy() for v in weights]
            wm = [v.copy() for v in weights]
            wp[k][idx] += eps
            wm[k][idx] -= eps
            num[idx] = (f(wp) - f(wm)) / (2 * eps)
        err = np.linalg.norm(num - grads[k]) / max(np.linalg.norm(num), 1e-12)
        assert err < 1e-6, (k, err)


def step_differences(f, A, lengths, eps=1e-6):
    """Central differences of ``f(A)`` for each value of ``A`` ``(B, T, W)``
    at the real steps of each sequence (zero at padded steps)."""
    num = np.zeros_like(A)
    for i, n in enumerate(lengths):
        for idx in np.ndindex(n, A.shape[2]):
            Ap, Am = A.copy(), A.copy()
            Ap[(i,) + idx] += eps
            Am[(i,) + idx] -= eps
            num[(i,) + idx] = (f(Ap) - f(Am)) / (2 * eps)
    return num


def kernel_forward(
    kernel, cache_width, X, lengths, weights, activation, *, mask=None,
    gamma=None, n_threads=2, **options,
):  # fmt: skip
    """A direct forward call of a cell kernel on chunks of 4, with a
    recurrent-dropout ``mask`` ``(B, H)`` and a state decay ``gamma``
    ``(B, T, H)`` if given; returns the chunking, the chunked input, states,
    cache and the keyword arguments the call took (the backward call reads
    them)."""
    H = weights[1].shape[1]
    ch = make_chunking(lengths, 4)
    Xc = to_chunks(X, ch)
    shape = Xc.shape[:3]
    Hs = np.empty(shape + (H,), dtype=X.dtype)
    cache = np.empty(shape + (cache_width * H,), dtype=X.dtype)
    kw = dict(options)
    if mask is not None:
        kw["recurrent_mask"] = rows_to_chunks(mask, ch)
        kw["masked"] = np.full(shape + (H,), np.nan, dtype=X.dtype)
    if gamma is not None:
        kw["state_decay"] = to_chunks(gamma, ch)
        kw["decayed"] = np.full(shape + (H,), np.nan, dtype=X.dtype)
    if kw.get("leak_rate", 1.0) < 1:
        kw["cell_out"] = np.empty(shape + (H,), dtype=X.dtype)
    kernel.forward(Xc, ch.lengths, *weights, Hs, cache, activation, n_threads, **kw)
    return ch, Xc, Hs, cache, kw


def kernel_loss_and_grads(
    kernel, cache_width, X, lengths, weights, activation, G_out, *, mask=None,
    gamma=None, bptt_steps=0, n_threads=2, **options,
):  # fmt: skip
    """Loss sum(G_out * H) over real steps of :func:`kernel_forward`; the
    kernel's weight gradients (summed over chunks), dX and (with ``gamma``)
    dL/dgamma in batch order, and ``(chunking, states, keyword arguments)``."""
    ch, Xc, Hs, cache, kw = kernel_forward(
        kernel, cache_width, X, lengths, weights, activation, mask=mask,
        gamma=gamma, n_threads=n_threads, **options,
    )  # fmt: skip
    Gc = to_chunks(G_out, ch)
    loss = float(np.sum(Gc * Hs))
    C, T, S, F = Xc.shape
    GH, H = weights[1].shape
    dX = np.empty_like(Xc)
    grads = [np.empty((C, GH, F)), np.empty((C, GH, H))]
    grads += [np.empty((C, GH)), np.empty((C, GH))]
    grads = [g.astype(X.dtype) for g in grads]
    sq = np.empty((C, T), dtype=X.dtype)
    # the GRU (cache width 4) has hidden-side pre-activation gradients too
    dA = np.empty((C, T, S, GH * (2 if cache_width == 4 else 1)), dtype=X.dtype)
    if gamma is not None:
        kw["decay_grad"] = np.full((C, T, S, H), np.nan, dtype=X.dtype)
    kernel.backward(
        Xc, ch.lengths, *weights[:2], Hs, cache, Gc, dX, *grads, dA, sq,
        activation, bptt_steps, n_threads, **kw,
    )  # fmt: skip
    d_gamma = None
    if gamma is not None:
        d_gamma = from_chunks(kw["decay_grad"], ch, X.shape[0], fill=0)
    dX = from_chunks(dX, ch, X.shape[0])
    return loss, [g.sum(0) for g in grads], dX, d_gamma, (ch, Hs, kw)
