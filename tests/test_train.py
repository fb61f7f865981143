"""The training command: determinism, resume after a kill, one-line errors, batch-norm recompute."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from gcnn_edu.data import rotated_mnist
from gcnn_edu.models import P4CNN, Z2CNN
from gcnn_edu.train import Config, invariance_disagreements, predict, recompute_batch_norm, run

TRAIN = [sys.executable, "-m", "gcnn_edu.train", "--device", "cpu"]


def train(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*TRAIN, *args], capture_output=True, text=True, check=check)


def weights(folder) -> dict:
    return torch.load(folder / "model.pt", weights_only=True)


def test_same_seed_same_results(tmp_path):
    for name in ("a", "b"):
        train("--model", "p4cnn", "--epochs", "1", "--seed", "3", "--out", str(tmp_path / name))
    a, b = (json.loads((tmp_path / n / "results.json").read_text()) for n in ("a", "b"))
    assert a["test_error"] == b["test_error"] and a["history"] == b["history"]
    assert a["params"] == 24620 and a["rotation_disagreements"] == 0
    assert {"model", "params", "seed", "epochs", "train_time_s", "test_error", "device",
            "versions"} <= a.keys()
    wa, wb = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_run_records_its_cpu_thread_count(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([*TRAIN, "--model", "z2cnn", "--epochs", "1", "--out", str(tmp_path)], env=env, check=True,
                   capture_output=True)
    assert json.loads((tmp_path / "results.json").read_text())["cpu_threads"] == 1


def test_rotation_augmentation_changes_training_but_not_the_test_protocol(tmp_path):
    train("--model", "z2cnn", "--epochs", "1", "--out", str(tmp_path / "plain"))
    train("--model", "z2cnn", "--epochs", "1", "--augment-rotations", "--out", str(tmp_path / "turned"))
    plain, turned = (json.loads((tmp_path / n / "results.json").read_text()) for n in ("plain", "turned"))
    assert turned["config"]["augment_rotations"] and not plain["config"]["augment_rotations"]
    assert turned["history"][0]["loss"] != plain["history"][0]["loss"]
    assert turned["test_images"] == plain["test_images"] == 1000


def test_a_selection_run_never_evaluates_the_test_digits(tmp_path):
    config = Config(model="z2cnn", data="sample", epochs=1, select_on_valid=True, evaluate_test=False,
                    device="cpu")
    results = run(config, tmp_path, progress=False)
    assert results["test_error"] is None and results["best_valid_error"] is not None
    assert "rotation_disagreements" not in results


def test_resume_after_a_kill_reaches_the_same_weights(tmp_path):
    args = ["--model", "z2cnn", "--epochs", "3", "--seed", "1", "--schedule", "cosine"]
    train(*args, "--out", str(tmp_path / "whole"))

    out = tmp_path / "killed"
    proc = subprocess.Popen([*TRAIN, *args, "--out", str(out)], stdout=subprocess.DEVNULL,
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

    train(*args, "--out", str(out), "--resume")
    whole, resumed = weights(tmp_path / "whole"), weights(out)
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    log = (out / "log.txt").read_text().splitlines()
    assert [line.split()[0] for line in log][-1] == "epoch=3"


def test_resume_refuses_another_configuration(tmp_path):
    train("--model", "z2cnn", "--epochs", "1", "--out", str(tmp_path))
    result = train("--model", "z2cnn", "--epochs", "1", "--lr", "0.01", "--out", str(tmp_path),
                   "--resume", check=False)
    assert result.returncode == 2 and "another configuration" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--lr", "-1"], "--lr must be positive"),
    (["--data", "rotmnist"], "no rotated MNIST in"),
    (["--model", "allcnnc", "--data", "fake", "--augment-rotations"], "--augment-rotations is for rotated"),
])
def test_bad_input_gives_one_line_and_exit_code_2(tmp_path, args, message):
    env = {**os.environ, "GCNN_EDU_DATA": str(tmp_path / "empty")}
    result = subprocess.run([*TRAIN, *args, "--out", str(tmp_path / "out")], capture_output=True,
                            text=True, env=env)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unwritable_output_folder_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = train("--out", str(blocker / "run"), check=False)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot write to the output folder {blocker / 'run'}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_recompute_batch_norm_gives_the_exact_training_statistics():
    torch.manual_seed(0)
    model = Z2CNN()
    data = rotated_mnist("train")
    recompute_batch_norm(model, data, torch.device("cpu"))
    first = model.blocks[0]
    with torch.no_grad():
        activations = first[0](data.images)
    torch.testing.assert_close(first[1].running_mean, activations.mean(dim=(0, 2, 3)))
    assert not model.training


@pytest.mark.parametrize("model_type, invariant", [(P4CNN, True), (Z2CNN, False)])
def test_invariance_check_counts_disagreements(model_type, invariant):
    torch.manual_seed(0)
    model, cpu = model_type(), torch.device("cpu")
    recompute_batch_norm(model, rotated_mnist("train"), cpu)  # real statistics: varied predictions
    data = rotated_mnist("test")
    assert predict(model, data.images, cpu).unique().numel() > 5
    assert (invariance_disagreements(model, data, cpu) == 0) == invariant
