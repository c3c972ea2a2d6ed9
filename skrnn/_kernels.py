"""The cell kernels this machine runs.

On x86-64 each cell kernel (``_elman``, ``_gru``, ``_lstm``) is compiled twice
from the same source (src/meson.build): for any x86-64 CPU (SSE2), and for
x86-64-v3 (AVX2 and FMA: twice the SIMD lanes, fused multiply-adds). The
second build is used where the CPU has it. The two builds agree to rounding
(a fused multiply-add rounds once, not twice), so a model's predictions may
differ in the last bits between machines; on one machine they stay
bit-identical for any ``n_jobs``.

The environment variable ``SKRNN_KERNELS=baseline``, read at import, keeps the
portable build everywhere (to compare results across machines).
"""

import importlib
import os

__all__ = ["VARIANT", "elman", "gru", "lstm"]


def _variant():
    from . import _elman

    choice = os.environ.get("SKRNN_KERNELS", "auto")
    if choice not in ("auto", "baseline"):
        raise ImportError(
            f"SKRNN_KERNELS must be 'auto' or 'baseline', got {choice!r}."
        )
    if choice == "baseline" or not _elman.cpu_has_x86_64_v3():
        return "baseline"
    try:
        importlib.import_module("skrnn._elman_v3")
    except ImportError:  # built without it (another architecture or compiler)
        return "baseline"
    return "x86-64-v3"


VARIANT = _variant()


def _load(name):
    suffix = "_v3" if VARIANT == "x86-64-v3" else ""
    return importlib.import_module(f"skrnn.{name}{suffix}")


elman = _load("_elman")
gru = _load("_gru")
lstm = _load("_lstm")
