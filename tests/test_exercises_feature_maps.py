"""The checks of notebook 03's exercises: they pass correct code, and name each known mistake."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gcnn_edu.actions import act_on_feature_map
from gcnn_edu.exercises.common import ExerciseFailed
from gcnn_edu.exercises.feature_maps import (
    check_act_on_p4_map,
    check_act_on_p4m_map,
    check_group_correlation,
    check_group_filter_bank,
)
from gcnn_edu.gconv import group_conv
from gcnn_edu.groups import P4, P4M


def fails(check, fn, *phrases: str) -> str:
    """Run check(fn); it must raise ExerciseFailed whose message holds every phrase."""
    with pytest.raises(ExerciseFailed) as caught:
        check(fn)
    message = str(caught.value)
    for phrase in phrases:
        assert phrase in message, message
    return message


def not_written(*args):
    raise NotImplementedError()


# ---------------------------------------------------------------------------------------------
# Exercise 1: L_r on a p4 map


def p4_map(shift_sign: int = 1, turn_sign: int = 1):
    """L_r on a p4 map with the group axis rolled by shift_sign * r and planes turned by turn_sign * r."""
    def act_on_p4_map(f, r):
        return torch.rot90(torch.roll(f, shift_sign * r, dims=2), turn_sign * r, dims=(-2, -1))
    return act_on_p4_map


@pytest.mark.parametrize("fn", [p4_map(), lambda f, r: act_on_feature_map(P4.element(r), f)])
@pytest.mark.parametrize("seed", [0, 1])
def test_act_on_p4_map_passes_correct_code(fn, seed, capsys):
    check_act_on_p4_map(fn, seed=seed)
    assert capsys.readouterr().out.startswith("Correct: act_on_p4_map agrees")


def test_act_on_p4_map_stub():
    fails(check_act_on_p4_map, not_written, "not written yet")


@pytest.mark.parametrize(("fn", "phrases"), [
    (p4_map(shift_sign=-1), ["your L_r sends plane 0 (e) to plane 3 (r³); L_g F(h) = F(g^-1 h) sends it to "
                             "plane 1 (r)"]),
    (p4_map(shift_sign=0), ["not moved along the group axis"]),
    (p4_map(turn_sign=0), ["were not turned"]),
    (p4_map(turn_sign=-1), ["turned clockwise"]),
    (lambda f, r: torch.flip(torch.roll(f, r, dims=2), dims=(-1,)), ["is not a transformed plane of f"]),
])
def test_act_on_p4_map_names_the_mistake(fn, phrases):
    fails(check_act_on_p4_map, fn, *phrases)


@pytest.mark.parametrize("fn", [lambda f, r: f[:, :, :2], lambda f, r: f.numpy(), lambda f, r: None])
def test_act_on_p4_map_wrong_shape_or_type(fn):
    fails(check_act_on_p4_map, fn, "act_on_p4_map should return")


# ---------------------------------------------------------------------------------------------
# Exercise 2: L_g on a p4m map


def p4m_map(sign_on_mirrored_half=True, mirror_in_plane_order=True, layout="4m + r", sign_from_target=False,
            flip_dims=(-1,)):
    """L_g on a p4m map with some of the known mistakes switched on."""
    def index(m, r):
        return 4 * m + r if layout == "4m + r" else m + 2 * r

    def act_on_p4m_map(f, g):
        m, r = g
        m_plane = m if mirror_in_plane_order else 0
        out = torch.empty_like(f)
        for c in range(2):
            for d in range(4):
                sign = (-1) ** (m_plane + c) if sign_on_mirrored_half else (-1) ** m_plane
                sign = (-1) ** c if sign_from_target else sign
                out[:, :, index(c, d)] = f[:, :, index((m_plane + c) % 2, (d - sign * r) % 4)]
        out = torch.rot90(out, r, dims=(-2, -1))
        return torch.flip(out, dims=flip_dims) if m else out
    return act_on_p4m_map


@pytest.mark.parametrize("fn", [p4m_map(), lambda f, g: act_on_feature_map(P4M.element(*g), f)])
@pytest.mark.parametrize("seed", [0, 1])
def test_act_on_p4m_map_passes_correct_code(fn, seed, capsys):
    check_act_on_p4m_map(fn, seed=seed)
    assert capsys.readouterr().out.startswith("Correct: act_on_p4m_map agrees")


def test_act_on_p4m_map_stub():
    fails(check_act_on_p4m_map, not_written, "not written yet")


def mirrored_then_turned(f, g):
    """The planes moved right, but each one flipped first and turned after (L_R^r L_M, not L_M L_R^r)."""
    m, r = g
    k = P4M.element(m, r)
    planes = f[:, :, [P4M.index(k.inverse() * s) for s in P4M.stabilizer()]]
    return torch.rot90(torch.flip(planes, dims=(-1,)) if m else planes, r, dims=(-2, -1))


def plane_g_s(f, g):
    """Plane s holds plane g s of f (instead of g^-1 s), transformed by g."""
    m, r = g
    k = P4M.element(m, r)
    planes = torch.rot90(f[:, :, [P4M.index(k * s) for s in P4M.stabilizer()]], r, dims=(-2, -1))
    return torch.flip(planes, dims=(-1,)) if m else planes


@pytest.mark.parametrize(("fn", "phrases"), [
    (p4m_map(sign_from_target=True),
     ["for g = mr", "sends plane 0 (e) to plane 7 (mr³); L_g F(h) = F(g^-1 h) sends it to plane 5 (mr)",
      "your sign (-1)^c", "instead of (-1)^(a+c)", "cycle a + c of the source plane"]),
    (plane_g_s, ["for g = r", "holds plane g s of F instead of plane g^-1 s",
                 "sends plane 0 (e) to plane 3 (r³)", "sends it to plane 1 (r) = g q"]),
    (p4m_map(flip_dims=(-2,)),
     ["for g = m", "flips the rows", "L_m is u -> -u, a left-right flip of the columns (dims=(-1,))"]),
    (p4m_map(sign_on_mirrored_half=False),
     ["for g = r", "sends plane 5 (mr) to plane 6 (mr²); L_g F(h) = F(g^-1 h) sends it to plane 4 (m)",
      "rotations run the other way"]),
    (p4m_map(mirror_in_plane_order=False),
     ["for g = m", "plane order ignores the mirror", "sends it to plane 4 (m)", "swaps the two cycles"]),
    (p4m_map(layout="m + 2r"), ["s = m + 2r", "plane s = 4m + r holds"]),
    (mirrored_then_turned, ["for g = mr", "mirrored first and turned after"]),
    (lambda f, g: f[:, :, [P4M.index(P4M.element(*g).inverse() * s) for s in P4M.stabilizer()]],
     ["not transformed as images"]),
])
def test_act_on_p4m_map_names_the_mistake(fn, phrases):
    fails(check_act_on_p4m_map, fn, *phrases)


@pytest.mark.parametrize("fn", [lambda f, g: f[:, :, :4], lambda f, g: [f]])
def test_act_on_p4m_map_wrong_shape_or_type(fn):
    fails(check_act_on_p4m_map, fn, "act_on_p4m_map should return")


# ---------------------------------------------------------------------------------------------
# Exercise 3: the bank L_s psi


def bank(shift_sign=1, turn_sign=1, flat=True, rows="o, s"):
    """The bank of a p4 filter with some of the known mistakes switched on."""
    def group_filter_bank(psi):
        copies = [torch.rot90(psi.roll(shift_sign * s, dims=2), turn_sign * s, dims=(-2, -1))
                  for s in range(4)]
        out = torch.stack(copies, dim=1 if rows == "o, s" else 0)
        return out.flatten(0, 1).flatten(1, 2) if flat else out
    return group_filter_bank


@pytest.mark.parametrize("seed", [0, 1])
def test_group_filter_bank_passes_correct_code(seed, capsys):
    check_group_filter_bank(bank(), seed=seed)
    assert capsys.readouterr().out.startswith("Correct: group_filter_bank agrees")


def test_group_filter_bank_stub():
    fails(check_group_filter_bank, not_written, "not written yet")


@pytest.mark.parametrize(("fn", "phrases"), [
    (bank(shift_sign=0), ["group axis of psi did not move"]),
    (bank(shift_sign=-1), ["moved the wrong way", "slice e belongs in slice r"]),
    (bank(turn_sign=0), ["were not turned"]),
    (bank(turn_sign=-1), ["turned clockwise"]),
    (bank(rows="s, o"), ["rows are ordered s * C_out + o"]),
    (lambda psi: bank(flat=False)(psi).transpose(2, 3).flatten(0, 1).flatten(1, 2),
     ["columns are ordered q * C_in + i"]),
    (lambda psi: torch.stack([torch.rot90(psi.roll(s, dims=1), s, dims=(-2, -1)) for s in range(4)],
                             dim=1).flatten(0, 1).flatten(1, 2),
     ["rolled psi along dim 1, its input channels C_in", "roll along dims=2"]),
    (lambda psi: bank()(psi) * 2, ["differs from the package's filter expansion", "largest difference"]),
])
def test_group_filter_bank_names_the_mistake(fn, phrases):
    fails(check_group_filter_bank, fn, *phrases)


def test_group_filter_bank_places_a_difference_at_a_pixel_not_a_channel():
    def one_entry_off(psi):
        out = bank()(psi).clone()
        out[5, 2, 1, 0] += 10.0
        return out
    message = fails(check_group_filter_bank, one_entry_off,
                    "entry [5, 2] = [4o + s, 4i + q] (o 1, s 1, i 0, q 2), pixel (1, 0) of the k x k slice")
    assert " i 1, j 0" not in message, message


@pytest.mark.parametrize(("fn", "phrases"), [
    (bank(flat=False), ["as conv2d wants it", "merge the axes"]),
    (lambda psi: psi, ["group_filter_bank should return shape"]),
    (lambda psi: 3, ["group_filter_bank should return a torch.Tensor"]),
])
def test_group_filter_bank_wrong_shape_or_type(fn, phrases):
    fails(check_group_filter_bank, fn, *phrases)


# ---------------------------------------------------------------------------------------------
# Exercise 4: the group correlation


def correlation(group_filter_bank=None, flatten_in="i, q", split_out="o, s", padding=0):
    """Eq. 11 as one conv2d (the correct bank unless another is given), with known mistakes switched on."""
    group_filter_bank = group_filter_bank or bank()

    def group_correlation(f, psi):
        x = f.flatten(1, 2) if flatten_in == "i, q" else f.transpose(1, 2).flatten(1, 2)
        out = F.conv2d(x, group_filter_bank(psi), padding=padding)
        if split_out == "o, s":
            return out.unflatten(1, (psi.shape[0], 4))
        return out.unflatten(1, (4, psi.shape[0])).transpose(1, 2)
    return group_correlation


@pytest.mark.parametrize("fn", [correlation(), lambda f, psi: group_conv(f, psi, P4)])
@pytest.mark.parametrize("seed", [0, 1])
def test_group_correlation_passes_correct_code(fn, seed, capsys):
    check_group_correlation(fn, seed=seed)
    assert capsys.readouterr().out.startswith("Correct: group_correlation agrees with the literal sum")


def test_group_correlation_stub_and_its_unwritten_bank():
    fails(check_group_correlation, not_written, "not written yet")
    fails(check_group_correlation, correlation(group_filter_bank=not_written),
          "not_written is not written yet")


@pytest.mark.parametrize(("fn", "phrases"), [
    (correlation(bank(shift_sign=0)),
     ["treated as 4 separate channels", "not equivariant", "check_equivariance gives the relative errors r ",
      "for g = r the planes"]),
    (correlation(bank(shift_sign=-1)), ["moved the wrong way", "not equivariant"]),
    (correlation(bank(turn_sign=0)), ["not turned by s", "not equivariant"]),
    (correlation(lambda psi: psi.flatten(1, 2).repeat_interleave(4, 0)),  # = reshape(co, ci*4, k, k)
     ["four output planes are the same map", "through psi itself instead of L_s psi", "plain psi",
      "equivariant to translations only", "not equivariant"]),
    (correlation(lambda psi: bank()(psi).flip(-2, -1)),
     ["flipped", "convolution", "eq. 11 is a correlation"]),
    (correlation(flatten_in="q, i"), ["wrong reshape order of the input"]),
    (correlation(split_out="s, o"), ["wrong reshape order of the output"]),
    (correlation(flatten_in="q, i", split_out="s, o"), ["both the input and the output"]),
    (lambda f, psi: correlation()(f, psi) + 1,
     ["differs from the literal sum of eq. 11", "largest difference"]),
])
def test_group_correlation_names_the_mistake(fn, phrases):
    fails(check_group_correlation, fn, *phrases)


@pytest.mark.parametrize(("fn", "phrases"), [
    (correlation(padding=1), ["no padding"]),
    (lambda f, psi: correlation()(f, psi)[:, :, 0], ["group_correlation should return shape"]),
    (lambda f, psi: "f ⋆ psi", ["group_correlation should return a torch.Tensor"]),
])
def test_group_correlation_wrong_shape_or_type(fn, phrases):
    fails(check_group_correlation, fn, *phrases)
