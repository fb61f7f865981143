"""Checks for notebook 07: where the windows of a layer sit, an exact stride 2, a network repaired.

Every rule of the notebook comes from one statement: a layer commutes with the quarter turn r about the
centre of the grid exactly when the centres of its windows, in the paper's coordinate u (pixel j of a
side of n pixels is u = j - (n - 1) / 2), are placed symmetrically about u = 0.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import torch
from torch import nn

from ..actions import act
from ..equivariance import check_equivariance, relative_error
from ..groups import P4, GroupElement
from .common import attempt, close, expect_tensor, fail, passed

EXACT = 1e-5  # check_equivariance's relative error at float32 rounding

# ---------------------------------------------------------------------------------------------
# Exercise 1: window_centres


def reference_centres(n: int, k: int, s: int, pad_left: int, pad_right: int) -> torch.Tensor:
    """The mean coordinate u of the pixels each window reads: windows of k, stride s, on the padded side."""
    u = torch.arange(-pad_left, n + pad_right, dtype=torch.float64) - (n - 1) / 2
    return u.unfold(0, k, s).mean(dim=1)


def window_cases(seed: int) -> list[tuple[int, int, int, int, int]]:
    """(n, k, s, pad_left, pad_right): the notebook's layers, then random ones."""
    cases = [(24, 2, 2, 0, 0), (25, 2, 2, 0, 0), (16, 3, 2, 1, 1), (17, 3, 2, 1, 1), (16, 4, 1, 1, 2),
             (28, 4, 1, 2, 2), (4, 4, 1, 0, 0)]
    rng = random.Random(seed)
    while len(cases) < 40:
        n, k, s = rng.randint(5, 30), rng.randint(1, 5), rng.randint(1, 3)
        pads = rng.randint(0, 3), rng.randint(0, 3)
        if n + sum(pads) >= k:
            cases.append((n, k, s, *pads))
    return cases


def centres_mistake(case: tuple[int, int, int, int, int], got: torch.Tensor, want: torch.Tensor) -> str:
    """What is wrong with `got` as the centres of the windows, in the terms of the notebook."""
    n, k, s, left, right = case
    head = (f"for a side of n = {n}, a {k}x{k} window, stride s = {s} and padding ({left}, {right}) you gave "
            f"{show(got)}, but the windows' centres are u = {show(want)}")
    shifts = {(n - 1) / 2: ": these are pixel indices; the paper's coordinate is u = j - (n - 1)/2, 0 at the "
                           "centre of the grid",
              0.5: f": a window of k = {k} pixels starting at pixel a has its centre at a + (k - 1)/2 "
                   f"(the mean of a, ..., a + k - 1), not a + k/2",
              -0.5: f": a window of k = {k} pixels starting at pixel a has its centre at a + (k - 1)/2, "
                    f"not a + (k - 2)/2",
              float(left): ": window j starts at padded pixel s j, which is input pixel s j - p_left: "
                           "subtract the padding on the left",
              -float(left): ": the padding on the left moves the windows towards negative u, by p_left: "
                            "window j starts at input pixel s j - p_left, not s j + p_left"}
    for shift, reason in shifts.items():
        if shift and close(got, want + shift, 1e-9):
            return head + reason
    unstrided = want[0] + torch.arange(len(want), dtype=torch.float64)
    if s > 1 and close(got, unstrided, 1e-9):
        return head + f": the windows are s = {s} pixels apart, window j starts at s j - p_left"
    return head + " (window j reads input pixels s j - p_left, ..., s j - p_left + k - 1)"


def show(t: torch.Tensor) -> str:
    """A short list of numbers: all of them when few, else the first and the last three."""
    values = [f"{v:g}" for v in t.tolist()]
    shown = values if len(values) <= 7 else values[:3] + ["..."] + values[-3:]
    return "[" + ", ".join(shown) + "]"


def check_window_centres(window_centres: Callable[[int, int, int, int, int], torch.Tensor],
                         seed: int = 0) -> None:
    """Compare window_centres(n, k, s, pad_left, pad_right) with the mean position each window reads."""
    cases = window_cases(seed)
    for case in cases:
        n, k, s, left, right = case
        want = reference_centres(*case)
        got = attempt(window_centres, *case, name="window_centres")
        if isinstance(got, torch.Tensor) and got.dim() == 1 and len(got) != len(want):
            fail(f"for n = {n}, k = {k}, s = {s}, padding ({left}, {right}) you gave {len(got)} windows, "
                 f"but {len(want)} fit: (n + p_left + p_right - k) // s + 1 = "
                 f"({n} + {left} + {right} - {k}) // {s} + 1 (the first window is j = 0, the last one "
                 f"must end inside the padded side)")
        got = expect_tensor(got, tuple(want.shape), "window_centres")
        if not got.is_floating_point():
            fail(f"window_centres should return floating-point coordinates (a centre can be a half-integer), "
                 f"got {got.dtype}")
        if not close(got, want, 1e-9):
            fail(centres_mistake(case, got.double(), want))
    passed(f"window_centres gives the centres of the windows for all {len(cases)} sides, kernels, strides "
           "and paddings")


# ---------------------------------------------------------------------------------------------
# Exercise 2: exact_downsample


def equivariance_errors(module: Callable, x: torch.Tensor) -> dict[str, float] | None:
    """check_equivariance of `module` on a p4 map x over r, r², r³ by name; None when the module raises."""
    try:
        errors = check_equivariance(module, P4, x, P4.stabilizer()[1:])
    except Exception:  # the student's module may refuse this side; that is an answer too
        return None
    return {g.name: e for g, e in errors.items()}


def worst(errors: dict[str, float] | None) -> float:
    """The largest error of a check, infinite when there was none."""
    return max(errors.values()) if errors else float("inf")


def check_exact_downsample(exact_downsample: Callable[[int, int], nn.Module], seed: int = 0) -> None:
    """Build exact_downsample(c_in, c_out), check shape (n -> n/2 on even sides) and exactness over p4."""
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    c_in, c_out = rng.randint(2, 4), rng.randint(2, 5)
    torch.manual_seed(seed)  # the module's own initial weights
    module = attempt(exact_downsample, c_in, c_out, name="exact_downsample")
    if not callable(module):
        fail(f"exact_downsample should return a module (an nn.Module), got {type(module).__name__}")
    if isinstance(module, nn.Module):
        module.eval()  # dropout off, stored batch-norm statistics: the mode check_equivariance needs
    for n in (16, 2 * rng.randint(5, 12)):
        x = torch.randn(2, c_in, 4, n, n, generator=gen)
        y = attempt(module, x, name="the module of exact_downsample")
        if isinstance(y, torch.Tensor) and y.dim() == 5 and y.shape[:3] == (2, c_out, 4):
            side = y.shape[-1]
            if side == (n - 2) // 2:
                fail(f"on a side of {n} your module gives {side}, not {n // 2}: a 3x3 convolution without "
                     f"padding shrinks {n} to {n - 2} before the 2x2 pool; pad 1 on every side (symmetric) "
                     f"to keep {n}")
            if side == n:
                fail(f"on a side of {n} your module keeps the side {n}: it should halve it to {n // 2}")
        expect_tensor(y, (2, c_out, 4, n // 2, n // 2), "the module of exact_downsample")
        if not torch.isfinite(y).all() or y.abs().max() == 0:
            fail("your module's output is zero (or not finite): an exact but empty answer; it should "
                 "compute a group convolution of the input")
        errors = attempt(equivariance_errors, module, x, name="the module of exact_downsample")
        if worst(errors) > EXACT:
            fail(downsample_mistake(module, x, errors, gen))
    passed(f"exact_downsample({c_in}, {c_out}) halves even sides of p4 maps and commutes with r, r², r³ "
           "(check_equivariance below 1e-5) on two sides")


def downsample_mistake(module: Callable, x: torch.Tensor, errors: dict[str, float] | None,
                       gen: torch.Generator) -> str:
    """Which rule the module breaks: a stride-2 grid that is exact on an odd side only, or another one."""
    n = x.shape[-1]
    measured = "error " + (", ".join(f"{g} {e:.2f}" for g, e in errors.items()) if errors else "not measured")
    head = f"on a side of {n} your module does not commute with the rotations ({measured})"
    odd = torch.randn(*x.shape[:3], n + 1, n + 1, generator=gen)
    if worst(equivariance_errors(module, odd)) <= EXACT:
        return head + (f", but on the odd side {n + 1} it does: it samples a stride-2 grid (a stride-2 "
                       f"convolution or pool), and on an even side the reversal i -> n - 1 - i of the "
                       f"quarter turn changes the parity of every row, so no stride-2 grid is symmetric "
                       f"about the centre; use a stride-1 convolution (symmetric padding) and then a 2x2 "
                       f"pool, whose windows {{2b, 2b + 1}} are symmetric on an even side")
    return head + (": the centres of its windows are not symmetric about the centre u = 0 of the grid; "
                   "check each step with check_equivariance: padding the same on every side, no stride-2 "
                   "convolution on an even side, a 2x2 pool on an even side only")


# ---------------------------------------------------------------------------------------------
# Exercise 3: fixed_network


def side(t: torch.Tensor) -> int | None:
    """The side of an image or a feature map, None for class scores."""
    return t.shape[-1] if t.dim() >= 4 else None


def stage_maps(net: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The input and the output of every stage of `net`, in order."""
    maps = [x]
    with torch.no_grad():
        for stage in net:
            maps.append(stage(maps[-1]))
    return maps


def moved(g: GroupElement, y: torch.Tensor) -> torch.Tensor:
    """L_g y for what a stage gives: class scores (B, K) do not move, images and p4 maps do."""
    return y if y.dim() == 2 else act(g, y, P4)


def first_breaker(net: nn.Sequential, x: torch.Tensor) -> tuple[int, float, int | None, int | None] | None:
    """(stage, error, side before, side after) of the first stage after which the map is not equivariant.

    The error is check_equivariance's, max |stage maps of L_g x - L_g (stage maps of x)| / max |L_g ...|,
    for each stage at once: one pass of the network per element g.
    """
    maps = stage_maps(net, x)
    turned = {g: stage_maps(net, act(g, x, P4)) for g in P4.stabilizer()[1:]}
    for i in range(len(net)):
        error = max(relative_error(turned[g][i + 1], moved(g, maps[i + 1])) for g in turned)
        if error > EXACT:
            return i, error, side(maps[i]), side(maps[i + 1])
    return None


def stage_rule(before: int | None, after: int | None) -> str:
    """The rule of the notebook that a stage mapping side `before` to side `after` most likely breaks."""
    if before is None or after is None:
        return "it acts on class scores, which must not change at all"
    if 2 * after <= before + 1:
        return (f"it halves the side {before} -> {after}: a stride-2 window grid, which is symmetric only "
                f"when (n - k) is even (a 2x2 pool needs an even side, a 3x3 window an odd one)")
    if (after - before) % 2:
        return (f"it changes the side by an odd number of pixels ({before} -> {after}): padding or cropping "
                f"that is not the same on every side moves the centre of the grid by half a pixel")
    return (f"it maps the side {before} -> {after} off-centre: padding the same on every side, and windows "
            f"whose centres are symmetric about the centre of the grid, keep the centre")


def check_fixed_network(fixed_network: Callable[[], nn.Sequential], seed: int = 0) -> None:
    """The repaired network: class scores (B, 10) of 28x28 digits, invariant to r, r², r³ to rounding."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the network's own initial weights
    net = attempt(fixed_network, name="fixed_network")
    if not isinstance(net, nn.Sequential):
        fail(f"fixed_network should return an nn.Sequential (the broken network's stages, repaired), "
             f"got {type(net).__name__}")
    net.eval()
    x = torch.randn(4, 1, 28, 28, generator=gen)
    y = expect_tensor(attempt(net, x, name="your network"), (4, 10), "your network")
    if not torch.isfinite(y).all() or (y - y[0]).abs().max() == 0:
        fail("your network gives every digit the same scores: invariant, but blind; keep its layers")
    if max(check_equivariance(net, P4, x, P4.stabilizer()[1:]).values()) <= EXACT:
        passed(f"fixed_network's class scores are invariant to r, r², r³ (check_equivariance below 1e-5) "
               f"on {len(x)} random inputs")
        return
    try:
        found = first_breaker(net, x)
    except Exception as err:  # a stage of the student's network may not run on its own
        fail(f"running the stages of your network one after the other raised {type(err).__name__}: {err}")
    if found is None:
        fail("your network's scores change under the quarter turns, although every stage, run in order, "
             "keeps the maps equivariant: check that the forward pass is the stages in order")
    i, error, before, after = found
    exact_part = f"the maps are exact up to stage {i - 1} and not" if i else "the maps are not exact"
    fail(f"your network's scores change under the quarter turns: {exact_part} after stage {i}, {net[i]!r} "
         f"(check_equivariance error {error:.2f}); " + stage_rule(before, after))
