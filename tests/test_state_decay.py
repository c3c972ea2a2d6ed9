"""The time loop's decay of the previous state (``state_decay``, GRU-D's
hidden decay), in every cell kernel since the loop is shared: against a NumPy
reference and finite differences (weights, inputs and the decay factors),
the inference path and thread counts bit for bit, no decay = today's path,
truncated BPTT, and the entry points' shape checks."""

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
    step_differences,
)
from numpy.testing import assert_allclose

from skrnn._layout import from_chunks, make_chunking, to_chunks
from skrnn._network import ACTIVATIONS

TANH = ACTIVATIONS["tanh"]


def _problem(cell, seed=0, B=11, T=7, F=3, H=4, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X, lengths, weights = layer_problem(CELLS[cell][1], rng, B, T, F, H)
    gamma = rng.uniform(0.05, 1.0, size=(B, T, H))
    return (
        X.astype(dtype),
        lengths,
        [w.astype(dtype) for w in weights],
        gamma.astype(dtype),
    )


def _forward(cell, X, lengths, weights, gamma, n_threads=2, **options):
    kernel, _, cache_width, _, _ = CELLS[cell]
    return kernel_forward(
        kernel, cache_width, X, lengths, weights, TANH, gamma=gamma,
        n_threads=n_threads, **options,
    )  # fmt: skip


def _loss_and_grads(
    cell, X, lengths, weights, gamma, G_out, bptt_steps=0, n_threads=2, **options
):
    """Loss sum(G_out * H) over real steps; the kernel's weight gradients, dX
    and dL/dgamma in batch order."""
    kernel, _, cache_width, _, _ = CELLS[cell]
    return kernel_loss_and_grads(
        kernel, cache_width, X, lengths, weights, TANH, G_out, gamma=gamma,
        bptt_steps=bptt_steps, n_threads=n_threads, **options,
    )  # fmt: skip


def _reference(step, init, x, n, weights, gamma):
    H = weights[1].shape[1]
    state = init(H)
    out = []
    for t in range(n):
        state = (gamma[t] * state[0],) + tuple(state[1:])
        state = step(x[t], state, *weights, activation="tanh")
        out.append(state[0])
    return np.array(out).reshape(n, H)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(cell, dtype):
    X, lengths, weights, gamma = _problem(cell, dtype=dtype)
    step, init = CELLS[cell][3:]
    ch, _, Hs, _, kw = _forward(cell, X, lengths, weights, gamma)
    got = from_chunks(Hs, ch, X.shape[0])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    w64 = [w.astype(np.float64) for w in weights]
    for i, n in enumerate(lengths):
        expected = _reference(
            step, init, X[i].astype(np.float64), n, w64, gamma[i].astype(np.float64)
        )
        assert_allclose(got[i, :n], expected, rtol=tol, atol=tol)
    # decayed: gamma_t h_{t-1} at real steps t >= 1, zero elsewhere
    decayed = from_chunks(kw["decayed"], ch, X.shape[0], fill=0)
    assert np.all(np.isfinite(kw["decayed"]))
    assert np.all(kw["decayed"][~ch.mask] == 0)
    assert np.all(decayed[:, 0] == 0)
    for i, n in enumerate(lengths):
        assert_allclose(decayed[i, 1:n], gamma[i, 1:n] * got[i, : n - 1], rtol=tol)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("leak", [1.0, 0.6])
def test_backward_matches_finite_differences(cell, leak):
    X, lengths, weights, gamma = _problem(cell, seed=1, B=7)
    G_out = np.random.default_rng(2).normal(size=X.shape[:2] + (4,))
    options = {"leak_rate": leak}
    _, grads, dX, d_gamma, _ = _loss_and_grads(
        cell, X, lengths, weights, gamma, G_out, **options
    )
    eps = 1e-6

    def f(ws, X_=X, g_=gamma):
        return _loss_and_grads(cell, X_, lengths, ws, g_, G_out, **options)[0]

    assert_weight_gradients(f, weights, grads, 4)
    num_x = step_differences(lambda X_: f(weights, X_), X, lengths, eps)
    num_g = step_differences(lambda g_: f(weights, X, g_), gamma, lengths, eps)
    real = ~np.isnan(X)
    assert np.all(np.isnan(dX) == ~real)
    err = np.linalg.norm(num_x[real] - dX[real]) / np.linalg.norm(num_x[real])
    assert err < 1e-6, err
    # zero at step 0 (h_{-1} = 0) and at padded steps, as the differences are
    assert np.all(d_gamma[:, 0] == 0)
    padded = np.arange(X.shape[1])[None, :] >= lengths[:, None]
    assert np.all(d_gamma[padded] == 0)
    err = np.linalg.norm(num_g - d_gamma) / np.linalg.norm(num_g)
    assert err < 1e-6, err


@pytest.mark.parametrize("cell", list(CELLS))
def test_no_decay_and_unit_decay_are_the_plain_cell(cell):
    """A factor of 1 gives the plain cell's states and gradients bit for bit."""
    X, lengths, weights, gamma = _problem(cell, seed=3)
    G_out = np.random.default_rng(4).normal(size=X.shape[:2] + (4,))
    plain = _loss_and_grads(cell, X, lengths, weights, None, G_out)
    ones = _loss_and_grads(cell, X, lengths, weights, np.ones_like(gamma), G_out)
    assert np.array_equal(plain[4][1], ones[4][1])
    for a, b in zip(plain[1], ones[1], strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(plain[2], ones[2], equal_nan=True)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_infer_computes_the_states_of_forward(cell, dtype):
    X, lengths, weights, gamma = _problem(cell, seed=5, B=13, T=37, dtype=dtype)
    kernel = CELLS[cell][0]
    ch, Xc, Hs, _, kw = _forward(cell, X, lengths, weights, gamma, leak_rate=0.7)
    C, T, S, _ = Xc.shape
    every = np.full_like(Hs, np.nan)
    options = dict(leak_rate=0.7, state_decay=kw["state_decay"])
    kernel.infer(
        Xc, ch.lengths, *weights, every, np.empty((0,) * 3, dtype), TANH, 2, **options
    )
    assert np.array_equal(every, Hs)
    last = np.full((C, S, 4), np.nan, dtype=dtype)
    kernel.infer(
        Xc, ch.lengths, *weights, np.empty((0,) * 4, dtype), last, TANH, 1, **options
    )
    c, s = np.nonzero(ch.lengths)
    assert np.array_equal(last[c, s], Hs[c, ch.lengths[c, s] - 1, s])


@pytest.mark.parametrize("cell", list(CELLS))
def test_threads_do_not_change_results(cell):
    X, lengths, weights, gamma = _problem(cell, B=40, seed=6)
    G_out = np.random.default_rng(7).normal(size=X.shape[:2] + (4,))
    one = _loss_and_grads(cell, X, lengths, weights, gamma, G_out, n_threads=1)
    two = _loss_and_grads(cell, X, lengths, weights, gamma, G_out, n_threads=2)
    for a, b in zip(one[1], two[1], strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(one[2], two[2], equal_nan=True)
    assert np.array_equal(one[3], two[3])


@pytest.mark.parametrize("cell", list(CELLS))
def test_truncation_keeps_the_factor_s_gradient(cell):
    """A window start t cuts the path to h_{t-1}, not gamma_t's gradient:
    with the loss on step t alone it is full BPTT's there."""
    X, lengths, weights, gamma = _problem(cell, seed=8)
    G_out = np.zeros(X.shape[:2] + (4,))
    G_out[0, 3] = np.random.default_rng(9).normal(size=4)
    full = _loss_and_grads(cell, X, lengths, weights, gamma, G_out)
    cut = _loss_and_grads(cell, X, lengths, weights, gamma, G_out, bptt_steps=3)
    assert np.all(cut[2][0, :3] == 0)
    assert np.all(cut[3][0, :3] == 0)
    assert np.abs(cut[3][0, 3]).sum() > 0
    assert_allclose(cut[3][0, 3], full[3][0, 3], rtol=1e-12)


def _arguments(cell):
    X, lengths, weights, gamma = _problem(cell)
    ch = make_chunking(lengths, 4)
    Xc = to_chunks(X, ch)
    C, T, S, F = Xc.shape
    G, K = CELLS[cell][1:3]
    H = 4
    D = 2 * G if cell == "gru" else G
    shape = (C, T, S, H)
    common = [Xc, ch.lengths]
    return {
        "forward": (
            common + weights + [np.zeros(shape), np.zeros((C, T, S, K * H)), TANH, 1],
            {"state_decay": to_chunks(gamma, ch), "decayed": np.zeros(shape)},
        ),
        "infer": (
            common + weights + [np.zeros(shape), np.zeros((0,) * 3), TANH, 1],
            {"state_decay": to_chunks(gamma, ch)},
        ),
        "backward": (
            common
            + weights[:2]
            + [np.zeros(shape), np.zeros((C, T, S, K * H)), np.zeros(shape)]
            + [np.zeros((C, T, S, F)), np.zeros((C, G * H, F))]
            + [np.zeros((C, G * H, H)), np.zeros((C, G * H)), np.zeros((C, G * H))]
            + [np.zeros((C, T, S, D * H)), np.zeros((C, T)), TANH, 0, 1],
            {
                "state_decay": to_chunks(gamma, ch),
                "decayed": np.zeros(shape),
                "decay_grad": np.zeros(shape),
            },
        ),
    }


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("entry", ["forward", "infer", "backward"])
def test_entry_points_check_the_decay_arrays(cell, entry):
    """Each decay array of the wrong shape, or a missing output, raises a
    ValueError naming it."""
    kernel = CELLS[cell][0]
    args, kw = _arguments(cell)[entry]
    getattr(kernel, entry)(*args, **kw)
    for name, good in kw.items():
        for shape in [good.shape[:-1] + (good.shape[-1] + 1,), good.shape[1:]]:
            bad = dict(kw, **{name: np.zeros(shape)})
            with pytest.raises(ValueError, match=name):
                getattr(kernel, entry)(*args, **bad)
        if name != "state_decay":
            missing = {k: v for k, v in kw.items() if k != name}
            with pytest.raises(ValueError, match=f"state_decay needs {name}"):
                getattr(kernel, entry)(*args, **missing)
