"""Post 1's OCR (``ocr_zh``) against Tesseract 5 ``chi_sim`` on the same held-out lines and pages.

The test material is rendered here, in the held-out font families (Noto Sans/Serif CJK, AR PL
UMing/UKai, which no ``ocr_zh`` training glyph used), from text the model never trained on: lines
cut from the dev split of the shared MRC texts (the language model counts only the training
split). Three tiers, as in the issue:

- ``clean``: single lines, ``kerasgen.data.glyphs.render_line``;
- ``degraded``: the same lines through ``kerasgen.data.glyphs.degrade`` (noise, blur, JPEG, low
  contrast, uneven background, rotation within ±2°);
- ``pages``: short pages of 3–5 wrapped lines with indents and margins (``render_page``).

Both systems read every image in the same run: ours through ``model.read_many`` (the layout, the
classifier and the bigram Viterbi), Tesseract through its CLI (``--psm 7`` for lines, ``--psm 6``
for pages) with ``OMP_THREAD_LIMIT=1`` (its default threading is slower on this machine).
Character error rate ignores whitespace (``chi_sim`` puts spaces between hanzi) and folds full- and
half-width forms (NFKC: ？ = ?, （ = (), which a cut glyph cannot tell apart and the MRC texts mix; the
strict rates are saved too, as ``*_strict``). Throughput is
lines/s over all three tiers (a page counts its lines), after a warm-up read.

Run it on one core, so both systems get the same CPU::

    taskset -c 1 env TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/ocr_vs_tesseract.py --lines 100 --pages 20

``--save`` writes ``notebooks/results/ocr_vs_tesseract.json`` (``..._bfloat16.json`` with
``--precision bfloat16``), which the ``ocr_zh`` card renders (``kerasgen zoo card RUN``).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parents[1] / "notebooks" / "results" / "ocr_vs_tesseract.json"


def material(charset, faces, lines: int, pages: int, seed: int):
    """``{tier: (images, references)}``; every line is in a font that covers all its characters."""
    from kerasgen.data.glyphs import degrade, font_coverage, render_line, render_page
    from kerasgen.models.ocr.recipes import held_out_lines

    rng = np.random.default_rng(seed)
    texts = held_out_lines(charset, 4 * lines + 5 * pages * 4, seed=seed)
    pairs = [(text, faces[i % len(faces)]) for i, text in enumerate(texts)]
    usable = [(text, face) for text, face in pairs if set(text) <= font_coverage(face, text)]
    tiers = {"clean": ([], []), "degraded": ([], []), "pages": ([], [])}
    for text, face in usable[:lines]:
        image, _ = render_line(text, face, rng=rng)
        tiers["clean"][0].append(image)
        tiers["clean"][1].append(text)
        tiers["degraded"][0].append(degrade(image, rng))
        tiers["degraded"][1].append(text)
    rest = usable[lines:]
    for p in range(pages):
        group = rest[p * 4 : p * 4 + int(rng.integers(1, 3))]
        if not group:
            break
        face = group[0][1]
        paragraphs = [t for t, f in group if set(t) <= font_coverage(face, t)]
        image, page_lines = render_page(paragraphs, face, width=360, rng=rng)
        tiers["pages"][0].append(image)
        tiers["pages"][1].append("\n".join(page_lines))
    return tiers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ocr_zh", help="zoo entry, run folder or .keras file")
    parser.add_argument("--lines", type=int, default=100, help="lines per line tier")
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--precision",
        choices=("auto", "float32", "bfloat16"),
        help="the classifier's inference precision (default: the model's own, float32 unless set)",
    )
    parser.add_argument(
        "--save", action="store_true", help=f"write {RESULTS.relative_to(RESULTS.parents[2])}"
    )
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args(argv)

    from kerasgen import zoo
    from kerasgen.eval.ocr_metrics import character_error_rate, tesseract_available, tesseract_read
    from kerasgen.models.ocr.inference import resolve_precision
    from kerasgen.models.ocr.recipes import evaluation_faces

    if not tesseract_available():
        print(
            "tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-chi-sim", file=sys.stderr
        )
        return 2
    started = time.perf_counter()
    model = zoo.load_any(args.model)
    if args.precision:
        model.inference_precision = args.precision
    faces = evaluation_faces()
    tiers = material(model.charset, faces, args.lines, args.pages, args.seed)
    model.read_many(tiers["clean"][0][:4])  # warm-up: traces the classifier
    results = {
        "tiers": {},
        "fonts": [f.name for f in faces],
        "precision": resolve_precision(model.inference_precision),
    }
    seconds = {"ours": 0.0, "tesseract": 0.0}
    line_count = 0
    for tier, (images, references) in tiers.items():
        t0 = time.perf_counter()
        ours = [r.text for r in model.read_many(images)]
        seconds["ours"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        theirs = tesseract_read(images, psm=6 if tier == "pages" else 7, threads=1)
        seconds["tesseract"] += time.perf_counter() - t0
        line_count += sum(r.count("\n") + 1 for r in references)
        row = {
            "images": len(images),
            "ours": 100.0 * character_error_rate(ours, references),
            "tesseract": 100.0 * character_error_rate(theirs, references),
            "ours_strict": 100.0 * character_error_rate(ours, references, fold_width=False),
            "tesseract_strict": 100.0 * character_error_rate(theirs, references, fold_width=False),
        }
        row["ratio"] = row["ours"] / row["tesseract"] if row["tesseract"] > 0 else None  # ours / theirs
        results["tiers"][tier] = row
        print(
            f"{tier:9s} {len(images):4d} images  CER ours {row['ours']:6.2f}%  "
            f"tesseract {row['tesseract']:6.2f}%  ours/tesseract "
            + (f"{row['ratio']:.2f}" if row["ratio"] is not None else "—"),
            flush=True,
        )
    speed = {name: line_count / max(s, 1e-9) for name, s in seconds.items()}
    speed["ratio"] = speed["ours"] / max(speed["tesseract"], 1e-9)
    print(
        f"lines/s  ours {speed['ours']:.1f}  tesseract {speed['tesseract']:.1f}  "
        f"ours/tesseract {speed['ratio']:.2f}"
    )
    results.update(
        {
            "lines_per_second": speed,
            "lines_per_tier": args.lines,
            "pages": args.pages,
            "cpus": sorted(os.sched_getaffinity(0)),
            "command": "taskset -c 1 python bench/ocr_vs_tesseract.py "
            + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
            "wall_s": round(time.perf_counter() - started, 1),
        }
    )
    text = json.dumps(results, indent=2, ensure_ascii=False)
    saved = (
        RESULTS.with_name("ocr_vs_tesseract_bfloat16.json") if results["precision"] == "bfloat16" else RESULTS
    )
    for path in [saved] * args.save + ([Path(args.json)] if args.json else []):
        path.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
