"""Speed of the robustness audits against ART and against hand-written PyTorch, side by side.

    python benchmarks/robustness_speed.py [--n 512] [--pgd-n 128]

1. A 5-eps FGSM sweep on the paper's CNN (``build_paper_cnn(3, 32)``, random weights,
   CIFAR-shaped random inputs): ``robustness_curve`` against ART's FastGradientMethod
   called once per eps (plus ART's predict on its examples), and against the
   bare-PyTorch floor (one gradient pass, then one forward pass per eps).
   Targets: >= 3x faster than the ART loop, within 1.1x of the floor. The audit
   attacks at each eps only the samples that survived the smaller ones, so on this
   fragile random network it does less work than the floor; a second sweep at
   eps / 100, where (almost) every sample survives, compares equal work.
2. PGD-20 (L-inf, random start): the audit's PGD against a plain PyTorch loop
   that runs every step on every sample. Target: no slower than the plain loop.
   Shown both with the per-sample early stop (the default) and without it (same
   work as the plain loop, so the ratio shows the audit's overhead alone).

Labels are the model's own predictions, so every sample starts correctly classified.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import pytest_mlaudit as mla
from reference_models.paper_cnn import build_paper_cnn

EPS = [1 / 255, 2 / 255, 4 / 255, 8 / 255, 16 / 255]
BATCH = 256


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def floor_sweep(model, X, y, eps_values=EPS):
    """One gradient pass per batch, then one forward pass per eps: the least any FGSM sweep can do."""
    correct = np.zeros(len(eps_values))
    for start in range(0, len(X), BATCH):
        x, t = X[start:start + BATCH].clone().requires_grad_(True), y[start:start + BATCH]
        loss = torch.nn.functional.cross_entropy(model(x), t)
        (grad,) = torch.autograd.grad(loss, x)
        with torch.no_grad():
            for k, eps in enumerate(eps_values):
                correct[k] += (model(torch.clamp(x + eps * grad.sign(), 0, 1)).argmax(1) == t).sum().item()
    return correct / len(X)


def art_sweep(model, X, y):
    from art.attacks.evasion import FastGradientMethod
    from art.estimators.classification import PyTorchClassifier

    estimator = PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=(3, 32, 32),
                                  nb_classes=10, clip_values=(0.0, 1.0), device_type="cpu")
    x, labels = X.numpy(), y.numpy()
    accuracies = []
    for eps in EPS:
        attack = FastGradientMethod(estimator, norm=np.inf, eps=eps, targeted=False, batch_size=BATCH)
        x_adv = attack.generate(x, y=labels)
        accuracies.append(float((estimator.predict(x_adv, batch_size=BATCH).argmax(1) == labels).mean()))
    return np.array(accuracies)


def plain_pgd(model, X, y, eps=8 / 255, step=2 / 255, steps=20):
    generator = torch.Generator().manual_seed(0)
    correct = 0
    for start in range(0, len(X), BATCH):
        x, t = X[start:start + BATCH], y[start:start + BATCH]
        x_adv = torch.clamp(x + (torch.rand(x.shape, generator=generator) * 2 - 1) * eps, 0, 1)
        for _ in range(steps):
            x_adv.requires_grad_(True)
            loss = torch.nn.functional.cross_entropy(model(x_adv), t)
            (grad,) = torch.autograd.grad(loss, x_adv)
            x_adv = torch.min(torch.max(x_adv.detach() + step * grad.sign(), x - eps), x + eps).clamp(0, 1)
        with torch.no_grad():
            correct += (model(x_adv).argmax(1) == t).sum().item()
    return correct / len(X)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="images in the FGSM sweep")
    parser.add_argument("--pgd-n", type=int, default=128, help="images attacked by PGD-20")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = build_paper_cnn(3, 32).eval()
    X = torch.rand(args.n, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = torch.cat([model(X[s:s + BATCH]).argmax(1) for s in range(0, len(X), BATCH)])
    print(f"torch threads: {torch.get_num_threads()}; FGSM sweep over {len(EPS)} eps on {args.n} images 3x32x32")

    def ours(sanity_samples, eps_values=EPS):
        return mla.robustness_curve(model, X, y, attack=mla.FGSM(eps=0.0), eps=eps_values, clip=(0.0, 1.0),
                                    batch_size=BATCH, sanity_samples=sanity_samples, device="cpu")

    t_floor, acc_floor = timed(lambda: floor_sweep(model, X, y))
    t_ours, curve = timed(lambda: ours(0))
    t_art, acc_art = timed(lambda: art_sweep(model, X, y))
    t_checked, _ = timed(lambda: ours(32))
    acc_ours = np.array([point.value for point in curve.robust_accuracy])
    print(f"  robust accuracy  floor {np.round(acc_floor, 3)}  ours {np.round(acc_ours, 3)}  ART {np.round(acc_art, 3)}")
    print(f"  bare-PyTorch floor         {t_floor:7.2f} s")
    print(f"  robustness_curve           {t_ours:7.2f} s   {t_ours / t_floor:5.2f}x the floor (target <= 1.1x)")
    print(f"  ART FGM once per eps       {t_art:7.2f} s   ours is {t_art / t_ours:5.2f}x faster (target >= 3x)")
    print(f"  robustness_curve + checks  {t_checked:7.2f} s   {t_checked / t_floor:5.2f}x the floor "
          f"(sanity checks on 32 samples, a fixed cost)")

    tiny = [eps / 100 for eps in EPS]
    t_floor_tiny, acc_floor_tiny = timed(lambda: floor_sweep(model, X, y, tiny))
    t_ours_tiny, _ = timed(lambda: ours(0, tiny))
    print(f"  equal work (eps / 100: {np.round(acc_floor_tiny, 3)} of the samples survive, so both attack all):")
    print(f"  bare-PyTorch floor         {t_floor_tiny:7.2f} s")
    print(f"  robustness_curve           {t_ours_tiny:7.2f} s   {t_ours_tiny / t_floor_tiny:5.2f}x the floor "
          f"(target <= 1.1x)")

    Xp, yp = X[:args.pgd_n], y[:args.pgd_n]
    print(f"PGD-20 (Linf, eps=8/255, step 2/255, random start) on {args.pgd_n} images")

    def ours_pgd(early_stop):
        attack = mla.PGD(eps=8 / 255, steps=20, step_size=2 / 255, random_start=True, early_stop=early_stop)
        return mla.robustness(model, Xp, yp, attack=attack, clip=(0.0, 1.0), batch_size=BATCH, sanity_samples=0,
                              device="cpu").robust_accuracy.value

    t_plain, acc_plain = timed(lambda: plain_pgd(model, Xp, yp))
    t_full, acc_full = timed(lambda: ours_pgd(False))
    t_stop, acc_stop = timed(lambda: ours_pgd(True))
    print(f"  plain PyTorch loop         {t_plain:7.2f} s   robust accuracy {acc_plain:.3f}")
    print(f"  audit PGD, no early stop   {t_full:7.2f} s   {t_full / t_plain:5.2f}x the plain loop "
          f"(target <= 1.0x)   robust accuracy {acc_full:.3f}")
    print(f"  audit PGD, early stop      {t_stop:7.2f} s   {t_stop / t_plain:5.2f}x the plain loop "
          f"(target <= 1.0x)   robust accuracy {acc_stop:.3f}")


if __name__ == "__main__":
    main()
