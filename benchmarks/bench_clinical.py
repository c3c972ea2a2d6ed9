"""Clinical visit records as they are: missing labs, irregular visits, rare
outcomes (issue 15).

- missing: death on the bundled PBC visits (R survival's ``pbcseq``), ROC AUC
  over 5-fold cross-validation x 2 repeats (mean and standard deviation), as
  recorded, and with 50 % and 80 % of the observed lab values additionally
  removed at random: a logistic regression on each patient's last visit (its
  own last values carried forward), a GRU after global-mean imputation
  (``TimestepTransformer(SimpleImputer())``), a GRU after ``SequenceImputer``
  (values, missing mask, days since observed), and GRU-D (the labs as they
  are, NaN where not measured, and the visit day as its time column; once
  with the day only as the time, once with a copy of it as an input, as the
  other models have it). All with fixed settings, then the logistic
  regression, both GRUs and GRU-D (day as input) again with their L2 penalty
  chosen by a 3-fold cross-validation inside each training fold.
- class-weight: balanced accuracy of the SequenceImputer GRU with
  ``class_weight=None`` and ``'balanced'``, on death (45 % of the patients)
  and on liver transplant (9 %), same folds.
- fading: a synthetic task with a known answer in which a measurement's
  relevance fades with its age: 4000 sequences of irregular visits, one value
  measured at 30 % of them, and the outcome drawn from
  ``sigmoid(4 x_last exp(-age / 2))`` (``x_last`` the last measured value,
  ``age`` the time since it was measured). ROC AUC over 5 folds; the Bayes
  AUC (the true probabilities as scores) is the ceiling.
- grud-settings (only when named): at 80 % removed, the grid of GRU-D
  settings (alpha, epochs, hidden size) that a 3-fold cross-validation
  inside each training fold chose from.

"folds > LR": in how many folds (the same for every model) a model scores
above the logistic regression on the last visit (C=1).

``futime`` and ``status`` are never inputs (``status`` only makes the target).
Skewed labs are log-transformed first (as ``skrnn demo`` does): a fixed
per-value map, so no information crosses folds.

    OMP_NUM_THREADS=1 python benchmarks/bench_clinical.py [missing] [class-weight] [fading]
    OMP_NUM_THREADS=1 python benchmarks/bench_clinical.py grud-settings
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RepeatedStratifiedKFold,
    StratifiedKFold,
)
from sklearn.model_selection import cross_validate as sklearn_cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrnn import GRUClassifier, GRUDClassifier
from skrnn._data import sequence_lengths
from skrnn.datasets import PBCSEQ_FEATURES, load_pbcseq
from skrnn.preprocessing import SequenceImputer, TimestepTransformer, to_sequences

LABS = ["bili", "chol", "albumin", "alk.phos", "ast", "platelet", "protime"]
SKEWED_LABS = ["bili", "chol", "alk.phos", "ast", "protime"]
FEATURES = PBCSEQ_FEATURES + ["day"]
GRU_SETTINGS = dict(
    hidden_layer_sizes=16,
    learning_rate_init=3e-3,
    batch_size=32,
    max_iter=40,
    alpha=1e-3,
    n_jobs=1,
    pooling="last",  # the setting the recorded results were measured with
    bidirectional=False,  # likewise (one direction; GRU-D's default too)
    averaging=0.0,  # likewise (no weight averaging then)
)
# L2 penalties the inner cross-validation chooses from (GRUs: alpha; the
# logistic regression: C, its inverse)
ALPHAS = [0.01, 0.1, 1.0, 10.0]
CS = [0.01, 0.1, 1.0, 10.0, 100.0]
INNER_CV = StratifiedKFold(3, shuffle=True, random_state=0)


class AppendCopy(TransformerMixin, BaseEstimator):
    """Append a copy of one feature as the last feature of every step.

    GRU-D reads its ``time_column`` as the time and takes it out of the
    inputs; given a copy (``time_column=-1``), the visit day stays an input,
    as it is for the other models.
    """

    def __init__(self, column=-1):
        self.column = column

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.concatenate([X, X[:, :, [self.column]]], axis=2)


class LastStep(TransformerMixin, BaseEstimator):
    """Each sequence's last real step, as a 2-D table."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X[np.arange(X.shape[0]), sequence_lengths(X) - 1]


def pbc_task(outcome="dead"):
    """Visit sequences (features, then the day) and a per-patient outcome."""
    visits = load_pbcseq()
    visits = visits.assign(
        sex=(visits["sex"] == "f").astype(float),
        dead=(visits["status"] == 2).astype(int),
        transplant=(visits["status"] == 1).astype(int),
        **{lab: np.log(visits[lab]) for lab in SKEWED_LABS},
    )
    X, y, _ = to_sequences(
        visits, "id", "day", features=FEATURES, target=outcome, target_at="last"
    )
    return X, y


def remove_labs(X, fraction, seed=0):
    """A copy of X with ``fraction`` of the observed lab values set to NaN."""
    if fraction == 0:
        return X
    X = X.copy()
    labs = [FEATURES.index(lab) for lab in LABS]
    values = X[:, :, labs]
    observed = np.argwhere(~np.isnan(values))
    rng = np.random.default_rng(seed)
    drop = rng.choice(len(observed), int(round(fraction * len(observed))), False)
    i, t, f = observed[drop].T
    values[i, t, f] = np.nan
    X[:, :, labs] = values
    return X


def models(time_column, seed=0, class_weight=None):
    gru = dict(GRU_SETTINGS, random_state=seed)
    return {
        "logistic regression, last visit (own last values)": make_pipeline(
            SequenceImputer(),
            LastStep(),
            StandardScaler(),
            LogisticRegression(max_iter=1000),
        ),
        "GRU + global-mean imputation": make_pipeline(
            TimestepTransformer(SimpleImputer()),
            TimestepTransformer(StandardScaler()),
            GRUClassifier(**gru),
        ),
        "GRU + SequenceImputer (values, mask, time since)": make_pipeline(
            SequenceImputer(
                add_indicator=True, add_time_since=True, time_column=time_column
            ),
            TimestepTransformer(StandardScaler()),
            GRUClassifier(**gru),
        ),
        "GRU-D, time only as decay": make_pipeline(
            TimestepTransformer(StandardScaler()),
            GRUDClassifier(**gru, time_column=time_column),
        ),
        "GRU-D, time also an input": make_pipeline(
            AppendCopy(time_column),
            TimestepTransformer(StandardScaler()),
            GRUDClassifier(**gru, time_column=-1),
        ),
    }


# the models whose penalty is also chosen inside the training folds
TUNED = [
    "logistic regression, last visit (own last values)",
    "GRU + global-mean imputation",
    "GRU + SequenceImputer (values, mask, time since)",
    "GRU-D, time also an input",
]


def penalty(model):
    """A fixed model's L2 setting, as the table prints it."""
    estimator = model.steps[-1][1]
    if isinstance(estimator, LogisticRegression):
        return f"C {estimator.C:g}"
    return f"alpha {estimator.alpha:g}"


def tuned(model):
    """``model`` with its L2 penalty chosen by ROC AUC over 3 folds of the
    training sequences it is fitted on (never the test fold)."""
    step = model.steps[-1][0]
    name, grid = ("C", CS) if step == "logisticregression" else ("alpha", ALPHAS)
    return GridSearchCV(
        model, {f"{step}__{name}": grid}, cv=INNER_CV, scoring="roc_auc"
    )


def cross_validate(model, X, y, cv, scoring):
    """Scores over the folds, seconds, and what a tuned model chose in each
    fold (``"alpha 1 (7x), 10 (3x)"``; ``"-"`` for a fixed model)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = sklearn_cross_validate(
            model, X, y, scoring=scoring, cv=cv, return_estimator=True
        )
    seconds = time.perf_counter() - start
    chosen = "-"
    if isinstance(model, GridSearchCV):
        picks = [next(iter(e.best_params_.items())) for e in result["estimator"]]
        name = picks[0][0].split("__")[-1]
        values, counts = np.unique([v for _, v in picks], return_counts=True)
        chosen = f"{name} " + ", ".join(
            f"{v:g} ({c}x)" for v, c in zip(values, counts, strict=True)
        )
    return result["test_score"], seconds, chosen


def row(*cells):
    print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


def run_missing():
    X, y = pbc_task()
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=0)
    print(
        f"PBC death: {X.shape[0]} patients, {int(y.sum())} died; "
        f"{np.isnan(X[:, :, [FEATURES.index(lab) for lab in LABS]]).mean():.1%} "
        "of lab entries NaN as recorded (padding included)"
    )
    row("labs removed", "model", "L2 penalty", "ROC AUC", "folds > LR", "seconds")
    row("---", "---", "---", "---:", "---:", "---:")
    for fraction in (0.0, 0.5, 0.8):
        Xf = remove_labs(X, fraction)
        fixed = models(FEATURES.index("day"))
        runs = [(name, model) for name, model in fixed.items()] + [
            (name, tuned(fixed[name])) for name in TUNED
        ]
        baseline = None
        for name, model in runs:
            scores, seconds, chosen = cross_validate(model, Xf, y, cv, "roc_auc")
            if chosen == "-":
                chosen = penalty(model)
            if baseline is None:
                baseline = scores  # the first row: the logistic regression, C=1
            row(
                f"{fraction:.0%}",
                name,
                chosen,
                f"{scores.mean():.3f} +- {scores.std():.3f}",
                f"{(scores > baseline).sum()}/{len(scores)}",
                f"{seconds:.0f}",
            )


def run_class_weight():
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=0)
    row("outcome", "class_weight", "balanced accuracy", "ROC AUC", "seconds")
    row("---", "---", "---:", "---:", "---:")
    for outcome in ("dead", "transplant"):
        X, y = pbc_task(outcome)
        share = f"{outcome} ({y.mean():.0%} of patients)"
        for class_weight in (None, "balanced"):
            model = make_pipeline(
                SequenceImputer(
                    add_indicator=True,
                    add_time_since=True,
                    time_column=FEATURES.index("day"),
                ),
                TimestepTransformer(StandardScaler()),
                GRUClassifier(
                    **GRU_SETTINGS, random_state=0, class_weight=class_weight
                ),
            )
            start = time.perf_counter()
            bacc, _, _ = cross_validate(model, X, y, cv, "balanced_accuracy")
            auc, _, _ = cross_validate(model, X, y, cv, "roc_auc")
            row(
                share,
                repr(class_weight),
                f"{bacc.mean():.3f} +- {bacc.std():.3f}",
                f"{auc.mean():.3f} +- {auc.std():.3f}",
                f"{time.perf_counter() - start:.0f}",
            )


def make_fading(n=4000, n_steps=20, seed=0, tau=2.0, observed=0.3):
    """Irregular visits, a value measured at some of them, an outcome whose
    dependence on the last measurement fades with its age.

    Returns ``X (n, n_steps, 2)`` (the value, NaN where not measured; the
    visit time), ``y`` and the true probabilities.
    """
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(1.0, (n, n_steps)), axis=1)
    times -= times[:, :1]
    values = rng.normal(size=(n, n_steps))
    measured = rng.random((n, n_steps)) < observed
    measured[:, 0] = True  # every sequence has a first measurement
    last = np.maximum.accumulate(
        np.where(measured, np.arange(n_steps)[None, :], 0), axis=1
    )[:, -1]
    rows = np.arange(n)
    age = times[:, -1] - times[rows, last]
    p = 1 / (1 + np.exp(-4 * values[rows, last] * np.exp(-age / tau)))
    y = (rng.random(n) < p).astype(int)
    X = np.stack([np.where(measured, values, np.nan), times], axis=2)
    return X, y, p


def run_fading():
    from sklearn.metrics import roc_auc_score

    X, y, p = make_fading()
    print(
        f"fading: {X.shape[0]} sequences of {X.shape[1]} visits, "
        f"{int(y.sum())} positive; Bayes ROC AUC {roc_auc_score(y, p):.3f}"
    )
    cv = KFold(5, shuffle=True, random_state=0)
    row("model", "ROC AUC", "folds > LR", "seconds")
    row("---", "---:", "---:", "---:")
    row(
        "Bayes (the true probabilities)",
        f"{np.mean([roc_auc_score(y[te], p[te]) for _, te in cv.split(X)]):.3f}",
        "",
        "",
    )
    baseline = None
    for name, model in models(1).items():
        if name == "GRU-D, time also an input":
            continue  # the outcome does not depend on the visit time
        scores, seconds, _ = cross_validate(model, X, y, cv, "roc_auc")
        if baseline is None:
            baseline = scores
        row(
            name,
            f"{scores.mean():.3f} +- {scores.std():.3f}",
            f"{(scores > baseline).sum()}/{len(scores)}",
            f"{seconds:.0f}",
        )


def run_grud_settings(fraction=0.8):
    """GRU-D (day also an input) with alpha, hidden size and epochs chosen by
    the 3-fold inner cross-validation in each training fold: every setting's
    inner ROC AUC (mean over the 10 training folds), how often it was chosen,
    and the chosen models' test ROC AUC."""
    X, y = pbc_task()
    X = remove_labs(X, fraction)
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=0)
    grid = {
        "grudclassifier__alpha": [1e-3, 0.1, 1.0],
        "grudclassifier__max_iter": [20, 40],
        "grudclassifier__hidden_layer_sizes": [8, 16],
    }
    model = models(FEATURES.index("day"))["GRU-D, time also an input"]
    search = GridSearchCV(model, grid, cv=INNER_CV, scoring="roc_auc")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = sklearn_cross_validate(
            search, X, y, scoring="roc_auc", cv=cv, return_estimator=True
        )
    fitted = result["estimator"]
    inner = np.mean([e.cv_results_["mean_test_score"] for e in fitted], axis=0)
    chosen = [e.best_index_ for e in fitted]
    print(
        f"{fraction:.0%} of labs removed: test ROC AUC of the chosen settings "
        f"{result['test_score'].mean():.3f} +- {result['test_score'].std():.3f} "
        f"({time.perf_counter() - start:.0f} s)"
    )
    row("alpha", "epochs", "hidden", "inner ROC AUC", "chosen")
    row("---:", "---:", "---:", "---:", "---:")
    for i, params in enumerate(fitted[0].cv_results_["params"]):
        row(
            f"{params['grudclassifier__alpha']:g}",
            params["grudclassifier__max_iter"],
            params["grudclassifier__hidden_layer_sizes"],
            f"{inner[i]:.3f}",
            f"{chosen.count(i)}/{len(chosen)}",
        )


SECTIONS = {
    "missing": run_missing,
    "class-weight": run_class_weight,
    "fading": run_fading,
    # not in the default run: 8-10 minutes of GRU-D fits on its own
    "grud-settings": run_grud_settings,
}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", choices=[*SECTIONS, []], default=[])
    args = parser.parse_args()
    for name in args.sections or ["missing", "class-weight", "fading"]:
        start = time.perf_counter()
        SECTIONS[name]()
        print(f"({name}: {time.perf_counter() - start:.0f} s)\n", flush=True)
