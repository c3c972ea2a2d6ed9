"""The gradient-trained estimators: a cell times a task.

A cell is its kernel module and one :class:`~skrnn._network.Cell` line here.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING

from numpy.typing import ArrayLike
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from . import _kernels
from ._base import AUTO_BIDIRECTIONAL, BaseRecurrent
from ._docs import format_docstring
from ._network import ACTIVATIONS, Cell
from ._task_mixins import RecurrentClassifierMixin, RecurrentRegressorMixin

if TYPE_CHECKING:
    from typing import Self

ELMAN = Cell(kernel=_kernels.elman, n_gates=1, cache_width=0, torch_name="RNN")
GRU = Cell(
    kernel=_kernels.gru,
    n_gates=3,
    cache_width=4,
    torch_name="GRU",
    hidden_side_grad=True,
)
LSTM = Cell(
    kernel=_kernels.lstm,
    n_gates=4,
    cache_width=6,
    torch_name="LSTM",
    forget_gate=1,
    blas_inference=True,
)

_ACTIVATION_CONSTRAINT = {"activation": [StrOptions(set(ACTIVATIONS))]}
# leaky units and skip connections through time (Elman estimators)
_LONG_MEMORY_CONSTRAINTS = {
    "leak_rate": [Interval(Real, 0, 1, closed="right")],
    "skip_steps": [Interval(Integral, 1, None, closed="left"), None],
}


class BaseRecurrentClassifier(RecurrentClassifierMixin, BaseRecurrent):
    """The gradient-trained classifiers' parameters: the common ones and ``loss``."""

    _parameter_constraints: dict = {
        **BaseRecurrent._parameter_constraints,
        "loss": [StrOptions({"log_loss", "hinge"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(32,),
        *,
        loss="log_loss",
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=3e-3,
        power_t=0.5,
        max_iter=400,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        scoring=None,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=100,
        clip_norm=1.0,
        averaging=0.9,
        simplex_threshold=1.0,
        spectral_radius=None,
        bptt_steps=None,
        return_sequences=False,
        pooling="auto",
        bidirectional="auto",
        dropout=0.0,
        recurrent_dropout=0.0,
        n_jobs=None,
        class_weight=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            scoring=scoring,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            clip_norm=clip_norm,
            averaging=averaging,
            simplex_threshold=simplex_threshold,
            spectral_radius=spectral_radius,
            bptt_steps=bptt_steps,
            return_sequences=return_sequences,
            pooling=pooling,
            bidirectional=bidirectional,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            n_jobs=n_jobs,
        )
        self.loss = loss
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        classes: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> Self:
        """Run one epoch of the solver on ``X``, ``y`` (see :meth:`fit`).

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences.
        y : array-like, as in :meth:`fit`
            Labels.
        classes : array-like of shape (n_classes,), default=None
            Every class, required on the first call.
        sample_weight : array-like of shape (n_sequences,) or \
                (n_sequences, n_steps), default=None
            Weight of each sequence in the loss, or with
            ``return_sequences=True`` of each step.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)


class BaseRecurrentRegressor(RecurrentRegressorMixin, BaseRecurrent):
    """The gradient-trained regressors' parameters: the common ones."""

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Run one epoch of the solver on ``X``, ``y`` (see :meth:`fit`).

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences.
        y : array-like, as in :meth:`fit`
            Targets.
        sample_weight : array-like of shape (n_sequences,) or \
                (n_sequences, n_steps), default=None
            Weight of each sequence in the loss, or with
            ``return_sequences=True`` of each step.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)


@format_docstring
class RNNRegressor(BaseRecurrentRegressor):
    """Elman recurrent network for regression.

    ``h_t = activation(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)`` (as
    ``torch.nn.RNN``) in one or more stacked layers, then a linear read-out,
    trained by backpropagation through time on 0.5 x mean squared error.

    Parameters
    ----------
    {hidden_layers}
    {rnn_activation}
    {training_parameters}
    {rnn_long_memory}

    Attributes
    ----------
    {common_attributes}

    See Also
    --------
    RNNClassifier : The same network for classification.
    LSTMRegressor, GRURegressor : Gated cells, for long-range memory.

    References
    ----------
    Elman, J. L. (1990). Finding structure in time. Cognitive Science 14(2).

    Pascanu, R., Mikolov, T. and Bengio, Y. (2013). On the difficulty of
    training recurrent neural networks. ICML.

    {layer_references}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 10, 1))
    >>> y = X[:, :, 0].sum(axis=1)
    >>> model = RNNRegressor(hidden_layer_sizes=16, learning_rate_init=0.01,
    ...                      max_iter=100, random_state=0).fit(X, y)
    >>> model.score(X, y) > 0.9
    True
    """

    _cell = ELMAN

    _parameter_constraints = {
        **BaseRecurrentRegressor._parameter_constraints,
        **_ACTIVATION_CONSTRAINT,
        **_LONG_MEMORY_CONSTRAINTS,
    }

    def __init__(
        self,
        hidden_layer_sizes=(32,),
        activation="tanh",
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=3e-3,
        power_t=0.5,
        max_iter=400,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        scoring=None,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=100,
        clip_norm=1.0,
        averaging=0.9,
        simplex_threshold=1.0,
        spectral_radius=None,
        bptt_steps=None,
        return_sequences=False,
        pooling="auto",
        bidirectional="auto",
        dropout=0.0,
        recurrent_dropout=0.0,
        n_jobs=None,
        leak_rate=1.0,
        skip_steps=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            scoring=scoring,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            clip_norm=clip_norm,
            averaging=averaging,
            simplex_threshold=simplex_threshold,
            spectral_radius=spectral_radius,
            bptt_steps=bptt_steps,
            return_sequences=return_sequences,
            pooling=pooling,
            bidirectional=bidirectional,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            n_jobs=n_jobs,
        )
        self.activation = activation
        self.leak_rate = leak_rate
        self.skip_steps = skip_steps


@format_docstring
class RNNClassifier(BaseRecurrentClassifier):
    """Elman recurrent network for classification.

    ``h_t = activation(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)`` (as
    ``torch.nn.RNN``) in one or more stacked layers, then a softmax (one
    logistic unit for two classes) or hinge read-out.

    Parameters
    ----------
    {hidden_layers}
    {rnn_activation}
    {classifier_loss}
    {training_parameters}
    {class_weight}
    {rnn_long_memory}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    {common_attributes}

    See Also
    --------
    RNNRegressor : The same network for regression.
    LSTMClassifier, GRUClassifier : Gated cells, for long-range memory.

    References
    ----------
    Elman, J. L. (1990). Finding structure in time. Cognitive Science 14(2).

    {layer_references}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 8, 1))
    >>> y = np.where(X[:, :, 0].sum(axis=1) > 0, "up", "down")
    >>> clf = RNNClassifier(hidden_layer_sizes=16, learning_rate_init=0.01,
    ...                     max_iter=100, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _cell = ELMAN

    _parameter_constraints = {
        **BaseRecurrentClassifier._parameter_constraints,
        **_ACTIVATION_CONSTRAINT,
        **_LONG_MEMORY_CONSTRAINTS,
    }

    def __init__(
        self,
        hidden_layer_sizes=(32,),
        activation="tanh",
        *,
        loss="log_loss",
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=3e-3,
        power_t=0.5,
        max_iter=400,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        scoring=None,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=100,
        clip_norm=1.0,
        averaging=0.9,
        simplex_threshold=1.0,
        spectral_radius=None,
        bptt_steps=None,
        return_sequences=False,
        pooling="auto",
        bidirectional="auto",
        dropout=0.0,
        recurrent_dropout=0.0,
        n_jobs=None,
        class_weight=None,
        leak_rate=1.0,
        skip_steps=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            loss=loss,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            scoring=scoring,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            clip_norm=clip_norm,
            averaging=averaging,
            simplex_threshold=simplex_threshold,
            spectral_radius=spectral_radius,
            bptt_steps=bptt_steps,
            return_sequences=return_sequences,
            pooling=pooling,
            bidirectional=bidirectional,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            n_jobs=n_jobs,
            class_weight=class_weight,
        )
        self.activation = activation
        self.leak_rate = leak_rate
        self.skip_steps = skip_steps


@format_docstring
class LSTMRegressor(BaseRecurrentRegressor):
    """Long short-term memory (LSTM) network for regression.

    ``i, f, o = sigmoid(W_i* x + b_i* + W_h* h + b_h*)``,
    ``g = tanh(W_ig x + b_ig + W_hg h + b_hg)``, ``c' = f * c + i * g``,
    ``h' = o * tanh(c')`` (``torch.nn.LSTM``; gate rows i, f, g, o). The forget
    gate's bias starts at 1 (``bias_ih`` 1, ``bias_hh`` 0), so that the cell
    remembers by default (Gers et al., 2000; Jozefowicz et al., 2015), in one or
    more stacked layers, then a linear read-out trained on 0.5 x mean squared
    error.

    Parameters
    ----------
    {hidden_layers}
    {training_parameters}

    Attributes
    ----------
    {common_attributes}

    See Also
    --------
    LSTMClassifier : The same network for classification.
    GRURegressor, RNNRegressor : Other cells.

    References
    ----------
    Hochreiter, S. and Schmidhuber, J. (1997). Long short-term memory.
    Neural Computation 9(8).

    Gers, F. A., Schmidhuber, J. and Cummins, F. (2000). Learning to forget:
    continual prediction with LSTM. Neural Computation 12(10).

    {layer_references}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import LSTMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 10, 1))
    >>> y = X[:, 0, 0]  # remember the first step
    >>> model = LSTMRegressor(hidden_layer_sizes=16, learning_rate_init=0.01,
    ...                       max_iter=100, random_state=0).fit(X, y)
    >>> model.score(X, y) > 0.9
    True
    """

    _cell = LSTM
    _auto_bidirectional = AUTO_BIDIRECTIONAL


@format_docstring
class LSTMClassifier(BaseRecurrentClassifier):
    """Long short-term memory (LSTM) network for classification.

    ``i, f, o = sigmoid(W_i* x + b_i* + W_h* h + b_h*)``,
    ``g = tanh(W_ig x + b_ig + W_hg h + b_hg)``, ``c' = f * c + i * g``,
    ``h' = o * tanh(c')`` (``torch.nn.LSTM``; gate rows i, f, g, o). The forget
    gate's bias starts at 1 (``bias_ih`` 1, ``bias_hh`` 0), so that the cell
    remembers by default (Gers et al., 2000; Jozefowicz et al., 2015), in one or
    more stacked layers, then a softmax (one logistic unit for two classes) or
    hinge read-out.

    Parameters
    ----------
    {hidden_layers}
    {classifier_loss}
    {training_parameters}
    {class_weight}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    {common_attributes}

    See Also
    --------
    LSTMRegressor : The same network for regression.
    GRUClassifier, RNNClassifier : Other cells.

    References
    ----------
    Hochreiter, S. and Schmidhuber, J. (1997). Long short-term memory.
    Neural Computation 9(8).

    Gers, F. A., Schmidhuber, J. and Cummins, F. (2000). Learning to forget:
    continual prediction with LSTM. Neural Computation 12(10).

    {layer_references}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import LSTMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 10, 1))
    >>> y = np.where(X[:, 0, 0] > 0, "up", "down")  # the first step's sign
    >>> clf = LSTMClassifier(hidden_layer_sizes=16, learning_rate_init=0.01,
    ...                      max_iter=50, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _cell = LSTM
    _auto_bidirectional = AUTO_BIDIRECTIONAL


@format_docstring
class GRURegressor(BaseRecurrentRegressor):
    """Gated recurrent unit (GRU) network for regression.

    ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``,
    ``z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
    ``h' = (1 - z) * n + z * h`` (``torch.nn.GRU``; gate rows r, z, n), in one or more
    stacked layers, then a linear read-out trained on 0.5 x mean squared error.

    Parameters
    ----------
    {hidden_layers}
    {training_parameters}

    Attributes
    ----------
    {common_attributes}

    See Also
    --------
    GRUClassifier : The same network for classification.
    LSTMRegressor, RNNRegressor : Other cells.

    References
    ----------
    Cho, K. et al. (2014). Learning phrase representations using RNN
    encoder-decoder for statistical machine translation. EMNLP.

    {layer_references}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import GRURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 10, 1))
    >>> y = X[:, 0, 0]  # remember the first step
    >>> model = GRURegressor(hidden_layer_sizes=16, learning_rate_init=0.01,
    ...                      max_iter=100, random_state=0).fit(X, y)
    >>> model.score(X, y) > 0.9
    True
    """

    _cell = GRU
    _auto_bidirectional = AUTO_BIDIRECTIONAL


@format_docstring
class GRUClassifier(BaseRecurrentClassifier):
    """Gated recurrent unit (GRU) network for classification.

    ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``,
    ``z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
    ``h' = (1 - z) * n + z * h`` (``torch.nn.GRU``; gate rows r, z, n), in one or more
    stacked layers, then a softmax (one logistic unit for two classes) or hinge
    read-out.

    Parameters
    ----------
    {hidden_layers}
    {classifier_loss}
    {training_parameters}
    {class_weight}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    {common_attributes}

    See Also
    --------
    GRURegressor : The same network for regression.
    LSTMClassifier, RNNClassifier : Other cells.

    References
    ----------
    Cho, K. et al. (2014). Learning phrase representations using RNN
    encoder-decoder for statistical machine translation. EMNLP.

    {layer_references}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import GRUClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 10, 1))
    >>> y = np.where(X[:, 0, 0] > 0, "up", "down")  # the first step's sign
    >>> clf = GRUClassifier(hidden_layer_sizes=16, learning_rate_init=0.01,
    ...                     max_iter=50, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _cell = GRU
    _auto_bidirectional = AUTO_BIDIRECTIONAL
