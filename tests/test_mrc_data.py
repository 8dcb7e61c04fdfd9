"""Reading-comprehension data (post 6): SQuAD / DRCD / CAIL / WebQA readers, splits, negatives, tokens."""

import json
import logging
import os
from collections import Counter

import pytest

from kerasgen.data.mrc import (
    CharVocabulary,
    ChineseTokenizer,
    MRCExample,
    Passage,
    answerless_examples,
    find_all,
    load_mrc_pool,
    read_squad,
    read_webqa,
    simplify_preserving_offsets,
    train_dev_split,
)


def write_json(path, obj):
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


def squad(articles):
    return {"version": "test", "data": articles}


def qa(qid, question, *answers, impossible=None):
    record = {
        "id": qid,
        "question": question,
        "answers": [{"text": t, "answer_start": s} for t, s in answers],
    }
    if impossible is not None:
        record["is_impossible"] = impossible
    return record


def assert_aligned(example):
    for passage in example.passages:
        assert len(passage.original) == len(passage.text)
        for answer, start in zip(passage.answers, passage.answer_starts, strict=True):
            assert passage.text[start : start + len(answer)] == answer


# ------------------------------------------------------------------------------------ find_all


def test_find_all():
    assert find_all("北京和北京", "北京") == [0, 3]
    assert find_all("aaaa", "aa") == [0, 2]
    assert find_all("aaaa", "aa", overlapping=True) == [0, 1, 2]
    assert find_all("abc", "") == [] and find_all("abc", "x") == []


def test_passage_checks_offsets_and_gives_spans():
    passage = Passage("北京是北京", ("北京",), (3,))
    assert passage.original == passage.text
    assert passage.spans() == [(0, 2), (3, 5)]  # every occurrence (WebQA-faithful)
    assert passage.spans(all_occurrences=False) == [(3, 5)]  # only the annotated start
    with pytest.raises(ValueError, match="not at offset"):
        Passage("北京是北京", ("北京",), (1,))
    with pytest.raises(ValueError, match="length"):
        Passage("北京", original="北京市")


# --------------------------------------------------------------------------------------- SQuAD


def test_read_squad_simplified_file(tmp_path):
    path = write_json(
        tmp_path / "cmrc_tiny.json",
        squad(
            [
                {
                    "id": "A1",
                    "title": "城市",
                    "paragraphs": [
                        {
                            "id": "A1-0",
                            "context": "北京是中国的首都。上海是中国最大的城市。",
                            "qas": [
                                qa("q1", "中国的首都是哪里？", ("北京", 0), ("北京", 0), ("中国的首都", 3)),
                                qa("q2", "最大的城市？", ("上海", 10)),
                            ],
                        }
                    ],
                }
            ]
        ),
    )
    examples = read_squad(path)
    assert [e.question_id for e in examples] == ["q1", "q2"]
    first = examples[0]
    assert first.source == "cmrc_tiny" and first.article_id == "A1" and first.title == "城市"
    assert first.answers == ("北京", "中国的首都")  # deduplicated, file order
    assert first.passage.answers == ("北京", "中国的首都") and first.passage.answer_starts == (0, 3)
    assert first.passage.passage_id == "A1-0" and first.is_answerable
    for example in examples:
        assert_aligned(example)


def test_read_squad_converts_drcd_keeping_offsets(tmp_path):
    context = "他瞭解乾隆皇帝的頭髮。後來陸特說明。"  # 乾 at 3, 頭髮 at 8, 陸特 at 13
    path = write_json(
        tmp_path / "DRCD_tiny.json",
        squad(
            [
                {
                    "id": "7",
                    "title": "乾隆頭髮",
                    "paragraphs": [
                        {
                            "context": context,
                            "qas": [
                                qa("t1", "誰的頭髮？", ("乾隆皇帝", 3)),
                                qa("t2", "什麼？", ("頭髮", 8)),
                                qa("t3", "單字？", ("乾", 3)),  # alone 乾 → 干, in 乾隆 it stays 乾
                                qa("t4", "單字？", ("瞭", 1)),  # alone 瞭 stays, in 瞭解 → 了
                                qa("t5", "誰？", ("陸特", 13)),
                            ],
                        }
                    ],
                }
            ]
        ),
    )
    stats = {}
    examples = read_squad(path, stats=stats)
    assert len(examples) == 5
    passage = examples[0].passage
    assert passage.text == "他了解乾隆皇帝的头发。后来陆特说明。"  # phrase table: 瞭解 → 了解, 乾隆 kept
    assert passage.original == context
    assert examples[0].title == "乾隆头发" and examples[0].question == "谁的头发？"
    expected = [
        ("乾隆皇帝", "乾隆皇帝", 3),
        ("头发", "頭髮", 8),
        ("乾", "乾", 3),
        ("了", "瞭", 1),
        ("陆特", "陸特", 13),
    ]
    for example, (simplified, traditional, start) in zip(examples, expected, strict=True):
        assert_aligned(example)
        assert example.answers == (simplified,) and example.passage.answer_starts == (start,)
        # the span maps back onto the traditional passage unchanged
        assert example.passage.original[start : start + len(simplified)] == traditional
    assert stats["answers_reread"] == 2 and stats.get("answers_dropped", 0) == 0

    kept = read_squad(path, simplify=False)
    assert kept[1].answers == ("頭髮",) and kept[1].passage.text == context


def test_simplify_preserving_offsets_falls_back_to_characters():
    chars = {"B": "b", "C": "c", "Q": "qq"}

    def convert(texts):  # a phrase rule that shortens "BC", then per-character rules (Q lengthens)
        return ["".join(chars.get(c, c) for c in t.replace("BC", "Z")) for t in texts]

    # ABCD → AZD and xyQ → xyqq change length: converted char by char, Q (→ qq) kept as it is
    assert simplify_preserving_offsets(["ABCD", "xyQ", "BQ", "BD"], convert) == ["AbcD", "xyQ", "bQ", "bD"]


def test_read_squad_moves_or_drops_misaligned_answers(tmp_path, caplog):
    path = write_json(
        tmp_path / "offsets.json",
        squad(
            [
                {
                    "title": "t",
                    "paragraphs": [
                        {
                            "context": "俗名龙尖，体长可达80公分。",
                            "qas": [
                                qa("m1", "俗名？", ("名龙尖", 0)),  # off by one: really at 1
                                qa("m2", "？", ("不存在", 3)),  # not in the passage: question dropped
                                qa("m3", "？", ("80公分", 9), ("九十", 2)),  # one good, one dropped
                            ],
                        }
                    ],
                }
            ]
        ),
    )
    stats = {}
    with caplog.at_level(logging.WARNING):
        examples = read_squad(path, stats=stats)
    assert [e.question_id for e in examples] == ["m1", "m3"]
    assert examples[0].passage.answer_starts == (1,) and examples[1].answers == ("80公分",)
    assert (
        stats["answers_moved"] == 1 and stats["answers_dropped"] == 2 and stats["skipped_answers_lost"] == 1
    )
    assert "offsets.json" in caplog.text and "dropped 2" in caplog.text


def test_read_squad_cail_quirks(tmp_path):
    context = "原告张三与被告李四于2001年结婚，2011年因感情破裂离婚。"
    path = write_json(
        tmp_path / "cail_tiny.json",
        squad(
            [
                {
                    "caseid": "1",
                    "domain": "civil",
                    "paragraphs": [
                        {
                            "context": context,
                            "casename": "离婚纠纷",
                            "qas": [
                                qa("c1", "何时结婚？", ("2001年", 10), ("2001年", 10), impossible="false"),
                                qa("c2", "孩子几岁？", ("", -1), ("", -1), impossible="true"),
                                qa(
                                    "c3",
                                    "是否离婚？",
                                    ("YES", -1),
                                    ("YES", -1),
                                    ("NO", -1),
                                    impossible="false",
                                ),
                                qa(
                                    "c4", "房产在哪？", ("感情破裂", 24), ("", -1), impossible="true"
                                ),  # noisy
                                qa("c5", "为何离婚？", ("感情破裂", 24), ("YES", -1), ("因感情破裂", 23)),
                                qa("c6", "是否同意？", ("YES", -1), ("YES", -1), ("感情破裂", 24)),
                            ],
                        }
                    ],
                }
            ]
        ),
    )
    stats = {}
    examples = {e.question_id: e for e in read_squad(path, stats=stats)}
    assert sorted(examples) == ["c1", "c2", "c4", "c5"]  # YES/NO-majority questions skipped
    assert examples["c1"].answers == ("2001年",) and examples["c1"].article_id == "1"
    assert examples["c2"].answers == () and not examples["c2"].passage.has_answer  # real negative
    assert examples["c4"].answers == () and examples["c4"].passage.answers == ()  # is_impossible wins
    assert examples["c5"].answers == ("感情破裂", "因感情破裂")
    assert examples["c5"].passage.answer_starts == (24, 23)
    nonzero = {k: v for k, v in stats.items() if v}
    assert nonzero == {
        "questions": 6,
        "kept": 4,
        "unanswerable": 2,
        "skipped_yes_no": 2,
        "impossible_with_spans": 1,
    }


def test_read_squad_malformed_file_names_the_file(tmp_path):
    bad = write_json(tmp_path / "broken.json", squad([{"title": "x", "paragraphs": [{"qas": []}]}]))
    with pytest.raises(ValueError, match=r"broken\.json.*data\[0\]\.paragraphs\[0\]"):
        read_squad(bad)
    not_json = tmp_path / "garbage.json"
    not_json.write_text("{nope", encoding="utf-8")
    with pytest.raises(ValueError, match=r"garbage\.json"):
        read_squad(not_json)
    with pytest.raises(ValueError, match=r"list\.json"):
        read_squad(write_json(tmp_path / "list.json", [1, 2]))


# --------------------------------------------------------------------------------------- WebQA


WEBQA = [
    {
        "id": "w1",
        "question": "中国的首都是哪里",
        "passages": [
            {"passage": "北京是首都，北京很大。", "answer": "北京"},
            {"passage": "上海是城市。", "answer": ""},
            {"passage": "首都北京。"},  # no answer field: the question-level answer is looked for
        ],
        "answer": "北京",
    },
    {
        "query": "长江有多长",
        "passages": [
            {"content": "长江约6300公里。", "answers": ["6300公里", "约6300公里"]},
            "一段无关的文字。",
        ],
    },
]


def test_read_webqa_round_trip(tmp_path):
    stats = {}
    examples = read_webqa(write_json(tmp_path / "webqa_tiny.json", WEBQA), stats=stats)
    assert len(examples) == 2
    first, second = examples
    assert first.question_id == "w1" and first.source == "webqa_tiny" and first.answers == ("北京",)
    assert [p.text for p in first.passages] == ["北京是首都，北京很大。", "上海是城市。", "首都北京。"]
    assert [p.answers for p in first.passages] == [("北京",), (), ("北京",)]
    assert first.passages[0].spans() == [(0, 2), (6, 8)]  # both occurrences labelled
    assert first.passages[2].answer_starts == (2,)
    assert second.question_id == "webqa_tiny-1" and second.question == "长江有多长"
    assert second.answers == ("6300公里", "约6300公里")
    assert second.passages[0].spans() == [(2, 9), (3, 9)]
    assert second.passages[1].answers == ()
    assert stats == {"questions": 2, "passages": 5, "passages_with_answer": 3, "answers_not_in_passage": 0}
    for example in examples:
        assert_aligned(example)

    lines = tmp_path / "sogou.jsonl"
    lines.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in WEBQA) + "\n", encoding="utf-8")

    def content(items):
        return [
            (e.question_id, e.answers, [(p.text, p.answers, p.answer_starts) for p in e.passages])
            for e in items
        ]

    from_lines = content(read_webqa(lines))
    assert [c[1:] for c in from_lines] == [c[1:] for c in content(examples)]
    assert [c[0] for c in from_lines] == ["w1", "sogou-1"]  # default ids come from the file name
    wrapped = read_webqa(write_json(tmp_path / "wrapped.json", {"data": WEBQA}))
    assert [e.answers for e in wrapped] == [e.answers for e in examples]


def test_read_webqa_counts_answers_missing_from_passages(tmp_path):
    stats = {}
    (example,) = read_webqa(
        write_json(tmp_path / "w.json", [{"question": "问", "answer": "甲", "passages": [{"text": "乙丙"}]}]),
        stats=stats,
    )
    assert example.answers == ("甲",) and example.passage.answers == ()
    assert stats["answers_not_in_passage"] == 1


@pytest.mark.parametrize(
    "record",
    [
        {"passages": [{"passage": "x"}]},  # no question
        {"question": "问", "passages": []},  # no passage
        {"question": "问", "passages": [{"answer": "x"}]},  # passage without text
        {"question": "问", "passages": [{"passage": "x", "answer": 3}]},  # answer not a string
        "just a string",
    ],
)
def test_read_webqa_malformed_record_names_file_and_index(tmp_path, record):
    path = write_json(tmp_path / "bad_webqa.json", [WEBQA[0], record])
    with pytest.raises(ValueError, match=r"bad_webqa\.json: record 1"):
        read_webqa(path)


# ----------------------------------------------------------------------------- split, negatives


def make_article(source, article, paragraphs, questions_per_paragraph=2, title=""):
    """Paragraph k of an article says "<article>-<k> 答案<article>-<k>." with answers "答案<article>-<k>"."""
    examples = []
    for k in range(paragraphs):
        answer = f"答案{article}-{k}"
        text = f"第{k}段，{answer}。"
        for q in range(questions_per_paragraph):
            examples.append(
                MRCExample(
                    question_id=f"{source}/{article}/{k}/{q}",
                    question=f"问题{q}",
                    passages=(Passage(text, (answer,), (text.index(answer),), passage_id=f"{article}-{k}"),),
                    answers=(answer,),
                    source=source,
                    article_id=str(article),
                    title=title,
                )
            )
    return examples


def make_pool():
    pool = {"alpha": [], "beta": [], "beta_test": []}
    for article in range(40):
        pool["alpha"] += make_article("alpha", article, 1 + article % 3)
    for article in range(30):  # the same titled articles appear in two files (as DRCD dev/test do)
        pool["beta"] += make_article("beta", f"b{article}", 2, title=f"标题{article}")
        pool["beta_test"] += make_article("beta_test", f"c{article}", 1, title=f"标题{article}")
    return pool


def test_train_dev_split_by_article_is_deterministic_and_per_source():
    pool = make_pool()
    train, dev = train_dev_split(pool, dev_fraction=0.1, seed=0)
    assert len(train) + len(dev) == sum(map(len, pool.values()))
    assert {e.question_id for e in train}.isdisjoint(e.question_id for e in dev)
    train_passages = {p.text for e in train for p in e.passages}
    assert not any(p.text in train_passages for e in dev for p in e.passages)
    assert {(e.source, e.article_id) for e in train}.isdisjoint((e.source, e.article_id) for e in dev)
    assert {e.title for e in train if e.title}.isdisjoint(e.title for e in dev if e.title)
    counts = Counter(e.source for e in dev)
    for source, items in pool.items():  # within one group of round(0.1 * n)
        assert abs(counts[source] - round(0.1 * len(items))) <= 4, (source, counts)

    again = train_dev_split(pool, dev_fraction=0.1, seed=0)
    assert [e.question_id for e in again[1]] == [e.question_id for e in dev]
    other = train_dev_split(pool, dev_fraction=0.1, seed=1)
    assert [e.question_id for e in other[1]] != [e.question_id for e in dev]
    flat = train_dev_split([e for items in pool.values() for e in items], dev_fraction=0.1, seed=0)
    assert [e.question_id for e in flat[1]] == [e.question_id for e in dev]


def test_train_dev_split_keeps_a_shared_passage_on_one_side():
    shared = Passage("同一段文字，甲。", ("甲",), (6,))
    examples = [
        MRCExample(
            f"q{i}",
            "问",
            (shared if i % 20 == 0 else Passage(f"段{i}，甲。", ("甲",), (len(str(i)) + 2,)),),
            ("甲",),
            "s",
        )
        for i in range(60)
    ]  # 3 questions on the shared passage, 57 on their own; target dev size 30
    sides = []
    for seed in range(10):
        train, dev = train_dev_split({"s": examples}, dev_fraction=0.5, seed=seed)
        assert len(train) + len(dev) == 60 and 29 <= len(dev) <= 31
        in_dev = {e.question_id for e in dev}
        side = {e.question_id in in_dev for e in examples if e.passage is shared}
        assert len(side) == 1
        sides.append(side.pop())
    assert any(sides) and not all(sides)


def test_answerless_examples_come_from_the_same_article_without_gold():
    pool = make_pool()
    examples = [e for items in pool.values() for e in items]
    # paragraph 1 of alpha article 2 also mentions paragraph 0's answer: never a negative for it
    tricky = make_article("alpha", 2, 3)
    tricky = [e for e in examples if e.article_id != "2" or e.source != "alpha"] + [
        MRCExample(
            e.question_id,
            e.question,
            (Passage(e.passage.text + "另有答案2-0。", e.passage.answers, e.passage.answer_starts),),
            e.answers,
            e.source,
            e.article_id,
        )
        if e.passage.passage_id == "2-1"
        else e
        for e in tricky
    ]
    negatives = answerless_examples(tricky, seed=0, ratio=1.0)
    by_id = {e.question_id: e for e in tricky}
    paragraphs_of = {}
    for e in tricky:
        key = e.title or (e.source, e.article_id)
        paragraphs_of.setdefault(key, set()).add(e.passage.text)
    assert negatives
    for negative in negatives:
        original = by_id[negative.question_id.split("#neg")[0]]
        assert negative.synthetic and negative.answers == () and not negative.passage.has_answer
        assert negative.question == original.question and negative.source == original.source
        assert negative.passage.text != original.passage.text
        assert (
            negative.passage.text in paragraphs_of[original.title or (original.source, original.article_id)]
        )
        assert not any(answer in negative.passage.text for answer in original.answers)
    # ratio 1: one negative for every positive of a multi-paragraph article, none for one-paragraph ones
    per_question = Counter(n.question_id.split("#neg")[0] for n in negatives)
    assert set(per_question.values()) == {1}
    assert set(per_question) == {
        e.question_id for e in tricky if e.source != "alpha" or int(e.article_id) % 3
    }
    # paragraph 2-1 mentions 2-0's answer, so 2-0's questions can only get paragraph 2-2
    third = next(e.passage.text for e in tricky if e.passage.passage_id == "2-2" and e.source == "alpha")
    assert {n.passage.text for n in negatives if n.question_id.startswith("alpha/2/0/")} == {third}
    # titled articles span two sources: beta questions may get beta_test paragraphs
    assert any(n.source == "beta_test" for n in negatives)

    assert [n.question_id for n in answerless_examples(tricky, seed=0)] == [n.question_id for n in negatives]
    assert [n.passage.text for n in answerless_examples(tricky, seed=0)] == [
        n.passage.text for n in negatives
    ]
    assert len(answerless_examples(tricky, seed=0, ratio=0.0)) == 0
    assert len(answerless_examples(tricky, seed=0, ratio=2.0)) > len(negatives)


# -------------------------------------------------------------------------------- tokenisation


def test_words_per_char_alignment():
    tokenizer = ChineseTokenizer()
    assert tokenizer.cut("我爱北京天安门") == ["我", "爱", "北京", "天安门"]
    assert tokenizer.words_per_char("我爱北京天安门") == [
        "我",
        "爱",
        "北京",
        "北京",
        "天安门",
        "天安门",
        "天安门",
    ]
    assert tokenizer.words_per_char("") == [] and tokenizer.cut("") == []
    for text in [" ", "  中国  人民 ", "2018年iPhone X发布", "a\r\nb\t", "😀𠀀中文", "ｆｕｌｌ\u3000width"]:
        words = tokenizer.cut(text)
        assert "".join(words) == text
        per_char = tokenizer.words_per_char(text)
        assert len(per_char) == len(text)
        assert all(char in word for char, word in zip(text, per_char, strict=True))
    assert tokenizer.words_per_char("iPhone X")[:6] == ["iPhone"] * 6


def test_added_words_are_private_and_saved():
    tokenizer = ChineseTokenizer(["泡泡战士"])
    assert tokenizer.cut("泡泡战士很强") == ["泡泡战士", "很", "强"]
    assert tokenizer.added_words == ["泡泡战士"]
    tokenizer.add_word("很强的")  # after the jieba tokenizer exists
    assert tokenizer.added_words == ["泡泡战士", "很强的"]
    assert ChineseTokenizer().cut("泡泡战士") == ["泡泡", "战士"]  # another instance is not affected
    config = json.loads(json.dumps(tokenizer.get_config()))
    assert ChineseTokenizer.from_config(config).added_words == tokenizer.added_words
    assert ChineseTokenizer.from_config(config).cut("泡泡战士很强") == tokenizer.cut("泡泡战士很强")
    with pytest.raises(ValueError):
        tokenizer.add_word("两个 词")


def test_char_vocabulary():
    vocabulary = CharVocabulary.build(["aab", "bcc", "d"], min_count=2)
    assert CharVocabulary.PAD == 0 and CharVocabulary.UNK == 1
    assert vocabulary.chars == ["a", "b", "c"]  # counts 2, 2, 2 → code point order; d (1) dropped
    assert len(vocabulary) == 5
    assert vocabulary.encode("abcdz") == [2, 3, 4, 1, 1] and vocabulary.encode("") == []
    assert "a" in vocabulary and "d" not in vocabulary
    frequent = CharVocabulary.build(["北北北京京上"])
    assert frequent.encode("北京上海") == [2, 3, 4, 1]
    restored = CharVocabulary.from_config(json.loads(json.dumps(frequent.get_config())))
    assert restored.encode("北京上海") == frequent.encode("北京上海") and len(restored) == len(frequent)
    with pytest.raises(ValueError):
        CharVocabulary(["a", "a"])


# --------------------------------------------------------------------------- the shared files


@pytest.fixture(scope="module")
def real_pool():
    if not os.environ.get("KERASGEN_MRC_DIR"):
        pytest.skip("KERASGEN_MRC_DIR is not set")
    stats = {}
    return load_mrc_pool(stats=stats), stats


def test_real_pool_counts_and_offsets(real_pool):
    pool, stats = real_pool
    assert list(pool) == ["cmrc2018_trial", "drcd_dev", "drcd_test", "cail2019_dev", "cail2019_test"]
    sizes = {name: len(items) for name, items in pool.items()}
    assert sizes["cmrc2018_trial"] >= 990
    assert 3300 <= sizes["drcd_dev"] <= 3600 and 3300 <= sizes["drcd_test"] <= 3600
    assert 5000 <= sizes["cail2019_dev"] <= 5500 and 5000 <= sizes["cail2019_test"] <= 5500
    for name in ("cail2019_dev", "cail2019_test"):
        assert 1200 <= stats[name]["unanswerable"] <= 1500 and 500 <= stats[name]["skipped_yes_no"] <= 700
    for name, items in pool.items():
        dropped = stats[name].get("answers_dropped", 0)
        assert dropped <= 0.01 * len(items), (name, dropped)
        for example in items:
            assert_aligned(example)
            assert set(example.answers) == set(example.passage.answers)
    ids = [e.question_id for items in pool.values() for e in items]
    assert len(set(ids)) == len(ids) and ids[0].startswith("cmrc2018_trial/")
    drcd = pool["drcd_dev"][0].passage
    assert drcd.text != drcd.original  # converted, same length
    train, dev = train_dev_split(pool)
    assert {p.text for e in train for p in e.passages}.isdisjoint(p.text for e in dev for p in e.passages)
    counts = Counter(e.source for e in dev)
    for name, items in pool.items():
        assert abs(counts[name] - 0.1 * len(items)) <= 0.02 * len(items)
