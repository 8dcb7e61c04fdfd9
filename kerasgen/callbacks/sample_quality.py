"""``SampleQuality``: sample-quality figures of a generator, added to the epoch logs."""

from __future__ import annotations

import keras
import numpy as np


class SampleQuality(keras.callbacks.Callback):
    """Every ``every`` epochs, score ``num_samples`` samples with ``kerasgen.metrics.SampleScorer``.

    Adds ``sample_fd`` (MNIST-FD against ``reference``), ``sample_score`` (classifier score) and
    ``sample_largest_class`` (largest class share) to the epoch's logs, so ``History``,
    TensorBoard (place this callback before it) and ``ModelCheckpoint(monitor="sample_fd")`` see
    them. Between evaluations the last values are carried, which never triggers a checkpoint.
    Use validation digits as ``reference``, never the held-out digits the final figure uses.

    Args:
        reference: real images ``[N, 28, 28, 1]`` the distance is measured against.
        classifier: a ``DigitClassifier`` (default: the ``mnist_classifier`` zoo entry).
        num_samples: samples per evaluation (fixed noise, the same every time).
        every: epochs between evaluations.
    """

    def __init__(self, reference: np.ndarray, classifier=None, num_samples: int = 1000, every: int = 1):
        super().__init__()
        from kerasgen.metrics import SampleScorer

        self.scorer = SampleScorer(classifier, reference)
        self.num_samples = int(num_samples)
        self.every = max(1, int(every))
        self.last: dict[str, float] = {}

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if (epoch + 1) % self.every == 0 or not self.last:
            scores = self.scorer.score_model(self.model, self.num_samples, seed=1234)
            self.last = {
                "sample_fd": scores["mnist_fd"],
                "sample_score": scores["classifier_score"],
                "sample_largest_class": scores["largest_class_share"],
            }
        logs.update(self.last)
