"""``DilatedGatedConv1D``: post 6's residual gated convolution (DGCNN)."""

from __future__ import annotations

import keras
from keras import layers, ops


def _as_mask(mask, dtype):
    """``[B, T]`` boolean/0-1 mask → ``[B, T, 1]`` float of ``dtype`` (None stays None)."""
    return None if mask is None else ops.cast(mask, dtype)[..., None]


@keras.saving.register_keras_serializable(package="kerasgen")
class DilatedGatedConv1D(keras.layers.Layer):
    """``Y = (X ⊙ (1 − σ) + H ⊙ σ) ⊙ m``, ``[H ; G] = Conv1D_{2d, k, rate}(X ⊙ m)``, ``σ = sigmoid(drop(G))``.

    Post 6 (§6(b) of the design): information passes unchanged with probability ``1 − σ``, as a
    highway or GRU gate. Dropout acts on the *pre-sigmoid* gate logits (inverted dropout). Padded
    positions (``mask`` 0) are zeroed before the convolution and after the block, so they never
    change a real position's output. When ``filters`` differs from the input width, X goes through
    a bias-free 1×1 convolution first.

    Args:
        filters: output width d (default: the input width).
        kernel_size: convolution width (3 in the post).
        dilation_rate: the dilation r.
        dropout: rate of the gate dropout (0.1 in the post).
    Input ``[B, T, D]`` (and a ``[B, T]`` mask, passed or propagated); output ``[B, T, d]``.
    """

    def __init__(
        self,
        filters: int | None = None,
        kernel_size: int = 3,
        dilation_rate: int = 1,
        dropout: float = 0.1,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.dilation_rate = filters, int(kernel_size), int(dilation_rate)
        self.dropout, self.seed = float(dropout), seed
        self.supports_masking = True

    def build(self, input_shape):
        width = int(input_shape[-1])
        self.width = int(self.filters or width)
        self.project = (
            layers.Conv1D(self.width, 1, use_bias=False, name="project") if self.width != width else None
        )
        self.conv = layers.Conv1D(
            2 * self.width, self.kernel_size, padding="same", dilation_rate=self.dilation_rate, name="conv"
        )
        self.gate_dropout = layers.Dropout(self.dropout, seed=self.seed, name="gate_dropout")
        if self.project is not None:
            self.project.build(input_shape)
        self.conv.build(input_shape)

    def call(self, x, mask=None, training=False):
        m = _as_mask(mask, x.dtype)
        if m is not None:
            x = x * m
        if self.project is not None:
            x = self.project(x)
        h, g = ops.split(self.conv(x), 2, axis=-1)
        sigma = ops.sigmoid(self.gate_dropout(g, training=training))
        y = x * (1.0 - sigma) + h * sigma
        return y if m is None else y * m

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], int(self.filters or input_shape[-1]))

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "dilation_rate": self.dilation_rate,
            "dropout": self.dropout,
            "seed": self.seed,
        }
