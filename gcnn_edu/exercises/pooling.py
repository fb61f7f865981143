"""Checks for notebook 04: coset max-pooling, group batch norm, and a network that breaks one rule."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..actions import act, act_on_image
from ..equivariance import check_equivariance, relative_error
from ..gconv import GroupConv2d, LiftingConv2d
from ..groups import P4, P4M, Group, GroupElement
from ..pooling import GroupBatchNorm, coset_max_pool
from .common import attempt, close, expect_tensor, fail, passed

TOLERANCE = 1e-5  # relative error of float32 rounding, as in the package's tests


def draw(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """A random tensor of `shape` (standard normal) from `generator`."""
    return torch.randn(shape, generator=generator)


def zero_border(f: torch.Tensor, border: int) -> torch.Tensor:
    """f with its outer `border` pixels set to zero, so that small shifts lose nothing."""
    out = torch.zeros_like(f)
    inner = (..., slice(border, -border), slice(border, -border))
    out[inner] = f[inner]
    return out


def largest_difference(got: torch.Tensor, want: torch.Tensor) -> str:
    """Where got and want differ most: 'X at index (b, c, ...)' (want's value, then got's)."""
    diff = (got.detach().double() - want.double()).abs()
    index = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
    return (f"the largest difference, {diff.max().item():.3g}, is at index {index}: "
            f"expected {want[index].item():.4f}, got {got[index].item():.4f}")


def expect_result(value: object, shape: tuple[int, ...], name: str) -> torch.Tensor:
    """expect_tensor, with a word for torch.max's (values, indices) pair and for None."""
    if value is None:
        fail(f"{name} returned None: end it with `return ...`")
    if isinstance(value, tuple) and hasattr(value, "values") and hasattr(value, "indices"):
        fail(f"{name} returned torch.max's pair (values, indices): return its .values (or use amax)")
    return expect_tensor(value, shape, name)


# ---------------------------------------------------------------------------------------------
# Exercise 1: coset max-pooling over the rotations of p4


def rotation_pool_shape_mistake(got: tuple[int, ...], f: torch.Tensor) -> str | None:
    """What a wrong shape of pool_over_rotations(f) says about the axis it pooled, or None."""
    b, c, s, h, w = f.shape
    if got == (b, c, 1, h, w):
        return ("you kept the group axis as an axis of size 1: P f is constant on each coset t(x)C4, so it "
                "is a function on p4/C4 = Z^2, an image (B, C, H, W); take the maximum over axis 2 without "
                "keepdim")
    if got in ((b, c, s), (b, c, s, 1, 1), (b, c, s, h)):
        return ("you took the maximum over the pixels of each plane (the spatial axes 3, 4); coset pooling "
                "over C4 takes, at each pixel x, the maximum over the four planes: P f(t(x)) = "
                "max_k f(t(x) R^k), the group axis 2")
    if got == (b, s, h, w):
        return ("you took the maximum over the channels (axis 1); coset pooling over C4 is a maximum over "
                "the group axis (axis 2), separately for each channel: P f(t(x)) = max_k f(t(x) R^k)")
    return None


def rotation_pool_mistake(got: torch.Tensor, f: torch.Tensor) -> str:
    """What is wrong with got as the coset max-pooling of f over C4, in the terms of Section 6.3."""
    if close(got, f.mean(dim=2)):
        return ("you averaged the four planes; coset max-pooling takes their maximum, P f(g) = max_{h in H} "
                "f(gh) (an average over H is also equivariant, but it is not the paper's max-pooling)")
    if close(got, f.sum(dim=2)):
        return "you summed the four planes; coset max-pooling takes their maximum, max_{h in H} f(gh)"
    if close(got, f.amin(dim=2)):
        return "you took the minimum over the planes; coset max-pooling takes the maximum, max_{h in H} f(gh)"
    turned = torch.stack([act_on_image(P4.element(-k % 4), f[:, :, k]) for k in range(4)], 2).amax(2)
    if close(got, turned):
        return ("you turned plane k by R^-k before taking the maximum; P f(t(x)) = max_k f(t(x) R^k) reads "
                "all four planes at the same pixel x (the coset t(x)C4 is one position on every plane)")
    return "it should be P f(t(x)) = max_k f(t(x) R^k), the maximum over the group axis 2 at each pixel"


def check_pool_over_rotations(pool_over_rotations: Callable[[torch.Tensor], torch.Tensor],
                              seed: int = 0) -> None:
    """Compare pool_over_rotations(f) with coset_max_pool(f, P4, "rotations") on random p4 maps."""
    generator = torch.Generator().manual_seed(seed)
    maps = [draw((2, 3, 4, 5, 5), generator), draw((1, 2, 4, 6, 6), generator)]
    for f in maps:
        want = coset_max_pool(f, P4, "rotations")
        value = attempt(pool_over_rotations, f.clone(), name="pool_over_rotations")
        if isinstance(value, torch.Tensor) and tuple(value.shape) != tuple(want.shape):
            mistake = rotation_pool_shape_mistake(tuple(value.shape), f)
            if mistake:
                fail(f"for a p4 map f of shape {tuple(f.shape)} (B, C, 4, H, W) you returned shape "
                     f"{tuple(value.shape)}, expected {tuple(want.shape)}: {mistake}")
        got = expect_result(value, tuple(want.shape), "pool_over_rotations")
        if not close(got, want):
            fail(f"pool_over_rotations(f) differs from coset_max_pool(f, P4, 'rotations') on a map of shape "
                 f"{tuple(f.shape)}: {rotation_pool_mistake(got, f)}; {largest_difference(got, want)}")
    errors = attempt(check_equivariance, pool_over_rotations, P4, maps[0], name="pool_over_rotations")
    passed(f"pool_over_rotations agrees with coset_max_pool(f, P4, 'rotations') on {len(maps)} random p4 "
           f"maps (sides 5 and 6), and P(L_r f) = L_r P(f) for every r in C4 (largest relative error "
           f"{max(errors.values()):.1e})")


# ---------------------------------------------------------------------------------------------
# Exercise 2: coset max-pooling over C4 or D4 in p4m


def plane_set(planes: tuple[int, ...]) -> str:
    """'planes {0, 2, 4, 6} = {e, r², m, mr²}'."""
    names = P4M.names()
    return f"planes {{{', '.join(map(str, planes))}}} = {{{', '.join(names[s] for s in planes)}}}"


def grouping_of(plane: torch.Tensor, f: torch.Tensor) -> tuple[int, ...] | None:
    """The set of 4 planes of f whose maximum is `plane` (B, C, H, W), if one is."""
    for planes in itertools.combinations(range(8), 4):
        if close(plane, f[:, :, list(planes)].amax(2)):
            return planes
    return None


def coset_pool_mistake(got: torch.Tensor, f: torch.Tensor, subgroup: str) -> str:
    """What is wrong with got as the coset max-pooling of f over `subgroup` of p4m (Section 6.3)."""
    blocks = f.unflatten(2, (2, 4)) if subgroup == "rotations" else f
    axis = 3 if subgroup == "rotations" else 2
    if close(got, blocks.mean(dim=axis)):
        return "you averaged over each coset; coset max-pooling takes the maximum, max_{h in H} f(gh)"
    if subgroup == "rotations":
        if close(got, blocks.amax(dim=3).flip(2)):
            return ("your two planes are in the wrong order: plane 0 is the coset C4 = {e, r, r², r³} "
                    "(planes 0-3), plane 1 the coset m C4 = {m, mr, mr², mr³} (planes 4-7)")
        for p in range(2):
            planes = grouping_of(got[:, :, p], f)
            if planes is not None and planes not in ((0, 1, 2, 3), (4, 5, 6, 7)):
                return (f"your plane {p} is the maximum of {plane_set(planes)}, which is not a coset g C4 = "
                        "{g R^k}: plane s = 4m + r holds M^m R^r, so the cosets are C4 = planes 0-3 and "
                        "m C4 = planes 4-7")
    return ("it should be P f(g) = max_{h in H} f(gh): for H = C4 the maximum of planes 0-3 and of planes "
            "4-7, for H = D4 the maximum of all eight")


def coset_shape_mistake(got: tuple[int, ...], f: torch.Tensor, subgroup: str) -> str | None:
    """What a wrong shape of pool_over_cosets(f, subgroup) says, or None."""
    b, c, _, h, w = f.shape
    if subgroup == "rotations" and got == (b, c, h, w):
        return ("for subgroup='rotations' you pooled to a single plane; C4 has two cosets in D4, C4 and m C4 "
                "(the outer and the inner ring), so P f keeps one plane per coset: (B, C, 2, H, W)")
    if subgroup == "rotations" and got == (b, c, 4, h, w):
        return ("you kept four planes; a coset g C4 = {g R^k} holds four planes, so the eight planes of D4 "
                "make two cosets and P f keeps two planes (B, C, 2, H, W)")
    if subgroup == "stabilizer" and got == (b, c, 2, h, w):
        return ("for subgroup='stabilizer' you kept two planes, as for C4; H = D4 is the whole stabilizer, "
                "one coset t(x)D4 per position, so P f is an image (B, C, H, W): pool all eight planes")
    if subgroup == "stabilizer" and got == (b, c, 1, h, w):
        return ("you kept the group axis as an axis of size 1: P f over D4 is a function on p4m/D4 = Z^2, "
                "an image (B, C, H, W)")
    return None


def check_pool_over_cosets(pool_over_cosets: Callable[[torch.Tensor, str], torch.Tensor],
                           seed: int = 0) -> None:
    """Compare pool_over_cosets(f, subgroup) with coset_max_pool(f, P4M, subgroup) for C4 and D4."""
    generator = torch.Generator().manual_seed(seed)
    maps = [draw((2, 3, 8, 5, 5), generator), draw((1, 2, 8, 6, 6), generator)]
    for f, subgroup in itertools.product(maps, ("rotations", "stabilizer")):
        want = coset_max_pool(f, P4M, subgroup)
        call = f"pool_over_cosets(f, {subgroup!r})"
        value = attempt(pool_over_cosets, f.clone(), subgroup, name="pool_over_cosets")
        if value is None:
            fail(f"{call} returned None: write a case for each subgroup, 'rotations' (H = C4) and "
                 f"'stabilizer' (H = D4)")
        if isinstance(value, torch.Tensor) and tuple(value.shape) != tuple(want.shape):
            mistake = coset_shape_mistake(tuple(value.shape), f, subgroup)
            if mistake:
                fail(f"for a p4m map f of shape {tuple(f.shape)}, {call} returned shape "
                     f"{tuple(value.shape)}, expected {tuple(want.shape)}: {mistake}")
        got = expect_result(value, tuple(want.shape), call)
        if not close(got, want):
            fail(f"{call} differs from coset_max_pool(f, P4M, {subgroup!r}) on a map of shape "
                 f"{tuple(f.shape)}: {coset_pool_mistake(got, f, subgroup)}; {largest_difference(got, want)}")
    passed(f"pool_over_cosets agrees with coset_max_pool on {len(maps)} random p4m maps, over C4 (two "
           f"planes, C4 and m C4) and over D4 (one plane)")


# ---------------------------------------------------------------------------------------------
# Exercise 3: group batch normalization (training mode, no scale or shift)


def normalized(f: torch.Tensor, dims: tuple[int, ...], eps: float, unbiased: bool = False,
               eps_outside: bool = False) -> torch.Tensor:
    """(f - mean) / sqrt(var + eps) with the statistics over `dims`: the variants a check compares with."""
    mean = f.mean(dim=dims, keepdim=True)
    var = f.var(dim=dims, keepdim=True, correction=1 if unbiased else 0)
    return (f - mean) / (var.sqrt() + eps if eps_outside else (var + eps).sqrt())


def reference_batch_norm(f: torch.Tensor, group: Group, eps: float) -> torch.Tensor:
    """GroupBatchNorm in training mode with gamma = 1, beta = 0 and this eps."""
    bn = GroupBatchNorm(f.shape[1], group).train()
    bn.eps = eps
    with torch.no_grad():
        bn.weight.fill_(1.0)
        bn.bias.zero_()
        return bn(f)


def shared_statistics_errors(fn: Callable[[torch.Tensor], torch.Tensor], f: torch.Tensor,
                             elements: list[GroupElement], group: Group) -> dict[GroupElement, float]:
    """For each g: normalise f and L_g f in one batch (one set of statistics for both), compare with L_g."""
    errors = {}
    for g in elements:
        y = expect_tensor(attempt(fn, torch.cat([f, act(g, f, group)]), name="group_batch_norm"),
                          (2 * len(f), *f.shape[1:]), "group_batch_norm")
        errors[g] = relative_error(y[len(f):], act(g, y[:len(f)], group))
    return errors


def per_plane_message(fn: Callable[[torch.Tensor], torch.Tensor], f: torch.Tensor, group: Group) -> str:
    """The per-plane diagnosis, with the elements that break equivariance once the statistics are shared."""
    elements = group.stabilizer()
    alone = max(attempt(check_equivariance, fn, group, f, elements, name="group_batch_norm").values())
    together = shared_statistics_errors(fn, f, elements, group)
    broken = [g.name for g, e in together.items() if e > TOLERANCE]
    pairs = "; the elements of order 2 swap planes in pairs, whose joint statistics agree" \
        if broken == ["r", "r³"] else ""
    return ("you normalised each plane s with its own mean and variance mu_{c,s}, sigma_{c,s}; "
            "GroupBatchNorm has one mu_c, sigma_c per channel, over the batch, the group axis and the "
            f"pixels. Alone, your layer still commutes with L_g (error {alone:.0e} over the stabilizer of "
            f"{group.name}: the statistics of L_g f are those of f, moved with the planes), but not once the "
            "statistics are fixed. With f and L_g f in one batch (one set of statistics for both, as stored "
            "statistics are in evaluation mode), L_g moves the content of plane g^-1 s onto plane s, where "
            "it is normalised with plane s's statistics instead of its own plane's: the result for L_g f is "
            "not L_g of the "
            f"result for f for g = {', '.join(broken)} (largest relative error "
            f"{max(together.values()):.2g}){pairs}")


def batch_norm_mistake(fn: Callable[[torch.Tensor], torch.Tensor], got: torch.Tensor, f: torch.Tensor,
                       group: Group, eps: float) -> str:
    """What is wrong with got as the group batch norm of f, in the notebook's terms."""
    if close(got, normalized(f, (0, 3, 4), eps)):
        return per_plane_message(fn, f, group)
    if close(got, normalized(f, (0, 2, 3, 4), eps, unbiased=True)):
        n = f.numel() // f.shape[1]
        return (f"you used the unbiased variance (divided by N - 1 = {n - 1}); batch norm in training mode "
                f"divides by N = {n}, the number of values per channel (B * S * H * W)")
    if close(got, normalized(f, (0, 2, 3, 4), 0.0)):
        return f"you forgot eps: divide by sqrt(sigma_c^2 + eps), here eps = {eps:.3f}"
    if close(got, normalized(f, (0, 2, 3, 4), eps, eps_outside=True)):
        return "eps goes under the square root: divide by sqrt(sigma_c^2 + eps), not by sigma_c + eps"
    if close(got, normalized(f, (2, 3, 4), eps)):
        return ("you took the statistics of each image of the batch separately; batch norm shares one mean "
                "and variance per channel over the whole batch (and the group axis and the pixels)")
    if close(got, normalized(f, (0, 1, 2, 3, 4), eps)):
        return "you took one mean and variance for all channels together; batch norm has one per channel c"
    return ("it should be (f - mu_c) / sqrt(sigma_c^2 + eps), with mu_c and the biased variance sigma_c^2 "
            "over the batch, the group axis and the pixels of channel c")


def batch_norm_input(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """A map whose planes have different means and spreads, so that per-plane statistics differ."""
    planes = shape[2]
    scale = 1 + torch.rand((1, 1, planes, 1, 1), generator=generator)
    offset = 2 * torch.rand((1, shape[1], planes, 1, 1), generator=generator) - 1
    return draw(shape, generator) * scale + offset


def with_eps(group_batch_norm: Callable[[torch.Tensor, float], torch.Tensor],
             eps: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """group_batch_norm(f, eps) as a function of f alone, as check_equivariance wants it."""
    def norm(f: torch.Tensor) -> torch.Tensor:
        return group_batch_norm(f, eps)
    return norm


def check_group_batch_norm(group_batch_norm: Callable[[torch.Tensor, float], torch.Tensor],
                           seed: int = 0) -> None:
    """Compare group_batch_norm(f, eps) with GroupBatchNorm in training mode and test its equivariance."""
    generator = torch.Generator().manual_seed(seed)
    cases = [(P4, batch_norm_input((2, 3, 4, 6, 6), generator)),
             (P4M, batch_norm_input((3, 2, 8, 5, 5), generator))]
    eps = 0.1 + 0.2 * torch.rand((), generator=generator).item()  # large enough for a forgotten eps to show
    fn = with_eps(group_batch_norm, eps)
    for group, f in cases:
        want = reference_batch_norm(f, group, eps)
        got = expect_result(attempt(group_batch_norm, f.clone(), eps), tuple(f.shape), "group_batch_norm")
        if not close(got, want):
            fail(f"group_batch_norm(f, eps={eps:.3f}) differs from GroupBatchNorm (training mode, gamma = 1, "
                 f"beta = 0) on a {group.name} map of shape {tuple(f.shape)}: "
                 f"{batch_norm_mistake(fn, got, f, group, eps)}; {largest_difference(got, want)}")
    group, f = cases[1]
    elements = group.stabilizer()
    alone = attempt(check_equivariance, fn, group, f, elements, name="group_batch_norm")
    together = shared_statistics_errors(fn, f, elements, group)
    worst = max(max(alone.values()), max(together.values()))
    if worst > TOLERANCE:
        bad = [g.name for g in elements if max(alone[g], together[g]) > TOLERANCE]
        fail(f"group_batch_norm agrees with GroupBatchNorm but does not commute with L_g for g = "
             f"{', '.join(bad)} (relative error {worst:.2g}): it should depend on its input alone")
    passed(f"group_batch_norm agrees with GroupBatchNorm (training mode, gamma = 1, beta = 0) on a p4 and a "
           f"p4m map, and commutes with L_g for the 8 elements of D4, alone and with f and L_g f in one "
           f"batch (largest relative error {worst:.1e})")


# ---------------------------------------------------------------------------------------------
# Exercise 4: a p4 network whose invariance one broken rule spoils


class PlaneMaxPool(nn.Module):
    """torch's k x k max-pool with stride s on every plane of a map (B, C, S, H, W), without a side check."""

    def __init__(self, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(f.flatten(1, 2), self.kernel_size, self.stride).unflatten(1, f.shape[1:3])

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxReadout(nn.Module):
    """P4CNN's readout: coset max-pooling over C4, then the maximum over the positions: (B, C)."""

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return coset_max_pool(f, P4, "rotations").amax(dim=(-2, -1))


SIDE = 25  # the side of the images the network of exercise 4 takes


def broken_network() -> nn.Sequential:
    """A small p4 network for 25x25 images; its scores should be invariant to p4, and are not."""
    return nn.Sequential(
        LiftingConv2d(1, 4, 3, P4),  # a lifting correlation, eq. 10
        nn.ReLU(),
        PlaneMaxPool(2, stride=2),  # spatial max-pooling on every plane
        GroupConv2d(4, 6, 3, P4),  # a group correlation on p4, eq. 11
        nn.ReLU(),
        MaxReadout(),  # coset pooling over C4 and the maximum over the positions: 6 scores
    )


def layer_names(net: nn.Module) -> list[str]:
    """The class names of a Sequential's layers."""
    return [type(layer).__name__ for layer in net]


def layer_settings(net: nn.Module) -> list[str]:
    """Each layer with its settings (kernel size, stride, padding, ...), as torch prints it."""
    return [repr(layer) for layer in net]


def pool_rule_broken(net: nn.Sequential, x: torch.Tensor) -> str | None:
    """What the first pool whose side breaks the rule "(n - k) divisible by s" does wrong, or None."""
    h = x
    for i, layer in enumerate(net):
        if isinstance(layer, PlaneMaxPool):
            n, k, s = h.shape[-1], layer.kernel_size, layer.stride
            if (n - k) % s:
                left = "row and column" if (n - k) % s == 1 else f"{(n - k) % s} rows and columns"
                return (f"layer {i}, PlaneMaxPool({k}, stride={s}), meets a side of n = {n} pixels, and "
                        f"n - k = {n - k} is not divisible by s = {s}: its windows start at 0, {s}, ..., "
                        f"{(n - k) // s * s} and leave the last {left} out, so they are not placed "
                        "symmetrically about the grid's centre, and a rotation does not map windows onto "
                        "windows")
        h = layer(h)
    return None


def network_input(seed: int) -> torch.Tensor:
    """Four random 25x25 images, zero outside the central 7x7 (so that shifts by 2 lose nothing)."""
    generator = torch.Generator().manual_seed(seed)
    return zero_border(torch.rand((4, 1, SIDE, SIDE), generator=generator), 9)


def check_fixed_network(fixed_network: Callable[[], nn.Module], seed: int = 0) -> None:
    """Test that fixed_network() keeps broken_network()'s layers and that its scores are invariant to p4."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = attempt(fixed_network, name="fixed_network")
    broken = broken_network()
    if not isinstance(net, nn.Sequential):
        fail(f"fixed_network() should return an nn.Sequential like broken_network(), got "
             f"{type(net).__name__}")
    if layer_names(net) != layer_names(broken):
        fail(f"fixed_network() should keep broken_network()'s layers, in their order: {layer_names(broken)}; "
             f"yours are {layer_names(net)}. Repair the layer that breaks a rule; do not remove or replace "
             "layers")
    shapes = [tuple(p.shape) for p in net.parameters()]
    if shapes != [tuple(p.shape) for p in broken.parameters()]:
        fail(f"fixed_network() should keep the parameters' layout of broken_network(): filters and biases of "
             f"shapes {[tuple(p.shape) for p in broken.parameters()]}, yours are {shapes}. A new "
             "convolution kernel size (other parameter shapes) makes another network; repair only the "
             "setting that breaks the rule (a pool's kernel size and stride are settings)")
    net.eval()
    x = network_input(seed)
    scores = attempt(net, x, name="your network")
    if not isinstance(scores, torch.Tensor) or tuple(scores.shape) != (len(x), 6):
        fail(f"your network should give 6 scores per image, (4, 6) for 4 images of 25x25, got "
             f"{getattr(scores, 'shape', type(scores).__name__)}")
    for i, layer in enumerate(net):
        if isinstance(layer, PlaneMaxPool) and layer.kernel_size == 1 and layer.stride == 1:
            fail(f"layer {i} is a 1x1 pool with stride 1: it does nothing. Keep a pool that pools")
    elements = P4.stabilizer() + [P4.element(0, 2, 0), P4.element(0, 0, -2), P4.element(1, 2, 2)]
    errors = attempt(check_equivariance, net, P4, x, elements, name="your network")
    bad = {g: e for g, e in errors.items() if e > TOLERANCE}
    if bad:
        head = (f"your network's scores change when the input is moved by g = "
                f"{', '.join(g.name for g in bad)} (largest relative error {max(bad.values()):.2g}), so they "
                "are not invariant to p4")
        if layer_settings(net) == layer_settings(broken):
            fail(f"{head}. Your network is broken_network() unchanged: follow the side of the map through "
                 "the layers: which layer breaks a rule of the conventions?")
        cause = pool_rule_broken(net, x)
        strides = [layer.stride for layer in net if isinstance(layer, PlaneMaxPool)]
        if cause is None and all(g.translation != (0, 0) for g in bad):
            cause = (f"the rotations about the centre pass but the shifts by 2 pixels do not: a pool with "
                     f"stride s keeps only the shifts by multiples of s, and yours has stride {strides[0]}")
        fail(f"{head}: {cause or 'look for a layer that breaks one of the rules of docs/conventions.md'}")
    passed(f"fixed_network() keeps the {len(net)} layers and the parameter shapes of broken_network(), and "
           f"its scores are invariant (relative error below {TOLERANCE:g}) under the 4 rotations of C4 and 3 "
           f"elements with translations by 2 pixels, on {len(x)} random 25x25 images with a zero border")

