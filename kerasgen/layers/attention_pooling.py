"""``AttentionPooling1D``: post 6's additive attention pooling over a masked sequence."""

from __future__ import annotations

import keras
from keras import layers, ops

MASKED_SCORE = -1e9  # float32-safe large negative (−1e12 overflows float16)


@keras.saving.register_keras_serializable(package="kerasgen")
class AttentionPooling1D(keras.layers.Layer):
    """``Σ_t softmax(a)_t h_t`` with ``a_t = vᵀ tanh(W h_t)`` (W and v without bias; post 6).

    Padded positions get a score of −1e9 before the softmax, so they receive no weight.
    ``attention_weights(h, mask)`` returns the attention weights ``[B, T]`` (for plots).

    Input ``[B, T, D]`` and a ``[B, T]`` mask; output ``[B, D]``.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        width = int(input_shape[-1])
        self.hidden = layers.Dense(width, use_bias=False, activation="tanh", name="hidden")
        self.score = layers.Dense(1, use_bias=False, name="score")
        self.hidden.build(input_shape)
        self.score.build((*input_shape[:-1], width))

    def attention_weights(self, h, mask=None):
        """Softmax weights ``[B, T]`` over the real positions."""
        scores = ops.cast(ops.squeeze(self.score(self.hidden(h)), -1), "float32")
        if mask is not None:
            scores = ops.where(ops.cast(mask, "bool"), scores, MASKED_SCORE)
        return ops.softmax(scores, axis=-1)

    def call(self, h, mask=None):
        weights = ops.cast(self.attention_weights(h, mask), h.dtype)
        return ops.sum(h * weights[..., None], axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])
