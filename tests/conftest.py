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


def _data_folder(variable: str, what: str) -> str:
    path = os.environ.get(variable)
    if not path or not os.path.isdir(path):
        pytest.skip(f"{variable} does not point at {what}")
    return path


@pytest.fixture(scope="session")
def mnist_dir():
    """The IDX folder the tests read MNIST from (``$KERASGEN_DATA_DIR``, set by ./run.sh test)."""
    return _data_folder("KERASGEN_DATA_DIR", "an MNIST IDX folder")


@pytest.fixture(scope="session")
def mrc_folder():
    """The shared Chinese MRC files (``$KERASGEN_MRC_DIR``, set by ./run.sh test)."""
    return _data_folder("KERASGEN_MRC_DIR", "the shared MRC files")
