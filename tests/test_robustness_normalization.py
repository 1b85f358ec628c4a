"""normalization=(mean, std) puts the normalization inside the model: attacking it equals
attacking an explicitly wrapped model, for native and ART attacks alike."""

import pytest
from extras import need

need("torch")

import torch

import pytest_mlaudit as mla
from pytest_mlaudit.adapters import as_classifier

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
UNIT = (torch.tensor(0.0), torch.tensor(1.0))


class Normalize(torch.nn.Module):
    def forward(self, x):
        return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def _network():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(6 * 6 * 6, 5)).eval()


def _data(network):
    x = torch.rand(40, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = network(Normalize()(x)).argmax(1)
    return x, y


@pytest.mark.parametrize("attack", [
    mla.FGSM(eps=0.05), mla.PGD(eps=0.05, steps=5), mla.PGD(eps=0.5, norm=2, steps=5), mla.BIM(eps=0.05, steps=5),
    mla.RandomNoise(eps=0.1), mla.DeepFool(max_iter=10), mla.CarliniWagnerL2(max_iter=5, binary_search_steps=2),
], ids=lambda attack: type(attack).__name__)
def test_attacking_a_normalized_model_equals_attacking_the_wrapped_model(attack):
    network = _network()
    x, y = _data(network)
    inside = as_classifier(network, device="cpu", normalization=(MEAN, STD))
    wrapped = as_classifier(torch.nn.Sequential(Normalize(), network), device="cpu")
    x_inside = attack.generate(inside, x, y, UNIT, torch.Generator().manual_seed(2))
    x_wrapped = attack.generate(wrapped, x, y, UNIT, torch.Generator().manual_seed(2))
    assert float((x_inside - x).abs().max()) > 0
    torch.testing.assert_close(x_inside, x_wrapped, atol=2e-4, rtol=0)


def test_the_audit_perturbs_raw_inputs_and_reports_the_normalization():
    network = _network()
    x, y = _data(network)
    result = mla.robustness(network, x, y, attack=mla.FGSM(eps=0.03), clip=(0.0, 1.0), normalization=(MEAN, STD))
    wrapped = mla.robustness(torch.nn.Sequential(Normalize(), network), x, y, attack=mla.FGSM(eps=0.03), clip=(0.0, 1.0))
    assert result.clean_accuracy.value == 1.0
    assert result.robust_accuracy == wrapped.robust_accuracy


def test_normalized_data_with_a_pixel_domain_is_refused():
    """The paper's mistake: clamping normalized images to [0, 1]."""
    network = _network()
    x, y = _data(network)
    with pytest.raises(ValueError, match="normalization=\\(mean, std\\)"):
        mla.robustness(network, Normalize()(x), y, attack=mla.FGSM(eps=0.03), clip=(0.0, 1.0))
