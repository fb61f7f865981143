"""The rotate-and-watch widget: turn (and mirror) the input, watch the feature maps rotate and permute.

Multiples of 90 degrees are elements of p4, so the maps move exactly as Figures 1-2 say. Another
angle resamples the image onto the same grid (bilinear). 45 degrees is an element of C8, acting by
interpolation: C8 layers follow it only approximately. For a group with no element for the
transformation (45 degrees in p4 or p4m, 30 degrees in any of them, the mirror in p4 or C8) the layer
has no rule at all: nothing predicts the maps.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure, SubFigure
from torch import nn

from .groups import Group
from .models import TableOneCNN
from .rotation import rotate
from .viz import INPUT_INCHES, RING_INCHES, draw_input_and_map


def transform_input(image: torch.Tensor, angle: int, mirror: bool) -> torch.Tensor:
    """L_g image for g = M^m R(angle): exact pixel permutation at multiples of 90, else bilinear."""
    out = rotate(image, float(angle % 360))
    return torch.flip(out, dims=(-1,)) if mirror else out


def in_group(group: Group, angle: int, mirror: bool) -> bool:
    """Whether M^m R(angle) is an element of the group (its rotations are multiples of 360 / n)."""
    return (angle * group.rotations) % 360 == 0 and (group.mirrors or not mirror)


def describe_element(group: Group, angle: int, mirror: bool) -> str:
    """g = M^m R(angle) as the widget applies it (Section 4's g(m, r, u, v)), with its name when in G."""
    formula = ("M " if mirror else "") + f"R({angle % 360}°)"
    if not in_group(group, angle, mirror):
        return f"{formula}, not an element of {group.name}"
    g = group.make(int(mirror), (angle % 360) * group.rotations // 360)
    return f"{formula} = {g.name} in {group.name}"


def describe_action(group: Group, angle: int, mirror: bool) -> str:
    """The picture's title: g, and what L_g does to the input (turn by R first, then mirror by M)."""
    action = f"turn by {angle % 360}°" + (", then mirror u -> -u" if mirror else "")
    return f"g = {describe_element(group, angle, mirror)}: {action}"


def output_labels(net: nn.Module) -> tuple[str, str, str]:
    """Title, x and y label of the bar chart of the invariant output (class probabilities or maxima)."""
    if isinstance(net, TableOneCNN):
        return "invariant output: softmax", "class", "probability"
    return "invariant output", "channel", "max over G and the plane"


def watch(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Group feature maps (1, C, S, H, W) to show and an invariant output, with its bar labels.

    For a Table 1 network: the maps after its first block and the class probabilities.
    For a layer (or any module returning a group feature map): its maps, and the max of each
    channel over the group and the plane.
    """
    with torch.no_grad():
        if isinstance(net, TableOneCNN):
            maps = net.blocks[0](x)
            output, labels = F.softmax(net(x), dim=1)[0], [str(c) for c in range(10)]
        else:
            maps = net(x)
            output = maps.amax(dim=(2, 3, 4))[0] if maps.dim() == 5 else None
            labels = [str(c) for c in range(maps.shape[1])]
    if maps.dim() != 5 or maps.shape[2] != net.group.order:
        raise ValueError(f"rotate_and_watch needs a G-CNN layer or network whose first block returns a "
                         f"feature map (1, C, {net.group.order}, H, W) on {net.group.name}; "
                         f"got {tuple(maps.shape)}")
    return maps, output, labels


TITLE_INCHES, BARS_INCHES = 0.45, 3.6  # the picture's title strip and its bar chart


class RotateAndWatch(widgets.VBox):
    """A slider (0..360 degrees, step 15) and a mirror checkbox that redraw input, maps and output."""

    def __init__(self, net: nn.Module, image: torch.Tensor, channel: int = 0, dpi: int = 100) -> None:
        if not isinstance(getattr(net, "group", None), Group):
            raise ValueError(f"rotate_and_watch needs a G-CNN layer or network with a group (net.group); "
                             f"{type(net).__name__} has none")
        if net.group.trivial:
            raise ValueError(f"{type(net).__name__} works on {net.group.name}: its feature maps are planar "
                             f"images with no group axis to watch; use a G-CNN (P4CNN, P8CNN, LiftingConv2d)")
        self.net, self.group, self.channel, self.dpi = net.eval(), net.group, channel, dpi
        image = torch.as_tensor(image)
        if image.dim() < 2 or image.numel() != image.shape[-1] * image.shape[-2]:
            raise ValueError(f"rotate_and_watch: expected one grey image (H, W), (1, H, W) or (1, 1, H, W), "
                             f"got shape {tuple(image.shape)}")
        self.image = image.reshape(1, 1, *image.shape[-2:]).float()
        self.base_maps, self.base_output, labels = watch(self.net, self.image)
        self.angle = widgets.IntSlider(value=0, min=0, max=360, step=15, description="angle (°)",
                                       continuous_update=False)
        self.mirror = widgets.Checkbox(value=False, description="mirror m")
        self.picture = widgets.Image(format="png")
        self.status = widgets.HTML()
        self._build_figure(labels)
        self.angle.observe(self._on_change, names="value")
        self.mirror.observe(self._on_change, names="value")
        super().__init__([widgets.HBox([self.angle, self.mirror]), self.picture, self.status])
        self.update()

    def _build_figure(self, labels: list[str]) -> None:
        """One figure, drawn once: a title naming g | input and feature map as in Figures 1-2 | output."""
        ring = RING_INCHES[self.group.order > 4]
        self.figure = Figure(figsize=(INPUT_INCHES + ring + BARS_INCHES, ring + TITLE_INCHES))
        top, body = self.figure.subfigures(2, 1, height_ratios=[TITLE_INCHES, ring])
        self.title = top.text(0.5, 0.4, "", ha="center", va="center", fontsize=13)
        left, right = body.subfigures(1, 2, width_ratios=[INPUT_INCHES + ring, BARS_INCHES])
        plane = self.base_maps[0, self.channel]
        self.clim = (plane.min().item(), plane.max().item())
        self.input_ax, self.map_axes = draw_input_and_map(
            left, self.image[0, 0], plane, self.group, f"channel {self.channel} of the feature map",
            "input L_g f", self.clim)
        self._draw_bars(right, labels)

    def _draw_bars(self, fig: SubFigure, labels: list[str]) -> None:
        """The invariant output as bars, with its axis labels; the bars' heights change in update()."""
        title, xlabel, ylabel = output_labels(self.net)
        ax = fig.add_axes([0.24, 0.16, 0.72, 0.68])
        self.bars = ax.bar(labels, self.base_output.numpy(), color="tab:blue")
        low, high = min(0.0, self.base_output.min().item()), max(0.0, self.base_output.max().item())
        ax.set_ylim(1.3 * low, 1.3 * high if high > low else 1.0)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)

    def update(self) -> None:
        """Recompute for the current angle and mirror and redraw the picture."""
        x = transform_input(self.image, self.angle.value, self.mirror.value)
        self.last_input = x
        self.last_maps, self.last_output, _ = watch(self.net, x)
        self.input_ax.images[0].set_data(x[0, 0].numpy())
        for ax, plane in zip(self.map_axes, self.last_maps[0, self.channel], strict=True):
            ax.images[0].set_data(plane.numpy())
        for bar, height in zip(self.bars, self.last_output.tolist(), strict=True):
            bar.set_height(height)
        self.title.set_text(describe_action(self.group, self.angle.value, self.mirror.value))
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi)
        self.picture.value = buffer.getvalue()
        self.status.value = self._describe()

    def _describe(self) -> str:
        """Whether the current transformation is in the layer's group, and how much the output moved."""
        change = (self.last_output - self.base_output).abs().max().item()
        name = self.group.name
        if not in_group(self.group, self.angle.value, self.mirror.value):
            kind = f"{name} has no element for this transformation, so nothing predicts the maps"
        elif self.group.exact or self.angle.value % 90 == 0:
            kind = f"an element of {name}: the maps move exactly"
        else:
            kind = f"an element of {name}, acting by interpolation: the maps follow it only approximately"
        formula = ("M " if self.mirror.value else "") + f"R({self.angle.value % 360}°)"
        return f"g = {formula}: {kind}; invariant output changed by at most {change:.1e}"

    def _on_change(self, _change: dict) -> None:
        self.update()


def rotate_and_watch(model_or_layer: nn.Module, image: torch.Tensor, channel: int = 0,
                     dpi: int = 100) -> RotateAndWatch:
    """The widget for a G-CNN layer or Table 1 network and an image (H, W), (1, H, W) or (1, 1, H, W)."""
    return RotateAndWatch(model_or_layer, image, channel, dpi)
