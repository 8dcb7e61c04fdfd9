"""Tests for kerasgen.data.glyphs: charset, fonts, normalisation, rendering, the training sequence."""

import itertools

import numpy as np
import pytest

from kerasgen.data import glyphs
from kerasgen.data.glyphs import (
    CJK_PUNCTUATION,
    GLYPH_SIZE,
    FontFace,
    GlyphSequence,
    degrade,
    find_fonts,
    font_coverage,
    glyph_test_set,
    normalise_glyph,
    ocr_charset,
    poster_image,
    render_line,
    render_page,
    split_fonts,
)


@pytest.fixture(scope="module")
def faces() -> list[FontFace]:
    found = find_fonts()
    if not found:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-zenhei fonts-noto-cjk ...)")
    return found


@pytest.fixture(scope="module")
def training(faces) -> list[FontFace]:
    train, _ = split_fonts(faces)
    if not train:
        pytest.skip("only held-out CJK fonts are installed (need e.g. fonts-wqy-zenhei)")
    return train


@pytest.fixture(scope="module")
def face(training) -> FontFace:
    """A training face that covers the texts below (wqy first when installed)."""
    needed = set("中文OCR测试，123。这是第一段文字用来自动换行和首缩进的效果二English也在里退化")
    ranked = sorted(training, key=lambda f: not f.family.startswith("WenQuanYi"))
    for candidate in ranked:
        if font_coverage(candidate, needed) == needed:
            return candidate
    pytest.skip("no training font covers the test texts")


@pytest.fixture(scope="module")
def charset() -> list[str]:
    return ocr_charset()


def test_gb2312_table_has_6763_hanzi():
    hanzi = glyphs._gb2312_hanzi()
    assert len(hanzi) == len(set(hanzi)) == 6763
    assert hanzi[0] == "啊" and hanzi[-1] == "齄"
    assert all("\u4e00" <= c <= "\u9fff" for c in hanzi)


def test_charset_size_membership_and_order(charset):
    hanzi = set(glyphs._gb2312_hanzi())
    assert len(charset) == len(set(charset))
    assert len(charset) == 6763 + 10 + 52 + len(CJK_PUNCTUATION) + len(glyphs.ASCII_PUNCTUATION)
    assert hanzi <= set(charset)
    for char in "0123456789AZaz，。、；：？！“”‘’（）《》【】—…·!?.,;:()":
        assert char in charset
    rank = {c: i for i, c in enumerate(charset)}
    assert rank["的"] < 100 and rank["一"] < 100
    for rare in "亍丌兀丨丬乇":
        assert rank["的"] < rank[rare]
    assert ocr_charset() == charset  # deterministic (and cached)


def test_charset_with_mrc_texts(mrc_folder):
    with_mrc = ocr_charset(mrc_folder)
    assert sorted(with_mrc) == sorted(ocr_charset())
    rank = {c: i for i, c in enumerate(with_mrc)}
    assert rank["，"] < 50 and rank["的"] < 50  # punctuation counts come from the texts


def test_font_split_holds_out_all_noto_and_arphic_unicode_faces(faces):
    train, held_out = split_fonts(faces)
    assert len(train) + len(held_out) == len(faces)
    assert not any(
        face.family.lower().startswith(p.lower()) for face in train for p in glyphs.HELD_OUT_FAMILIES
    )
    for face in faces:
        if face.family.startswith("Noto") or face.family.startswith(("AR PL UMing", "AR PL UKai")):
            assert face in held_out, face
    assert len({(f.path, f.index) for f in faces}) == len(faces)  # symlinks and duplicates counted once
    assert faces == sorted(faces, key=lambda f: (f.family.lower(), f.style.lower(), f.path, f.index))
    collections = [f for f in faces if f.path.endswith(".ttc")]
    if collections:  # TTC sub-faces are discovered
        assert any(f.index > 0 for f in collections)


def test_face_names_are_english(faces):
    for face in faces:
        assert face.family.isascii(), face
        assert face.name == f"{face.family} {face.style}"


def test_coverage_skips_missing_glyphs(faces):
    partial = [f for f in faces if f.family.startswith("IPA") or "Big5" in f.family]
    if not partial:
        pytest.skip("no Japanese IPA or Big5 font installed (fonts-ipafont, fonts-arphic-bsmi00lp)")
    face = partial[0]
    hanzi = glyphs._gb2312_hanzi()
    covered = font_coverage(face, hanzi)
    assert 1000 <= len(covered) < len(hanzi)
    codepoints = set(glyphs._cmap(face).tolist())
    missing = [c for c in hanzi if ord(c) not in codepoints]
    assert missing and not covered & set(missing)
    assert "的" in covered or "一" in covered
    assert " " not in font_coverage(face, " 一")  # blank glyphs are not coverage


def test_normalise_glyph_top_left_shape_range():
    ink = np.zeros((100, 60), bool)
    ink[70:90, 40:50] = True  # a 20x10 block at the bottom right
    out = normalise_glyph(ink)
    assert out.shape == (GLYPH_SIZE, GLYPH_SIZE) and out.dtype == np.float32
    assert set(np.unique(out)) <= {0.0, 1.0}
    assert not out[0].any() and not out[-1].any() and not out[:, 0].any() and not out[:, -1].any()
    rows, cols = np.nonzero(out)
    assert rows.min() == 1 and cols.min() == 1  # top-left aligned
    assert rows.max() == 46 and cols.max() == 23  # tall glyph fills the height, half the width
    wide = np.zeros((5, 40), np.uint8)
    wide[2, 3:30] = 255
    rows, cols = np.nonzero(normalise_glyph(wide))
    assert rows.min() == 1 and rows.max() == 2 and cols.max() == 46
    assert not normalise_glyph(np.zeros((30, 30))).any()
    assert normalise_glyph(ink[..., None]).shape == (GLYPH_SIZE, GLYPH_SIZE)


def test_render_line_boxes_contain_ink(face):
    text = "中文OCR 测试，123。"
    image, boxes = render_line(text, face, height=40)
    assert image.dtype == np.uint8 and image.ndim == 2
    assert len(boxes) == len(text.replace(" ", ""))
    covered = np.zeros(image.shape, bool)
    for x0, y0, x1, y1 in boxes:
        assert 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]
        covered[y0:y1, x0:x1] = True
    ink = image < 128
    assert ink.any() and not (ink & ~covered).any()
    assert all(a[0] < b[0] for a, b in itertools.pairwise(boxes))
    for a, b in itertools.pairwise(boxes):
        overlap = max(0, a[2] - b[0])
        assert overlap <= 0.2 * min(a[2] - a[0], b[2] - b[0])
    assert not (image[:, :3] < 128).any() and not (image[:3] < 128).any()  # margins
    image2, boxes2 = render_line(text, face, height=32, rng=np.random.default_rng(0))
    assert len(boxes2) == len(boxes) and image2.shape[0] < image.shape[0] + 40


def test_render_page_wraps_and_returns_lines(face):
    paragraphs = ["这是第一段文字，用来测试自动换行和首行缩进的效果。" * 2, "第二段 English 123 也在这里。"]
    image, lines = render_page(paragraphs, face, width=360, line_height=30, rng=np.random.default_rng(1))
    assert image.shape[1] == 360 and image.dtype == np.uint8
    assert len(lines) >= 4
    assert "".join(lines).replace(" ", "") == "".join(paragraphs).replace(" ", "")
    assert image.shape[0] >= len(lines) * 30


def test_degrade_keeps_shape_and_dtype(face):
    rng = np.random.default_rng(0)
    gray, _ = render_line("退化测试", face)
    rgb = np.stack([gray] * 3, axis=-1)
    for _ in range(4):
        for image in (gray, rgb):
            out = degrade(image, rng)
            assert out.shape == image.shape and out.dtype == np.uint8


def test_poster_image(training):
    image, lines = poster_image(np.random.default_rng(0), training[:3])
    assert image.ndim == 3 and image.shape[-1] == 3 and image.dtype == np.uint8
    assert 1 <= len(lines) <= 5 and all(lines)
    image2, lines2 = poster_image(np.random.default_rng(0), training[:3])
    assert lines2 == lines and np.array_equal(image, image2)


def test_glyph_sequence_batches(training, charset):
    chars = [*(c for c in charset[:40] if c not in "A7，"), "A", "7", "，"]
    seq = GlyphSequence(chars, training[:3], batch_size=32, steps=3, seed=1)
    assert len(seq) == 3
    x, y = seq[0]
    assert x.shape == (32, GLYPH_SIZE, GLYPH_SIZE, 1) and x.dtype == np.float32
    assert y.shape == (32,) and y.dtype == np.int32
    assert 0 <= y.min() and y.max() < len(chars)
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert x[..., 0].sum(axis=(1, 2)).min() > 0
    x2, y2 = seq[0]
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _y3 = GlyphSequence(chars, training[:3], batch_size=32, steps=3, seed=2)[0]
    assert not np.array_equal(x, x3)
    seq.on_epoch_end()
    x4, _ = seq[0]
    assert not np.array_equal(x, x4)
    clean = GlyphSequence(chars, training[:1], batch_size=8, steps=1, augment=False, noise=0.0)
    xc, _yc = clean[0]
    assert set(np.unique(xc)) <= {0.0, 1.0}
    np.testing.assert_array_equal(xc[0, :, :, 0], normalise_glyph(xc[0, :, :, 0]))  # already normalised
    with pytest.raises(IndexError):
        seq[3]


def test_glyph_sequence_skips_uncovered_characters(faces):
    partial = [f for f in faces if f.family.startswith("IPA")]
    if not partial:
        pytest.skip("no Japanese IPA font installed (fonts-ipafont)")
    codepoints = set(glyphs._cmap(partial[0]).tolist())
    missing = [c for c in glyphs._gb2312_hanzi() if ord(c) not in codepoints][:3]
    chars = [*missing, "一", "的", "人"]
    seq = GlyphSequence(chars, partial[:1], batch_size=64, steps=1)
    _, y = seq[0]
    assert set(y.tolist()) <= {3, 4, 5}
    assert seq.covered_classes.tolist() == [3, 4, 5]


def test_glyph_test_set(training, charset):
    chars = charset[:15]
    x, y = glyph_test_set(chars, training[:2], per_char=2)
    assert x.shape == (len(y), GLYPH_SIZE, GLYPH_SIZE, 1) and x.dtype == np.float32 and y.dtype == np.int32
    assert len(y) <= 2 * 2 * len(chars) and len(y) > 0 and y.max() < len(chars)
    assert x[..., 0].sum(axis=(1, 2)).min() > 0
    rows = np.nonzero(x[0, :, :, 0].any(axis=1))[0]
    assert rows.min() == 1  # normalised: top-left aligned
    xn, yn = glyph_test_set(chars, training[:2], per_char=2, noise=0.15)
    np.testing.assert_array_equal(y, yn)
    assert 0.1 < xn.mean() - x.mean() < 0.2
