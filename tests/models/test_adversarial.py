"""GAN, WGAN-GP, the regularised GAN, AAE and ALI: the harness plus what posts 3 and 7 pin down."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasgen.losses import gradient_penalty
from kerasgen.models import AAE, ALI, GAN, WGANGP, VIRegularizedGAN
from kerasgen.models.adversarial import (
    build_dcgan_discriminator,
    build_dcgan_generator,
    build_joint_discriminator,
    build_latent_discriminator,
    build_mlp_critic,
    build_mlp_encoder,
    build_mlp_generator,
)
from kerasgen.testing import HarnessTests, ModelSpec

RNG = np.random.default_rng(0)
IMAGES = (RNG.random((64, 28, 28, 1)) < 0.3).astype("float32")
BAD_INPUTS = [
    ("flat images", np.zeros((4, 784), "float32")),
    ("missing channel axis", np.zeros((4, 28, 28), "float32")),
    ("uint8 pixels", np.zeros((4, 28, 28, 1), "uint8")),
]


def _compile(model, optimizer):
    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    return model


def _adam():
    return keras.optimizers.Adam(1e-3, beta_1=0.5)


def _sgd():
    return keras.optimizers.SGD(0.05)


def tiny_gan(seed=0, optimizer=_adam, regularized=False):
    networks = {
        "generator": build_mlp_generator(latent_dim=4, hidden_units=(16,), init_scale=None),
        "discriminator": build_mlp_critic(hidden_units=(16,), init_scale=None),
    }
    if regularized:
        return _compile(VIRegularizedGAN(**networks, generator_steps=4, seed=seed), optimizer)
    return _compile(GAN(**networks, generator_steps=2, seed=seed), optimizer)


def tiny_wgan(seed=0, optimizer=_adam, penalty="two_sided_sq"):
    model = WGANGP(
        build_mlp_generator(latent_dim=4, hidden_units=(16,), init_scale=None),
        build_mlp_critic(hidden_units=(16,), init_scale=None),
        critic_steps=2,
        penalty=penalty,
        latent_distribution="uniform",
        seed=seed,
    )
    return _compile(model, optimizer)


def tiny_aae(seed=0, optimizer=_adam):
    model = AAE(
        build_mlp_encoder(latent_dim=2, hidden_units=(16,)),
        build_mlp_generator(latent_dim=2, hidden_units=(16,), init_scale=None, name="decoder"),
        build_latent_discriminator(latent_dim=2, hidden_units=(8,)),
        reconstruction_weight=0.1,
        seed=seed,
    )
    return _compile(model, optimizer)


def tiny_ali(seed=0, optimizer=_adam, ge_loss="vi", gaussian=True):
    model = ALI(
        build_mlp_encoder(latent_dim=2, hidden_units=(16,), gaussian=gaussian),
        build_mlp_generator(latent_dim=2, hidden_units=(16,), init_scale=None),
        build_joint_discriminator(latent_dim=2, hidden_units=(16,), dropout=0.0),
        ge_loss=ge_loss,
        seed=seed,
    )
    return _compile(model, optimizer)


def _spec(build, total_metric):
    return ModelSpec(
        build=build,
        data=IMAGES,
        call_inputs=IMAGES[:8],
        bad_inputs=BAD_INPUTS,
        expected_in_error="(batch, 28, 28, 1)",
        total_metric=total_metric,
        distributed_build=lambda seed: build(seed, optimizer=_sgd),
    )


SPECS = {
    "gan": _spec(tiny_gan, "d_loss"),
    "vigan": _spec(lambda seed, optimizer=_adam: tiny_gan(seed, optimizer, regularized=True), "d_loss"),
    "wgan_gp": _spec(tiny_wgan, "d_loss"),
    "aae": _spec(tiny_aae, "rec"),
    "ali": _spec(tiny_ali, "d_loss"),
}


class TestAdversarialHarness(HarnessTests):
    SPECS = SPECS


# ---------------------------------------------------------------------- WGAN-GP (post 3)
def _linear_critic(shape, seed=0):
    inputs = keras.Input(shape)
    outputs = keras.layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(seed=seed))(
        keras.layers.Flatten()(inputs)
    )
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("mode", ["two_sided_sq", "one_sided_hinge"])
def test_gradient_penalty_closed_form_for_linear_critic(mode):
    """D(x) = w·x + b has ∇D = w everywhere: the norm is ‖w‖ over *all* non-batch axes."""
    shape = (4, 4, 3)
    critic = _linear_critic(shape)
    w = critic.layers[-1].kernel.numpy()[:, 0]
    real, fake = RNG.random((5, *shape)).astype("float32"), RNG.random((5, *shape)).astype("float32")
    alpha = RNG.random((5, 1, 1, 1)).astype("float32")
    penalty, norm = gradient_penalty(critic, real, fake, alpha, mode)
    expected_norm = np.linalg.norm(w)
    np.testing.assert_allclose(norm.numpy(), np.full(5, expected_norm), rtol=1e-5)
    expected = (expected_norm - 1) ** 2 if mode == "two_sided_sq" else max(0.0, expected_norm - 1)
    np.testing.assert_allclose(penalty.numpy(), np.full(5, expected), rtol=1e-4)
    # A per-channel norm (the classic mistake) would give a different value.
    per_channel = np.linalg.norm(w.reshape(shape), axis=(0, 1)).mean()
    assert abs(per_channel - expected_norm) > 1e-2


def test_gradient_penalty_matches_finite_differences():
    """For a non-linear critic the input-gradient norm matches central finite differences."""
    critic = build_mlp_critic(hidden_units=(8,), image_shape=(3, 3, 1), init_scale=0.5, seed=1)
    real, fake = RNG.random((2, 3, 3, 1)).astype("float32"), RNG.random((2, 3, 3, 1)).astype("float32")
    alpha = np.array([0.3, 0.8], "float32").reshape(2, 1, 1, 1)
    _, norm = gradient_penalty(critic, real, fake, alpha)
    x_hat = (alpha * real + (1 - alpha) * fake).astype("float64")
    step = 1e-3
    for example in range(2):
        gradient = np.zeros(9)
        for k in range(9):
            delta = np.zeros(9)
            delta[k] = step
            up = critic((x_hat[example].ravel() + delta).reshape(1, 3, 3, 1).astype("float32"))
            down = critic((x_hat[example].ravel() - delta).reshape(1, 3, 3, 1).astype("float32"))
            gradient[k] = (float(up[0, 0]) - float(down[0, 0])) / (2 * step)
        np.testing.assert_allclose(norm.numpy()[example], np.linalg.norm(gradient), rtol=1e-2)


def test_interpolation_weights_are_one_uniform_draw_per_example(monkeypatch):
    """α is shaped [B, 1, 1, 1], lies in [0, 1] and differs between examples (keras-io #143)."""
    import kerasgen.models.adversarial.wgan_gp as wgan_module

    seen = []
    original = wgan_module.gradient_penalty

    def spy(critic, real, fake, alpha, mode, training):
        seen.append(keras.ops.convert_to_numpy(alpha))
        return original(critic, real, fake, alpha, mode, training)

    monkeypatch.setattr(wgan_module, "gradient_penalty", spy)
    model = tiny_wgan()
    model.discriminator_terms(tf.constant(IMAGES[:32]))
    (alpha,) = seen
    assert alpha.shape == (32, 1, 1, 1)
    assert alpha.min() >= 0 and alpha.max() <= 1
    assert alpha.std() > 0.15  # U(0, 1) has std 0.29; a shared α has 0


def test_critic_steps_see_disjoint_fresh_real_images():
    """The batch is dealt into critic_steps slices that partition it (fresh images each step)."""
    model = tiny_wgan()
    x = tf.constant(np.arange(8 * 784, dtype="float32").reshape(8, 28, 28, 1))
    slices = [s.numpy()[:, 0, 0, 0] for s in model._critic_batches(x)]
    assert len(slices) == 2
    firsts = np.arange(8) * 784.0
    np.testing.assert_array_equal(np.sort(np.concatenate(slices)), firsts)
    np.testing.assert_array_equal(slices[0], firsts[0::2])


def test_wgan_gp_critic_learns_to_separate_and_penalty_holds_norm():
    """A few hundred steps on real digits: the critic scores real above fake, ‖∇D‖ stays near 1."""
    keras.utils.set_random_seed(0)
    model = tiny_wgan()
    history = model.fit(IMAGES, batch_size=32, epochs=40, verbose=0).history
    assert history["wasserstein"][-1] > 0
    assert 0.5 < history["grad_norm"][-1] < 1.5


def test_interrupted_training_resumes_to_the_same_weights(tmp_path):
    """BackupAndRestore after a crash gives the weights of an uninterrupted run, both optimizers included."""

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("simulated crash")

    def data():
        return tf.data.Dataset.from_tensor_slices(IMAGES).batch(16)

    keras.utils.set_random_seed(0)
    uninterrupted = tiny_wgan()
    uninterrupted.fit(data(), epochs=3, verbose=0)

    backup = str(tmp_path / "backup")
    keras.utils.set_random_seed(0)
    crashed = tiny_wgan()
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashed.fit(
            data(), epochs=3, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup), Crash()]
        )
    keras.utils.set_random_seed(123)  # the restored state, not the seed, must decide the result
    resumed = tiny_wgan(seed=0)
    resumed.fit(data(), epochs=3, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup)])
    for a, b in zip(uninterrupted.weights, resumed.weights, strict=True):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)
    for optimizer_a, optimizer_b in (
        (uninterrupted.d_optimizer, resumed.d_optimizer),
        (uninterrupted.g_optimizer, resumed.g_optimizer),
    ):
        for a, b in zip(optimizer_a.variables, optimizer_b.variables, strict=True):
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)


def test_one_step_on_two_replicas_equals_one_device():
    """One train_step (2 critic slices, GP, generator step) on two replicas equals one device."""
    from kerasgen.testing import two_replica_strategy

    def one_step(strategy=None):
        keras.utils.set_random_seed(0)
        if strategy is None:
            model = tiny_wgan(optimizer=_sgd)
        else:
            with strategy.scope():
                model = tiny_wgan(optimizer=_sgd)
        model.fit(IMAGES[:32], batch_size=32, epochs=1, verbose=0, shuffle=False)
        return [w.numpy() for w in model.weights]

    for a, b in zip(one_step(), one_step(two_replica_strategy()), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_unknown_penalty_is_refused():
    with pytest.raises(ValueError, match="two_sided_sq"):
        tiny_wgan(penalty="l2")


# ---------------------------------------------------------------------- post 7's GAN regulariser
def test_regularizer_gradient_is_zero_at_the_anchor_and_not_after_one_step():
    model = tiny_gan(regularized=True)
    z = tf.constant(RNG.normal(size=(16, 4)).astype("float32"))
    anchor = tf.stop_gradient(model.generator(z, training=True))

    def regularizer_gradient():
        with tf.GradientTape() as tape:
            g_reg = model.anchor_terms(z, anchor, training=True)["g_reg"]
        return [g.numpy() for g in tape.gradient(g_reg, model.generator_variables)]

    assert all(np.all(g == 0) for g in regularizer_gradient())
    model._update(
        model.g_optimizer, model.generator_variables, lambda: model.anchor_terms(z, anchor, True), "g_loss"
    )
    assert max(np.abs(g).max() for g in regularizer_gradient()) > 0


def test_regularizer_is_lambda_times_mean_squared_distance():
    model = tiny_gan(regularized=True)
    z = tf.constant(RNG.normal(size=(8, 4)).astype("float32"))
    anchor = model.generator(z) + 0.1
    terms = model.anchor_terms(z, anchor)
    np.testing.assert_allclose(float(terms["g_reg"]), 5.0 * 0.01, rtol=1e-4)
    np.testing.assert_allclose(float(terms["g_loss"]), float(terms["g_adv"] + terms["g_reg"]), rtol=1e-6)


def test_single_step_per_anchor_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        VIRegularizedGAN(
            build_mlp_generator(latent_dim=4, hidden_units=(8,)),
            build_mlp_critic(hidden_units=(8,)),
            steps_per_anchor=1,
        )


def test_gan_discriminator_loss_is_half_the_binary_cross_entropy():
    model = tiny_gan()
    x = tf.constant(IMAGES[:16])
    keras.utils.set_random_seed(0)
    terms = model.discriminator_terms(x)
    d_real = float(terms["d_real"])
    assert 0 < d_real < 1 and float(terms["d_loss"]) > 0


# ---------------------------------------------------------------------- AAE and ALI (post 7)
def test_aae_discriminator_labels_prior_draws_one():
    """D(z) is "drawn from the prior" (post 7): a D that says so for N(0, I) and not for codes has ~0 loss."""
    model = tiny_aae()
    encoder_out = model.encoder.layers[-1]
    encoder_out.kernel.assign(np.zeros(encoder_out.kernel.shape, "float32"))
    encoder_out.bias.assign(np.full(encoder_out.bias.shape, 10.0, "float32"))  # every code = (10, 10)
    d_layers = [layer for layer in model.discriminator.layers if layer.weights]
    for layer in d_layers[:-1]:  # hidden layers: identity-like on the first units
        kernel = np.zeros(layer.kernel.shape, "float32")
        kernel[: min(kernel.shape), : min(kernel.shape)] = np.eye(min(kernel.shape))
        layer.kernel.assign(kernel)
        layer.bias.assign(np.zeros(layer.bias.shape, "float32"))
    last = d_layers[-1]
    kernel = np.zeros(last.kernel.shape, "float32")
    kernel[:2] = -2.0  # logit = −2 (z₁ + z₂) + 20: large for prior draws, −20 for the codes
    last.kernel.assign(kernel)
    last.bias.assign(np.array([20.0], "float32"))
    terms = model.discriminator_terms(tf.constant(IMAGES[:32]))
    assert float(terms["d_prior"]) > 0.99 and float(terms["d_code"]) < 0.01
    assert float(terms["d_loss"]) < 0.05
    assert float(model.generator_terms(tf.constant(IMAGES[:32]))["e_adv"]) > 10  # codes get caught


@pytest.mark.parametrize(
    "ge_loss, encoder_sign, generator_sign",
    [("vi", -1, -1), ("minimax", 1, -1), ("swapped", 1, -1)],
)
def test_ali_generator_encoder_loss_signs(ge_loss, encoder_sign, generator_sign):
    """∂ge_loss/∂logit: in post 7's loss the encoder *raises* D(x, E(x)) (co-operates with D)."""
    model = tiny_ali(ge_loss=ge_loss)
    encoder_logits, generator_logits = tf.Variable([[0.3], [-0.2]]), tf.Variable([[0.1], [0.4]])
    with tf.GradientTape() as tape:
        loss = model.generator_encoder_loss(encoder_logits, generator_logits)
    d_encoder, d_generator = tape.gradient(loss, [encoder_logits, generator_logits])
    assert np.all(np.sign(d_encoder.numpy()) == encoder_sign)
    assert np.all(np.sign(d_generator.numpy()) == generator_sign)


def test_ali_deterministic_encoder_and_reconstruction_shapes():
    model = tiny_ali(gaussian=False)
    assert not model.gaussian_encoder
    assert model.encode(IMAGES[:5]).shape == (5, 2)
    assert model.reconstruct(IMAGES[:5]).shape == (5, 28, 28, 1)


def test_unknown_ali_loss_is_refused():
    with pytest.raises(ValueError, match="vi"):
        tiny_ali(ge_loss="other")


# ---------------------------------------------------------------------- builders
@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize("normalization", [None, "batch", "layer"])
def test_dcgan_builders_shapes(size, normalization):
    generator = build_dcgan_generator(latent_dim=8, image_size=size, filters=4, normalization=normalization)
    discriminator = build_dcgan_discriminator(image_size=size, filters=4, normalization=normalization)
    images = generator(np.zeros((2, 8), "float32"))
    assert images.shape == (2, size, size, 1)
    assert float(keras.ops.min(images)) >= 0 and float(keras.ops.max(images)) <= 1
    assert discriminator(images).shape == (2, 1)
    has_bn = any(isinstance(layer, keras.layers.BatchNormalization) for layer in discriminator.layers)
    assert has_bn == (normalization == "batch")


def test_dcgan_builder_refuses_other_sizes():
    with pytest.raises(ValueError, match="28×28 or 32×32"):
        build_dcgan_generator(image_size=64)


def test_samples_are_images_in_unit_range_and_seeded():
    model = tiny_gan()
    first, second = model.sample(6, seed=3), model.sample(6, seed=3)
    assert first.shape == (6, 28, 28, 1) and 0 <= first.min() and first.max() <= 1
    np.testing.assert_array_equal(first, second)


# ---------------------------------------------------------------------- figures and recipes
def test_figures_each_model_offers():
    """TensorBoard and the demo show samples for all, reconstructions and the code scatter for AAE/ALI."""
    from kerasgen.eval.figures import model_figures

    labels = np.arange(16) % 10
    assert set(model_figures(tiny_wgan(), IMAGES[:16], labels)) == {"samples"}
    for model in (tiny_aae(), tiny_ali()):
        figures = model_figures(model, IMAGES[:16], labels)
        assert {"samples", "reconstructions", "latent_scatter"} <= set(figures)


@pytest.mark.parametrize("name", ["dcgan_mnist", "vigan_mnist", "wgan_gp_mnist", "aae_mnist", "ali_mnist"])
def test_recipe_trains_one_epoch_and_evaluates(name, tmp_path, mnist_dir):
    from kerasgen import recipes
    from kerasgen.training import train

    model = train(name, tmp_path, epochs=1, batch_size=40, limit=200, data_dir=mnist_dir, verbose=0)
    history = json.loads((tmp_path / "train_state.json").read_text())["history"]
    assert {"sample_fd", "sample_score", "sample_largest_class"} <= set(history[0])
    metrics = recipes.get(name).evaluate(model, data_dir=mnist_dir, quick=True)
    assert metrics["mnist_fd"] > 0 and 1 <= metrics["classifier_score"] <= 10
    assert metrics["floor"]["real_mnist_fd"] < metrics["mnist_fd"]


def test_mixed_precision_wraps_both_optimizers_and_keeps_losses_finite():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = tiny_wgan()
        assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
        history = model.fit(IMAGES, batch_size=16, epochs=2, verbose=0).history
        assert all(np.isfinite(values).all() for values in history.values())
    finally:
        keras.mixed_precision.set_global_policy("float32")
