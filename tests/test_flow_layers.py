"""Flow layers: exact inverses, per-example log-dets against tape Jacobians and tfp bijectors."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from kerasgen.layers.flow import (
    ActNorm,
    AffineCoupling,
    ChannelPermute,
    ElementwiseAffine,
    FlowStep,
    InvertibleConv1x1,
    MultiScaleFlow,
    Squeeze2D,
    Unsqueeze2D,
)

tfb = tfp.bijectors
RNG = np.random.default_rng(0)


def _randomise(layer, scale=0.3, seed=0):
    """Give every trainable weight non-trivial values (zero-init heads would make couplings identities)."""
    rng = np.random.default_rng(seed)
    for weight in layer.trainable_weights:
        if weight.path.endswith(("lower", "upper")):
            continue  # keep the LU factors of a rotation: W stays well conditioned
        weight.assign(weight.numpy() + scale * rng.normal(size=weight.shape).astype("float32"))
    return layer


def _built(layer, shape):
    keras.utils.set_random_seed(0)  # initial weights too: unseeded ones made the tolerances flaky
    layer.build((None, *shape))
    # Deep stacks compound the perturbation: keep a multi-scale flow near its (identity) start.
    return _randomise(layer, scale=0.05 if isinstance(layer, MultiScaleFlow) else 0.3)


LAYERS = {
    "actnorm": (lambda: ActNorm(), (4, 4, 3)),
    "actnorm_vector": (lambda: ActNorm(use_shift=False), (6,)),
    "conv1x1_lu": (lambda: InvertibleConv1x1(seed=1), (3, 3, 4)),
    "conv1x1_full": (lambda: InvertibleConv1x1(lu=False, seed=1), (3, 3, 4)),
    "permute_random": (lambda: ChannelPermute("random", seed=3), (2, 2, 5)),
    "permute_reverse": (lambda: ChannelPermute("reverse"), (6,)),
    "coupling_affine": (lambda: AffineCoupling(8), (4, 4, 4)),
    "coupling_additive": (lambda: AffineCoupling(8, additive=True), (4, 4, 3)),
    "coupling_vector": (lambda: AffineCoupling(8, depth=2), (6,)),
    "elementwise_affine": (lambda: ElementwiseAffine(), (3, 3, 2)),
    "squeeze": (lambda: Squeeze2D(), (4, 4, 2)),
    "unsqueeze": (lambda: Unsqueeze2D(), (2, 2, 8)),
    "step_paper": (lambda: FlowStep(8, additive=False, mixing="conv1x1", data_init=True, seed=2), (4, 4, 4)),
    "step_author": (lambda: FlowStep(8, additive=True, mixing="random", seed=2), (4, 4, 4)),
    "multiscale": (
        lambda: MultiScaleFlow(levels=2, depth=2, hidden=8, additive=False, mixing="conv1x1"),
        (8, 8, 1),
    ),
    "multiscale_learned_top": (
        lambda: MultiScaleFlow(
            levels=2, depth=1, hidden=8, additive=False, mixing="conv1x1", learned_top=True
        ),
        (8, 8, 1),
    ),
}


def _flat_forward(layer, shape):
    def f(flat):
        y, _ = layer.forward(tf.reshape(flat, (-1, *shape)))
        return tf.reshape(y, (tf.shape(flat)[0], -1))

    return f


@pytest.mark.parametrize("name", list(LAYERS))
def test_inverse_of_forward_is_identity(name):
    make, shape = LAYERS[name]
    layer = _built(make(), shape)
    x = tf.constant(RNG.normal(size=(5, *shape)).astype("float32"))
    y, log_det = layer.forward(x)
    x_back, inverse_log_det = layer.inverse(y)
    np.testing.assert_allclose(x_back.numpy(), x.numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(inverse_log_det.numpy(), -log_det.numpy(), rtol=1e-5, atol=1e-5)
    assert log_det.shape == (5,)


@pytest.mark.parametrize("name", list(LAYERS))
def test_log_det_matches_the_jacobian(name):
    """Per-example log|det ∂y/∂x| equals slogdet of the tape-computed Jacobian."""
    make, shape = LAYERS[name]
    layer = _built(make(), shape)
    x = tf.constant(RNG.normal(size=(3, *shape)), tf.float64)
    size = int(np.prod(shape))
    flat = tf.reshape(tf.cast(x, tf.float32), (3, size))
    with tf.GradientTape() as tape:
        tape.watch(flat)
        y = _flat_forward(layer, shape)(flat)
    jacobian = tape.batch_jacobian(y, flat).numpy().astype(np.float64)
    _, expected = np.linalg.slogdet(jacobian)
    _, log_det = layer.forward(tf.reshape(flat, (3, *shape)))
    np.testing.assert_allclose(log_det.numpy(), expected, rtol=1e-4, atol=2e-4)


@pytest.mark.parametrize(
    "make, shape",
    [(lambda: ActNorm(), (4, 4, 3)), (lambda: ElementwiseAffine(), (3, 3, 2))],
    ids=["actnorm_per_channel", "elementwise_affine_per_entry"],
)
def test_affine_layers_match_tfb_scale_and_shift(make, shape):
    layer = _built(make(), shape)
    if isinstance(layer, ElementwiseAffine):
        assert not np.allclose(layer.log_scale.numpy(), layer.log_scale.numpy().mean())  # per entry
    x = tf.constant(RNG.normal(size=(2, *shape)).astype("float32"))
    bijector = tfb.Chain([tfb.Shift(layer.shift.numpy()), tfb.Scale(np.exp(layer.log_scale.numpy()))])
    y, log_det = layer.forward(x)
    np.testing.assert_allclose(y.numpy(), bijector.forward(x).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        log_det.numpy(), bijector.forward_log_det_jacobian(x, event_ndims=3), rtol=1e-5
    )


def test_conv1x1_matches_tfb_matvec():
    layer = _built(InvertibleConv1x1(seed=4), (3, 3, 4))
    x = tf.constant(RNG.normal(size=(2, 3, 3, 4)).astype("float32"))
    operator = tf.linalg.LinearOperatorFullMatrix(layer.weight_matrix())
    bijector = tfb.ScaleMatvecLinearOperator(operator)
    y, log_det = layer.forward(x)
    np.testing.assert_allclose(y.numpy(), bijector.forward(x).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        log_det.numpy(), bijector.forward_log_det_jacobian(x, event_ndims=3), rtol=1e-4
    )


def test_permutation_matches_tfb_permute():
    layer = _built(ChannelPermute("random", seed=7), (2, 2, 6))
    x = tf.constant(RNG.normal(size=(2, 2, 2, 6)).astype("float32"))
    bijector = tfb.Permute(layer.permutation.numpy())
    np.testing.assert_array_equal(layer.forward(x)[0].numpy(), bijector.forward(x).numpy())


def test_actnorm_data_init_gives_zero_mean_unit_variance():
    layer = ActNorm(data_init=True)
    x = tf.constant((3.0 + 2.5 * RNG.normal(size=(64, 4, 4, 3))).astype("float32"))
    layer.initialize(x)
    y, _ = layer.forward(x)
    np.testing.assert_allclose(y.numpy().mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.numpy().var(axis=(0, 1, 2)), 1.0, rtol=1e-4)
    assert float(layer.initialized.numpy()) == 1.0


def test_multiscale_data_init_normalises_every_actnorm():
    flow = MultiScaleFlow(levels=2, depth=1, hidden=8, data_init=True)
    flow.build((None, 8, 8, 1))
    x = tf.constant(RNG.random((32, 8, 8, 1)).astype("float32"))
    flow.initialize(x)
    z, _ = flow.forward(x)
    assert abs(float(tf.reduce_mean(z[:, -flow.latent_sizes[-1] :]))) < 1e-4  # the final ActNorm's output


def test_reloaded_flow_is_the_same_bijection(tmp_path):
    """The permutation is a saved weight: even built from another seed, loading restores the bijection."""

    class Wrapper(keras.Model):
        def __init__(self, flow, **kwargs):
            super().__init__(**kwargs)
            self.flow = flow

        def call(self, x):
            return self.flow(x)[0]

    x = tf.constant(RNG.random((4, 8, 8, 1)).astype("float32"))
    original = Wrapper(MultiScaleFlow(levels=2, depth=2, hidden=8, seed=0))
    original(x)
    _randomise(original.flow, scale=0.05)
    original.save_weights(tmp_path / "flow.weights.h5")
    reloaded = Wrapper(MultiScaleFlow(levels=2, depth=2, hidden=8, seed=99))
    reloaded(x)
    reloaded.load_weights(tmp_path / "flow.weights.h5")
    np.testing.assert_array_equal(reloaded(x).numpy(), original(x).numpy())
    z = original(x)
    np.testing.assert_allclose(reloaded.flow.inverse(z)[0].numpy(), x.numpy(), atol=1e-5)


def test_flow_layer_config_round_trip():
    flow = MultiScaleFlow(
        levels=2, depth=3, hidden=16, additive=False, mixing="conv1x1", data_init=True, seed=5
    )
    clone = MultiScaleFlow.from_config(flow.get_config())
    assert clone.get_config() == flow.get_config()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="mixing"):
        FlowStep(mixing="shuffle")
    with pytest.raises(ValueError, match="divisible"):
        Squeeze2D().forward(tf.zeros((1, 3, 4, 1)))
    with pytest.raises(ValueError, match="random"):
        ChannelPermute("sorted")
