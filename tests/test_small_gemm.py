"""The time loop's small-matrix product (src/_small_gemm.h) against NumPy.

It runs the per-step products ``W_hh h_{t-1}`` and their backward at small
hidden sizes. Every output row is computed the same way whatever the number of
rows, so training (chunks of 16 or 32 rows) and prediction (chunks of 64)
compute the same states bit for bit; both are tested here, on each build of
the kernels that this machine can run.
"""

import importlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skrnn._layout import INFER_CHUNK_SIZE, from_chunks, make_chunking, to_chunks


def _builds():
    mods = [importlib.import_module("skrnn._lstm")]
    for level in ("v3", "v4"):
        try:
            mod = importlib.import_module(f"skrnn._lstm_{level}")
        except ImportError:  # built without it
            continue
        if getattr(mod, f"cpu_has_x86_64_{level}")():
            mods.append(mod)
    return mods


BUILDS = {m.__name__.rsplit(".", 1)[-1]: m for m in _builds()}
SHAPES = [
    (1, 1, 1),
    (3, 5, 2),
    (17, 3, 33),
    (4, 16, 8),
    (5, 17, 16),
    (64, 128, 32),
    (16, 32, 128),
    (7, 24, 0),
    (2, 40, 65),
]


def _strided(rng, rows, cols, pad, dtype):
    """A (rows, cols) view with row stride cols + pad, NaN in the padding."""
    full = np.full((rows, cols + pad), np.nan, dtype=dtype)
    full[:, :cols] = rng.normal(size=(rows, cols))
    return full[:, :cols], full


@pytest.mark.parametrize("build", sorted(BUILDS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, n, k", SHAPES)
@pytest.mark.parametrize("accumulate", [False, True])
def test_small_product_matches_numpy(build, dtype, m, n, k, accumulate):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    a, _ = _strided(rng, m, k, 3, dtype)
    b, _ = _strided(rng, k, n, 5, dtype)
    c, full = _strided(rng, m, n, 2, dtype)
    want = a.astype(np.float64) @ b.astype(np.float64)
    if accumulate:
        want += c
    BUILDS[build].small_product(a, b, c, accumulate)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(c, want, rtol=tol, atol=tol * max(k, 1))
    assert np.isnan(full[:, n:]).all()  # nothing written past the width


@pytest.mark.parametrize("build", sorted(BUILDS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_product_rows_do_not_depend_on_the_row_count(build, dtype):
    """Each row alone, and every prefix of the rows, gives the same bits."""
    rng = np.random.default_rng(1)
    m, n, k = 21, 37, 29
    a = rng.normal(size=(m, k)).astype(dtype)
    b = rng.normal(size=(k, n)).astype(dtype)
    c0 = rng.normal(size=(m, n)).astype(dtype)
    for accumulate in (False, True):
        every = c0.copy()
        BUILDS[build].small_product(a, b, every, accumulate)
        for rows in (1, 2, 3, 5, 16, 17):
            for start in range(0, m - rows + 1, 4):
                part = c0[start : start + rows].copy()
                BUILDS[build].small_product(
                    a[start : start + rows], b, part, accumulate
                )
                assert np.array_equal(part, every[start : start + rows])


@pytest.mark.parametrize("build", sorted(BUILDS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "m, n, k, k2",
    [(1, 1, 1, 0), (5, 17, 3, 2), (64, 128, 8, 32), (7, 96, 8, 0), (9, 40, 65, 5)],
)
def test_pair_product_matches_numpy(build, dtype, m, n, k, k2):
    """A step's input in one pass: row0 + a @ b + a2 @ b2, any row strides."""
    rng = np.random.default_rng(m + n + k + k2)
    a, _ = _strided(rng, m, k, 3, dtype)
    b, _ = _strided(rng, k, n, 5, dtype)
    a2, _ = _strided(rng, m, k2, 1, dtype)
    b2, _ = _strided(rng, k2, n, 4, dtype)
    row0 = rng.normal(size=n).astype(dtype)
    c, full = _strided(rng, m, n, 2, dtype)
    want = row0 + a.astype(np.float64) @ b + a2.astype(np.float64) @ b2
    BUILDS[build].small_product(a, b, c, False, a2, b2, row0)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(c, want, rtol=tol, atol=tol * max(k + k2, 1))
    assert np.isnan(full[:, n:]).all()
    # each row alone gives the same bits as in the whole call
    for i in range(0, m, 3):
        part = np.empty((1, n), dtype)
        BUILDS[build].small_product(
            a[i : i + 1], b, part, False, a2[i : i + 1], b2, row0
        )
        assert np.array_equal(part[0], c[i])


@pytest.mark.parametrize("build", sorted(BUILDS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "m, n, k", [(1, 1, 1), (8, 128, 800), (32, 96, 37), (5, 33, 0)]
)
def test_transposed_product_matches_numpy(build, dtype, m, n, k):
    """The weight gradients' product: a.T @ b with a (k, m), any row strides."""
    rng = np.random.default_rng(m + n + k)
    a, _ = _strided(rng, k, m, 3, dtype)
    b, _ = _strided(rng, k, n, 5, dtype)
    c, full = _strided(rng, m, n, 2, dtype)
    BUILDS[build].small_product(a, b, c, False, trans=True)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    want = a.T.astype(np.float64) @ b
    assert_allclose(c, want, rtol=tol, atol=tol * max(k, 1))
    assert np.isnan(full[:, n:]).all()


def test_small_product_rejects_bad_shapes():
    mod = next(iter(BUILDS.values()))
    a = np.zeros((3, 4))
    with pytest.raises(ValueError, match="match"):
        mod.small_product(a, np.zeros((5, 2)), np.zeros((3, 2)), False)
    with pytest.raises(ValueError, match="contiguous"):
        mod.small_product(a, np.zeros((4, 4))[:, ::2], np.zeros((3, 2)), False)
    b, c = np.zeros((4, 2)), np.zeros((3, 2))
    with pytest.raises(ValueError, match="do not match"):
        mod.small_product(
            a, b, c, False, np.zeros((3, 5)), np.zeros((4, 2)), np.zeros(2)
        )
    with pytest.raises(ValueError, match="do not match"):
        mod.small_product(
            a, b, c, False, np.zeros((3, 5)), np.zeros((5, 2)), np.zeros(3)
        )
    with pytest.raises(ValueError, match="accumulate"):
        mod.small_product(
            a, b, c, True, np.zeros((3, 5)), np.zeros((5, 2)), np.zeros(2)
        )
    with pytest.raises(ValueError, match="trans takes"):
        mod.small_product(a, b, c, True, trans=True)
    with pytest.raises(ValueError, match="match"):
        mod.small_product(a, b, c, False, trans=True)  # a.T is (4, 3)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("H", [5, 32])
def test_training_and_inference_chunks_agree_bit_for_bit(cell, H):
    """float32, at hidden sizes whose per-step products run through the small
    product (H <= 64): forward over chunks of 16 rows (training) and infer over
    chunks of 64 (prediction) give each sequence the same states, bit for bit."""
    from helpers import KERNEL_CELLS, layer_problem

    kernel, gates, cache_width = KERNEL_CELLS[cell][:3]
    rng = np.random.default_rng(3)
    X, lengths, weights = layer_problem(gates, rng, B=90, T=23, F=8, H=H)
    X = X.astype(np.float32)
    weights = [w.astype(np.float32) for w in weights]
    states = _train_and_infer_states(
        kernel, cache_width, X, lengths, weights, H, 16, INFER_CHUNK_SIZE
    )
    assert np.array_equal(states[0], states[1], equal_nan=True)


def _train_and_infer_states(
    kernel, cache_width, X, lengths, weights, H, train_size, infer_size
):
    """Each sequence's float32 states by forward over chunks of train_size
    rows and by infer over chunks of infer_size, in batch order."""
    states = []
    for size, training in ((train_size, True), (infer_size, False)):
        ch = make_chunking(lengths, size)
        Xc = to_chunks(X, ch, dtype=np.float32)
        Hs = np.empty(Xc.shape[:3] + (H,), dtype=np.float32)
        if training:
            cache = np.empty(Xc.shape[:3] + (cache_width * H,), dtype=np.float32)
            kernel.forward(Xc, ch.lengths, *weights, Hs, cache, 1, 1)
        else:
            kernel.infer(
                Xc, ch.lengths, *weights, Hs, np.empty((0, 0, 0), np.float32), 1, 1
            )
        states.append(from_chunks(Hs, ch, len(lengths)))
    return states


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("H", [130, 256])
@pytest.mark.parametrize("blas_avx512", [False, True])
def test_prediction_chunks_at_large_hidden_sizes(cell, H, blas_avx512, monkeypatch):
    """float32, hidden 130 and 256: prediction's chunks (inference_chunk_size)
    give the states of training's chunks (training_chunk_size), bit for bit
    where both run through the small product (the AVX-512 build), to rounding
    where prediction's go through BLAS."""
    from helpers import KERNEL_CELLS, layer_problem

    from skrnn import _recurrent, _threads
    from skrnn._layout import inference_chunk_size, training_chunk_size

    monkeypatch.setattr(_threads, "blas_has_avx512", lambda: blas_avx512)
    kernel, gates, cache_width = KERNEL_CELLS[cell][:3]
    spec = {"rnn": _recurrent.ELMAN, "gru": _recurrent.GRU, "lstm": _recurrent.LSTM}
    infer_size = inference_chunk_size(spec[cell], [H])
    train_size = training_chunk_size([H])
    rng = np.random.default_rng(4)
    X, lengths, weights = layer_problem(gates, rng, B=70, T=6, F=8, H=H)
    X = X.astype(np.float32)
    weights = [(0.5 * w).astype(np.float32) for w in weights]
    states = _train_and_infer_states(
        kernel, cache_width, X, lengths, weights, H, train_size, infer_size
    )
    if infer_size <= kernel.small_forward_rows(H):
        assert infer_size == train_size
        assert np.array_equal(states[0], states[1], equal_nan=True)
    else:
        assert_allclose(states[1], states[0], rtol=1e-4, atol=1e-5)
