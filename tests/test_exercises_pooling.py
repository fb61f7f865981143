"""The checks of notebook 04's exercises: a correct answer passes, a stub and each known mistake fail."""

import pytest
import torch
from torch import nn

from gcnn_edu.exercises.common import ExerciseFailed
from gcnn_edu.exercises.pooling import (
    MaxReadout,
    PlaneMaxPool,
    broken_network,
    check_fixed_network,
    check_group_batch_norm,
    check_pool_over_cosets,
    check_pool_over_rotations,
)
from gcnn_edu.gconv import GroupConv2d, LiftingConv2d
from gcnn_edu.groups import P4, P4M
from gcnn_edu.pooling import coset_max_pool


def stub(*args):
    raise NotImplementedError()


def fails_with(check, fn, *words):
    """Run check(fn), expect an ExerciseFailed, and return its message after testing it holds `words`."""
    with pytest.raises(ExerciseFailed) as err:
        check(fn)
    message = str(err.value)
    for word in words:
        assert word in message, message
    return message


# Exercise 1: pool_over_rotations

def test_pool_over_rotations_accepts_the_package(capsys):
    for seed in (0, 1):
        check_pool_over_rotations(lambda f: coset_max_pool(f, P4, "rotations"), seed=seed)
    assert capsys.readouterr().out.count("Correct") == 2


@pytest.mark.parametrize(("wrong", "words"), [
    (lambda f: f.amax(dim=(3, 4)), ["maximum over the pixels", "group axis 2"]),
    (lambda f: f.amax(dim=(3, 4), keepdim=True), ["maximum over the pixels"]),
    (lambda f: f.amax(dim=1), ["maximum over the channels"]),
    (lambda f: f.mean(dim=2), ["averaged the four planes"]),
    (lambda f: f.amax(dim=2, keepdim=True), ["axis of size 1", "p4/C4"]),
    (lambda f: torch.stack([torch.rot90(f[:, :, k], -k, (-2, -1)) for k in range(4)], 2).amax(2),
     ["turned plane k"]),
    (lambda f: f.max(dim=2), ["(values, indices)"]),
    (lambda f: f.amax(dim=2) + 1, ["largest difference"]),
], ids=["spatial", "spatial-keepdim", "channels", "mean", "size-1 axis", "turned", "max-pair", "other"])
def test_pool_over_rotations_diagnoses(wrong, words):
    fails_with(check_pool_over_rotations, wrong, *words)


def test_pool_over_rotations_stub_and_wrong_types():
    fails_with(check_pool_over_rotations, stub, "not written yet")
    fails_with(check_pool_over_rotations, lambda f: f.amax(dim=2).numpy(), "torch.Tensor")
    fails_with(check_pool_over_rotations, lambda f: f[:, :, 0, :2], "shape")
    fails_with(check_pool_over_rotations, lambda f: None, "returned None")


# Exercise 2: pool_over_cosets

def test_pool_over_cosets_accepts_the_package(capsys):
    for seed in (0, 1):
        check_pool_over_cosets(lambda f, subgroup: coset_max_pool(f, P4M, subgroup), seed=seed)
    assert capsys.readouterr().out.count("Correct") == 2


def by_rotations(f, pick):
    """Two planes, the maxima of the planes f[:, :, pick[0]] and f[:, :, pick[1]]."""
    return torch.stack([f[:, :, list(p)].amax(2) for p in pick], 2)


def with_stabilizer(rotations):
    return lambda f, subgroup: rotations(f) if subgroup == "rotations" else f.amax(2)


@pytest.mark.parametrize(("wrong", "words"), [
    (with_stabilizer(lambda f: by_rotations(f, ([0, 2, 4, 6], [1, 3, 5, 7]))),
     ["{0, 2, 4, 6} = {e, r², m, mr²}", "not a coset", "s = 4m + r"]),
    (with_stabilizer(lambda f: by_rotations(f, ([0, 1, 4, 5], [2, 3, 6, 7]))),
     ["{0, 1, 4, 5}", "not a coset"]),
    (with_stabilizer(lambda f: by_rotations(f, ([4, 5, 6, 7], [0, 1, 2, 3]))), ["wrong order"]),
    (with_stabilizer(lambda f: f.unflatten(2, (2, 4)).mean(3)), ["averaged"]),
    (lambda f, subgroup: by_rotations(f, ([0, 1, 2, 3], [4, 5, 6, 7])),
     ["subgroup='stabilizer'", "pool all eight planes"]),
    (lambda f, subgroup: f.amax(2), ["subgroup='rotations'", "two cosets"]),
    (lambda f, subgroup: by_rotations(f, ([0, 1, 2, 3], [4, 5, 6, 7])) if subgroup == "rotations" else None,
     ["returned None", "each subgroup"]),
    (with_stabilizer(lambda f: torch.stack([f[:, :, [k, 4 + (-k) % 4]].amax(2) for k in range(4)], 2)),
     ["four planes"]),
    (lambda f, subgroup: by_rotations(f, ([0, 1, 2, 3], [4, 5, 6, 7])) if subgroup == "rotations"
     else f.amax(2, keepdim=True), ["axis of size 1", "p4m/D4"]),
], ids=["even-odd", "other-grouping", "swapped", "mean", "no-stabilizer", "no-rotations", "none", "4-planes",
        "size-1 axis"])
def test_pool_over_cosets_diagnoses(wrong, words):
    fails_with(check_pool_over_cosets, wrong, *words)


def test_pool_over_cosets_stub_and_wrong_types():
    fails_with(check_pool_over_cosets, stub, "not written yet")
    fails_with(check_pool_over_cosets, lambda f, subgroup: [f], "torch.Tensor")
    fails_with(check_pool_over_cosets, lambda f, subgroup: {"stabilizer": f.amax(2)}[subgroup],
               "raised KeyError")


# Exercise 3: group_batch_norm

def batch_norm(f, eps, axes=(0, 2, 3, 4), correction=0, with_eps=True):
    mu = f.mean(dim=axes, keepdim=True)
    variance = f.var(dim=axes, keepdim=True, correction=correction)
    return (f - mu) / torch.sqrt(variance + (eps if with_eps else 0.0))


def test_group_batch_norm_accepts_the_formula(capsys):
    for seed in (0, 1):
        check_group_batch_norm(batch_norm, seed=seed)
    assert capsys.readouterr().out.count("Correct") == 2


@pytest.mark.parametrize(("wrong", "words"), [
    (lambda f, eps: batch_norm(f, eps, axes=(0, 3, 4)),
     ["each plane s", "g = r, r³", "in one batch", "plane g^-1 s onto plane s"]),
    (lambda f, eps: batch_norm(f, eps, correction=1), ["unbiased variance"]),
    (lambda f, eps: batch_norm(f, eps, with_eps=False), ["forgot eps"]),
    (lambda f, eps: (f - f.mean((0, 2, 3, 4), True)) / (f.var((0, 2, 3, 4), keepdim=True, correction=0).sqrt()
                                                        + eps), ["under the square root"]),
    (lambda f, eps: batch_norm(f, eps, axes=(2, 3, 4)), ["each image of the batch"]),
    (lambda f, eps: batch_norm(f, eps, axes=(0, 1, 2, 3, 4)), ["all channels together"]),
    (lambda f, eps: batch_norm(f, eps) * 2, ["largest difference"]),
], ids=["per-plane", "unbiased", "no-eps", "eps-outside", "per-image", "all-channels", "other"])
def test_group_batch_norm_diagnoses(wrong, words):
    fails_with(check_group_batch_norm, wrong, *words)


def test_group_batch_norm_per_plane_names_the_broken_elements_on_p4m():
    # with f and L_g f in one batch, the quarter turns mix the statistics of neighbouring planes
    message = fails_with(check_group_batch_norm, lambda f, eps: batch_norm(f, eps, axes=(0, 3, 4)))
    assert "p4 map" in message and "order 2" in message


def test_group_batch_norm_stub_and_wrong_types():
    fails_with(check_group_batch_norm, stub, "not written yet")
    fails_with(check_group_batch_norm, lambda f, eps: batch_norm(f, eps)[:, :, :, 1:], "shape")
    fails_with(check_group_batch_norm, lambda f, eps: 0.0, "torch.Tensor")


# Exercise 4: fixed_network

def replaced_pool(kernel_size, stride):
    def fixed():
        net = broken_network()
        net[2] = PlaneMaxPool(kernel_size, stride=stride)
        return net
    return fixed


@pytest.mark.parametrize(("kernel_size", "stride"), [(3, 2), (1, 2), (2, 1)])
def test_fixed_network_accepts_a_pool_on_a_symmetric_grid(kernel_size, stride, capsys):
    for seed in (0, 1):
        check_fixed_network(replaced_pool(kernel_size, stride), seed=seed)
    assert capsys.readouterr().out.count("Correct") == 2


def test_fixed_network_unchanged_names_only_the_elements():
    message = fails_with(check_fixed_network, broken_network, "g = r, r², r³", "broken_network() unchanged",
                         "follow the side of the map through the layers: which layer breaks a rule of the "
                         "conventions?")
    for answer in ("layer 2", "n = 23", "PlaneMaxPool"):
        assert answer not in message, message


def test_fixed_network_names_the_off_centre_pool_once_something_changed():
    def changed_conv():
        net = broken_network()
        net[3] = GroupConv2d(4, 6, 3, P4, padding=1)
        return net
    fails_with(check_fixed_network, changed_conv, "g = r, r², r³", "layer 2", "n = 23",
               "not placed symmetrically about the grid's centre")


def test_fixed_network_padding_keeps_the_odd_side():
    def padded():
        net = broken_network()
        net[0] = LiftingConv2d(1, 4, 3, P4, padding=1)
        return net
    fails_with(check_fixed_network, padded, "n = 25", "not divisible")


def test_fixed_network_says_which_shifts_a_stride_keeps():
    fails_with(check_fixed_network, replaced_pool(2, 3), "shifts by 2 pixels", "stride 3")


def test_fixed_network_refuses_a_network_without_the_layers():
    def removed():
        net = broken_network()
        del net[2]
        return net
    fails_with(check_fixed_network, removed, "keep broken_network()'s layers")
    fails_with(check_fixed_network, replaced_pool(1, 1), "does nothing")


def test_fixed_network_refuses_other_parameter_shapes():
    def bigger():
        return nn.Sequential(LiftingConv2d(1, 4, 4, P4), nn.ReLU(), PlaneMaxPool(2, stride=2),
                             GroupConv2d(4, 6, 3, P4), nn.ReLU(), MaxReadout())
    fails_with(check_fixed_network, bigger, "parameters' layout", "A new convolution kernel size",
               "a pool's kernel size and stride are settings")


def test_fixed_network_stub_and_wrong_types():
    fails_with(check_fixed_network, stub, "not written yet")
    fails_with(check_fixed_network, lambda: LiftingConv2d(1, 4, 3, P4), "nn.Sequential")
    fails_with(check_fixed_network, lambda: None, "nn.Sequential")

    def breaks_on_input():
        net = broken_network()
        net[2] = PlaneMaxPool(40, stride=2)
        return net
    fails_with(check_fixed_network, breaks_on_input, "your network raised")
