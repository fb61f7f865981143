"""Checks for notebook 03: L_g on maps on p4 and p4m, the bank L_s psi, the group correlation (eq. 11)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..actions import act_on_feature_map, act_on_image
from ..equivariance import check_equivariance, relative_error
from ..gconv import GroupConv2d, expand_group_filter, group_conv_reference
from ..groups import P4, P4M, Group, GroupElement
from .common import attempt, close, expect_tensor, fail, passed

Map = torch.Tensor  # a feature map (B, C, S, H, W)


def draw(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Standard normal entries of `shape`, drawn from torch's generator started at `seed`."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def plane(s: int, group: Group) -> str:
    """'plane 1 (r)': a position on the group axis with its element's name."""
    return f"plane {s} ({group.names()[s]})"


def largest_difference(got: torch.Tensor, want: torch.Tensor, axes: tuple[str, ...]) -> str:
    """Where |got - want| is largest, e.g. 'batch 0, channel 1, plane 2, row 0, column 3'."""
    index = torch.unravel_index((got.detach().double() - want.double()).abs().argmax(), want.shape)
    return ", ".join(f"{axis} {int(i)}" for axis, i in zip(axes, index, strict=True))


def source_of(out_plane: torch.Tensor, f: Map, group: Group) -> tuple[int, GroupElement] | None:
    """(q, k) with out_plane == L_k (plane q of f) for some plane q and k in the stabilizer, if any."""
    for q in range(f.shape[2]):
        for k in group.stabilizer():
            if close(out_plane, act_on_image(k, f[:, :, q])):
                return q, k
    return None


def where_planes_went(got: Map, f: Map, g: GroupElement, group: Group) -> str:
    """For the first wrong output plane: what it holds, and what L_g f (h) = f(g^-1 h) holds there."""
    want = act_on_feature_map(g, f, group)
    s = next(s for s in range(group.order) if not close(got[:, :, s], want[:, :, s]))
    q = group.index(g.inverse() * group.stabilizer()[s])
    wanted = (f"L_g f holds {plane(q, group)} of f there, transformed by {g.name} (plane s of L_g f is "
              "plane g^-1 s of f)")
    found = source_of(got[:, :, s], f, group)
    if found is None:
        return f"your {plane(s, group)} is not a transformed plane of f; {wanted}"
    q, k = found
    return f"your {plane(s, group)} holds {plane(q, group)} of f transformed by {k.name}; {wanted}"


# ---------------------------------------------------------------------------------------------
# Exercise 1: L_r on a p4 map


def p4_variant(f: Map, shift: int, turn: int) -> Map:
    """f with its group axis rolled by `shift` and every plane turned by `turn` quarter turns."""
    return torch.rot90(torch.roll(f, shift, dims=2), turn, dims=(-2, -1))


def p4_action_mistake(got: Map, f: Map, r: int) -> str:
    """What is wrong with `got` as L_g f for g = R^r on a p4 map, in the terms of Section 4."""
    g = P4.element(r)
    head = f"for g = {g.name}: "
    dest = (r % 4, -r % 4)  # where L_g sends plane 0 (e), and where the wrong direction sends it
    known = [
        ((-r, r), f"your L_{g.name} sends plane 0 (e) to {plane(dest[1], P4)}; L_g F(h) = F(g^-1 h) sends it "
                  f"to {plane(dest[0], P4)}: plane s of L_g F is plane g^-1 s of F, so the content of plane "
                  f"s moves to plane g s (one step counterclockwise per quarter turn, Figure 1)"),
        ((0, r), "every plane was turned but the planes were not moved along the group axis: plane s of "
                 f"L_g F is plane g^-1 s of F, so plane 0 (e) belongs in {plane(dest[0], P4)}"),
        ((r, 0), f"the planes moved along the group axis as they should, but were not turned: L_g also "
                 f"turns every plane by {g.name} as an image, {r} quarter turn(s) counterclockwise"),
        ((r, -r), "the planes moved as they should but were turned clockwise: L_r turns an image "
                  "counterclockwise on screen (u to the right, v up), torch.rot90(plane, 1, dims=(-2, -1))"),
    ]
    for (shift, turn), message in known:
        if close(got, p4_variant(f, shift, turn)):
            return head + message
    return head + where_planes_went(got, f, g, P4)


def check_act_on_p4_map(act_on_p4_map: Callable[[Map, int], Map], seed: int = 0) -> None:
    """Compare act_on_p4_map(f, r) with act_on_feature_map(R^r, f) for the four rotations of p4."""
    size = 5 + seed % 2  # odd and even sides
    f = draw((2, 3, 4, size, size), seed)
    for r in (1, 3, 2, 0):  # the quarter turn first: it tells the directions apart
        want = act_on_feature_map(P4.element(r), f)
        got = attempt(act_on_p4_map, f.clone(), r, name="act_on_p4_map")
        got = expect_tensor(got, f.shape, "act_on_p4_map")
        if not close(got, want):
            fail(p4_action_mistake(got, f, r))
    passed(f"act_on_p4_map agrees with act_on_feature_map for all 4 rotations of p4, on a random map "
           f"{tuple(f.shape)}")


# ---------------------------------------------------------------------------------------------
# Exercise 2: L_g on a p4m map


def p4m_variant(f: Map, source: list[int], image: GroupElement, layout: Callable[[GroupElement], int]) -> Map:
    """Plane layout(s) of the result is plane source[s] (read with `layout`) of f, transformed by `image`."""
    out = torch.empty_like(f)
    for s, element in enumerate(P4M.stabilizer()):
        out[:, :, layout(element)] = act_on_image(image, f[:, :, layout(P4M.stabilizer()[source[s]])])
    return out


def standard(element: GroupElement) -> int:
    """The package's plane index s = 4m + r."""
    return 4 * element.m + element.r


def interleaved(element: GroupElement) -> int:
    """The wrong plane index s = m + 2r."""
    return element.m + 2 * element.r


def sources(k: GroupElement) -> list[int]:
    """The plane of f that plane s of L_k f reads: index(k^-1 s), for s in the stabilizer."""
    return [P4M.index(k.inverse() * s) for s in P4M.stabilizer()]


def moves(source: list[int], q: int) -> int:
    """Where the content of plane q goes, when plane s reads plane source[s]."""
    return source.index(q)


def target_sign_sources(k: GroupElement) -> list[int]:
    """The wrong index 4(a + c) + d - (-1)^c b: the turn's direction taken from plane s's own cycle c."""
    return [4 * ((k.m + s.m) % 2) + (s.r - (-1) ** s.m * k.r) % 4 for s in P4M.stabilizer()]


def first_moved_apart(wrong: list[int], right: list[int]) -> int:
    """The first plane q whose content goes elsewhere under `wrong` than under `right` (0 if none does)."""
    return next((q for q in range(len(right)) if moves(wrong, q) != moves(right, q)), 0)


def p4m_action_mistake(got: Map, f: Map, k: GroupElement) -> str:
    """What is wrong with `got` as L_k f on a p4m map, in the terms of Section 4 and Figure 2."""
    head = f"for g = {k.name} = (m, r) = ({k.m}, {k.r}): "
    right = sources(k)
    target_sign = target_sign_sources(k)
    forward = [P4M.index(k * s) for s in P4M.stabilizer()]  # plane s reads plane g s: g^-1 forgotten
    q_sign, q_forward = first_moved_apart(target_sign, right), first_moved_apart(forward, right)
    inner_wrong = [P4M.index(P4M.make((k.m + s.m) % 2, (s.r + k.inverse().r) % 4))
                   for s in P4M.stabilizer()]  # the rotation of the mirrored half not reversed
    rotation_only = sources(P4M.make(0, k.r))  # the mirror left out of the plane order
    known = [
        (p4m_variant(f, inner_wrong, k, standard),
         f"your L_g sends {plane(5, P4M)} to {plane(moves(inner_wrong, 5), P4M)}; L_g F(h) = F(g^-1 h) sends "
         f"it to {plane(moves(right, 5), P4M)}: on the mirrored half the rotations run the other way, "
         f"r m r^j = m r^(j-1) because r m = m r^-1 (the inner cycle of Figure 2 turns clockwise)"),
        (p4m_variant(f, rotation_only, k, standard),
         f"every plane was transformed by {k.name}, but your plane order ignores the mirror: plane 0 (e) "
         f"went to {plane(moves(rotation_only, 0), P4M)}, and L_g F(h) = F(g^-1 h) sends it to "
         f"{plane(moves(right, 0), P4M)} (= g e): m also swaps the two cycles, r^j <-> m r^j, along the "
         f"red bars of Figure 2"),
        (p4m_variant(f, target_sign, k, standard),
         f"your L_g sends {plane(q_sign, P4M)} to {plane(moves(target_sign, q_sign), P4M)}; L_g F(h) = "
         f"F(g^-1 h) sends it to {plane(moves(right, q_sign), P4M)}: your sign (-1)^c takes the direction of "
         f"the turn from the cycle c of plane s = M^c R^d, where the content arrives, instead of (-1)^(a+c). "
         f"Plane s reads g^-1 s = R^-b M^a M^c R^d = M^(a+c) R^(d - (-1)^(a+c) b): R^-b passes the mirrors "
         f"of g^-1 and of s, M^(a+c), so the direction is that of the cycle a + c of the source plane, "
         f"where the content sat"),
        (p4m_variant(f, forward, k, standard),
         f"your plane s holds plane g s of F instead of plane g^-1 s: your L_g sends {plane(q_forward, P4M)} "
         f"to {plane(moves(forward, q_forward), P4M)}, i.e. plane q to g^-1 q, and L_g F(h) = F(g^-1 h) "
         f"sends it to {plane(moves(right, q_forward), P4M)} = g q: plane s of L_g F reads plane g^-1 s, so "
         f"the content of plane q arrives at plane g q"),
        (p4m_variant(f, right, k, interleaved),
         "your planes follow the index s = m + 2r (e, m, r, mr, r², ...), but plane s = 4m + r holds "
         "M^m R^r: e, r, r², r³ first, then m, mr, mr², mr³"),
        (p4m_variant(f, right, P4M.make(k.m, -k.r % 4 if k.m else k.r), standard),
         "the planes moved as they should, but every plane was mirrored first and turned after: g = M^m R^r "
         "turns first (L_g = L_M^m L_R^r), as act_on_image does"),
        (p4m_variant(f, right, P4M.make(k.m, (k.r + 2 * k.m) % 4), standard),
         "the planes moved as they should, but your mirror flips the rows (up-down, torch.flip(dims=(-2,)), "
         "v -> -v, which is M R² = mr²): L_m is u -> -u, a left-right flip of the columns (dims=(-1,))"),
        (p4m_variant(f, right, P4M.identity(), standard),
         f"the planes moved as they should, but were not transformed as images by {k.name}"),
    ]
    for variant, message in known:
        if close(got, variant):
            return head + message
    return head + where_planes_went(got, f, k, P4M)


def check_act_on_p4m_map(act_on_p4m_map: Callable[[Map, tuple[int, int]], Map], seed: int = 0) -> None:
    """Compare act_on_p4m_map(f, (m, r)) with act_on_feature_map(M^m R^r, f) for all 8 elements of D4."""
    size = 5 + seed % 2
    f = draw((2, 2, 8, size, size), seed)
    order = [(0, 1), (1, 0), (1, 1), (0, 3), (1, 3), (0, 2), (1, 2), (0, 0)]  # r and m first: clearest
    for m, r in order:
        k = P4M.make(m, r)
        got = expect_tensor(attempt(act_on_p4m_map, f.clone(), (m, r), name="act_on_p4m_map"), f.shape,
                            "act_on_p4m_map")
        if not close(got, act_on_feature_map(k, f)):
            fail(p4m_action_mistake(got, f, k))
    passed(f"act_on_p4m_map agrees with act_on_feature_map for all 8 elements of D4, on a random map "
           f"{tuple(f.shape)}")


# ---------------------------------------------------------------------------------------------
# Exercise 3: the bank L_s psi of a p4 filter


def bank_variant(psi: torch.Tensor, shift: int, turn: int, layout: str = "channel-major",
                 axis: int = 2) -> torch.Tensor:
    """L_s psi with dim `axis` rolled by shift*s and the slices turned by turn*s, flattened for conv2d."""
    copies = [torch.rot90(torch.roll(psi, shift * s, dims=axis), turn * s, dims=(-2, -1)) for s in range(4)]
    bank = torch.stack(copies, dim=1)  # (O, 4, I, 4, k, k)
    if layout == "rows plane-major":
        bank = bank.transpose(0, 1)
    if layout == "columns plane-major":
        bank = bank.transpose(2, 3)
    return bank.flatten(0, 1).flatten(1, 2)


BANK_MISTAKES = [
    ((1, 1, "channel-major", 1),
     "you rolled psi along dim 1, its input channels C_in: the group axis of a filter (C_out, C_in, 4, k, k) "
     "is dim 2, as for a feature map (B, C, 4, H, W); slice q of L_s psi is slice s^-1 q of psi, so roll "
     "along dims=2"),
    ((0, 1, "channel-major"),
     "every slice of L_s psi was turned by s, but the group axis of psi did not move: slice q of L_s psi is "
     "slice s^-1 q of psi (L_s psi (h) = psi(s^-1 h), as for a feature map), so slice r of L_r psi holds "
     "slice e of psi, turned"),
    ((-1, 1, "channel-major"),
     "the group axis of psi moved the wrong way: your L_r psi holds slice e of psi in slice r³, but slice "
     "q of L_s psi is slice s^-1 q of psi, so slice e belongs in slice r"),
    ((1, 0, "channel-major"),
     "the slices moved along the group axis as they should, but were not turned: L_s also turns every slice "
     "by s as an image (s quarter turns counterclockwise)"),
    ((1, -1, "channel-major"),
     "the slices moved as they should but were turned clockwise: L_r turns counterclockwise on screen, "
     "torch.rot90(slice, 1, dims=(-2, -1))"),
    ((1, 1, "rows plane-major"),
     "the copies L_s psi are right but the rows are ordered s * C_out + o: row 4o + s must hold "
     "output channel o at plane s, so that the conv2d output (B, C_out*4, H', W') splits into "
     "(B, C_out, 4, H', W')"),
    ((1, 1, "columns plane-major"),
     "the copies L_s psi are right but the columns are ordered q * C_in + i: column 4i + q must hold input "
     "channel i at plane q, as a map (B, C_in, 4, H, W) flattens to (B, C_in*4, H, W)"),
]


def bank_entry(got: torch.Tensor, want: torch.Tensor) -> str:
    """Where |got - want| is largest in a bank: 'entry [5, 2] = [4o + s, 4i + q] (...), pixel (0, 1)'."""
    index = torch.unravel_index((got.detach().double() - want.double()).abs().argmax(), want.shape)
    row, column, y, x = (int(i) for i in index)
    return (f"entry [{row}, {column}] = [4o + s, 4i + q] (o {row // 4}, s {row % 4}, i {column // 4}, "
            f"q {column % 4}), pixel ({y}, {x}) of the k x k slice")


def check_group_filter_bank(group_filter_bank: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> None:
    """Compare group_filter_bank(psi) with the package's expanded bank (expand_group_filter, flattened)."""
    k = 3 + seed % 2
    psi = draw((2, 3, 4, k, k), seed)
    want = expand_group_filter(psi, P4).flatten(0, 1).flatten(1, 2)
    got = attempt(group_filter_bank, psi.clone(), name="group_filter_bank")
    if isinstance(got, torch.Tensor) and tuple(got.shape) == (2, 4, 3, 4, k, k):
        fail(f"group_filter_bank should return the bank as conv2d wants it, (C_out*4, C_in*4, k, k) = "
             f"{tuple(want.shape)}: merge the axes (C_out, 4) and (C_in, 4) of your {tuple(got.shape)}")
    got = expect_tensor(got, want.shape, "group_filter_bank")
    if not close(got, want):
        for variant, message in BANK_MISTAKES:
            if close(got, bank_variant(psi, *variant)):
                fail(message)
        fail("your bank differs from the package's filter expansion (expand_group_filter, flattened to "
             "(C_out*4, C_in*4, k, k)); entry [4o + s, 4i + q] should be slice s^-1 q of psi[o, i] turned by "
             f"s; the largest difference is at {bank_entry(got, want)}")
    passed(f"group_filter_bank agrees with the package's filter expansion on a random filter "
           f"{tuple(psi.shape)}")


# ---------------------------------------------------------------------------------------------
# Exercise 4: the group correlation, expanded


def correlation_variant(
    f: Map, psi: torch.Tensor, shift: int, turn: int, flatten_in: str, split_out: str, flip: bool = False
) -> Map:
    """conv2d with a bank_variant (its slices flipped if `flip`), the input and output reshaped as given."""
    x = f.flatten(1, 2) if flatten_in == "channel-major" else f.transpose(1, 2).flatten(1, 2)
    bank = bank_variant(psi, shift, turn)
    out = F.conv2d(x, bank.flip(-2, -1) if flip else bank)
    if split_out == "channel-major":
        return out.unflatten(1, (psi.shape[0], 4))
    return out.unflatten(1, (4, psi.shape[0])).transpose(1, 2)


def not_equivariant(fn: Callable[[Map, torch.Tensor], Map], f: Map, psi: torch.Tensor) -> str:
    """What check_equivariance reports for fn(., psi), and which planes of L_r go wrong."""
    layer = lambda x: attempt(fn, x, psi, name="group_correlation")  # noqa: E731
    errors = check_equivariance(layer, P4, f, P4.stabilizer()[1:])
    r = P4.element(1)
    moved, want = layer(act_on_feature_map(r, f)), act_on_feature_map(r, layer(f))
    wrong = [P4.names()[s] for s in range(4) if relative_error(moved[:, :, s], want[:, :, s]) > 1e-5]
    shown = ", ".join(f"{g.name} {err:.2f}" for g, err in errors.items())
    return (f". So it is not equivariant: check_equivariance gives the relative errors {shown}, and for "
            f"g = r the planes {', '.join(wrong)} of [L_r f] ⋆ psi differ from L_r [f ⋆ psi]")


CORRELATION_MISTAKES = [
    ((0, 0, "channel-major", "channel-major"), True,
     "your four output planes are the same map: every output plane s read the input's planes through psi "
     "itself instead of L_s psi. The planes of f were used as 4 channels each, with the plain psi, neither "
     "moved along its group axis nor turned by s (section 7's warning): that is a planar correlation with "
     "C_in*4 input channels, equivariant to translations only. Output plane s must read input plane q "
     "through slice s^-1 q of psi turned by s, the bank L_s psi of Exercise 3"),
    ((1, 1, "channel-major", "channel-major", True), False,
     "every k x k slice of your bank is flipped (turned by 180°): that is a convolution, "
     "sum_y f(y) psi(x - y), but eq. 11 is a correlation, sum_y f(y) psi(y - x) (section 7). F.conv2d "
     "already computes a correlation: pass it the bank L_s psi unflipped"),
    ((0, 1, "channel-major", "channel-major"), True,
     "output plane s reads input plane q through slice q of psi (turned by s) instead of slice s^-1 q: the "
     "input's group axis was treated as 4 separate channels without moving the filter's group axis with s"),
    ((-1, 1, "channel-major", "channel-major"), True,
     "the group axis of L_s psi moved the wrong way: output plane s must read input plane q through slice "
     "s^-1 q of psi, yours reads it through slice s q"),
    ((1, 0, "channel-major", "channel-major"), True,
     "the slices of L_s psi were moved along the group axis but not turned by s"),
    ((1, 1, "plane-major", "channel-major"), False,
     "wrong reshape order of the input: f (B, C_in, 4, H, W) must be flattened so that channel 4i + q is "
     "input channel i at plane q, as the bank's columns are; yours puts plane q first (q * C_in + i)"),
    ((1, 1, "channel-major", "plane-major"), False,
     "wrong reshape order of the output: conv2d's channel 4o + s is output channel o at plane s (the bank's "
     "row 4o + s), so split it as (C_out, 4), not (4, C_out)"),
    ((1, 1, "plane-major", "plane-major"), False,
     "wrong reshape order of both the input and the output: flatten f's (C_in, 4) and split the output into "
     "(C_out, 4), channel first, as the bank's columns 4i + q and rows 4o + s"),
]


def check_group_correlation(group_correlation: Callable[[Map, torch.Tensor], Map], seed: int = 0) -> None:
    """Compare group_correlation(f, psi) with the literal sum of eq. 11 and with GroupConv2d (same psi)."""
    size = 7 + seed % 2
    f, psi = draw((2, 2, 4, size, size), seed), draw((3, 2, 4, 3, 3), seed + 1000)
    literal = group_conv_reference(f.double(), psi.double(), P4).float()
    layer = GroupConv2d(2, 3, 3, P4, bias=False).eval()
    with torch.no_grad():
        layer.weight.copy_(psi)
        by_layer = layer(f)
    got = attempt(group_correlation, f.clone(), psi.clone(), name="group_correlation")
    if isinstance(got, torch.Tensor) and tuple(got.shape) == (2, 3, 4, size, size):
        fail(f"group_correlation should return (B, C_out, 4, H - k + 1, W - k + 1) = {tuple(literal.shape)}, "
             f"got {tuple(got.shape)}: eq. 11 here sums over the filter's support inside the map, no padding")
    got = expect_tensor(got, literal.shape, "group_correlation")
    if not close(got, literal):
        for variant, breaks, message in CORRELATION_MISTAKES:
            if close(got, correlation_variant(f, psi, *variant)):
                fail(message + (not_equivariant(group_correlation, f, psi) if breaks else ""))
        axes = ("batch", "channel", "plane", "row", "column")
        fail("your f ⋆ psi differs from the literal sum of eq. 11 (group_conv_reference, one g = t(x) s at a "
             f"time); the largest difference is at {largest_difference(got, literal, axes)}")
    if not close(got, by_layer):
        fail("your f ⋆ psi agrees with the literal sum of eq. 11 but not with GroupConv2d holding the same "
             "psi")
    passed(f"group_correlation agrees with the literal sum of eq. 11 and with GroupConv2d, on a random map "
           f"{tuple(f.shape)} and filter {tuple(psi.shape)}")
