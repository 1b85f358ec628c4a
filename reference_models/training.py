"""Training of the reference models: the plain recipe and FGSM adversarial training.

One loop (:func:`fit`) serves both: a plain epoch runs cross-entropy on each batch;
an adversarial epoch crafts FGSM examples for the batch and mixes the two losses,
``clean_weight * CE(x) + (1 - clean_weight) * CE(x_adv)``.

**Mode of the model while crafting.** The examples are crafted in eval mode and the
weights updated in train mode. Adversarial training here always starts from a model
already trained (the paper fine-tunes its trained CNN; FraudNet is secured after its
standard training), so BatchNorm's running statistics are meaningful, and eval mode
crafts against the deterministic function the audit later attacks: no dropout noise
in the gradient, and no BatchNorm running-statistics update from the crafting pass
(in train mode every crafting forward pass would move them once more). The mode of
every submodule is restored after crafting (``TorchClassifier.audit_mode``).

**Units.** ``eps`` is in the units of the inputs the trained module receives, and the
examples are clipped to ``clip``: for the CNN, pixels in [0, 1] (the normalization is
the model's first layer); for FraudNet, standardized features (see
:mod:`reference_models.fraudnet`). The attack is the audit's own FGSM
(:class:`pytest_mlaudit.FGSM`), so training and audit perturb the same way.

Written in plain PyTorch rather than ART's ``AdversarialTrainer``: the paper's recipe
(loss mix 0.3 / 0.7, StepLR) and the mode handling above are not options of ART's
trainer, and one seeded loop keeps both reference models reproducible.

Training runs on the CPU unless a device is given; progress goes to ``progress``, a
callable taking one line of text (``pytest_mlaudit.progress.terminal_writer(config)``
for pytest's terminal, :func:`stderr_progress` for the command line).
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainingConfig:
    """Plain training: Adam and cross-entropy (defaults: the paper's CNN recipe)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AdversarialConfig:
    """FGSM adversarial training (defaults: the paper's fine-tuning of its CNN).

    ``lr_step`` / ``lr_gamma``: StepLR every ``lr_step`` epochs (None: constant rate).
    """

    eps: float = 0.1
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    clean_weight: float = 0.3
    lr_step: int | None = 5
    lr_gamma: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.clean_weight <= 1.0:
            raise ValueError(f"clean_weight must be in [0, 1], got {self.clean_weight!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_classifier(model: Any, X: Any, y: Any, config: TrainingConfig, *, device: str = "cpu",
                     progress: Progress | None = None, label: str = "model", threads: int | None = 1,
                     speed: Speed | None = None) -> Any:
    """Train ``model`` with Adam and cross-entropy; returns it in eval mode."""
    import torch.nn.functional as F

    def loss(module, xb, yb):
        return F.cross_entropy(module(xb), yb)

    return fit(model, X, y, loss, epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
               seed=config.seed, device=device, progress=progress, label=label, threads=threads, speed=speed)


def adversarial_training(model: Any, X: Any, y: Any, config: AdversarialConfig, *, clip: tuple[Any, Any] = (0.0, 1.0),
                         device: str = "cpu", progress: Progress | None = None, label: str = "model",
                         threads: int | None = 1, speed: Speed | None = None, attack: Any = None) -> Any:
    """Continue training ``model`` on FGSM examples crafted batch by batch (see the module docstring).

    ``attack`` replaces ``FGSM(eps=config.eps)`` (any object with the audit attacks'
    ``generate``; the paper reproduction passes its normalized-space FGSM); ``clip``
    bounds may be tensors broadcasting against a batch (per-channel bounds).
    """
    import torch

    import pytest_mlaudit as mla

    attack = mla.FGSM(eps=config.eps) if attack is None else attack
    low, high = (torch.as_tensor(bound, dtype=torch.float32, device=device) for bound in clip)

    def loss(module, xb, yb):
        classifier = mla.as_classifier(module, device=device)
        with classifier.audit_mode():
            x_adv = attack.generate(classifier, xb, yb, (low, high))
        return mixed_loss(module, xb, x_adv, yb, config.clean_weight)

    return fit(model, X, y, loss, epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
               seed=config.seed, lr_step=config.lr_step, lr_gamma=config.lr_gamma, device=device,
               progress=progress, label=f"{label}, FGSM eps={config.eps:g}", threads=threads, speed=speed)


def mixed_loss(model: Any, x: Any, x_adv: Any, y: Any, clean_weight: float) -> Any:
    """``clean_weight * CE(model(x), y) + (1 - clean_weight) * CE(model(x_adv), y)``."""
    import torch.nn.functional as F

    return clean_weight * F.cross_entropy(model(x), y) + (1.0 - clean_weight) * F.cross_entropy(model(x_adv), y)


@dataclass(frozen=True)
class Speed:
    """CPU speed-ups of training (never of evaluation), and progress every ``log_every`` steps.

    ``bf16``: the forward and backward passes (adversarial crafting included) under
    ``torch.autocast("cpu", torch.bfloat16)``; weights and optimizer stay float32.
    ``channels_last``: model and batches in NHWC memory format. Both change rounding
    only; the trained model is returned in float32, contiguous, and is evaluated so.
    """

    bf16: bool = False
    channels_last: bool = False
    log_every: int | None = None


def fit(model: Any, X: Any, y: Any, batch_loss: Callable[[Any, Any, Any], Any], *, epochs: int, batch_size: int,
        lr: float, seed: int, lr_step: int | None = None, lr_gamma: float = 0.1, device: str = "cpu",
        progress: Progress | None = None, label: str = "model", threads: int | None = 1,
        speed: Speed | None = None) -> Any:
    """Adam over seeded shuffled batches, minimizing ``batch_loss(model, xb, yb)``; one progress line per epoch
    (and per ``speed.log_every`` steps, with the elapsed time and an ETA).

    The global torch seed is set too, so dropout draws the same masks run after run.
    """
    with _threads(threads):
        return _fit(model, X, y, batch_loss, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, lr_step=lr_step,
                    lr_gamma=lr_gamma, device=device, progress=progress, label=label, speed=speed or Speed())


@contextlib.contextmanager
def _threads(threads: int | None):
    """torch's CPU thread count while training (None: leave it), restored after.

    The default is one: the batches of the embedded models are small (64 digits
    images, 64 transactions), and on a shared 2-core machine two threads halved the
    speed (each waits for the other while other processes run). A fixed thread count
    also fixes the order of floating-point sums, so the trained weights do not depend
    on the machine's core count (two threads gave the digits CNN 97.8% clean accuracy
    where one gave 89.8%: same recipe, another rounding path). The CIFAR-10 command
    uses them all.
    """
    import torch

    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _fit(model, X, y, batch_loss, *, epochs, batch_size, lr, seed, lr_step, lr_gamma, device, progress, label, speed):
    import numpy as np
    import torch

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    X_t = torch.as_tensor(np.asarray(X, dtype=np.float32))
    y_t = torch.as_tensor(np.asarray(y, dtype=np.int64))
    memory_format = torch.channels_last if speed.channels_last else torch.contiguous_format
    model.to(device, memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=lr_step, gamma=lr_gamma) if lr_step else None
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if speed.bf16 else contextlib.nullcontext
    steps_per_epoch = -(-len(X_t) // batch_size)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(X_t), generator=generator)
        total, batches = 0.0, 0
        for first in range(0, len(order), batch_size):
            batch = order[first:first + batch_size]
            xb, yb = X_t[batch].to(device, memory_format=memory_format), y_t[batch].to(device)
            optimizer.zero_grad()
            with autocast():
                loss = batch_loss(model, xb, yb)
            loss.backward()
            optimizer.step()
            total, batches = total + float(loss.detach()), batches + 1
            if progress is not None and speed.log_every and batches % speed.log_every == 0:
                done = epoch * steps_per_epoch + batches
                elapsed = time.perf_counter() - start
                eta = elapsed / done * (epochs * steps_per_epoch - done)
                progress(f"training {label}: epoch {epoch + 1}/{epochs} step {batches}/{steps_per_epoch}, "
                         f"mean loss {total / batches:.4f}, {elapsed:.0f} s elapsed, ETA {eta / 60:.1f} min")
        if scheduler is not None:
            scheduler.step()
        if progress is not None:
            progress(f"training {label}: epoch {epoch + 1}/{epochs}, loss {total / max(batches, 1):.4f}, "
                     f"{time.perf_counter() - start:.0f} s")
    model.to(memory_format=torch.contiguous_format)
    model.eval()
    return model


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
