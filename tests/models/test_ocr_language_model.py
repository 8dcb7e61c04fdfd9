"""Character bigram LM and Viterbi correction (post 1, step 10)."""

import math
import time

import numpy as np
import pytest

from kerasgen.models.ocr import language_model as lm_module
from kerasgen.models.ocr.language_model import (
    AdditiveBigram,
    BigramLanguageModel,
    count_texts,
    jieba_word_frequencies,
    viterbi,
)

# The post's worked example (spec §1 (f)): CNN candidates and corpus counts.
POST_CANDIDATES = [
    [("电", 0.99996), ("宙", 0.00004)],
    [("柳", 0.87838), ("视", 0.12148), ("规", 0.00012)],
]
POST_UNIGRAM = {"电": 145001, "宙": 1980}
POST_BIGRAM = {("电", "柳"): 0, ("电", "视"): 12426, ("电", "规"): 7, ("宙", "规"): 18}

TEXTS = [
    "我们在看电视。电视机很新！",
    "电视台播放新闻，电话响了。",
    "他说：我们明天去北京看电视剧",
    "北京是中国的首都。",
]


@pytest.fixture(scope="module")
def small_lm():
    return BigramLanguageModel.from_texts(TEXTS, {"电视": 5, "新闻": 3, "中国": 4})


@pytest.mark.parametrize("vocabulary_size", [None, 3062])
def test_post_example_picks_tv(vocabulary_size):
    lm = AdditiveBigram(POST_UNIGRAM, POST_BIGRAM, alpha=1.0, vocabulary_size=vocabulary_size)
    text, score = viterbi(POST_CANDIDATES, lm)
    assert text == "电视"
    expected = math.log(0.99996) + math.log(0.12148) + lm.log_prob("电", "视")
    assert score == pytest.approx(expected)
    # pure classifier: top-1 at each position
    assert viterbi(POST_CANDIDATES, lm, lm_weight=0.0)[0] == "电柳"
    assert viterbi(POST_CANDIDATES, None, lm_weight=0.0)[0] == "电柳"


def test_additive_bigram_formula():
    lm = AdditiveBigram(POST_UNIGRAM, POST_BIGRAM, alpha=0.5, vocabulary_size=100)
    assert lm.log_prob("电", "视") == pytest.approx(math.log((12426 + 0.5) / (145001 + 0.5 * 100)))
    assert lm.log_prob("电", "柳") == pytest.approx(math.log(0.5 / (145001 + 50)))
    assert lm.log_prob("X", "Y") == pytest.approx(math.log(1 / 100))
    assert lm.log_prob(None, "电") == 0.0
    with pytest.raises(ValueError):
        AdditiveBigram(POST_UNIGRAM, POST_BIGRAM, alpha=0.0)


def test_viterbi_edge_cases(small_lm):
    assert viterbi([], small_lm) == ("", 0.0)
    text, score = viterbi([[("电", 1.0)]], small_lm)
    assert text == "电" and score == pytest.approx(small_lm.log_prob(None, "电"))
    # dict positions, a single-candidate position in the middle, a zero probability (floored, finite)
    text, score = viterbi(
        [{"电": 0.6, "由": 0.4}, [("视", 1.0)], {"机": 0.5, "几": 0.5, "八": 0.0}], small_lm
    )
    assert text == "电视机" and np.isfinite(score)
    with pytest.raises(ValueError):
        viterbi([[("电", 1.0)], []], small_lm)


def test_viterbi_matches_brute_force(small_lm):
    rng = np.random.default_rng(0)
    chars = small_lm.chars
    candidates = [
        list(
            zip(
                [chars[i] for i in rng.choice(len(chars), 3, replace=False)],
                rng.dirichlet(np.ones(3)),
                strict=True,
            )
        )
        for _ in range(4)
    ]
    best = max(
        (
            sum(math.log(candidates[k][j][1]) for k, j in enumerate(path))
            + 0.7 * small_lm.log_prob(None, candidates[0][path[0]][0])
            + 0.7
            * sum(
                small_lm.log_prob(candidates[k][path[k]][0], candidates[k + 1][path[k + 1]][0])
                for k in range(3)
            ),
            "".join(candidates[k][j][0] for k, j in enumerate(path)),
        )
        for path in np.ndindex(3, 3, 3, 3)
    )
    text, score = viterbi(candidates, small_lm, lm_weight=0.7)
    assert text == best[1] and score == pytest.approx(best[0])


@pytest.mark.parametrize(
    "kwargs", [{}, {"smoothing": "absolute"}, {"min_count": 2}, {"discount": 0.3, "unigram_alpha": 2.0}]
)
def test_rows_sum_to_one_and_are_finite(kwargs):
    lm = BigramLanguageModel.from_texts(TEXTS, {"电视": 5, "新闻": 3}, **kwargs)
    for previous in [None, "电", "视", "。", "柳", "\U0002a6a5"]:
        log_probs = lm.log_probs(previous)  # vocabulary then <unk>
        assert log_probs.shape == (lm.vocabulary_size + 1,)
        assert np.all(np.isfinite(log_probs))
        assert np.exp(log_probs).sum() == pytest.approx(1.0, abs=1e-9)
    assert np.isfinite(lm.log_prob("电", "柳"))  # unknown character
    assert np.isfinite(lm.log_prob("电", "首"))  # seen characters, unseen pair
    assert lm.log_prob("电", "首") < lm.log_prob("电", "视")
    assert lm.log_prob("电", "柳") < 0


def test_prefers_frequent_bigram(small_lm):
    assert small_lm.log_prob("电", "视") > small_lm.log_prob("电", "话") > small_lm.log_prob("电", "京")
    assert small_lm.log_prob("北", "京") > small_lm.log_prob("北", "视")
    # sentence start: lines and sentences begin with 我, 电, 他, 北
    assert small_lm.log_prob(None, "我") > small_lm.log_prob(None, "视")
    candidates = [[("电", 0.9), ("由", 0.1)], [("柳", 0.6), ("视", 0.4)]]
    assert viterbi(candidates, small_lm)[0] == "电视"
    assert viterbi(candidates, small_lm, lm_weight=0)[0] == "电柳"


def test_count_texts():
    unigram, bigram = count_texts(["ab c。de\nfg"], {"xy": 2.5}, word_weight=2.0)
    assert unigram["a"] == 1 and unigram["x"] == 5.0 and " " not in unigram and "\n" not in unigram
    assert bigram[("a", "b")] == 1 and bigram[("x", "y")] == 5.0
    assert ("b", "c") not in bigram and ("g", "\n") not in bigram  # whitespace breaks a bigram
    assert {k for k in bigram if k[0] is None} == {(None, "a"), (None, "d"), (None, "f")}
    unigram, bigram = count_texts(["abc"], charset="ab")
    assert set(unigram) == {"a", "b"} and set(bigram) == {("a", "b"), (None, "a")}


def test_charset_and_constructor_keys():
    lm = BigramLanguageModel.from_texts(TEXTS, charset="电视机台")
    assert lm.chars == sorted("电视机台") and "我" not in lm and "电" in lm
    assert lm.log_prob("电", "我") == lm.log_prob("电", "柳")  # both <unk>
    # string keys and "<s>" are accepted by the constructor
    a = BigramLanguageModel({"电": 3, "视": 2}, {"电视": 2, ("<s>", "电"): 3})
    b = BigramLanguageModel({"电": 3, "视": 2}, {("电", "视"): 2, (None, "电"): 3})
    assert a.log_prob(None, "电") == b.log_prob(None, "电") and a.log_prob("电", "视") == b.log_prob(
        "电", "视"
    )
    with pytest.raises(ValueError):
        BigramLanguageModel({"a": 1}, {}, smoothing="witten_bell")
    with pytest.raises(ValueError):
        BigramLanguageModel({"a": 1}, {}, discount=1.5)


def test_pruning_keeps_normalisation():
    full = BigramLanguageModel.from_texts(TEXTS, min_count=1)
    pruned = BigramLanguageModel.from_texts(TEXTS, min_count=2)
    assert pruned.num_bigrams < full.num_bigrams
    assert pruned.log_prob("电", "视") == pytest.approx(full.log_prob("电", "视"), abs=0.5)
    assert np.exp(pruned.log_probs("我")).sum() == pytest.approx(1.0)


def test_save_load_round_trip(small_lm, tmp_path):
    path = small_lm.save(tmp_path / "sub" / "lm.bin")
    assert path == tmp_path / "sub" / "lm.bin" and path.is_file()
    loaded = BigramLanguageModel.load(path)
    assert loaded.get_config() == small_lm.get_config()
    assert loaded.chars == small_lm.chars
    previous_chars = [None, *small_lm.chars, "柳"]
    for previous in previous_chars:
        np.testing.assert_array_equal(loaded.log_probs(previous), small_lm.log_probs(previous))
    assert loaded.log_prob("电", "柳") == small_lm.log_prob("电", "柳")


def test_load_errors(small_lm, tmp_path):
    with pytest.raises(FileNotFoundError, match="language_model --out"):
        BigramLanguageModel.load(tmp_path / "missing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="not a readable"):
        BigramLanguageModel.load(garbage)
    good = small_lm.save(tmp_path / "lm.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a readable"):
        BigramLanguageModel.load(truncated)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    with pytest.raises(ValueError, match="not a readable"):
        BigramLanguageModel.load(other)


def test_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("KERASGEN_MRC_DIR", raising=False)
    monkeypatch.setattr(lm_module, "jieba_word_frequencies", lambda: {"电视": 100, "新闻": 50})
    charset = tmp_path / "charset.txt"
    charset.write_text("电视新闻\n", encoding="utf-8")
    out = tmp_path / "lm.npz"
    assert lm_module.main(["--out", str(out), "--charset", str(charset)]) == 0
    assert "4 characters" in capsys.readouterr().out
    lm = BigramLanguageModel.load(out)
    assert lm.log_prob("电", "视") > lm.log_prob("电", "闻")


def test_jieba_dictionary_model():
    """jieba's dict.txt alone (no MRC): 电视 beats 电柳, the post's example decodes, Viterbi is fast."""
    frequencies = jieba_word_frequencies()
    assert len(frequencies) > 300_000 and frequencies["电视"] > 1000
    lm = BigramLanguageModel.from_texts([], frequencies, word_weight=0.03)
    assert lm.log_prob("电", "视") > lm.log_prob("电", "柳") + 5
    assert viterbi(POST_CANDIDATES, lm)[0] == "电视"
    rng = np.random.default_rng(0)
    chars = [lm.chars[i] for i in rng.integers(0, lm.vocabulary_size, 150)]
    candidates = [
        list(zip(chars[5 * k : 5 * k + 5], rng.dirichlet(np.ones(5)), strict=True)) for k in range(30)
    ]
    begin = time.perf_counter()
    viterbi(candidates, lm)
    assert time.perf_counter() - begin < 0.05  # ~0.3 ms on a free core; generous for a shared CPU


def test_real_build(mrc_folder, tmp_path, monkeypatch):
    """The shipped recipe: jieba + the shared MRC texts (DRCD simplified); small file, 电视 ≫ 电柳."""
    seen, read = {}, lm_module.mrc_texts

    def texts(folder):
        seen["texts"] = read(folder)
        return seen["texts"]

    monkeypatch.setattr(lm_module, "mrc_texts", texts)
    lm = lm_module.build_language_model(mrc_folder)
    joined = "".join(seen["texts"])
    assert len(seen["texts"]) > 10_000 and joined.count("电视") > 10 * joined.count("電視")
    assert lm.log_prob("电", "视") > lm.log_prob("电", "柳") + 5
    assert viterbi(POST_CANDIDATES, lm)[0] == "电视"
    path = lm.save(tmp_path / "lm.npz")
    assert path.stat().st_size < 15 * 2**20
