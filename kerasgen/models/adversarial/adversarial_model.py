"""``AdversarialModel``: two optimizers, critic and generator steps, one tracker per loss term."""

from __future__ import annotations

import copy
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kerasgen.batching import map_batches
from kerasgen.random import SavedSeedState, global_batch_noise
from kerasgen.saving import NestedConfig
from kerasgen.validation import as_float_tensor

_IMAGE_HINT = "Pass float32 images in [0, 1] (divide uint8 pixels by 255), e.g. kerasgen.data.mnist()."
LATENT_DISTRIBUTIONS = ("normal", "uniform")


class AdversarialModel(NestedConfig, SavedSeedState, keras.Model):
    """Base of the adversarial trainers (posts 3 and 7): the learning algorithm, not the networks.

    One ``train_step`` consumes one batch of real images and runs

    1. ``critic_steps`` discriminator updates, each on its own slice of the batch (the batch is
       dealt into ``critic_steps`` interleaved slices, so every critic step sees fresh real
       images as in post 3, and two replicas deal the same slices as one device);
    2. ``generate_update``: by default ``generator_steps`` generator updates, each on fresh noise
       (the last slice gives the batch size and, for AAE/ALI, the real images).

    Subclasses define the objectives: ``discriminator_terms(real, training)`` and
    ``generator_terms(real, training)`` return dicts of batch means whose ``d_objective`` /
    ``g_objective`` entry is minimised and whose every entry is a metric (``metric_names``).
    ``test_step`` reports the same terms without updating anything.

    Compile with ``compile(d_optimizer=..., g_optimizer=...)``: both optimizers are built on their
    variables at compile time and saved with the model, so ``.keras`` files and
    ``BackupAndRestore`` keep their state. ``model.optimizer`` is the generator's optimizer, so
    ``model.optimizer.iterations`` counts generator updates.

    Under ``tf.distribute`` every objective is divided by the number of replicas before
    differentiation (Keras sums replica gradients) and all noise is drawn for the global batch
    (``kerasgen.random.global_batch_noise``): one step on two replicas equals one on one device.

    Args:
        generator: model ``z [B, latent_dim] → images [B, H, W, C]`` in [0, 1].
        discriminator: the critic; its input is model-specific (images, codes, or both).
        critic_steps: discriminator updates per ``train_step``.
        generator_steps: generator updates per ``train_step``.
        latent_distribution: ``"normal"`` (``N(0, I)``) or ``"uniform"`` (``U(−1, 1)``, post 3).
        seed: seed of every noise draw (latents, interpolation weights).
    """

    metric_names: ClassVar[tuple[str, ...]] = ("d_loss", "g_loss")
    d_objective: ClassVar[str] = "d_loss"
    g_objective: ClassVar[str] = "g_loss"
    nested_objects: ClassVar[tuple[str, ...]] = ("generator", "discriminator")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        critic_steps: int = 1,
        generator_steps: int = 1,
        latent_distribution: str = "normal",
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if latent_distribution not in LATENT_DISTRIBUTIONS:
            raise ValueError(f"latent_distribution must be one of {LATENT_DISTRIBUTIONS}.")
        if int(critic_steps) < 1 or int(generator_steps) < 1:
            raise ValueError("critic_steps and generator_steps must be at least 1.")
        self.generator = generator
        self.discriminator = discriminator
        self.critic_steps = int(critic_steps)
        self.generator_steps = int(generator_steps)
        self.latent_distribution = latent_distribution
        self.seed = seed
        self.latent_dim = int(generator.input_shape[-1])
        self.image_shape = tuple(int(d) for d in generator.output_shape[1:])
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.trackers = [keras.metrics.Mean(name=name) for name in self.metric_names]
        self.d_optimizer = None
        self.g_optimizer = None
        self.built = True

    # ------------------------------------------------------------------ compile and save
    @property
    def metrics(self):
        return list(self.trackers)

    @property
    def discriminator_variables(self):
        return self.discriminator.trainable_variables

    @property
    def generator_variables(self):
        return self.generator.trainable_variables

    def compile(self, d_optimizer="adam", g_optimizer="adam", **kwargs):
        """Set (and build) the discriminator's and the generator's optimizers."""
        d_optimizer, g_optimizer = keras.optimizers.get(d_optimizer), keras.optimizers.get(g_optimizer)
        if d_optimizer is g_optimizer:
            raise ValueError("Pass two optimizer instances: the discriminator and generator each need one.")
        if self.dtype_policy.name == "mixed_float16":
            wrap = keras.optimizers.LossScaleOptimizer
            d_optimizer = d_optimizer if isinstance(d_optimizer, wrap) else wrap(d_optimizer)
            g_optimizer = g_optimizer if isinstance(g_optimizer, wrap) else wrap(g_optimizer)
        super().compile(optimizer=g_optimizer, **kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.d_optimizer.build(self.discriminator_variables)
        self.g_optimizer.build(self.generator_variables)

    def get_compile_config(self):
        if self.d_optimizer is None:
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
        }

    def compile_from_config(self, config):
        config = copy.deepcopy(config)
        self.compile(**{key: keras.saving.deserialize_keras_object(value) for key, value in config.items()})

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                **self.nested_config(),
                "critic_steps": self.critic_steps,
                "generator_steps": self.generator_steps,
                "latent_distribution": self.latent_distribution,
                "seed": self.seed,
            }
        )
        return config

    # ------------------------------------------------------------------ noise and inputs
    def _check_images(self, x):
        return as_float_tensor(x, self.image_shape, f"{type(self).__name__} real images", _IMAGE_HINT)

    def _unpack(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (tuple, list)):
            x = x[0]
        return self._check_images(x)

    def sample_latent(self, batch_size):
        """Latent noise ``[B, latent_dim]`` for this replica's slice of the global batch."""
        return global_batch_noise(
            (batch_size, self.latent_dim), self.seed_generator, self.latent_distribution, -1.0, 1.0
        )

    def uniform_noise(self, shape):
        """``U(0, 1)`` noise (batch first) for this replica's slice of the global batch."""
        return global_batch_noise(shape, self.seed_generator, "uniform")

    def _critic_batches(self, x):
        """Deal ``x`` into ``critic_steps`` interleaved slices (rows j, j+k, j+2k, … for slice j)."""
        if self.critic_steps == 1:
            return [x]
        per_step = ops.shape(x)[0] // self.critic_steps
        dealt = ops.reshape(x[: per_step * self.critic_steps], (-1, self.critic_steps, *self.image_shape))
        return [dealt[:, step] for step in range(self.critic_steps)]

    # ------------------------------------------------------------------ steps
    def discriminator_terms(self, real, training: bool = False) -> dict:
        raise NotImplementedError

    def generator_terms(self, real, training: bool = False) -> dict:
        raise NotImplementedError

    def _update(self, optimizer, variables, terms_fn, objective: str) -> dict:
        """One optimizer step on ``terms_fn()[objective]``, scaled for the replica count."""
        replicas = self.distribute_strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            terms = terms_fn()
            loss = optimizer.scale_loss(ops.cast(terms[objective], "float32") / replicas)
        gradients = tape.gradient(loss, variables)
        optimizer.apply(gradients, variables)
        return terms

    def _record(self, *step_terms: dict) -> None:
        """Update each tracker once with its term's mean over the steps (one update per ``train_step``)."""
        for tracker in self.trackers:
            values = [terms[tracker.name] for terms in step_terms if tracker.name in terms]
            if values:
                tracker.update_state(values[0] if len(values) == 1 else ops.mean(ops.stack(values)))

    def discriminator_update(self, real) -> dict:
        """One discriminator step on ``real``."""
        return self._update(
            self.d_optimizer,
            self.discriminator_variables,
            lambda: self.discriminator_terms(real, training=True),
            self.d_objective,
        )

    def generator_update(self, real) -> list[dict]:
        """``generator_steps`` generator steps, each drawing fresh noise; their terms."""
        return [
            self._update(
                self.g_optimizer,
                self.generator_variables,
                lambda: self.generator_terms(real, training=True),
                self.g_objective,
            )
            for _ in range(self.generator_steps)
        ]

    def train_step(self, data):
        batches = self._critic_batches(self._unpack(data))
        critic_terms = [self.discriminator_update(real) for real in batches]
        self._record(*critic_terms)
        self._record(*self.generator_update(batches[-1]))
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        real = self._unpack(data)
        self._record(self.discriminator_terms(real, training=False))
        self._record(self.generator_terms(real, training=False))
        return {m.name: m.result() for m in self.metrics}

    # ------------------------------------------------------------------ public helpers
    def call(self, inputs, training=False):
        """The discriminator's scores of real images ``[B, 1]``."""
        return self.discriminator(self._check_images(inputs), training=training)

    def generate(self, z, batch_size: int = 1000) -> np.ndarray:
        """Images ``G(z)`` (numpy ``[N, H, W, C]``) for latent codes ``z [N, latent_dim]``."""
        z = as_float_tensor(z, (self.latent_dim,), "latent codes z")
        return map_batches(lambda b: self.generator(b, training=False), z, batch_size)

    def sample(self, num_samples: int, seed: int | None = 0, **kwargs) -> np.ndarray:
        """``num_samples`` images from fresh latent noise (numpy ``[N, H, W, C]``)."""
        shape = (int(num_samples), self.latent_dim)
        if self.latent_distribution == "normal":
            z = keras.random.normal(shape, seed=seed)
        else:
            z = keras.random.uniform(shape, -1.0, 1.0, seed=seed)
        return self.generate(z)


class Autoencoding:
    """``decode`` and ``reconstruct`` for adversarial models that also learn an encoder (AAE, ALI)."""

    def decode(self, z) -> np.ndarray:
        """Images ``G(z)`` for codes ``z [N, latent_dim]``."""
        return self.generate(z)

    def reconstruct(self, x) -> np.ndarray:
        """``G(E(x))`` as numpy ``[N, H, W, C]``."""
        return self.decode(self.encode(x))


def bce_with_logits(logits, label: float):
    """Per-example ``BCE(label, sigmoid(logits))`` → ``[B]``: ``softplus(−l)`` for 1, ``softplus(l)`` for 0.

    ``−log D = softplus(−l)`` and ``−log(1 − D) = softplus(l)`` for ``D = sigmoid(l)``; computed
    in float32 from the logits, so saturated discriminators give finite gradients.
    """
    logits = ops.reshape(ops.cast(logits, "float32"), (-1,))
    return ops.softplus(-logits) if label == 1 else ops.softplus(logits)


def mean_probability(logits):
    """``E[sigmoid(l)]``, the mean discriminator output, for logging."""
    return ops.mean(ops.sigmoid(ops.cast(logits, "float32")))
