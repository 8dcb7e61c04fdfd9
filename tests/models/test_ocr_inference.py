"""The reading-time forward pass (``kerasgen.models.ocr.inference``) computes the classifier's function."""

import keras
import numpy as np
import pytest
from keras import layers

from kerasgen.models.ocr import OCRCharClassifier, build_glyph_features, build_post_features, inference

CHARSET = list("的一是在不了人有我他这个们中来上")
RNG = np.random.default_rng(3)
GLYPHS = (RNG.random((40, 48, 48, 1)) < 0.2).astype("float32")


def _randomise_norms(network, seed=0):
    """Group-norm scales of both signs (and shifts away from 0), so every branch of the fold is used."""
    rng = np.random.default_rng(seed)
    for layer in network.layers:
        if isinstance(layer, layers.GroupNormalization):
            layer.gamma.assign(rng.normal(0.0, 1.0, layer.gamma.shape).astype("float32"))
            layer.beta.assign(rng.normal(0.0, 0.5, layer.beta.shape).astype("float32"))


def _biased_network():
    """A stack with biased convolutions and a block that cannot be folded (3×3 pooling)."""
    inputs = keras.Input((48, 48, 1))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    x = layers.GroupNormalization(groups=4)(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(8, 3, padding="valid", use_bias=True)(x)
    x = layers.GroupNormalization(groups=2)(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(16, activation="relu")(x))


def _branching_network():
    inputs = keras.Input((48, 48, 1))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    x = layers.Add()([x, layers.Conv2D(4, 1)(inputs)])
    return keras.Model(inputs, layers.Dense(8)(layers.Flatten()(layers.MaxPooling2D(4)(x))))


def _classifier(network, seed=0, precision="float32"):
    keras.utils.set_random_seed(seed)
    model = OCRCharClassifier(network, CHARSET, dropout=0.3, inference_precision=precision)
    model(GLYPHS[:2])
    _randomise_norms(network, seed)
    for layer in network.layers:
        if isinstance(layer, layers.Conv2D) and layer.use_bias:
            layer.bias.assign(np.random.default_rng(seed).normal(0, 0.3, layer.bias.shape).astype("float32"))
    return model


def _reference(model):
    return keras.ops.convert_to_numpy(keras.ops.softmax(model(GLYPHS, training=False), axis=-1))


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_glyph_features(filters=(4, 8, 16, 16), feature_units=32),
        build_post_features,
        _biased_network,
        _branching_network,
    ],
    ids=["glyph_cnn", "post_cnn", "biased_and_unfoldable", "not_a_chain"],
)
def test_float32_reading_equals_the_keras_model(build):
    model = _classifier(build())
    np.testing.assert_allclose(model.predict_proba(GLYPHS), _reference(model), rtol=1e-4, atol=1e-6)


def test_every_block_of_the_default_network_is_folded():
    network = build_glyph_features(filters=(4, 8, 16, 16), feature_units=32)
    stack = network.layers[1:]
    folded = [i for i in range(len(stack)) if inference._pooled_group_norm_block(stack[i:])]
    assert folded == [0, 4, 8, 12]
    assert inference._is_chain(network)
    assert not inference._is_chain(_branching_network())
    assert not inference._pooled_group_norm_block(_biased_network().layers[5:])  # 3×3 pooling


def test_reading_follows_the_weights_after_more_training():
    model = _classifier(build_glyph_features(filters=(4, 8, 16, 16), feature_units=32))
    before = model.predict_proba(GLYPHS)
    _randomise_norms(model.feature_network, seed=7)
    after = model.predict_proba(GLYPHS)
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, _reference(model), rtol=1e-4, atol=1e-6)


def test_bfloat16_reading_is_close_to_float32_but_not_identical():
    model = _classifier(build_glyph_features(filters=(8, 16, 32, 32), feature_units=32))
    exact = model.predict_proba(GLYPHS)
    model.inference_precision = "bfloat16"
    fast = model.predict_proba(GLYPHS)
    difference = np.abs(fast - exact).max()
    assert 0 < difference < 0.05, difference
    np.testing.assert_allclose(fast.sum(axis=1), 1.0, rtol=1e-5)


def test_top_k_is_the_best_of_predict_proba():
    model = _classifier(build_glyph_features(filters=(4, 8, 16, 16), feature_units=32))
    probabilities = model.predict_proba(GLYPHS)
    best = model.top_k(GLYPHS, k=3)
    for row, found in zip(probabilities, best, strict=True):
        order = np.argsort(-row)[:3]
        assert [c for c, _ in found] == [CHARSET[j] for j in order]
        np.testing.assert_allclose([p for _, p in found], row[order], rtol=1e-5)
    assert model.top_k(GLYPHS[:0], k=3) == []
    assert len(model.top_k(GLYPHS[:2], k=100)[0]) == len(CHARSET)


def test_precision_is_checked_and_saved(tmp_path):
    assert inference.resolve_precision("auto") in ("float32", "bfloat16")
    with pytest.raises(ValueError, match="float32"):
        inference.resolve_precision("float16")
    with pytest.raises(ValueError, match="inference precision"):
        OCRCharClassifier(build_glyph_features(filters=(4, 4, 4, 4)), CHARSET, inference_precision="int8")
    model = _classifier(build_glyph_features(filters=(4, 8, 16, 16), feature_units=32), precision="bfloat16")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    assert loaded.inference_precision == "bfloat16"
    np.testing.assert_allclose(loaded.predict_proba(GLYPHS), model.predict_proba(GLYPHS), rtol=1e-6)
