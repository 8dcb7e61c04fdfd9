"""Chinese extractive reading comprehension (post 6, DGCNN): examples, readers, splits, tokenisation.

Data model. One :class:`MRCExample` is one question with one or several :class:`Passage` s:

* SQuAD-style files (CMRC 2018, DRCD, CAIL 2019) give one passage per question;
* WebQA / SogouQA give several search-result passages per question, each with its own answer or none.

A passage carries the answer strings found in it with their start offsets (``answers[i]`` starts at
``answer_starts[i]`` in ``text``; checked on construction). The example carries ``answers``: every gold
string (all annotators' variants, deduplicated, in file order), which is what predictions are scored
against; ``answers == ()`` means the question is unanswerable (a real or synthesised negative).

``Passage.text`` is the model's input: simplified Chinese. ``Passage.original`` is the text as given in
the file (traditional for DRCD) and has the *same length*, character for character, so a span predicted
on ``text`` maps back to ``original[start:end]`` unchanged.

Readers: :func:`read_squad` (SQuAD v1/v2, CAIL quirks, traditional → simplified with aligned offsets),
:func:`read_webqa` (WebQA / SogouQA JSON), :func:`load_mrc_pool` (the five shared files by source).
Then :func:`train_dev_split` (by article, per source) and :func:`answerless_examples` (negatives from
other paragraphs of the same article). Model inputs: :class:`ChineseTokenizer` (jieba word per
character, for the char + word mixed embedding), :class:`CharVocabulary`, :func:`find_all`.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kerasgen.data.corpus import mrc_dir, to_simplified

logger = logging.getLogger(__name__)

# (source name, file name) of the shared training pool, in reading order.
MRC_POOL_FILES: tuple[tuple[str, str], ...] = (
    ("cmrc2018_trial", "cmrc2018_trial.json"),
    ("drcd_dev", "DRCD_dev.json"),
    ("drcd_test", "DRCD_test.json"),
    ("cail2019_dev", "cail2019_dev.json"),
    ("cail2019_test", "cail2019_test.json"),
)

YES_NO_ANSWERS: frozenset[str] = frozenset({"YES", "NO"})
# characters of original text either side of an answer converted to check it in context
_CONTEXT_WINDOW = 8


# ------------------------------------------------------------------------------------ data model


@dataclass(frozen=True)
class Passage:
    """One passage and the answers found in it.

    Attributes:
        text: the passage as the model reads it (simplified Chinese).
        answers: answer strings located in ``text`` (parallel to ``answer_starts``); empty when the
            passage holds no answer.
        answer_starts: start offset in ``text`` of each entry of ``answers``.
        original: the passage as given in the file, same length as ``text`` (``text`` itself when no
            conversion happened; always a ``str`` after construction).
        passage_id: an identifier from the file (or made up from the position), for reference only.
    """

    text: str
    answers: tuple[str, ...] = ()
    answer_starts: tuple[int, ...] = ()
    original: str | None = None
    passage_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "answers", tuple(self.answers))
        object.__setattr__(self, "answer_starts", tuple(int(s) for s in self.answer_starts))
        if self.original is None:
            object.__setattr__(self, "original", self.text)
        if len(self.original) != len(self.text):
            raise ValueError(
                f"Passage {self.passage_id!r}: original and text differ in length "
                f"({len(self.original)} != {len(self.text)}), offsets would not map back."
            )
        if len(self.answers) != len(self.answer_starts):
            raise ValueError(f"Passage {self.passage_id!r}: answers and answer_starts differ in length.")
        for answer, start in zip(self.answers, self.answer_starts, strict=True):
            if not answer or start < 0 or self.text[start : start + len(answer)] != answer:
                raise ValueError(f"Passage {self.passage_id!r}: answer {answer!r} is not at offset {start}.")

    @property
    def has_answer(self) -> bool:
        return bool(self.answers)

    def spans(self, all_occurrences: bool = True) -> list[tuple[int, int]]:
        """Sorted, distinct answer spans ``(start, end)``, ``end`` exclusive (last char is ``end - 1``).

        ``all_occurrences=True`` labels every occurrence of every answer string (faithful to WebQA and
        the author's code); ``False`` keeps only the annotated ``answer_starts`` (SQuAD convention).
        """
        if not all_occurrences:
            pairs = zip(self.answer_starts, self.answers, strict=True)
            return sorted({(s, s + len(a)) for s, a in pairs})
        return sorted({(s, s + len(a)) for a in set(self.answers) for s in find_all(self.text, a)})


@dataclass(frozen=True)
class MRCExample:
    """One question with its passage(s) and gold answers.

    Attributes:
        question_id: the id from the file, unique within it (:func:`load_mrc_pool` prefixes the source).
        question: the question, simplified.
        passages: one passage (SQuAD-style) or several (WebQA/SogouQA).
        answers: every gold answer string (deduplicated, file order); ``()`` = unanswerable.
        source: where it came from, e.g. ``"drcd_dev"``; dev scores are reported per source.
        article_id: the article (SQuAD ``id``/``caseid``) within the source; paragraphs of one article
            share it. Used to split by article and to synthesise negatives.
        title: the article title (simplified), ``""`` if none; equal titles mean the same article, also
            across files (DRCD dev and test hold different paragraphs of the same articles).
        synthetic: ``True`` for negatives made by :func:`answerless_examples`.
    """

    question_id: str
    question: str
    passages: tuple[Passage, ...]
    answers: tuple[str, ...] = ()
    source: str = ""
    article_id: str = ""
    title: str = ""
    synthetic: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "passages", tuple(self.passages))
        object.__setattr__(self, "answers", tuple(self.answers))
        if not self.passages:
            raise ValueError(f"Example {self.question_id!r} has no passage.")

    @property
    def is_answerable(self) -> bool:
        return bool(self.answers)

    @property
    def passage(self) -> Passage:
        """The first (for SQuAD-style data, the only) passage."""
        return self.passages[0]


def find_all(passage: str, answer: str, overlapping: bool = False) -> list[int]:
    """Start offsets of every occurrence of ``answer`` in ``passage`` (``[]`` for an empty answer).

    Occurrences are scanned left to right; with ``overlapping=False`` the next search resumes after the
    previous match (``"aa"`` in ``"aaaa"`` → ``[0, 2]``), with ``True`` one character later (``[0, 1, 2]``).
    """
    if not answer:
        return []
    starts, start = [], passage.find(answer)
    step = 1 if overlapping else len(answer)
    while start >= 0:
        starts.append(start)
        start = passage.find(answer, start + step)
    return starts


def _nearest(passage: str, answer: str, offset: int) -> int | None:
    """The occurrence of ``answer`` in ``passage`` nearest to ``offset`` (ties → earlier), or ``None``."""
    starts = find_all(passage, answer, overlapping=True)
    return min(starts, key=lambda s: (abs(s - offset), s)) if starts else None


def _dedupe(items: Iterable) -> tuple:
    return tuple(dict.fromkeys(items))


# ------------------------------------------------------------------------ traditional → simplified


def _char_table(chars: Iterable[str], convert: Callable[[Sequence[str]], list[str]]) -> dict[str, str]:
    """Character-level conversion table; a character whose conversion is not one character stays."""
    chars = sorted(set(chars))
    return {c: s if len(s) == 1 else c for c, s in zip(chars, convert(chars), strict=True)}


def simplify_preserving_offsets(
    texts: Sequence[str], convert: Callable[[Sequence[str]], list[str]] = to_simplified
) -> list[str]:
    """Traditional → simplified, each output exactly as long as its input (so offsets stay valid).

    Each text is converted whole (OpenCC ``t2s`` with its phrase table, e.g. 乾隆 stays 乾隆, 瞭解 → 了解).
    Should a phrase change the length, that text is converted again character by character, which
    preserves length by construction. ``convert`` maps a list of texts to a list of texts (a hook for
    tests; defaults to :func:`kerasgen.data.corpus.to_simplified`).
    """
    converted = list(convert(list(texts)))
    changed = [i for i, (a, b) in enumerate(zip(texts, converted, strict=True)) if len(a) != len(b)]
    if changed:
        table = _char_table((c for i in changed for c in texts[i]), convert)
        for i in changed:
            converted[i] = "".join(table[c] for c in texts[i])
        logger.info(
            "%d text(s) changed length under phrase conversion; converted char by char.", len(changed)
        )
    return converted


# ---------------------------------------------------------------------------------- SQuAD reader


def _is_true(value: Any) -> bool:
    """SQuAD 2.0's ``is_impossible``: a bool, or (CAIL) the string ``"true"``/``"false"``."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered not in ("true", "false", "1", "0", ""):
            raise ValueError(f"is_impossible should be true/false, got {value!r}")
        return lowered in ("true", "1")
    return bool(value)


def _bump(stats: MutableMapping[str, int] | None, key: str, by: int = 1) -> None:
    if stats is not None:
        stats[key] = stats.get(key, 0) + by


@dataclass
class _RawQuestion:
    """A question as read, before conversion (private to :func:`read_squad`)."""

    question_id: str
    question: str
    spans: list[tuple[str, int]]  # (answer text, start) in the original context, aligned
    article: int  # index into the article list
    paragraph: int  # index into the paragraph list
    impossible: bool = False


@dataclass
class _RawParagraph:
    context: str
    passage_id: str
    questions: list[_RawQuestion] = field(default_factory=list)


def read_squad(
    path: str | os.PathLike,
    simplify: bool | None = None,
    source: str | None = None,
    stats: MutableMapping[str, int] | None = None,
) -> list[MRCExample]:
    """Read a SQuAD v1/v2-format file into one :class:`MRCExample` per kept question.

    Args:
        path: the JSON file (``{"data": [{"title"?, "id"?|"caseid"?, "paragraphs": [{"context",
            "qas": [{"id", "question", "answers": [{"text", "answer_start"}], "is_impossible"?}]}]}]}``).
        simplify: convert traditional → simplified (question, context, answers, title). ``None``: only
            when the file name contains ``DRCD`` (any case).
        source: the examples' ``source``; defaults to the file stem, lower-cased (``drcd_dev``).
        stats: a dict to receive counts (keys below); also logged as one warning when answers were lost.

    Question policy (CAIL 2019 quirks included):

    * ``is_impossible`` true (bool, or the *string* ``"true"``) → kept as a negative with no answers,
      whatever its annotations say (``impossible_with_spans`` counts those that had span annotations).
    * otherwise the gold spans are the annotations with ``answer_start >= 0`` and non-empty text;
      a question whose ``YES``/``NO`` annotations (``answer_start`` -1) are at least as many as its
      spans is skipped (``skipped_yes_no``); one with no span at all is skipped (``skipped_no_answer``).

    Offsets: an annotation whose text is not at ``answer_start`` in the given context is moved to the
    nearest occurrence (``answers_moved``) or dropped (``answers_dropped``). Conversion keeps every
    context's length (:func:`simplify_preserving_offsets`), and the answer is re-read from the converted
    context at the same offset: kept when it equals the converted answer, or when converting the
    original text around it gives the same characters there (``answers_reread``: the phrase table
    converts the answer differently alone and in context); otherwise the nearest occurrence of the
    converted answer is used (``answers_moved``) or the answer is dropped (``answers_dropped``).
    A question left without answers is dropped too (``skipped_answers_lost``). Other counters:
    ``questions`` (in the file), ``kept``, ``unanswerable``.
    """
    path = Path(path)
    source = source if source is not None else path.stem.lower()
    if simplify is None:
        simplify = "drcd" in path.name.lower()
    counts: Counter[str] = Counter()
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error}).") from error
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise ValueError(f'{path}: expected a SQuAD-format object {{"data": [...]}}.')

    articles: list[tuple[str, str]] = []  # (article id, title)
    paragraphs: list[_RawParagraph] = []
    for a_index, article in enumerate(document["data"]):
        where = f"{path}: data[{a_index}]"
        try:
            article_id = str(article.get("id", article.get("caseid", a_index)))
            articles.append((article_id, str(article.get("title") or "")))
            for p_index, paragraph in enumerate(article["paragraphs"]):
                where = f"{path}: data[{a_index}].paragraphs[{p_index}]"
                context = paragraph["context"]
                if not isinstance(context, str):
                    raise TypeError("context is not a string")
                raw = _RawParagraph(context, str(paragraph.get("id", f"{article_id}-{p_index}")))
                for q_index, qa in enumerate(paragraph["qas"]):
                    where = f"{path}: data[{a_index}].paragraphs[{p_index}].qas[{q_index}]"
                    counts["questions"] += 1
                    question = _read_squad_question(qa, context, counts)
                    if question is not None:
                        question.article, question.paragraph = a_index, len(paragraphs)
                        raw.questions.append(question)
                paragraphs.append(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"{where}: malformed record ({type(error).__name__}: {error}).") from error

    if simplify:
        examples = _convert_squad(articles, paragraphs, source, counts)
    else:
        examples = [
            _squad_example(q, q.question, p.context, p.context, p.passage_id, q.spans, articles, source)
            for p in paragraphs
            for q in p.questions
        ]
    counts["kept"] = len(examples)
    counts["unanswerable"] = sum(not e.answers for e in examples)
    lost = counts["answers_dropped"] + counts["skipped_answers_lost"]
    if lost:
        logger.warning(
            "%s: dropped %d misaligned answer(s), %d question(s) left without answers.",
            path,
            counts["answers_dropped"],
            counts["skipped_answers_lost"],
        )
    if stats is not None:
        for key, value in counts.items():
            _bump(stats, key, value)
    return examples


def _read_squad_question(qa: Mapping, context: str, counts: Counter) -> _RawQuestion | None:
    question_id, question = str(qa["id"]), qa["question"]
    if not isinstance(question, str):
        raise TypeError("question is not a string")
    answers = qa.get("answers") or []
    spans = [
        (a["text"], int(a["answer_start"])) for a in answers if a["text"] and int(a["answer_start"]) >= 0
    ]
    if _is_true(qa.get("is_impossible", False)):
        counts["impossible_with_spans"] += bool(spans)
        return _RawQuestion(question_id, question, [], 0, 0, impossible=True)
    yes_no = sum(a["text"] in YES_NO_ANSWERS and int(a["answer_start"]) < 0 for a in answers)
    if yes_no and yes_no >= len(spans):
        counts["skipped_yes_no"] += 1
        return None
    if not spans:
        counts["skipped_no_answer"] += 1
        return None
    aligned = []
    for text, start in spans:
        if context[start : start + len(text)] != text:
            start = _nearest(context, text, start)
            counts["answers_dropped" if start is None else "answers_moved"] += 1
            if start is None:
                continue
        aligned.append((text, start))
    if not aligned:
        counts["skipped_answers_lost"] += 1
        return None
    return _RawQuestion(question_id, question, aligned, 0, 0)


def _squad_example(
    question: _RawQuestion,
    question_text: str,
    text: str,
    original: str,
    passage_id: str,
    spans: Sequence[tuple[str, int]],
    articles: Sequence[tuple[str, str]],
    source: str,
    title: str | None = None,
) -> MRCExample:
    spans = _dedupe(spans)
    article_id, raw_title = articles[question.article]
    passage = Passage(text, tuple(a for a, _ in spans), tuple(s for _, s in spans), original, passage_id)
    return MRCExample(
        question_id=question.question_id,
        question=question_text,
        passages=(passage,),
        answers=_dedupe(a for a, _ in spans),
        source=source,
        article_id=article_id,
        title=raw_title if title is None else title,
    )


def _convert_squad(
    articles: Sequence[tuple[str, str]], paragraphs: Sequence[_RawParagraph], source: str, counts: Counter
) -> list[MRCExample]:
    """Simplify contexts (length-preserving), questions, titles and answers; re-align the answers.

    An answer whose converted form differs from the converted context at its offset (the phrase table
    converts it differently in context, e.g. 瞭 alone vs 瞭解 → 了解) is checked against a conversion of
    the original text around it, ``_CONTEXT_WINDOW`` characters each side: if that agrees with the
    converted context, the converted context's characters are the answer (``answers_reread``).
    """
    questions = [q for p in paragraphs for q in p.questions]
    answer_texts = sorted({a for q in questions for a, _ in q.spans})
    converted = to_simplified(
        [q.question for q in questions] + [title for _, title in articles] + answer_texts
    )
    simple_questions = converted[: len(questions)]
    simple_titles = converted[len(questions) : len(questions) + len(articles)]
    simple_answer = dict(zip(answer_texts, converted[len(questions) + len(articles) :], strict=True))
    contexts = simplify_preserving_offsets([p.context for p in paragraphs])

    # answers that do not read back directly: convert a window of the original around each, in one batch
    windows: dict[tuple[int, int, int], tuple[int, str]] = {}  # (paragraph, start, length) → (lo, window)
    for p_index, (paragraph, context) in enumerate(zip(paragraphs, contexts, strict=True)):
        for question in paragraph.questions:
            for text, start in question.spans:
                if context[start : start + len(text)] != simple_answer[text]:
                    lo = max(0, start - _CONTEXT_WINDOW)
                    hi = min(len(context), start + len(text) + _CONTEXT_WINDOW)
                    windows[(p_index, start, len(text))] = (lo, paragraph.context[lo:hi])
    keys = list(windows)
    window_text = dict(zip(keys, to_simplified([windows[k][1] for k in keys]) if keys else [], strict=True))

    examples, index = [], 0
    for p_index, (paragraph, context) in enumerate(zip(paragraphs, contexts, strict=True)):
        for question in paragraph.questions:
            spans = []
            for text, start in question.spans:
                target, found = simple_answer[text], context[start : start + len(text)]
                key = (p_index, start, len(text))
                if found == target:
                    spans.append((target, start))
                    continue
                lo, window = windows[key]
                local = window_text[key]
                if len(local) == len(window) and local[start - lo : start - lo + len(text)] == found:
                    counts["answers_reread"] += 1
                    spans.append((found, start))
                    continue
                moved = _nearest(context, target, start)
                counts["answers_dropped" if moved is None else "answers_moved"] += 1
                if moved is not None:
                    spans.append((target, moved))
            if not spans and not question.impossible:
                counts["skipped_answers_lost"] += 1
            else:
                examples.append(
                    _squad_example(
                        question,
                        simple_questions[index],
                        context,
                        paragraph.context,
                        paragraph.passage_id,
                        spans,
                        articles,
                        source,
                        simple_titles[question.article],
                    )
                )
            index += 1
    return examples


# ----------------------------------------------------------------------------- WebQA / SogouQA


_WEBQA_ID = ("id", "question_id", "qid", "query_id")
_WEBQA_QUESTION = ("question", "query")
_WEBQA_PASSAGES = ("passages", "documents")
_WEBQA_TEXT = ("passage", "text", "content")
_WEBQA_ANSWER = ("answer", "answers")


def _first_key(record: Mapping, keys: Sequence[str]) -> str | None:
    return next((k for k in keys if k in record), None)


def _answer_list(value: Any) -> list[str]:
    """An ``answer`` field: a string, a list of strings, or null → non-empty stripped strings."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"answer should be a string or a list of strings, got {value!r}")
    return [v.strip() for v in value if v.strip()]


def _load_records(path: Path) -> list:
    """A JSON list of records, ``{"data": [...]}``, or JSON lines (one record per line)."""
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}: line {number} is not valid JSON ({error}).") from error
        return records
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        return document["data"]
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        return [document]
    raise ValueError(f"{path}: expected a list of question records.")


def read_webqa(
    path: str | os.PathLike, source: str | None = None, stats: MutableMapping[str, int] | None = None
) -> list[MRCExample]:
    """Read WebQA / SogouQA-style questions with several passages each.

    The file is a JSON list of records, ``{"data": [records]}``, or JSON lines. A record::

        {"id": "q1", "question": "...", "answer": "...",                       # id, answer optional
         "passages": [{"passage": "...", "answer": "..."}, "a bare passage string", ...]}

    Accepted field names: id — ``id``/``question_id``/``qid``/``query_id`` (default ``"<stem>-<index>"``);
    question — ``question``/``query``; passages — ``passages``/``documents``; passage text —
    ``passage``/``text``/``content`` (or the passage is a plain string); answer, on the question and/or
    on a passage — ``answer``/``answers``, a string or a list of strings (empty/missing = none).

    A passage's answers are its own ``answer`` field when it has one (an explicitly empty one means
    "no answer here"), otherwise the question-level answers; only those found in the passage text are
    kept, at their first occurrence (``Passage.spans()`` labels every occurrence). The example's gold
    ``answers`` are the question-level answers plus every passage-level one. No script conversion.
    Malformed records raise ``ValueError`` naming the file and record index. ``stats`` receives
    ``questions``, ``passages``, ``passages_with_answer``, ``answers_not_in_passage``.
    """
    path = Path(path)
    source = source if source is not None else path.stem.lower()
    examples = []
    for index, record in enumerate(_load_records(path)):
        try:
            examples.append(_webqa_example(record, f"{path.stem}-{index}", source, stats))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"{path}: record {index} is malformed ({error}).") from error
    return examples


def _webqa_example(
    record: Any, default_id: str, source: str, stats: MutableMapping[str, int] | None
) -> MRCExample:
    if not isinstance(record, dict):
        raise TypeError(f"expected an object, got {type(record).__name__}")
    id_key, question_key = _first_key(record, _WEBQA_ID), _first_key(record, _WEBQA_QUESTION)
    passages_key = _first_key(record, _WEBQA_PASSAGES)
    if question_key is None or passages_key is None:
        raise KeyError(f"needs one of {_WEBQA_QUESTION} and one of {_WEBQA_PASSAGES}")
    question = record[question_key]
    if not isinstance(question, str) or not question.strip():
        raise ValueError("the question is empty or not a string")
    raw_passages = record[passages_key]
    if not isinstance(raw_passages, list) or not raw_passages:
        raise ValueError("passages should be a non-empty list")
    question_id = str(record[id_key]) if id_key is not None else default_id
    answer_key = _first_key(record, _WEBQA_ANSWER)
    question_answers = _answer_list(record[answer_key]) if answer_key is not None else []
    golds, passages = list(question_answers), []
    for p_index, raw in enumerate(raw_passages):
        if isinstance(raw, str):
            text, candidates = raw, question_answers
        elif isinstance(raw, dict):
            text_key, own_key = _first_key(raw, _WEBQA_TEXT), _first_key(raw, _WEBQA_ANSWER)
            if text_key is None:
                raise KeyError(f"passage {p_index} needs one of {_WEBQA_TEXT}")
            text = raw[text_key]
            candidates = _answer_list(raw[own_key]) if own_key is not None else question_answers
            golds.extend(candidates)
        else:
            raise TypeError(f"passage {p_index} should be an object or a string")
        if not isinstance(text, str):
            raise TypeError(f"passage {p_index} text is not a string")
        found = [(a, text.find(a)) for a in _dedupe(candidates)]
        _bump(stats, "answers_not_in_passage", sum(s < 0 for _, s in found))
        found = [(a, s) for a, s in found if s >= 0]
        passages.append(
            Passage(
                text, tuple(a for a, _ in found), tuple(s for _, s in found), None, f"{question_id}-{p_index}"
            )
        )
        _bump(stats, "passages")
        _bump(stats, "passages_with_answer", bool(found))
    _bump(stats, "questions")
    return MRCExample(question_id, question, tuple(passages), _dedupe(golds), source)


# ------------------------------------------------------------------------- pool, split, negatives


def load_mrc_pool(
    data_dir: str | os.PathLike | None = None,
    sources: Iterable[str] | None = None,
    stats: MutableMapping[str, MutableMapping[str, int]] | None = None,
    unique_ids: bool = True,
) -> dict[str, list[MRCExample]]:
    """The shared training pool by source (see ``MRC_POOL_FILES``), read with :func:`read_squad`.

    ``data_dir`` defaults to ``$KERASGEN_MRC_DIR``; ``sources`` picks a subset (default all five);
    ``stats[source]`` receives each file's counts. DRCD is converted to simplified (pure-Python
    OpenCC: 5–10 s on one free core). Ids repeat across files (CAIL dev and test both have ``1_1``), so
    with ``unique_ids`` each ``question_id`` becomes ``"<source>/<id>"``, unique over the pool.
    """
    folder = mrc_dir(data_dir)
    files = dict(MRC_POOL_FILES)
    wanted = list(files) if sources is None else list(sources)
    unknown = [s for s in wanted if s not in files]
    if unknown:
        raise ValueError(f"Unknown MRC source(s) {unknown}; known: {list(files)}.")
    pool = {}
    for name in wanted:
        path = folder / files[name]
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing from the MRC folder.")
        counts = stats.setdefault(name, {}) if stats is not None else None
        examples = read_squad(path, source=name, stats=counts)
        if unique_ids:
            examples = [replace(e, question_id=f"{name}/{e.question_id}") for e in examples]
        pool[name] = examples
    return pool


def _article_key(example: MRCExample) -> tuple | None:
    """Paragraphs with equal keys belong to one article: same title, else same source and article id."""
    if example.title:
        return ("title", example.title)
    if example.article_id:
        return ("article", example.source, example.article_id)
    return None


def train_dev_split(
    examples_by_source: Mapping[str, Sequence[MRCExample]] | Sequence[MRCExample],
    dev_fraction: float = 0.1,
    seed: int = 0,
) -> tuple[list[MRCExample], list[MRCExample]]:
    """Deterministic ``(train, dev)`` split by article, about ``dev_fraction`` of each source in dev.

    Questions are grouped so that a group holds every question sharing a passage text or an article
    (same title, or same source and article id) with another of the group; whole groups go to one side,
    so no dev passage or article appears in train. Groups are visited in a seeded random order and a
    group joins dev while it brings each of its sources closer to ``round(dev_fraction * n_source)``
    questions. Both lists keep the input order; ``source`` is kept for per-source reports. A plain
    sequence is grouped by ``example.source``.
    """
    if not 0.0 < dev_fraction < 1.0:
        raise ValueError(f"dev_fraction must be in (0, 1), got {dev_fraction}.")
    if not isinstance(examples_by_source, Mapping):
        grouped: dict[str, list[MRCExample]] = {}
        for example in examples_by_source:
            grouped.setdefault(example.source, []).append(example)
        examples_by_source = grouped
    examples, sources = [], []
    for name, items in examples_by_source.items():
        examples.extend(items)
        sources.extend([name] * len(items))

    parent = list(range(len(examples)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple, int] = {}
    for i, example in enumerate(examples):
        keys = [("passage", p.text) for p in example.passages]
        article = _article_key(example)
        if article is not None:
            keys.append(article)
        for key in keys:
            j = owner.setdefault(key, i)
            parent[root(i)] = root(j)

    members: dict[int, list[int]] = {}
    for i in range(len(examples)):
        members.setdefault(root(i), []).append(i)
    groups = sorted(members.values())  # each list starts with its smallest index: a stable order
    random.Random(seed).shuffle(groups)
    target = {name: round(dev_fraction * len(items)) for name, items in examples_by_source.items()}
    taken = dict.fromkeys(target, 0)
    dev_rows: set[int] = set()
    for group in groups:
        size = Counter(sources[i] for i in group)
        if all(2 * taken[s] + n < 2 * target[s] for s, n in size.items()):
            dev_rows.update(group)
            for s, n in size.items():
                taken[s] += n
    train = [e for i, e in enumerate(examples) if i not in dev_rows]
    dev = [e for i, e in enumerate(examples) if i in dev_rows]
    return train, dev


def answerless_examples(
    examples: Sequence[MRCExample], seed: int = 0, ratio: float = 1.0
) -> list[MRCExample]:
    """Negatives: each answerable question paired with other paragraphs of its own article.

    A candidate paragraph comes from the same article (same title, else same source and article id;
    only paragraphs present in ``examples`` are known), differs from the question's own passage(s) and
    contains none of its gold answer strings. Each answerable, non-synthetic example gets
    ``floor(ratio)`` negatives plus one more with probability ``ratio - floor(ratio)``, fewer when its
    article has too few candidates (single-paragraph articles, as in CMRC trial and CAIL, give none).
    Deterministic for a given ``seed`` and input order. Returns only the negatives: ``answers == ()``,
    ``synthetic=True``, id ``"<question_id>#neg<k>"``, same source/article/title. Call it on each side
    of :func:`train_dev_split` separately (the split keeps articles whole, so negatives do not leak).
    """
    if ratio < 0:
        raise ValueError(f"ratio must be non-negative, got {ratio}.")
    paragraphs: dict[tuple, dict[str, Passage]] = {}
    for example in examples:
        key = _article_key(example)
        if key is not None:
            for passage in example.passages:
                paragraphs.setdefault(key, {}).setdefault(passage.text, passage)
    rng = random.Random(seed)
    whole, fraction = int(ratio), ratio - int(ratio)
    negatives = []
    for example in examples:
        if not example.answers or example.synthetic:
            continue
        wanted = whole + (rng.random() < fraction)
        key = _article_key(example)
        if not wanted or key is None:
            continue
        own = {p.text for p in example.passages}
        candidates = [
            p
            for text, p in paragraphs[key].items()
            if text not in own and not any(answer in text for answer in example.answers)
        ]
        for k, passage in enumerate(rng.sample(candidates, min(wanted, len(candidates)))):
            negatives.append(
                MRCExample(
                    question_id=f"{example.question_id}#neg{k}",
                    question=example.question,
                    passages=(
                        Passage(passage.text, original=passage.original, passage_id=passage.passage_id),
                    ),
                    answers=(),
                    source=example.source,
                    article_id=example.article_id,
                    title=example.title,
                    synthetic=True,
                )
            )
    return negatives


# ------------------------------------------------------------------------------------ tokenisation


class ChineseTokenizer:
    """jieba segmentation (``HMM=False``) giving, for every character, the word that contains it.

    Holds its own ``jieba.Tokenizer`` (created on first use, quiet, default dictionary), so words added
    here do not leak into jieba's global tokenizer. Words added with :meth:`add_word` (e.g. the
    word-vector vocabulary) are listed by :attr:`added_words` and in :meth:`get_config`, so the same
    segmentation can be rebuilt at inference. jieba only forms words from hanzi, ASCII letters,
    digits and ``+#&._%-``; other characters (spaces, punctuation, emoji) are single-character tokens.
    """

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._added: dict[str, int | None] = {}
        self._jieba = None
        for word in words:
            self.add_word(word)

    def _tokenizer(self):
        if self._jieba is None:
            try:
                import jieba
            except ImportError as error:  # pragma: no cover - a declared dependency
                raise ImportError("ChineseTokenizer needs `pip install jieba`.") from error
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            for word, freq in self._added.items():
                tokenizer.add_word(word, freq)
            self._jieba = tokenizer
        return self._jieba

    def add_word(self, word: str, freq: int | None = None) -> None:
        """Add ``word`` to this tokenizer's dictionary (``freq=None``: just frequent enough to be cut)."""
        if not isinstance(word, str) or not word or any(c.isspace() for c in word):
            raise ValueError(f"A word must be a non-empty string without spaces, got {word!r}.")
        self._added[word] = freq
        if self._jieba is not None:
            self._jieba.add_word(word, freq)

    @property
    def added_words(self) -> list[str]:
        """The words added so far, in order."""
        return list(self._added)

    def cut(self, text: str) -> list[str]:
        """The words of ``text`` (``''.join(words) == text``; ``[]`` for ``""``)."""
        if not text:
            return []
        words = list(self._tokenizer().cut(text, HMM=False))
        if "".join(words) != text:  # jieba keeps every character; guard the alignment anyway
            raise RuntimeError(f"jieba did not preserve the text {text!r}: {words!r}")
        return words

    def words_per_char(self, text: str) -> list[str]:
        """For each character of ``text``, the word it belongs to (``len(result) == len(text)``)."""
        return [word for word in self.cut(text) for _ in word]

    def get_config(self) -> dict:
        return {"words": self.added_words, "freqs": [self._added[w] for w in self._added]}

    @classmethod
    def from_config(cls, config: Mapping) -> ChineseTokenizer:
        tokenizer = cls()
        freqs = config.get("freqs") or [None] * len(config["words"])
        for word, freq in zip(config["words"], freqs, strict=True):
            tokenizer.add_word(word, freq)
        return tokenizer


class CharVocabulary:
    """Character ids: 0 = padding, 1 = unknown, then characters from 2 (most frequent first).

    Build it with :meth:`build`; :meth:`get_config` / :meth:`from_config` round-trip through JSON so the
    vocabulary can travel with a saved model. Characters are used as they are (no case folding).
    """

    PAD = 0
    UNK = 1

    def __init__(self, chars: Sequence[str], min_count: int = 1) -> None:
        chars = list(chars)
        if any(not isinstance(c, str) or len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
            raise ValueError("chars must be distinct single characters.")
        self.chars = chars
        self.min_count = int(min_count)
        self._ids = {c: i + 2 for i, c in enumerate(chars)}

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1) -> CharVocabulary:
        """Characters seen at least ``min_count`` times, by count (descending) then code point."""
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {min_count}.")
        counts = Counter(c for text in texts for c in text)
        kept = sorted((c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], c))
        return cls(kept, min_count)

    def __len__(self) -> int:
        return len(self.chars) + 2

    def __contains__(self, char: object) -> bool:
        return char in self._ids

    def encode(self, text: str) -> list[int]:
        """One id per character; characters not in the vocabulary → ``UNK``."""
        return [self._ids.get(c, self.UNK) for c in text]

    def get_config(self) -> dict:
        return {"chars": list(self.chars), "min_count": self.min_count}

    @classmethod
    def from_config(cls, config: Mapping) -> CharVocabulary:
        return cls(config["chars"], config.get("min_count", 1))
