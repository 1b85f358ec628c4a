"""A robustness audit of a stream of CIFAR-shaped images made on the fly: time per 10k images, flat memory.

The images (float32, 3x32x32, uniform in [0, 1]) are generated batch by batch by an
iterable, so no data set exists in memory; a small CNN is attacked with FGSM through
``mla.robustness(model, stream, attack=..., clip=(0, 1))``. The stream reports the
process's peak RSS each time 10% of the images have gone by: it must stay flat.

    python benchmarks/streaming.py                  # 1,000,000 images
    python benchmarks/streaming.py --images 50000   # a short run
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

import pytest_mlaudit as mla


class SyntheticImages:
    """``(X, y)`` batches of random CIFAR-shaped images, made when asked for; records memory as it goes."""

    def __init__(self, images: int, batch: int):
        self.images, self.batch = images, batch
        self.marks: list[tuple[int, float, float]] = []  # (images so far, seconds, peak RSS MB)

    def __iter__(self):
        rng = np.random.default_rng(0)
        step = max(self.images // 10, self.batch)
        start = time.perf_counter()
        for first in range(0, self.images, self.batch):
            size = min(self.batch, self.images - first)
            if first % step < self.batch:
                self.marks.append((first, time.perf_counter() - start, _peak_mb()))
            yield rng.random((size, 3, 32, 32), dtype=np.float32), rng.integers(0, 10, size)
        self.marks.append((self.images, time.perf_counter() - start, _peak_mb()))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(4),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(32, 10))
    stream = SyntheticImages(args.images, args.batch)
    start = time.perf_counter()
    result = mla.robustness(model, stream, attack=mla.FGSM(eps=8 / 255), clip=(0.0, 1.0), batch_size=args.batch)
    seconds = time.perf_counter() - start
    print(f"FGSM audit of a stream of {args.images:,} CIFAR-shaped images (batch {args.batch}, "
          f"torch threads {torch.get_num_threads()}): {seconds:.1f} s, {seconds / args.images * 10_000:.2f} s per 10k images")
    print(f"  robust accuracy {result.robust_accuracy} (random labels: near chance)")
    print(f"  the images would hold {args.images * 3 * 32 * 32 * 4 / 2**30:.2f} GB as one array")
    for images, elapsed, peak in stream.marks:
        print(f"  after {images:>9,} images  {elapsed:7.1f} s  peak RSS {peak:7.1f} MB")
    first_peak = stream.marks[1][2] if len(stream.marks) > 1 else stream.marks[0][2]
    print(f"  peak RSS growth from 10% of the stream to its end: {stream.marks[-1][2] - first_peak:+.1f} MB")


if __name__ == "__main__":
    main()
