"""The ``skrnn`` command: demo, train, predict, evaluate on long tables.

Every failure the user can cause (a missing file, a malformed table, a bad
column, an unreadable or untrusted model, a bad ``--param``) ends with one
line on stderr and exit status 1, never a traceback. Output files are written
whole or not at all (a temporary file renamed over the target), and never over
an input.
"""

import argparse
import ast
import contextlib
import os
import sys
import tempfile
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
def _is_parquet(path):
    return Path(path).suffix.lower() in (".parquet", ".pq")


def read_table(path):
    """Read a CSV (UTF-8) or Parquet file (by its extension) into a DataFrame.

    Raises :class:`CLIError` for a file that is missing, empty, not UTF-8
    text, not Parquet, or has duplicated column names.
    """
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"no such file: {path}")
    if _is_parquet(path):
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise CLIError(f"reading Parquet needs pyarrow ({exc})") from exc
        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow's errors have no common base
            raise CLIError(
                f"cannot read {path} as Parquet: {_first_line(exc)}"
            ) from exc
        names = table.column_names
        df = None
    else:
        try:
            # header=None keeps duplicated names, which pandas would rename
            names = list(pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0])
            df = pd.read_csv(path)
        except UnicodeDecodeError as exc:
            raise CLIError(
                f"cannot read {path} as CSV: it is not UTF-8 text ({exc.reason} "
                f"at byte {exc.start}); convert it to UTF-8"
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise CLIError(f"cannot read {path} as CSV: the file is empty") from exc
        except (pd.errors.ParserError, ValueError) as exc:
            raise CLIError(f"cannot read {path} as CSV: {_first_line(exc)}") from exc
    seen = set()
    for name in names:
        if name in seen:
            raise CLIError(f"{path} has more than one column named {name!r}")
        seen.add(name)
    if df is None:
        df = table.to_pandas()
    if df.empty:
        raise CLIError(f"{path} has no data rows")
    return df


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def atomic_write(path, write):
    """Write a file so that it is either complete or not replaced at all.

    ``write(tmp)`` writes to a temporary file in the target's folder; that
    file is flushed to disk and renamed over ``path``, so a run killed
    midway leaves the old file (or none), never a truncated one.

    Parameters
    ----------
    path : path-like
        The file to write.
    write : callable
        Called with the temporary path; it writes the whole content there.
    """
    path = Path(path)
    # the temporary name keeps the target's suffixes: pandas picks the
    # compression from them
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=".skrnn-", suffix=f"-{path.name}"
    )
    os.close(fd)
    try:
        write(tmp)
        _fsync(tmp)
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # not every platform syncs folders
        _fsync(path.parent)


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mode_for(path):
    """The permissions the file gets: its current ones, or the umask's."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_table(df, path):
    """Write a CSV or Parquet file (by its extension), atomically."""
    if _is_parquet(path):
        atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))


def check_output(out, *inputs):
    """Refuse an output file that is one of the inputs, or has no folder.

    Checked before any work, so that a long fit is not lost at the end.
    """
    out = Path(out)
    for given in inputs:
        if _same_file(out, Path(given)):
            raise CLIError(
                f"the output {out} is the input {given}; writing it would destroy "
                "the input: choose another --out"
            )
    if not out.parent.is_dir():
        raise CLIError(f"the folder of the output {out} does not exist")
    if out.is_dir():
        raise CLIError(f"the output {out} is a folder; give a file name")


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (a dangling link counts as new)
        return a.resolve() == b.resolve()


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

    atomic_write(path, lambda tmp: sio.dump({"pipeline": pipeline, "meta": meta}, tmp))


# Types a model file may hold beyond those skops trusts by default (builtins,
# NumPy arrays, scikit-learn's estimators): exact names, never a prefix, since
# skops calls a trusted name with arguments from the file.
TRUSTED_EXTRA = frozenset({"numpy.dtype"})

META_KEYS = {"group", "time", "target", "features", "time_gap"}


def _skrnn_estimator_names():
    """Full names of skrnn's public estimator classes."""
    from sklearn.base import BaseEstimator

    import skrnn
    import skrnn.preprocessing

    classes = [getattr(skrnn, name) for name in skrnn.__all__] + [
        getattr(skrnn.preprocessing, name) for name in dir(skrnn.preprocessing)
    ]
    return {
        f"{c.__module__}.{c.__qualname__}"
        for c in classes
        if isinstance(c, type)
        and issubclass(c, BaseEstimator)
        and c.__module__.startswith("skrnn.")
    }


def load_model(path):
    """Load a model saved by ``skrnn train``.

    Besides the types skops trusts by default, only skrnn's estimator classes
    and :data:`TRUSTED_EXTRA` are trusted; a file holding any other type is
    refused before anything in it is loaded.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise CLIError(f"no such file: {path}")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # any corrupt or foreign file: one line, no traceback
        raise CLIError(f"cannot read model {path}: {_first_line(exc)}") from exc
    trusted = TRUSTED_EXTRA | _skrnn_estimator_names()
    refused = [t for t in untrusted if t not in trusted]
    if refused:
        raise CLIError(
            f"{path} holds types that skrnn does not trust "
            f"({', '.join(refused)}); not loading it"
        )
    try:
        saved = sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise CLIError(f"cannot read model {path}: {_first_line(exc)}") from exc
    if (
        not isinstance(saved, dict)
        or set(saved) != {"pipeline", "meta"}
        or not isinstance(saved["meta"], dict)
        or not META_KEYS <= set(saved["meta"])
        or not hasattr(saved["pipeline"], "predict")
    ):
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
    check_output(args.out, args.data)
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
        candidates = [c for c in df.columns if c not in exclude]
        features = [c for c in candidates if pd.api.types.is_numeric_dtype(df[c])]
        skipped = [c for c in candidates if c not in features]
        if skipped and not args.quiet:
            print(
                f"not numeric, left out of the features: {', '.join(map(str, skipped))}",
                file=sys.stderr,
            )
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
    check_output(args.out, args.model, args.data)
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
        print(f"skrnn: error: {_first_line(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        print("skrnn: interrupted", file=sys.stderr)
        return 130
    return 1
