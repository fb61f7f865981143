"""Figures: Cayley tables, orbits, Figures 1-2 of the paper."""

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.lines import Line2D

from gcnn_edu.actions import act_on_feature_map
from gcnn_edu.groups import C8, P4, P4M
from gcnn_edu.viz import (
    plot_cayley_table,
    plot_feature_map,
    plot_images,
    plot_inputs_and_maps,
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


@pytest.mark.parametrize("group", [P4, P4M, C8], ids=repr)
def test_plane_labels_sit_outside_the_planes(group):
    fig = plot_feature_map(torch.randn(group.order, 9, 9), group)
    for ax in fig.axes:
        x, y = ax.texts[0].get_position()
        assert not (0 <= x <= 1 and 0 <= y <= 1), ax.texts[0].get_text()


def test_a_shared_colour_scale():
    f = torch.randn(4, 7, 7)
    fig = plot_feature_map(f, P4, vlim=(-5.0, 5.0))
    assert all(ax.images[0].get_clim() == (-5.0, 5.0) for ax in fig.axes)
    with pytest.raises(ValueError, match=r"expected \(low, high\) with low < high, got \(1.0, 1.0\)"):
        plot_feature_map(f, P4, vlim=(1.0, 1.0))


@pytest.mark.parametrize("group", [P4, P4M, C8], ids=repr)
def test_inputs_beside_their_maps(group):
    """Figure 2 as the paper draws it: a map and its rotation by r, each beside its input, one scale."""
    image = torch.zeros(9, 9)
    image[1:4, 2] = 1
    f = torch.randn(group.order, 9, 9)
    f_r = act_on_feature_map(group.element(r=1), f)
    fig = plot_inputs_and_maps([(image, f), (torch.rot90(image), f_r)], group, ["f ⋆ ψ", "(L_r f) ⋆ ψ"],
                               ["f", "L_r f"])
    titled = [ax for ax in fig.axes if ax.get_title() in ("f", "L_r f")]
    assert [ax.get_title() for ax in titled] == ["f", "L_r f"]
    planes = [ax for ax in fig.axes if ax.texts]
    assert len(planes) == 2 * group.order
    assert [ax.texts[0].get_text() for ax in planes] == group.names() * 2
    low, high = min(f.min(), f_r.min()).item(), max(f.max(), f_r.max()).item()
    assert all(ax.images[0].get_clim() == pytest.approx((low, high)) for ax in planes)
    assert {t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))} >= {"f ⋆ ψ", "(L_r f) ⋆ ψ"}


def test_inputs_and_maps_refuse_bad_arguments():
    pair = (torch.zeros(9, 9), torch.zeros(4, 9, 9))
    with pytest.raises(ValueError, match="one title .* per pair, got 2 pairs, 1 titles and no input titles"):
        plot_inputs_and_maps([pair, pair], P4, ["a"])
    with pytest.raises(ValueError, match=r"on p4m, S = 8, got \(4, 9, 9\)"):
        plot_inputs_and_maps([pair], P4M, ["a"])
    with pytest.raises(ValueError, match=r"one grey image \(H, W\), got \(3, 9, 9\)"):
        plot_inputs_and_maps([(torch.zeros(3, 9, 9), pair[1])], P4, ["a"])


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


def test_plot_images_on_one_colour_scale():
    fig = plot_images([torch.zeros(5, 5), torch.ones(5, 5)], ["a", "b"], vlim=(0.0, 2.0))
    assert [ax.images[0].get_clim() for ax in fig.axes] == [(0.0, 2.0)] * 2


def test_plot_images_needs_one_title_per_image():
    with pytest.raises(ValueError, match="one title per image, got 3 images and 2 titles"):
        plot_images([torch.zeros(5, 5)] * 3, ["a", "b"])


def test_mirror_links_are_thick_red_bars_marked_m():
    """Figure 2: every pair r^k, m r^k is joined by a bar thick enough to see, with a red "m" beside it."""
    fig = plot_feature_map(torch.randn(8, 9, 9), P4M)
    bars = [a for a in fig.artists if isinstance(a, Line2D)]
    assert len(bars) == 4 and all(b.get_linewidth() >= 3 and b.get_color() == "tab:red" for b in bars)
    assert [t.get_text() for t in fig.texts] == ["m"] * 4
    assert not [a for a in plot_feature_map(torch.randn(4, 9, 9), P4).artists if isinstance(a, Line2D)]


def test_plot_images_grey_with_a_colour_bar():
    fig = plot_images([torch.zeros(5, 5), torch.ones(5, 5)], ["a", "b"], vlim=(0.0, 1.0), cmap="gray_r",
                      colorbar="pixel value")
    assert len(fig.axes) == 3 and fig.axes[-1].get_ylabel() == "pixel value"
    assert all(ax.images[0].get_cmap().name == "gray_r" for ax in fig.axes[:2])
    with pytest.raises(ValueError, match="a colour bar needs one colour scale"):
        plot_images([torch.zeros(5, 5)], ["a"], colorbar="value")
