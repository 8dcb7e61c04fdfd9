"""A bias-corrected exponential moving average of a model's weights (post 6's DGCNN evaluates with it)."""

from __future__ import annotations

import contextlib

import keras
from keras import ops


class WeightAverage:
    """Shadow copies ``s`` of ``variables``, updated after each step as ``s ← m s + (1 − m) w``.

    The shadows start at zero and :meth:`averages` returns ``s / (1 − m^t)`` after t updates: the
    debiased average of the visited weights (TensorFlow's ``zero_debias``, which the author's
    Keras 2.2.4 used), so early steps carry no weight from the initialisation. Keras 3's
    ``use_ema`` starts from a copy of the first weights instead, which with m = 0.9999 and a few
    thousand steps still holds most of the initial values.

    The shadows and the step count are non-trainable weights of ``owner`` (created by
    :meth:`build`), so checkpoints and ``.keras`` files keep them.
    """

    def __init__(self, momentum: float = 0.999):
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"EMA momentum must be in [0, 1), got {momentum}.")
        self.momentum = float(momentum)
        self.variables: list = []
        self.shadows: list = []
        self.count = None

    def build(self, owner: keras.layers.Layer, variables) -> None:
        """Create one zero shadow per variable, and the update count, as weights of ``owner``."""
        self.variables = list(variables)
        self.shadows = [
            owner.add_weight(
                shape=v.shape,
                initializer="zeros",
                trainable=False,
                name=f"ema_{v.path.replace('/', '_')}",
                aggregation="only_first_replica",
            )
            for v in self.variables
        ]
        self.count = owner.add_weight(
            shape=(), initializer="zeros", trainable=False, name="ema_count", aggregation="only_first_replica"
        )

    def update(self) -> None:
        """One step of the average (call after the optimizer step)."""
        m = self.momentum
        for shadow, variable in zip(self.shadows, self.variables, strict=True):
            shadow.assign(m * shadow + (1.0 - m) * ops.cast(variable, shadow.dtype))
        self.count.assign_add(1.0)

    def averages(self) -> list:
        """The debiased averages ``s / (1 − m^t)`` (the raw weights before any update)."""
        t = ops.convert_to_numpy(self.count)
        if t == 0:
            return [ops.convert_to_numpy(v) for v in self.variables]
        correction = 1.0 - self.momentum ** float(t)
        return [ops.convert_to_numpy(s) / correction for s in self.shadows]

    def assign_averages(self) -> None:
        """Overwrite the weights with their averages (for export)."""
        for variable, value in zip(self.variables, self.averages(), strict=True):
            variable.assign(value)

    @contextlib.contextmanager
    def swapped_in(self):
        """Use the averages inside the ``with`` block, then restore the raw weights."""
        raw = [ops.convert_to_numpy(v) for v in self.variables]
        self.assign_averages()
        try:
            yield
        finally:
            for variable, value in zip(self.variables, raw, strict=True):
                variable.assign(value)
