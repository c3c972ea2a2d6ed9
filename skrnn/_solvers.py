"""Parameter updates: SGD with momentum, Adam, gradient clipping, and the
simplex direction.

Each update works in place on a list of parameter arrays, with its state in a
plain dict of NumPy arrays and numbers, so that a fitted estimator holds no
object that skops would not trust. The rules are those of scikit-learn's
``_stochastic_optimizers`` (and so of ``MLPRegressor``).
"""

import numpy as np


def state_kind(solver):
    """'adam' or 'sgd': the state a solver keeps ('simplex' updates as 'sgd')."""
    return "adam" if solver == "adam" else "sgd"


def init_state(solver, params):
    """Fresh solver state for ``params``."""
    zeros = [np.zeros_like(p) for p in params]
    if state_kind(solver) == "adam":
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


def step_share_norms(step_grads):
    """Norm of each step's share of several gradients together.

    ``step_grads`` are arrays ``(T, *shape)``; returns an array ``(T,)``.
    """
    T = step_grads[0].shape[0]
    return np.sqrt(
        sum(
            np.square(s.reshape(T, -1), dtype=np.float64).sum(axis=1)
            for s in step_grads
        )
    )


def simplex_direction(grads, step_grads, threshold, rng):
    """Replace the recurrent gradients by Galvan's simplex direction, in place.

    Parameters
    ----------
    grads : list of ndarray
        All gradients; the first ``len(step_grads)`` are the recurrent
        parameters', each its loss part plus its L2 part.
    step_grads : list of ndarray of shape (T, *grads[i].shape)
        Each step's share of the loss part of those gradients.
    threshold : float
        Above this norm of the recurrent loss gradient, keep the gradient.
    rng : numpy.random.RandomState
        Draws the convex weights (uniform on the simplex).

    Returns
    -------
    bool
        Whether the direction was changed.
    """
    loss_part = [s.sum(axis=0) for s in step_grads]
    norm = global_norm(loss_part)
    if not 0 < norm <= threshold:
        return False
    T = step_grads[0].shape[0]
    step_norms = step_share_norms(step_grads)
    live = step_norms > 0
    mix = np.zeros(T)
    mix[live] = rng.dirichlet(np.ones(live.sum())) / step_norms[live]
    direction = [np.tensordot(mix, s, axes=1) for s in step_grads]
    length = global_norm(direction)
    if length == 0:
        return False
    for g, part, d in zip(grads, loss_part, direction, strict=False):
        g += (norm / length) * d - part
    return True
