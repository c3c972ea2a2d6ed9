import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skrnn import LSTMRegressor, RNNRegressor

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from skrnn.plotting import LossCurveDisplay, TemporalGradientDisplay  # noqa: E402


def _fit(**params):
    X = np.random.default_rng(0).normal(size=(60, 12, 1))
    y = X[:, 0, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RNNRegressor(
            hidden_layer_sizes=4, max_iter=6, random_state=0, **params
        ).fit(X, y)
    return est, X, y


def test_loss_curve_display():
    est, _, _ = _fit()
    display = LossCurveDisplay.from_estimator(est)
    assert np.allclose(display.line_.get_ydata(), est.loss_curve_)
    assert display.validation_line_ is None
    assert display.ax_.get_title() == "RNNRegressor"
    early, _, _ = _fit(early_stopping=True, validation_fraction=0.2)
    display = LossCurveDisplay.from_estimator(early)
    assert np.allclose(display.validation_line_.get_ydata(), early.validation_scores_)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_temporal_gradient_display():
    X = np.random.default_rng(1).normal(size=(40, 15, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LSTMRegressor(
            hidden_layer_sizes=(4, 3), max_iter=2, bidirectional=False
        ).fit(X, X[:, 0, 0])
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    display = TemporalGradientDisplay.from_estimator(est, X, X[:, 0, 0], ax=ax)
    assert display.ax_ is ax
    assert len(display.lines_) == 2
    assert len(display.lines_[0].get_xdata()) == 15
    assert "dh_t" in ax.get_ylabel()
    weights = TemporalGradientDisplay.from_estimator(est, X, X[:, 0, 0], of="weights")
    assert "share" in weights.ax_.get_ylabel()
    assert len(weights.lines_) == 2
    plt.close("all")
