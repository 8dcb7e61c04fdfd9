"""The command line: one-line errors, zoo listing, sampling, evaluation."""

import pytest

from kerasgen.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_unknown_recipe_is_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "train", "vae_mnsit", "--out", str(tmp_path))
    assert code == 2
    assert err.strip().count("\n") == 0 and "Unknown recipe 'vae_mnsit'" in err and "vae_mnist" in err


def test_unknown_zoo_entry_is_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "sample", "nope", "--out", str(tmp_path / "x.png"))
    assert code == 2 and "Unknown zoo entry 'nope'" in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["0", "-3", "ten"])
def test_bad_numbers_are_rejected_by_the_parser(capsys, value, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["train", "vae_mnist", "--out", str(tmp_path), "--epochs", value])
    assert info.value.code == 2
    assert "positive integer" in capsys.readouterr().err


def test_zoo_list(capsys):
    code, out, _ = run(capsys, "zoo", "list")
    assert code == 0 and "vae_mnist" in out and "convvae_mnist" in out


def test_sample_writes_a_png(capsys, tmp_path):
    target = tmp_path / "grid.png"
    code, _, _ = run(capsys, "sample", "vae_mnist", "--num", "16", "--out", str(target))
    assert code == 0 and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_quick(capsys, tmp_path):
    code, out, _ = run(capsys, "evaluate", "vae_mnist", "--quick", "--out", str(tmp_path / "m.json"))
    assert code == 0 and "negative_elbo_nats" in out and (tmp_path / "m.json").exists()


def test_evaluate_a_run_folder_needs_its_state(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", str(tmp_path))
    assert code == 2 and "error" in err
