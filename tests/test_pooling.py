"""Coset max-pooling, spatial pooling and group batch norm: equivariance, invariance, checks."""

import pytest
import torch
from equivariance import SHIFTS, zero_border

from gcnn_edu import check_equivariance
from gcnn_edu.actions import act, act_on_image
from gcnn_edu.groups import C8, P4, P4M
from gcnn_edu.pooling import GroupBatchNorm, coset_max_pool, spatial_max_pool


@pytest.mark.parametrize("group", [P4, P4M], ids=repr)
def test_pooling_over_the_stabilizer_gives_an_invariant_plane_map(group):
    f = zero_border(torch.randn(2, 3, group.order, 9, 9), 2)
    pooled = coset_max_pool(f, group, "stabilizer")
    assert pooled.shape == (2, 3, 9, 9)
    for g in group.stabilizer() + SHIFTS[: 3 if group is P4M else 2]:
        # P(L_g f) = L_g P(f): the result is an image, moved by g like any image
        assert torch.equal(coset_max_pool(act(g, f, group), group, "stabilizer"), act_on_image(g, pooled))


def test_p4_rotation_pooling_is_the_stabilizer_pooling():
    f = torch.randn(2, 3, 4, 5, 5)
    assert torch.equal(coset_max_pool(f, P4, "rotations"), f.amax(dim=2))


def test_p4m_rotation_pooling_leaves_one_plane_per_mirror_coset():
    f = torch.randn(2, 3, 8, 7, 7)
    pooled = coset_max_pool(f, P4M, "rotations")
    assert pooled.shape == (2, 3, 2, 7, 7)
    for g in P4M.stabilizer():
        moved = coset_max_pool(act(g, f, P4M), P4M, "rotations")
        # L_g on p4m/C4: each plane moves like an image, a mirror swaps the two cosets
        expected = act_on_image(g, pooled)[:, :, [g.m, 1 - g.m]]
        assert torch.equal(moved, expected), g


@pytest.mark.parametrize("group", [P4, P4M], ids=repr)
@pytest.mark.parametrize("size", [8, 12])
def test_spatial_pooling_on_even_sides_is_equivariant(group, size):
    f = torch.randn(2, 3, group.order, size, size)
    assert set(check_equivariance(spatial_max_pool, group, f).values()) == {0.0}
    image = torch.randn(1, 1, size, size)
    assert set(check_equivariance(spatial_max_pool, group, image).values()) == {0.0}


def test_spatial_pooling_on_an_odd_side_raises_with_the_reason():
    with pytest.raises(ValueError, match="side of 7 pixels.*not placed symmetrically"):
        spatial_max_pool(torch.randn(1, 2, 4, 7, 7))
    # and the reason is real: floor-mode pooling on 7x7 breaks rotation equivariance
    f = torch.randn(1, 1, 7, 7)
    pool = torch.nn.MaxPool2d(2)
    assert check_equivariance(pool, P4, f, [P4.element(1)])[P4.element(1)] > 0.01


def test_a_3x3_pool_with_stride_2_on_9_is_fine():
    assert spatial_max_pool(torch.randn(1, 2, 4, 9, 9), 3, 2).shape == (1, 2, 4, 4, 4)


@pytest.mark.parametrize("group", [P4, P4M], ids=repr)
def test_group_batch_norm_shares_statistics_over_the_group_axis(group):
    bn = GroupBatchNorm(3, group)
    f = torch.randn(4, 3, group.order, 6, 6) * torch.arange(1.0, 1.0 + group.order)[:, None, None]
    out = bn(f)
    assert bn.running_mean.shape == (3,)
    per_channel = out.transpose(0, 1).flatten(1)
    torch.testing.assert_close(per_channel.mean(1), torch.zeros(3), atol=1e-5, rtol=0)
    # one statistic per channel: the planes keep their different scales
    plane_std = out.transpose(0, 2).flatten(1).std(1)
    assert plane_std[-1] > 2 * plane_std[0]
    assert max(check_equivariance(bn, group, f).values()) < 1e-5


def test_group_batch_norm_checks_its_input():
    with pytest.raises(ValueError, match=r"expected \(B, 3, 4, H, W\) on p4, got \(2, 3, 5, 5\)"):
        GroupBatchNorm(3, P4)(torch.randn(2, 3, 5, 5))
    with pytest.raises(ValueError, match=r"expected \(B, 3, 8, H, W\) on p4m, got \(2, 3, 4, 5, 5\)"):
        GroupBatchNorm(3, P4M)(torch.randn(2, 3, 4, 5, 5))


def test_coset_pool_checks_its_input():
    with pytest.raises(ValueError, match="subgroup must be one of"):
        coset_max_pool(torch.randn(1, 1, 4, 3, 3), P4, "mirrors")
    with pytest.raises(ValueError, match=r"\(B, C, 4, H, W\) on p4, got \(1, 1, 3, 3, 3\)"):
        coset_max_pool(torch.randn(1, 1, 3, 3, 3), P4)
    with pytest.raises(ValueError, match=r"\(B, C, 8, H, W\) on p4m, got \(1, 1, 4, 3, 3\)"):
        coset_max_pool(torch.randn(1, 1, 4, 3, 3), P4M)


def test_c8_pooling_and_batch_norm_are_exact_at_quarter_turns():
    """On C8 the planes roll by 2 under a quarter turn and are turned exactly (rot90)."""
    f = zero_border(torch.randn(2, 3, 8, 9, 9), 2)
    quarter_turns = [g for g in C8.stabilizer() if g.degrees % 90 == 0]
    pooled = coset_max_pool(f, C8, "rotations")
    assert pooled.shape == (2, 3, 9, 9)
    for g in quarter_turns:
        assert torch.equal(coset_max_pool(act(g, f, C8), C8, "rotations"), act_on_image(g, pooled))
    bn = GroupBatchNorm(3, C8)
    assert max(check_equivariance(bn, C8, f, quarter_turns).values()) < 1e-5
    # a 45-degree turn interpolates every plane: max-pooling then follows it only approximately
    r = C8.element(1)
    assert 0 < check_equivariance(lambda h: coset_max_pool(h, C8), C8, f, [r])[r] < 1


@pytest.mark.parametrize("kernel_size, stride", [(0, None), (2, 0), (2.0, None)])
def test_a_pool_of_size_or_stride_zero_is_named(kernel_size, stride):
    with pytest.raises(ValueError, match="a pool needs a positive int kernel_size and stride"):
        spatial_max_pool(torch.randn(1, 1, 4, 8, 8), kernel_size, stride)
