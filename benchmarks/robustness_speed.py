"""Speed of the robustness audits against ART and against hand-written PyTorch, at equal work.

    python benchmarks/robustness_speed.py [--n 512] [--pgd-n 128] [--repeats 5] [--threads 1]

Every ratio compares the same work: the same samples attacked at the same eps, the
same number of gradient steps. Each contender runs once as a warm-up, then the
contenders run interleaved (A B C A B C ...) ``--repeats`` times and the medians are
compared; torch (and so ART's PyTorch estimator, which runs on torch) uses the same
``--threads`` on every side.

1. A 5-eps FGSM sweep on the paper's CNN (``build_paper_cnn(3, 32)``, random weights,
   CIFAR-shaped random inputs) at eps / 100, where (nearly) every sample survives every
   eps, so that every contender attacks (nearly) every sample at every eps (the robust
   accuracies printed say how nearly): ``robustness_curve``
   against ART's FastGradientMethod called once per eps (plus ART's predict on its
   examples) and against the bare-PyTorch floor (one gradient pass, then one forward
   pass per eps). ART recomputes the gradient at each eps; the audit and the floor
   compute it once: that is the whole of the difference at equal work.
   Pruning is printed on its own line: the audit at the real eps attacks at each eps
   only the samples that survived the smaller ones, so on this fragile random network
   it does less work than at eps / 100.
2. PGD-20 (L-inf, random start): the audit's PGD without early stop against a plain
   PyTorch loop and ART's ProjectedGradientDescent, all running every step on every
   sample. The per-sample early stop (the default) is printed on its own line.

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


def interleaved(contenders: dict, repeats: int) -> tuple[dict[str, float], dict]:
    """Median seconds of each contender, run A B C A B C ... after one warm-up run each, and its last value."""
    values = {name: run() for name, run in contenders.items()}  # warm-up
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            values[name] = run()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(seconds)) for name, seconds in times.items()}, values


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


def art_sweep(model, X, y, eps_values=EPS):
    from art.attacks.evasion import FastGradientMethod
    from art.estimators.classification import PyTorchClassifier

    estimator = PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=(3, 32, 32),
                                  nb_classes=10, clip_values=(0.0, 1.0), device_type="cpu")
    x, labels = X.numpy(), y.numpy()
    accuracies = []
    for eps in eps_values:
        attack = FastGradientMethod(estimator, norm=np.inf, eps=eps, targeted=False, batch_size=BATCH)
        x_adv = attack.generate(x, y=labels)
        accuracies.append(float((estimator.predict(x_adv, batch_size=BATCH).argmax(1) == labels).mean()))
    return np.array(accuracies)


def art_pgd(model, X, y, eps=8 / 255, step=2 / 255, steps=20):
    from art.attacks.evasion import ProjectedGradientDescent
    from art.estimators.classification import PyTorchClassifier

    estimator = PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=(3, 32, 32),
                                  nb_classes=10, clip_values=(0.0, 1.0), device_type="cpu")
    attack = ProjectedGradientDescent(estimator, norm=np.inf, eps=eps, eps_step=step, max_iter=steps,
                                      num_random_init=1, batch_size=BATCH, verbose=False)
    labels = y.numpy()
    x_adv = attack.generate(X.numpy(), y=labels)
    return float((estimator.predict(x_adv, batch_size=BATCH).argmax(1) == labels).mean())


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
    parser.add_argument("--repeats", type=int, default=5, help="interleaved timed runs per contender (medians)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, the same for every contender")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_paper_cnn(3, 32).eval()
    X = torch.rand(args.n, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = torch.cat([model(X[s:s + BATCH]).argmax(1) for s in range(0, len(X), BATCH)])
    print(f"torch threads {torch.get_num_threads()} on every side; medians of {args.repeats} interleaved runs "
          f"after a warm-up")

    def ours(eps_values, sanity_samples=0):
        curve = mla.robustness_curve(model, X, y, attack=mla.FGSM(eps=0.0), eps=eps_values, clip=(0.0, 1.0),
                                     batch_size=BATCH, sanity_samples=sanity_samples, device="cpu")
        return np.array([point.value for point in curve.robust_accuracy])

    tiny = [eps / 100 for eps in EPS]
    print(f"FGSM sweep over {len(EPS)} eps on {args.n} images 3x32x32, equal work (eps / 100: nearly every sample survives)")
    median, value = interleaved({"floor": lambda: floor_sweep(model, X, y, tiny), "ours": lambda: ours(tiny),
                                 "ART": lambda: art_sweep(model, X, y, tiny)}, args.repeats)
    print(f"  robust accuracy  floor {np.round(value['floor'], 3)}  ours {np.round(value['ours'], 3)}  "
          f"ART {np.round(value['ART'], 3)}")
    print(f"  bare-PyTorch floor         {median['floor']:7.2f} s")
    print(f"  robustness_curve           {median['ours']:7.2f} s   {median['ours'] / median['floor']:5.2f}x the floor")
    print(f"  ART FGM once per eps       {median['ART']:7.2f} s   ours is {median['ART'] / median['ours']:5.2f}x "
          f"faster at equal work")

    print(f"FGSM sweep at the real eps {np.round(EPS, 4)}: pruning attacks only the survivors of the smaller eps")
    median_real, value_real = interleaved({"ours, eps / 100": lambda: ours(tiny), "ours": lambda: ours(EPS),
                                           "ours + checks": lambda: ours(EPS, 32)}, args.repeats)
    print(f"  robust accuracy  ours {np.round(value_real['ours'], 3)}")
    print(f"  pruning's benefit          {median_real['ours, eps / 100']:7.2f} s at equal work -> "
          f"{median_real['ours']:.2f} s pruned ({median_real['ours, eps / 100'] / median_real['ours']:.2f}x, "
          f"depends on how many samples fall at the small eps)")
    print(f"  sanity checks on 32 samples add {median_real['ours + checks'] - median_real['ours']:+.2f} s "
          f"(a fixed cost)")

    Xp, yp = X[:args.pgd_n], y[:args.pgd_n]
    print(f"PGD-20 (Linf, eps=8/255, step 2/255, random start) on {args.pgd_n} images, every step on every sample")

    def ours_pgd(early_stop):
        attack = mla.PGD(eps=8 / 255, steps=20, step_size=2 / 255, random_start=True, early_stop=early_stop)
        return mla.robustness(model, Xp, yp, attack=attack, clip=(0.0, 1.0), batch_size=BATCH, sanity_samples=0,
                              device="cpu").robust_accuracy.value

    median, value = interleaved({"plain": lambda: plain_pgd(model, Xp, yp), "ours": lambda: ours_pgd(False),
                                 "ART": lambda: art_pgd(model, Xp, yp), "ours, early stop": lambda: ours_pgd(True)},
                                args.repeats)
    print(f"  plain PyTorch loop         {median['plain']:7.2f} s   robust accuracy {value['plain']:.3f}")
    print(f"  audit PGD, no early stop   {median['ours']:7.2f} s   {median['ours'] / median['plain']:5.2f}x the plain "
          f"loop   robust accuracy {value['ours']:.3f}")
    print(f"  ART PGD                    {median['ART']:7.2f} s   ours is {median['ART'] / median['ours']:5.2f}x "
          f"faster at equal work   robust accuracy {value['ART']:.3f}")
    print(f"  early stop's benefit       {median['ours']:7.2f} s -> {median['ours, early stop']:.2f} s "
          f"({median['ours'] / median['ours, early stop']:.2f}x)   robust accuracy {value['ours, early stop']:.3f}")


if __name__ == "__main__":
    main()
