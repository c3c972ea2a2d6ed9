"""Parameter updates: SGD with momentum, Adam, gradient clipping.

Each update works in place on a list of parameter arrays, with its state in a
plain dict of NumPy arrays and numbers, so that a fitted estimator holds no
object that skops would not trust. The rules are those of scikit-learn's
``_stochastic_optimizers`` (and so of ``MLPRegressor``).
"""

import numpy as np


def init_state(solver, params):
    """Fresh solver state for ``params``."""
    zeros = [np.zeros_like(p) for p in params]
    if solver == "adam":
        return {"t": 0, "ms": zeros, "vs": [np.zeros_like(p) for p in params]}
    return {"velocities": zeros}


def global_norm(grads):
    """Euclidean norm of all gradients together."""
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))


def clip_by_global_norm(grads, clip_norm):
    """Rescale ``grads`` in place so that their global norm is at most ``clip_norm``.

    Returns the norm before clipping.
    """
    norm = global_norm(grads)
    if clip_norm is not None and norm > clip_norm:
        scale = clip_norm / norm
        for g in grads:
            g *= scale
    return norm


def sgd_update(params, grads, state, learning_rate, momentum, nesterov):
    """SGD with (Nesterov) momentum, as ``sklearn`` ``SGDOptimizer``."""
    for p, g, v in zip(params, grads, state["velocities"], strict=False):
        v *= momentum
        v -= learning_rate * g
        if nesterov:
            p += momentum * v - learning_rate * g
        else:
            p += v


def adam_update(params, grads, state, learning_rate, beta_1, beta_2, epsilon):
    """Adam (Kingma & Ba, 2014), as ``sklearn`` ``AdamOptimizer``."""
    state["t"] += 1
    t = state["t"]
    lr = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    for p, g, m, v in zip(params, grads, state["ms"], state["vs"], strict=False):
        m *= beta_1
        m += (1 - beta_1) * g
        v *= beta_2
        v += (1 - beta_2) * g * g
        p -= (lr * m / (np.sqrt(v) + epsilon)).astype(p.dtype, copy=False)
