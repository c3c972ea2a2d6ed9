"""Echo state reservoir kernel: leaky tanh units on cyclic diagonals (typing stub)."""

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32] | NDArray[np.float64]

def run(
    U: Float,
    lengths: NDArray[np.int32],
    W_in: Float,
    bias: Float,
    W_data: Float,
    W_offsets: NDArray[np.int32],
    leak: float,
    X0: Float,
    Xs: Float,
    work: Float,
    n_threads: int,
) -> None: ...
