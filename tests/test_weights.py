"""class_weight on every classifier, and per-step sample weights."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_sample_weight

from skrnn import (
    EchoStateClassifier,
    EchoStateRegressor,
    EMRecurrentRegressor,
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    RNNClassifier,
)

CLASSIFIERS = [
    lambda **kw: RNNClassifier(4, max_iter=3, random_state=0, **kw),
    lambda **kw: LSTMClassifier(4, max_iter=3, random_state=0, **kw),
    lambda **kw: GRUClassifier(4, max_iter=3, random_state=0, **kw),
    lambda **kw: EchoStateClassifier(20, random_state=0, **kw),
]
IDS = ["RNN", "LSTM", "GRU", "EchoState"]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6, 2))
    X[::3, 4:] = np.nan  # some shorter sequences
    y = np.where(X[:, 0, 0] > 0.7, "rare", "common")
    Y = np.where(X[:, :, 0] > 0.7, "rare", "common").astype(object)
    Y[np.isnan(X[:, :, 0])] = None  # labels at padded steps are ignored
    return X, y, Y


def _fitted(est):
    if hasattr(est, "coefs_"):
        return [est.output_coef_, *est.coefs_[0].values()]
    return [est.coef_, est.intercept_]


def _same(a, b):
    for p, q in zip(_fitted(a), _fitted(b), strict=True):
        assert_array_equal(p, q)


@pytest.mark.parametrize("make", CLASSIFIERS, ids=IDS)
@pytest.mark.parametrize("class_weight", ["balanced", {"rare": 4.0}])
def test_class_weight_is_compute_sample_weight_times_sample_weight(
    make, class_weight, data
):
    X, y, _ = data
    sw = np.linspace(0.5, 2.0, len(y))
    weighted = make(class_weight=class_weight).fit(X, y, sample_weight=sw)
    expected = sw * compute_sample_weight(class_weight, y)
    _same(weighted, make().fit(X, y, sample_weight=expected))
    assert not np.array_equal(_fitted(weighted)[0], _fitted(make().fit(X, y))[0])


@pytest.mark.parametrize("make", CLASSIFIERS, ids=IDS)
def test_class_weight_per_step_counts_every_real_step(make, data):
    X, _, Y = data
    real = ~np.isnan(X[:, :, 0])
    expected = np.zeros(Y.shape)
    expected[real] = compute_sample_weight("balanced", Y[real].astype(str))
    est = make(class_weight="balanced", return_sequences=True).fit(X, Y)
    _same(est, make(return_sequences=True).fit(X, Y, sample_weight=expected))
    dict_weights = np.where(Y == "rare", 3.0, 1.0) * real
    est = make(class_weight={"rare": 3.0}, return_sequences=True).fit(X, Y)
    _same(est, make(return_sequences=True).fit(X, Y, sample_weight=dict_weights))


PER_STEP = [
    lambda: GRURegressor(4, max_iter=3, alpha=0.0, random_state=0),
    lambda: EchoStateRegressor(20, random_state=0),
]


@pytest.mark.parametrize("make", PER_STEP, ids=["GRU", "EchoState"])
def test_a_zero_step_weight_is_a_step_without_target(make, data):
    X, _, _ = data
    y = np.nan_to_num(X[:, :, 0] + X[:, :, 1])
    sw = np.ones(y.shape)
    sw[:, 1] = 0.0
    sw[5, 3] = 0.0
    sw[np.isnan(X[:, :, 0])] = np.nan  # anything at padded steps
    y_missing = y.copy()
    y_missing[sw == 0] = np.nan
    weighted = make().set_params(return_sequences=True).fit(X, y, sample_weight=sw)
    dropped = make().set_params(return_sequences=True).fit(X, y_missing)
    assert_allclose(weighted.predict(X), dropped.predict(X), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "make",
    [
        lambda: GRURegressor(4, max_iter=3, random_state=0),
        # EM's sample weights weigh its least-squares read-out
        lambda: EMRecurrentRegressor(n_hidden=4, max_iter=3, random_state=0),
    ],
    ids=["GRU", "EM"],
)
def test_per_step_weights_constant_in_a_sequence_are_sequence_weights(make, data):
    X, _, _ = data
    y = np.nan_to_num(X[:, :, 0])
    sw = np.arange(1.0, 41.0)
    by_sequence = make().set_params(return_sequences=True)
    by_sequence.fit(X, y, sample_weight=sw)
    by_step = make().set_params(return_sequences=True)
    by_step.fit(X, y, sample_weight=np.repeat(sw[:, None], X.shape[1], axis=1))
    assert_allclose(by_step.predict(X), by_sequence.predict(X), rtol=1e-6, atol=1e-7)
    assert_allclose(by_step.loss_curve_, by_sequence.loss_curve_, rtol=1e-6)
    assert by_step.score(X, y, sample_weight=np.ones(y.shape)) == pytest.approx(
        by_step.score(X, y)
    )


def test_bad_sample_weights_and_class_weights_say_what_is_wrong(data):
    X, y, Y = data
    y_steps = np.nan_to_num(X[:, :, 0])
    est = GRURegressor(4, max_iter=1, return_sequences=True)
    with pytest.raises(ValueError, match="return_sequences=False"):
        GRUClassifier(4, max_iter=1).fit(X, y, sample_weight=np.ones((40, 6)))
    with pytest.raises(ValueError, match=r"shape \(40, 5\); give one weight"):
        est.fit(X, y_steps, sample_weight=np.ones((40, 5)))
    with pytest.raises(ValueError, match=r"\(40, 6\)"):
        est.fit(X, y_steps, sample_weight=np.ones((39, 6)))
    bad = np.ones((40, 6))
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="sequence 2 at step 3 is not finite"):
        est.fit(X, y_steps, sample_weight=bad)
    bad[2, 3] = -1.0
    with pytest.raises(ValueError, match="sequence 2 at step 3 is negative"):
        est.fit(X, y_steps, sample_weight=bad)
    with pytest.raises(ValueError, match="Negative values"):
        GRUClassifier(4, max_iter=1).fit(X, y, sample_weight=-np.ones(40))
    with pytest.raises(ValueError, match="positive sum"):
        est.fit(X, y_steps, sample_weight=np.zeros((40, 6)))
    with pytest.raises(ValueError, match="not supported for partial_fit"):
        GRUClassifier(4, class_weight="balanced").partial_fit(
            X, y, classes=["common", "rare"]
        )
    with pytest.raises(ValueError, match="does not fit the classes"):
        GRUClassifier(4, max_iter=1, class_weight={"never": 2.0}).fit(X, y)
    with pytest.raises(InvalidParameterError, match="class_weight"):
        EchoStateClassifier(class_weight="even").fit(X, y)
    # a dict works in partial_fit
    clf = RNNClassifier(4, class_weight={"rare": 2.0}, random_state=0)
    clf.partial_fit(X, y, classes=["common", "rare"])
    assert clf.n_iter_ == 1


def test_weighted_fits_are_bit_identical_for_any_n_jobs(data):
    X, _, Y = data
    sw = np.linspace(0.0, 2.0, X.shape[0] * X.shape[1]).reshape(X.shape[:2])
    fits = [
        GRUClassifier(
            4,
            max_iter=3,
            random_state=0,
            return_sequences=True,
            class_weight="balanced",
            n_jobs=n_jobs,
        ).fit(X, Y, sample_weight=sw)
        for n_jobs in (1, 2)
    ]
    _same(*fits)


def test_a_minibatch_of_zero_weight_is_skipped():
    # scikit-learn's one-label check: the other class weighs 0, and small
    # minibatches can hold only such rows
    from skrnn import LSTMClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3, 2))
    y = np.repeat([0, 1], 20)
    sw = np.where(y == 0, 0.0, 1.0)
    order = np.argsort(y)
    clf = LSTMClassifier(4, batch_size=8, max_iter=2, shuffle=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X[order], y[order], sample_weight=sw[order])
    assert np.isfinite(clf.loss_curve_).all()
