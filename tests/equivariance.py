"""Shared inputs for the equivariance tests: elements with translations, inputs with a zero border."""

import torch

from gcnn_edu.groups import P4M

SHIFTS = [P4M.element(0, 0, 1, 0), P4M.element(0, 0, -1, 2), P4M.element(0, 1, 1, -1)]


def zero_border(f: torch.Tensor, border: int) -> torch.Tensor:
    """f with its outer `border` pixels set to zero, so that small shifts lose nothing."""
    out = torch.zeros_like(f)
    inner = (..., slice(border, -border), slice(border, -border))
    out[inner] = f[inner]
    return out
