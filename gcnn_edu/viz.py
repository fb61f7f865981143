"""Figures for the course: Cayley tables, orbits, and Figures 1-2 of the paper (p4 and p4m feature maps).

Every function draws on a matplotlib Figure or Axes it is given (or makes one) and returns it, so
the notebooks show it and the widget can redraw it.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch

from .actions import feature_map_group
from .groups import Group, GroupElement, cayley_table

CMAP = "viridis"


def element_name(g: GroupElement) -> str:
    """'e', 'r', 'r²', 'm', 'mr³', ... for a stabilizer element M^m R^r."""
    powers = {0: "", 1: "r", 2: "r²", 3: "r³"}
    name = ("m" if g.m else "") + powers[g.r]
    return name or "e"


def plot_cayley_table(group: Group, ax: Axes | None = None) -> Axes:
    """The stabilizer's multiplication table s_a s_b, one colour per element."""
    ax = plt.subplots(figsize=(4.5, 4.5))[1] if ax is None else ax
    table = cayley_table(group)
    names = [element_name(g) for g in group.stabilizer()]
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
    """The points g x for every g in the stabilizer, on a patch of Z^2 (u right, v up)."""
    ax = plt.subplots(figsize=(4.5, 4.5))[1] if ax is None else ax
    grid = np.arange(-radius, radius + 1)
    uu, vv = np.meshgrid(grid, grid)
    ax.scatter(uu, vv, s=6, color="lightgray")
    for g in group.stabilizer():
        u, v = g * x
        ax.scatter([u], [v], s=120, color="tab:red" if g.m else "tab:blue", zorder=3)
        ax.annotate(element_name(g), (u, v), textcoords="offset points", xytext=(7, 7), fontsize=11)
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


# Cells of a ring of four planes on a grid: top, left, bottom, right (counterclockwise order).
RING = {"top": (0, 1), "left": (1, 0), "bottom": (2, 1), "right": (1, 2)}
# Where an arrow leaves one plane and enters the next, in axes fractions, going counterclockwise.
CCW_ARROWS = [("top", "left", (0, 0.5), (0.5, 1)), ("left", "bottom", (0.5, 0), (0, 0.5)),
              ("bottom", "right", (1, 0.5), (0.5, 0)), ("right", "top", (0.5, 1), (1, 0.5))]
CW_ARROWS = [(b, a, end, start) for a, b, start, end in CCW_ARROWS]


def _ring(fig: Figure, grid, planes: list, names: list[str], sides: list[str], offset: tuple[int, int],
          scale: int, arrows: list, vmin: float, vmax: float) -> dict[str, Axes]:
    """Four planes at the given sides of a ring (cell = offset + scale * RING[side]), with arrows."""
    axes = {}
    for plane, name, side in zip(planes, names, sides, strict=True):
        row, col = RING[side]
        ax = fig.add_subplot(grid[offset[0] + scale * row, offset[1] + scale * col])
        axes[side] = show_image(ax, plane, vmin=vmin, vmax=vmax)
        ax.text(0.04, 0.96, name, transform=ax.transAxes, va="top", fontsize=9, color="white",
                bbox={"facecolor": "black", "alpha": 0.5, "pad": 1.5, "linewidth": 0})
    for a, b, start, end in arrows:
        fig.add_artist(ConnectionPatch(start, end, "axes fraction", "axes fraction", axesA=axes[a],
                                       axesB=axes[b], arrowstyle="-|>", mutation_scale=11,
                                       connectionstyle="arc3,rad=0.3", color="gray"))
    return axes


def draw_feature_map(fig: Figure, f: torch.Tensor | np.ndarray, title: str = "") -> list[Axes]:
    """Figure 1 (p4: four planes on a cycle) or Figure 2 (p4m: two cycles joined by mirror lines).

    f is one channel of a feature map, (S, H, W) with S = 4 or 8; plane s is the map at M^m R^r.
    Grey arrows show where the rotation r moves each plane (and rotates it); in p4m, red lines
    join the planes that the mirror m swaps, and r turns the inner (mirrored) ring the other way.
    """
    f = torch.as_tensor(f).detach().float().cpu()
    if f.dim() != 3:
        raise ValueError(f"draw_feature_map: expected one channel (S, H, W), got {tuple(f.shape)}")
    group = feature_map_group(f)
    names = [element_name(g) for g in group.stabilizer()]
    vmin, vmax = f.min().item(), f.max().item()
    ccw = ["top", "left", "bottom", "right"]  # planes e, r, r², r³
    if not group.has_mirrors:
        grid = fig.add_gridspec(3, 3, wspace=0.25, hspace=0.35)
        outer = _ring(fig, grid, list(f), names, ccw, (0, 0), 1, CCW_ARROWS, vmin, vmax)
        axes = [outer[side] for side in ccw]
        centre = fig.add_subplot(grid[1, 1])
        centre.text(0.5, 0.5, "r ↺", ha="center", va="center", fontsize=14, color="gray")
        centre.axis("off")
    else:
        grid = fig.add_gridspec(5, 5, wspace=0.25, hspace=0.4)
        outer = _ring(fig, grid, list(f[:4]), names[:4], ccw, (0, 0), 2, CCW_ARROWS, vmin, vmax)
        inner = _ring(fig, grid, list(f[4:]), names[4:], ccw, (1, 1), 1, CW_ARROWS, vmin, vmax)
        axes = [outer[side] for side in ccw] + [inner[side] for side in ccw]
        for side in ccw:  # the mirror m joins plane r^k and plane m r^k
            fig.add_artist(ConnectionPatch((0.5, 0.5), (0.5, 0.5), "axes fraction", "axes fraction",
                                           axesA=outer[side], axesB=inner[side], color="tab:red",
                                           linestyle=":", linewidth=1.5, zorder=0))
    if title:
        fig.suptitle(title, fontsize=11)
    return axes


def plot_feature_map(f: torch.Tensor | np.ndarray, title: str = "") -> Figure:
    """A new figure with `draw_feature_map` (Figure 1 for p4, Figure 2 for p4m)."""
    f = torch.as_tensor(f)
    fig = plt.figure(figsize=(6.0, 6.0) if f.shape[0] == 8 else (4.4, 4.4))
    draw_feature_map(fig, f, title)
    return fig


def plot_images(images: list, titles: list[str], ncols: int | None = None, size: float = 1.8) -> Figure:
    """A row (or grid) of planes with titles."""
    ncols = len(images) if ncols is None else ncols
    nrows = math.ceil(len(images) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax in axes.flat[len(images):]:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles, strict=False):
        show_image(ax, torch.as_tensor(image).detach().float().cpu(), title)
    fig.tight_layout()
    return fig
