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
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

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


RING_CENTRE = (0.5, 0.46)  # a little below the middle: room for a title
# (radius, plane size) in fractions of a square (sub)figure: p4's four planes, a ring of eight (C8 and
# p4m's outer ring) and p4m's inner ring; they leave room for a label outside every plane.
RING_P4, RING_8, RING_INNER = (0.27, 0.24), (0.33, 0.175), (0.135, 0.125)
MIRROR_COLOUR = "tab:red"


def _on_ring(angle: float, radius: float) -> tuple[float, float]:
    """The point at `angle` (radians) on a ring of `radius` about RING_CENTRE, in figure fractions."""
    return RING_CENTRE[0] + radius * math.cos(angle), RING_CENTRE[1] + radius * math.sin(angle)


def _ring_angle(r: int, n: int) -> float:
    """Where plane r of n sits on a ring (radians): r = 0 at the top, then counterclockwise (Figure 1)."""
    return math.pi / 2 + 2 * math.pi * r / n


def _ring_position(r: int, n: int, radius: float, size: float) -> list[float]:
    """[left, bottom, width, height] of plane r of n on a ring: r = 0 at the top, counterclockwise."""
    x, y = _on_ring(_ring_angle(r, n), radius)
    return [x - size / 2, y - size / 2, size, size]


def _ring_arrows(fig: Figure | SubFigure, n: int, radius: float, size: float, clockwise: bool) -> None:
    """Grey arrows between neighbouring planes of a ring: where the rotation r moves each plane."""
    gap = math.atan2(0.5 * size, radius)  # about half the angle a plane covers
    for r in range(n):
        a, b = _ring_angle(r, n) + gap, _ring_angle(r + 1, n) - gap
        start, end = _on_ring(a, radius), _on_ring(b, radius)
        if clockwise:
            start, end = end, start
        fig.add_artist(FancyArrowPatch(start, end, transform=fig.transSubfigure, arrowstyle="-|>",
                                       mutation_scale=12, connectionstyle=f"arc3,rad={0.3 - 0.6 * clockwise}",
                                       color="gray", linewidth=1.2))


def _label_outside(ax: Axes, name: str, angle: float) -> None:
    """The plane's element name just outside its border, in the direction `angle` (radians)."""
    c, s = math.cos(angle), math.sin(angle)
    x, ha = (0.5, "center") if abs(c) < 0.38 else (1.04, "left") if c > 0 else (-0.04, "right")
    y, va = (0.5, "center") if abs(s) < 0.38 else (1.03, "bottom") if s > 0 else (-0.03, "top")
    ax.text(x, y, name, transform=ax.transAxes, ha=ha, va=va, fontsize=10)


def _mirror_link(fig: Figure | SubFigure, angle: float, outer: tuple[float, float],
                 inner: tuple[float, float]) -> None:
    """A thick red bar across the gap between an outer plane and the inner plane m swaps it with,
    reaching a little into both, and a red "m" beside it (the planes sit at `angle` on both rings)."""
    reach = 0.012  # how far the bar runs over each plane's border
    start = _on_ring(angle, outer[0] - outer[1] / 2 + reach)
    end = _on_ring(angle, inner[0] + inner[1] / 2 - reach)
    fig.add_artist(Line2D([start[0], end[0]], [start[1], end[1]], transform=fig.transSubfigure,
                          color=MIRROR_COLOUR, linewidth=3.5, solid_capstyle="butt", zorder=5))
    middle = (outer[0] - outer[1] / 2 + inner[0] + inner[1] / 2) / 2
    x, y = _on_ring(angle, middle)
    side = 0.03  # the "m" sits beside the bar, counterclockwise of it
    fig.text(x - side * math.sin(angle), y + side * math.cos(angle), "m", ha="center", va="center",
             fontsize=10, fontweight="bold", color=MIRROR_COLOUR, transform=fig.transSubfigure, zorder=5)


def _plane(fig: Figure | SubFigure, rect: list[float], plane: torch.Tensor, name: str,
           vlim: tuple[float, float], label_angle: float) -> Axes:
    """One plane of a feature map at `rect`, its element's name outside it (towards `label_angle`)."""
    ax = show_image(fig.add_axes(rect), plane, vmin=vlim[0], vmax=vlim[1])
    _label_outside(ax, name, label_angle)
    return ax


def _check_map(f: torch.Tensor | np.ndarray, group: Group, what: str) -> torch.Tensor:
    """f as a float tensor (S, H, W) on `group`, or a ValueError naming the expected shape."""
    f = torch.as_tensor(f).detach().float().cpu()
    if f.dim() != 3 or f.shape[0] != group.order or group.trivial:
        raise ValueError(f"{what}: expected one channel (S, H, W) of a map on {group.name}, "
                         f"S = {group.order}, got {tuple(f.shape)}")
    return f


def _limits(maps: list[torch.Tensor], vlim: tuple[float, float] | None) -> tuple[float, float]:
    """One colour scale for all planes of all `maps`: `vlim`, or their joint minimum and maximum."""
    if vlim is not None:
        if len(vlim) != 2 or not vlim[0] < vlim[1]:
            raise ValueError(f"vlim: expected (low, high) with low < high, got {vlim!r}")
        return float(vlim[0]), float(vlim[1])
    low, high = min(m.min().item() for m in maps), max(m.max().item() for m in maps)
    return (low, high) if low < high else (low - 1.0, high + 1.0)


def draw_feature_map(fig: Figure | SubFigure, f: torch.Tensor | np.ndarray, group: Group,
                     title: str = "", vlim: tuple[float, float] | None = None) -> list[Axes]:
    """Figure 1 (p4: the planes on a cycle) or Figure 2 (p4m: two cycles joined by mirror lines).

    f is one channel of a feature map on `group`, (S, H, W); plane s is the map at M^m R^r, named
    just outside it. Grey arrows show where the rotation r moves each plane (and rotates it); with
    mirrors, thick red bars marked "m" join the planes that m swaps, and r turns the inner (mirrored)
    ring the other way. All planes share one colour scale: `vlim` = (low, high), or f's minimum and
    maximum.
    """
    f = _check_map(f, group, "draw_feature_map")
    names, n, vlim = group.names(), group.rotations, _limits([f], vlim)
    radius, size = RING_8 if group.mirrors or n > 4 else RING_P4
    axes = [_plane(fig, _ring_position(r, n, radius, size), f[r], names[r], vlim, _ring_angle(r, n))
            for r in range(n)]
    _ring_arrows(fig, n, radius, size, clockwise=False)
    if group.mirrors:
        radius, size = RING_INNER
        axes += [_plane(fig, _ring_position(r, n, radius, size), f[n + r], names[n + r], vlim,
                        _ring_angle(r, n) + math.pi) for r in range(n)]  # labels towards the centre
        _ring_arrows(fig, n, radius, size, clockwise=True)
        for r in range(n):  # m swaps r^k (outer ring) and m r^k (inner ring)
            _mirror_link(fig, _ring_angle(r, n), RING_8, RING_INNER)
    else:
        fig.text(*RING_CENTRE, f"r ↺\n{360 // n}°", ha="center", va="center", fontsize=13, color="gray",
                 transform=fig.transSubfigure)
    if title:
        fig.suptitle(title, fontsize=11)
    return axes


def plot_feature_map(f: torch.Tensor | np.ndarray, group: Group, title: str = "",
                     vlim: tuple[float, float] | None = None) -> Figure:
    """A new figure with `draw_feature_map` (Figure 1 for p4, Figure 2 for p4m, a ring of 8 for C8)."""
    fig = plt.figure(figsize=(RING_INCHES[group.order > 4],) * 2)
    draw_feature_map(fig, f, group, title, vlim)
    return fig


RING_INCHES = (3.4, 4.4)  # the side of a ring's square: four planes, or eight
INPUT_INCHES = 1.5  # the width of the column that shows the input beside a ring


def draw_input_and_map(fig: Figure | SubFigure, image: torch.Tensor | np.ndarray,
                       f: torch.Tensor | np.ndarray, group: Group, title: str = "",
                       input_title: str = "input f", vlim: tuple[float, float] | None = None,
                       ) -> tuple[Axes, list[Axes]]:
    """An input image (grey) and, to its right, one channel of its feature map drawn as Figures 1-2.

    `title` goes above the ring; a colour bar under the input gives the map's scale (`vlim` or
    f's range). `fig` should be INPUT_INCHES + RING_INCHES wide and RING_INCHES high, so that the
    ring's planes are square. Returns the input's axes and the planes' axes.
    """
    f = _check_map(f, group, "draw_input_and_map")
    image = torch.as_tensor(image).detach().float().cpu().squeeze()
    if image.dim() != 2:
        raise ValueError(f"draw_input_and_map: expected one grey image (H, W), got {tuple(image.shape)}")
    ring_inches = RING_INCHES[group.order > 4]
    left, right = fig.subfigures(1, 2, width_ratios=[INPUT_INCHES, ring_inches], wspace=0)
    aspect = left.bbox.width / left.bbox.height  # the column's width over its height
    side = 0.62  # the input's side as a fraction of the column's width, centred on the ring's centre
    input_ax = left.add_axes([0.08, RING_CENTRE[1] - side * aspect / 2, side, side * aspect])
    show_image(input_ax, image, input_title, cmap="gray_r")
    input_ax.title.set_fontsize(11)
    left.text(0.86, RING_CENTRE[1], "⋆ ψ\n⟶", ha="center", va="center", fontsize=13,
              transform=left.transSubfigure)
    axes = draw_feature_map(right, f, group, title, vlim)
    bar = left.add_axes([0.08, RING_CENTRE[1] - side * aspect / 2 - 0.16, side, 0.025])
    left.colorbar(axes[0].images[0], cax=bar, orientation="horizontal")
    bar.tick_params(labelsize=8)
    bar.set_title("value of the map", fontsize=9)
    return input_ax, axes


def plot_inputs_and_maps(pairs: list[tuple], group: Group, titles: list[str],
                         input_titles: list[str] | None = None) -> Figure:
    """Side by side, each input beside its feature map's ring (Figures 1-2), on one colour scale.

    pairs: (image (H, W), one channel (S, H, W) of its feature map on `group`), e.g. f ⋆ ψ and
    (L_g f) ⋆ ψ to show the paper's "a feature map and its rotation by r".
    """
    counts = {len(pairs), len(titles), len(pairs if input_titles is None else input_titles)}
    if not pairs or len(counts) != 1:
        raise ValueError(f"plot_inputs_and_maps: expected one or more (image, map) pairs and one title "
                         f"(and input title) per pair, got {len(pairs)} pairs, {len(titles)} titles and "
                         f"{'no' if input_titles is None else len(input_titles)} input titles")
    maps = [_check_map(f, group, "plot_inputs_and_maps") for _, f in pairs]
    vlim, ring_inches = _limits(maps, None), RING_INCHES[group.order > 4]
    fig = plt.figure(figsize=((INPUT_INCHES + ring_inches) * len(pairs), ring_inches))
    cells = fig.subfigures(1, len(pairs), wspace=0, squeeze=False)[0]
    input_titles = input_titles or ["input"] * len(pairs)
    for cell, (image, _), f, title, input_title in zip(cells, pairs, maps, titles, input_titles, strict=True):
        draw_input_and_map(cell, image, f, group, title, input_title, vlim)
    return fig


def plot_images(images: list, titles: list[str], ncols: int | None = None, size: float = 1.8,
                vlim: tuple[float, float] | None = None, cmap: str = CMAP,
                colorbar: str | None = None) -> Figure:
    """A row (or grid) of planes with titles; each on its own colour scale, or all on `vlim` = (low, high).

    `cmap`: viridis for feature maps; inputs and filters are drawn "gray_r" (black ink on white), as
    beside the rings of Figures 1-2. `colorbar`: a label, to add one colour bar (with `vlim`) at the right.
    """
    if len(titles) != len(images):
        raise ValueError(f"plot_images: expected one title per image, got {len(images)} images and "
                         f"{len(titles)} titles")
    if colorbar is not None and vlim is None:
        raise ValueError("plot_images: a colour bar needs one colour scale for all images: pass vlim")
    ncols = len(images) if ncols is None else ncols
    nrows = math.ceil(len(images) / ncols)
    width = size * ncols + (0.9 if colorbar is not None else 0.0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, size * nrows + 0.3), squeeze=False)
    for ax in axes.flat[len(images):]:
        ax.axis("off")
    limits = {} if vlim is None else dict(zip(("vmin", "vmax"), _limits([], vlim), strict=True))
    for ax, image, title in zip(axes.flat[: len(images)], images, titles, strict=True):
        show_image(ax, torch.as_tensor(image).detach().float().cpu(), title, cmap=cmap, **limits)
    fig.tight_layout()
    if colorbar is not None:
        fig.subplots_adjust(right=1 - 0.9 / width)
        top, bottom = axes.flat[0].get_position().y1, axes.flat[-1].get_position().y0
        bar = fig.add_axes([1 - 0.75 / width, bottom, 0.12 / width, top - bottom])
        fig.colorbar(axes.flat[0].images[0], cax=bar, label=colorbar)
    return fig
