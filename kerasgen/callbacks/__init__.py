"""Keras callbacks shared by every model family."""

from kerasgen.callbacks.latent_moments import LatentMoments
from kerasgen.callbacks.sample_quality import SampleQuality
from kerasgen.callbacks.tensorboard import GenerativeTensorBoard
from kerasgen.callbacks.weight_average import EvaluateWithAverage

__all__ = ["EvaluateWithAverage", "GenerativeTensorBoard", "LatentMoments", "SampleQuality"]
