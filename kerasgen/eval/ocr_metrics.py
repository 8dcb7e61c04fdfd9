"""OCR scores (edit distance, character error rate) and a Tesseract baseline (post 1 compares to it).

Character error rate: ``CER = Σ_lines edit(prediction, reference) / Σ_lines len(reference)``, after
removing all whitespace (spaces and newlines carry no meaning in Chinese text, and Tesseract's
``chi_sim`` puts spaces between hanzi). ``edit`` is the Levenshtein distance (unit-cost insertions,
deletions and substitutions).

Tesseract runs through its command line (``tesseract in.png stdout -l chi_sim --psm 7``), one process
per image, with ``OMP_THREAD_LIMIT`` set to the requested thread count. Install it with
``apt-get install tesseract-ocr tesseract-ocr-chi-sim``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

TESSERACT = "tesseract"
_INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-chi-sim"


def _strip_whitespace(text: str) -> str:
    return "".join(text.split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between ``a`` and ``b`` (unit costs), by the row recurrence

    ``D[i, j] = min(D[i-1, j] + 1, D[i, j-1] + 1, D[i-1, j-1] + [a_i != b_j])``, one numpy row at a time;
    the in-row insertion chain is ``D[i, j] = j + min_{k<=j} (T[k] - k)`` with ``T`` the row before it.
    """
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for char in a:
        substitute = row[:-1] + (codes_b != ord(char))
        candidate = np.empty_like(row)
        candidate[0] = row[0] + 1
        candidate[1:] = np.minimum(row[1:] + 1, substitute)
        row = np.minimum.accumulate(candidate - steps) + steps
    return int(row[-1])


def character_error_rate(
    predictions: Sequence[str] | str, references: Sequence[str] | str, fold_width: bool = True
) -> float:
    """``Σ edit(pred, ref) / Σ len(ref)`` over the pairs, whitespace removed from both sides.

    ``fold_width`` maps both sides through Unicode NFKC first, so full-width and half-width forms of
    the same mark (？/?, （/(, ，/,, ０/0) count as equal: a cut glyph does not show its advance
    width, and Chinese texts mix both forms (the MRC files write 哪一年? and 哪一年？). Pass
    ``fold_width=False`` for the strict rate.

    A single string on each side is one pair. When every reference is empty the rate is 0.0 if every
    prediction is empty too, else 1.0 (nothing to read, something read: a complete miss).
    """
    if isinstance(predictions, str):
        predictions = [predictions]
    if isinstance(references, str):
        references = [references]
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references.")
    edits = length = 0
    for prediction, reference in zip(predictions, references, strict=True):
        if fold_width:
            prediction, reference = (unicodedata.normalize("NFKC", t) for t in (prediction, reference))
        prediction, reference = _strip_whitespace(prediction), _strip_whitespace(reference)
        edits += edit_distance(prediction, reference)
        length += len(reference)
    if length == 0:
        return 0.0 if edits == 0 else 1.0
    return edits / length


def tesseract_available(lang: str | None = None) -> bool:
    """Whether the ``tesseract`` command runs (and, with ``lang``, lists that language)."""
    if shutil.which(TESSERACT) is None:
        return False
    if lang is None:
        return True
    try:
        listing = subprocess.run(
            [TESSERACT, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return lang in (listing.stdout + listing.stderr).split()


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """uint8 gray/RGB(A) from bool (True = ink → black on white), float in [0, 1] or [0, 255], or ints."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] not in (3, 4)) or image.size == 0:
        raise ValueError(
            f"Expected a non-empty (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) image, got {image.shape}."
        )
    if image.dtype == bool:
        return np.where(image, 0, 255).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        scale = 255.0 if float(np.nanmax(image)) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(image) * scale + 0.5, 0, 255).astype(np.uint8)
    return np.clip(image, 0, 255).astype(np.uint8)


def tesseract_read(
    images: Sequence[np.ndarray],
    lang: str = "chi_sim",
    psm: int = 7,
    threads: int = 1,
    timeout: float = 120.0,
    batch: bool = True,
) -> list[str]:
    """Tesseract's reading of each image (``--psm 7``: one text line), whitespace removed.

    Each image (gray or RGB ``uint8``; float in [0, 1]; bool with True = ink) is written as a PNG to a
    temporary folder. With ``batch`` one ``tesseract LIST stdout -l LANG --psm PSM`` process reads
    them all (pages separated by form feeds), so start-up and model loading are paid once, as a
    user reading many images would; else one process per image. ``OMP_THREAD_LIMIT=threads``.
    Raises ``RuntimeError`` when Tesseract is missing or fails.
    """
    from PIL import Image

    if shutil.which(TESSERACT) is None:
        raise RuntimeError(f"Tesseract is not installed: {_INSTALL_HINT}")
    env = dict(os.environ, OMP_THREAD_LIMIT=str(max(int(threads), 1)))
    with tempfile.TemporaryDirectory(prefix="kerasgen-tesseract-") as folder:
        paths = []
        for i, image in enumerate(images):
            paths.append(Path(folder) / f"{i}.png")
            Image.fromarray(_to_uint8(image)).save(paths[-1])
        if batch and len(paths) > 1:
            listing = Path(folder) / "images.txt"
            listing.write_text("".join(f"{path}\n" for path in paths))
            pages = _run_tesseract(listing, lang, psm, env, timeout * len(paths), "the image list").split(
                "\f"
            )
            pages = pages[: len(paths)] if len(pages) == len(paths) + 1 and not pages[-1].strip() else pages
            if len(pages) == len(paths):
                return [_strip_whitespace(page) for page in pages]
        return [
            _strip_whitespace(_run_tesseract(p, lang, psm, env, timeout, f"image {i}"))
            for i, p in enumerate(paths)
        ]


def _run_tesseract(path: Path, lang: str, psm: int, env: dict, timeout: float, what: str) -> str:
    command = [TESSERACT, str(path), "stdout", "-l", lang, "--psm", str(int(psm))]
    try:
        result = subprocess.run(command, capture_output=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"Tesseract took more than {timeout:.0f} s on {what}.") from error
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(
            f"Tesseract failed on {what} (exit {result.returncode}): {message}\n"
            f"(language {lang!r} missing? {_INSTALL_HINT})"
        )
    return result.stdout.decode("utf-8", "replace")
