"""Shared fixtures; figures drawn off-screen (without MPLBACKEND, which nbval's kernels would inherit)."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib
import pytest
import torch

from gcnn_edu.data import RotatedDigits, rotated_mnist

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def cpu() -> torch.device:
    return torch.device("cpu")


@pytest.fixture(scope="session")
def sample_train() -> RotatedDigits:
    """The bundled sample's 2,000 train digits."""
    return rotated_mnist("train")


@pytest.fixture(scope="session")
def sample_test() -> RotatedDigits:
    """The bundled sample's 1,000 test digits."""
    return rotated_mnist("test")


@pytest.fixture
def train_cli(capsys) -> Callable[..., tuple[int, str, str]]:
    """`python -m gcnn_edu.train --device cpu ARGS` in this process: (exit code, stdout, stderr)."""
    from gcnn_edu.train import main

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(["--device", "cpu", *args])
        except SystemExit as stop:  # argparse's errors
            code = stop.code
        out, err = capsys.readouterr()
        return code, out, err

    return call
