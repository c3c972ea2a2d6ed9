"""solver='simplex' against 'sgd' with the same settings, on the temporal order task.

LSTMClassifier (hidden 16), batch 32, learning rate 0.05, Nesterov momentum
0.9 (the defaults), ``--epochs`` epochs, no early stop; 1000 training and 1000
test sequences of each length; three seeds (the initial weights and the
shuffling). Reports the test accuracy (chance is 0.25) and the time per epoch:
'simplex' also computes each step's share of the recurrent gradient.

    python benchmarks/bench_simplex.py [--epochs 30] [--lengths 30 50]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skrnn import LSTMClassifier
from skrnn.datasets import make_temporal_order


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lengths", type=int, nargs="+", default=[30, 50])
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    for T in args.lengths:
        X, y = make_temporal_order(1000, T, random_state=0)
        Xt, yt = make_temporal_order(1000, T, random_state=1)
        for solver in ("sgd", "simplex"):
            scores, epoch_times = [], []
            for seed in range(3):
                start = time.perf_counter()
                est = LSTMClassifier(
                    (16,),
                    solver=solver,
                    learning_rate_init=0.05,
                    batch_size=32,
                    max_iter=args.epochs,
                    n_iter_no_change=args.epochs,
                    clip_norm=None,  # the setting RESULTS.md reports
                    pooling="last",  # the default then
                    bidirectional=False,  # likewise
                    averaging=0.0,  # likewise (no weight averaging then)
                    random_state=seed,
                ).fit(X, y)
                epoch_times.append((time.perf_counter() - start) / est.n_iter_)
                scores.append(est.score(Xt, yt))
            print(
                f"T={T} {solver:7s} test accuracy "
                + " ".join(f"{s:.3f}" for s in scores)
                + f" (median {np.median(scores):.3f}); "
                f"{np.median(epoch_times) * 1e3:.0f} ms per epoch",
                flush=True,
            )


if __name__ == "__main__":
    main()
