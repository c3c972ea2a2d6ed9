"""
===================================
The vanishing gradient: RNN vs LSTM
===================================

How much does the loss still depend on the state ``t`` steps back?
:func:`~skrnn.inspection.temporal_gradient_norms` gives the norm of
``dLoss/dh_t`` at every step; :class:`~skrnn.plotting.TemporalGradientDisplay`
draws it on a log scale.

The task is the addition problem (:func:`~skrnn.datasets.make_addition`): the
target is the sum of two marked values, the first among the first tenth of the
sequence, so the information lies far from the end where the loss is read.
"""

# %%
# Two networks, a few epochs each
# -------------------------------
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning

from skrnn import LSTMRegressor, RNNRegressor
from skrnn.datasets import make_addition
from skrnn.inspection import temporal_gradient_norms
from skrnn.plotting import TemporalGradientDisplay

X, y = make_addition(400, 60, random_state=0)
settings = dict(
    hidden_layer_sizes=16,
    learning_rate_init=3e-3,
    max_iter=5,
    clip_norm=1.0,
    # the read-out sees the last step's state, where the loss enters
    pooling="last",
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    rnn = RNNRegressor(**settings).fit(X, y)
    lstm = LSTMRegressor(**settings).fit(X, y)

# %%
# The gradient at each step
# -------------------------
# The loss sits at the last step (step 59). Going back, the Elman network's
# gradient falls by orders of magnitude: the early steps, which hold the
# first marked value, barely move its weights. The LSTM's cell state carries
# the gradient back with far less loss.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True, layout="constrained")
for model, ax in zip([rnn, lstm], axes, strict=True):
    TemporalGradientDisplay.from_estimator(model, X, y, ax=ax)
plt.show()

for model in [rnn, lstm]:
    norms = temporal_gradient_norms(model, X, y)[0]
    print(
        f"{type(model).__name__}: ||dLoss/dh_0|| / ||dLoss/dh_59|| = "
        f"{norms[0] / norms[-1]:.1e}"
    )

# %%
# The spectral radius of the recurrent weights
# --------------------------------------------
# For the Elman network the rate of decay depends on the recurrent matrix.
# ``spectral_radius`` rescales it at initialisation; here the gradients after
# one epoch for three radii. A larger radius slows the decay; with tanh units
# even 1.2 does not stop it over 60 steps.
fig, ax = plt.subplots(layout="constrained")
for radius in [0.5, 0.9, 1.2]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RNNRegressor(
            hidden_layer_sizes=16,
            spectral_radius=radius,
            max_iter=1,
            pooling="last",
            random_state=0,
        ).fit(X, y)
    norms = temporal_gradient_norms(model, X, y)[0]
    ax.plot(norms, label=f"spectral_radius={radius}")
ax.set(
    yscale="log",
    xlabel="time step",
    ylabel="||dLoss / dh_t||",
    title="RNNRegressor after one epoch",
)
ax.legend()
plt.show()
