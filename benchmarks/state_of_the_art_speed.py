"""Speed of APGD, AutoAttack, C&W-L2 and certification against ART and torchattacks, in the same run.

    python benchmarks/state_of_the_art_speed.py [--n 64] [--iters 100] [--queries 1000] [--only apgd,autoattack,cw,certify]

Each comparison runs once to warm up (on two images), then A B A B (``--repeats``
times each), on one torch thread for both, and prints the median time of each, their
ratio and what each side computed.

1. APGD-CE, ``--apgd-iters`` (default 100) iterations, one start, L-inf eps 1/255: ours
   against ART's ``AutoProjectedGradientDescent`` (same configuration), on the
   paper's CNN (``build_paper_cnn(3, 32)``, random weights) with ``--n`` CIFAR-shaped
   random images labelled by the model itself.
2. AutoAttack standard against ART's AutoAttack at equal work: ART's attacks, run by the
   stage runner of ART's ``AutoAttack`` (``art.attacks.evasion.auto_attack.run_attack``:
   each stage only on the samples still robust), with the attack list made equal to ours
   stage by stage (:func:`art_stages`): APGD-CE (``--iters`` iterations, one start),
   APGD-T (targeted DLR, one start towards each of the 9 highest-ranked wrong classes in
   turn) and Square (``--queries`` queries, one restart). Both lists are printed. ART's
   default list (APGD-CE and APGD-DLR with 5 starts each, DeepFool, Square with 5
   restarts of 5,000 queries, untargeted only) is other work, so it is printed, not timed.
   A stage of ours that ART has no attack for (FAB-T) is printed as unmatched, so the
   comparison says when ours does more work. Target: >= 3x faster, robust accuracy no higher.
3. C&W-L2 at equal iterations (``--cw-iters``, one binary-search step, c = 1): ours against
   torchattacks' ``CW`` and ART's ``CarliniL2Method``. Target: no slower than torchattacks.
4. Certification throughput: CERTIFY with n = 10,000 (n0 = 100) on the noise-trained
   digits MLP of ``reference_models.noise_trained``, samples per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

import pytest_mlaudit as mla
from reference_models.paper_cnn import build_paper_cnn

EPS = 1 / 255


def interleaved(functions: dict, repeats: int, warm_ups: dict | None = None) -> dict:
    """Warm up each (with ``warm_ups`` where given), then run them interleaved (A B A B ...).

    Per function: the median wall time, the median CPU time of this process (one
    thread, so less inflated than wall time on a shared machine) and the last value.
    """
    for name, function in functions.items():
        (warm_ups or {}).get(name, function)()
    times = {name: [] for name in functions}
    cpu_times = {name: [] for name in functions}
    values = {}
    for _ in range(repeats):
        for name, function in functions.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            values[name] = function()
            times[name].append(time.perf_counter() - start)
            cpu_times[name].append(time.process_time() - cpu_start)
    return {name: (statistics.median(times[name]), statistics.median(cpu_times[name]), values[name])
            for name in functions}


def accuracy(model, x_adv, y) -> float:
    with torch.no_grad():
        return float((model(torch.as_tensor(x_adv)).argmax(1) == y).float().mean())


def art_estimator(model, shape):
    from art.estimators.classification import PyTorchClassifier

    return PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=shape, nb_classes=10,
                             clip_values=(0.0, 1.0), device_type="cpu")


def report(title, results, reference, target=""):
    print(f"{title} (median time of the interleaved runs; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores)")
    wall, cpu = results[reference][0], results[reference][1]
    for name, (seconds, cpu_seconds, value) in results.items():
        ratio = "" if name == reference else f"   {seconds / wall:.2f}x ours (CPU time {cpu_seconds / cpu:.2f}x)"
        print(f"  {name:28s} {seconds:8.2f} s wall {cpu_seconds:8.2f} s CPU   robust accuracy / value {value}{ratio}")
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
    results = interleaved({
        "ours APGD-CE": lambda: round(accuracy(model, ours.generate(classifier, X, y, clip,
                                                                    torch.Generator().manual_seed(0)), y), 3),
        "ART AutoProjectedGradientDescent": lambda: round(accuracy(model, art.generate(X.numpy(), y=y.numpy()), y),
                                                          3),
    }, args.repeats)
    report(f"APGD-CE, {args.apgd_iters} iterations, eps 1/255, {len(X)} images 3x32x32", results, "ours APGD-CE")


ART_DEFAULT_AUTOATTACK = ("APGD-CE (100 iterations, 5 random starts), APGD-DLR (100 iterations, 5 random starts), "
                          "DeepFool (100 iterations), Square (5,000 queries, 5 restarts); untargeted only")


def art_stages(stages, estimator, batch_size):
    """ART's attack for each of our AutoAttack stages, as ``(name, [(attack, target rank or None), ...])``.

    A targeted stage becomes one targeted ART APGD per target rank (the ``rank``-th
    most likely class on the clean input, as APGD-T picks them). A stage ART has no
    attack for is returned with ``None``: the benchmark prints it as unmatched.
    """
    from art.attacks.evasion import AutoProjectedGradientDescent, SquareAttack

    matched = []
    for stage in stages:
        attack = stage.attack
        if isinstance(attack, mla.APGD):
            loss = {"ce": "cross_entropy", "dlr": "difference_logits_ratio"}[attack.loss]
            art = AutoProjectedGradientDescent(estimator, norm=np.inf, eps=attack.eps, eps_step=2 * attack.eps,
                                               max_iter=attack.n_iter, targeted=attack.targeted,
                                               nb_random_init=attack.restarts, batch_size=batch_size,
                                               loss_type=loss, verbose=False)
            ranks = range(2, 2 + attack.n_target_classes) if attack.targeted else [None]
            matched.append((stage.name, [(art, rank) for rank in ranks]))
        elif type(attack).__name__ == "SquareLinf":
            matched.append((stage.name, [(SquareAttack(estimator, norm=np.inf, eps=attack.eps,
                                                       max_iter=attack.max_iter, p_init=attack.p_init, nb_restarts=1,
                                                       batch_size=batch_size, verbose=False), None)]))
        else:
            matched.append((stage.name, None))
    return matched


def run_art_stages(model, matched, estimator, X, y):
    """ART's AutoAttack stage runner over ``matched``: robust accuracy and the samples each stage broke."""
    from art.attacks.evasion.auto_attack import run_attack

    x = X.numpy().copy()
    one_hot = np.eye(10, dtype=np.float32)[y.numpy()]
    ranking = estimator.predict(x).argsort(axis=1)
    robust = estimator.predict(x).argmax(1) == y.numpy()
    broken = []
    for name, attacks in matched:
        if attacks is None:
            continue  # a stage ART has no attack for (printed as unmatched)
        before = int(robust.sum())
        for attack, rank in attacks or []:
            if not robust.any():
                break
            labels = one_hot if rank is None else np.eye(10, dtype=np.float32)[ranking[:, -rank]]
            x, robust = run_attack(x, labels, robust, attack, estimator, norm=np.inf, eps=attack.eps)
        broken.append((name, before, before - int(robust.sum())))
    return round(accuracy(model, x, y), 3), broken


class MatchedAutoAttack(mla.AutoAttack):
    """Our AutoAttack without the stages ART has no attack for (FAB-T): the equal-work comparison."""

    def stages(self, n_classes, input_shape):
        return [stage for stage in super().stages(n_classes, input_shape) if stage.name not in UNMATCHED_STAGES]


UNMATCHED_STAGES = ("FAB-T", "FAB")


def autoattack(model, X, y, args):
    ours = mla.AutoAttack(eps=EPS, n_iter=args.iters, square_queries=args.queries)
    matched_ours = MatchedAutoAttack(eps=EPS, n_iter=args.iters, square_queries=args.queries)
    tiny = mla.AutoAttack(eps=EPS, n_iter=2, square_queries=2)
    stages = ours.stages(10, tuple(X.shape[1:]))
    estimator = art_estimator(model, tuple(X.shape[1:]))
    matched = art_stages(stages, estimator, len(X))
    tiny_matched = art_stages(tiny.stages(10, tuple(X.shape[1:])), estimator, len(X))

    def run_ours(attack, x, labels):
        result = mla.robustness(model, x, labels, attack=attack, clip=(0.0, 1.0), batch_size=len(x),
                                sanity_samples=0)
        return round(result.robust_accuracy.value, 3), [(s.name, s.attacked, s.broken) for s in result.stages]

    print(f"AutoAttack standard, eps 1/255, {len(X)} images 3x32x32, random-weight paper CNN")
    for stage, (name, attacks) in zip(stages, matched):
        described = {k: v for k, v in stage.attack.describe().items() if k not in ("eps", "norm", "knowledge")}
        theirs = ("UNMATCHED: ART has no such attack, ours does more work" if attacks is None else
                  f"{len(attacks)} x ART {type(attacks[0][0]).__name__}"
                  + (" targeted (one per target rank)" if attacks[0][1] is not None else "")
                  + f", {_art_settings(attacks[0][0])}")
        print(f"  stage {name:8s} ours: {described}\n  {'':14s} ART:  {theirs}")
    print(f"  ART's default AutoAttack list (not timed, other work): {ART_DEFAULT_AUTOATTACK}")
    results = interleaved(
        {"ours, the stages ART matches": lambda: run_ours(matched_ours, X, y),
         "ART AutoAttack stages": lambda: run_art_stages(model, matched, estimator, X, y),
         "ours AutoAttack (+ FAB-T)": lambda: run_ours(ours, X, y)},
        args.repeats,
        warm_ups={"ours, the stages ART matches": lambda: run_ours(tiny, X[:2], y[:2]),
                  "ART AutoAttack stages": lambda: run_art_stages(model, tiny_matched, estimator, X[:2], y[:2]),
                  "ours AutoAttack (+ FAB-T)": lambda: run_ours(tiny, X[:2], y[:2])})
    report(f"AutoAttack standard, {args.iters} APGD iterations, {args.queries} Square queries; equal work: ours "
           "without FAB-T against ART's matching stages; ours with FAB-T does more", results,
           "ours, the stages ART matches", ">= 3x faster than ART at equal work, robust accuracy no higher")


def _art_settings(attack) -> str:
    names = ("max_iter", "nb_random_init", "loss_type", "eps_step", "p_init", "nb_restarts")
    return ", ".join(f"{name}={getattr(attack, name)!r}" for name in names if hasattr(attack, name))


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
    results = interleaved({
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
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--queries", type=int, default=1000)
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
