"""Input checks that turn shape and dtype mistakes into errors that say what to do."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from keras import ops


def _dtype_name(value) -> str:
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return type(value).__name__
    return getattr(dtype, "name", str(dtype))


def as_float_tensor(value, expected_shape: Sequence[int | None], name: str, hint: str = ""):
    """Check that ``value`` is a floating array shaped ``[B, *expected_shape]`` and return it.

    Raises:
        ValueError: naming ``name``, the expected shape and dtype, what was given, and ``hint``.
    """
    expected = "(batch, " + ", ".join(str(d) for d in expected_shape) + ")"
    dtype = _dtype_name(value)
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
        dtype = value.dtype.name
    if not (dtype.startswith("float") or dtype.startswith("bfloat")):
        raise ValueError(
            f"{name} must be a floating-point tensor shaped {expected}; got dtype {dtype}. {hint}"
        )
    shape = tuple(getattr(value, "shape", ()))
    ok = len(shape) == len(expected_shape) + 1 and all(
        want is None or got is None or int(got) == int(want)
        for got, want in zip(shape[1:], expected_shape, strict=True)
    )
    if not ok:
        raise ValueError(f"{name} must be shaped {expected}; got {tuple(shape)}. {hint}".rstrip())
    return ops.convert_to_tensor(value)


def as_label_tensor(labels, num_classes: int, name: str = "labels"):
    """Integer labels ``[B]`` or one-hot ``[B, num_classes]`` → float one-hot ``[B, num_classes]``."""
    shape = tuple(getattr(labels, "shape", np.shape(labels)))
    dtype = _dtype_name(labels) if hasattr(labels, "dtype") else np.asarray(labels).dtype.name
    if len(shape) == 1 and ("int" in dtype):
        return ops.one_hot(ops.cast(labels, "int32"), num_classes)
    if len(shape) == 2 and shape[-1] in (None, num_classes) and "float" in dtype:
        return ops.convert_to_tensor(labels)
    if len(shape) == 2 and shape[-1] == 1 and "int" in dtype:
        return ops.one_hot(ops.cast(ops.squeeze(labels, -1), "int32"), num_classes)
    raise ValueError(
        f"{name} must be integer class ids shaped (batch,) or float one-hot shaped "
        f"(batch, {num_classes}); got dtype {dtype} shaped {shape}."
    )
