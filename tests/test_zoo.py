"""The published zoo: every entry loads, is verified, and still scores what its card says."""

import json
import shutil

import numpy as np
import pytest

from kerasgen import cli, zoo

ENTRIES = zoo.names()


def test_the_foundation_and_post_2_entries_are_published():
    assert {"vae_mnist", "cvae_mnist", "convvae_mnist", "kmeans_mnist", "plsa_zh"} <= set(ENTRIES)
    assert zoo.list() == ENTRIES


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_loads_compiled_and_matches_its_published_metrics(name):
    model = zoo.load(name)
    assert model.compiled and model.optimizer is not None
    folder = zoo.zoo_dir() / name
    published = json.loads((folder / "metrics.json").read_text())
    card = (folder / "card.md").read_text()
    for key in ("training command", "training wall time", "machine", "data and split", "Held-out"):
        assert key in card, f"{name}'s card lacks {key!r}"
    assert zoo.load_entry(name)["sha256"][zoo.WEIGHTS_FILE] in card
    from kerasgen import recipes

    recipe = recipes.get(name)
    quick = recipe.evaluate(model, quick=True)
    # A few hundred held-out examples: close to the figure measured on all 5,000.
    # Entries whose full evaluation also scored the quick subset (``quick_<headline>``) match it.
    expected = published.get(f"quick_{recipe.headline}", published[recipe.headline])
    tolerance = 8.0 if recipe.headline.endswith("nats") else max(0.05, 0.05 * abs(expected))
    assert abs(quick[recipe.headline] - expected) < tolerance
    if hasattr(model, "sample"):
        samples = model.sample(4, seed=0)
        assert samples.shape == (4, 28, 28, 1) and np.isfinite(samples).all()


@pytest.fixture
def zoo_copy(tmp_path, monkeypatch):
    target = tmp_path / "zoo"
    shutil.copytree(zoo.zoo_dir() / "vae_mnist", target / "vae_mnist")
    monkeypatch.setenv(zoo.ZOO_DIR_ENV, str(target))
    return target / "vae_mnist"


def test_unknown_entry_lists_the_published_ones(zoo_copy):
    with pytest.raises(zoo.ZooError, match=r"Unknown zoo entry 'vae_mnst'.*vae_mnist"):
        zoo.load("vae_mnst")


def test_missing_weights_name_the_file_and_the_fix(zoo_copy):
    (zoo_copy / zoo.WEIGHTS_FILE).unlink()
    with pytest.raises(zoo.ZooError, match=r"missing .*model\.weights\.h5.*git checkout"):
        zoo.load("vae_mnist")


def test_corrupt_weights_are_refused(zoo_copy):
    path = zoo_copy / zoo.WEIGHTS_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(zoo.ZooError, match="corrupt: sha256"):
        zoo.load("vae_mnist")


def test_unreadable_model_file(tmp_path):
    bad = tmp_path / "model.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(zoo.ZooError, match=r"not a readable \.keras model"):
        zoo.load_file(bad)
    with pytest.raises(zoo.ZooError, match="No model file"):
        zoo.load_file(tmp_path / "absent.keras")


def test_publish_a_short_run(tmp_path, monkeypatch, mnist_dir):
    from kerasgen.training import train

    monkeypatch.setenv(zoo.ZOO_DIR_ENV, str(tmp_path / "zoo"))
    run = tmp_path / "run"
    model = train("vae_mnist", run, epochs=1, limit=200, verbose=0, command="kerasgen train vae_mnist")
    folder = zoo.publish(run, quick=True)
    entry = zoo.load_entry("vae_mnist")
    assert entry["sha256"][zoo.WEIGHTS_FILE] == zoo.sha256(folder / zoo.WEIGHTS_FILE)
    card = (folder / "card.md").read_text()
    assert "kerasgen train vae_mnist" in card and "negative_elbo_nats" in card
    loaded = zoo.load("vae_mnist")
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    np.testing.assert_array_equal(loaded(images), model(images))
    # The card is re-rendered from the same run and metrics; no checksummed file is touched.
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "card.md"}
    (folder / "card.md").write_text("stale")
    assert cli.main(["zoo", "card", str(run)]) == 0
    assert (folder / "card.md").read_text() == card
    assert files == {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "card.md"}
    other = tmp_path / "other"
    train("vae_mnist", other, epochs=1, limit=50, verbose=0, command="kerasgen train vae_mnist --limit 50")
    with pytest.raises(zoo.ZooError, match="give the run folder the entry was published from"):
        zoo.refresh_card(other)


def test_publish_refuses_unfinished_runs(tmp_path):
    with pytest.raises(zoo.ZooError, match="not a `kerasgen train` run"):
        zoo.publish(tmp_path)
