"""The adversarial experiment of "Robust and Fair AI": the paper's CNN under FGSM, before
and after the paper's FGSM adversarial training (eps 0.1).

Embedded tier: scikit-learn's 8x8 digits, pixel domain [0, 1], with the paper's CNN
sized for 8x8 inputs (see ``reference_models.paper_cnn``); eps 0.1 is in pixel units,
inside the model's input domain (normalization is the model's first layer). The
paper's numbers come from CIFAR-10, with eps applied to normalized images: they are
shown beside ours, not compared with them.

Real-data tier: CIFAR-10 with the paper's exact network and its exact attack procedure
is ``audits/test_paper_cifar10.py``.

Thresholds were set from measurements at --mlaudit-seed 0 (standard CNN: 91.5% clean,
44.1% under FGSM; adversarially trained: 99.1% clean, 90.4% under FGSM; n = 540), with
margin. The standard CNN's clean accuracy swings between machines and thread counts
for the paper's recipe on 1,257 training images (89.8% on another CPU, 97.8% with two
torch threads instead of one): the gates leave room for that.
"""

import pytest

import pytest_mlaudit as mla
from reference_models.adversarial_audit import assert_adversarial_training_gain, beside_published

pytestmark = pytest.mark.mlaudit(requirement="EU-AI-Act-Art15")

EPS = 0.1
PAPER = "Robust and Fair AI (paper): CIFAR-10 CNN, FGSM eps 0.1"
PAPER_CLEAN = {"standard": 0.8111, "adversarial": 0.7798}
PAPER_FGSM = {"standard": 0.2238, "adversarial": 0.4761}
DIGITS_NOTE = ("data differ: ours is scikit-learn's 8x8 digits with the 8x8 variant of the CNN and eps 0.1 in pixel "
               "units; the paper's is CIFAR-10 with eps 0.1 applied to normalized images")


def paper_pair(model: str, note: str) -> list[tuple]:
    return [("clean_accuracy", PAPER_CLEAN[model], PAPER, note), ("robust_accuracy", PAPER_FGSM[model], PAPER, note)]


def paper_trade_off(note: str) -> list[tuple]:
    return [("robust_accuracy_gain", PAPER_FGSM["adversarial"] - PAPER_FGSM["standard"], PAPER, note),
            ("clean_accuracy_drop", PAPER_CLEAN["standard"] - PAPER_CLEAN["adversarial"], PAPER, note)]


def test_standard_cnn_is_not_robust_to_fgsm(mlaudit, digits, digits_cnn):
    """Without adversarial training FGSM at eps 0.1 breaks the CNN: the audit must see it."""
    with beside_published(mlaudit, *paper_pair("standard", DIGITS_NOTE)):
        mlaudit.assert_robust_accuracy(digits_cnn, digits.X_test, digits.y_test, attack=mla.FGSM(eps=EPS),
                                       clip=(0.0, 1.0), at_most=0.70)


def test_adversarially_trained_cnn_resists_fgsm(mlaudit, digits, digits_cnn_adversarial):
    with beside_published(mlaudit, *paper_pair("adversarial", DIGITS_NOTE)):
        mlaudit.assert_robust_accuracy(digits_cnn_adversarial, digits.X_test, digits.y_test,
                                       attack=mla.FGSM(eps=EPS), clip=(0.0, 1.0), at_least=0.80)


def test_adversarial_training_raises_robustness_at_little_clean_cost(mlaudit, digits, digits_cnn, digits_cnn_adversarial):
    with beside_published(mlaudit, *paper_trade_off(DIGITS_NOTE)):
        assert_adversarial_training_gain(digits_cnn, digits_cnn_adversarial, digits.X_test, digits.y_test, eps=EPS,
                                         clip=(0.0, 1.0), min_robust_gain=0.20, max_clean_drop=0.03)
