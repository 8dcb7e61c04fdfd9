"""VAE and CVAE: the shared harness plus the behaviour posts 4 and 5 pin down."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from kerasgen import losses
from kerasgen.layers import BernoulliLikelihood, GaussianLikelihood, Reparameterize
from kerasgen.models import (
    CVAE,
    VAE,
    build_conv_decoder,
    build_conv_encoder,
    build_mlp_decoder,
    build_mlp_encoder,
)
from kerasgen.testing import HarnessTests, ModelSpec

RNG = np.random.default_rng(0)
IMAGES = (RNG.random((64, 28, 28, 1)) < 0.3).astype("float32")
LABELS = np.arange(64) % 10
BAD_INPUTS = [
    ("flat images", np.zeros((4, 784), "float32")),
    ("missing channel axis", np.zeros((4, 28, 28), "float32")),
    ("uint8 pixels", np.zeros((4, 28, 28, 1), "uint8")),
]


def tiny_vae(seed=0, likelihood="bernoulli"):
    model = VAE(
        build_mlp_encoder(hidden_units=(32,), latent_dim=2),
        build_mlp_decoder(hidden_units=(32,), latent_dim=2),
        likelihood=likelihood,
        seed=seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def tiny_conv_vae(seed=0):
    model = VAE(
        build_conv_encoder(filters=(4, 8), hidden_units=8, latent_dim=4),
        build_conv_decoder(filters=(8, 4), latent_dim=4),
        likelihood="gaussian_learned_scalar",
        seed=seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def tiny_cvae(seed=0):
    model = CVAE(
        build_mlp_encoder(hidden_units=(32,), latent_dim=2),
        build_mlp_decoder(hidden_units=(32,), latent_dim=2),
        seed=seed,
    )
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3))
    return model


def with_sgd(build):
    """The same tiny model compiled with SGD, whose step scales with the gradient."""

    def build_with_sgd(seed=0):
        model = build(seed)
        model.compile(optimizer=keras.optimizers.SGD(1e-3))
        return model

    return build_with_sgd


SPECS = {
    "vae": ModelSpec(
        tiny_vae, IMAGES, IMAGES[:8], BAD_INPUTS, "(batch, 28, 28, 1)", distributed_build=with_sgd(tiny_vae)
    ),
    "conv_vae": ModelSpec(
        tiny_conv_vae,
        IMAGES,
        IMAGES[:8],
        BAD_INPUTS,
        "(batch, 28, 28, 1)",
        distributed_build=with_sgd(tiny_conv_vae),
    ),
    "cvae": ModelSpec(
        tiny_cvae,
        (IMAGES, LABELS),
        [IMAGES[:8], LABELS[:8]],
        [(name, [x, LABELS[:4]]) for name, x in BAD_INPUTS],
        "(batch, 28, 28, 1)",
        distributed_build=with_sgd(tiny_cvae),
    ),
}


class TestVAEHarness(HarnessTests):
    SPECS = SPECS


# ---------------------------------------------------------------------------- post 4 and 5
def test_kl_closed_form_matches_formula_and_monte_carlo():
    mu = RNG.normal(size=(5, 3)).astype("float32")
    log_var = RNG.normal(scale=0.5, size=(5, 3)).astype("float32")
    model = VAE(
        build_mlp_encoder(hidden_units=(8,), latent_dim=3),
        build_mlp_decoder(hidden_units=(8,), latent_dim=3),
    )
    kl = model.kl_divergence(mu, log_var).numpy()
    tfp_kl = tfp.distributions.kl_divergence(model.posterior(mu, log_var), model.prior()).numpy()
    np.testing.assert_allclose(kl, tfp_kl, rtol=1e-5)
    # Monte-Carlo E_q[log q(z|x) − log p(z)] with 200k samples.
    posterior = model.posterior(mu, log_var)
    z = posterior.sample(200_000, seed=1)
    monte_carlo = tf.reduce_mean(posterior.log_prob(z) - model.prior().log_prob(z), axis=0).numpy()
    np.testing.assert_allclose(kl, monte_carlo, atol=0.03)


def test_cvae_kl_is_towards_the_class_mean():
    model = tiny_cvae()
    one_hot = tf.one_hot(LABELS[:4], 10)
    class_mean = model.class_prior_mean(one_hot).numpy()
    log_var = np.zeros((4, 2), "float32")
    # Posterior exactly at its class mean with unit variance: KL = 0.
    np.testing.assert_allclose(model.kl_divergence(class_mean, log_var, one_hot).numpy(), 0.0, atol=1e-6)
    shifted = class_mean + 1.0
    np.testing.assert_allclose(model.kl_divergence(shifted, log_var, one_hot).numpy(), 1.0, rtol=1e-5)


def test_bernoulli_likelihood_sums_cross_entropy_over_pixels():
    x = RNG.random((3, 28, 28, 1)).astype("float32")  # grey levels, as post 4 trains on
    logits = RNG.normal(size=(3, 28, 28, 1)).astype("float32")
    probabilities = 1 / (1 + np.exp(-logits))
    expected = -(x * np.log(probabilities) + (1 - x) * np.log(1 - probabilities)).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(BernoulliLikelihood().negative_log_likelihood(x, logits), expected, rtol=1e-4)
    # Keras' mean-reduced cross-entropy is 784 times smaller: the pitfall post 4 warns about.
    keras_mean = keras.losses.binary_crossentropy(x.reshape(3, -1), probabilities.reshape(3, -1))
    np.testing.assert_allclose(expected / 784, keras_mean, rtol=1e-3)


@pytest.mark.parametrize("sigma", [0.1, 1.0])
def test_gaussian_fixed_sigma_is_scaled_mse_with_constants(sigma):
    x = RNG.random((2, 28, 28, 1)).astype("float32")
    logits = RNG.normal(size=(2, 28, 28, 1)).astype("float32")
    mean = 1 / (1 + np.exp(-logits))
    d = 784
    expected = (
        ((x - mean) ** 2).sum(axis=(1, 2, 3)) / (2 * sigma**2)
        + d * math.log(sigma)
        + d / 2 * math.log(2 * math.pi)
    )
    likelihood = GaussianLikelihood(sigma=sigma)
    np.testing.assert_allclose(likelihood.negative_log_likelihood(x, logits), expected, rtol=1e-5)
    np.testing.assert_allclose(losses.gaussian_nll(x, mean, math.log(sigma)), expected, rtol=1e-5)


@pytest.mark.parametrize(
    "likelihood",
    [
        BernoulliLikelihood(),
        GaussianLikelihood(0.2),
        GaussianLikelihood(0.2, "scalar"),
        GaussianLikelihood(0.2, "pixel"),
    ],
    ids=["bernoulli", "gaussian_fixed", "gaussian_scalar", "gaussian_pixel"],
)
def test_closed_form_nll_equals_the_tfp_distribution(likelihood):
    x = RNG.random((3, 28, 28, 1)).astype("float32")
    logits = RNG.normal(size=(3, 28, 28, 1)).astype("float32")
    likelihood.build(x.shape)
    if likelihood.built and getattr(likelihood, "learn", "none") == "pixel":
        likelihood.log_sigma.assign(RNG.normal(scale=0.3, size=(28, 28, 1)).astype("float32") + math.log(0.2))
    expected = -likelihood.distribution(logits).log_prob(x).numpy()
    np.testing.assert_allclose(likelihood.negative_log_likelihood(x, logits), expected, rtol=1e-5)


def test_learned_sigma_is_trained():
    model = tiny_vae(likelihood="gaussian_learned_pixel")
    before = model.likelihood.log_sigma.numpy().copy()
    assert before.shape == (28, 28, 1)
    model.fit(IMAGES, epochs=1, batch_size=16, verbose=0)
    assert not np.allclose(model.likelihood.log_sigma.numpy(), before)


def test_reparameterize_draws_from_the_posterior():
    layer = Reparameterize(seed=3)
    mu = np.full((20_000, 2), [1.0, -2.0], "float32")
    log_var = np.full((20_000, 2), [0.0, math.log(4.0)], "float32")
    z = layer([mu, log_var]).numpy()
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(z.std(axis=0), [1.0, 2.0], rtol=0.03)
    np.testing.assert_array_equal(layer([mu, log_var], sample=False), mu)


def test_summed_reconstruction_keeps_the_latent_informative():
    """With the KL at full weight the 2-d code still carries information about x (no collapse)."""
    model = tiny_vae()
    model.fit(IMAGES, epochs=30, batch_size=16, verbose=0)
    mu, _ = model.encode(IMAGES)
    assert mu.std(axis=0).max() > 0.1


def test_importance_weighted_bound_is_tighter_than_elbo():
    model = tiny_vae()
    model.fit(IMAGES, epochs=5, batch_size=16, verbose=0)
    elbo = model.negative_elbo(IMAGES[:16], num_samples=50).mean()
    iw = model.importance_weighted_nll(IMAGES[:16], num_samples=200).mean()
    iw_one = model.importance_weighted_nll(IMAGES[:16], num_samples=1, seed=5).mean()
    assert iw < elbo
    assert abs(iw_one - elbo) < 0.1 * elbo  # k = 1 is a one-sample ELBO


def test_iw_nll_matches_numerical_integration_of_the_marginal():
    """With a 1-d latent, −log p(x) = −log ∫ q(x|z) q(z) dz by quadrature; the k-sample bound must agree."""
    image_shape = (2, 2, 1)
    keras.utils.set_random_seed(1)
    model = VAE(
        build_mlp_encoder(image_shape, hidden_units=(8,), latent_dim=1),
        build_mlp_decoder(image_shape, hidden_units=(8,), latent_dim=1),
        likelihood="gaussian_fixed",
        likelihood_sigma=0.3,
        seed=0,
    )
    x = np.random.default_rng(7).random((3, *image_shape)).astype("float32")
    # A trained encoder gives a proposal close to the posterior, hence a low-variance estimate.
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(np.repeat(x, 30, axis=0), epochs=20, batch_size=30, verbose=0)
    grid = np.linspace(-9.0, 9.0, 6001, dtype="float32")[:, None]
    logits = model.decoder(grid)
    log_joint = np.stack(
        [
            -model.likelihood.negative_log_likelihood(np.repeat(x[i : i + 1], len(grid), 0), logits).numpy()
            + tfp.distributions.Normal(0.0, 1.0).log_prob(grid[:, 0]).numpy()
            for i in range(len(x))
        ]
    )
    exact = -(tf.reduce_logsumexp(log_joint, axis=1).numpy() + math.log(grid[1, 0] - grid[0, 0]))
    estimate = model.importance_weighted_nll(x, num_samples=20_000, batch_size=1)
    np.testing.assert_allclose(estimate, exact, atol=0.05)
    assert np.all(model.negative_elbo(x, num_samples=500) > exact - 0.1)  # the ELBO is a bound


def test_cvae_samples_come_from_the_requested_class_mean():
    model = tiny_cvae()
    means = model.class_means()
    assert means.shape == (10, 2)
    decoded = model.decode(means[[3]])
    sampled = model.sample(1, labels=[3], seed=None)
    assert sampled.shape == decoded.shape == (1, 28, 28, 1)


def test_cvae_without_labels_says_what_to_feed():
    with pytest.raises(ValueError, match="needs class labels"):
        tiny_cvae().fit(IMAGES, epochs=1, verbose=0)


def test_invalid_labels_are_rejected():
    with pytest.raises(ValueError, match="integer class ids"):
        tiny_cvae().fit((IMAGES, np.zeros((64, 3), "float32")), epochs=1, batch_size=16, verbose=0)


def test_mixed_precision_trains_with_float32_losses():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = tiny_vae()
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        history = model.fit(IMAGES, epochs=2, batch_size=16, verbose=0).history
        reconstruction, kl = model.loss_terms(IMAGES[:4])
        assert reconstruction.dtype == kl.dtype == tf.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.all(np.isfinite(history["loss"])) and history["loss"][-1] < history["loss"][0]
