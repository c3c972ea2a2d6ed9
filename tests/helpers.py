"""Helpers shared by the tests (fixtures stay in conftest.py)."""

import numpy as np


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
