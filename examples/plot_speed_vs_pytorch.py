"""
===============================
Speed against PyTorch on a CPU
===============================

The time skrnn takes to train and to predict, divided by the time of the
same model in PyTorch (``torch.nn.RNN`` / ``LSTM`` / ``GRU`` and a linear
read-out, its fused oneDNN kernels), read from the benchmark's saved results
(``benchmarks/RESULTS.md``; PyTorch does not run when these pages are built).
Below 1, skrnn is faster.

Settings of the benchmark (``python benchmarks/bench_speed.py --batches 64
200 --threads 2 --no-memory --no-curve``): 2048 sequences x 50 steps x 8
features, sequence-to-one regression, train = 3 epochs of Adam, predict = the
2048 sequences, minibatches of 64 and 200, both sides on 2 threads, medians of
3 interleaved repeats, on a 2-core AMD EPYC (AVX-512) with PyTorch 2.13.0
(CPU build). The header of the data file gives the date and commit.
"""

# %%
# The saved figures
# -----------------
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

try:
    here = Path(__file__).resolve().parent
except NameError:  # run cell by cell in a notebook from examples/
    here = Path.cwd()
results = pd.read_csv(
    here.parent / "doc" / "benchmark_data" / "speed_vs_pytorch.csv", comment="#"
)
results["train"] = results["skrnn_train_s"] / results["torch_train_s"]
results["predict"] = results["skrnn_predict_s"] / results["torch_predict_s"]
print(results[["model", "dtype", "batch", "train", "predict"]].round(2).to_string())

# %%
# Time ratios, skrnn / PyTorch
# ----------------------------
# One panel per dtype; for each model, train and predict at minibatch 64 and
# 200. The dashed line is parity.
models = list(dict.fromkeys(results["model"]))
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True, layout="constrained")
x = np.arange(len(models))
width = 0.2
for ax, dtype in zip(axes, ["float32", "float64"], strict=True):
    part = results[results["dtype"] == dtype]
    bars = [(what, batch) for what in ("train", "predict") for batch in (64, 200)]
    for i, (what, batch) in enumerate(bars):
        rows = part[part["batch"] == batch].set_index("model").loc[models]
        ax.bar(x + (i - 1.5) * width, rows[what], width, label=f"{what}, batch {batch}")
    ax.axhline(1.0, color="k", linestyle="--", linewidth=1)
    ax.set_xticks(x, models, rotation=30)
    ax.set_title(dtype)
axes[0].set_ylabel("skrnn time / PyTorch time (lower is better)")
axes[1].legend(fontsize=8)
plt.show()

# %%
# What the figures say
# --------------------
# The ratios are those of one run on one machine (see the data file's header);
# ``benchmarks/RESULTS.md`` gives them beside the spread of the repeats, the
# GFLOP/s of the forward pass and a NumPy GEMM of the same run, and what bounds
# the cases where skrnn is not faster.
