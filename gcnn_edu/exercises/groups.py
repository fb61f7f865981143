"""Checks for notebook 01: the product and the inverse of p4m elements written as (m, r, u, v).

A check runs the student's function on many elements, and when an answer is wrong it looks for the
one known mistake that explains every answer given (the rotation not reversed past a mirror, the
translation not moved by the block, the mirror about the wrong axis, ...), so that the message names
the mistake rather than one unlucky element.
"""

from __future__ import annotations

import itertools
import operator
import random
from collections.abc import Callable

from ..groups import COORDINATE_LIMIT, P4M, GroupElement
from .common import attempt, fail, passed

Params = tuple[int, int, int, int]  # (m, r, u, v) of g(m, r, u, v) = t(u, v) M^m R^r
Point = tuple[int, int]


def sample_elements(seed: int) -> list[GroupElement]:
    """Every element of D4 with the translations (0, 0), (1, 0) and (0, 2), and 8 drawn at random."""
    rng = random.Random(seed)
    fixed = [P4M.make(m, r, u, v) for m, r, (u, v) in
             itertools.product((0, 1), range(4), ((0, 0), (1, 0), (0, 2)))]
    drawn = [P4M.make(rng.randrange(2), rng.randrange(4), rng.randint(-5, 5), rng.randint(-5, 5))
             for _ in range(8)]
    return fixed + drawn


def as_params(value: object, name: str) -> Params:
    """The student's answer as four integers (m, r, u, v) with m in {0, 1} and r in {0, 1, 2, 3}."""
    if not (isinstance(value, tuple | list) and len(value) == 4):
        fail(f"{name} should return a tuple (m, r, u, v) of four integers, got {value!r}")
    try:
        m, r, u, v = (operator.index(x) for x in value)
    except TypeError:
        fail(f"{name} should return four integers (m, r, u, v), got {value!r}")
    if m not in (0, 1) or r not in range(4):
        fail(f"{name} gave m = {m}, r = {r}: the parameters of g(m, r, u, v) are m in {{0, 1}} and r in "
             "{0, 1, 2, 3}; reduce m mod 2 (M^2 = I) and r mod 4 (R^4 = I)")
    if max(abs(u), abs(v)) >= COORDINATE_LIMIT:
        fail(f"{name} gave the translation ({u}, {v}), far off the elements it was given")
    return m, r, u, v


def params(g: GroupElement) -> Params:
    """(m, r, u, v) of an element of p4m."""
    return g.m, g.r, g.u, g.v


def show(p: Params) -> str:
    """g(m, r, u, v) with the element's name, e.g. 'g(1, 3, 0, 2) = t(0, 2) mr³'."""
    return f"g{p} = {P4M.make(*p).name}"


def turn(r: int, t: Point) -> Point:
    """R^r t: r quarter turns counterclockwise (R sends (u, v) to (-v, u))."""
    u, v = t
    for _ in range(r % 4):
        u, v = -v, u
    return u, v


def block(m: int, r: int, t: Point) -> Point:
    """M^m R^r t: turn, then mirror u -> -u."""
    u, v = turn(r, t)
    return (-u if m else u), v


def mirror_v(m: int, t: Point) -> Point:
    """diag(1, -1)^m t: a mirror about the other axis (v -> -v), the usual slip for M."""
    return (t[0], -t[1]) if m else t


def plus(a: Point, b: Point) -> Point:
    """a + b."""
    return a[0] + b[0], a[1] + b[1]


def minus(t: Point) -> Point:
    """-t."""
    return -t[0], -t[1]


# Known mistakes in the product g h = g(m + m', (-1)^m' r + r', t + M^m R^r t'): each gives the part it
# gets wrong (rotation or translation) for g and h, and says what the right formula is.
PRODUCT_ROTATION_MISTAKES: dict[str, Callable[[GroupElement, GroupElement], int]] = {
    "the rotations simply add, but h is sometimes mirrored and R^r M = M R^-r: g's rotation turns the "
    "other way once it is moved past h's mirror, r'' = ((-1)^m' r + r') mod 4":
        lambda g, h: (g.r + h.r) % 4,
    "the sign comes from g's mirror, but it is h's mirror that g's rotation is moved past "
    "(R^r M^m' = M^m' R^((-1)^m' r)): r'' = ((-1)^m' r + r') mod 4":
        lambda g, h: ((-1) ** g.m * g.r + h.r) % 4,
    "g and h are swapped: that is the rotation of h g, not of g h":
        lambda g, h: (h * g).r,
}
PRODUCT_TRANSLATION_MISTAKES: dict[str, Callable[[GroupElement, GroupElement], Point]] = {
    "the translations simply add, but h's translation t' is first moved by g's block: "
    "t'' = t + M^m R^r t'": lambda g, h: plus(g.translation, h.translation),
    "t' is turned by R^r but g's mirror is forgotten: t'' = t + M^m R^r t'":
        lambda g, h: plus(g.translation, turn(g.r, h.translation)),
    "t' is turned clockwise: R sends (u, v) to (-v, u), a quarter turn counterclockwise":
        lambda g, h: plus(g.translation, block(g.m, -g.r, h.translation)),
    "t' is mirrored before it is turned: M^m R^r t' turns first, then mirrors":
        lambda g, h: plus(g.translation, turn(g.r, block(g.m, 0, h.translation))),
    "the mirror is about the wrong axis: M = diag(-1, 1) sends (u, v) to (-u, v)":
        lambda g, h: plus(g.translation, mirror_v(g.m, turn(g.r, h.translation))),
    "g and h are swapped: that is the translation of h g, not of g h":
        lambda g, h: (h * g).translation,
}


def explained(mistakes: dict, answers: dict, part: Callable[[Params], object]) -> str | None:
    """The first known mistake that gives every answer's part (rotation or translation), if any."""
    for message, formula in mistakes.items():
        if all(part(got) == formula(*key) for key, got in answers.items()):
            return message
    return None


def check_p4m_product(product: Callable[[Params, Params], Params], seed: int = 0) -> None:
    """Compare product(a, b) with the matrix product g(a) g(b) on many pairs of p4m elements."""
    elements = sample_elements(seed)
    answers = {(g, h): as_params(attempt(product, params(g), params(h), name="p4m_product"), "p4m_product")
               for g, h in itertools.product(elements, repeat=2)}
    wrong = [(g, h) for (g, h), got in answers.items()
             if not (P4M.make(*got).matrix == g.matrix @ h.matrix).all()]
    if wrong:
        g, h = wrong[0]
        got, want = answers[g, h], params(g * h)
        head = f"for g = {show(params(g))} and h = {show(params(h))} you gave {got}, but g h = {show(want)}"
        if any(a[0] != (g.m + h.m) % 2 for (g, h), a in answers.items()):
            fail(head + ": the mirrors add, m'' = (m + m') mod 2")
        reasons = [explained(PRODUCT_ROTATION_MISTAKES, answers, lambda p: p[1])
                   if any(a[1] != (g * h).r for (g, h), a in answers.items()) else None,
                   explained(PRODUCT_TRANSLATION_MISTAKES, answers, lambda p: (p[2], p[3]))
                   if any(a[2:] != (g * h).translation for (g, h), a in answers.items()) else None]
        found = "; and ".join(r for r in reasons if r)
        fail(head + (f": {found}" if found else ": compare with g(m + m', (-1)^m' r + r', t + M^m R^r t') "
                     "part by part"))
    passed(f"p4m_product agrees with the matrix product on all {len(elements) ** 2} pairs of "
           f"{len(elements)} elements of p4m")


def inverse_block(g: GroupElement) -> tuple[int, int]:
    """(m, r) of k^-1 for the block k = M^m R^r of g: R^-r, or M R^r itself when m = 1."""
    return g.m, g.r if g.m else -g.r % 4


INVERSE_ROTATION_MISTAKES: dict[str, Callable[[GroupElement], int]] = {
    "a mirrored block is its own inverse, (M R^r)(M R^r) = M M R^-r R^r = I, so r' = r when m = 1; "
    "only a rotation R^r has the inverse R^-r": lambda g: -g.r % 4,
    "the inverse of a rotation R^r is R^-r, r' = -r mod 4 when m = 0": lambda g: g.r,
}
INVERSE_TRANSLATION_MISTAKES: dict[str, Callable[[GroupElement], Point]] = {
    "the translation is -k^-1 t, the old translation moved by the inverse block k^-1, not just -t":
        lambda g: minus(g.translation),
    "t is moved by the block k = M^m R^r itself; it must be moved by its inverse k^-1: t' = -k^-1 t":
        lambda g: minus(block(g.m, g.r, g.translation)),
    "the sign is lost: t' = -k^-1 t, so that g^-1 sends the point t back to the origin":
        lambda g: block(*inverse_block(g), g.translation),
    "k^-1 t is turned clockwise: R sends (u, v) to (-v, u), a quarter turn counterclockwise":
        lambda g: minus(block(g.m, -inverse_block(g)[1], g.translation)),
}


def check_p4m_inverse(inverse: Callable[[Params], Params], seed: int = 0) -> None:
    """Compare inverse(a) with the inverse matrix on many p4m elements."""
    elements = sample_elements(seed)
    answers = {g: as_params(attempt(inverse, params(g), name="p4m_inverse"), "p4m_inverse") for g in elements}
    identity = P4M.identity().matrix
    wrong = [g for g, got in answers.items() if not (P4M.make(*got).matrix @ g.matrix == identity).all()]
    if wrong:
        g = wrong[0]
        got, want = answers[g], params(g.inverse())
        head = f"for g = {show(params(g))} you gave {got}, but g^-1 = {show(want)}"
        if any(a[0] != g.m for g, a in answers.items()):
            fail(head + ": the inverse of a mirrored element is mirrored too (M^-1 = M), m' = m")
        reasons = [explained(INVERSE_ROTATION_MISTAKES, {(g,): a for g, a in answers.items()}, lambda p: p[1])
                   if any(a[1] != g.inverse().r for g, a in answers.items()) else None,
                   explained(INVERSE_TRANSLATION_MISTAKES, {(g,): a for g, a in answers.items()},
                             lambda p: (p[2], p[3]))
                   if any(a[2:] != g.inverse().translation for g, a in answers.items()) else None]
        found = "; and ".join(r for r in reasons if r)
        fail(head + (f": {found}" if found else ": the inverse is g(m, r', -k^-1 t) with k^-1 = R^-r, or "
                     "M R^r itself when m = 1"))
    passed(f"p4m_inverse agrees with the inverse matrix on all {len(elements)} elements of p4m")
