"""EM training (Ma & Ji) against random reservoirs and gradient training.

Data: a random sigmoid teacher RNN (8 hidden, 2 inputs, T=30, 600 training +
100 test sequences, per-step targets, noise std 0.02); three teacher seeds,
three EM initialisations each; medians. Losses are 0.5 x MSE.

1. The best of 20 random reservoirs of the same size (sigmoid units drawn as
   EM draws its start, least-squares read-out) against EM's final loss.
2. Time to reach that reservoir's loss: EM against full-batch gradient
   descent (``RNNRegressor(activation='logistic', solver='sgd',
   batch_size=600, momentum=0)``) at its best learning rate on a grid, and
   against minibatch Adam (lr 1e-2, batch 32). Times come from each fit's
   wall time spread evenly over its iterations or epochs.
3. Test losses of the final models.

    python benchmarks/bench_em.py [--epochs 2000]

``--spread``: instead, the spread of EM's default fit over ``random_state``
0-5 on three teachers of each kind: 'design' (above) and 'issue' (input
weights N(0, 1.5^2), recurrent N(0, 1.5^2/8), no bias, as issue 14 drew
them), each as the final training loss over the best of 20 random
reservoirs', for each ``n_init`` given.

    python benchmarks/bench_em.py --spread [--n-init 1 3]
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from skrnn import EMRecurrentRegressor, RNNRegressor

LEARNING_RATES = [0.1, 0.3, 1.0, 3.0, 10.0]


def teacher(seed, n=700, T=30, F=2, H=8, noise=0.02, kind="design"):
    rng = np.random.default_rng(seed)
    if kind == "design":
        W = rng.uniform(-6 / np.sqrt(H), 6 / np.sqrt(H), (H, F + H + 1))
    else:
        W = np.hstack(
            [
                rng.normal(0, 1.5, (H, F)),
                rng.normal(0, 1.5 / np.sqrt(H), (H, H)),
                np.zeros((H, 1)),
            ]
        )
    V = rng.normal(size=(1, H))
    X = rng.uniform(-1, 1, (n, T, F))
    Z = np.zeros((n, H))
    Y = np.zeros((n, T))
    for t in range(T):
        Z = expit(np.concatenate([X[:, t], Z, np.ones((n, 1))], axis=1) @ W.T)
        Y[:, t] = (Z @ V.T)[:, 0]
    Y += noise * rng.normal(size=Y.shape)
    return X[:600], Y[:600], X[600:], Y[600:]


def loss(model, X, Y):
    return 0.5 * float(np.mean((model.predict(X) - Y) ** 2))


def best_reservoir(X, Y, seed, draws=20):
    """Lowest training loss of random sigmoid networks with a fitted read-out."""
    per_step = Y.ndim == 2
    est = EMRecurrentRegressor(8, return_sequences=per_step)
    targets = Y[:, :, None] if per_step else Y[:, None, None]
    data = est._prepare(X, np.full(len(X), X.shape[1]), targets, np.ones(len(X)))
    rng = np.random.RandomState(seed)
    values = []
    for _ in range(draws):
        W = rng.uniform(-6 / np.sqrt(8), 6 / np.sqrt(8), (8, 2 + 8 + 1))
        values.append(est._readout(data, W, 1)[2])
    return min(values)


def time_to(curve, seconds, level):
    """Seconds until ``curve`` first reaches ``level`` (None if never)."""
    hits = np.flatnonzero(np.asarray(curve) <= level)
    return None if hits.size == 0 else seconds * (hits[0] + 1) / len(curve)


def fit_timed(est, X, Y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, Y)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--epochs", type=int, default=2000, help="epochs of full-batch gradient descent"
    )
    parser.add_argument("--adam-epochs", type=int, default=300)
    parser.add_argument("--spread", action="store_true")
    parser.add_argument("--n-init", type=int, nargs="*", default=[1, 3])
    args = parser.parse_args()
    if args.spread:
        spread(args)
        return
    rows = []
    for seed in range(3):
        X, Y, Xt, Yt = teacher(seed)
        level = best_reservoir(X, Y, seed)
        em_runs = []
        for init in range(3):
            em = EMRecurrentRegressor(
                8,
                return_sequences=True,
                max_iter=300,
                n_iter_no_change=20,
                n_init=1,
                random_state=init,
            )
            seconds = fit_timed(em, X, Y)
            em_runs.append(
                (
                    em.best_loss_,
                    time_to(em.loss_curve_, seconds, level),
                    loss(em, Xt, Yt),
                    em.n_iter_,
                    seconds,
                )
            )
        em_final = statistics.median(r[0] for r in em_runs)
        em_times = [r[1] for r in em_runs if r[1] is not None]
        em_time = statistics.median(em_times) if em_times else float("nan")
        em_test = statistics.median(r[2] for r in em_runs)
        gd = {}
        for lr in LEARNING_RATES:
            est = RNNRegressor(
                8,
                activation="logistic",
                solver="sgd",
                batch_size=600,
                momentum=0.0,
                learning_rate_init=lr,
                alpha=0.0,
                clip_norm=None,
                max_iter=args.epochs,
                tol=0.0,
                n_iter_no_change=args.epochs,
                shuffle=False,
                return_sequences=True,
                random_state=0,
            )
            seconds = fit_timed(est, X, Y)
            curve = est.loss_curve_
            if not np.isfinite(curve[-1]):
                continue
            gd[lr] = (time_to(curve, seconds, level), loss(est, Xt, Yt), curve[-1])
        reached = {lr: v for lr, v in gd.items() if v[0] is not None}
        best_lr = (
            min(reached, key=lambda k: reached[k][0])
            if reached
            else min(gd, key=lambda k: gd[k][2])
        )
        gd_time, gd_test, gd_final = gd[best_lr]
        adam = RNNRegressor(
            8,
            activation="logistic",
            solver="adam",
            batch_size=32,
            learning_rate_init=1e-2,
            alpha=0.0,
            clip_norm=None,
            max_iter=args.adam_epochs,
            tol=0.0,
            n_iter_no_change=args.adam_epochs,
            return_sequences=True,
            random_state=0,
        )
        adam_seconds = fit_timed(adam, X, Y)
        adam_time = time_to(adam.loss_curve_, adam_seconds, level)
        rows.append(
            dict(
                seed=seed,
                level=level,
                em_final=em_final,
                em_time=em_time,
                em_test=em_test,
                best_lr=best_lr,
                gd_time=gd_time,
                gd_test=gd_test,
                gd_final=gd_final,
                adam_time=adam_time,
                adam_final=loss(adam, X, Y),
                adam_test=loss(adam, Xt, Yt),
                em_iters=[r[3] for r in em_runs],
            )
        )
        r = rows[-1]
        print(
            f"teacher {seed}: reservoir {level:.5f} | EM final {em_final:.5f} "
            f"({em_final / level:.2f}x), to reservoir {em_time:.3f} s, test "
            f"{em_test:.5f}, iterations {r['em_iters']} | GD lr={best_lr}: to "
            f"reservoir {gd_time if gd_time is None else round(gd_time, 2)} s, "
            f"final {gd_final:.5f}, test {gd_test:.5f} | Adam: to reservoir "
            f"{adam_time if adam_time is None else round(adam_time, 2)} s, final "
            f"{r['adam_final']:.5f}, test {r['adam_test']:.5f}",
            flush=True,
        )

    def med(key):
        values = [r[key] for r in rows if r[key] is not None]
        return statistics.median(values) if values else float("nan")

    print(
        f"medians: EM final / reservoir {med('em_final') / med('level'):.2f}; "
        f"GD time / EM time {med('gd_time') / med('em_time'):.1f}x; Adam time / EM "
        f"time {med('adam_time') / med('em_time'):.1f}x; EM test / GD test "
        f"{med('em_test') / med('gd_test'):.2f}; EM final / Adam final "
        f"{med('em_final') / med('adam_final'):.1f}x"
    )
    sequence_to_one(args)


def spread(args):
    """EM's final loss over the best reservoir's, for random_state 0-5."""
    for kind in ("design", "issue"):
        for seed in range(3):
            X, Y, _, _ = teacher(seed, kind=kind)
            level = best_reservoir(X, Y, seed)
            for n_init in args.n_init:
                ratios, seconds = [], []
                for state in range(6):
                    em = EMRecurrentRegressor(
                        8, return_sequences=True, n_init=n_init, random_state=state
                    )
                    seconds.append(fit_timed(em, X, Y))
                    ratios.append(em.best_loss_ / level)
                print(
                    f"{kind} teacher {seed}, n_init={n_init}: reservoir {level:.5f}; "
                    f"EM / reservoir {' '.join(f'{r:.2f}' for r in ratios)} (median "
                    f"{statistics.median(ratios):.2f}, max {max(ratios):.2f}); fit "
                    f"{statistics.median(seconds):.1f} s (median)",
                    flush=True,
                )


def sequence_to_one(args):
    """Teacher 0 with one target per sequence, at its last step."""
    X, Y, Xt, Yt = teacher(0)
    y, yt = Y[:, -1], Yt[:, -1]
    level = best_reservoir(X, y, 0)
    em = EMRecurrentRegressor(
        8, max_iter=300, n_iter_no_change=20, n_init=1, random_state=0
    )
    em_seconds = fit_timed(em, X, y)
    adam = RNNRegressor(
        8,
        activation="logistic",
        batch_size=32,
        learning_rate_init=1e-2,
        alpha=0.0,
        clip_norm=None,
        max_iter=args.adam_epochs,
        tol=0.0,
        n_iter_no_change=args.adam_epochs,
        random_state=0,
    )
    adam_seconds = fit_timed(adam, X, y)
    print(
        f"sequence-to-one (teacher 0, last step): reservoir {level:.5f} | EM final "
        f"{em.best_loss_:.5f} ({em.best_loss_ / level:.2f}x) after {em.n_iter_} "
        f"iterations, {em_seconds:.2f} s, test {loss(em, Xt, yt):.5f} | Adam final "
        f"{loss(adam, X, y):.5f}, {adam_seconds:.1f} s, test {loss(adam, Xt, yt):.5f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
