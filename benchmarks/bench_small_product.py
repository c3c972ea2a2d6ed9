"""The time loop's small product against OpenBLAS on the kernels' own shapes.

For each build of the cell kernels this CPU runs (portable, x86-64-v3,
x86-64-v4) it times ``small_product`` (the code the time loop calls: the
per-step product, a step's input in one pass, the weight gradients' transposed
product) and OpenBLAS for the same product as the time loop would call it
(for a step's input: the projection, then the recurrent product added), one
thread, float32, best of 5 runs of many products each, all in one C loop.
The shapes are the benchmark models' (bench_speed.py: 8 features,
inference chunks of 64 rows, training chunks of 16 or 32 rows, 50 steps).

    python benchmarks/bench_small_product.py
    OPENBLAS_CORETYPE=Haswell python benchmarks/bench_small_product.py  # AVX2's BLAS
"""

import importlib
import time

import numpy as np
from threadpoolctl import threadpool_limits

# name, kind, m, n, k, k2: C (m, n) = A (m, k) B (k, n) [+ A2 (m, k2) B2];
# 'tn': C = A' B with A (k, m)
SHAPES = [
    ("LSTM-32 step input (infer)", "pair", 64, 128, 8, 32),
    ("GRU-64 step input (infer)", "pair", 64, 192, 8, 0),
    ("GRU-64 W_hh h (infer)", "plain", 64, 192, 64, 0),
    ("LSTM-32 dA W_hh (train)", "plain", 16, 32, 128, 0),
    ("LSTM-32 dW_hh (train)", "tn", 32, 128, 784, 0),
    ("LSTM-32 dW_ih (train)", "tn", 8, 128, 800, 0),
    ("LSTM-128 step input (infer)", "pair", 64, 512, 8, 128),
    ("LSTM-128 dA W_hh (train)", "plain", 32, 128, 512, 0),
    ("LSTM-256 W_hh h (infer)", "plain", 64, 1024, 256, 0),
]


def builds():
    found = {}
    for suffix, check in (
        ("", None),
        ("_v3", "cpu_has_x86_64_v3"),
        ("_v4", "cpu_has_x86_64_v4"),
    ):
        try:
            mod = importlib.import_module(f"skrnn._lstm{suffix}")
        except ImportError:
            continue
        if check is None or getattr(mod, check)():
            found[suffix.strip("_") or "portable"] = mod
    return found


def best_rate(fn, flops, repeats=5):
    calls = max(20, int(2e8 / flops))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(calls)
        best = min(best, time.perf_counter() - start)
    return flops * calls / best / 1e9


def main():
    rng = np.random.default_rng(0)
    mods = builds()
    print("GFLOP/s, float32, 1 thread; blas = the same product by OpenBLAS")
    print(
        f"{'shape':30} {'m x n, k':>18} "
        + " ".join(f"{b:>8}" for b in mods)
        + f" {'blas':>8}"
    )
    with threadpool_limits(1):
        for name, kind, m, n, k, k2 in SHAPES:
            f32 = np.float32
            a = rng.normal(size=(k, m) if kind == "tn" else (m, k)).astype(f32)
            b = rng.normal(size=(k, n)).astype(f32)
            c = np.empty((m, n), f32)
            if kind == "pair":
                args = (
                    a,
                    b,
                    c,
                    False,
                    rng.normal(size=(m, k2)).astype(f32),
                    rng.normal(size=(k2, n)).astype(f32),
                    rng.normal(size=n).astype(f32),
                )
            else:
                args = (a, b, c, kind == "plain")
            flops = 2 * m * n * (k + k2)
            rates = []
            for mod in [*mods.values(), None]:

                def fn(calls, mod=mod, args=args, trans=kind == "tn"):
                    (mod or mods["portable"]).small_product(
                        *args, trans=trans, repeat=calls, blas=mod is None
                    )

                rates.append(best_rate(fn, flops))
            shape = f"{m} x {n}, {k}" + (f"+{k2}" if k2 else "")
            print(f"{name:30} {shape:>18} " + " ".join(f"{r:8.1f}" for r in rates))


if __name__ == "__main__":
    main()
