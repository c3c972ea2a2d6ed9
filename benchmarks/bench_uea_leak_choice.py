"""Exploration for issue 14 (after round 2's rule; not a candidate of it).

The echo state ``leak_rate`` chosen per fit from ``LEAKS`` by the read-out's
leave-one-out loss on the training data, the loss ``alpha='auto'`` already
minimises (squared error on the targets, the classifier's on +-1; or the
leave-one-out accuracy, ties broken by the squared error): each leak rate is
fitted with the defaults otherwise, and the one whose fitted read-out (at its
own ``alpha_``) has the smallest leave-one-out loss predicts the test set.
Same data, pipeline and seeds as bench_uea.py; prints one line per set.

    OMP_NUM_THREADS=1 python benchmarks/bench_uea_leak_choice.py
"""

import statistics
import warnings

import numpy as np
from bench_uea import CLASSIFICATION, REGRESSION, load, score
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skrnn
from skrnn._echo_state import _loo_predictions
from skrnn.preprocessing import TimestepTransformer

LEAKS = (1.0, 0.3, 0.1, 0.03)


def loo_loss(pipe, X, y, scoring):
    """The fitted read-out's leave-one-out loss at its ``alpha_``."""
    est = pipe[-1]
    features = est.transform(pipe[:-1].transform(X))
    if isinstance(est, skrnn.EchoStateClassifier):
        Y = (y[:, None] == est.classes_[None, :]).astype(float)
        targets = 2 * (Y[:, 1:] if Y.shape[1] == 2 else Y) - 1
    else:
        targets = y[:, None]
    pred = next(_loo_predictions(features, targets, np.ones(len(y)), [est.alpha_]))
    error = float(((pred - targets) ** 2).sum())
    if scoring == "squared_error":
        return (error,)
    if targets.shape[1] == 1:
        hits = (pred[:, 0] > 0) == (targets[:, 0] > 0)
    else:
        hits = pred.argmax(axis=1) == targets.argmax(axis=1)
    return (-float(hits.sum()), error)


def main():
    for scoring in ("squared_error", "accuracy"):
        means = []
        for name in CLASSIFICATION + REGRESSION:
            regression = name in REGRESSION
            if regression and scoring == "accuracy":
                continue
            (Xtr, ytr, _), (Xte, yte, _) = load(name)
            ytr = ytr.astype(float) if regression else ytr
            model = getattr(
                skrnn, "EchoStateRegressor" if regression else "EchoStateClassifier"
            )
            scores, picks = [], []
            for seed in (0, 1, 2):
                fits = []
                for leak in LEAKS:
                    pipe = make_pipeline(
                        TimestepTransformer(StandardScaler()),
                        model(random_state=seed, leak_rate=leak),
                    )
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        pipe.fit(Xtr, ytr)
                    fits.append((loo_loss(pipe, Xtr, ytr, scoring), leak, pipe))
                _, leak, pipe = min(fits, key=lambda fit: fit[0])
                scores.append(score(yte, pipe.predict(Xte), regression))
                picks.append(leak)
            if not regression:
                means.append(statistics.mean(scores))
            print(
                f"{scoring} | {name} | {statistics.mean(scores):.3f} "
                f"±{max(scores) - min(scores):.3f} | leak_rate chosen {picks}",
                flush=True,
            )
        print(
            f"{scoring}: mean accuracy over the classification sets {statistics.mean(means):.3f}"
        )


if __name__ == "__main__":
    main()
