"""The reading pipeline (post 1, steps 6–10) with an oracle in place of the CNN.

``TemplateReader`` classifies a glyph by its nearest template among the charset rendered in the
same font, one character at a time. It is exact when the layout cuts every
character where the renderer put it and the cut is normalised as in training, so these tests
fail when the line finder, the cutter, the normalisation or the decoding is wrong.
"""

import numpy as np
import pytest

from kerasgen.models.ocr.reader import SMALL_MARKS, read_images

CHARSET = list("我们在看电视新闻今天北京的气很好上海人民，。一—-_")


@pytest.fixture(scope="module")
def face():
    from kerasgen.data.glyphs import find_fonts, font_coverage, split_fonts

    training, _ = split_fonts(find_fonts())
    for candidate in training:
        if candidate.family.startswith("WenQuanYi Zen Hei") and set(CHARSET) <= font_coverage(
            candidate, CHARSET
        ):
            return candidate
    pytest.skip("fonts-wqy-zenhei is not installed (./run.sh installs it)")


class TemplateReader:
    """Nearest-template classifier over ``CHARSET`` rendered in one face: an oracle for the layout."""

    def __init__(self, face):
        from kerasgen.data.glyphs import normalise_glyph, render_line

        glyphs = [normalise_glyph(render_line(c, face, height=44, margin=4)[0] < 128) for c in CHARSET]
        self.templates = self._features(np.stack(glyphs))
        self.labels = np.arange(len(CHARSET))
        self.charset = CHARSET

    @staticmethod
    def _features(glyphs):
        """Blurred glyphs, so a stroke one pixel off still matches its template."""
        from scipy.ndimage import gaussian_filter

        glyphs = np.asarray(glyphs, "float32").reshape(-1, 48, 48)
        return np.stack([gaussian_filter(g, 2.0) for g in glyphs]).reshape(len(glyphs), -1)

    def predict_proba(self, glyphs):
        glyphs = self._features(glyphs)
        distance = ((glyphs[:, None, :] - self.templates[None]) ** 2).mean(-1)
        scores = np.full((len(glyphs), len(CHARSET)), -np.inf)
        for j, label in enumerate(self.labels):
            scores[:, label] = np.maximum(scores[:, label], -distance[:, j] * 50)
        scores = np.exp(scores - scores.max(1, keepdims=True))
        return scores / scores.sum(1, keepdims=True)

    def top_k(self, glyphs, k=5):
        p = self.predict_proba(glyphs)
        order = np.argsort(-p, axis=1)[:, :k]
        return [[(CHARSET[j], float(row[j])) for j in ids] for row, ids in zip(p, order, strict=True)]


def test_a_rendered_line_reads_back_exactly_with_boxes_on_the_glyphs(face):
    from kerasgen.data.glyphs import render_line

    text = "今天北京的天气很好，我们在看电视新闻。"
    image, boxes = render_line(text, face, height=40)
    (result,) = read_images(TemplateReader(face), [image])
    assert result.text == text
    assert len(result.chars) == len(boxes)
    for char, (x0, y0, x1, y1) in zip(result.chars, boxes, strict=True):
        cx, cy = (char.box[0] + char.box[2]) / 2, (char.box[1] + char.box[3]) / 2
        assert x0 - 1 <= cx <= x1 + 1 and y0 - 1 <= cy <= y1 + 1  # each box sits on its own glyph
        assert 0.0 < char.confidence <= 1.0 and char.candidates[0][1] >= char.candidates[-1][1]


def test_a_page_reads_top_to_bottom_one_line_of_text_per_line(face):
    from kerasgen.data.glyphs import render_page

    image, lines = render_page(["上海人民在看电视新闻。", "北京的天气很好，我们看新闻。"], face, width=300)
    (result,) = read_images(TemplateReader(face), [image])
    assert result.text == "\n".join(lines) and len(lines) >= 2


def test_small_marks_are_told_apart_from_full_height_glyphs_by_the_line_geometry():
    from kerasgen.models.ocr.reader import _small_mark_filter

    candidates = [("口", 0.6), ("。", 0.3), ("日", 0.1)]
    assert _small_mark_filter(candidates, small=True)[0][0] == "。"
    assert _small_mark_filter(candidates, small=False) == [("口", 0.6), ("日", 0.1)]
    assert _small_mark_filter([("口", 1.0)], small=True) == [("口", 1.0)]  # nothing better: kept
    assert "，" in SMALL_MARKS and "口" not in SMALL_MARKS
    colon = [(":", 0.5), ("：", 0.4), ("8", 0.1)]  # about half a line tall: either side of the cut-off
    assert _small_mark_filter(colon, small=True) == colon[:2]
    assert _small_mark_filter(colon, small=False) == colon


def test_cut_confidence_adds_up_the_width_forms_of_the_best_candidate():
    from kerasgen.models.ocr.reader import _folded_confidence

    assert _folded_confidence([(":", 0.5), ("：", 0.4), ("8", 0.1)]) == pytest.approx(0.9)
    assert _folded_confidence([("，", 0.6), ("。", 0.3), (",", 0.1)]) == pytest.approx(0.7)
    assert _folded_confidence([("日", 0.5), ("曰", 0.5)]) == pytest.approx(0.5)
    assert _folded_confidence([("亻", 0.9), ("化", 0.06), ("仆", 0.04)]) == pytest.approx(
        0.06
    )  # half a hanzi
    assert _folded_confidence([("氵", 1.0)]) == 0.0


def test_the_language_model_corrects_a_misread_line(face):
    """Post 1's example inside the pipeline: the CNN prefers 柳 after 电, the bigram counts fix it."""
    from kerasgen.data.glyphs import render_line
    from kerasgen.models.ocr.language_model import AdditiveBigram

    class Misreads视(TemplateReader):
        def top_k(self, glyphs, k=5):
            rows = super().top_k(glyphs, k)
            return [[("柳", 0.87838), ("视", 0.12148)] if row[0][0] == "视" else row for row in rows]

    counts = AdditiveBigram(
        {"电": 145001, "宙": 1980}, {("电", "视"): 12426, ("电", "规"): 7, ("宙", "规"): 18}
    )
    image, _ = render_line("我们看电视", face, height=40)
    reader = Misreads视(face)
    assert read_images(reader, [image])[0].text == "我们看电柳"
    assert read_images(reader, [image], language_model=counts)[0].text == "我们看电视"


def test_cli_reads_images_and_a_list_into_json_lines(tmp_path, capsys, face):
    """``kerasgen ocr A.png`` and ``--list LIST --out OUT.jsonl``; bad images are reported per line."""
    import json

    import keras
    from PIL import Image

    from kerasgen import cli
    from kerasgen.data.glyphs import render_line
    from kerasgen.models.ocr import OCRCharClassifier, build_glyph_features

    keras.utils.set_random_seed(0)
    model = OCRCharClassifier(build_glyph_features(filters=(4, 4, 4, 4), feature_units=8), CHARSET)
    model.save(tmp_path / "ocr.keras")
    line = tmp_path / "line.png"
    Image.fromarray(render_line("我们看电视", face, height=32)[0]).save(line)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    (tmp_path / "blank.png").write_bytes(b"")
    (tmp_path / "list.txt").write_text(f"{line}\n\n{tmp_path / 'broken.png'}\n{tmp_path / 'missing.png'}\n")
    model_path, out = str(tmp_path / "ocr.keras"), tmp_path / "out.jsonl"
    assert (
        cli.main(["ocr", "--model", model_path, "--list", str(tmp_path / "list.txt"), "--out", str(out)]) == 0
    )
    rows = [json.loads(row) for row in out.read_text(encoding="utf-8").splitlines()]
    assert [r["file"] for r in rows] == [
        str(line),
        str(tmp_path / "broken.png"),
        str(tmp_path / "missing.png"),
    ]
    assert len(rows[0]["text"]) == 5  # an untrained model reads five characters, whatever they are
    assert "error" in rows[1] and "error" in rows[2]
    good = tmp_path / "good.txt"  # batched reading gives what reading image by image gives
    good.write_text(f"{line}\n{tmp_path / 'line2.png'}\n")
    Image.fromarray(render_line("中国人", face, height=40)[0]).save(tmp_path / "line2.png")
    texts = {}
    for batch in ("1", "2"):
        argv = ["ocr", "--model", model_path, "--list", str(good), "--out", str(out), "--batch", batch]
        assert cli.main(argv) == 0
        texts[batch] = [json.loads(row)["text"] for row in out.read_text(encoding="utf-8").splitlines()]
    assert texts["1"] == texts["2"] and [len(t) for t in texts["1"]] == [5, 3]
    argv = ["ocr", "--model", model_path, "--list", str(good), "--out", str(out), "--precision", "bfloat16"]
    assert cli.main(argv) == 0
    assert cli.main([*argv, "--batch", "0"]) == 2
    capsys.readouterr()
    assert cli.main(["ocr", "--model", model_path, str(line)]) == 0
    assert len(capsys.readouterr().out.strip()) == 5
    assert cli.main(["ocr", "--model", model_path, str(tmp_path / "blank.png")]) == 2
    assert cli.main(["ocr", "--model", model_path, "--list", str(tmp_path / "list.txt")]) == 2  # no --out
    assert cli.main(["ocr", "--model", model_path]) == 2


def test_only_doubtful_cuts_call_the_recogniser():
    from kerasgen.models.ocr.reader import ambiguous_cuts

    line = np.zeros((40, 400), bool)
    line[0:40, 0:36] = True  # a full-height, full-width glyph
    assert not ambiguous_cuts(line, [(0, 36), (40, 76), (80, 96), (100, 136)])  # one narrow mark alone
    assert ambiguous_cuts(line, [(0, 36), (40, 58), (60, 76)])  # two narrow halves fit in one hanzi
    assert ambiguous_cuts(line, [(0, 60)])  # wider than 1.1 heights: touching glyphs
    assert not ambiguous_cuts(np.zeros((40, 40), bool), [])


def test_a_flat_bar_is_read_as_yi_in_chinese_context(face):
    """一 loses its flatness when normalised; the reader reads it from the line geometry and the context."""
    from kerasgen.data.glyphs import render_line
    from kerasgen.models.ocr.language_model import BigramLanguageModel

    class SeesTwoBars(TemplateReader):  # what the CNN does with a serif 一: the top bar of 二, or =
        def top_k(self, glyphs, k=5):
            rows = super().top_k(glyphs, k)
            return [[("二", 0.7), ("=", 0.3)] if row[0][0] == "一" else row for row in rows]

    lm = BigramLanguageModel.from_texts(["我们在看电视新闻。今天一天很好。"] * 3)
    image, _ = render_line("今天一天", face, height=40)
    assert read_images(SeesTwoBars(face), [image], language_model=lm)[0].text == "今天一天"
