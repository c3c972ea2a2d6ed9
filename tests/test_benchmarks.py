"""Smoke tests of the benchmark scripts: they run, with tiny settings."""

import importlib.util
from pathlib import Path

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
