"""Figures for the course: Cayley tables, orbits, and Figures 1-2 of the paper (feature maps on a group).

Every function draws on a matplotlib Figure or Axes it is given (or makes one) and returns it, so
the notebooks show it and the widget can redraw it.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import ConnectionPatch, FancyArrowPatch

from .groups import Group, cayley_table

CMAP = "viridis"


def plot_cayley_table(group: Group, ax: Axes | None = None) -> Axes:
    """The stabilizer's multiplication table s_a s_b, one colour per element."""
    ax = plt.subplots(figsize=(4.5, 4.5))[1] if ax is None else ax
    table = cayley_table(group)
    names = group.names()
    ax.imshow(table, cmap="tab10" if group.order <= 10 else "tab20", vmin=0, vmax=9)
    for (a, b), s in np.ndenumerate(table):
        ax.text(b, a, names[s], ha="center", va="center", color="white", fontsize=11)
    ax.set_xticks(range(group.order), names)
    ax.set_yticks(range(group.order), names)
    ax.xaxis.tick_top()
    ax.set_xlabel("b")
    ax.set_ylabel("a")
    ax.set_title(f"{group.name}: a · b", pad=24)
    return ax


def plot_orbit(group: Group, x: tuple[int, int], ax: Axes | None = None, radius: int = 4) -> Axes:
    """The points g x for every g in the stabilizer, on a patch of Z^2 (u right, v up); off it for C8."""
    ax = plt.subplots(figsize=(4.5, 4.5))[1] if ax is None else ax
    x = group.identity() * x  # refuses a point that is not on Z^2
    grid = np.arange(-radius, radius + 1)
    uu, vv = np.meshgrid(grid, grid)
    ax.scatter(uu, vv, s=6, color="lightgray")
    for g in group.stabilizer():
        u, v, _ = g.matrix @ np.array([x[0], x[1], 1])  # the matrix acts on (u, v, 1)
        ax.scatter([u], [v], s=120, color="tab:red" if g.m else "tab:blue", zorder=3)
        ax.annotate(g.name, (u, v), textcoords="offset points", xytext=(7, 7), fontsize=11)
    ax.scatter([0], [0], marker="+", s=150, color="black")
    ax.set_aspect("equal")
    ax.set_xlabel("u")
    ax.set_ylabel("v")
    ax.set_title(f"orbit of x = {x} under the stabilizer of {group.name}")
    return ax


def show_image(ax: Axes, image: torch.Tensor | np.ndarray, title: str = "", **kwargs) -> Axes:
    """imshow of one plane with origin='upper' (v up on screen), no ticks."""
    ax.imshow(np.asarray(image, dtype=np.float32), cmap=kwargs.pop("cmap", CMAP), **kwargs)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


RING_CENTRE = (0.5, 0.47)  # a little below the middle: room for a title


def _on_ring(angle: float, radius: float) -> tuple[float, float]:
    """The point at `angle` (radians) on a ring of `radius` about RING_CENTRE, in figure fractions."""
    return RING_CENTRE[0] + radius * math.cos(angle), RING_CENTRE[1] + radius * math.sin(angle)


def _ring_position(r: int, n: int, radius: float, size: float) -> list[float]:
    """[left, bottom, width, height] of plane r of n on a ring: r = 0 at the top, counterclockwise."""
    x, y = _on_ring(math.pi / 2 + 2 * math.pi * r / n, radius)
    return [x - size / 2, y - size / 2, size, size]


def _ring_arrows(fig: Figure | SubFigure, n: int, radius: float, size: float, clockwise: bool) -> None:
    """Grey arrows between neighbouring planes of a ring: where the rotation r moves each plane."""
    gap = math.atan2(0.6 * size, radius)  # half the angle a plane covers, and a little more
    for r in range(n):
        a, b = math.pi / 2 + 2 * math.pi * r / n + gap, math.pi / 2 + 2 * math.pi * (r + 1) / n - gap
        start, end = _on_ring(a, radius), _on_ring(b, radius)
        if clockwise:
            start, end = end, start
        fig.add_artist(FancyArrowPatch(start, end, transform=fig.transSubfigure, arrowstyle="-|>",
                                       mutation_scale=12, connectionstyle=f"arc3,rad={0.3 - 0.6 * clockwise}",
                                       color="gray", linewidth=1.2))


def _plane(fig: Figure | SubFigure, rect: list[float], plane: torch.Tensor, name: str, vmin: float,
           vmax: float) -> Axes:
    """One plane of a feature map at `rect`, labelled with its element's name."""
    ax = show_image(fig.add_axes(rect), plane, vmin=vmin, vmax=vmax)
    ax.text(0.04, 0.96, name, transform=ax.transAxes, va="top", fontsize=9, color="white",
            bbox={"facecolor": "black", "alpha": 0.5, "pad": 1.5, "linewidth": 0})
    return ax


def draw_feature_map(fig: Figure | SubFigure, f: torch.Tensor | np.ndarray, group: Group,
                     title: str = "") -> list[Axes]:
    """Figure 1 (p4: the planes on a cycle) or Figure 2 (p4m: two cycles joined by mirror lines).

    f is one channel of a feature map on `group`, (S, H, W); plane s is the map at M^m R^r. Grey
    arrows show where the rotation r moves each plane (and rotates it); with mirrors, red lines
    join the planes that m swaps, and r turns the inner (mirrored) ring the other way.
    """
    f = torch.as_tensor(f).detach().float().cpu()
    if f.dim() != 3 or f.shape[0] != group.order or group.trivial:
        raise ValueError(f"draw_feature_map: expected one channel (S, H, W) of a map on {group.name}, "
                         f"S = {group.order}, got {tuple(f.shape)}")
    names, n = group.names(), group.rotations
    vmin, vmax = f.min().item(), f.max().item()
    radius, size = (0.36, 0.22) if group.mirrors else (0.36, 0.19) if n > 4 else (0.31, 0.3)
    axes = [_plane(fig, _ring_position(r, n, radius, size), f[r], names[r], vmin, vmax) for r in range(n)]
    _ring_arrows(fig, n, radius, size, clockwise=False)
    if group.mirrors:
        inner = [_ring_position(r, n, 0.165, 0.15) for r in range(n)]
        axes += [_plane(fig, rect, f[n + r], names[n + r], vmin, vmax) for r, rect in enumerate(inner)]
        _ring_arrows(fig, n, 0.165, 0.15, clockwise=True)
        for outer_ax, inner_ax in zip(axes[:n], axes[n:], strict=True):  # m joins r^k and m r^k
            fig.add_artist(ConnectionPatch((0.5, 0.5), (0.5, 0.5), "axes fraction", "axes fraction",
                                           axesA=outer_ax, axesB=inner_ax, color="tab:red",
                                           linestyle=":", linewidth=1.5, zorder=0))
    else:
        fig.text(*RING_CENTRE, f"r ↺\n{360 // n}°", ha="center", va="center", fontsize=13, color="gray",
                 transform=fig.transSubfigure)
    if title:
        fig.suptitle(title, fontsize=11)
    return axes


def plot_feature_map(f: torch.Tensor | np.ndarray, group: Group, title: str = "") -> Figure:
    """A new figure with `draw_feature_map` (Figure 1 for p4, Figure 2 for p4m, a ring of 8 for C8)."""
    fig = plt.figure(figsize=(6.0, 6.0) if group.order > 4 else (4.4, 4.4))
    draw_feature_map(fig, f, group, title)
    return fig


def plot_images(images: list, titles: list[str], ncols: int | None = None, size: float = 1.8) -> Figure:
    """A row (or grid) of planes with titles."""
    if len(titles) != len(images):
        raise ValueError(f"plot_images: expected one title per image, got {len(images)} images and "
                         f"{len(titles)} titles")
    ncols = len(images) if ncols is None else ncols
    nrows = math.ceil(len(images) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax in axes.flat[len(images):]:
        ax.axis("off")
    for ax, image, title in zip(axes.flat[: len(images)], images, titles, strict=True):
        show_image(ax, torch.as_tensor(image).detach().float().cpu(), title)
    fig.tight_layout()
    return fig
