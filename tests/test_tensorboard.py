"""GenerativeTensorBoard, tested twice: through its event files and through a live TensorBoard.

One tiny VAE (2-d latent, 16 hidden units) is trained for two epochs on 64 random images; both
tests read the same log folder. The first parses the event files directly, the second starts a
real ``tensorboard`` server on 127.0.0.1 and reads the scalar and image tags over its HTTP API.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from kerasgen.callbacks import GenerativeTensorBoard
from kerasgen.models import VAE, build_mlp_decoder, build_mlp_encoder

EPOCHS = 2
LOSS_TERMS = ("loss", "reconstruction", "kl", "elbo")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# [height, width, channels] of each image for 28×28×1 inputs, the default num_samples=64 and a
# 16-image reference: samples tile 64 images 8 × 8 with 1-px padding (8·29 + 1 = 233);
# reconstructions put 16 reference images above their 16 reconstructions (2 rows, 16 columns);
# the manifold decodes a 15 × 15 grid without padding (15·28 = 420); the scatter is 400 px RGB.
IMAGE_SHAPES = {
    "samples": (233, 233, 1),
    "reconstructions": (2 * 29 + 1, 16 * 29 + 1, 1),
    "latent_manifold": (420, 420, 1),
    "latent_scatter": (400, 400, 3),
}
SERVER_DEADLINE_S = 90.0


def tiny_vae(latent_dim: int = 2) -> VAE:
    return VAE(
        build_mlp_encoder(hidden_units=(16,), latent_dim=latent_dim),
        build_mlp_decoder(hidden_units=(16,), latent_dim=latent_dim),
        seed=0,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Train the tiny VAE with the callback; return ``(log_dir, history dict)``."""
    log_dir = tmp_path_factory.mktemp("tensorboard_logs")
    x = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
    labels = np.arange(64) % 10
    vae = tiny_vae()
    vae.compile(optimizer="rmsprop")
    callback = GenerativeTensorBoard(str(log_dir), reference=(x[:16], labels[:16]))
    history = vae.fit(
        x,
        epochs=EPOCHS,
        batch_size=32,
        validation_data=(x,),
        callbacks=[callback],
        verbose=0,
    )
    return log_dir, history.history


# ---------------------------------------------------------------------------- event files
def read_events(run_dir: Path) -> tuple[dict, dict]:
    """One run's ``(scalars, images)``: ``{tag: {step: value}}``, ``{tag: {step: (w, h, png)}}``.

    Keras 3 writes scalars as tensor summaries (plugin ``scalars``); legacy ``simple_value``
    scalars are read too. Image summaries are string tensors ``[width, height, png, ...]``.
    """
    import tensorflow as tf
    from tensorboard.compat.proto import event_pb2
    from tensorboard.util import tensor_util

    files = sorted(run_dir.glob("events.out.tfevents.*"))
    assert files, f"no event file in {run_dir}"
    scalars: dict = {}
    images: dict = {}
    for path in files:
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                kind = value.WhichOneof("value")
                plugin = value.metadata.plugin_data.plugin_name
                if kind == "simple_value":
                    scalars.setdefault(value.tag, {})[event.step] = float(value.simple_value)
                elif kind == "tensor" and plugin == "scalars":
                    array = tensor_util.make_ndarray(value.tensor)
                    assert array.size == 1, (value.tag, array.shape)
                    scalars.setdefault(value.tag, {})[event.step] = float(array.reshape(()))
                elif kind == "tensor" and plugin == "images":
                    width, height, *pngs = value.tensor.string_val
                    assert len(pngs) == 1, f"{value.tag}: expected one image, got {len(pngs)}"
                    images.setdefault(value.tag, {})[event.step] = (
                        int(width),
                        int(height),
                        pngs[0],
                    )
    return scalars, images


def png_header(data: bytes) -> tuple[int, int, int]:
    """``(width, height, channels)`` from a PNG's IHDR chunk (8-bit grey, RGB or RGBA)."""
    assert data[:8] == PNG_SIGNATURE, f"not a PNG: {data[:16]!r}"
    assert data[12:16] == b"IHDR"
    width, height, bit_depth, colour_type = struct.unpack(">IIBB", data[16:26])
    assert bit_depth == 8, bit_depth
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    return width, height, channels


def test_history_lists_every_loss_term(trained):
    _, history = trained
    assert set(history) == set(LOSS_TERMS) | {f"val_{term}" for term in LOSS_TERMS}
    for key, values in history.items():
        assert len(values) == EPOCHS, key
        assert all(math.isfinite(v) for v in values), (key, values)


def test_event_files_hold_every_loss_term_and_image(trained):
    log_dir, history = trained
    assert {p.name for p in log_dir.iterdir()} >= {"train", "validation"}

    for run, prefix in (("train", ""), ("validation", "val_")):
        scalars, images = read_events(log_dir / run)
        for term in LOSS_TERMS:
            tag = f"epoch_{term}"
            assert tag in scalars, f"{run}: no {tag}; scalar tags {sorted(scalars)}"
            assert sorted(scalars[tag]) == list(range(EPOCHS)), (run, tag, scalars[tag])
            for epoch in range(EPOCHS):
                logged = scalars[tag][epoch]
                assert math.isfinite(logged), (run, tag, epoch, logged)
                expected = history[prefix + term][epoch]
                assert logged == pytest.approx(expected, rel=1e-6, abs=1e-6), (run, tag, epoch)
        if run == "validation":
            assert not images, f"images belong under train, found {sorted(images)} in validation"

    # elbo is −(reconstruction + kl) and, with β = 1, loss is −elbo: the logged values agree.
    scalars, images = read_events(log_dir / "train")
    for epoch in range(EPOCHS):
        elbo = scalars["epoch_elbo"][epoch]
        assert elbo == pytest.approx(-scalars["epoch_loss"][epoch], rel=1e-5)
        assert elbo == pytest.approx(
            -(scalars["epoch_reconstruction"][epoch] + scalars["epoch_kl"][epoch]), rel=1e-5
        )

    assert set(images) == set(IMAGE_SHAPES), sorted(images)
    for tag, (height, width, channels) in IMAGE_SHAPES.items():
        assert sorted(images[tag]) == list(range(EPOCHS)), (tag, sorted(images[tag]))
        for epoch, (logged_width, logged_height, png) in images[tag].items():
            assert (logged_width, logged_height) == (width, height), (tag, epoch)
            assert png_header(png) == (width, height, channels), (tag, epoch)


# ---------------------------------------------------------------------------- live server
def tensorboard_executable() -> str | None:
    beside_python = Path(sys.executable).with_name("tensorboard")
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which("tensorboard")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# No proxies: every request goes straight to the local server.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(base: str, path: str, **query) -> tuple[bytes, str]:
    """GET ``base + path?query`` from the local server → ``(body, content type)``."""
    url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    with _OPENER.open(url, timeout=30) as response:
        assert response.status == 200, (url, response.status)
        return response.read(), response.headers.get("Content-Type", "")


def fetch_json(base: str, path: str, **query):
    body, content_type = fetch(base, path, **query)
    assert content_type.startswith("application/json"), (path, content_type)
    return json.loads(body)


@pytest.fixture(scope="module")
def tensorboard_server(trained, tmp_path_factory):
    """A ``tensorboard`` subprocess serving the trained log folder; yields its base URL."""
    executable = tensorboard_executable()
    if executable is None:
        pytest.skip("the tensorboard executable is not installed")
    log_dir, _ = trained
    port = free_port()
    output = tmp_path_factory.mktemp("tensorboard_server") / "server.log"
    command = [
        executable,
        f"--logdir={log_dir}",
        "--host=127.0.0.1",
        f"--port={port}",
        "--load_fast=false",
        # Training is over: load everything once, before the server answers.
        "--reload_interval=0",
        "--reload_task=blocking",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    base = f"http://127.0.0.1:{port}"
    with open(output, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
    try:
        deadline = time.monotonic() + SERVER_DEADLINE_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"tensorboard exited with code {process.returncode}:\n"
                    + output.read_text(errors="replace")[-4000:]
                )
            try:
                fetch(base, "/data/plugins_listing")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"tensorboard did not answer on {base} within {SERVER_DEADLINE_S:.0f} s:\n"
                    + output.read_text(errors="replace")[-4000:]
                )
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def test_tensorboard_server_serves_scalars_and_images(trained, tensorboard_server):
    base = tensorboard_server
    _, history = trained

    plugins = fetch_json(base, "/data/plugins_listing")
    for plugin in ("scalars", "images"):
        assert plugins.get(plugin, {}).get("enabled"), (plugin, plugins.get(plugin))

    scalar_tags = fetch_json(base, "/data/plugin/scalars/tags")
    for run in ("train", "validation"):
        assert run in scalar_tags, sorted(scalar_tags)
        missing = {f"epoch_{term}" for term in LOSS_TERMS} - set(scalar_tags[run])
        assert not missing, f"{run} lacks {sorted(missing)}; has {sorted(scalar_tags[run])}"

    for run, prefix in (("train", ""), ("validation", "val_")):
        for term in LOSS_TERMS:
            points = fetch_json(base, "/data/plugin/scalars/scalars", run=run, tag=f"epoch_{term}")
            assert [step for _, step, _ in points] == list(range(EPOCHS)), (run, term, points)
            values = [value for _, _, value in points]
            assert values == pytest.approx(history[prefix + term], rel=1e-6, abs=1e-6)

    image_tags = fetch_json(base, "/data/plugin/images/tags")
    assert set(image_tags.get("train", {})) == set(IMAGE_SHAPES), image_tags
    assert not image_tags.get("validation"), image_tags

    for tag, (height, width, channels) in IMAGE_SHAPES.items():
        entries = fetch_json(base, "/data/plugin/images/images", run="train", tag=tag)
        assert [entry["step"] for entry in entries] == list(range(EPOCHS)), (tag, entries)
        # "query" is an opaque query string ("blob_key=…") for the individualImage route.
        body, content_type = fetch(base, "/data/plugin/images/individualImage?" + entries[-1]["query"])
        assert content_type.startswith("image/png"), (tag, content_type)
        assert png_header(body) == (width, height, channels), tag


# ---------------------------------------------------------------------------- images_for
class SampleOnly:
    """A model with nothing but ``sample``: no ``reconstruct``, ``encode``, ``decode``."""

    latent_dim = 2

    def sample(self, num_samples, seed=None):
        rng = np.random.default_rng(seed)
        return rng.random((num_samples, 28, 28, 1)).astype("float32")


def test_images_for_model_with_only_sample(tmp_path):
    reference = np.zeros((4, 28, 28, 1), "float32")
    callback = GenerativeTensorBoard(str(tmp_path), reference=reference, num_samples=9)
    images = callback.images_for(SampleOnly())
    assert set(images) == {"samples"}
    assert images["samples"].shape == (3 * 29 + 1, 3 * 29 + 1, 1)
    assert images["samples"].dtype == np.uint8


def test_images_for_latent_dim_not_two_scatter_but_no_manifold(tmp_path):
    """A 3-d latent gets the scatter of its first two code dimensions, but no 2-d manifold grid."""
    reference = np.random.default_rng(1).random((4, 28, 28, 1)).astype("float32")
    callback = GenerativeTensorBoard(str(tmp_path), reference=(reference, np.arange(4)), num_samples=4)
    images = callback.images_for(tiny_vae(latent_dim=3))
    assert set(images) == {"samples", "reconstructions", "latent_scatter"}
    assert images["samples"].shape == (2 * 29 + 1, 2 * 29 + 1, 1)
    # All 4 reference images (up to 16 are shown) above their 4 reconstructions.
    assert images["reconstructions"].shape == (2 * 29 + 1, 4 * 29 + 1, 1)


def test_adversarial_models_log_every_term_samples_and_codes(tmp_path):
    """An AAE logs each loss term and D's means, a fixed-noise sample grid, reconstructions and codes."""
    import keras

    from tests.models.test_adversarial import tiny_aae

    x = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
    model = tiny_aae()
    callback = GenerativeTensorBoard(str(tmp_path), reference=(x[:16], np.arange(16) % 10))
    model.fit(x, validation_data=(x,), batch_size=16, epochs=2, verbose=0, callbacks=[callback])
    scalars, images = read_events(tmp_path / "train")
    for term in ("d_loss", "ae_loss", "e_adv", "rec", "d_prior", "d_code"):
        assert f"epoch_{term}" in scalars and len(scalars[f"epoch_{term}"]) == 2, sorted(scalars)
    assert {"samples", "reconstructions", "latent_scatter"} <= set(images)
    first, second = (images["samples"][step][2] for step in (0, 1))
    assert first != second  # the same noise, a generator that has changed
    assert isinstance(model.g_optimizer, keras.optimizers.Optimizer)
