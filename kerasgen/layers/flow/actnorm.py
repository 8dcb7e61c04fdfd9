"""``ActNorm``: per-channel affine normalisation (Glow)."""

from __future__ import annotations

import keras
from keras import ops

from kerasgen.layers.flow.flow_layer import FlowLayer, per_example, spatial_size


@keras.saving.register_keras_serializable(package="kerasgen")
class ActNorm(FlowLayer):
    """``y = exp(log s) ⊙ x + b`` per channel; ``log|det| = (H·W) Σ_c log s_c`` (Kingma & Dhariwal 2018).

    The author's flows start from the identity (``log s = b = 0``). With ``data_init=True`` the first
    batch passed through ``initialize(x)`` sets ``b`` and ``log s`` so that its output has zero mean
    and unit variance per channel (the Glow paper's data-dependent initialisation); the flag is a
    saved weight, so a reloaded model is never re-initialised.

    Args:
        data_init: use data-dependent initialisation (call ``initialize`` on a first batch).
        use_shift: learn ``b`` (``False``: a pure scale, as f-VAE's σ layers).
    """

    def __init__(self, data_init: bool = False, use_shift: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.data_init = bool(data_init)
        self.use_shift = bool(use_shift)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.log_scale = self.add_weight(shape=(channels,), initializer="zeros", name="log_scale")
        self.shift = (
            self.add_weight(shape=(channels,), initializer="zeros", name="shift") if self.use_shift else None
        )
        self.initialized = self.add_weight(shape=(), initializer="zeros", trainable=False, name="initialized")

    def initialize(self, x, eps: float = 1e-6):
        """Data-dependent initialisation on ``x`` (eager): its output gets zero mean, unit variance."""
        if not self.built:
            self.build(x.shape)
        axes = tuple(range(len(x.shape) - 1))
        x = ops.cast(x, "float32")
        mean = ops.mean(x, axis=axes)
        std = ops.sqrt(ops.var(x, axis=axes) + eps)
        self.log_scale.assign(-ops.log(std))
        if self.use_shift:
            self.shift.assign(-mean / std)
        self.initialized.assign(1.0)

    def forward(self, x, training: bool = False):
        y = x * ops.cast(ops.exp(self.log_scale), x.dtype)
        if self.use_shift:
            y = y + ops.cast(self.shift, x.dtype)
        log_det = spatial_size(x) * ops.sum(self.log_scale)
        return y, per_example(log_det, ops.shape(x)[0])

    def inverse(self, y):
        x = y - ops.cast(self.shift, y.dtype) if self.use_shift else y
        x = x * ops.cast(ops.exp(-self.log_scale), y.dtype)
        log_det = -spatial_size(y) * ops.sum(self.log_scale)
        return x, per_example(log_det, ops.shape(y)[0])

    def get_config(self):
        return {**super().get_config(), "data_init": self.data_init, "use_shift": self.use_shift}
