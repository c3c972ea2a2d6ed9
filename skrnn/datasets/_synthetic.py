"""The classic long-memory tasks (Hochreiter & Schmidhuber 1997; Pascanu et al. 2013)."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params


@validate_params(
    {
        "n_sequences": [Interval(Integral, 1, None, closed="left")],
        "n_steps": [Interval(Integral, 10, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_addition(
    n_sequences: int, n_steps: int, random_state=None
) -> tuple[np.ndarray, np.ndarray]:
    """The addition problem: sum the two marked values of a long sequence.

    Channel 0 holds values drawn uniformly from [0, 1]; channel 1 is a marker,
    1 at exactly two steps (the first in ``[0, 0.1 n_steps)``, the second in
    ``[0.1 n_steps, 0.5 n_steps)``) and 0 elsewhere. The target is the sum of
    the two marked values, so the information lies far from the sequence's
    end. Predicting the mean scores a mean squared error of about 0.167.

    Parameters
    ----------
    n_sequences : int
        Sequences to draw.
    n_steps : int
        Length of every sequence, at least 10.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.

    Returns
    -------
    X : ndarray of shape (n_sequences, n_steps, 2)
        The values and the markers.
    y : ndarray of shape (n_sequences,)
        The sum of each sequence's two marked values.

    References
    ----------
    Hochreiter, S. and Schmidhuber, J. (1997). Long short-term memory. Neural
    Computation 9(8).

    Pascanu, R., Mikolov, T. and Bengio, Y. (2013). On the difficulty of
    training recurrent neural networks. ICML.

    Examples
    --------
    >>> from skrnn.datasets import make_addition
    >>> X, y = make_addition(5, 50, random_state=0)
    >>> X.shape, y.shape
    ((5, 50, 2), (5,))
    >>> bool((X[:, :, 1].sum(axis=1) == 2).all())
    True
    """
    rng = check_random_state(random_state)
    values = rng.uniform(0, 1, size=(n_sequences, n_steps))
    first = rng.randint(0, max(1, n_steps // 10), size=n_sequences)
    second = rng.randint(n_steps // 10, n_steps // 2, size=n_sequences)
    markers = np.zeros((n_sequences, n_steps))
    rows = np.arange(n_sequences)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=2), y


TEMPORAL_ORDER_SYMBOLS = ("a", "b", "c", "d", "X", "Y")


@validate_params(
    {
        "n_sequences": [Interval(Integral, 1, None, closed="left")],
        "n_steps": [Interval(Integral, 10, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_temporal_order(
    n_sequences: int, n_steps: int, random_state=None
) -> tuple[np.ndarray, np.ndarray]:
    """The temporal order problem: which relevant symbols came, in which order.

    Every step is a one-hot symbol of ``('a', 'b', 'c', 'd', 'X', 'Y')``: the
    distractors a-d everywhere except at two steps, one in
    ``[0.1 n_steps, 0.2 n_steps)`` and one in ``[0.5 n_steps, 0.6 n_steps)``,
    which hold X or Y. The class is the pair in order: 'XX', 'XY', 'YX' or
    'YY'.

    Parameters
    ----------
    n_sequences : int
        Sequences to draw.
    n_steps : int
        Length of every sequence, at least 10.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.

    Returns
    -------
    X : ndarray of shape (n_sequences, n_steps, 6)
        The one-hot symbols.
    y : ndarray of shape (n_sequences,), str
        The class of each sequence: 'XX', 'XY', 'YX' or 'YY'.

    References
    ----------
    Hochreiter, S. and Schmidhuber, J. (1997). Long short-term memory. Neural
    Computation 9(8).

    Examples
    --------
    >>> from skrnn.datasets import make_temporal_order
    >>> X, y = make_temporal_order(4, 100, random_state=0)
    >>> X.shape, set(y) <= {'XX', 'XY', 'YX', 'YY'}
    ((4, 100, 6), True)
    """
    rng = check_random_state(random_state)
    symbols = rng.randint(0, 4, size=(n_sequences, n_steps))
    rows = np.arange(n_sequences)
    t1 = rng.randint(
        n_steps // 10, max(n_steps // 10 + 1, n_steps // 5), size=n_sequences
    )
    t2 = rng.randint(
        n_steps // 2, max(n_steps // 2 + 1, 6 * n_steps // 10), size=n_sequences
    )
    first = rng.randint(4, 6, size=n_sequences)
    second = rng.randint(4, 6, size=n_sequences)
    symbols[rows, t1] = first
    symbols[rows, t2] = second
    X = np.eye(6)[symbols]
    names = np.array(TEMPORAL_ORDER_SYMBOLS)
    y = np.char.add(names[first], names[second])
    return X, y.astype(object).astype(str)


@validate_params(
    {
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "tau": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_mackey_glass(n_steps: int, tau: int = 17, random_state=None) -> np.ndarray:
    """A Mackey-Glass chaotic time series, sampled at unit time steps.

    ``dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)^10) - 0.1 x(t)``, integrated by
    Euler steps of 0.1 from a history around 1.2 (jittered by
    ``random_state``), after a transient of 1000 time units.

    Parameters
    ----------
    n_steps : int
        Length of the series.
    tau : int, default=17
        Delay; 17 gives the usual mildly chaotic series.
    random_state : int, RandomState instance or None, default=None
        Jitter of the initial history (None: no jitter).

    Returns
    -------
    series : ndarray of shape (n_steps,)
        The series, sampled once per time unit.

    References
    ----------
    Mackey, M. C. and Glass, L. (1977). Oscillation and chaos in physiological
    control systems. Science 197(4300).

    Examples
    --------
    >>> from skrnn.datasets import make_mackey_glass
    >>> series = make_mackey_glass(2000)
    >>> series.shape, bool(0.2 < series.min() < series.max() < 1.5)
    ((2000,), True)
    """
    sub = 10
    h = 1.0 / sub
    lag = tau * sub
    transient = 1000 * sub
    total = transient + n_steps * sub
    x = np.empty(lag + total + 1)
    x[: lag + 1] = 1.2
    if random_state is not None:
        x[: lag + 1] += 0.01 * check_random_state(random_state).uniform(-1, 1, lag + 1)
    for t in range(lag, lag + total):
        delayed = x[t - lag]
        x[t + 1] = x[t] + h * (0.2 * delayed / (1 + delayed**10) - 0.1 * x[t])
    return x[lag + transient + 1 :: sub][:n_steps]
