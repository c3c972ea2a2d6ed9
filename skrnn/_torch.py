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
    bidirectional = getattr(estimator, "bidirectional", False)
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
    readout = torch.nn.Linear(*estimator.output_coef_.shape[::-1]).to(dtype)
    with torch.no_grad():
        readout.weight.copy_(torch.from_numpy(estimator.output_coef_))
        readout.bias.copy_(torch.from_numpy(estimator.output_intercept_))
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
            rows = torch.arange(B)
            real = (torch.arange(T)[None, :] < lengths[:, None])[..., None]
            if self.pooling == "mean":
                h = (x * real).sum(dim=1) / lengths[:, None].to(x.dtype)
            elif self.pooling == "max":
                h = x.masked_fill(~real, -torch.inf).max(dim=1).values
            else:
                h = x[rows, lengths - 1]
                if self.bidirectional:
                    half = h.shape[1] // 2
                    h = torch.cat([h[:, :half], x[rows, 0, half:]], dim=1)
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
