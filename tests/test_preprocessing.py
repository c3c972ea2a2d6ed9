import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skrnn import RNNClassifier
from skrnn.datasets import load_pbcseq
from skrnn.preprocessing import TimestepTransformer, to_sequences


@pytest.fixture
def visits():
    return pd.DataFrame(
        {
            "patient": ["b", "a", "a", "b", "a"],
            "day": [10, 30, 0, 0, 60],
            "bili": [2.0, 1.5, 1.0, np.nan, 3.0],
            "age": [40.0, 50.0, 50.0, 40.0, 50.0],
            "dead": [1, 0, 0, 1, 1],
            "sex": ["m", "f", "f", "m", "f"],
        }
    )


def test_to_sequences_orders_pads_and_picks_targets(visits):
    X, y, groups = to_sequences(visits, "patient", "day", target="dead")
    assert list(groups) == ["a", "b"]
    assert X.shape == (2, 3, 2)  # bili, age: numeric columns, sex skipped
    assert_allclose(X[0, :, 0], [1.0, 1.5, 3.0])
    assert np.isnan(X[1, 0, 0]) and X[1, 1, 0] == 2.0 and np.all(np.isnan(X[1, 2]))
    assert list(y) == [1, 1]
    _, first, _ = to_sequences(
        visits, "patient", "day", target="dead", target_at="first"
    )
    assert list(first) == [0, 1]
    _, mean, _ = to_sequences(visits, "patient", "day", target="dead", target_at="mean")
    assert_allclose(mean, [1 / 3, 1])
    _, steps, _ = to_sequences(
        visits, "patient", "day", target="dead", target_at="per_step"
    )
    assert_allclose(steps, [[0, 0, 1], [1, 1, np.nan]])


def test_to_sequences_time_gap_and_datetimes(visits):
    X, _, _ = to_sequences(visits, "patient", "day", features=["bili"], time_gap=True)
    assert_allclose(X[0, :, 1], [0, 30, 30])
    dated = visits.assign(
        day=pd.Timestamp("2020-01-01") + pd.to_timedelta(visits["day"], unit="D")
    )
    Xd, _, _ = to_sequences(dated, "patient", "day", features=["bili"], time_gap=True)
    assert_allclose(Xd, X, equal_nan=True)


def test_to_sequences_reads_polars(visits):
    pl = pytest.importorskip("polars")
    X, y, groups = to_sequences(
        pl.from_pandas(visits),
        "patient",
        "day",
        features=["bili", "age"],
        target="dead",
    )
    Xp, yp, gp = to_sequences(
        visits, "patient", "day", features=["bili", "age"], target="dead"
    )
    assert_allclose(X, Xp, equal_nan=True)
    assert list(y) == list(yp) and list(groups) == list(gp)


def test_to_sequences_errors_name_the_column(visits):
    with pytest.raises(ValueError, match="Column 'visit' is not in the table"):
        to_sequences(visits, "patient", "visit")
    with pytest.raises(ValueError, match="Column 'sex' is not numeric"):
        to_sequences(visits, "patient", "day", features=["bili", "sex"])
    dup = pd.concat([visits, visits.iloc[[0]]])
    with pytest.raises(ValueError, match="more than one row for patient='b' at day=10"):
        to_sequences(dup, "patient", "day")
    cat = visits.assign(sex=visits["sex"].astype("category"))
    with pytest.raises(ValueError, match="categorical with non-numeric categories"):
        to_sequences(cat, "patient", "day", features=["sex"])
    numeric_cat = visits.assign(stage=pd.Categorical([1, 2, 2, 3, 4]))
    X, _, _ = to_sequences(numeric_cat, "patient", "day", features=["stage"])
    assert_allclose(X[0, :, 0], [2, 2, 4])
    empty = visits.assign(bili=np.nan)
    with pytest.raises(ValueError, match="every feature missing"):
        to_sequences(empty, "patient", "day", features=["bili"])
    with pytest.raises(TypeError, match="pandas or polars"):
        to_sequences(visits.to_numpy(), "patient", "day")


def test_timestep_transformer_keeps_padding_and_imputes_real_steps():
    X = np.array(
        [
            [[1.0, 10.0], [np.nan, 20.0], [3.0, np.nan]],
            [[5.0, 30.0], [np.nan, np.nan], [np.nan, np.nan]],
        ]
    )
    out = TimestepTransformer(SimpleImputer()).fit_transform(X)
    assert_allclose(out[0], [[1, 10], [3, 20], [3, 20]])
    assert_allclose(out[1, 0], [5, 30])
    assert np.all(np.isnan(out[1, 1:]))
    scaled = TimestepTransformer(StandardScaler()).fit(out)
    real = scaled.transform(out)[~np.isnan(out[:, :, 0])]
    assert_allclose(real.mean(axis=0), 0, atol=1e-12)
    ragged = [np.array([[1.0], [2.0]]), np.array([[4.0]])]
    assert TimestepTransformer(StandardScaler()).fit_transform(ragged).shape == (
        2,
        2,
        1,
    )


def test_timestep_transformer_feature_names_and_one_hot():
    X = np.array([[[0.0], [1.0], [2.0]], [[1.0], [np.nan], [np.nan]]])
    tt = TimestepTransformer(OneHotEncoder(sparse_output=False)).fit(X)
    out = tt.transform(X)
    assert out.shape == (2, 3, 3)
    assert list(tt.get_feature_names_out()) == ["x0_0.0", "x0_1.0", "x0_2.0"]
    assert np.all(np.isnan(out[1, 1:]))
    table = pd.DataFrame({"bili": [1.0, 2.0], "age": [3.0, 4.0]})
    scaler = TimestepTransformer(StandardScaler()).fit(table)
    assert list(scaler.get_feature_names_out()) == ["bili", "age"]
    with pytest.raises(ValueError, match="expecting 2 features"):
        scaler.transform(np.ones((2, 3, 3)))


def test_timestep_transformer_in_a_grid_search_on_the_bundled_visits():
    X, y = load_pbcseq(return_X_y=True)
    pipe = make_pipeline(
        TimestepTransformer(SimpleImputer()),
        TimestepTransformer(StandardScaler()),
        RNNClassifier(
            hidden_layer_sizes=8, max_iter=20, learning_rate_init=0.01, random_state=0
        ),
    )
    assert (
        clone(pipe).get_params()["timesteptransformer-1__transformer__strategy"]
        == "mean"
    )
    grid = GridSearchCV(
        pipe,
        {"timesteptransformer-1__transformer__strategy": ["mean", "median"]},
        cv=2,
        scoring="roc_auc",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert grid.best_params_["timesteptransformer-1__transformer__strategy"] in (
        "mean",
        "median",
    )
    assert 0.75 < grid.best_score_ <= 1.0
