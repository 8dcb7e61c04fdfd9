"""``OCRCharClassifier``: post 1's single-character CNN with frequency class weights, and a stronger one."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from kerasgen.batching import map_batches
from kerasgen.models.classifier.digit_classifier import DigitClassifier
from kerasgen.validation import as_float_tensor

GLYPH_SHAPE = (48, 48, 1)
LANGUAGE_MODEL_FILE = "language_model.npz"
_GLYPH_HINT = (
    "Pass float32 glyphs in [0, 1] shaped (batch, 48, 48, 1), ink = 1, made by "
    "kerasgen.data.glyphs.normalise_glyph (top-left aligned, as in training)."
)


def build_post_features(name: str = "post_cnn") -> keras.Model:
    """Post 1's CNN up to its hidden layer: ``[B, 48, 48, 1] → [B, 1024]``.

    Conv(64, 4×4, valid) → ReLU → MaxPool 2 → Dropout .25 → Conv(64, 4×4, valid) → ReLU →
    MaxPool 2 → Dropout .25 → Flatten (9·9·64 = 5184) → Dense 1024 ReLU. Its Dropout .5 before
    the softmax is the classifier's ``dropout``.
    """
    inputs = keras.Input(GLYPH_SHAPE, name="glyphs")
    x = inputs
    for _ in range(2):
        x = layers.Conv2D(64, 4, activation="relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    features = layers.Dense(1024, activation="relu", name="features")(x)
    return keras.Model(inputs, features, name=name)


def build_glyph_features(
    filters: tuple[int, ...] = (32, 64, 128, 256), feature_units: int = 512, name: str = "glyph_cnn"
) -> keras.Model:
    """The stronger default: ``[B, 48, 48, 1] → [B, feature_units]``, about the post's arithmetic.

    A 5×5 stem and 3×3 convolutions, each followed by group normalisation (8 groups), ReLU and
    2×2 max-pooling (48 → 24 → 12 → 6 → 3), then flatten (3·3·256) → Dense ``feature_units`` →
    layer norm → ReLU. The normalisations are per glyph, not per batch, so a glyph reads the same
    alone or in a batch and two replicas train exactly like one device. Four normalised
    convolutions instead of the post's two, with a third of its parameters (the post's 5184 × 1024
    hidden layer is most of its 12 M).
    """
    inputs = keras.Input(GLYPH_SHAPE, name="glyphs")
    x = inputs
    for depth, width in enumerate(filters):
        x = layers.Conv2D(width, 5 if depth == 0 else 3, padding="same", use_bias=False)(x)
        x = layers.GroupNormalization(groups=min(8, width))(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(feature_units, use_bias=False)(x)
    x = layers.LayerNormalization()(x)
    features = layers.ReLU(name="features")(x)
    return keras.Model(inputs, features, name=name)


def post_class_weights(num_classes: int) -> np.ndarray:
    """Post 1's weights ``w_i = (2 − i/N)³`` for frequency rank ``i`` of ``N``, normalised to mean 1.

    Frequent characters (small ``i``) weigh up to 8× the rarest; the post motivates it with
    look-alikes such as 日/曰, where the frequent one should win a tie.
    """
    weights = (2.0 - np.arange(num_classes) / num_classes) ** 3
    return (weights / weights.mean()).astype("float32")


@keras.saving.register_keras_serializable(package="kerasgen")
class OCRCharClassifier(DigitClassifier):
    """Single-character classifier over a frequency-ordered ``charset``, trained on class-weighted CE.

    ``loss = (1/B) Σ_b w_{y_b} · (−log p(y_b | x_b))`` with ``w`` from :func:`post_class_weights`
    when ``class_weighting="post"`` (post 1), or ``w ≡ 1`` for ``None``. The weights are applied in
    ``train_step`` (not through ``fit(class_weight=...)``), so they travel with the model.

    Args:
        feature_network: ``[B, 48, 48, 1] → [B, F]``: :func:`build_post_features` (faithful) or
            :func:`build_glyph_features` (default).
        charset: the classes, most frequent first (``kerasgen.data.glyphs.ocr_charset()``).
        dropout: dropout before the softmax (the post's 0.5).
        class_weighting: ``"post"`` or ``None``.
        inference_precision: how :meth:`predict_proba`, :meth:`top_k` and :meth:`read` compute the
            convolutions: ``"float32"`` (the default: the same numbers as ``model(x)``), ``"bfloat16"``
            (faster on a CPU with native bfloat16, slightly different probabilities), or ``"auto"``
            (bfloat16 where native); see :mod:`kerasgen.models.ocr.inference`. Training and
            ``model(x)`` are unaffected.

    Metrics: ``loss`` (weighted) and ``accuracy``.
    """

    def __init__(
        self,
        feature_network: keras.Model,
        charset,
        dropout: float = 0.5,
        class_weighting: str | None = "post",
        inference_precision: str = "float32",
        **kwargs,
    ):
        charset = [str(c) for c in charset]
        if not charset or len(set(charset)) != len(charset):
            raise ValueError("charset must be a non-empty list of distinct characters, most frequent first.")
        from kerasgen.models.ocr.inference import resolve_precision

        resolve_precision(inference_precision)  # refuses unknown names here rather than at reading time
        if class_weighting not in ("post", None):
            raise ValueError(f"class_weighting must be 'post' or None, got {class_weighting!r}.")
        kwargs.pop("num_classes", None)
        super().__init__(feature_network, num_classes=len(charset), dropout=dropout, **kwargs)
        self.charset = charset
        self.class_weighting = class_weighting
        self.inference_precision = inference_precision
        weights = post_class_weights(len(charset)) if class_weighting else np.ones(len(charset), "float32")
        self.class_weights = ops.convert_to_tensor(weights)
        self.index = {c: i for i, c in enumerate(charset)}
        self._traced = {}  # (kind, precision) → traced inference function, made on first use
        self.language_model = None  # attached with ``attach_language_model``; saved as an asset

    def _check_images(self, x):
        return as_float_tensor(x, self.image_shape, "OCRCharClassifier input glyphs", _GLYPH_HINT)

    def _terms(self, x, labels, training):
        cross_entropy, correct = super()._terms(x, labels, training)
        return cross_entropy * ops.take(self.class_weights, ops.cast(labels, "int32")), correct

    def _inference(self, kind: str, k: int = 0):
        from kerasgen.models.ocr import inference

        key = (kind, k, inference.resolve_precision(self.inference_precision))
        if key not in self._traced:
            if kind == "probabilities":
                self._traced[key] = inference.probability_function(self, key[2])
            else:
                self._traced[key] = inference.top_k_function(self, k, key[2])
        return self._traced[key]

    def predict_proba(self, x, batch_size: int = 512) -> np.ndarray:
        """Class probabilities ``[N, len(charset)]``, through one traced function (no retracing)."""
        x = self._check_images(x)
        return map_batches(self._inference("probabilities"), x, batch_size)

    def top_k(self, glyphs, k: int = 5, batch_size: int = 512) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable characters of each glyph, ``[(char, probability), ...]`` best first."""
        glyphs = self._check_images(glyphs)
        if int(glyphs.shape[0]) == 0:
            return []
        probabilities, ids = map_batches(self._inference("top_k", k), glyphs, batch_size)
        charset = self.charset
        return [
            [(charset[j], float(p)) for j, p in zip(row_ids, row, strict=True)]
            for row_ids, row in zip(ids.tolist(), probabilities.tolist(), strict=True)
        ]

    def attach_language_model(self, language_model) -> None:
        """Use ``language_model`` (a ``BigramLanguageModel``) to correct lines in :meth:`read`."""
        self.language_model = language_model

    def read(self, image, **options):
        """The text of one image (path, PIL image or array), one line of text per line found.

        Returns an :class:`~kerasgen.models.ocr.reader.OCRResult`: ``.text``, and ``.lines`` of
        characters with boxes, confidences and candidates. ``options`` go to
        :func:`~kerasgen.models.ocr.reader.read_images` (``top_k``, ``lm_weight``, ``recogniser_cuts``).
        """
        return self.read_many([image], **options)[0]

    def read_many(self, images, **options) -> list:
        """:meth:`read` for several images, classified in one batch."""
        from kerasgen.models.ocr.reader import read_images

        options.setdefault("language_model", self.language_model)
        return read_images(self, list(images), **options)

    def save_assets(self, dir_path) -> None:
        if self.language_model is not None:
            self.language_model.save(f"{dir_path}/{LANGUAGE_MODEL_FILE}")

    def load_assets(self, dir_path) -> None:
        import os

        from kerasgen.models.ocr.language_model import BigramLanguageModel

        path = f"{dir_path}/{LANGUAGE_MODEL_FILE}"
        if os.path.exists(path):
            self.language_model = BigramLanguageModel.load(path)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("num_classes", None)
        config.update(
            {
                "charset": self.charset,
                "class_weighting": self.class_weighting,
                "inference_precision": self.inference_precision,
            }
        )
        return config
