"""gcnn_edu.rotation.rotate: counterclockwise, exact quarter turns, torchvision's arithmetic, gradients."""

import numpy as np
import pytest
import torch
from torchvision.transforms.functional import InterpolationMode
from torchvision.transforms.functional import rotate as torchvision_rotate

from gcnn_edu.rotation import rotate

RNG = np.random.default_rng(0)


def digits(n: int, size: int = 28) -> torch.Tensor:
    return torch.from_numpy(RNG.integers(0, 256, (n, 1, size, size)).astype(np.float32))


def test_a_dot_right_of_the_centre_turns_counterclockwise_on_screen():
    image = torch.zeros(9, 9)
    image[4, 7] = 1.0  # right of the centre (row 4, column 4)
    assert rotate(image, 90.0)[1, 4] == 1.0  # above the centre: row 1 is higher on screen (imshow)
    turned = rotate(image, 45.0)
    row, col = divmod(int(turned.argmax()), 9)
    assert row < 4 and col > 4  # up and to the right


@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("quarters", [-1, 0, 1, 2, 3, 4])
def test_quarter_turns_are_exact(split, quarters):
    images = digits(3)
    turned = rotate(images, 90.0 * quarters, split_quarter_turns=split)
    assert torch.equal(turned, torch.rot90(images, quarters, dims=(-2, -1)))


def test_no_turn_leaves_the_images_as_they_are():
    images = digits(4)
    assert torch.equal(rotate(images, 0.0), images)
    turned = rotate(images, torch.tensor([0.0, 30.0, 0.0, 200.0]))
    assert torch.equal(turned[[0, 2]], images[[0, 2]]) and not torch.equal(turned[1], images[1])


@pytest.mark.parametrize("angle", [12.5, 37.0, 45.0, 71.25, 89.5])
def test_a_quarter_turn_more_is_exactly_a_quarter_turn_of_the_result(angle):
    images = digits(5)
    for quarters in (1, 2, 3):
        assert torch.equal(rotate(images, angle + 90 * quarters),
                           torch.rot90(rotate(images, angle), quarters, dims=(-2, -1)))


@pytest.mark.parametrize("split", [True, False])
def test_each_image_turns_by_its_own_angle(split):
    images, angles = digits(6), torch.tensor([10.0, 100.0, 190.0, 280.0, 45.0, 359.0])
    together = rotate(images, angles, split_quarter_turns=split)
    one_by_one = torch.stack([rotate(x, float(a), split_quarter_turns=split)
                              for x, a in zip(images, angles, strict=True)])
    assert torch.equal(together, one_by_one)
    assert torch.equal(rotate(images[:, 0], angles, split_quarter_turns=split), together[:, 0])  # (N, H, W)


def test_the_whole_angle_repeats_torchvision_bit_for_bit():
    """The arithmetic with which the rotated MNIST set was synthesised (its digits must not change)."""
    images = digits(8)
    angles = RNG.uniform(0, 360, 8).astype(np.float32)
    ours = rotate(images, torch.from_numpy(angles), split_quarter_turns=False)
    theirs = torch.stack([torchvision_rotate(x, float(a), interpolation=InterpolationMode.BILINEAR)
                          for x, a in zip(images, angles, strict=True)])
    assert torch.equal(ours, theirs)
    rest = torch.from_numpy(angles % 90)
    assert torch.equal(rotate(images, rest), rotate(images, rest, split_quarter_turns=False))


def test_zero_fill_and_shapes_of_filters():
    ones = torch.ones(2, 3, 4, 5, 5)  # filters (out, in, S, k, k): one angle for all
    turned = rotate(ones, 45.0)
    assert turned.shape == ones.shape and turned[..., 0, 0].abs().max() < 0.5  # a corner falls outside
    assert torch.equal(turned[..., 2, 2], ones[..., 2, 2])  # the centre stays


def test_gradients_flow_through_the_interpolation():
    weights = torch.randn(1, 1, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda w: rotate(w, 30.0), (weights,))
    assert torch.autograd.gradcheck(lambda w: rotate(w, 135.0), (weights,))


@pytest.mark.parametrize("images, degrees, message", [
    (torch.zeros(2, 1, 28, 28), torch.zeros(3), r"per image.*got 3 angles for images of shape \(2, 1, 28"),
    (torch.zeros(28), 10.0, r"expected floating-point images \(\.\.\., H, W\), got torch.float32 of shape"),
    (torch.zeros(4, 4, dtype=torch.uint8), 10.0, "got torch.uint8 of shape"),
])
def test_bad_input_is_named(images, degrees, message):
    with pytest.raises(ValueError, match=message):
        rotate(images, degrees)
