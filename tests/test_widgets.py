"""The rotate-and-watch widget's callback, driven from Python."""

import pytest
import torch

from gcnn_edu.actions import act_on_feature_map
from gcnn_edu.data import rotated_mnist
from gcnn_edu.equivariance import relative_error
from gcnn_edu.gconv import LiftingConv2d
from gcnn_edu.groups import C8, P4, P4M
from gcnn_edu.models import P4CNN, P8CNN, Z2CNN
from gcnn_edu.widgets import describe_element, rotate_and_watch, transform_input

DIGIT = rotated_mnist("test")[0][0]


@pytest.fixture
def p4m_widget():
    torch.manual_seed(0)
    return rotate_and_watch(LiftingConv2d(1, 3, 5, "p4m"), DIGIT)


def test_the_slider_at_90_degrees_rotates_and_permutes_the_maps(p4m_widget):
    w = p4m_widget
    before = bytes(w.picture.value)
    assert before.startswith(b"\x89PNG")
    w.angle.value = 90
    expected = act_on_feature_map(P4M.element(0, 1), w.base_maps)
    assert relative_error(w.last_maps, expected) < 1e-5
    assert bytes(w.picture.value) != before
    assert w.status.value.startswith("g = R(90°): an element of p4m: the maps move exactly")


def test_the_mirror_checkbox_applies_m(p4m_widget):
    w = p4m_widget
    w.angle.value = 180
    w.mirror.value = True
    expected = act_on_feature_map(P4M.element(1, 2), w.base_maps)
    assert relative_error(w.last_maps, expected) < 1e-5
    assert torch.equal(w.last_input, torch.flip(torch.rot90(w.image, 2, dims=(-2, -1)), dims=(-1,)))
    assert relative_error(w.last_output, w.base_output) < 1e-5


def test_other_angles_are_not_in_the_group(p4m_widget):
    w = p4m_widget
    w.angle.value = 45
    assert w.status.value.startswith(
        "g = R(45°): p4m has no element for this transformation, so nothing predicts the maps;")
    assert relative_error(w.last_output, w.base_output) > 1e-3


def test_a_network_shows_its_first_block_and_class_probabilities():
    torch.manual_seed(0)
    w = rotate_and_watch(P4CNN(), DIGIT)
    assert w.last_maps.shape == (1, 10, 4, 26, 26) and len(w.bars) == 10
    w.angle.value = 270
    assert relative_error(w.last_output, w.base_output) < 1e-5
    assert torch.isclose(w.last_output.sum(), torch.tensor(1.0))
    w.mirror.value = True  # a mirror is not in p4
    assert "p4 has no element for this transformation" in w.status.value


def test_a_c8_network_moves_exactly_at_90_and_approximately_at_45_degrees():
    torch.manual_seed(0)
    w = rotate_and_watch(P8CNN(), DIGIT)
    assert w.last_maps.shape == (1, 7, 8, 26, 26) and len(w.map_axes) == 8
    w.angle.value = 90
    assert relative_error(w.last_output, w.base_output) < 1e-5 and "move exactly" in w.status.value
    w.angle.value = 45
    assert "an element of c8, acting by interpolation: the maps follow it only approximately" \
        in w.status.value
    assert 1e-4 < relative_error(w.last_output, w.base_output)
    w.angle.value = 30
    assert "c8 has no element for this transformation, so nothing predicts the maps" in w.status.value


def test_a_planar_network_is_refused():
    with pytest.raises(ValueError, match="Z2CNN works on z2: its feature maps are planar images"):
        rotate_and_watch(Z2CNN(), DIGIT)
    with pytest.raises(ValueError, match="with a group \\(net.group\\); Conv2d has none"):
        rotate_and_watch(torch.nn.Conv2d(1, 1, 3), DIGIT)


def test_transform_input_is_exact_at_quarter_turns():
    x = DIGIT[None]
    assert torch.equal(transform_input(x, 90, False), torch.rot90(x, 1, dims=(-2, -1)))
    assert torch.equal(transform_input(x, 360, True), torch.flip(x, dims=(-1,)))


def test_an_rgb_image_is_named():
    with pytest.raises(ValueError, match=r"one grey image .*got shape \(3, 28, 28\)"):
        rotate_and_watch(LiftingConv2d(1, 3, 5, "p4"), torch.zeros(3, 28, 28))


def test_the_picture_names_g_and_labels_its_axes(p4m_widget):
    w = p4m_widget
    w.angle.value, w.mirror.value = 270, True
    assert w.title.get_text() == "g = M R(270°) = mr³ in p4m: turn by 270°, then mirror u -> -u"
    bars = w.bars[0].axes
    assert (bars.get_xlabel(), bars.get_ylabel()) == ("channel", "max over G and the plane")
    assert w.input_ax.get_title() == "input L_g f" and len(w.map_axes) == 8
    assert all(ax.images[0].get_clim() == w.clim for ax in w.map_axes)
    width, height = (int.from_bytes(bytes(w.picture.value)[i:i + 4], "big") for i in (16, 20))  # PNG header
    assert (width, height) == (950, 485)  # 9.5 x 4.85 inches at 100 dpi


def test_a_network_labels_its_bars_with_classes():
    torch.manual_seed(0)
    w = rotate_and_watch(P4CNN(), DIGIT, dpi=50)
    bars = w.bars[0].axes
    assert (bars.get_xlabel(), bars.get_ylabel()) == ("class", "probability")
    assert w.title.get_text() == "g = R(0°) = e in p4: turn by 0°"


def test_describe_element():
    assert describe_element(P4M, 180, True) == "M R(180°) = mr² in p4m"
    assert describe_element(C8, 45, False) == "R(45°) = r in c8"
    assert describe_element(C8, 360, False) == "R(0°) = e in c8"
    assert describe_element(P4, 90, True) == "M R(90°), not an element of p4"
    assert describe_element(P4, 30, False) == "R(30°), not an element of p4"
