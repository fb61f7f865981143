"""Rotation of images by any angle: exact quarter turns, bilinear interpolation for the rest (Section 8.1).

The one routine that turns pixels by an angle: augmentation, accuracy against the angle, the widget,
the group C8 and the synthesis of rotated MNIST. The interpolation repeats the arithmetic of
torchvision's `rotate` (bilinear, about the centre, zero fill), with which the synthesised digits
were made, so that they stay the same bit for bit.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def rotate(images: torch.Tensor, degrees: float | torch.Tensor, split_quarter_turns: bool = True,
           ) -> torch.Tensor:
    """Images (..., H, W) turned counterclockwise (as shown by imshow) about their centre, zero fill.

    `degrees` is one angle, or one per image for images (N, ..., H, W). With split_quarter_turns, the
    multiple of 90 degrees is an exact rot90 and only the rest in [0, 90) is interpolated, so that
    rotate(f, a + 90) equals rot90(rotate(f, a)); without, the whole angle is interpolated at once,
    as the synthesis of rotated MNIST did (quarter turns alone stay exact).
    """
    batch, angles = _as_batch(images, degrees)
    quarters, rests = zip(*(_split(a, split_quarter_turns) for a in angles), strict=True)
    out = _interpolate(batch, list(rests)) if any(rests) else batch
    return _quarter_turns(out, list(quarters)).reshape(images.shape)


def _split(degrees: float, split_quarter_turns: bool) -> tuple[int, float]:
    """An angle as (quarter turns, the rest to interpolate): all quarter turns, or only an exact multiple."""
    quarters, rest = divmod(degrees, 90.0)
    return (int(quarters), rest) if split_quarter_turns or rest == 0 else (0, degrees)


def _as_batch(images: torch.Tensor, degrees: float | torch.Tensor) -> tuple[torch.Tensor, list[float]]:
    """Images as (N, C, H, W) and their angles in degrees: one for all, or one per image."""
    if not isinstance(images, torch.Tensor) or images.dim() < 2 or not images.is_floating_point():
        raise ValueError(f"rotate: expected floating-point images (..., H, W), got "
                         f"{getattr(images, 'dtype', type(images).__name__)} of shape "
                         f"{tuple(getattr(images, 'shape', ()))}")
    angles = torch.as_tensor(degrees, dtype=torch.float64).reshape(-1).tolist()
    if len(angles) == 1:
        return images.reshape(-1, 1, *images.shape[-2:]), angles
    if images.dim() < 3 or len(angles) != len(images):
        raise ValueError(f"rotate: expected one angle, or one per image for images (N, ..., H, W); got "
                         f"{len(angles)} angles for images of shape {tuple(images.shape)}")
    return images.reshape(len(images), -1, *images.shape[-2:]), angles


def _interpolate(batch: torch.Tensor, degrees: list[float]) -> torch.Tensor:
    """Bilinear rotation of (N, C, H, W) by one angle or one per image; an angle of 0 leaves it as it is."""
    grid = _sampling_grid(degrees, *batch.shape[-2:], batch.dtype).to(batch.device)
    grid = grid.expand(len(batch), -1, -1, -1)
    turned = F.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    unturned = torch.tensor([a == 0 for a in degrees], device=batch.device)[:, None, None, None]
    return torch.where(unturned, batch, turned)


def _sampling_grid(degrees: list[float], height: int, width: int, dtype: torch.dtype) -> torch.Tensor:
    """Where output pixel (x, y) reads its input: R(-angle) (x, y) about the centre, in [-1, 1] units.

    The steps and roundings of torchvision's rotate: the matrix in double precision, then in `dtype`
    pixel coordinates times the matrix, divided by half the width and height.
    """
    theta = torch.tensor([[[math.cos(t), -math.sin(t), 0.0], [math.sin(t), math.cos(t), 0.0]]
                          for t in map(math.radians, degrees)], dtype=dtype)
    x = torch.arange(width, dtype=dtype) - (width - 1) / 2  # pixel centres, x to the right
    y = torch.arange(height, dtype=dtype) - (height - 1) / 2  # and y down
    pixels = torch.stack(torch.broadcast_tensors(x[None, :], y[:, None], torch.ones(1, 1, dtype=dtype)), -1)
    scaled = theta.transpose(1, 2) / torch.tensor([width / 2, height / 2], dtype=dtype)
    return pixels.reshape(1, height * width, 3).expand(len(degrees), -1, -1).bmm(scaled).reshape(
        len(degrees), height, width, 2)


def _quarter_turns(batch: torch.Tensor, quarters: list[int]) -> torch.Tensor:
    """Each image of (N, C, H, W) turned counterclockwise by its number of quarter turns (rot90, exact)."""
    if len(set(quarters)) == 1:
        return torch.rot90(batch, quarters[0] % 4, dims=(-2, -1)) if quarters[0] % 4 else batch
    return torch.stack([torch.rot90(x, q % 4, dims=(-2, -1)) for x, q in zip(batch, quarters, strict=True)])
