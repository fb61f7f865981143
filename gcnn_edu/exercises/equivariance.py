"""Checks for notebook 02: L_r on images, the bank of filters L_s psi, the lifting correlation (eq. 10)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..actions import act_on_image
from ..equivariance import check_equivariance
from ..gconv import LiftingConv2d, expand_lifting_filter, lifting_conv_reference
from ..groups import P4, P4M, Group, GroupElement
from .common import attempt, close, expect_tensor, fail, passed

D4 = P4M.stabilizer()  # every rotation and mirror of the square grid: e, r, r², r³, m, mr, mr², mr³

LOOKS = {"e": "ψ itself", "r": "ψ turned a quarter turn counterclockwise", "r²": "ψ turned by 180°",
         "r³": "ψ turned a quarter turn clockwise", "m": "ψ flipped left-right (u -> -u)",
         "mr": "ψ mirrored about the diagonal u = v", "mr²": "ψ flipped upside down (v -> -v)",
         "mr³": "ψ transposed (mirrored about the diagonal u = -v)"}


def rotation(r: int) -> GroupElement:
    """The rotation r^r of p4 (r taken mod 4)."""
    return P4.element(r % 4)


def same(got: torch.Tensor, want: torch.Tensor) -> bool:
    """Same shape and equal up to float32 rounding."""
    return got.shape == want.shape and close(got, want)


def which_transform(got: torch.Tensor, f: torch.Tensor) -> GroupElement | None:
    """The rotation or mirror t with got == L_t f on the last two axes, if there is one."""
    return next((t for t in D4 if same(got, act_on_image(t, f))), None)


def largest_difference(got: torch.Tensor, want: torch.Tensor, axes: str) -> str:
    """'at (b, c, i, j) = (0, 2, 3, 1): yours 0.12, the package's -0.40', the index named by `axes`."""
    diff = (got.detach().double() - want.double()).abs()
    where = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
    return (f"the largest difference is at {axes} = {where}: yours {got[where].item():.3g}, "
            f"the package's {want[where].item():.3g}")


HALF_TURN = P4.element(2)  # r²: L_{r²} ψ(z) = ψ(-z), the filter flipped both ways


def wrong_axes(got: object, shape: tuple[int, ...], name: str, layout: str, hint: str) -> None:
    """Fail with `hint` when `got` is a tensor holding `shape`'s sizes in another order."""
    if isinstance(got, torch.Tensor) and tuple(got.shape) != shape and sorted(got.shape) == sorted(shape):
        fail(f"{name} returned shape {tuple(got.shape)} instead of {shape} {layout}: you turned or stacked "
             f"along the wrong axes; {hint}")


# ---------------------------------------------------------------------------------------------
# Exercise 1: L_r on images


def quarter_turns(count: int) -> str:
    """'1 quarter turn', '-1 quarter turns', '2 quarter turns'."""
    return f"{count} quarter turn" + ("" if count == 1 else "s")


def turn_mistake(f: torch.Tensor, r: int, got: torch.Tensor) -> str:
    """What is wrong with `got` as L_r f, in the terms of the notebook's §3."""
    want = rotation(r)
    head = f"for r = {r} on a {f.shape[-2]}x{f.shape[-1]} image, turn_image(f, {r}) is not L_r f"
    t = which_transform(got, f)
    if t is not None and t == want.inverse():
        return head + (": you computed f(r x), the image turned clockwise. [L_r f](x) = f(r^-1 x) puts "
                       "the value f(x) at r x: the pixel at (1, 0), right of the centre, moves to "
                       "r (1, 0) = (0, 1), above it, a counterclockwise turn on screen (u right, v up)")
    if t is not None and t.m:
        looks = LOOKS[t.name].replace("ψ", "f")
        return head + f": yours is L_{t.name} f, {looks}: a mirror image, not a rotation"
    if t is not None:
        message = (f": yours is L_{t.name} f ({quarter_turns(t.r)} counterclockwise), but r = "
                   f"{quarter_turns(r)} is the element r^{r} = {want.name}")
        if r not in range(4):
            message += " (r^4 = e); reduce r mod 4"
        return head + message
    for dims in itertools.combinations(range(4), 2):
        if dims != (2, 3) and same(got, torch.rot90(f, r, dims)):
            return head + (f": you turned axes {dims} of (B, C, H, W); the image plane is the last two axes "
                           f"(H, W), dims (-2, -1)")
    return head + ": " + largest_difference(got, act_on_image(want, f), "(b, c, i, j)")


def check_turn_image(turn_image: Callable[[torch.Tensor, int], torch.Tensor], seed: int = 0) -> None:
    """Compare turn_image(f, r) with L_r f = act_on_image(r, f) for several r, on an odd and an even side."""
    gen = torch.Generator().manual_seed(seed)
    images = [torch.randn(2, 3, n, n, generator=gen) for n in (5, 4)]
    turns = (1, 3, 2, 0, -1, 6)
    for f, r in itertools.product(images, turns):
        got = attempt(turn_image, f.clone(), r, name="turn_image")
        wrong_axes(got, tuple(f.shape), "turn_image", "(B, C, H, W)",
                   "the image plane is the last two axes (H, W)")
        got = expect_tensor(got, tuple(f.shape), "turn_image")
        if not close(got, act_on_image(rotation(r), f)):
            fail(turn_mistake(f, r, got))
    passed(f"turn_image agrees with L_r f = act_on_image(r, f) for r = {', '.join(map(str, turns))} on "
           f"images (B, C, H, W) = (2, 3, 5, 5) and (2, 3, 4, 4)")


# ---------------------------------------------------------------------------------------------
# Exercise 2: the filter bank L_s psi


def plane_mistake(s: GroupElement, t: GroupElement, what: str) -> str:
    """Why plane s holds `what` with L_t psi in place of L_s psi, in the terms of Section 4 (s != t)."""
    s = P4M.make(s.m, s.r)  # compare as elements of D4
    head = (f"plane {P4M.index(s)} (s = {s.name}) holds {what.format(t=t.name)} in place of "
            f"{what.format(t=s.name)}")
    if t == s.inverse():
        return head + (f" ({LOOKS[t.name]}): the rotation goes the wrong way. [L_s ψ](x) = ψ(s^-1 x) turns "
                       f"ψ by s, counterclockwise for r")
    if s.m and t.m and t == P4M.make(0, s.r) * P4M.make(1, 0):
        return head + (": mirror and rotation in the wrong order. You mirrored, then rotated "
                       "(L_r L_m = L_rm); L_mr = L_m L_r: rotate first, then mirror")
    if s.m and t == P4M.make(0, s.r):
        return head + (": the mirrored planes s = 4 + r are not mirrored. L_{mr^k} ψ = L_m L_{r^k} ψ: turn "
                       "by r^k, then mirror (u, v) -> (-u, v), a left-right flip")
    flip_v = P4M.make(1, 2)  # M R² = diag(1, -1): v -> -v
    if s.m and t.m and t in (flip_v * P4M.make(0, s.r), P4M.make(0, s.r) * flip_v):
        return head + (": mirror about the wrong axis. M = diag(-1, 1) sends (u, v) to (-u, v), a left-right "
                       "flip (the last axis, columns); you flipped upside down (v -> -v, rows)")
    if t.m and not s.m:
        return head + (f", a mirror image ({LOOKS[t.name]}) on a rotation's plane: the planes go in the "
                       f"order s = 4m + r: e, r, r², r³, then m, mr, mr², mr³")
    return head + (f" ({LOOKS[t.name]}): plane s = 4m + r holds L_s ψ for s = M^m R^r, in the order "
                   f"e, r, r², r³, m, mr, mr², mr³")


def bank_mistake(psi: torch.Tensor, group: Group, got: torch.Tensor) -> str:
    """What is wrong with `got` as the bank L_s psi on `group`, plane by plane."""
    head = f"on {group.name}, with ψ of shape {tuple(psi.shape)}: "
    stabilizer = group.stabilizer()
    if all(close(got[:, index], act_on_image(s * HALF_TURN, psi)) for index, s in enumerate(stabilizer)):
        return head + ("every plane is turned by 180° more than it should be: plane s holds L_{s r²} ψ = "
                       "L_s L_{r²} ψ, so plane e holds ψ(-z), ψ flipped both ways (a convolution's filter, "
                       "§1), in place of ψ. Plane s of the bank is L_s ψ, with ψ itself on plane e")
    for index, s in enumerate(stabilizer):
        if close(got[:, index], act_on_image(s, psi)):
            continue
        t = which_transform(got[:, index], psi)
        if t is None:
            return head + (f"plane {index} (s = {s.name}) is not ψ turned or mirrored (no L_t ψ, t in D4); "
                           + largest_difference(got, expand_lifting_filter(psi, group),
                                                "(c_out, s, c_in, i, j)"))
        return head + plane_mistake(s, t, "L_{t} ψ")
    return head + "the bank differs from expand_lifting_filter"  # every plane matched: close() at the edge


def check_lifting_filter_bank(lifting_filter_bank: Callable[[torch.Tensor, Group], torch.Tensor],
                              seed: int = 0) -> None:
    """Compare lifting_filter_bank(psi, group) with expand_lifting_filter: p4 and p4m, 3x3 and 4x4 filters."""
    gen = torch.Generator().manual_seed(seed)
    for group, k in itertools.product((P4, P4M), (3, 4)):
        psi = torch.randn(2, 3, k, k, generator=gen)  # (C_out, C_in, k, k)
        shape = (2, group.order, 3, k, k)
        got = attempt(lifting_filter_bank, psi.clone(), group, name="lifting_filter_bank")
        wrong_layout = {(2, 3, group.order, k, k): ("(C_out, C_in, S, k, k)", 2),
                        (group.order, 2, 3, k, k): ("(S, C_out, C_in, k, k)", 0)}
        if isinstance(got, torch.Tensor) and tuple(got.shape) in wrong_layout:
            layout, axis = wrong_layout[tuple(got.shape)]
            fail(f"lifting_filter_bank returned {layout} = {tuple(got.shape)}: you stacked the planes on "
                 f"axis {axis}; put them on axis 1, (C_out, S, C_in, k, k) = {shape}, so that "
                 f"bank.flatten(0, 1) is conv2d's weight with output channel c S + s")
        wrong_axes(got, shape, "lifting_filter_bank", "(C_out, S, C_in, k, k)",
                   "the S planes go on axis 1, after C_out, and each filter (C_in, k, k) keeps its layout")
        got = expect_tensor(got, shape, "lifting_filter_bank")
        if not close(got, expand_lifting_filter(psi, group)):
            fail(bank_mistake(psi, group, got))
    passed("lifting_filter_bank agrees with the package's filter expansion (expand_lifting_filter) on p4 and "
           "p4m, for 3x3 and 4x4 filters ψ (C_out, C_in) = (2, 3)")


# ---------------------------------------------------------------------------------------------
# Exercise 3: the lifting correlation by one conv2d


def equivariance_report(function: Callable[..., torch.Tensor], f: torch.Tensor, psi: torch.Tensor,
                        group: Group) -> str:
    """'check_equivariance on p4: e 0, r 1.4, ...' for the student's function with psi fixed."""
    errors = check_equivariance(lambda x: attempt(function, x, psi, group, name="lifting_correlation"),
                                group, f)
    listed = ", ".join(f"{g.name} {err:.2g}" for g, err in errors.items())
    return f"check_equivariance of your function on {group.name} (relative error for each s): {listed}"


def correlation_mistake(function: Callable[..., torch.Tensor], f: torch.Tensor, psi: torch.Tensor,
                        group: Group, got: torch.Tensor) -> str:
    """What is wrong with `got` as f ⋆ psi, by finding which f ⋆ L_t psi sits in each channel and plane."""
    head = f"on {group.name} (f {tuple(f.shape)}, ψ {tuple(psi.shape)}): "
    planar = {t: F.conv2d(f, act_on_image(t, psi)) for t in D4}  # f ⋆ L_t psi, (B, C_out, H', W')
    found = {}  # (channel, plane) of got -> (channel c, transform t) with got[:, i, s] == f ⋆ L_t psi_c
    for i, s in itertools.product(range(got.shape[1]), range(got.shape[2])):
        found[i, s] = next(((c, t) for t in D4 for c in range(psi.shape[0])
                            if close(got[:, i, s], planar[t][:, c])), None)
    stabilizer = group.stabilizer()
    want = {(i, s): (i, stabilizer[s]) for i, s in found}
    if all(hit == (i, stabilizer[s] * HALF_TURN) for (i, s), hit in found.items()):
        return head + ("every plane s is f ⋆ L_{s r²} ψ, the filter turned by 180° more than L_s ψ: you "
                       "flipped the filter (a convolution); conv2d already computes the correlation of §1, "
                       "Σ_y f(y) ψ(y - x), and the flip makes it Σ_y f(y) ψ(x - y) = "
                       "Σ_y f(y) [L_{r²} ψ](y - x). "
                       "Give conv2d the bank L_s ψ as it is (if your lifting_filter_bank passed its check)")
    if all(hit == (i, P4M.identity()) for (i, _), hit in found.items()):
        return head + ("every plane is f ⋆ ψ, the planar correlation with the unturned filter. Plane s of "
                       "eq. 10 is [f ⋆ ψ](t(x) s) = [f ⋆ L_s ψ](x), since ψ(s^-1 (y - x)) = [L_s ψ](y - x); "
                       + equivariance_report(function, f, psi, group))
    if None not in found.values():
        moved = next(key for key in found if found[key] != want[key])
        (i, s), (c, t) = moved, found[moved]
        if any(found[key][0] != key[0] for key in found):
            plane = stabilizer.index(t) if t in stabilizer else None
            return head + (f"output channel {c}, plane {plane} (f ⋆ L_{t.name} ψ_{c}) landed at channel {i}, "
                           f"plane {s}: conv2d with the bank flattened as (C_out, S) gives channel c S + s = "
                           f"f ⋆ L_s ψ_c, so its output reads back as (B, C_out, S, H', W') by splitting "
                           f"axis 1 into (C_out, S)")
        message = plane_mistake(stabilizer[s], t, "f ⋆ L_{t} ψ")
        if t == stabilizer[s].inverse():
            message += (". With plane s = f ⋆ L_s^-1 ψ, plane s of [L_u f] ⋆ ψ is plane su turned by u, "
                        "where L_u[f ⋆ ψ] needs plane u^-1 s: "
                        + equivariance_report(function, f, psi, group))
        return head + message
    return head + (largest_difference(got, lifting_conv_reference(f, psi, group), "(b, c, s, i, j)") + "; "
                   + equivariance_report(function, f, psi, group))


def check_lifting_correlation(
    lifting_correlation: Callable[[torch.Tensor, torch.Tensor, Group], torch.Tensor], seed: int = 0
) -> None:
    """Compare lifting_correlation(f, psi, group) with the literal sum of eq. 10 and with LiftingConv2d."""
    gen = torch.Generator().manual_seed(seed)
    for group, (n, k) in itertools.product((P4, P4M), ((7, 3), (6, 4))):
        f = torch.randn(2, 3, n, n, generator=gen, dtype=torch.float64)  # (B, C_in, H, W)
        psi = torch.randn(2, 3, k, k, generator=gen, dtype=torch.float64)  # (C_out, C_in, k, k)
        shape = (2, 2, group.order, n - k + 1, n - k + 1)
        got = attempt(lifting_correlation, f.clone(), psi.clone(), group, name="lifting_correlation")
        if isinstance(got, torch.Tensor) and tuple(got.shape) == (2, 2 * group.order, *shape[-2:]):
            fail(f"lifting_correlation returned conv2d's output (B, C_out S, H', W') = {tuple(got.shape)}; "
                 f"split axis 1 into (C_out, S): (B, C_out, S, H', W') = {shape}")
        if isinstance(got, torch.Tensor) and tuple(got.shape) == (2, group.order, 2, *shape[-2:]):
            fail(f"lifting_correlation returned (B, S, C_out, H', W') = {tuple(got.shape)}: the S planes go "
                 f"on axis 2, after C_out, (B, C_out, S, H', W') = {shape}. Output channel c S + s of conv2d "
                 f"with the bank flattened as (C_out, S) is plane s of channel c: split axis 1 into "
                 f"(C_out, S)")
        if isinstance(got, torch.Tensor) and got.dim() == 5 and got.shape[-1] == n:
            fail(f"lifting_correlation returned {tuple(got.shape)}: eq. 10 is evaluated here where the k x k "
                 f"filter lies inside the image, without padding: H' = H - k + 1, shape {shape}")
        wrong_axes(got, shape, "lifting_correlation", "(B, C_out, S, H', W')",
                   "the S planes go on axis 2, after C_out, and the image plane (H', W') stays last")
        got = expect_tensor(got, shape, "lifting_correlation")
        if not close(got, lifting_conv_reference(f, psi, group)):
            fail(correlation_mistake(lifting_correlation, f, psi, group, got))
        with torch.random.fork_rng():  # the layer's random init must not move the notebook's random state
            layer = LiftingConv2d(3, 2, k, group, bias=False).double()
        with torch.no_grad():
            layer.weight.copy_(psi)
            if not close(got, layer(f)):
                fail(f"on {group.name}, lifting_correlation agrees with the literal sum but not with "
                     f"LiftingConv2d holding the same ψ: "
                     + largest_difference(got, layer(f), "(b, c, s, i, j)"))
    passed("lifting_correlation agrees with the literal sum of eq. 10 (lifting_conv_reference) and with "
           "LiftingConv2d holding the same ψ, on p4 and p4m, for 7x7 images with 3x3 filters and 6x6 images "
           "with 4x4 filters")
