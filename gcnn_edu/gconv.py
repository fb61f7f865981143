"""Lifting (Z2 -> G) and group (G -> G) convolutions for a group G of gcnn_edu.groups (Section 6, eqs. 10-11).

Two versions of each:
- `*_reference`: the literal sum of the paper, [f *_G psi](g) = sum_y sum_k f_k(y) psi_k(g^-1 y)
  (lifting) and sum_h sum_k f_k(h) psi_k(g^-1 h) (group), with g^-1 h computed by gcnn_edu.groups.
  Slow; for teaching and for testing the fast version.
- the fast version: since psi(g^-1 h) = (L_s psi)(h - x) for g = t(x) s, the layer is one ordinary
  conv2d with the bank of transformed filters L_s psi (the filter expansion, Section 7). For p4 and
  p4m every L_s permutes the entries of psi; for C8 the 45-degree turns interpolate them.

Feature maps are (B, C, S, H, W); a lifting filter is (C_out, C_in, k, k), a group filter
(C_out, C_in, S, k, k), in the same pixel and group-axis order as feature maps.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .actions import act_on_feature_map, act_on_image
from .groups import Group, get_group

# ---------------------------------------------------------------------------------------------
# Argument checks


def check_padding(padding: int | tuple[int, ...]) -> int:
    """The padding as one int; the same padding on every side keeps the grid's centre (Section 4)."""
    values = (padding,) if isinstance(padding, int) else tuple(padding) if isinstance(padding, tuple) else ()
    if not values or any(not isinstance(p, int) or p < 0 for p in values):
        raise ValueError(f"padding must be a non-negative int, got {padding!r}")
    if len(set(values)) != 1:
        raise ValueError(
            f"padding must be symmetric (the same on every side) to keep rotation equivariance, "
            f"got {padding!r}"
        )
    return values[0]


def check_input(f: torch.Tensor, channels: int, group: Group | None, layer: str) -> None:
    """Raise a ValueError naming expected and actual shapes for a bad layer input."""
    if group is None:
        expected, ok = f"(B, {channels}, H, W)", f.dim() == 4 and f.shape[1] == channels
    else:
        expected = f"(B, {channels}, {group.order}, H, W) for {group.name}"
        ok = f.dim() == 5 and f.shape[1] == channels and f.shape[2] == group.order
    if not ok:
        raise ValueError(f"{layer}: expected input of shape {expected}, got {tuple(f.shape)}")


def _check_filter(weight: torch.Tensor, group: Group | None, layer: str) -> None:
    """Raise unless weight is (C_out, C_in, k, k) (lifting) or (C_out, C_in, S, k, k) (group)."""
    rank = 4 if group is None else 5
    square = weight.dim() == rank and weight.shape[-1] == weight.shape[-2]
    if not square or (group is not None and weight.shape[2] != group.order):
        s = "" if group is None else f"{group.order}, "
        raise ValueError(f"{layer}: expected a filter (C_out, C_in, {s}k, k), got {tuple(weight.shape)}")


# ---------------------------------------------------------------------------------------------
# The literal reference (eqs. 10 and 11)


def _half_pixels(n: int) -> np.ndarray:
    """2x the centred coordinate of pixels 0..n-1 (integers even when n is even)."""
    return 2 * np.arange(n) - (n - 1)


def _domain(group: Group, height: int, width: int, planes: int) -> np.ndarray:
    """Matrices of h = t(y) s for every plane s < planes and pixel y, y in half-pixel units."""
    us, vs = _half_pixels(width), -_half_pixels(height)
    stab = group.stabilizer()[:planes]
    return np.stack([group.make(s.m, s.r, int(u), int(v)).matrix for s in stab for v in vs for u in us])


def _locate(h: np.ndarray, group: Group, height: int, width: int) -> tuple[np.ndarray, ...]:
    """Plane s, row i, column j of each h = t(z) s on a height x width grid, and whether it is on it."""
    m = (np.linalg.det(h[:, :2, :2]) < 0).astype(np.int64)
    turns = np.arctan2(h[:, 1, 0], h[:, 1, 1]) / (2 * np.pi)
    r = np.rint(turns * group.rotations).astype(np.int64) % group.rotations
    j2, i2 = h[:, 0, 2] + (width - 1), (height - 1) - h[:, 1, 2]
    inside = (j2 % 2 == 0) & (i2 % 2 == 0) & (j2 >= 0) & (i2 >= 0)
    inside &= (j2 < 2 * width) & (i2 < 2 * height)
    return group.rotations * m + r, i2 // 2, j2 // 2, inside


def _gconv_reference(f: torch.Tensor, psi: torch.Tensor, group: Group, padding: int) -> torch.Tensor:
    """sum_h sum_k f_k(h) psi_k(g^-1 h) for f (B, K, P, H, W), psi (C, K, Q, k, k); P, Q in {1, S}."""
    if not group.exact:
        raise ValueError(f"the literal sum needs g^-1 h on the pixel grid; {group.name} turns it by "
                         f"{360 // group.rotations} degrees, off the grid (use the fast layer)")
    f = F.pad(f, [padding] * 4)
    batch, _, planes, height, width = f.shape
    k = psi.shape[-1]
    out_h, out_w = height - k + 1, width - k + 1
    h = _domain(group, height, width, planes)  # every h where f lives
    f_h = f.flatten(2)  # f_k(h), in the same order as h
    out = f.new_zeros(batch, psi.shape[0], group.order, out_h, out_w)
    us, vs = _half_pixels(out_w), -_half_pixels(out_h)
    for s, stab in enumerate(group.stabilizer()):
        for i, v in enumerate(vs):
            for j, u in enumerate(us):
                g = group.make(stab.m, stab.r, int(u), int(v))  # g = t(x) s, x in half-pixels
                q, a, b, inside = _locate(g.inverse().matrix @ h, group, k, k)  # g^-1 h on psi's grid
                q = q % psi.shape[2]  # a lifting filter lives on Z^2: one plane
                psi_h = psi[:, :, q[inside], a[inside], b[inside]]
                out[:, :, s, i, j] = torch.einsum("bkn,ckn->bc", f_h[:, :, inside], psi_h)
    return out


def lifting_conv_reference(
    f: torch.Tensor, psi: torch.Tensor, group: str | Group, bias: torch.Tensor | None = None,
    padding: int = 0,
) -> torch.Tensor:
    """[f *_G psi](g) = sum_y sum_k f_k(y) psi_k(g^-1 y), literally (eq. 10): (B, C, S, H', W')."""
    group = get_group(group)
    check_input(f, psi.shape[1], None, "lifting_conv_reference")
    out = _gconv_reference(f[:, :, None], psi[:, :, None], group, check_padding(padding))
    return out if bias is None else out + bias[:, None, None, None]


def group_conv_reference(
    f: torch.Tensor, psi: torch.Tensor, group: str | Group, bias: torch.Tensor | None = None,
    padding: int = 0,
) -> torch.Tensor:
    """[f *_G psi](g) = sum_h sum_k f_k(h) psi_k(g^-1 h), literally (eq. 11): (B, C, S, H', W')."""
    group = get_group(group)
    check_input(f, psi.shape[1], group, "group_conv_reference")
    out = _gconv_reference(f, psi, group, check_padding(padding))
    return out if bias is None else out + bias[:, None, None, None]


# ---------------------------------------------------------------------------------------------
# The fast version: filter expansion, then one conv2d


@cache
def filter_transforms(group: Group, k: int, lifting: bool) -> torch.Tensor:
    """L_s as matrices on flattened filters: T[s, i, j] = weight of entry i of psi in entry j of L_s psi."""
    planes = () if lifting else (group.order,)
    n = math.prod(planes) * k * k
    basis = torch.eye(n, dtype=torch.float64).reshape(n, *planes, k, k)
    moved = [act_on_image(s, basis) if lifting else act_on_feature_map(s, basis, group)
             for s in group.stabilizer()]
    return torch.stack([m.reshape(n, n) for m in moved])


@cache
def filter_permutation(group: Group, k: int, lifting: bool) -> torch.Tensor | None:
    """idx[s, j] with (L_s psi)_j = psi_{idx[s, j]} when every L_s permutes psi's entries, else None."""
    t = filter_transforms(group, k, lifting)
    if not (((t == 0) | (t == 1)).all() and (t.sum(1) == 1).all()):
        return None  # an interpolating action (C8's 45 degrees) mixes entries
    return t.argmax(1)


def _expand(psi: torch.Tensor, group: Group, lifting: bool) -> torch.Tensor:
    """The bank L_s psi, s in the stabilizer, on a new axis 1: an index gather, or a matrix product."""
    filter_shape = psi.shape[2:]
    flat = psi.flatten(2)  # (C_out, C_in, N)
    idx = filter_permutation(group, psi.shape[-1], lifting)
    if idx is not None:
        bank = flat[..., idx.to(psi.device)]  # (C_out, C_in, S, N)
    else:
        bank = torch.einsum("oin,snm->oism", flat, filter_transforms(group, psi.shape[-1], lifting).to(psi))
    return bank.transpose(1, 2).unflatten(-1, filter_shape)


def expand_lifting_filter(psi: torch.Tensor, group: str | Group) -> torch.Tensor:
    """The bank L_s psi for every s in the stabilizer: (C_out, C_in, k, k) -> (C_out, S, C_in, k, k)."""
    group = get_group(group)
    _check_filter(psi, None, "expand_lifting_filter")
    return _expand(psi, group, lifting=True)


def expand_group_filter(psi: torch.Tensor, group: str | Group) -> torch.Tensor:
    """The bank L_s psi for every s: (C_out, C_in, S, k, k) -> (C_out, S, C_in, S, k, k)."""
    group = get_group(group)
    _check_filter(psi, group, "expand_group_filter")
    return _expand(psi, group, lifting=False)


def _conv_expanded(
    f: torch.Tensor, bank: torch.Tensor, bias: torch.Tensor | None, order: int, padding: int
) -> torch.Tensor:
    """One conv2d with the expanded bank (C_out*S, C_in*P, k, k); output viewed as (B, C_out, S, H, W)."""
    flat_bias = None if bias is None else bias.repeat_interleave(order)
    out = F.conv2d(f.flatten(1, 2) if f.dim() == 5 else f, bank, flat_bias, padding=padding)
    return out.unflatten(1, (-1, order))


def lifting_conv(
    f: torch.Tensor, psi: torch.Tensor, group: str | Group, bias: torch.Tensor | None = None,
    padding: int = 0,
) -> torch.Tensor:
    """The lifting convolution of eq. 10 by filter expansion: (B, C_in, H, W) -> (B, C_out, S, H', W')."""
    group = get_group(group)
    check_input(f, psi.shape[1], None, "lifting_conv")
    bank = expand_lifting_filter(psi, group).flatten(0, 1)
    return _conv_expanded(f, bank, bias, group.order, check_padding(padding))


def group_conv(
    f: torch.Tensor, psi: torch.Tensor, group: str | Group, bias: torch.Tensor | None = None,
    padding: int = 0,
) -> torch.Tensor:
    """The group convolution of eq. 11 by filter expansion: (B, C_in, S, H, W) -> (B, C_out, S, H', W')."""
    group = get_group(group)
    check_input(f, psi.shape[1], group, "group_conv")
    bank = expand_group_filter(psi, group).flatten(0, 1).flatten(1, 2)
    return _conv_expanded(f, bank, bias, group.order, check_padding(padding))


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two filters agree in dtype, device, shape and every entry (a key .data cannot fool)."""
    return a.dtype == b.dtype and a.device == b.device and a.shape == b.shape and torch.equal(a, b)


class _GConv2d(nn.Module):
    """Shared parts of the two layers: the filter psi, He init, the cached bank, export()."""

    lifting: bool

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, group: str | Group,
        padding: int = 0, bias: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("kernel_size", kernel_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.group = get_group(group)
        if self.group.trivial:
            raise ValueError(f"{type(self).__name__} needs a group with rotations; on {self.group.name} "
                             f"it is an ordinary convolution: use torch.nn.Conv2d")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.padding = kernel_size, check_padding(padding)
        planes = () if self.lifting else (self.group.order,)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *planes, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        fan_in = in_channels * math.prod(planes) * kernel_size**2  # the group axis counts
        nn.init.normal_(self.weight, std=math.sqrt(2.0 / fan_in))
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None  # (psi, its bank)

    def _bank(self) -> torch.Tensor:
        """The expanded filter bank (C_out*S, C_in*P, k, k), as conv2d wants it."""
        if self.lifting:
            return expand_lifting_filter(self.weight, self.group).flatten(0, 1)
        return expand_group_filter(self.weight, self.group).flatten(0, 1).flatten(1, 2)

    def expanded_filters(self) -> torch.Tensor:
        """The bank; in eval mode without autograd, cached until psi changes (however it is changed)."""
        if self.training or torch.is_grad_enabled():
            self._cache = None
            return self._bank()
        psi = self.weight.detach()
        if self._cache is None or not _same(self._cache[0], psi):
            self._cache = (psi.clone(), self._bank())
        return self._cache[1]

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        """[f *_G psi] as (B, C_out, S, H', W')."""
        name = type(self).__name__
        check_input(f, self.in_channels, None if self.lifting else self.group, name)
        return _conv_expanded(f, self.expanded_filters(), self.bias, self.group.order, self.padding)

    def export(self) -> nn.Conv2d:
        """A plain Conv2d on the flattened input whose output, viewed as (B, C, S, H, W), is this layer's."""
        bank = self.expanded_filters().detach()
        conv = nn.Conv2d(bank.shape[1], bank.shape[0], self.kernel_size, padding=self.padding,
                         bias=self.bias is not None).to(bank)
        with torch.no_grad():
            conv.weight.copy_(bank)
            if self.bias is not None:
                conv.bias.copy_(self.bias.repeat_interleave(self.group.order))
        return conv

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"group={self.group.name}, padding={self.padding}, bias={self.bias is not None}")


class LiftingConv2d(_GConv2d):
    """Z2 -> G convolution (eq. 10): (B, C_in, H, W) -> (B, C_out, S, H', W')."""

    lifting = True


class GroupConv2d(_GConv2d):
    """G -> G convolution (eq. 11): (B, C_in, S, H, W) -> (B, C_out, S, H', W')."""

    lifting = False
