"""Data loaders: tf.data pipelines for the datasets the zoo trains on."""

from kerasgen.data.mnist_source import (
    DataNotFoundError,
    MnistArrays,
    heldout_digits,
    load_mnist_arrays,
    mnist,
    stratified_split,
)

__all__ = [
    "DataNotFoundError",
    "MnistArrays",
    "heldout_digits",
    "load_mnist_arrays",
    "mnist",
    "stratified_split",
]
