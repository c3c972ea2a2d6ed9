"""Would restarts help the gradient estimators' defaults? (issue 14)

For each set and model of ``bench_uea.py``, fits the default pipeline for
random states 0 .. N-1 and records each fit's test score and its loss on the
training data (log loss for classifiers, mean squared error for regressors).
The table compares the mean single fit with "best of K": the random states
cut into groups of K (0-2, 3-5, ...), each group keeping its fit with the
lowest training loss, as an ``n_init=K`` option keeping the lowest final
training loss would. Same sets and data as ``bench_uea.py`` (the held-out sets
of aeon's bundle are not run).

    OMP_NUM_THREADS=1 python benchmarks/bench_uea_restarts.py [--seeds 9] [--k 3]
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from bench_uea import REGRESSION, load, score, skrnn_model
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss, mean_squared_error

SETS = [
    "ArrowHead",
    "GunPoint",
    "ItalyPowerDemand",
    "PickupGestureWiimoteZ",
    "CardanoSentiment",
]
MODELS = ["LSTMClassifier", "GRUClassifier", "LSTMRegressor", "GRURegressor"]


def run(dataset, model, seed):
    (Xtr, ytr, _), (Xte, yte, _) = load(dataset)
    regression = dataset in REGRESSION
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        y_fit = ytr.astype(float) if regression else ytr
        est = skrnn_model(model, seed, False).fit(Xtr, y_fit)
    if regression:
        train_loss = mean_squared_error(y_fit, est.predict(Xtr))
    else:
        train_loss = log_loss(ytr, est.predict_proba(Xtr), labels=est.classes_)
    return {
        "score": score(yte, est.predict(Xte), regression),
        "train_loss": float(train_loss),
        "n_iter": int(est.steps[-1][1].n_iter_),
        "fit_predict_s": time.perf_counter() - start,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", nargs="*", default=SETS)
    parser.add_argument("--models", nargs="*", default=MODELS)
    parser.add_argument("--seeds", type=int, default=9)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument(
        "--cache", type=Path, default=Path(__file__).with_name("uea_restarts.json")
    )
    args = parser.parse_args()
    cache = json.loads(args.cache.read_text()) if args.cache.exists() else {}
    print(
        "| set | model | single fit (mean ± spread of the first K) | best of K (groups) |"
    )
    print("|---|---|---:|---:|")
    for dataset in args.sets:
        for model in args.models:
            if model.endswith("Regressor") != (dataset in REGRESSION):
                continue
            fits = []
            for seed in range(args.seeds):
                key = f"{dataset}|{model}|{seed}"
                if key not in cache:
                    cache[key] = run(dataset, model, seed)
                    args.cache.write_text(json.dumps(cache, indent=1, sort_keys=True))
                fits.append(cache[key])
            scores = [f["score"] for f in fits]
            groups = [fits[g : g + args.k] for g in range(0, len(fits), args.k)]
            kept = [min(g, key=lambda f: f["train_loss"])["score"] for g in groups]
            first = scores[: args.k]
            print(
                f"| {dataset} | {model} | {np.mean(scores):.3f} "
                f"(±{np.ptp(first):.3f}) | {np.mean(kept):.3f} "
                f"({', '.join(f'{s:.3f}' for s in kept)}; ±{np.ptp(kept):.3f}) |",
                flush=True,
            )


if __name__ == "__main__":
    main()
