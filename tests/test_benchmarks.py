"""Smoke tests of the benchmark scripts: they run, with tiny settings."""

import importlib.util
from pathlib import Path

import numpy as np

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
