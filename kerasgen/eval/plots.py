"""Images for TensorBoard, the demo and notebooks, drawn with numpy alone.

Every function returns a ``uint8`` array ``[H, W, 3]`` (or ``[H, W, 1]`` for grey grids), ready
for ``tf.summary.image`` (add a batch axis) or ``png_bytes``.
"""

from __future__ import annotations

import numpy as np

# Ten well-separated colours (Tableau 10), one per class.
PALETTE = np.array(
    [
        [31, 119, 180],
        [255, 127, 14],
        [44, 160, 44],
        [214, 39, 40],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [127, 127, 127],
        [188, 189, 34],
        [23, 190, 207],
    ],
    dtype=np.uint8,
)


def image_grid(images, columns: int | None = None, padding: int = 1) -> np.ndarray:
    """Tile ``[N, H, W, C]`` images with values in [0, 1] into one ``uint8`` grid ``[H', W', C]``."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"image_grid needs a non-empty [N, H, W, C] array, got shape {images.shape}.")
    count, height, width, channels = images.shape
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    grid = np.ones(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
        dtype=np.float32,
    )
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + col * (width + padding)
        grid[top : top + height, left : left + width] = image
    grid = np.nan_to_num(grid, nan=0.0)  # a diverged sample (e.g. a flow at high temperature) shows black
    return (np.clip(grid, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def manifold_grid(decode, size: int = 15, low: float = 0.05, high: float = 0.95, offset=None) -> np.ndarray:
    """Post 4's figure: decode a ``size × size`` grid of 2-d codes at Gaussian quantiles.

    Codes are ``Φ⁻¹(linspace(low, high, size))`` on each axis (plus ``offset``, e.g. a CVAE
    class mean), so equal areas of the prior get equal cells.
    """
    from scipy.stats import norm

    axis = norm.ppf(np.linspace(low, high, size)).astype(np.float32)
    grid_x, grid_y = np.meshgrid(axis, axis[::-1])
    codes = np.stack([grid_x.ravel(), grid_y.ravel()], axis=-1)
    if offset is not None:
        codes = codes + np.asarray(offset, dtype=np.float32)
    return image_grid(decode(codes), columns=size, padding=0)


def latent_scatter(codes, labels=None, size: int = 400, point: int = 2) -> np.ndarray:
    """Post 4's figure: 2-d latent means as coloured dots (one colour per class) on white."""
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"latent_scatter draws 2-d codes [N, 2]; got shape {codes.shape}.")
    canvas = np.full((size, size, 3), 255, dtype=np.uint8)
    low, high = np.percentile(codes, 0.5, axis=0), np.percentile(codes, 99.5, axis=0)
    span = np.maximum(high - low, 1e-6)
    pixels = ((codes - low) / span * (size - 2 * point - 1) + point).round().astype(int)
    pixels = np.clip(pixels, point, size - point - 1)
    colours = (
        PALETTE[np.asarray(labels) % len(PALETTE)]
        if labels is not None
        else np.zeros((len(codes), 3), np.uint8)
    )
    for (x, y), colour in zip(pixels, colours, strict=True):
        canvas[size - 1 - y - point : size - y + point, x - point : x + point + 1] = colour
    return canvas


def png_bytes(image: np.ndarray) -> bytes:
    """Encode a ``uint8`` ``[H, W, C]`` array as PNG."""
    import tensorflow as tf

    return tf.io.encode_png(np.asarray(image, dtype=np.uint8)).numpy()
