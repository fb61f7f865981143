"""The checks of notebook 01's exercise: a right answer passes, each known mistake is named."""

from __future__ import annotations

import pytest

from gcnn_edu.exercises import ExerciseFailed
from gcnn_edu.exercises.groups import block, check_p4m_inverse, check_p4m_product, turn
from gcnn_edu.groups import P4M


def product(a, b):
    """The solution: g(m + m', (-1)^m' r + r', t + M^m R^r t')."""
    (m, r, u, v), (m2, r2, u2, v2) = a, b
    du, dv = block(m, r, (u2, v2))
    return (m + m2) % 2, ((-1) ** m2 * r + r2) % 4, u + du, v + dv


def inverse(a):
    """The solution: g(m, r', -k^-1 t)."""
    m, r, u, v = a
    r_inv = r if m else -r % 4
    du, dv = block(m, r_inv, (u, v))
    return m, r_inv, -du, -dv


def with_translation(rule):
    """The product with the right rotation and mirror and `rule(m, r, t, t2)` for the translation."""
    def wrong(a, b):
        m, r, _, _ = product(a, b)
        u, v = rule(a[0], a[1], a[2:], b[2:])
        return m, r, u, v
    return wrong


def test_the_solutions_pass_on_both_draws(capsys):
    for seed in (0, 1):
        check_p4m_product(product, seed)
        check_p4m_inverse(inverse, seed)
    assert capsys.readouterr().out.count("Correct") == 4


def test_the_solutions_agree_with_the_package():
    g, h = P4M.make(1, 3, 2, -1), P4M.make(1, 1, 0, 4)
    assert product((1, 3, 2, -1), (1, 1, 0, 4)) == (0, (g * h).r, *(g * h).translation)
    assert turn(1, (1, 0)) == (0, 1)


@pytest.mark.parametrize("check", [check_p4m_product, check_p4m_inverse])
def test_a_stub_is_not_written_yet(check):
    def stub(*args):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="is not written yet"):
        check(stub)


@pytest.mark.parametrize("wrong, message", [
    (lambda a, b: ((a[0] + b[0]) % 2, (a[1] + b[1]) % 4, *product(a, b)[2:]), "turns the other way"),
    (lambda a, b: ((a[0] + b[0]) % 2, ((-1) ** a[0] * a[1] + b[1]) % 4, *product(a, b)[2:]),
     "it is h's mirror"),
    (lambda a, b: (a[0], *product(a, b)[1:]), "the mirrors add"),
    (with_translation(lambda m, r, t, t2: (t[0] + t2[0], t[1] + t2[1])), "simply add"),
    (with_translation(lambda m, r, t, t2: (t[0] + turn(r, t2)[0], t[1] + turn(r, t2)[1])),
     "mirror is forgotten"),
    (with_translation(lambda m, r, t, t2: (t[0] + block(m, -r, t2)[0], t[1] + block(m, -r, t2)[1])),
     "turned clockwise"),
    (with_translation(lambda m, r, t, t2: (t[0] + turn(r, block(m, 0, t2))[0],
                                           t[1] + turn(r, block(m, 0, t2))[1])), "mirrored before"),
    (with_translation(lambda m, r, t, t2: (t[0] + turn(r, t2)[0],
                                           t[1] + (-1) ** m * turn(r, t2)[1])), "wrong axis"),
    (lambda a, b: product(b, a), "swapped"),
    (lambda a, b: (product(a, b)[0], product(a, b)[1] + 4, *product(a, b)[2:]), "reduce m mod 2"),
])
def test_each_mistake_in_the_product_is_named(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        check_p4m_product(wrong)


@pytest.mark.parametrize("wrong, message", [
    (lambda a: (a[0], -a[1] % 4, *inverse(a)[2:]), "own inverse"),
    (lambda a: (a[0], a[1], *inverse(a)[2:]), "R\\^-r, r' = -r"),
    (lambda a: (1 - a[0], *inverse(a)[1:]), "mirrored too"),
    (lambda a: (*inverse(a)[:2], -a[2], -a[3]), "not just -t"),
    (lambda a: (*inverse(a)[:2], *(-x for x in block(a[0], a[1], a[2:]))), "by its inverse"),
    (lambda a: (*inverse(a)[:2], -inverse(a)[2], -inverse(a)[3]), "sign is lost"),
])
def test_each_mistake_in_the_inverse_is_named(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        check_p4m_inverse(wrong)


@pytest.mark.parametrize("answer, message", [
    (None, "should return a tuple"), ((0, 1, 2), "should return a tuple"),
    ((0, 1.5, 0, 0), "four integers"), ((0, 0, 2**40, 0), "far off"),
])
def test_a_wrong_type_is_a_clear_message(answer, message):
    with pytest.raises(ExerciseFailed, match=message):
        check_p4m_product(lambda a, b: answer)
