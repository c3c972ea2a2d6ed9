"""GRU layer kernel: forward pass and backpropagation through time (typing stub).

Arrays are C-contiguous, all float32 or all float64, in the chunked layout of
skrnn._layout: (n_chunks, T, S, width).
"""

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32] | NDArray[np.float64]

def forward(
    X: Float,
    lengths: NDArray[np.int32],
    W_ih: Float,
    W_hh: Float,
    b_ih: Float,
    b_hh: Float,
    Hs: Float,
    cache: Float,
    activation: int,
    n_threads: int,
    leak_rate: float = 1.0,
    skip_steps: int = 0,
    W_skip: Float | None = None,
    cell_out: Float | None = None,
    state_decay: Float | None = None,
    decayed: Float | None = None,
    recurrent_mask: Float | None = None,
    masked: Float | None = None,
) -> None: ...
def infer(
    X: Float,
    lengths: NDArray[np.int32],
    W_ih: Float,
    W_hh: Float,
    b_ih: Float,
    b_hh: Float,
    Hs: Float,
    last: Float,
    activation: int,
    n_threads: int,
    leak_rate: float = 1.0,
    skip_steps: int = 0,
    W_skip: Float | None = None,
    state_decay: Float | None = None,
) -> None: ...
def backward(
    X: Float,
    lengths: NDArray[np.int32],
    W_ih: Float,
    W_hh: Float,
    Hs: Float,
    cache: Float,
    dHs: Float,
    dX: Float,
    dW_ih: Float,
    dW_hh: Float,
    db_ih: Float,
    db_hh: Float,
    dA: Float,
    step_sq_norms: Float,
    activation: int,
    bptt_steps: int,
    n_threads: int,
    leak_rate: float = 1.0,
    skip_steps: int = 0,
    W_skip: Float | None = None,
    cell_out: Float | None = None,
    dW_skip: Float | None = None,
    state_decay: Float | None = None,
    decayed: Float | None = None,
    decay_grad: Float | None = None,
    recurrent_mask: Float | None = None,
    masked: Float | None = None,
) -> None: ...
def cpu_has_x86_64_v3() -> bool: ...
def cpu_has_x86_64_v4() -> bool: ...
def small_forward_rows(H: int) -> int: ...
def small_product(
    a: Float,
    b: Float,
    c: Float,
    accumulate: bool,
    a2: Float | None = ...,
    b2: Float | None = ...,
    row0: Float | None = ...,
    trans: bool = ...,
    repeat: int = ...,
    blas: bool = ...,
) -> None: ...
