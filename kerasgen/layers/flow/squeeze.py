"""``Squeeze2D`` and ``Unsqueeze2D``: exact space-to-depth and back."""

from __future__ import annotations

import keras
from keras import ops

from kerasgen.layers.flow.flow_layer import FlowLayer, per_example


def squeeze2d(x, factor: int = 2):
    """``[B, H, W, C] → [B, H/f, W/f, f·f·C]``; each output pixel holds an f×f block, row-major."""
    _, height, width, channels = x.shape
    if height % factor or width % factor:
        raise ValueError(f"Squeeze2D needs H and W divisible by {factor}; got {height}×{width}.")
    x = ops.reshape(x, (-1, height // factor, factor, width // factor, factor, channels))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, height // factor, width // factor, factor * factor * channels))


def unsqueeze2d(x, factor: int = 2):
    """The exact inverse of ``squeeze2d``."""
    _, height, width, channels = x.shape
    x = ops.reshape(x, (-1, height, width, factor, factor, channels // (factor * factor)))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, height * factor, width * factor, channels // (factor * factor)))


@keras.saving.register_keras_serializable(package="kerasgen")
class Squeeze2D(FlowLayer):
    """Space-to-depth by ``factor`` (log-det 0); ``Unsqueeze2D`` is its inverse."""

    def __init__(self, factor: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def forward(self, x, training: bool = False):
        return squeeze2d(x, self.factor), per_example(0.0, ops.shape(x)[0])

    def inverse(self, y):
        return unsqueeze2d(y, self.factor), per_example(0.0, ops.shape(y)[0])

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        f = self.factor
        return (b, h // f, w // f, c * f * f), (b,)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="kerasgen")
class Unsqueeze2D(Squeeze2D):
    """Depth-to-space by ``factor``: ``Squeeze2D`` run backwards."""

    def forward(self, x, training: bool = False):
        return super().inverse(x)

    def inverse(self, y):
        return super().forward(y)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        f = self.factor
        return (b, h * f, w * f, c // (f * f)), (b,)
