"""Behaviour of the gradient-trained estimators beyond scikit-learn's checks."""

import pickle
import warnings

import numpy as np
import pytest
from helpers import ragged_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skrnn import (
    GRUClassifier,
    GRUDRegressor,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
)
from skrnn._base import BaseRecurrent
from skrnn._layout import training_chunk_size

REGRESSORS = [RNNRegressor, GRURegressor, LSTMRegressor]
CLASSIFIERS = [RNNClassifier, GRUClassifier, LSTMClassifier]


def _sum_task(rng, n=120, T=8):
    X, lengths = ragged_problem(rng, n=n, max_steps=T, n_features=2)
    y = np.nansum(X[:, :, 0], axis=1)
    return X, lengths, y


def _weights(est):
    return [p.copy() for p in est._params()]


def _sub_batched(est, X):
    """``est`` with a byte budget that cuts its minibatches of ``X`` into
    sub-batches of four chunks (see skrnn._memory.SUB_BATCH_BYTES)."""
    chunk = training_chunk_size(est._layer_sizes())
    est._sub_batch_bytes = 4.01 * est._gradient_bytes(
        chunk, X.shape[1], X.shape[2], 1, X.dtype.itemsize, step_shares=False
    )
    return est


@pytest.mark.parametrize("sub_batches", [False, True])
@pytest.mark.parametrize("Est", REGRESSORS + CLASSIFIERS)
def test_n_jobs_gives_bit_identical_weights(Est, sub_batches, rng):
    X, _, y = _sum_task(rng, n=150)
    if Est in CLASSIFIERS:
        y = y > 0
    kw = dict(hidden_layer_sizes=(8, 5), max_iter=5, batch_size=70, random_state=3)
    make = (lambda est: _sub_batched(est, X)) if sub_batches else (lambda est: est)
    if sub_batches:
        est = make(Est(**kw))
        assert est._sub_batch_rows(
            X[:70], y[:70, None, None], np.ones(70), step_shares=False
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = make(Est(n_jobs=1, **kw)).fit(X, y)
        two = make(Est(n_jobs=2, **kw)).fit(X, y)
        again = make(Est(n_jobs=2, **kw)).fit(X, y)
    for a, b, c in zip(_weights(one), _weights(two), _weights(again), strict=False):
        assert_array_equal(a, b)
        assert_array_equal(a, c)


@pytest.mark.parametrize("Est", REGRESSORS + CLASSIFIERS)
def test_float32_trains_in_float32(Est, rng):
    X, _, y = _sum_task(rng)
    if Est in CLASSIFIERS:
        y = y > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Est(hidden_layer_sizes=6, max_iter=3, random_state=0).fit(
            X.astype(np.float32), y
        )
    assert all(p.dtype == np.float32 for p in est._params())
    assert est.coefs_[0]["weight_hh"].dtype == np.float32
    if Est in REGRESSORS:
        assert est.predict(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("Est", REGRESSORS + CLASSIFIERS)
def test_pickle_round_trip(Est, rng):
    X, _, y = _sum_task(rng)
    if Est in CLASSIFIERS:
        y = np.where(y > 0, "pos", "neg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Est(hidden_layer_sizes=6, max_iter=3, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(est))
    assert_array_equal(loaded.predict(X), est.predict(X))
    loaded.partial_fit(X, y)  # the solver state survives too
    assert loaded.n_iter_ == est.n_iter_ + 1


def test_regressor_learns_a_sum():
    rng = np.random.default_rng(0)
    X, _, y = _sum_task(rng, n=300)
    est = RNNRegressor(
        hidden_layer_sizes=16, learning_rate_init=0.01, max_iter=150, random_state=0
    ).fit(X, y)
    assert est.score(X, y) > 0.95


def test_predictions_do_not_depend_on_padding_or_batch(rng):
    X, lengths, y = _sum_task(rng, n=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RNNRegressor(
            hidden_layer_sizes=(5, 4), max_iter=2, random_state=0, return_sequences=True
        ).fit(X, np.cumsum(np.nan_to_num(X[:, :, 0]), 1))
    full = est.predict(X)
    ragged = [X[i, :n] for i, n in enumerate(lengths)]
    assert_allclose(est.predict(ragged), full, rtol=1e-12)
    longer = np.concatenate([X, np.full((40, 5, 2), np.nan)], axis=1)
    got = est.predict(longer)
    assert got.shape == (40, X.shape[1] + 5)
    assert_allclose(got[:, : X.shape[1]], full, rtol=1e-12)
    for i, n in enumerate(lengths):
        alone = est.predict(X[i : i + 1, :n])
        assert_allclose(alone[0], full[i, :n], rtol=1e-12)
        assert np.all(np.isnan(full[i, n:]))


def test_sequence_to_one_reads_the_last_real_step(rng):
    X, lengths, y = _sum_task(rng, n=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RNNRegressor(
            hidden_layer_sizes=4, max_iter=2, random_state=0, pooling="last"
        ).fit(X, y)
        per_step = RNNRegressor(
            hidden_layer_sizes=4, max_iter=2, random_state=0, return_sequences=True
        )
    per_step.__dict__.update({k: v for k, v in est.__dict__.items() if k.endswith("_")})
    steps = per_step.predict(X)
    assert_allclose(est.predict(X), steps[np.arange(30), lengths - 1], rtol=1e-12)


def test_multi_output_regression(rng):
    X, _, y = _sum_task(rng)
    Y = np.column_stack([y, -y, 2 * y])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RNNRegressor(hidden_layer_sizes=6, max_iter=3, random_state=0).fit(X, Y)
    assert est.n_outputs_ == 3
    assert est.predict(X).shape == (X.shape[0], 3)
    assert est.output_coef_.shape == (3, 6)


def test_pytorch_layout_of_the_weights(rng):
    X, _, y = _sum_task(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RNNRegressor(hidden_layer_sizes=(7, 5), max_iter=1).fit(X, y)
    shapes = [{k: v.shape for k, v in layer.items()} for layer in est.coefs_]
    assert shapes == [
        {"weight_ih": (7, 2), "weight_hh": (7, 7), "bias_ih": (7,), "bias_hh": (7,)},
        {"weight_ih": (5, 7), "weight_hh": (5, 5), "bias_ih": (5,), "bias_hh": (5,)},
    ]
    assert est.output_coef_.shape == (1, 5)
    assert est.output_intercept_.shape == (1,)


def test_classifier_string_labels_multiclass(rng):
    X, _, y = _sum_task(rng, n=150)
    labels = np.array(["low", "mid", "high"])[np.digitize(y, [-1, 1])]
    est = RNNClassifier(
        hidden_layer_sizes=12, learning_rate_init=0.01, max_iter=100, random_state=0
    ).fit(X, labels)
    assert list(est.classes_) == ["high", "low", "mid"]
    proba = est.predict_proba(X)
    assert proba.shape == (150, 3)
    assert_allclose(proba.sum(axis=1), 1)
    assert est.decision_function(X).shape == (150, 3)
    assert set(est.predict(X)) <= set(labels)
    assert est.score(X, labels) > 0.8


def test_binary_classifier_and_hinge(rng):
    X, _, y = _sum_task(rng, n=150)
    labels = np.where(y > 0, 1, -1)
    for loss in ("log_loss", "hinge"):
        est = RNNClassifier(
            hidden_layer_sizes=8,
            loss=loss,
            learning_rate_init=0.01,
            max_iter=80,
            random_state=0,
        ).fit(X, labels)
        assert est.decision_function(X).shape == (150,)
        assert est.score(X, labels) > 0.9
    assert not hasattr(est, "predict_proba")
    with pytest.raises(ValueError, match="two classes"):
        RNNClassifier(loss="hinge").fit(X, np.arange(150) % 3)


def test_per_step_tagging_ignores_labels_at_padding(rng):
    X, lengths = ragged_problem(rng, n=80, max_steps=6, n_features=1)
    tags = np.where(X[:, :, 0] > 0, "pos", "neg").astype(object)
    tags[np.isnan(X[:, :, 0])] = None  # anything at padding
    est = RNNClassifier(
        hidden_layer_sizes=8,
        learning_rate_init=0.02,
        max_iter=60,
        return_sequences=True,
        random_state=0,
    ).fit(X, tags)
    assert list(est.classes_) == ["neg", "pos"]
    pred = est.predict(X)
    assert pred.shape == X.shape[:2]
    padded = np.isnan(X[:, :, 0])
    assert all(v is None for v in pred[padded])
    assert est.score(X, tags) > 0.9
    proba = est.predict_proba(X)
    assert proba.shape == X.shape[:2] + (2,)
    assert np.all(np.isnan(proba[padded]))
    numeric = RNNClassifier(hidden_layer_sizes=3, max_iter=1, return_sequences=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        numeric.fit(X, (X[:, :, 0] > 0).astype(int))
    assert np.all(np.isnan(numeric.predict(X)[padded]))


def test_early_stopping_keeps_the_best_validation_weights(rng):
    X, _, y = _sum_task(rng, n=200)
    est = RNNRegressor(
        hidden_layer_sizes=8,
        early_stopping=True,
        max_iter=40,
        learning_rate_init=0.01,
        random_state=0,
        n_iter_no_change=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.best_loss_ is None


def _record_epochs(monkeypatch):
    """Copies of the weights after each finished epoch, read from the epoch
    loop's checkpoint hook."""
    epochs = []
    checkpoint = BaseRecurrent._checkpoint

    def record(self, finished):
        epochs.append(_weights(self))
        checkpoint(self, finished)

    monkeypatch.setattr(BaseRecurrent, "_checkpoint", record)
    return epochs


def _by_hand(epochs, decay):
    average = epochs[0]
    for weights in epochs[1:]:
        average = [
            decay * a + (1 - decay) * w for a, w in zip(average, weights, strict=True)
        ]
    return average


@pytest.mark.parametrize(
    "Est, dtype, stop",
    [
        (RNNRegressor, np.float64, "max_iter"),
        (LSTMClassifier, np.float32, "max_iter"),
        (GRURegressor, np.float64, "plateau"),
    ],
)
def test_averaging_ends_on_the_average_of_the_epochs(
    Est, dtype, stop, rng, monkeypatch
):
    epochs = _record_epochs(monkeypatch)
    X, _, y = _sum_task(rng)
    if Est in CLASSIFIERS:
        y = y > 0
    kw = dict(hidden_layer_sizes=5, max_iter=12, learning_rate_init=0.01)
    if stop == "plateau":
        # every epoch after the first is a stall: stops after epoch 4
        kw.update(tol=1e9, n_iter_no_change=2)
    est = Est(random_state=0, averaging=0.8, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X.astype(dtype), y)
    assert len(epochs) == est.n_iter_ == (4 if stop == "plateau" else 12)
    average = _by_hand(epochs, 0.8)
    for a, b in zip(_weights(est), average, strict=True):
        assert a.dtype == dtype
        assert_array_equal(a, b)
    assert not np.array_equal(est.output_coef_, epochs[-1][-2])
    assert np.all(np.isfinite(est.predict(X.astype(dtype))))
    # the default, 0.9, averages as well; the training path is the same
    del epochs[:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        default = Est(random_state=0, **kw).fit(X.astype(dtype), y)
    assert default.averaging == 0.9
    for a, b in zip(_weights(default), _by_hand(epochs, 0.9), strict=True):
        assert_array_equal(a, b)


def test_averaging_0_ends_on_the_last_epochs_weights(rng, monkeypatch):
    epochs = _record_epochs(monkeypatch)
    X, _, y = _sum_task(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RNNRegressor(
            hidden_layer_sizes=5, max_iter=6, averaging=0.0, random_state=0
        ).fit(X, y)
    for a, b in zip(_weights(est), epochs[-1], strict=True):
        assert_array_equal(a, b)


def _diverging_rnn(**params):
    """An RNN that diverges on ``_sum_task``'s ``y * 1e3`` after a finished
    epoch: identity units, SGD with step 5, full batch, no clipping."""
    return RNNRegressor(
        hidden_layer_sizes=8,
        activation="identity",
        solver="sgd",
        learning_rate_init=5.0,
        max_iter=20,
        batch_size=120,
        clip_norm=None,
        random_state=0,
        **params,
    )


def test_averaging_leaves_partial_fit_early_stopping_and_divergence(rng):
    X, _, y = _sum_task(rng)
    runs = []
    for averaging in (0.9, 0.0):
        inc = RNNRegressor(
            hidden_layer_sizes=5,
            learning_rate_init=0.1,
            averaging=averaging,
            random_state=0,
        )
        for _ in range(6):
            inc.partial_fit(X, y)
        es = RNNRegressor(
            hidden_layer_sizes=5,
            learning_rate_init=0.1,
            early_stopping=True,
            n_iter_no_change=20,
            max_iter=8,
            averaging=averaging,
            random_state=0,
        )
        diverging = _diverging_rnn(averaging=averaging)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            es.fit(X, y)
        with pytest.warns(ConvergenceWarning, match="diverged"):
            diverging.fit(X, y * 1e3)
        assert diverging.n_iter_ >= 2
        runs.append(_weights(inc) + _weights(es) + _weights(diverging))
    for a, b in zip(*runs, strict=True):
        assert_array_equal(a, b)


@pytest.mark.parametrize("averaging", [-0.1, 1.0, "0.9"])
def test_averaging_is_validated(averaging, rng):
    X, _, y = _sum_task(rng, n=10)
    with pytest.raises(ValueError, match="averaging"):
        RNNRegressor(averaging=averaging).fit(X, y)


def test_warm_start_and_partial_fit(rng):
    X, _, y = _sum_task(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RNNRegressor(
            hidden_layer_sizes=5, max_iter=3, warm_start=True, random_state=0
        ).fit(X, y)
        before = _weights(est)
        est.fit(X, y)
    assert est.n_iter_ == 6
    assert not np.array_equal(before[0], est.coefs_[0]["weight_ih"])
    inc = RNNRegressor(hidden_layer_sizes=5, random_state=0)
    for _ in range(3):
        inc.partial_fit(X, y)
    assert inc.n_iter_ == 3
    clf = RNNClassifier(hidden_layer_sizes=5)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y > 0)
    clf.partial_fit(X, y > 0, classes=[False, True])
    assert clf.n_iter_ == 1


@pytest.mark.parametrize("cls", [RNNRegressor, GRUDRegressor])
def test_partial_fit_after_a_fit_with_early_stopping(cls, rng):
    # the fit tracked the validation score (best_loss_ None); partial_fit
    # follows the training loss from its first call
    X, _, y = _sum_task(rng)
    est = cls(hidden_layer_sizes=5, early_stopping=True, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert est.best_loss_ is None
    est.partial_fit(X, y)
    est.partial_fit(X, y)
    assert est.n_iter_ == 5
    assert est.best_loss_ == min(est.loss_curve_[-2:])
    assert np.all(np.isfinite(est.predict(X)))


def test_divergence_warns_and_keeps_finite_weights(rng):
    X, _, y = _sum_task(rng)
    est = _diverging_rnn()
    with pytest.warns(ConvergenceWarning, match="diverged"):
        est.fit(X, y * 1e3)
    assert np.all(np.isfinite(est.predict(X)))


def test_divergence_in_the_first_epoch_raises_and_leaves_no_model(rng):
    X, _, y = _sum_task(rng)
    est = RNNRegressor(hidden_layer_sizes=4, max_iter=3, random_state=0)
    with pytest.raises(ValueError, match="diverged in the first epoch"):
        est.fit(X.astype(np.float32), y * 1e300)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_verbose_prints_one_line_per_epoch(rng, capsys):
    X, _, y = _sum_task(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        RNNRegressor(hidden_layer_sizes=3, max_iter=4, verbose=True).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("Iteration 1, loss = ")


def test_spectral_radius_initialisation(rng):
    X, _, y = _sum_task(rng)
    est = RNNRegressor(hidden_layer_sizes=6, spectral_radius=0.7)
    est._initialize(2, 1, np.float64, np.random.RandomState(0), logistic_output=False)
    radius = np.max(np.abs(np.linalg.eigvals(est.coefs_[0]["weight_hh"])))
    assert_allclose(radius, 0.7)


def test_clip_norm_and_truncated_bptt_train(rng):
    X, _, y = _sum_task(rng, n=200)
    est = RNNRegressor(
        hidden_layer_sizes=16,
        learning_rate_init=0.01,
        max_iter=100,
        clip_norm=1.0,
        bptt_steps=4,
        random_state=0,
    ).fit(X, y)
    assert est.score(X, y) > 0.9


# ----------------------------------------------------------------- bad input
def test_nan_inside_a_sequence_names_sequence_and_step(rng):
    X, _, y = _sum_task(rng)
    X[1, 2, 0] = np.nan
    X[1, 3] = 0.5
    with pytest.raises(ValueError, match=r"Sequence 1 has NaN at step 2 \(feature 0\)"):
        RNNRegressor().fit(X, y)
    with pytest.raises(
        ValueError, match="TimestepTransformer\\(SimpleImputer\\(\\)\\)"
    ):
        RNNRegressor().fit(X, y)


def test_bad_inputs_raise_clear_errors(rng):
    X, _, y = _sum_task(rng)
    empty = X.copy()
    empty[4] = np.nan
    with pytest.raises(ValueError, match="Sequence 4 has no observed step"):
        RNNRegressor().fit(empty, y)
    with pytest.raises(ValueError, match="infinity"):
        bad = X.copy()
        bad[0, 0, 0] = np.inf
        RNNRegressor().fit(bad, y)
    with pytest.raises(ValueError, match="y has 3 entries"):
        RNNRegressor().fit(X, y[:3])
    with pytest.raises(ValueError, match="only one class"):
        RNNClassifier().fit(X, np.ones(X.shape[0]))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        RNNRegressor(hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(ValueError, match="activation"):
        RNNRegressor(activation="softsign").fit(X, y)
    with pytest.raises(ValueError, match="same number of features"):
        RNNRegressor().fit([np.ones((3, 2)), np.ones((4, 3))], [1.0, 2.0])
    with pytest.raises(ValueError, match="return_sequences=True"):
        RNNRegressor().fit(X, np.zeros(X.shape[:2] + (2,)))
    with pytest.raises(NotFittedError):
        RNNRegressor().predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RNNRegressor(hidden_layer_sizes=3, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        est.predict(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match="y has no target"):
        RNNRegressor(return_sequences=True).fit(X, np.full(X.shape[:2], np.nan))


@pytest.mark.parametrize("Est", REGRESSORS + CLASSIFIERS)
def test_skops_round_trip_trusts_only_skrnn_types(Est, rng):
    sio = pytest.importorskip("skops.io")
    X, _, y = _sum_task(rng)
    if Est in CLASSIFIERS:
        y = y > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Est(hidden_layer_sizes=(4, 3), max_iter=2, random_state=0).fit(X, y)
    data = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=data)
    assert all(name.startswith("skrnn.") for name in untrusted)
    loaded = sio.loads(data, trusted=untrusted)
    assert_array_equal(loaded.predict(X), est.predict(X))


def test_lstm_forget_gate_bias_starts_at_one():
    est = LSTMRegressor(hidden_layer_sizes=5)
    est._initialize(2, 1, np.float64, np.random.RandomState(0), logistic_output=False)
    layer = est.coefs_[0]
    assert np.all(layer["bias_ih"][5:10] == 1.0)
    assert np.all(layer["bias_hh"][5:10] == 0.0)
    assert np.all(np.abs(layer["bias_ih"][:5]) < 1 / np.sqrt(5))


def _early_stopped(Est, X, y, **params):
    est = Est(
        hidden_layer_sizes=6,
        early_stopping=True,
        max_iter=8,
        learning_rate_init=0.01,
        random_state=0,
        **params,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def test_scoring_loss_scores_by_the_negative_validation_loss(rng):
    X, _, y = _sum_task(rng)
    by_loss = _early_stopped(RNNRegressor, X, y, scoring="loss")
    assert len(by_loss.validation_loss_curve_) == by_loss.n_iter_
    assert_allclose(
        by_loss.validation_scores_, -np.asarray(by_loss.validation_loss_curve_)
    )
    by_r2 = _early_stopped(RNNRegressor, X, y)
    # the default scores by R^2, as before scoring existed; the losses agree
    assert by_r2.scoring is None
    assert_allclose(by_r2.validation_loss_curve_, by_loss.validation_loss_curve_)
    assert all(s <= 1 for s in by_r2.validation_scores_)
    assert not np.allclose(by_r2.validation_scores_, by_loss.validation_scores_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = RNNRegressor(3, max_iter=1).fit(X, y)
    assert plain.validation_loss_curve_ is None


def test_scoring_by_name_and_callable_sees_the_users_labels(rng):
    X, _, y = _sum_task(rng)
    labels = np.where(y > np.median(y), "high", "low")
    seen = []

    def scorer(estimator, X_val, y_val):
        seen.append((X_val.shape, set(y_val)))
        return float(np.mean(estimator.predict(X_val) == y_val))

    est = _early_stopped(GRUClassifier, X, labels, scoring=scorer)
    assert len(seen) == est.n_iter_
    assert seen[0][0][0] == 12 and seen[0][1] <= {"high", "low"}
    by_name = _early_stopped(GRUClassifier, X, labels, scoring="accuracy")
    default = _early_stopped(GRUClassifier, X, labels)
    assert_allclose(by_name.validation_scores_, default.validation_scores_)
    assert_allclose(est.validation_scores_, default.validation_scores_)
    mae = _early_stopped(LSTMRegressor, X, y, scoring="neg_mean_absolute_error")
    assert all(s <= 0 for s in mae.validation_scores_)


def test_bad_scoring_is_a_clear_error(rng):
    X, _, y = _sum_task(rng)
    with pytest.raises(ValueError, match="scoring"):
        _early_stopped(RNNRegressor, X, y, scoring="no_such_scorer")
    with pytest.raises(ValueError, match="return_sequences=True"):
        _early_stopped(RNNRegressor, X, X[:, :, 0], scoring="r2", return_sequences=True)


def test_auto_batch_size_gives_about_eight_updates_per_epoch():
    from skrnn._base import auto_batch_size

    sizes = {5: 5, 8: 8, 50: 8, 64: 8, 200: 25, 1600: 200, 100_000: 200}
    assert {n: auto_batch_size(n) for n in sizes} == sizes
