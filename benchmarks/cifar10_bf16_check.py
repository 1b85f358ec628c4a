"""Does bf16 autocast + channels-last training follow the float32 loss curve? (CIFAR-10, paper CNN)

    python benchmarks/cifar10_bf16_check.py /tmp/cifar10 [STEPS] [REPEATS]

Trains the paper's CNN for STEPS batches (default 100) from the same seed and the same
batch order, once in float32 and once as ``reference_models.cifar10_paper`` trains
(bf16 autocast, channels-last), and prints both running mean losses and the time per
step. The reproduction's evaluation is float32 either way; this checks only that the
cheaper training learns the same. Both modes first train a few steps as a warm-up;
then they run interleaved (float32, bf16, float32, bf16 ...) REPEATS times (default 2),
one thread each, and the time per step is the median.
"""

import statistics

import sys
import time

import torch

from reference_models.cifar10_paper import untrained_model
from reference_models.datasets import load_cifar10
from reference_models.training import Speed, TrainingConfig, train_classifier


def run(split, steps, speed):
    lines = []
    n = steps * 64
    model = untrained_model(0)
    start = time.perf_counter()
    train_classifier(model, split.X_train[:n], split.y_train[:n], TrainingConfig(epochs=1, batch_size=64),
                     progress=lines.append, threads=1, speed=speed)
    seconds = (time.perf_counter() - start) / steps
    losses = [float(line.split("mean loss ")[1].split(",")[0]) for line in lines if "mean loss" in line]
    return losses, seconds


def main():
    root = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    split = load_cifar10(root, n_test=0)
    every = max(steps // 5, 1)
    modes = {"float32": Speed(log_every=every), "bf16": Speed(bf16=True, channels_last=True, log_every=every)}
    for speed in modes.values():
        run(split, 5, speed)  # warm-up
    losses, seconds = {}, {name: [] for name in modes}
    for _ in range(repeats):
        for name, speed in modes.items():
            losses[name], per_step = run(split, steps, speed)
            seconds[name].append(per_step)
    fp32, bf16 = losses["float32"], losses["bf16"]
    fp32_s, bf16_s = statistics.median(seconds["float32"]), statistics.median(seconds["bf16"])
    print(f"running mean loss every {every} steps (seed 0, same batches, 1 thread)")
    print("step   float32   bf16+channels_last   difference")
    for i, (a, b) in enumerate(zip(fp32, bf16)):
        print(f"{(i + 1) * every:4d}   {a:7.4f}   {b:7.4f}              {b - a:+.4f}")
    print(f"median time per step over {repeats} interleaved runs: float32 {fp32_s:.3f} s, bf16+channels_last {bf16_s:.3f} s, ratio {fp32_s / bf16_s:.2f}x")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
