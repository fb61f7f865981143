"""Checks for notebook 07: where the windows of a layer sit, an exact stride 2, a network repaired.

Every rule of the notebook comes from one statement: a layer commutes with the quarter turn r about the
centre of the grid exactly when the centres of its windows, in the course's coordinate u (pixel i of a
side of n pixels is u = i - (n - 1) / 2, docs/conventions.md), are placed symmetrically about u = 0.
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


CentreCase = tuple[int, int, int, int, int]
# the known mistakes: (what it does to every centre, given (n, k, s, pad_left, pad_right); the diagnosis)
CENTRE_MISTAKES: list[tuple[Callable[[int, int, int, int, int], float], str]] = [
    (lambda n, k, s, left, right: (n - 1) / 2,
     ": these are pixel indices; the course's coordinate is u = pixel - (n - 1)/2, 0 at the centre of "
     "the grid"),
    (lambda n, k, s, left, right: 0.5,
     ": a window of k pixels starting at pixel a has its centre at a + (k - 1)/2 (the mean of a, ..., "
     "a + k - 1), not a + k/2"),
    (lambda n, k, s, left, right: -0.5,
     ": every centre is half a pixel too far left, which one of two slips gives: the window's own centre "
     "a + (k - 2)/2 instead of a + (k - 1)/2 (the mean of a, ..., a + k - 1), or the centre of the grid "
     "n/2 instead of (n - 1)/2 in u = pixel - (n - 1)/2 (pixel 0 of a side of n is at u = -(n - 1)/2)"),
    (lambda n, k, s, left, right: left - right,
     ": you used the padding on the right where the padding on the left belongs; window j starts at input "
     "pixel s j - p_left, and p_right only decides how many windows fit"),
    (lambda n, k, s, left, right: left,
     ": window j starts at padded pixel s j, which is input pixel s j - p_left: subtract the padding on "
     "the left"),
    (lambda n, k, s, left, right: 2 * left,
     ": the padding on the left moves the windows towards negative u, by p_left: window j starts at input "
     "pixel s j - p_left, not s j + p_left"),
]


def centres_mistake(cases: list[CentreCase], answers: list[torch.Tensor], wants: list[torch.Tensor]) -> str:
    """What is wrong with the centres, from the known mistake that explains the answers on every case."""
    pairs = list(zip(answers, wants, strict=True))
    first = next(i for i, (got, want) in enumerate(pairs) if not close(got, want, 1e-9))
    n, k, s, left, right = cases[first]
    head = (f"for a side of n = {n}, a {k}x{k} window, stride s = {s} and padding ({left}, {right}) you gave "
            f"{show(answers[first])}, but the windows' centres are u = {show(wants[first])}")
    for shift, reason in CENTRE_MISTAKES:
        if all(close(got, want + shift(*case), 1e-9) for case, (got, want) in zip(cases, pairs, strict=True)):
            return head + reason
    unstrided = wants[first][0] + torch.arange(len(wants[first]), dtype=torch.float64)
    if s > 1 and close(answers[first], unstrided, 1e-9):
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
    answers, wants = [], []
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
        answers.append(got.double())
        wants.append(want)
    if not all(close(got, want, 1e-9) for got, want in zip(answers, wants, strict=True)):
        fail(centres_mistake(cases, answers, wants))
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
    if not isinstance(module, nn.Module):
        builds = (": a function that builds its layers when it is called draws new filters at every call, "
                  "so the turned input would meet other filters") if callable(module) else ""
        fail(f"exact_downsample should return a module (an nn.Module, e.g. an nn.Sequential), got "
             f"{type(module).__name__}{builds}")
    module.eval()  # dropout off, stored batch-norm statistics: the mode check_equivariance needs
    for n in (16, 2 * rng.randint(5, 12)):
        x = torch.randn(2, c_in, 4, n, n, generator=gen)
        y = attempt(module, x, name="the module of exact_downsample")
        if isinstance(y, torch.Tensor) and y.dim() == 5 and y.shape[:3] == (2, c_out, 4):
            side = y.shape[-1]
            for pad in (0, 2, 3):
                if side == (n + 2 * pad - 2) // 2:
                    fail(f"on a side of {n} your module gives {side}, not {n // 2}: a 3x3 convolution "
                         + ("without padding" if pad == 0 else f"with padding {pad} on every side")
                         + f" {'shrinks' if pad == 0 else 'grows'} {n} to {n + 2 * pad - 2} (n + 2p - 2) "
                         f"before the 2x2 pool halves it; padding 1 on every side keeps {n}")
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


def downsample_mistake(module: nn.Module, x: torch.Tensor, errors: dict[str, float] | None,
                       gen: torch.Generator) -> str:
    """Which rule the module breaks: a stride-2 grid (odd sides only), an off-centre grid, or the filters."""
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
    if any(shifted_only(module, torch.randn(*x.shape[:3], side, side, generator=gen)) for side in (n, n + 1)):
        return head + (": under the half turn its output only moves by whole pixels, so its filters are "
                       "right and the centres of its windows are not symmetric about the centre u = 0 of the "
                       "grid; pad the same on every side, and use no stride-2 convolution on an even side "
                       "and a 2x2 pool on an even side only")
    return head + (", on an even or an odd side, and no shift of its output repairs that: its filters are "
                   "not a G-correlation (eq. 10), whose output plane r uses the filter turned by r with its "
                   "planes shifted by r; a plain nn.Conv2d on the flattened planes does not do that. Use "
                   "GroupConv2d(c_in, c_out, 3, P4, padding=1), then the 2x2 average pool")


def shifted_only(module: nn.Module, f: torch.Tensor, border: int = 4, reach: int = 2) -> bool:
    """Whether module(L_{r²} f) is L_{r²} module(f) moved by a few whole pixels (f with a zero border)."""
    f = nn.functional.pad(f, (border,) * 4)
    half_turn = P4.stabilizer()[2]
    try:
        with torch.no_grad():
            turned, want = module(act(half_turn, f, P4)), act(half_turn, module(f), P4)
    except Exception:  # a side the module refuses says nothing about its filters
        return False
    return any(close(torch.roll(turned, (a, b), dims=(-2, -1)), want)
               for a in range(-reach, reach + 1) for b in range(-reach, reach + 1))


# ---------------------------------------------------------------------------------------------
# Exercise 3: fixed_network


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


def first_breaker(net: nn.Sequential, x: torch.Tensor
                  ) -> tuple[int, float | None, torch.Size, torch.Size] | None:
    """(stage, error, shape before, shape after) of the first stage after which the map is not equivariant.

    The error is check_equivariance's, max |stage maps of L_g x - L_g (stage maps of x)| / max |L_g ...|,
    for each stage at once: one pass of the network per element g. It is None for a stage whose map is not
    square, which a quarter turn cannot act on.
    """
    maps = stage_maps(net, x)
    for i in range(len(net)):
        if maps[i + 1].dim() >= 4 and maps[i + 1].shape[-1] != maps[i + 1].shape[-2]:
            return i, None, maps[i].shape, maps[i + 1].shape
    turned = {g: stage_maps(net, act(g, x, P4)) for g in P4.stabilizer()[1:]}
    for i in range(len(net)):
        error = max(relative_error(turned[g][i + 1], moved(g, maps[i + 1])) for g in turned)
        if error > EXACT:
            return i, error, maps[i].shape, maps[i + 1].shape
    return None


def window_grid(stage: nn.Module) -> tuple[int, int] | None:
    """(kernel k, stride s) of a pooling or strided stage, read off its attributes; None if it has none."""
    for k_name, s_name in (("k", "s"), ("kernel_size", "stride")):
        k, s = getattr(stage, k_name, None), getattr(stage, s_name, None)
        k, s = (k[0] if isinstance(k, tuple) else k), (s[0] if isinstance(s, tuple) else s)
        if isinstance(k, int) and isinstance(s, int):
            return k, s
    return None


def stage_rule(stage: nn.Module, before: int | None, after: int | None) -> str:
    """The rule of the notebook that `stage`, mapping side `before` to side `after`, most likely breaks."""
    if before is None or after is None:
        return "it acts on class scores, which must not change at all"
    grid = window_grid(stage)
    if grid and grid[1] > 1:
        k, s = grid
        return (f"it maps the side {before} -> {after} with a {k}x{k} window and stride {s}: its windows are "
                f"symmetric about the centre only when (n - k) is divisible by s, and here "
                f"({before} - {k}) mod {s} = {(before - k) % s}; choose k and s that fit the side {before}, "
                f"or change the side before it")
    if 2 * after <= before + 1:
        return (f"it shrinks the side {before} -> {after}: a strided window grid, which is symmetric about "
                f"the centre only when (n - k) is divisible by the stride s")
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
    where = f"stage {i} (counting from 0, as net[{i}] indexes it), {net[i]!r}"
    if error is None:
        fail(f"your network's scores change under the quarter turns: {where} makes the map non-square "
             f"({before[-2]}x{before[-1]} -> {after[-2]}x{after[-1]}, rows x columns); a quarter turn "
             f"exchanges rows and columns, so a map must stay square: pad the same on every side")
    exact_part = f"the maps are exact up to stage {i - 1} and not" if i else "the maps are not exact"
    fail(f"your network's scores change under the quarter turns: {exact_part} after {where} "
         f"(check_equivariance error {error:.2f}); "
         + stage_rule(net[i], side_of(before), side_of(after)))


def side_of(shape: torch.Size) -> int | None:
    """The side of an image or a feature map of this shape, None for class scores."""
    return shape[-1] if len(shape) >= 4 else None
