"""Galvan's long-memory table: the temporal order problem with a plain tanh RNN.

Galvan (2016, "Optimization methods for recurrent neural networks
training") trains an Elman tanh RNN with 50 hidden units on the temporal
order problem at T = 10 ... 200 and counts a run a success when under 1 % of
the test sequences are misclassified; his rates over seeds are 100/100/100/
66/66/0 % with a spectral radius 1.2 initialisation and 100/100/0/0/0/0 %
with a plain one. Each method here is one row:

    sr1.2-sgd      spectral radius 1.2, SGD (Nesterov momentum 0.9) + clipping
    plain-sgd      the estimator's default initialisation (uniform +-1/sqrt(H),
                   spectral radius about 0.6 at H = 50, where Galvan draws a
                   Gaussian), SGD + clipping
    sr1.2-simplex  the simplex direction with conditional switching + clipping
    sr1.2-adam     Adam + clipping
    leaky          sr1.2-adam with leaky units (leak_rate, default 0.1)
    leaky-sgd      sr1.2-sgd with leaky units
    skip           sr1.2-adam with a skip connection through time
                   (skip_steps, default 10)
    lstm, gru      the gated cells (Adam + clipping, default initialisation)
    lstm-chrono,   the gated cells with Tallec and Ollivier's (2018) chrono
    gru-chrono     initialisation of the gate biases, drawn here on the
                   benchmark side: LSTM forget bias log U(1, T - 1) and input
                   bias its negative; GRU update-gate bias log U(1, T - 1)
                   (PyTorch's GRU keeps the state where z is 1). The
                   estimator first takes one ``partial_fit`` step on one
                   minibatch (to create its weights), then the biases are set.

``--input-scale s`` multiplies the initial input weights by ``s`` (after the
same one-minibatch step as chrono).

Training: ``--train`` sequences, minibatch ``--batch``, one ``partial_fit``
epoch at a time; every ``--check`` epochs the test error on ``--test`` fresh
sequences is measured and the run stops at the first success or after
``--epochs`` epochs. Two data protocols: by default the same ``--train``
sequences every epoch (a fixed training set); with ``--fresh`` every epoch
draws ``--train`` new ones (Hochreiter and Schmidhuber's and Pascanu et
al.'s protocol, an unbounded training set; an epoch is then one pass over
``--train`` sequences never seen before). Learning rates: 0.01 for 'sgd' and
'simplex', 0.001 for 'adam' (``--learning-rate`` overrides); Nesterov
momentum 0.9 for 'sgd' and 'simplex' (``--momentum`` overrides); clipping at
global norm ``--clip`` (default 1).
``--task addition`` runs the addition problem instead
(success: test MSE < 0.01). One line per run, then the success rate per
method and length.

    OMP_NUM_THREADS=1 python benchmarks/bench_long_memory.py \\
        --methods sr1.2-sgd plain-sgd --lengths 50 100 200 --seeds 0 1 2
    OMP_NUM_THREADS=1 python benchmarks/bench_long_memory.py --task addition \\
        --methods lstm-chrono --lengths 200 --epochs 40 --learning-rate 0.01 --fresh
    python benchmarks/bench_long_memory.py --smoke     # a few seconds (CI)

``--protocol galvan`` follows Galvan's thesis code (GiulioGx/RNNs, commit
05cc586 of 2016-03-25, the runs behind his table; RESULTS.md cites the
lines) instead of the epoch protocol above, for the plain RNN methods
('sr1.2-*', 'plain-sgd', 'leaky*', 'skip') on the temporal order task:

- data: every update draws a fresh minibatch of ``--batch`` (default 100)
  sequences, all of one length drawn uniformly from ``[T, 1.1 T)``; the
  markers (X or Y) sit at one step in ``[0, 0.1 L)`` and one in
  ``[0.1 L, 0.5 L)`` (``L`` the minibatch's length), the other steps hold
  one of four distractors; the class is the pair. The test set is
  ``--test`` (default 10^4) sequences drawn once, in five minibatches of
  their own lengths;
- initialisation: the recurrent, input and read-out weights Gaussian with
  std 0.1, each drawn from its own ``RandomState(seed)`` (as his
  ``GaussianInit`` objects do), biases zero; the recurrent matrix rescaled
  to spectral radius 1.2 ('sr1.2-*', 'leaky*', 'skip') or 0.7
  ('plain-sgd': his rho < 1 runs);
- training: learning rate 10^-3 for every solver; 'sgd' is his plain SGD
  (no momentum); the step clipped at global L2 norm 1, no L2 penalty; the test error is measured
  every ``--check-every`` (default 200) updates and the run stops at the
  first error under 1 % or after ``--updates`` updates.

    OMP_NUM_THREADS=1 python benchmarks/bench_long_memory.py --protocol galvan \\
        --methods sr1.2-sgd --lengths 100 --seeds 0 --updates 100000 --progress
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skrnn import (
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
)
from skrnn.datasets import make_addition, make_temporal_order

# method: (cell, parameters beyond the common ones)
METHODS = {
    "sr1.2-sgd": ("rnn", dict(solver="sgd", spectral_radius=1.2)),
    "plain-sgd": ("rnn", dict(solver="sgd")),
    "sr1.2-simplex": ("rnn", dict(solver="simplex", spectral_radius=1.2)),
    "sr1.2-adam": ("rnn", dict(solver="adam", spectral_radius=1.2)),
    "leaky": ("rnn", dict(solver="adam", spectral_radius=1.2, leak_rate=0.1)),
    "leaky-sgd": ("rnn", dict(solver="sgd", spectral_radius=1.2, leak_rate=0.1)),
    "skip": ("rnn", dict(solver="adam", spectral_radius=1.2, skip_steps=10)),
    "lstm": ("lstm", dict(solver="adam")),
    "gru": ("gru", dict(solver="adam")),
    "lstm-chrono": ("lstm", dict(solver="adam")),
    "gru-chrono": ("gru", dict(solver="adam")),
}
CHRONO = {"lstm-chrono", "gru-chrono"}
ESTIMATORS = {
    "temporal-order": {
        "rnn": RNNClassifier,
        "lstm": LSTMClassifier,
        "gru": GRUClassifier,
    },
    "addition": {"rnn": RNNRegressor, "lstm": LSTMRegressor, "gru": GRURegressor},
}
LEARNING_RATES = {"sgd": 0.01, "simplex": 0.01, "adam": 0.001}
# Galvan's protocol: his rho < 1 runs for 'plain-sgd', 1.2 for the others
GALVAN_RADIUS = {"plain-sgd": 0.7}
GALVAN_DEFAULTS = dict(batch=100, test=10_000, learning_rate=1e-3, momentum=0.0)
EPOCH_DEFAULTS = dict(batch=20, test=1000)


def make_estimator(task, method, seed, args):
    cell, params = METHODS[method]
    params = dict(params)
    if args.leak_rate is not None and "leak_rate" in params:
        params["leak_rate"] = args.leak_rate
    if args.skip_steps is not None and "skip_steps" in params:
        params["skip_steps"] = args.skip_steps
    if args.momentum is not None and params["solver"] != "adam":
        params["momentum"] = args.momentum
    if args.protocol == "galvan":
        # his weights replace the estimator's; his loss has no L2 term
        params.pop("spectral_radius", None)
        params["alpha"] = 0.0
    return ESTIMATORS[task][cell](
        hidden_layer_sizes=(args.hidden,),
        learning_rate_init=args.learning_rate or LEARNING_RATES[params["solver"]],
        batch_size=args.batch,
        clip_norm=args.clip,
        pooling="last",  # the setting the recorded results were measured with
        bidirectional=False,  # likewise (Galvan's weights are one direction's)
        averaging=0.0,  # likewise (no weight averaging then)
        random_state=seed,
        **params,
    )


def chrono_initialise(est, cell, n_steps, rng):
    """Tallec and Ollivier's chrono initialisation of a fitted gated net's biases.

    LSTM (gates i, f, g, o): forget bias ``log U(1, n_steps - 1)``, input bias
    its negative. GRU (gates r, z, n; ``h' = (1 - z) n + z h``): update-gate
    bias ``log U(1, n_steps - 1)``. The whole bias goes into ``bias_ih``; the
    block of ``bias_hh`` is zeroed (the cell adds the two).
    """
    for layer in est.coefs_:
        H = layer["weight_hh"].shape[1]
        bias = np.log(rng.uniform(1, n_steps - 1, H))
        layer["bias_ih"][H : 2 * H] = bias
        layer["bias_hh"][H : 2 * H] = 0.0
        if cell == "lstm":
            layer["bias_ih"][:H] = -bias
            layer["bias_hh"][:H] = 0.0


def galvan_temporal_order(n_sequences, n_steps, rng, dtype=np.float64):
    """One minibatch of Galvan's temporal order task (his plain mode).

    One length ``L`` for the whole minibatch, uniform in
    ``[n_steps, 1.1 n_steps)``; symbols 0 and 1 are the markers X and Y, 2-5
    the distractors; one marker in ``[0, 0.1 L)``, one in ``[0.1 L, 0.5 L)``;
    the class is ``first + 2 * second`` (0-3). The draws come from ``rng`` in
    his order. Returns ``X (n_sequences, L, 6)`` one-hot and ``y`` int.
    """
    if n_steps < 10:
        raise ValueError(
            f"Galvan's temporal order task needs n_steps >= 10 (its markers sit "
            f"in the first tenth of the sequence), got {n_steps}."
        )
    length = rng.randint(int(n_steps * 0.1)) + n_steps
    symbols = rng.randint(4, size=(length, n_sequences)) + 2
    rows = np.arange(n_sequences)
    p0 = rng.randint(int(length * 0.1), size=n_sequences)
    v0 = rng.randint(2, size=n_sequences)
    p1 = rng.randint(int(length * 0.4), size=n_sequences) + int(length * 0.1)
    v1 = rng.randint(2, size=n_sequences)
    symbols[p0, rows] = v0
    symbols[p1, rows] = v1
    X = np.eye(6, dtype=dtype)[symbols.T]
    return X, v0 + 2 * v1


def galvan_initialise(est, radius, seed):
    """Galvan's initialisation of a fitted one-layer RNN, in place.

    ``weight_hh``, ``weight_ih`` and ``output_coef_`` Gaussian with std 0.1,
    each drawn from a fresh ``RandomState(seed)`` (his ``GaussianInit``
    objects each seed their own generator, so the three share their first
    draws); ``weight_hh`` then rescaled to spectral radius ``radius``; all
    biases zero.
    """
    layer = est.coefs_[0]
    W = np.random.RandomState(seed).normal(0.0, 0.1, layer["weight_hh"].shape)
    layer["weight_hh"][...] = W * (radius / np.max(np.abs(np.linalg.eigvals(W))))
    for target in (layer["weight_ih"], est.output_coef_):
        target[...] = np.random.RandomState(seed).normal(0.0, 0.1, target.shape)
    layer["bias_ih"][...] = 0.0
    layer["bias_hh"][...] = 0.0
    est.output_intercept_[...] = 0.0


def run_galvan(method, T, seed, args):
    """One run of Galvan's protocol; returns (success, updates, test error,
    seconds, seconds per update without the checks, CPU seconds per update).

    The CPU time of this process counts no time it waited for the cores, so
    on a loaded machine it is the steadier figure (with one thread)."""
    dtype = np.dtype(args.dtype)
    data_rng = np.random.RandomState(1000 + seed)
    test_rng = np.random.RandomState(2000 + seed)
    n_test = max(1, args.test // 5)
    tests = [galvan_temporal_order(n_test, T, test_rng, dtype) for _ in range(5)]
    est = make_estimator("temporal-order", method, seed, args)
    classes = np.arange(4)
    start = time.perf_counter()
    # one step on one minibatch creates the weights, which are then replaced
    # (SGD without momentum keeps no trace of that step; Adam keeps its moments)
    est.partial_fit(
        *galvan_temporal_order(args.batch, T, data_rng, dtype), classes=classes
    )
    galvan_initialise(est, GALVAN_RADIUS.get(method, 1.2), seed)
    error, train_seconds, train_cpu = np.inf, 0.0, 0.0
    for update in range(1, args.updates + 1):
        X, y = galvan_temporal_order(args.batch, T, data_rng, dtype)
        tick, cpu = time.perf_counter(), time.process_time()
        est.partial_fit(X, y)
        # partial_fit copies the fitted state, loss_curve_ (one entry per
        # call) included, twice per call: kept whole, it would make every
        # update cost more than the last (about 16 ms more at 30,000 updates)
        del est.loss_curve_[:-1]
        train_seconds += time.perf_counter() - tick
        train_cpu += time.process_time() - cpu
        if update % args.check_every and update != args.updates:
            continue
        error = float(np.mean([np.mean(est.predict(Xt) != yt) for Xt, yt in tests]))
        if args.progress:
            print(
                f"  update {update}: test error {error:.4f}, minibatch loss "
                f"{est.loss_:.4f}, {time.perf_counter() - start:.0f} s, "
                f"{1000 * train_cpu / update:.2f} ms CPU per update",
                flush=True,
            )
        if error < 0.01:
            break
    return (
        error < 0.01,
        update,
        error,
        time.perf_counter() - start,
        train_seconds / update,
        train_cpu / update,
    )


def run(task, method, T, seed, args):
    """One training run; returns (success, epochs, test error, seconds)."""
    make = make_temporal_order if task == "temporal-order" else make_addition
    data_rng = np.random.RandomState(1000 + seed)
    X, y = make(args.train, T, random_state=data_rng)
    Xt, yt = make(args.test, T, random_state=2000 + seed)
    X, Xt = X.astype(args.dtype), Xt.astype(args.dtype)
    est = make_estimator(task, method, seed, args)
    extra = {"classes": np.unique(y)} if task == "temporal-order" else {}
    start = time.perf_counter()
    if method in CHRONO or args.input_scale is not None:
        # one step on one minibatch creates the weights that are then edited
        est.partial_fit(X[: args.batch], y[: args.batch], **extra)
    if method in CHRONO:
        chrono_initialise(est, METHODS[method][0], T, np.random.RandomState(seed))
    if args.input_scale is not None:
        for layer in est.coefs_:
            layer["weight_ih"] *= args.input_scale
    error = np.inf
    for epoch in range(1, args.epochs + 1):
        if args.fresh and epoch > 1:
            X, y = make(args.train, T, random_state=data_rng)
            X = X.astype(args.dtype)
        est.partial_fit(X, y, **extra)
        if epoch % args.check and epoch != args.epochs:
            continue
        if task == "temporal-order":
            error = float(np.mean(est.predict(Xt) != yt))
        else:
            error = float(np.mean((est.predict(Xt) - yt) ** 2))
        if args.progress:
            print(
                f"  epoch {epoch}: test {error:.4f}, train loss {est.loss_:.4f}, "
                f"{time.perf_counter() - start:.0f} s",
                flush=True,
            )
        if error < 0.01:
            return True, epoch, error, time.perf_counter() - start
    return False, args.epochs, error, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", choices=sorted(ESTIMATORS), default="temporal-order")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument(
        "--lengths", type=int, nargs="+", default=[10, 20, 50, 100, 150, 200]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--hidden", type=int, default=50)
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument(
        "--protocol",
        choices=["epochs", "galvan"],
        default="epochs",
        help="'galvan': his data, initialisation, SGD and budget in updates",
    )
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--test", type=int, default=None, help="default 1000 (galvan: 10000)"
    )
    parser.add_argument(
        "--batch", type=int, default=None, help="default 20 (galvan: 100)"
    )
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--check", type=int, default=5)
    parser.add_argument(
        "--updates", type=int, default=3_000_000, help="galvan: budget in updates"
    )
    parser.add_argument(
        "--check-every", type=int, default=200, help="galvan: updates between tests"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="draw new training sequences every epoch (default: a fixed set)",
    )
    parser.add_argument("--clip", type=float, default=1.0, help="clip_norm")
    parser.add_argument("--progress", action="store_true", help="a line at every check")
    parser.add_argument(
        "--learning-rate", type=float, default=None, help="instead of the solver's"
    )
    parser.add_argument(
        "--momentum", type=float, default=None, help="sgd and simplex (default 0.9)"
    )
    parser.add_argument(
        "--input-scale",
        type=float,
        default=None,
        help="multiply the initial input weights (weight_ih) by this",
    )
    parser.add_argument("--leak-rate", type=float, default=None)
    parser.add_argument("--skip-steps", type=int, default=None)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny settings, for the test suite"
    )
    args = parser.parse_args(argv)
    galvan = args.protocol == "galvan"
    if galvan:
        if args.task != "temporal-order":
            parser.error("--protocol galvan runs the temporal order task only")
        others = [m for m in args.methods if METHODS[m][0] != "rnn"]
        if others:
            parser.error(
                f"--protocol galvan initialises a plain RNN as Galvan did; "
                f"{', '.join(others)} are gated cells: drop them from --methods"
            )
    defaults = GALVAN_DEFAULTS if galvan else EPOCH_DEFAULTS
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.smoke:
        args.lengths, args.seeds, args.hidden = [10], [0], 8
        args.train, args.test, args.epochs, args.check = 40, 40, 2, 1
        args.updates, args.check_every, args.batch = 4, 2, min(args.batch, 20)
    if galvan and min(args.lengths) < 10:
        parser.error("--protocol galvan needs --lengths of at least 10")
    warnings.simplefilter("ignore", ConvergenceWarning)
    results = {}
    for T in args.lengths:
        for method in args.methods:
            for seed in args.seeds:
                if galvan:
                    ok, n, error, seconds, per, cpu = run_galvan(method, T, seed, args)
                    results.setdefault((method, T), []).append(ok)
                    print(
                        f"temporal-order T={T} {method} seed={seed} (galvan, "
                        f"{args.dtype}, batch {args.batch}): "
                        f"{'success' if ok else 'failure'} after {n} updates, test "
                        f"error {error:.4f}, {seconds:.0f} s "
                        f"({1000 * per:.2f} ms per update, {1000 * cpu:.2f} ms CPU)",
                        flush=True,
                    )
                    continue
                ok, epochs, error, seconds = run(args.task, method, T, seed, args)
                results.setdefault((method, T), []).append(ok)
                what = "error" if args.task == "temporal-order" else "MSE"
                data = "fresh" if args.fresh else "fixed"
                print(
                    f"{args.task} T={T} {method} seed={seed} ({data} data): "
                    f"{'success' if ok else 'failure'} after {epochs} epochs, "
                    f"test {what} {error:.4f}, {seconds:.0f} s",
                    flush=True,
                )
    print("\nsuccess rate (method: T=rate)")
    for method in args.methods:
        cells = [
            f"T={T}: {100 * np.mean(results[method, T]):.0f} %"
            for T in args.lengths
            if (method, T) in results
        ]
        print(f"{method}: " + ", ".join(cells))
    return results


if __name__ == "__main__":
    main()
