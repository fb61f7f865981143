"""Figures: Cayley tables, orbits, Figures 1-2 of the paper."""

import matplotlib.pyplot as plt
import pytest
import torch

from gcnn_edu.actions import act_on_feature_map
from gcnn_edu.groups import C8, P4, P4M
from gcnn_edu.viz import (
    plot_cayley_table,
    plot_feature_map,
    plot_images,
    plot_orbit,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_element_names():
    assert P4M.names() == ["e", "r", "r²", "r³", "m", "mr", "mr²", "mr³"]


@pytest.mark.parametrize("group", [P4, P4M], ids=repr)
def test_cayley_table_shows_every_product(group):
    ax = plot_cayley_table(group)
    assert len(ax.texts) == group.order**2
    names = [t.get_text() for t in ax.texts]
    assert names[: group.order] == group.names()  # row e


@pytest.mark.parametrize("group", [P4, P4M], ids=repr)
def test_orbit_marks_every_image_of_the_point(group):
    ax = plot_orbit(group, (2, 1))
    marked = {tuple(c.get_offsets()[0]) for c in ax.collections[1:-1]}
    assert marked == {tuple(float(t) for t in g * (2, 1)) for g in group.stabilizer()}


def test_the_c8_orbit_leaves_the_grid():
    ax = plot_orbit(C8, (2, 0))
    marked = [tuple(c.get_offsets()[0]) for c in ax.collections[1:-1]]
    assert len(marked) == 8
    assert marked[1] == pytest.approx((2 ** 0.5, 2 ** 0.5)) and marked[2] == pytest.approx((0, 2))
    with pytest.raises(TypeError, match="must be an integer, got 1.5"):
        plot_orbit(P4, (1.5, 2))


@pytest.mark.parametrize("group", [P4, P4M, C8], ids=repr)
def test_feature_map_figures(group):
    f = torch.randn(group.order, 9, 9)
    fig = plot_feature_map(f, group, "title")
    assert len(fig.axes) == group.order
    assert [ax.texts[0].get_text() for ax in fig.axes] == group.names()
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == group.order
    assert all((torch.as_tensor(a.data) == f[s]).all() for s, a in enumerate(shown))


def test_figure_1_rotation_moves_planes_along_the_cycle():
    """Plane s of L_r f is plane s-1 of f, rotated: what the arrows of Figure 1 say."""
    f = torch.randn(4, 7, 7)
    rotated = plot_feature_map(act_on_feature_map(P4.element(1), f), P4)
    shown = [torch.as_tensor(ax.images[0].get_array().data) for ax in rotated.axes if ax.images]
    for s in range(4):
        assert torch.equal(shown[s], torch.rot90(f[(s - 1) % 4], 1))


def test_feature_map_figure_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"on p4, S = 4, got \(5, 9, 9\)"):
        plot_feature_map(torch.randn(5, 9, 9), P4)
    with pytest.raises(ValueError, match=r"one channel \(S, H, W\) .*got \(2, 4, 9, 9\)"):
        plot_feature_map(torch.randn(2, 4, 9, 9), P4)


def test_plot_images_grid():
    fig = plot_images([torch.zeros(5, 5)] * 5, [str(i) for i in range(5)], ncols=3)
    assert len(fig.axes) == 6 and sum(bool(ax.images) for ax in fig.axes) == 5


def test_plot_images_needs_one_title_per_image():
    with pytest.raises(ValueError, match="one title per image, got 3 images and 2 titles"):
        plot_images([torch.zeros(5, 5)] * 3, ["a", "b"])
