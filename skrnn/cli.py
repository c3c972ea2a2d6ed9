"""The ``skrnn`` command: demo, train, predict, evaluate on long tables.

Every failure the user can cause (a missing file, a bad column, an unreadable
model, a bad ``--param``) ends with one line on stderr and exit status 1,
never a traceback.
"""

import argparse
import ast
import contextlib
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

MODELS = {
    "rnn-classifier": "RNNClassifier",
    "rnn-regressor": "RNNRegressor",
    "lstm-classifier": "LSTMClassifier",
    "lstm-regressor": "LSTMRegressor",
    "gru-classifier": "GRUClassifier",
    "gru-regressor": "GRURegressor",
}


class CLIError(Exception):
    """An error to report as one line, without a traceback."""


# ------------------------------------------------------------------- tables
def read_table(path):
    """Read a CSV or Parquet file (by its extension) into a DataFrame."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"no such file: {path}")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:
            raise CLIError(f"reading Parquet needs pyarrow ({exc})") from exc
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise CLIError(f"cannot read {path} as CSV: {exc}") from exc


def write_table(df, path):
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


def _sequences(df, meta, with_target):
    from .preprocessing import to_sequences

    missing = [
        c
        for c in [meta["group"], meta["time"], *meta["features"]]
        if c not in df.columns
    ]
    if with_target and meta["target"] not in df.columns:
        missing.append(meta["target"])
    if missing:
        raise CLIError(
            f"column {missing[0]!r} is not in the table "
            f"(columns: {', '.join(map(str, df.columns))})"
        )
    return to_sequences(
        df,
        meta["group"],
        meta["time"],
        meta["features"],
        meta["target"] if with_target else None,
        time_gap=meta["time_gap"],
    )


# ------------------------------------------------------------------- models
def _parse_params(pairs):
    params = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CLIError(f"--param takes name=value, got {pair!r}")
        try:
            params[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[name] = value
    return params


def build_pipeline(model, params):
    """Impute and scale every step, then the recurrent estimator."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    import skrnn

    from .preprocessing import TimestepTransformer

    if model not in MODELS:
        raise CLIError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    estimator = getattr(skrnn, MODELS[model])()
    try:
        estimator.set_params(**params)
    except ValueError as exc:
        raise CLIError(f"bad --param: {exc}") from exc
    return Pipeline(
        [
            ("impute", TimestepTransformer(SimpleImputer())),
            ("scale", TimestepTransformer(StandardScaler())),
            ("model", estimator),
        ]
    )


def save_model(pipeline, meta, path):
    import skops.io as sio

    sio.dump({"pipeline": pipeline, "meta": meta}, path)


def load_model(path):
    """Load a model saved by ``skrnn train``, trusting only scikit-learn,
    NumPy and skrnn types (skops never runs other code on load)."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise CLIError(f"no such file: {path}")
    try:
        untrusted = sio.get_untrusted_types(file=path)
        unknown = [
            t
            for t in untrusted
            if not t.startswith(("skrnn.", "sklearn.", "numpy.", "builtins."))
        ]
        if unknown:
            raise CLIError(
                f"{path} holds types that are not skrnn's or "
                f"scikit-learn's ({', '.join(unknown)}); not loading it"
            )
        saved = sio.load(path, trusted=untrusted)
    except CLIError:
        raise
    except Exception as exc:  # any corrupt or foreign file: one line, no traceback
        raise CLIError(f"cannot read model {path}: {exc}") from exc
    if not isinstance(saved, dict) or set(saved) != {"pipeline", "meta"}:
        raise CLIError(f"{path} is not a model saved by `skrnn train`")
    return saved["pipeline"], saved["meta"]


class _Progress:
    """Turns the estimator's verbose lines into a progress bar on stderr."""

    def __init__(self, total, stream):
        self.total = total
        self.stream = stream
        self.start = time.perf_counter()

    def write(self, text):
        for line in text.splitlines():
            if line.startswith("Iteration "):
                epoch = int(line.split()[1].rstrip(","))
                loss = line.rsplit("=", 1)[-1].strip()
                done = int(30 * epoch / self.total)
                self.stream.write(
                    f"\r[{'#' * done}{'.' * (30 - done)}] epoch {epoch}/{self.total} "
                    f"loss {loss} {time.perf_counter() - self.start:.0f}s"
                )
                self.stream.flush()
        return len(text)

    def flush(self):
        self.stream.flush()

    def close(self):
        self.stream.write("\n")


def fit_with_progress(pipeline, X, y, quiet):
    estimator = pipeline[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if quiet:
            pipeline.fit(X, y)
            return
        estimator.set_params(verbose=True)
        progress = _Progress(estimator.max_iter, sys.stderr)
        try:
            with contextlib.redirect_stdout(progress):
                pipeline.fit(X, y)
        finally:
            estimator.set_params(verbose=False)
            progress.close()


# ----------------------------------------------------------------- commands
def cmd_train(args):
    df = read_table(args.data)
    for column in (args.group, args.time, args.target):
        if column not in df.columns:
            raise CLIError(
                f"column {column!r} is not in the table "
                f"(columns: {', '.join(map(str, df.columns))})"
            )
    if args.features:
        features = list(args.features)
    else:
        exclude = {args.group, args.time, args.target}
        features = [
            c
            for c in df.columns
            if c not in exclude and pd.api.types.is_numeric_dtype(df[c])
        ]
    meta = {
        "group": args.group,
        "time": args.time,
        "target": args.target,
        "features": features,
        "time_gap": bool(args.time_gap),
        "model": args.model,
    }
    pipeline = build_pipeline(args.model, _parse_params(args.param))
    X, y, groups = _sequences(df, meta, with_target=True)
    if not args.quiet:
        print(
            f"training {args.model} on {len(groups)} sequences of up to "
            f"{X.shape[1]} steps, {X.shape[2]} features",
            file=sys.stderr,
        )
    fit_with_progress(pipeline, X, y, args.quiet)
    save_model(pipeline, meta, args.out)
    if not args.quiet:
        print(f"saved {args.out}", file=sys.stderr)
    return 0


def cmd_predict(args):
    pipeline, meta = load_model(args.model)
    meta = {
        **meta,
        "group": args.group or meta["group"],
        "time": args.time or meta["time"],
    }
    X, _, groups = _sequences(read_table(args.data), meta, with_target=False)
    out = pd.DataFrame({meta["group"]: groups, "prediction": pipeline.predict(X)})
    if hasattr(pipeline[-1], "predict_proba"):
        proba = pipeline.predict_proba(X)
        for k, label in enumerate(pipeline[-1].classes_):
            out[f"proba_{label}"] = proba[:, k]
    write_table(out, args.out)
    return 0


def cmd_evaluate(args):
    from sklearn import metrics

    pipeline, meta = load_model(args.model)
    meta = {
        **meta,
        "group": args.group or meta["group"],
        "time": args.time or meta["time"],
        "target": args.target or meta["target"],
    }
    X, y, _ = _sequences(read_table(args.data), meta, with_target=True)
    pred = pipeline.predict(X)
    if hasattr(pipeline[-1], "classes_"):
        scores = {"accuracy": metrics.accuracy_score(y, pred)}
        classes = pipeline[-1].classes_
        if hasattr(pipeline[-1], "predict_proba") and len(np.unique(y)) > 1:
            proba = pipeline.predict_proba(X)
            if len(classes) == 2:
                scores["roc_auc"] = metrics.roc_auc_score(y == classes[1], proba[:, 1])
            scores["log_loss"] = metrics.log_loss(y, proba, labels=classes)
    else:
        scores = {
            "r2": metrics.r2_score(y, pred),
            "mae": metrics.mean_absolute_error(y, pred),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y, pred))),
        }
    for name, value in scores.items():
        print(f"{name}\t{value:.4f}")
    return 0


def cmd_demo(args):
    from .demo import run_demo

    run_demo(quiet=args.quiet)
    return 0


def make_parser():
    parser = argparse.ArgumentParser(
        prog="skrnn",
        description="Recurrent networks on long tables (one row per visit).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo", help="cross-validated death prediction on the bundled clinical visits"
    )
    demo.add_argument("--quiet", action="store_true", help="print only the results")
    demo.set_defaults(func=cmd_demo)

    train = sub.add_parser("train", help="fit a model on a long table, save it")
    train.add_argument("data", help="CSV or Parquet file, one row per (group, time)")
    train.add_argument("--group", required=True, help="column naming the sequence")
    train.add_argument("--time", required=True, help="column ordering the rows")
    train.add_argument(
        "--target",
        required=True,
        help="target column (the target of a group's last row)",
    )
    train.add_argument(
        "--features",
        nargs="+",
        help="feature columns (default: every numeric column but "
        "group, time and target)",
    )
    train.add_argument("--model", default="lstm-classifier", choices=list(MODELS))
    train.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="an estimator parameter, e.g. hidden_layer_sizes=16",
    )
    train.add_argument(
        "--time-gap",
        action="store_true",
        help="add the time since the previous row as a feature",
    )
    train.add_argument("--out", required=True, help="model file to write (skops)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)

    for name, func, help_ in (
        ("predict", cmd_predict, "one prediction per group"),
        ("evaluate", cmd_evaluate, "scores on a labelled table"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument("model", help="model file written by `skrnn train`")
        p.add_argument("data", help="CSV or Parquet file")
        p.add_argument("--group", help="group column (default: as in training)")
        p.add_argument("--time", help="time column (default: as in training)")
        if name == "predict":
            p.add_argument("--out", required=True, help="CSV or Parquet file to write")
        else:
            p.add_argument("--target", help="target column (default: as in training)")
        p.set_defaults(func=func)
    return parser


def main(argv=None):
    """Entry point of the ``skrnn`` command; returns the exit status."""
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"skrnn: error: {exc}", file=sys.stderr)
    except (ValueError, TypeError, KeyError, OSError, ImportError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"skrnn: error: {message}", file=sys.stderr)
    return 1
