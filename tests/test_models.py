"""The Table 1 networks: shapes, parameter counts, invariance of the p4 networks."""

import pytest
import torch

from gcnn_edu.actions import act_on_feature_map, act_on_image
from gcnn_edu.groups import P4
from gcnn_edu.models import MODELS, P4CNN, Z2CNN, P4CNNRotationPooling, count_parameters


def test_parameter_counts_are_close_as_in_the_paper():
    # conv weights + the top layer's bias + batch-norm scales and shifts
    assert count_parameters(Z2CNN()) == 180 + 5 * 3600 + 3200 + 10 + 6 * 40 == 21630
    assert count_parameters(P4CNN()) == 90 + 5 * 3600 + 6400 + 10 + 6 * 20 == 24620
    assert count_parameters(P4CNNRotationPooling()) == count_parameters(Z2CNN())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_map_digits_to_ten_logits(name):
    model = MODELS[name]()
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    with pytest.raises(ValueError, match=r"expected input \(B, 1, 28, 28\), got \(3, 1, 32, 32\)"):
        model(torch.randn(3, 1, 32, 32))


@pytest.mark.parametrize("model_type", [P4CNN, P4CNNRotationPooling])
def test_p4_networks_are_invariant_to_rotations_by_90_degrees(model_type):
    torch.manual_seed(0)
    model = model_type()
    model.train()
    model(torch.randn(64, 1, 28, 28))  # give the batch norms non-trivial running statistics
    model.eval()
    x = torch.randn(8, 1, 28, 28)
    logits = model(x)
    for g in P4.stabilizer():
        assert (model(act_on_image(g, x)) - logits).abs().max() <= 1e-5 * max(1.0, logits.abs().max())


def test_z2cnn_is_not_rotation_invariant():
    torch.manual_seed(0)
    model = Z2CNN().eval()
    x = torch.randn(8, 1, 28, 28)
    assert (model(act_on_image(P4.element(1), x)) - model(x)).abs().max() > 1e-3


def test_p4cnn_features_are_equivariant():
    torch.manual_seed(0)
    model = P4CNN().eval()
    x = torch.randn(2, 1, 28, 28)
    h = model.features(x)
    for g in P4.stabilizer():
        err = (model.features(act_on_image(g, x)) - act_on_feature_map(g, h)).abs().max()
        assert err <= 1e-5 * h.abs().max()
