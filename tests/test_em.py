import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from skrnn import EchoStateRegressor, EMRecurrentRegressor, RNNRegressor
from skrnn._layout import from_chunks


def teacher(seed=0, n=300, T=20, F=2, H=6, noise=0.02):
    """Per-step targets of a random sigmoid RNN (the paper's setting)."""
    rng = np.random.default_rng(seed)
    W = rng.uniform(-6 / np.sqrt(H), 6 / np.sqrt(H), (H, F + H + 1))
    V = rng.normal(size=(1, H))
    X = rng.uniform(-1, 1, (n, T, F))
    Z = np.zeros((n, H))
    Y = np.zeros((n, T))
    for t in range(T):
        Z = expit(np.concatenate([X[:, t], Z, np.ones((n, 1))], axis=1) @ W.T)
        Y[:, t] = (Z @ V.T)[:, 0]
    return X, Y + noise * rng.normal(size=Y.shape)


def _fit(est, X, Y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, Y)


def _reference_filter(W, V, c, gain, x, d, eps=1e-3):
    """The E-step of DESIGN.md for one sequence, step by step."""
    H = W.shape[0]
    z = np.zeros(H)
    out = []
    for t in range(len(x)):
        h = expit(W @ np.concatenate([x[t], z, [1.0]]))
        if not np.isnan(d[t]).any():
            h = h + gain @ (d[t] - V @ h - c)
        z = np.clip(h, eps, 1 - eps)
        out.append(z)
    return np.array(out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_e_step_matches_numpy_reference(dtype):
    X, Y = teacher(1, n=40, T=9)
    lengths = np.random.default_rng(2).integers(1, 10, size=40)
    lengths[0] = 9
    for i, n in enumerate(lengths):
        X[i, n:] = np.nan
        Y[i, n:] = np.nan
    Y[3, 1] = np.nan  # a step without a target: no correction
    X = X.astype(dtype)
    est = EMRecurrentRegressor(5, return_sequences=True, lambda1=0.3)
    rng = np.random.RandomState(0)
    W = rng.uniform(-2, 2, (5, 2 + 5 + 1)).astype(dtype)
    V = rng.normal(0, 0.5, (1, 5)).astype(dtype)
    c = np.array([0.1], dtype=dtype)
    data = est._prepare(X, lengths, Y[:, :, None].astype(dtype), np.ones(40))
    Xc, Zt = est._e_step(data, W, V, c, n_threads=2)
    got = from_chunks(Zt, data[2], 40)
    gain = V.T.astype(float) @ np.linalg.inv(V @ V.T + 0.3 * np.eye(1))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for i, n in enumerate(lengths):
        expected = _reference_filter(
            W.astype(float),
            V.astype(float),
            c,
            gain,
            X[i, :n].astype(float),
            Y[i, :n, None],
        )
        assert_allclose(got[i, :n], expected, rtol=tol, atol=tol)


def test_em_learns_the_recurrence_better_than_a_reservoir():
    """DESIGN.md's setting: 8 hidden units, 2 inputs, T=30, 600 sequences."""
    X, Y = teacher(0, n=600, T=30, H=8)
    em = _fit(
        EMRecurrentRegressor(8, return_sequences=True, max_iter=40, random_state=0),
        X,
        Y,
    )
    assert em.best_loss_ == min(em.loss_curve_ + [em.best_loss_])
    pred = em.predict(X)
    assert_allclose(0.5 * np.mean((pred - Y) ** 2), em.best_loss_, rtol=1e-6)
    reservoir = min(
        0.5
        * np.mean(
            (
                EchoStateRegressor(
                    8, sparsity=0.0, return_sequences=True, alpha=1e-8, random_state=s
                )
                .fit(X, Y)
                .predict(X)
                - Y
            )
            ** 2
        )
        for s in range(5)
    )
    assert em.best_loss_ < 0.5 * reservoir


def test_weights_are_an_rnn_regressor_with_logistic_units():
    X, Y = teacher(3, n=60, T=8)
    em = _fit(
        EMRecurrentRegressor(4, return_sequences=True, max_iter=3, random_state=0), X, Y
    )
    rnn = RNNRegressor(
        hidden_layer_sizes=4, activation="logistic", return_sequences=True
    )
    rnn.coefs_ = em.coefs_
    rnn.output_coef_, rnn.output_intercept_ = em.output_coef_, em.output_intercept_
    rnn.n_features_in_, rnn.n_outputs_ = 2, 1
    assert_allclose(rnn.predict(X), em.predict(X), rtol=1e-12)
    assert np.all(em.coefs_[0]["bias_hh"] == 0)


def test_sequence_to_one_multi_output_and_n_init():
    X, Y = teacher(4, n=120, T=10)
    targets = np.column_stack([Y[:, -1], Y[:, -2]])
    one = _fit(EMRecurrentRegressor(4, max_iter=5, random_state=0), X, targets)
    assert one.predict(X).shape == (120, 2)
    three = _fit(
        EMRecurrentRegressor(4, max_iter=5, n_init=3, random_state=0), X, targets
    )
    assert three.best_loss_ <= one.best_loss_


def test_threads_bit_identical_persistence_and_warning():
    X, Y = teacher(5, n=100, T=12)
    kw = dict(return_sequences=True, max_iter=4, random_state=0)
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        one = EMRecurrentRegressor(5, n_jobs=1, **kw).fit(X, Y)
    two = _fit(EMRecurrentRegressor(5, n_jobs=2, **kw), X, Y)
    for a, b in zip(one.coefs_[0].values(), two.coefs_[0].values(), strict=True):
        assert_array_equal(a, b)
    assert one.loss_curve_ == two.loss_curve_
    assert len(one.loss_curve_) == one.n_iter_ == 4
    loaded = pickle.loads(pickle.dumps(one))
    assert_array_equal(loaded.predict(X), one.predict(X))
    sio = pytest.importorskip("skops.io")
    data = sio.dumps(one)
    untrusted = sio.get_untrusted_types(data=data)
    assert all(name.startswith("skrnn.") for name in untrusted)
    assert_array_equal(sio.loads(data, trusted=untrusted).predict(X), one.predict(X))


def test_bad_inputs():
    X, Y = teacher(6, n=20, T=5)
    X[4, 2, 1] = np.nan
    with pytest.raises(ValueError, match="Sequence 4 has NaN at step 2"):
        EMRecurrentRegressor(return_sequences=True).fit(X, Y)
    with pytest.raises(ValueError, match="n_hidden"):
        EMRecurrentRegressor(n_hidden=0).fit(X[:, 0], Y[:, 0])
    with pytest.raises(ValueError, match="lambda1"):
        EMRecurrentRegressor(lambda1=0).fit(X[:, 0], Y[:, 0])
