"""Recipe of post 1's zoo entry ``ocr_zh``: a glyph classifier on rendered fonts, a bigram corrector.

Data: glyphs rendered on the fly from the Debian CJK fonts installed here
(``kerasgen.data.glyphs``), except the held-out families (Noto Sans/Serif CJK, AR PL UMing,
AR PL UKai), which only the evaluation sees. The language model counts jieba's dictionary and the
*training* split of the shared MRC texts (``kerasgen.data.mrc.train_dev_split``); the test lines
are cut from the dev split's passages, so neither the classifier nor the corrector saw them.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import keras
import numpy as np

from kerasgen.recipes import Recipe, register

STEPS_PER_EPOCH = 500
EPOCHS = 16
# The unseen-font test faces: the simplified-Chinese members of the held-out families, at the
# weights a printed page uses (post 1 tested on 5 unseen fonts).
EVALUATION_FACES = (
    "Noto Sans CJK SC Regular",
    "Noto Sans CJK SC Bold",
    "Noto Serif CJK SC Regular",
    "AR PL UMing CN Light",
    "AR PL UKai CN Book",
)
VALIDATION_STEPS = 20
NOISE = 0.05  # post 1: each pixel set to ink with probability 5% in training
TEST_NOISE = 0.15  # post 1's harder test
QUICK_CLASSES = 300  # --quick: the most frequent characters only
TEST_LINES = 200  # rendered held-out lines per tier in `evaluate`
RESULTS_DIR = Path(__file__).resolve().parents[3] / "notebooks" / "results"


def _mrc_folder(data_dir=None) -> str | None:
    """The shared MRC folder (charset frequencies, language model, test text), or None if unreachable."""
    from kerasgen.data.corpus import mrc_dir

    try:
        return str(mrc_dir(data_dir))
    except Exception:
        return None


@functools.lru_cache(maxsize=2)
def _charset(folder: str | None, limit: int | None) -> tuple[str, ...]:
    from kerasgen.data.glyphs import ocr_charset

    charset = ocr_charset(folder)
    return tuple(charset[:limit] if limit else charset)


@functools.lru_cache(maxsize=1)
def _faces() -> tuple[tuple, tuple]:
    """``(training faces, held-out faces)`` installed here; a clear error when there are none."""
    from kerasgen.data.glyphs import find_fonts, split_fonts

    training, held_out = split_fonts(find_fonts())
    if not training:
        raise RuntimeError(
            "No CJK training font is installed. Install them with `./run.sh setup-system` "
            "(apt-get install fonts-wqy-zenhei fonts-wqy-microhei ...; see README)."
        )
    return tuple(training), tuple(held_out)


def evaluation_faces() -> list:
    """The installed faces of ``EVALUATION_FACES`` (all held out from training), in that order."""
    _, held_out = _faces()
    by_name = {face.name: face for face in held_out}
    faces = [by_name[name] for name in EVALUATION_FACES if name in by_name]
    if not faces:
        raise RuntimeError(
            "None of the held-out test fonts is installed; install fonts-noto-cjk, fonts-arphic-uming "
            "and fonts-arphic-ukai (./run.sh installs them)."
        )
    return faces


def build_ocr_zh(seed: int = 0, data_dir=None, limit=None, network: str = "glyph", class_weighting="post"):
    """``OCRCharClassifier`` over the frequency-ordered charset (the ``limit`` most frequent, if given).

    ``network``: ``"glyph"`` (the stronger default, :func:`build_glyph_features`) or ``"post"``
    (post 1's CNN, :func:`build_post_features`, with its 0.5 dropout).
    """
    from kerasgen.models.ocr.classifier import OCRCharClassifier, build_glyph_features, build_post_features

    del seed  # the caller seeds Keras before building
    charset = _charset(_mrc_folder(data_dir), limit)
    if network not in ("glyph", "post"):
        raise ValueError(f"network must be 'glyph' or 'post', got {network!r}.")
    features = build_glyph_features() if network == "glyph" else build_post_features()
    return OCRCharClassifier(
        features, charset, dropout=0.5 if network == "post" else 0.2, class_weighting=class_weighting
    )


def _datasets(data_dir=None, batch_size=256, seed=0, limit=None):
    from kerasgen.data.glyphs import GlyphSequence

    charset = list(_charset(_mrc_folder(data_dir), limit))
    training, _ = _faces()
    steps = STEPS_PER_EPOCH if not limit else 20
    return (
        GlyphSequence(
            charset, training, batch_size=batch_size, steps=steps, noise=NOISE, seed=seed, workers=2
        ),
        GlyphSequence(
            charset,
            training,
            batch_size=batch_size,
            steps=VALIDATION_STEPS if not limit else 2,
            noise=NOISE,
            seed=seed + 10_000,
        ),
    )


def _reference(data_dir=None, count=64):
    """Validation glyphs (training fonts, augmented) and labels, for TensorBoard's glyph figures.

    Labels come only when the MRC texts are reachable: without them the charset's frequency order,
    hence every label id, differs from the one the model was trained with.
    """
    from kerasgen.data.glyphs import GlyphSequence

    folder = _mrc_folder(data_dir)
    charset = list(_charset(folder, None))
    training, _ = _faces()
    x, y = GlyphSequence(charset, training, batch_size=count, steps=1, noise=NOISE, seed=20_000)[0]
    return x if folder is None else (x, y)


def _finish(model, data_dir=None, limit=None) -> dict:
    """Attach the bigram language model (jieba's dictionary + the MRC training split), saved as an asset."""
    import time

    started = time.perf_counter()
    language_model = build_language_model(data_dir, model.charset)
    model.attach_language_model(language_model)
    return {"language_model_seconds": round(time.perf_counter() - started, 1)}


def build_language_model(data_dir=None, charset=None):
    """Post 1's corrector from jieba's word frequencies and the MRC *training* split only."""
    from kerasgen.models.ocr.language_model import build_language_model as build

    return build(charset=charset, texts=mrc_texts(data_dir, "train"))


@functools.lru_cache(maxsize=4)
def _mrc_split(folder: str):
    from kerasgen.data.mrc import load_mrc_pool, train_dev_split

    return train_dev_split(load_mrc_pool(folder), dev_fraction=0.1, seed=0)


def mrc_texts(data_dir=None, part: str = "train") -> list[str]:
    """Distinct passages and questions of the MRC ``"train"`` or ``"dev"`` split (simplified); [] if none."""
    folder = _mrc_folder(data_dir)
    if folder is None:
        return []
    train, dev = _mrc_split(folder)
    examples = train if part == "train" else dev
    return sorted({p.text for e in examples for p in e.passages} | {e.question for e in examples})


def held_out_lines(charset, count: int, data_dir=None, seed: int = 0, length=(8, 20)) -> list[str]:
    """``count`` text lines cut from the dev split's passages, every character in ``charset``.

    Without the MRC files, lines are drawn from the charset's 1,000 most frequent characters.
    """
    rng = np.random.default_rng(seed)
    known = set(charset)
    texts = mrc_texts(data_dir, "dev")
    lines = []
    if texts:
        import re

        pieces = [p for t in texts for p in re.split(r"[\s]+", t) if len(p) >= length[0]]
        order = rng.permutation(len(pieces))
        for i in order:
            piece = pieces[i]
            size = int(rng.integers(length[0], length[1] + 1))
            begin = int(rng.integers(0, max(1, len(piece) - size + 1)))
            line = piece[begin : begin + size]
            if len(line) >= length[0] and set(line) <= known:
                lines.append(line)
            if len(lines) == count:
                break
    while len(lines) < count:
        common = list(charset[:1000])
        lines.append("".join(rng.choice(common, int(rng.integers(*length)))))
    return lines


def _evaluate(model, data_dir=None, quick=False):
    """Single-character accuracy on the held-out font families (clean and with post 1's 15% noise),
    and line CER of the whole reader on held-out-font lines cut from the MRC dev split."""
    from kerasgen.data.glyphs import degrade, font_coverage, glyph_test_set, render_line
    from kerasgen.eval.ocr_metrics import character_error_rate

    held_out = evaluation_faces()
    charset = list(model.charset)
    classes = charset[:QUICK_CLASSES] if quick else charset
    metrics = {"charset_size": len(charset), "test_faces": ", ".join(f.name for f in held_out)}

    def accuracy(classes: list[str], noise: float) -> tuple[float, int, dict[str, float]]:
        """Face by face (each face's own figure), then pooled over the glyphs of all faces."""
        hits = total = 0
        by_face = {}
        for face in held_out:
            x, y = glyph_test_set(classes, [face], per_char=1, noise=noise, seed=1)
            face_hits = int(np.sum(model.predict_proba(x).argmax(axis=1) == y))
            by_face[face.name] = 100.0 * face_hits / max(len(y), 1)
            hits, total = hits + face_hits, total + len(y)
        return 100.0 * hits / max(total, 1), total, by_face

    per_face: dict[str, dict[str, float]] = {face.name: {} for face in held_out}
    for key, noise in (("unseen_font_accuracy", 0.0), ("unseen_font_accuracy_noise15", TEST_NOISE)):
        metrics[key], metrics[f"{key}_glyphs"], by_face = accuracy(classes, noise)
        for name, value in by_face.items():
            per_face[name][key] = value
    metrics["per_face"] = per_face
    if not quick:  # the --quick subset too, so a quick re-evaluation can be checked against it
        metrics["quick_unseen_font_accuracy"], _, _ = accuracy(charset[:QUICK_CLASSES], 0.0)
    rng = np.random.default_rng(2)
    lines = held_out_lines(charset, 30 if quick else TEST_LINES, data_dir, seed=3)
    clean, degraded, references = [], [], []
    for i, text in enumerate(lines):
        face = held_out[i % len(held_out)]
        if not set(text) <= font_coverage(face, text):
            continue
        image, _ = render_line(text, face, rng=rng)
        clean.append(image)
        degraded.append(degrade(image, rng))
        references.append(text)
    for tier, images in (("clean", clean), ("degraded", degraded)):
        texts = [r.text for r in model.read_many(images)]
        metrics[f"line_cer_{tier}"] = 100.0 * character_error_rate(texts, references)
    metrics["test_lines"] = len(references)
    return metrics


EXAMPLE_TEXTS = (
    "今日特价全场八折",
    "新品上市欢迎选购",
    "北京是中华人民共和国的首都",
    "长江是中国最长的河流",
    "营业时间上午九点至晚上十点",
)


def example_images(seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """A poster and a short page in held-out fonts, with their texts: what the demo and notebook read."""
    from kerasgen.data.glyphs import poster_image, render_page

    rng = np.random.default_rng(seed)
    faces = evaluation_faces()
    poster, poster_lines = poster_image(rng, faces, texts=list(EXAMPLE_TEXTS))
    page, page_lines = render_page(
        ["长江是中国最长的河流，全长约六千三百公里。", "黄河是中国第二长河。"], faces[0], width=420, rng=rng
    )
    return [poster, page], ["\n".join(poster_lines), "\n".join(page_lines)]


def _card_results() -> str:
    """The Tesseract comparison and the network comparison, from their committed result files."""
    return "\n\n".join(part for part in (_tesseract_section(), _networks_section()) if part)


def _networks_section() -> str:
    path = RESULTS_DIR / "ocr_networks.json"
    if not path.exists():
        return ""
    results = json.loads(path.read_text(encoding="utf-8"))
    settings = results["settings"]
    rows = [
        "## Post 1's CNN against this entry's network (equal budget, subset)",
        "",
        f"Written by `{results['command']}`: both trained the same way on the {settings['classes']} most "
        f"frequent characters for {settings['epochs']} × {settings['steps']} steps of "
        f"{settings['batch_size']}, scored on the held-out test faces.",
        "",
        "| network | parameters | training examples/s | unseen fonts % | with 15% noise % |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, label in (("post", "post 1's CNN"), ("glyph", "ocr_zh's default")):
        r = results[key]
        rows.append(
            f"| {label} | {r['parameters']:,} | {r['train_examples_per_s']:.0f} | "
            f"{r['unseen_font_accuracy']:.2f} | {r['unseen_font_accuracy_noise15']:.2f} |"
        )
    return "\n".join(rows)


def _tesseract_section() -> str:
    bench = RESULTS_DIR / "ocr_vs_tesseract.json"
    if not bench.exists():
        return ""
    results = json.loads(bench.read_text(encoding="utf-8"))
    rows = [
        "## Against Tesseract 5 (chi_sim), same lines, same run",
        "",
        f"Written by `{results['command']}` into `notebooks/results/ocr_vs_tesseract.json` "
        f"({results['lines_per_tier']} lines per tier, held-out fonts: {', '.join(results['fonts'])}).",
        "",
        "| tier | ocr_zh CER % | Tesseract CER % | ratio |",
        "| --- | --- | --- | --- |",
    ]
    for tier, row in results["tiers"].items():
        ratio = f"{row['ratio']:.2f}" if row.get("ratio") is not None else "—"
        rows.append(f"| {tier} | {row['ours']:.2f} | {row['tesseract']:.2f} | {ratio} |")
    if all("ours_strict" in row for row in results["tiers"].values()):
        strict = ", ".join(
            f"{tier} {row['ours_strict']:.2f} vs {row['tesseract_strict']:.2f}"
            for tier, row in results["tiers"].items()
        )
        rows += ["", f"CER folds full/half-width forms (NFKC). Strict CER %, ocr_zh vs Tesseract: {strict}."]
    speed = results["lines_per_second"]
    rows += [
        "",
        f"Lines/s: ocr_zh {speed['ours']:.1f}, Tesseract {speed['tesseract']:.1f} (one thread), "
        f"ratio {speed['ratio']:.2f}; classifier precision {results.get('precision', 'float32')}.",
    ]
    faster = RESULTS_DIR / "ocr_vs_tesseract_bfloat16.json"
    if faster.exists():
        other = json.loads(faster.read_text(encoding="utf-8"))
        cer = ", ".join(f"{tier} {row['ours']:.2f}" for tier, row in other["tiers"].items())
        other_speed = other["lines_per_second"]
        rows += [
            "",
            f"With bfloat16 convolutions (`{other['command']}`): CER % {cer}; lines/s ocr_zh "
            f"{other_speed['ours']:.1f}, Tesseract {other_speed['tesseract']:.1f}, "
            f"ratio {other_speed['ratio']:.2f}.",
        ]
    return "\n".join(rows)


register(
    Recipe(
        name="ocr_zh",
        description="Post 1's printed-Chinese OCR: glyph CNN on rendered fonts, cuts, bigram Viterbi.",
        build=build_ocr_zh,
        optimizer=lambda: keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=EPOCHS * STEPS_PER_EPOCH, alpha=0.02)
        ),
        datasets=_datasets,
        evaluate=_evaluate,
        reference=_reference,
        epochs=EPOCHS,
        batch_size=256,
        monitor="val_loss",
        data=(
            "Glyphs rendered on the fly from the Debian CJK fonts except the held-out families (Noto "
            "Sans/Serif CJK, AR PL UMing/UKai); GB2312's 6,763 hanzi, digits, letters and punctuation, "
            "in frequency order (jieba's dictionary + the MRC texts). Test lines: MRC dev-split text in "
            "the held-out fonts. Caveat: AR PL UMing and UKai were built from Arphic's Big5/GB Mingti, "
            "Sungti and Kaiti faces, which are in training; the Noto faces share no outlines with it."
        ),
        baseline="Post 1: 92.11% single-character accuracy on 5 unseen fonts, 87.59% with 15% noise.",
        headline="unseen_font_accuracy",
        results=_card_results,
        finish=_finish,
    )
)
