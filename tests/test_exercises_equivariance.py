"""The checks of notebook 02: a correct answer passes; a stub and each diagnosed mistake fail, saying why."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gcnn_edu.exercises.common import ExerciseFailed
from gcnn_edu.exercises.equivariance import (
    check_lifting_correlation,
    check_lifting_filter_bank,
    check_turn_image,
)
from gcnn_edu.gconv import expand_lifting_filter, lifting_conv


def stub(*args):
    raise NotImplementedError()


def fails_with(check, function, *phrases):
    """The check rejects `function` with a message holding every phrase."""
    with pytest.raises(ExerciseFailed) as caught:
        check(function)
    for phrase in phrases:
        assert phrase in str(caught.value), str(caught.value)


# ---------------------------------------------------------------------------------------------
# Exercise 1: turn_image


def turn_image(f, r):
    return torch.rot90(f, r % 4, dims=(-2, -1))


def test_turn_image_passes(capsys):
    check_turn_image(turn_image)
    check_turn_image(turn_image, seed=1)
    assert "Correct" in capsys.readouterr().out


def test_turn_image_stub():
    fails_with(check_turn_image, stub, "not written yet")


@pytest.mark.parametrize(("wrong", "diagnosis"), [
    (lambda f, r: torch.rot90(f, -r, dims=(-2, -1)), "you computed f(r x)"),
    (lambda f, r: f.transpose(-2, -1), "transpose"),
    (lambda f, r: torch.rot90(f, r), "wrong axes"),
    (lambda f, r: torch.rot90(f, 2, dims=(0, 1)) if r % 4 == 2 else turn_image(f, r),
     "you turned axes (0, 1)"),
    (lambda f, r: turn_image(f, max(r, 0)), "r = -1 quarter turns is the element r^-1 = r³"),
    (lambda f, r: turn_image(f, max(r, 0)), "reduce r mod 4"),
    (lambda f, r: f if r == 6 else turn_image(f, r), "r = 6 quarter turns is the element r^6 = r²"),
])
def test_turn_image_mistakes(wrong, diagnosis):
    fails_with(check_turn_image, wrong, diagnosis)


def test_turn_image_flip_says_mirror_only():
    """A left-right flip is named as a mirror, without a remark about transposes."""
    with pytest.raises(ExerciseFailed) as caught:
        check_turn_image(lambda f, r: f.flip(-1))
    message = str(caught.value)
    assert "yours is L_m f, f flipped left-right" in message and "transpose" not in message, message


def test_turn_image_count_in_range_not_told_to_reduce():
    """A wrong number of turns for r in 0..3 is not blamed on r mod 4."""
    with pytest.raises(ExerciseFailed) as caught:
        check_turn_image(lambda f, r: turn_image(f, 2 * r))
    message = str(caught.value)
    assert "r = 1 quarter turn is the element r^1 = r" in message and "mod 4" not in message, message


def test_turn_image_wrong_type_and_shape():
    fails_with(check_turn_image, lambda f, r: turn_image(f, r).numpy(), "torch.Tensor")
    fails_with(check_turn_image, lambda f, r: turn_image(f, r)[0], "shape")


# ---------------------------------------------------------------------------------------------
# Exercise 2: lifting_filter_bank


def bank_from(psi, group, turn=1, flip_dim=-1, rotate_first=True, order=None, mirror=True):
    """L_s psi for every s, with the knobs that make the diagnosed mistakes."""
    planes = []
    for s in group.stabilizer():
        mirrored = s.m and mirror
        if rotate_first:
            turned = turn_image(psi, turn * s.r)
            planes.append(turned.flip(flip_dim) if mirrored else turned)
        else:
            planes.append(turn_image(psi.flip(flip_dim) if mirrored else psi, turn * s.r))
    order = range(len(planes)) if order is None else order
    return torch.stack([planes[i] for i in order], dim=1)


def test_lifting_filter_bank_passes(capsys):
    check_lifting_filter_bank(bank_from)
    check_lifting_filter_bank(expand_lifting_filter, seed=1)
    assert "Correct" in capsys.readouterr().out


def test_lifting_filter_bank_stub():
    fails_with(check_lifting_filter_bank, stub, "not written yet")


def interleaved(psi, group):
    """Planes in the order s = 2r + m instead of 4m + r."""
    order = [4 * m + r for r in range(4) for m in range(2)] if group.mirrors else None
    return bank_from(psi, group, order=order)


@pytest.mark.parametrize(("wrong", "diagnosis"), [
    (lambda psi, group: bank_from(psi, group, turn=-1), "the rotation goes the wrong way"),
    (lambda psi, group: bank_from(psi, group, rotate_first=False), "rotate first, then mirror"),
    (lambda psi, group: bank_from(psi, group, flip_dim=-2), "mirror about the wrong axis"),
    (interleaved, "the planes go in the order s = 4m + r"),
    (lambda psi, group: bank_from(psi, group).transpose(1, 2), "(C_out, S, C_in, k, k)"),
    (lambda psi, group: bank_from(psi, group, mirror=False),
     "the mirrored planes s = 4 + r are not mirrored"),
    (lambda psi, group: bank_from(psi.flip(-2, -1), group), "every plane is turned by 180° more"),
    (lambda psi, group: bank_from(psi, group).transpose(0, 1),
     "you stacked the planes on axis 0; put them on axis 1"),
    (lambda psi, group: bank_from(psi, group).permute(0, 2, 3, 4, 1),
     "the S planes go on axis 1, after C_out"),
])
def test_lifting_filter_bank_mistakes(wrong, diagnosis):
    fails_with(check_lifting_filter_bank, wrong, diagnosis)


def test_lifting_filter_bank_wrong_type_and_shape():
    fails_with(check_lifting_filter_bank, lambda psi, group: bank_from(psi, group).tolist(), "torch.Tensor")
    fails_with(check_lifting_filter_bank, lambda psi, group: bank_from(psi, group).flatten(0, 1), "shape")


# ---------------------------------------------------------------------------------------------
# Exercise 3: lifting_correlation


def correlation_with(bank_of, split="(C_out, S)"):
    """One conv2d with the bank bank_of(psi, group), its output split as `split` on axis 1."""
    def correlation(f, psi, group):
        bank = bank_of(psi, group)
        out = F.conv2d(f, bank.flatten(0, 1))
        if split == "(S, C_out)":
            return out.unflatten(1, (group.order, psi.shape[0])).transpose(1, 2)
        return out.unflatten(1, (psi.shape[0], group.order))
    return correlation


def test_lifting_correlation_passes(capsys):
    check_lifting_correlation(correlation_with(bank_from))
    check_lifting_correlation(lifting_conv, seed=1)
    assert "Correct" in capsys.readouterr().out


def test_lifting_correlation_stub():
    fails_with(check_lifting_correlation, stub, "not written yet")
    fails_with(check_lifting_correlation, correlation_with(stub), "stub is not written yet")


def unturned(f, psi, group):
    """conv2d with ψ itself on every plane."""
    return F.conv2d(f, psi)[:, :, None].expand(-1, -1, group.order, -1, -1)


@pytest.mark.parametrize(("wrong", "diagnosis"), [
    (unturned, "every plane is f ⋆ ψ"),
    (correlation_with(bank_from, split="(S, C_out)"), "landed at channel"),
    (correlation_with(lambda psi, group: bank_from(psi, group, turn=-1)), "the rotation goes the wrong way"),
    (correlation_with(lambda psi, group: bank_from(psi, group, rotate_first=False)),
     "rotate first, then mirror"),
    (correlation_with(lambda psi, group: bank_from(psi, group).flip(-2, -1)),
     "you flipped the filter (a convolution); conv2d already computes the correlation of §1"),
    (correlation_with(lambda psi, group: bank_from(psi, group, mirror=False)),
     "the mirrored planes s = 4 + r are not mirrored"),
])
def test_lifting_correlation_mistakes(wrong, diagnosis):
    fails_with(check_lifting_correlation, wrong, diagnosis)


def test_lifting_correlation_reports_equivariance():
    """The wrong rotation is not equivariant for r and r³ (the planes move the wrong way), but is for r²."""
    with pytest.raises(ExerciseFailed) as caught:
        check_lifting_correlation(correlation_with(lambda psi, group: bank_from(psi, group, turn=-1)))
    message = str(caught.value)
    assert "check_equivariance of your function on p4" in message
    listed = message.split("(relative error for each s): ")[1]
    errors = dict(part.rsplit(" ", 1) for part in listed.split(", "))
    assert float(errors["e"]) < 1e-5 and float(errors["r²"]) < 1e-5 and float(errors["r"]) > 0.1


def test_lifting_correlation_wrong_type_and_shape():
    fails_with(check_lifting_correlation, lambda f, psi, group: lifting_conv(f, psi, group).numpy(),
               "torch.Tensor")
    fails_with(check_lifting_correlation, lambda f, psi, group: lifting_conv(f, psi, group).flatten(1, 2),
               "split axis 1 into (C_out, S)")
    fails_with(check_lifting_correlation, lambda f, psi, group: lifting_conv(f, psi, group, padding=1),
               "without padding")
    fails_with(check_lifting_correlation, lambda f, psi, group: lifting_conv(f, psi, group).transpose(1, 2),
               "the S planes go on axis 2, after C_out")
    fails_with(check_lifting_correlation,
               lambda f, psi, group: lifting_conv(f, psi, group).permute(0, 1, 3, 4, 2),
               "the S planes go on axis 2, after C_out, and the image plane (H', W') stays last")
