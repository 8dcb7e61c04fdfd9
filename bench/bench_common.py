"""Pieces every benchmark in ``bench/`` shares: epoch timing, synthetic images, memory readings."""

from __future__ import annotations

import resource
import sys
import time

import keras
import numpy as np

IMAGE_SHAPE = (28, 28, 1)


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch (begin → end callbacks) and the last epoch's logs."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self.last_logs: dict[str, float] = {}
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)
        self.last_logs = {key: float(value) for key, value in (logs or {}).items()}


def make_data(examples: int, seed: int) -> np.ndarray:
    """Synthetic float32 images uniform in [0, 1], shaped ``[examples, 28, 28, 1]``."""
    return np.random.default_rng(seed).random((examples, *IMAGE_SHAPE), dtype=np.float32)


def _proc_status_mib(field: str) -> float | None:
    """``field`` (e.g. ``VmHWM``) of ``/proc/self/status`` in MiB, or None off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # reported in kB
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB.

    ``VmHWM`` where ``/proc`` exists: ``ru_maxrss`` of a child started by fork + exec also holds
    the *parent's* peak (Linux carries it over at exec), which would hide the child's own peak.
    Elsewhere ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    peak = _proc_status_mib("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


def current_rss_mib() -> float:
    """Current resident set size in MiB (``VmRSS``; the peak so far where ``/proc`` is missing)."""
    current = _proc_status_mib("VmRSS")
    return peak_rss_mib() if current is None else current


def run_marked_subprocess(command: list[str], marker: str, name: str) -> dict:
    """Run ``command`` (this script again) and parse the JSON after ``marker`` on its last such line."""
    import json
    import subprocess

    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(marker):
            return json.loads(line[len(marker) :])
    tail = completed.stderr[-3000:]
    raise RuntimeError(f"--only {name} subprocess failed (exit {completed.returncode}):\n{tail}")


def report_and_save(results: dict, started: float, json_path: str | None) -> None:
    """Add the wall time to ``results``, print it, and write ``results`` to ``json_path`` if given."""
    import json

    results["wall_s"] = time.perf_counter() - started
    print(f"total wall time {results['wall_s']:.0f} s (excluding start-up)")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
        print(f"wrote {json_path}")
