"""``ElementwiseAffine``: a learned affine map of every entry, Glow's learned top prior."""

from __future__ import annotations

import keras
from keras import ops

from kerasgen.layers.flow.flow_layer import FlowLayer, per_example


@keras.saving.register_keras_serializable(package="kerasgen")
class ElementwiseAffine(FlowLayer):
    """``y = exp(log s) ⊙ x + b`` with one ``(log s, b)`` per entry of the event; ``log|det| = Σ log s``.

    Followed by a ``N(0, I)`` prior this is a learned diagonal Gaussian ``N(−b/s, 1/s²)`` on x: the
    "learned top prior" of the Glow reference code (``--learntop``), which lets the top-level
    codes of an always-blank border have a small variance where a per-channel ``ActNorm`` cannot.
    Zero-initialised, so it starts as the identity.
    """

    def build(self, input_shape):
        event_shape = tuple(int(d) for d in input_shape[1:])
        self.log_scale = self.add_weight(shape=event_shape, initializer="zeros", name="log_scale")
        self.shift = self.add_weight(shape=event_shape, initializer="zeros", name="shift")

    def forward(self, x, training: bool = False):
        y = x * ops.cast(ops.exp(self.log_scale), x.dtype) + ops.cast(self.shift, x.dtype)
        return y, per_example(ops.sum(self.log_scale), ops.shape(x)[0])

    def inverse(self, y):
        x = (y - ops.cast(self.shift, y.dtype)) * ops.cast(ops.exp(-self.log_scale), y.dtype)
        return x, per_example(-ops.sum(self.log_scale), ops.shape(y)[0])
