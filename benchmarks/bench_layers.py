"""Pooling, bidirectional layers and input dropout on UEA/UCR sets (issue 14).

Test accuracy of a GRU or LSTM classifier (every other parameter at its
default) for each layer option, over random states, with fit times. Only the
issue's named sets may be used (aeon's bundled copies); the others of that
bundle are held out for acceptance.

Run (one thread: accuracy does not depend on it)::

    OMP_NUM_THREADS=1 python benchmarks/bench_layers.py --data GunPoint \\
        --cell GRU --seeds 0 1 2 --train batch_size=8 max_iter=40
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skrnn
from skrnn.preprocessing import TimestepTransformer

NAMED = ("ArrowHead", "GunPoint", "ItalyPowerDemand", "OSULeaf")

VARIANTS = {
    # one direction unless named (bidirectional='auto' is both for LSTM / GRU)
    "last": {"pooling": "last", "bidirectional": False},
    "mean": {"pooling": "mean", "bidirectional": False},
    "max": {"pooling": "max", "bidirectional": False},
    "bidirectional": {"bidirectional": True, "pooling": "last"},
    "bidirectional, mean": {"bidirectional": True, "pooling": "mean"},
    "mean, dropout=0.2": {"pooling": "mean", "dropout": 0.2, "bidirectional": False},
}
# the recorded results were measured without weight averaging (the default then)
for _variant in VARIANTS.values():
    _variant["averaging"] = 0.0


def load(name, split):
    from aeon.datasets import load_classification

    X, y = load_classification(name, split=split)
    return np.ascontiguousarray(np.transpose(X, (0, 2, 1)), dtype=np.float64), y


def _value(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=NAMED, default="GunPoint")
    parser.add_argument("--cell", choices=("GRU", "LSTM"), default="GRU")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS))
    parser.add_argument(
        "--train",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="training parameters for every variant, e.g. batch_size=8 "
        "max_iter=40 (default: the estimator's defaults)",
    )
    args = parser.parse_args()
    train = {k: _value(v) for k, v in (item.split("=", 1) for item in args.train)}
    X, y = load(args.data, "train")
    X_test, y_test = load(args.data, "test")
    print(
        f"{args.data}: {X.shape[0]} train / {X_test.shape[0]} test sequences of "
        f"{X.shape[1]} steps, {args.cell}Classifier, float64, training "
        f"{train or 'defaults'}"
    )
    for name in args.variants or VARIANTS:
        scores, times = [], []
        for seed in args.seeds:
            model = make_pipeline(
                TimestepTransformer(StandardScaler()),
                getattr(skrnn, args.cell + "Classifier")(
                    random_state=seed, **train, **VARIANTS[name]
                ),
            )
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, y)
            times.append(time.perf_counter() - start)
            scores.append(model.score(X_test, y_test))
        print(
            f"{name:22s} accuracy {np.mean(scores):.3f} "
            f"(min {np.min(scores):.3f}, max {np.max(scores):.3f}) "
            f"fit {np.median(times):.1f} s median, epochs {model[-1].n_iter_}"
        )


if __name__ == "__main__":
    main()
