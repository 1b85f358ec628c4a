"""A robustness audit of a stream of CIFAR-shaped images made on the fly: time per 10k images, flat memory.

The images (float32, 3x32x32, uniform in [0, 1]) are generated batch by batch by an
iterable, so no data set exists in memory; a model is attacked with FGSM through
``mla.robustness(model, stream, attack=..., clip=(0, 1))``. The stream records the
time and the process's peak RSS at checkpoints (every 100,000 images by default): the
peak must stay flat once the first batches have warmed the allocator.

The model is what the stream's cost is not about: ``tiny-conv`` (the default: one
3x3 convolution with 8 channels, stride 2, pooled, then a linear layer) or ``linear``
(one linear layer on the flattened image) keep 1M images within a quarter of an hour
on one core; ``cnn`` (two convolutions, 16 and 32 channels) is about 50 s per 10k.

    python benchmarks/streaming.py                                  # 1,000,000 images, tiny-conv
    python benchmarks/streaming.py --images 50000 --model cnn       # a short run with the larger model
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

import pytest_mlaudit as mla

FLAT_MB = 20.0  # peak RSS growth after the first checkpoint still counted as flat (allocator noise)


def make_model(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    if name == "linear":
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 10))
    if name == "tiny-conv":
        return torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(4),
            torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 10))
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(4),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(32, 10))


class SyntheticImages:
    """``(X, y)`` batches of random CIFAR-shaped images, made when asked for; records time and memory as it goes."""

    def __init__(self, images: int, batch: int, every: int):
        self.images, self.batch, self.every = images, batch, every
        self.marks: list[tuple[int, float, float]] = []  # (images so far, seconds, peak RSS MB)

    def __iter__(self):
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        self.marks.append((0, 0.0, _peak_mb()))
        for first in range(0, self.images, self.batch):
            if first and first % self.every < self.batch:
                self.marks.append((first, time.perf_counter() - start, _peak_mb()))
            size = min(self.batch, self.images - first)
            yield rng.random((size, 3, 32, 32), dtype=np.float32), rng.integers(0, 10, size)
        self.marks.append((self.images, time.perf_counter() - start, _peak_mb()))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--model", choices=("tiny-conv", "linear", "cnn"), default="tiny-conv")
    parser.add_argument("--every", type=int, default=100_000, help="images between checkpoints")
    args = parser.parse_args()
    model = make_model(args.model)
    stream = SyntheticImages(args.images, args.batch, args.every)
    start = time.perf_counter()
    result = mla.robustness(model, stream, attack=mla.FGSM(eps=8 / 255), clip=(0.0, 1.0), batch_size=args.batch)
    seconds = time.perf_counter() - start
    print(f"FGSM audit of a stream of {args.images:,} CIFAR-shaped images, model {args.model} (batch {args.batch}, "
          f"torch threads {torch.get_num_threads()}): {seconds:.1f} s, {seconds / args.images * 10_000:.2f} s per 10k images")
    print(f"  robust accuracy {result.robust_accuracy} (random labels: near chance)")
    print(f"  the images would hold {args.images * 3 * 32 * 32 * 4 / 2**30:.2f} GB as one array")
    print(f"  {'images':>11}  {'seconds':>8}  {'s per 10k since last':>20}  {'peak RSS MB':>11}")
    previous = None
    for images, elapsed, peak in stream.marks:
        rate = "" if previous is None or images == previous[0] else \
            f"{(elapsed - previous[1]) / (images - previous[0]) * 10_000:.2f}"
        print(f"  {images:>11,}  {elapsed:8.1f}  {rate:>20}  {peak:11.1f}")
        previous = (images, elapsed)
    first = stream.marks[1] if len(stream.marks) > 2 else stream.marks[0]
    growth = stream.marks[-1][2] - first[2]
    verdict = "flat" if growth <= FLAT_MB else "NOT flat"
    print(f"  peak RSS growth from {first[0]:,} images to the end of the stream: {growth:+.1f} MB: {verdict} "
          f"(flat means at most {FLAT_MB:.0f} MB)")


if __name__ == "__main__":
    main()
