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
    state["learning_rate"] = hyper.learning_rate_init
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
    state["learning_rate"] = _Hyper.learning_rate_init
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
    # one minibatch per epoch, so that t counts the epochs of the second fit
    est = RNNRegressor(
        3, solver="sgd", batch_size=20, max_iter=2, warm_start=True, random_state=0
    )
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


def _stalling_fit(**params):
    """A fit whose loss never improves by ``tol``: each stall hits the
    schedule."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 5, 1))
    params = {"learning_rate_init": 1e-3, **params}
    est = RNNRegressor(
        3, tol=1e9, n_iter_no_change=1, max_iter=100, random_state=0, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, X[:, :, 0].sum(axis=1)), X


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_adaptive_divides_the_step_by_five_at_each_stall_until_1e_6(solver):
    constant, _ = _stalling_fit(solver=solver)
    # the first epoch sets best_loss_; each later one is a stall
    assert constant.n_iter_ == 3
    assert constant._solver_state["learning_rate"] == 1e-3
    adaptive, _ = _stalling_fit(solver=solver, learning_rate="adaptive")
    # 1e-3 / 5**k: 2e-4, 4e-5, 8e-6, 1.6e-6, 3.2e-7 <= 1e-6 stops at the next stall
    assert_allclose(adaptive._solver_state["learning_rate"], 1e-3 / 5**5)
    assert adaptive.n_iter_ == 1 + 2 * 6


@pytest.mark.parametrize("solver", ["adam", "sgd", "simplex"])
def test_invscaling_sets_the_step_from_the_sequences_seen(solver, rng):
    X = rng.normal(size=(20, 4, 1))
    y = X[:, -1, 0]
    params = dict(max_iter=3, random_state=0, solver=solver, learning_rate_init=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RNNRegressor(3, learning_rate="invscaling", power_t=0.5, **params)
        est.fit(X, y)
        assert est.t_ == 60
        assert_allclose(est._solver_state["learning_rate"], 0.1 / 61**0.5)
        flat = RNNRegressor(3, learning_rate="invscaling", power_t=0.0, **params)
        constant = RNNRegressor(3, **params)
        flat.fit(X, y)
        constant.fit(X, y)
        scaled = RNNRegressor(3, learning_rate="invscaling", power_t=2.0, **params)
        scaled.fit(X, y)
    # power_t=0 is the constant schedule, bit for bit; a fast decay moves less
    for a, b in zip(flat._params(), constant._params(), strict=True):
        assert_array_equal(a, b)
    assert not np.array_equal(scaled.output_coef_, constant.output_coef_)


def test_the_schedule_restarts_at_each_fit_and_goes_on_in_partial_fit(rng):
    X = rng.normal(size=(20, 4, 1))
    y = X[:, -1, 0]
    est = RNNRegressor(
        3, learning_rate="invscaling", learning_rate_init=0.1, random_state=0
    )
    for _ in range(3):
        est.partial_fit(X, y)
    assert_allclose(est._solver_state["learning_rate"], 0.1 / 61**0.5)
    adaptive, X = _stalling_fit(solver="adam", learning_rate="adaptive")
    adaptive.set_params(warm_start=True, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adaptive.fit(X, X[:, :, 0].sum(axis=1))
    # the warm refit starts again at learning_rate_init, with a fresh count of
    # epochs without improvement
    assert adaptive._solver_state["learning_rate"] == 1e-3


def _record_steps(monkeypatch):
    """The step size in the solver state after each finished epoch, read
    from the epoch loop's checkpoint hook."""
    steps = []
    checkpoint = BaseRecurrent._checkpoint

    def record(self, finished):
        steps.append(self._solver_state["learning_rate"])
        checkpoint(self, finished)

    monkeypatch.setattr(BaseRecurrent, "_checkpoint", record)
    return steps


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_cosine_sets_the_step_from_the_epochs_done(solver, rng, monkeypatch):
    X = rng.normal(size=(20, 4, 1))
    y = X[:, -1, 0]
    steps = _record_steps(monkeypatch)
    params = dict(
        max_iter=8,
        random_state=0,
        solver=solver,
        learning_rate_init=0.1,
        n_iter_no_change=np.inf,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RNNRegressor(3, learning_rate="cosine", **params).fit(X, y)
        first = RNNRegressor(3, learning_rate="cosine", **{**params, "max_iter": 1})
        first.fit(X, y)
        constant = RNNRegressor(3, **{**params, "max_iter": 1}).fit(X, y)
    assert est.n_iter_ == 8
    expected = [0.1 * 0.5 * (1 + np.cos(np.pi * k / 8)) for k in range(1, 9)]
    assert_allclose(steps[:8], expected, rtol=1e-15, atol=1e-17)
    # from learning_rate_init down to 0 at max_iter
    assert steps[7] == 0.0 and steps[0] < 0.1
    assert est._solver_state["learning_rate"] == 0.0
    # the first epoch steps by learning_rate_init, as the constant schedule
    for a, b in zip(first._params(), constant._params(), strict=True):
        assert_array_equal(a, b)
    # the later epochs by less: the weights part from the constant fit's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        constant8 = RNNRegressor(3, **params).fit(X, y)
    assert not np.array_equal(est.output_coef_, constant8.output_coef_)


def test_cosine_in_partial_fit_goes_on_and_stays_at_0_past_max_iter(rng):
    X = rng.normal(size=(20, 4, 1))
    y = X[:, -1, 0]
    est = RNNRegressor(
        3, learning_rate="cosine", learning_rate_init=0.1, max_iter=4, random_state=0
    )
    for k in range(1, 7):
        est.partial_fit(X, y)
        assert_allclose(
            est._solver_state["learning_rate"],
            _solvers.cosine_step(0.1, k, 4),
            rtol=1e-15,
            atol=1e-17,
        )
    assert _solvers.cosine_step(0.1, 2, 4) == pytest.approx(0.05)
    assert est._solver_state["learning_rate"] == 0.0


def test_cosine_is_a_learning_rate_option():
    options = BaseRecurrent._parameter_constraints["learning_rate"][0].options
    assert options == {"constant", "invscaling", "adaptive", "cosine"}
    with pytest.raises(ValueError, match="learning_rate"):
        RNNRegressor(learning_rate="cosin").fit(np.zeros((4, 3, 1)), np.zeros(4))
