"""``EvaluateWithAverage``: validate with a model's debiased weight average (post 6's DGCNN)."""

from __future__ import annotations

import keras


class EvaluateWithAverage(keras.callbacks.Callback):
    """Swap the model's weight average in for every evaluation, and the raw weights back after.

    For models with an ``average`` (``kerasgen.ema.WeightAverage``): validation losses, and any
    callback listed *after* this one that evaluates in ``on_epoch_end``, see the averaged weights,
    as the author's DGCNN evaluated; training continues from the raw weights. Models without an
    average are left alone.
    """

    def __init__(self):
        super().__init__()
        self._swap = None

    def _average(self):
        return getattr(self.model, "average", None)

    def on_test_begin(self, logs=None):
        average = self._average()
        if average is not None and self._swap is None:
            self._swap = average.swapped_in()
            self._swap.__enter__()

    def on_test_end(self, logs=None):
        if self._swap is not None:
            self._swap.__exit__(None, None, None)
            self._swap = None
