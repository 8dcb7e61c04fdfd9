"""``MixEmbedding``: post 6's char + word mixed embedding."""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="kerasgen")
class MixEmbedding(keras.layers.Layer):
    """``e_t = CharEmbed(c_t) + W · WordEmbed(w_t)`` (W: Dense d without bias; §6(b) of the design).

    Each character carries the id of the jieba word that contains it, so both inputs are per
    character and aligned. Id 0 is padding in both (it sets the mask); the word branch can be
    switched off (``word_vocabulary_size=0``) for the ablation.

    Args:
        char_vocabulary_size: number of char ids (0 = pad, 1 = unknown).
        word_vocabulary_size: number of word ids (0 = pad / none, 1 = unknown), or 0 for no word branch.
        output_dim: width d.
        word_dim: width of the word vectors before W.
        word_trainable: learn the word vectors (``False``: keep initial, e.g. word2vec, vectors).
    Inputs ``[chars [B, T], words [B, T]]`` (ints); output ``[B, T, d]`` with mask ``chars > 0``.
    """

    def __init__(
        self,
        char_vocabulary_size: int,
        word_vocabulary_size: int = 0,
        output_dim: int = 128,
        word_dim: int = 100,
        word_trainable: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.char_vocabulary_size, self.word_vocabulary_size = (
            int(char_vocabulary_size),
            int(word_vocabulary_size),
        )
        self.output_dim, self.word_dim, self.word_trainable = (
            int(output_dim),
            int(word_dim),
            bool(word_trainable),
        )
        self.char_embedding = layers.Embedding(
            self.char_vocabulary_size, self.output_dim, name="char_embedding"
        )
        if self.word_vocabulary_size:
            self.word_embedding = layers.Embedding(
                self.word_vocabulary_size, self.word_dim, trainable=self.word_trainable, name="word_embedding"
            )
            self.word_projection = layers.Dense(self.output_dim, use_bias=False, name="word_projection")
        else:
            self.word_embedding = self.word_projection = None

    def build(self, input_shape):
        chars_shape = tuple(input_shape[0])
        self.char_embedding.build(chars_shape)
        if self.word_embedding is not None:
            self.word_embedding.build(chars_shape)
            self.word_projection.build((*chars_shape, self.word_dim))

    def call(self, inputs):
        chars, words = inputs
        e = self.char_embedding(chars)
        if self.word_embedding is not None:
            e = e + self.word_projection(self.word_embedding(words))
        return e

    def compute_mask(self, inputs, mask=None):
        return ops.greater(inputs[0], 0)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0]), self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "char_vocabulary_size": self.char_vocabulary_size,
            "word_vocabulary_size": self.word_vocabulary_size,
            "output_dim": self.output_dim,
            "word_dim": self.word_dim,
            "word_trainable": self.word_trainable,
        }
