"""Sequence data checks and conversions (skrnn._data)."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from skrnn import _chunks
from skrnn._data import (
    pad_sequences,
    sequence_lengths,
    validate_for_predict,
    validate_sequences,
    validate_targets,
)


class _Host(BaseEstimator):
    """Holds n_features_in_ and feature_names_in_ as an estimator does."""

    def fit(self, X, y=None):
        return self


def test_pad_sequences_pads_with_nan_and_keeps_float32():
    X = pad_sequences([np.ones((2, 3), np.float32), np.zeros((4, 3), np.float32)])
    assert X.shape == (2, 4, 3) and X.dtype == np.float32
    assert np.isnan(X[0, 2:]).all() and not np.isnan(X[1]).any()
    univariate = pad_sequences([np.arange(3.0), np.arange(1.0)])
    assert univariate.shape == (2, 3, 1)


def test_pad_sequences_refuses_mixed_widths_and_3d_items():
    with pytest.raises(ValueError, match="same number of features"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="Sequence 1 has 3 dimensions"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 3, 1))])


def test_lengths_end_at_the_last_step_that_is_not_all_nan():
    X = np.ones((3, 4, 2))
    X[0, 3:] = np.nan
    X[1, 1, 0] = np.nan  # a partly observed step is a real step
    X[2] = np.nan
    assert_array_equal(sequence_lengths(X), [3, 4, 0])


def test_a_table_is_a_set_of_one_step_sequences():
    host = _Host()
    X, lengths = validate_sequences(
        host, pd.DataFrame({"a": [1.0, 2], "b": [3, 4]}), reset=True
    )
    assert X.shape == (2, 1, 2) and host.n_features_in_ == 2
    assert_array_equal(host.feature_names_in_, ["a", "b"])
    assert_array_equal(lengths, [1, 1])


def test_nan_inside_a_sequence_and_empty_sequences_are_named():
    X = np.ones((3, 4, 2))
    X[1, 1, 1] = np.nan
    with pytest.raises(
        ValueError, match="Sequence 1 has NaN at step 1 \\(feature 1\\)"
    ):
        validate_sequences(_Host(), X, reset=True)
    X = np.ones((3, 4, 2))
    X[2] = np.nan
    with pytest.raises(ValueError, match="Sequence 2 has no observed step"):
        validate_sequences(_Host(), X, reset=True)


def test_a_ragged_list_is_padded_and_the_width_is_checked_later():
    host = _Host()
    X, lengths = validate_sequences(
        host, [np.ones((2, 3)), np.ones((5, 3))], reset=True
    )
    assert X.shape == (2, 5, 3)
    assert_array_equal(lengths, [2, 5])
    with pytest.raises(ValueError, match="X has 2 features, but _Host is expecting 3"):
        validate_sequences(host, np.ones((1, 2, 2)), reset=False)


def test_validate_for_predict_needs_a_fitted_estimator():
    host = _Host()
    with pytest.raises(NotFittedError):
        validate_for_predict(host, np.ones((1, 2, 3)), dtype_of="coef_")
    host.n_features_in_ = 3
    host.coef_ = np.ones(3, dtype=np.float32)
    X, _ = validate_for_predict(host, np.ones((1, 2, 3)), dtype_of="coef_")
    assert X.dtype == np.float32


def test_targets_per_sequence_and_per_step():
    lengths = np.array([2, 3])
    Y = validate_targets(np.array([1.0, 2.0]), lengths, 3, return_sequences=False)
    assert Y.shape == (2, 1, 1)
    per_step = np.array([[1.0, 2.0, np.nan], [1.0, 2.0, 3.0]])
    Y = validate_targets(per_step, lengths, 3, return_sequences=True)
    assert Y.shape == (2, 3, 1)
    with pytest.raises(ValueError, match="X has 2 sequences but y has 3"):
        validate_targets(np.ones(3), lengths, 3, return_sequences=False)
    with pytest.raises(ValueError, match="y has 2 steps"):
        validate_targets(np.ones((2, 2)), lengths, 3, return_sequences=True)
    partial = np.ones((2, 3, 2))
    partial[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="sequence 1 at step 0 is NaN for some"):
        validate_targets(partial, lengths, 3, return_sequences=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_scan_matches_numpy(dtype, rng):
    """One pass of _chunks.scan_padding against the NumPy definitions: the
    lengths, the first infinite value and the first NaN inside a sequence."""
    for trial in range(20):
        X = rng.normal(size=(7, 6, 3)).astype(dtype)
        for i in range(7):
            X[i, rng.integers(0, 7) :] = np.nan
        for _ in range(trial % 4):
            X[tuple(rng.integers(0, s) for s in X.shape)] = rng.choice(
                [np.nan, np.inf, -np.inf]
            )
        observed = ~np.all(np.isnan(X), axis=2)
        last = X.shape[1] - np.argmax(observed[:, ::-1], axis=1)
        lengths = np.where(observed.any(axis=1), last, 0)
        inside = np.isnan(X) & (np.arange(6)[None, :, None] < lengths[:, None, None])
        flat_inf = np.flatnonzero(np.isinf(X))
        flat_nan = np.flatnonzero(inside)
        got = np.empty(7, dtype=np.intp)
        infinite, nan_inside = _chunks.scan_padding(X, got)
        assert_array_equal(got, lengths)
        assert infinite == (flat_inf[0] if flat_inf.size else -1)
        assert nan_inside == (flat_nan[0] if flat_nan.size else -1)


def test_infinity_in_a_sequence_is_named():
    X = np.ones((2, 3, 2), dtype=np.float32)
    X[1, 2:] = np.nan
    X[1, 1, 1] = -np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        validate_sequences(_Host(), X, reset=True)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        validate_sequences(_Host(), X, reset=True, check_nan=False)
