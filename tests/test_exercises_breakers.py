"""Checks of notebook 07: a right answer passes; a stub and each diagnosed mistake fail with its message."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gcnn_edu.exercises.breakers import check_exact_downsample, check_fixed_network, check_window_centres
from gcnn_edu.exercises.common import ExerciseFailed
from gcnn_edu.gconv import GroupConv2d, LiftingConv2d
from gcnn_edu.groups import P4
from gcnn_edu.models import AvgPool2
from gcnn_edu.pooling import coset_max_pool


def stub(*args):
    raise NotImplementedError()


def fails_with(check, function, *phrases):
    """The check rejects `function` with a message holding every phrase."""
    with pytest.raises(ExerciseFailed) as caught:
        check(function)
    for phrase in phrases:
        assert phrase in str(caught.value), str(caught.value)


# ---------------------------------------------------------------------------------------------
# Exercise 1: window_centres


def centres(n, k, s, pad_left, pad_right, shift=0.0, extra=0, stride=None, centre=None):
    """The centres of the windows, with the knobs that make the diagnosed mistakes."""
    stride = s if stride is None else stride
    m = (n + pad_left + pad_right - k) // s + 1 + extra
    offset = (k - 1) / 2 if centre is None else centre(k)
    return stride * torch.arange(m, dtype=torch.float64) - pad_left + offset - (n - 1) / 2 + shift


def test_window_centres_passes(capsys):
    check_window_centres(centres)
    check_window_centres(centres, seed=1)
    assert "Correct" in capsys.readouterr().out


def test_window_centres_stub():
    fails_with(check_window_centres, stub, "not written yet")


@pytest.mark.parametrize(("wrong", "diagnosis"), [
    (lambda n, k, s, a, b: centres(n, k, s, a, b, shift=(n - 1) / 2), "u = pixel - (n - 1)/2"),
    (lambda n, k, s, a, b: centres(n, k, s, a, b, centre=lambda k: k / 2), "not a + k/2"),
    (lambda n, k, s, a, b: centres(n, k, s, a, b, centre=lambda k: (k - 2) / 2), "instead of a + (k - 1)/2"),
    (lambda n, k, s, a, b: centres(n, k, s, a, b, shift=-0.5), "n/2 instead of (n - 1)/2"),
    (lambda n, k, s, a, b: centres(n, k, s, a, b, shift=a), "subtract the padding on the left"),
    (lambda n, k, s, a, b: centres(n, k, s, a, b, shift=2 * a), "not s j + p_left"),
    (lambda n, k, s, a, b: centres(n, k, s, b, a), "padding on the right where the padding on the left"),
    (lambda n, k, s, a, b: centres(n, k, s, a, b, stride=1), "pixels apart"),
    (lambda n, k, s, a, b: centres(n, k, s, a, b, extra=-1), "windows, but"),
    (lambda n, k, s, a, b: centres(n, k, s, a, b, shift=0.25), "window j reads input pixels"),
])
def test_window_centres_mistakes(wrong, diagnosis):
    fails_with(check_window_centres, wrong, diagnosis)


def test_window_centres_wrong_type_and_shape():
    fails_with(check_window_centres, lambda *case: centres(*case).tolist(), "torch.Tensor")
    fails_with(check_window_centres, lambda *case: centres(*case)[None], "shape")
    fails_with(check_window_centres, lambda *case: centres(*case).long(), "floating-point")


# ---------------------------------------------------------------------------------------------
# Exercise 2: exact_downsample


def downsample(c_in, c_out):
    return nn.Sequential(GroupConv2d(c_in, c_out, 3, P4, padding=1), AvgPool2())


class FlatConv(nn.Module):
    """A plain nn.Conv2d on the flattened planes (B, C*4, n, n): its filters are not a G-correlation."""

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(4 * c_in, 4 * c_out, 3, stride=stride, padding=1)

    def forward(self, f):
        return self.conv(f.flatten(1, 2)).unflatten(1, (-1, 4))


class Zero(nn.Module):
    def forward(self, f):
        return 0 * f


class Flattened(nn.Module):
    def forward(self, f):
        return f.flatten(1, 2)


class Strided(nn.Module):
    """A p4 group convolution evaluated with stride 2 (its expanded bank in one conv2d)."""

    def __init__(self, c_in, c_out, pads=(1, 1, 1, 1)):
        super().__init__()
        self.conv, self.pads = GroupConv2d(c_in, c_out, 3, P4), pads

    def forward(self, f):
        x = F.pad(f.flatten(1, 2), self.pads)
        return F.conv2d(x, self.conv.expanded_filters(), stride=2).unflatten(1, (-1, 4))


def test_exact_downsample_passes(capsys):
    check_exact_downsample(downsample)
    assert "Correct" in capsys.readouterr().out


def test_exact_downsample_stub():
    fails_with(check_exact_downsample, stub, "not written yet")


@pytest.mark.parametrize(("wrong", "diagnosis"), [
    (lambda a, b: Strided(a, b), "on the odd side 17 it does"),
    (lambda a, b: nn.Sequential(GroupConv2d(a, b, 3, P4), AvgPool2()), "without padding"),
    (lambda a, b: nn.Sequential(GroupConv2d(a, b, 3, P4, padding=2), AvgPool2()), "grows 16 to 18"),
    (lambda a, b: nn.Sequential(Pad((0, 2, 0, 2)), GroupConv2d(a, b, 3, P4), AvgPool2()),
     "not symmetric about the centre"),
    (lambda a, b: nn.Sequential(FlatConv(a, b), AvgPool2()), "not a G-correlation"),
    (lambda a, b: FlatConv(a, b, stride=2), "not a G-correlation"),
    (lambda a, b: lambda f: downsample(a, b)(f), "draws new filters at every call"),
    (lambda a, b: GroupConv2d(a, b, 3, P4, padding=1), "keeps the side"),
    (lambda a, b: Strided(a, b, (0, 2, 0, 2)), "not symmetric about the centre"),
    (lambda a, b: nn.Sequential(downsample(a, b), Zero()), "zero"),
])
def test_exact_downsample_mistakes(wrong, diagnosis):
    fails_with(check_exact_downsample, wrong, diagnosis)


def test_exact_downsample_wrong_type_and_shape():
    fails_with(check_exact_downsample, lambda a, b: 3, "should return a module")
    fails_with(check_exact_downsample, lambda a, b: nn.Sequential(downsample(a, b), Flattened()), "shape")
    fails_with(check_exact_downsample, lambda a, b: LiftingConv2d(a, b, 3, P4), "raised ValueError")


# ---------------------------------------------------------------------------------------------
# Exercise 3: fixed_network


class Pad(nn.Module):
    def __init__(self, pads):
        super().__init__()
        self.pads = pads

    def forward(self, f):
        return F.pad(f, self.pads)


class PlaneMaxPool(nn.Module):
    def __init__(self, k, s):
        super().__init__()
        self.k, self.s = k, s

    def forward(self, f):
        return F.max_pool2d(f.flatten(1, -3), self.k, self.s).unflatten(1, f.shape[1:-2])


class Readout(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.linear = nn.Linear(channels, 10)

    def forward(self, f):
        return self.linear(coset_max_pool(f, P4, "rotations").amax(dim=(-2, -1)))


def network(pool=(2, 2), pads=(1, 1, 1, 1)):
    """The notebook's network: the broken one with pool=(3, 2), pads=(1, 2, 1, 2); repaired by default."""
    return nn.Sequential(LiftingConv2d(1, 6, 3, P4), nn.ReLU(), PlaneMaxPool(*pool), Pad(pads),
                         GroupConv2d(6, 6, 4, P4), nn.ReLU(), GroupConv2d(6, 6, 3, P4), nn.ReLU(), Readout(6))


def test_fixed_network_passes(capsys):
    check_fixed_network(network)
    check_fixed_network(lambda: network(pads=(2, 2, 2, 2)), seed=1)
    assert "Correct" in capsys.readouterr().out


def test_fixed_network_stub():
    fails_with(check_fixed_network, stub, "not written yet")


@pytest.mark.parametrize(("wrong", "diagnoses"), [
    (lambda: network(pool=(3, 2), pads=(1, 2, 1, 2)), ("after stage 2 (counting from 0", "26 -> 12")),
    (lambda: network(pool=(3, 2)), ("26 -> 12 with a 3x3 window and stride 2", "(26 - 3) mod 2 = 1")),
    (lambda: network(pool=(3, 3)), ("26 -> 8 with a 3x3 window and stride 3", "(26 - 3) mod 3 = 2")),
    (lambda: network(pads=(1, 2, 1, 2)), ("after stage 3", "odd number of pixels (13 -> 16)")),
    (lambda: network(pads=(1, 1, 2, 2)), ("stage 3 (counting from 0", "non-square (13x13 -> 17x15",
                                          "pad the same on every side")),
    (lambda: nn.Sequential(Pad((0, 2, 0, 2)), *network()), ("not exact after stage 0", "off-centre")),
])
def test_fixed_network_mistakes(wrong, diagnoses):
    fails_with(check_fixed_network, wrong, *diagnoses)


def test_fixed_network_wrong_type_and_shape():
    fails_with(check_fixed_network, lambda: list(network()), "nn.Sequential")
    fails_with(check_fixed_network, lambda: network()[:-1], "shape")
    fails_with(check_fixed_network, lambda: nn.Sequential(*network(), nn.Flatten(0)), "shape")
    blind = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with torch.no_grad():
        blind[1].weight.zero_()
    fails_with(check_fixed_network, lambda: blind, "same scores")
