"""The whole network's loss and gradient: NumPy reference and finite differences.

The estimator's ``_loss_grad`` (kernels + read-out + loss + L2) is checked on
padded batches, stacked layers, both output modes and every task.
"""

import numpy as np
import pytest
import reference as ref
from helpers import ragged_problem
from numpy.testing import assert_allclose
from scipy.special import log_softmax

import skrnn
from skrnn import _memory, _network
from skrnn._layout import CHUNK_SIZE, from_chunks

ACTIVATIONS = ["tanh", "relu", "logistic", "identity"]

# cell: (estimator prefix, reference step, reference init)
CELLS = {
    "rnn": ("RNN", ref.elman_step, ref.elman_init),
    "gru": ("GRU", ref.gru_step, ref.gru_init),
    "lstm": ("LSTM", ref.lstm_step, ref.lstm_init),
}


def _model(
    task, activation, layers, return_sequences, n_features, n_classes=3, **params
):
    """An initialised model (no training) and the encoded-target width.

    ``activation`` is an Elman activation, or the name of a gated cell;
    ``params`` are further estimator parameters (pooling, bidirectional)."""
    prefix = CELLS[activation][0] if activation in CELLS else "RNN"
    # the NumPy references read the last step's state
    params.setdefault("pooling", "last")
    common = dict(
        hidden_layer_sizes=layers,
        alpha=0.3,
        return_sequences=return_sequences,
        **params,
    )
    if prefix == "RNN":
        common["activation"] = activation
    if task == "regression":
        est = getattr(skrnn, prefix + "Regressor")(**common)
        n_outputs = 2
    else:
        est = getattr(skrnn, prefix + "Classifier")(
            loss="hinge" if task == "hinge" else "log_loss", **common
        )
        est.classes_ = np.arange(2 if task in ("binary", "hinge") else n_classes)
        n_outputs = 1 if est.classes_.shape[0] == 2 else n_classes
    est._initialize(
        n_features,
        n_outputs,
        np.float64,
        np.random.RandomState(1),
        logistic_output=est._task_spec().logistic_output,
    )
    if activation == "relu":
        # away from the kink, so that finite differences are smooth
        for layer in est.coefs_:
            for name in layer:
                if name.startswith("bias_ih"):
                    layer[name] += 0.5
    return est


def _targets(task, est, lengths, n_steps, return_sequences, rng):
    n = lengths.shape[0]
    T = n_steps if return_sequences else 1
    n_out = est.output_coef_.shape[0]
    if task == "regression":
        Y = rng.normal(size=(n, T, n_out))
    else:
        k = est.classes_.shape[0]
        idx = rng.integers(0, k, size=(n, T))
        Y = (idx[..., None] == 1).astype(float) if n_out == 1 else np.eye(k)[idx]
    if return_sequences:
        Y[np.arange(T)[None, :] >= lengths[:, None]] = np.nan
        Y[2, 0] = np.nan  # a real step without a target
    return Y


CASES = [
    ("regression", "tanh", (4,), False),
    ("regression", "tanh", (4, 3), True),
    ("binary", "logistic", (3, 4), False),
    ("multiclass", "tanh", (4,), True),
    ("hinge", "tanh", (4,), False),
] + [("regression", act, (3, 2), seq) for act in ACTIVATIONS for seq in (False, True)]
GATED_CASES = [
    (task, cell, layers, seq)
    for cell in CELLS
    if cell != "rnn"
    for task, layers, seq in [
        ("regression", (3, 2), False),
        ("regression", (4, 3), True),
        ("binary", (3,), False),
        ("multiclass", (3, 2), True),
    ]
]
CASES += GATED_CASES


def _check_finite_differences(est, X, lengths, Y, sw, masks=None):
    """Every gradient of ``_loss_grad`` against central differences."""
    loss_fn = est._task_spec().loss
    loss, grads = est._loss_grad(X, lengths, Y, sw, 2, loss=loss_fn, masks=masks)
    assert len(grads) == len(est._params())
    eps = 1e-6
    for p, g in zip(est._params(), grads, strict=True):
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = est._loss_grad(X, lengths, Y, sw, 1, loss=loss_fn, masks=masks)[0]
            p[idx] = old - eps
            down = est._loss_grad(X, lengths, Y, sw, 1, loss=loss_fn, masks=masks)[0]
            p[idx] = old
            num[idx] = (up - down) / (2 * eps)
        err = np.linalg.norm(num - g) / max(np.linalg.norm(num), 1e-12)
        assert err < 1e-6, (p.shape, err)


@pytest.mark.parametrize("task, activation, layers, return_sequences", CASES)
def test_gradient_matches_finite_differences(
    task, activation, layers, return_sequences
):
    rng = np.random.default_rng(0)
    X, lengths = ragged_problem(rng, n=CHUNK_SIZE + 5, max_steps=6, n_features=2)
    est = _model(task, activation, layers, return_sequences, X.shape[2])
    Y = _targets(task, est, lengths, X.shape[1], return_sequences, rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    _check_finite_differences(est, X, lengths, Y, sw)


# pooling and bidirectional layers, on every cell; (task, cell, layers,
# return_sequences, pooling, bidirectional)
LAYER_CASES = [
    ("regression", cell, (3, 2), False, pooling, bidirectional)
    for cell in ("tanh", "gru", "lstm")
    for pooling in ("last", "mean", "max")
    for bidirectional in (False, True)
] + [
    ("regression", "gru", (3, 2), True, "last", True),
    ("multiclass", "lstm", (3,), True, "last", True),
    ("binary", "tanh", (2, 3), False, "mean", True),
    ("multiclass", "gru", (3,), False, "max", True),
    ("hinge", "relu", (3,), False, "last", True),
]


@pytest.mark.parametrize(
    "task, activation, layers, return_sequences, pooling, bidirectional", LAYER_CASES
)
def test_pooling_and_bidirectional_gradients_match_finite_differences(
    task, activation, layers, return_sequences, pooling, bidirectional
):
    rng = np.random.default_rng(5)
    X, lengths = ragged_problem(rng, n=CHUNK_SIZE + 5, max_steps=6, n_features=2)
    est = _model(
        task,
        activation,
        layers,
        return_sequences,
        X.shape[2],
        pooling=pooling,
        bidirectional=bidirectional,
    )
    Y = _targets(task, est, lengths, X.shape[1], return_sequences, rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    _check_finite_differences(est, X, lengths, Y, sw)


@pytest.mark.parametrize("pooling", ["last", "mean"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_leaky_skip_gradients_match_finite_differences(
    pooling, return_sequences
):
    # issue 14's directions with issue 19's leaky units and skip connection:
    # the reverse direction has its own weight_skip_reverse
    rng = np.random.default_rng(8)
    X, lengths = ragged_problem(rng, n=CHUNK_SIZE + 5, max_steps=7, n_features=2)
    est = _model(
        "regression",
        "tanh",
        (3, 2),
        return_sequences,
        X.shape[2],
        pooling=pooling,
        bidirectional=True,
        leak_rate=0.6,
        skip_steps=2,
    )
    assert "weight_skip_reverse" in est.coefs_[1]
    Y = _targets("regression", est, lengths, X.shape[1], return_sequences, rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    _check_finite_differences(est, X, lengths, Y, sw)


def _fixed_masks(est, n, rng, p=0.4):
    return [
        (rng.uniform(size=(n, layer["weight_ih"].shape[1])) >= p) / (1 - p)
        for layer in est.coefs_
    ]


@pytest.mark.parametrize(
    "activation, return_sequences, pooling, bidirectional",
    [
        ("tanh", False, "last", False),
        ("gru", True, "last", False),
        ("lstm", False, "mean", True),
        ("gru", False, "max", True),
    ],
)
def test_dropout_gradients_with_fixed_masks_match_finite_differences(
    activation, return_sequences, pooling, bidirectional
):
    rng = np.random.default_rng(6)
    X, lengths = ragged_problem(rng, n=CHUNK_SIZE + 5, max_steps=6, n_features=3)
    est = _model(
        "regression",
        activation,
        (3, 2),
        return_sequences,
        X.shape[2],
        pooling=pooling,
        bidirectional=bidirectional,
        dropout=0.4,
    )
    Y = _targets("regression", est, lengths, X.shape[1], return_sequences, rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    masks = _fixed_masks(est, X.shape[0], rng)
    assert all((m == 0).any() for m in masks)
    _check_finite_differences(est, X, lengths, Y, sw, masks=masks)


def _reference_loss(est, X, lengths, Y, sw, task, return_sequences, masks=None):
    """The loss of DESIGN.md written out per sequence and step (with the
    pooling, bidirectional layers and dropout ``masks`` of ``est``)."""
    total, weight = 0.0, 0.0
    _, step, init = CELLS[est._cell.torch_name.lower()]
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    activation = getattr(est, "activation", "tanh")
    for i, n in enumerate(lengths):
        h = X[i, :n]
        for k, layer in enumerate(est.coefs_):
            if masks is not None:
                h = h * masks[k][i]
            out = ref.run_layer(
                step, init, h, n, [layer[w] for w in names], activation=activation
            )
            if est._bidirectional():
                back = ref.run_layer(
                    step,
                    init,
                    h[::-1],
                    n,
                    [layer[w + "_reverse"] for w in names],
                    activation=activation,
                )[::-1]
                out = np.hstack([out, back])
            h = out
        if return_sequences:
            outputs = h @ est.output_coef_.T + est.output_intercept_
            steps = range(n)
        else:
            pooled = ref.pool(h, est.pooling, est._bidirectional())
            outputs = (pooled @ est.output_coef_.T + est.output_intercept_)[None]
            steps = [0]
        for t in steps:
            y = Y[i, t if return_sequences else 0]
            if np.isnan(y).any():
                continue
            z = outputs[t]
            if task == "regression":
                value = 0.5 * np.mean((z - y) ** 2)
            elif task == "hinge":
                value = max(0.0, 1 - (2 * y[0] - 1) * z[0])
            elif z.shape[0] == 1:
                p = 1 / (1 + np.exp(-z[0]))
                value = -(y[0] * np.log(p) + (1 - y[0]) * np.log(1 - p))
            else:
                value = -np.dot(y, log_softmax(z))
            total += sw[i] * value
            weight += sw[i]
    penalty = sum(
        np.sum(value**2)
        for layer in est.coefs_
        for name, value in layer.items()
        if name.startswith("weight")
    ) + np.sum(est.output_coef_**2)
    return total / weight + 0.5 * est.alpha * penalty / sw.sum()


@pytest.mark.parametrize("task, activation, layers, return_sequences", CASES)
def test_loss_matches_numpy_reference(task, activation, layers, return_sequences):
    rng = np.random.default_rng(1)
    X, lengths = ragged_problem(rng, n=2 * CHUNK_SIZE + 3, max_steps=7, n_features=2)
    est = _model(task, activation, layers, return_sequences, X.shape[2])
    Y = _targets(task, est, lengths, X.shape[1], return_sequences, rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    loss, _ = est._loss_grad(X, lengths, Y, sw, 2, loss=est._task_spec().loss)
    expected = _reference_loss(est, X, lengths, Y, sw, task, return_sequences)
    assert_allclose(loss, expected, rtol=1e-10)


def test_padded_batch_gradient_is_the_weighted_sum_of_single_sequences():
    """Padding never leaks into the math: a batch of sequences of different
    lengths gives the weighted mean of the gradients of each sequence alone."""
    rng = np.random.default_rng(2)
    X, lengths = ragged_problem(rng, n=CHUNK_SIZE + 7, max_steps=8, n_features=3)
    est = _model("regression", "tanh", (5, 3), True, X.shape[2])
    est.alpha = 0.0
    Y = _targets("regression", est, lengths, X.shape[1], True, rng)
    Y[2, 0] = Y[3, 0]  # every real step has a target: equal weights per entry
    sw = np.ones(X.shape[0])
    _, grads = est._loss_grad(X, lengths, Y, sw, 2, loss=est._task_spec().loss)
    expected = [np.zeros_like(g) for g in grads]
    for i, n in enumerate(lengths):
        _, single = est._loss_grad(
            X[i : i + 1, :n],
            lengths[i : i + 1],
            Y[i : i + 1, :n],
            sw[i : i + 1],
            1,
            loss=est._task_spec().loss,
        )
        for e, g in zip(expected, single, strict=False):
            e += g * n / lengths.sum()
    for g, e in zip(grads, expected, strict=False):
        assert_allclose(g, e, rtol=1e-10, atol=1e-14)


def _assert_inference_gives_the_training_pass(net, X, lengths):
    """The inference path's read-out is the training forward pass's: bit for
    bit on the training pass's chunks (the same sums in the same order), and
    on the inference path's own larger chunks bit for bit in float64 and to
    rounding in float32, where OpenBLAS's sgemm kernels for some CPUs
    (Haswell, Zen) sum a row's product in an order that depends on how many
    rows the call has."""
    trace = _network.forward(net, X, lengths, n_threads=2)
    expected = trace.Z
    same_chunks = _network.infer_states(net, X, trace.chunking, n_threads=2)
    same_chunks = same_chunks @ net.output_coef.T + net.output_intercept
    if net.return_sequences:
        expected = from_chunks(trace.Z, trace.chunking, X.shape[0])
        same_chunks = from_chunks(same_chunks, trace.chunking, X.shape[0])
    assert np.array_equal(same_chunks, expected, equal_nan=True)
    got = _network.infer(net, X, lengths, n_threads=2)
    assert got.dtype == X.dtype
    if X.dtype == np.float64:
        assert np.array_equal(got, expected, equal_nan=True)
    else:
        assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("layers", [(4,), (5, 3)])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prediction_path_gives_the_training_forward_pass(
    cell, layers, return_sequences, dtype
):
    """Predictions (the kernels' inference path, no cache) are the read-out of
    the training forward pass on a ragged batch (see the helper above)."""
    rng = np.random.default_rng(3)
    X, lengths = ragged_problem(rng, n=3 * CHUNK_SIZE + 5, max_steps=40, n_features=3)
    X = X.astype(dtype)
    activation = "tanh" if cell == "rnn" else cell
    est = _model("regression", activation, layers, return_sequences, X.shape[2])
    est._initialize(
        X.shape[2], 2, dtype, np.random.RandomState(4), logistic_output=False
    )
    _assert_inference_gives_the_training_pass(est._network(), X, lengths)


@pytest.mark.parametrize(
    "task, activation, layers, return_sequences, pooling, bidirectional", LAYER_CASES
)
@pytest.mark.parametrize("dropout", [False, True])
def test_pooling_bidirectional_dropout_loss_matches_numpy_reference(
    task, activation, layers, return_sequences, pooling, bidirectional, dropout
):
    rng = np.random.default_rng(7)
    X, lengths = ragged_problem(rng, n=2 * CHUNK_SIZE + 3, max_steps=7, n_features=2)
    est = _model(
        task,
        activation,
        layers,
        return_sequences,
        X.shape[2],
        pooling=pooling,
        bidirectional=bidirectional,
    )
    Y = _targets(task, est, lengths, X.shape[1], return_sequences, rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    masks = _fixed_masks(est, X.shape[0], rng) if dropout else None
    loss, _ = est._loss_grad(
        X, lengths, Y, sw, 2, loss=est._task_spec().loss, masks=masks
    )
    expected = _reference_loss(est, X, lengths, Y, sw, task, return_sequences, masks)
    assert_allclose(loss, expected, rtol=1e-10)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize(
    "return_sequences, pooling",
    [(False, "last"), (False, "mean"), (False, "max"), (True, "last")],
)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prediction_path_pools_as_the_training_forward_pass(
    cell, return_sequences, pooling, bidirectional, dtype
):
    """The inference path (larger chunks, no cache, last states only where
    they suffice) gives the training pass's read-out (see
    :func:`_assert_inference_gives_the_training_pass`), for every pooling and
    for bidirectional layers, on a ragged batch over several chunks."""
    rng = np.random.default_rng(8)
    X, lengths = ragged_problem(rng, n=5 * CHUNK_SIZE + 5, max_steps=30, n_features=3)
    X = X.astype(dtype)
    activation = "tanh" if cell == "rnn" else cell
    est = _model(
        "regression",
        activation,
        (4, 3),
        return_sequences,
        X.shape[2],
        pooling=pooling,
        bidirectional=bidirectional,
    )
    est._initialize(
        X.shape[2], 2, dtype, np.random.RandomState(4), logistic_output=False
    )
    _assert_inference_gives_the_training_pass(est._network(), X, lengths)


class _StaleWorkspace(_memory.Workspace):
    """Hands out arrays full of NaN, as a reused buffer may hold anything."""

    def empty(self, key, shape, dtype):
        out = super().empty(key, shape, dtype)
        out.fill(np.nan)
        return out


@pytest.mark.parametrize(
    "cell, layers, return_sequences, params",
    [
        ("tanh", (4, 3, 2), True, {}),
        ("lstm", (3, 2), False, {"bidirectional": True, "pooling": "mean"}),
        ("gru", (4, 3), False, {"bidirectional": True, "pooling": "max"}),
        ("gru", (3,), True, {"recurrent_dropout": 0.3}),
        ("tanh", (4,), False, {"skip_steps": 2}),
    ],
)
def test_a_workspace_reused_across_batches_changes_nothing(
    cell, layers, return_sequences, params
):
    """The epoch loop's workspace: whatever its buffers hold from the last
    minibatch (NaN here), the loss and gradients are those of fresh arrays,
    for a batch and then a shorter, smaller one in the same buffers."""
    rng = np.random.default_rng(4)
    X, lengths = ragged_problem(rng, n=2 * CHUNK_SIZE + 3, max_steps=7, n_features=2)
    est = _model("regression", cell, layers, return_sequences, X.shape[2], **params)
    Y = _targets("regression", est, lengths, X.shape[1], return_sequences, rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    loss_fn = est._task_spec().loss
    workspace = _StaleWorkspace()
    for rows in (slice(None), slice(3, CHUNK_SIZE)):
        n = lengths[rows].max()
        batch = (X[rows, :n], lengths[rows], Y[rows, : n if return_sequences else 1])
        fresh = est._loss_grad(
            *batch, sw[rows], 2, loss=loss_fn, rng=np.random.default_rng(0)
        )
        reused = est._loss_grad(
            *batch,
            sw[rows],
            2,
            loss=loss_fn,
            rng=np.random.default_rng(0),
            workspace=workspace,
        )
        assert fresh[0] == reused[0]
        for g, h in zip(fresh[1], reused[1], strict=True):
            np.testing.assert_array_equal(g, h)


@pytest.mark.parametrize(
    "task, cell, layers, params",
    [
        ("regression", "lstm", (3, 2), {"bidirectional": True, "pooling": "mean"}),
        ("multiclass", "gru", (4,), {"pooling": "max", "dropout": 0.3}),
        ("binary", "tanh", (4,), {"recurrent_dropout": 0.3}),
    ],
)
def test_sub_batches_give_the_minibatch_loss_and_gradients(task, cell, layers, params):
    """A minibatch's gradient pass over sub-batches of whole chunks (see
    skrnn._memory.SUB_BATCH_BYTES) gives the loss and gradients of the pass
    over the whole minibatch, to rounding: ragged lengths, sample weights,
    dropout masks drawn for the whole minibatch, a last sub-batch shorter and
    smaller than the others."""
    rng = np.random.default_rng(5)
    X, lengths = ragged_problem(rng, n=9 * CHUNK_SIZE + 5, max_steps=9, n_features=2)
    est = _model(task, cell, layers, False, X.shape[2], **params)
    Y = _targets(task, est, lengths, X.shape[1], False, rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    loss_fn = est._task_spec().loss
    whole = est._loss_grad(
        X, lengths, Y, sw, 2, loss=loss_fn, rng=np.random.default_rng(0)
    )
    assert est._sub_batch_rows(X, Y, sw, step_shares=False) is None
    chunk_bytes = est._gradient_bytes(
        CHUNK_SIZE, X.shape[1], X.shape[2], Y.shape[2], 8, step_shares=False
    )
    # four chunks a sub-batch: three sub-batches, the last of 1 chunk + 5 rows
    est._sub_batch_bytes = 4 * chunk_bytes * 1.01
    rows = est._sub_batch_rows(X, Y, sw, step_shares=False)
    assert rows == 4 * CHUNK_SIZE
    parts = est._loss_grad(
        X,
        lengths,
        Y,
        sw,
        2,
        loss=loss_fn,
        rng=np.random.default_rng(0),
        workspace=_StaleWorkspace(),
        sub_batch_rows=rows,
    )
    assert_allclose(parts[0], whole[0], rtol=1e-13)
    for g, h in zip(parts[1], whole[1], strict=True):
        assert_allclose(g, h, rtol=1e-12, atol=1e-15)
    # the per-step bookkeeping of the simplex direction needs the whole batch
    assert est._sub_batch_rows(X, Y, sw, step_shares=True) is None
