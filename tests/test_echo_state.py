import pickle

import numpy as np
import pytest
from helpers import ragged_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import RidgeClassifierCV, RidgeCV

from skrnn import EchoStateClassifier, EchoStateRegressor, _echo_state
from skrnn._echo_state import (
    ALPHAS,
    LEAK_RATES,
    _fold_errors,
    _loo_predictions,
    _recurrent_matrix,
    _RidgeSums,
    _step_folds,
)
from skrnn._layout import from_chunks, make_chunking
from skrnn.datasets import make_mackey_glass


def _reference_states(esn, X, n):
    """The leaky reservoir written out step by step."""
    N = esn.n_reservoir
    W = np.zeros((N, N))
    for k, offset in enumerate(esn.reservoir_offsets_):
        W[np.arange(N), (np.arange(N) + offset) % N] = esn.reservoir_weights_[k]
    x = np.zeros(esn.n_reservoir)
    out = []
    for t in range(n):
        pre = esn.input_weights_ @ X[t] + esn.input_bias_ + W @ x
        x = (1 - esn.leak_rate_) * x + esn.leak_rate_ * np.tanh(pre)
        out.append(x)
    return np.array(out)


def _blocked_states(esn, X, lengths, ch):
    """States ``(B, T, N)`` of the reservoir run block by block."""
    blocks = [Xs.copy() for _, Xs in esn._state_blocks(X, ch, 2)]
    return from_chunks(np.concatenate(blocks, axis=1), ch, X.shape[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("block_bytes", [1, 3000, 2**22])
def test_reservoir_matches_numpy_reference(dtype, block_bytes, monkeypatch):
    monkeypatch.setattr(_echo_state, "STATE_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(0)
    X, lengths = ragged_problem(rng, n=37, max_steps=9, n_features=3)
    X = X.astype(dtype)
    esn = EchoStateRegressor(
        30,
        leak_rate=0.4,
        spectral_radius=1.1,
        sparsity=0.7,
        random_state=0,
        return_sequences=True,
    )
    esn._init_reservoir(3, np.dtype(dtype), np.random.RandomState(0))
    got = _blocked_states(esn, X, lengths, make_chunking(lengths))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for i, n in enumerate(lengths):
        assert_allclose(
            got[i, :n],
            _reference_states(esn, X[i].astype(float), n),
            rtol=tol,
            atol=tol,
        )
        assert np.all(np.isnan(got[i, n:]))


@pytest.mark.parametrize("return_sequences", [False, True])
def test_blocks_do_not_change_the_model(return_sequences, monkeypatch):
    rng = np.random.default_rng(4)
    X, lengths = ragged_problem(rng, n=200, max_steps=30, n_features=2)
    y = np.nancumsum(X[:, :, 0], axis=1)
    y[np.isnan(X[:, :, 0])] = np.nan
    if not return_sequences:
        y = y[np.arange(200), lengths - 1]
    params = {
        "return_sequences": return_sequences,
        "washout": 3,
        "alpha": 1e-3,
        # a fixed leak rate: with 'auto' the running-sum target picks a small
        # one, whose ill-conditioned read-out moves 1e-8 with the sums' order
        "leak_rate": 1.0,
        "random_state": 0,
    }
    whole = EchoStateRegressor(30, **params).fit(X, y)
    monkeypatch.setattr(_echo_state, "STATE_BLOCK_BYTES", 1)  # one step a block
    blocked = EchoStateRegressor(30, **params).fit(X, y)
    assert_allclose(blocked.coef_, whole.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(blocked.predict(X), whole.predict(X), rtol=1e-9, atol=1e-12)
    # the leak rate 'auto' chooses does not depend on the blocks either
    params["leak_rate"] = "auto"
    blocked = EchoStateRegressor(30, **params).fit(X, y)
    monkeypatch.undo()
    whole = EchoStateRegressor(30, **params).fit(X, y)
    assert blocked.leak_rate_ == whole.leak_rate_
    assert_allclose(blocked.predict(X), whole.predict(X), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "n, sparsity", [(200, 0.0), (200, 0.999), (150, 0.9), (400, 0.5), (1000, 0.9)]
)
def test_recurrent_matrix_pattern_and_radius(n, sparsity):
    esn = EchoStateRegressor(n, spectral_radius=0.8, sparsity=sparsity)
    esn._init_reservoir(1, np.dtype(float), np.random.RandomState(0))
    W = _recurrent_matrix(esn.reservoir_weights_, esn.reservoir_offsets_).toarray()
    K = round((1 - sparsity) * n)
    assert len(set(esn.reservoir_offsets_)) == K
    assert_array_equal((W != 0).sum(axis=0), K)
    assert_array_equal((W != 0).sum(axis=1), K)
    if K:
        assert_allclose(np.abs(np.linalg.eigvals(W)).max(), 0.8, rtol=1e-8)


def test_mackey_glass_one_step_ahead():
    series = make_mackey_glass(2200)
    X, y = series[None, :-1, None], series[None, 1:]
    esn = EchoStateRegressor(
        300,
        spectral_radius=1.25,
        leak_rate=0.3,
        alpha=1e-7,
        washout=100,
        return_sequences=True,
        random_state=0,
    )
    esn.fit(X[:, :1500], y[:, :1500])
    pred = esn.predict(X)[0, 1500:]
    nrmse = np.sqrt(np.mean((pred - y[0, 1500:]) ** 2)) / np.std(y[0, 1500:])
    assert nrmse < 0.02


def test_n_jobs_bit_identical_and_persistence():
    rng = np.random.default_rng(1)
    X, _ = ragged_problem(rng, n=80, max_steps=12, n_features=2)
    y = np.nansum(X[:, :, 0], axis=1)
    params = {"input_scaling": 0.1, "spectral_radius": 0.99, "random_state": 0}
    one = EchoStateRegressor(60, n_jobs=1, **params).fit(X, y)
    two = EchoStateRegressor(60, n_jobs=2, **params).fit(X, y)
    assert_array_equal(one.coef_, two.coef_)
    assert_array_equal(one.predict(X), two.predict(X))
    assert one.score(X, y) > 0.9
    loaded = pickle.loads(pickle.dumps(one))
    assert_array_equal(loaded.predict(X), one.predict(X))
    sio = pytest.importorskip("skops.io")
    data = sio.dumps(one)
    untrusted = sio.get_untrusted_types(data=data)
    assert all(name.startswith("skrnn.") for name in untrusted)
    assert_array_equal(sio.loads(data, trusted=untrusted).predict(X), one.predict(X))


def test_one_long_sequence_same_fit_for_any_n_jobs(monkeypatch):
    # one chunk: with two threads a helper thread sums the read-out products
    monkeypatch.setattr(_echo_state, "STATE_BLOCK_BYTES", 40 * 8 * 37)
    series = make_mackey_glass(600)
    X, y = series[None, :-1, None], series[None, 1:]
    params = {"washout": 50, "return_sequences": True, "random_state": 0}
    one = EchoStateRegressor(40, n_jobs=1, **params).fit(X, y)
    two = EchoStateRegressor(40, n_jobs=2, **params).fit(X, y)
    assert_array_equal(one.coef_, two.coef_)
    assert_array_equal(one.intercept_, two.intercept_)
    assert_array_equal(one.predict(X), two.predict(X))


def test_classifier_multiclass_and_tagging():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 8, 1))
    total = X[:, :, 0].sum(axis=1)
    y = np.array(["low", "mid", "high"])[np.digitize(total, [-1.5, 1.5])]
    clf = EchoStateClassifier(150, random_state=0).fit(X, y)
    assert clf.decision_function(X).shape == (300, 3)
    assert clf.score(X, y) > 0.85
    assert not hasattr(clf, "predict_proba")
    tags = np.where(X[:, :, 0] > 0, 1, 0)
    tagger = EchoStateClassifier(50, return_sequences=True, random_state=0).fit(X, tags)
    assert tagger.predict(X).shape == (300, 8)
    assert tagger.score(X, tags) > 0.95


def test_bad_inputs():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 5, 1))
    X[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match="Sequence 2 has NaN at step 1"):
        EchoStateRegressor().fit(X, np.ones(20))
    X[2, 1, 0] = 0.0
    with pytest.raises(ValueError, match="only one class"):
        EchoStateClassifier().fit(X, np.ones(20))
    with pytest.raises(ValueError, match="washout"):
        EchoStateRegressor(washout=5, return_sequences=True).fit(X, X[:, :, 0])
    with pytest.raises(ValueError, match="leak_rate"):
        EchoStateRegressor(leak_rate=0).fit(X, np.ones(20))
    Y = np.full((20, 5), np.nan)
    Y[0] = 1.0  # only a sequence of weight zero has targets
    with pytest.raises(ValueError, match="All sample weights"):
        EchoStateRegressor(return_sequences=True).fit(
            X, Y, sample_weight=np.r_[0.0, np.ones(19)]
        )
    esn = EchoStateRegressor(10).fit(X, np.ones(20))
    esn.reservoir_offsets_[0] = 10  # a damaged model must not read out of bounds
    with pytest.raises(ValueError, match=r"offsets must be in \[0, 10\)"):
        esn.predict(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pooled_states_and_transform_match_the_reference(dtype, monkeypatch):
    monkeypatch.setattr(_echo_state, "STATE_BLOCK_BYTES", 3000)  # several blocks
    rng = np.random.default_rng(5)
    X, lengths = ragged_problem(rng, n=41, max_steps=12, n_features=2)
    X = X.astype(dtype)
    y = np.nansum(X[:, :, 0], axis=1)
    esn = EchoStateRegressor(
        20, pooling=("max", "last", "mean"), random_state=0, leak_rate=0.5
    ).fit(X, y)
    got = esn.transform(X)
    assert got.shape == (41, 60) and got.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for i, n in enumerate(lengths):
        states = _reference_states(esn, X[i].astype(float), n)
        want = np.r_[states.max(axis=0), states[-1], states.mean(axis=0)]
        assert_allclose(got[i], want, rtol=tol, atol=tol)
    assert_allclose(
        esn.predict(X), got @ esn.coef_[0] + esn.intercept_[0], rtol=tol, atol=tol
    )
    assert esn.coef_.shape == (1, 60)


def test_pooling_default_is_the_mean_and_a_bad_pooling_is_an_error():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(60, 7, 1))
    labels = np.where(X[:, :, 0].mean(axis=1) > 0, "up", "down")
    clf = EchoStateClassifier(25, random_state=0).fit(X, labels)
    assert clf.pooling == "mean"
    both = EchoStateClassifier(
        25, pooling=("last", "mean"), leak_rate=clf.leak_rate_, random_state=0
    )
    # same reservoir: the mean is the second half of ('last', 'mean')
    assert_array_equal(clf.transform(X), both.fit(X, labels).transform(X)[:, 25:])
    for bad in [(), ("last", "median")]:
        with pytest.raises(ValueError, match="pooling must be one of"):
            EchoStateClassifier(pooling=bad).fit(X, labels)
    with pytest.raises(ValueError, match="pooling"):
        EchoStateClassifier(pooling="median").fit(X, labels)


def _ridge(features, targets, weights, alpha):
    ridge = _RidgeSums(features.shape[1], targets.shape[1])
    ridge.add(features, targets, weights)
    return ridge.solve(alpha)


@pytest.mark.parametrize("n_features", [4, 9])  # fewer and more than samples
def test_loo_predictions_are_an_explicit_leave_one_out_loop(n_features):
    rng = np.random.default_rng(7)
    n = 8
    X = rng.normal(size=(n, n_features))
    Y = X[:, :2] @ rng.normal(size=(2, 2)) + 0.5 * rng.normal(size=(n, 2))
    w = rng.uniform(0.2, 3.0, size=n)
    w[3] = 0.0  # a sample without weight: its LOO prediction is the fit's
    alphas = np.array([1e-3, 0.1, 10.0])
    got = list(_loo_predictions(X, Y, w, alphas))
    for k, alpha in enumerate(alphas):
        for i in range(n):
            keep = np.arange(n) != i
            coef, intercept = _ridge(X[keep], Y[keep], w[keep], alpha)
            assert_allclose(got[k][i], coef @ X[i] + intercept, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_auto_alpha_agrees_with_ridgecv(dtype):
    rng = np.random.default_rng(8)
    X, lengths = ragged_problem(rng, n=70, max_steps=10, n_features=2)
    X = X.astype(dtype)
    y = np.nanmean(X[:, :, 0], axis=1) + 0.5 * rng.normal(size=70)
    w = rng.uniform(0.5, 2.0, size=70)
    esn = EchoStateRegressor(30, alpha="auto", random_state=0)
    esn.fit(X, y, sample_weight=w)
    features = esn.transform(X).astype(np.float64)
    ref = RidgeCV(alphas=ALPHAS).fit(features, y, sample_weight=w)
    assert esn.alpha_ == ref.alpha_ and 1e-6 < esn.alpha_ < 1e3
    tol = 1e-4 if dtype == np.float32 else 1e-9
    scale = np.abs(ref.coef_).max()
    assert_allclose(esn.coef_[0], ref.coef_, rtol=tol, atol=tol * scale)
    assert_allclose(esn.intercept_[0], ref.intercept_, rtol=tol, atol=tol)
    assert esn.coef_.dtype == dtype

    labels = np.array(["a", "b", "c"])[np.digitize(y, [-0.3, 0.3])]
    clf = EchoStateClassifier(30, alpha="auto", random_state=0).fit(X, labels)
    features = clf.transform(X).astype(np.float64)
    ref = RidgeClassifierCV(alphas=ALPHAS).fit(features, labels)
    assert clf.alpha_ == ref.alpha_
    assert_allclose(clf.coef_, ref.coef_, rtol=tol, atol=tol * np.abs(ref.coef_).max())
    assert_array_equal(clf.predict(X), ref.predict(features))


def test_alpha_is_set_after_fit_and_the_classifier_can_score_loo_accuracy():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(50, 6, 1))
    labels = np.where(X[:, :, 0].mean(axis=1) > 0, "up", "down")
    assert EchoStateClassifier(20, alpha=0.5).fit(X, labels).alpha_ == 0.5
    assert EchoStateRegressor(20).fit(X, X[:, 0, 0]).alpha_ in ALPHAS
    clf = EchoStateClassifier(20, alpha="auto", alphas=[1e-4, 1.0], random_state=0)
    clf._loo_scoring = "accuracy"
    clf.fit(X, labels)
    loo = list(
        _loo_predictions(
            clf.transform(X),
            clf._readout_targets((labels == "up").astype(float)[:, None]),
            np.ones(50),
            [1e-4, 1.0],
        )
    )
    hits = [((p[:, 0] > 0) == (labels == "up")).mean() for p in loo]
    errors = [((p[:, 0] - np.where(labels == "up", 1, -1)) ** 2).sum() for p in loo]
    best = max(range(2), key=lambda k: (hits[k], -errors[k]))
    assert clf.alpha_ == [1e-4, 1.0][best]


def test_bad_alphas_are_an_error():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(20, 5, 1))
    for bad in [[], [0.1, -1.0], [0.0], [[1.0, 2.0]], [np.nan], ["a"]]:
        with pytest.raises(ValueError, match="alphas must be a non-empty 1-D"):
            EchoStateRegressor(alpha="auto", alphas=bad).fit(X, np.ones(20))
    with pytest.raises(ValueError, match="alpha"):
        EchoStateRegressor(alpha="best").fit(X, np.ones(20))
    with pytest.raises(ValueError, match="alpha='auto' needs"):
        EchoStateRegressor(alpha="auto", return_sequences=True).fit(
            X[:1, :1], np.ones((1, 1))
        )


def test_step_folds():
    # the sequences with targets in turn (0, 1, 2, 4, 5, 7, 9), the k-th in fold k % 5
    assert_array_equal(
        _step_folds(np.array([4, 0, 2, 0, 9, 7, 5, 1])), [3, 0, 2, 0, 1, 0, 4, 1]
    )
    assert_array_equal(_step_folds(np.array([1, 0, 1])), [1, 0, 1])
    assert_array_equal(_step_folds(np.zeros(10, int)), np.arange(10) // 2)


def test_fold_alpha_is_an_explicit_cross_validation():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(60, 5))
    Y = X[:, :2] @ rng.normal(size=(2, 2)) + rng.normal(size=(60, 2))
    w = rng.uniform(0.2, 2.0, size=60)
    folds = rng.integers(0, 4, size=60)
    alphas = np.logspace(-3, 3, 7)
    sums = []
    for k in range(4):
        part = _RidgeSums(5, 2)
        rows = folds == k
        part.add(X[rows], Y[rows], w[rows])
        sums.append(part)
        coef, intercept = _ridge(X, Y, w, 0.3)
        direct = w[rows] @ (Y[rows] - X[rows] @ coef.T - intercept) ** 2
        assert_allclose(part.squared_errors(coef, intercept), direct, rtol=1e-10)
    errors = np.zeros(len(alphas))
    for j, alpha in enumerate(alphas):
        for k in range(4):
            out = folds == k
            coef, intercept = _ridge(X[~out], Y[~out], w[~out], alpha)
            errors[j] += w[out] @ ((Y[out] - X[out] @ coef.T - intercept) ** 2).sum(1)
    assert alphas[np.argmin(_fold_errors(sums, alphas))] == alphas[np.argmin(errors)]


def test_auto_alpha_per_step_scores_folds_of_sequences(monkeypatch):
    monkeypatch.setattr(_echo_state, "STATE_BLOCK_BYTES", 3000)  # several blocks
    rng = np.random.default_rng(12)
    X, lengths = ragged_problem(rng, n=23, max_steps=9, n_features=1)
    Y = np.cumsum(np.nan_to_num(X[:, :, 0]), axis=1) + 0.3 * rng.normal(
        size=X.shape[:2]
    )
    alphas = np.logspace(-4, 2, 7)
    esn = EchoStateRegressor(
        15,
        alpha="auto",
        alphas=alphas,
        washout=1,
        return_sequences=True,
        random_state=0,
    ).fit(X, Y)
    states = [_reference_states(esn, X[i], n)[1:] for i, n in enumerate(lengths)]
    targets = [Y[i, 1:n, None] for i, n in enumerate(lengths)]
    # the k-th sequence with a step after the washout goes to fold k % 5
    fold = np.full(23, -1)
    fold[lengths > 1] = np.arange(np.count_nonzero(lengths > 1)) % 5
    errors = np.zeros(len(alphas))
    for j, alpha in enumerate(alphas):
        for k in range(5):
            train = np.flatnonzero(fold != k)
            F = np.vstack([states[i] for i in train])
            T = np.vstack([targets[i] for i in train])
            coef, intercept = _ridge(F, T, np.ones(len(F)), alpha)
            for i in np.flatnonzero(fold == k):
                errors[j] += ((targets[i] - states[i] @ coef.T - intercept) ** 2).sum()
    assert esn.alpha_ == alphas[np.argmin(errors)]
    F, T = np.vstack(states), np.vstack(targets)
    coef, intercept = _ridge(F, T, np.ones(len(F)), esn.alpha_)
    assert_allclose(esn.coef_, coef, rtol=1e-8, atol=1e-10)

    one = EchoStateRegressor(15, alpha="auto", return_sequences=True, random_state=0)
    assert one.fit(X[:1], Y[:1]).alpha_ in ALPHAS


def test_auto_leak_rate_is_the_best_leave_one_out_choice():
    rng = np.random.default_rng(13)
    X, _ = ragged_problem(rng, n=60, max_steps=20, n_features=2)
    y = np.nanmean(X[:, :, 0], axis=1) + 0.2 * rng.normal(size=60)
    w = rng.uniform(0.5, 2.0, size=60)
    labels = np.array(["a", "b", "c"])[np.digitize(y, [-0.2, 0.2])]
    for Estimator, target in ((EchoStateRegressor, y), (EchoStateClassifier, labels)):
        auto = Estimator(30, leak_rate="auto", random_state=0)
        auto.fit(X, target, sample_weight=w)
        losses = []
        for leak in LEAK_RATES:
            fixed = Estimator(30, leak_rate=leak, random_state=0)
            fixed.fit(X, target, sample_weight=w)
            assert fixed.leak_rate_ == leak
            if Estimator is EchoStateRegressor:
                targets = y[:, None]
            else:
                targets = 2.0 * (labels[:, None] == fixed.classes_) - 1
            loo = _loo_predictions(fixed.transform(X), targets, w, [fixed.alpha_])
            losses.append(fixed._loo_loss(targets, next(loo), w))
            if leak == auto.leak_rate_:
                assert auto.alpha_ == fixed.alpha_
                assert_array_equal(auto.coef_, fixed.coef_)
                assert_array_equal(auto.predict(X), fixed.predict(X))
        assert auto.leak_rate_ == LEAK_RATES[min(range(4), key=losses.__getitem__)]


def test_auto_leak_rate_per_step_follows_the_target_memory():
    rng = np.random.default_rng(14)
    X = rng.normal(size=(40, 30, 1))
    params = {"leak_rate": "auto", "return_sequences": True, "random_state": 0}
    now = EchoStateRegressor(40, **params).fit(X, np.tanh(X[:, :, 0]))
    running = EchoStateRegressor(40, **params).fit(X, np.cumsum(X[:, :, 0], axis=1))
    assert now.leak_rate_ == 1.0
    assert running.leak_rate_ < 1.0
    fixed = EchoStateRegressor(
        40,
        leak_rate=running.leak_rate_,
        alpha=running.alpha_,
        return_sequences=True,
        random_state=0,
    ).fit(X, np.cumsum(X[:, :, 0], axis=1))
    # the same fit but for the order of the sums (five folds' sums added up)
    assert_allclose(running.coef_, fixed.coef_, rtol=1e-6)
    with pytest.raises(ValueError, match="leak_rate"):
        EchoStateRegressor(leak_rate="fast").fit(X, X[:, 0, 0])
