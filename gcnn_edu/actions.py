"""The action L_g f(x) = f(g^-1 x) of a group on images, on group feature maps and on filters (Section 4).

Pixel (i, j) of an H x W image is the point x = (u, v) = (j - (W-1)/2, (H-1)/2 - i): u to the right,
v up, origin at the centre. Quarter turns and the mirror are exact pixel permutations (rot90 and
flip); a rotation by another angle (C8's 45 degrees) interpolates (gcnn_edu.rotation); translations
shift by whole pixels and fill with zeros.
"""

from __future__ import annotations

import torch

from .groups import Group, GroupElement
from .rotation import rotate


def _check_square(f: torch.Tensor, min_rank: int, what: str) -> None:
    """Raise a ValueError unless f has at least `min_rank` dims and a square (H, W) plane."""
    if not isinstance(f, torch.Tensor):
        raise TypeError(f"{what}: expected a torch.Tensor, got {type(f).__name__}")
    if f.dim() < min_rank or f.shape[-1] != f.shape[-2]:
        raise ValueError(
            f"{what}: expected a tensor of shape {'(..., S, H, W)' if min_rank == 3 else '(..., H, W)'}"
            f" with H == W, got shape {tuple(f.shape)}"
        )


def shift(f: torch.Tensor, u: int, v: int) -> torch.Tensor:
    """L_t f for the translation t = (u, v): move the content u pixels right and v pixels up."""
    height, width = f.shape[-2], f.shape[-1]
    out = torch.zeros_like(f)
    rows_src = slice(max(v, 0), height + min(v, 0))  # a point moves from row i to row i - v
    rows_dst = slice(max(-v, 0), height - max(v, 0))
    cols_src = slice(max(-u, 0), width - max(u, 0))  # and from column j to column j + u
    cols_dst = slice(max(u, 0), width + min(u, 0))
    if rows_src.start < rows_src.stop and cols_src.start < cols_src.stop:
        out[..., rows_dst, cols_dst] = f[..., rows_src, cols_src]
    return out


def act_on_plane(g: GroupElement, f: torch.Tensor) -> torch.Tensor:
    """L_g f = L_t L_M^m L_R^r f on the last two (spatial) axes, for g = t(u, v) M^m R^r."""
    quarters, rest = divmod(g.degrees, 90.0)
    out = rotate(f, rest) if rest else f  # C8's 45 degrees: interpolated
    out = torch.rot90(out, int(quarters), dims=(-2, -1))  # L_R: counterclockwise on screen, exact
    if g.m:
        out = torch.flip(out, dims=(-1,))  # L_M: (u, v) -> (-u, v)
    if g.u or g.v:
        out = shift(out, g.u, g.v)
    return out


def act_on_image(g: GroupElement, f: torch.Tensor) -> torch.Tensor:
    """L_g f (x) = f(g^-1 x) for an image f of shape (..., H, W) with H == W."""
    _check_square(f, 2, "act_on_image")
    return act_on_plane(g, f)


def group_axis_permutation(g: GroupElement, group: Group) -> list[int]:
    """The index of k^-1 s for every s on the group axis, where k is g's stabilizer part."""
    k_inv = g.stabilizer_part.inverse()
    return [group.index(k_inv * s) for s in group.stabilizer()]


def act_on_feature_map(g: GroupElement, f: torch.Tensor, group: Group | None = None) -> torch.Tensor:
    """L_g f (h) = f(g^-1 h) for a feature map f (..., S, H, W) on `group` (default: g's own group)."""
    group = g.group if group is None else group
    if group.trivial:
        return act_on_image(g, f)
    _check_square(f, 3, "act_on_feature_map")
    if f.shape[-3] != group.order:
        raise ValueError(f"act_on_feature_map: a feature map on {group.name} has S = {group.order} planes "
                         f"(..., {group.order}, H, W), got shape {tuple(f.shape)}")
    if g not in group:
        raise ValueError(f"act_on_feature_map: {g!r} is not in {group.name}, the group of the map; "
                         f"pass the larger group (group=...) to act on its maps")
    # For h = t(x) s and g = t(w) k:  g^-1 h = t(k^-1 (x - w)) k^-1 s, so plane s of L_g f is
    # plane index(k^-1 s) of f, moved by L_g.
    return act_on_plane(g, f[..., group_axis_permutation(g, group), :, :])


def act(g: GroupElement, f: torch.Tensor, group: Group) -> torch.Tensor:
    """L_g on what a layer of `group` takes or gives: an image (B, C, H, W) or a map (B, C, S, H, W)."""
    return act_on_image(g, f) if f.dim() == 4 else act_on_feature_map(g, f, group)
