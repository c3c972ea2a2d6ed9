"""Training speed of skrnn against PyTorch on the CPU, same model, same data.

One epoch of Adam on 2048 sequences x 50 steps x 8 features, hidden 32,
minibatches of 200, sequence-to-one regression. Each configuration runs
``--repeats`` times, interleaved (skrnn, torch, skrnn, ...); the medians and
their ratio are printed. Both sides use the same number of threads.

    python benchmarks/bench_speed.py [--cells rnn lstm gru] [--threads 1 2]
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import skrnn

N, T, F, H, BATCH = 2048, 50, 8, 32, 200

ESTIMATORS = {"rnn": "RNNRegressor", "lstm": "LSTMRegressor", "gru": "GRURegressor"}


def data(dtype=np.float64):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, T, F)).astype(dtype)
    y = X[:, :, 0].mean(axis=1) + 0.1 * rng.normal(size=N)
    return X, y.astype(dtype)


def time_skrnn(cell, X, y, threads):
    est = getattr(skrnn, ESTIMATORS[cell])(
        hidden_layer_sizes=H,
        max_iter=1,
        batch_size=BATCH,
        random_state=0,
        n_jobs=threads,
        shuffle=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
    return time.perf_counter() - start


def time_torch(cell, X, y, threads):
    import torch

    torch.set_num_threads(threads)
    dtype = torch.float64 if X.dtype == np.float64 else torch.float32
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        F, H, batch_first=True
    ).to(dtype)
    head = torch.nn.Linear(H, 1).to(dtype)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)
    start = time.perf_counter()
    for s in range(0, N, BATCH):
        out, _ = rnn(Xt[s : s + BATCH])
        pred = head(out[:, -1, :])[:, 0]
        loss = 0.5 * torch.mean((pred - yt[s : s + BATCH]) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    args = parser.parse_args()
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
        print("PyTorch is not installed: timing skrnn only.")
    X, y = data(np.dtype(args.dtype))
    print(
        f"one epoch, {N} sequences x {T} steps x {F} features, hidden {H}, "
        f"batch {BATCH}, {args.dtype}; median of {args.repeats}"
    )
    print(
        f"{'cell':5} {'threads':>7} {'skrnn s':>9} {'torch s':>9} {'torch/skrnn':>12}"
    )
    for cell in args.cells:
        if not hasattr(skrnn, ESTIMATORS[cell]):
            continue
        for threads in args.threads:
            ours, theirs = [], []
            for _ in range(args.repeats):
                ours.append(time_skrnn(cell, X, y, threads))
                if have_torch:
                    theirs.append(time_torch(cell, X, y, threads))
            a = statistics.median(ours)
            b = statistics.median(theirs) if theirs else float("nan")
            print(f"{cell:5} {threads:7d} {a:9.3f} {b:9.3f} {b / a:12.2f}")


if __name__ == "__main__":
    main()
