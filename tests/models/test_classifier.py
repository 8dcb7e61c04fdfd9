"""``DigitClassifier``, the yardstick of the sample-quality metrics."""

import keras
import numpy as np

from kerasgen.models import DigitClassifier, build_digit_features
from kerasgen.testing import HarnessTests, ModelSpec

RNG = np.random.default_rng(0)
IMAGES = RNG.random((64, 28, 28, 1)).astype("float32")
LABELS = (IMAGES.mean(axis=(1, 2, 3)) > np.median(IMAGES.mean(axis=(1, 2, 3)))).astype("int64") * 3


def tiny_classifier(seed=0, optimizer="adam"):
    keras.utils.set_random_seed(seed)
    model = DigitClassifier(build_digit_features(filters=(4, 4), feature_units=8, shift=0.0), dropout=0.0)
    model.compile(optimizer=keras.optimizers.get(optimizer))
    return model


class TestClassifierHarness(HarnessTests):
    SPECS = {  # noqa: RUF012
        "classifier": ModelSpec(
            build=tiny_classifier,
            data=(IMAGES, LABELS),
            call_inputs=IMAGES[:8],
            bad_inputs=[
                ("flat", np.zeros((4, 784), "float32")),
                ("uint8", np.zeros((4, 28, 28, 1), "uint8")),
            ],
            expected_in_error="(batch, 28, 28, 1)",
            distributed_build=lambda seed: tiny_classifier(seed, keras.optimizers.SGD(0.1)),
        )
    }


def test_features_are_deterministic_and_probabilities_normalised():
    model = tiny_classifier()
    np.testing.assert_array_equal(model.features(IMAGES[:5]), model.features(IMAGES[:5]))
    probabilities = model.predict_proba(IMAGES[:5])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert model.features(IMAGES[:5]).shape == (5, 8)


def test_training_without_labels_says_what_is_missing():
    import pytest

    with pytest.raises(ValueError, match="labels"):
        tiny_classifier().fit(IMAGES, epochs=1, verbose=0)
