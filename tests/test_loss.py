"""The read-out losses: values against scikit-learn's metrics, gradients
against finite differences."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.metrics import hinge_loss, log_loss, mean_squared_error

from skrnn import _loss


def _problem(kind, rng, n=12):
    if kind == "squared_error":
        return rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    if kind == "multiclass_log_loss":
        return rng.normal(size=(n, 4)), np.eye(4)[rng.integers(0, 4, n)]
    return rng.normal(size=(n, 1)), rng.integers(0, 2, (n, 1)).astype(float)


def _reference(kind, Z, Y, w):
    if kind == "squared_error":
        return 0.5 * mean_squared_error(Y, Z, sample_weight=w)
    if kind == "binary_log_loss":
        p = 1 / (1 + np.exp(-Z[:, 0]))
        return log_loss(Y[:, 0], p, sample_weight=w, labels=[0, 1])
    if kind == "multiclass_log_loss":
        p = np.exp(Z - Z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return log_loss(Y.argmax(axis=1), p, sample_weight=w, labels=range(4))
    return hinge_loss(2 * Y[:, 0] - 1, Z[:, 0], sample_weight=w)


KINDS = ["squared_error", "binary_log_loss", "multiclass_log_loss", "hinge"]


@pytest.mark.parametrize("kind", KINDS)
def test_loss_is_the_weighted_mean_of_scikit_learns(kind, rng):
    Z, Y = _problem(kind, rng)
    w = rng.uniform(0.1, 2.0, Z.shape[0])
    value, _ = getattr(_loss, kind)(Z, Y, w / w.sum())
    assert_allclose(value, _reference(kind, Z, Y, w), rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_matches_finite_differences(kind, rng):
    Z, Y = _problem(kind, rng)
    w = rng.uniform(0.1, 2.0, Z.shape[0])
    w /= w.sum()
    loss = getattr(_loss, kind)
    _, grad = loss(Z, Y, w)
    eps = 1e-6
    numeric = np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += eps
        Zm[idx] -= eps
        numeric[idx] = (loss(Zp, Y, w)[0] - loss(Zm, Y, w)[0]) / (2 * eps)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_log_losses_stay_finite_for_huge_outputs():
    Z = np.array([[800.0], [-800.0]])
    Y = np.array([[0.0], [1.0]])
    value, grad = _loss.binary_log_loss(Z, Y, np.array([0.5, 0.5]))
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    value, grad = _loss.multiclass_log_loss(
        np.array([[900.0, -900.0]]), np.array([[0.0, 1.0]]), np.array([1.0])
    )
    assert np.isfinite(value) and np.all(np.isfinite(grad))
