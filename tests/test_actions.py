"""L_g on images and feature maps: one-hot test, L_e = id, L_g L_h = L_gh, C8 by interpolation, checks."""

import itertools

import pytest
import torch

from gcnn_edu.actions import act_on_feature_map, act_on_image
from gcnn_edu.groups import C8, P4, P4M

SIZE = 11
TRANSLATIONS = [P4M.element(0, 0, 1, 0), P4M.element(0, 0, 0, -2), P4M.element(1, 3, 1, 1),
                P4.element(2, -1, 2)]


def one_hot(u: int, v: int, size: int = SIZE) -> torch.Tensor:
    """An image with a single 1 at the point x = (u, v) (u right, v up, origin at the centre)."""
    f = torch.zeros(size, size)
    f[(size - 1) // 2 - v, u + (size - 1) // 2] = 1
    return f


@pytest.mark.parametrize("g", P4M.stabilizer() + TRANSLATIONS, ids=repr)
@pytest.mark.parametrize("x", [(1, 0), (2, 1), (-1, -3), (0, 0)])
def test_one_hot_goes_to_g_x(g, x):
    assert torch.equal(act_on_image(g, one_hot(*x)), one_hot(*(g * x)))


def test_one_hot_on_an_even_grid():
    f = torch.zeros(4, 4)
    f[0, 3] = 1  # the point (1.5, 1.5): rotating by 90 degrees sends it to (-1.5, 1.5)
    rotated = act_on_image(P4.element(1), f)
    assert rotated[0, 0] == 1 and rotated.sum() == 1


def test_translation_fills_with_zeros():
    f = torch.ones(5, 5)
    shifted = act_on_image(P4.element(0, 2, 0), f)
    assert shifted[:, :2].sum() == 0 and shifted[:, 2:].sum() == 15


@pytest.mark.parametrize("group", [P4, P4M], ids=repr)
def test_identity_and_composition_on_images(group):
    f = torch.randn(2, 3, 7, 7)
    assert torch.equal(act_on_image(group.identity(), f), f)
    for g, h in itertools.product(group.stabilizer(), repeat=2):
        assert torch.equal(act_on_image(g, act_on_image(h, f)), act_on_image(g * h, f))


@pytest.mark.parametrize("group", [P4, P4M, C8], ids=repr)
def test_identity_and_composition_on_feature_maps(group):
    f = torch.randn(2, 3, group.order, 7, 7)
    assert torch.equal(act_on_feature_map(group.identity(), f), f)
    for g, h in itertools.product(group.stabilizer(), repeat=2):
        if group.exact or g.degrees % 90 == 0:  # C8: exact when g is a quarter turn (see below)
            assert torch.equal(act_on_feature_map(g, act_on_feature_map(h, f)),
                               act_on_feature_map(g * h, f))


def test_c8_interpolates_at_45_degrees_and_composes_only_approximately():
    """Two bilinear 45-degree turns blur: L_r L_r is close to, but not, the exact quarter turn L_{r^2}."""
    disc = torch.zeros(21, 21)
    yy, xx = torch.meshgrid(torch.arange(21.0) - 10, torch.arange(21.0) - 10, indexing="ij")
    disc[(xx - 3) ** 2 + (yy - 1) ** 2 <= 9] = 1.0  # a smooth-edged blob off the centre
    r = C8.element(1)
    twice = act_on_image(r, act_on_image(r, disc))
    assert torch.equal(act_on_image(r * r, disc), torch.rot90(disc, 1))
    assert 0 < (twice - torch.rot90(disc, 1)).abs().max() < 0.6
    assert (twice - torch.rot90(disc, 1)).abs().mean() < 0.02
    # the point (4, 0) lands at R(45) (4, 0) = (2.83, 2.83), between pixels: mostly on (3, 3)
    point = one_hot(4, 0, 21)
    turned = act_on_image(r, point)
    assert 0.8 < turned.sum() < 1.2 and turned.max() < 1  # spread over pixels: not a permutation
    assert turned.argmax() == (10 - 3) * 21 + (10 + 3) and (turned > 0).sum() > 1


def test_c8_quarter_turns_are_exact_on_feature_maps():
    f = torch.randn(2, 8, 9, 9)
    turned = act_on_feature_map(C8.element(2), f)
    for s in range(8):
        assert torch.equal(turned[:, (s + 2) % 8], torch.rot90(f[:, s], 1, dims=(-2, -1)))


def test_composition_with_translations_on_a_zero_border():
    f = torch.zeros(2, 8, 11, 11)
    f[..., 4:7, 4:7] = torch.randn(2, 8, 3, 3)
    for g, h in itertools.product(TRANSLATIONS[:3], repeat=2):
        assert torch.equal(act_on_feature_map(g, act_on_feature_map(h, f)),
                           act_on_feature_map(g * h, f))


def test_rotation_rotates_planes_and_shifts_the_rotation_axis():
    """Figure 1: L_r rotates every plane and moves plane s to s + 1."""
    f = torch.randn(4, 5, 5)
    rotated = act_on_feature_map(P4.element(1), f)
    for s in range(4):
        assert torch.equal(rotated[(s + 1) % 4], torch.rot90(f[s], 1))


def test_mirror_swaps_the_cycles_and_rotation_runs_them_in_opposite_directions():
    """Figure 2: M swaps plane r and plane M R^r; R moves r to r + 1 but M R^r to M R^(r-1)."""
    f = torch.randn(8, 5, 5)
    mirrored = act_on_feature_map(P4M.element(1, 0), f)
    rotated = act_on_feature_map(P4M.element(0, 1), f)
    for r in range(4):
        assert torch.equal(mirrored[4 + r], torch.flip(f[r], dims=(-1,)))
        assert torch.equal(mirrored[r], torch.flip(f[4 + r], dims=(-1,)))
        assert torch.equal(rotated[(r + 1) % 4], torch.rot90(f[r], 1))
        assert torch.equal(rotated[4 + (r - 1) % 4], torch.rot90(f[4 + r], 1))


def test_bad_inputs_name_expected_and_actual_shapes():
    g = P4.element(1)
    with pytest.raises(ValueError, match=r"H == W, got shape \(3, 5\)"):
        act_on_image(g, torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W\).*got shape \(5,\)"):
        act_on_image(g, torch.zeros(5))
    with pytest.raises(ValueError, match=r"on p4 has S = 4 planes .*got shape \(2, 5, 7, 7\)"):
        act_on_feature_map(g, torch.zeros(2, 5, 7, 7))
    with pytest.raises(TypeError, match="expected a torch.Tensor, got ndarray"):
        act_on_image(g, torch.zeros(5, 5).numpy())
    with pytest.raises(ValueError, match=r"\(\.\.\., S, H, W\).*got shape \(7, 7\)"):
        act_on_feature_map(g, torch.zeros(7, 7))
    with pytest.raises(ValueError, match="not in p4, the group of the map"):
        act_on_feature_map(P4M.element(1, 0), torch.zeros(4, 7, 7), P4)
    # a p4 element acts on a p4m map when the map's group is given
    assert act_on_feature_map(P4.element(1), torch.zeros(8, 7, 7), P4M).shape == (8, 7, 7)


def test_quarter_turns_and_mirrors_permute_any_dtype():
    """Exact permutations: integer tensors (e.g. pixel indices) move as well as floats."""
    index = torch.arange(9).reshape(3, 3)
    assert torch.equal(act_on_image(P4M.element(1, 1), index), torch.flip(torch.rot90(index, 1), dims=(-1,)))
    assert torch.equal(act_on_feature_map(P4.element(2), torch.arange(36).reshape(4, 3, 3))[0],
                       torch.rot90(torch.arange(36).reshape(4, 3, 3)[2], 2))
