"""Training: determinism, resume after a kill, one-line errors, batch-norm recompute, the run files."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from gcnn_edu import check_equivariance
from gcnn_edu.actions import act_on_image
from gcnn_edu.evaluate import error_rate, invariance_disagreements, predict, recompute_batch_norm
from gcnn_edu.groups import C8
from gcnn_edu.models import P4CNN, Z2CNN
from gcnn_edu.runs import load_trained, print_table, read_results
from gcnn_edu.train import Config, default_epochs, parse_args, run

TRAIN_COMMAND = [sys.executable, "-m", "gcnn_edu.train", "--device", "cpu"]
Z2_ONE_EPOCH = Config(model="z2cnn", epochs=1, device="cpu")


def weights(folder) -> dict:
    return torch.load(folder / "model.pt", weights_only=True)


def test_same_seed_same_results(tmp_path):
    config = Config(model="p4cnn", epochs=1, seed=3, device="cpu")
    a, b = (run(config, tmp_path / name, progress=False) for name in ("a", "b"))
    assert a["test_error"] == b["test_error"] and a["history"] == b["history"]
    assert a["params"] == 24620 and a["rotation_disagreements"] == 0
    assert {"model", "params", "seed", "epochs", "train_time_s", "test_error", "device",
            "versions"} <= a.keys()
    assert read_results(tmp_path / "a") == json.loads(json.dumps(a))
    wa, wb = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_run_records_its_cpu_thread_count(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = run(Z2_ONE_EPOCH, tmp_path, progress=False)
    finally:
        torch.set_num_threads(threads)
    assert results["cpu_threads"] == 1


def test_rotation_augmentation_changes_training_but_not_the_test_protocol(tmp_path):
    plain = run(Z2_ONE_EPOCH, tmp_path / "plain", progress=False)
    turned = run(dataclasses.replace(Z2_ONE_EPOCH, augment_rotations=True), tmp_path / "turned",
                 progress=False)
    assert turned["config"]["augment_rotations"] and not plain["config"]["augment_rotations"]
    assert turned["history"][0]["loss"] != plain["history"][0]["loss"]
    assert turned["test_images"] == plain["test_images"] == 1000


def test_a_selection_run_never_evaluates_the_test_digits(tmp_path):
    config = Config(model="z2cnn", data="sample", epochs=1, select_on_valid=True, evaluate_test=False,
                    device="cpu")
    results = run(config, tmp_path, progress=False)
    assert results["test_error"] is None and results["best_valid_error"] is not None
    assert "rotation_disagreements" not in results
    assert results["train_images"] == 2000 and "valid_error" in results["history"][0]


def test_a_finished_run_loads_back_with_its_test_error(tmp_path, sample_test, cpu, capsys):
    results = run(Z2_ONE_EPOCH, tmp_path, progress=False)
    model, loaded = load_trained(tmp_path)
    assert loaded == read_results(tmp_path) and not model.training
    assert error_rate(model, sample_test, cpu) == results["test_error"]
    capsys.readouterr()
    print_table([tmp_path])
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["model", "params", "epochs", "train", "time", "test", "error"]
    assert table[1].split()[:3] == ["z2cnn", "21630", "1"]
    assert table[1].endswith(f"{100 * results['test_error']:.2f}%")


def test_the_command_line_trains_and_reports(tmp_path):
    """The one test of `python -m gcnn_edu.train` as a command; the others call it in this process."""
    result = subprocess.run([*TRAIN_COMMAND, "--model", "z2cnn", "--epochs", "1", "--out", str(tmp_path)],
                            capture_output=True, text=True, check=True)
    r = read_results(tmp_path)
    assert result.stdout.splitlines()[-1].startswith(
        f"z2cnn: test error {100 * r['test_error']:.2f}% on 1000 test images after 1 epochs")
    assert (tmp_path / "log.txt").read_text().startswith("epoch=1 ")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "checkpoint.pt", "log.txt", "model.pt",
                                                          "results.json"]


@pytest.mark.slow
def test_resume_after_a_kill_reaches_the_same_weights(tmp_path):
    args = ["--model", "z2cnn", "--epochs", "3", "--seed", "1", "--schedule", "cosine"]
    config, *_ = parse_args([*args, "--device", "cpu"])
    run(config, tmp_path / "whole", progress=False)

    out = tmp_path / "killed"
    proc = subprocess.Popen([*TRAIN_COMMAND, *args, "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    saved = torch.load(out / "checkpoint.pt", weights_only=True)
    assert saved["state"]["epoch"] < 3 and not (out / "results.json").exists()

    run(config, out, resume=True, progress=False)
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []  # a kill's leftovers, removed
    whole, resumed = weights(tmp_path / "whole"), weights(out)
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    log = (out / "log.txt").read_text().splitlines()
    assert [line.split()[0] for line in log] == ["epoch=1", "epoch=2", "epoch=3"]


def test_resume_refuses_another_configuration(tmp_path, train_cli):
    run(Z2_ONE_EPOCH, tmp_path, progress=False)
    code, _, err = train_cli("--model", "z2cnn", "--epochs", "1", "--lr", "0.01", "--out", str(tmp_path),
                             "--resume")
    assert code == 2 and "another configuration" in err


@pytest.mark.parametrize("args, message", [
    (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--lr", "-1"], "--lr must be positive"),
    (["--data", "rotmnist"], "no rotated MNIST in"),
    (["--data", "mnist"], "argument --data: invalid choice: 'mnist'"),
    (["--model", "allcnnc", "--data", "fake", "--augment-rotations"], "--augment-rotations is for rotated"),
])
def test_bad_input_gives_one_line_and_exit_code_2(tmp_path, monkeypatch, train_cli, args, message):
    monkeypatch.setenv("GCNN_EDU_DATA", str(tmp_path / "empty"))
    code, _, err = train_cli(*args, "--out", str(tmp_path / "out"))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err
    assert "Traceback" not in err


def test_an_unwritable_output_folder_is_named(tmp_path, train_cli):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = train_cli("--out", str(blocker / "run"))
    assert code == 2
    assert err.startswith(f"error: cannot write to the output folder {blocker / 'run'}")
    assert len(err.strip().splitlines()) == 1


def test_the_defaults_follow_the_original_experiment_code():
    models = ("z2cnn", "p4cnn", "p4cnn_rotpool", "p8cnn", "allcnnc")
    assert [default_epochs(m) for m in models] == [300, 100, 100, 100, 300]
    config, out, resume, overwrite = parse_args(["--model", "allcnnc", "--group", "p4m"])
    assert (config.data, config.epochs, str(out), resume, overwrite) == (
        "cifar10", 300, "runs/allcnnc-p4m-seed0", False, False)
    assert parse_args([])[0].data == "sample"


def test_recompute_batch_norm_gives_the_exact_training_statistics(sample_train, cpu):
    torch.manual_seed(0)
    model = Z2CNN()
    recompute_batch_norm(model, sample_train, cpu)
    first = model.blocks[0]
    with torch.no_grad():
        activations = first[0](sample_train.images)
    torch.testing.assert_close(first[1].running_mean, activations.mean(dim=(0, 2, 3)))
    assert not model.training


@pytest.mark.parametrize("model_type, invariant", [(P4CNN, True), (Z2CNN, False)])
def test_invariance_check_counts_disagreements(model_type, invariant, sample_train, sample_test, cpu):
    torch.manual_seed(0)
    model = model_type()
    recompute_batch_norm(model, sample_train, cpu)  # real statistics: varied predictions
    assert predict(model, sample_test.images, cpu).unique().numel() > 5
    assert (invariance_disagreements(model, sample_test, cpu) == 0) == invariant


def test_p8cnn_trains_from_the_command_line_and_stays_exactly_invariant_to_quarter_turns(
        tmp_path, train_cli, sample_test, cpu):
    """C8 end to end. At 45 degrees it is only approximately invariant: measured here after 5 epochs on
    the sample, about 0.5 relative logit error and 5-10% of the test digits changing class (P4CNN,
    not built for 45 degrees, the same or worse)."""
    code, out, err = train_cli("--model", "p8cnn", "--epochs", "5", "--out", str(tmp_path))
    assert code == 0, err
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["rotation_disagreements"] == 0 and results["params"] == 26757
    model, _ = load_trained(tmp_path)
    r = C8.element(1)
    errors = check_equivariance(model, C8, sample_test.images)
    assert max(e for g, e in errors.items() if g.degrees % 90 == 0) < 1e-5
    assert 0.05 < errors[r] < 0.8
    changed = (predict(model, act_on_image(r, sample_test.images), cpu)
               != predict(model, sample_test.images, cpu)).float().mean().item()
    assert 0 < changed < 0.2
