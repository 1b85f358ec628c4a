"""AutoAttack: the ensemble, its per-attack breakdown in the audit, what runs for binary models, its checks,
and torchattacks' AutoAttack attacks as the reference."""

import pytest
from extras import need

need("torch")

import torch
from tiny_models import digits, digits_cnn

import pytest_mlaudit as mla
from pytest_mlaudit.adapters import as_classifier

UNIT = (torch.tensor(0.0), torch.tensor(1.0))
QUICK = dict(n_iter=20, square_queries=300)


def _images(n=100):
    _, _, X, y = digits()
    return X[:n].reshape(-1, 1, 8, 8), y[:n]


def _accuracy(model, x, y):
    with torch.no_grad():
        return float((model(torch.as_tensor(x)).argmax(1) == torch.as_tensor(y)).float().mean())


def test_standard_runs_apgd_ce_apgd_t_fab_t_and_square_and_leaves_nothing_out_on_images():
    attack = mla.AutoAttack(eps=0.1)
    assert [stage.name for stage in attack.stages(10, (1, 8, 8))] == ["APGD-CE", "APGD-T", "FAB-T", "Square"]
    assert attack.left_out((1, 8, 8)) == []


def test_binary_classifier_runs_apgd_ce_with_restarts_instead_of_dlr_and_targeted():
    stages = mla.AutoAttack(eps=0.1).stages(2, (5,))
    assert [stage.name for stage in stages] == ["APGD-CE", "APGD-CE (restarts)", "FAB"]
    assert stages[1].attack.restarts == 5 and "binary classifier" in stages[1].note


def test_rand_version_averages_gradients_over_eot_draws():
    stages = mla.AutoAttack(eps=0.1, version="rand", eot_iter=20).stages(10, (1, 8, 8))
    assert [stage.name for stage in stages] == ["APGD-CE", "APGD-DLR"]
    assert all(stage.attack.eot_iter == 20 for stage in stages)


def test_the_audit_records_how_many_samples_each_attack_broke():
    X, y = _images()
    result = mla.robustness(digits_cnn(), X, y, attack=mla.AutoAttack(eps=0.1, **QUICK), clip=(0.0, 1.0))
    broken = [stage.broken for stage in result.stages]
    clean_correct = round(result.clean_accuracy.value * 100)
    assert [stage.name for stage in result.stages] == ["APGD-CE", "APGD-T", "FAB-T", "Square"]
    assert result.stages[0].attacked == clean_correct
    assert clean_correct - sum(broken) == round(result.robust_accuracy.value * 100)
    assert result.stages[-1].robust_accuracy == result.robust_accuracy


def test_the_breakdown_reaches_the_report_record(pytester):
    pytester.makepyfile(test_aa="""
        import pytest_mlaudit as mla
        from tiny_models import digits, digits_cnn

        def test_it(mlaudit):
            _, _, X, y = digits()
            mlaudit.assert_robust_accuracy(digits_cnn(), X[:40].reshape(-1, 1, 8, 8), y[:40],
                                           attack=mla.AutoAttack(eps=0.1, n_iter=10, square_queries=50),
                                           clip=(0.0, 1.0), at_least=0.0)
    """)
    import json
    import pathlib

    pytester.syspathinsert(pathlib.Path(__file__).parent)
    pytester.runpytest("--mlaudit-json=out.json", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    record = json.loads((pytester.path / "out.json").read_text())["audits"][0]
    assert [stage["name"] for stage in record["params"]["stages"]] == ["APGD-CE", "APGD-T", "FAB-T", "Square"]
    assert "robust_accuracy_after_fab_t" in record["metrics"] and record["params"]["left_out"] == []
    assert any(check["name"] == "black-box attack adds little after white-box" for check in record["checks"])


def test_at_least_as_strong_as_torchattacks_autoattack_attacks_at_equal_iterations():
    """torchattacks' APGD-CE, APGD-T, FAB-T and Square (its AutoAttack), at our iteration counts, on 100 images.

    Robust accuracy must be no higher than theirs plus 0.03 (3 samples: the attacks'
    random starts differ).
    """
    torchattacks = pytest.importorskip("torchattacks")
    X, y = _images()
    model = digits_cnn()
    theirs = torchattacks.MultiAttack([
        torchattacks.APGD(model, eps=0.1, steps=20, loss="ce", seed=0),
        torchattacks.APGDT(model, eps=0.1, steps=20, n_classes=10, seed=0),
        torchattacks.FAB(model, eps=0.1, steps=20, multi_targeted=True, n_classes=10, seed=0),
        torchattacks.Square(model, eps=0.1, n_queries=300, seed=0),
    ])
    x_theirs = theirs(torch.as_tensor(X), torch.as_tensor(y))
    ours = mla.robustness(model, X, y, attack=mla.AutoAttack(eps=0.1, **QUICK), clip=(0.0, 1.0))
    assert ours.robust_accuracy.value <= _accuracy(model, x_theirs, y) + 0.03


def test_never_weaker_than_pgd20():
    X, y = _images()
    ours = mla.robustness(digits_cnn(), X, y, attack=mla.AutoAttack(eps=0.1, **QUICK), clip=(0.0, 1.0))
    pgd = mla.robustness(digits_cnn(), X, y, attack=mla.PGD(eps=0.1, steps=20), clip=(0.0, 1.0))
    assert ours.robust_accuracy.value <= pgd.robust_accuracy.value


class _Quantized(torch.nn.Module):
    """Rounds pixels to 4 levels before the CNN: zero input gradients, a textbook masked model."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(torch.round(x * 4) / 4)


def test_square_breaking_what_gradients_missed_flags_masked_gradients():
    X, y = _images(60)
    result = mla.robustness(_Quantized(digits_cnn()), X, y, attack=mla.AutoAttack(eps=0.15, n_iter=10,
                                                                                    square_queries=300),
                            clip=(0.0, 1.0))
    check = next(c for c in result.checks if c.name == "black-box attack adds little after white-box")
    assert not check.passed
    assert result.stages[-1].broken > 3


def test_generate_runs_the_stages_in_order_as_the_audit_does():
    X, y = _images(50)
    x, t = torch.as_tensor(X), torch.as_tensor(y)
    x_adv = mla.AutoAttack(eps=0.1, **QUICK).generate(as_classifier(digits_cnn(), device="cpu"), x, t, UNIT,
                                                     torch.Generator().manual_seed(0))
    audited = mla.robustness(digits_cnn(), X, y, attack=mla.AutoAttack(eps=0.1, **QUICK), clip=(0.0, 1.0))
    assert abs(_accuracy(digits_cnn(), x_adv, y) - audited.robust_accuracy.value) <= 0.04
    assert float((x_adv - x).abs().max()) <= 0.1 + 1e-6


def test_unknown_version_is_refused():
    with pytest.raises(ValueError, match=r"AutoAttack version must be one of \('standard', 'rand'\), got 'plus'"):
        mla.AutoAttack(eps=0.1, version="plus")
