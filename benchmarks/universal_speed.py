"""Speed and strength of the universal perturbation: the native SGD-UAP of
``mla.universal_perturbation`` against ART's ``UniversalPerturbation`` (FGSM inner attacker),
on the paper's digits CNN (8x8 variant, weights from the cache), eps 0.2 L-inf.

Both craft on the same 256 training images and are scored the same way: the fooling
rate on the 540 test images (share whose predicted class changes), counted here. ART
runs with its defaults (``max_iter=20`` passes at most, stopping once it fools
``1 - delta = 80%`` of the crafting images); the native attack with its defaults (10
passes, batches of 32). One torch thread for both; a warm-up run of each, then the two
interleaved A B A B; the best time of each is printed with the ratio.
Run: ``python benchmarks/universal_speed.py [repeats]``.
"""

import sys
import time

import numpy as np

EPS = 0.2


def fooling_rate(model, X, perturbation):
    import torch

    with torch.no_grad():
        clean = model(torch.as_tensor(X)).argmax(1)
        perturbed = model(torch.as_tensor(np.clip(X + perturbation, 0.0, 1.0).astype(np.float32))).argmax(1)
    return float((clean != perturbed).float().mean())


def native(model, X_craft, X_test):
    import pytest_mlaudit as mla

    result = mla.universal_perturbation(model, X_test, eps=EPS, clip=(0.0, 1.0), X_craft=X_craft)
    return result.perturbation


def art(model, X_craft, X_test):
    import torch
    from art.attacks.evasion import UniversalPerturbation
    from art.estimators.classification import PyTorchClassifier

    classifier = PyTorchClassifier(model, loss=torch.nn.CrossEntropyLoss(), input_shape=(1, 8, 8), nb_classes=10,
                                   clip_values=(0.0, 1.0))
    attack = UniversalPerturbation(classifier, attacker="fgsm", attacker_params={"eps": EPS}, eps=EPS, norm=np.inf,
                                   batch_size=32, verbose=False)
    attack.generate(X_craft)
    return attack.noise[0]


def main(repeats: int = 2):
    import torch

    from reference_models.datasets import load_digits_images
    from reference_models.paper_cnn import paper_recipe, trained_paper_cnn

    torch.set_num_threads(1)
    digits = load_digits_images()
    model = trained_paper_cnn(digits, paper_recipe(0)[0]).eval()
    X_craft, X_test = digits.X_train[:256], digits.X_test
    times = {"native SGD-UAP": [], "ART UniversalPerturbation (fgsm)": []}
    rates = {}
    for craft in (native, art):
        np.random.seed(0)
        craft(model, X_craft, X_test)  # warm-up: imports, first calls
    for _ in range(repeats):
        for label, craft in (("native SGD-UAP", native), ("ART UniversalPerturbation (fgsm)", art)):
            np.random.seed(0)
            start = time.perf_counter()
            perturbation = craft(model, X_craft, X_test)
            times[label].append(time.perf_counter() - start)
            rates[label] = fooling_rate(model, X_test, perturbation)
    for label in times:
        print(f"{label:<36} best {min(times[label]):6.2f} s   fooling rate on the test set {rates[label]:.3f}")
    ratio = min(times["ART UniversalPerturbation (fgsm)"]) / min(times["native SGD-UAP"])
    print(f"ART / native time: {ratio:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
