"""GRU-D: the NumPy forward and BPTT (finite differences, PyTorch autograd),
the kernel path against them (and finite differences), the estimators."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skrnn import _grud, _network


def _problem(rng, n=5, T=7, F=3, H=4, missing=0.4, dtype=np.float64):
    X = rng.normal(size=(n, T, F)).astype(dtype)
    X[rng.random(X.shape) < missing] = np.nan
    lengths = rng.integers(1, T + 1, size=n)
    lengths[0] = T
    for i, L in enumerate(lengths):
        X[i, L:] = np.nan
    times = np.cumsum(rng.uniform(0.5, 2.0, size=(n, T)), axis=1).astype(dtype)
    p = {
        "weight_ih": rng.normal(scale=0.5, size=(3 * H, 2 * F)),
        "weight_hh": rng.normal(scale=0.5, size=(3 * H, H)),
        "bias_ih": rng.normal(scale=0.1, size=3 * H),
        "bias_hh": rng.normal(scale=0.1, size=3 * H),
        # both signs, so that the max(0, .) of the decays is exercised
        "decay_x_weight": rng.normal(size=F),
        "decay_x_bias": rng.normal(scale=0.5, size=F),
        "decay_h_weight": rng.normal(scale=0.5, size=(H, F)),
        "decay_h_bias": rng.normal(scale=0.5, size=H),
    }
    p = {k: v.astype(dtype) for k, v in p.items()}
    x_mean = rng.normal(size=F).astype(dtype)
    return X, times, lengths, p, x_mean


def _loss(p, data, G):
    Hs, _ = _grud.forward(p, *data)
    return float((Hs * G).sum())


def test_observed_inputs_follow_che_et_al():
    X = np.array([[[1.0], [np.nan], [np.nan], [4.0], [np.nan]]])
    times = np.array([[0.0, 1.0, 3.0, 4.0, 8.0]])
    values, mask, delta, last = _grud.observed_inputs(X, times)
    np.testing.assert_array_equal(mask[0, :, 0], [1, 0, 0, 1, 0])
    np.testing.assert_array_equal(values[0, :, 0], [1, 0, 0, 4, 0])
    # s_t - s_{t-1} (+ delta_{t-1} where the feature was missing at t-1)
    np.testing.assert_array_equal(delta[0, :, 0], [0, 1, 3, 4, 4])
    np.testing.assert_array_equal(last[0, :, 0], [1, 1, 1, 4, 4])
    _, _, steps, _ = _grud.observed_inputs(X)
    np.testing.assert_array_equal(steps[0, :, 0], [0, 1, 2, 3, 1])


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    X, times, lengths, p, x_mean = _problem(rng)
    values, mask, delta, last = _grud.observed_inputs(X, times)
    data = (values, mask, delta, last, lengths, x_mean)
    Hs, trace = _grud.forward(p, *data)
    assert np.isfinite(Hs).all()
    G = (
        rng.normal(size=Hs.shape)
        * (np.arange(Hs.shape[1]) < lengths[:, None])[..., None]
    )
    grads = _grud.backward(p, trace, G)
    eps = 1e-6
    for name in _grud.PARAMETERS:
        numeric = np.zeros_like(p[name])
        for idx in np.ndindex(p[name].shape):
            old = p[name][idx]
            p[name][idx] = old + eps
            up = _loss(p, data, G)
            p[name][idx] = old - eps
            down = _loss(p, data, G)
            p[name][idx] = old
            numeric[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(
            grads[name], numeric, rtol=1e-5, atol=1e-7, err_msg=name
        )


def test_padded_steps_keep_the_state():
    rng = np.random.default_rng(1)
    X, times, lengths, p, x_mean = _problem(rng)
    values, mask, delta, last = _grud.observed_inputs(X, times)
    Hs, _ = _grud.forward(p, values, mask, delta, last, lengths, x_mean)
    for i, L in enumerate(lengths):
        np.testing.assert_array_equal(
            Hs[i, L:], np.broadcast_to(Hs[i, L - 1], Hs[i, L:].shape)
        )


@pytest.mark.parametrize("bptt_steps", [None, 2])
def test_agrees_with_pytorch_autograd(bptt_steps):
    """Truncated BPTT (``bptt_steps``) is autograd with the previous state
    detached where a window starts; the decay factor keeps its gradient."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    X, times, lengths, p, x_mean = _problem(rng, n=4, T=6, F=2, H=3)
    values, mask, delta, last = _grud.observed_inputs(X, times)
    Hs, trace = _grud.forward(p, values, mask, delta, last, lengths, x_mean)
    G = rng.normal(size=Hs.shape)
    grads = _grud.backward(p, trace, G, bptt_steps=bptt_steps)

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    v, m, dl = (torch.tensor(a) for a in (values, mask, delta))
    xl = torch.tensor(np.where(np.isnan(last), x_mean, last))
    xm = torch.tensor(x_mean)
    H = p["weight_hh"].shape[1]
    cell = torch.nn.GRUCell(4, H, dtype=torch.float64)
    h = torch.zeros(4, H, dtype=torch.float64)
    out = []
    for t in range(X.shape[1]):
        gx = torch.exp(
            -torch.relu(tp["decay_x_weight"] * dl[:, t] + tp["decay_x_bias"])
        )
        xhat = m[:, t] * v[:, t] + (1 - m[:, t]) * (gx * xl[:, t] + (1 - gx) * xm)
        gh = torch.exp(
            -torch.relu(dl[:, t] @ tp["decay_h_weight"].T + tp["decay_h_bias"])
        )
        cut = bptt_steps is not None and t > 0 and t % bptt_steps == 0
        hn = torch.func.functional_call(
            cell,
            {n: tp[n] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")},
            (torch.cat([xhat, m[:, t]], 1), gh * (h.detach() if cut else h)),
        )
        active = torch.tensor(t < lengths)[:, None]
        h = torch.where(active, hn, h)
        out.append(h)
    torch_Hs = torch.stack(out, 1)
    np.testing.assert_allclose(Hs, torch_Hs.detach().numpy(), rtol=1e-10, atol=1e-12)
    (torch_Hs * torch.tensor(G)).sum().backward()
    for name in _grud.PARAMETERS:
        np.testing.assert_allclose(
            grads[name], tp[name].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name
        )


# ----------------------------------------------------------------- estimators
def _visits(rng, n=60, T=6, F=3, missing=0.3, dtype=np.float64):
    """Visit records: a time column (days) first, labs with gaps, ragged."""
    X = rng.normal(size=(n, T, F + 1)).astype(dtype)
    X[..., 0] = np.cumsum(rng.uniform(30, 400, size=(n, T)), axis=1)
    labs = X[..., 1:]
    labs[rng.random(labs.shape) < missing] = np.nan
    lengths = rng.integers(min(2, T), T + 1, size=n)
    for i, L in enumerate(lengths):
        X[i, L:] = np.nan
    y = (np.nan_to_num(X[:, 0, 1]) > 0).astype(int)
    return X, y


def _fit(est, X, y):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


def test_fits_visits_with_missing_labs_and_a_time_column():
    from skrnn import GRUDClassifier, GRUDRegressor

    rng = np.random.default_rng(0)
    X, y = _visits(rng)
    clf = _fit(GRUDClassifier(8, max_iter=3, time_column=0, random_state=0), X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 2) and np.isfinite(proba).all()
    assert clf.x_mean_.shape == (3,)
    assert clf.coefs_[0]["weight_ih"].shape == (24, 6)  # [labs, mask]
    reg = _fit(
        GRUDRegressor(8, max_iter=3, return_sequences=True, random_state=0),
        X,
        X[..., 1],
    )
    pred = reg.predict(X)
    real = ~np.all(np.isnan(X), axis=2)
    assert np.isfinite(pred[real]).all() and np.isnan(pred[~real]).all()


def test_float32_stays_float32():
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(1), dtype=np.float32)
    clf = _fit(GRUDClassifier(4, max_iter=2, time_column=0, random_state=0), X, y)
    assert clf.coefs_[0]["decay_h_weight"].dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32


def test_time_unit_does_not_matter():
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(2))
    years = X.copy()
    years[..., 0] /= 365.25
    a = _fit(GRUDClassifier(4, max_iter=3, time_column=0, random_state=0), X, y)
    b = _fit(GRUDClassifier(4, max_iter=3, time_column=0, random_state=0), years, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(years), rtol=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        {"hidden_layer_sizes": 4},
        {"hidden_layer_sizes": (4, 3), "bidirectional": True},
        {"hidden_layer_sizes": 4, "bidirectional": True, "solver": "simplex"},
    ],
)
def test_identical_for_any_n_jobs(params):
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(3))
    a = _fit(
        GRUDClassifier(max_iter=3, time_column=0, random_state=0, n_jobs=1, **params),
        X,
        y,
    )
    b = _fit(
        GRUDClassifier(max_iter=3, time_column=0, random_state=0, n_jobs=2, **params),
        X,
        y,
    )
    for p, q in zip(a._params(), b._params(), strict=True):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_time_column_by_name():
    pd = pytest.importorskip("pandas")
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(4), T=1)
    table = pd.DataFrame(X[:, 0], columns=["day", "a", "b", "c"])
    clf = _fit(
        GRUDClassifier(4, max_iter=2, time_column="day", random_state=0), table, y
    )
    assert clf.x_mean_.shape == (3,)
    with pytest.raises(ValueError, match="no column of that name"):
        _fit(GRUDClassifier(4, time_column="visit"), table, y)
    with pytest.raises(ValueError, match="no column of that name"):
        _fit(GRUDClassifier(4, time_column="day"), X, y)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda X: X.__setitem__((0, 1, 0), np.nan), "time column .* NaN or infinite"),
        (
            lambda X: X.__setitem__((0, 1, 0), -5.0),
            "decreases in sequence 0 from step 0",
        ),
        (
            lambda X: X.__setitem__((slice(None), slice(None), 2), np.nan),
            "Feature 1 .* never observed",
        ),
        (lambda X: X.__setitem__((0, 2, 1), np.inf), "infinity|inf"),
    ],
)
def test_bad_visits_are_refused(change, match):
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(5))
    X[:, :3] = np.nan_to_num(X[:, :3], nan=0.5)  # three real steps everywhere
    X[:, :3, 0] = np.arange(3)
    change(X)
    with pytest.raises(ValueError, match=match):
        GRUDClassifier(4, max_iter=2, time_column=0).fit(X, y)


def test_time_column_out_of_range():
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(5))
    with pytest.raises(ValueError, match="out of range"):
        GRUDClassifier(4, time_column=9).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"hidden_layer_sizes": (5, 3), "bidirectional": True},
        {"hidden_layer_sizes": (5, 3), "solver": "simplex", "bptt_steps": 2},
        {"bidirectional": True, "pooling": "mean", "dropout": 0.2, "bptt_steps": 3},
    ],
)
def test_the_common_parameters_fit(params):
    """What GRU-D refused before: stacked layers, bidirectional, simplex,
    truncated BPTT, together."""
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(6))
    clf = _fit(
        GRUDClassifier(max_iter=3, time_column=0, random_state=0, **params), X, y
    )
    assert np.isfinite(clf.predict_proba(X)).all()
    assert np.isfinite(clf.loss_curve_).all()
    D = 2 if params.get("bidirectional") else 1
    assert clf.output_coef_.shape == (1, D * clf._layer_sizes()[-1])
    assert ("weight_hh_reverse" in clf.coefs_[-1]) == (D == 2)
    assert all("decay_x_weight" not in layer for layer in clf.coefs_[1:])


def test_skops_round_trip(tmp_path):
    sio = pytest.importorskip("skops.io")
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(8))
    clf = _fit(GRUDClassifier(4, max_iter=2, time_column=0, random_state=0), X, y)
    path = tmp_path / "grud.skops"
    sio.dump(clf, path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_grud_transform_is_what_its_read_out_reads():
    from skrnn import GRUDRegressor

    X, y = _visits(np.random.default_rng(8))
    model = _fit(GRUDRegressor(4, max_iter=2, random_state=0), X, y.astype(float))
    states = model.transform(X)
    assert states.shape == (X.shape[0], 4)
    assert list(model.get_feature_names_out()) == [
        f"grudregressor{i}" for i in range(4)
    ]
    np.testing.assert_allclose(
        states @ model.output_coef_[0] + model.output_intercept_[0],
        model.predict(X),
        rtol=1e-12,
        atol=1e-12,
    )


def test_class_weight_and_per_step_sample_weight():
    from skrnn import GRUDClassifier, GRUDRegressor

    X, y = _visits(np.random.default_rng(9))
    a = _fit(GRUDClassifier(4, max_iter=2, random_state=0), X, y)
    b = _fit(
        GRUDClassifier(4, max_iter=2, random_state=0, class_weight="balanced"), X, y
    )
    assert not np.array_equal(a.predict_proba(X), b.predict_proba(X))
    target = X[..., 1]
    ones = np.ones(target.shape)
    c = _fit(
        GRUDRegressor(4, max_iter=2, return_sequences=True, random_state=0), X, target
    )
    d = GRUDRegressor(4, max_iter=2, return_sequences=True, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d.fit(X, target, sample_weight=ones)
    np.testing.assert_allclose(c.predict(X), d.predict(X), rtol=1e-5, equal_nan=True)


@pytest.mark.parametrize("scoring", [None, "loss"])
def test_early_stopping_scores_the_held_out_visits(scoring):
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(10), n=80)
    clf = GRUDClassifier(
        4,
        early_stopping=True,
        scoring=scoring,
        max_iter=4,
        time_column=0,
        random_state=0,
    )
    clf = _fit(clf, X, y)
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert np.isfinite(clf.validation_loss_curve_).all()
    assert np.isfinite(clf.validation_scores_).all()


# ------------------------------------------------------- the kernel path
def _kernel_model(X, lengths, task, return_sequences, dtype, seed=0, **params):
    """A GRU-D estimator initialised on X (no training), decays of both signs."""
    from skrnn import GRUDClassifier, GRUDRegressor

    common = {
        "hidden_layer_sizes": 4,
        "alpha": 0.3,
        "return_sequences": return_sequences,
        **params,
    }
    if task == "regression":
        est = GRUDRegressor(time_column=0, **common)
        n_outputs = 2
    else:
        est = GRUDClassifier(time_column=0, **common)
        est.classes_ = np.arange(2 if task == "binary" else 3)
        n_outputs = 1 if task == "binary" else 3
    est.n_features_in_ = X.shape[2]
    est._learn_data(X, lengths)
    est._initialize(
        X.shape[2],
        n_outputs,
        dtype,
        np.random.RandomState(seed),
        logistic_output=est._task_spec().logistic_output,
    )
    rng = np.random.default_rng(seed)
    layer = est.coefs_[0]
    for name in ("decay_x_weight", "decay_x_bias", "decay_h_weight", "decay_h_bias"):
        layer[name] = rng.normal(scale=0.8, size=layer[name].shape).astype(dtype)
    return est


def _kernel_problem(rng, task, return_sequences, dtype=np.float64, n=23, T=6):
    from skrnn._data import sequence_lengths

    X, _ = _visits(rng, n=n, T=T, dtype=dtype)
    lengths = sequence_lengths(X)
    if return_sequences:
        Y = rng.normal(size=(n, T, 2))
        if task != "regression":
            k = 2 if task == "binary" else 3
            idx = rng.integers(0, k, size=(n, T))
            Y = (idx[..., None] == 1) * 1.0 if k == 2 else np.eye(k)[idx]
        Y[np.arange(T)[None, :] >= lengths[:, None]] = np.nan
        Y[2, 0] = np.nan  # a real step without a target
        sw = rng.uniform(0.5, 2.0, size=(n, T))
    else:
        Y = rng.normal(size=(n, 1, 2))
        if task != "regression":
            k = 2 if task == "binary" else 3
            idx = rng.integers(0, k, size=(n, 1))
            Y = (idx[..., None] == 1) * 1.0 if k == 2 else np.eye(k)[idx]
        sw = rng.uniform(0.5, 2.0, size=n)
    return X, lengths, Y, sw


def _reference_loss_grad(est, X, lengths, Y, sw):
    """GRU-D's loss and gradients by the NumPy reference (skrnn._grud), in
    float64, in the order of the estimator's parameters."""
    from skrnn._data import weight_total

    p = {k: v.astype(np.float64) for k, v in est.coefs_[0].items()}
    V = est.output_coef_.astype(np.float64)
    c = est.output_intercept_.astype(np.float64)
    X = X.astype(np.float64)
    values, mask, delta, last = est._observed(X, lengths)
    x_mean = est.x_mean_.astype(np.float64)
    Hs, trace = _grud.forward(p, values, mask, delta, last, lengths, x_mean)
    loss_fn = est._task_spec().loss
    dHs = np.zeros_like(Hs)
    if est.return_sequences:
        T = Hs.shape[1]
        entries = (np.arange(T) < lengths[:, None]) & ~np.isnan(Y[:, :T]).any(-1)
        w = (
            sw[:, :T][entries]
            if sw.ndim == 2
            else np.broadcast_to(sw[:, None], entries.shape)[entries]
        )
        read = Hs[entries]
        value, dZ = loss_fn(read @ V.T + c, Y[:, :T][entries], w / w.sum())
        dHs[entries] = dZ @ V
    else:
        real = np.arange(Hs.shape[1])[None, :] < lengths[:, None]
        if est.pooling == "mean":
            read = np.where(real[..., None], Hs, 0).sum(axis=1) / lengths[:, None]
        elif est.pooling == "max":
            argmax = np.where(real[..., None], Hs, -np.inf).argmax(axis=1)
            read = np.take_along_axis(Hs, argmax[:, None], axis=1)[:, 0]
        else:
            read = Hs[:, -1]  # padded steps repeat the last real state
        value, dZ = loss_fn(read @ V.T + c, Y[:, 0], sw / sw.sum())
        dP = dZ @ V
        if est.pooling == "mean":
            dHs[:] = np.where(real[..., None], (dP / lengths[:, None])[:, None], 0)
        elif est.pooling == "max":
            np.put_along_axis(dHs, argmax[:, None], dP[:, None], axis=1)
        else:
            dHs[:, -1] = dP
    g = _grud.backward(p, trace, dHs, bptt_steps=est.bptt_steps)
    grads = [g[name] for name in _grud.PARAMETERS] + [dZ.T @ read, dZ.sum(axis=0)]
    n = weight_total(sw, Y)
    params = [p[name] for name in _grud.PARAMETERS] + [V, c]
    for q, gq, is_weight in zip(params, grads, est._penalised(), strict=True):
        if is_weight:
            value += 0.5 * est.alpha * float(np.vdot(q, q)) / n
            gq += (est.alpha / n) * q
    return value, grads


KERNEL_CASES = [
    ("regression", False, {}),
    ("regression", True, {}),
    ("binary", False, {}),
    ("multiclass", True, {}),
    ("binary", False, {"pooling": "mean"}),
    ("regression", False, {"pooling": "max"}),
]


# truncated BPTT: against the reference only (finite differences see the
# full gradient)
BPTT_CASES = [
    ("regression", True, {"bptt_steps": 2}),
    ("binary", False, {"bptt_steps": 3}),
    ("regression", False, {"bptt_steps": 1, "pooling": "mean"}),
    ("multiclass", True, {"bptt_steps": 4}),
]


@pytest.mark.parametrize("task, return_sequences, params", KERNEL_CASES + BPTT_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_path_agrees_with_the_numpy_reference(
    task, return_sequences, params, dtype
):
    """Loss and every gradient of the kernel path against skrnn._grud's
    forward and BPTT: float64 tight, float32 loose; unequal lengths, per-step
    targets and weights, pooling."""
    rng = np.random.default_rng(11)
    X, lengths, Y, sw = _kernel_problem(rng, task, return_sequences, dtype)
    est = _kernel_model(X, lengths, task, return_sequences, dtype, **params)
    S = est._training_inputs(X, lengths)
    loss_fn = est._task_spec().loss
    value, grads = est._loss_grad(S, lengths, Y, sw, 2, loss=loss_fn)
    ref_value, ref_grads = _reference_loss_grad(est, X, lengths, Y, sw)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-3)
    assert_allclose(value, ref_value, **tol)
    assert len(grads) == len(est._params())
    for g, r, p in zip(grads, ref_grads, est._params(), strict=True):
        assert g.dtype == dtype and g.shape == p.shape
        if dtype == np.float64:
            assert_allclose(g, r, **tol)
        else:  # relative to the gradient's scale
            assert np.abs(g - r).max() <= 2e-3 * max(np.abs(r).max(), 1e-3)


def _param_names(est):
    """Names of the arrays of ``est._params()``, for the messages."""
    names = [
        f"{name} (layer {k})" for k, name in _network.parameter_names(est._network())
    ]
    return names + list(_grud.DECAY_PARAMETERS) + ["output_coef_", "output_intercept_"]


# the layers above the first are plain GRU layers on its states
STACKED_CASES = [
    ("regression", True, {"hidden_layer_sizes": (4, 3)}),
    ("binary", False, {"hidden_layer_sizes": (4, 3)}),
    ("regression", False, {"hidden_layer_sizes": (3, 2, 2), "pooling": "mean"}),
    ("multiclass", False, {"hidden_layer_sizes": (3, 2), "dropout": 0.3}),
]
# the backward direction is a plain GRU over the same [xhat, m], reversed
BIDIRECTIONAL_CASES = [
    ("regression", True, {"bidirectional": True}),
    ("binary", False, {"bidirectional": True, "hidden_layer_sizes": (4, 3)}),
    ("regression", False, {"bidirectional": True, "pooling": "max"}),
    ("multiclass", True, {"bidirectional": True, "dropout": 0.3}),
]


@pytest.mark.parametrize(
    "task, return_sequences, params",
    KERNEL_CASES
    + [("regression", True, {"dropout": 0.4})]
    # recurrent dropout on the decayed state, alone and with the rest
    + [("regression", True, {"recurrent_dropout": 0.4})]
    + [
        (
            "multiclass",
            False,
            {"hidden_layer_sizes": (3, 2), "dropout": 0.3, "recurrent_dropout": 0.3},
        ),
        ("regression", False, {"bidirectional": True, "recurrent_dropout": 0.4}),
    ]
    + STACKED_CASES
    + BIDIRECTIONAL_CASES,
)
def test_kernel_path_gradients_match_finite_differences(task, return_sequences, params):
    """Every parameter's gradient through the kernels (and, with dropout, a
    fixed mask of every layer's inputs; with recurrent dropout, of every
    layer's recurrent product) against central differences; stacked layers
    included."""
    rng = np.random.default_rng(12)
    X, lengths, Y, sw = _kernel_problem(rng, task, return_sequences, n=9)
    est = _kernel_model(X, lengths, task, return_sequences, np.float64, 1, **params)
    S = est._training_inputs(X, lengths)
    masks, recurrent = est._draw_masks(X.shape[0], rng)
    if params.get("dropout"):
        assert (masks[0] == 0).any()
    if params.get("recurrent_dropout"):
        assert (recurrent[0] == 0).any()

    def loss_grad(n_threads):
        return est._loss_grad(
            S, lengths, Y, sw, n_threads, loss=est._task_spec().loss, masks=masks,
            recurrent_masks=recurrent,
        )  # fmt: skip

    _, grads = loss_grad(2)
    eps = 1e-6
    for name, p, g in zip(_param_names(est), est._params(), grads, strict=True):
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = loss_grad(1)[0]
            p[idx] = old - eps
            down = loss_grad(1)[0]
            p[idx] = old
            num[idx] = (up - down) / (2 * eps)
        err = np.linalg.norm(num - g) / max(np.linalg.norm(num), 1e-12)
        assert err < 1e-6, (name, err)


def test_kernel_path_is_identical_for_any_n_threads():
    rng = np.random.default_rng(13)
    X, lengths, Y, sw = _kernel_problem(rng, "regression", True, n=70, T=9)
    est = _kernel_model(X, lengths, "regression", True, np.float64)
    S = est._training_inputs(X, lengths)
    loss_fn = est._task_spec().loss
    one = est._loss_grad(S, lengths, Y, sw, 1, loss=loss_fn)
    two = est._loss_grad(S, lengths, Y, sw, 2, loss=loss_fn)
    assert one[0] == two[0]
    for a, b in zip(one[1], two[1], strict=True):
        assert np.array_equal(a, b)


def test_dropout_masks_the_kernel_inputs_in_fit_only():
    """With dropout, fits differ by seed of the masks, and predict (no
    dropout) is the reference's read-out of the fitted weights."""
    from skrnn import GRUDRegressor

    X, y = _visits(np.random.default_rng(15))
    a = _fit(GRUDRegressor(4, max_iter=2, random_state=0), X, y.astype(float))
    b = _fit(
        GRUDRegressor(4, max_iter=2, dropout=0.3, random_state=0), X, y.astype(float)
    )
    assert not np.allclose(a.predict(X), b.predict(X))
    from skrnn._data import sequence_lengths

    lengths = sequence_lengths(X)
    Hs, _ = _grud.forward(b.coefs_[0], *b._observed(X, lengths), lengths, b.x_mean_)
    expected = Hs[:, -1] @ b.output_coef_[0] + b.output_intercept_[0]
    assert_allclose(b.predict(X), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_predict_is_the_reference_s_read_out(return_sequences):
    """The inference path (the kernels' infer with the state decay) gives the
    NumPy reference's outputs, over several prediction blocks."""
    from skrnn import _grud_estimators

    rng = np.random.default_rng(14)
    X, lengths, _, _ = _kernel_problem(rng, "regression", return_sequences, n=50)
    est = _kernel_model(X, lengths, "regression", return_sequences, np.float64)
    p = est.coefs_[0]
    data = est._observed(X, lengths)
    Hs, _ = _grud.forward(p, *data, lengths, est.x_mean_)
    Z = Hs @ est.output_coef_.T + est.output_intercept_
    block = _grud_estimators.PREDICT_BLOCK
    try:
        _grud_estimators.PREDICT_BLOCK = 16
        got = est._raw_outputs(X, lengths)
        states = None if return_sequences else est._pooled_states(X, lengths)
    finally:
        _grud_estimators.PREDICT_BLOCK = block
    if return_sequences:
        real = np.arange(X.shape[1])[None, :] < lengths[:, None]
        assert_allclose(got[real], Z[real], rtol=1e-10, atol=1e-12)
        assert np.isnan(got[~real]).all()
    else:
        assert_allclose(got, Z[:, -1], rtol=1e-10, atol=1e-12)
        assert_allclose(states, Hs[:, -1], rtol=1e-10, atol=1e-12)


LAYER_OPTIONS = [
    {"hidden_layer_sizes": (4, 3)},
    {"hidden_layer_sizes": (4, 3), "pooling": "max"},
    {"bidirectional": True},
    {"hidden_layer_sizes": (4, 3), "bidirectional": True, "pooling": "mean"},
]


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("params", LAYER_OPTIONS)
def test_predict_is_the_training_pass_s_read_out(params, return_sequences):
    """The inference path of stacked (and bidirectional) GRU-D gives the
    outputs of the training pass, whose gradients the finite differences
    check."""
    from skrnn._layout import from_chunks

    rng = np.random.default_rng(16)
    X, lengths, _, _ = _kernel_problem(rng, "regression", return_sequences, n=40)
    est = _kernel_model(
        X, lengths, "regression", return_sequences, np.float64, **params
    )
    inputs, gamma_h, _ = est._decayed(est._training_inputs(X, lengths))
    trace = _network.forward(est._network(), inputs, lengths, 2, state_decay=gamma_h)
    got = est._raw_outputs(X, lengths)
    if return_sequences:
        want = from_chunks(trace.Z, trace.chunking, X.shape[0])
        real = np.arange(X.shape[1])[None, :] < lengths[:, None]
        assert_allclose(got[real], want[real], rtol=1e-10, atol=1e-12)
    else:
        assert_allclose(got, trace.Z, rtol=1e-10, atol=1e-12)
        assert_allclose(est.transform(X), trace.pooled, rtol=1e-10, atol=1e-12)


def test_stacked_layers_fit_with_the_decay_on_the_first():
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(17))
    clf = _fit(GRUDClassifier((6, 4), max_iter=3, time_column=0, random_state=0), X, y)
    assert len(clf.coefs_) == 2
    assert clf.coefs_[0]["decay_h_weight"].shape == (6, 3)
    assert clf.coefs_[1]["weight_ih"].shape == (12, 6)
    assert set(clf.coefs_[1]) == set(_network.LAYER_PARAMETERS)
    assert clf.output_coef_.shape == (1, 4)
    assert np.isfinite(clf.predict_proba(X)).all()
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    params = clf._params()
    assert len(params) == len(clf._penalised()) == 8 + 4 + 2
    clf._set_params_arrays([p + 1 for p in params])
    for p, q in zip(params, clf._params(), strict=True):
        assert_allclose(q, p + 1)


def test_truncated_bptt_cuts_the_gradient_and_a_long_window_does_not():
    rng = np.random.default_rng(18)
    X, lengths, Y, sw = _kernel_problem(rng, "regression", True)
    grads = {}
    for window in (None, 2, X.shape[1]):
        est = _kernel_model(
            X, lengths, "regression", True, np.float64, bptt_steps=window
        )
        S = est._training_inputs(X, lengths)
        grads[window] = est._loss_grad(
            S, lengths, Y, sw, 1, loss=est._task_spec().loss
        )[1]
    for full, long in zip(grads[None], grads[X.shape[1]], strict=True):
        assert_allclose(long, full, rtol=1e-12, atol=1e-14)
    assert not np.allclose(grads[2][1], grads[None][1])  # weight_hh


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"hidden_layer_sizes": (4, 3), "bptt_steps": 2},
        {"hidden_layer_sizes": (3, 2), "dropout": 0.3, "pooling": "mean"},
        {"hidden_layer_sizes": (3, 2), "bidirectional": True},
    ],
)
def test_step_shares_sum_to_the_loss_gradient(params):
    """Each step's share of every recurrent and decay parameter's gradient
    (what solver='simplex' and temporal_gradient_norms read): the first
    layer's recurrent share reads the decayed state, and the shares sum over
    the steps to the gradient."""
    rng = np.random.default_rng(19)
    X, lengths, Y, sw = _kernel_problem(rng, "regression", True)
    est = _kernel_model(X, lengths, "regression", True, np.float64, **params)
    est.alpha = 0.0  # the shares are the loss's
    S = est._training_inputs(X, lengths)
    masks = est._dropout_masks(X.shape[0], np.dtype(np.float64), rng)
    shares, norms = [], []
    _, grads = est._loss_grad(
        S,
        lengths,
        Y,
        sw,
        2,
        loss=est._task_spec().loss,
        step_grads=shares,
        step_norms=norms,
        masks=masks,
    )
    n_recurrent = len(est._params()) - 2
    D = 2 if est._bidirectional() else 1
    assert len(shares) == n_recurrent and len(norms) == D * len(est.coefs_)
    names = _param_names(est)[:n_recurrent]
    for name, share, g in zip(names, shares, grads[:n_recurrent], strict=True):
        assert share.shape == (lengths.max(),) + g.shape
        assert_allclose(share.sum(axis=0), g, rtol=1e-10, atol=1e-13, err_msg=name)
    # the hidden decay has no state to decay at the first step
    assert not shares[n_recurrent - 1][0].any()
