import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from skrnn import EchoStateRegressor, EMRecurrentRegressor, RNNClassifier, RNNRegressor
from skrnn.inspection import temporal_gradient_norms


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def test_norms_vanish_towards_the_first_steps_with_small_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 30, 2))
    y = X[:, -1, 0]
    est = _fit(
        RNNRegressor(
            hidden_layer_sizes=(6, 4),
            max_iter=1,
            spectral_radius=0.3,
            pooling="last",
            random_state=0,
        ),
        X,
        y,
    )
    norms = temporal_gradient_norms(est, X, y)
    assert norms.shape == (2, 30)
    assert np.all(np.isfinite(norms))
    # the only target is at the last step: the gradient decays going back
    assert norms[0, 0] < 1e-3 * norms[0, -1]


def test_norms_respect_truncation_and_padding():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 12, 1))
    X[:, 8:] = np.nan  # every sequence has 8 real steps
    y = rng.normal(size=20)
    est = _fit(
        RNNRegressor(
            hidden_layer_sizes=5,
            max_iter=1,
            bptt_steps=4,
            pooling="last",
            random_state=0,
        ),
        X,
        y,
    )
    norms = temporal_gradient_norms(est, X, y)
    assert norms.shape == (1, 8)
    assert np.all(norms[0, :4] == 0)  # cut from the last window's target
    assert np.all(norms[0, 4:] > 0)


def test_norms_for_classifiers_and_wrong_estimators():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 5, 1))
    y = X[:, 0, 0] > 0
    clf = _fit(RNNClassifier(hidden_layer_sizes=3, max_iter=1), X, y)
    assert temporal_gradient_norms(clf, X, y).shape == (1, 5)
    with pytest.raises(TypeError, match="gradient-trained"):
        temporal_gradient_norms(Ridge().fit(X[:, 0], y), X, y)


@pytest.mark.parametrize(
    "model", [EMRecurrentRegressor(3, max_iter=2), EchoStateRegressor(10)]
)
def test_norms_of_models_without_gradients_say_which_are_supported(model):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 5, 1))
    y = X[:, 0, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    with pytest.raises(TypeError, match="supports .*RNNRegressor.*GRUClassifier"):
        temporal_gradient_norms(model, X, y)


def test_weight_shares_vanish_towards_the_first_steps_too():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 30, 2))
    y = X[:, -1, 0]
    est = _fit(
        RNNRegressor(
            hidden_layer_sizes=(6, 4),
            max_iter=1,
            spectral_radius=0.3,
            pooling="last",
            random_state=0,
        ),
        X,
        y,
    )
    norms = temporal_gradient_norms(est, X, y, of="weights")
    assert norms.shape == (2, 30)
    assert norms[0, 0] < 1e-3 * norms[0, -1]
    with pytest.raises(ValueError, match="of must be"):
        temporal_gradient_norms(est, X, y, of="gates")


def test_weight_shares_have_one_row_per_layer_with_skip_steps_and_grud():
    from skrnn import GRUDRegressor

    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 6, 2))
    y = X[:, 0, 0].copy()
    skip = _fit(RNNRegressor(3, skip_steps=2, max_iter=1), X, y)
    assert temporal_gradient_norms(skip, X, y, of="weights").shape == (1, 6)
    X[rng.random(X.shape) < 0.3] = np.nan  # not measured
    X[:, -1] = 1.0  # every step real
    grud = _fit(GRUDRegressor((4, 3), max_iter=1, random_state=0), X, y)
    for of in ("states", "weights"):
        norms = temporal_gradient_norms(grud, X, y, of=of)
        assert norms.shape == (2, 6) and np.isfinite(norms).all() and norms.any()
