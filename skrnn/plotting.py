"""Displays, following scikit-learn's ``Display`` API (matplotlib optional)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

__all__ = ["LossCurveDisplay", "TemporalGradientDisplay"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "skrnn.plotting needs matplotlib; install it with `pip install matplotlib`."
        ) from exc
    return plt


class LossCurveDisplay:
    """Training loss, and validation score with early stopping, per epoch.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        ``loss_curve_`` of a fitted estimator.
    validation_scores : array-like of shape (n_epochs,) or None
        ``validation_scores_``, plotted on a second axis.
    estimator_name : str, default=None
        Name of the estimator, for the legend.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    line_ : matplotlib Line2D
        The loss curve.
    validation_line_ : matplotlib Line2D or None

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNRegressor
    >>> from skrnn.plotting import LossCurveDisplay
    >>> X = np.random.default_rng(0).normal(size=(50, 5, 1))
    >>> model = RNNRegressor(hidden_layer_sizes=4, max_iter=5).fit(X, X[:, 0, 0])
    >>> display = LossCurveDisplay.from_estimator(model)  # doctest: +SKIP
    """

    def __init__(self, loss_curve, validation_scores=None, estimator_name=None):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None) -> LossCurveDisplay:
        """Plot the curves of a fitted estimator.

        Parameters
        ----------
        estimator : fitted skrnn estimator with ``loss_curve_``
            The estimator whose curves are drawn.
        ax : matplotlib Axes, default=None
            Axes to plot on; a new figure when None.

        Returns
        -------
        display : LossCurveDisplay
            The display, with its figure drawn.
        """
        check_is_fitted(estimator, "loss_curve_")
        display = cls(
            estimator.loss_curve_,
            getattr(estimator, "validation_scores_", None),
            type(estimator).__name__,
        )
        return display.plot(ax=ax)

    def plot(self, ax=None) -> LossCurveDisplay:
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; a new figure when None.

        Returns
        -------
        display : LossCurveDisplay
            The display, with its figure drawn.
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        epochs = np.arange(1, len(self.loss_curve) + 1)
        (self.line_,) = ax.plot(epochs, self.loss_curve, label="training loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        self.validation_line_ = None
        if self.validation_scores is not None and len(self.validation_scores):
            twin = ax.twinx()
            (self.validation_line_,) = twin.plot(
                epochs[: len(self.validation_scores)],
                self.validation_scores,
                color="tab:orange",
                label="validation score",
            )
            twin.set_ylabel("validation score")
            ax.legend(handles=[self.line_, self.validation_line_])
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


class TemporalGradientDisplay:
    """Norm of the loss gradient at each time step: the vanishing-gradient view.

    Parameters
    ----------
    norms : ndarray of shape (n_layers, n_steps)
        From :func:`skrnn.inspection.temporal_gradient_norms`.
    estimator_name : str, default=None
        Name of the estimator, for the title.
    of : {'states', 'weights'}, default='states'
        What the norms are of (the y-axis label).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        One per layer.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import LSTMRegressor
    >>> from skrnn.plotting import TemporalGradientDisplay
    >>> X = np.random.default_rng(0).normal(size=(50, 20, 1))
    >>> model = LSTMRegressor(hidden_layer_sizes=4, max_iter=5).fit(X, X[:, 0, 0])
    >>> TemporalGradientDisplay.from_estimator(model, X, X[:, 0, 0])  # doctest: +SKIP
    """

    def __init__(self, norms, estimator_name=None, of="states"):
        self.norms = norms
        self.estimator_name = estimator_name
        self.of = of

    @classmethod
    def from_estimator(
        cls, estimator, X: ArrayLike, y: ArrayLike, *, of: str = "states", ax=None
    ) -> TemporalGradientDisplay:
        """Compute the norms on ``X``, ``y`` and plot them.

        Parameters
        ----------
        estimator : fitted RNN/LSTM/GRU regressor or classifier
            The model whose gradients are read.
        X, y : array-like, as in the estimator's ``fit``
            Sequences and their targets.
        of : {'states', 'weights'}, default='states'
            See :func:`skrnn.inspection.temporal_gradient_norms`.
        ax : matplotlib Axes, default=None
            Axes to plot on; a new figure when None.

        Returns
        -------
        display : TemporalGradientDisplay
            The display, with its figure drawn.
        """
        from .inspection import temporal_gradient_norms

        norms = temporal_gradient_norms(estimator, X, y, of=of)
        return cls(norms, type(estimator).__name__, of).plot(ax=ax)

    def plot(self, ax=None) -> TemporalGradientDisplay:
        """Draw one line per layer, log scale.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; a new figure when None.

        Returns
        -------
        display : TemporalGradientDisplay
            The display, with its figure drawn.
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        norms = np.atleast_2d(self.norms)
        steps = np.arange(norms.shape[1])
        self.lines_ = [
            ax.plot(steps, layer, label=f"layer {k}")[0]
            for k, layer in enumerate(norms)
        ]
        if np.any(norms > 0):
            ax.set_yscale("log")
        ax.set_xlabel("time step")
        ax.set_ylabel(
            "||dLoss / dh_t||"
            if self.of == "states"
            else "||step t's share of dLoss / dW||"
        )
        if len(self.lines_) > 1:
            ax.legend()
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
