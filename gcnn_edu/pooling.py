"""Pooling on group feature maps and a batch norm that shares statistics over the group axis (Section 6).

Coset max-pooling over a subgroup H: P(f)(g) = max_{h in H} f(gh), constant on each coset gH. Pooling
over the rotations of p4 (or C8) gives a function on G/H = Z^2 (an ordinary image); in p4m it leaves
a function on p4m/C4 = Z^2 x {e, m}: one plane per coset {R^r} and {M R^r} of the rotations in D4.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .groups import Group, get_group


def check_feature_map(f: torch.Tensor, group: Group, what: str) -> None:
    """Raise a ValueError unless f is a feature map (B, C, S, H, W) on `group`."""
    if f.dim() != 5 or f.shape[2] != group.order:
        raise ValueError(f"{what}: expected a feature map (B, C, {group.order}, H, W) on {group.name}, "
                         f"got {tuple(f.shape)}")


def coset_max_pool(f: torch.Tensor, group: str | Group, subgroup: str = "rotations") -> torch.Tensor:
    """P(f)(g) = max_{h in H} f(gh), H = the 'rotations' or the whole 'stabilizer' of `group`.

    (B, C, S, H, W) -> (B, C, H, W) when H has a single coset (p4, C8, or p4m over its stabilizer);
    (B, C, 8, H, W) -> (B, C, 2, H, W) for p4m over the rotations (cosets {R^r} and {M R^r}).
    """
    group = get_group(group)
    check_feature_map(f, group, "coset_max_pool")
    cosets = group.cosets(subgroup)  # contiguous blocks of planes, since s = n m + r
    pooled = f.unflatten(2, (len(cosets), len(cosets[0]))).max(dim=3).values
    return pooled[:, :, 0] if len(cosets) == 1 else pooled


def check_pool_grid(side: int, kernel_size: int, stride: int) -> None:
    """Raise unless the pooling windows tile the side symmetrically about the centre."""
    if not all(isinstance(n, int) and n >= 1 for n in (kernel_size, stride)):
        raise ValueError(f"a pool needs a positive int kernel_size and stride, got {kernel_size!r}, "
                         f"{stride!r}")
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

    def __init__(self, num_features: int, group: str | Group) -> None:
        super().__init__(num_features)
        self.group = get_group(group)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        if f.dim() != 5 or f.shape[1] != self.num_features or f.shape[2] != self.group.order:
            raise ValueError(f"GroupBatchNorm: expected (B, {self.num_features}, {self.group.order}, H, W) "
                             f"on {self.group.name}, got {tuple(f.shape)}")
        return super().forward(f)
