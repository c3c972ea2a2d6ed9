"""Docstring pieces shared by the estimators.

A class docstring names a piece in braces, ``{training_parameters}``, and
:func:`format_docstring` fills it in.
"""

HIDDEN_LAYERS = """hidden_layer_sizes : int or tuple of int, default=(32,)
        Hidden units of each stacked recurrent layer."""

TRAINING_PARAMETERS = """solver : {'adam', 'sgd', 'simplex'}, default='adam'
        Update rule: 'adam' and 'sgd' as in
        :class:`~sklearn.neural_network.MLPRegressor`; 'simplex' is 'sgd'
        (with its momentum) along Galvan's simplex direction for the
        recurrent weights: each step's share of their gradient is normalised,
        the shares are mixed with random convex weights (uniform on the
        simplex) and the mix is rescaled to the gradient's norm, so that the
        steps far from the loss, whose shares vanish, move the weights as much
        as the near ones. While the recurrent gradient's norm exceeds
        ``simplex_threshold`` the plain gradient is used. The read-out is
        always updated by its plain gradient.
    alpha : float, default=1e-4
        L2 penalty on the weight matrices (not the biases), scaled as in
        ``MLPRegressor``: ``0.5 * alpha * ||W||^2 / batch size``.
    batch_size : int or 'auto', default='auto'
        Sequences per minibatch; 'auto' is ``min(n, max(8, min(200, n //
        8)))`` for n training sequences: about 8 updates per epoch, in
        minibatches of 8 to 200 (``MLPRegressor``'s ``min(200, n)`` gives one
        update per epoch on small sets; benchmarks/RESULTS.md has the
        measurement that chose this).
    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine'}, default='constant'
        Step size schedule, as in :class:`~sklearn.neural_network.MLPRegressor`
        but for every solver (Adam too): 'constant' keeps
        ``learning_rate_init``; 'invscaling' sets it to ``learning_rate_init /
        (t_ + 1) ** power_t`` after each epoch (``t_``: sequences seen);
        'adaptive' keeps it while the loss (or validation score) improves and
        divides it by 5 each time ``n_iter_no_change`` epochs in a row fail
        to improve it by ``tol``, stopping only when it would fall below 1e-6;
        'cosine' (not in scikit-learn) sets it to ``learning_rate_init * 0.5 *
        (1 + cos(pi * min(n_iter_, max_iter) / max_iter))`` after each epoch,
        from ``learning_rate_init`` down to 0 at ``max_iter`` epochs
        (``n_iter_`` counts every epoch since the weights were initialised:
        a warm-started fit past ``max_iter`` epochs in all steps by 0 after
        its first epoch, and ``partial_fit`` steps by 0 once ``max_iter``
        epochs are done).
    learning_rate_init : float, default=3e-3
        The (initial) step size. 3e-3, three times MLPRegressor's 1e-3: with
        Adam and max pooling it learnt better on benchmarks/bench_uea.py
        than 1e-3 and 1e-2 (benchmarks/RESULTS.md).
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=400
        Maximum number of epochs. 400, twice MLPRegressor's 200: on
        benchmarks/bench_uea.py, LSTM and GRU with the other defaults learnt
        better with 400 than with 200 (mean accuracy 0.800 against 0.776 over
        four small sets; better than hidden 64 and than ``alpha=1e-3``, at
        about 1.3 times the median fit time; benchmarks/RESULTS.md); the fit
        still stops after ``n_iter_no_change`` epochs without improvement.
        RNN and GRU-D models take the same default (not measured).
    shuffle : bool, default=True
        Shuffle the sequences before each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
    tol : float, default=1e-4
        Improvement of the loss (or validation score) below which an epoch
        counts as no improvement.
    verbose : bool, default=False
        Print the loss after each epoch.
    warm_start : bool, default=False
        Start ``fit`` from the current weights.
    momentum : float, default=0.9
        Momentum of 'sgd' and 'simplex'.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for 'sgd' and 'simplex'.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the sequences, stop when their score
        has not improved for ``n_iter_no_change`` epochs and keep the best
        weights.
    scoring : str, callable or None, default=None
        What early stopping scores the held-out sequences by, as in
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`: None is the
        estimator's ``score`` (R^2 or accuracy); 'loss' the negative
        validation loss; any other string a scikit-learn scorer name (e.g.
        'neg_mean_absolute_error', 'balanced_accuracy'), or a callable
        ``scorer(estimator, X, y)``. Names and callables need one target per
        sequence (``return_sequences=False``).
    validation_fraction : float, default=0.1
        Share of the sequences held out for early stopping.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's parameters.
    n_iter_no_change : int, default=100
        Epochs without improvement before stopping (or, with
        ``learning_rate='adaptive'``, before the step size is cut). 100, not
        ``MLPRegressor``'s 10: a recurrent net's loss often sits on a plateau
        for tens of epochs before it falls, and an exploding gradient can
        throw a fit back from its lowest loss for tens of epochs, from which
        it recovers if it is not stopped. On benchmarks/bench_uea.py, LSTM
        and GRU with the other defaults scored 0.818 with 100 against 0.783
        with 50 (mean accuracy over four small sets and 3 seeds; better than
        ``learning_rate_init`` 1e-3 and 2e-3, at about 1.2 times the median
        fit time; benchmarks/RESULTS.md). RNN and GRU-D models take the same
        default (not measured).
    clip_norm : float or None, default=1.0
        Rescale the gradient of each minibatch to at most this global norm
        (Pascanu et al., 2013); None means no clipping. On by default: without
        it, gradient spikes on long sequences threw fits back to chance
        (benchmarks/RESULTS.md).
    averaging : float in [0, 1), default=0.9
        Decay of an exponential moving average of the weights over the
        epochs (Polyak & Juditsky, 1992, in its exponential form): after each
        epoch ``avg = averaging * avg + (1 - averaging) * weights`` (``avg``
        starts as the first epoch's weights), and a fit that ends on a
        plateau or at ``max_iter`` (or is interrupted after a finished epoch)
        keeps ``avg``: 0.9 averages about the last 10 epochs, smoothing out
        a noisy end of training. 0 keeps the last epoch's weights. Not with
        ``early_stopping`` (which keeps its best validation weights), in
        ``partial_fit`` (one epoch a call) or after a diverging epoch (the
        best epoch's weights). 0.9: on benchmarks/bench_uea.py, LSTM and GRU
        with the other defaults scored 0.782 against 0.762 without it (mean
        accuracy over four small sets and 3 seeds, the same training paths;
        better than ``learning_rate='cosine'``, 0.763, and than both, 0.770;
        benchmarks/RESULTS.md). RNN and GRU-D models take the same default
        (not measured).
    simplex_threshold : float, default=1.0
        With ``solver='simplex'``: the norm of the recurrent weights' gradient
        above which the plain gradient is used; 0 makes 'simplex' plain 'sgd'.
    spectral_radius : float or None, default=None
        Rescale each gate's recurrent weight block to this spectral radius at
        initialisation; None keeps PyTorch's uniform initialisation.
    bptt_steps : int or None, default=None
        Truncated backpropagation through time: the gradient flows back at
        most to the start of its window of ``bptt_steps`` steps (the forward
        pass always runs over whole sequences). None means full BPTT.
    return_sequences : bool, default=False
        False: one target per sequence, read from its pooled state (see
        ``pooling``). True: one target per step.
    pooling : {'auto', 'last', 'mean', 'max'}, default='auto'
        Sequence-to-one only: the read-out (and :meth:`transform`) sees the
        last layer's state at each sequence's last real step ('last'), or its
        mean or elementwise maximum over the sequence's real steps (padding
        never counts). 'auto' is 'max' for RNN, LSTM and GRU models, chosen
        on benchmarks/bench_uea.py, where it learnt better than 'last' and
        'mean' (benchmarks/RESULTS.md), and 'last' for GRU-D, the pooling
        it was measured with; with ``return_sequences=True`` nothing is pooled.
        With ``bidirectional=True``, 'last' takes the forward direction's
        state at the last real step and the backward direction's at the
        first, each direction's final state (PyTorch's ``h_n``).
    bidirectional : bool or 'auto', default='auto'
        Every layer also runs over each sequence's real steps in reverse
        (PyTorch's ``bidirectional=True``, with its ``_reverse`` weights); the
        next layer and the read-out see ``[forward; backward]``, 2H wide.
        'auto' is True for LSTM and GRU sequence-to-one models, chosen on
        benchmarks/bench_uea.py, where it learnt better than one direction
        and than hidden 64 (mean accuracy 0.776 against 0.734 over four
        small sets, at about twice the fit time; benchmarks/RESULTS.md), and
        False for RNN and GRU-D models (not measured) and with
        ``return_sequences=True`` (each step's output then depends on the
        steps up to it only, as a forecast needs).
    dropout : float in [0, 1), default=0.0
        Variational dropout (Gal and Ghahramani, 2016) on the inputs of every
        recurrent layer: in training, each sequence draws one mask per layer,
        kept over all its steps, that zeroes each input with probability
        ``dropout`` and scales the others by ``1 / (1 - dropout)``. Masks come
        from ``random_state`` (results stay identical for any ``n_jobs``);
        ``predict`` and ``transform`` use no dropout. The read-out's input is
        not dropped. With dropout, a sequence of weight 2 is not the same as
        the sequence twice (one mask against two).
    recurrent_dropout : float in [0, 1), default=0.0
        Variational dropout on the hidden-to-hidden path (Gal and Ghahramani,
        2016; Keras's ``recurrent_dropout``): in training, each sequence draws
        one mask per layer (and direction) over the hidden units, kept over
        all its steps, that zeroes each unit with probability
        ``recurrent_dropout`` and scales the others by
        ``1 / (1 - recurrent_dropout)``. The mask multiplies the previous
        state only where it enters the recurrent product ``W_hh h_{t-1}``
        (every gate of the LSTM and GRU); the rest of the cell reads the
        unmasked state (the GRU's ``z * h_{t-1}``, the leaky units'
        ``(1 - leak_rate) h_{t-1}``, GRU-D's decayed state before the mask),
        so the memory is not erased. Masks come from ``random_state``, drawn
        after ``dropout``'s (0 draws nothing, so results are those without
        it), identical for any ``n_jobs``; ``predict`` and ``transform`` use
        no dropout.
    n_jobs : int or None, default=None
        OpenMP threads for the kernels; None means all cores as scikit-learn
        counts them (respecting ``OMP_NUM_THREADS``, which dask and Ray
        workers set to 1). Results are identical for any value."""

CLASSIFIER_LOSS = """loss : {'log_loss', 'hinge'}, default='log_loss'
        'log_loss': softmax (one logistic unit for two classes) and
        cross-entropy; 'hinge': one decision value, two classes only, no
        ``predict_proba``."""

CLASS_WEIGHT = """class_weight : dict, 'balanced' or None, default=None
        Weights of the classes in the loss, ``{{class_label: weight}}``
        (classes not named weigh 1); 'balanced' weighs each class by
        ``n_entries / (n_classes * its count)`` over the training targets,
        per sequence, or with ``return_sequences=True`` per real step, as
        :func:`~sklearn.utils.class_weight.compute_sample_weight` does. They
        multiply ``sample_weight``. Not 'balanced' in ``partial_fit``."""

RNN_ACTIVATION = """activation : {'tanh', 'relu', 'logistic', 'identity'}, default='tanh'
        Activation of the recurrent units."""

RNN_LONG_MEMORY = """leak_rate : float in (0, 1], default=1.0
        Leaky units: ``h_t = (1 - leak_rate) h_(t-1) + leak_rate u_t``, where
        ``u_t`` is the Elman cell's output; each state keeps a share of the
        last one, so the gradient has a path through time that the
        activation does not squash. 1 is the plain cell.
    skip_steps : int or None, default=None
        Skip connection through time: every layer's pre-activation at step t
        also receives ``W_skip h_(t-k)`` for ``k = skip_steps`` (``t >= k``),
        a trained ``(H, H)`` matrix stored as ``coefs_[i]["weight_skip"]``
        (initialised like ``weight_hh``, L2-penalised like it, and never
        rescaled by ``spectral_radius``), so the gradient crosses k steps in
        one. Truncated BPTT (``bptt_steps``) cuts it too where a window
        boundary lies between ``t - k`` and ``t``. None means none.
        Models with leaky units or skip connections have no ``torch.nn.RNN``
        equivalent; ``to_torch`` exports them as a small custom module. The
        LSTM and GRU estimators do not take these two parameters (their
        gates already keep memory), although the shared kernel time loop
        computes them for every cell."""

COMMON_ATTRIBUTES = """loss_ : float
        Training loss of the last epoch (with the L2 term).
    best_loss_ : float or None
        Lowest epoch loss (None with early stopping).
    loss_curve_ : list of float
        Loss of each epoch.
    validation_scores_ : list of float or None
        Score (by ``scoring``) of the held-out sequences after each epoch
        (early stopping; None without).
    validation_loss_curve_ : list of float or None
        Loss of the held-out sequences (without the L2 term) after each epoch
        (early stopping; None without).
    best_validation_score_ : float or None
        Best of them.
    n_iter_ : int
        Epochs run.
    t_ : int
        Sequences seen by the solver.
    n_features_in_ : int
        Features of one step.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` was a DataFrame.
    n_outputs_ : int
        Outputs of the read-out.
    coefs_ : list of dict
        One dict per recurrent layer with PyTorch's names, shapes and gate
        order: ``weight_ih (G*H, F_in)``, ``weight_hh (G*H, H)``,
        ``bias_ih (G*H,)``, ``bias_hh (G*H,)``; with ``bidirectional=True``
        also ``weight_ih_reverse``, ``weight_hh_reverse``, ``bias_ih_reverse``,
        ``bias_hh_reverse`` of the same shapes (the backward direction), and
        ``F_in = 2 H`` of the layer below from the second layer on; with
        ``skip_steps`` (RNN estimators) also ``weight_skip (H, H)``.
    output_coef_ : ndarray of shape (`n_outputs_`, W_last)
        ``W_last`` is the last layer's H, 2H with ``bidirectional=True``.
    output_intercept_ : ndarray of shape (`n_outputs_`,)
        The linear read-out."""

ECHO_STATE_PARAMETERS = """n_reservoir : int, default=500
        Reservoir units. The default was chosen on benchmarks/bench_uea.py
        (with ``leak_rate='auto'``) over 100, the default before, and 300:
        mean accuracy over five sets 0.850 against 0.818 and 0.834
        (benchmarks/RESULTS.md, "Echo state reservoir size with
        leak_rate='auto', round 4"); a fit of 500 units costs about 4x one
        of 100.
    spectral_radius : float, default=0.9
        The recurrent matrix is rescaled to this spectral radius (below 1 gives
        the echo state property for most inputs; tune it).
    input_scaling : float, default=0.3
        Input weights and the input bias are +-input_scaling with random signs
        (as reservoirpy draws them). The default was chosen on
        benchmarks/bench_uea.py (standardised inputs, sequence-to-one) over
        1.0, the default before, and 0.1: mean accuracy over five sets 0.735
        against 0.709 and 0.682 (benchmarks/RESULTS.md, "Echo state
        defaults, round 2").
    leak_rate : float in (0, 1] or 'auto', default='auto'
        The a in ``x(t) = (1 - a) x(t-1) + a tanh(W_in u(t) + b + W x(t-1))``:
        the units average over about 1/a steps. ``'auto'`` runs the reservoir
        at each of (1, 0.3, 0.1, 0.03) (a fit costs four) and keeps the one
        whose read-out scores best, jointly with ``alpha`` and by the same
        score as ``alpha='auto'`` (with a numeric ``alpha``, at that alpha);
        the chosen value is ``leak_rate_``. The default was chosen on
        benchmarks/bench_uea.py over the fixed ``leak_rate=1.0``, the default
        before: mean accuracy over five sets 0.818 against 0.735, and
        CardanoSentiment's RMSE 0.294 against 0.302 (benchmarks/RESULTS.md,
        round 3). A fixed leak rate below 1 (0.03 scored 0.797 there) falls
        short on sequences of 8-12 steps and on one-step forecasts.
    alpha : float or 'auto', default='auto'
        Ridge penalty of the read-out (on the mean-weighted scale: the penalty
        on the sum of squared errors is ``alpha``). ``'auto'`` chooses it from
        ``alphas`` on the training data, as ``RidgeCV`` does: sequence-to-one,
        by efficient leave-one-out cross-validation (one SVD of the read-out's
        features gives every sequence's leave-one-out prediction for every
        alpha in closed form; weighted by ``sample_weight``, the intercept
        unpenalised), scored by the weighted squared error (classifier: on
        its +-1 targets, as ``RidgeClassifierCV``); with
        ``return_sequences=True``, by cross-validation over sequences from
        the read-out's sums (the k-th sequence with a target in fold k mod 5,
        fewer folds with fewer sequences; one sequence is cut into 5
        consecutive stretches of steps), scored by the squared error summed
        over the folds' steps (classifier too).
        The chosen value is ``alpha_``. The default 'auto' was chosen on
        benchmarks/bench_uea.py over 1e-6, the default before
        (benchmarks/RESULTS.md); a per-step forecast of a smooth series may
        want a smaller ridge than the grid has (Mackey-Glass below: 1e-7).
    alphas : tuple of float, default=(1e-06, 1e-05, 0.0001, 0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
        The ridge strengths ``alpha='auto'`` chooses from (positive; the
        first of equally good ones wins). Unused for a numeric ``alpha``.
    washout : int, default=0
        With ``return_sequences=True``, the first ``washout`` steps of each
        sequence are left out of the read-out's fit (the reservoir forgets its
        zero start). Unused for sequence-to-one.
    sparsity : float in [0, 1), default=0.9
        Fraction of zeros in the recurrent matrix. Its K = round((1 -
        sparsity) n_reservoir) nonzeros per row lie on K cyclic diagonals at
        distinct random offsets o_k (unit r reads units (r + o_k) mod
        n_reservoir), with normal weights: every unit reads from and feeds K
        others, and a step costs K contiguous multiply-adds per unit instead of
        K scattered reads. This pattern forecasts and remembers as well as a
        fully random one (benchmarks/RESULTS.md), as Rodan and Tiňo found for
        simpler fixed topologies.
    pooling : {'last', 'mean', 'max'} or tuple of them, default='mean'
        What the sequence-to-one read-out (and :meth:`transform`) sees of each
        sequence's reservoir states: the state at its last real step, the
        mean or the maximum over its real steps, or several of these side by
        side (as reservoirpy's classification tutorials read the states of
        all steps, not the last one only). The default was chosen on
        benchmarks/bench_uea.py (benchmarks/RESULTS.md). Unused by the
        read-out with ``return_sequences=True``.
    random_state : int, RandomState instance or None, default=None
        Seeds the reservoir.
    return_sequences : bool, default=False
        One target per sequence (read at its last real step), or per step.
    n_jobs : int or None, default=None
        OpenMP threads over sequences; results are identical for any value."""

ECHO_STATE_ATTRIBUTES = """input_weights_ : ndarray of shape (n_reservoir, `n_features_in_`)
    input_bias_ : ndarray of shape (n_reservoir,)
    reservoir_weights_ : ndarray of shape (K, n_reservoir)
    reservoir_offsets_ : ndarray of shape (K,), int32
        The recurrent matrix as K cyclic diagonals: ``W[r, (r +
        reservoir_offsets_[k]) % n_reservoir] = reservoir_weights_[k, r]``.
    leak_rate_ : float
        The reservoir's leak rate: ``leak_rate``, or the one
        ``leak_rate='auto'`` chose.
    alpha_ : float
        The ridge penalty of the fitted read-out: ``alpha``, or the one
        ``alpha='auto'`` chose.
    coef_ : ndarray of shape (`n_outputs_`, n_reservoir * len(pooling))
    intercept_ : ndarray of shape (`n_outputs_`,)
        The ridge read-out (per step: of shape (`n_outputs_`, n_reservoir)).
    n_outputs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)"""

ECHO_STATE_REFERENCES = """Jaeger, H. (2001). The "echo state" approach to analysing and training
    recurrent neural networks. GMD Report 148.

    Lukoševičius, M. (2012). A practical guide to applying echo state networks.
    Neural Networks: Tricks of the Trade, Springer.

    Rodan, A. and Tiňo, P. (2011). Minimum complexity echo state network. IEEE
    Transactions on Neural Networks, 22(1), 131-144."""

LAYER_REFERENCES = """Schuster, M. and Paliwal, K. K. (1997). Bidirectional recurrent neural
    networks. IEEE Transactions on Signal Processing 45(11).

    Gal, Y. and Ghahramani, Z. (2016). A theoretically grounded application of
    dropout in recurrent neural networks. NeurIPS."""


GRUD_PARAMETERS = """time_column : int, str or None, default=None
        The column of ``X`` that holds each step's time (days since the first
        visit, say): it sets the time since each feature's last measurement
        and is not an input feature. Times must be finite and non-decreasing
        within each sequence; they are divided by the mean positive gap of
        the training data, so the unit does not matter. None: steps are
        equally spaced, one unit apart. A str names a column of a DataFrame
        (``feature_names_in_``)."""

GRUD_ATTRIBUTES = """x_mean_ : ndarray of shape (n_features,)
        Training mean of each input feature over its measured values: where
        the inputs decay to.
    time_scale_ : float
        The training data's mean positive gap in ``time_column`` (1 without a
        time column)."""

GRUD_REFERENCES = """Che, Z., Purushotham, S., Cho, K., Sontag, D. and Liu, Y. (2018).
    Recurrent neural networks for multivariate time series with missing
    values. Scientific Reports, 8, 6085."""

GRUD_MATH = """For each step, with ``m`` the mask of the features measured at it,
    ``delta`` the time since each was last measured, ``x_last`` its last
    measured value (before the first one, ``x_mean_``)::

        gamma_x = exp(-max(0, w_gx * delta + b_gx))
        xhat = m * x + (1 - m) * (gamma_x * x_last + (1 - gamma_x) * x_mean_)
        gamma_h = exp(-max(0, W_gh delta + b_gh))
        h' = GRU([xhat, m], gamma_h * h)

    (the GRU of ``torch.nn.GRU``) in the first layer; further layers of
    ``hidden_layer_sizes`` are plain GRU layers on the states below, as Che et
    al. stack them. With ``bidirectional=True`` each layer also runs backward
    over each sequence's real steps; the first layer's backward direction is a
    plain GRU on the same ``[xhat, m]`` (the decay runs forward in time only).
    ``X`` may hold NaN inside a sequence for "not measured"; trailing all-NaN
    steps are padding. Every common parameter of the gradient-trained
    estimators applies (``solver='simplex'`` mixes the decay parameters'
    per-step shares with the layers', ``bptt_steps`` truncates the
    recurrence, ``temporal_gradient_norms`` reads them), and ``to_torch``
    gives a module of skrnn's that takes the raw ``X`` as ``predict`` does.
    The recurrence and backpropagation through time run in the GRU kernel
    (its state decay option), the decays in NumPy."""

_FRAGMENTS = {
    "hidden_layers": HIDDEN_LAYERS,
    "training_parameters": TRAINING_PARAMETERS,
    "classifier_loss": CLASSIFIER_LOSS,
    "class_weight": CLASS_WEIGHT,
    "rnn_activation": RNN_ACTIVATION,
    "rnn_long_memory": RNN_LONG_MEMORY,
    "common_attributes": COMMON_ATTRIBUTES,
    "layer_references": LAYER_REFERENCES,
    "echo_state_parameters": ECHO_STATE_PARAMETERS,
    "echo_state_attributes": ECHO_STATE_ATTRIBUTES,
    "echo_state_references": ECHO_STATE_REFERENCES,
    "grud_math": GRUD_MATH,
    "grud_parameters": GRUD_PARAMETERS,
    "grud_attributes": GRUD_ATTRIBUTES,
    "grud_references": GRUD_REFERENCES,
}


def format_docstring(cls):
    """Class decorator: fill the shared fragments (``{training_parameters}``
    and the others above) into the docstring written in the class body."""
    cls.__doc__ = cls.__doc__.format(**_FRAGMENTS)
    return cls
