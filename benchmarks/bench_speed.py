"""Speed of skrnn against PyTorch on the CPU: same data, model, minibatch, optimizer.

2048 sequences x 50 steps x 8 features, sequence-to-one regression. For each
model, dtype, minibatch and thread count it times ``fit`` (3 epochs of Adam)
and ``predict`` on the whole set, skrnn and PyTorch interleaved (skrnn, torch,
skrnn, ...), and prints medians, the ratio skrnn / PyTorch (below 1: skrnn is
faster), the spread of the repeats ((max - min) / median) and the forward
pass's GFLOP/s beside a NumPy (OpenBLAS) GEMM measured in the same run with
the same threads. Then the peak resident memory of one fit, each side in a
process of its own, and the cost curve (time as N and T grow 4x and 16x, H 2x
and 4x).

    python benchmarks/bench_speed.py                      # the whole table
    python benchmarks/bench_speed.py --models lstm128 --dtypes float32 \\
        --batches 64 --threads 2 --no-memory --no-curve   # about a minute
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import skrnn

N, T, F, EPOCHS = 2048, 50, 8, 3

# name: (cell, hidden size)
MODELS = {
    "rnn32": ("rnn", 32),
    "lstm32": ("lstm", 32),
    "gru64": ("gru", 64),
    "lstm128": ("lstm", 128),
    "lstm256": ("lstm", 256),
    "gru256": ("gru", 256),
}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
ESTIMATORS = {"rnn": "RNNRegressor", "lstm": "LSTMRegressor", "gru": "GRURegressor"}


def data(dtype, n=N, steps=T):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, steps, F)).astype(dtype)
    y = X[:, :, 0].mean(axis=1) + 0.1 * rng.normal(size=n)
    return X, y.astype(dtype)


def forward_flops(cell, H, n, steps):
    """Multiply-adds x 2 of the forward pass's products (gates ignored)."""
    return 2.0 * n * steps * GATES[cell] * H * (F + H)


def skrnn_estimator(cell, H, batch, threads, epochs=EPOCHS):
    return getattr(skrnn, ESTIMATORS[cell])(
        hidden_layer_sizes=H,
        max_iter=epochs,
        batch_size=batch,
        random_state=0,
        n_jobs=threads,
        shuffle=False,
        tol=0.0,
        clip_norm=None,  # as the PyTorch side
        pooling="last",  # the last state, as the PyTorch side reads it
        bidirectional=False,  # one direction, as the PyTorch side runs
        averaging=0.0,  # likewise (no weight averaging then)
    )


def skrnn_fit(cell, H, X, y, batch, threads, epochs=EPOCHS):
    est = skrnn_estimator(cell, H, batch, threads, epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
    return time.perf_counter() - start, est


def skrnn_predict(est, X):
    start = time.perf_counter()
    est.predict(X)
    return time.perf_counter() - start


def torch_model(cell, H, dtype, threads):
    import torch

    torch.set_num_threads(threads)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        F, H, batch_first=True
    ).to(tdtype)
    head = torch.nn.Linear(H, 1).to(tdtype)
    return rnn, head


def torch_fit(cell, H, X, y, batch, threads, epochs=EPOCHS):
    import torch

    rnn, head = torch_model(cell, H, X.dtype, threads)
    opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    start = time.perf_counter()
    for _ in range(epochs):
        for s in range(0, X.shape[0], batch):
            out, _ = rnn(Xt[s : s + batch])
            pred = head(out[:, -1, :])[:, 0]
            loss = 0.5 * torch.mean((pred - yt[s : s + batch]) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return time.perf_counter() - start, (rnn, head)


def torch_predict(model, X):
    import torch

    rnn, head = model
    start = time.perf_counter()
    with torch.inference_mode():
        out, _ = rnn(torch.from_numpy(X))
        head(out[:, -1, :]).numpy()
    return time.perf_counter() - start


def gemm_rate(dtype, threads, n=1024, repeats=5):
    """GFLOP/s of a square NumPy (OpenBLAS) GEMM on ``threads`` threads."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, n)).astype(dtype)
    b = rng.normal(size=(n, n)).astype(dtype)
    times = []
    with threadpool_limits(limits=threads, user_api="blas"):
        a @ b
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - start)
    return 2.0 * n**3 / min(times) / 1e9


def spread(values):
    return (max(values) - min(values)) / statistics.median(values)


def run_table(args, have_torch):
    print(
        f"{N} sequences x {T} steps x {F} features, sequence-to-one; train = "
        f"{EPOCHS} epochs of Adam, predict = the {N} sequences; median of "
        f"{args.repeats} interleaved repeats; ratio = skrnn / torch; spread = "
        "(max - min) / median; GFLOP/s of the forward pass in predict, gemm = "
        "NumPy GEMM 1024^3 on the same threads"
    )
    head = (
        f"{'model':8} {'dtype':7} {'batch':>5} {'thr':>3} | {'train s':>7} "
        f"{'torch s':>7} {'ratio':>5} {'spread':>11} | {'pred s':>6} {'torch s':>7} "
        f"{'ratio':>5} {'spread':>11} | {'GF/s':>5} {'torch':>5} {'gemm':>5}"
    )
    print(head)
    print("-" * len(head))
    rows = []
    rates = {}
    for name in args.models:
        cell, H = MODELS[name]
        for dtype in args.dtypes:
            X, y = data(np.dtype(dtype))
            flops = forward_flops(cell, H, N, T)
            for threads in args.threads:
                if (dtype, threads) not in rates:
                    rates[dtype, threads] = gemm_rate(np.dtype(dtype), threads)
                for batch in args.batches:
                    fit_a, fit_b, pred_a, pred_b = [], [], [], []
                    for _ in range(args.repeats):
                        seconds, est = skrnn_fit(cell, H, X, y, batch, threads)
                        fit_a.append(seconds)
                        pred_a.append(skrnn_predict(est, X))
                        if have_torch:
                            seconds, model = torch_fit(cell, H, X, y, batch, threads)
                            fit_b.append(seconds)
                            pred_b.append(torch_predict(model, X))
                    fa, pa = statistics.median(fit_a), statistics.median(pred_a)
                    fb = statistics.median(fit_b) if fit_b else float("nan")
                    pb = statistics.median(pred_b) if pred_b else float("nan")
                    sp_fit = (
                        f"{spread(fit_a):4.0%}/{spread(fit_b) if fit_b else 0:4.0%}"
                    )
                    sp_pred = (
                        f"{spread(pred_a):4.0%}/{spread(pred_b) if pred_b else 0:4.0%}"
                    )
                    print(
                        f"{name:8} {dtype:7} {batch:5d} {threads:3d} | {fa:7.3f} "
                        f"{fb:7.3f} {fa / fb:5.2f} {sp_fit:>11} | {pa:6.3f} {pb:7.3f} "
                        f"{pa / pb:5.2f} {sp_pred:>11} | {flops / pa / 1e9:5.1f} "
                        f"{flops / pb / 1e9:5.1f} {rates[dtype, threads]:5.1f}",
                        flush=True,
                    )
                    rows.append(
                        dict(
                            model=name,
                            dtype=dtype,
                            batch=batch,
                            threads=threads,
                            train=fa,
                            train_torch=fb,
                            predict=pa,
                            predict_torch=pb,
                            gflops=flops / pa / 1e9,
                            gemm_gflops=rates[dtype, threads],
                        )
                    )
    return rows


def peak_memory(side, name, dtype, batch, threads):
    """Run one fit in a fresh process: its peak RSS and the RSS before (MiB, Linux)."""
    out = subprocess.run(
        [sys.executable, __file__, "--_memory", side, name, dtype, str(batch)]
        + ["--threads", str(threads)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _status(field):
    """A /proc/self/status field in MiB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def _memory_child(side, name, dtype, batch, threads):
    cell, H = MODELS[name]
    X, y = data(np.dtype(dtype))
    if side == "torch":
        import torch  # noqa: F401
    before = _status("VmRSS")
    # reset the peak (VmHWM) to the current size, so that it is the fit's
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    fit = skrnn_fit if side == "skrnn" else torch_fit
    fit(cell, H, X, y, batch, threads, epochs=1)
    print(json.dumps({"before": before, "peak": _status("VmHWM")}))


def run_memory(args, have_torch):
    print(
        "\npeak resident memory of one fit (1 epoch), each in its own process, MiB: "
        "peak, and peak above the process before fitting (imports and data)"
    )
    print(f"{'model':8} {'dtype':7} {'batch':>5} | {'skrnn':>13} | {'torch':>13}")
    sides = ["skrnn", "torch"] if have_torch else ["skrnn"]
    for name in args.models:
        for dtype in args.dtypes:
            batch = args.batches[0]
            cols = []
            for side in sides:
                m = peak_memory(side, name, dtype, batch, args.threads[-1])
                cols.append(f"{m['peak']:6.0f} +{m['peak'] - m['before']:5.0f}")
            cols += ["-"] * (2 - len(cols))
            print(f"{name:8} {dtype:7} {batch:5d} | {cols[0]:>13} | {cols[1]:>13}")


def run_curve(args, have_torch):
    """Time of one epoch (train) and of predict as N, T and H grow."""
    cell, H0 = args.curve_model.split(":") if ":" in args.curve_model else ("lstm", 32)
    H0 = int(H0)
    n0, t0 = 512, 25
    dtype = np.dtype(args.dtypes[0])
    batch, threads = args.batches[0], args.threads[-1]
    print(
        f"\ncost curve: {cell.upper()}, base N={n0}, T={t0}, H={H0}, {dtype}, batch "
        f"{batch}, {threads} threads, 1 epoch; time / base time (linear = the factor)"
    )
    print(
        f"{'grow':8} {'factor':>6} | {'train':>6} {'torch':>6} | {'pred':>6} {'torch':>6}"
    )
    base = None
    for what, factor in [
        ("-", 1),
        ("N", 4),
        ("N", 16),
        ("T", 4),
        ("T", 16),
        ("H", 2),
        ("H", 4),
    ]:
        n = n0 * factor if what == "N" else n0
        steps = t0 * factor if what == "T" else t0
        H = H0 * factor if what == "H" else H0
        X, y = data(dtype, n, steps)
        times = [[], [], [], []]
        for _ in range(args.repeats):
            seconds, est = skrnn_fit(cell, H, X, y, batch, threads, epochs=1)
            times[0].append(seconds)
            times[2].append(skrnn_predict(est, X))
            if have_torch:
                seconds, model = torch_fit(cell, H, X, y, batch, threads, epochs=1)
                times[1].append(seconds)
                times[3].append(torch_predict(model, X))
        med = [statistics.median(t) if t else float("nan") for t in times]
        if base is None:
            base = med
            print(
                f"{'base s':8} {1:6d} | "
                + " ".join(f"{m:6.3f}" for m in med[:2])
                + " | "
                + " ".join(f"{m:6.3f}" for m in med[2:])
            )
            continue
        rel = [m / b for m, b in zip(med, base, strict=True)]
        print(
            f"{what:8} {factor:6d} | "
            + " ".join(f"{r:6.2f}" for r in rel[:2])
            + " | "
            + " ".join(f"{r:6.2f}" for r in rel[2:]),
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument(
        "--dtypes",
        nargs="+",
        default=["float32", "float64"],
        choices=["float32", "float64"],
    )
    parser.add_argument("--batches", nargs="+", type=int, default=[32, 64, 200])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-table", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-curve", action="store_true")
    parser.add_argument(
        "--curve-model", default="lstm:32", help="cell:hidden of the cost curve"
    )
    parser.add_argument(
        "--no-torch", action="store_true", help="time skrnn only (e.g. another build)"
    )
    parser.add_argument("--json", help="also write the table's rows to this file")
    parser.add_argument("--_memory", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._memory:
        side, name, dtype, batch = args._memory
        _memory_child(side, name, dtype, int(batch), args.threads[-1])
        return
    try:
        import torch  # noqa: F401

        have_torch = not args.no_torch
    except ImportError:
        have_torch = False
        print("PyTorch is not installed: timing skrnn only.")
    print(f"skrnn {skrnn.__version__}, NumPy {np.__version__}", end="")
    print(f", PyTorch {torch.__version__}" if have_torch else "")
    if not args.no_table:
        rows = run_table(args, have_torch)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)
    if not args.no_memory:
        run_memory(args, have_torch)
    if not args.no_curve:
        run_curve(args, have_torch)


if __name__ == "__main__":
    main()
