"""Learning benchmarks: the long-memory tasks and a tiny tagger.

- addition (Pascanu, Mikolov & Bengio 2013): LSTMRegressor on
  ``make_addition`` at T=50 (and T=100 with ``--stretch``), 10,000 training
  sequences, inputs standardised per channel (as a
  ``TimestepTransformer(StandardScaler())`` does in a Pipeline); test MSE,
  epochs, seconds; and a PyTorch LSTM of the same size with the same data,
  hyper-parameters and number of epochs, where PyTorch is installed.
- temporal order: LSTMClassifier and GRUClassifier on ``make_temporal_order``
  at T=100; test accuracy, epochs, seconds.
- part-of-speech tagging: the lecture notes' tiny example, a per-step tagger.

    python benchmarks/bench_tasks.py [addition] [temporal-order] [pos] [--stretch]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skrnn import GRUClassifier, LSTMClassifier, LSTMRegressor
from skrnn.datasets import make_addition, make_temporal_order
from skrnn.preprocessing import TimestepTransformer

SETTINGS = dict(
    hidden_layer_sizes=32,
    learning_rate_init=3e-3,
    batch_size=32,
    clip_norm=1.0,
    # the pooling RESULTS.md's figures were measured with (the default then)
    pooling="last",
    bidirectional=False,  # likewise (the default then)
    averaging=0.0,  # likewise (no weight averaging then)
    alpha=0.0,
    tol=0.0,
    n_iter_no_change=1000,
)


def fit_until(est, X, y, score, target, max_epochs, X_test, y_test):
    """Train one epoch at a time until ``score(est, X_test, y_test)`` reaches
    ``target``; returns (epochs, seconds of training, final score)."""
    est.set_params(warm_start=True, max_iter=1)
    seconds = 0.0
    value = None
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        seconds += time.perf_counter() - start
        value = score(est, X_test, y_test)
        print(f"  epoch {epoch:3d}  {seconds:7.1f} s  test {value:.5f}", flush=True)
        if value is not None and target(value):
            return epoch, seconds, value
    return max_epochs, seconds, value


def mse(est, X, y):
    return float(np.mean((est.predict(X) - y) ** 2))


def accuracy(est, X, y):
    return float(np.mean(est.predict(X) == y))


def torch_addition(X, y, X_test, y_test, epochs, seed=0):
    """A PyTorch LSTM of the same size with the same hyper-parameters."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    H = SETTINGS["hidden_layer_sizes"]
    lstm = torch.nn.LSTM(2, H, batch_first=True).double()
    with torch.no_grad():  # forget-gate bias 1, as skrnn's LSTM
        lstm.bias_ih_l0[H : 2 * H] = 1.0
        lstm.bias_hh_l0[H : 2 * H] = 0.0
    head = torch.nn.Linear(H, 1).double()
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=SETTINGS["learning_rate_init"])
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    Xv = torch.from_numpy(X_test)
    rng = np.random.default_rng(seed)
    bs = SETTINGS["batch_size"]
    seconds = 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = torch.from_numpy(rng.permutation(len(X)))
        for s in range(0, len(X), bs):
            idx = order[s : s + bs]
            out, _ = lstm(Xt[idx])
            loss = 0.5 * torch.mean((head(out[:, -1])[:, 0] - yt[idx]) ** 2)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, SETTINGS["clip_norm"])
            opt.step()
        seconds += time.perf_counter() - start
        with torch.no_grad():
            pred = head(lstm(Xv)[0][:, -1])[:, 0].numpy()
        value = float(np.mean((pred - y_test) ** 2))
        print(
            f"  torch epoch {epoch:3d}  {seconds:7.1f} s  test {value:.5f}", flush=True
        )
    return seconds, value


def standardize(X, X_test):
    """Scale every input channel to mean 0, std 1 over the training steps."""
    scaler = TimestepTransformer(StandardScaler()).fit(X)
    return scaler.transform(X), scaler.transform(X_test)


def addition(T, max_epochs):
    X, y = make_addition(10_000, T, random_state=0)
    X_test, y_test = make_addition(2_000, T, random_state=1)
    X, X_test = standardize(X, X_test)
    print(f"addition T={T}: LSTMRegressor {SETTINGS}")
    est = LSTMRegressor(random_state=0, **SETTINGS)
    epochs, seconds, value = fit_until(
        est, X, y, mse, lambda v: v < 0.01, max_epochs, X_test, y_test
    )
    result = f"addition T={T}: skrnn test MSE {value:.4f} after {epochs} epochs, {seconds:.1f} s"
    try:
        import torch  # noqa: F401
    except ImportError:
        return [result, "PyTorch not installed: no comparison"]
    t_seconds, t_value = torch_addition(X, y, X_test, y_test, epochs)
    return [
        result,
        f"addition T={T}: PyTorch LSTM, same epochs ({epochs}): test MSE "
        f"{t_value:.4f}, {t_seconds:.1f} s",
    ]


def temporal_order(T, max_epochs):
    X, y = make_temporal_order(10_000, T, random_state=0)
    X_test, y_test = make_temporal_order(2_000, T, random_state=1)
    X, X_test = standardize(X, X_test)
    results = []
    for Est in (LSTMClassifier, GRUClassifier):
        print(f"temporal order T={T}: {Est.__name__} {SETTINGS}")
        est = Est(random_state=0, **SETTINGS)
        epochs, seconds, value = fit_until(
            est, X, y, accuracy, lambda v: v > 0.99, max_epochs, X_test, y_test
        )
        results.append(
            f"temporal order T={T}: {Est.__name__} test accuracy {value:.4f} "
            f"after {epochs} epochs, {seconds:.1f} s"
        )
    return results


SENTENCES = [
    ("the dog ate the apple", "Det Noun Verb Det Noun"),
    ("everybody read that book", "Noun Verb Det Noun"),
    ("the man hit a ball", "Det Noun Verb Det Noun"),
    ("mary saw the dog", "Noun Verb Det Noun"),
    ("a boy read the book", "Det Noun Verb Det Noun"),
    ("john ate an apple", "Noun Verb Det Noun"),
]


def pos_data(sentences, vocabulary):
    X = [
        np.eye(len(vocabulary))[[vocabulary.index(w) for w in s.split()]]
        for s, _ in sentences
    ]
    tags = [np.array(t.split(), dtype=object) for _, t in sentences]
    return X, tags


def pos():
    """The lecture notes' tagger: one-hot words in, one tag per word out."""
    words = sorted({w for s, _ in SENTENCES for w in s.split()} | {"john", "hit"})
    X, tags = pos_data(SENTENCES, words)
    tagger = LSTMClassifier(
        hidden_layer_sizes=8,
        learning_rate_init=0.05,
        max_iter=200,
        return_sequences=True,
        # the settings RESULTS.md reports (the defaults before issue 14)
        batch_size=len(X),
        clip_norm=None,
        n_iter_no_change=10,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tagger.fit(X, tags)
    X_new, _ = pos_data([("john hit the ball", "")], words)
    predicted = " ".join(tagger.predict(X_new)[0])
    return [
        f"part of speech: 'john hit the ball' -> {predicted} "
        f"(training accuracy {tagger.score(X, tags):.2f})"
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "tasks", nargs="*", default=["addition", "temporal-order", "pos"]
    )
    parser.add_argument("--stretch", action="store_true", help="addition at T=100 too")
    parser.add_argument("--max-epochs", type=int, default=60)
    args = parser.parse_args()
    results = []
    if "pos" in args.tasks:
        results += pos()
    if "addition" in args.tasks:
        results += addition(50, args.max_epochs)
        if args.stretch:
            results += addition(100, args.max_epochs)
    if "temporal-order" in args.tasks:
        results += temporal_order(100, args.max_epochs)
    print("\n".join(results))


if __name__ == "__main__":
    main()
