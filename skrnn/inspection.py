"""Diagnostics of fitted recurrent estimators."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from . import _solvers
from ._base import BaseRecurrent
from ._threads import blas_single_threaded, effective_n_threads

__all__ = ["temporal_gradient_norms"]


def temporal_gradient_norms(
    estimator,
    X: ArrayLike,
    y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    *,
    of: str = "states",
) -> np.ndarray:
    """Norm of the loss gradient at each time step.

    This is the vanishing-gradient picture: how much the loss at the targets
    still depends on the hidden state ``t`` steps back, or on the weights'
    use at step ``t``. With gradients that vanish, the norms fall
    geometrically towards the first steps; with exploding gradients they grow.

    Parameters
    ----------
    estimator : fitted RNN/LSTM/GRU/GRU-D regressor or classifier
        The model whose gradients are read.
    X : array-like, as in the estimator's ``fit``
        Sequences.
    y : array-like, as in the estimator's ``fit``
        Their targets.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence in the loss.
    of : {'states', 'weights'}, default='states'
        'states': dLoss/dh_t, the gradient reaching h_t from the read-out and
        from step t + 1 (truncated BPTT cuts the latter), over all sequences
        and units. 'weights': step t's share of the gradient of the layer's
        weights and biases (the unrolled network's copy used at step t; the
        shares sum to the gradient), which ``solver='simplex'`` mixes. For
        GRU-D, the first layer's row counts its decay parameters too.

    Returns
    -------
    norms : ndarray of shape (n_layers, n_steps)
        For each recurrent layer and step, the Euclidean norm. Bidirectional
        models have two rows per layer, forward then backward; the backward
        direction's step ``t`` is ``t`` steps before each sequence's last real
        step (the order it runs in).

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNRegressor
    >>> from skrnn.inspection import temporal_gradient_norms
    >>> X = np.random.default_rng(0).normal(size=(50, 20, 1))
    >>> y = X[:, 0, 0]  # the target is the first step: a long memory task
    >>> model = RNNRegressor(hidden_layer_sizes=8, max_iter=5).fit(X, y)
    >>> temporal_gradient_norms(model, X, y).shape
    (1, 20)
    """
    if not isinstance(estimator, BaseRecurrent):
        raise TypeError(
            "temporal_gradient_norms supports the gradient-trained estimators "
            "(RNNRegressor, RNNClassifier, LSTMRegressor, LSTMClassifier, "
            "GRURegressor, GRUClassifier, GRUDRegressor, GRUDClassifier), not "
            f"{type(estimator).__name__}, "
            "which has no gradient through time."
        )
    if of not in ("states", "weights"):
        raise ValueError(f"of must be 'states' or 'weights', got {of!r}.")
    check_is_fitted(estimator)
    X, lengths = estimator._validate_for_predict(X)
    Y = estimator._encode_targets(y, lengths, X.shape[1], False, None)
    sw = _check_sample_weight(sample_weight, X)
    norms, shares = [], []
    n_threads = effective_n_threads(estimator.n_jobs)
    with blas_single_threaded():
        estimator._loss_grad(
            estimator._training_inputs(X, lengths),
            lengths,
            Y,
            sw,
            n_threads,
            loss=estimator._task_spec().loss,
            step_norms=norms,
            step_grads=shares,
        )
    if of == "states":
        return np.array(norms)
    return np.array(
        [
            _solvers.step_share_norms([shares[i] for i in row])
            for row in estimator._share_rows()
        ]
    )
