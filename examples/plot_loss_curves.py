"""
==========================
Loss and validation curves
==========================

A fitted gradient-trained estimator keeps its training loss per epoch in
``loss_curve_`` and, with ``early_stopping=True``, the score on the held-out
sequences in ``validation_scores_``. :class:`~skrnn.plotting.LossCurveDisplay`
draws both.

The task: sequences of 15 steps of noise, the target the sum of all steps (the
network must add up what it has seen).
"""

# %%
# Data
# ----
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skrnn import GRURegressor
from skrnn.plotting import LossCurveDisplay

rng = np.random.default_rng(0)
X = rng.normal(size=(400, 15, 1))
y = X[:, :, 0].sum(axis=1)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# Early stopping
# --------------
# A fifth of the training sequences is held out; training stops when their
# R^2 has not improved by ``tol`` for ``n_iter_no_change`` epochs, and the
# weights of the best epoch are kept.
model = GRURegressor(
    hidden_layer_sizes=16,
    learning_rate_init=1e-2,
    max_iter=40,
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=8,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X_train, y_train)
print(f"epochs run: {model.n_iter_}")
print(f"best validation R^2: {model.best_validation_score_:.3f}")
print(f"test R^2: {model.score(X_test, y_test):.3f}")

display = LossCurveDisplay.from_estimator(model)
display.ax_.set_yscale("log")
plt.show()

# %%
# Comparing step sizes
# --------------------
# ``loss_curve_`` is a plain list, so curves of several fits go on one axes.
# The training loss is 0.5 x mean squared error (plus the small L2 term).
fig, ax = plt.subplots(layout="constrained")
for lr in [1e-3, 3e-3, 1e-2]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = GRURegressor(
            hidden_layer_sizes=16, learning_rate_init=lr, max_iter=20, random_state=0
        ).fit(X_train, y_train)
    ax.plot(np.arange(1, fit.n_iter_ + 1), fit.loss_curve_, label=f"lr={lr:g}")
    print(
        f"lr={lr:g}: test R^2 after {fit.n_iter_} epochs {fit.score(X_test, y_test):.3f}"
    )
ax.set(
    xlabel="epoch",
    ylabel="training loss",
    yscale="log",
    title="GRURegressor, Adam, three learning rates",
)
ax.legend()
plt.show()
