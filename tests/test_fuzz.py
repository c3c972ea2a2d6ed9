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


# ------------------------------------------------------------- strategies
DTYPES = ["float16", "float32", "float64", "int8", "int64", "bool", "object"]

VALUES = st.one_of(
    st.floats(-3, 3, allow_nan=False),
    st.sampled_from([0.0, 1e300, -1e300, 1e-300, 5e-324, 1e30, 65504.0, 7.0]),
)


def _finite_for(dtype):
    """Clip values into the dtype's finite range (1e300 stays for float64)."""
    if dtype in ("float16", "float32"):
        big = float(np.finfo(dtype).max) / 4
        return lambda x: np.clip(x, -big, big)
    return lambda x: x


@st.composite
def padded_arrays(draw, dirty, max_sequences=5, max_steps=4, max_features=3):
    """A NaN-padded 3-D array in any dtype, with extreme values; ``dirty``
    ones also get NaN, inf and empty sequences anywhere."""
    n = draw(st.integers(1, max_sequences))
    T = draw(st.integers(1, max_steps))
    F = draw(st.integers(1, max_features))
    dtype = draw(st.sampled_from(DTYPES))
    X = np.array(
        draw(st.lists(VALUES, min_size=n * T * F, max_size=n * T * F)), dtype=float
    ).reshape(n, T, F)
    X = _finite_for(dtype)(X)
    lengths = np.array(
        draw(st.lists(st.integers(0 if dirty else 1, T), min_size=n, max_size=n))
    )
    lengths[draw(st.integers(0, n - 1))] = T
    if dtype in ("float16", "float32", "float64", "object"):
        for i, length in enumerate(lengths):
            X[i, length:] = np.nan
        for _ in range(draw(st.integers(0, 2)) if dirty else 0):
            where = tuple(draw(st.integers(0, d - 1)) for d in X.shape)
            X[where] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return X.astype(dtype)
    return X.clip(-100, 100).astype(dtype)  # integers and bools: no padding


@st.composite
def ragged_lists(draw, dirty, max_sequences=5, max_steps=4):
    """A list of per-sequence arrays of their own lengths (``dirty``: some
    empty, or of the wrong dimension)."""
    F = draw(st.integers(1, 2))
    univariate = F == 1 and draw(st.booleans())
    dtype = draw(st.sampled_from(["float32", "float64"]))
    out = []
    for _ in range(draw(st.integers(1, max_sequences))):
        T = draw(st.integers(0 if dirty else 1, max_steps))
        values = draw(st.lists(VALUES, min_size=T * F, max_size=T * F))
        a = _finite_for(dtype)(np.array(values)).astype(dtype)
        out.append(a if univariate else a.reshape(T, F))
    if dirty and draw(st.booleans()):
        i = draw(st.integers(0, len(out) - 1))
        out[i] = out[i][..., None]
    return out


@st.composite
def sequences(draw):
    dirty = draw(st.integers(0, 3)) == 0
    return draw(st.one_of(padded_arrays(dirty), ragged_lists(dirty)))


def _n_sequences(X):
    return len(X) if isinstance(X, list) else X.shape[0]


def _lengths(X):
    """Real lengths of finite-valued NaN-padded sequences."""
    X = skrnn._data.as_padded_array(X)[0] if not isinstance(X, np.ndarray) else X
    X = np.asarray(X, dtype=float)
    if X.ndim == 2:
        X = X[:, None, :]
    return skrnn._data.sequence_lengths(X)


# ------------------------------------------------------------- estimators
def _estimators():
    fast = {"max_iter": 2, "random_state": 0}
    gradient = {"hidden_layer_sizes": 2, "batch_size": 4, **fast}
    return [
        skrnn.RNNRegressor(**gradient),
        skrnn.RNNClassifier(**gradient),
        skrnn.LSTMRegressor(**gradient),
        skrnn.LSTMClassifier(**gradient),
        skrnn.GRURegressor(**gradient),
        skrnn.GRUClassifier(**gradient),
        skrnn.EMRecurrentRegressor(n_hidden=2, **fast),
        skrnn.EchoStateRegressor(n_reservoir=5, random_state=0),
        skrnn.EchoStateClassifier(n_reservoir=5, random_state=0),
    ]


ESTIMATORS = _estimators()


def _targets(draw, n, classifier):
    if classifier:
        labels = st.sampled_from([0, 1, 2]) if n > 2 else st.sampled_from([0, 1])
        return np.array(draw(st.lists(labels, min_size=n, max_size=n)))
    values = VALUES
    if draw(st.integers(0, 3)) == 0:
        values = st.one_of(VALUES, st.sampled_from([np.nan, np.inf]))
    return np.array(draw(st.lists(values, min_size=n, max_size=n)))


def check_predictions(estimator, X):
    n = _n_sequences(X)
    pred = outcome(lambda: estimator.predict(X))
    if pred is None:
        return
    assert pred.shape[0] == n
    if is_classifier(estimator):
        assert np.isin(pred, estimator.classes_).all()
        if not hasattr(estimator, "predict_proba"):
            return
        proba = estimator.predict_proba(X)
        assert proba.shape == (n, len(estimator.classes_))
        assert np.isfinite(proba).all(), proba
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-3)
    else:
        assert np.isfinite(pred).all(), f"{type(estimator).__name__}: {pred}"


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@fuzz
@given(data=st.data())
def test_estimators_fit_and_predict_anything(estimator, data):
    X = data.draw(sequences(), label="X")
    classifier = is_classifier(estimator)
    y = _targets(data.draw, _n_sequences(X), classifier)
    fitted = outcome(lambda: clone(estimator).fit(X, y))
    if fitted is None:
        return
    check_predictions(fitted, X)
    check_predictions(fitted, data.draw(sequences(), label="X_new"))


# ------------------------------------------------------------ to_sequences
COLUMN_VALUES = {
    "float": VALUES,
    "int": st.integers(-5, 5),
    "nan": st.sampled_from([np.nan, 1.0, 2.0]),
    "inf": st.sampled_from([np.inf, -np.inf, 1.0]),
    "bool": st.booleans(),
    "text": st.sampled_from(["a", "b", "1.5"]),
    "mixed": st.sampled_from([1, "x", 2.5, None]),
}


@st.composite
def long_tables(draw):
    n = draw(st.integers(0, 8))
    groups = st.one_of(
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.lists(st.sampled_from(["p", "q", None]), min_size=n, max_size=n),
    )
    times = st.one_of(
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
        st.lists(st.sampled_from([0.5, np.nan, 2.0, 3.0]), min_size=n, max_size=n),
        st.lists(st.sampled_from(["2020-01-02", "x", "3"]), min_size=n, max_size=n),
        st.lists(
            st.sampled_from(
                list(pd.to_datetime(["2020-01-01", "2021-06-30", "2020-02-29"]))
            ),
            min_size=n,
            max_size=n,
        ),
    )
    table = {"g": draw(groups), "t": draw(times)}
    kinds = draw(st.lists(st.sampled_from(sorted(COLUMN_VALUES)), max_size=3))
    for k, kind in enumerate(kinds):
        table[f"f{k}"] = draw(st.lists(COLUMN_VALUES[kind], min_size=n, max_size=n))
    table["y"] = draw(st.lists(COLUMN_VALUES["int"], min_size=n, max_size=n))
    df = pd.DataFrame(table)
    for k, kind in enumerate(kinds):
        if kind == "text" and draw(st.booleans()):
            df[f"f{k}"] = df[f"f{k}"].astype("category")
    return df


@fuzz
@given(
    df=long_tables(),
    target_at=st.sampled_from(["last", "first", "per_step", "max"]),
    time_gap=st.booleans(),
    features=st.sampled_from([None, ["f0"], ["f0", "f1"], ["nope"]]),
)
def test_to_sequences_on_any_long_table(df, target_at, time_gap, features):
    result = outcome(
        lambda: to_sequences(
            df, "g", "t", features, "y", target_at=target_at, time_gap=time_gap
        )
    )
    if result is None:
        return
    X, y, groups = result
    n_groups = df["g"].nunique()
    assert X.ndim == 3 and X.shape[0] == n_groups == len(groups) == len(y)
    assert X.shape[1] == df.groupby("g").size().max()
    assert not np.isinf(X).any()
    lengths = skrnn._data.sequence_lengths(X)
    assert (lengths >= 1).all()
    real = np.arange(X.shape[1])[None, :] < lengths[:, None]
    assert (~np.isnan(X).all(axis=2) | ~real).all()


# ------------------------------------------------------- TimestepTransformer
@pytest.mark.parametrize(
    "transformer",
    [SimpleImputer(), StandardScaler(), MinMaxScaler()],
    ids=lambda t: type(t).__name__,
)
@fuzz
@given(X=sequences(), X_new=sequences())
def test_timestep_transformer_on_anything(transformer, X, X_new):
    step = outcome(lambda: TimestepTransformer(transformer).fit(X))
    if step is None:
        return
    for data in (X, X_new):
        Xt = outcome(lambda data=data: step.transform(data))
        if Xt is None:
            continue
        lengths = _lengths(data)
        assert Xt.shape[:2] == (len(lengths), max(lengths.max(), 1)) or (
            Xt.shape[0] == len(lengths)
        )
        real = np.arange(Xt.shape[1])[None, :] < lengths[:, None]
        assert np.isnan(Xt[~real]).all()
        padded = skrnn._data.as_padded_array(data)[0]
        padded = np.asarray(padded, dtype=float)
        if padded.ndim == 2:
            padded = padded[:, None, :]
        finite_rows = np.isfinite(padded).all(axis=2) & real
        assert np.isfinite(Xt[finite_rows]).all(), "finite input, non-finite output"


# ----------------------------------------------------- the CLI's table reader
CELLS = st.sampled_from(
    ["1", "2.5", "-3", "", "NaN", "inf", "-inf", "1e300", "abc", '"q,u"', "é", "1,2"]
)
HEADERS = st.sampled_from(["id", "day", "bili", "albumin", "dead", "x", "", "id"])


@st.composite
def csv_files(draw):
    header = draw(st.lists(HEADERS, min_size=0, max_size=6))
    rows = draw(
        st.lists(
            st.lists(CELLS, min_size=len(header), max_size=len(header) + 1), max_size=6
        )
    )
    text = "\n".join(",".join(r) for r in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "latin-1", "utf-8-sig"]))
    content = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        content = content[: draw(st.integers(0, len(content)))]
    return content


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz_cli")
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "id": np.repeat(np.arange(12), 3),
            "day": np.tile([0, 10, 20], 12),
            "bili": rng.normal(size=36),
            "albumin": rng.normal(size=36),
            "dead": np.repeat(np.arange(12) % 2, 3),
        }
    )
    data = folder / "train.csv"
    table.to_csv(data, index=False)
    out = folder / "model.skops"
    args = ["train", str(data), "--group", "id", "--time", "day", "--target", "dead"]
    args += ["--model", "gru-classifier", "--param", "hidden_layer_sizes=2"]
    args += ["--param", "max_iter=2", "--out", str(out), "--quiet"]
    assert main(args) == 0
    return out


@fuzz
@given(content=csv_files(), parquet=st.booleans())
def test_table_reader_on_any_file(content, parquet):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("data.parquet" if parquet else "data.csv")
        path.write_bytes(content)
        try:
            df = read_table(path)
        except CLIError as exc:
            assert "\n" not in str(exc) and len(str(exc)) > 20
            return
        assert len(df) >= 1 and df.columns.is_unique


@fuzz
@given(content=csv_files())
def test_predict_on_any_csv(model_file, content):
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.csv"
        data.write_bytes(content)
        out = Path(folder) / "pred.csv"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            status = main(["predict", str(model_file), str(data), "--out", str(out)])
        if status == 0:
            pred = pd.read_csv(out)
            assert len(pred) >= 1
            assert np.isfinite(pred[["proba_0", "proba_1"]].to_numpy()).all()
        else:
            assert status == 1 and not out.exists()
            lines = err.getvalue().splitlines()
            assert len(lines) == 1 and lines[0].startswith("skrnn: error: "), lines
            assert not INTERNALS.search(lines[0]), lines[0]


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
