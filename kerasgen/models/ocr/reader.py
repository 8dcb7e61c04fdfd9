"""Reading whole images: layout → glyphs → the classifier's top-k → Viterbi (post 1, steps 6–10).

Every line of an image is cut into characters (``kerasgen.models.ocr.layout``), every cut is
normalised as in training (``kerasgen.data.glyphs.normalise_glyph``: blanks cropped, glyph at the
top-left of a 48×48 canvas) and classified once, all lines of all images in one batch; the
per-position top-k candidates are decoded with the bigram language model (post 1, step 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Marks whose ink is much lower than a line's: normalising a cut to 48×48 hides its size and
# its place in the line, which the reader adds back from the line's geometry.
SMALL_MARKS = frozenset("，。、．,.·'\"‘’“”`-—_…~一=")
SMALL_HEIGHT = 0.4  # ink height / line height below which a cut is a small mark
EITHER_SIZE = frozenset("：；:;")  # two marks stacked: about half a line tall, on either side of SMALL_HEIGHT
# Bound forms of radicals (GB2312 lists them, running text never has them alone): a cut read as one of
# these is half a hanzi (化 → 亻 + 匕), so it does not count as a confident cut.
BOUND_RADICALS = frozenset("亻氵扌忄讠纟钅饣礻衤冫刂阝卩犭宀冖艹辶廴彳彡亠灬疒丬")
# Weight of the bigram model against the recogniser's log-probabilities. Post 1 multiplies the two
# (1.0). With ocr_zh, 0.5 read as well on lines and better on pages on bench material other than the
# bench's own (`bench/ocr_vs_tesseract.py --seed 1` and `--seed 2`: page CER 2.07% against 2.33% and
# 0.84% against 1.40%, line CER equal): a recogniser right 99.5% of the time should not be overruled
# by a bigram that never saw 八折.
LM_WEIGHT = 0.5
# A flat bar (one stroke, wide and thin) is read from its shape alone: normalised to 48×48 it looks like
# the top bar of 二, 三 or =. The bigram model chooses among these by context (一 in Chinese text).
BAR_CANDIDATES = (("一", 0.5), ("—", 0.2), ("-", 0.2), ("_", 0.1))
BAR_HEIGHT, BAR_ASPECT = 0.15, 3.0  # ink height / line height below, and width / height above


@dataclass(frozen=True)
class RecognisedChar:
    """A recognised character: its text, box ``(x0, y0, x1, y1)`` in pixels, confidence and candidates."""

    char: str
    box: tuple[int, int, int, int]
    confidence: float
    candidates: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class OCRResult:
    """The text of one image (lines top to bottom, joined by newlines) and its characters per line."""

    text: str
    lines: tuple[tuple[RecognisedChar, ...], ...]

    @property
    def chars(self) -> list[RecognisedChar]:
        """Every recognised character, in reading order."""
        return [char for line in self.lines for char in line]


def _small_mark_filter(candidates: list[tuple[str, float]], small: bool) -> list[tuple[str, float]]:
    """Keep the candidates whose size class matches the cut's (a small mark or a full-height glyph)."""
    kept = [(c, p) for c, p in candidates if (c in SMALL_MARKS) == small or c in EITHER_SIZE]
    return kept or candidates


def _folded_confidence(candidates: list[tuple[str, float]]) -> float:
    """How sure the recogniser is that a cut is one character, from its candidates, best first.

    The best candidate that is not a bound radical (:data:`BOUND_RADICALS`), plus the probability of
    its other width forms (：/:, ，/,, Ａ/A; NFKC): a cut glyph does not show its advance width, so
    the two forms split the probability of one shape; judged on the larger half, a colon would lose to
    the digit it was merged with (9: → 9).
    """
    import unicodedata

    free = [(c, p) for c, p in candidates if c not in BOUND_RADICALS]
    if not free:
        return 0.0
    best = unicodedata.normalize("NFKC", free[0][0])
    return sum(p for c, p in free if unicodedata.normalize("NFKC", c) == best)


def ambiguous_cuts(line: np.ndarray, segments: list[tuple[int, int]]) -> bool:
    """Whether the rule-based cuts of a line leave a doubt the recogniser should settle.

    A doubt is a piece wider than 1.1 text heights (touching glyphs), or two neighbouring pieces that
    together fit in 1.1 heights: a hanzi cut at a blank gap (忄|青, 亻|门, 八), or digits and Latin
    letters, which then pay for a check they did not need. A hanzi and the mark beside it (情？) span
    more than that and are no doubt.
    """
    rows = np.flatnonzero(line.any(axis=1))
    if len(rows) == 0:
        return False
    height = rows[-1] - rows[0] + 1
    for index, (a, b) in enumerate(segments):
        if b - a > 1.1 * height:
            return True
        if index and b - segments[index - 1][0] <= 1.1 * height:
            return True
    return False


def _line_cuts(ink: np.ndarray, box, scorer) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """``[(char box in image pixels, 48×48 glyph)]`` for one line box ``(x0, y0, x1, y1)``.

    The rule-based cuts are kept unless :func:`ambiguous_cuts` finds a doubt; then the recogniser's
    confidence chooses among the candidate cuts (``scorer``), which costs a classification of every
    candidate piece.
    """
    from kerasgen.data.glyphs import normalise_glyph
    from kerasgen.models.ocr.layout import segment_line

    x0, y0, x1, y1 = box
    line = ink[y0:y1, x0:x1]
    segments = segment_line(line)
    if scorer is not None and ambiguous_cuts(line, segments):
        segments = segment_line(line, scorer)
    cuts = []
    for a, b in segments:
        piece = line[:, a:b]
        rows = np.flatnonzero(piece.any(axis=1))
        if len(rows) == 0:
            continue
        cuts.append(((x0 + a, y0 + int(rows[0]), x0 + b, y0 + int(rows[-1]) + 1), normalise_glyph(piece)))
    return cuts


def read_images(
    classifier,
    images: Sequence,
    language_model=None,
    top_k: int = 5,
    lm_weight: float = LM_WEIGHT,
    recogniser_cuts: bool = True,
) -> list[OCRResult]:
    """Read every image of ``images`` (paths, PIL images or arrays); see the module docstring.

    ``recogniser_cuts`` lets the classifier's confidence choose among candidate cuts where the
    projection rule is unsure (touching glyphs); ``language_model`` (an object with
    ``log_prob(previous, char)``) corrects each line by Viterbi with weight ``lm_weight`` (post 1:
    1.0; see :data:`LM_WEIGHT`), or the best candidate is kept when it is None.
    """
    from kerasgen.models.ocr.language_model import viterbi
    from kerasgen.models.ocr.layout import find_text_lines, load_image

    width = max(top_k, 10)  # candidates classified per glyph; one traced function serves cuts and reading

    def scorer(crops: list[np.ndarray]) -> np.ndarray:
        from kerasgen.data.glyphs import normalise_glyph

        glyphs = np.stack([normalise_glyph(c) for c in crops])[..., None]
        return np.array([_folded_confidence(found) for found in classifier.top_k(glyphs, k=width)])

    layouts = []  # per image: per line: [(box, glyph)]
    for image in images:
        lines = find_text_lines(load_image(image))
        layouts.append([_line_cuts(ink, box, scorer if recogniser_cuts else None) for ink, box in lines])
    glyphs = [glyph for lines in layouts for line in lines for _, glyph in line]
    candidates = iter(classifier.top_k(np.stack(glyphs)[..., None], k=width) if glyphs else [])
    known = set(classifier.charset)
    results = []
    for lines in layouts:
        texts, recognised = [], []
        for line in lines:
            if not line:
                continue
            height = max(box[3] for box, _ in line) - min(box[1] for box, _ in line)
            options = []
            for box, _ in line:
                box_height, box_width = box[3] - box[1], box[2] - box[0]
                small = box_height < SMALL_HEIGHT * height
                found = _small_mark_filter(next(candidates), small)[:top_k]
                if box_height < BAR_HEIGHT * height and box_width > BAR_ASPECT * box_height:
                    found = [(c, p) for c, p in BAR_CANDIDATES if c in known] or found
                options.append(found)
            if language_model is not None:
                text, _ = viterbi(options, language_model, lm_weight)
            else:
                text = "".join(o[0][0] for o in options)
            chosen = [
                RecognisedChar(char, box, dict(o).get(char, 0.0), tuple(o))
                for char, (box, _), o in zip(text, line, options, strict=True)
            ]
            texts.append(text)
            recognised.append(tuple(chosen))
        results.append(OCRResult("\n".join(texts), tuple(recognised)))
    return results
