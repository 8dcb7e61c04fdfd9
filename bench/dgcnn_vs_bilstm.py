"""Speed and accuracy of post 6's DGCNN against a BiLSTM reader of the same width on the same data.

Post 6 argues that DGCNN needs no RNN and is therefore fast. This bench tests the claim on the
``dgcnn_zh`` recipe's data. The BiLSTM reader (``BiLSTMReader`` below) is a subclass of ``DGCNN``
that replaces only the two encoders: the question's three dilated gated convolutions become one
bidirectional LSTM, the passage's six become two stacked ones (``--question-layers``,
``--passage-layers``). Each BiLSTM has width/2 units per direction, concatenated back to the
width (128), followed by dropout (the DGCNN's rate, 0.1) and the mask. The embedding (started
from a copy of the DGCNN's initial weights), attention pooling, heads, focal loss, weight average
(EMA), optimizer, text encoder and answering are the DGCNN's own, with the recipe's settings.

Each model is measured in a fresh process of this script (``--only dgcnn|bilstm``), the two
alternating for ``--repeats`` rounds (the order flips every round). A process:

1. checks that padding does not change its outputs (20 extra padding positions on a dev batch);
2. trains on the recipe's first ``--warmup-steps`` + ``--steps`` training batches of 64 (built
   before timing), the first ``--warmup-steps`` in a separate ``fit`` not counted (tracing), and
   reports training examples/s over the ``--steps`` timed steps (epoch timer callback);
3. trains a fresh model with the recipe's batches and optimizer for ``--budget`` seconds of wall
   clock (counted from the end of the first step, so tracing is excluded; the batches' text
   encoding is done before), then scores ``--dev-questions`` dev questions with ``recipes.score``
   with the weight average swapped in, as the recipe's ``DevScore`` does (and without it);
4. times ``answer_many`` on the first ``--questions`` dev questions (after a warm-up call) with
   that trained model and reports questions/s.

The parent prints medians and the ratios DGCNN / BiLSTM: above 1 means DGCNN is faster or scores
higher.

Usage::

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/dgcnn_vs_bilstm.py
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/dgcnn_vs_bilstm.py --repeats 1 --budget 0 --json out.json
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import inspect
import json
import platform
import statistics
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from bench_common import EpochTimer, peak_rss_mib, report_and_save, run_marked_subprocess
from keras import layers, ops

from kerasgen.models.dgcnn.dgcnn import DGCNN

MODELS = ("dgcnn", "bilstm")
LABELS = {"dgcnn": "DGCNN", "bilstm": "BiLSTM"}
RESULT_MARKER = "DGCNN_BENCH_RESULT "
RECIPE = "dgcnn_zh"
BATCH_SIZE = 64
EXTRA_PADDING = 20  # positions appended to both inputs in the padding check


# ---------------------------------------------------------------------------------------- model


class BiLSTMBlock(layers.Layer):
    """``Y = drop(BiLSTM(X ⊙ m)) ⊙ m``: a bidirectional LSTM of ``width / 2`` units per direction.

    The two directions are concatenated, so input and output are ``[B, T, width]`` like a
    ``DilatedGatedConv1D``. The LSTM skips masked steps (state carried over), so right padding
    never reaches a real position in either direction; padded outputs are zeroed.
    """

    def __init__(self, width: int, dropout: float = 0.1, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if width % 2:
            raise ValueError(f"BiLSTMBlock needs an even width (two directions), got {width}.")
        self.width, self.dropout, self.seed = int(width), float(dropout), seed
        self.supports_masking = True
        self.rnn = layers.Bidirectional(
            layers.LSTM(self.width // 2, return_sequences=True), merge_mode="concat", name="bilstm"
        )
        self.output_dropout = layers.Dropout(self.dropout, seed=seed, name="output_dropout")

    def build(self, input_shape):
        self.rnn.build(input_shape)

    def call(self, x, mask=None, training=False):
        m = None if mask is None else ops.cast(mask, x.dtype)[..., None]
        if m is not None:
            x = x * m
        y = self.output_dropout(self.rnn(x, mask=mask, training=training), training=training)
        return y if m is None else y * m

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.width)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "dropout": self.dropout, "seed": self.seed}


class BiLSTMReader(DGCNN):
    """``DGCNN`` with BiLSTM encoders: ``question_layers`` BiLSTMs for the question, ``passage_layers``
    stacked for the passage, each ``width / 2`` per direction; everything else is the DGCNN's.

    Not registered for serialisation: the bench never saves it.
    """

    def __init__(
        self,
        char_vocabulary_size: int,
        word_vocabulary_size: int = 0,
        width: int = 128,
        question_layers: int = 1,
        passage_layers: int = 2,
        **kwargs,
    ):
        # DGCNN.__init__ ends by calling build(), which creates the BiLSTMs: the depths come first.
        self.question_layers, self.passage_layers = int(question_layers), int(passage_layers)
        if self.question_layers < 1 or self.passage_layers < 1:
            raise ValueError("BiLSTMReader needs at least one question and one passage layer.")
        for unused in ("question_rates", "passage_rates"):  # in a DGCNN config; meaningless here
            kwargs.pop(unused, None)
        super().__init__(
            char_vocabulary_size, word_vocabulary_size, width, question_rates=(), passage_rates=(), **kwargs
        )

    def build(self, input_shape=None):
        if self.built:
            return
        self.question_blocks = [
            BiLSTMBlock(self.width, self.dropout, seed=self.seed, name=f"question_bilstm_{i}")
            for i in range(self.question_layers)
        ]
        self.passage_blocks = [
            BiLSTMBlock(self.width, self.dropout, seed=self.seed, name=f"passage_bilstm_{i}")
            for i in range(self.passage_layers)
        ]
        super().build(input_shape)  # builds the blocks, the shared layers and the weight average

    def get_config(self) -> dict:
        config = super().get_config()
        del config["question_rates"], config["passage_rates"]
        return {**config, "question_layers": self.question_layers, "passage_layers": self.passage_layers}


def trainable_parameters(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def encoder_parameters(model) -> int:
    """Trainable parameters of the question and passage encoders (the part the two models differ in)."""
    return trainable_parameters(
        [w for block in (*model.question_blocks, *model.passage_blocks) for w in block.trainable_weights]
    )


def build_model(name: str, seed: int, args) -> DGCNN:
    """The recipe's DGCNN, or the BiLSTM reader with the same settings, encoder and initial embedding.

    The BiLSTM reader takes every DGCNN constructor argument of the recipe's model (width, word
    branch, dropout, loss, EMA, seed) but the rates, a copy of its embedding weights (so fixed word
    vectors, if the recipe uses them, are the same) and its text encoder. Both are compiled with
    the recipe's optimizer.
    """
    import kerasgen.recipes

    recipe = kerasgen.recipes.get(RECIPE)
    keras.utils.set_random_seed(seed)
    dgcnn = recipe.build(seed=seed, data_dir=args.data_dir)
    if name == "dgcnn":
        return recipe.compile(dgcnn)
    keras.utils.set_random_seed(seed)
    arguments = inspect.signature(DGCNN.__init__).parameters
    shared = {key: value for key, value in dgcnn.get_config().items() if key in arguments}
    model = BiLSTMReader(**shared, question_layers=args.question_layers, passage_layers=args.passage_layers)
    model.embedding.set_weights(dgcnn.embedding.get_weights())
    model.attach_text_encoder(dgcnn.text_encoder)
    return recipe.compile(model)


# ---------------------------------------------------------------------------------------- measurements


def padding_check(model, batch) -> float:
    """Largest |change| of any output on real positions when both inputs get extra padding."""
    inputs = {k: v[:8] for k, v in batch.items()}
    padded = {k: np.pad(v, ((0, 0), (0, EXTRA_PADDING))) for k, v in inputs.items()}
    plain, extended = model(inputs), model(padded)
    length = inputs["passage_chars"].shape[1]
    return max(
        float(np.max(np.abs(np.asarray(plain["start"]) - np.asarray(extended["start"])[:, :length]))),
        float(np.max(np.abs(np.asarray(plain["end"]) - np.asarray(extended["end"])[:, :length]))),
        float(np.max(np.abs(np.asarray(plain["answer_exists"]) - np.asarray(extended["answer_exists"])))),
    )


def stacked(batches: list) -> tf.data.Dataset:
    """The given ``(inputs, targets)`` batches as one in-memory dataset of the same batches."""
    inputs = {k: np.concatenate([b[0][k] for b in batches]) for k in batches[0][0]}
    targets = {k: np.concatenate([b[1][k] for b in batches]) for k in batches[0][1]}
    return tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(BATCH_SIZE)


def training_rate(model, train, warmup_steps: int, steps: int) -> float:
    """Examples/s over ``steps`` training steps, after ``warmup_steps`` (tracing) in a separate ``fit``."""
    usable = len(train) - 1  # the last batch may be short
    batches = [train[i % usable] for i in range(warmup_steps + steps)]  # text encoding happens here
    model.fit(stacked(batches[:warmup_steps]), epochs=1, verbose=0, shuffle=False)
    timer = EpochTimer()
    model.fit(stacked(batches[warmup_steps:]), epochs=1, verbose=0, shuffle=False, callbacks=[timer])
    return BATCH_SIZE * steps / timer.seconds[0]


class WallClockBudget(keras.callbacks.Callback):
    """Stops ``fit`` once ``seconds`` have passed since the end of its first step (tracing excluded)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.steps, self.elapsed = float(seconds), 0, 0.0
        self._start: float | None = None

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self._start is None:
            self._start = now
            return
        self.steps, self.elapsed = self.steps + 1, now - self._start
        if self.elapsed >= self.seconds:
            self.model.stop_training = True


def budget_training(model, train, seconds: float) -> dict:
    """Train for ``seconds`` of wall clock; the batches' text encoding (jieba) is done beforehand."""
    for index in range(len(train)):  # fills MRCBatches' per-text encoding cache
        train[index]
    budget = WallClockBudget(seconds)
    model.fit(train, epochs=10_000, verbose=0, callbacks=[budget])
    return {"budget_steps": budget.steps, "budget_seconds": budget.elapsed}


def dev_sample(args) -> list:
    """``--dev-questions`` dev questions spread over the dev split and its answerless examples, as the
    recipe's per-epoch ``DevScore`` takes them."""
    from kerasgen.models.dgcnn import recipes

    _, _, dev, dev_negatives = recipes._split(recipes._folder(args.data_dir), None)
    pool = dev + dev_negatives
    return pool[:: max(1, len(pool) // args.dev_questions)][: args.dev_questions]


def dev_scores(model, examples) -> dict:
    """CMRC EM/F1 with the weight average swapped in (the recipe's ``DevScore``) and with raw weights."""
    from kerasgen.models.dgcnn.recipes import score

    with model.average.swapped_in():
        averaged = score(model, examples)
    raw = score(model, examples)
    return {"em": averaged["em"], "f1": averaged["f1"], "raw_em": raw["em"], "raw_f1": raw["f1"]}


def inference_rate(model, examples, questions: int) -> dict:
    """Questions/s of ``answer_many`` on the first ``questions`` dev questions, after a warm-up call."""
    from kerasgen.models.dgcnn.recipes import MAX_ANSWER_LENGTH

    items = [(e.question, [p.original for p in e.passages]) for e in examples[:questions]]
    model.answer_many(items[:8], max_answer_length=MAX_ANSWER_LENGTH)  # warm-up
    started = time.perf_counter()
    model.answer_many(items[:1], max_answer_length=MAX_ANSWER_LENGTH)
    one_question = time.perf_counter() - started
    started = time.perf_counter()
    model.answer_many(items, max_answer_length=MAX_ANSWER_LENGTH)
    return {"questions_per_s": len(items) / (time.perf_counter() - started), "one_question_s": one_question}


def measure(name: str, seed: int, args) -> dict:
    from kerasgen.models.dgcnn import recipes

    _, _, dev, _ = recipes._split(recipes._folder(args.data_dir), None)
    model = build_model(name, seed, args)
    train, validation = recipes._datasets(args.data_dir, batch_size=BATCH_SIZE, seed=seed)
    result = {
        "parameters": trainable_parameters(model.trainable_weights),
        "encoder_parameters": encoder_parameters(model),
        "jit_compile": bool(model.jit_compile),
        "padding_max_abs_diff": padding_check(model, validation[0][0]),
        "train_examples_per_s": training_rate(model, train, args.warmup_steps, args.steps),
    }
    if args.budget > 0:
        # Fresh weights, the same batches: training_rate indexed them without ending an epoch.
        model = build_model(name, seed, args)
        result.update(budget_training(model, train, args.budget))
        sample = dev_sample(args)
        result.update(dev_scores(model, sample))
        result["dev_questions"] = len(sample)
    result.update(inference_rate(model, dev, args.questions))
    result["peak_rss_mib"] = peak_rss_mib()
    return result


# ---------------------------------------------------------------------------------------- report

ROWS = (  # key, label, format, ratio
    ("train_examples_per_s", "training examples/s", "{:.1f}", True),
    ("questions_per_s", "inference questions/s", "{:.1f}", True),
    ("one_question_s", "answer_many latency, 1 question, s", "{:.2f}", False),
    ("budget_steps", "steps in the budget", "{:.0f}", True),
    ("f1", "dev F1 (EMA)", "{:.2f}", True),
    ("em", "dev EM (EMA)", "{:.2f}", True),
    ("raw_f1", "dev F1 (raw weights)", "{:.2f}", True),
    ("raw_em", "dev EM (raw weights)", "{:.2f}", True),
    ("peak_rss_mib", "peak RSS, MiB", "{:.0f}", False),
)


def empty_answer_f1(args) -> float:
    """F1 of answering nothing on the dev sample (the answerless questions score 1)."""
    from kerasgen.eval.mrc_metrics import score_predictions

    return score_predictions({}, dev_sample(args))["f1"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed training steps per process")
    parser.add_argument("--warmup-steps", type=int, default=2, help="untimed training steps (tracing)")
    parser.add_argument("--questions", type=int, default=200, help="dev questions answered for questions/s")
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds per model (0: no F1)")
    parser.add_argument(
        "--dev-questions", type=int, default=300, help="dev questions scored after the budget"
    )
    parser.add_argument("--question-layers", type=int, default=1, help="BiLSTMs on the question")
    parser.add_argument("--passage-layers", type=int, default=2, help="stacked BiLSTMs on the passage")
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds of fresh processes")
    parser.add_argument("--data-dir", default=None, help="MRC files (default: $KERASGEN_MRC_DIR)")
    parser.add_argument("--only", choices=MODELS, help="measure one model in this process (internal)")
    parser.add_argument("--seed", type=int, default=0, help="seed of round 1 (round r uses seed + r - 1)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.only:
        print(RESULT_MARKER + json.dumps(measure(args.only, args.seed, args)), flush=True)
        return
    started = time.perf_counter()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs "
        f"({len(os.sched_getaffinity(0))} usable), TF {tf.__version__}, Keras {keras.__version__}; "
        f"batch {BATCH_SIZE}, BiLSTM reader: {args.question_layers} question / {args.passage_layers} "
        "passage layers",
        flush=True,
    )
    forwarded = [
        *("--steps", str(args.steps), "--warmup-steps", str(args.warmup_steps)),
        *("--questions", str(args.questions), "--budget", str(args.budget)),
        *("--dev-questions", str(args.dev_questions), "--question-layers", str(args.question_layers)),
        *("--passage-layers", str(args.passage_layers)),
        *(("--data-dir", args.data_dir) if args.data_dir else ()),
    ]
    runs: dict[str, list[dict]] = {name: [] for name in MODELS}
    for round_index in range(args.repeats):
        seed = args.seed + round_index
        for name in MODELS if round_index % 2 == 0 else MODELS[::-1]:
            command = [sys.executable, __file__, "--only", name, "--seed", str(seed), *forwarded]
            result = run_marked_subprocess(command, RESULT_MARKER, name)
            runs[name].append(result)
            scored = (
                f", dev F1 {result['f1']:.2f} after {result['budget_steps']} steps" if "f1" in result else ""
            )
            print(
                f"round {round_index + 1} {LABELS[name]}: {result['train_examples_per_s']:.1f} examples/s, "
                f"{result['questions_per_s']:.1f} questions/s{scored}",
                flush=True,
            )
    keys = [key for key, *_ in ROWS if key in runs["dgcnn"][0]]
    medians = {name: {key: statistics.median(r[key] for r in runs[name]) for key in keys} for name in MODELS}
    ratios = {
        key: medians["dgcnn"][key] / medians["bilstm"][key]
        for key, _, _, ratio in ROWS
        if ratio and key in keys and medians["bilstm"][key]
    }
    first = {name: runs[name][0] for name in MODELS}
    results = {
        "runs": runs,
        "medians": medians,
        "ratios_dgcnn_over_bilstm": ratios,
        "parameters": {name: first[name]["parameters"] for name in MODELS},
        "encoder_parameters": {name: first[name]["encoder_parameters"] for name in MODELS},
        "padding_max_abs_diff": {name: max(r["padding_max_abs_diff"] for r in runs[name]) for name in MODELS},
        "jit_compile": {name: first[name]["jit_compile"] for name in MODELS},
        "settings": {key: value for key, value in vars(args).items() if key not in ("only", "json")},
    }
    for name in MODELS:
        print(
            f"{LABELS[name]}: {results['parameters'][name]:,} trainable parameters, of which encoders "
            f"{results['encoder_parameters'][name]:,}; jit_compile {results['jit_compile'][name]}; "
            f"padding check max |diff| {results['padding_max_abs_diff'][name]:.1e}"
        )
    print(f"\nmedians of {args.repeats} round(s)          DGCNN     BiLSTM   DGCNN / BiLSTM")
    for key, label, fmt, _ in ROWS:
        if key not in keys:
            continue
        ratio = f"{ratios[key]:14.2f}" if key in ratios else ""
        dgcnn, bilstm = fmt.format(medians["dgcnn"][key]), fmt.format(medians["bilstm"][key])
        print(f"{label:<34}{dgcnn:>9}  {bilstm:>9}{ratio}")
    if "f1" in keys:
        results["empty_answer_f1"] = empty_answer_f1(args)
        print(
            f"(F1/EM on {first['dgcnn']['dev_questions']} dev questions after {args.budget:.0f} s of "
            f"training each; answering nothing scores F1 {results['empty_answer_f1']:.2f} on them)"
        )
    print("ratios above 1: DGCNN faster / more steps / higher score")
    report_and_save(results, started, args.json)


if __name__ == "__main__":
    main()
