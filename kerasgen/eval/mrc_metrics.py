"""Scores for Chinese extractive reading comprehension (post 6): CMRC 2018-style and Sogou-style.

CMRC 2018 style (:func:`cmrc_em`, :func:`cmrc_f1`): lower-case, drop punctuation (the CMRC list of
Chinese marks, ASCII punctuation and any Unicode punctuation) and whitespace. EM: the normalised
prediction equals a normalised gold. F1: "mixed segmentation" — every CJK character is a token, a run
of other characters (Latin letters, digits) is one token, whitespace separates runs — then the longest
common *substring* of the two token lists gives precision ``lcs / len(pred)`` and recall
``lcs / len(gold)``; max over golds.

Sogou style (:func:`sogou_accuracy`, :func:`sogou_f1`): full-width → half-width, lower-case,
punctuation → space, whitespace removed; accuracy: the normalised prediction is one of the normalised
golds; F1: character multiset F1, max over golds; score = (accuracy + F1) / 2.

Unanswerable questions (no gold answer, SQuAD 2.0 convention): an empty (or all-whitespace)
prediction scores 1 on every measure, any other prediction 0. A gold list whose entries all normalise
to nothing is treated alike against a prediction that normalises to nothing.

All per-question functions return values in [0, 1]; :func:`score_predictions` reports percentages.
"""

from __future__ import annotations

import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

# The marks listed by the CMRC 2018 evaluation script, plus ASCII punctuation; any other Unicode
# punctuation (category P*) is dropped as well.
CMRC_PUNCTUATION: frozenset[str] = frozenset(
    "-:_*^/\\~`+=，。：？！“”；’《》…·、「」（）－～『』" + string.punctuation
)


def _is_punctuation(char: str) -> bool:
    return char in CMRC_PUNCTUATION or unicodedata.category(char).startswith("P")


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0x20000 <= code <= 0x2FA1F  # extensions B-F and compatibility supplement
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
    )


def _golds(golds: str | Sequence[str]) -> list[str]:
    return [golds] if isinstance(golds, str) else list(golds)


def _unanswerable(prediction: str, golds: Sequence[str]) -> float | None:
    """The score when there is no gold answer, else ``None``."""
    if golds:
        return None
    return float(not prediction.strip())


# ---------------------------------------------------------------------------------------- CMRC


def cmrc_normalize(text: str) -> str:
    """Lower-case, without punctuation and whitespace (the string EM compares)."""
    return "".join(c for c in text.lower() if not c.isspace() and not _is_punctuation(c))


def mixed_segmentation(text: str) -> list[str]:
    """CMRC tokens: each CJK character alone, each run of other characters one token (lower-cased).

    Punctuation is dropped and whitespace ends a run: ``"2018年 iPhone X"`` →
    ``["2018", "年", "iphone", "x"]``.
    """
    tokens: list[str] = []
    run = ""
    for char in text.lower():
        if char.isspace() or _is_punctuation(char) or _is_cjk(char):
            if run:
                tokens.append(run)
                run = ""
            if _is_cjk(char):
                tokens.append(char)
        else:
            run += char
    if run:
        tokens.append(run)
    return tokens


def longest_common_substring(a: Sequence, b: Sequence) -> int:
    """Length of the longest contiguous run shared by the sequences ``a`` and ``b``."""
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def cmrc_em(prediction: str, golds: str | Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold, else 0.0."""
    golds = _golds(golds)
    empty = _unanswerable(prediction, golds)
    if empty is not None:
        return empty
    predicted = cmrc_normalize(prediction)
    return float(any(predicted == cmrc_normalize(gold) for gold in golds))


def cmrc_f1(prediction: str, golds: str | Sequence[str]) -> float:
    """Max over golds of the F1 from the longest common substring of the mixed segmentations."""
    golds = _golds(golds)
    empty = _unanswerable(prediction, golds)
    if empty is not None:
        return empty
    predicted = mixed_segmentation(prediction)
    best = 0.0
    for gold in golds:
        expected = mixed_segmentation(gold)
        if not predicted or not expected:
            best = max(best, float(not predicted and not expected))
            continue
        common = longest_common_substring(predicted, expected)
        if common:
            precision, recall = common / len(predicted), common / len(expected)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


# --------------------------------------------------------------------------------------- Sogou


def to_half_width(text: str) -> str:
    """Full-width ASCII forms (U+FF01–U+FF5E) and the ideographic space → their ASCII counterparts."""
    out = []
    for char in text:
        code = ord(char)
        if code == 0x3000:
            code = 0x20
        elif 0xFF01 <= code <= 0xFF5E:
            code -= 0xFEE0
        out.append(chr(code))
    return "".join(out)


def sogou_normalize(text: str) -> str:
    """Half-width, lower-case, punctuation → space, then every whitespace character removed."""
    text = to_half_width(text).lower()
    return "".join(c for c in text if not _is_punctuation(c) and not c.isspace())


def sogou_accuracy(prediction: str, golds: str | Sequence[str]) -> float:
    """1.0 when the normalised prediction is one of the normalised golds."""
    golds = _golds(golds)
    empty = _unanswerable(prediction, golds)
    if empty is not None:
        return empty
    return float(sogou_normalize(prediction) in {sogou_normalize(g) for g in golds})


def sogou_f1(prediction: str, golds: str | Sequence[str]) -> float:
    """Max over golds of the character multiset F1 of the normalised strings."""
    golds = _golds(golds)
    empty = _unanswerable(prediction, golds)
    if empty is not None:
        return empty
    predicted = Counter(sogou_normalize(prediction))
    best = 0.0
    for gold in golds:
        expected = Counter(sogou_normalize(gold))
        if not predicted or not expected:
            best = max(best, float(not predicted and not expected))
            continue
        common = sum((predicted & expected).values())
        if common:
            precision, recall = common / sum(predicted.values()), common / sum(expected.values())
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def sogou_score(prediction: str, golds: str | Sequence[str]) -> float:
    """(accuracy + F1) / 2 for one question."""
    return (sogou_accuracy(prediction, golds) + sogou_f1(prediction, golds)) / 2


# -------------------------------------------------------------------------------------- corpus


def _summary(rows: Sequence[tuple[float, float, float, float]]) -> dict:
    count = len(rows)
    if not count:
        return {"count": 0, "em": 0.0, "f1": 0.0, "sogou_accuracy": 0.0, "sogou_f1": 0.0, "sogou_score": 0.0}
    em, f1, accuracy, sogou = (100.0 * sum(column) / count for column in zip(*rows, strict=True))
    return {
        "count": count,
        "em": em,
        "f1": f1,
        "sogou_accuracy": accuracy,
        "sogou_f1": sogou,
        "sogou_score": (accuracy + sogou) / 2,
    }


def score_predictions(predictions: Mapping[str, str], examples: Iterable) -> dict:
    """Corpus scores of ``{question_id: answer}`` against examples (anything with ``question_id``,
    ``answers`` and optionally ``source``, e.g. :class:`kerasgen.data.mrc.MRCExample`).

    Returns percentages averaged over the examples: ``em``, ``f1`` (CMRC style), ``sogou_accuracy``,
    ``sogou_f1``, ``sogou_score`` (= 100 × the post's 0.7583-style score), plus ``count``, ``missing``
    (questions without a prediction, scored as the empty answer) and, when the examples carry sources,
    ``per_source``: the same keys for each source. Question ids must be unique among the examples.
    """
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    all_rows, seen, missing = [], set(), 0
    for example in examples:
        question_id = example.question_id
        if question_id in seen:
            raise ValueError(
                f"Question id {question_id!r} appears twice; score each source separately "
                "or give the examples unique ids."
            )
        seen.add(question_id)
        if question_id not in predictions:
            missing += 1
        prediction = predictions.get(question_id, "") or ""
        golds = list(example.answers)
        row = (
            cmrc_em(prediction, golds),
            cmrc_f1(prediction, golds),
            sogou_accuracy(prediction, golds),
            sogou_f1(prediction, golds),
        )
        all_rows.append(row)
        source = getattr(example, "source", "") or ""
        if source:
            rows.setdefault(source, []).append(row)
    result = _summary(all_rows)
    result["missing"] = missing
    if rows:
        result["per_source"] = {source: _summary(values) for source, values in rows.items()}
    return result
