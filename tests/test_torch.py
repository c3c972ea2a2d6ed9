"""PyTorch as a second reference: modules built from the fitted weights."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

import skrnn

CELLS = ["RNN", "GRU", "LSTM"]


def _data(seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 7, 3))
    lengths = rng.integers(1, 8, size=40)
    lengths[0] = 7
    for i, n in enumerate(lengths):
        X[i, n:] = np.nan
    return X, lengths


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_torch_module_reproduces_predict(cell, return_sequences):
    torch = pytest.importorskip("torch")
    X, lengths = _data()
    target = np.nan_to_num(X[:, :, 0]).cumsum(axis=1)
    y = target if return_sequences else target[np.arange(40), lengths - 1]
    est = _fit(
        getattr(skrnn, cell + "Regressor")(
            hidden_layer_sizes=(6, 4),
            max_iter=3,
            random_state=0,
            return_sequences=return_sequences,
        ),
        X,
        y,
    )
    with torch.no_grad():
        out = est.to_torch()(
            torch.from_numpy(np.nan_to_num(X)), torch.from_numpy(lengths)
        ).numpy()[..., 0]
    pred = est.predict(X)
    real = ~np.isnan(pred)
    assert_allclose(out[real], pred[real], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_torch_module_gives_the_decision_function(cell):
    torch = pytest.importorskip("torch")
    X, lengths = _data(4)
    y = np.arange(40) % 3
    clf = _fit(
        getattr(skrnn, cell + "Classifier")(
            hidden_layer_sizes=5, max_iter=2, random_state=0
        ),
        X,
        y,
    )
    with torch.no_grad():
        out = clf.to_torch()(
            torch.from_numpy(np.nan_to_num(X)), torch.from_numpy(lengths)
        ).numpy()
    assert_allclose(out, clf.decision_function(X), rtol=1e-8, atol=1e-12)


def test_float32_models_export_in_float32():
    torch = pytest.importorskip("torch")
    X, lengths = _data(5)
    est = _fit(
        skrnn.GRURegressor(hidden_layer_sizes=4, max_iter=1),
        X.astype(np.float32),
        np.arange(40.0),
    )
    module = est.to_torch()
    assert all(p.dtype == torch.float32 for p in module.parameters())


def test_elman_activation_without_a_torch_equivalent():
    pytest.importorskip("torch")
    X, _ = _data(6)
    est = _fit(
        skrnn.RNNRegressor(hidden_layer_sizes=3, activation="logistic", max_iter=1),
        X,
        np.arange(40.0),
    )
    with pytest.raises(ValueError, match="no 'logistic' activation"):
        est.to_torch()


def test_to_torch_without_torch_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    X, _ = _data(7)
    est = _fit(skrnn.RNNRegressor(hidden_layer_sizes=3, max_iter=1), X, np.arange(40.0))
    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ImportError, match="pip install torch"):
        est.to_torch()


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(
    "return_sequences, pooling",
    [(False, "last"), (False, "mean"), (False, "max"), (True, "last")],
)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_torch_module_reproduces_pooling_and_bidirectional_predict(
    cell, return_sequences, pooling, bidirectional
):
    """Bidirectional models export as ``torch.nn.RNN/GRU/LSTM(bidirectional=
    True)`` on packed sequences; the pooling is the module's too."""
    torch = pytest.importorskip("torch")
    X, lengths = _data(8)
    target = np.nan_to_num(X[:, :, 0]).cumsum(axis=1)
    y = target if return_sequences else target[np.arange(40), lengths - 1]
    est = _fit(
        getattr(skrnn, cell + "Regressor")(
            hidden_layer_sizes=(5, 3),
            max_iter=3,
            random_state=0,
            return_sequences=return_sequences,
            pooling=pooling,
            bidirectional=bidirectional,
            dropout=0.2,
        ),
        X,
        y,
    )
    module = est.to_torch()
    if bidirectional:
        assert all(rnn.bidirectional for rnn in module.layers)
        assert module.layers[1].input_size == 10
    with torch.no_grad():
        out = module(
            torch.from_numpy(np.nan_to_num(X)), torch.from_numpy(lengths)
        ).numpy()[..., 0]
    pred = est.predict(X)
    real = ~np.isnan(pred)
    assert_allclose(out[real], pred[real], rtol=1e-8, atol=1e-12)


def test_bidirectional_classifier_exports_its_decision_function():
    torch = pytest.importorskip("torch")
    X, lengths = _data(9)
    clf = _fit(
        skrnn.LSTMClassifier(
            hidden_layer_sizes=4, max_iter=2, random_state=0, bidirectional=True
        ),
        X,
        np.arange(40) % 3,
    )
    with torch.no_grad():
        out = clf.to_torch()(
            torch.from_numpy(np.nan_to_num(X)), torch.from_numpy(lengths)
        ).numpy()
    assert_allclose(out, clf.decision_function(X), rtol=1e-8, atol=1e-12)


def _grud_visits(seed, dtype=np.float64, n=40, T=7):
    """Visit records: a time column first, labs with gaps, ragged."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, 3))
    X[..., 0] = np.cumsum(rng.uniform(10, 100, size=(n, T)), axis=1)
    labs = X[..., 1:]
    labs[rng.random(labs.shape) < 0.4] = np.nan
    lengths = rng.integers(1, T + 1, size=n)
    lengths[0] = T
    for i, length in enumerate(lengths):
        X[i, length:] = np.nan
    y = np.nan_to_num(X[..., 1]).cumsum(axis=1)
    return X.astype(dtype), y


GRUD_EXPORTS = [
    ({}, False),
    ({"time_column": None}, True),
    ({"hidden_layer_sizes": (5, 3)}, True),
    ({"hidden_layer_sizes": (5, 3), "pooling": "max"}, False),
    ({"bidirectional": True}, False),
    ({"bidirectional": True}, True),
    ({"hidden_layer_sizes": (5, 3), "bidirectional": True, "pooling": "mean"}, False),
]


@pytest.mark.parametrize("params, return_sequences", GRUD_EXPORTS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_grud_module_reproduces_predict(params, return_sequences, dtype):
    """GRU-D's module (ours: torch.nn has no GRU-D) takes the raw X, NaN and
    time column included, as predict does."""
    torch = pytest.importorskip("torch")
    X, target = _grud_visits(10, dtype)
    lengths = (~np.isnan(X).all(axis=2)).sum(axis=1)
    y = target if return_sequences else target[np.arange(40), lengths - 1]
    est = _fit(
        skrnn.GRUDRegressor(
            **{
                "hidden_layer_sizes": 4,
                "max_iter": 3,
                "random_state": 0,
                "time_column": 0,
                "return_sequences": return_sequences,
                **params,
            }
        ),
        X,
        y,
    )
    module = est.to_torch()
    want = torch.float64 if dtype == np.float64 else torch.float32
    assert all(p.dtype == want for p in module.parameters())
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()[..., 0]
    assert out.dtype == dtype
    pred = est.predict(X)
    real = ~np.isnan(pred)
    if dtype == np.float64:
        assert_allclose(out[real], pred[real], rtol=1e-8, atol=1e-12)
    else:  # to 1e-4 of the outputs' scale
        scale = np.abs(pred[real]).max()
        assert_allclose(out[real], pred[real], rtol=1e-4, atol=1e-4 * scale)


def test_grud_module_has_the_estimator_s_parameter_names():
    torch = pytest.importorskip("torch")
    X, target = _grud_visits(11)
    clf = _fit(
        skrnn.GRUDClassifier(
            (4, 3), bidirectional=True, max_iter=2, random_state=0, time_column=0
        ),
        X,
        np.arange(40) % 3,
    )
    module = clf.to_torch()
    names = dict(module.named_parameters())
    for k, layer in enumerate(clf.coefs_):
        for name, value in layer.items():
            base, reverse, _ = name.partition("_reverse")
            got = names[f"layers.{k}.{base}_l0{reverse}"]
            assert_allclose(got.detach().numpy(), value)
    assert "layers.0.decay_h_weight_l0" in names
    assert "layers.1.decay_h_weight_l0" not in names
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()
    assert_allclose(out, clf.decision_function(X), rtol=1e-8, atol=1e-12)


def test_grud_binary_classifier_exports_its_decision_function():
    torch = pytest.importorskip("torch")
    X, target = _grud_visits(12)
    clf = _fit(
        skrnn.GRUDClassifier(4, max_iter=2, random_state=0, time_column=0),
        X,
        target[:, 0] > 0,
    )
    with torch.no_grad():
        out = clf.to_torch()(torch.from_numpy(X)).numpy()[:, 0]
    assert_allclose(out, clf.decision_function(X), rtol=1e-8, atol=1e-12)
