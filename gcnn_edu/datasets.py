"""The --data names of training (Section 8): each one's loader, table and augmentation, in one place."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .cifar import ImageTensors, cifar10_splits, flip_and_translate
from .data import RotatedDigits, rotated_mnist_splits

Images = RotatedDigits | ImageTensors
Augmentation = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class DataSource:
    """What a --data name stands for: load(splits) -> ({split: dataset}, source) for Table `table`."""

    table: int  # 1: rotated MNIST (Section 8.1), 2: CIFAR-10 (Section 8.2)
    load: Callable[[tuple[str, ...]], tuple[dict[str, Images], str]]
    augment: Augmentation | None = None


DATA_SOURCES = {
    "sample": DataSource(1, functools.partial(rotated_mnist_splits, kind="sample")),
    "rotmnist": DataSource(1, functools.partial(rotated_mnist_splits, kind="rotmnist")),
    "cifar10": DataSource(2, cifar10_splits),
    "cifar10+": DataSource(2, cifar10_splits, augment=flip_and_translate),
    "fake": DataSource(2, functools.partial(cifar10_splits, fake=True)),
}
DEFAULT_DATA = {1: "sample", 2: "cifar10"}  # Table -> the --data name used when none is given


def data_source(name: str) -> DataSource:
    """The loader, table and augmentation of a --data name; a ValueError names the known ones."""
    if name not in DATA_SOURCES:
        raise ValueError(f"--data must be one of {tuple(DATA_SOURCES)}, got {name!r}")
    return DATA_SOURCES[name]


def data_names(table: int) -> tuple[str, ...]:
    """The --data names that feed the networks of Table `table` (1 or 2)."""
    return tuple(name for name, source in DATA_SOURCES.items() if source.table == table)
