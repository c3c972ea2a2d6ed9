"""The chunked time-major layout the kernels work on."""

import numpy as np
import pytest
from helpers import ragged_problem
from numpy.testing import assert_array_equal

from skrnn._layout import (
    CHUNK_SIZE,
    from_chunks,
    last_step_index,
    make_chunking,
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
