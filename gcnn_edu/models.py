"""The networks of Table 1 (rotated MNIST, Section 8.1) and Table 2 (CIFAR-10, Section 8.2).

Table 1: Z2CNN, P4CNNRotationPooling, P4CNN; beyond the paper, P8CNN (the same network on C8).

All share one skeleton on 28x28 inputs, no padding: six 3x3 layers (convolution, batch norm,
ReLU), a 2x2 max-pool after layer 2 (28 -> 26 -> 24 -> 12 -> 10 -> 8 -> 6 -> 4), dropout after layers
1, 3, 4, 5, and a 4x4 top layer that maps the 4x4 grid to 10 class scores.
- Z2CNN: ordinary convolutions, 20 channels.
- P4CNNRotationPooling: each convolution is a p4 lifting convolution whose output is max-pooled over
  the rotations at once, so every layer sees a planar image; 20 channels.
- P4CNN: a lifting layer then p4 group convolutions, 10 channels (about the same number of
  parameters, since a p4 filter has 4x as many entries), pooled over rotations after the top layer.
- P8CNN: P4CNN on C8 (rotations by 45 degrees, interpolated), 7 channels for about the same number
  of parameters.
Every network knows its group (`model.group`): the one its feature maps live on.
"""

from __future__ import annotations

import torch
from torch import nn

from .gconv import GroupConv2d, LiftingConv2d
from .groups import C8, P4, Z2, Group, get_group
from .pooling import GroupBatchNorm, coset_max_pool, spatial_avg_pool, spatial_max_pool

DROPOUT_AFTER = (0, 2, 3, 4)  # zero-based: after layers 1, 3, 4 and 5
POOL_AFTER = 1  # the 2x2 max-pool after layer 2


class TableOneCNN(nn.Module):
    """The shared skeleton: six conv-BN-ReLU blocks, a 2x2 pool, dropout, a 4x4 top layer."""

    group: Group

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


class Z2CNN(TableOneCNN):
    """The planar baseline of Table 1: ordinary 3x3 convolutions, 20 channels, dropout 0.3."""

    group = Z2

    def __init__(self, channels: int = 20, dropout: float = 0.3, num_classes: int = 10) -> None:
        widths = [1] + [channels] * 6
        blocks = [_conv_block(nn.Conv2d(a, b, 3, bias=False), nn.BatchNorm2d(b))
                  for a, b in zip(widths[:-1], widths[1:], strict=True)]
        super().__init__(blocks, nn.Conv2d(channels, num_classes, 4), dropout)


class RotationPooledBlock(nn.Module):
    """A lifting convolution, group batch norm and ReLU, then max over the rotations."""

    def __init__(self, in_channels: int, out_channels: int, group: Group, kernel_size: int = 3) -> None:
        super().__init__()
        self.group = group
        self.block = _conv_block(LiftingConv2d(in_channels, out_channels, kernel_size, group, bias=False),
                                 GroupBatchNorm(out_channels, group))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return coset_max_pool(self.block(x), self.group, "rotations")


class P4CNNRotationPooling(TableOneCNN):
    """Z2CNN with every convolution replaced by a rotation-pooled p4 convolution, 20 channels."""

    group = P4

    def __init__(self, channels: int = 20, dropout: float = 0.0, num_classes: int = 10) -> None:
        widths = [1] + [channels] * 6
        blocks = [RotationPooledBlock(a, b, self.group) for a, b in zip(widths[:-1], widths[1:], strict=True)]
        top = LiftingConv2d(channels, num_classes, 4, self.group)
        super().__init__(blocks, top, dropout)

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        return coset_max_pool(h, self.group, "rotations").amax(dim=(-2, -1))


class P4CNN(TableOneCNN):
    """Table 1's p4 network: a lifting layer, p4 convolutions, 10 channels, rotation pooling at the top."""

    group = P4

    def __init__(self, channels: int = 10, dropout: float = 0.0, num_classes: int = 10) -> None:
        g = self.group
        blocks = [_conv_block(LiftingConv2d(1, channels, 3, g, bias=False), GroupBatchNorm(channels, g))]
        blocks += [_conv_block(GroupConv2d(channels, channels, 3, g, bias=False), GroupBatchNorm(channels, g))
                   for _ in range(5)]
        super().__init__(blocks, GroupConv2d(channels, num_classes, 4, g), dropout)

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        return coset_max_pool(h, self.group, "rotations").amax(dim=(-2, -1))


class P8CNN(P4CNN):
    """Beyond the paper: P4CNN on C8 (45-degree rotations, interpolated), 7 channels."""

    group = C8

    def __init__(self, channels: int = 7, dropout: float = 0.0, num_classes: int = 10) -> None:
        super().__init__(channels, dropout, num_classes)


# ---------------------------------------------------------------------------------------------
# Table 2: All-CNN-C and ResNet44 on CIFAR-10, with planar ("z2"), p4 or p4m convolutions.
#
# Widths follow the paper: the p4 and p4m networks are thinner, so that the parameter count stays
# about the same (a G-filter has |S| times more entries). A stride-2 3x3 convolution on an even side
# is never exactly rotation equivariant (no stride-2 grid on an even side is symmetric about the
# centre: reversing a row index, i -> N-1-i, changes its parity; only e and the transpose keep the
# grid), so every "stride 2" here is a stride-1 convolution followed by a 2x2 average pool:
# together a stride-2 convolution with a 4x4 filter, exact, with the same parameters as the 3x3 one.

ALLCNNC_WIDTHS = {"z2": (96, 192), "p4": (48, 96), "p4m": (32, 64)}
RESNET44_WIDTHS = {"z2": (32, 64, 128), "p4": (16, 32, 64), "p4m": (11, 23, 45)}


def table_two_widths(name: str, group: Group, widths: dict[str, tuple[int, ...]],
                     given: tuple[int, ...] | None) -> tuple[int, ...]:
    """The paper's widths of a Table 2 network on `group`, unless widths are given."""
    if given is not None:
        return given
    if group.name not in widths:
        raise ValueError(f"{name}: the paper gives widths for the groups {sorted(widths)}, not "
                         f"{group.name}; pass widths=(...)")
    return widths[group.name]


def make_conv(group: Group, c_in: int, c_out: int, k: int, lifting: bool = False, bias: bool = False,
              ) -> nn.Module:
    """A k x k convolution (padding k // 2) on Z2, a lifting Z2 -> G, or a G -> G convolution."""
    if group.trivial:
        return nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias)
    layer = LiftingConv2d if lifting else GroupConv2d
    return layer(c_in, c_out, k, group, padding=k // 2, bias=bias)


def make_norm(group: Group, channels: int) -> nn.Module:
    """Batch norm; on a group feature map, one mean and variance per channel (shared over S)."""
    return nn.BatchNorm2d(channels) if group.trivial else GroupBatchNorm(channels, group)


class AvgPool2(nn.Module):
    """2x2 average pooling of every plane (the second half of an exact stride-2 convolution)."""

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return spatial_avg_pool(f, 2)


def global_average(h: torch.Tensor) -> torch.Tensor:
    """Mean over the plane and, for a group feature map, over the group axis: invariant."""
    return h.flatten(2).mean(dim=2)


class AllCNNC(nn.Module):
    """All-CNN-C (Springenberg et al. 2015) with batch norm, on Z2, p4 or p4m (Table 2)."""

    def __init__(self, group: str | Group = Z2, num_classes: int = 10, widths: tuple[int, int] | None = None,
                 ) -> None:
        super().__init__()
        self.group = group = get_group(group)
        a, b = table_two_widths("AllCNNC", group, ALLCNNC_WIDTHS, widths)
        # (in, out, kernel, pool after): nine layers, the 3rd and 6th halve the side
        plan = [(3, a, 3, False), (a, a, 3, False), (a, a, 3, True), (a, b, 3, False), (b, b, 3, False),
                (b, b, 3, True), (b, b, 3, False), (b, b, 1, False), (b, num_classes, 1, False)]
        layers: list[nn.Module] = [nn.Dropout(0.2)]
        for i, (c_in, c_out, k, pool) in enumerate(plan):
            layers += [make_conv(group, c_in, c_out, k, lifting=i == 0)] + ([AvgPool2()] if pool else [])
            layers += [make_norm(group, c_out), nn.ReLU()] + ([nn.Dropout(0.5)] if pool else [])
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (B, 10) for images (B, 3, 32, 32)."""
        if x.dim() != 4 or x.shape[1] != 3 or x.shape[-1] % 4 or x.shape[-1] != x.shape[-2]:
            raise ValueError(f"AllCNNC: expected images (B, 3, H, H) with H divisible by 4, "
                             f"got {tuple(x.shape)}")
        return global_average(self.layers(x))


class PreActBlock(nn.Module):
    """Pre-activation residual block: x + conv(relu(bn(conv(relu(bn(x)))))), optionally halving the side."""

    def __init__(self, group: Group, c_in: int, c_out: int, downsample: bool) -> None:
        super().__init__()
        self.bn1, self.conv1 = make_norm(group, c_in), make_conv(group, c_in, c_out, 3)
        self.pool = AvgPool2() if downsample else nn.Identity()
        self.bn2, self.conv2 = make_norm(group, c_out), make_conv(group, c_out, c_out, 3)
        same = c_in == c_out and not downsample
        self.shortcut = nn.Identity() if same else nn.Sequential(self.pool, make_conv(group, c_in, c_out, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(self.conv1(torch.relu(self.bn1(x))))
        return self.shortcut(x) + self.conv2(torch.relu(self.bn2(h)))


class ResNet44(nn.Module):
    """The 44-layer pre-activation ResNet of Table 2 (3 stages of 7 blocks) on Z2, p4 or p4m."""

    def __init__(self, group: str | Group = Z2, num_classes: int = 10, blocks_per_stage: int = 7,
                 widths: tuple[int, int, int] | None = None) -> None:
        super().__init__()
        self.group = group = get_group(group)
        widths = table_two_widths("ResNet44", group, RESNET44_WIDTHS, widths)
        self.stem = make_conv(group, 3, widths[0], 3, lifting=True)
        blocks, c_in = [], widths[0]
        for stage, width in enumerate(widths):
            for i in range(blocks_per_stage):
                blocks.append(PreActBlock(group, c_in, width, downsample=stage > 0 and i == 0))
                c_in = width
        self.blocks = nn.Sequential(*blocks)
        self.bn = make_norm(group, c_in)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (B, 10) for images (B, 3, 32, 32)."""
        if x.dim() != 4 or x.shape[1] != 3 or x.shape[-1] % 4 or x.shape[-1] != x.shape[-2]:
            raise ValueError(f"ResNet44: expected images (B, 3, H, H) with H divisible by 4, "
                             f"got {tuple(x.shape)}")
        h = torch.relu(self.bn(self.blocks(self.stem(x))))
        return self.fc(global_average(h))


TABLE2_MODELS: dict[str, type[nn.Module]] = {"allcnnc": AllCNNC, "resnet44": ResNet44}

MODELS: dict[str, type[TableOneCNN]] = {
    "z2cnn": Z2CNN,
    "p4cnn_rotpool": P4CNNRotationPooling,
    "p4cnn": P4CNN,
    "p8cnn": P8CNN,
}


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (weights, biases and batch-norm scales and shifts)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
