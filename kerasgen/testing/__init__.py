"""The shared model test harness: checks every kerasgen model family must pass.

A family describes its model once, as a ``ModelSpec`` (a ``build(seed)`` that returns a
compiled tiny model, a small batch of training data, inputs for ``call``, and inputs that must
be rejected), and its tests run every check through ``HarnessTests`` instead of re-writing them::

    class TestVAEHarness(HarnessTests):
        SPECS = {"mlp": ModelSpec(build=tiny_vae, data=images, call_inputs=images[:4], ...)}

The ``check_*`` functions are public too, for a family that needs one with other arguments.

Distributed checks need two logical CPU devices, configured before TensorFlow starts:
call ``configure_logical_cpus(2)`` at the top of ``conftest.py``.
"""

from kerasgen.testing.harness import (
    HarnessTests,
    ModelSpec,
    check_bad_inputs_raise,
    check_config_round_trip,
    check_distributed_matches_single_device,
    check_fit_lowers_loss,
    check_metrics_reported,
    check_saved_model_round_trip,
    configure_logical_cpus,
    parametrize_harness,
    two_replica_strategy,
)

__all__ = [
    "HarnessTests",
    "ModelSpec",
    "check_bad_inputs_raise",
    "check_config_round_trip",
    "check_distributed_matches_single_device",
    "check_fit_lowers_loss",
    "check_metrics_reported",
    "check_saved_model_round_trip",
    "configure_logical_cpus",
    "parametrize_harness",
    "two_replica_strategy",
]
