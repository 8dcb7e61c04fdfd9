"""Answer extraction for DGCNN: spans from pointer probabilities, windows, and post 6's voting rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

THRESHOLD = 0.1  # post 6: candidate starts/ends have probability above 0.1
MAX_SPANS = 20  # candidate spans kept per window, best first


def candidate_spans(
    start: np.ndarray,
    end: np.ndarray,
    max_answer_length: int,
    threshold: float = THRESHOLD,
    top_k: int | None = MAX_SPANS,
) -> list[tuple[int, int, float]]:
    """Spans ``(i, j, p_start_i · p_end_j)`` with both probabilities above ``threshold``.

    ``i ≤ j < i + max_answer_length``; ``j`` is inclusive (the last character of the span). At most
    ``top_k`` spans are kept, best first: lower ones cannot win a passage and add almost nothing
    to a vote (squares of small scores), while an uncertain model can propose thousands.
    """
    start, end = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    starts = np.flatnonzero(start > threshold)
    ends = np.flatnonzero(end > threshold)
    if len(starts) == 0 or len(ends) == 0:
        return []
    gap = ends[None, :] - starts[:, None]
    rows, cols = np.nonzero((gap >= 0) & (gap < max_answer_length))
    scores = start[starts[rows]] * end[ends[cols]]
    order = np.argsort(-scores, kind="stable")
    if top_k is not None:
        order = order[:top_k]
    return [(int(starts[rows[k]]), int(ends[cols[k]]), float(scores[k])) for k in order]


def vote(scores: Iterable[float]) -> float:
    """Post 6's combination of one answer's per-passage scores: ``Σ s² / (1 + Σ s)``."""
    scores = list(scores)
    return sum(s * s for s in scores) / (1.0 + sum(scores))


def windows(length: int, size: int, stride: int) -> list[tuple[int, int]]:
    """Overlapping ``[begin, end)`` windows covering ``range(length)`` (one window when it fits)."""
    if length <= size:
        return [(0, length)]
    begins = [*range(0, length - size, stride), length - size]
    return [(b, b + size) for b in sorted(set(begins))]


def best_answer(per_passage: list[dict[str, float]], min_score: float = 0.0) -> tuple[str, float]:
    """``(answer, score)`` from each passage's ``{answer: best score}``; ``("", 0)`` when there is none.

    An answer whose voted score is below ``min_score`` is withheld: ``("", score)``.
    """
    collected: dict[str, list[float]] = defaultdict(list)
    for answers in per_passage:
        for text, score in answers.items():
            collected[text].append(score)
    if not collected:
        return "", 0.0
    combined = {text: vote(scores) for text, scores in collected.items()}
    answer = max(combined, key=lambda text: (combined[text], -len(text)))
    return (answer if combined[answer] >= min_score else ""), combined[answer]


def calibrate_threshold(scored: list[tuple[str, float]], golds: list[list[str]]) -> float:
    """The answer-score threshold that maximises mean CMRC F1 over questions with known answers.

    ``scored`` holds each question's ``(answer, voted score)`` found with no threshold; ``golds``
    its gold answers (empty for an answerless question, which then scores 1 only for no answer).
    Post 6 thresholds each pointer at 0.1, but on SQuAD-2-style data a reader proposes a span for
    almost every answerless question; withholding answers whose voted score is below a threshold
    chosen on held-out questions is the usual remedy (as for BERT on SQuAD 2.0). Candidates are 0
    and the midpoints between consecutive distinct scores; ties keep the smallest threshold.
    """
    from kerasgen.eval.mrc_metrics import cmrc_f1

    if len(scored) != len(golds) or not scored:
        raise ValueError("Give one (answer, score) per question and at least one question.")
    scores = np.array([score for _, score in scored], dtype=np.float64)
    gain = np.array(  # F1 of answering minus F1 of answering nothing, per question
        [
            cmrc_f1(answer, list(g)) - cmrc_f1("", list(g))
            for (answer, _), g in zip(scored, golds, strict=True)
        ]
    )
    distinct = np.unique(scores)
    candidates = np.concatenate([[0.0], (distinct[:-1] + distinct[1:]) / 2, [distinct[-1] + 1.0]])
    totals = [gain[scores >= t].sum() for t in candidates]
    return float(candidates[int(np.argmax(totals))])


def answer_questions(
    model,
    encoder,
    items: list[tuple[str, list[str]]],
    max_answer_length: int = 32,
    window: int = 256,
    stride: int = 128,
    max_question_length: int = 64,
    batch_size: int = 64,
    min_score: float = 0.0,
    progress=None,
) -> list[tuple[str, float]]:
    """``(answer, score)`` for each ``(question, passages)``: windows → spans → per-passage best → vote.

    Each passage is read in overlapping windows of ``window`` characters (stride ``stride``); a
    passage keeps the best score of each distinct answer string over its windows and spans; the
    passages' scores of the same string are combined by :func:`vote`. Answers are substrings of
    the passages as given (the encoder keeps every character's position). Questions longer than
    ``max_question_length`` characters are cut. Answers voted below ``min_score`` are withheld
    (see :func:`best_answer`). ``progress`` (e.g. a tqdm-like callable) is called
    with the number of windows done after each batch.
    """
    rows = []  # (item index, passage index, window begin, question ids, char ids, word ids)
    for index, (question, passages) in enumerate(items):
        texts = encoder.normalise([question, *passages])
        q_chars, q_words = encoder.encode(texts[0][:max_question_length], normalised=True)
        for k, passage in enumerate(texts[1:]):
            if not passage.strip():
                continue
            chars, words = encoder.encode(passage, normalised=True)
            for begin, end in windows(len(passage), window, stride):
                rows.append((index, k, begin, q_chars, q_words, chars[begin:end], words[begin:end]))
    per_passage: list[dict[tuple[int, int], dict[str, float]]] = [defaultdict(dict) for _ in items]
    from kerasgen.models.dgcnn.text_encoder import pad_batch

    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        batch = {
            "question_chars": pad_batch([r[3] for r in chunk], max_question_length),
            "question_words": pad_batch([r[4] for r in chunk], max_question_length),
            "passage_chars": pad_batch([r[5] for r in chunk], window),
            "passage_words": pad_batch([r[6] for r in chunk], window),
        }
        outputs = model.predict_positions(batch)
        starts, ends = np.asarray(outputs["start"]), np.asarray(outputs["end"])
        for row, (index, k, begin, *_rest) in enumerate(chunk):
            passage = items[index][1][k]
            best = per_passage[index][k]
            for i, j, score in candidate_spans(starts[row], ends[row], max_answer_length):
                text = passage[begin + i : begin + j + 1]
                if text.strip() and score > best.get(text, 0.0):
                    best[text] = score
        if progress is not None:
            progress(len(chunk))
    return [best_answer(list(found.values()), min_score) for found in per_passage]


# Questions the demo and the notebook answer without any dataset: (question, passages).
EXAMPLE_QUESTIONS = [
    ("中华人民共和国的首都是哪座城市？", ["北京是中华人民共和国的首都，也是全国的政治和文化中心。"]),
    (
        "长江全长约多少公里？",
        [
            "长江是中国最长的河流，发源于青藏高原，全长约6300公里，流经十一个省级行政区。",
            "黄河是中国第二长河，全长约5464公里。",
        ],
    ),
    ("《红楼梦》的作者是谁？", ["《红楼梦》是清代小说家曹雪芹创作的长篇小说，被列为中国古典四大名著之一。"]),
    ("台北101大楼有多高？", ["台北101是位於台灣台北市信義區的摩天大樓，樓高508公尺，曾是世界最高的建築。"]),
]
