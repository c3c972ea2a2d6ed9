"""Each step's share of the gradient, and the simplex solver built on it."""

import numpy as np
import pytest
import reference as ref
from helpers import ragged_problem
from numpy.testing import assert_allclose, assert_array_equal

import skrnn
from skrnn import _loss

STEPS = {"RNN": ref.elman_step, "GRU": ref.gru_step, "LSTM": ref.lstm_step}
INITS = {"RNN": ref.elman_init, "GRU": ref.gru_init, "LSTM": ref.lstm_init}
NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
LOSS = _loss.squared_error


def _model(cell, return_sequences):
    est = getattr(skrnn, cell + "Regressor")(
        hidden_layer_sizes=(3, 2),
        alpha=0.0,
        return_sequences=return_sequences,
        pooling="last",  # the reference loss reads the last step's state
        bidirectional=False,  # and runs forward only
    )
    est._initialize(2, 2, np.float64, np.random.RandomState(0), logistic_output=False)
    return est


def _reference_loss(est, cell, X, lengths, Y, sw, perturb=None):
    """0.5 x weighted MSE written out step by step; ``perturb = (layer, name,
    step, delta)`` adds ``delta`` to one parameter at one step only."""
    total, weight = 0.0, 0.0
    for i, n in enumerate(lengths):
        h = X[i, :n]
        for k, layer in enumerate(est.coefs_):
            state, out = INITS[cell](layer["weight_hh"].shape[1]), []
            for t in range(n):
                weights = {name: layer[name] for name in NAMES}
                if perturb is not None and perturb[:1] == (k,) and perturb[2] == t:
                    weights[perturb[1]] = weights[perturb[1]] + perturb[3]
                state = STEPS[cell](h[t], state, *(weights[m] for m in NAMES))
                out.append(state[0])
            h = np.array(out)
        Z = h @ est.output_coef_.T + est.output_intercept_
        for t in range(n) if est.return_sequences else [n - 1]:
            y = Y[i, t if est.return_sequences else 0]
            if not np.isnan(y).any():
                total += sw[i] * 0.5 * np.mean((Z[t] - y) ** 2)
                weight += sw[i]
    return total / weight


def _problem(return_sequences):
    rng = np.random.default_rng(0)
    X, lengths = ragged_problem(rng, n=7, max_steps=4, n_features=2)
    T = X.shape[1] if return_sequences else 1
    Y = rng.normal(size=(7, T, 2))
    if return_sequences:
        Y[np.arange(T)[None, :] >= lengths[:, None]] = np.nan
    return X, lengths, Y, rng.uniform(0.5, 2.0, size=7)


@pytest.mark.parametrize("cell", list(STEPS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_step_shares_match_finite_differences(cell, return_sequences):
    """Share t of a parameter's gradient is the loss's derivative with respect
    to that parameter's use at step t alone (the unrolled network's copy)."""
    X, lengths, Y, sw = _problem(return_sequences)
    est = _model(cell, return_sequences)
    shares = []
    _, grads = est._loss_grad(X, lengths, Y, sw, 2, loss=LOSS, step_grads=shares)
    assert len(shares) == 4 * len(est.coefs_)
    assert_allclose(
        _reference_loss(est, cell, X, lengths, Y, sw),
        est._loss_grad(X, lengths, Y, sw, 1, loss=LOSS)[0],
        rtol=1e-12,
    )
    eps = 1e-6
    for j, share in enumerate(shares):
        k, name = divmod(j, 4)
        assert_allclose(share.sum(axis=0), grads[j], rtol=1e-10, atol=1e-14)
        param = est.coefs_[k][NAMES[name]]
        assert share.shape == (X.shape[1],) + param.shape
        for t in range(X.shape[1]):
            num = np.zeros_like(param)
            for idx in np.ndindex(param.shape):
                delta = np.zeros_like(param)
                delta[idx] = eps
                up = _reference_loss(
                    est, cell, X, lengths, Y, sw, (k, NAMES[name], t, delta)
                )
                down = _reference_loss(
                    est, cell, X, lengths, Y, sw, (k, NAMES[name], t, -delta)
                )
                num[idx] = (up - down) / (2 * eps)
            assert_allclose(share[t], num, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("cell", ["RNN", "GRU"])
def test_threshold_zero_is_sgd(cell):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 6, 2))
    y = X[:, :, 0].sum(axis=1)
    params = {"hidden_layer_sizes": (5,), "max_iter": 3, "random_state": 0}
    Est = getattr(skrnn, cell + "Regressor")
    sgd = Est(solver="sgd", **params).fit(X, y)
    simplex = Est(solver="simplex", simplex_threshold=0.0, **params).fit(X, y)
    for a, b in zip(sgd._params(), simplex._params(), strict=True):
        assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("cell", ["RNN", "LSTM"])
def test_simplex_trains_and_is_deterministic(cell):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 10, 2))
    y = X[:, :, 0].sum(axis=1) / 3
    params = {
        "hidden_layer_sizes": (8,),
        "solver": "simplex",
        "learning_rate_init": 0.02,
        "batch_size": 32,
        "max_iter": 20,
        "random_state": 0,
        # the setting the threshold below was set with ('max', the default,
        # reaches R^2 0.886 for the Elman RNN on this running sum)
        "pooling": "last",
        # likewise: the default's average over about the last 10 of these 20
        # epochs, still learning, lags behind (Elman RNN: R^2 0.889)
        "averaging": 0.0,
    }
    Est = getattr(skrnn, cell + "Regressor")
    one = Est(n_jobs=1, **params).fit(X, y)
    two = Est(n_jobs=2, **params).fit(X, y)
    for a, b in zip(one._params(), two._params(), strict=True):
        assert_array_equal(a, b)
    assert one.score(X, y) > 0.9


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grud_simplex_mixes_the_steps_and_lowers_the_loss():
    """GRU-D's simplex direction (its decay parameters' per-step shares
    mixed with the layers'): the fit lowers the loss, is not plain SGD, and
    is the same for any n_jobs."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 6, 2))
    y = X[:, 0, 0] + 0.5 * X[:, -1, 1]
    X[:, 1:-1][rng.random(X[:, 1:-1].shape) < 0.3] = np.nan  # not measured
    params = {
        "hidden_layer_sizes": (6, 4),
        "learning_rate_init": 0.05,
        "batch_size": 20,
        "max_iter": 15,
        "simplex_threshold": 1e6,  # always the simplex direction
        "random_state": 0,
    }
    one = skrnn.GRUDRegressor(solver="simplex", n_jobs=1, **params).fit(X, y)
    two = skrnn.GRUDRegressor(solver="simplex", n_jobs=2, **params).fit(X, y)
    sgd = skrnn.GRUDRegressor(solver="sgd", **params).fit(X, y)
    assert one.loss_curve_[-1] < 0.5 * one.loss_curve_[0]
    for a, b in zip(one._params(), two._params(), strict=True):
        assert_array_equal(a, b)
    assert not np.allclose(one._params()[0], sgd._params()[0])
