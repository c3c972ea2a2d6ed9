"""SequenceImputer: each sequence's own last value, the training mean before
it, indicators and times, padding kept, nothing read across sequences."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrnn import GRUClassifier, RNNRegressor
from skrnn.datasets import load_pbcseq
from skrnn.preprocessing import SequenceImputer, TimestepTransformer, to_sequences

NAN = np.nan


@pytest.fixture
def X():
    # feature 0: a lab value, feature 1: the day of the visit
    return np.array(
        [
            [[NAN, 0.0], [2.0, 30.0], [NAN, 90.0], [NAN, NAN]],
            [[4.0, 0.0], [NAN, 60.0], [NAN, NAN], [NAN, NAN]],
            [[NAN, 0.0], [NAN, 10.0], [6.0, 20.0], [NAN, 45.0]],
        ]
    )


def test_carries_forward_and_fills_the_start_with_the_training_mean(X):
    out = SequenceImputer().fit_transform(X)
    assert out.shape == X.shape
    assert_allclose(out[0, :3, 0], [4.0, 2.0, 2.0])  # mean of 2, 4, 6 first
    assert_allclose(out[1, :2, 0], [4.0, 4.0])
    assert_allclose(out[2, :, 0], [4.0, 4.0, 6.0, 6.0])
    assert_allclose(out[..., 1][~np.isnan(X[..., 1])], X[..., 1][~np.isnan(X[..., 1])])
    # padding stays padding, in every column
    assert np.isnan(out[0, 3]).all() and np.isnan(out[1, 2:]).all()
    # an all-NaN step inside a sequence is a real step: carried forward
    inner = np.array([[[1.0, 5.0], [NAN, NAN], [3.0, NAN]]])
    assert_allclose(SequenceImputer().fit_transform(inner)[0], [[1, 5], [1, 5], [3, 5]])


def test_indicators_then_times_in_steps_or_in_the_time_columns_unit(X):
    steps = SequenceImputer(add_indicator=True, add_time_since=True).fit(X)
    out = steps.transform(X)
    assert out.shape == (3, 4, 6)  # 2 imputed, 2 indicators, 2 times
    assert_array_equal(out[0, :3, 2], [1, 0, 1])
    assert_array_equal(out[0, :3, 4], [0, 0, 1])  # steps since observed
    assert_array_equal(out[2, :, 4], [0, 1, 0, 1])  # before the first: since start
    assert list(steps.get_feature_names_out()) == [
        "x0",
        "x1",
        "missingindicator_x0",
        "missingindicator_x1",
        "timesince_x0",
        "timesince_x1",
    ]
    days = SequenceImputer(add_indicator=True, add_time_since=True, time_column=1)
    out = days.fit_transform(X)
    assert out.shape == (3, 4, 4)  # the time column has no indicator or time
    assert_allclose(out[0, :3, 3], [0, 0, 60])
    assert_allclose(out[1, :2, 3], [0, 60])
    assert_allclose(out[2, :, 3], [0, 10, 0, 25])
    assert np.isnan(out[1, 2:]).all()
    only_times = SequenceImputer(add_time_since=True, time_column=-1).fit(X)
    assert list(only_times.get_feature_names_out()) == ["x0", "x1", "timesince_x0"]


def test_time_column_of_gaps_gives_the_same_times(X):
    gaps = X.copy()
    gaps[:, 1:, 1] = np.diff(X[:, :, 1], axis=1)
    gaps[:, 0, 1] = NAN  # a first gap is not used
    gaps[0, 0, 0] = 1.0  # keep the first step real
    X = X.copy()
    X[0, 0, 0] = 1.0
    a = SequenceImputer(add_time_since=True, time_column=1).fit_transform(X)
    b = SequenceImputer(add_time_since=True, time_column=1, time_kind="gap")
    b = b.fit_transform(gaps)
    assert_allclose(a[..., 2], b[..., 2])


def test_no_value_leaks_between_patients():
    X, y, groups = to_sequences(
        load_pbcseq(), "id", "day", features=["bili", "chol", "albumin", "day"]
    )
    assert np.isnan(X[..., 1]).sum() > 100  # cholesterol is often missing
    imputer = SequenceImputer(add_indicator=True, add_time_since=True, time_column=3)
    together = imputer.fit(X).transform(X)
    for i in range(0, X.shape[0], 7):
        alone = imputer.transform(X[i : i + 1])
        assert_allclose(alone[0], together[i], equal_nan=True)
    # another patient's values never change this one's imputation
    other = X.copy()
    other[1:] = np.where(np.isnan(other[1:]), NAN, other[1:] * 100 + 7)
    assert_allclose(imputer.transform(other)[0], together[0], equal_nan=True)
    # a value before a patient's first observation is the training mean, never
    # the previous patient's last value
    first_seen = np.argmax(~np.isnan(X[:, :, 1]), axis=1)
    late = np.flatnonzero(first_seen > 0)
    assert late.size
    assert_allclose(together[late, 0, 1], imputer.statistics_[1])


def test_dtype_ragged_lists_and_dataframe_names(X):
    out = SequenceImputer(add_indicator=True).fit_transform(X.astype(np.float32))
    assert out.dtype == np.float32
    ragged = [np.array([[1.0], [NAN], [3.0]]), np.array([[NAN], [5.0]])]
    out = SequenceImputer().fit_transform(ragged)
    assert_allclose(out[0, :, 0], [1, 1, 3])
    assert_allclose(out[1, :2, 0], [3, 5])
    table = pd.DataFrame({"bili": [1.0, NAN, 3.0], "day": [0.0, 10.0, 20.0]})
    imputer = SequenceImputer(add_indicator=True, time_column="day").fit(table)
    assert list(imputer.get_feature_names_out()) == [
        "bili",
        "day",
        "missingindicator_bili",
    ]
    # one-step sequences: the training mean, as SimpleImputer's
    assert_allclose(imputer.transform(table)[:, 0, 0], [1, 2, 3])


def test_errors_say_what_is_wrong(X):
    never = X.copy()
    never[..., 0] = NAN
    never[:, 0, 1] = 0.0
    with pytest.raises(ValueError, match="'x0' is never observed"):
        SequenceImputer().fit(never)
    nan_time = X.copy()
    nan_time[2, 1, 1] = NAN
    with pytest.raises(ValueError, match="time column 'x1' is nan in sequence 2 at"):
        SequenceImputer(time_column=1).fit(nan_time)
    fitted = SequenceImputer(time_column=1).fit(X)
    with pytest.raises(ValueError, match="every real step needs a finite time"):
        fitted.transform(nan_time)
    backwards = X.copy()
    backwards[2, 3, 1] = 5.0
    with pytest.raises(ValueError, match="decreases in sequence 2 from step 2"):
        SequenceImputer(time_column=1).fit(backwards)
    gaps = X.copy()
    gaps[1, 1, 1] = -3.0
    with pytest.raises(ValueError, match="gap of sequence 1 at step 1 is negative"):
        SequenceImputer(time_column=1, time_kind="gap").fit(gaps)
    with pytest.raises(ValueError, match="out of range for 2 features"):
        SequenceImputer(time_column=2).fit(X)
    with pytest.raises(ValueError, match="X has no feature names"):
        SequenceImputer(time_column="day").fit(X)
    table = pd.DataFrame({"bili": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"the features are \['bili'\]"):
        SequenceImputer(time_column="day").fit(table)
    with pytest.raises(ValueError, match="no observed step"):
        SequenceImputer().fit(X).transform(np.full((1, 2, 2), NAN))


def test_estimators_reject_nan_inside_a_sequence_and_name_the_imputer(X):
    y = np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="SequenceImputer") as info:
        RNNRegressor(max_iter=1).fit(X, y)
    assert "Sequence 0 has NaN at step 0 (feature 0)" in str(info.value)
    pipe = make_pipeline(
        SequenceImputer(add_indicator=True, add_time_since=True, time_column=1),
        TimestepTransformer(StandardScaler()),
        RNNRegressor(hidden_layer_sizes=4, max_iter=2, random_state=0),
    )
    with pytest.warns(Warning):
        pipe.fit(X, y)
    assert np.isfinite(pipe.predict(X)).all()


def test_a_pipeline_on_the_bundled_visits_beats_chance():
    X, y = load_pbcseq(return_X_y=True)
    pipe = make_pipeline(
        SequenceImputer(add_indicator=True),
        TimestepTransformer(StandardScaler()),
        GRUClassifier(
            hidden_layer_sizes=8, max_iter=15, learning_rate_init=0.01, random_state=0
        ),
    )
    with pytest.warns(Warning):
        pipe.fit(X[:200], y[:200])
    assert pipe.score(X[200:], y[200:]) > 0.6
