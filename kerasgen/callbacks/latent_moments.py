"""``LatentMoments``: how close an encoder's aggregate posterior is to ``N(0, I)``, in the epoch logs."""

from __future__ import annotations

import keras
import numpy as np


class LatentMoments(keras.callbacks.Callback):
    """After every epoch, encode ``reference`` and add its per-dimension moments to the logs.

    - ``code_mean_max``: ``max_d |mean_d|``;
    - ``code_var_dev``: ``max_d |var_d − 1|``;
    - ``posterior_gap``: ``max(code_mean_max / mean_tolerance, code_var_dev / var_tolerance)``,
      below 1 when every dimension is within the tolerances (issue #3's bar for the AAE: ±0.1 and
      0.8–1.2), so ``ModelCheckpoint(monitor="posterior_gap")`` keeps the best-matched epoch.

    Use validation images as ``reference``, never the held-out images the final figure uses.
    """

    def __init__(self, reference: np.ndarray, mean_tolerance: float = 0.1, var_tolerance: float = 0.2):
        super().__init__()
        self.reference = np.asarray(reference, np.float32)
        self.mean_tolerance, self.var_tolerance = float(mean_tolerance), float(var_tolerance)

    def moments(self) -> dict[str, float]:
        codes = self.model.encode(self.reference)
        codes = codes[0] if isinstance(codes, tuple) else codes  # (μ, log σ²) of a VAE
        mean_max = float(np.abs(codes.mean(axis=0)).max())
        var_dev = float(np.abs(codes.var(axis=0) - 1.0).max())
        gap = max(mean_max / self.mean_tolerance, var_dev / self.var_tolerance)
        return {"code_mean_max": mean_max, "code_var_dev": var_dev, "posterior_gap": gap}

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.update(self.moments())
