"""OCR scores and the Tesseract baseline."""

import glob

import numpy as np
import pytest

from kerasgen.eval.ocr_metrics import (
    character_error_rate,
    edit_distance,
    tesseract_available,
    tesseract_read,
)


def _reference_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("", "", 0),
        ("", "电视", 2),
        ("电视", "", 2),
        ("电视", "电视", 0),
        ("电视机", "电视", 1),  # delete
        ("电视", "电视机", 1),  # insert
        ("电柳", "电视", 1),  # substitute
        ("kitten", "sitting", 3),
        ("中华人民共和国", "华人民共和", 2),
        ("abc", "cba", 2),
    ],
)
def test_edit_distance_hand_cases(a, b, expected):
    assert edit_distance(a, b) == expected
    assert edit_distance(b, a) == expected


def test_edit_distance_matches_reference():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = "".join(rng.choice(list("电视柳规ab"), rng.integers(0, 9)))
        b = "".join(rng.choice(list("电视柳规ab"), rng.integers(0, 9)))
        assert edit_distance(a, b) == _reference_distance(a, b)
    astral = "\U0002a6a5\U0002a6a6"  # characters outside the BMP count as one each
    assert edit_distance(astral, "\U0002a6a5") == 1


def test_character_error_rate():
    assert character_error_rate(["电视机"], ["电视机"]) == 0.0
    # whitespace (spaces, newlines; chi_sim's spaces between hanzi) is ignored on both sides
    assert character_error_rate(["电 视\n机"], ["电视机 "]) == 0.0
    # 1 substitution (柳/视) + 1 substitution (是/中) and 1 missing character (心): 3 edits / 8 characters
    assert character_error_rate(["电柳机", "北京市是"], ["电视机", "北京市中心"]) == pytest.approx(3 / 8)
    assert character_error_rate("电柳", "电视") == 0.5
    # an empty reference among others only adds its insertions
    assert character_error_rate(["错", "电视"], ["", "电视"]) == 0.5
    # nothing to read at all
    assert character_error_rate(["", " "], ["", "\n"]) == 0.0
    assert character_error_rate(["多"], [""]) == 1.0
    with pytest.raises(ValueError):
        character_error_rate(["a", "b"], ["a"])


def _cjk_font() -> str | None:
    for pattern in (
        "wqy/wqy-microhei.ttc",
        "wqy/wqy-zenhei.ttc",
        "droid/DroidSansFallbackFull.ttf",
        "*/*.tt[fc]",
    ):
        for path in sorted(glob.glob(f"/usr/share/fonts/truetype/{pattern}")):
            return path
    return None


@pytest.mark.skipif(not tesseract_available("chi_sim"), reason="tesseract with chi_sim is not installed")
def test_tesseract_reads_a_rendered_line():
    from PIL import Image, ImageDraw, ImageFont

    font_path = _cjk_font()
    if font_path is None:
        pytest.skip("no CJK font installed")
    text = "我们在看电视"
    font = ImageFont.truetype(font_path, 40)
    image = Image.new("L", (40 * len(text) + 40, 72), 255)
    ImageDraw.Draw(image).text((20, 12), text, font=font, fill=0)
    gray = np.asarray(image)
    readings = tesseract_read([gray, gray.astype(np.float32) / 255.0, gray < 128], threads=1)
    assert len(readings) == 3 and all(isinstance(r, str) for r in readings)
    assert all(not any(c.isspace() for c in r) for r in readings)
    assert readings[0] == readings[1] == readings[2]
    assert character_error_rate(readings[0], text) < 0.5
    blank = np.full_like(gray, 255)  # one process for all pages keeps them apart, blank ones included
    assert tesseract_read([gray, blank, gray]) == tesseract_read([gray, blank, gray], batch=False)


def test_tesseract_errors(monkeypatch):
    import kerasgen.eval.ocr_metrics as metrics

    monkeypatch.setattr(metrics, "TESSERACT", "tesseract-not-installed-here")
    assert not metrics.tesseract_available()
    with pytest.raises(RuntimeError, match="apt-get install tesseract-ocr"):
        tesseract_read([np.zeros((8, 8), np.uint8)])


@pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")
def test_tesseract_bad_inputs():
    with pytest.raises(ValueError):
        tesseract_read([np.zeros((0, 5), np.uint8)])
    with pytest.raises(RuntimeError, match="exit"):
        tesseract_read([np.full((20, 20), 255, np.uint8)], lang="no_such_language")
    assert tesseract_read([]) == []
