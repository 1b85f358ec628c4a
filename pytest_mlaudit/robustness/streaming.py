"""Robustness audits of streamed data: a torch DataLoader, or any iterable of ``(X, y)`` batches.

One pass over the stream measures clean and robust accuracy: each batch is checked
(finite, inside the declared domain, shaped like the first), fingerprinted
incrementally (:class:`~pytest_mlaudit.validation.Fingerprint`), attacked with
:func:`.audit.attack_outcomes`, and reduced to four counts (robust and clean, broken by
the attack, fixed by it, neither). Memory is one batch plus the first
``sanity_samples`` correctly classified samples, which the sanity checks run on once
the stream ends: an ImageNet-size test set or a table of any length is audited at the
memory of its batch. Batches may be numpy arrays, torch tensors or pandas DataFrames
(chunks of a table).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import validation
from ..adapters import as_classifier
from ..authoring import Audit
from .audit import Audited, attack_generator, attack_outcomes, check_domain_shape, run_checks, summarize_counts
from .protocol import describe_attack


def is_stream(X: Any, y: Any) -> bool:
    """Whether ``X`` is a stream of ``(X, y)`` batches: no ``y`` given, and an iterable that is not an array."""
    if y is not None or hasattr(X, "shape") or hasattr(X, "__array__"):
        return False
    return hasattr(X, "__iter__") and not isinstance(X, (str, bytes, dict, list, tuple))


def measure_stream(a: Audit, model, batches, attack, clip, batch_size, device, normalization, sanity_samples,
                   strict):
    """Measure one attack over a stream of batches; the four metrics recorded into ``a``, as :func:`.audit._measure`."""
    import torch

    attack_params = describe_attack(attack)
    low, high = validation.domain(clip)
    batch_size = validation.positive_int(batch_size, "batch_size")
    sanity_samples = validation.positive_int(sanity_samples, "sanity_samples", allow_zero=True)
    strict = validation.flag(strict, "strict")
    classifier = as_classifier(model, device=device, normalization=normalization)
    dev = classifier.device
    clip_tensors = (torch.as_tensor(low, dtype=torch.float32, device=dev),
                    torch.as_tensor(high, dtype=torch.float32, device=dev))
    generator = attack_generator(a)
    fingerprint = validation.Fingerprint()
    both = broken = fixed = neither = 0
    kept: list[tuple[Any, Any, Any]] = []  # the first correctly classified samples, for the sanity checks
    n_kept, n_batches, sample_shape = 0, 0, None
    for number, batch in enumerate(batches):
        X, y = _batch(batch, number)
        if sample_shape is None:
            sample_shape = X.shape[1:]
            check_domain_shape(low, high, X)
        elif X.shape[1:] != sample_shape:
            raise ValueError(f"batch {number} has samples of shape {X.shape[1:]}, the first batch {sample_shape}")
        validation.check_in_domain(X, low, high, name=f"batch {number} of X")
        fingerprint.update(X, y)
        audited = Audited(X, y, classifier, clip_tensors, batch_size, (low, high))
        clean, (robust,) = attack_outcomes(audited, [attack], generator, f"{a.name}, batch {number}")
        both += int(np.count_nonzero(clean & robust))
        broken += int(np.count_nonzero(clean & ~robust))
        fixed += int(np.count_nonzero(~clean & robust))
        neither += int(np.count_nonzero(~clean & ~robust))
        if n_kept < sanity_samples:
            chosen = np.flatnonzero(clean)[:sanity_samples - n_kept]
            kept.append((X[chosen].copy(), y[chosen].copy(), robust[chosen].copy()))
            n_kept += len(chosen)
        n_batches += 1
    if n_batches == 0:
        raise ValueError("X is an empty stream: it gave no (X, y) batch")

    a.describe_model(classifier.describe())
    a.data.update(fingerprint.describe())
    a.params.update({
        **attack_params,
        "clip": [_jsonable(low), _jsonable(high)],
        "batch_size": batch_size,
        "device": str(dev),
        "n_samples": fingerprint.n,
        "input_shape": list(sample_shape),
        "input": f"stream of {n_batches} batches",
        "sanity_samples": sanity_samples,
        "strict": bool(strict),
    })
    checks: tuple = ()
    if kept:
        sample = Audited(np.concatenate([x for x, _, _ in kept]), np.concatenate([y for _, y, _ in kept]),
                         classifier, clip_tensors, batch_size, (low, high))
        robust_sample = np.concatenate([r for _, _, r in kept])
        checks = run_checks(a, sample, attack, np.ones(len(robust_sample), dtype=bool), robust_sample,
                            sanity_samples, strict)
    result = summarize_counts(both, broken, fixed, neither, a.settings.confidence, attack_params, checks)
    for name in ("clean_accuracy", "robust_accuracy", "attack_success_rate", "accuracy_drop"):
        a.metric(name, getattr(result, name))
    return result


def _batch(batch: Any, number: int) -> tuple[Any, Any]:
    """One ``(X, y)`` batch as checked numpy arrays, errors naming the batch."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"batch {number} of X must be a pair (X, y) (a DataLoader of inputs and labels), "
                        f"got {type(batch).__name__}")
    X = validation.features(batch[0], f"batch {number} of X")
    y = validation.labels(batch[1], X.shape[0], f"batch {number} of y", x_name=f"batch {number} of X")
    return X, y


def _jsonable(bound) -> float | list:
    return float(bound) if bound.ndim == 0 else bound.tolist()
