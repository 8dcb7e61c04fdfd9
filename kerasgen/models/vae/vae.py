"""The variational autoencoder of posts 4 and 5."""

from __future__ import annotations

from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kerasgen.distributions import diagonal_normal
from kerasgen.layers import Reparameterize, get_likelihood
from kerasgen.losses import gaussian_kl
from kerasgen.saving import NestedConfig
from kerasgen.validation import as_float_tensor

_IMAGE_HINT = "Pass float32 images in [0, 1] (divide uint8 pixels by 255), e.g. kerasgen.data.mnist()."


@keras.saving.register_keras_serializable(package="kerasgen")
class VAE(NestedConfig, keras.Model):
    """Variational autoencoder trained on the negative ELBO (post 4; post 5's derivation).

    Per example, summed over pixels and latent dimensions, then averaged over the batch::

        loss = −log q(x|z) + β · KL(p(z|x) ‖ q(z)),   z = μ(x) + σ(x) ⊙ ε   (post 4, eq. of §"VAE")

    ``q(x|z)`` is a tfp likelihood (post 5: Bernoulli, Gaussian with fixed or learned σ̃), the
    prior ``q(z)`` is a standard normal (``tfd.Independent(tfd.Normal(0, 1))``) and the KL is its
    closed form. The step computes both terms in closed form; the tfp objects define them.

    Args:
        encoder: model ``x [B, *image] → [μ, log σ²]`` (``[B, D]`` each).
        decoder: model ``z [B, D] → logits [B, *image]``.
        likelihood: ``"bernoulli"`` (post 4), ``"gaussian_fixed"``, ``"gaussian_learned_scalar"``,
            ``"gaussian_learned_pixel"``, or a likelihood layer from ``kerasgen.layers``.
        likelihood_sigma: σ̃ for the Gaussian likelihoods (fixed value or initial value).
        kl_weight: β; 1 gives the ELBO, which is what the metrics ``elbo`` always report.
        seed: seed of the reparameterisation noise.

    Metrics: ``loss`` (the objective), ``reconstruction`` (−log q(x|z)), ``kl`` and ``elbo``,
    each a per-example mean over the epoch.

    Example:
        >>> vae = VAE(build_mlp_encoder(), build_mlp_decoder())
        >>> vae.compile(optimizer="rmsprop")
        >>> vae.fit(kerasgen.data.mnist("train"), epochs=50)

    Reference: Su Jianlin, 变分自编码器(一)(二), kexue.fm 2018; Kingma & Welling, 2014.
    """

    nested_objects: ClassVar[tuple[str, ...]] = ("encoder", "decoder", "likelihood")

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        likelihood="bernoulli",
        likelihood_sigma: float = 0.1,
        kl_weight: float = 1.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = get_likelihood(likelihood, likelihood_sigma)
        self.likelihood_sigma = float(likelihood_sigma)
        self.kl_weight = float(kl_weight)
        self.seed = seed
        self.image_shape = tuple(int(d) for d in encoder.input_shape[1:])
        self.latent_dim = int(decoder.input_shape[-1])
        self.reparameterize = Reparameterize(seed=seed, name="reparameterize")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.elbo_tracker = keras.metrics.Mean(name="elbo")
        self.build((None, *self.image_shape))

    # ------------------------------------------------------------------ structure
    def build(self, input_shape=None):
        if not self.likelihood.built:
            self.likelihood.build((None, *self.image_shape))
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker, self.elbo_tracker]

    def _unpack(self, data):
        """Batch → ``(images, condition)``; a plain VAE ignores labels it is given."""
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (tuple, list)):
            x = x[0]
        return self._check_images(x), None

    def _check_images(self, x):
        return as_float_tensor(x, self.image_shape, f"{type(self).__name__} input images", _IMAGE_HINT)

    # ------------------------------------------------------------------ the model
    def prior_mean(self, condition=None):
        """Mean of the prior ``q(z)``: 0 for the VAE (``[D]``)."""
        del condition
        return tf.zeros([self.latent_dim])

    def prior(self, condition=None):
        """The prior ``q(z) = N(prior_mean, I)`` as a tfp distribution over ``[D]``."""
        mean = self.prior_mean(condition)
        return diagonal_normal(mean, tf.ones_like(mean))

    @staticmethod
    def posterior(mu, log_var):
        """The encoder's ``p(z|x) = N(μ, diag σ²)`` as a tfp distribution."""
        mu, log_var = ops.cast(mu, "float32"), ops.cast(log_var, "float32")
        return diagonal_normal(mu, ops.exp(0.5 * log_var))

    def kl_divergence(self, mu, log_var, condition=None):
        """``KL(p(z|x) ‖ q(z))`` per example ``[B]`` in closed form (post 4's ½Σ(μ²+σ²−log σ²−1)).

        Equal to ``tfd.kl_divergence(self.posterior(...), self.prior(...))``, written out.
        """
        return gaussian_kl(mu, log_var, self.prior_mean(condition))

    def call(self, inputs, training=False):
        """Deterministic reconstruction: the likelihood mean of ``decoder(μ(x))``."""
        x = inputs[0] if isinstance(inputs, (tuple, list)) else inputs
        x = self._check_images(x)
        mu, _ = self.encoder(x, training=training)
        return self.likelihood.mean(self.decoder(mu, training=training))

    def loss_terms(self, x, condition=None, training=False):
        """One reparameterised sample per example → ``(reconstruction [B], kl [B])``."""
        mu, log_var = self.encoder(x, training=training)
        z = self.reparameterize([mu, log_var])
        logits = self.decoder(z, training=training)
        reconstruction = self.likelihood.negative_log_likelihood(x, logits)
        return reconstruction, self.kl_divergence(mu, log_var, condition)

    def _objective(self, reconstruction, kl):
        loss = ops.mean(reconstruction + self.kl_weight * kl)
        if self.losses:
            loss = loss + ops.cast(ops.sum(self.losses), "float32")
        return loss

    def _record(self, reconstruction, kl):
        self.loss_tracker.update_state(reconstruction + self.kl_weight * kl)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.elbo_tracker.update_state(-(reconstruction + kl))
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x, condition = self._unpack(data)
        replicas = self.distribute_strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            reconstruction, kl = self.loss_terms(x, condition, training=True)
            # Keras sums gradients over replicas: scale the per-replica mean by 1/replicas.
            loss = self.optimizer.scale_loss(self._objective(reconstruction, kl) / replicas)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self._record(reconstruction, kl)

    def test_step(self, data):
        x, condition = self._unpack(data)
        reconstruction, kl = self.loss_terms(x, condition, training=False)
        return self._record(reconstruction, kl)

    # ------------------------------------------------------------------ public helpers
    def encode(self, x, batch_size: int = 500):
        """``(μ, log σ²)`` as numpy arrays ``[N, D]``."""
        x = self._check_images(x)
        parts = [self.encoder(x[i : i + batch_size], training=False) for i in range(0, len(x), batch_size)]
        return tuple(np.concatenate([ops.convert_to_numpy(p[k]) for p in parts]) for k in (0, 1))

    def decode(self, z):
        """Images (likelihood means) ``[N, *image]`` for latent codes ``z [N, D]``."""
        z = as_float_tensor(z, (self.latent_dim,), "latent codes z")
        return ops.convert_to_numpy(self.likelihood.mean(self.decoder(z, training=False)))

    def reconstruct(self, x, batch_size: int = 500):
        """Deterministic reconstructions ``decode(μ(x))`` as numpy ``[N, *image]``."""
        mu, _ = self.encode(x, batch_size)
        return self.decode(mu)

    def sample(self, num_samples: int, seed: int | None = 0, **kwargs):
        """``num_samples`` images decoded from ``z ~ q(z)`` (numpy ``[N, *image]``)."""
        z = keras.random.normal((num_samples, self.latent_dim), seed=seed)
        return self.decode(z)

    def negative_elbo(self, x, condition=None, num_samples: int = 1, batch_size: int = 500):
        """Per-example −ELBO in nats ``[N]``, the reconstruction term averaged over samples."""
        x = self._check_images(x)
        values = []
        for start in range(0, len(x), batch_size):
            chunk = x[start : start + batch_size]
            chunk_condition = None if condition is None else condition[start : start + batch_size]
            total = 0.0
            for _ in range(num_samples):
                reconstruction, kl = self.loss_terms(chunk, self._condition(chunk_condition))
                total = total + reconstruction + kl
            values.append(ops.convert_to_numpy(total) / num_samples)
        return np.concatenate(values)

    def importance_weighted_nll(
        self, x, condition=None, num_samples: int = 500, batch_size: int | None = None, seed: int = 0
    ):
        """Per-example ``−log p(x)`` estimate in nats ``[N]`` (Burda et al. 2016, k = num_samples).

        ``−log (1/k) Σ_i q(x|z_i) q(z_i) / p(z_i|x)`` with ``z_i ~ p(z|x)``: an upper bound on the
        NLL that tightens as k grows (k = 1 gives the negative ELBO).
        """
        x = self._check_images(x)
        batch_size = batch_size or max(1, 4000 // num_samples)
        generator = keras.random.SeedGenerator(seed)
        if getattr(self, "_log_marginal_function", None) is None:
            self._log_marginal_function = tf.function(self._negative_log_marginal, reduce_retracing=True)
        values = []
        for start in range(0, len(x), batch_size):
            images = x[start : start + batch_size]
            count = int(images.shape[0])
            chunk_condition = None if condition is None else condition[start : start + batch_size]
            prior_mean = self.prior_mean(self._condition(chunk_condition))
            prior_mean = tf.broadcast_to(prior_mean, (count, self.latent_dim))
            if count < batch_size:  # pad the last chunk so every call has one shape (one trace)
                images = tf.concat([images, tf.repeat(images[-1:], batch_size - count, 0)], 0)
                prior_mean = tf.concat([prior_mean, tf.repeat(prior_mean[-1:], batch_size - count, 0)], 0)
            epsilon = keras.random.normal((num_samples, batch_size, self.latent_dim), seed=generator)
            values.append(self._log_marginal_function(images, prior_mean, epsilon).numpy()[:count])
        return np.concatenate(values)

    def _negative_log_marginal(self, images, prior_mean, epsilon):
        """The k-sample bound for one chunk; ``epsilon [k, B, D]`` gives ``z = μ + σ ε``."""
        num_samples = tf.shape(epsilon)[0]
        mu, log_var = self.encoder(images, training=False)
        z = mu + tf.exp(0.5 * log_var) * epsilon  # [k, B, D]
        logits = self.decoder(tf.reshape(z, (-1, self.latent_dim)), training=False)
        tiled = tf.reshape(
            tf.broadcast_to(images, tf.concat([[num_samples], tf.shape(images)], 0)), tf.shape(logits)
        )
        log_likelihood = -tf.reshape(self.likelihood.negative_log_likelihood(tiled, logits), tf.shape(z)[:2])
        log_prior = diagonal_normal(prior_mean, tf.ones_like(prior_mean)).log_prob(z)
        log_weights = log_likelihood + log_prior - self.posterior(mu, log_var).log_prob(z)
        log_k = tf.math.log(tf.cast(num_samples, tf.float32))
        return -(tf.reduce_logsumexp(log_weights, axis=0) - log_k)

    def _condition(self, condition):
        return condition

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                **self.nested_config(),
                "likelihood_sigma": self.likelihood_sigma,
                "kl_weight": self.kl_weight,
                "seed": self.seed,
            }
        )
        return config
