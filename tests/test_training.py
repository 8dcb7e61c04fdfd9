"""``kerasgen train`` internals: resumable runs that lose nothing."""

import json

import pytest

from kerasgen.training import train


@pytest.fixture(scope="module")
def short_run(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("run")
    train("vae_mnist", out, epochs=2, limit=300, verbose=0, command="test")
    return out


def test_run_writes_model_state_and_backup(short_run):
    state = json.loads((short_run / "train_state.json").read_text())
    assert state["completed"] and state["epochs_done"] == 2 and len(state["history"]) == 2
    assert state["wall_seconds"] > 0 and state["best_epoch"] in (1, 2)
    assert (short_run / "model.keras").is_file() and (short_run / "best.weights.h5").is_file()
    assert (short_run / "backup").is_dir()


def test_rerun_continues_from_the_last_epoch(short_run):
    before = json.loads((short_run / "train_state.json").read_text())
    train("vae_mnist", short_run, epochs=3, limit=300, verbose=0, command="test")
    after = json.loads((short_run / "train_state.json").read_text())
    assert [h["epoch"] for h in after["history"]] == [1, 2, 3]
    assert after["wall_seconds"] > before["wall_seconds"]
    # A fresh start would begin near the untrained loss (about 540 nats); a resumed one carries on.
    assert after["history"][2]["loss"] < before["history"][0]["loss"]
    assert after["history"][2]["loss"] < 1.1 * before["history"][1]["loss"]


def test_rerun_of_a_finished_run_trains_nothing(short_run):
    before = json.loads((short_run / "train_state.json").read_text())
    train("vae_mnist", short_run, epochs=before["epochs_done"], limit=300, verbose=0, command="test")
    after = json.loads((short_run / "train_state.json").read_text())
    assert after["history"] == before["history"]


def test_mismatched_runs_are_refused(short_run):
    with pytest.raises(ValueError, match="holds a run of 'vae_mnist'"):
        train("cvae_mnist", short_run, epochs=1, limit=300, verbose=0)
    with pytest.raises(ValueError, match="batch size"):
        train("vae_mnist", short_run, epochs=1, batch_size=50, limit=300, verbose=0)


def test_killed_training_resumes_from_its_last_epoch(tmp_path, mnist_dir):
    """Kill ``kerasgen train`` mid-run (SIGKILL: no clean-up at all), re-run the same command."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    command = [sys.executable, "-m", "kerasgen.cli", "train", "vae_mnist", "--out", str(out)]
    command += ["--epochs", "40", "--limit", "1000", "--verbose", "0"]
    process = subprocess.Popen(command, env=os.environ.copy())
    state_path = out / "train_state.json"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if state_path.exists() and json.loads(state_path.read_text())["epochs_done"] >= 3:
                break
            assert process.poll() is None, "training ended before it could be interrupted"
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    interrupted = json.loads(state_path.read_text())
    assert not interrupted["completed"] and 3 <= interrupted["epochs_done"] < 40

    resumed_to = interrupted["epochs_done"] + 2
    command[command.index("40")] = str(resumed_to)
    subprocess.run(command, check=True, env=os.environ.copy(), timeout=300)
    state = json.loads(state_path.read_text())
    assert state["completed"] and [h["epoch"] for h in state["history"]] == list(range(1, resumed_to + 1))
    last_before = interrupted["history"][-1]["loss"]
    assert state["history"][interrupted["epochs_done"]]["loss"] < 1.05 * last_before
