"""``FlowLayer``: the bijector contract every flow layer follows (forward, inverse, per-example log-det)."""

from __future__ import annotations

import keras
from keras import ops


def spatial_size(x) -> int:
    """Positions sharing one channel's parameters: ``H·W`` for ``[B, H, W, C]``, 1 for ``[B, C]``."""
    size = 1
    for dim in x.shape[1:-1]:
        size *= int(dim)
    return size


def per_example(value, batch_size):
    """Broadcast a scalar log-det to ``[B]`` float32."""
    return ops.cast(value, "float32") * ops.ones((batch_size,), "float32")


class FlowLayer(keras.layers.Layer):
    """A bijection ``y = f(x)``: ``forward(x) → (y, log|det ∂y/∂x|)``, ``inverse(y) → (x, log|det ∂x/∂y|)``.

    Log-determinants are per example (``[B]``, float32), as in ``tfp.bijectors``'
    ``forward_log_det_jacobian`` with the event being everything but the batch axis.
    ``call(x, inverse=False)`` dispatches to the two.
    """

    def forward(self, x, training: bool = False):
        raise NotImplementedError

    def inverse(self, y):
        raise NotImplementedError

    def call(self, x, inverse: bool = False, training: bool = False):
        return self.inverse(x) if inverse else self.forward(x, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape, (input_shape[0],)
