"""``DigitClassifier``: the convnet whose features and predictions score generated digits."""

from __future__ import annotations

from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from kerasgen.batching import map_batches
from kerasgen.saving import NestedConfig
from kerasgen.validation import as_float_tensor, as_label_tensor

_IMAGE_HINT = "Pass float32 images in [0, 1] (divide uint8 pixels by 255), e.g. kerasgen.data.mnist()."


def build_digit_features(
    image_shape: tuple[int, int, int] = (28, 28, 1),
    filters: tuple[int, int] = (32, 64),
    feature_units: int = 128,
    shift: float = 0.1,
    name: str = "digit_features",
) -> keras.Model:
    """``x [B, 28, 28, 1] → features [B, feature_units]``: two conv blocks and a dense layer.

    Each block is two 3×3 ReLU convolutions and a 2×2 max-pool. ``shift`` adds a random
    translation (a fraction of the image side) that is active in training only.
    """
    inputs = keras.Input(image_shape, name="images")
    x = layers.RandomTranslation(shift, shift, fill_mode="constant")(inputs) if shift else inputs
    for width in filters:
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    features = layers.Dense(feature_units, activation="relu", name="features")(x)
    return keras.Model(inputs, features, name=name)


@keras.saving.register_keras_serializable(package="kerasgen")
class DigitClassifier(NestedConfig, keras.Model):
    """Softmax classifier on top of a feature network, trained on mean cross-entropy.

    ``loss = −(1/B) Σ_b log p(y_b | x_b)``; dropout sits between the features and the logits,
    so ``features(x)`` (used for the Fréchet distance of ``kerasgen.metrics``) is deterministic.

    Args:
        feature_network: model ``x [B, *image] → [B, F]`` (``build_digit_features()``).
        num_classes: number of classes.
        dropout: dropout rate before the logits.

    Metrics: ``loss`` and ``accuracy``.

    Example:
        >>> classifier = DigitClassifier(build_digit_features())
        >>> classifier.compile(optimizer="adam")
        >>> classifier.fit(kerasgen.data.mnist("train", with_labels=True), epochs=20)
    """

    nested_objects: ClassVar[tuple[str, ...]] = ("feature_network",)

    def __init__(self, feature_network: keras.Model, num_classes: int = 10, dropout: float = 0.3, **kwargs):
        super().__init__(**kwargs)
        self.feature_network = feature_network
        self.num_classes = int(num_classes)
        self.dropout = float(dropout)
        self.image_shape = tuple(int(d) for d in feature_network.input_shape[1:])
        self.dropout_layer = layers.Dropout(self.dropout)
        self.head = layers.Dense(self.num_classes, name="logits")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
        self.build((None, *self.image_shape))

    def build(self, input_shape=None):
        self.head.build((None, int(self.feature_network.output_shape[-1])))
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def _check_images(self, x):
        return as_float_tensor(x, self.image_shape, "DigitClassifier input images", _IMAGE_HINT)

    def call(self, inputs, training=False):
        """Class logits ``[B, num_classes]``."""
        x = self._check_images(inputs[0] if isinstance(inputs, (tuple, list)) else inputs)
        features = self.feature_network(x, training=training)
        return self.head(self.dropout_layer(features, training=training))

    def _unpack(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = self._check_images(x)
        if y is None:
            raise ValueError("DigitClassifier trains on (images, labels) pairs; got images only.")
        labels = ops.argmax(as_label_tensor(y, self.num_classes), axis=-1)
        return x, labels

    def _terms(self, x, labels, training):
        logits = ops.cast(self(x, training=training), "float32")
        cross_entropy = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        correct = ops.cast(ops.equal(ops.argmax(logits, axis=-1), ops.cast(labels, "int64")), "float32")
        return cross_entropy, correct

    def _record(self, cross_entropy, correct):
        self.loss_tracker.update_state(cross_entropy)
        self.accuracy_tracker.update_state(correct)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x, labels = self._unpack(data)
        replicas = self.distribute_strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            cross_entropy, correct = self._terms(x, labels, training=True)
            loss = ops.mean(cross_entropy)
            if self.losses:
                loss = loss + ops.cast(ops.sum(self.losses), "float32")
            loss = self.optimizer.scale_loss(loss / replicas)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self._record(cross_entropy, correct)

    def test_step(self, data):
        x, labels = self._unpack(data)
        return self._record(*self._terms(x, labels, training=False))

    # ------------------------------------------------------------------ public helpers
    def features(self, x, batch_size: int = 1000) -> np.ndarray:
        """Penultimate features ``[N, F]`` (deterministic)."""
        x = self._check_images(x)
        return map_batches(lambda b: self.feature_network(b, training=False), x, batch_size)

    def predict_proba(self, x, batch_size: int = 1000) -> np.ndarray:
        """Class probabilities ``p(y|x)`` ``[N, num_classes]``."""
        x = self._check_images(x)
        return map_batches(lambda b: ops.softmax(self(b, training=False), axis=-1), x, batch_size)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                **self.nested_config(),
                "num_classes": self.num_classes,
                "dropout": self.dropout,
            }
        )
        return config
