import numpy as np
import pytest

from skrnn.datasets import (
    PBCSEQ_FEATURES,
    load_pbcseq,
    make_addition,
    make_temporal_order,
)


def test_load_pbcseq_is_the_csv_unchanged():
    visits = load_pbcseq()
    assert visits.shape == (1945, 20)
    assert visits["id"].nunique() == 312
    assert set(visits["sex"]) == {"m", "f"}
    assert set(visits["status"]) == {0, 1, 2}
    assert visits["chol"].isna().sum() == 821
    assert visits.groupby("id").size().max() == 16


def test_load_pbcseq_death_task():
    X, y = load_pbcseq(return_X_y=True)
    visits = load_pbcseq()
    assert X.shape == (312, 16, len(PBCSEQ_FEATURES))
    assert "futime" not in PBCSEQ_FEATURES and "status" not in PBCSEQ_FEATURES
    assert y.sum() == (visits.groupby("id")["status"].first() == 2).sum()
    first = visits[visits["id"] == visits["id"].min()].sort_values("day")
    assert (
        X[0, : len(first), PBCSEQ_FEATURES.index("bili")].tolist()
        == first["bili"].tolist()
    )
    assert np.all(np.isnan(X[0, len(first) :]))
    assert set(
        np.unique(X[:, :, PBCSEQ_FEATURES.index("sex")][~np.isnan(X[:, :, 0])])
    ) == {0.0, 1.0}


def test_make_addition():
    X, y = make_addition(500, 50, random_state=0)
    assert X.shape == (500, 50, 2) and y.shape == (500,)
    markers = X[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2)
    first = markers.argmax(axis=1)
    second = 49 - markers[:, ::-1].argmax(axis=1)
    assert np.all(first < 5) and np.all((second >= 5) & (second < 25))
    rows = np.arange(500)
    assert np.allclose(y, X[rows, first, 0] + X[rows, second, 0])
    assert np.isclose(np.mean((y - y.mean()) ** 2), 1 / 6, atol=0.02)
    again, _ = make_addition(500, 50, random_state=0)
    assert np.array_equal(X, again)


def test_make_temporal_order():
    X, y = make_temporal_order(400, 100, random_state=0)
    assert X.shape == (400, 100, 6)
    assert np.all(X.sum(axis=2) == 1)
    relevant = X[:, :, 4:].sum(axis=2)
    assert np.all(relevant.sum(axis=1) == 2)
    steps = [np.flatnonzero(r) for r in relevant]
    assert all(10 <= s[0] < 20 and 50 <= s[1] < 60 for s in steps)
    assert set(y) == {"XX", "XY", "YX", "YY"}
    names = np.array(["X", "Y"])
    for i in range(20):
        expected = "".join(names[X[i, steps[i], 4:].argmax(axis=1)])
        assert y[i] == expected


def test_generators_check_their_arguments():
    with pytest.raises(ValueError, match="n_steps"):
        make_addition(10, 5)
    with pytest.raises(ValueError, match="n_sequences"):
        make_temporal_order(0, 100)
