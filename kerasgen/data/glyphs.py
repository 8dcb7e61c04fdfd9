"""Font-rendered glyphs, lines, pages and posters for printed-Chinese OCR (models.md §1, post 1).

The post's recogniser is a CNN over 48x48 glyphs trained purely on characters rendered from fonts
(post 1, "training-data synthesis"). Here the glyphs are rendered from the Debian CJK fonts found
with fontTools, and every training glyph goes through the same path as a glyph cut from a real
line at inference: a binary ink mask -> :func:`normalise_glyph` (post step 8: crop blanks, pad to a
square at the top-left, nearest-resize to 46, 48x48 canvas with a 1-pixel border).

* Fonts: :func:`find_fonts` (TTC sub-faces included, English family/style names), :func:`split_fonts`
  (the :data:`HELD_OUT_FAMILIES` are the post's "unseen fonts"), :func:`font_coverage` (in the cmap
  and renders some ink).
* Characters: :func:`ocr_charset` (GB2312's 6,763 hanzi, digits, letters, punctuation; frequency
  ordered from jieba's ``dict.txt`` plus the MRC texts).
* Training data: :class:`GlyphSequence` (augmented, on the fly); unseen-font test:
  :func:`glyph_test_set` (the post's protocol).
* Pipeline test images: :func:`render_line`, :func:`render_page`, :func:`degrade`, :func:`poster_image`.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage

GLYPH_SIZE = 48
_INNER = GLYPH_SIZE - 2  # post step 8: 46x46 inside a 1-pixel border

# Family-name prefixes (case-insensitive) of the unseen fonts; every weight and sub-face is held out.
HELD_OUT_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK",
    "Noto Sans Mono CJK",
    "Noto Serif CJK",
    "AR PL UMing",
    "AR PL UKai",
)
# A face is used only when its cmap holds at least this many of the 6,763 GB2312 hanzi.
MIN_GB2312_HANZI = 1000
FONT_DIRECTORIES: tuple[str, ...] = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
)
_FONT_SUFFIXES = (".ttf", ".ttc", ".otf", ".otc")

CJK_PUNCTUATION = "，。、；：？！“”‘’（）《》【】—…·"
ASCII_PUNCTUATION = string.punctuation

_BASE_SIZE = 64  # font size (px) of the cached training renders
FRAGMENT_CHANCE = 0.12  # per side: a neighbour's fragment left in the cut cell
_log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------- fonts
@dataclass(frozen=True)
class FontFace:
    """One face of a font file (``index`` is the TTC/OTC sub-face, 0 for plain files)."""

    path: str
    index: int
    family: str
    style: str

    @property
    def name(self) -> str:
        return f"{self.family} {self.style}"


def _english_name(name_table, name_ids: Sequence[int]) -> str | None:
    """The first of ``name_ids`` present, preferring Windows US-English, then Mac Roman English."""
    for name_id in name_ids:
        records = [r for r in name_table.names if r.nameID == name_id]
        if not records:
            continue

        def rank(record) -> int:
            if record.platformID == 3 and record.langID == 0x409:
                return 0
            if record.platformID == 1 and record.langID == 0:
                return 1
            return 2

        for record in sorted(records, key=rank):
            try:
                text = record.toUnicode().strip()
            except (UnicodeDecodeError, ValueError):
                continue
            if text:
                return text
    return None


@functools.lru_cache(maxsize=1)
def _gb2312_hanzi() -> tuple[str, ...]:
    """GB2312 level 1+2 hanzi in code order: rows 0xB0-0xF7, columns 0xA1-0xFE (6,763)."""
    chars = []
    for row in range(0xB0, 0xF8):
        for col in range(0xA1, 0xFF):
            try:
                chars.append(bytes((row, col)).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # the 5 unused cells at the end of row 0xD7
    return tuple(chars)


def _raw_cmap(data: bytes) -> np.ndarray | None:
    """Code points mapped to a glyph other than 0, read straight from a cmap table's bytes.

    Uses the best Unicode subtable of format 12 (full repertoire) or 4 (BMP); ``None`` when there is
    none. Decoding the raw table with numpy is ~50x faster than fontTools' glyph-name dictionaries.
    """
    be16 = np.dtype(">u2")
    count = int.from_bytes(data[2:4], "big")
    records = {}
    for i in range(count):
        record = data[4 + 8 * i : 12 + 8 * i]
        platform, encoding = int.from_bytes(record[0:2], "big"), int.from_bytes(record[2:4], "big")
        offset = int.from_bytes(record[4:8], "big")
        fmt = int.from_bytes(data[offset : offset + 2], "big")
        records.setdefault((fmt, platform, encoding), offset)
    preference = [(12, 3, 10), (12, 0, 6), (12, 0, 4), (4, 3, 1), (4, 0, 3), (4, 0, 1), (4, 0, 0)]
    for fmt, platform, encoding in preference:
        offset = records.get((fmt, platform, encoding))
        if offset is None:
            continue
        if fmt == 12:
            groups_count = int.from_bytes(data[offset + 12 : offset + 16], "big")
            groups = np.frombuffer(data, ">u4", 3 * groups_count, offset + 16).reshape(-1, 3).astype(np.int64)
            pieces = [np.arange(start, end + 1) for start, end, _ in groups.tolist()]
            codes = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
            first_glyph = np.repeat(groups[:, 2] - groups[:, 0], groups[:, 1] - groups[:, 0] + 1)
            return np.unique(codes[codes + first_glyph != 0])
        seg_count = int.from_bytes(data[offset + 6 : offset + 8], "big") // 2
        base = offset + 14
        ends = np.frombuffer(data, be16, seg_count, base).astype(np.int64)
        starts = np.frombuffer(data, be16, seg_count, base + 2 * seg_count + 2).astype(np.int64)
        deltas = np.frombuffer(data, be16, seg_count, base + 4 * seg_count + 2).astype(np.int64)
        range_base = base + 6 * seg_count + 2
        ranges = np.frombuffer(data, be16, seg_count, range_base).astype(np.int64)
        words = np.frombuffer(data[: len(data) - len(data) % 2], be16).astype(np.int64)
        pieces = []
        for k in range(seg_count):
            if starts[k] > ends[k] or starts[k] == 0xFFFF:
                continue
            codes = np.arange(starts[k], ends[k] + 1)
            if ranges[k] == 0:
                glyphs = (codes + deltas[k]) & 0xFFFF
            else:
                address = range_base + 2 * k + ranges[k] + 2 * (codes - starts[k])
                inside = address + 2 <= len(data)
                codes, address = codes[inside], address[inside]
                glyphs = (
                    words[address // 2] if address.size and address[0] % 2 == 0 else np.zeros(0, np.int64)
                )
                codes = codes[: glyphs.size]
                glyphs = np.where(glyphs != 0, (glyphs + deltas[k]) & 0xFFFF, 0)
            pieces.append(codes[glyphs != 0])
        return np.unique(np.concatenate(pieces)) if pieces else np.zeros(0, np.int64)
    return None


@functools.cache
def _face_records(path: str) -> tuple[tuple[FontFace, np.ndarray], ...]:
    """Every face of ``path`` with its sorted cmap code points (glyph 0 / .notdef excluded; cached)."""
    from fontTools.ttLib import TTCollection, TTFont

    count = 1
    if path.lower().endswith((".ttc", ".otc")):
        collection = TTCollection(path, lazy=True)
        count = len(collection.fonts)
        collection.close()
    records = []
    shared: dict[tuple, np.ndarray] = {}  # sub-faces of a collection often share one cmap table
    for index in range(count):
        font = TTFont(path, fontNumber=index, lazy=True)
        try:
            family = _english_name(font["name"], (16, 1)) or os.path.basename(path)
            style = _english_name(font["name"], (17, 2)) or "Regular"
            tables = getattr(font.reader, "tables", {})
            key = getattr(tables.get("cmap"), "offset", None)
            codepoints = shared.get(key) if key is not None else None
            if codepoints is None:
                codepoints = _raw_cmap(font.reader["cmap"]) if "cmap" in font.reader else None
            if codepoints is None:  # no format 4/12 Unicode subtable: let fontTools decode it (slower)
                cmap = font.getBestCmap() or {}
                notdef = font.getGlyphOrder()[0]
                codepoints = np.array(sorted(c for c, glyph in cmap.items() if glyph != notdef), np.int64)
            shared[key] = codepoints
        finally:
            font.close()
        records.append((FontFace(path, index, family, style), codepoints))
    return tuple(records)


def _cmap(face: FontFace) -> np.ndarray:
    """Sorted code points in the face's cmap."""
    for candidate, codepoints in _face_records(face.path):
        if candidate.index == face.index:
            return codepoints
    raise ValueError(f"{face.path} has no face {face.index}.")


@functools.lru_cache(maxsize=8)
def _find_fonts(directories: tuple[str, ...]) -> tuple[FontFace, ...]:
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    paths = set()
    for directory in directories:
        directory = os.path.expanduser(directory)
        if os.path.isfile(directory) and directory.lower().endswith(_FONT_SUFFIXES):
            paths.add(os.path.realpath(directory))
            continue
        for root, _, files in os.walk(directory):
            for file in files:
                if file.lower().endswith(_FONT_SUFFIXES):
                    paths.add(os.path.realpath(os.path.join(root, file)))
    hanzi = np.array([ord(c) for c in _gb2312_hanzi()], np.int64)
    faces = []
    for path in sorted(paths):
        try:
            records = _face_records(path)
        except Exception as error:
            _log.debug("skipping font %s: %s", path, error)
            continue
        for face, codepoints in records:
            if np.isin(hanzi, codepoints, assume_unique=True).sum() >= MIN_GB2312_HANZI:
                faces.append(face)
    return tuple(sorted(faces, key=lambda f: (f.family.lower(), f.style.lower(), f.path, f.index)))


def find_fonts(directories: Sequence[str] | None = None) -> list[FontFace]:
    """Every font face whose cmap holds at least :data:`MIN_GB2312_HANZI` GB2312 hanzi, sorted by name.

    ``directories`` (default :data:`FONT_DIRECTORIES`) are walked for ``.ttf/.ttc/.otf/.otc`` files;
    symlinked copies count once; each TTC sub-face is its own :class:`FontFace`. Cached per directory list.
    """
    return list(_find_fonts(tuple(directories) if directories is not None else FONT_DIRECTORIES))


def is_held_out(face: FontFace) -> bool:
    """Whether ``face`` belongs to one of :data:`HELD_OUT_FAMILIES` (any weight, any region)."""
    family = face.family.lower()
    return any(family.startswith(prefix.lower()) for prefix in HELD_OUT_FAMILIES)


def split_fonts(faces: Iterable[FontFace]) -> tuple[list[FontFace], list[FontFace]]:
    """``(training, held out)``: faces of :data:`HELD_OUT_FAMILIES` are the post's unseen test fonts."""
    training, held_out = [], []
    for face in faces:
        (held_out if is_held_out(face) else training).append(face)
    return training, held_out


@functools.lru_cache(maxsize=1024)
def _pil_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


def _font(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
    return _pil_font(face.path, face.index, int(size))


@functools.cache
def _renders_ink(face: FontFace, char: str) -> bool:
    """Whether PIL draws any ink for ``char`` in ``face`` (an empty outline is as bad as tofu)."""
    return _font(face, 24).getmask(char).getbbox() is not None


@functools.lru_cache(maxsize=4096)
def _coverage(face: FontFace, chars: frozenset[str]) -> frozenset[str]:
    candidates = sorted(c for c in chars if len(c) == 1 and not c.isspace())
    if not candidates:
        return frozenset()
    in_cmap = np.isin(np.array([ord(c) for c in candidates], np.int64), _cmap(face), assume_unique=True)
    return frozenset(c for c, ok in zip(candidates, in_cmap, strict=True) if ok and _renders_ink(face, c))


def font_coverage(face: FontFace, chars: Iterable[str]) -> frozenset[str]:
    """The characters of ``chars`` that ``face`` maps in its cmap AND renders with some ink (cached)."""
    return _coverage(face, frozenset(chars))


# -------------------------------------------------------------------------------------------- charset
def _jieba_dict_path() -> str:
    import jieba

    getter = getattr(jieba, "get_dict_file", None)
    if getter is not None:
        handle = getter()
        name = getattr(handle, "name", None)
        handle.close()
        if isinstance(name, str) and os.path.isfile(name):
            return name
    return os.path.join(os.path.dirname(jieba.__file__), "dict.txt")


@functools.lru_cache(maxsize=1)
def _jieba_char_counts() -> Counter:
    """Each word's frequency in jieba's ``dict.txt`` credited to each of its characters."""
    counts: Counter = Counter()
    with open(_jieba_dict_path(), encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) < 2:
                continue
            try:
                frequency = int(parts[1])
            except ValueError:
                continue
            for char in parts[0]:
                counts[char] += frequency
    return counts


@functools.lru_cache(maxsize=4)
def _mrc_char_counts(folder: str) -> Counter:
    """Character counts of the MRC passages (DRCD's traditional characters mapped to simplified)."""
    from kerasgen.data.corpus import read_mrc_contexts, to_simplified

    simplified: Counter = Counter()
    traditional: Counter = Counter()
    for _, text, is_traditional in read_mrc_contexts(folder):
        (traditional if is_traditional else simplified).update(text)
    if traditional:
        chars = sorted(traditional)
        for char, converted in zip(chars, to_simplified(chars), strict=True):
            simplified[converted if len(converted) == 1 else char] += traditional[char]
    return simplified


@functools.lru_cache(maxsize=4)
def _ocr_charset(folder: str | None) -> tuple[str, ...]:
    base = list(
        dict.fromkeys(
            string.digits
            + string.ascii_letters
            + CJK_PUNCTUATION
            + ASCII_PUNCTUATION
            + "".join(_gb2312_hanzi())
        )
    )
    # each source as relative frequencies, so the (smaller) MRC texts weigh as much as the dictionary
    counts: dict[str, float] = {}
    sources = [_jieba_char_counts()] + ([_mrc_char_counts(folder)] if folder is not None else [])
    for source in sources:
        total = sum(source.values()) or 1
        for char, count in source.items():
            counts[char] = counts.get(char, 0.0) + count / total
    # stable sort: ties (and characters never seen) keep the base order
    return tuple(sorted(base, key=lambda c: -counts.get(c, 0)))


def ocr_charset(mrc_dir: str | None = None) -> list[str]:
    """The recogniser's classes, most frequent first (post: 3,062 classes; ours: GB2312).

    GB2312's 6,763 hanzi + ``0-9`` + ``A-Za-z`` + :data:`CJK_PUNCTUATION` + ASCII punctuation. The
    frequency of a character is the sum of jieba ``dict.txt`` frequencies of the words holding it
    (as a fraction of the total), plus its relative count in the MRC passages when ``mrc_dir`` (or
    ``$KERASGEN_MRC_DIR``) is available. Without MRC texts, digits, letters and punctuation are rare
    in the dictionary and rank low: keep them explicitly when cutting the list to its head;
    ties and unseen characters keep the base order (digits, letters, punctuation, GB2312 code order).
    Deterministic; cached.
    """
    if mrc_dir is None:
        from kerasgen.data.corpus import MRC_DIR_ENV

        env = os.environ.get(MRC_DIR_ENV)
        folder = env if env and os.path.isdir(env) else None
    else:
        folder = os.fspath(mrc_dir)
    return list(_ocr_charset(folder))


# -------------------------------------------------------------------------------------- normalisation
def normalise_glyph(ink: np.ndarray) -> np.ndarray:
    """Post step 8: ink mask -> crop blanks, top-left square pad, nearest 46x46, 48x48 with a 1-px border.

    ``ink``: bool/integer mask (non-zero = ink) or float (> 0.5 = ink), shape ``(H, W)`` or ``(H, W, 1)``.
    Returns float32 ``(48, 48)`` with ink = 1; an all-blank input gives zeros.
    """
    ink = np.asarray(ink)
    if ink.ndim == 3 and ink.shape[-1] == 1:
        ink = ink[..., 0]
    if ink.ndim != 2:
        raise ValueError(f"normalise_glyph expects a 2-D mask, got shape {ink.shape}.")
    return _normalise_mask(ink > 0.5 if ink.dtype.kind == "f" else ink != 0)


def _normalise_mask(mask: np.ndarray) -> np.ndarray:
    """:func:`normalise_glyph` of a 2-D bool mask."""
    out = np.zeros((GLYPH_SIZE, GLYPH_SIZE), np.float32)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return out
    cols = np.flatnonzero(mask.any(axis=0))
    crop = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    side = max(height, width)
    # nearest neighbour by pixel centres over the (side x side) square padded at the bottom/right
    index = ((2 * np.arange(_INNER) + 1) * side) // (2 * _INNER)
    row_index = index[index < height]
    col_index = index[index < width]
    out[1 : 1 + row_index.size, 1 : 1 + col_index.size] = crop[row_index][:, col_index]
    return out


def _otsu(gray: np.ndarray) -> int:
    """Otsu's threshold of a uint8 image (pixels ``< t`` are the dark class)."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(hist)
    total = weight[-1]
    mean = np.cumsum(hist * levels)
    between = (mean[-1] * weight - mean * total) ** 2 / np.maximum(weight * (total - weight), 1e-9)
    return int(np.argmax(between[:-1])) + 1


# ------------------------------------------------------------------------------------- line rendering
def _rng(rng) -> np.random.Generator | None:
    if rng is None or isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def render_line(
    text: str,
    face: FontFace,
    height: int = 40,
    rng: np.random.Generator | int | None = None,
    *,
    margin: int | None = None,
    spacing: float = 0.0,
    ink: int = 0,
    background: int = 255,
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """One line of ``text`` in ``face`` at font size ``height`` px, dark ink on a light background.

    Characters are drawn one by one at pen positions from PIL's advances (plus ``spacing`` em);
    the box of each non-space character is its glyph bbox from the font (``draw.textbbox``), so it
    contains the character's ink; boxes are ``(x0, y0, x1, y1)`` with exclusive ends, in text order.
    ``margin`` defaults to ``height // 4``; with ``rng`` the margins and spacing are jittered.
    Returns ``(uint8 (H, W) image, boxes)``.
    """
    rng = _rng(rng)
    font = _font(face, height)
    ascent, descent = font.getmetrics()
    base_margin = max(2, height // 4) if margin is None else int(margin)
    if rng is not None:
        margins = [int(m) for m in rng.integers(max(1, base_margin // 2), base_margin * 2 + 2, size=4)]
        spacing = spacing + float(rng.uniform(0.0, 0.12))
    else:
        margins = [base_margin] * 4
    left, top, right, bottom = margins
    pen = float(left)
    placements = []
    for char in text:
        advance = font.getlength(char)
        if char.isspace() and advance <= 0:
            advance = height / 3 if char == " " else height
        placements.append((char, pen))
        pen += advance + spacing * height
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    boxes = []
    max_x, max_y = pen, top + ascent + descent
    for char, x in placements:
        if char.isspace():
            continue
        x0, y0, x1, y1 = probe.textbbox((round(x), top), char, font=font)
        boxes.append((int(x0), int(y0), int(x1), int(y1)))
        max_x, max_y = max(max_x, x1), max(max_y, y1)
    width = int(np.ceil(max_x)) + right
    image = Image.new("L", (max(width, 1), int(max_y) + bottom), int(background))
    draw = ImageDraw.Draw(image)
    for char, x in placements:
        if not char.isspace():
            draw.text((round(x), top), char, font=font, fill=int(ink))
    return np.asarray(image, dtype=np.uint8).copy(), boxes


def _wrap(paragraph: str, font: ImageFont.FreeTypeFont, width: float, indent: float) -> list[str]:
    """Greedy character wrap (Chinese style) of one paragraph; the first line starts after ``indent``."""
    lines, current, pen, limit = [], "", 0.0, width - indent
    for char in paragraph:
        advance = font.getlength(char)
        if current and pen + advance > limit:
            lines.append(current.rstrip())
            current, pen, limit = "", 0.0, width
            if char.isspace():
                continue
        current += char
        pen += advance
    if current.strip():
        lines.append(current.rstrip())
    return lines


def render_page(
    paragraphs: list[str],
    face: FontFace,
    width: int = 640,
    line_height: int = 36,
    rng: np.random.Generator | int | None = None,
    *,
    font_size: int | None = None,
    margin: int | None = None,
    indent: float = 2.0,
) -> tuple[np.ndarray, list[str]]:
    """A page: paragraphs wrapped to ``width`` with ``indent`` em first-line indents and margins.

    ``font_size`` defaults to ``0.72 * line_height``; ``margin`` to ``line_height``; with ``rng`` the
    margins and the gaps between paragraphs vary. Returns ``(uint8 (H, width) image, line texts top to
    bottom)`` (the texts without the indent and trailing spaces).
    """
    rng = _rng(rng)
    size = int(font_size or round(0.72 * line_height))
    font = _font(face, size)
    base_margin = line_height if margin is None else int(margin)
    if rng is not None:
        left, right, top, bottom = (
            int(m) for m in rng.integers(base_margin // 2, base_margin * 2 + 1, size=4)
        )
    else:
        left = right = top = bottom = base_margin
    usable = width - left - right
    if usable < 2 * size:
        raise ValueError(f"width {width} leaves no room for text at font size {size}.")
    placed: list[tuple[str, int, int]] = []  # (text, x, y)
    y = top
    for paragraph in paragraphs:
        wrapped = _wrap(paragraph.strip(), font, usable, indent * size)
        for number, line in enumerate(wrapped):
            placed.append((line, left + (round(indent * size) if number == 0 else 0), y))
            y += line_height
        if wrapped and rng is not None:
            y += int(rng.integers(0, line_height // 2 + 1))
    height = y + bottom
    image = Image.new("L", (width, max(height, 1)), 255)
    draw = ImageDraw.Draw(image)
    offset = (line_height - sum(font.getmetrics())) // 2
    for line, x, y in placed:
        pen = float(x)
        for char in line:
            if not char.isspace():
                draw.text((round(pen), y + offset), char, font=font, fill=0)
            pen += font.getlength(char)
    return np.asarray(image, dtype=np.uint8).copy(), [line for line, _, _ in placed]


# ------------------------------------------------------------------------------------------ degrading
def _illumination(shape: tuple[int, int], rng: np.random.Generator, amount: float) -> np.ndarray:
    """A smooth multiplicative light field in ``[1 - amount, 1]`` (a plane or a radial fall-off)."""
    height, width = shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy /= max(height - 1, 1)
    xx /= max(width - 1, 1)
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * np.pi)
        field = np.cos(angle) * xx + np.sin(angle) * yy
    else:
        cy, cx = rng.uniform(0, 1, size=2)
        field = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    field -= field.min()
    field /= max(float(field.max()), 1e-6)
    return 1.0 - amount * field


def degrade(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Scan/photo-like damage: low contrast, uneven light, rotation within ±2°, blur, noise, JPEG.

    Each effect is applied with some probability; ``image`` is uint8 ``(H, W)`` or ``(H, W, 3)`` and the
    result has the same shape and dtype (a rotation keeps the size; corners get the border colour).
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"degrade expects (H, W) or (H, W, C), got {image.shape}.")
    out = image.astype(np.float32)
    if rng.random() < 0.5:  # low contrast
        low, high = rng.uniform(0, 90), rng.uniform(165, 255)
        out = low + (high - low) * out / 255.0
    if rng.random() < 0.5:  # uneven background
        field = _illumination(out.shape[:2], rng, rng.uniform(0.1, 0.35))
        out = out * (field if out.ndim == 2 else field[..., None])
    pil = Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:  # rotation
        pixels = np.asarray(pil)
        border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
        fill = tuple(int(v) for v in np.atleast_1d(np.median(border, axis=0)))
        pil = pil.rotate(
            float(rng.uniform(-2.0, 2.0)),
            resample=Image.BILINEAR,
            fillcolor=fill[0] if len(fill) == 1 else fill,
        )
    if rng.random() < 0.5:
        pil = pil.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.1))))
    out = np.asarray(pil, dtype=np.float32)
    if rng.random() < 0.5:
        out = out + rng.normal(0.0, rng.uniform(2.0, 12.0), size=out.shape)
    pil = Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        buffer = io.BytesIO()
        pil.save(buffer, format="JPEG", quality=int(rng.integers(30, 86)))
        pil = Image.open(io.BytesIO(buffer.getvalue()))
        pil.load()
        if pil.mode != ("L" if image.ndim == 2 else "RGB"):
            pil = pil.convert("L" if image.ndim == 2 else "RGB")
    out = np.asarray(pil, dtype=np.uint8)
    if image.ndim == 3 and image.shape[-1] != 3:  # e.g. (H, W, 1)
        out = out.reshape(image.shape)
    return out.copy()


# -------------------------------------------------------------------------------------------- posters
def _luma(colour: np.ndarray) -> float:
    return float(0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2])


def _contrasting(rng: np.random.Generator, background_luma: float, gap: float = 110.0) -> tuple[int, ...]:
    """A random colour whose luma differs from ``background_luma`` by at least ``gap``."""
    colour = rng.uniform(0, 255, size=3)
    target_dark = background_luma > 127.5
    for _ in range(20):
        luma = _luma(colour)
        if (background_luma - luma if target_dark else luma - background_luma) >= gap:
            break
        colour = colour * 0.75 if target_dark else colour + (255 - colour) * 0.25
    return tuple(int(v) for v in np.clip(colour, 0, 255))


@functools.lru_cache(maxsize=1)
def _poster_pool() -> tuple[str, ...]:
    """Common hanzi for random poster lines (the 1,500 most frequent of the charset)."""
    hanzi = frozenset(_gb2312_hanzi())
    return tuple(c for c in _ocr_charset(None) if c in hanzi)[:1500]


def poster_image(
    rng: np.random.Generator,
    faces: Sequence[FontFace],
    *,
    texts: Sequence[str] | None = None,
    width: int | None = None,
) -> tuple[np.ndarray, list[str]]:
    """A poster-like RGB image: gradient background, a few shapes, 1-5 horizontal text lines.

    Each line has a random face from ``faces``, size and colour (contrasting with the background).
    Line texts come from ``texts`` (cut to fit) or are random common hanzi with occasional digits and
    letters; characters a face does not cover are never used. Returns ``(uint8 (H, W, 3), line texts
    top to bottom)``.
    """
    if not faces:
        raise ValueError("poster_image needs at least one font face.")
    width = int(width or rng.integers(480, 801))
    count = int(rng.integers(1, 6))
    lines = []  # (text, face, size)
    for _ in range(count):
        face = faces[int(rng.integers(len(faces)))]
        size = int(rng.integers(24, 65))
        if texts:
            text = "".join(c for c in str(texts[int(rng.integers(len(texts)))]).strip())
            covered = font_coverage(face, set(text))
            text = "".join(c for c in text if c in covered or c == " ")
        else:
            pool = sorted(font_coverage(face, _poster_pool()))
            text = "".join(pool[i] for i in rng.integers(0, len(pool), size=int(rng.integers(2, 11))))
            if rng.random() < 0.3:
                extra = string.digits if rng.random() < 0.6 else string.ascii_uppercase
                run = "".join(extra[i] for i in rng.integers(0, len(extra), size=int(rng.integers(1, 5))))
                text = text + run if rng.random() < 0.5 else run + text
        font = _font(face, size)
        while size > 16 and font.getlength(text) > width - 40:
            size = max(16, int(size * 0.85))
            font = _font(face, size)
        while font.getlength(text) > width - 40 and len(text) > 1:
            text = text[:-1]
        if text.strip():
            lines.append((text.strip(), face, size))
    if not lines:
        return poster_image(rng, faces, texts=None, width=width)
    gaps = [int(rng.integers(8, 8 + size // 2 + 1)) for _, _, size in lines]
    height = sum(int(size * 1.4) for _, _, size in lines) + sum(gaps) + int(rng.integers(20, 80))
    top, bottom = rng.uniform(60, 255, size=3), rng.uniform(60, 255, size=3)
    if abs(_luma(top) - _luma(bottom)) > 60:  # keep the gradient gentle so text contrast holds
        bottom = top + (bottom - top) * 60 / abs(_luma(top) - _luma(bottom))
    if rng.random() < 0.5:  # light or dark poster
        top, bottom = top * 0.35, bottom * 0.35
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    canvas = np.broadcast_to(top * (1 - t) + bottom * t, (height, width, 3))
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(0, 5))):  # shapes close in luma to the background
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(20, width // 2)), y0 + int(rng.integers(20, height // 2 + 21))
        base = np.asarray(image.getpixel((min(x0, width - 1), min(y0, height - 1))), dtype=np.float64)
        colour = tuple(int(v) for v in np.clip(base + rng.uniform(-30, 30, size=3), 0, 255))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)((x0, y0, x1, y1), fill=colour)
    y = int(rng.integers(10, 40))
    for (text, face, size), gap in zip(lines, gaps, strict=True):
        font = _font(face, size)
        text_width = font.getlength(text)
        align = rng.random()
        x = 20 if align < 0.4 else (width - text_width) / 2 if align < 0.8 else width - 20 - text_width
        region = np.asarray(image)[y : y + size, max(0, int(x)) : int(x + text_width) + 1].reshape(-1, 3)
        background = float(np.mean(region @ np.array([0.299, 0.587, 0.114]))) if region.size else 128.0
        draw.text((int(x), y), text, font=font, fill=_contrasting(rng, background))
        y += int(size * 1.4) + gap
    return np.asarray(image, dtype=np.uint8).copy(), [text for text, _, _ in lines]


# ------------------------------------------------------------------------------------ training glyphs
def _render_ink(face: FontFace, char: str, size: int) -> np.ndarray:
    """Anti-aliased coverage (uint8, 255 = ink) of ``char``, cropped to its glyph bitmap box."""
    font = _font(face, size)
    x0, y0, x1, y1 = font.getbbox(char)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 0), np.uint8)
    image = Image.new("L", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(image).text((-x0, -y0), char, font=font, fill=255)
    return np.asarray(image, dtype=np.uint8)


class GlyphSequence(keras.utils.PyDataset):
    """Augmented font-rendered glyphs on the fly (post 1's training set, with real-page augmentations).

    Each sample: a class drawn uniformly (the post: 450 images per class), a face covering it drawn
    uniformly; the face's 64-px render of the character (cached once per pair, bit-packed) is scaled
    to a 28-64 px font size (slight aspect jitter), its stroke weight changed (grey dilation/erosion
    and a gamma on the coverage), rotated within ±3°, put in a cell with random margins and, with
    some probability, fragments of other glyphs at the left/right edges (an imprecise cut), painted
    dark on a light background of random (often low) contrast with an uneven (linear) light field,
    blurred, noised, sometimes JPEG round-tripped; then binarised with Otsu's threshold on the cell
    and normalised with :func:`normalise_glyph` exactly as a cut glyph is at inference. Finally each
    pixel is set to ink with probability ``noise`` (the post's 5%). ``augment=False`` gives the clean
    64-px render, normalised (plus ``noise``).

    Batches are deterministic functions of ``(seed, index, epoch)``; the epoch counter advances in
    :meth:`on_epoch_end`. Classes no face covers are never drawn (see :attr:`covered_classes`).
    Speed: 2,800-3,100 augmented samples/s on one core (``taskset -c 1``, batch 256, 31 training
    faces, 3,062 classes, warm cache; wall and CPU time on this project's shared 2-core host). The
    constructor checks coverage of every (face, char) pair (~10 s for 31 faces x 3,062 chars); the
    first use of each pair renders it once (~0.2 ms).

    Args:
        charset: the classes (``y`` indexes into it), e.g. :func:`ocr_charset`.
        faces: training font faces (see :func:`split_fonts`).
        batch_size: samples per batch.
        steps: batches per epoch (``len(self)``).
        augment: apply the augmentations above.
        noise: probability that each pixel of the normalised glyph is set to ink.
        seed: base seed.
        **kwargs: ``workers``, ``use_multiprocessing``, ``max_queue_size`` for ``PyDataset``.

    Example:
        >>> train, _ = split_fonts(find_fonts())
        >>> data = GlyphSequence(ocr_charset()[:3062], train, batch_size=1024, steps=1350)
        >>> x, y = data[0]  # (1024, 48, 48, 1) float32, (1024,) int32
    """

    def __init__(
        self,
        charset: Sequence[str],
        faces: Sequence[FontFace],
        batch_size: int = 256,
        steps: int = 1000,
        augment: bool = True,
        noise: float = 0.05,
        seed: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.charset = list(charset)
        self.faces = list(faces)
        if not self.faces:
            raise ValueError("GlyphSequence needs at least one font face.")
        if len(set(self.charset)) != len(self.charset):
            raise ValueError("charset has repeated characters.")
        self.batch_size = int(batch_size)
        self.steps = int(steps)
        self.augment = bool(augment)
        self.noise = float(noise)
        self.seed = int(seed)
        self.epoch = 0
        index = {c: i for i, c in enumerate(self.charset)}
        per_class: list[list[int]] = [[] for _ in self.charset]
        self._face_classes = []
        for face_index, face in enumerate(self.faces):
            covered = font_coverage(face, self.charset)
            classes = np.array(sorted(index[c] for c in covered), dtype=np.int32)
            self._face_classes.append(classes)
            for c in classes:
                per_class[c].append(face_index)
        self.covered_classes = np.array([i for i, f in enumerate(per_class) if f], dtype=np.int32)
        if self.covered_classes.size == 0:
            raise ValueError("None of the faces covers any character of the charset.")
        self._class_faces = [np.array(f, dtype=np.int32) for f in per_class]
        self._cache: dict[tuple[int, int], tuple[np.ndarray, tuple[int, int]]] = {}

    def __len__(self) -> int:
        return self.steps

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def _ink(self, face_index: int, class_index: int) -> np.ndarray:
        """The cached binary 64-px render of one (face, class) pair, bool ``(h, w)``."""
        key = (face_index, class_index)
        entry = self._cache.get(key)
        if entry is None:
            coverage = _render_ink(self.faces[face_index], self.charset[class_index], _BASE_SIZE)
            ink = coverage >= 128
            entry = (np.packbits(ink, axis=None), ink.shape)
            self._cache[key] = entry
        packed, shape = entry
        return np.unpackbits(packed, count=shape[0] * shape[1]).reshape(shape).astype(bool)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < self.steps:
            raise IndexError(f"batch {index} out of range for {self.steps} steps.")
        rng = np.random.default_rng([self.seed, int(index), self.epoch])
        classes = self.covered_classes[rng.integers(0, self.covered_classes.size, size=self.batch_size)]
        picks = rng.random(self.batch_size)
        x = np.empty((self.batch_size, GLYPH_SIZE, GLYPH_SIZE, 1), np.float32)
        for i, class_index in enumerate(classes):
            faces = self._class_faces[class_index]
            face_index = int(faces[int(picks[i] * faces.size)])
            ink = self._ink(face_index, int(class_index))
            x[i, :, :, 0] = self._augment(ink, face_index, rng) if self.augment else normalise_glyph(ink)
        if self.noise > 0:
            x[rng.random(x.shape, dtype=np.float32) < self.noise] = 1.0
        return x, classes.astype(np.int32)

    @staticmethod
    def _scaled(ink: np.ndarray, sx: float, sy: float) -> Image.Image:
        height, width = ink.shape
        size = (max(1, round(width * sx)), max(1, round(height * sy)))
        return Image.fromarray(ink.view(np.uint8) * np.uint8(255)).resize(size, Image.BILINEAR)

    def _augment(self, ink: np.ndarray, face_index: int, rng: np.random.Generator) -> np.ndarray:
        """One training glyph from a cached 64-px render (see the class docstring)."""
        if ink.size == 0:
            return np.zeros((GLYPH_SIZE, GLYPH_SIZE), np.float32)
        u = rng.random(24)  # one draw for all scalar choices (cheaper than many small rng calls)
        size = 28 + int(u[0] * (_BASE_SIZE - 27))
        sy = size / _BASE_SIZE
        sx = sy * (0.9 + 0.2 * u[1])
        glyph = self._scaled(ink, sx, sy)
        # stroke weight: grey dilation / erosion, and a gamma on the coverage
        if u[2] < 0.15 and size >= 36:
            glyph = glyph.filter(ImageFilter.MaxFilter(3))
        elif u[2] > 0.85 and size >= 44:
            glyph = glyph.filter(ImageFilter.MinFilter(3))
        if u[5] < 0.5:
            glyph = glyph.rotate(float(6.0 * u[6] - 3.0), resample=Image.BILINEAR, expand=True)
        alpha = np.asarray(glyph)
        if u[3] < 0.5:
            alpha = _gamma_table(round(float(np.exp(u[4] - 0.5)), 2))[alpha]
        height, width = alpha.shape
        # the cut cell: margins, and fragments of neighbours at the left/right edges (an imprecise cut)
        reach = max(2, size // 6) + 1
        left, right, top, bottom = (int(v * reach) for v in u[7:11])
        fragments = []
        for side, chance, amount, gap in (("left", u[11], u[12], u[13]), ("right", u[14], u[15], u[16])):
            if chance < FRAGMENT_CHANCE:
                classes = self._face_classes[face_index]
                other = self._ink(face_index, int(classes[int(amount * 7919) % classes.size]))
                if other.size:
                    piece = np.asarray(self._scaled(other, sx, sy))
                    keep = 1 + int(amount * max(1, piece.shape[1] // 4))
                    piece = piece[:, -keep:] if side == "left" else piece[:, :keep]
                    fragments.append((side, piece, int(gap * reach)))
        pad_left = sum(p.shape[1] + g for s_, p, g in fragments if s_ == "left")
        pad_right = sum(p.shape[1] + g for s_, p, g in fragments if s_ == "right")
        cell_w = left + width + right + pad_left + pad_right
        cell_h = top + max([height] + [p.shape[0] for _, p, _ in fragments]) + bottom
        cell = np.zeros((cell_h, cell_w), np.uint8)
        cell[top : top + height, left + pad_left : left + pad_left + width] = alpha
        for side, piece, _ in fragments:
            y0 = min(max(top + int(5 * u[17]) - 2, 0), cell_h - piece.shape[0])
            x0 = 0 if side == "left" else cell_w - piece.shape[1]
            region = cell[y0 : y0 + piece.shape[0], x0 : x0 + piece.shape[1]]
            np.maximum(region, piece, out=region)
        # paint dark ink on a light background: contrast (often low), uneven light, sensor noise
        if u[18] < 0.7:
            background, ink_level = 190 + 65 * u[19], 70 * u[20]
        else:
            background = 120 + 135 * u[19]
            ink_level = background - (45 + (background - 55) * u[20])
        contrast = background - ink_level
        image = cell.astype(np.float32)
        image *= -contrast / 255.0
        image += background
        if u[21] < 0.5:
            angle = 2 * np.pi * u[22]
            amount = (0.05 + 0.25 * u[23]) * contrast
            yy = np.arange(cell_h, dtype=np.float32)[:, None] * (amount * np.sin(angle) / cell_h)
            xx = np.arange(cell_w, dtype=np.float32)[None, :] * (amount * np.cos(angle) / cell_w)
            image += yy + xx
        v = rng.random(4)
        if v[0] < 0.5:
            image += rng.standard_normal(image.shape, dtype=np.float32) * (1.0 + 0.1 * contrast * v[1])
        np.clip(image, 0, 255, out=image)
        pil = Image.fromarray(image.astype(np.uint8))
        if v[2] < 0.4:
            pil = pil.filter(ImageFilter.GaussianBlur(float(0.3 + 0.7 * v[3])))
        if v[2] > 0.9:
            buffer = io.BytesIO()
            pil.save(buffer, format="JPEG", quality=25 + int(55 * v[3]))
            pil = Image.open(io.BytesIO(buffer.getvalue()))
        gray = np.asarray(pil, dtype=np.uint8)
        return _normalise_mask(_without_specks(gray < _otsu(gray)))


def _without_specks(ink: np.ndarray, smallest: int = 3) -> np.ndarray:
    """``ink`` without 8-connected components of fewer than ``smallest`` pixels (noise the layout drops)."""
    labels, count = ndimage.label(ink, structure=np.ones((3, 3), bool))
    if count == 0:
        return ink
    sizes = np.bincount(labels.ravel())
    keep = sizes >= smallest
    keep[0] = False
    return keep[labels] if keep[1:].any() else ink


@functools.lru_cache(maxsize=256)
def _gamma_table(gamma: float) -> np.ndarray:
    """Lookup table of ``255 * (v / 255) ** gamma`` (gamma > 1 thins strokes, < 1 thickens them)."""
    return np.round(255.0 * (np.arange(256) / 255.0) ** gamma).astype(np.uint8)


def glyph_test_set(
    charset: Sequence[str],
    faces: Sequence[FontFace],
    per_char: int = 1,
    noise: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The post's unseen-font test: clean 1-bit renders, sizes 46-50, top-left on a 48x48 canvas.

    Each glyph is drawn with its ink box starting at the canvas's top-left corner. The post draws
    at (0, 0); with PIL's ascender anchor that cuts off the lower part of every glyph in fonts with
    tall ascenders (Noto CJK loses about a quarter of its height), which tests clipping rather than
    fonts. Glyphs larger than 48 px still clip at the right and bottom, as in the post.

    For every face and every character of ``charset`` it covers, ``per_char`` images (sizes cycle
    through 46-50 from a random start); each is normalised with :func:`normalise_glyph` (as inference
    does), then each pixel is set to ink with probability ``noise`` (post: 0 and 0.15; as in training).
    Returns ``(x float32 (N, 48, 48, 1), y int32 (N,))`` with ``y`` indexing ``charset``; face-major order.
    """
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for face in faces:
        covered = font_coverage(face, charset)
        for label, char in enumerate(charset):
            if char not in covered:
                continue
            start = int(rng.integers(5))
            for k in range(per_char):
                canvas = Image.new("1", (GLYPH_SIZE, GLYPH_SIZE), 1)
                font = _font(face, 46 + (start + k) % 5)
                left, top, _, _ = font.getbbox(char)
                ImageDraw.Draw(canvas).text((-left, -top), char, font=font, fill=0)
                glyph = normalise_glyph(~np.asarray(canvas, dtype=bool))
                if noise > 0:
                    glyph[rng.random(glyph.shape) < noise] = 1.0
                images.append(glyph)
                labels.append(label)
    if not images:
        return np.zeros((0, GLYPH_SIZE, GLYPH_SIZE, 1), np.float32), np.zeros((0,), np.int32)
    return np.stack(images)[..., None], np.asarray(labels, dtype=np.int32)
