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
    for layer in estimator.coefs_:
        GH, F = layer["weight_ih"].shape
        H = GH // cell.n_gates
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
    pooling = getattr(estimator, "pooling", "last")

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
