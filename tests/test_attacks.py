"""The native attacks against ART's on the same model and data, and their seeding."""

import json

import numpy as np
import pytest
from extras import need

need("torch")

import torch
from tiny_models import digits, digits_cnn, digits_mlp

import pytest_mlaudit as mla
from pytest_mlaudit.adapters import as_classifier
from pytest_mlaudit.robustness.protocol import run_attack

UNIT = (torch.tensor(0.0), torch.tensor(1.0))


def _test_batch(n=60):
    _, _, X, y = digits()
    return torch.as_tensor(X[:n]), torch.as_tensor(y[:n])


def _art(model, x):
    from art.estimators.classification import PyTorchClassifier

    return PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=tuple(x.shape[1:]),
                             nb_classes=10, clip_values=(0.0, 1.0))


@pytest.mark.parametrize("norm, eps, step", [("inf", 0.1, 0.025), (2, 1.0, 0.25)])
def test_pgd_without_random_start_follows_arts_iterates(norm, eps, step):
    from art.attacks.evasion import ProjectedGradientDescent

    x, y = _test_batch()
    model = digits_mlp()
    ours = mla.PGD(eps=eps, norm=norm, steps=10, step_size=step, random_start=False, early_stop=False)
    x_ours = ours.generate(as_classifier(model, device="cpu"), x, y, UNIT)
    art = ProjectedGradientDescent(_art(model, x), norm=np.inf if norm == "inf" else 2, eps=eps, eps_step=step,
                                   max_iter=10, targeted=False, num_random_init=0, batch_size=len(x), verbose=False)
    x_art = art.generate(x.numpy(), y=y.numpy())
    np.testing.assert_allclose(x_ours.numpy(), x_art, atol=1e-5)


def test_bim_equals_arts_basic_iterative_method():
    from art.attacks.evasion import BasicIterativeMethod

    x, y = _test_batch()
    model = digits_mlp()
    x_ours = mla.BIM(eps=0.1, steps=8, step_size=0.02, early_stop=False).generate(as_classifier(model, device="cpu"), x, y, UNIT)
    art = BasicIterativeMethod(_art(model, x), eps=0.1, eps_step=0.02, max_iter=8, targeted=False,
                               batch_size=len(x), verbose=False)
    np.testing.assert_allclose(x_ours.numpy(), art.generate(x.numpy(), y=y.numpy()), atol=1e-5)


def test_robust_accuracy_counts_all_samples_as_art_examples_would():
    """Over all samples: a sample wrong before the attack is not robust; n is the whole set."""
    from art.attacks.evasion import ProjectedGradientDescent

    x, y = _test_batch(120)
    model = digits_mlp()
    result = mla.robustness(model, x, y, attack=mla.PGD(eps=0.08, steps=10, step_size=0.02, random_start=False,
                                                        early_stop=False), clip=(0.0, 1.0), sanity_samples=0)
    art = ProjectedGradientDescent(_art(model, x), eps=0.08, eps_step=0.02, max_iter=10, num_random_init=0,
                                   batch_size=len(x), verbose=False)
    x_art = torch.as_tensor(art.generate(x.numpy(), y=y.numpy()))
    with torch.no_grad():
        clean = model(x).argmax(1).numpy() == y.numpy()
        adversarial = model(x_art).argmax(1).numpy() == y.numpy()
    assert result.robust_accuracy.n == 120
    assert result.robust_accuracy.value == pytest.approx(np.mean(clean & adversarial))
    assert result.clean_accuracy.value == pytest.approx(np.mean(clean))


def test_early_stopping_pgd_is_at_least_as_strong_as_running_every_step():
    x, y = _test_batch(120)
    model = digits_mlp()
    common = dict(eps=0.08, steps=10, step_size=0.02, random_start=False)
    stopped = mla.robustness(model, x, y, attack=mla.PGD(**common), clip=(0.0, 1.0), sanity_samples=0)
    full = mla.robustness(model, x, y, attack=mla.PGD(**common, early_stop=False), clip=(0.0, 1.0), sanity_samples=0)
    assert stopped.robust_accuracy.value <= full.robust_accuracy.value
    assert 0.2 < stopped.robust_accuracy.value < 0.9


def test_pgd_examples_stay_in_the_eps_ball_and_the_domain():
    x, y = _test_batch()
    classifier = as_classifier(digits_mlp(), device="cpu")
    linf = mla.PGD(eps=0.05, steps=5, restarts=2).generate(classifier, x, y, UNIT, torch.Generator().manual_seed(1))
    l2 = mla.PGD(eps=0.5, norm="L2", steps=5).generate(classifier, x, y, UNIT, torch.Generator().manual_seed(1))
    assert float((linf - x).abs().max()) <= 0.05 + 1e-6
    assert float((l2 - x).flatten(1).norm(dim=1).max()) <= 0.5 + 1e-5
    assert float(torch.minimum(linf, l2).min()) >= 0.0 and float(torch.maximum(linf, l2).max()) <= 1.0


def test_random_start_is_seeded_by_the_generator():
    x, y = _test_batch()
    classifier = as_classifier(digits_mlp(), device="cpu")
    attack = mla.PGD(eps=0.1, steps=2, early_stop=False)
    first = attack.generate(classifier, x, y, UNIT, torch.Generator().manual_seed(5))
    again = attack.generate(classifier, x, y, UNIT, torch.Generator().manual_seed(5))
    other = attack.generate(classifier, x, y, UNIT, torch.Generator().manual_seed(6))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


RUN_TWICE = """
import json, torch
import pytest_mlaudit as mla

def test_seeded_attacks(mlaudit):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)).eval()
    X = torch.rand(120, 10)
    y = model(X).argmax(1)
    mlaudit.robustness(model, X, y, attack=mla.PGD(eps=0.05, steps=3, restarts=2), clip=(0.0, 1.0))
    mlaudit.robustness(model, X, y, attack=mla.RandomNoise(eps=0.3, draws=2), clip=(0.0, 1.0))
"""


def test_robust_accuracy_is_reproducible_run_to_run(pytester):
    pytester.makepyfile(test_seeded=RUN_TWICE)

    def run(seed):
        pytester.runpytest_inprocess(f"--mlaudit-seed={seed}", "--mlaudit-json=out.json").assert_outcomes(passed=1)
        audits = json.loads((pytester.path / "out.json").read_text())["audits"]
        return [(a["params"]["seed"], a["metrics"], [c["detail"] for c in a["checks"]]) for a in audits]

    first, again, other = run(1), run(1), run(2)
    assert first == again
    assert [seed for seed, _, _ in first] != [seed for seed, _, _ in other]
    assert len(first) == 2


def test_restarts_only_add_successes():
    _, _, X, y = digits()
    one = mla.robustness(digits_mlp(), X[:150], y[:150], attack=mla.PGD(eps=0.06, steps=5), clip=(0.0, 1.0), sanity_samples=0)
    three = mla.robustness(digits_mlp(), X[:150], y[:150], attack=mla.PGD(eps=0.06, steps=5, restarts=3),
                           clip=(0.0, 1.0), sanity_samples=0)
    assert three.robust_accuracy.value <= one.robust_accuracy.value


def test_random_noise_is_weaker_than_pgd_at_the_same_eps():
    _, _, X, y = digits()
    noise = mla.robustness(digits_mlp(), X[:150], y[:150], attack=mla.RandomNoise(eps=0.1), clip=(0.0, 1.0))
    pgd = mla.robustness(digits_mlp(), X[:150], y[:150], attack=mla.PGD(eps=0.1, steps=10), clip=(0.0, 1.0))
    assert noise.robust_accuracy.value > pgd.robust_accuracy.value + 0.3


def test_transfer_attack_crafts_on_the_surrogate_and_is_weaker_than_white_box():
    _, _, X, y = digits()
    surrogate = digits_mlp()
    target = digits_cnn()
    images = X[:150].reshape(-1, 1, 8, 8)
    transfer = mla.Transfer(mla.PGD(eps=0.15, steps=10), surrogate=torch.nn.Sequential(torch.nn.Flatten(), surrogate))
    moved = mla.robustness(target, images, y[:150], attack=transfer, clip=(0.0, 1.0))
    direct = mla.robustness(target, images, y[:150], attack=mla.PGD(eps=0.15, steps=10), clip=(0.0, 1.0))
    assert moved.attack["knowledge"] == "transfer" and moved.attack["attack"] == "Transfer[PGD]"
    assert direct.robust_accuracy.value < moved.robust_accuracy.value < moved.clean_accuracy.value
    assert "white-box at least as strong as black-box" in [check.name for check in moved.checks]


def test_carlini_wagner_and_deepfool_through_art_respect_their_eps_bound():
    _, _, X, y = digits()
    model = digits_mlp()
    art_cw = mla.CarliniWagnerL2(eps=0.5, max_iter=10, binary_search_steps=2, implementation="art")
    cw = mla.robustness(model, X[:20], y[:20], attack=art_cw, clip=(0.0, 1.0), sanity_samples=8)
    unbounded = mla.robustness(model, X[:20], y[:20], attack=mla.DeepFool(max_iter=20), clip=(0.0, 1.0), sanity_samples=8)
    bounded = mla.robustness(model, X[:20], y[:20], attack=mla.DeepFool(eps=0.3, max_iter=20), clip=(0.0, 1.0),
                             sanity_samples=8)
    assert unbounded.robust_accuracy.value == 0.0
    assert bounded.robust_accuracy.value > 0.5
    assert cw.attack["binary_search_steps"] == 2 and cw.attack["implementation"] == "ART CarliniL2Method"
    assert cw.robust_accuracy.value < cw.clean_accuracy.value


def test_hopskipjump_is_decision_based_and_seeded():
    _, _, X, y = digits()
    attack = mla.HopSkipJump(eps=1.5, max_iter=3, max_eval=50, init_eval=10, init_size=20)
    result = mla.robustness(digits_mlp(), X[:10], y[:10], attack=attack, clip=(0.0, 1.0), sanity_samples=4)
    assert result.attack["knowledge"] == "black-box"
    assert result.robust_accuracy.value < result.clean_accuracy.value
    x, y = _test_batch(6)
    classifier = as_classifier(digits_mlp(), device="cpu")
    first = attack.generate(classifier, x, y, UNIT, torch.Generator().manual_seed(3))
    again = attack.generate(classifier, x, y, UNIT, torch.Generator().manual_seed(3))
    assert torch.equal(first, again) and not torch.equal(first, x)


def test_square_attacks_images_and_refuses_tables():
    _, _, X, y = digits()
    images = X[:12].reshape(-1, 1, 8, 8)
    result = mla.robustness(digits_cnn(), images, y[:12], attack=mla.Square(eps=0.3, max_iter=30), clip=(0.0, 1.0),
                            sanity_samples=4)
    assert result.robust_accuracy.value < result.clean_accuracy.value
    with pytest.raises(ValueError, match="Square attacks images"):
        mla.robustness(digits_mlp(), X[:12], y[:12], attack=mla.Square(eps=0.3), clip=(0.0, 1.0))


@pytest.mark.parametrize("name, params, expected", [
    ("pgd", {"eps": 0.1, "norm": 2}, "PGD"), ("BIM", {"eps": 0.1}, "BIM"), ("noise", {"eps": 0.1}, "RandomNoise"),
    ("cw-l2", {"eps": 1.0}, "CarliniWagnerL2"), ("deepfool", {}, "DeepFool"), ("hopskipjump", {}, "HopSkipJump"),
    ("square", {"eps": 0.03}, "Square"),
])
def test_attacks_are_registered_by_name(name, params, expected):
    assert type(mla.make_attack(name, **params)).__name__ == expected


@pytest.mark.parametrize("build", [
    lambda: mla.PGD(eps=-0.1), lambda: mla.BIM(eps=-1), lambda: mla.RandomNoise(eps=-0.1),
    lambda: mla.Square(eps=-0.1), lambda: mla.DeepFool(eps=-0.5),
])
def test_negative_eps_is_refused(build):
    with pytest.raises(ValueError, match="eps must be non-negative"):
        build()


def test_pgd_parameters_are_validated():
    with pytest.raises(ValueError, match="norm must be"):
        mla.PGD(eps=0.1, norm=1)
    with pytest.raises(ValueError, match="restarts > 1 need random_start"):
        mla.PGD(eps=0.1, restarts=3, random_start=False)
    with pytest.raises(ValueError, match="PGD steps must be a positive integer"):
        mla.PGD(eps=0.1, steps=0)


def test_an_attack_leaving_the_domain_is_an_error():
    class Escapes:
        def generate(self, classifier, x, y, clip):
            return x + 2.0

    x, y = _test_batch(5)
    with pytest.raises(ValueError, match="outside the input domain"):
        run_attack(Escapes(), as_classifier(digits_mlp(), device="cpu"), x, y, UNIT, None)
