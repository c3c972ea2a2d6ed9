"""Recurrent dropout (``recurrent_dropout``, a mask on h_{t-1} where it enters
``W_hh h_{t-1}``): the time loop's mask in every cell kernel against a NumPy
reference and finite differences (with leaky units, GRU-D's state decay and
truncated BPTT), the entry points' shape checks, and the estimators: fixed
masks through stacked and bidirectional networks, the simplex step shares,
reproducibility for any n_jobs, no dropout at predict, parameter checks."""

import numpy as np
import pytest
from helpers import (
    KERNEL_CELLS as CELLS,
)
from helpers import (
    assert_weight_gradients,
    kernel_forward,
    kernel_loss_and_grads,
    layer_problem,
    ragged_problem,
    step_differences,
)
from numpy.testing import assert_allclose

import skrnn
from skrnn import _loss, _network
from skrnn._layout import (
    CHUNK_SIZE,
    from_chunks,
    make_chunking,
    rows_to_chunks,
    to_chunks,
)
from skrnn._network import ACTIVATIONS
from skrnn.inspection import temporal_gradient_norms

TANH = ACTIVATIONS["tanh"]


# ------------------------------------------------------------------ kernels
def _problem(cell, seed=0, B=11, T=7, F=3, H=4, dtype=np.float64, p=0.4):
    rng = np.random.default_rng(seed)
    X, lengths, weights = layer_problem(CELLS[cell][1], rng, B, T, F, H)
    mask = (rng.uniform(size=(B, H)) >= p) / (1 - p)
    assert (mask == 0).any() and (mask > 0).any()
    gamma = rng.uniform(0.05, 1.0, size=(B, T, H))
    return (
        X.astype(dtype),
        lengths,
        [w.astype(dtype) for w in weights],
        mask.astype(dtype),
        gamma.astype(dtype),
    )


def _forward(cell, X, lengths, weights, mask, gamma=None, n_threads=2, **options):
    kernel, _, cache_width, _, _ = CELLS[cell]
    return kernel_forward(
        kernel, cache_width, X, lengths, weights, TANH, mask=mask, gamma=gamma,
        n_threads=n_threads, **options,
    )  # fmt: skip


def _loss_and_grads(
    cell, X, lengths, weights, mask, G_out, gamma=None, bptt_steps=0, n_threads=2,
    **options,
):  # fmt: skip
    """Loss sum(G_out * H) over real steps; the kernel's weight gradients, dX
    and (with ``gamma``) dL/dgamma in batch order."""
    kernel, _, cache_width, _, _ = CELLS[cell]
    return kernel_loss_and_grads(
        kernel, cache_width, X, lengths, weights, TANH, G_out, mask=mask,
        gamma=gamma, bptt_steps=bptt_steps, n_threads=n_threads, **options,
    )[:4]  # fmt: skip


def _reference(cell, x, n, weights, mask, gamma=None, leak=1.0, bptt=0, fixed=None):
    """One sequence's states ``(n, H)`` and state tuples, written out: the
    previous state decayed by ``gamma``, masked only in ``W_hh h``, the
    leak on the unmasked (decayed) state. With ``bptt`` and ``fixed`` (the
    state tuples of another run), each window starts from ``fixed``'s state:
    a constant, as truncated BPTT treats it."""
    step, init = CELLS[cell][3:]
    state = init(weights[1].shape[1])
    states = []
    for t in range(n):
        if bptt and fixed is not None and t > 0 and t % bptt == 0:
            state = fixed[t - 1]
        if gamma is not None and t > 0:
            state = (gamma[t] * state[0],) + tuple(state[1:])
        new = step(x[t], state, *weights, activation="tanh", recurrent_mask=mask)
        if leak < 1:
            new = ((1 - leak) * state[0] + leak * new[0],) + tuple(new[1:])
        state = new
        states.append(state)
    return np.array([s[0] for s in states]).reshape(n, -1), states


def _assert_finite_differences(f, weights, X, lengths, gamma, grads, dX, d_gamma):
    """``f(weights, X, gamma)``'s finite differences against the kernel's
    weight gradients, dX at real steps and (with ``gamma``) dL/dgamma."""
    assert_weight_gradients(f, weights, grads)
    num = step_differences(lambda X_: f(weights, X_), X, lengths)
    real = ~np.isnan(X)
    err = np.linalg.norm(num[real] - dX[real]) / np.linalg.norm(num[real])
    assert err < 1e-6, err
    if gamma is not None:
        num_g = step_differences(lambda g_: f(weights, X, g_), gamma, lengths)
        err = np.linalg.norm(num_g - d_gamma) / np.linalg.norm(num_g)
        assert err < 1e-6, err


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("leak, decay", [(1.0, False), (0.6, False), (1.0, True)])
def test_forward_matches_reference(cell, dtype, leak, decay):
    X, lengths, weights, mask, gamma = _problem(cell, dtype=dtype)
    gamma = gamma if decay else None
    ch, _, Hs, _, kw = _forward(cell, X, lengths, weights, mask, gamma, leak_rate=leak)
    got = from_chunks(Hs, ch, X.shape[0])
    tol = 1e-5 if dtype == np.float32 else 1e-10
    w64 = [w.astype(np.float64) for w in weights]
    g64 = None if gamma is None else gamma.astype(np.float64)
    for i, n in enumerate(lengths):
        expected, _ = _reference(
            cell,
            X[i].astype(np.float64),
            n,
            w64,
            mask[i].astype(np.float64),
            None if g64 is None else g64[i],
            leak,
        )
        assert_allclose(got[i, :n], expected, rtol=tol, atol=tol)
    # masked: mask * (decayed) h_{t-1} at real steps t >= 1, zero elsewhere
    masked = from_chunks(kw["masked"], ch, X.shape[0], fill=0)
    assert np.all(np.isfinite(kw["masked"]))
    assert np.all(kw["masked"][~ch.mask] == 0)
    assert np.all(masked[:, 0] == 0)
    for i, n in enumerate(lengths):
        previous = got[i, : n - 1] * (1 if gamma is None else gamma[i, 1:n])
        assert_allclose(masked[i, 1:n], mask[i] * previous, rtol=tol)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("leak, decay", [(1.0, False), (0.6, False), (1.0, True)])
def test_backward_matches_finite_differences(cell, leak, decay):
    X, lengths, weights, mask, gamma = _problem(cell, seed=1, B=7)
    gamma = gamma if decay else None
    G_out = np.random.default_rng(2).normal(size=X.shape[:2] + (4,))
    options = {"leak_rate": leak}
    _, grads, dX, d_gamma = _loss_and_grads(
        cell, X, lengths, weights, mask, G_out, gamma, **options
    )

    def f(ws, X_=X, g_=gamma):
        return _loss_and_grads(cell, X_, lengths, ws, mask, G_out, g_, **options)[0]

    _assert_finite_differences(f, weights, X, lengths, gamma, grads, dX, d_gamma)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("leak, decay", [(1.0, False), (0.6, False), (1.0, True)])
def test_truncated_backward_matches_the_windowed_reference(cell, leak, decay):
    """With bptt_steps k, the kernel's gradients are the finite differences of
    the reference whose windows start from the unperturbed run's states
    (constants), so the path to h_{t-1} is cut at every multiple of k."""
    k = 3
    X, lengths, weights, mask, gamma = _problem(cell, seed=3, B=6)
    gamma = gamma if decay else None
    G_out = np.random.default_rng(4).normal(size=X.shape[:2] + (4,))
    _, grads, dX, d_gamma = _loss_and_grads(
        cell, X, lengths, weights, mask, G_out, gamma, bptt_steps=k, leak_rate=leak
    )
    fixed = [
        _reference(
            cell, X[i], n, weights, mask[i], None if gamma is None else gamma[i], leak
        )[1]
        for i, n in enumerate(lengths)
    ]

    def f(ws, X_=X, g_=gamma):
        total = 0.0
        for i, n in enumerate(lengths):
            out, _ = _reference(
                cell,
                X_[i],
                n,
                ws,
                mask[i],
                None if g_ is None else g_[i],
                leak,
                bptt=k,
                fixed=fixed[i],
            )
            total += float(np.sum(G_out[i, :n] * out))
        return total

    _assert_finite_differences(f, weights, X, lengths, gamma, grads, dX, d_gamma)


@pytest.mark.parametrize("cell", list(CELLS))
def test_a_mask_of_ones_is_the_plain_cell(cell):
    """Nothing dropped: the states and gradients of no mask."""
    X, lengths, weights, mask, _ = _problem(cell, seed=5)
    G_out = np.random.default_rng(6).normal(size=X.shape[:2] + (4,))
    plain = _forward(cell, X, lengths, weights, None)
    ones = _forward(cell, X, lengths, weights, np.ones_like(mask))
    assert np.array_equal(plain[2], ones[2])
    assert np.array_equal(plain[3], ones[3])
    plain = _loss_and_grads(cell, X, lengths, weights, None, G_out)
    ones = _loss_and_grads(cell, X, lengths, weights, np.ones_like(mask), G_out)
    for a, b in zip(plain[1], ones[1], strict=True):
        assert_allclose(a, b, rtol=1e-14, atol=1e-15)
    assert_allclose(plain[2], ones[2], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("cell", list(CELLS))
def test_threads_do_not_change_results(cell):
    X, lengths, weights, mask, gamma = _problem(cell, B=40, seed=7)
    G_out = np.random.default_rng(8).normal(size=X.shape[:2] + (4,))
    one = _loss_and_grads(cell, X, lengths, weights, mask, G_out, gamma, n_threads=1)
    two = _loss_and_grads(cell, X, lengths, weights, mask, G_out, gamma, n_threads=2)
    for a, b in zip(one[1], two[1], strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(one[2], two[2], equal_nan=True)
    assert np.array_equal(one[3], two[3])


def _arguments(cell):
    X, lengths, weights, mask, _ = _problem(cell)
    ch = make_chunking(lengths, 4)
    Xc = to_chunks(X, ch)
    C, T, S, F = Xc.shape
    G, K = CELLS[cell][1:3]
    H = 4
    D = 2 * G if cell == "gru" else G
    shape = (C, T, S, H)
    common = [Xc, ch.lengths]
    options = {"recurrent_mask": rows_to_chunks(mask, ch), "masked": np.zeros(shape)}
    return {
        "forward": (
            common + weights + [np.zeros(shape), np.zeros((C, T, S, K * H)), TANH, 1],
            options,
        ),
        "backward": (
            common
            + weights[:2]
            + [np.zeros(shape), np.zeros((C, T, S, K * H)), np.zeros(shape)]
            + [np.zeros((C, T, S, F)), np.zeros((C, G * H, F))]
            + [np.zeros((C, G * H, H)), np.zeros((C, G * H)), np.zeros((C, G * H))]
            + [np.zeros((C, T, S, D * H)), np.zeros((C, T)), TANH, 0, 1],
            options,
        ),
    }


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("entry", ["forward", "backward"])
def test_entry_points_check_the_mask_arrays(cell, entry):
    """A mask or masked-state array of the wrong shape, or a missing
    ``masked``, raises a ValueError naming it."""
    kernel = CELLS[cell][0]
    args, kw = _arguments(cell)[entry]
    getattr(kernel, entry)(*args, **kw)
    for name, good in kw.items():
        for shape in [good.shape[:-1] + (good.shape[-1] + 1,), good.shape[1:]]:
            bad = dict(kw, **{name: np.zeros(shape)})
            with pytest.raises(ValueError, match=name):
                getattr(kernel, entry)(*args, **bad)
    with pytest.raises(ValueError, match="recurrent_mask needs masked"):
        getattr(kernel, entry)(*args, recurrent_mask=kw["recurrent_mask"])


# ---------------------------------------------------------------- estimators
PREFIX = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}


def _model(cell, layers, return_sequences, n_features, **params):
    """An initialised regressor (no training), float64."""
    params.setdefault("pooling", "last")
    est = getattr(skrnn, PREFIX[cell] + "Regressor")(
        hidden_layer_sizes=layers,
        alpha=0.3,
        return_sequences=return_sequences,
        **params,
    )
    est._initialize(
        n_features, 2, np.float64, np.random.RandomState(1), logistic_output=False
    )
    return est


def _regression_problem(seed, return_sequences, n=CHUNK_SIZE + 5, max_steps=6):
    rng = np.random.default_rng(seed)
    X, lengths = ragged_problem(rng, n=n, max_steps=max_steps, n_features=2)
    T = X.shape[1] if return_sequences else 1
    Y = rng.normal(size=(n, T, 2))
    if return_sequences:
        Y[np.arange(T)[None, :] >= lengths[:, None]] = np.nan
    return X, lengths, Y, rng.uniform(0.5, 2.0, size=n), rng


def _fixed_masks(est, n, rng, p=0.4):
    """Fixed input and recurrent masks, every one with zeros in it."""
    masks, recurrent = est._draw_masks(n, rng)
    assert all((m == 0).any() for m in (masks or []) + recurrent)
    return masks, recurrent


# (cell, layers, return_sequences, params)
ESTIMATOR_CASES = [
    ("rnn", (3, 2), False, {}),
    ("gru", (3, 2), True, {}),
    ("lstm", (3, 2), False, {"pooling": "mean"}),
    ("gru", (3,), False, {"bidirectional": True, "pooling": "max"}),
    ("lstm", (3, 2), True, {"bidirectional": True, "dropout": 0.4}),
    ("rnn", (3, 2), False, {"bidirectional": True, "leak_rate": 0.6, "skip_steps": 2}),
    ("rnn", (3,), True, {"leak_rate": 0.5, "dropout": 0.3}),
]


@pytest.mark.parametrize("cell, layers, return_sequences, params", ESTIMATOR_CASES)
def test_gradients_with_fixed_masks_match_finite_differences(
    cell, layers, return_sequences, params
):
    X, lengths, Y, sw, rng = _regression_problem(0, return_sequences)
    est = _model(cell, layers, return_sequences, 2, recurrent_dropout=0.4, **params)
    masks, recurrent = _fixed_masks(est, X.shape[0], rng)
    assert len(recurrent) == len(layers) * (2 if est._bidirectional() else 1)

    def loss_grad(n_threads):
        return est._loss_grad(
            X, lengths, Y, sw, n_threads, loss=_loss.squared_error, masks=masks,
            recurrent_masks=recurrent,
        )  # fmt: skip

    _, grads = loss_grad(2)
    eps = 1e-6
    for p, g in zip(est._params(), grads, strict=True):
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
        assert err < 1e-6, (p.shape, err)


def _reference_outputs(est, X, lengths, masks, recurrent):
    """The read-out per sequence and step, written out with the references'
    masked cells (stacked, bidirectional)."""
    cell = {"RNN": "rnn", "GRU": "gru", "LSTM": "lstm"}[type(est).__name__[:-9]]
    step, init = CELLS[cell][3:]
    D = 2 if est._bidirectional() else 1
    out = []
    for i, n in enumerate(lengths):
        h = X[i, :n]
        for k, layer in enumerate(est.coefs_):
            if masks is not None:
                h = h * masks[k][i]
            halves = []
            for d, suffix in enumerate(("", "_reverse")[:D]):
                weights = [layer[name + suffix] for name in _network.LAYER_PARAMETERS]
                state, states = init(weights[1].shape[1]), []
                for t in range(n)[:: -1 if suffix else 1]:
                    state = step(
                        h[t], state, *weights, recurrent_mask=recurrent[k * D + d][i]
                    )
                    states.append(state[0])
                states = np.array(states)
                halves.append(states[::-1] if suffix else states)
            h = np.concatenate(halves, axis=1)
        out.append(h @ est.output_coef_.T + est.output_intercept_)
    return out


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_network_with_masks_matches_the_reference(cell, dtype):
    X, lengths, _, _, rng = _regression_problem(1, True)
    est = _model(cell, (3, 2), True, 2, recurrent_dropout=0.4, bidirectional=True)
    masks, recurrent = _fixed_masks(est, X.shape[0], rng)
    expected = _reference_outputs(est, X, lengths, masks, recurrent)
    for layer in est.coefs_:
        for name in layer:
            layer[name] = layer[name].astype(dtype)
    est.output_coef_ = est.output_coef_.astype(dtype)
    est.output_intercept_ = est.output_intercept_.astype(dtype)
    trace = _network.forward(
        est._network(), X.astype(dtype), lengths, 2, recurrent_masks=recurrent
    )
    Z = from_chunks(trace.Z, trace.chunking, X.shape[0])
    tol = 1e-5 if dtype == np.float32 else 1e-10
    for i, n in enumerate(lengths):
        assert_allclose(Z[i, :n], expected[i], rtol=tol, atol=tol)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("params", [{}, {"bidirectional": True, "dropout": 0.3}])
def test_step_shares_sum_to_the_gradient_with_masks(cell, params):
    """The simplex solver's per-step shares read the masked states the
    recurrent product read: they sum to the full gradient."""
    X, lengths, Y, sw, rng = _regression_problem(2, False)
    est = _model(cell, (3, 2), False, 2, recurrent_dropout=0.4, **params)
    est.set_params(alpha=0.0)  # the L2 term is no step's
    masks, recurrent = _fixed_masks(est, X.shape[0], rng)
    shares = []
    _, grads = est._loss_grad(
        X, lengths, Y, sw, 2, loss=_loss.squared_error, step_grads=shares,
        masks=masks, recurrent_masks=recurrent,
    )  # fmt: skip
    assert len(shares) == 4 * len(est.coefs_) * (2 if est._bidirectional() else 1)
    for share, grad in zip(shares, grads, strict=False):
        assert_allclose(share.sum(axis=0), grad, rtol=1e-10, atol=1e-13)


def test_simplex_fit_with_recurrent_dropout_is_reproducible():
    X, lengths, _, _, rng = _regression_problem(3, False, n=40)
    y = np.nan_to_num(X[:, 0, 0])
    kw = dict(solver="simplex", recurrent_dropout=0.3, max_iter=3, random_state=0)
    a = skrnn.GRURegressor(4, **kw).fit(X, y)
    b = skrnn.GRURegressor(4, **kw).fit(X, y)
    assert a.loss_curve_ == b.loss_curve_


def test_no_recurrent_dropout_draws_nothing():
    """recurrent_dropout=0 leaves the random stream as dropout alone leaves it,
    so fits without it are those of before."""
    X, lengths, _, _, _ = _regression_problem(4, False)
    est = _model("lstm", (3, 2), False, 2, dropout=0.3, bidirectional=True)
    one, two = np.random.RandomState(5), np.random.RandomState(5)
    masks, recurrent = est._draw_masks(X.shape[0], one)
    assert recurrent is None
    alone = est._dropout_masks(X.shape[0], np.dtype(np.float64), two)
    for a, b in zip(masks, alone, strict=True):
        assert np.array_equal(a, b)
    assert one.uniform() == two.uniform()


def test_recurrent_masks_are_per_sequence_layer_and_direction_and_scaled():
    est = _model("gru", (6, 4), False, 3, recurrent_dropout=0.25, bidirectional=True)
    _, recurrent = est._draw_masks(500, np.random.RandomState(1))
    assert [m.shape for m in recurrent] == [(500, 6)] * 2 + [(500, 4)] * 2
    for m in recurrent:
        assert m.dtype == np.float64
        assert set(np.unique(m)) <= {0.0, np.float64(1 / 0.75)}
        assert abs((m == 0).mean() - 0.25) < 0.05
    assert not np.array_equal(recurrent[0], recurrent[1])


def _ragged_fit_data(seed=0, n=48):
    rng = np.random.default_rng(seed)
    X, lengths = ragged_problem(rng, n=n, max_steps=8, n_features=2)
    y = np.nan_to_num(X[:, 0, 0]) + 0.1 * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize(
    "Est, params",
    [
        (skrnn.LSTMRegressor, {}),
        (skrnn.GRURegressor, {"bidirectional": True, "dropout": 0.2}),
        (skrnn.RNNRegressor, {"leak_rate": 0.7, "skip_steps": 2, "bptt_steps": 3}),
        (skrnn.LSTMClassifier, {"hidden_layer_sizes": (4, 3)}),
        (skrnn.GRUDRegressor, {}),
    ],
)
def test_fits_are_identical_for_any_n_jobs(Est, params):
    X, y = _ragged_fit_data()
    if Est is skrnn.LSTMClassifier:
        y = (y > 0).astype(int)
    kw = dict(hidden_layer_sizes=5, max_iter=3, random_state=0, batch_size=10)
    kw.update(params, recurrent_dropout=0.3)
    one = Est(n_jobs=1, **kw).fit(X, y)
    two = Est(n_jobs=2, **kw).fit(X, y)
    assert one.loss_curve_ == two.loss_curve_
    for a, b in zip(one._params(), two._params(), strict=True):
        assert np.array_equal(a, b)


def test_recurrent_dropout_changes_training_not_its_reproducibility():
    X, y = _ragged_fit_data(1)
    kw = dict(hidden_layer_sizes=5, max_iter=3, random_state=0, batch_size=10)
    plain = skrnn.LSTMRegressor(**kw).fit(X, y)
    off = skrnn.LSTMRegressor(recurrent_dropout=0.0, **kw).fit(X, y)
    assert plain.loss_curve_ == off.loss_curve_
    a = skrnn.LSTMRegressor(recurrent_dropout=0.5, **kw).fit(X, y)
    b = skrnn.LSTMRegressor(recurrent_dropout=0.5, **kw).fit(X, y)
    assert a.loss_curve_ == b.loss_curve_
    assert a.loss_curve_ != plain.loss_curve_


@pytest.mark.parametrize("Est", [skrnn.GRURegressor, skrnn.GRUDRegressor])
def test_predict_uses_no_dropout(Est):
    X, y = _ragged_fit_data(2)
    est = Est(5, max_iter=2, random_state=0, recurrent_dropout=0.5, dropout=0.3)
    est.fit(X, y)
    first, second = est.predict(X), est.predict(X)
    assert np.array_equal(first, second)
    # the training pass without masks (the model as it predicts)
    Xv, lengths = est._validate_for_predict(X)
    if Est is not skrnn.GRUDRegressor:  # GRU-D builds its inputs itself
        Xv = est._training_inputs(Xv, lengths)
    Z = est._entry_outputs(Xv, lengths, np.zeros((len(y), 1, 1)), np.ones(len(y)))[0]
    assert_allclose(first, Z[:, 0], rtol=1e-12, atol=1e-12)


def test_temporal_gradient_norms_use_no_dropout():
    X, y = _ragged_fit_data(3)
    est = skrnn.LSTMRegressor(4, max_iter=2, random_state=0, recurrent_dropout=0.5)
    est.fit(X, y)
    norms = temporal_gradient_norms(est, X, y, of="weights")
    off = est.set_params(recurrent_dropout=0.0)
    assert np.array_equal(norms, temporal_gradient_norms(off, X, y, of="weights"))


@pytest.mark.parametrize("value", [1.0, -0.1, 1.5])
@pytest.mark.parametrize("Est", [skrnn.RNNClassifier, skrnn.LSTMRegressor])
def test_bad_recurrent_dropout_raises(Est, value):
    X, y = _ragged_fit_data(4, n=12)
    if Est is skrnn.RNNClassifier:
        y = (y > 0).astype(int)
    with pytest.raises(ValueError, match="recurrent_dropout"):
        Est(recurrent_dropout=value, max_iter=1).fit(X, y)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_to_torch_predicts_as_predict(bidirectional):
    torch = pytest.importorskip("torch")
    X, y = _ragged_fit_data(5)
    lengths = np.sum(~np.isnan(X).all(axis=2), axis=1)
    est = skrnn.LSTMRegressor(
        (5, 3), max_iter=2, random_state=0, recurrent_dropout=0.3,
        bidirectional=bidirectional,
    ).fit(X, y)  # fmt: skip
    with torch.no_grad():
        out = est.to_torch()(
            torch.from_numpy(np.nan_to_num(X)), torch.from_numpy(lengths)
        ).numpy()
    assert_allclose(out[:, 0], est.predict(X), rtol=1e-8, atol=1e-12)


def test_memory_estimate_counts_the_masked_states():
    from skrnn import _memory
    from skrnn._recurrent import LSTMRegressor

    args = (LSTMRegressor._cell, [8, 4], 3, 64, 20, 1, 8)
    plain = _memory.gradient_fit_bytes(*args, step_shares=False)
    masked = _memory.gradient_fit_bytes(*args, step_shares=False, masked=True)
    assert masked - plain == _memory._rows(64) * 20 * (8 + 4) * 8
