"""Echo state networks: skrnn against reservoirpy on Mackey-Glass.

One-step-ahead forecasting of the Mackey-Glass series (tau=17, reservoirpy's
own generator), the same hyper-parameters on both sides: 500 units, spectral
radius 1.25, leak rate 0.3, input scaling 1, dense +-1 input weights and a
+-1 input bias, 10% recurrent connectivity (reservoirpy draws the positions
at random, skrnn puts them on cyclic diagonals: bench_esn_topology.py shows
the two forecast and remember alike), ridge 1e-7, washout 100. Both fit
on the first 4000 steps and predict the whole series from a zero state; the
test NRMSE is over the last 2000 steps. Three reservoir seeds, each timed
``--repeats`` times interleaved; medians.

    pip install reservoirpy
    python benchmarks/bench_esn.py [--repeats 3]
"""

import argparse
import statistics
import time

import numpy as np

from skrnn import EchoStateRegressor

UNITS, SR, LEAK, SCALING, RIDGE, WASHOUT, TRAIN = 500, 1.25, 0.3, 1.0, 1e-7, 100, 4000


def nrmse(pred, truth):
    return float(np.sqrt(np.mean((pred - truth) ** 2)) / np.std(truth))


def run_skrnn(X, y, seed):
    start = time.perf_counter()
    esn = EchoStateRegressor(
        UNITS,
        spectral_radius=SR,
        leak_rate=LEAK,
        input_scaling=SCALING,
        alpha=RIDGE,
        washout=WASHOUT,
        sparsity=0.9,
        return_sequences=True,
        random_state=seed,
    )
    esn.fit(X[None, :TRAIN, None], y[None, :TRAIN])
    pred = esn.predict(X[None, :, None])[0]
    return time.perf_counter() - start, nrmse(pred[TRAIN:], y[TRAIN:])


def run_reservoirpy(X, y, seed):
    from reservoirpy import mat_gen
    from reservoirpy.nodes import Reservoir, Ridge

    start = time.perf_counter()
    reservoir = Reservoir(
        units=UNITS,
        lr=LEAK,
        sr=SR,
        input_scaling=SCALING,
        input_connectivity=1.0,
        rc_connectivity=0.1,
        bias=mat_gen.bernoulli,
        seed=seed,
    )
    esn = reservoir >> Ridge(ridge=RIDGE)
    esn.fit(X[:TRAIN, None], y[:TRAIN, None], warmup=WASHOUT)
    reservoir.reset()
    pred = esn.run(X[:, None])[:, 0]
    return time.perf_counter() - start, nrmse(pred[TRAIN:], y[TRAIN:])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from reservoirpy.datasets import mackey_glass

    series = mackey_glass(TRAIN + 2001, tau=17)[:, 0]
    X, y = series[:-1], series[1:]
    rows = []
    for seed in range(3):
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(run_skrnn(X, y, seed))
            theirs.append(run_reservoirpy(X, y, seed))
        rows.append(
            (
                seed,
                statistics.median(t for t, _ in ours),
                ours[0][1],
                statistics.median(t for t, _ in theirs),
                theirs[0][1],
            )
        )
        print(
            f"seed {seed}: skrnn {rows[-1][1]:.3f} s NRMSE {rows[-1][2]:.2e}; "
            f"reservoirpy {rows[-1][3]:.3f} s NRMSE {rows[-1][4]:.2e}",
            flush=True,
        )
    med = [statistics.median(r[k] for r in rows) for k in range(1, 5)]
    print(
        f"median over seeds: skrnn {med[0]:.3f} s, NRMSE {med[1]:.2e}; reservoirpy "
        f"{med[2]:.3f} s, NRMSE {med[3]:.2e}; time ratio reservoirpy/skrnn "
        f"{med[2] / med[0]:.2f}"
    )


if __name__ == "__main__":
    main()
