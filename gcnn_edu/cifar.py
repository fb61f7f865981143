"""CIFAR-10 for Table 2 (Section 8.2): torchvision's CIFAR10, the CIFAR-10+ augmentation, FakeData.

CIFAR-10 (Krizhevsky, 2009) has 50,000 training and 10,000 test images of 32x32x3 in 10 classes.
CIFAR-10+ adds the usual augmentation: random horizontal flips and translations by up to 4 pixels.
`fake` is torchvision's FakeData of the same shape, for tests and for machines without the data.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .data import DataError, data_dir

SPLITS = ("train", "test")
FAKE_SIZES = {"train": 64, "test": 32}


class ImageTensors(Dataset):
    """Images (N, 3, H, W) normalised per colour channel (one mean and std over all pixels), and labels."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, mean: torch.Tensor,
                 std: torch.Tensor) -> None:
        if images.dim() != 4 or images.shape[1] != 3 or len(images) != len(labels):
            raise DataError(f"expected images (N, 3, H, W) and N labels, got {tuple(images.shape)} and "
                            f"{tuple(labels.shape)}")
        self.images = (images - mean[:, None, None]) / std[:, None, None]
        self.labels = labels.long()
        self.mean, self.std = mean, std

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.images[i], int(self.labels[i])


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) in [0, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0


def _load_cifar10() -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], str]:
    """CIFAR-10 through torchvision (downloaded and MD5-checked where the network allows)."""
    from torchvision.datasets import CIFAR10

    root = data_dir() / "cifar10"
    try:
        parts = {split: CIFAR10(str(root), train=split == "train", download=True)
                 for split in ("train", "test")}
    except (OSError, RuntimeError) as err:
        raise DataError(f"CIFAR-10 could not be downloaded ({err.__class__.__name__}: {err}); put "
                        f"cifar-10-python.tar.gz in {root} and run again") from err
    return ({split: (_to_tensor(p.data), torch.tensor(p.targets)) for split, p in parts.items()},
            "CIFAR-10 (torchvision)")


def _load_fake(seed: int = 0) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], str]:
    """torchvision's FakeData: random 3x32x32 images with random labels."""
    from torchvision.datasets import FakeData
    from torchvision.transforms.functional import pil_to_tensor

    splits = {}
    for offset, (split, size) in enumerate(FAKE_SIZES.items()):
        fake = FakeData(size=size, image_size=(3, 32, 32), num_classes=10, random_offset=seed + offset)
        pairs = [fake[i] for i in range(size)]
        splits[split] = (torch.stack([pil_to_tensor(image) for image, _ in pairs]).float() / 255.0,
                         torch.tensor([int(label) for _, label in pairs]))
    return splits, "FakeData (torchvision), 3x32x32"


def cifar10_splits(splits: tuple[str, ...] = SPLITS, fake: bool = False,
                   ) -> tuple[dict[str, ImageTensors], str]:
    """Splits of CIFAR-10 (or FakeData in its shape), normalised per colour channel by the training images."""
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise ValueError(f"CIFAR-10 has the splits {SPLITS}, got {unknown}")
    raw, source = _load_fake() if fake else _load_cifar10()
    train_images = raw["train"][0]
    mean, std = train_images.mean(dim=(0, 2, 3)), train_images.std(dim=(0, 2, 3))
    return {split: ImageTensors(*raw[split], mean, std) for split in splits}, source


def flip_and_translate(x: torch.Tensor, generator: torch.Generator, shift: int = 4) -> torch.Tensor:
    """CIFAR-10+ augmentation of a batch: random horizontal flips, random translations by <= shift."""
    n, _, h, w = x.shape
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip.to(x.device)[:, None, None, None], x.flip(-1), x)
    padded = torch.nn.functional.pad(x, [shift] * 4)
    dy, dx = (torch.randint(0, 2 * shift + 1, (2, n), generator=generator)).tolist()
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
