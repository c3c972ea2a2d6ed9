"""The cell kernels this machine runs.

On x86-64 each cell kernel (``_elman``, ``_gru``, ``_lstm``) is compiled three
times from the same source (src/meson.build): for any x86-64 CPU (SSE2), for
x86-64-v3 (AVX2 and FMA: twice the SIMD lanes, fused multiply-adds) and for
x86-64-v4 (AVX-512: twice again). The widest build the CPU runs is used. The
builds agree to rounding (a fused multiply-add rounds once, not twice; wider
vectors change no sum's order but the tail of a row), so a model's
predictions may differ in the last bits between machines; on one machine they
stay bit-identical for any ``n_jobs``.

The environment variable ``SKRNN_KERNELS``, read at import, caps the build:
``baseline`` keeps the portable one everywhere (to compare results across
machines), ``x86-64-v3`` stops at AVX2.
"""

import importlib
import os

__all__ = ["VARIANT", "elman", "gru", "lstm"]

# widest first: (variant, module suffix, the CPU check's name)
_LEVELS = [
    ("x86-64-v4", "_v4", "cpu_has_x86_64_v4"),
    ("x86-64-v3", "_v3", "cpu_has_x86_64_v3"),
]
_CHOICES = ("auto", "baseline", "x86-64-v3")


def _variant():
    """The build to load, as (variant, module suffix)."""
    from . import _elman

    choice = os.environ.get("SKRNN_KERNELS", "auto")
    if choice not in _CHOICES:
        raise ImportError(
            "SKRNN_KERNELS must be one of "
            f"{', '.join(repr(c) for c in _CHOICES)}, got {choice!r}."
        )
    # a cap starts the search at its own level; 'baseline' is below every one
    names = [variant for variant, _, _ in _LEVELS]
    start = names.index(choice) if choice in names else 0
    levels = [] if choice == "baseline" else _LEVELS[start:]
    for variant, suffix, check in levels:
        if not getattr(_elman, check)():
            continue
        try:
            importlib.import_module(f"skrnn._elman{suffix}")
        except ImportError:  # built without it (another architecture or compiler)
            continue
        return variant, suffix
    return "baseline", ""


VARIANT, _SUFFIX = _variant()


def _load(name):
    return importlib.import_module(f"skrnn.{name}{_SUFFIX}")


elman = _load("_elman")
gru = _load("_gru")
lstm = _load("_lstm")
