"""Shared helpers for the equivariance tests."""

import torch

from gcnn_edu.actions import act_on_feature_map, act_on_image
from gcnn_edu.groups import P4M, GroupElement

SHIFTS = [P4M.element(0, 0, 1, 0), P4M.element(0, 0, -1, 2), P4M.element(0, 1, 1, -1)]


def act(g: GroupElement, f: torch.Tensor) -> torch.Tensor:
    """L_g on an image (B, C, H, W) or a group feature map (B, C, S, H, W)."""
    return act_on_image(g, f) if f.dim() == 4 else act_on_feature_map(g, f)


def zero_border(f: torch.Tensor, border: int) -> torch.Tensor:
    """f with its outer `border` pixels set to zero, so that small shifts lose nothing."""
    out = torch.zeros_like(f)
    inner = (..., slice(border, -border), slice(border, -border))
    out[inner] = f[inner]
    return out


def equivariance_error(layer, g: GroupElement, f: torch.Tensor) -> float:
    """max |layer(L_g f) - L_g layer(f)| relative to max |layer(f)|."""
    out = layer(f)
    return ((layer(act(g, f)) - act(g, out)).abs().max() / out.abs().max()).item()
