"""``OCRCharClassifier`` (post 1): the harness, the post's CNN shapes, class weights inside ``train_step``."""

import keras
import numpy as np
import pytest

from kerasgen.models.ocr import OCRCharClassifier, build_glyph_features, build_post_features
from kerasgen.models.ocr.classifier import post_class_weights
from kerasgen.testing import HarnessTests, ModelSpec

CHARSET = list("的一是在不了")
RNG = np.random.default_rng(0)


def _glyphs(count=96, rng=RNG):
    """Class k = an ink bar in row band k (plus noise): learnable by any small convnet."""
    labels = rng.integers(0, len(CHARSET), count)
    x = (rng.random((count, 48, 48, 1)) < 0.05).astype("float32")
    for i, k in enumerate(labels):
        x[i, 4 + 7 * k : 8 + 7 * k, 4:44, 0] = 1.0
    return x, labels.astype("int64")


X, Y = _glyphs()


def tiny_ocr(seed=0, optimizer=None, class_weighting="post"):
    keras.utils.set_random_seed(seed)
    features = build_glyph_features(filters=(4, 8, 8, 8), feature_units=16)
    model = OCRCharClassifier(features, CHARSET, dropout=0.0, class_weighting=class_weighting)
    model.compile(optimizer=optimizer or keras.optimizers.Adam(3e-3))
    return model


class TestOCRClassifierHarness(HarnessTests):
    SPECS = {  # noqa: RUF012
        "ocr_classifier": ModelSpec(
            build=tiny_ocr,
            data=(X, Y),
            call_inputs=X[:8],
            bad_inputs=[
                ("a 28×28 digit", np.zeros((4, 28, 28, 1), "float32")),
                ("uint8 pixels", np.zeros((4, 48, 48, 1), "uint8")),
                ("no channel axis", np.zeros((4, 48, 48), "float32")),
            ],
            expected_in_error="(batch, 48, 48, 1)",
            epochs=6,
            distributed_build=lambda seed: tiny_ocr(seed, keras.optimizers.SGD(0.02)),
        )
    }


def test_post_cnn_has_the_posts_shapes_and_parameter_count():
    features = build_post_features()
    shapes = [tuple(layer.output.shape[1:]) for layer in features.layers if "conv" in layer.name]
    assert shapes == [(45, 45, 64), (19, 19, 64)]  # 48 → 45 → 22 → 19 → 9
    flatten = next(layer for layer in features.layers if isinstance(layer, keras.layers.Flatten))
    assert flatten.output.shape[-1] == 9 * 9 * 64
    convs = (4 * 4 * 1 * 64 + 64) + (4 * 4 * 64 * 64 + 64)
    assert features.count_params() == convs + 5184 * 1024 + 1024
    model = OCRCharClassifier(features, CHARSET)
    assert model.count_params() == features.count_params() + 1024 * len(CHARSET) + len(CHARSET)


def test_post_class_weights_follow_the_formula():
    weights = post_class_weights(3062)
    raw = (2.0 - np.arange(3062) / 3062) ** 3
    np.testing.assert_allclose(weights, raw / raw.mean(), rtol=1e-6)
    assert weights.mean() == pytest.approx(1.0) and np.all(np.diff(weights) < 0)
    assert weights[0] / weights[-1] == pytest.approx(8.0, rel=1e-2)  # (2 − 0)³ / (2 − 1)³


@pytest.mark.parametrize("class_weighting", ["post", None])
def test_loss_is_the_class_weighted_cross_entropy(class_weighting):
    model = tiny_ocr(class_weighting=class_weighting)
    logits = np.asarray(model(X, training=False))
    log_p = (
        logits
        - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True))
        - logits.max(1, keepdims=True)
    )
    weights = post_class_weights(len(CHARSET)) if class_weighting else np.ones(len(CHARSET))
    expected = np.mean(weights[Y] * -log_p[np.arange(len(Y)), Y])
    reported = model.evaluate(X, Y, batch_size=len(Y), verbose=0, return_dict=True)["loss"]
    assert reported == pytest.approx(expected, rel=1e-4)


def test_top_k_is_sorted_and_names_characters():
    model = tiny_ocr()
    rows = model.top_k(X[:3], k=4)
    assert len(rows) == 3 and all(len(r) == 4 for r in rows)
    for row in rows:
        probabilities = [p for _, p in row]
        assert probabilities == sorted(probabilities, reverse=True)
        assert {c for c, _ in row} <= set(CHARSET)
    full = model.predict_proba(X[:3])
    assert rows[0][0] == (CHARSET[int(full[0].argmax())], pytest.approx(float(full[0].max())))


def test_bad_charsets_are_refused():
    with pytest.raises(ValueError, match="distinct"):
        OCRCharClassifier(build_glyph_features(filters=(4,), feature_units=4), list("的的"))
    with pytest.raises(ValueError, match="class_weighting"):
        OCRCharClassifier(build_glyph_features(filters=(4,), feature_units=4), CHARSET, class_weighting="x")


def test_tensorboard_figures_show_the_glyphs_and_the_misread_ones():
    from kerasgen.eval.figures import model_figures

    figures = model_figures(tiny_ocr(), X[:16], Y[:16], num_samples=16)
    assert figures["glyphs"].dtype == np.uint8 and figures["glyphs"].ndim == 3
    assert "misread_glyphs" in figures  # an untrained model misreads some of 16 glyphs of 6 classes
