"""``kerasgen.metrics``: Fréchet distance, classifier score and class histogram, and their callback."""

import keras
import numpy as np
import pytest

from kerasgen.callbacks import SampleQuality
from kerasgen.metrics import SampleScorer, class_histogram, classifier_score, frechet_distance
from kerasgen.models import DigitClassifier, build_digit_features

RNG = np.random.default_rng(0)


def test_frechet_distance_of_a_shift_is_the_squared_shift():
    """Shifting a set leaves its covariance alone: FD = ‖shift‖² exactly."""
    a = RNG.normal(size=(300, 6))
    shift = np.arange(6) / 3.0
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-6)


def test_frechet_distance_of_a_scaling_matches_the_closed_form():
    """For b = 2a: ‖μ_a − μ_b‖² + tr(Σ + 4Σ − 2·2Σ) = ‖μ_a‖² + tr Σ."""
    a = RNG.normal(size=(400, 5)) @ RNG.normal(size=(5, 5)) + 1.0
    expected = float(a.mean(0) @ a.mean(0) + np.trace(np.cov(a, rowvar=False)))
    assert frechet_distance(a, 2 * a) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_survives_dead_features():
    a, b = RNG.normal(size=(100, 4)), RNG.normal(size=(100, 4))
    a[:, 0] = b[:, 0] = 0.0  # a dead ReLU unit: singular covariances
    assert np.isfinite(frechet_distance(a, b))


def test_frechet_distance_refuses_mismatched_features():
    with pytest.raises(ValueError, match="same F"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


def test_classifier_score_extremes():
    confident_uniform = np.eye(10)[np.arange(1000) % 10]
    assert classifier_score(confident_uniform) == pytest.approx(10.0, rel=1e-6)
    assert classifier_score(np.eye(10)[np.zeros(100, int)]) == pytest.approx(1.0)
    assert classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)


def test_class_histogram():
    probabilities = np.eye(10)[[0, 0, 0, 1]]
    histogram = class_histogram(probabilities)
    assert histogram["largest_class_share"] == 0.75
    assert histogram["class_shares"][:2] == [0.75, 0.25]
    assert histogram["class_entropy"] == pytest.approx(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))


def _tiny_classifier():
    return DigitClassifier(build_digit_features(filters=(2, 2), feature_units=8, shift=0.0))


def test_scorer_and_callback_add_sample_figures_to_the_logs():
    real = RNG.random((50, 28, 28, 1)).astype("float32")
    scorer = SampleScorer(_tiny_classifier(), reference=real)
    scores = scorer.score(real[:20])
    assert {"mnist_fd", "classifier_score", "class_entropy", "largest_class_share"} <= set(scores)

    class Sampler(keras.Model):
        def sample(self, n, seed=0):
            return np.random.default_rng(seed).random((n, 28, 28, 1)).astype("float32")

    callback = SampleQuality(real, classifier=_tiny_classifier(), num_samples=20, every=2)
    callback.set_model(Sampler())
    first, second = {}, {}
    callback.on_epoch_end(0, first)
    callback.on_epoch_end(1, second)
    assert set(first) == {"sample_fd", "sample_score", "sample_largest_class"}
    assert first == second  # fixed noise: the same samples every evaluation
    with pytest.raises(ValueError, match="N ≥ 2"):
        scorer.score(real[:1])


def test_latent_moments_measure_the_gap_to_the_prior():
    from kerasgen.callbacks import LatentMoments

    class Encoder(keras.Model):
        shift = 0.0

        def encode(self, x):
            codes = np.random.default_rng(0).normal(size=(len(x), 4))
            return codes + self.shift

    callback = LatentMoments(np.zeros((5000, 28, 28, 1), "float32"))
    model = Encoder()
    callback.set_model(model)
    logs = {}
    callback.on_epoch_end(0, logs)
    assert logs["posterior_gap"] < 1 and logs["code_mean_max"] < 0.1
    model.shift = 0.3
    callback.on_epoch_end(1, logs)
    assert logs["code_mean_max"] == pytest.approx(0.3, abs=0.05) and logs["posterior_gap"] > 1


def test_default_scorer_uses_the_zoo_classifier_and_the_heldout_digits():
    from kerasgen.data import heldout_digits

    scorer = SampleScorer()
    real = heldout_digits().images[::25, ..., None].astype("float32") / 255.0  # class-sorted: every 25th
    scores = scorer.score(real)
    assert scores["classifier_score"] > 8 and scores["mnist_fd"] < 40  # real digits score near the floor
