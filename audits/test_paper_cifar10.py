"""Real-data tier: the paper's adversarial experiment reproduced on CIFAR-10, and what its clamp did.

The two models come from ``python -m reference_models.cifar10_paper`` (about two
hours on a 2-core CPU), found in the weight cache; a run without them skips
with that command. Never trains.

For each model, three measurements (see ``reference_models.cifar10_paper``):
(a) the paper's FGSM as published (eps 0.1 on normalized images, then a clamp to
[0, 1] in normalized space) and that clamp alone; (b) the same attack done in pixel
space (per-channel eps 0.1 x std, clip to [0, 1]); (c) the standard audit setting,
FGSM, PGD-20 and AutoAttack at 8/255. The paper's numbers are shown beside (a) and (b).

To keep the tier near a minute, it audits the first ``TEST_IMAGES`` test images and
PGD-20 a seeded subset of ``PGD_IMAGES`` of them; ``docs/cifar10_reproduction.md``
has the full 10,000-image figures from the command's ``results.json``.

Thresholds were set from the measured numbers of the seed-0 run (see the docs) with
margin.
"""

import pytest

import pytest_mlaudit as mla

pytestmark = pytest.mark.mlaudit(requirement="EU-AI-Act-Art15")

TEST_IMAGES = 1000
PGD_IMAGES = 300
PAPER = "Robust and Fair AI (paper): CIFAR-10 CNN, FGSM eps 0.1 on normalized images, clamp to [0, 1]"
NOTE_AS_PUBLISHED = "same network, data (JPEG copies of CIFAR-10) and attack procedure, clamp included"
NOTE_PIXEL = ("the paper's number is its clamped normalized-space attack; ours is the same budget "
              "(0.1 x std per channel) applied in pixel space without the clamp")
MODELS = ("standard", "adversarial")
# Gates, from the numbers measured on these TEST_IMAGES at seed 0, with margin (standard / adversarial: clean
# 80.5% / 81.8%, clamp alone 38.5% / 60.0%, paper's FGSM 23.6% / 47.4%, (b) 8.5% / 27.6%, FGSM 8/255
# 3.2% / 17.2%, PGD-20 on PGD_IMAGES 0.0% / 1.0%; docs/cifar10_reproduction.md has all 10,000 test images).
CLEAN_AT_LEAST = {"standard": 0.75, "adversarial": 0.75}
CLAMP_ONLY_AT_MOST = {"standard": 0.45, "adversarial": 0.70}
# The standard model is gated from above (it falls), the adversarially trained one from below (what its training
# bought): each model misses the other's gate, so swapping the two fails both tests.
PIXEL_FGSM_GATE = {"standard": {"at_most": 0.20}, "adversarial": {"at_least": 0.20}}
FGSM_8_GATE = {"standard": {"at_most": 0.10}, "adversarial": {"at_least": 0.12}}
PGD_8_AT_MOST = {"standard": 0.05, "adversarial": 0.10}


@pytest.fixture(scope="module")
def paper_results():
    """The paper's-procedure results by model name, as the tests measure them (measured once per model)."""
    return {}


@pytest.fixture(scope="module")
def reproduction(mlaudit_settings):
    """``(split, {name: model})`` with the models the weight cache holds, and the command that trains them."""
    from reference_models.cifar10_paper import cached_models
    from reference_models.datasets import load_cifar10

    settings = mlaudit_settings
    if settings.data_dir is None:
        pytest.skip("real-data tier: pass --mlaudit-data-dir DIR to run it")
    root, seed = settings.data_dir / "cifar10", settings.seed
    try:
        split = load_cifar10(root)
    except (FileNotFoundError, ValueError) as exc:
        pytest.skip(f"real-data tier: {exc}")
    command = (f"python -m reference_models.cifar10_paper --data-dir {root} --out runs/cifar10 --seed {seed} "
               "(about two hours on 2 CPU cores; same MLAUDIT_CACHE_DIR as this run)")
    return split, cached_models(split, seed), command


def _model(reproduction, name):
    _, models, command = reproduction
    if name not in models:
        pytest.skip(f"real-data tier: no cached CIFAR-10 reproduction weights for the {name} model; train them "
                    f"once with: {command}")
    return models[name]


def _test_set(reproduction, size=TEST_IMAGES):
    split = reproduction[0]
    return split.X_test[:size], split.y_test[:size]


@pytest.mark.parametrize("name", MODELS)
def test_paper_fgsm_as_published_is_mostly_its_clamp(mlaudit, reproduction, paper_results, name):
    """(a) The paper's procedure, clamp included, and the clamp alone (eps 0): most of the damage is the clamp."""
    from reference_models.cifar10_paper import PUBLISHED, paper_attack_accuracy

    model = _model(reproduction, name)
    X, y = _test_set(reproduction)
    result = paper_results[name] = paper_attack_accuracy(model, X, y)
    mlaudit.published("clean_accuracy", PUBLISHED[name]["clean"], PAPER, note=NOTE_AS_PUBLISHED)
    mlaudit.published("robust_accuracy", PUBLISHED[name]["paper_fgsm"], PAPER, note=NOTE_AS_PUBLISHED)
    assert result.clean_accuracy.low >= CLEAN_AT_LEAST[name], result.clean_accuracy
    assert result.clamp_only_accuracy.high <= CLAMP_ONLY_AT_MOST[name], result.clamp_only_accuracy
    assert result.robust_accuracy.value <= result.clamp_only_accuracy.value


def test_most_of_the_papers_robustness_gain_is_robustness_to_its_own_clamp(reproduction, paper_results):
    """Under the paper's procedure, adversarial training lifts accuracy by about 24 points: as much as it lifts
    accuracy on clamped images with no attack at all. The training taught the model the clamp."""
    from reference_models.cifar10_paper import paper_attack_accuracy

    for name in MODELS:
        if name not in paper_results:
            paper_results[name] = paper_attack_accuracy(_model(reproduction, name), *_test_set(reproduction))
    standard, adversarial = paper_results["standard"], paper_results["adversarial"]
    fgsm_gain = adversarial.robust_accuracy.value - standard.robust_accuracy.value
    clamp_gain = adversarial.clamp_only_accuracy.value - standard.clamp_only_accuracy.value
    assert fgsm_gain >= 0.15, (standard.robust_accuracy, adversarial.robust_accuracy)
    assert clamp_gain >= 0.6 * fgsm_gain, (fgsm_gain, clamp_gain)


@pytest.mark.parametrize("name", MODELS)
def test_paper_fgsm_in_pixel_space(mlaudit, reproduction, name):
    """(b) The paper's budget (0.1 x std per channel) in pixel space, normalization inside the model, no clamp."""
    from reference_models.cifar10_paper import PAPER_EPS, PUBLISHED, NormalizedFGSM

    model = _model(reproduction, name)
    X, y = _test_set(reproduction)
    mlaudit.assert_robust_accuracy(model, X, y, attack=NormalizedFGSM(PAPER_EPS), clip=(0.0, 1.0),
                                   **PIXEL_FGSM_GATE[name])
    mlaudit.published("robust_accuracy", PUBLISHED[name]["paper_fgsm"], PAPER, note=NOTE_PIXEL)


@pytest.mark.parametrize("name", MODELS)
def test_standard_setting_fgsm_8_255(mlaudit, reproduction, name):
    """(c) FGSM at 8/255 L-inf in pixel space."""
    from reference_models.cifar10_paper import STANDARD_EPS

    model = _model(reproduction, name)
    X, y = _test_set(reproduction)
    mlaudit.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=STANDARD_EPS), clip=(0.0, 1.0),
                                   **FGSM_8_GATE[name])


@pytest.mark.parametrize("name", MODELS)
def test_standard_setting_pgd20_8_255(mlaudit, reproduction, name, mlaudit_settings):
    """(c) PGD-20 at 8/255 (step 2/255, random start) on a seeded subset: no FGSM-trained CNN survives it.

    This gate does not tell the two models apart, and is not meant to: 0.0% and 1.0% of
    300 images are within each other's intervals; it states that one-step adversarial
    training bought no robustness to the iterative attack.
    """
    from reference_models.cifar10_paper import PGD_STEP, STANDARD_EPS, seeded_subset

    model = _model(reproduction, name)
    X, y = _test_set(reproduction)
    subset = seeded_subset(len(y), PGD_IMAGES, mlaudit_settings.seed)
    mlaudit.assert_robust_accuracy(model, X[subset], y[subset], clip=(0.0, 1.0), at_most=PGD_8_AT_MOST[name],
                                   attack=mla.PGD(eps=STANDARD_EPS, steps=20, step_size=PGD_STEP, random_start=True))


@pytest.mark.parametrize("name", MODELS)
def test_standard_setting_autoattack_8_255(mlaudit, reproduction, name, mlaudit_settings):
    """(c) AutoAttack standard at 8/255 on PGD-20's subset: the reviewers' number, with its per-attack breakdown.

    Gated at PGD-20's ceiling: an ensemble whose first attack is a stronger PGD can only
    find more. Not yet in docs/cifar10_reproduction.md: it needs the reproduction's
    weights, which the command above trains.
    """
    from reference_models.cifar10_paper import STANDARD_EPS, seeded_subset

    model = _model(reproduction, name)
    X, y = _test_set(reproduction)
    subset = seeded_subset(len(y), PGD_IMAGES, mlaudit_settings.seed)
    mlaudit.assert_robust_accuracy(model, X[subset], y[subset], clip=(0.0, 1.0), at_most=PGD_8_AT_MOST[name],
                                   attack=mla.AutoAttack(eps=STANDARD_EPS))
