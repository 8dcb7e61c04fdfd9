"""K-Means as EM (post 2): the shared harness, EM's monotonicity, soft → hard, and sklearn."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasgen.models.em import KMeans, cluster_purity
from kerasgen.testing import HarnessTests, ModelSpec

RNG = np.random.default_rng(0)
BLOBS = np.concatenate([RNG.normal(loc, 0.5, size=(32, 2)) for loc in ([0, 0], [4, 0], [0, 4], [4, 4])])
BLOBS = BLOBS[RNG.permutation(len(BLOBS))].astype("float32")
BAD_INPUTS = [
    ("three features", np.zeros((4, 3), "float32")),
    ("integer features", np.zeros((4, 2), "int64")),
]


def tiny_kmeans(seed=0, **kwargs):
    model = KMeans(4, seed=seed, **kwargs)
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    model.build((None, 2))
    model.initialize(BLOBS[:64] * 0.2)  # a poor start, so there is something to improve
    return model


def kmeans_spec(**options) -> ModelSpec:
    """The harness spec of a tiny K-Means built with ``options``."""
    return ModelSpec(
        lambda seed=0: tiny_kmeans(seed, **options),
        BLOBS,
        BLOBS[:8],
        BAD_INPUTS,
        "(batch, 2)",
        batch_size=32,
        total_metric="objective",
    )


SPECS = {
    "hard": kmeans_spec(),
    "soft": kmeans_spec(temperature=2.0),
    "mini_batch": kmeans_spec(mini_batch=True),
    "gradient": kmeans_spec(temperature=2.0, method="gradient"),
}


class TestKMeansHarness(HarnessTests):
    SPECS = SPECS


# ---------------------------------------------------------------------------- post 2
@pytest.mark.parametrize("temperature", [None, 0.5, 5.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_batch_em_never_worsens_its_objective(temperature, seed):
    data = np.random.default_rng(seed).normal(size=(300, 5)).astype("float32")
    model = KMeans(6, temperature=temperature, seed=seed)
    model.compile()
    history = model.fit(data, epochs=25, verbose=0).history["objective"]
    assert np.all(np.diff(history) <= 1e-5 * abs(history[0])), history


def test_em_step_is_the_m_step_of_the_post():
    model = KMeans(3, temperature=1.5)
    model.compile()
    model.set_centres(BLOBS[:3])
    distances = ((BLOBS[:, None] - BLOBS[:3][None]) ** 2).sum(-1)
    weights = np.exp(-1.5 * distances)
    weights /= weights.sum(1, keepdims=True)
    expected = weights.T @ BLOBS / weights.sum(0)[:, None]
    model.fit(BLOBS, epochs=1, verbose=0)
    np.testing.assert_allclose(model.centres.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_soft_kmeans_tends_to_hard_as_the_temperature_grows():
    start = BLOBS[[0, 1, 2, 3]]
    hard = KMeans(4)
    hard.compile()
    hard.set_centres(start)
    hard.fit(BLOBS, epochs=1, verbose=0)
    gaps = []
    for temperature in (0.1, 1.0, 10.0, 100.0, 10_000.0):
        soft = KMeans(4, temperature=temperature)
        soft.compile()
        soft.set_centres(start)
        soft.fit(BLOBS, epochs=1, verbose=0)
        gaps.append(np.abs(soft.centres.numpy() - hard.centres.numpy()).max())
    assert all(a > b for a, b in itertools.pairwise(gaps)), gaps
    assert gaps[-1] < 1e-3


def test_empty_cluster_is_reseeded_to_the_farthest_point():
    model = KMeans(3)
    model.compile()
    far_away = np.array([[100.0, 100.0], [101.0, 100.0], [0.0, 0.0]], "float32")
    model.set_centres(far_away)  # the first two centres own no point
    model.fit(BLOBS, epochs=1, verbose=0)
    centres = model.centres.numpy()
    assert np.all(np.abs(centres) < 20), "an empty cluster kept its useless centre"
    assert len(np.unique(model.predict(BLOBS, verbose=0))) == 3


def test_mini_batch_from_a_dataset_approaches_full_batch():
    full = KMeans(4, seed=3)
    full.compile()
    full.fit(BLOBS, epochs=30, verbose=0)
    streamed = KMeans(4, seed=3, mini_batch=True)
    streamed.compile()
    dataset = tf.data.Dataset.from_tensor_slices(BLOBS).shuffle(128, seed=0).batch(16)
    streamed.fit(dataset, epochs=10, verbose=0)
    assert streamed.inertia(BLOBS) < 1.05 * full.inertia(BLOBS)


def test_gradient_descent_reaches_the_em_objective_in_more_steps():
    start = BLOBS[[0, 5, 10, 15]]
    objectives = {}
    steps_needed = {}
    for method, optimizer, epochs in (("em", "sgd", 20), ("gradient", keras.optimizers.SGD(0.2), 400)):
        model = KMeans(4, temperature=2.0, method=method)
        model.compile(optimizer=optimizer)
        model.set_centres(start)
        history = model.fit(BLOBS, epochs=epochs, verbose=0).history["objective"]
        objectives[method] = history[-1]
        steps_needed[method] = int(np.argmax(np.array(history) < history[-1] + 1e-3)) + 1
    assert objectives["gradient"] == pytest.approx(objectives["em"], rel=1e-3)
    assert steps_needed["em"] * 5 < steps_needed["gradient"], steps_needed


def test_predict_transform_and_purity():
    model = KMeans(4, seed=0)
    model.compile()
    model.fit(BLOBS, epochs=20, verbose=0)
    labels = model.predict(BLOBS, verbose=0)
    distances = model.transform(BLOBS)
    np.testing.assert_array_equal(labels, distances.argmin(1))
    assert model.inertia(BLOBS) == pytest.approx((distances.min(1) ** 2).sum(), rel=1e-5)
    truth = np.array(
        [np.argmin(((c - np.array([[0, 0], [4, 0], [0, 4], [4, 4]])) ** 2).sum(1)) for c in BLOBS]
    )
    assert cluster_purity(truth, labels) > 0.95


def test_matches_scikit_learn_lloyd_on_mnist(mnist_dir):
    from sklearn.cluster import KMeans as ScikitKMeans

    from kerasgen.data.mnist_source import load_mnist_arrays

    x = (load_mnist_arrays()["test"].images.reshape(-1, 784) / 255.0).astype("float32")
    seeder = KMeans(10, seed=1)
    seeder.build(x.shape)
    seeder.initialize(x)
    start = seeder.centres.numpy()
    ours = KMeans(10)
    ours.compile()
    ours.set_centres(start)
    ours.fit(x, epochs=60, verbose=0)
    theirs = ScikitKMeans(10, init=start, n_init=1, max_iter=60, tol=0.0, algorithm="lloyd").fit(x)
    assert ours.inertia(x) == pytest.approx(theirs.inertia_, rel=1e-3)


def test_too_few_points_to_seed():
    model = KMeans(5)
    model.compile()
    with pytest.raises(ValueError, match="need at least 5 points"):
        model.fit(BLOBS[:3], epochs=1, verbose=0)


def test_image_shaped_points_fit_predict_and_show_centres_as_images():
    images = np.random.default_rng(0).random((40, 6, 6, 1)).astype("float32")
    model = KMeans(3, seed=0)
    model.compile()
    history = model.fit(images, epochs=3, verbose=0).history
    assert history["inertia"][-1] <= history["inertia"][0]
    assert model.cluster_centres().shape == (3, 6, 6, 1)
    np.testing.assert_allclose(model.inertia(images), history["inertia"][-1], rtol=0.2)
    assert model.predict(images, verbose=0).shape == (40,)
