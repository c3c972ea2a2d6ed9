"""Pooling over time, bidirectional layers, input dropout and ``transform``
at the estimators' level (their gradients: test_gradients.py; PyTorch
agreement: test_torch.py)."""

import warnings

import numpy as np
import pytest
from helpers import ragged_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skrnn
from skrnn.inspection import temporal_gradient_norms
from skrnn.preprocessing import TimestepTransformer

CELLS = ["RNN", "GRU", "LSTM"]


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _problem(seed=0, n=60):
    rng = np.random.default_rng(seed)
    X, lengths = ragged_problem(rng, n=n, max_steps=9, n_features=2)
    y = np.nan_to_num(X[:, :, 0]).sum(axis=1)
    return X, lengths, y


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_bidirectional_layout_is_pytorchs(cell, bidirectional):
    X, _, y = _problem()
    est = _fit(
        getattr(skrnn, cell + "Regressor")(
            hidden_layer_sizes=(5, 3), max_iter=1, bidirectional=bidirectional
        ),
        X,
        y,
    )
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[cell]
    D = 2 if bidirectional else 1
    suffixes = ["", "_reverse"][:D]
    for k, (F, H) in enumerate([(2, 5), (5 * D, 3)]):
        layer = est.coefs_[k]
        assert sorted(layer) == sorted(
            name + s
            for s in suffixes
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )
        for s in suffixes:
            assert layer["weight_ih" + s].shape == (G * H, F)
            assert layer["weight_hh" + s].shape == (G * H, H)
            assert layer["bias_ih" + s].shape == (G * H,)
    assert est.output_coef_.shape == (1, 3 * D)
    assert est.transform(X).shape == (X.shape[0], 3 * D)


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_transform_is_what_the_read_out_reads(pooling, bidirectional):
    X, _, y = _problem(1)
    est = _fit(
        skrnn.GRURegressor(
            hidden_layer_sizes=(4, 3),
            max_iter=2,
            random_state=0,
            pooling=pooling,
            bidirectional=bidirectional,
            dropout=0.3,
        ),
        X,
        y,
    )
    states = est.transform(X)
    assert_allclose(
        states @ est.output_coef_[0] + est.output_intercept_[0],
        est.predict(X),
        rtol=1e-12,
        atol=1e-12,
    )
    # dropout is off outside training: the same result every call
    assert_array_equal(est.transform(X), states)
    assert_array_equal(est.predict(X), est.predict(X))


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_pooling_reads_only_real_steps(pooling, bidirectional):
    """More padding, or the sequence alone, does not change its pooled state."""
    X, lengths, y = _problem(2)
    est = _fit(
        skrnn.LSTMRegressor(
            hidden_layer_sizes=4,
            max_iter=1,
            random_state=0,
            pooling=pooling,
            bidirectional=bidirectional,
        ),
        X,
        y,
    )
    states = est.transform(X)
    padded = np.concatenate([X, np.full((X.shape[0], 5, 2), np.nan)], axis=1)
    assert_allclose(est.transform(padded), states, rtol=1e-12, atol=1e-14)
    for i in np.flatnonzero(lengths < lengths.max())[:3]:
        alone = est.transform(X[i : i + 1, : lengths[i]])
        assert_allclose(alone[0], states[i], rtol=1e-12, atol=1e-14)


def test_poolings_of_the_same_weights():
    X, lengths, y = _problem(3)
    est = _fit(skrnn.RNNRegressor(hidden_layer_sizes=4, max_iter=1), X, y)
    states = {
        pooling: est.set_params(pooling=pooling).transform(X)
        for pooling in ("last", "mean", "max")
    }
    assert np.all(states["max"] >= states["mean"] - 1e-12)
    assert np.all(states["max"] >= states["last"])
    one_step = lengths == 1
    assert one_step.any() and not one_step.all()
    assert_allclose(states["mean"][one_step], states["last"][one_step])
    assert not np.allclose(states["last"], states["mean"])


def test_rnn_states_feed_a_logistic_regression_in_a_pipeline():
    rng = np.random.default_rng(4)
    X, lengths = ragged_problem(rng, n=120, max_steps=8, n_features=2)
    y = np.nan_to_num(X[:, :, 0]).sum(axis=1) > 0
    rnn = skrnn.GRUClassifier(
        hidden_layer_sizes=8,
        learning_rate_init=0.01,
        max_iter=40,
        random_state=0,
        pooling="mean",
        bidirectional=True,
    )
    pipe = make_pipeline(
        TimestepTransformer(StandardScaler()), rnn, LogisticRegression()
    )
    _fit(pipe, X, y)
    assert pipe.score(X, y) > 0.8
    features = pipe[:-1].transform(X)
    assert features.shape == (120, 16)
    names = pipe[:-1].get_feature_names_out()
    assert list(names) == [f"gruclassifier{i}" for i in range(16)]


def test_transform_output_as_pandas():
    pd = pytest.importorskip("pandas")
    X, _, y = _problem(5)
    est = _fit(
        skrnn.LSTMRegressor(
            hidden_layer_sizes=3, max_iter=1, random_state=0, bidirectional=False
        ),
        X,
        y,
    )
    est.set_output(transform="pandas")
    out = est.transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["lstmregressor0", "lstmregressor1", "lstmregressor2"]


def test_transform_needs_a_sequence_to_one_model():
    X, lengths, _ = _problem(6)
    y = np.nan_to_num(X[:, :, 0])
    est = _fit(
        skrnn.RNNRegressor(hidden_layer_sizes=3, max_iter=1, return_sequences=True),
        X,
        y,
    )
    with pytest.raises(ValueError, match="return_sequences=False"):
        est.transform(X)


def test_pooling_other_than_last_is_for_sequence_to_one():
    X, _, _ = _problem(7)
    y = np.nan_to_num(X[:, :, 0])
    est = skrnn.GRURegressor(return_sequences=True, pooling="mean")
    with pytest.raises(ValueError, match="pooling='mean'.*return_sequences=False"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("cell", CELLS)
def test_auto_pooling_is_the_measured_one_and_pools_nothing_per_step(cell):
    from skrnn._base import AUTO_POOLING

    X, _, y = _problem(9, n=20)
    Est = getattr(skrnn, cell + "Regressor")
    assert Est().pooling == "auto"
    assert AUTO_POOLING == "max"  # as the docstring says
    fits = [
        _fit(Est(4, max_iter=2, random_state=0, pooling=p), X, y)
        for p in ("auto", AUTO_POOLING)
    ]
    assert_array_equal(fits[0].predict(X), fits[1].predict(X))
    assert_array_equal(fits[0].transform(X), fits[1].transform(X))
    # per-step targets: 'auto' reads out every step, as 'last' does
    Y = np.nan_to_num(X[:, :, 0])
    per_step = [
        _fit(Est(4, max_iter=2, random_state=0, return_sequences=True, pooling=p), X, Y)
        for p in ("auto", "last")
    ]
    assert_array_equal(per_step[0].predict(X), per_step[1].predict(X))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": -0.1}, "dropout"),
        ({"recurrent_dropout": 1.0}, "recurrent_dropout"),
        ({"recurrent_dropout": -0.1}, "recurrent_dropout"),
        ({"pooling": "sum"}, "pooling"),
        ({"bidirectional": "yes"}, "bidirectional"),
    ],
)
def test_bad_layer_parameters_are_rejected(params, match):
    X, _, y = _problem(8)
    with pytest.raises(ValueError, match=match):
        skrnn.LSTMRegressor(**params).fit(X, y)


@pytest.mark.parametrize("Est", [skrnn.RNNClassifier, skrnn.LSTMRegressor])
def test_dropout_and_bidirectional_fits_are_identical_for_any_n_jobs(Est):
    X, _, y = _problem(9, n=70)
    if Est is skrnn.RNNClassifier:
        y = y > 0
    params = dict(
        hidden_layer_sizes=(5, 4),
        max_iter=3,
        batch_size=20,
        random_state=0,
        bidirectional=True,
        dropout=0.3,
        pooling="max",
    )
    one = _fit(Est(n_jobs=1, **params), X, y)
    two = _fit(Est(n_jobs=2, **params), X, y)
    assert one.loss_curve_ == two.loss_curve_
    for a, b in zip(one._params(), two._params(), strict=True):
        assert_array_equal(a, b)


def test_dropout_changes_training_not_its_reproducibility():
    X, _, y = _problem(10)
    params = dict(hidden_layer_sizes=4, max_iter=3, batch_size=20, random_state=0)
    plain = _fit(skrnn.GRURegressor(**params), X, y)
    dropped = _fit(skrnn.GRURegressor(dropout=0.5, **params), X, y)
    again = _fit(clone(dropped), X, y)
    assert plain.loss_curve_ != dropped.loss_curve_
    assert dropped.loss_curve_ == again.loss_curve_
    assert_array_equal(dropped.predict(X), again.predict(X))


def test_dropout_masks_are_per_sequence_and_scaled():
    est = skrnn.LSTMRegressor(
        hidden_layer_sizes=(6, 4), dropout=0.25, bidirectional=False
    )
    est._initialize(3, 1, np.float32, np.random.RandomState(0), logistic_output=False)
    masks = est._dropout_masks(500, np.dtype(np.float32), np.random.RandomState(1))
    assert [m.shape for m in masks] == [(500, 3), (500, 6)]
    for m in masks:
        assert m.dtype == np.float32
        assert set(np.unique(m)) == {0.0, np.float32(1 / 0.75)}
        assert abs((m == 0).mean() - 0.25) < 0.05


def test_bidirectional_temporal_gradient_norms_per_direction():
    X, _, y = _problem(11)
    est = _fit(
        skrnn.RNNRegressor(hidden_layer_sizes=(4, 3), max_iter=1, bidirectional=True),
        X,
        y,
    )
    assert temporal_gradient_norms(est, X, y).shape == (4, X.shape[1])
    assert temporal_gradient_norms(est, X, y, of="weights").shape == (4, X.shape[1])


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_skops_round_trip(cell):
    sio = pytest.importorskip("skops.io")
    X, _, y = _problem(12)
    est = _fit(
        getattr(skrnn, cell + "Classifier")(
            hidden_layer_sizes=(4, 3),
            max_iter=2,
            random_state=0,
            bidirectional=True,
            pooling="mean",
            dropout=0.2,
        ),
        X,
        y > 0,
    )
    data = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=data)
    assert all(name.startswith("skrnn.") for name in untrusted)
    loaded = sio.loads(data, trusted=untrusted)
    assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    assert_array_equal(loaded.transform(X), est.transform(X))


def test_warm_start_cannot_switch_direction():
    X, _, y = _problem(13)
    est = _fit(
        skrnn.GRURegressor(
            hidden_layer_sizes=3, max_iter=1, warm_start=True, bidirectional=False
        ),
        X,
        y,
    )
    est.set_params(bidirectional=True)
    with pytest.raises(ValueError, match="not bidirectional.*warm_start=False"):
        est.fit(X, y)
    assert "weight_ih_reverse" not in est.coefs_[0]


def test_bidirectional_step_shares_sum_to_the_gradients():
    """What solver='simplex' mixes: each direction's per-step shares, in the
    order of the parameters."""
    X, lengths, y = _problem(14)
    est = skrnn.LSTMRegressor(hidden_layer_sizes=(3, 2), bidirectional=True, alpha=0)
    est._initialize(2, 1, np.float64, np.random.RandomState(0), logistic_output=False)
    Y = y[:, None, None]
    sw = np.ones(X.shape[0])
    shares = []
    _, grads = est._loss_grad(
        X, lengths, Y, sw, 1, loss=est._task_spec().loss, step_grads=shares
    )
    assert len(shares) == 16
    for share, g in zip(shares, grads, strict=False):
        assert_allclose(share.sum(axis=0), g, rtol=1e-10, atol=1e-12)
    fit = _fit(
        skrnn.GRURegressor(
            hidden_layer_sizes=3, solver="simplex", bidirectional=True, max_iter=2
        ),
        X,
        y,
    )
    assert np.isfinite(fit.loss_curve_).all()


@pytest.mark.parametrize(
    "Est, return_sequences, expected",
    [
        (skrnn.LSTMClassifier, False, True),
        (skrnn.GRURegressor, False, True),
        (skrnn.GRURegressor, True, False),
        (skrnn.RNNClassifier, False, False),
        (skrnn.GRUDRegressor, False, False),
    ],
)
def test_bidirectional_auto(Est, return_sequences, expected):
    # 'auto': both directions for LSTM / GRU sequence-to-one models (measured in
    # benchmarks/RESULTS.md, round 5), one for the others and per-step outputs
    X, _, y = _problem(14)
    if return_sequences:
        y = np.nan_to_num(X[:, :, 0])
    if Est.__name__.endswith("Classifier"):
        y = y > np.median(y)
    est = _fit(
        Est(hidden_layer_sizes=3, max_iter=1, return_sequences=return_sequences), X, y
    )
    assert est.bidirectional == "auto"
    assert ("weight_ih_reverse" in est.coefs_[0]) is expected
