"""Property-based tests: odd inputs get a clear error or a finite answer.

Every public estimator, ``to_sequences``, ``TimestepTransformer`` and the
command line's table reader are fed shapes, lengths (ragged lists too),
dtypes, NaN and inf placements and value ranges drawn by hypothesis. Each call
either raises a ValueError or TypeError whose message says what is wrong, or
returns finite results of the right shape; never another exception, a crash
or a silent NaN. Derandomized and bounded, so CI runs the same examples in a
few seconds.
"""

import contextlib
import io
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone, is_classifier
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import skrnn
from skrnn.cli import CLIError, main, read_table
from skrnn.preprocessing import TimestepTransformer, to_sequences

fuzz = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Messages of errors that leak NumPy or pandas internals instead of saying
# what is wrong with the input.
INTERNALS = re.compile(
    "|".join(
        [
            "could not be broadcast",
            "out of bounds",
            "zero-size array",
            "cannot reshape",
            "index [0-9-]+ is out",
            "too many indices",
            "object of type .* has no len",
            "unsupported operand",
            "not supported between instances",
            "must be real number, not",
            "invalid value encountered",
            "object arrays are not supported",
            "buffer has wrong number of dimensions",
            "ufunc",
            "must not contain infs or NaNs",
        ]
    )
)


def check_error(exc):
    """A ValueError or TypeError that says what is wrong in the user's terms."""
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    message = str(exc)
    assert len(message) > 20, repr(exc)
    assert not INTERNALS.search(message), repr(exc)


def outcome(call):
    """The result of ``call()``, or None after checking its error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except (ValueError, TypeError) as exc:
        check_error(exc)
        return None




# ------------------------------------------- regressions the fuzzing found
def _visits(**columns):
    table = {"g": [1, 1, 2, 2], "t": [0, 1, 0, 5], "f": [1.0, 2, 3, 4]}
    return pd.DataFrame({**table, "y": [0, 1, 0, 1], **columns})


@pytest.mark.parametrize("column", ["g", "t"])
def test_to_sequences_refuses_a_missing_group_or_time(column):
    # a missing group was factorized to -1 and written over the last group
    values = [1, 1, 2, None] if column == "g" else [0, np.nan, 0, 5]
    with pytest.raises(ValueError, match=f"Column '{column}' is missing in 1 row"):
        to_sequences(_visits(**{column: values}), "g", "t", target="y")


def test_to_sequences_orders_text_times_only_as_iso_dates():
    # text times were sorted as text: '10' before '9'
    with pytest.raises(ValueError, match="numbers or dates.*'9'"):
        to_sequences(_visits(t=["9", "10", "0", "5"]), "g", "t", target="y")
    with pytest.raises(ValueError, match="numbers or dates.*'x'"):
        to_sequences(_visits(t=[9, "x", 0, 5]), "g", "t", target="y")
    dates = ["2020-01-10", "2020-01-09", "2020-01-01", "2020-02-01"]
    X, _, _ = to_sequences(_visits(t=dates), "g", "t", target="y", time_gap=True)
    np.testing.assert_array_equal(X[:, :, 0], [[2, 1], [3, 4]])
    np.testing.assert_array_equal(X[:, :, 1], [[0, 1], [0, 31]])


def test_to_sequences_takes_the_target_of_the_last_row_even_if_missing():
    # GroupBy.last skipped the NaN and gave group 1 its first row's target
    df = _visits(y=[5, np.nan, np.nan, 7])
    assert_equal = np.testing.assert_array_equal
    assert_equal(to_sequences(df, "g", "t", target="y")[1], [np.nan, 7])
    assert_equal(
        to_sequences(df, "g", "t", target="y", target_at="first")[1], [5, np.nan]
    )


def test_to_sequences_refuses_an_empty_table_and_infinite_features():
    with pytest.raises(ValueError, match="no rows"):
        to_sequences(_visits().iloc[:0], "g", "t", target="y")
    with pytest.raises(ValueError, match="Feature 'f' is infinite for g=1 at t=1"):
        to_sequences(_visits(f=[1.0, np.inf, 3, 4]), "g", "t", target="y")


def test_timestep_transformer_refuses_finite_steps_turned_non_finite():
    # StandardScaler's mean of 1e308 overflows: NaN came out silently
    X = np.array([[[1e308], [1e308]], [[1.0], [np.nan]]])
    with pytest.raises(ValueError, match="StandardScaler turned the finite step 0"):
        TimestepTransformer(StandardScaler()).fit_transform(X)
    Xt = TimestepTransformer(StandardScaler()).fit_transform(X / 1e300)
    assert np.isfinite(Xt[:, 0]).all() and np.isnan(Xt[1, 1]).all()


def test_echo_state_read_out_beyond_float32_is_an_error():
    # the float64 read-out was cast to float32 and predicted inf
    X = np.zeros((5, 3, 2), dtype=np.float32)
    y = np.array([0, 0, 0, 0, 1e300])
    estimator = skrnn.EchoStateRegressor(n_reservoir=5, random_state=0)
    with pytest.raises(ValueError, match="does not fit in float32.*float64"):
        estimator.fit(X, y)
    assert np.isfinite(estimator.fit(X.astype(np.float64), y).predict(X)).all()


def test_em_fits_inputs_that_overflow_float32_products():
    # the M-step's Gram matrices overflowed and SciPy's error leaked out
    X = np.zeros((1, 4, 2), dtype=np.float32)
    X[0, 3, 1] = 8.5e37
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = skrnn.EMRecurrentRegressor(n_hidden=2, max_iter=2, random_state=0)
        pred = estimator.fit(X, [0.0]).predict(X)
    assert np.isfinite(pred).all()
