"""Test set-up: two logical CPUs for MirroredStrategy checks, quiet TensorFlow, MNIST path."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from kerasgen.testing import configure_logical_cpus, parametrize_harness

configure_logical_cpus(2)


def pytest_generate_tests(metafunc):
    """Runs each ``HarnessTests`` check once per ``ModelSpec`` of the test class."""
    parametrize_harness(metafunc)


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mnist_dir():
    """The IDX folder the tests read MNIST from (``$KERASGEN_DATA_DIR``, set by ./run.sh test)."""
    path = os.environ.get("KERASGEN_DATA_DIR")
    if not path or not os.path.isdir(path):
        pytest.skip("KERASGEN_DATA_DIR does not point at an MNIST IDX folder")
    return path
