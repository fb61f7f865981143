"""The Table 1 networks: shapes, parameter counts, invariance of the p4 networks."""

import pytest
import torch

from gcnn_edu import check_equivariance
from gcnn_edu.actions import act_on_image
from gcnn_edu.groups import C8, P4, Z2
from gcnn_edu.models import MODELS, P4CNN, P8CNN, Z2CNN, P4CNNRotationPooling, count_parameters


def test_parameter_counts_are_close_as_in_the_paper():
    # conv weights + the top layer's bias + batch-norm scales and shifts
    assert count_parameters(Z2CNN()) == 180 + 5 * 3600 + 3200 + 10 + 6 * 40 == 21630
    assert count_parameters(P4CNN()) == 90 + 5 * 3600 + 6400 + 10 + 6 * 20 == 24620
    assert count_parameters(P4CNNRotationPooling()) == count_parameters(Z2CNN())
    # P8CNN: 7 channels; a C8 filter has 8 planes
    assert count_parameters(P8CNN()) == 63 + 5 * 3528 + 8960 + 10 + 6 * 14 == 26757
    assert abs(count_parameters(P8CNN()) / count_parameters(P4CNN()) - 1) < 0.1


def test_every_network_knows_its_group():
    assert [MODELS[n].group for n in ("z2cnn", "p4cnn_rotpool", "p4cnn", "p8cnn")] == [Z2, P4, P4, C8]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_map_digits_to_ten_logits(name):
    model = MODELS[name]()
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    with pytest.raises(ValueError, match=r"expected input \(B, 1, 28, 28\), got \(3, 1, 32, 32\)"):
        model(torch.randn(3, 1, 32, 32))


def _trained_looking(model: torch.nn.Module) -> torch.nn.Module:
    """Give the batch norms non-trivial running statistics, then switch to eval mode."""
    torch.manual_seed(0)
    model.train()
    model(torch.randn(64, 1, 28, 28))
    return model.eval()


@pytest.mark.parametrize("model_type", [P4CNN, P4CNNRotationPooling, P8CNN])
def test_networks_are_invariant_to_rotations_by_90_degrees(model_type):
    """P8CNN too: C8's quarter turns are exact pixel permutations, only its 45-degree turns interpolate."""
    model = _trained_looking(model_type())
    errors = check_equivariance(model, P4, torch.randn(8, 1, 28, 28))
    assert len(errors) == 4 and max(errors.values()) <= 1e-5, errors


def test_z2cnn_is_not_rotation_invariant():
    torch.manual_seed(0)
    model = Z2CNN().eval()
    x = torch.randn(8, 1, 28, 28)
    assert (model(act_on_image(P4.element(1), x)) - model(x)).abs().max() > 1e-3


@pytest.mark.parametrize("model_type", [P4CNN, P8CNN])
def test_features_are_equivariant_to_quarter_turns(model_type):
    torch.manual_seed(0)
    model = model_type().eval()
    quarter_turns = [g for g in model.group.stabilizer() if g.degrees % 90 == 0]
    errors = check_equivariance(model.features, model.group, torch.randn(2, 1, 28, 28), quarter_turns)
    assert len(errors) == 4 and max(errors.values()) <= 1e-5, errors
