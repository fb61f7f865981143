"""The CIFAR-10 networks of Table 2: parameter counts, exact invariance, the stride-2 rule."""

import pytest
import torch
import torch.nn.functional as F

from gcnn_edu import check_equivariance
from gcnn_edu.gconv import LiftingConv2d
from gcnn_edu.groups import P4, P4M
from gcnn_edu.models import AllCNNC, ResNet44, count_parameters
from gcnn_edu.pooling import spatial_avg_pool

TABLE_2 = {(AllCNNC, "z2"): 1.37e6, (AllCNNC, "p4"): 1.37e6, (AllCNNC, "p4m"): 1.22e6,
           (ResNet44, "z2"): 2.64e6, (ResNet44, "p4m"): 2.62e6}
PINNED = {(AllCNNC, "z2"): 1_370_996, (AllCNNC, "p4"): 1_370_372, (AllCNNC, "p4m"): 1_219_252,
          (ResNet44, "z2"): 2_636_074, (ResNet44, "p4"): 2_631_834, (ResNet44, "p4m"): 2_618_543}


@pytest.mark.parametrize("model_type, group", list(PINNED), ids=lambda v: getattr(v, "__name__", v))
def test_parameter_counts(model_type, group):
    n = count_parameters(model_type(group))
    assert n == PINNED[model_type, group]
    if (model_type, group) in TABLE_2:
        assert abs(n / TABLE_2[model_type, group] - 1) < 0.03


def _trained_looking(model: torch.nn.Module) -> torch.nn.Module:
    """Give the batch norms real statistics, then switch to eval mode."""
    torch.manual_seed(0)
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, 32, 32))
    return model.eval()


@pytest.mark.parametrize("model_type", [AllCNNC, ResNet44])
def test_p4m_networks_are_invariant_to_the_whole_stabilizer(model_type):
    model = _trained_looking(model_type("p4m"))
    errors = check_equivariance(model, P4M, torch.randn(2, 3, 32, 32))
    assert len(errors) == 8 and max(errors.values()) < 1e-5, errors


def test_p4_all_cnn_is_invariant_to_rotations_but_not_mirrors():
    model = _trained_looking(AllCNNC("p4"))
    errors = check_equivariance(model, P4M, torch.randn(2, 3, 32, 32))
    assert max(errors[g] for g in P4.stabilizer()) < 1e-5
    assert min(errors[g] for g in P4M.stabilizer()[4:]) > 1e-4


def test_a_stride_2_conv_on_an_even_side_is_not_exact_but_conv_then_average_pool_is():
    torch.manual_seed(0)
    lift = LiftingConv2d(3, 4, 3, "p4", padding=1).eval()
    x = torch.randn(1, 3, 32, 32)

    def strided(f):
        return F.conv2d(f, lift.expanded_filters(), stride=2, padding=1).unflatten(1, (4, 4))

    r = P4.element(1)
    assert check_equivariance(strided, P4, x, [r])[r] > 0.1
    assert check_equivariance(lambda f: spatial_avg_pool(lift(f)), P4, x, [r])[r] < 1e-5


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="group must be one of .*got 'p6'"):
        AllCNNC("p6")
    with pytest.raises(ValueError, match=r"widths for the groups \['p4', 'p4m', 'z2'\], not c8"):
        ResNet44("c8")
    with pytest.raises(ValueError, match=r"expected images \(B, 3, H, H\).*got \(2, 1, 28, 28\)"):
        ResNet44("z2")(torch.randn(2, 1, 28, 28))
    with pytest.raises(ValueError, match="side of 30 pixels"):
        spatial_avg_pool(torch.randn(1, 2, 30, 30), 4)
