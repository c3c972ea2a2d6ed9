"""GRU-D's NumPy forward and BPTT: finite differences and PyTorch autograd."""

import numpy as np
import pytest

from skrnn import _grud


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


def test_agrees_with_pytorch_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    X, times, lengths, p, x_mean = _problem(rng, n=4, T=6, F=2, H=3)
    values, mask, delta, last = _grud.observed_inputs(X, times)
    Hs, trace = _grud.forward(p, values, mask, delta, last, lengths, x_mean)
    G = rng.normal(size=Hs.shape)
    grads = _grud.backward(p, trace, G)

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
        hn = torch.func.functional_call(
            cell,
            {n: tp[n] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")},
            (torch.cat([xhat, m[:, t]], 1), gh * h),
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


def test_identical_for_any_n_jobs():
    from skrnn import GRUDClassifier

    X, y = _visits(np.random.default_rng(3))
    a = _fit(
        GRUDClassifier(4, max_iter=3, time_column=0, random_state=0, n_jobs=1), X, y
    )
    b = _fit(
        GRUDClassifier(4, max_iter=3, time_column=0, random_state=0, n_jobs=2), X, y
    )
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
        (lambda X: X.__setitem__((0, 1, 0), -5.0), "decreases at step 1"),
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
    "params, match",
    [
        ({"hidden_layer_sizes": (4, 4)}, "one recurrent layer"),
        ({"solver": "simplex"}, "simplex"),
        ({"bptt_steps": 2}, "bptt_steps"),
        ({"pooling": "mean"}, "pooling='mean' is not available for GRU-D"),
        ({"bidirectional": True}, "bidirectional=True is not available"),
        ({"dropout": 0.2}, "dropout=0.2 is not available"),
    ],
)
def test_what_grud_does_not_have_is_refused(params, match):
    from skrnn import GRUDRegressor

    X, y = _visits(np.random.default_rng(6))
    with pytest.raises(ValueError, match=match):
        GRUDRegressor(**params).fit(X, y)


def test_no_torch_export_and_no_step_gradients():
    from skrnn import GRUDRegressor
    from skrnn.inspection import temporal_gradient_norms

    X, y = _visits(np.random.default_rng(7))
    model = _fit(GRUDRegressor(4, max_iter=1), X, y.astype(float))
    with pytest.raises(TypeError, match="no PyTorch equivalent"):
        model.to_torch()
    with pytest.raises(TypeError, match="not available for GRU-D"):
        temporal_gradient_norms(model, X, y.astype(float))


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
