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
        lengths, their lengths) and returns the read-out's raw values:
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
        module = getattr(torch.nn, cell.torch_name)(F, H, batch_first=True, **kwargs)
        module = module.to(dtype)
        with torch.no_grad():
            for name, value in layer.items():
                getattr(module, name + "_l0").copy_(torch.from_numpy(np.asarray(value)))
        layers.append(module)
    readout = torch.nn.Linear(*estimator.output_coef_.shape[::-1]).to(dtype)
    with torch.no_grad():
        readout.weight.copy_(torch.from_numpy(estimator.output_coef_))
        readout.bias.copy_(torch.from_numpy(estimator.output_intercept_))

    class SkrnnModule(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList(layers)
            self.readout = readout
            self.return_sequences = estimator.return_sequences

        def forward(self, x, lengths=None):
            for rnn in self.layers:
                x, _ = rnn(x)
            z = self.readout(x)
            if self.return_sequences:
                return z
            last = (
                torch.as_tensor(lengths) - 1
                if lengths is not None
                else torch.full((z.shape[0],), z.shape[1] - 1)
            )
            return z[torch.arange(z.shape[0]), last]

    return SkrnnModule()
