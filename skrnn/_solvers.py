"""Solvers: SGD with momentum, Adam, the simplex direction; gradient clipping.

A solver is a small object in ``SOLVERS`` that makes its state, may change
the descent direction (from each step's share of the gradient, which the
training loop computes when ``needs_step_shares`` is set) and updates the
parameters in place. The training loop never names a solver: adding one
touches this module only. The state is a plain dict of NumPy arrays, numbers
and its kind's name, so that a fitted estimator holds no object that skops
would not trust. The rules are those of scikit-learn's
``_stochastic_optimizers`` (and so of ``MLPRegressor``), with one
extension: the ``learning_rate`` schedules ('constant', 'invscaling',
'adaptive') apply to Adam as well as to SGD, and one more, 'cosine' (not in
scikit-learn): after epoch ``n_iter_`` the step size is ``learning_rate_init *
0.5 * (1 + cos(pi * min(n_iter_, max_iter) / max_iter))`` (Loshchilov &
Hutter's SGDR without restarts), from ``learning_rate_init`` down to 0 at
``max_iter``. The schedules are set in :meth:`Solver.iteration_ends` and
:meth:`Solver.trigger_stopping`. The current step size is the state's
``"learning_rate"``.
"""

import math

import numpy as np


class Solver:
    """The interface of a solver: state, direction, update.

    Attributes
    ----------
    state_kind : str
        Name of the state's layout; a refit keeps the state of a solver of the
        same kind ('simplex' updates as 'sgd').
    needs_step_shares : bool
        Whether :meth:`direction` reads each step's share of the gradients.
    """

    state_kind = ""
    needs_step_shares = False

    def init_state(self, params):
        """Fresh state for ``params``."""
        raise NotImplementedError

    def iteration_ends(self, state, estimator):
        """Set the step size after an epoch: with ``learning_rate='invscaling'``
        from ``estimator.t_`` (sequences seen), ``learning_rate_init / (t_ +
        1) ** power_t``, as ``sklearn`` ``SGDOptimizer``; with 'cosine' from
        ``estimator.n_iter_`` (epochs done), ``learning_rate_init * 0.5 * (1 +
        cos(pi * min(n_iter_, max_iter) / max_iter))``."""
        if estimator.learning_rate == "invscaling":
            state["learning_rate"] = (
                estimator.learning_rate_init / (estimator.t_ + 1) ** estimator.power_t
            )
        elif estimator.learning_rate == "cosine":
            state["learning_rate"] = cosine_step(
                estimator.learning_rate_init, estimator.n_iter_, estimator.max_iter
            )

    def trigger_stopping(self, state, estimator):
        """The loss (or score) has stalled: stop (True), or, with
        ``learning_rate='adaptive'``, divide the step size by 5 and go on
        (False) until it falls to 1e-6."""
        if estimator.learning_rate != "adaptive":
            return True
        if state["learning_rate"] <= 1e-6:
            return True
        state["learning_rate"] /= 5.0
        if estimator.verbose:
            print(f"Setting learning rate to {state['learning_rate']:f}")
        return False

    def direction(self, grads, step_grads, estimator, rng):
        """Change ``grads`` in place into the descent direction (default: keep them)."""

    def update(self, params, grads, state, estimator):
        """One step of ``params`` in place along ``grads``, reading the
        estimator's hyper-parameters."""
        raise NotImplementedError


class SGD(Solver):
    """SGD with (Nesterov) momentum: ``momentum``, ``nesterovs_momentum``."""

    state_kind = "sgd"

    def init_state(self, params):
        """Fresh state for ``params``: one velocity per array."""
        return {
            "kind": self.state_kind,
            "learning_rate": None,
            "velocities": [np.zeros_like(p) for p in params],
        }

    def update(self, params, grads, state, estimator):
        """One step of ``params`` in place along ``grads``."""
        sgd_update(
            params,
            grads,
            state,
            state["learning_rate"],
            estimator.momentum,
            estimator.nesterovs_momentum,
        )


class Simplex(SGD):
    """'sgd' along Galvan's simplex direction (``simplex_threshold``)."""

    needs_step_shares = True

    def direction(self, grads, step_grads, estimator, rng):
        """Replace the recurrent gradients by the simplex direction in place."""
        simplex_direction(grads, step_grads, estimator.simplex_threshold, rng)


class Adam(Solver):
    """Adam: ``beta_1``, ``beta_2``, ``epsilon``."""

    state_kind = "adam"

    def init_state(self, params):
        """Fresh state for ``params``: the step count and both moments."""
        return {
            "kind": self.state_kind,
            "learning_rate": None,
            "t": 0,
            "ms": [np.zeros_like(p) for p in params],
            "vs": [np.zeros_like(p) for p in params],
        }

    def update(self, params, grads, state, estimator):
        """One step of ``params`` in place along ``grads``."""
        adam_update(
            params,
            grads,
            state,
            state["learning_rate"],
            estimator.beta_1,
            estimator.beta_2,
            estimator.epsilon,
        )


SOLVERS = {"sgd": SGD(), "adam": Adam(), "simplex": Simplex()}


def cosine_step(learning_rate_init, n_iter, max_iter):
    """The 'cosine' schedule's step size after ``n_iter`` epochs of ``max_iter``."""
    done = min(n_iter, max_iter) / max_iter
    return float(learning_rate_init * 0.5 * (1.0 + math.cos(math.pi * done)))


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
    # a Python float: a NumPy float64 would make float32 steps float64
    lr = float(learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t))
    for p, g, m, v in zip(params, grads, state["ms"], state["vs"], strict=False):
        m *= beta_1
        m += (1 - beta_1) * g
        v *= beta_2
        v += (1 - beta_2) * g * g
        p -= lr * m / (np.sqrt(v) + epsilon)


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
