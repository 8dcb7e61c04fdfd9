"""CMRC 2018-style and Sogou-style reading-comprehension scores on hand-computed examples."""

from dataclasses import dataclass

import pytest

from kerasgen.eval.mrc_metrics import (
    cmrc_em,
    cmrc_f1,
    longest_common_substring,
    mixed_segmentation,
    score_predictions,
    sogou_accuracy,
    sogou_f1,
    sogou_normalize,
    sogou_score,
    to_half_width,
)


@dataclass(frozen=True)
class Item:
    question_id: str
    answers: tuple
    source: str = ""


# ------------------------------------------------------------------------------------------ CMRC


def test_mixed_segmentation_splits_cjk_keeps_latin_runs_and_drops_punctuation():
    assert mixed_segmentation("2018年 iPhone X，发布！") == ["2018", "年", "iphone", "x", "发", "布"]
    assert mixed_segmentation("《三体》") == ["三", "体"]
    assert mixed_segmentation("  ") == []


def test_cmrc_em_ignores_punctuation_spaces_and_case():
    assert cmrc_em("《三体》", ["三体"]) == 1.0
    assert cmrc_em("北京 大学。", "北京大学") == 1.0
    assert cmrc_em("Keras", ["keras"]) == 1.0
    assert cmrc_em("2018年", ["2018"]) == 0.0
    assert cmrc_em("北京", ["上海", "北京"]) == 1.0  # any gold


def test_cmrc_f1_on_hand_examples():
    # 2018年 → [2018, 年] vs [2018]: lcs 1, P = 1/2, R = 1 → 2/3
    assert cmrc_f1("2018年", ["2018"]) == pytest.approx(2 / 3)
    assert cmrc_f1("2018", ["2018年"]) == pytest.approx(2 / 3)
    # [北 京 大 学] vs [北 京]: lcs 2, P = 1/2, R = 1 → 2/3
    assert cmrc_f1("北京大学", "北京") == pytest.approx(2 / 3)
    # punctuation is not a token
    assert cmrc_f1("“三体”。", ["三体"]) == 1.0
    # [iphone x 手 机] vs [iphone x]: lcs 2, P = 1/2, R = 1 → 2/3
    assert cmrc_f1("iPhone X手机", ["iphone x"]) == pytest.approx(2 / 3)
    assert cmrc_f1("上海", ["北京"]) == 0.0


def test_cmrc_f1_uses_longest_common_substring_not_subsequence():
    # [北 大 京] vs [北 京]: substring 1 → P 1/3, R 1/2 → 0.4 (a subsequence would give 2 → 0.8)
    assert longest_common_substring(list("北大京"), list("北京")) == 1
    assert cmrc_f1("北大京", ["北京"]) == pytest.approx(0.4)


def test_cmrc_f1_takes_the_best_gold():
    # gold 1: lcs 1 of 7 and 2 → P 1/7, R 1/2 → 2/9; gold 2: lcs 7 of 7 and 9 → P 1, R 7/9 → 7/8
    golds = ["中国", "中华人民共和国成立"]
    assert cmrc_f1("中华人民共和国", golds) == pytest.approx(7 / 8)
    assert cmrc_f1("中华人民共和国", golds[:1]) == pytest.approx(2 / 9)


def test_empty_prediction_and_unanswerable_questions():
    assert cmrc_em("", ["北京"]) == 0.0 and cmrc_f1("", ["北京"]) == 0.0
    for measure in (cmrc_em, cmrc_f1, sogou_accuracy, sogou_f1, sogou_score):
        assert measure("", []) == 1.0
        assert measure("  ", []) == 1.0
        assert measure("北京", []) == 0.0


# ----------------------------------------------------------------------------------------- Sogou


def test_sogou_normalisation_full_width_case_punctuation_spaces():
    assert to_half_width("ＡＢＣ１２３，　") == "ABC123, "
    assert sogou_normalize("ＩＰＨＯＮＥ　８！") == "iphone8"
    assert sogou_accuracy("ＩＰＨＯＮＥ　８", ["iPhone 8"]) == 1.0
    assert sogou_accuracy("iPhone 9", ["iPhone 8"]) == 0.0


def test_sogou_f1_is_a_character_multiset_f1():
    # a,a,b vs a,b,b: common a1 + b1 = 2, P = R = 2/3 (a set F1 would give 1)
    assert sogou_f1("aab", ["abb"]) == pytest.approx(2 / 3)
    # 北 京 北 vs 北 京: common 2, P 2/3, R 1 → 0.8 (order does not matter: 北大京 → 0.8 too)
    assert sogou_f1("北京北", ["北京"]) == pytest.approx(0.8)
    assert sogou_f1("北大京", ["北京"]) == pytest.approx(0.8)
    assert sogou_f1("北京北", ["上海", "北京"]) == pytest.approx(0.8)
    assert sogou_score("北京北", ["北京"]) == pytest.approx(0.4)  # (0 + 0.8) / 2


# ---------------------------------------------------------------------------------------- corpus


def test_score_predictions_averages_and_reports_per_source():
    examples = [
        Item("q1", ("北京",), "a"),
        Item("q2", ("2018",), "a"),
        Item("q3", (), "b"),  # unanswerable
        Item("q4", ("上海",), "b"),  # no prediction
    ]
    predictions = {"q1": "北京", "q2": "2018年", "q3": "", "other": "x"}
    scores = score_predictions(predictions, examples)
    # (EM, F1, Sogou acc, Sogou F1): q1 (1, 1, 1, 1), q2 (0, 2/3, 0, 8/9), q3 (1, 1, 1, 1), q4 (0, 0, 0, 0)
    assert scores["count"] == 4 and scores["missing"] == 1
    assert scores["em"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1) / 4)
    assert scores["sogou_accuracy"] == pytest.approx(50.0)
    assert scores["sogou_f1"] == pytest.approx(100 * (1 + 8 / 9 + 1) / 4)
    assert scores["sogou_score"] == pytest.approx((50.0 + 100 * (1 + 8 / 9 + 1) / 4) / 2)
    a, b = scores["per_source"]["a"], scores["per_source"]["b"]
    assert a["count"] == 2 and a["em"] == pytest.approx(50.0) and a["f1"] == pytest.approx(100 * 5 / 6)
    assert b["count"] == 2 and b["em"] == pytest.approx(50.0) and b["f1"] == pytest.approx(50.0)


def test_score_predictions_rejects_duplicate_ids():
    with pytest.raises(ValueError, match="twice"):
        score_predictions({}, [Item("q", ("a",)), Item("q", ("b",))])
    assert "per_source" not in score_predictions({"q": "a"}, [Item("q", ("a",))])
