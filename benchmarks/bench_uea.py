"""skrnn's defaults on small public time-series sets, against aeon's baselines.

Data: aeon's bundled archive, only ArrowHead, GunPoint, ItalyPowerDemand,
OSULeaf, PickupGestureWiimoteZ (unequal lengths; classification, accuracy) and
CardanoSentiment (regression, RMSE), with their own train/test splits. The
other sets of that bundle are held out for independent acceptance: do not add
them here or tune on them.

For each set, in the same run:

- every skrnn estimator with its defaults, as an analyst would use it:
  ``make_pipeline(TimestepTransformer(StandardScaler()), Estimator(random_state=s))``;
- ``--grid``: one small two-parameter ``GridSearchCV`` (3-fold) over the same
  pipeline per estimator (the grids are in ``GRIDS``);
- aeon's 1-NN DTW and MiniRocket (and the training mean for regression);
  MiniRocket needs equal lengths: on PickupGestureWiimoteZ each series is
  padded at its end with its last value to the longest training series.

Each cell is run for 3 random states; the table gives the mean, the spread
(max - min) and the median fit time. Results are cached per (set, model,
seed) in a JSON file, so runs can be small and incremental; ``--tag`` keeps
the results of different skrnn versions apart.

    OMP_NUM_THREADS=1 python benchmarks/bench_uea.py [--sets GunPoint ...] \
        [--models LSTMClassifier ...] [--grid] [--seeds 0 1 2] [--tag NAME]
"""

import argparse
import json
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skrnn
from skrnn.preprocessing import TimestepTransformer

CLASSIFICATION = [
    "ArrowHead",
    "GunPoint",
    "ItalyPowerDemand",
    "OSULeaf",
    "PickupGestureWiimoteZ",
]
REGRESSION = ["CardanoSentiment"]
SKRNN_CLASSIFIERS = [
    "RNNClassifier",
    "LSTMClassifier",
    "GRUClassifier",
    "EchoStateClassifier",
]
SKRNN_REGRESSORS = [
    "RNNRegressor",
    "LSTMRegressor",
    "GRURegressor",
    "EchoStateRegressor",
    "EMRecurrentRegressor",
]
# brackets the defaults (32 units, step 3e-3; issue 14, round 11)
GRADIENT_GRID = {
    "hidden_layer_sizes": [32, 64],
    "learning_rate_init": [1e-3, 3e-3],
}
GRIDS = {
    "RNN": GRADIENT_GRID,
    "LSTM": GRADIENT_GRID,
    "GRU": GRADIENT_GRID,
    # alpha and the leak rate are chosen inside each fit ('auto'); these are
    # the two other settings practical guides tune first (issue 14, round 4)
    "EchoState": {"spectral_radius": [0.5, 0.9], "input_scaling": [0.1, 0.3, 1.0]},
    "EMRecurrent": {"n_hidden": [8, 16], "n_init": [1, 3]},
}
CACHE = Path(__file__).with_name("uea_results.json")


def load(name):
    """Train and test data as skrnn reads them: lists of (n_steps, n_channels)."""
    from aeon.datasets import load_classification, load_regression

    loader = load_regression if name in REGRESSION else load_classification
    out = []
    for split in ("train", "test"):
        X, y = loader(name, split=split)
        aeon_X = X
        X = [np.asarray(x, dtype=float).T for x in X]
        out.append((X, np.asarray(y), aeon_X))
    return out


def skrnn_model(name, seed, grid, params=None):
    est = getattr(skrnn, name)(random_state=seed, **(params or {}))
    pipe = make_pipeline(TimestepTransformer(StandardScaler()), est)
    if not grid:
        return pipe
    step = pipe.steps[-1][0]
    family = name.replace("Classifier", "").replace("Regressor", "")
    params = {f"{step}__{k}": v for k, v in GRIDS[family].items()}
    return GridSearchCV(pipe, params, cv=3)


def aeon_model(name, seed, regression):
    if regression:
        from aeon.regression.convolution_based import MiniRocketRegressor
        from aeon.regression.distance_based import KNeighborsTimeSeriesRegressor

        if name == "1-NN DTW":
            return KNeighborsTimeSeriesRegressor(distance="dtw", n_neighbors=1)
        return MiniRocketRegressor(random_state=seed)
    from aeon.classification.convolution_based import MiniRocketClassifier
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    if name == "1-NN DTW":
        return KNeighborsTimeSeriesClassifier(distance="dtw", n_neighbors=1)
    return MiniRocketClassifier(random_state=seed)


def pad_to_train_length(train, test):
    """Unequal lengths for MiniRocket, which needs equal ones: each series
    padded at its end with its own last value (or cut) to the longest
    training series' length."""
    T = max(x.shape[-1] for x in train)

    def pad(x):
        x = x[:, :T]
        return np.pad(x, ((0, 0), (0, T - x.shape[-1])), mode="edge")

    return np.stack([pad(x) for x in train]), np.stack([pad(x) for x in test])


def score(y_true, y_pred, regression):
    if regression:
        return float(np.sqrt(np.mean((np.asarray(y_pred, float) - y_true) ** 2)))
    return float(np.mean(np.asarray(y_pred) == y_true))


def run_cell(dataset, model, seed, grid, params=None):
    (Xtr, ytr, Atr), (Xte, yte, Ate) = load(dataset)
    regression = dataset in REGRESSION
    start = time.perf_counter()
    est = None  # the mean predictor has none
    if model == "mean":
        pred = np.full(len(yte), ytr.astype(float).mean())
    elif model in ("1-NN DTW", "MiniRocket"):
        if model == "MiniRocket" and isinstance(Atr, list):
            Atr, Ate = pad_to_train_length(Atr, Ate)
        est = aeon_model(model, seed, regression).fit(Atr, ytr)
        pred = est.predict(Ate)
    else:
        ytr_fit = ytr.astype(float) if regression else ytr
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = skrnn_model(model, seed, grid, params).fit(Xtr, ytr_fit)
        pred = est.predict(Xte)
    fit_time = time.perf_counter() - start
    result = {"score": score(yte, pred, regression), "fit_predict_s": fit_time}
    # the epochs the fit ran (a pipeline's last step; not recorded for a grid)
    n_iter = getattr(getattr(est, "steps", [(None, None)])[-1][1], "n_iter_", None)
    if n_iter is not None:
        result["n_iter"] = int(n_iter)
    # the setting a grid chose (the step's prefix dropped)
    if isinstance(est, GridSearchCV):
        result["best_params"] = {
            k.split("__", 1)[1]: v for k, v in est.best_params_.items()
        }
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", nargs="*", default=CLASSIFICATION + REGRESSION)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--tag", default="defaults")
    parser.add_argument(
        "--params",
        type=json.loads,
        default=None,
        help="JSON dict of non-default parameters, to explore (name it by --tag)",
    )
    parser.add_argument(
        "--class-attrs",
        type=json.loads,
        default=None,
        help="JSON dict of private class attributes to set on each --models class "
        "(e.g. EchoStateClassifier's _loo_scoring), to explore (name it by --tag)",
    )
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument(
        "--pivot",
        nargs="*",
        default=None,
        help="print one column per version (e.g. main defaults defaults+grid)",
    )
    args = parser.parse_args()
    for name in args.models or []:
        for attr, value in (args.class_attrs or {}).items():
            cls = getattr(skrnn, name)
            if not hasattr(cls, attr):
                parser.error(f"{name} has no attribute {attr!r}")
            setattr(cls, attr, value)
    cache = json.loads(args.cache.read_text()) if args.cache.exists() else {}
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    for dataset in args.sets:
        regression = dataset in REGRESSION
        models = args.models or (SKRNN_REGRESSORS if regression else SKRNN_CLASSIFIERS)
        cells = [(m, f"{args.tag}{'+grid' if args.grid else ''}") for m in models]
        if not args.no_baselines:
            base = ["1-NN DTW", "MiniRocket"] + (["mean"] if regression else [])
            cells = [(b, "baseline") for b in base] + cells
        if args.table_only:
            continue
        for model, tag in cells:
            if (
                model in SKRNN_CLASSIFIERS + SKRNN_REGRESSORS
                and (model in SKRNN_REGRESSORS) != regression
            ):
                continue
            # 1-NN DTW and the mean have no random state
            seeds = args.seeds[:1] if model in ("1-NN DTW", "mean") else args.seeds
            for seed in seeds:
                key = f"{dataset}|{model}|{tag}|{seed}"
                if key in cache:
                    continue
                grid = args.grid and tag != "baseline"
                result = run_cell(dataset, model, seed, grid, args.params)
                result["threads"] = threads
                result["load"] = os.getloadavg()[0]
                cache[key] = result
                args.cache.write_text(json.dumps(cache, indent=1, sort_keys=True))
                print(key, result, flush=True)
    if args.pivot:
        print_pivot(cache, args.sets, args.pivot)
    else:
        print_table(cache, args.sets)


def print_pivot(cache, sets, tags):
    """One row per (set, model): mean, spread (max - min) over the seeds and
    median fit + predict seconds; the baselines in the first column."""
    cells = {}
    for key, r in cache.items():
        dataset, model, tag, _ = key.split("|")
        cells.setdefault((dataset, model, tag), []).append(r)
    print("| set | model | " + " | ".join(tags) + " |")
    print("|---|---|" + "---:|" * len(tags))
    for dataset in sets:
        models = sorted({m for d, m, _ in cells if d == dataset})
        for model in models:
            row = []
            baseline = model in ("1-NN DTW", "MiniRocket", "mean")
            for k, tag in enumerate(tags):
                rs = cells.get((dataset, model, "baseline" if baseline else tag))
                if baseline and k:
                    rs = None
                if not rs:
                    row.append("")
                    continue
                s = [r["score"] for r in rs]
                t = statistics.median(r["fit_predict_s"] for r in rs)
                spread = f" ±{max(s) - min(s):.3f}" if len(s) > 1 else ""
                row.append(f"{statistics.mean(s):.3f}{spread} ({t:.1f} s)")
            print(f"| {dataset} | {model} | " + " | ".join(row) + " |")


def print_table(cache, sets):
    rows = {}
    for key, r in cache.items():
        dataset, model, tag, _ = key.split("|")
        if dataset in sets:
            rows.setdefault((dataset, model, tag), []).append(r)
    print(
        "| set | model | version | score mean | spread | fit+predict s (median) | n |"
    )
    print("|---|---|---|---:|---:|---:|---:|")
    for (dataset, model, tag), rs in sorted(rows.items()):
        s = [r["score"] for r in rs]
        t = [r["fit_predict_s"] for r in rs]
        print(
            f"| {dataset} | {model} | {tag} | {statistics.mean(s):.3f} | "
            f"{max(s) - min(s):.3f} | {statistics.median(t):.1f} | {len(s)} |"
        )


if __name__ == "__main__":
    main()
