"""Speed of APGD, AutoAttack, C&W-L2 and certification against ART and torchattacks, in the same run.

    python benchmarks/state_of_the_art_speed.py [--n 64] [--iters 20] [--queries 200] [--only apgd,autoattack,cw,certify]

Each comparison runs once to warm up, then A B A B (``--repeats`` times each), on one
torch thread for both, and prints the best time of each and their ratio.

1. APGD-CE, ``--apgd-iters`` (default 100) iterations, one start, L-inf eps 1/255: ours
   against ART's ``AutoProjectedGradientDescent`` (same configuration), on the
   paper's CNN (``build_paper_cnn(3, 32)``, random weights) with ``--n`` CIFAR-shaped
   random images labelled by the model itself.
2. AutoAttack standard (``--iters`` APGD iterations, ``--queries`` Square queries) against
   ART's ``AutoAttack`` given the same attacks (APGD-CE, APGD-DLR, Square; ART's
   default list adds DeepFool and 5 random starts each). Ours runs APGD-T over 9
   target classes where ART runs untargeted APGD-DLR, so ours does more work.
   Target: >= 3x faster, robust accuracy no higher than ART's.
3. C&W-L2 at equal iterations (``--cw-iters``, one binary-search step, c = 1): ours against
   torchattacks' ``CW`` and ART's ``CarliniL2Method``. Target: no slower than torchattacks.
4. Certification throughput: CERTIFY with n = 10,000 (n0 = 100) on the noise-trained
   digits MLP of ``reference_models.noise_trained``, samples per second.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import pytest_mlaudit as mla
from reference_models.paper_cnn import build_paper_cnn

EPS = 1 / 255


def best_of(functions: dict, repeats: int) -> dict:
    """Warm up each, then run them interleaved (A B A B ...); the best time and last value of each."""
    for function in functions.values():
        function()
    times = {name: [] for name in functions}
    values = {}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            values[name] = function()
            times[name].append(time.perf_counter() - start)
    return {name: (min(times[name]), values[name]) for name in functions}


def accuracy(model, x_adv, y) -> float:
    with torch.no_grad():
        return float((model(torch.as_tensor(x_adv)).argmax(1) == y).float().mean())


def art_estimator(model, shape):
    from art.estimators.classification import PyTorchClassifier

    return PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=shape, nb_classes=10,
                             clip_values=(0.0, 1.0), device_type="cpu")


def report(title, results, reference, target=""):
    print(title)
    for name, (seconds, value) in results.items():
        ratio = "" if name == reference else f"   {results[reference][0] and seconds / results[reference][0]:.2f}x ours"
        print(f"  {name:28s} {seconds:8.2f} s   robust accuracy / value {value}{ratio}")
    if target:
        print(f"  target: {target}")


def apgd(model, X, y, args):
    from art.attacks.evasion import AutoProjectedGradientDescent

    classifier = mla.as_classifier(model, device="cpu")
    clip = (torch.tensor(0.0), torch.tensor(1.0))
    ours = mla.APGD(eps=EPS, n_iter=args.apgd_iters)
    art = AutoProjectedGradientDescent(art_estimator(model, tuple(X.shape[1:])), norm=np.inf, eps=EPS,
                                       eps_step=2 * EPS, max_iter=args.apgd_iters, nb_random_init=1,
                                       batch_size=len(X), loss_type="cross_entropy", verbose=False)
    results = best_of({
        "ours APGD-CE": lambda: round(accuracy(model, ours.generate(classifier, X, y, clip,
                                                                    torch.Generator().manual_seed(0)), y), 3),
        "ART AutoProjectedGradientDescent": lambda: round(accuracy(model, art.generate(X.numpy(), y=y.numpy()), y),
                                                          3),
    }, args.repeats)
    report(f"APGD-CE, {args.apgd_iters} iterations, eps 1/255, {len(X)} images 3x32x32", results, "ours APGD-CE")


def autoattack(model, X, y, args):
    from art.attacks.evasion import AutoAttack, AutoProjectedGradientDescent, SquareAttack

    estimator = art_estimator(model, tuple(X.shape[1:]))
    attacks = [AutoProjectedGradientDescent(estimator, norm=np.inf, eps=EPS, eps_step=2 * EPS, max_iter=args.iters,
                                            nb_random_init=1, batch_size=len(X), loss_type=loss, verbose=False)
               for loss in ("cross_entropy", "difference_logits_ratio")]
    attacks.append(SquareAttack(estimator, norm=np.inf, eps=EPS, max_iter=args.queries, p_init=0.8, nb_restarts=1,
                                batch_size=len(X), verbose=False))
    art = AutoAttack(estimator, norm=np.inf, eps=EPS, attacks=attacks, batch_size=len(X))
    ours = mla.AutoAttack(eps=EPS, n_iter=args.iters, square_queries=args.queries)

    def run_ours():
        return round(mla.robustness(model, X, y, attack=ours, clip=(0.0, 1.0), batch_size=len(X),
                                    sanity_samples=0).robust_accuracy.value, 3)

    results = best_of({"ours AutoAttack": run_ours,
                       "ART AutoAttack": lambda: round(accuracy(model, art.generate(X.numpy(), y=y.numpy()), y), 3)},
                      args.repeats)
    report(f"AutoAttack standard, {args.iters} APGD iterations, {args.queries} Square queries, eps 1/255, "
           f"{len(X)} images 3x32x32", results, "ours AutoAttack",
           ">= 3x faster than ART, robust accuracy no higher")


def cw(model, X, y, args):
    import torchattacks
    from art.attacks.evasion import CarliniL2Method

    classifier = mla.as_classifier(model, device="cpu")
    clip = (torch.tensor(0.0), torch.tensor(1.0))
    ours = mla.CarliniWagnerL2(max_iter=args.cw_iters, binary_search_steps=1, initial_const=1.0, batch_size=len(X))
    theirs = torchattacks.CW(model, c=1.0, kappa=0, steps=args.cw_iters, lr=0.01)
    art = CarliniL2Method(art_estimator(model, tuple(X.shape[1:])), confidence=0.0, targeted=False,
                          learning_rate=0.01, binary_search_steps=1, max_iter=args.cw_iters, initial_const=1.0,
                          batch_size=len(X), verbose=False)
    results = best_of({
        "ours C&W-L2": lambda: round(accuracy(model, ours.generate(classifier, X, y, clip), y), 3),
        "torchattacks CW": lambda: round(accuracy(model, theirs(X, y), y), 3),
        "ART CarliniL2Method": lambda: round(accuracy(model, art.generate(X.numpy(), y=y.numpy()), y), 3),
    }, args.repeats)
    report(f"C&W-L2, {args.cw_iters} iterations, one binary-search step, c = 1, {len(X)} images 3x32x32",
           results, "ours C&W-L2", "no slower than torchattacks")


def certify(args):
    from reference_models.datasets import load_digits_images
    from reference_models.noise_trained import SIGMA, noise_trained_digits_mlp

    split = load_digits_images()
    model = noise_trained_digits_mlp(split)
    X = split.X_test.reshape(len(split.X_test), -1)[:args.certify_n]
    y = split.y_test[:args.certify_n]
    start = time.perf_counter()
    mla.certified_accuracy(model, X, y, sigma=SIGMA, radii=[0.0], n0=100, n=10_000, batch_size=10_100)
    seconds = time.perf_counter() - start
    print(f"Certification, n = 10,000, n0 = 100, {len(X)} digits, MLP 64-128-10: {seconds:.2f} s, "
          f"{len(X) / seconds:.1f} samples/s ({len(X) * 10_100 / seconds:,.0f} noisy forward passes/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--apgd-iters", type=int, default=100)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cw-iters", type=int, default=20)
    parser.add_argument("--certify-n", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--only", default="apgd,autoattack,cw,certify")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = build_paper_cnn(3, 32).eval()
    X = torch.rand(args.n, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = model(X).argmax(1)
    print(f"torch threads: {torch.get_num_threads()}")
    chosen = args.only.split(",")
    if "apgd" in chosen:
        apgd(model, X, y, args)
    if "autoattack" in chosen:
        autoattack(model, X, y, args)
    if "cw" in chosen:
        cw(model, X, y, args)
    if "certify" in chosen:
        certify(args)


if __name__ == "__main__":
    main()
