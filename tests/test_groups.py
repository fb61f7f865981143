"""Group axioms and the action on Z^2 for Z2, p4, p4m and C8 (property tests with hypothesis)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gcnn_edu.groups import C8, GROUPS, P4, P4M, Z2, cayley_table, get_group

coords = st.integers(-20, 20)
p4_elements = st.builds(P4.element, st.integers(0, 3), coords, coords)
p4m_elements = st.builds(P4M.element, st.integers(0, 1), st.integers(0, 3), coords, coords)
elements = st.one_of(p4_elements, p4m_elements)
points = st.tuples(coords, coords)


def test_matrices_are_the_papers():
    c, s = np.cos(np.pi / 2), np.sin(np.pi / 2)
    for r in range(4):
        c, s = np.cos(np.pi / 2 * r), np.sin(np.pi / 2 * r)
        expected = np.array([[c, -s, 5], [s, c, -2], [0, 0, 1]])
        assert np.array_equal(P4.element(r, 5, -2).matrix, np.rint(expected))
        for m in range(2):
            expected = np.array([[(-1) ** m * c, (-1) ** (m + 1) * s, 5], [s, c, -2], [0, 0, 1]])
            g = P4M.element(m, r, 5, -2)
            assert g.matrix.dtype.kind == "i"
            assert np.array_equal(g.matrix, np.rint(expected))


@given(elements, elements)
def test_closure_and_product_is_matrix_product(g, h):
    gh = g * h
    assert np.array_equal(gh.matrix, g.matrix @ h.matrix)
    assert gh in P4M
    if g in P4 and h in P4:
        assert gh in P4


@given(elements, elements, elements)
def test_associativity(g, h, k):
    assert (g * h) * k == g * (h * k)


@given(elements)
def test_identity_and_inverse(g):
    e = P4M.identity()
    assert e * g == g == g * e
    assert g * g.inverse() == e == g.inverse() * g
    assert np.array_equal(g.inverse().matrix @ g.matrix, np.eye(3, dtype=int))


@given(points)
def test_identity_acts_trivially(x):
    assert P4.identity() * x == x
    assert P4M.identity() * x == x


@given(elements, elements, points)
def test_action_is_compatible(g1, g2, x):
    assert g1 * (g2 * x) == (g1 * g2) * x


def test_stabilizers_in_feature_map_order():
    assert [(g.r, g.u, g.v) for g in P4.stabilizer()] == [(r, 0, 0) for r in range(4)]
    assert [(g.m, g.r) for g in P4M.stabilizer()] == [(s // 4, s % 4) for s in range(8)]
    for s, g in enumerate(P4M.stabilizer()):
        assert g * (0, 0) == (0, 0)
        assert P4M.index(g) == s


def test_rotation_is_counterclockwise_and_mirror_flips_u():
    assert P4.element(1) * (1, 0) == (0, 1)
    assert P4M.element(1, 0) * (1, 2) == (-1, 2)


def test_p4m_contains_p4():
    assert all(g in P4M for g in P4.stabilizer())
    assert P4M.element(1, 0) not in P4
    assert set(P4.stabilizer()) < set(P4M.stabilizer())


def test_cayley_tables():
    c4 = cayley_table(P4)
    assert np.array_equal(c4, (np.arange(4)[:, None] + np.arange(4)[None, :]) % 4)
    d4 = cayley_table(P4M)
    for table, n in ((c4, 4), (d4, 8)):
        # a Latin square (every row and column a permutation) with the identity in row/column 0
        assert all(sorted(row) == list(range(n)) for row in table)
        assert all(sorted(col) == list(range(n)) for col in table.T)
        assert list(table[0]) == list(range(n)) == list(table[:, 0])
    mirror, rotation = 4, 1
    assert d4[mirror, rotation] == 4 + 1  # M R
    assert d4[rotation, mirror] == 4 + 3  # R M = M R^-1: D4 is not abelian
    assert d4[mirror, mirror] == 0


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="rotation index r must be in 0..3, got 4"):
        P4.element(4)
    with pytest.raises(ValueError, match="m must be 0, got 1"):
        P4.make(1, 0)
    with pytest.raises(ValueError, match=r"one of \['c8', 'p4', 'p4m', 'z2'\], got 'p6'"):
        get_group("p6")


@pytest.mark.parametrize("bad", [0.5, 1.0, "1", True, None])
def test_parameters_must_be_exact_integers(bad):
    with pytest.raises(TypeError, match="must be an integer"):
        P4M.element(0, 1, bad, 0)
    with pytest.raises(TypeError, match="must be an integer"):
        P4.element(1) * (bad, 2)


def test_translations_beyond_the_limit_are_refused():
    with pytest.raises(ValueError, match="below 2\\*\\*31"):
        P4.element(0, 2**62, 0)


def test_the_one_list_of_groups():
    assert GROUPS == {"z2": Z2, "p4": P4, "p4m": P4M, "c8": C8}
    assert [(g.order, g.exact, g.trivial) for g in GROUPS.values()] == [
        (1, True, True), (4, True, False), (8, True, False), (8, False, False)]
    assert Z2.stabilizer() == [Z2.identity()] and Z2.names() == ["e"]


def test_c8_rotates_by_45_degrees_and_contains_p4():
    r = C8.element(1)
    assert r.degrees == 45 and np.allclose(r.matrix[:2, :2], np.sqrt(0.5) * np.array([[1, -1], [1, 1]]))
    assert r * r == P4.element(1) and C8.index(P4.element(1)) == 2
    assert all(g in C8 for g in P4.stabilizer()) and r not in P4
    assert C8.names() == ["e", "r", "r²", "r³", "r⁴", "r⁵", "r⁶", "r⁷"]
    assert np.array_equal(cayley_table(C8), (np.arange(8)[:, None] + np.arange(8)[None, :]) % 8)
    assert r.inverse() == C8.element(7) and C8.element(1, 3, -1).matrix.dtype.kind == "f"


def test_c8_translations_leave_the_grid_at_45_degrees():
    """R(45) t(1, 0) would need the translation (0.707, 0.707): not an element on Z^2."""
    with pytest.raises(ValueError, match="45 degrees sends \\(1, 0\\) off the grid"):
        C8.element(1) * C8.element(0, 1, 0)
    assert C8.element(2) * C8.element(0, 1, 0) == C8.element(2, 0, 1)
    assert C8.element(1, 3, 4) * C8.element(7) == C8.element(0, 3, 4)


def test_elements_by_position_or_name():
    assert P4.element(r=1, u=2, v=3) == P4.element(1, 2, 3) == P4M.element(0, 1, 2, 3)
    assert P4M.element(m=1, r=0) == P4M.element(1, 0)
    with pytest.raises(TypeError, match=r"p4.element takes r, u, v; got 0 positional and \['m'\]"):
        P4.element(m=1)


def test_names_of_elements_with_translations():
    names = [P4M.element(1, 3, 1, 2).name, P4.element(0, 1, 0).name, P4.element(2).name]
    assert names == ["t(1, 2) mr³", "t(1, 0)", "r²"]
