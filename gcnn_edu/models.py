"""The rotated-MNIST networks of Table 1 (Section 8.1): Z2CNN, P4CNNRotationPooling, P4CNN.

All three share one skeleton on 28x28 inputs, no padding: six 3x3 layers (convolution, batch norm,
ReLU), a 2x2 max-pool after layer 2 (28 -> 26 -> 24 -> 12 -> 10 -> 8 -> 6 -> 4), dropout after layers
1, 3, 4, 5, and a 4x4 top layer that maps the 4x4 grid to 10 class scores.
- Z2CNN: ordinary convolutions, 20 channels.
- P4CNNRotationPooling: each convolution is a p4 lifting convolution whose output is max-pooled over
  the rotations at once, so every layer sees a planar image; 20 channels.
- P4CNN: a lifting layer then p4 group convolutions, 10 channels (about the same number of
  parameters, since a p4 filter has 4x as many entries), pooled over rotations after the top layer.
"""

from __future__ import annotations

import torch
from torch import nn

from .gconv import GroupConv2d, LiftingConv2d
from .pooling import GroupBatchNorm, coset_max_pool, spatial_max_pool

DROPOUT_AFTER = (0, 2, 3, 4)  # zero-based: after layers 1, 3, 4 and 5
POOL_AFTER = 1  # the 2x2 max-pool after layer 2


class _TableOneCNN(nn.Module):
    """The shared skeleton: six conv-BN-ReLU blocks, a 2x2 pool, dropout, a 4x4 top layer."""

    def __init__(self, blocks: list[nn.Module], top: nn.Module, dropout: float) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.top = top
        self.dropout = nn.Dropout(dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The input of the top layer: (B, C, 4, 4) or (B, C, S, 4, 4)."""
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"{type(self).__name__}: expected input (B, 1, 28, 28), "
                             f"got {tuple(x.shape)}")
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h)
            if i == POOL_AFTER:
                h = spatial_max_pool(h, 2)
            if i in DROPOUT_AFTER:
                h = self.dropout(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (B, 10) for images (B, 1, 28, 28)."""
        return self.readout(self.top(self.features(x)))

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        """Max over what is left of the plane (1x1 here) and, for G-CNNs, over rotations."""
        return h.amax(dim=(-2, -1))


def _conv_block(conv: nn.Module, norm: nn.Module) -> nn.Sequential:
    """Convolution (no bias: the batch norm has one), batch norm, ReLU."""
    return nn.Sequential(conv, norm, nn.ReLU())


class Z2CNN(_TableOneCNN):
    """The planar baseline of Table 1: ordinary 3x3 convolutions, 20 channels, dropout 0.3."""

    def __init__(self, channels: int = 20, dropout: float = 0.3, num_classes: int = 10) -> None:
        widths = [1] + [channels] * 6
        blocks = [_conv_block(nn.Conv2d(a, b, 3, bias=False), nn.BatchNorm2d(b))
                  for a, b in zip(widths[:-1], widths[1:], strict=True)]
        super().__init__(blocks, nn.Conv2d(channels, num_classes, 4), dropout)


class RotationPooledBlock(nn.Module):
    """A p4 lifting convolution, group batch norm and ReLU, then max over the four rotations."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.block = _conv_block(LiftingConv2d(in_channels, out_channels, kernel_size, "p4", bias=False),
                                 GroupBatchNorm(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return coset_max_pool(self.block(x), "rotations")


class P4CNNRotationPooling(_TableOneCNN):
    """Z2CNN with every convolution replaced by a rotation-pooled p4 convolution, 20 channels."""

    def __init__(self, channels: int = 20, dropout: float = 0.0, num_classes: int = 10) -> None:
        widths = [1] + [channels] * 6
        blocks = [RotationPooledBlock(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)]
        top = LiftingConv2d(channels, num_classes, 4, "p4")
        super().__init__(blocks, top, dropout)

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        return coset_max_pool(h, "rotations").amax(dim=(-2, -1))


class P4CNN(_TableOneCNN):
    """Table 1's p4 network: a lifting layer, p4 convolutions, 10 channels, rotation pooling at the top."""

    def __init__(self, channels: int = 10, dropout: float = 0.0, num_classes: int = 10) -> None:
        blocks = [_conv_block(LiftingConv2d(1, channels, 3, "p4", bias=False), GroupBatchNorm(channels))]
        blocks += [_conv_block(GroupConv2d(channels, channels, 3, "p4", bias=False),
                               GroupBatchNorm(channels)) for _ in range(5)]
        super().__init__(blocks, GroupConv2d(channels, num_classes, 4, "p4"), dropout)

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        return coset_max_pool(h, "rotations").amax(dim=(-2, -1))


MODELS: dict[str, type[_TableOneCNN]] = {
    "z2cnn": Z2CNN,
    "p4cnn_rotpool": P4CNNRotationPooling,
    "p4cnn": P4CNN,
}


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (weights, biases and batch-norm scales and shifts)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
