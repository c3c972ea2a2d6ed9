"""Does the reservoir's sparsity pattern matter? Cyclic diagonals vs random.

skrnn places the nonzeros of the recurrent matrix on K cyclic diagonals at
random offsets (unit r reads units r + o_k mod N), which makes a step K
contiguous multiply-adds. This compares it with the pattern reservoirpy draws
(every entry nonzero with probability 1 - sparsity), both with normal weights
scaled to the same spectral radius, on two tasks, in plain NumPy so that only
the pattern differs:

- Mackey-Glass one step ahead, bench_esn.py's setting (500 units, radius 1.25,
  leak 0.3, 10% connectivity, ridge 1e-7, washout 100): test NRMSE.
- Memory capacity (Jaeger 2002): iid uniform input, sum over delays 1..80 of
  the squared correlation of a ridge read-out of u(t - d) with the truth
  (radius 0.9, leak 1, input scaling 0.1).

    python benchmarks/bench_esn_topology.py [--seeds 30]
"""

import argparse

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
import scipy.stats

from skrnn.datasets import make_mackey_glass

N, DENSITY, WASHOUT, TRAIN = 500, 0.1, 100, 4000


def recurrent_matrix(pattern, rng):
    K = round(DENSITY * N)
    if pattern == "random":
        W = scipy.sparse.random(N, N, density=DENSITY, random_state=rng)
        W.data = rng.normal(size=W.nnz)
    else:
        offsets = rng.choice(N, size=K, replace=False)
        rows = np.tile(np.arange(N), K)
        columns = (rows + np.repeat(offsets, N)) % N
        W = scipy.sparse.csr_matrix((rng.normal(size=K * N), (rows, columns)))
    W = scipy.sparse.csr_matrix(W)
    radius = np.abs(
        scipy.sparse.linalg.eigs(W, k=6, ncv=40, return_eigenvectors=False)
    ).max()
    return W / radius


def states(W, w_in, bias, u, leak):
    x, out = np.zeros(N), np.empty((len(u), N))
    for t, ut in enumerate(u):
        x = (1 - leak) * x + leak * np.tanh(w_in * ut + bias + W @ x)
        out[t] = x
    return out


def ridge(S, Y, alpha):
    mean_s, mean_y = S.mean(axis=0), Y.mean(axis=0)
    Sc = S - mean_s
    coef = scipy.linalg.solve(
        Sc.T @ Sc + alpha * np.eye(N), Sc.T @ (Y - mean_y), assume_a="pos"
    )
    return coef, mean_y - mean_s @ coef


def mackey_glass_nrmse(W, w_in, bias, series):
    X, y = series[:-1], series[1:]
    S = states(1.25 * W, w_in, bias, X, 0.3)
    coef, intercept = ridge(S[WASHOUT:TRAIN], y[WASHOUT:TRAIN, None], 1e-7)
    pred = (S[TRAIN:] @ coef + intercept)[:, 0]
    return np.sqrt(np.mean((pred - y[TRAIN:]) ** 2)) / np.std(y[TRAIN:])


def memory_capacity(W, w_in, bias, rng, delays=80, n_train=2000, n_test=1000):
    u = rng.uniform(-0.8, 0.8, size=WASHOUT + n_train + n_test)
    S = states(0.9 * W, 0.1 * w_in, 0.1 * bias, u, 1.0)
    ts = np.arange(WASHOUT, len(u))
    targets = np.stack([u[ts - d] for d in range(1, delays + 1)], axis=1)
    train, test = slice(0, n_train), slice(n_train, None)
    coef, intercept = ridge(S[ts][train], targets[train], 1e-8)
    pred = S[ts][test] @ coef + intercept
    return sum(
        np.corrcoef(pred[:, d], targets[test][:, d])[0, 1] ** 2 for d in range(delays)
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=30)
    args = parser.parse_args()
    series = make_mackey_glass(TRAIN + 2001)
    results = {}
    for pattern in ("random", "cyclic diagonals"):
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            signs = rng.choice([-1.0, 1.0], size=(2, N))
            W = recurrent_matrix(pattern, rng)
            results.setdefault(pattern, []).append(
                (
                    mackey_glass_nrmse(W, signs[0], signs[1], series),
                    memory_capacity(W, signs[0], signs[1], rng),
                )
            )
    for k, name in enumerate(("Mackey-Glass NRMSE", "memory capacity")):
        a, b = (np.array(results[p])[:, k] for p in results)
        test = scipy.stats.mannwhitneyu(a, b)
        print(
            f"{name}: random median {np.median(a):.4g} (mean {a.mean():.4g}), cyclic "
            f"diagonals median {np.median(b):.4g} (mean {b.mean():.4g}); "
            f"Mann-Whitney p = {test.pvalue:.2f} over {args.seeds} seeds each"
        )


if __name__ == "__main__":
    main()
