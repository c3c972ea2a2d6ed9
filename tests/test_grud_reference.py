"""The NumPy reference of GRU-D (tests/reference.py) against what it must
reduce to: no decay is a GRU on SequenceImputer's values and mask, full decay
is the training mean and a fresh state, and PyTorch's gate convention is Che
et al.'s with the update gate flipped."""

import numpy as np
from numpy.testing import assert_allclose
from reference import gru_step, grud_deltas, grud_run

from skrnn.preprocessing import SequenceImputer

NAN = np.nan


def _weights(rng, F, H, decay_bias=0.0):
    return [
        rng.normal(size=(3 * H, 2 * F)),
        rng.normal(size=(3 * H, H)),
        rng.normal(size=3 * H),
        rng.normal(size=3 * H),
        np.zeros(F),
        np.full(F, decay_bias),
        np.zeros((H, F)),
        np.full(H, decay_bias),
    ]


def _gru(U, weights, h0=None, fresh=False):
    H = weights[1].shape[1]
    h = np.zeros(H) if h0 is None else h0
    out = []
    for u in U:
        (h,) = gru_step(u, (np.zeros(H) if fresh else h,), *weights[:4])
        out.append(h)
    return np.array(out)


def test_deltas_are_che_et_al_s():
    mask = np.array([[1, 0], [0, 0], [1, 1], [0, 1]], dtype=float)
    times = np.array([0.0, 0.5, 2.0, 2.25])
    assert_allclose(
        grud_deltas(mask, times), [[0, 0], [0.5, 0.5], [2.0, 2.0], [0.25, 0.25]]
    )


def test_without_decay_it_is_a_gru_on_the_imputers_values_and_mask():
    rng = np.random.default_rng(0)
    X = np.array([[[NAN, 1.0], [2.0, NAN], [NAN, NAN], [3.0, 4.0], [NAN, 5.0]]])
    imputer = SequenceImputer(add_indicator=True).fit(X)
    U = imputer.transform(X)[0]
    U[:, 2:] = 1 - U[:, 2:]  # GRU-D's mask is 1 where observed
    weights = _weights(rng, 2, 3)
    h, x_hat = grud_run(X[0], np.arange(5.0), 5, imputer.statistics_, weights)
    assert_allclose(x_hat, U[:, :2])
    assert_allclose(h, _gru(U, weights), rtol=1e-12)


def test_full_decay_is_the_training_mean_and_a_fresh_state():
    rng = np.random.default_rng(1)
    X = np.array([[0.5, NAN], [NAN, 2.0], [NAN, NAN], [1.5, NAN]])
    times = np.array([0.0, 3.0, 4.0, 9.0])
    x_mean = np.array([1.0, -1.0])
    weights = _weights(rng, 2, 4, decay_bias=60.0)
    h, x_hat = grud_run(X, times, 4, x_mean, weights)
    mask = ~np.isnan(X)
    assert_allclose(x_hat, np.where(mask, X, x_mean))
    U = np.concatenate([x_hat, mask], axis=1)
    assert_allclose(h, _gru(U, weights, fresh=True), rtol=1e-12)
    # padding: a shorter length is the prefix
    h2, _ = grud_run(X, times, 2, x_mean, weights)
    assert_allclose(h2, h[:2])


def test_pytorch_gates_are_che_et_al_s_with_the_update_flipped():
    rng = np.random.default_rng(2)
    F, H = 2, 3
    X = np.array([[0.5, NAN], [NAN, 2.0], [1.0, NAN], [NAN, NAN], [0.0, 1.0]])
    times = np.array([0.0, 1.0, 1.5, 4.0, 5.0])
    weights = _weights(rng, F, H)
    weights[4] = rng.uniform(0, 1, F)  # some input and hidden decay
    weights[6] = rng.uniform(0, 1, (H, F))
    weights[1][2 * H :] = 0.0  # no W_hn, b_hn: the reset's place is moot
    weights[3][2 * H :] = 0.0
    che = [w.copy() for w in weights]
    for k in range(4):  # z of Che et al. is 1 - z of PyTorch
        che[k][H : 2 * H] *= -1
    torch_form, _ = grud_run(X, times, 5, np.zeros(F), weights)
    che_form, _ = grud_run(X, times, 5, np.zeros(F), che, reset_after=False)
    assert_allclose(torch_form, che_form, rtol=1e-12)
