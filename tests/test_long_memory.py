"""Leaky units and skip connections through time, in the kernels and estimators.

The kernels (every cell, since the time loop is shared) against the NumPy
reference and finite differences; truncated BPTT against PyTorch autograd
with the cut paths detached; the inference path and thread counts bit for
bit; then the estimators' parameters, ``to_torch``, persistence and memory
estimate.
"""

import warnings

import numpy as np
import pytest
import reference as ref
from helpers import (
    KERNEL_CELLS as CELLS,
)
from helpers import (
    assert_weight_gradients,
    layer_problem,
    ragged_problem,
    step_differences,
)
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

import skrnn
from skrnn import _memory, _network
from skrnn._kernels import elman as _elman
from skrnn._layout import CHUNK_SIZE, from_chunks, make_chunking, to_chunks
from skrnn._network import ACTIVATIONS

# (leak_rate, skip_steps): leaky only, skip only, both, a skip longer than
# some sequences
OPTIONS = [(0.3, 0), (1.0, 2), (0.6, 3), (0.8, 6)]


def _problem(cell, seed=0, B=11, T=7, F=3, H=4, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X, lengths, weights = layer_problem(CELLS[cell][1], rng, B, T, F, H, skip=True)
    return X.astype(dtype), lengths, [w.astype(dtype) for w in weights]


def _options(leak, skip, W_skip):
    kw = {"leak_rate": leak}
    if skip:
        kw.update(skip_steps=skip, W_skip=W_skip)
    return kw


def _forward(cell, X, lengths, weights, leak, skip, activation="tanh", n_threads=2):
    kernel, _, cache_width, _, _ = CELLS[cell]
    H = weights[1].shape[1]
    ch = make_chunking(lengths, 4)
    Xc = to_chunks(X, ch)
    shape = Xc.shape[:3]
    Hs = np.empty(shape + (H,), dtype=X.dtype)
    cache = np.empty(shape + (cache_width * H,), dtype=X.dtype)
    out = np.full(shape + (H,), np.nan, dtype=X.dtype)
    kw = _options(leak, skip, weights[4])
    if leak < 1:
        kw["cell_out"] = out
    kernel.forward(
        Xc,
        ch.lengths,
        *weights[:4],
        Hs,
        cache,
        ACTIVATIONS[activation],
        n_threads,
        **kw,
    )
    return ch, Xc, Hs, cache, out


def _loss_and_grads(
    cell, X, lengths, weights, G_out, leak, skip, bptt_steps=0, n_threads=2
):
    """Loss sum(G_out * H) over real steps, the kernel's gradients and dX."""
    kernel = CELLS[cell][0]
    ch, Xc, Hs, cache, out = _forward(
        cell, X, lengths, weights, leak, skip, n_threads=n_threads
    )
    Gc = to_chunks(G_out, ch)
    loss = float(np.sum(Gc * Hs))
    C, T, S, F = Xc.shape
    GH, H = weights[1].shape
    dX = np.empty_like(Xc)
    grads = [np.empty((C, GH, F)), np.empty((C, GH, H))]
    grads += [np.empty((C, GH)), np.empty((C, GH)), np.full((C, GH, H), np.nan)]
    sq = np.empty((C, T))
    dA = np.full((C, T, S, GH * (2 if cell == "gru" else 1)), np.nan)
    kw = _options(leak, skip, weights[4])
    if leak < 1:
        kw["cell_out"] = out
    if skip:
        kw["dW_skip"] = grads[4]
    kernel.backward(
        Xc, ch.lengths, *weights[:2], Hs, cache, Gc, dX, *grads[:4], dA, sq,
        ACTIVATIONS["tanh"], bptt_steps, n_threads, **kw,
    )  # fmt: skip
    grads = [g.sum(0) for g in grads[: 5 if skip else 4]]
    return loss, grads, from_chunks(dX, ch, X.shape[0]), sq


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("leak, skip", OPTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(cell, leak, skip, dtype):
    X, lengths, weights = _problem(cell, dtype=dtype)
    _, _, _, step, init = CELLS[cell]
    ch, _, Hs, _, out = _forward(cell, X, lengths, weights, leak, skip)
    got = from_chunks(Hs, ch, X.shape[0])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    w64 = [w.astype(np.float64) for w in weights]
    for i, n in enumerate(lengths):
        expected = ref.run_layer_long(
            step, init, X[i].astype(np.float64), n, w64[:4], leak_rate=leak,
            skip_steps=skip, W_skip=w64[4], activation="tanh",
        )  # fmt: skip
        assert_allclose(got[i, :n], expected, rtol=tol, atol=tol)
        assert np.all(np.isnan(got[i, n:]))
    if leak < 1:
        assert np.all(out[~ch.mask] == 0)
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("leak, skip", OPTIONS)
def test_backward_matches_finite_differences(cell, leak, skip):
    X, lengths, weights = _problem(cell, seed=1)
    G_out = np.random.default_rng(2).normal(size=X.shape[:2] + (4,))
    _, grads, dX, _ = _loss_and_grads(cell, X, lengths, weights, G_out, leak, skip)
    eps = 1e-6

    def f(ws, X_=X):
        return _loss_and_grads(cell, X_, lengths, ws, G_out, leak, skip)[0]

    assert_weight_gradients(f, weights, grads, 5 if skip else 4)
    num = step_differences(lambda X_: f(weights, X_), X, lengths, eps)
    real = ~np.isnan(X)
    assert np.all(np.isnan(dX) == ~real)
    err = np.linalg.norm(num[real] - dX[real]) / np.linalg.norm(num[real])
    assert err < 1e-6, err


def _torch_truncated(torch, X, lengths, weights, G_out, leak, skip, bptt):
    """Elman layer in PyTorch, the paths that truncated BPTT cuts detached:
    h_{t-1} at a window start t, h_{t-k} from an earlier window."""
    W_ih, W_hh, b_ih, b_hh, W_skip = (
        torch.tensor(w, requires_grad=True) for w in weights
    )
    x = torch.tensor(np.nan_to_num(X))
    B, T, _ = X.shape
    hs = []
    loss = 0
    for t in range(T):
        h_prev = hs[-1] if t > 0 else torch.zeros(B, W_hh.shape[1], dtype=x.dtype)
        if t % bptt == 0:
            h_prev = h_prev.detach()
        a = x[:, t] @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
        if skip and t >= skip:
            h_skip = hs[t - skip]
            if (t - skip) // bptt != t // bptt:
                h_skip = h_skip.detach()
            a = a + h_skip @ W_skip.T
        h = (1 - leak) * h_prev + leak * torch.tanh(a)
        # finished sequences keep nothing: their later steps do not count
        hs.append(h)
        real = torch.tensor(t < lengths, dtype=x.dtype)[:, None]
        loss = loss + (torch.tensor(G_out[:, t]) * h * real).sum()
    loss.backward()
    grads = [W_ih.grad, W_hh.grad, b_ih.grad, b_hh.grad, W_skip.grad]
    return [g.numpy() for g in grads[: 5 if skip else 4]]


@pytest.mark.parametrize("leak, skip", [(0.4, 0), (1.0, 2), (0.6, 3), (0.7, 1)])
@pytest.mark.parametrize("bptt", [2, 3])
def test_truncated_bptt_matches_torch_with_detached_paths(leak, skip, bptt):
    torch = pytest.importorskip("torch")
    X, lengths, weights = _problem("rnn", seed=3)
    G_out = np.random.default_rng(4).normal(size=X.shape[:2] + (4,))
    _, grads, _, _ = _loss_and_grads(
        "rnn", X, lengths, weights, G_out, leak, skip, bptt_steps=bptt
    )
    expected = _torch_truncated(torch, X, lengths, weights, G_out, leak, skip, bptt)
    for g, e in zip(grads, expected, strict=True):
        assert_allclose(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("leak, skip", OPTIONS + [(0.5, 20)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_infer_computes_the_states_of_forward(cell, leak, skip, dtype):
    """Bit for bit, every state or each row's last one (skip connections in
    the ring of states: over several blocks of steps)."""
    X, lengths, weights = _problem(cell, seed=8, B=13, T=37, dtype=dtype)
    kernel = CELLS[cell][0]
    ch, Xc, Hs, _, _ = _forward(cell, X, lengths, weights, leak, skip)
    C, T, S, _ = Xc.shape
    kw = _options(leak, skip, weights[4])
    every = np.full_like(Hs, np.nan)
    kernel.infer(
        Xc, ch.lengths, *weights[:4], every, np.empty((0, 0, 0), dtype), 1, 2, **kw
    )
    assert np.array_equal(every, Hs)
    last = np.full((C, S, 4), np.nan, dtype=dtype)
    kernel.infer(
        Xc, ch.lengths, *weights[:4], np.empty((0,) * 4, dtype), last, 1, 1, **kw
    )
    c, s = np.nonzero(ch.lengths)
    assert np.array_equal(last[c, s], Hs[c, ch.lengths[c, s] - 1, s])


@pytest.mark.parametrize("cell", list(CELLS))
def test_threads_do_not_change_results(cell):
    X, lengths, weights = _problem(cell, B=40, seed=4)
    G_out = np.random.default_rng(5).normal(size=X.shape[:2] + (4,))
    one = _loss_and_grads(cell, X, lengths, weights, G_out, 0.6, 3, 4, n_threads=1)
    two = _loss_and_grads(cell, X, lengths, weights, G_out, 0.6, 3, 4, n_threads=2)
    for a, b in zip(one[1], two[1], strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(one[2], two[2], equal_nan=True)
    assert np.array_equal(one[3], two[3])


def test_leak_rate_one_and_no_skip_are_the_plain_cell():
    X, lengths, weights = _problem("rnn", seed=9)
    G_out = np.random.default_rng(6).normal(size=X.shape[:2] + (4,))
    plain = _loss_and_grads("rnn", X, lengths, weights, G_out, 1.0, 0, 3)
    ch = make_chunking(lengths, 4)
    Xc = to_chunks(X, ch)
    Hs = np.empty(Xc.shape[:3] + (4,))
    _elman.forward(Xc, ch.lengths, *weights[:4], Hs, np.empty(Xc.shape[:3] + (0,)),
                   1, 2)  # fmt: skip
    assert np.array_equal(to_chunks(X, ch), Xc)
    assert plain[0] == float(np.sum(to_chunks(G_out, ch) * Hs))


def test_kernel_arguments_are_checked():
    X, lengths, weights = _problem("rnn")
    ch = make_chunking(lengths, 4)
    Xc = to_chunks(X, ch)
    shape = Xc.shape[:3]
    Hs, cache = np.empty(shape + (4,)), np.empty(shape + (0,))
    args = (Xc, ch.lengths, *weights[:4], Hs, cache, 1, 1)
    with pytest.raises(ValueError, match=r"leak_rate must lie in \(0, 1\]"):
        _elman.forward(*args, leak_rate=0.0, cell_out=np.empty_like(Hs))
    with pytest.raises(ValueError, match="needs cell_out"):
        _elman.forward(*args, leak_rate=0.5)
    with pytest.raises(ValueError, match="cell_out has shape"):
        _elman.forward(*args, leak_rate=0.5, cell_out=np.empty(shape + (3,)))
    with pytest.raises(ValueError, match="needs W_skip"):
        _elman.forward(*args, skip_steps=2)
    with pytest.raises(ValueError, match="W_skip has shape"):
        _elman.forward(*args, skip_steps=2, W_skip=np.empty((4, 3)))
    with pytest.raises(ValueError, match="skip_steps must be"):
        _elman.forward(*args, skip_steps=-1)


# ------------------------------------------------------------- estimators
def _estimator(cls="RNNRegressor", **kw):
    return getattr(skrnn, cls)(hidden_layer_sizes=(4, 3), alpha=0.3, **kw)


@pytest.mark.parametrize("leak, skip", OPTIONS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_estimator_gradient_matches_finite_differences(leak, skip, return_sequences):
    rng = np.random.default_rng(0)
    X, lengths = ragged_problem(rng, n=CHUNK_SIZE + 5, max_steps=7, n_features=2)
    est = _estimator(leak_rate=leak, skip_steps=skip or None)
    est.return_sequences = return_sequences
    est._initialize(2, 2, np.float64, np.random.RandomState(1), logistic_output=False)
    if skip:
        assert all(layer["weight_skip"].shape == (H, H)
                   for layer, H in zip(est.coefs_, (4, 3), strict=True))  # fmt: skip
    T = X.shape[1] if return_sequences else 1
    Y = rng.normal(size=(X.shape[0], T, 2))
    if return_sequences:
        Y[np.arange(T)[None, :] >= lengths[:, None]] = np.nan
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    loss_fn = est._task_spec().loss
    _, grads = est._loss_grad(X, lengths, Y, sw, 2, loss=loss_fn)
    assert len(grads) == len(est._params()) == 2 * (5 if skip else 4) + 2
    eps = 1e-6
    for p, g in zip(est._params(), grads, strict=True):
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = est._loss_grad(X, lengths, Y, sw, 1, loss=loss_fn)[0]
            p[idx] = old - eps
            down = est._loss_grad(X, lengths, Y, sw, 1, loss=loss_fn)[0]
            p[idx] = old
            num[idx] = (up - down) / (2 * eps)
        err = np.linalg.norm(num - g) / max(np.linalg.norm(num), 1e-12)
        assert err < 1e-6, (p.shape, err)


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _data(seed=3, n=40):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 9, 2))
    lengths = rng.integers(2, 10, size=n)
    lengths[0] = 9
    for i, k in enumerate(lengths):
        X[i, k:] = np.nan
    y = np.nansum(X[:, :, 0], axis=1)
    return X, y, lengths


@pytest.mark.parametrize("solver", ["adam", "simplex"])
def test_fits_are_identical_for_any_n_jobs(solver):
    X, y, _ = _data()
    kw = dict(leak_rate=0.5, skip_steps=3, solver=solver, max_iter=3, batch_size=16)
    one = _fit(_estimator(random_state=0, n_jobs=1, **kw), X, y)
    two = _fit(_estimator(random_state=0, n_jobs=2, **kw), X, y)
    for a, b in zip(one._params(), two._params(), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(one.predict(X), two.predict(X))


def test_default_is_the_plain_elman_network():
    X, y, _ = _data()
    plain = _fit(_estimator(random_state=0, max_iter=2), X, y)
    explicit = _fit(
        _estimator(random_state=0, max_iter=2, leak_rate=1.0, skip_steps=None), X, y
    )
    assert "weight_skip" not in plain.coefs_[0]
    for a, b in zip(plain._params(), explicit._params(), strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("cls", ["RNNRegressor", "RNNClassifier"])
@pytest.mark.parametrize(
    "params, match",
    [
        ({"leak_rate": 0.0}, "leak_rate"),
        ({"leak_rate": 1.5}, "leak_rate"),
        ({"skip_steps": 0}, "skip_steps"),
        ({"skip_steps": 1.5}, "skip_steps"),
    ],
)
def test_bad_parameters_are_refused(cls, params, match):
    X, y, _ = _data()
    if cls == "RNNClassifier":
        y = y > 0
    with pytest.raises(ValueError, match=match):
        getattr(skrnn, cls)(**params).fit(X, y)


@pytest.mark.parametrize("leak, skip", [(0.5, None), (1.0, 2), (0.7, 3)])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_to_torch_exports_leaky_and_skip_models(leak, skip, return_sequences):
    torch = pytest.importorskip("torch")
    X, y, lengths = _data(4)
    if return_sequences:
        y = np.nancumsum(X[:, :, 0], axis=1)
    est = _fit(
        _estimator(
            leak_rate=leak, skip_steps=skip, max_iter=3, random_state=0,
            return_sequences=return_sequences,
        ),
        X, y,
    )  # fmt: skip
    with torch.no_grad():
        out = est.to_torch()(
            torch.from_numpy(np.nan_to_num(X)), torch.from_numpy(lengths)
        ).numpy()[..., 0]
    pred = est.predict(X)
    real = ~np.isnan(pred)
    assert_allclose(out[real], pred[real], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("activation", ["logistic", "identity", "relu"])
def test_to_torch_exports_every_activation_of_leaky_models(activation):
    """torch.nn.RNN has no 'logistic' or 'identity', the custom module has."""
    torch = pytest.importorskip("torch")
    X, y, lengths = _data(5)
    est = _fit(
        _estimator(leak_rate=0.5, activation=activation, max_iter=1, random_state=0),
        X, y,
    )  # fmt: skip
    with torch.no_grad():
        out = est.to_torch()(
            torch.from_numpy(np.nan_to_num(X)), torch.from_numpy(lengths)
        ).numpy()[:, 0]
    assert_allclose(out, est.predict(X), rtol=1e-8, atol=1e-12)


def test_skops_round_trip_keeps_the_skip_weights(tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y, _ = _data()
    est = _fit(_estimator(leak_rate=0.6, skip_steps=2, max_iter=2, random_state=0),
               X, y)  # fmt: skip
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    assert sio.get_untrusted_types(file=path) == [
        "skrnn._recurrent.RNNRegressor"
    ] or not sio.get_untrusted_types(file=path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert loaded.leak_rate == 0.6 and loaded.skip_steps == 2
    assert np.array_equal(loaded.coefs_[1]["weight_skip"], est.coefs_[1]["weight_skip"])
    assert np.array_equal(loaded.predict(X), est.predict(X))


def test_memory_estimate_counts_the_leaky_cache_and_skip_gradients():
    cell = skrnn.RNNRegressor._cell
    args = (cell, [32, 16], 3, 200, 100, 1, 8)
    plain = _memory.gradient_fit_bytes(*args, step_shares=False)
    leaky = _memory.gradient_fit_bytes(*args, step_shares=False, leaky=True)
    skip = _memory.gradient_fit_bytes(*args, step_shares=True, skip=True)
    assert leaky - plain == _memory._rows(200) * 100 * (32 + 16) * 8
    assert skip > _memory.gradient_fit_bytes(*args, step_shares=True)


def test_inference_path_matches_training_forward_with_options():
    rng = np.random.default_rng(5)
    X, lengths = ragged_problem(rng, n=3 * CHUNK_SIZE + 5, max_steps=40, n_features=3)
    est = _estimator(leak_rate=0.4, skip_steps=5, return_sequences=True)
    est._initialize(3, 2, np.float64, np.random.RandomState(4), logistic_output=False)
    net = est._network()
    trace = _network.forward(net, X, lengths, n_threads=2)
    expected = from_chunks(trace.Z, trace.chunking, X.shape[0])
    assert np.array_equal(_network.infer(net, X, lengths, 2), expected, equal_nan=True)


def test_step_shares_sum_to_the_gradients_with_skip_connections():
    """The simplex direction's per-step shares include weight_skip's."""
    rng = np.random.default_rng(6)
    X, lengths = ragged_problem(rng, n=CHUNK_SIZE + 3, max_steps=9, n_features=2)
    est = _estimator(leak_rate=0.7, skip_steps=3)
    est.alpha = 0.0
    est._initialize(2, 2, np.float64, np.random.RandomState(2), logistic_output=False)
    Y = rng.normal(size=(X.shape[0], 1, 2))
    shares = []
    _, grads = est._loss_grad(
        X, lengths, Y, np.ones(X.shape[0]), 2, loss=est._task_spec().loss,
        step_grads=shares,
    )  # fmt: skip
    assert len(shares) == 2 * 5
    for share, g in zip(shares, grads, strict=False):
        assert_allclose(share.sum(axis=0), g, rtol=1e-10, atol=1e-13)
