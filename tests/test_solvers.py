"""The solvers: updates as scikit-learn's, the registry, clipping and the
simplex direction."""

import warnings

import numpy as np
import pytest
import skops.io as sio
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network._stochastic_optimizers import (
    AdamOptimizer,
    SGDOptimizer,
)

from skrnn import RNNRegressor, _solvers
from skrnn._base import BaseRecurrent


def _params_and_grads(rng, steps=4):
    shapes = [(3, 2), (3,), (1, 3)]
    params = [rng.normal(size=s) for s in shapes]
    grads = [[rng.normal(size=s) for s in shapes] for _ in range(steps)]
    return params, grads


class _Hyper:
    learning_rate_init = 0.05
    momentum = 0.8
    nesterovs_momentum = True
    beta_1, beta_2, epsilon = 0.85, 0.99, 1e-7
    simplex_threshold = 1.0


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_updates_as_scikit_learn(nesterov, rng):
    params, grads = _params_and_grads(rng)
    theirs = [p.copy() for p in params]
    hyper = _Hyper()
    hyper.nesterovs_momentum = nesterov
    ref = SGDOptimizer(theirs, 0.05, momentum=0.8, nesterov=nesterov)
    solver = _solvers.SOLVERS["sgd"]
    state = solver.init_state(params)
    for g in grads:
        solver.update(params, [x.copy() for x in g], state, hyper)
        ref.update_params(theirs, g)
    for p, q in zip(params, theirs, strict=True):
        assert_allclose(p, q, rtol=1e-14)


def test_adam_updates_as_scikit_learn(rng):
    params, grads = _params_and_grads(rng)
    theirs = [p.copy() for p in params]
    ref = AdamOptimizer(theirs, 0.05, beta_1=0.85, beta_2=0.99, epsilon=1e-7)
    solver = _solvers.SOLVERS["adam"]
    state = solver.init_state(params)
    for g in grads:
        solver.update(params, [x.copy() for x in g], state, _Hyper())
        ref.update_params(theirs, g)
    for p, q in zip(params, theirs, strict=True):
        assert_allclose(p, q, rtol=1e-13)
    assert state["t"] == len(grads)


def test_every_solver_is_a_parameter_option_with_a_plain_state(rng):
    options = BaseRecurrent._parameter_constraints["solver"][0].options
    assert options == set(_solvers.SOLVERS)
    params, _ = _params_and_grads(rng)
    for name, solver in _solvers.SOLVERS.items():
        state = solver.init_state(params)
        assert state["kind"] == solver.state_kind
        # plain arrays, numbers and strings only, so that skops trusts it
        assert not sio.get_untrusted_types(data=sio.dumps(state)), name
    assert _solvers.SOLVERS["simplex"].state_kind == "sgd"
    assert _solvers.SOLVERS["simplex"].needs_step_shares


def test_a_refit_with_another_kind_of_solver_starts_a_fresh_state(rng):
    X = rng.normal(size=(20, 4, 1))
    y = X[:, -1, 0]
    est = RNNRegressor(3, solver="sgd", max_iter=2, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        assert est._solver_state["kind"] == "sgd"
        est.set_params(solver="adam")
        est.fit(X, y)
    assert est._solver_state["kind"] == "adam" and est._solver_state["t"] == 2


def test_clipping_rescales_to_the_global_norm(rng):
    grads = [rng.normal(size=(4, 3)), rng.normal(size=5)]
    norm = _solvers.global_norm(grads)
    assert_allclose(norm, np.sqrt(sum(np.sum(g**2) for g in grads)))
    before = [g.copy() for g in grads]
    assert _solvers.clip_by_global_norm(grads, 0.5 * norm) == norm
    assert_allclose(_solvers.global_norm(grads), 0.5 * norm)
    for g, b in zip(grads, before, strict=True):
        assert_allclose(g, 0.5 * b)
    assert _solvers.clip_by_global_norm(grads, None) == pytest.approx(0.5 * norm)


def test_simplex_direction_keeps_the_norm_and_mixes_every_step():
    rng = np.random.default_rng(1)
    shares = [rng.normal(size=(5, 3, 2)) * 1e-3, rng.normal(size=(5, 3)) * 1e-3]
    shares[0][4] *= 1e-6  # a vanishing step
    shares[1][4] *= 1e-6
    loss_part = [s.sum(axis=0) for s in shares]
    l2 = [np.full((3, 2), 0.5), np.zeros(3)]
    grads = [p + q for p, q in zip(loss_part, l2, strict=True)]
    assert _solvers.simplex_direction(grads, shares, 1.0, np.random.RandomState(0))
    direction = [g - q for g, q in zip(grads, l2, strict=True)]
    assert_allclose(_solvers.global_norm(direction), _solvers.global_norm(loss_part))
    # the direction is a positive mix of the normalised shares: solve for it
    basis = np.stack(
        [np.concatenate([s[t].ravel() for s in shares]) for t in range(5)], axis=1
    )
    basis /= np.linalg.norm(basis, axis=0)
    mix = np.linalg.lstsq(basis, np.concatenate([d.ravel() for d in direction]))[0]
    assert np.all(mix > 0)
    # the vanishing step weighs as much as the others, not 1e-6 of them
    assert mix[4] > 1e-3 * mix.max()


def test_simplex_direction_above_the_threshold_or_one_step_is_the_gradient():
    rng = np.random.default_rng(2)
    shares = [rng.normal(size=(4, 3))]
    grads = [shares[0].sum(axis=0)]
    before = grads[0].copy()
    norm = _solvers.global_norm(grads)
    assert not _solvers.simplex_direction(grads, shares, 0.5 * norm, None)
    assert_array_equal(grads[0], before)
    one = [shares[0][:1]]
    grads = [one[0][0].copy()]
    assert _solvers.simplex_direction(grads, one, np.inf, np.random.RandomState(0))
    assert_allclose(grads[0], one[0][0])
