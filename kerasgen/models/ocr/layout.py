"""Text layout for printed-Chinese OCR (post 1): image → ink mask → text lines → character cuts.

Two families of functions live here, all numpy + ``scipy.ndimage`` (no OpenCV, no scikit-image):

* the pipeline the reader uses: :func:`load_image` → :func:`binarise` (Sauvola threshold from integral
  images, polarity detection, speck removal) → :func:`find_lines` (horizontal projection profile, bands
  merged at the scale of the text) → :func:`segment_line` (the post's step 7 projection rule, improved
  for narrow Latin/digits, punctuation and touching glyphs, optionally driven by a classifier ``scorer``
  through dynamic programming over :func:`cut_candidates`);
* the post's own steps 1-5, faithful, for the notebook: :func:`post_preprocess`, :func:`kde_layers`,
  :func:`erosion_filter`, :func:`pool_layers`, :func:`post_denoise`, and its step 7 :func:`post_segment_line`.

Conventions: images are ``(rows, columns)``; ink masks are ``bool`` with ``True`` = ink; boxes are
``(x0, y0, x1, y1)`` and segments ``(x0, x1)`` with exclusive ends, so ``ink[y0:y1, x0:x1]`` is the crop.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy import ndimage

DEFAULT_MAX_PIXELS = 40_000_000
EIGHT = np.ones((3, 3), bool)  # 8-connectivity, as the post labels components

Box = tuple[int, int, int, int]
Scorer = Callable[[list[np.ndarray]], np.ndarray]


# ---------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------


def _refuse_size(shape: Sequence[int], max_pixels: int | None) -> None:
    if len(shape) >= 2 and (shape[0] == 0 or shape[1] == 0):
        raise ValueError(f"empty image of shape {tuple(shape)}: nothing to read; pass an image with pixels.")
    if max_pixels is not None and int(shape[0]) * int(shape[1]) > max_pixels:
        raise ValueError(
            f"image of {shape[1]}x{shape[0]} = {int(shape[0]) * int(shape[1]):,} pixels exceeds max_pixels="
            f"{max_pixels:,}; downscale it first (text of 20-60 px height reads best) or raise max_pixels."
        )


def _pil_to_array(image) -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(image, np.float64) / 65535.0
    if mode in ("I", "F"):
        array = np.asarray(image, np.float64)
        top = float(array.max()) if array.size else 1.0
        return array / (255.0 if top <= 255 else 65535.0)
    if mode == "1":
        return np.asarray(image.convert("L"))
    if mode in ("L", "RGB", "RGBA"):
        return np.asarray(image)
    if mode in ("LA", "PA") or "transparency" in image.info:
        return np.asarray(image.convert("RGBA"))
    return np.asarray(image.convert("RGB"))


def load_image(image, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Any image → float32 gray ``(H, W)`` in [0, 1] (post step 1's luma ``0.299R + 0.587G + 0.114B``).

    Args:
        image: a path (``str``/``Path``), a PIL image, or an array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)``
            or ``(H, W, 4)`` of bool, unsigned integers (scaled by their maximum: 255, 65535) or floats
            (taken as [0, 1]; floats above 1 are taken as 0..255). Alpha is composited on white.
        max_pixels: larger images are refused (``None``: no limit).

    Raises:
        ValueError: unreadable or missing file, empty image, wrong dimensions/channels, non-finite values,
            or more than ``max_pixels`` pixels; the message says what to do.
    """
    if isinstance(image, (str, os.PathLike)):
        from PIL import Image

        path = Path(image)
        if not path.is_file():
            raise ValueError(f"no image file at {str(path)!r}; check the path.")
        try:
            with Image.open(path) as handle:
                _refuse_size((handle.size[1], handle.size[0]), max_pixels)
                handle.load()
                array = _pil_to_array(handle)
        except Image.DecompressionBombError as error:
            raise ValueError(
                f"{str(path)!r} is far too large to read safely ({error}); downscale it first."
            ) from None
        except (OSError, SyntaxError) as error:  # PIL.UnidentifiedImageError is an OSError
            raise ValueError(
                f"cannot read {str(path)!r} as an image ({error}); pass a PNG/JPEG/BMP/TIFF file or an array."
            ) from None
    elif hasattr(image, "mode") and hasattr(image, "size") and hasattr(image, "getbands"):
        _refuse_size((image.size[1], image.size[0]), max_pixels)
        array = _pil_to_array(image)
    else:
        array = np.asarray(image)
    if array.dtype == object or not (
        array.dtype == bool
        or np.issubdtype(array.dtype, np.integer)
        or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(
            f"image array of dtype {array.dtype} is not numeric; pass uint8, float or bool pixels."
        )
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(
            f"image of shape {array.shape} is not (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); pass one image "
            "at a time with channels last."
        )
    _refuse_size(array.shape, max_pixels)
    if array.dtype == bool:
        values = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.integer):
        if array.min() < 0:
            raise ValueError("integer image with negative values; pass uint8 (0..255) or floats in [0, 1].")
        top = 255.0 if array.max() <= 255 or array.dtype.itemsize == 1 else 65535.0
        values = array.astype(np.float32) / top
    else:
        values = array.astype(np.float32)
        if not np.isfinite(values).all():
            raise ValueError("image contains NaN or infinite values; clean it before reading.")
        if values.max() > 1.0:
            values = values / 255.0
    values = np.clip(values, 0.0, 1.0)
    if values.ndim == 3:
        rgb = values[..., :3]
        gray = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
        if values.shape[-1] == 4:
            alpha = values[..., 3]
            gray = gray * alpha + (1.0 - alpha)
        values = gray
    return np.ascontiguousarray(values, dtype=np.float32)


# ---------------------------------------------------------------------------------------------------------
# Binarisation
# ---------------------------------------------------------------------------------------------------------


def _window_means(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Local mean and std over a ``window``² box clipped at the image borders.

    The box sums are the integral-image sums, computed separably by scipy's running-sum box filter
    (zero outside the image) and divided by the number of pixels the clipped box holds.
    """
    half = window // 2
    rows, cols = values.shape
    count = np.outer(
        np.clip(np.arange(rows) + half + 1, 0, rows) - np.clip(np.arange(rows) - half, 0, rows),
        np.clip(np.arange(cols) + half + 1, 0, cols) - np.clip(np.arange(cols) - half, 0, cols),
    ) / float(window * window)
    values = np.asarray(values, np.float64)
    mean = ndimage.uniform_filter(values, window, mode="constant") / count
    squares = ndimage.uniform_filter(values * values, window, mode="constant") / count
    return mean, np.sqrt(np.maximum(squares - mean**2, 0.0))


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of values in [0, 1] (256 bins)."""
    hist = np.bincount(np.clip((values * 255).round().astype(np.int64), 0, 255).ravel(), minlength=256)
    hist = hist.astype(np.float64)
    levels = np.arange(256.0)
    weight0 = hist.cumsum()
    weight1 = weight0[-1] - weight0
    sum0 = (hist * levels).cumsum()
    mean0 = sum0 / np.maximum(weight0, 1e-12)
    mean1 = (sum0[-1] - sum0) / np.maximum(weight1, 1e-12)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    return (int(np.argmax(between)) + 0.5) / 255.0


def text_is_light(gray: np.ndarray, window: int | None = None) -> bool:
    """Polarity: ``True`` when the text is lighter than its background (light on dark).

    Text is the minority that departs strongly from its neighbourhood: with the local mean ``m`` removed
    (which also removes gradients and uneven lighting), dark text leaves a long negative tail of
    ``gray − m`` and light text a long positive one; the longer tail (0.5th vs 99.5th percentile) wins.
    """
    gray = np.asarray(gray, np.float64)
    window = _default_window(gray.shape) if window is None else int(window) | 1
    mean, _ = _window_means(gray, window)
    return _light_from_residual(gray - mean)


def _light_from_residual(residual: np.ndarray) -> bool:
    flat = residual.ravel()
    if flat.size > 200_000:  # a strided sample is plenty for two tail percentiles
        flat = flat[:: flat.size // 200_000 + 1]
    low, high = np.percentile(flat, [0.5, 99.5])
    return bool(high > -low)


def _default_window(shape: Sequence[int]) -> int:
    return max(25, min(shape) // 8) | 1


def remove_specks(ink: np.ndarray, min_area: int = 3) -> np.ndarray:
    """Drop 8-connected ink components smaller than ``min_area`` pixels."""
    ink = np.asarray(ink, bool)
    if min_area <= 1 or not ink.any():
        return ink.copy()
    labels, count = ndimage.label(ink, EIGHT)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = sizes >= min_area
    keep[0] = False
    return keep[labels]


def binarise(
    gray,
    window: int | None = None,
    k: float = 0.2,
    polarity: str = "auto",
    min_contrast: float = 0.08,
    min_speck: int = 3,
) -> np.ndarray:
    """Ink mask (``True`` = ink) by Sauvola's local threshold ``T = m·(1 + k·(s/R − 1))``, R = 0.5.

    The local mean ``m`` and std ``s`` come from integral images over a ``window``² box (default: an odd
    size ≈ 1/8 of the shorter side, at least 25 px, i.e. about two text heights on a line crop). A pixel
    is ink when it is below ``T`` and also at least ``min_contrast`` × (global 1st-99th percentile range)
    darker than its local mean, which keeps noise in flat dark regions out. Light-on-dark text is
    inverted first (``polarity='auto'`` decides with :func:`text_is_light`; ``'dark'``/``'light'`` force
    it). Components smaller than ``min_speck`` pixels are removed.

    Args:
        gray: anything :func:`load_image` accepts.
    """
    gray = load_image(gray, max_pixels=None)
    if polarity not in ("auto", "dark", "light"):
        raise ValueError(f"polarity must be 'auto', 'dark' or 'light', not {polarity!r}.")
    window = _default_window(gray.shape) if window is None else int(window) | 1
    mean, std = _window_means(gray, window)
    light = _light_from_residual(gray - mean) if polarity == "auto" else polarity == "light"
    values = 1.0 - gray if light else gray
    if light:
        mean = 1.0 - mean
    threshold = mean * (1.0 + k * (std / 0.5 - 1.0))
    low, high = np.percentile(values.ravel()[:: values.size // 100_000 + 1], [1, 99])
    ink = (values < threshold) & (mean - values > min_contrast * max(high - low, 0.05))
    return remove_specks(ink, min_speck)


# ---------------------------------------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------------------------------------


def _runs(flags: np.ndarray) -> np.ndarray:
    """``(n, 2)`` starts and (exclusive) ends of the runs of ``True`` in a 1-D array."""
    padded = np.concatenate([[False], np.asarray(flags, bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges.reshape(-1, 2)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])


def find_lines(ink: np.ndarray, margin: int = 2, min_speck: int = 3, merge_ratio: float = 1.25) -> list[Box]:
    """Text lines ``(x0, y0, x1, y1)``, top to bottom, from the horizontal projection profile of the ink.

    Rows with ink form bands. Bands that belong to one line (the two strokes of 二, dots of a line of
    ……, accents) are merged while the merged band stays within ``merge_ratio`` × the text size of the
    two bands (1.6 × when one band is a thin stroke at most a quarter size away, as the top of 元 over
    digits shorter than the hanzi), where a band's text size is the ink-weighted median of
    ``max(height, width)`` of its 8-connected components (a stroke of 二 is as wide as a character, so
    it measures the font size).
    Specks (components < ``min_speck`` px), bands whose components are all tiny compared with the page's
    text, and far-away tiny column clusters are ignored. Each line's x-extent is its own ink (first-line
    indents and ragged ends are kept), then ``margin`` pixels are added. Single column only.
    """
    ink = remove_specks(np.asarray(ink, bool), min_speck)
    if ink.ndim != 2:
        raise ValueError(f"find_lines wants a 2-D ink mask, not shape {ink.shape}.")
    rows, cols = ink.shape
    if not ink.any():
        return []
    labels, count = ndimage.label(ink, EIGHT)
    objects = ndimage.find_objects(labels)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:].astype(np.float64)
    tops = np.array([o[0].start for o in objects])
    sizes = np.array([max(o[0].stop - o[0].start, o[1].stop - o[1].start) for o in objects], np.float64)
    bands = _runs(ink.any(1))
    # each component lies inside exactly one band (bands are separated by blank rows)
    band_of = np.searchsorted(bands[:, 0], tops, side="right") - 1
    band_size = np.zeros(len(bands))
    band_ink = np.bincount(band_of, weights=areas, minlength=len(bands))
    for index in range(len(bands)):
        members = band_of == index
        band_size[index] = _weighted_median(sizes[members], areas[members])
    merged: list[list[float]] = []  # [y0, y1, size, ink]
    for (start, stop), size, mass in zip(bands, band_size, band_ink, strict=True):
        if merged:
            last = merged[-1]
            bigger = max(last[2], size)
            # a thin band a blank row or two from the next (the top stroke of 元 over a line of digits)
            thin = min(last[1] - last[0], stop - start) < 0.35 * bigger and start - last[1] <= 0.25 * bigger
            if stop - last[0] <= (1.6 if thin else merge_ratio) * bigger:
                last[1] = stop
                last[2] = max(last[2], size)
                last[3] += mass
                continue
        merged.append([float(start), float(stop), float(size), float(mass)])
    page_size = _weighted_median(np.array([m[2] for m in merged]), np.array([m[3] for m in merged]))
    boxes: list[Box] = []
    for y0, y1, size, _ in merged:
        y0, y1 = int(y0), int(y1)
        if size < 0.3 * page_size and (y1 - y0) < 0.3 * page_size:
            continue  # a band of specks
        column_ink = ink[y0:y1].sum(0)
        clusters = _runs(column_ink > 0)
        # group column runs separated by gaps < 3 text sizes, drop tiny far-away groups
        groups: list[list[int]] = []
        for start, stop in clusters:
            if groups and start - groups[-1][1] < 3 * size:
                groups[-1][1] = int(stop)
            else:
                groups.append([int(start), int(stop)])
        masses = np.array([column_ink[a:b].sum() for a, b in groups], np.float64)
        kept = [g for g, m in zip(groups, masses, strict=True) if m >= 0.02 * masses.sum()]
        x0, x1 = kept[0][0], kept[-1][1]
        # tighten the rows to the ink inside the kept columns
        row_ink = np.flatnonzero(ink[y0:y1, x0:x1].any(1))
        y0, y1 = y0 + int(row_ink[0]), y0 + int(row_ink[-1]) + 1
        boxes.append(
            (max(0, x0 - margin), max(0, y0 - margin), min(cols, x1 + margin), min(rows, y1 + margin))
        )
    return boxes


def _ink_fraction(ink: np.ndarray, box: Box) -> float:
    x0, y0, x1, y1 = box
    return float(ink[y0:y1, x0:x1].mean()) if x1 > x0 and y1 > y0 else 0.0


def _overlap(a: Box, b: Box) -> bool:
    """Whether two line boxes share at least half the height of the lower one and some columns."""
    rows = min(a[3], b[3]) - max(a[1], b[1])
    return rows >= 0.5 * min(a[3] - a[1], b[3] - b[1]) and min(a[2], b[2]) > max(a[0], b[0])


def find_text_lines(gray, faint: float = 0.1) -> list[tuple[np.ndarray, Box]]:
    """Lines of text of either polarity, top to bottom, each with the ink mask to cut it from.

    The image's main polarity (:func:`text_is_light`) gives :func:`binarise` and :func:`find_lines`.
    A poster can also hold a line of the other polarity (white text on a grey band among dark lines);
    the main mask then shows only its anti-aliased edges, a line with ink on less than ``faint`` of its
    box, or no line at all. In those two cases only, the other polarity is binarised too: its components
    taller than 1.5 or wider than 3 main line heights (the halos around the main text) are dropped, and
    each of its lines that overlaps no proper main line is kept, replacing the faint lines it covers
    when it has at least twice their ink. Not handled: a smooth grey stripe across the whole width, whose
    halo in the main mask is one wide component that joins the lines around it.

    Args:
        gray: anything :func:`load_image` accepts.
    """
    gray = load_image(gray, max_pixels=None)
    main = binarise(gray)
    lines = [(main, box, _ink_fraction(main, box)) for box in find_lines(main)]
    proper = [(ink, box) for ink, box, fraction in lines if fraction >= faint]
    if len(proper) == len(lines) and lines:
        return proper
    other = binarise(gray, polarity="dark" if text_is_light(gray) else "light")
    if proper:
        height = float(np.median([box[3] - box[1] for _, box in proper]))
        labels, count = ndimage.label(other, EIGHT)
        big = np.zeros(count + 1, bool)
        for index, found in enumerate(ndimage.find_objects(labels), start=1):
            big[index] = (
                found[0].stop - found[0].start > 1.5 * height or found[1].stop - found[1].start > 3 * height
            )
        other = other & ~big[labels]
    kept = list(proper)
    faint_lines = [(ink, box, fraction) for ink, box, fraction in lines if fraction < faint]
    for box in find_lines(other):
        if any(_overlap(box, known) for _, known in proper):
            continue
        covered = [entry for entry in faint_lines if _overlap(box, entry[1])]
        if any(_ink_fraction(other, box) < 2 * fraction for _, _, fraction in covered):
            continue
        faint_lines = [entry for entry in faint_lines if not _overlap(box, entry[1])]
        kept.append((other, box))
    kept += [(ink, box) for ink, box, _ in faint_lines]
    return sorted(kept, key=lambda entry: (entry[1][1], entry[1][0]))


def estimate_skew(ink: np.ndarray, max_angle: float = 3.0, step: float = 0.1) -> float:
    """Text skew in degrees (positive: lines fall to the right), from the sharpest horizontal projection.

    Shears the ink coordinates by each candidate angle and keeps the one maximising the sum of squared
    row counts. Rotate the image by ``-angle`` (``scipy.ndimage.rotate``) before :func:`find_lines`.
    """
    ys, xs = np.nonzero(np.asarray(ink, bool))
    if len(ys) < 10:
        return 0.0
    best, best_angle = -1.0, 0.0
    for angle in np.arange(-max_angle, max_angle + step / 2, step):
        shifted = np.round(ys - xs * math.tan(math.radians(angle))).astype(np.int64)
        counts = np.bincount(shifted - shifted.min())
        energy = float(np.dot(counts, counts))
        if energy > best * (1 + 1e-9):
            best, best_angle = energy, float(angle)
    return round(best_angle, 3)


# ---------------------------------------------------------------------------------------------------------
# Characters
# ---------------------------------------------------------------------------------------------------------


class _Line:
    """Column geometry of one line crop: per-column ink counts, tops and bottoms, atoms, text size."""

    def __init__(self, line_ink: np.ndarray, min_speck: int | None = None) -> None:
        ink = np.asarray(line_ink)
        if ink.ndim != 2:
            raise ValueError(f"a line ink mask must be 2-D, not shape {ink.shape}.")
        ink = ink.astype(bool) if ink.dtype == bool else ink > (0.5 if ink.dtype.kind == "f" else 0)
        rows = np.flatnonzero(ink.any(1))
        height = int(rows[-1] - rows[0] + 1) if len(rows) else 0
        speck = min_speck if min_speck is not None else max(2, round(0.003 * height**2))
        ink = remove_specks(ink, speck)
        self.ink = ink
        self.width = ink.shape[1]
        self.profile = ink.sum(0).astype(np.int64)
        has = self.profile > 0
        self.top = np.where(has, np.argmax(ink, axis=0), ink.shape[0])
        self.bottom = np.where(has, ink.shape[0] - np.argmax(ink[::-1], axis=0), 0)
        self.atoms = _runs(has)
        rows = np.flatnonzero(ink.any(1))
        self.y0 = int(rows[0]) if len(rows) else 0
        self.y1 = int(rows[-1]) + 1 if len(rows) else 0
        line_height = max(self.y1 - self.y0, 1)
        if len(self.atoms):
            atom_top = np.array([self.top[a:b].min() for a, b in self.atoms])
            atom_bottom = np.array([self.bottom[a:b].max() for a, b in self.atoms])
            heights = atom_bottom - atom_top
            self.size = float(max(np.percentile(heights, 90), 0.8 * line_height))
        else:
            atom_top = atom_bottom = np.zeros(0, np.int64)
            self.size = float(line_height)
        self.atom_top, self.atom_bottom = atom_top, atom_bottom
        self.punct = self._punctuation_like()
        self.on_baseline = self._on_baseline()
        self.side = self.low_or_high()

    def _on_baseline(self) -> np.ndarray:
        """Atoms standing on a Latin/digit baseline that lies above the bottom of the hanzi.

        Digits and capitals share one baseline (their bottoms agree to a pixel), a little above where the
        hanzi end; two atoms that both stand on it are two characters, not the halves of one hanzi.
        """
        size = self.size
        flags = np.zeros(len(self.atoms), bool)
        if not len(self.atoms):
            return flags
        widths = self.atoms[:, 1] - self.atoms[:, 0]
        heights = self.atom_bottom - self.atom_top
        full = heights >= 0.9 * size
        if not full.any():
            return flags
        hanzi_bottom = float(np.median(self.atom_bottom[full]))
        latin = (heights >= 0.5 * size) & (heights < 0.92 * size) & (widths <= 0.8 * size) & ~self.punct
        if latin.sum() < 2:
            return flags
        counts = np.bincount(self.atom_bottom[latin])
        baseline = int(np.argmax(counts))
        tolerance = max(1.0, 0.03 * size)
        if counts[baseline] < 2 or hanzi_bottom - baseline <= tolerance:
            return flags
        return latin & (np.abs(self.atom_bottom - baseline) <= tolerance)

    def _punctuation_like(self) -> np.ndarray:
        """Atoms never merged with a neighbour: small ones sitting low (，。、) or high (“”), and colons.

        A small atom in the upper middle that almost touches a full-height atom on its right (within
        ``max(2 px, 0.06 H)``) is the dot of a left radical (忄 in 情), not a quote, and may merge.
        """
        size, span = self.size, max(self.y1 - self.y0, 1)
        widths = self.atoms[:, 1] - self.atoms[:, 0]
        heights = self.atom_bottom - self.atom_top
        centre = ((self.atom_top + self.atom_bottom) / 2.0 - self.y0) / span
        small = (widths < 0.4 * size) & (heights < 0.45 * size)
        gap_right = np.r_[self.atoms[1:, 0] - self.atoms[:-1, 1], np.inf]
        tall_right = np.r_[heights[1:] >= 0.8 * size, False]
        radical_dot = (centre >= 0.29) & (gap_right <= max(2.0, 0.06 * size)) & tall_right
        return (small & ((centre > 0.62) | (centre < 0.38)) & ~radical_dot) | self._colon_like()

    def _colon_like(self) -> np.ndarray:
        """Narrow atoms of exactly two dots of about one size, one above the other (``:``, ``：``).

        Each dot is under 0.3 H tall and wide and their areas are within a factor 2.5; the atom is under
        0.35 H wide and 0.85 H tall. Checked against 47 faces: every colon, and none of the dot-and-tick
        radicals (冫, 讠, 氵, 礻, 衤, 忄).
        """
        flags = np.zeros(len(self.atoms), bool)
        size = self.size
        for index, ((start, stop), top, bottom) in enumerate(
            zip(self.atoms, self.atom_top, self.atom_bottom, strict=True)
        ):
            if stop - start >= 0.35 * size or bottom - top >= 0.85 * size:
                continue
            labels, count = ndimage.label(self.ink[:, start:stop])
            if count != 2:
                continue
            (upper, lower) = sorted(ndimage.find_objects(labels), key=lambda box: box[0].start)
            areas = np.bincount(labels.ravel())[1:]
            flags[index] = (
                upper[0].stop <= lower[0].start
                and all(box[0].stop - box[0].start < 0.3 * size for box in (upper, lower))
                and all(box[1].stop - box[1].start < 0.3 * size for box in (upper, lower))
                and areas.min() >= areas.max() / 2.5
            )
        return flags

    def low_or_high(self) -> np.ndarray:
        """+1 for atoms in the lower half of the line, -1 for the upper half."""
        centre = (self.atom_top + self.atom_bottom) / 2.0
        return np.where(centre > (self.y0 + self.y1) / 2.0, 1, -1)

    def extent(self, start: int, stop: int) -> tuple[int, int, int, int] | None:
        """Ink box ``(x0, y0, x1, y1)`` of the columns ``[start, stop)``, or None if blank."""
        cols = np.flatnonzero(self.profile[start:stop])
        if not len(cols):
            return None
        x0, x1 = start + int(cols[0]), start + int(cols[-1]) + 1
        return x0, int(self.top[x0:x1].min()), x1, int(self.bottom[x0:x1].max())


def _ink_cuts(line: _Line, start: int, stop: int, min_width: float) -> list[tuple[int, float]]:
    """Cut columns inside a wide atom: projection minima and the post's uniform ``round(W/H)`` points."""
    size = line.size
    width = stop - start
    profile = line.profile[start:stop].astype(np.float64)
    smooth = ndimage.uniform_filter1d(profile, 3, mode="nearest")
    margin = max(1, round(min_width))
    found: dict[int, float] = {}
    if width > 2 * margin:
        inner = np.arange(margin, width - margin)
        values = smooth[inner]
        left = smooth[inner - 1]
        right = smooth[inner + 1]
        minima = inner[(values <= left) & (values <= right) & (values < 0.5 * smooth.max())]
        for offset in minima:
            found[start + int(offset)] = float(profile[offset])
    pieces = max(1, round(width / size))
    for piece in range(1, pieces):
        column = start + round(piece * width / pieces)
        # snap to the lowest-ink column within a fifth of a character
        reach = max(1, int(0.2 * size))
        lo, hi = max(start + margin, column - reach), min(stop - margin, column + reach + 1)
        if hi > lo:
            column = lo + int(np.argmin(line.profile[lo:hi]))
        found.setdefault(column, float(line.profile[column]))
    # thin out: keep the lower-ink column of any two closer than min_width
    cuts: list[tuple[int, float]] = []
    for column, value in sorted(found.items(), key=lambda item: (item[1], item[0])):
        if all(abs(column - other) >= min_width for other, _ in cuts):
            cuts.append((column, value))
    return sorted(cuts)


def _touching_cuts(line: _Line, start: int, stop: int, min_width: float) -> list[tuple[int, float]]:
    """Columns of a character-wide atom with almost no ink (≤ 6% of the text height): a touching point."""
    margin = max(1, round(min_width))
    profile = line.profile[start + margin : stop - margin]
    if not len(profile):
        return []
    low = np.flatnonzero(profile <= max(1.0, 0.06 * line.size))
    cuts: list[tuple[int, float]] = []
    for run in np.split(low, np.flatnonzero(np.diff(low) > 1) + 1) if len(low) else []:
        best = run[np.argmin(profile[run])]
        cuts.append((start + margin + int(best), float(profile[best])))
    return cuts


def _boundaries(line: _Line, min_width_ratio: float = 0.15, wide_ratio: float = 1.05):
    """Cut points: line start, zero-ink gap centres (the post's candidates), low-ink columns in wide atoms.

    Returns ``(columns, kinds, ink_costs)`` with kinds 0 = line end, 1 = blank gap, 2 = cut through ink.
    """
    atoms = line.atoms
    columns, kinds, costs = [int(atoms[0, 0])], [0], [0.0]
    for index, (start, stop) in enumerate(atoms):
        if stop - start > wide_ratio * line.size:
            cuts = _ink_cuts(line, int(start), int(stop), min_width_ratio * line.size)
        elif stop - start > 0.5 * line.size:  # two glyphs touching by a pixel or two
            cuts = _touching_cuts(line, int(start), int(stop), min_width_ratio * line.size)
        else:
            cuts = []
        for column, value in cuts:
            columns.append(column)
            kinds.append(2)
            costs.append(value / line.size)
        if index + 1 < len(atoms):
            columns.append((int(stop) + int(atoms[index + 1, 0])) // 2)
            kinds.append(1)
            costs.append(0.0)
    columns.append(int(atoms[-1, 1]))
    kinds.append(0)
    costs.append(0.0)
    return np.array(columns), np.array(kinds), np.array(costs)


def cut_candidates(line_ink: np.ndarray) -> list[int]:
    """Candidate cut columns of a line, left to right (line ends excluded).

    The post's step 7 candidates (each run of zero-ink columns collapsed to its mean) plus, inside atoms
    wider than a character, low-ink columns (local minima of the column projection) and the post's
    uniform ``round(W/H)`` cut points snapped to the nearest low-ink column. Cutting at column ``c``
    gives ``[.., c)`` and ``[c, ..)``.
    """
    line = _Line(line_ink)
    if not len(line.atoms):
        return []
    columns, _, _ = _boundaries(line)
    return [int(c) for c in columns[1:-1]]


def _geometry_cost(line: _Line, box, kinds: tuple[int, int], members: slice, gap: float) -> float:
    """Shape cost of one segment (1 per character plus penalties); ``inf`` forbids it."""
    size = line.size
    width = (box[2] - box[0]) / size
    height = (box[3] - box[1]) / size
    cost = 1.0
    cut_ends = (kinds[0] == 2) + (kinds[1] == 2)
    if cut_ends:
        if width < 0.15 or width > 1.3:
            return math.inf
        cost += 1.5 * abs(width - 1.0)
    n_atoms = members.stop - members.start
    if n_atoms > 1:
        punct = line.punct[members]
        if punct.all():  # the two ticks of “ or ”: one mark if close and on the same side
            sides = line.side[members]
            if width < 0.6 and gap < 0.25 and (sides == sides[0]).all():
                return cost + 0.2
            return math.inf
        if punct.any() or width > 1.3:
            return math.inf
        if line.on_baseline[members].all():
            cost += 6.0
        elif height < 0.8:
            cost += 2.0
        if width < 0.55:
            cost += 2.0
        elif width < 0.7:
            cost += 0.5
        if gap > 0.35:
            cost += 2.0
    if width > 1.15:
        cost += 6.0 * (width - 1.15)
    return cost


def _segment_table(line: _Line, max_ratio: float = 1.3):
    """All admissible segments ``(i, j, box, geometry cost)`` between boundaries i < j."""
    columns, kinds, costs = _boundaries(line)
    limit = max_ratio * line.size
    table = []
    n = len(columns)
    for i in range(n - 1):
        for j in range(i + 1, n):
            box = line.extent(int(columns[i]), int(columns[j]))
            if box is None:
                continue
            if j > i + 1 and box[2] - box[0] > limit:
                break
            # atoms covered by this segment
            first = np.searchsorted(line.atoms[:, 1], box[0], side="right")
            last = np.searchsorted(line.atoms[:, 0], box[2], side="left")
            gaps = line.atoms[first + 1 : last, 0] - line.atoms[first : last - 1, 1]
            gap = float(gaps.max()) / line.size if len(gaps) else 0.0
            cost = _geometry_cost(
                line, box, (int(kinds[i]), int(kinds[j])), slice(int(first), int(last)), gap
            )
            cost += costs[i] * (kinds[i] == 2) * 1.5 + costs[j] * (kinds[j] == 2) * 1.5
            if math.isfinite(cost) or j == i + 1:
                table.append((i, j, box, cost if math.isfinite(cost) else 50.0))
    return columns, table


def segment_line(
    line_ink: np.ndarray, scorer: Scorer | None = None, prior_weight: float = 0.25
) -> list[tuple[int, int]]:
    """Characters of one line as ``(x0, x1)`` ink column ranges, left to right.

    Without ``scorer``: the post's step 7 improved. Blank columns split the line into atoms; wide atoms
    get candidate cuts at low-ink columns (:func:`cut_candidates`); a dynamic programme then picks the
    partition with the least shape cost: one unit per character, atoms may merge into one character only
    when the group is character-shaped (≥ 0.8 of the text height, width 0.55-1.3 H, no punctuation-like
    member), pieces cut through ink should be about H wide, and segments wider than 1.15 H are penalised.
    Narrow Latin letters, digits (cap height < 0.8 H) and low/high punctuation therefore stay single.

    With ``scorer`` (``callable(list of 2-D bool crops) -> confidences in (0, 1]``, e.g. the classifier's
    top-1 probability), the programme maximises ``Σ log confidence − prior_weight · Σ shape cost`` over
    the same candidates (segment widths within [0.15 H, 1.3 H] where a cut goes through ink): this fixes
    touching glyphs and merged radicals the rules get wrong. The scorer is called once with all crops.
    """
    line = _Line(line_ink)
    if not len(line.atoms):
        return []
    columns, table = _segment_table(line)
    cost = np.array([entry[3] for entry in table], np.float64)
    if scorer is not None:
        crops = [line.ink[box[1] : box[3], box[0] : box[2]] for _, _, box, _ in table]
        confidence = np.asarray(scorer(crops), np.float64).reshape(-1)
        if confidence.shape != (len(crops),):
            raise ValueError(f"scorer returned {confidence.shape} values for {len(crops)} crops.")
        cost = -np.log(np.clip(confidence, 1e-12, 1.0)) + prior_weight * cost
    n = len(columns)
    best = np.full(n, math.inf)
    back = np.full(n, -1)
    best[0] = 0.0
    by_end: dict[int, list[int]] = {}
    for index, (_, j, _, _) in enumerate(table):
        by_end.setdefault(j, []).append(index)
    for j in range(1, n):
        for index in by_end.get(j, []):
            i = table[index][0]
            value = best[i] + cost[index]
            if value < best[j]:
                best[j], back[j] = value, index
    segments = []
    j = n - 1
    while j > 0:
        index = back[j]
        if index < 0:  # unreachable (should not happen): fall back to atoms
            return [(int(a), int(b)) for a, b in line.atoms]
        i, _, box, _ = table[index]
        segments.append((box[0], box[2]))
        j = i
    return segments[::-1]


def find_spaces(line_ink: np.ndarray, segments: Sequence[tuple[int, int]], ratio: float = 0.3) -> list[int]:
    """Indices ``i`` of segments preceded by a word space (a blank gap > ``ratio`` × text height)."""
    line = _Line(line_ink)
    return [i for i in range(1, len(segments)) if segments[i][0] - segments[i - 1][1] > ratio * line.size]


def post_segment_line(line_ink: np.ndarray, ratio: float = 1.2) -> list[tuple[int, int]]:
    """The post's step 7 verbatim: crop blanks; zero-ink column runs collapse to their mean; keep a cut iff
    ``(next − previous)/H > ratio``; a resulting segment of width W is cut uniformly into ``round(W/H)``.
    """
    ink = np.asarray(line_ink, bool)
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if not len(rows):
        return []
    height = rows[-1] - rows[0] + 1
    left, right = int(cols[0]), int(cols[-1]) + 1
    blank = _runs(~ink[:, left:right].any(0))
    points = [0.0] + [(a + b - 1) / 2.0 for a, b in blank] + [float(right - left)]
    kept = [points[0]]
    for index in range(1, len(points) - 1):
        if (points[index + 1] - points[index - 1]) / height > ratio:
            kept.append(points[index])
    kept.append(points[-1])
    segments = []
    for start, stop in itertools.pairwise(kept):
        pieces = max(1, round((stop - start) / height))
        for piece in range(pieces):
            a = start + (stop - start) * piece / pieces
            b = start + (stop - start) * (piece + 1) / pieces
            segments.append((left + math.ceil(a), left + math.floor(b) + 1))
    return [(a, min(b, right)) for a, b in segments]


# ---------------------------------------------------------------------------------------------------------
# The post's steps 1-5 (faithful)
# ---------------------------------------------------------------------------------------------------------


def post_preprocess(gray) -> np.ndarray:
    """Post step 1: luma gray (×255), ×2 cubic-spline zoom, ``x ← x²``, min-max to 0..255, round → uint8.

    Args:
        gray: anything :func:`load_image` accepts (colour is reduced to luma first).
    """
    values = load_image(gray).astype(np.float64) * 255.0
    zoomed = ndimage.zoom(values, 2)  # order=3, the post's default
    squared = zoomed**2
    low, high = squared.min(), squared.max()
    if high - low <= 1e-9 * max(abs(high), 1.0):  # a flat image (up to spline round-off)
        return np.zeros(squared.shape, np.uint8)
    return np.round((squared - low) / (high - low) * 255.0).astype(np.uint8)


def _as_levels(gray: np.ndarray) -> np.ndarray:
    values = np.asarray(gray)
    if values.dtype.kind == "f" and values.size and values.max() <= 1.0:
        values = values * 255.0
    return np.clip(np.round(values), 0, 255).astype(np.int64)


def kde_levels(gray: np.ndarray, bw_method: float = 0.2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Post step 2's density and layer boundaries/labels: ``(log density at 0..255, boundaries, labels)``.

    A Gaussian KDE of all pixel values with scipy's scalar ``bw_method`` (σ = 0.2·std(pixels), ddof=1 as
    ``scipy.stats.gaussian_kde``), computed on the 256-bin histogram (the same sum, much faster) and in
    log space (no underflow plateaus). Local minima are boundaries (0 and 256 added); local maxima are
    labels, with 0 prepended if a boundary comes before the first maximum and 255 appended if one comes
    after the last; interval ``[boundaries[i], boundaries[i+1])`` maps to ``labels[i]``.
    """
    levels = _as_levels(gray).ravel()
    hist = np.bincount(levels, minlength=256).astype(np.float64)
    grid = np.arange(256.0)
    std = float(np.std(levels, ddof=1)) if levels.size > 1 else 0.0
    sigma = max(bw_method * std, 1e-3)
    present = np.flatnonzero(hist)
    exponents = (
        -0.5 * ((grid[:, None] - grid[present][None, :]) / sigma) ** 2 + np.log(hist[present])[None, :]
    )
    top = exponents.max(1, keepdims=True)
    log_density = (top[:, 0] + np.log(np.exp(exponents - top).sum(1))) - math.log(
        levels.size * sigma * math.sqrt(2 * math.pi)
    )
    inner = np.arange(1, 255)
    minima = inner[
        (log_density[inner] < log_density[inner - 1]) & (log_density[inner] < log_density[inner + 1])
    ]
    maxima = inner[
        (log_density[inner] > log_density[inner - 1]) & (log_density[inner] > log_density[inner + 1])
    ]
    if log_density[0] > log_density[1]:
        maxima = np.concatenate([[0], maxima])
    if log_density[255] > log_density[254]:
        maxima = np.concatenate([maxima, [255]])
    boundaries = np.concatenate([[0], minima, [256]])
    labels = list(maxima)
    if len(minima) and (not labels or minima[0] < labels[0]):
        labels.insert(0, 0)
    if len(minima) and minima[-1] > labels[-1]:
        labels.append(255)
    if not labels:
        labels = [int(levels.mean())]
    return log_density, boundaries.astype(np.int64), np.array(labels[: len(boundaries) - 1], np.int64)


def kde_layers(gray: np.ndarray, bw_method: float = 0.2) -> list[np.ndarray]:
    """Post step 2: one bool mask per gray-level cluster (dark to light) from :func:`kde_levels`.

    Args:
        gray: values 0..255 (:func:`post_preprocess` output; floats ≤ 1 are scaled by 255).
    """
    levels = _as_levels(gray)
    _, boundaries, labels = kde_levels(levels, bw_method)
    index = np.searchsorted(boundaries, levels, side="right") - 1
    return [index == i for i in range(len(labels))]


def erosion_filter(layer: np.ndarray, low: float = 0.1, high: float = 0.9) -> np.ndarray:
    """Post step 3: keep 8-connected components whose erosion survival ``r = |eroded ∩ C| / |C|`` is in
    ``[low, high]`` (one erosion with scipy's default 4-connected cross, as the code does): thin lines
    (r ≈ 0) and big solid blocks (r ≈ 1) go, text strokes stay.
    """
    layer = np.asarray(layer, bool)
    labels, count = ndimage.label(layer, EIGHT)
    if count == 0:
        return layer.copy()
    eroded = ndimage.binary_erosion(layer)
    area = np.bincount(labels.ravel(), minlength=count + 1).astype(np.float64)
    survived = np.bincount(labels[eroded], minlength=count + 1).astype(np.float64)
    ratio = survived / np.maximum(area, 1.0)
    keep = (ratio >= low) & (ratio <= high)
    keep[0] = False
    return keep[labels]


def pool_layers(layers: Sequence[np.ndarray]) -> np.ndarray:
    """Post step 4: sum the (filtered) layers, label the 8-connected components of the sum, and inside
    each component keep only the layer contributing most pixels. Returns a bool ink mask.
    """
    if not len(layers):
        raise ValueError("pool_layers needs at least one layer.")
    stack = np.stack([np.asarray(layer, bool) for layer in layers])
    labels, count = ndimage.label(stack.any(0), EIGHT)
    if count == 0:
        return np.zeros(stack.shape[1:], bool)
    shares = np.stack([np.bincount(labels[layer], minlength=count + 1) for layer in stack])
    winner = np.argmax(shares, axis=0)
    pixel_winner = winner[labels]
    pooled = np.take_along_axis(stack, pixel_winner[None], axis=0)[0]
    return pooled & (labels > 0)


def post_denoise(ink: np.ndarray, threshold: float = 16.0, solid: float = 0.75) -> np.ndarray:
    """Post step 5: per 8-connected component with bbox area B, area A, image area N and ``s = N/B²``,
    remove it if ``A·s < 16`` (too sparse) or ``(1 + B − A)·s < 16`` (too dense); otherwise, if the bbox
    grown to 3× its width and height about its centre holds no other ink and ``A/B > 0.75``, remove it as
    an isolated blob.
    """
    ink = np.asarray(ink, bool)
    labels, count = ndimage.label(ink, EIGHT)
    if count == 0:
        return ink.copy()
    rows, cols = ink.shape
    total = float(rows * cols)
    objects = ndimage.find_objects(labels)
    area = np.bincount(labels.ravel(), minlength=count + 1)[1:].astype(np.float64)
    y0 = np.array([o[0].start for o in objects])
    y1 = np.array([o[0].stop for o in objects])
    x0 = np.array([o[1].start for o in objects])
    x1 = np.array([o[1].stop for o in objects])
    h, w = y1 - y0, x1 - x0
    box = (h * w).astype(np.float64)
    scale = total / box**2
    remove = (area * scale < threshold) | ((1.0 + box - area) * scale < threshold)
    integral = np.zeros((rows + 1, cols + 1), np.int64)
    integral[1:, 1:] = ink.cumsum(0).cumsum(1)
    gy0, gy1 = np.clip(y0 - h, 0, rows), np.clip(y1 + h, 0, rows)
    gx0, gx1 = np.clip(x0 - w, 0, cols), np.clip(x1 + w, 0, cols)
    window = integral[gy1, gx1] - integral[gy0, gx1] - integral[gy1, gx0] + integral[gy0, gx0]
    isolated = (window - area == 0) & (area / box > solid)
    remove |= isolated
    keep = np.concatenate([[False], ~remove])
    return keep[labels]


def post_feature_map(image) -> np.ndarray:
    """Post steps 1-5 chained: preprocess, KDE layers, erosion filter, pooling, denoise → bool ink mask
    at twice the input resolution.
    """
    layers = [erosion_filter(layer) for layer in kde_layers(post_preprocess(image))]
    return post_denoise(pool_layers(layers))
