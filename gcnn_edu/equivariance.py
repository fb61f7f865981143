"""Measure equivariance: how far module(L_g x) is from L_g module(x), for every g asked (Section 5)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from .actions import act
from .groups import Group, GroupElement, get_group


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b| (the absolute error when b is all zeros)."""
    scale = b.abs().max().item()
    diff = (a - b).abs().max().item()
    return diff / scale if scale > 0 else diff


def check_equivariance(
    module: Callable[[torch.Tensor], torch.Tensor], group: str | Group, x: torch.Tensor,
    elements: Iterable[GroupElement] | None = None, out_group: str | Group | None = None,
) -> dict[GroupElement, float]:
    """Relative error of module(L_g x) against L_g module(x) for each g (default: the stabilizer).

    x is an image (B, C, H, W) or a feature map (B, C, S, H, W) on `group`; the output is acted on
    as an image, as a feature map on `out_group` (default `group`), or, for class scores (B, K),
    not at all (invariance). Run it in eval mode: dropout would make the two sides differ.
    """
    group = get_group(group)
    out_group = group if out_group is None else get_group(out_group)
    elements = group.stabilizer() if elements is None else list(elements)
    with torch.no_grad():
        y = module(x)
        return {g: relative_error(module(act(g, x, group)), _act_on_output(g, y, out_group))
                for g in elements}


def _act_on_output(g: GroupElement, y: torch.Tensor, group: Group) -> torch.Tensor:
    """L_g y for an output: class scores (B, K) do not move; images and feature maps do."""
    if y.dim() == 2:
        return y
    if y.dim() not in (4, 5):
        raise ValueError(f"check_equivariance: expected an output (B, K), (B, C, H, W) or (B, C, S, H, W), "
                         f"got {tuple(y.shape)}")
    return act(g, y, group)
