"""``AffineCoupling``: split the channels, transform one half given the other."""

from __future__ import annotations

import keras
from keras import layers, ops

from kerasgen.layers.flow.flow_layer import FlowLayer, per_example


def coupling_network(
    input_rank: int, hidden: int, outputs: int, depth: int = 2, name: str = "nn"
) -> keras.Sequential:
    """The coupling's NN: Glow's Conv3×3 → ReLU → Conv1×1 → ReLU → Conv3×3 (zero-init) for images,
    or NICE's Dense ReLU stack with a zero-init output for vectors (``depth`` hidden layers)."""
    if input_rank == 4:
        stack = [
            layers.Conv2D(hidden, 3, padding="same", activation="relu"),
            layers.Conv2D(hidden, 1, activation="relu"),
            layers.Conv2D(outputs, 3, padding="same", kernel_initializer="zeros"),
        ]
    else:
        stack = [layers.Dense(hidden, activation="relu") for _ in range(depth)]
        stack.append(layers.Dense(outputs, kernel_initializer="zeros"))
    return keras.Sequential(stack, name=name)


@keras.saving.register_keras_serializable(package="kerasgen")
class AffineCoupling(FlowLayer):
    """``x = [x_a, x_b]`` along channels; ``y = [x_a, s ⊙ x_b + t]`` with ``(ŝ, t) = NN(x_a)``.

    - ``additive=True``: ``s = 1`` (NICE; the author's Glow and f-VAE flow), ``log|det| = 0``;
    - ``additive=False``: ``s = sigmoid(ŝ + 2)`` (Glow), ``log|det| = Σ log s`` per example.

    NN's last layer is zero-initialised, so the coupling starts as the identity. It is a conv net
    for images ``[B, H, W, C]`` and an MLP for vectors ``[B, C]`` (NICE).

    Args:
        hidden: width of NN's hidden layers.
        additive: additive instead of affine coupling.
        depth: hidden layers of the MLP (vectors only).
    """

    def __init__(self, hidden: int = 64, additive: bool = False, depth: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.hidden = int(hidden)
        self.additive = bool(additive)
        self.depth = int(depth)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        if channels < 2:
            raise ValueError(f"AffineCoupling needs at least 2 channels to split; got {channels}.")
        self.split = channels // 2
        transformed = channels - self.split
        self.network = coupling_network(
            len(input_shape), self.hidden, transformed * (1 if self.additive else 2), self.depth
        )
        self.network.build((*input_shape[:-1], self.split))

    def _scale_shift(self, x_a):
        out = self.network(x_a)
        if self.additive:
            return None, out
        raw, shift = ops.split(out, 2, axis=-1)
        return ops.sigmoid(ops.cast(raw, "float32") + 2.0), shift

    def _log_det(self, scale, batch):
        if scale is None:
            return per_example(0.0, batch)
        return ops.sum(ops.reshape(ops.log(scale), (batch, -1)), axis=-1)

    def forward(self, x, training: bool = False):
        x_a, x_b = x[..., : self.split], x[..., self.split :]
        scale, shift = self._scale_shift(x_a)
        y_b = x_b + shift if scale is None else x_b * ops.cast(scale, x.dtype) + shift
        return ops.concatenate([x_a, y_b], axis=-1), self._log_det(scale, ops.shape(x)[0])

    def inverse(self, y):
        y_a, y_b = y[..., : self.split], y[..., self.split :]
        scale, shift = self._scale_shift(y_a)
        x_b = y_b - shift if scale is None else (y_b - shift) / ops.cast(scale, y.dtype)
        return ops.concatenate([y_a, x_b], axis=-1), -self._log_det(scale, ops.shape(y)[0])

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "additive": self.additive, "depth": self.depth}
