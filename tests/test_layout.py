"""The chunked time-major layout the kernels work on."""

import numpy as np
import pytest
from helpers import ragged_problem
from numpy.testing import assert_array_equal

from skrnn import _chunks
from skrnn._layout import (
    BLAS_INFER_CHUNK_SIZE,
    CHUNK_SIZE,
    INFER_CHUNK_SIZE,
    from_chunks,
    inference_chunk_size,
    last_step_index,
    make_chunking,
    reverse_steps,
    to_chunks,
)


def test_sequences_are_sorted_longest_first_with_ties_in_order():
    ch = make_chunking(np.array([2, 5, 2, 5, 1]), chunk_size=2)
    assert_array_equal(ch.order, [1, 3, 0, 2, 4, -1])
    assert_array_equal(ch.lengths, [[5, 5], [2, 2], [1, 0]])
    assert ch.n_chunks == 3 and ch.chunk_size == 2 and ch.n_steps == 5


def test_a_small_batch_is_one_chunk_without_filler_rows():
    ch = make_chunking(np.array([3, 1, 2]))
    assert ch.n_chunks == 1 and ch.chunk_size == 3
    assert np.all(ch.order >= 0)


@pytest.mark.parametrize("n", [1, CHUNK_SIZE, CHUNK_SIZE + 3, 3 * CHUNK_SIZE])
def test_round_trip_keeps_real_steps_and_pads_the_rest(n, rng):
    X, lengths = ragged_problem(rng, n=n, max_steps=6, n_features=2)
    ch = make_chunking(lengths)
    Xc = to_chunks(X, ch)
    assert Xc.shape == (ch.n_chunks, 6, ch.chunk_size, 2)
    assert Xc.flags.c_contiguous
    assert np.all(Xc[~ch.mask] == 0)  # padding is zero for the kernels
    back = from_chunks(Xc, ch, n)
    assert_array_equal(back, X)  # NaN where X is padded


def test_to_chunks_casts_and_mask_marks_the_real_steps(rng):
    X, lengths = ragged_problem(rng, n=5, max_steps=4, n_features=1)
    ch = make_chunking(lengths)
    Xc = to_chunks(X, ch, dtype=np.float32)
    assert Xc.dtype == np.float32
    assert ch.mask.sum() == lengths.sum()


def test_last_step_index_points_at_each_sequences_last_real_step(rng):
    X, lengths = ragged_problem(rng, n=CHUNK_SIZE + 5, max_steps=7, n_features=1)
    ch = make_chunking(lengths)
    c, t, s = last_step_index(ch)
    Xc = to_chunks(X, ch)
    expected = X[np.arange(len(X)), lengths - 1, 0]
    assert_array_equal(Xc[c, t, s, 0], expected)


def _to_chunks_reference(A, ch):
    """to_chunks in plain NumPy: gather the rows, put steps first, zero padding."""
    C, S, T = ch.n_chunks, ch.chunk_size, ch.n_steps
    out = np.zeros((C * S, T, A.shape[2]), dtype=A.dtype)
    rows = ch.order >= 0
    out[rows] = A[ch.order[rows], :T]
    out = np.ascontiguousarray(out.reshape(C, S, T, -1).transpose(0, 2, 1, 3))
    out[~ch.mask] = 0
    return out


def _reverse_reference(A, ch):
    """reverse_steps in plain NumPy: step L - 1 - t at real steps, t at padding."""
    steps = np.arange(ch.n_steps)[None, :, None]
    lengths = ch.lengths[:, None, :]
    idx = np.where(steps < lengths, lengths - 1 - steps, steps)
    return np.take_along_axis(A, idx[..., None], axis=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunk_size", [1, 4, CHUNK_SIZE])
def test_gather_and_reverse_match_numpy(dtype, chunk_size, rng):
    X, lengths = ragged_problem(rng, n=CHUNK_SIZE + 7, max_steps=9, n_features=3)
    X = np.concatenate([X, np.full((X.shape[0], 2, 3), np.nan)], axis=1)  # T' > T
    ch = make_chunking(lengths, chunk_size)
    Xc = to_chunks(X, ch, dtype=dtype)
    assert_array_equal(Xc, _to_chunks_reference(X.astype(dtype), ch))
    assert_array_equal(to_chunks(X, ch, dtype=dtype, n_threads=3), Xc)
    assert_array_equal(reverse_steps(Xc, ch), _reverse_reference(Xc, ch))
    assert_array_equal(reverse_steps(reverse_steps(Xc, ch), ch), Xc)


def test_the_gathers_refuse_arrays_that_do_not_fit(rng):
    X, lengths = ragged_problem(rng, n=6, max_steps=5, n_features=2)
    ch = make_chunking(lengths, 4)
    out = np.empty((ch.n_chunks, 5, 4, 2))
    _chunks.gather(X, ch.order, ch.lengths, out)  # fits
    bad_order = ch.order.copy()
    bad_order[0] = 6
    short_lengths = ch.lengths.copy()
    short_lengths[0, 0] = 6
    cases = [
        (X, ch.order, ch.lengths, out[:, :, :3].copy()),  # rows of a chunk
        (X, ch.order[:-1], ch.lengths, out),  # order
        (X[:, :, :1].copy(), ch.order, ch.lengths, out),  # columns
        (X, bad_order, ch.lengths, out),  # a sequence that is not there
        (X, ch.order, short_lengths, out),  # a length beyond the steps
    ]
    for args in cases:
        with pytest.raises(ValueError):
            _chunks.gather(*args)
    Xc = to_chunks(X, ch)
    with pytest.raises(ValueError):
        _chunks.reverse(Xc, ch.lengths, np.empty_like(Xc)[:, :4].copy())
    with pytest.raises(ValueError):
        _chunks.reverse(Xc, short_lengths, np.empty_like(Xc))
    with pytest.raises(ValueError):
        _chunks.scan_padding(X, np.empty(5, dtype=np.intp))


@pytest.mark.parametrize("blas_avx512", [False, True])
def test_inference_chunks_follow_the_small_product_and_the_blas(
    blas_avx512, monkeypatch
):
    """Prediction's chunk size is fixed by the model, the kernels' build and
    the BLAS's kernels: INFER_CHUNK_SIZE where the small product does every
    per-step product, its own row limit where it covers only that many (but
    for the LSTM on an AVX-512 BLAS), BLAS_INFER_CHUNK_SIZE elsewhere."""
    from skrnn import _recurrent, _threads

    monkeypatch.setattr(_threads, "blas_has_avx512", lambda: blas_avx512)
    for cell in (_recurrent.ELMAN, _recurrent.GRU, _recurrent.LSTM):
        for H in (8, 64, 128, 200, 256, 300, 512):
            rows = cell.kernel.small_forward_rows(H)
            size = inference_chunk_size(cell, [4, H])
            if rows >= INFER_CHUNK_SIZE:
                assert size == INFER_CHUNK_SIZE
            elif rows > 0 and not (cell.blas_inference and blas_avx512):
                assert size == rows
            else:
                assert size == BLAS_INFER_CHUNK_SIZE
        assert cell.kernel.small_forward_rows(8) >= INFER_CHUNK_SIZE
        assert cell.kernel.small_forward_rows(4096) == 0
