"""Export a fitted estimator to an equivalent PyTorch module."""

import numpy as np


def to_torch(estimator):
    """Build the ``torch.nn.Module`` that computes what ``estimator`` computes.

    Parameters
    ----------
    estimator : fitted RNN/LSTM/GRU regressor or classifier

    Returns
    -------
    module : torch.nn.Module
        ``module(x, lengths=None)`` takes a batch-first float tensor
        ``(n_sequences, n_steps, n_features)`` (and, for sequences of different
        lengths, their lengths) and returns the read-out's raw values, after
        the estimator's ``pooling`` (bidirectional layers are
        ``bidirectional=True`` modules run on packed sequences):
        ``(n_sequences, n_outputs)``, or ``(n_sequences, n_steps, n_outputs)``
        with ``return_sequences=True``. For classifiers these are the values of
        ``decision_function`` (logits), before softmax or the logistic.
        Elman models with leaky units or skip connections through time
        (``leak_rate < 1``, ``skip_steps``), which ``torch.nn.RNN`` cannot
        express, get a small module of ours per layer (:func:`_leaky_skip_rnn`)
        with the same parameter names, looping over the steps in Python.
    """
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            "to_torch needs PyTorch; install it with `pip install torch`."
        ) from exc
    cell = estimator._cell
    dtype = (
        torch.float64 if estimator.output_coef_.dtype == np.float64 else torch.float32
    )
    bidirectional = estimator._bidirectional()
    layers = []
    leak_rate = getattr(estimator, "leak_rate", 1.0)
    skip_steps = getattr(estimator, "skip_steps", None)
    for layer in estimator.coefs_:
        GH, F = layer["weight_ih"].shape
        H = GH // cell.n_gates
        if leak_rate != 1.0 or skip_steps:
            if bidirectional:
                raise ValueError(
                    "Bidirectional models with leaky units or skip connections "
                    "(leak_rate < 1, skip_steps) cannot be exported: torch.nn.RNN "
                    "cannot express them, and skrnn's own module runs forward only."
                )
            module = _leaky_skip_rnn(torch, layer, estimator.activation)
            layers.append(module(leak_rate, skip_steps).to(dtype))
            continue
        kwargs = {}
        if cell.torch_name == "RNN":
            activation = getattr(estimator, "activation", "tanh")
            if activation not in ("tanh", "relu"):
                raise ValueError(
                    f"torch.nn.RNN has no '{activation}' activation; only 'tanh' "
                    "and 'relu' models can be exported."
                )
            kwargs["nonlinearity"] = activation
        module = getattr(torch.nn, cell.torch_name)(
            F, H, batch_first=True, bidirectional=bidirectional, **kwargs
        )
        module = module.to(dtype)
        with torch.no_grad():
            for name, value in layer.items():
                # weight_ih_reverse -> weight_ih_l0_reverse
                base, reverse, _ = name.partition("_reverse")
                target = getattr(module, base + "_l0" + reverse)
                target.copy_(torch.from_numpy(np.asarray(value)))
        layers.append(module)
    readout = _readout(torch, estimator, dtype)
    pooling = estimator._pooling()

    class SkrnnModule(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList(layers)
            self.readout = readout
            self.return_sequences = estimator.return_sequences
            self.pooling = pooling
            self.bidirectional = bidirectional

        def forward(self, x, lengths=None):
            B, T = x.shape[:2]
            lengths = (
                torch.full((B,), T, dtype=torch.int64)
                if lengths is None
                else torch.as_tensor(lengths, dtype=torch.int64).cpu()
            )
            pack = torch.nn.utils.rnn.pack_padded_sequence
            unpack = torch.nn.utils.rnn.pad_packed_sequence
            for rnn in self.layers:
                if not isinstance(rnn, torch.nn.RNNBase):  # leaky / skip: padded
                    x, _ = rnn(x)
                    continue
                # packed, so that the backward direction starts at each
                # sequence's own last step
                out, _ = rnn(pack(x, lengths, batch_first=True, enforce_sorted=False))
                x, _ = unpack(out, batch_first=True, total_length=T)
            if self.return_sequences:
                return self.readout(x)
            h = _pool(torch, x, lengths, self.pooling, self.bidirectional)
            return self.readout(h)

    return SkrnnModule()


def _leaky_skip_rnn(torch, layer, activation):
    """A ``torch.nn.Module`` class for one Elman layer with leaky units and a
    skip connection: ``h_t = (1 - a) h_{t-1} + a act(W_ih x_t + b_ih + W_hh
    h_{t-1} + b_hh + W_skip h_{t-k})``, initialised from ``layer``'s arrays
    (``weight_ih_l0`` ... ``weight_skip_l0`` as parameters)."""
    functions = {
        "tanh": torch.tanh,
        "relu": torch.relu,
        "logistic": torch.sigmoid,
        "identity": lambda a: a,
    }
    act = functions[activation]

    class LeakySkipRNN(torch.nn.Module):
        def __init__(self, leak_rate, skip_steps):
            super().__init__()
            self.leak_rate = leak_rate
            self.skip_steps = skip_steps
            for name, value in layer.items():
                tensor = torch.from_numpy(np.array(value))
                self.register_parameter(name + "_l0", torch.nn.Parameter(tensor))

        def forward(self, x):
            hs = []
            h = x.new_zeros(x.shape[0], self.weight_hh_l0.shape[1])
            k = self.skip_steps
            for t in range(x.shape[1]):
                a = (
                    x[:, t] @ self.weight_ih_l0.T
                    + self.bias_ih_l0
                    + h @ self.weight_hh_l0.T
                    + self.bias_hh_l0
                )
                if k and t >= k:
                    a = a + hs[t - k] @ self.weight_skip_l0.T
                h = (1 - self.leak_rate) * h + self.leak_rate * act(a)
                hs.append(h)
            return torch.stack(hs, dim=1), h

    return LeakySkipRNN


def grud_to_torch(estimator):
    """Build the ``torch.nn.Module`` that computes what a fitted GRU-D
    estimator computes (``torch.nn`` has no GRU-D cell).

    Parameters
    ----------
    estimator : fitted GRUDRegressor or GRUDClassifier

    Returns
    -------
    module : torch.nn.Module
        ``module(x)`` takes the raw batch-first float tensor
        ``(n_sequences, n_steps, n_features_in_)`` as ``predict`` does: NaN
        for "not measured", trailing all-NaN steps as padding, the time column
        (``time_column``) among the features. It returns the read-out's raw
        values after ``pooling``: ``(n_sequences, n_outputs)``, or
        ``(n_sequences, n_steps, n_outputs)`` with ``return_sequences=True``
        (classifiers: the values of ``decision_function``). Each layer is a
        module of ours looping over the steps in Python, with the
        estimator's parameter names as ``torch.nn.GRU`` spells them
        (``weight_ih_l0``, ``weight_ih_l0_reverse``, and on the first layer
        ``decay_x_weight_l0`` ... ``decay_h_bias_l0``); the training means
        ``x_mean_`` and the time scale are buffers.
    """
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            "to_torch needs PyTorch; install it with `pip install torch`."
        ) from exc
    dtype = (
        torch.float64 if estimator.output_coef_.dtype == np.float64 else torch.float32
    )
    bidirectional = estimator._bidirectional()
    time_index = estimator._time_index()
    readout = _readout(torch, estimator, dtype)

    def gru_run(u, lengths, W_ih, W_hh, b_ih, b_hh, gamma_h=None, reverse=False):
        """One direction of a GRU layer (torch.nn.GRU's equations) over
        ``u`` ``(B, T, F)``; ``gamma_h`` ``(B, T, H)`` decays the previous
        state. A padded step keeps the state; the backward direction starts
        at each sequence's last real step."""
        B, T = u.shape[:2]
        H = W_hh.shape[1]
        proj = u @ W_ih.T + b_ih
        h = u.new_zeros(B, H)
        out = [None] * T
        for t in range(T - 1, -1, -1) if reverse else range(T):
            hhat = h if gamma_h is None else gamma_h[:, t] * h
            gh = hhat @ W_hh.T + b_hh
            a = proj[:, t]
            r = torch.sigmoid(a[:, :H] + gh[:, :H])
            z = torch.sigmoid(a[:, H : 2 * H] + gh[:, H : 2 * H])
            n = torch.tanh(a[:, 2 * H :] + r * gh[:, 2 * H :])
            h_new = (1 - z) * n + z * hhat
            h = torch.where((t < lengths)[:, None], h_new, h)
            out[t] = h
        return torch.stack(out, dim=1)

    class GRUDLayer(torch.nn.Module):
        """One layer: GRU-D (the first) or GRU, each direction."""

        def __init__(self, layer):
            super().__init__()
            for name, value in layer.items():
                base, reverse, _ = name.partition("_reverse")
                tensor = torch.from_numpy(np.array(value)).to(dtype)
                self.register_parameter(
                    base + "_l0" + reverse, torch.nn.Parameter(tensor)
                )

        def direction(self, suffix):
            return [
                getattr(self, name + "_l0" + suffix)
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]

        def forward(self, u, lengths, gamma_h=None):
            out = gru_run(u, lengths, *self.direction(""), gamma_h=gamma_h)
            if not bidirectional:
                return out
            back = gru_run(u, lengths, *self.direction("_reverse"), reverse=True)
            return torch.cat([out, back], dim=-1)

    class GRUDModule(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList(
                [GRUDLayer(layer) for layer in estimator.coefs_]
            )
            self.readout = readout
            self.register_buffer("x_mean", torch.from_numpy(estimator.x_mean_))
            self.register_buffer(
                "time_scale", torch.tensor(float(estimator.time_scale_), dtype=dtype)
            )
            self.return_sequences = estimator.return_sequences
            self.pooling = estimator._pooling()

        def inputs(self, x):
            """GRU-D's kernel inputs ``[xhat, m]``, the state decay and the
            lengths of a raw batch (as ``skrnn._grud`` computes them)."""
            B, T = x.shape[:2]
            steps = torch.arange(T)
            real_step = ~torch.isnan(x).all(dim=2)
            lengths = torch.where(
                real_step.any(dim=1),
                T - real_step.flip(1).to(torch.int64).argmax(dim=1),
                0,
            )
            active = steps[None, :] < lengths[:, None]
            if time_index is None:
                times = steps.to(x.dtype).expand(B, T)
                features = x
            else:
                times = torch.where(active, x[..., time_index], 0) / self.time_scale
                keep = [j for j in range(x.shape[2]) if j != time_index]
                features = x[..., keep]
            mask = (~torch.isnan(features)).to(x.dtype)
            values = torch.nan_to_num(features, nan=0.0)
            deltas, lasts = [], []
            for t in range(T):
                if t == 0:
                    delta = torch.zeros_like(values[:, 0])
                    last = self.x_mean.expand_as(values[:, 0])
                else:
                    gap = (times[:, t] - times[:, t - 1])[:, None]
                    delta = gap + (1 - mask[:, t - 1]) * deltas[-1]
                    last = lasts[-1]
                m = mask[:, t]
                lasts.append(m * values[:, t] + (1 - m) * last)
                deltas.append(delta)
            # where a feature is missing at t, its last value up to t is its
            # last value before t
            last = torch.stack(lasts, dim=1)
            delta = torch.where(active[..., None], torch.stack(deltas, dim=1), 0)
            layer = self.layers[0]
            gamma_x = torch.exp(
                -torch.relu(layer.decay_x_weight_l0 * delta + layer.decay_x_bias_l0)
            )
            base = mask * values + (1 - mask) * self.x_mean
            xhat = base + gamma_x * (1 - mask) * (last - self.x_mean)
            gamma_h = torch.exp(
                -torch.relu(delta @ layer.decay_h_weight_l0.T + layer.decay_h_bias_l0)
            )
            return torch.cat([xhat, mask], dim=2), gamma_h, lengths

        def forward(self, x):
            u, gamma_h, lengths = self.inputs(x)
            for k, layer in enumerate(self.layers):
                u = layer(u, lengths, gamma_h if k == 0 else None)
            if self.return_sequences:
                return self.readout(u)
            return self.readout(_pool(torch, u, lengths, self.pooling, bidirectional))

    return GRUDModule()


def _readout(torch, estimator, dtype):
    """The estimator's read-out as a ``torch.nn.Linear``."""
    readout = torch.nn.Linear(*estimator.output_coef_.shape[::-1]).to(dtype)
    with torch.no_grad():
        readout.weight.copy_(torch.from_numpy(estimator.output_coef_))
        readout.bias.copy_(torch.from_numpy(estimator.output_intercept_))
    return readout


def _pool(torch, x, lengths, pooling, bidirectional):
    """The read-out's input from the last layer's states ``x`` ``(B, T, W)``
    over each sequence's real steps, as the estimators pool: 'mean', 'max',
    or 'last' (a backward direction's last state is at step 0)."""
    B, T = x.shape[:2]
    real = (torch.arange(T)[None, :] < lengths[:, None])[..., None]
    if pooling == "mean":
        return (x * real).sum(dim=1) / lengths[:, None].to(x.dtype)
    if pooling == "max":
        return x.masked_fill(~real, -torch.inf).max(dim=1).values
    rows = torch.arange(B)
    h = x[rows, lengths - 1]
    if bidirectional:
        half = h.shape[1] // 2
        h = torch.cat([h[:, :half], x[rows, 0, half:]], dim=1)
    return h
