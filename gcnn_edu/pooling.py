"""Pooling on group feature maps and a batch norm that shares statistics over the group axis (Section 6).

Coset max-pooling over a subgroup H: P(f)(g) = max_{h in H} f(gh). Pooling over the rotations of p4
gives a function on p4/H = Z^2 (an ordinary image); in p4m it leaves one plane per mirror coset.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .actions import feature_map_group

SUBGROUPS = ("rotations", "stabilizer")


def coset_max_pool(f: torch.Tensor, subgroup: str = "rotations") -> torch.Tensor:
    """P(f)(g) = max_{h in H} f(gh), H = rotations (C4) or the whole stabilizer (C4 or D4).

    (B, C, S, H, W) -> (B, C, H, W) for p4, or for p4m pooled over the stabilizer;
    (B, C, 8, H, W) -> (B, C, 2, H, W) for p4m pooled over the rotations (one plane per mirror m).
    """
    if subgroup not in SUBGROUPS:
        raise ValueError(f"subgroup must be one of {SUBGROUPS}, got {subgroup!r}")
    group = feature_map_group(f)
    if f.dim() != 5:
        raise ValueError(f"coset_max_pool: expected (B, C, S, H, W), got {tuple(f.shape)}")
    if subgroup == "stabilizer" or not group.has_mirrors:
        return f.max(dim=2).values
    return f.unflatten(2, (2, 4)).max(dim=3).values  # s = 4 m + r: the coset of M^m is {M^m R^r}


def check_pool_grid(side: int, kernel_size: int, stride: int) -> None:
    """Raise unless the pooling windows tile the side symmetrically about the centre."""
    if side < kernel_size or (side - kernel_size) % stride:
        raise ValueError(
            f"a {kernel_size}x{kernel_size} pool with stride {stride} on a side of {side} pixels "
            f"needs (side - kernel_size) divisible by the stride, else its windows are not placed "
            f"symmetrically about the centre and rotating the input does not rotate the output"
        )


def spatial_max_pool(f: torch.Tensor, kernel_size: int = 2, stride: int | None = None) -> torch.Tensor:
    """Max over k x k windows of every plane of an image (B, C, H, W) or a map (B, C, S, H, W)."""
    stride = kernel_size if stride is None else stride
    if f.dim() not in (4, 5) or f.shape[-1] != f.shape[-2]:
        raise ValueError(f"spatial_max_pool: expected (B, C, H, W) or (B, C, S, H, W) with H == W, "
                         f"got {tuple(f.shape)}")
    check_pool_grid(f.shape[-1], kernel_size, stride)
    pooled = F.max_pool2d(f.flatten(1, -3), kernel_size, stride)
    return pooled.unflatten(1, f.shape[1:-2])


def spatial_avg_pool(f: torch.Tensor, kernel_size: int = 2) -> torch.Tensor:
    """Mean over k x k windows (stride k) of every plane; raises when the windows are off-centre."""
    if f.dim() not in (4, 5) or f.shape[-1] != f.shape[-2]:
        raise ValueError(f"spatial_avg_pool: expected (B, C, H, W) or (B, C, S, H, W) with H == W, "
                         f"got {tuple(f.shape)}")
    check_pool_grid(f.shape[-1], kernel_size, kernel_size)
    pooled = F.avg_pool2d(f.flatten(1, -3), kernel_size)
    return pooled.unflatten(1, f.shape[1:-2])


class GroupBatchNorm(nn.BatchNorm3d):
    """Batch norm of a map (B, C, S, H, W) with one mean and variance per channel, shared over S."""

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        if f.dim() != 5 or f.shape[1] != self.num_features:
            raise ValueError(f"GroupBatchNorm: expected (B, {self.num_features}, S, H, W), "
                             f"got {tuple(f.shape)}")
        return super().forward(f)
