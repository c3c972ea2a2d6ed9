"""Smoke tests of the benchmark scripts: they run, with tiny settings."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from skrnn import GRURegressor, LSTMRegressor

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_long_memory_runs_every_method(capsys):
    bench = _load("bench_long_memory")
    results = bench.main(["--smoke"])
    assert set(results) == {(method, 10) for method in bench.METHODS}
    out = capsys.readouterr().out
    assert "success rate" in out and "T=10" in out


def test_bench_long_memory_runs_the_addition_problem(capsys):
    bench = _load("bench_long_memory")
    results = bench.main(["--smoke", "--task", "addition", "--methods", "skip", "lstm"])
    assert set(results) == {("skip", 10), ("lstm", 10)}
    assert "test MSE" in capsys.readouterr().out


def test_bench_long_memory_fresh_data_and_chrono_initialisation(capsys):
    bench = _load("bench_long_memory")
    methods = ["lstm-chrono", "gru-chrono"]
    results = bench.main(["--smoke", "--fresh", "--methods", *methods])
    assert set(results) == {(method, 10) for method in methods}
    assert "(fresh data)" in capsys.readouterr().out
    results = bench.main(["--smoke", "--methods", "sr1.2-sgd", "--input-scale", "5"])
    assert set(results) == {("sr1.2-sgd", 10)}


def test_chrono_initialisation_sets_the_gate_biases():
    bench = _load("bench_long_memory")
    X = np.random.RandomState(0).normal(size=(6, 12, 2))
    y = X[:, 0, 0]
    H, T = 5, 50
    for cell, Estimator in (("lstm", LSTMRegressor), ("gru", GRURegressor)):
        est = Estimator(hidden_layer_sizes=(H, H), random_state=0).partial_fit(X, y)
        bench.chrono_initialise(est, cell, T, np.random.RandomState(0))
        for layer in est.coefs_:
            gate = layer["bias_ih"][H : 2 * H]
            assert np.all((gate >= 0) & (gate <= np.log(T - 1)))
            np.testing.assert_array_equal(layer["bias_hh"][H : 2 * H], 0)
            if cell == "lstm":
                np.testing.assert_array_equal(layer["bias_ih"][:H], -gate)
                np.testing.assert_array_equal(layer["bias_hh"][:H], 0)
        assert np.all(np.isfinite(est.predict(X)))


def test_bench_long_memory_galvan_protocol(capsys):
    bench = _load("bench_long_memory")
    methods = ["sr1.2-sgd", "plain-sgd"]
    results = bench.main(
        ["--smoke", "--protocol", "galvan", "--dtype", "float32", "--methods", *methods]
    )
    assert set(results) == {(method, 10) for method in methods}
    out = capsys.readouterr().out
    assert "(galvan, float32, batch 20)" in out and "after 4 updates" in out


def test_galvan_temporal_order_places_the_markers_as_galvan():
    bench = _load("bench_long_memory")
    rng = np.random.RandomState(0)
    for _ in range(20):
        X, y = bench.galvan_temporal_order(50, 100, rng, np.float32)
        L = X.shape[1]
        assert X.dtype == np.float32 and 100 <= L < 110
        np.testing.assert_array_equal(X.sum(axis=2), 1)
        symbols = X.argmax(axis=2)
        markers = symbols < 2
        np.testing.assert_array_equal(markers.sum(axis=1), 2)
        first = markers[:, : int(0.1 * L)].argmax(axis=1)
        assert np.all(markers[:, : int(0.1 * L)].sum(axis=1) == 1)
        assert np.all(markers[:, int(0.1 * L) : int(0.5 * L)].sum(axis=1) == 1)
        second = int(0.1 * L) + markers[:, int(0.1 * L) :].argmax(axis=1)
        rows = np.arange(50)
        np.testing.assert_array_equal(
            y, symbols[rows, first] + 2 * symbols[rows, second]
        )


def test_galvan_initialisation_and_its_errors(capsys):
    bench = _load("bench_long_memory")
    X, y = bench.galvan_temporal_order(20, 10, np.random.RandomState(0))
    est = bench.RNNClassifier(hidden_layer_sizes=(50,), random_state=0)
    est.partial_fit(X, y, classes=np.arange(4))
    bench.galvan_initialise(est, 1.2, 3)
    layer = est.coefs_[0]
    radius = np.max(np.abs(np.linalg.eigvals(layer["weight_hh"])))
    np.testing.assert_allclose(radius, 1.2)
    draws = np.random.RandomState(3).normal(0.0, 0.1, 300)
    np.testing.assert_allclose(layer["weight_ih"].ravel(), draws)
    np.testing.assert_allclose(est.output_coef_.ravel(), draws[:200])
    np.testing.assert_array_equal(layer["bias_hh"], 0)
    with pytest.raises(ValueError, match="n_steps >= 10"):
        bench.galvan_temporal_order(5, 9, np.random.RandomState(0))
    with pytest.raises(SystemExit):
        bench.main(["--smoke", "--protocol", "galvan", "--methods", "lstm"])
    assert "gated cells" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--smoke", "--protocol", "galvan", "--task", "addition"])
    assert "temporal order task only" in capsys.readouterr().err
