"""Each cell kernel against its NumPy reference and against finite differences.

The kernels are called directly on the chunked layout (skrnn._layout) with a
small chunk size, so that several chunks, filler rows and sequences of
different lengths all occur.
"""

import numpy as np
import pytest
import reference as ref
from helpers import KERNEL_CELLS as CELLS
from helpers import assert_weight_gradients, layer_problem, step_differences
from numpy.testing import assert_allclose

from skrnn._layout import from_chunks, make_chunking, to_chunks
from skrnn._network import ACTIVATIONS

ACTIVATION_CODES = ACTIVATIONS  # the codes the compiled modules define


def _problem(cell, seed=0, B=11, T=7, F=3, H=4, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X, lengths, weights = layer_problem(CELLS[cell][1], rng, B, T, F, H)
    return X.astype(dtype), lengths, [w.astype(dtype) for w in weights]


def _forward(cell, X, lengths, weights, activation, chunk_size=4, n_threads=2):
    kernel, _, cache_width, _, _ = CELLS[cell]
    H = weights[1].shape[1]
    ch = make_chunking(lengths, chunk_size)
    Xc = to_chunks(X, ch)
    shape = Xc.shape[:3]
    Hs = np.empty(shape + (H,), dtype=X.dtype)
    cache = np.empty(shape + (cache_width * H,), dtype=X.dtype)
    kernel.forward(
        Xc, ch.lengths, *weights, Hs, cache, ACTIVATION_CODES[activation], n_threads
    )
    return ch, Xc, Hs, cache


def _kernel_loss_and_grads(
    cell,
    X,
    lengths,
    weights,
    G_out,
    activation,
    bptt_steps=0,
    n_threads=2,
    norms=True,
):
    """Loss sum(G_out * H) over real steps, and the kernel's gradients (with
    ``norms``, also each chunk's squared norms of dL/dh_t per step)."""
    kernel = CELLS[cell][0]
    ch, Xc, Hs, cache = _forward(
        cell, X, lengths, weights, activation, n_threads=n_threads
    )
    Gc = to_chunks(G_out, ch)
    loss = float(np.sum(Gc * Hs))
    C, T, S, F = Xc.shape
    GH, H = weights[1].shape
    dX = np.empty_like(Xc)
    dW_ih = np.empty((C, GH, F))
    dW_hh = np.empty((C, GH, H))
    db_ih = np.empty((C, GH))
    db_hh = np.empty((C, GH))
    sq = np.empty((C, T if norms else 0))
    dA = np.full((C, T, S, GH * (2 if cell == "gru" else 1)), np.nan)
    kernel.backward(
        Xc,
        ch.lengths,
        *weights[:2],
        Hs,
        cache,
        Gc,
        dX,
        dW_ih,
        dW_hh,
        db_ih,
        db_hh,
        dA,
        sq,
        ACTIVATION_CODES[activation],
        bptt_steps,
        n_threads,
    )
    grads = [dW_ih.sum(0), dW_hh.sum(0), db_ih.sum(0), db_hh.sum(0)]
    return loss, grads, from_chunks(dX, ch, X.shape[0]), (ch, Xc, Hs, dA, sq)


# The gated cells have fixed activations: one run each is enough.
CELL_ACTIVATIONS = [
    (cell, act)
    for cell in CELLS
    for act in (ACTIVATION_CODES if cell == "rnn" else ["tanh"])
]


@pytest.mark.parametrize("cell, activation", CELL_ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(cell, activation, dtype):
    X, lengths, weights = _problem(cell, dtype=dtype)
    _, _, _, step, init = CELLS[cell]
    ch, _, Hs, _ = _forward(cell, X, lengths, weights, activation)
    got = from_chunks(Hs, ch, X.shape[0])
    assert got.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for i, n in enumerate(lengths):
        expected = ref.run_layer(
            step,
            init,
            X[i].astype(np.float64),
            n,
            [w.astype(np.float64) for w in weights],
            activation=activation,
        )
        assert_allclose(got[i, :n], expected, rtol=tol, atol=tol)
        assert np.all(np.isnan(got[i, n:]))


def _fd_check(cell, activation, bptt_steps=0):
    X, lengths, weights = _problem(cell, seed=1)
    if activation == "relu":
        # keep pre-activations away from the kink so differences are smooth
        weights = [w * 0.5 for w in weights]
    rng = np.random.default_rng(2)
    G_out = rng.normal(size=X.shape[:2] + (weights[1].shape[1],))
    loss, grads, dX, _ = _kernel_loss_and_grads(
        cell, X, lengths, weights, G_out, activation, bptt_steps
    )
    eps = 1e-6

    def f(ws, X_=X):
        return _kernel_loss_and_grads(cell, X_, lengths, ws, G_out, activation)[0]

    assert_weight_gradients(f, weights, grads)
    num = step_differences(lambda X_: f(weights, X_), X, lengths, eps)
    real = ~np.isnan(X)
    assert np.all(np.isnan(dX) == ~real)
    err = np.linalg.norm(num[real] - dX[real]) / np.linalg.norm(num[real])
    assert err < 1e-6, err


@pytest.mark.parametrize("cell, activation", CELL_ACTIVATIONS)
def test_backward_matches_finite_differences(cell, activation):
    _fd_check(cell, activation)


@pytest.mark.parametrize("cell", list(CELLS))
def test_backward_without_step_norms_gives_the_same_gradients(cell):
    """step_sq_norms with no columns: the per-step norms are not computed
    (a serial pass per step) and every gradient is bit-identical; with them,
    each chunk's norms are the sums of squares of dL/dh_t."""
    X, lengths, weights = _problem(cell, seed=4)
    G_out = np.random.default_rng(3).normal(size=X.shape[:2] + (weights[1].shape[1],))
    with_norms = _kernel_loss_and_grads(cell, X, lengths, weights, G_out, "tanh")
    without = _kernel_loss_and_grads(
        cell, X, lengths, weights, G_out, "tanh", norms=False
    )
    for g, h in zip(with_norms[1], without[1], strict=True):
        np.testing.assert_array_equal(g, h)
    np.testing.assert_array_equal(with_norms[2], without[2])
    assert without[3][4].shape[1] == 0
    sq = with_norms[3][4]
    assert sq.shape[1] == X.shape[1] and np.all(sq >= 0) and np.any(sq > 0)


@pytest.mark.parametrize("cell", list(CELLS))
def test_truncated_bptt_cuts_the_gradient_path(cell):
    """With a window of k steps, the gradient of step t's output reaches only
    the inputs of steps in t's own window."""
    X, lengths, weights = _problem(cell, seed=3)
    G_out = np.zeros(X.shape[:2] + (weights[1].shape[1],))
    G_out[0, 5] = 1.0  # sequence 0 has the full length 7
    _, _, dX, _ = _kernel_loss_and_grads(
        cell, X, lengths, weights, G_out, "tanh", bptt_steps=3
    )
    assert np.all(dX[0, :3] == 0)
    assert np.all(np.abs(dX[0, 3:6]).sum(axis=1) > 0)
    _, _, dX_full, _ = _kernel_loss_and_grads(cell, X, lengths, weights, G_out, "tanh")
    assert np.all(np.abs(dX_full[0, :6]).sum(axis=1) > 0)


@pytest.mark.parametrize("cell", list(CELLS))
def test_threads_do_not_change_results(cell):
    X, lengths, weights = _problem(cell, B=40, seed=4)
    G_out = np.random.default_rng(5).normal(size=X.shape[:2] + (weights[1].shape[1],))
    one = _kernel_loss_and_grads(cell, X, lengths, weights, G_out, "tanh", n_threads=1)
    two = _kernel_loss_and_grads(cell, X, lengths, weights, G_out, "tanh", n_threads=2)
    for a, b in zip(one[1], two[1], strict=False):
        assert np.array_equal(a, b)
    assert np.array_equal(one[2], two[2], equal_nan=True)


@pytest.mark.parametrize("H", [4, 72])
@pytest.mark.parametrize("cell", list(CELLS))
def test_step_contributions_sum_to_the_weight_gradients(cell, H):
    """dA, written at every entry, gives each step's share of the gradients;
    their sums are the weight gradients, from the small product (H = 4) and
    from BLAS (H = 72)."""
    X, lengths, weights = _problem(cell, seed=6, H=H)
    G_out = np.random.default_rng(7).normal(size=X.shape[:2] + (weights[1].shape[1],))
    _, grads, _, (ch, Xc, Hs, dA, _) = _kernel_loss_and_grads(
        cell, X, lengths, weights, G_out, "tanh"
    )
    assert np.all(np.isfinite(dA))
    assert np.all(dA[~ch.mask] == 0)
    GH = weights[0].shape[0]
    dA_ih, dA_hh = dA[..., :GH], dA[..., -GH:]
    H_prev = np.concatenate([np.zeros_like(Hs[:, :1]), Hs[:, :-1]], axis=1)
    per_step = [
        np.einsum("ctsg,ctsf->tgf", dA_ih, Xc),
        np.einsum("ctsg,ctsh->tgh", dA_hh, H_prev),
        dA_ih.sum(axis=(0, 2)),
        dA_hh.sum(axis=(0, 2)),
    ]
    for steps, total in zip(per_step, grads, strict=True):
        assert_allclose(steps.sum(axis=0), total, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell, activation", CELL_ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_infer_computes_the_states_of_forward(cell, activation, dtype):
    """The inference path (no cache) gives forward's states, bit for bit: every
    state, or each row's last real state; over several blocks of steps."""
    X, lengths, weights = _problem(cell, seed=8, B=13, T=37, dtype=dtype)
    kernel = CELLS[cell][0]
    code = ACTIVATION_CODES[activation]
    ch, Xc, Hs, _ = _forward(cell, X, lengths, weights, activation)
    C, T, S, _ = Xc.shape
    H = Hs.shape[-1]
    every = np.full_like(Hs, np.nan)
    kernel.infer(Xc, ch.lengths, *weights, every, np.empty((0, 0, 0), dtype), code, 2)
    assert np.array_equal(every, Hs)
    last = np.full((C, S, H), np.nan, dtype=dtype)
    kernel.infer(Xc, ch.lengths, *weights, np.empty((0, 0, 0, 0), dtype), last, code, 1)
    c, s = np.nonzero(ch.lengths)
    assert np.array_equal(last[c, s], Hs[c, ch.lengths[c, s] - 1, s])
    assert np.all(last[ch.lengths == 0] == 0)


@pytest.mark.parametrize("cell", list(CELLS))
def test_infer_agrees_with_forward_where_the_product_depends_on_rows(cell):
    """At H = 256 a training chunk's per-step products (32 rows) and an
    inference chunk's (64 rows) may go different ways (src/_small_gemm.h):
    the states agree to rounding."""
    X, lengths, weights = _problem(cell, seed=3, B=70, T=6, F=8, H=256)
    X, weights = X.astype(np.float32), [w.astype(np.float32) for w in weights]
    kernel = CELLS[cell][0]
    code = ACTIVATION_CODES["tanh"]
    _, _, Hs, _ = _forward(cell, X, lengths, weights, "tanh", chunk_size=32)
    states = from_chunks(Hs, make_chunking(lengths, 32), 70)
    ch = make_chunking(lengths, 64)
    every = np.empty(to_chunks(X, ch).shape[:3] + (256,), np.float32)
    empty_last = np.empty((0, 0, 0), np.float32)
    kernel.infer(to_chunks(X, ch), ch.lengths, *weights, every, empty_last, code, 2)
    # float32 sums of 264 products of magnitude up to about 1
    assert_allclose(from_chunks(every, ch, 70), states, rtol=1e-4, atol=1e-4)


def _entry_arguments(cell, dtype=np.float64):
    """Valid arguments of forward, infer and backward, by name."""
    X, lengths, weights = _problem(cell, dtype=dtype)
    _, G, K, _, _ = CELLS[cell]
    ch = make_chunking(lengths, 4)
    Xc = to_chunks(X, ch)
    C, T, S, F = Xc.shape
    H = weights[1].shape[1]
    D = 2 * G if cell == "gru" else G
    arrays = dict(
        X=Xc,
        lengths=ch.lengths,
        W_ih=weights[0],
        W_hh=weights[1],
        b_ih=weights[2],
        b_hh=weights[3],
        Hs=np.zeros((C, T, S, H), dtype),
        cache=np.zeros((C, T, S, K * H), dtype),
        last=np.zeros((C, S, H), dtype),
        dHs=np.zeros((C, T, S, H), dtype),
        dX=np.zeros((C, T, S, F), dtype),
        dW_ih=np.zeros((C, G * H, F), dtype),
        dW_hh=np.zeros((C, G * H, H), dtype),
        db_ih=np.zeros((C, G * H), dtype),
        db_hh=np.zeros((C, G * H), dtype),
        dA=np.zeros((C, T, S, D * H), dtype),
        step_sq_norms=np.zeros((C, T), dtype),
    )
    return arrays


ENTRY_POINTS = {
    "forward": ["X", "lengths", "W_ih", "W_hh", "b_ih", "b_hh", "Hs", "cache"],
    "infer": ["X", "lengths", "W_ih", "W_hh", "b_ih", "b_hh", "Hs", "last"],
    "backward": [
        "X",
        "lengths",
        "W_ih",
        "W_hh",
        "Hs",
        "cache",
        "dHs",
        "dX",
        "dW_ih",
        "dW_hh",
        "db_ih",
        "db_hh",
        "dA",
        "step_sq_norms",
    ],
}


def _call(kernel, entry, arrays):
    args = [arrays[name] for name in ENTRY_POINTS[entry]]
    extra = (1, 0, 2) if entry == "backward" else (1, 2)
    getattr(kernel, entry)(*args, *extra)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_entry_points_check_every_shape(cell, entry):
    """A direct call with any array of the wrong shape raises a ValueError
    naming that array, before anything is written."""
    kernel = CELLS[cell][0]
    _call(kernel, entry, _entry_arguments(cell))
    # X and W_hh set the sizes; every other array is checked against them
    for name in ENTRY_POINTS[entry][1:]:
        arrays = _entry_arguments(cell)
        good = arrays[name]
        arrays[name] = np.zeros(good.shape[:-1] + (good.shape[-1] + 1,), good.dtype)
        with pytest.raises(ValueError, match=name):
            _call(kernel, entry, arrays)
        if good.ndim > 1:
            arrays[name] = np.zeros((good.shape[0] + 1,) + good.shape[1:], good.dtype)
            with pytest.raises(ValueError, match=name):
                _call(kernel, entry, arrays)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_entry_points_reject_lengths_out_of_range(cell, entry):
    kernel = CELLS[cell][0]
    arrays = _entry_arguments(cell)
    T = arrays["X"].shape[1]
    arrays["lengths"] = arrays["lengths"].copy()
    arrays["lengths"][0, 0] = T + 1
    with pytest.raises(ValueError, match="lengths must lie in"):
        _call(kernel, entry, arrays)
    arrays["lengths"][0, 0] = -1
    with pytest.raises(ValueError, match="lengths must lie in"):
        _call(kernel, entry, arrays)
    arrays = _entry_arguments(cell)
    arrays["lengths"] = arrays["lengths"][:, ::-1].copy()
    with pytest.raises(ValueError, match="non-increasing"):
        _call(kernel, entry, arrays)


def _build(name, level):
    """The portable build of a cell kernel and its x86-64-v3 or v4 build,
    where this machine has both."""
    import importlib

    baseline = importlib.import_module(f"skrnn.{name}")
    if not getattr(baseline, f"cpu_has_x86_64_{level}")():
        pytest.skip(f"this CPU does not run the x86-64-{level} build")
    try:
        return baseline, importlib.import_module(f"skrnn.{name}_{level}")
    except ImportError:
        pytest.skip(f"built without the x86-64-{level} kernels")


@pytest.mark.parametrize("level", ["v3", "v4"])
@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("H", [16, 256])
def test_the_builds_agree_to_rounding(cell, dtype, level, H, monkeypatch):
    """The x86-64-v3 build (AVX2, fused multiply-adds) and the v4 build
    (AVX-512) compute what the portable build does, to rounding, forward and
    backward (at H = 256 the v4 build's products of few rows are its own,
    the portable build's BLAS's)."""
    name = {"rnn": "_elman", "gru": "_gru", "lstm": "_lstm"}[cell]
    builds = _build(name, level)
    T = 9 if H == 16 else 4
    X, lengths, weights = _problem(cell, B=37, T=T, F=5, H=H, dtype=dtype)
    G = np.random.default_rng(1).normal(size=(37, T, H)).astype(dtype)
    activation = "tanh" if cell == "rnn" else "identity"
    results = []
    for kernel in builds:
        monkeypatch.setitem(CELLS, cell, (kernel,) + CELLS[cell][1:])
        _, _, Hs, cache = _forward(cell, X, lengths, weights, activation)
        arrays = [Hs, cache]
        if dtype == np.float64:  # the backward helper is float64
            loss, grads, dX, _ = _kernel_loss_and_grads(
                cell, X, lengths, weights, G, activation
            )
            arrays += [np.asarray(loss), *grads, dX]
        results.append(arrays)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-10)
    if H == 256:  # sums of 261 products, some cancelling: rounding grows with them
        tol = dict(rtol=1e-4, atol=2e-5) if dtype == np.float32 else dict(atol=1e-12)
    for a, b in zip(*results, strict=True):
        assert_allclose(a, b, **tol)


def test_skrnn_kernels_picks_the_build(tmp_path):
    """SKRNN_KERNELS=baseline keeps the portable build, x86-64-v3 stops at
    AVX2; another value is an error that says which values there are."""
    import os
    import subprocess
    import sys

    def run(value):
        code = "import skrnn._kernels as k; print(k.VARIANT, k.lstm.__name__)"
        return subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "SKRNN_KERNELS": value},
            capture_output=True,
            text=True,
            cwd=tmp_path,  # import the installed skrnn, not the source tree
        )

    assert run("baseline").stdout.split() == ["baseline", "skrnn._lstm"]
    variant, module = run("x86-64-v3").stdout.split()
    assert variant in ("baseline", "x86-64-v3")
    assert module == {"baseline": "skrnn._lstm"}.get(variant, "skrnn._lstm_v3")
    out = run("fastest")
    assert out.returncode != 0
    assert (
        "SKRNN_KERNELS must be one of 'auto', 'baseline', 'x86-64-v3', "
        "got 'fastest'" in out.stderr
    )


def test_denormals_are_flushed_only_inside_the_backward_pass():
    """The backward pass flushes denormal floats to zero in its threads
    (src/_fastmath.h) and gives the caller's thread its mode back."""
    tiny = np.float32(1e-39)  # below float32's smallest normal, 1.2e-38
    assert tiny * np.float32(1) != 0
    X, lengths, weights = _problem("lstm", B=9, T=5, F=3, H=4)
    G = np.random.default_rng(1).normal(size=(9, 5, 4))
    _kernel_loss_and_grads("lstm", X, lengths, weights, G, "identity", n_threads=1)
    assert tiny * np.float32(1) != 0
