"""Implementation of the shared model checks (see ``kerasgen.testing``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import keras
import numpy as np


@dataclass
class ModelSpec:
    """What the harness needs to know about one model.

    Attributes:
        build: ``seed → compiled model``; the same seed must give the same initial weights.
        data: training data for ``fit``: an array, a tuple of arrays (``(x,)``, ``(x, y)``), or a
            callable returning a fresh *unshuffled* ``tf.data.Dataset``.
        call_inputs: inputs for ``model(...)`` whose outputs are compared after round trips.
        bad_inputs: ``(description, inputs)`` pairs that ``model(...)`` and ``fit`` must reject
            with a ``ValueError`` whose message contains ``expected_in_error``.
        expected_in_error: text every bad-input error must contain (e.g. the expected shape).
        batch_size: batch size for ``fit`` (must divide evenly over two replicas).
        epochs: epochs for the fitting check.
        total_metric: the metric that must fall during ``fit``.
        distributed_build: ``seed → compiled model`` for the two-replica check; defaults to
            ``build``. Compile it with plain SGD: Adam and RMSprop are invariant to the scale
            of the gradient, so with them a loss summed instead of averaged over replicas
            would go unnoticed.
    """

    build: Callable[[int], keras.Model]
    data: Any
    call_inputs: Any
    bad_inputs: Sequence[tuple[str, Any]] = field(default_factory=list)
    expected_in_error: str = ""
    batch_size: int = 16
    epochs: int = 5
    total_metric: str = "loss"
    distributed_build: Callable[[int], keras.Model] | None = None


def configure_logical_cpus(count: int = 2) -> None:
    """Split the CPU into ``count`` logical devices; must run before TensorFlow initialises."""
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError:  # already initialised: keep whatever is there
        pass


@functools.cache
def two_replica_strategy():
    """One ``MirroredStrategy`` over two logical CPUs, shared by every check in the process.

    TensorFlow's collective ops key their instances per strategy object; several strategies
    alive in one process can cross-match all-reduces of different models, so reuse this one.
    """
    import tensorflow as tf

    devices = tf.config.list_logical_devices("CPU")
    assert len(devices) >= 2, "configure_logical_cpus(2) must run before TensorFlow starts"
    return tf.distribute.MirroredStrategy([d.name for d in devices[:2]])


def _dataset(spec: ModelSpec):
    import tensorflow as tf

    if callable(spec.data):
        return spec.data()
    return tf.data.Dataset.from_tensor_slices(spec.data).batch(spec.batch_size)


def _outputs(model, inputs) -> list[np.ndarray]:
    outputs = model(inputs, training=False)
    return [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(outputs)]


def _assert_same_outputs(first, second, context: str, atol: float = 0.0) -> None:
    for a, b in zip(first, second, strict=True):
        np.testing.assert_allclose(a, b, atol=atol, rtol=0, err_msg=context)


def _assert_same_weights(first: keras.Model, second: keras.Model, context: str) -> None:
    for a, b in zip(first.weights, second.weights, strict=True):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), err_msg=f"{context}: {a.path}"
        )


def _optimizers(model: keras.Model) -> list:
    """Every optimizer the model holds (``optimizer``, and e.g. ``d_optimizer``/``g_optimizer``)."""
    found = {}
    for value in vars(model).values():
        if isinstance(value, keras.optimizers.Optimizer):
            found[id(value)] = value
    if getattr(model, "optimizer", None) is not None:
        found[id(model.optimizer)] = model.optimizer
    return list(found.values())


def check_fit_lowers_loss(spec: ModelSpec, seed: int = 0) -> dict:
    """A few epochs of ``fit`` keep every reported term finite and lower the total."""
    keras.utils.set_random_seed(seed)
    model = spec.build(seed)
    history = model.fit(_dataset(spec), epochs=spec.epochs, verbose=0).history
    for name, values in history.items():
        assert np.all(np.isfinite(values)), f"{name} became non-finite: {values}"
    total = history[spec.total_metric]
    assert total[-1] < total[0], f"{spec.total_metric} did not fall: {total}"
    return history


def check_metrics_reported(spec: ModelSpec, seed: int = 0) -> None:
    """Every metric the model declares appears in ``fit``'s history and in ``evaluate``."""
    model = spec.build(seed)
    history = model.fit(_dataset(spec), validation_data=_dataset(spec), epochs=1, verbose=0).history
    declared = [m.name for m in model.metrics]
    assert declared, "the model declares no metrics"
    results = model.evaluate(_dataset(spec), return_dict=True, verbose=0)
    for name in declared:
        assert name in history, f"metric {name!r} missing from fit history {sorted(history)}"
        assert f"val_{name}" in history, f"metric val_{name} missing from fit history"
        assert name in results, f"metric {name!r} missing from evaluate() {sorted(results)}"
        assert np.isfinite(results[name]), f"evaluate() gave a non-finite {name}"


def check_config_round_trip(spec: ModelSpec, seed: int = 0) -> None:
    """``from_config(get_config())`` rebuilds the same config and, given the weights, the same outputs."""
    model = spec.build(seed)
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config, "get_config → from_config → get_config changed the config"
    build_config = model.get_build_config()
    if build_config and not clone.built:  # as `.keras` loading does for models built on data
        clone.build_from_config(build_config)
    clone.set_weights(model.get_weights())
    _assert_same_outputs(
        _outputs(model, spec.call_inputs), _outputs(clone, spec.call_inputs), "config round trip"
    )


def check_saved_model_round_trip(spec: ModelSpec, directory: str | Path, seed: int = 0) -> keras.Model:
    """``.keras`` save → load gives the same class, identical outputs and the optimizer state."""
    model = spec.build(seed)
    model.fit(_dataset(spec), epochs=1, verbose=0)
    path = Path(directory) / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model), f"loaded a {type(loaded).__name__}, saved a {type(model).__name__}"
    _assert_same_outputs(
        _outputs(model, spec.call_inputs), _outputs(loaded, spec.call_inputs), ".keras round trip"
    )
    _assert_same_weights(model, loaded, ".keras round trip changed a weight")
    saved_optimizers, loaded_optimizers = _optimizers(model), _optimizers(loaded)
    assert len(saved_optimizers) == len(loaded_optimizers), "an optimizer was lost in the .keras round trip"
    for saved, restored in zip(saved_optimizers, loaded_optimizers, strict=True):
        saved_slots = [keras.ops.convert_to_numpy(v) for v in saved.variables]
        loaded_slots = [keras.ops.convert_to_numpy(v) for v in restored.variables]
        assert len(saved_slots) == len(loaded_slots), "optimizer variables lost in the .keras round trip"
        for a, b in zip(saved_slots, loaded_slots, strict=True):
            np.testing.assert_array_equal(a, b, err_msg="optimizer state changed in the .keras round trip")
    return loaded


def check_distributed_matches_single_device(
    spec: ModelSpec, seed: int = 0, epochs: int = 2, rtol: float = 1e-4, atol: float = 1e-5
) -> None:
    """``fit`` inside a two-replica ``MirroredStrategy`` matches one device on a fixed seed.

    Needs ``configure_logical_cpus(2)``. Losses must be reduced over the global batch and
    randomness must not depend on the replica count for this to hold.
    """
    build = spec.distributed_build or spec.build
    keras.utils.set_random_seed(seed)
    single = build(seed)
    single_history = single.fit(_dataset(spec), epochs=epochs, verbose=0, shuffle=False).history

    strategy = two_replica_strategy()
    keras.utils.set_random_seed(seed)
    with strategy.scope():
        mirrored = build(seed)
    mirrored_history = mirrored.fit(_dataset(spec), epochs=epochs, verbose=0, shuffle=False).history

    for name, values in single_history.items():
        np.testing.assert_allclose(
            mirrored_history[name],
            values,
            rtol=rtol,
            atol=atol,
            err_msg=f"metric {name} differs on 2 replicas",
        )
    for a, b in zip(single.weights, mirrored.weights, strict=True):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(b),
            keras.ops.convert_to_numpy(a),
            rtol=rtol,
            atol=atol,
            err_msg=f"weight {a.path} differs after training on 2 replicas",
        )


def check_bad_inputs_raise(spec: ModelSpec, seed: int = 0) -> None:
    """Each bad input raises a ``ValueError`` naming the expected input, from ``call`` and ``fit``."""
    import pytest

    assert spec.bad_inputs, "the spec lists no bad inputs"
    model = spec.build(seed)
    for description, inputs in spec.bad_inputs:
        with pytest.raises(ValueError, match=None) as info:
            model(inputs)
        assert spec.expected_in_error in str(info.value), (
            f"{description}: error does not name the expected input: {info.value}"
        )
        with pytest.raises(ValueError) as info:
            model.fit(inputs, epochs=1, batch_size=spec.batch_size, verbose=0)
        assert spec.expected_in_error in str(info.value), (
            f"{description} (fit): error does not name the expected input: {info.value}"
        )


class HarnessTests:
    """Every harness check as a pytest test, for each ``ModelSpec`` in ``SPECS``.

    In a family's test module::

        class TestKMeansHarness(HarnessTests):
            SPECS = {"hard": ModelSpec(...), "soft": ModelSpec(...)}

    ``tests/conftest.py`` parametrizes the ``harness_spec`` argument over ``SPECS`` (see
    ``parametrize_harness``), so each check runs once per spec, named after its key.
    """

    SPECS: ClassVar[dict[str, ModelSpec]] = {}

    def test_fit_lowers_loss(self, harness_spec):
        check_fit_lowers_loss(harness_spec)

    def test_metrics_reported(self, harness_spec):
        check_metrics_reported(harness_spec)

    def test_config_round_trip(self, harness_spec):
        check_config_round_trip(harness_spec)

    def test_saved_model_round_trip(self, harness_spec, tmp_path):
        check_saved_model_round_trip(harness_spec, tmp_path)

    def test_distributed_matches_single_device(self, harness_spec):
        check_distributed_matches_single_device(harness_spec)

    def test_bad_inputs_raise(self, harness_spec):
        check_bad_inputs_raise(harness_spec)


def parametrize_harness(metafunc) -> None:
    """``pytest_generate_tests`` body: run ``HarnessTests`` methods once per spec of the class."""
    if "harness_spec" in metafunc.fixturenames and metafunc.cls is not None:
        specs = metafunc.cls.SPECS
        metafunc.parametrize("harness_spec", list(specs.values()), ids=list(specs))
