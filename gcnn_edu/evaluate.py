"""Evaluation of a trained network (Section 8): predictions, error, batch-norm statistics, invariance."""

from __future__ import annotations

import torch
from torch import nn

from .data import RotatedDigits, rotate_normalized
from .datasets import Images


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 500,
            ) -> torch.Tensor:
    """Predicted classes for images (N, C, H, W), in eval mode."""
    model.eval()
    return torch.cat([model(images[i:i + batch_size].to(device)).argmax(1).cpu()
                      for i in range(0, len(images), batch_size)])


def error_rate(model: nn.Module, data: Images, device: torch.device) -> float:
    """Fraction of misclassified images: the test error of Tables 1 and 2."""
    return (predict(model, data.images, device) != data.labels).float().mean().item()


@torch.no_grad()
def recompute_batch_norm(model: nn.Module, data: Images, device: torch.device, batch_size: int = 500,
                         ) -> None:
    """Replace running batch-norm statistics by their exact average over `data` (dropout off)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    model.eval()
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None  # a cumulative average over the batches below
        bn.train()
    for i in range(0, len(data), batch_size):
        model(data.images[i:i + batch_size].to(device))
    for bn in norms:
        bn.momentum = 0.1
    model.eval()


def invariance_disagreements(model: nn.Module, data: Images, device: torch.device) -> int:
    """How many images get another class when turned by 90, 180 or 270 degrees (0 for a p4-invariant net)."""
    base = predict(model, data.images, device)
    return int(sum((predict(model, torch.rot90(data.images, r, dims=(-2, -1)), device) != base).sum()
                   for r in (1, 2, 3)))


def accuracy_vs_angle(model: nn.Module, data: RotatedDigits, angles: list[float], device: torch.device,
                      limit: int | None = None) -> list[float]:
    """Accuracy on the first `limit` digits (all by default) turned by each angle (degrees) in turn.

    Quarter turns are exact, so a p4-invariant network's curve repeats every 90 degrees exactly.
    """
    images, labels = data.images[:limit], data.labels[:limit]
    return [(predict(model, rotate_normalized(images, a, data.mean, data.std), device) == labels)
            .float().mean().item() for a in angles]
