"""
==============================
Training speed against PyTorch
==============================

Seconds per training epoch of skrnn's recurrent networks and of the
equivalent ``torch.nn`` modules, read from the benchmark's saved results
(``benchmarks/RESULTS.md``; PyTorch does not run when these pages are built).

Settings of the benchmark (``python benchmarks/bench_speed.py --repeats 5``):
one epoch of Adam on 2048 sequences x 50 steps x 8 features, hidden 32,
minibatches of 200, sequence-to-one regression, float64, median of 5
interleaved runs, both sides on the same number of threads, on a 2-core AMD
EPYC with PyTorch 2.13.0 (CPU build).
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
print(results.to_string(index=False))

# %%
# Seconds per epoch
# -----------------
# One group of bars per cell and thread count: skrnn's epoch is the shorter
# one in every case, by the ratio printed above each pair.
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
labels = [
    f"{c.upper()}\n{t} thread{'s' if t > 1 else ''}"
    for c, t in zip(results["cell"], results["threads"], strict=True)
]
x = np.arange(len(results))
width = 0.38
ax.bar(x - width / 2, results["skrnn_s"], width, label="skrnn")
ax.bar(x + width / 2, results["torch_s"], width, label="PyTorch 2.13 (CPU)")
for xi, (top, ratio) in enumerate(
    zip(
        results[["skrnn_s", "torch_s"]].max(axis=1),
        results["torch_over_skrnn"],
        strict=True,
    )
):
    ax.annotate(
        f"{ratio:.2f}x",
        (xi, top),
        xytext=(0, 3),
        textcoords="offset points",
        ha="center",
        fontsize=9,
    )
ax.set_xticks(x, labels)
ax.set_ylim(top=1.12 * results["torch_s"].max())
ax.set_ylabel("seconds per epoch (lower is better)")
ax.set_title("One Adam epoch, 2048 x 50 steps x 8 features, hidden 32, float64")
ax.legend()
plt.show()

# %%
# What the figures say
# --------------------
# skrnn was 1.8-2.3x faster on one thread and 2.4-3.6x on two. The LSTM and GRU
# kernels scale 2.1x and 1.5x from one to two threads; the Elman epoch is
# mostly Python and read-out work at this size, so two threads gain little.
