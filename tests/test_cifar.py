"""The CIFAR-10 path of Table 2: data, augmentation, a short FakeData run, data-parallel on 2 CPUs."""

import os
import subprocess
import sys

import pytest
import torch

from gcnn_edu import cifar
from gcnn_edu.cifar import cifar10_splits, flip_and_translate
from gcnn_edu.data import DataError
from gcnn_edu.runs import read_results
from gcnn_edu.train import Config, run


def test_fake_data_is_normalised_per_colour_channel():
    data, source = cifar10_splits(fake=True)
    train = data["train"]
    assert "FakeData" in source and train.images.shape == (64, 3, 32, 32)
    torch.testing.assert_close(train.images.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4, rtol=0)
    assert data["test"].mean is train.mean


def test_augmentation_flips_and_shifts_within_4_pixels():
    x = torch.zeros(64, 3, 32, 32)
    x[:, :, 10, 20] = 1.0
    out = flip_and_translate(x, torch.Generator().manual_seed(0))
    where = out[:, 0].flatten(1).argmax(1)
    rows, cols = where // 32, where % 32
    assert out.shape == x.shape and (out.flatten(1).sum(1) == 3).all()
    assert ((rows - 10).abs() <= 4).all()
    flipped = (cols - 11).abs() <= 4  # column 20 mirrors to 11
    assert flipped.any() and (~flipped).any() and (flipped | ((cols - 20).abs() <= 4)).all()


def test_cifar10_without_a_network_says_where_to_put_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("GCNN_EDU_DATA", str(tmp_path))

    def offline(*args, **kwargs):
        raise RuntimeError("no network")

    monkeypatch.setattr("torchvision.datasets.CIFAR10", offline)
    with pytest.raises(DataError, match=f"put cifar-10-python.tar.gz in {tmp_path / 'cifar10'}"):
        cifar.cifar10_splits()


def test_cifar10_has_no_validation_split():
    with pytest.raises(ValueError, match=r"CIFAR-10 has the splits \('train', 'test'\), got \['valid'\]"):
        cifar10_splits(("train", "valid"), fake=True)


def test_a_short_fake_data_run(tmp_path):
    config = Config(model="allcnnc", group="p4m", data="fake", epochs=1, batch_size=32, device="cpu")
    r = run(config, tmp_path, progress=False)
    assert r == read_results(tmp_path) and r["train_images"] == 64 and r["test_images"] == 32
    assert r["params"] == 1_219_252 and r["group"] == "p4m" and r["rotation_disagreements"] == 0
    assert r["mixed_precision"] is None and r["world_size"] == 1


@pytest.mark.parametrize("args, message", [
    (["--model", "p4cnn", "--data", "fake"], "--model p4cnn needs --data in ('sample', 'rotmnist')"),
    (["--model", "p4cnn", "--group", "p4m"], "--group applies to allcnnc and resnet44"),
    (["--model", "resnet44", "--dropout", "0.3"], "--dropout applies to the Table 1 networks"),
    (["--model", "allcnnc", "--data", "sample"], "--model allcnnc needs --data in ('cifar10', 'cifar10+',"),
    (["--model", "allcnnc", "--data", "fake", "--select-on-valid"], "--select-on-valid is for rotated MNIST"),
])
def test_mismatched_options_are_refused(tmp_path, train_cli, args, message):
    code, _, err = train_cli(*args, "--out", str(tmp_path))
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.slow
def test_data_parallel_on_two_cpu_processes(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                    "-m", "gcnn_edu.train", "--device", "cpu", "--model", "allcnnc", "--group", "p4m",
                    "--data", "fake", "--epochs", "1", "--batch-size", "32", "--out", str(tmp_path)],
                   check=True, capture_output=True, env=env)
    r = read_results(tmp_path)
    assert r["world_size"] == 2 and r["replicas_in_sync"] is True
    assert len((tmp_path / "log.txt").read_text().splitlines()) == 1  # only process 0 writes
