"""``FlowModel``: maximum-likelihood training of a bijection ``x ↔ z`` with a simple prior (post 8)."""

from __future__ import annotations

import math
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kerasgen.batching import first_examples, map_batches
from kerasgen.losses import bits_per_dim
from kerasgen.random import SavedSeedState, global_batch_noise
from kerasgen.saving import NestedConfig
from kerasgen.validation import as_float_tensor

_IMAGE_HINT = "Pass float32 images in [0, 1] (divide uint8 pixels by 255), e.g. kerasgen.data.mnist()."
LOG_2PI = math.log(2.0 * math.pi)
PRIORS = ("gaussian", "logistic")
INIT_EXAMPLES = 512  # images seen by data-dependent initialisation


class FlowModel(NestedConfig, SavedSeedState, keras.Model):
    """Exact-likelihood training of ``self.flow`` (a ``FlowLayer`` from images to flat codes).

    Images ``x`` in [0, 1] hold 8-bit grey levels ``k = round(255 x)``; they are dequantised with
    uniform noise, ``y = (k + u) / 256 − ½``, ``u ~ U(0, 1)`` (proper dequantisation: the continuous
    likelihood of y bounds the discrete one). Per example, in nats::

        nll = −log p(z) − log|det ∂z/∂y|,   z = flow(y)
        bpd = (nll + D log 256) / (D log 2)      (bits per dimension of the 8-bit image)

    ``loss`` is the mean ``nll``; ``bpd`` is reported with it. The prior is ``N(0, I)`` (Glow) or
    the standard logistic (NICE). Sampling draws ``z`` from the prior scaled by a temperature T
    (``T = 0`` is the mode, deterministic) and inverts the flow.

    Args:
        image_shape: ``(H, W, C)`` of the images.
        prior: ``"gaussian"`` or ``"logistic"``.
        seed: seed of the dequantisation noise.
    """

    metric_names: ClassVar[tuple[str, ...]] = ("loss", "bpd")
    samples_at_temperature: ClassVar[bool] = True

    def __init__(self, image_shape=(28, 28, 1), prior: str = "gaussian", seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}.")
        self.image_shape = tuple(int(d) for d in image_shape)
        self.num_dims = int(np.prod(self.image_shape))
        self.prior = prior
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="dequantisation_seed")
        self.trackers = [keras.metrics.Mean(name=name) for name in self.metric_names]
        self.flow = self.build_flow()
        self.create_state()
        self.built = True

    def build_flow(self):
        """The bijection ``images → flat codes`` (a built ``FlowLayer``)."""
        raise NotImplementedError

    def create_state(self) -> None:
        """Subclasses add their own weights here (the model is locked once built)."""

    @property
    def metrics(self):
        return list(self.trackers)

    # ------------------------------------------------------------------ data-dependent init
    def initialize(self, x) -> None:
        """Data-dependent ActNorm initialisation on a batch of images (eager; once)."""
        self.flow.initialize(self.dequantise(self._check_images(x)))

    def is_initialized(self) -> bool:
        """Whether data-dependent initialisation has run (models without it: always)."""
        return True

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit``; data-dependent init first runs on the first ``INIT_EXAMPLES`` images."""
        if not self.is_initialized():
            self.initialize(first_examples(x, INIT_EXAMPLES))
        return super().fit(x, *args, **kwargs)

    # ------------------------------------------------------------------ densities
    def _check_images(self, x):
        return as_float_tensor(x, self.image_shape, f"{type(self).__name__} input images", _IMAGE_HINT)

    def dequantise(self, x, noise: bool = True):
        """``y = (round(255 x) + u) / 256 − ½`` with ``u ~ U(0, 1)`` (``u = ½`` without noise)."""
        levels = ops.round(ops.cast(x, "float32") * 255.0)
        u = global_batch_noise(ops.shape(levels), self.seed_generator, "uniform") if noise else 0.5
        return (levels + u) / 256.0 - 0.5

    def prior_log_prob(self, z):
        """``log p(z)`` per example ``[B]`` (sum over dimensions)."""
        z = ops.cast(z, "float32")
        if self.prior == "gaussian":
            return -0.5 * ops.sum(ops.square(z) + LOG_2PI, axis=-1)
        return -ops.sum(ops.softplus(z) + ops.softplus(-z), axis=-1)

    def negative_log_likelihood_terms(self, x, training: bool = False, noise: bool = True):
        """``nll [B]`` in nats of the dequantised images (see the class docstring)."""
        z, log_det = self.flow(self.dequantise(x, noise), training=training)
        return -(self.prior_log_prob(z) + log_det)

    def _record(self, nll):
        self.trackers[0].update_state(nll)
        self.trackers[1].update_state(bits_per_dim(nll, self.num_dims, 1.0 / 256.0))
        return {m.name: m.result() for m in self.metrics}

    def _unpack(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._check_images(x[0] if isinstance(x, (tuple, list)) else x)

    def train_step(self, data):
        x = self._unpack(data)
        replicas = self.distribute_strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            nll = self.negative_log_likelihood_terms(x, training=True)
            loss = self.optimizer.scale_loss(ops.mean(nll) / replicas)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self._record(nll)

    def test_step(self, data):
        return self._record(self.negative_log_likelihood_terms(self._unpack(data)))

    # ------------------------------------------------------------------ public helpers
    def call(self, inputs, training=False):
        """Codes ``z`` ``[B, D]`` of the images, dequantised at bin centres (deterministic)."""
        return self.flow(self.dequantise(self._check_images(inputs), noise=False), training=training)[0]

    def encode(self, x, batch_size: int = 500) -> np.ndarray:
        """Codes ``z`` ``[N, D]`` (bin-centre dequantisation)."""
        return map_batches(lambda b: self(b), self._check_images(x), batch_size)

    def decode(self, z, batch_size: int = 500) -> np.ndarray:
        """Images in [0, 1] ``[N, H, W, C]`` from codes ``z [N, D]`` (the inverse flow)."""
        z = as_float_tensor(z, (self.num_dims,), "codes z")
        return map_batches(lambda b: ops.clip(self.flow.inverse(b)[0] + 0.5, 0.0, 1.0), z, batch_size)

    def reconstruct(self, x) -> np.ndarray:
        """``decode(encode(x))``: the bin centres of x, up to float error (invertibility check)."""
        return self.decode(self.encode(x))

    def sample(
        self, num_samples: int, seed: int | None = 0, temperature: float = 1.0, **kwargs
    ) -> np.ndarray:
        """``num_samples`` images from ``z ~ prior`` scaled by ``temperature`` (0: deterministic)."""
        shape = (int(num_samples), self.num_dims)
        if self.prior == "gaussian":
            z = keras.random.normal(shape, seed=seed)
        else:
            u = keras.random.uniform(shape, 1e-6, 1.0 - 1e-6, seed=seed)
            z = ops.log(u) - ops.log1p(-u)
        return self.decode(float(temperature) * z)

    def interpolate(self, x_start, x_end, steps: int = 8) -> np.ndarray:
        """Images decoded along the straight line between the codes of two images ``[steps, H, W, C]``."""
        z = self.encode(np.stack([np.asarray(x_start), np.asarray(x_end)]))
        weights = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
        return self.decode((1 - weights) * z[:1] + weights * z[1:])

    def negative_log_likelihood(self, x, batch_size: int = 500) -> np.ndarray:
        """Per-example NLL in nats of the dequantised images (one noise draw) ``[N]``."""
        return map_batches(lambda b: self.negative_log_likelihood_terms(b), self._check_images(x), batch_size)

    def bits_per_dim(self, x, batch_size: int = 500) -> np.ndarray:
        """Per-example bits/dim of the 8-bit images (exact flow likelihood, one dequantisation draw)."""
        return np.asarray(
            bits_per_dim(self.negative_log_likelihood(x, batch_size), self.num_dims, 1.0 / 256.0)
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "image_shape": list(self.image_shape),
            "prior": self.prior,
            "seed": self.seed,
        }
