"""Checks for notebook 01: the product and the inverse of p4m elements written as (m, r, u, v)."""

from __future__ import annotations

import itertools
import operator
import random
from collections.abc import Callable

from ..groups import COORDINATE_LIMIT, P4M, GroupElement
from .common import attempt, fail, passed

Params = tuple[int, int, int, int]  # (m, r, u, v) of g(m, r, u, v) = t(u, v) M^m R^r


def sample_elements(seed: int) -> list[GroupElement]:
    """Every element of D4 with the translations (0, 0), (1, 0) and (0, 2), and 8 drawn at random."""
    rng = random.Random(seed)
    fixed = [P4M.make(m, r, u, v) for m, r, (u, v) in
             itertools.product((0, 1), range(4), ((0, 0), (1, 0), (0, 2)))]
    drawn = [P4M.make(rng.randrange(2), rng.randrange(4), rng.randint(-5, 5), rng.randint(-5, 5))
             for _ in range(8)]
    return fixed + drawn


def as_params(value: object, name: str) -> Params:
    """The student's answer as four integers (m, r, u, v), or an ExerciseFailed saying what came."""
    if not (isinstance(value, tuple | list) and len(value) == 4):
        fail(f"{name} should return a tuple (m, r, u, v), got {value!r}")
    try:
        m, r, u, v = (operator.index(x) for x in value)
    except TypeError:
        fail(f"{name} should return four integers (m, r, u, v), got {value!r}")
    if max(abs(u), abs(v)) >= COORDINATE_LIMIT:
        fail(f"{name} gave the translation ({u}, {v}), far off the elements it was given")
    return m, r, u, v


def params(g: GroupElement) -> Params:
    """(m, r, u, v) of an element of p4m."""
    return g.m, g.r, g.u, g.v


def show(p: Params) -> str:
    """g(m, r, u, v) with the element's name, e.g. 'g(1, 3, 0, 2) = t(0, 2) mr³'."""
    return f"g{p} = {P4M.make(*p).name}"


def product_mistake(g: GroupElement, h: GroupElement, got: Params) -> str:
    """What is wrong with `got` as the product g h, in the terms of Section 4.2."""
    want = params(g * h)
    head = f"for g = {show(params(g))} and h = {show(params(h))} you gave {got}, but g h = {show(want)}"
    m, r, u, v = got
    if (m % 2) != want[0]:
        return head + ": the mirrors add, m'' = (m + m') mod 2"
    if (r % 4) != want[1]:
        if h.m and (r % 4) == (g.r + h.r) % 4:
            return head + (": h is mirrored, and R^r M = M R^-r, so g's rotation turns the other way "
                           "after moving past h's mirror: r'' = ((-1)^m' r + r') mod 4")
        return head + ": the rotation should be r'' = ((-1)^m' r + r') mod 4 (R^r M = M R^-r)"
    if (u, v) == (g.u + h.u, g.v + h.v):
        return head + ": the translations do not simply add; h's translation t' is first moved by g's " \
                      "block: t'' = t + M^m R^r t'"
    turned = P4M.make(0, g.r) * h.translation
    if (u, v) == (turned[0] + g.u, turned[1] + g.v):
        return head + ": t' was rotated by R^r but g's mirror was forgotten: t'' = t + M^m R^r t'"
    return head + ": the translation should be t'' = t + M^m R^r t'"


def check_p4m_product(product: Callable[[Params, Params], Params], seed: int = 0) -> None:
    """Compare product(a, b) with the matrix product g(a) g(b) on many pairs of p4m elements."""
    elements = sample_elements(seed)
    for g, h in itertools.product(elements, repeat=2):
        got = as_params(attempt(product, params(g), params(h), name="p4m_product"), "p4m_product")
        m, r, u, v = got
        if not (P4M.make(m % 2, r % 4, u, v).matrix == g.matrix @ h.matrix).all():
            fail(product_mistake(g, h, got))
    passed(f"p4m_product agrees with the matrix product on all {len(elements) ** 2} pairs of "
           f"{len(elements)} elements of p4m")


def inverse_mistake(g: GroupElement, got: Params) -> str:
    """What is wrong with `got` as g^-1, in the terms of Section 4.2."""
    want = params(g.inverse())
    head = f"for g = {show(params(g))} you gave {got}, but g^-1 = {show(want)}"
    m, r, u, v = got
    if (m % 2) != want[0]:
        return head + ": the inverse of a mirrored element is mirrored too (M^-1 = M)"
    if (r % 4) != want[1]:
        if g.m:
            return head + (": a mirrored block is its own inverse, (M R^r)(M R^r) = M M R^-r R^r = I, "
                           "so r' = r when m = 1")
        return head + ": the inverse of R^r is R^-r, r' = -r mod 4"
    if (u, v) == (-g.u, -g.v):
        return head + ": the translation is -k^-1 t, the old translation moved by the inverse block " \
                      "k^-1, not just -t"
    return head + ": the translation should be t' = -k^-1 t with k = M^m R^r"


def check_p4m_inverse(inverse: Callable[[Params], Params], seed: int = 0) -> None:
    """Compare inverse(a) with the inverse matrix on many p4m elements."""
    elements = sample_elements(seed)
    for g in elements:
        got = as_params(attempt(inverse, params(g), name="p4m_inverse"), "p4m_inverse")
        m, r, u, v = got
        if not (P4M.make(m % 2, r % 4, u, v).matrix @ g.matrix == P4M.identity().matrix).all():
            fail(inverse_mistake(g, got))
    passed(f"p4m_inverse agrees with the inverse matrix on all {len(elements)} elements of p4m")
