"""Speed of dp_utility: 20 seeds x 8 epsilons of the paper's DP logistic regression on Iris.

Target: within 5 s on 2 cores. The headline ratio is at equal work and equal threads:
dp_utility against the loop a user would write by hand (the same fits, nothing else),
both under one BLAS thread (threadpoolctl; dp_utility fits with one thread). Printed
apart, not as ratios against the audit: the hand loop with the default BLAS threads,
and the same fits spread over 2 joblib worker processes (twice the cores). Every
contender runs once as a warm-up, then they run interleaved and the medians are
compared. Run: ``python benchmarks/privacy_speed.py [--repeats 5]``.
"""

import argparse
import statistics
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)


def fit_and_score(iris, epsilon, seed):
    """What the paper's code does per model: fit, score, nothing else."""
    from diffprivlib import BudgetAccountant

    from reference_models.iris_privacy import dp_model

    with BudgetAccountant():
        model = dp_model(epsilon, seed).fit(iris.X_train, iris.y_train)
    return model.score(iris.X_test, iris.y_test)


def naive_loop(iris, epsilons, seeds):
    return [fit_and_score(iris, epsilon, seed) for epsilon in epsilons for seed in seeds]


def one_thread_loop(iris, epsilons, seeds):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return naive_loop(iris, epsilons, seeds)


def joblib_loop(iris, epsilons, seeds):
    from joblib import Parallel, delayed

    return Parallel(n_jobs=2)(delayed(fit_and_score)(iris, epsilon, seed) for epsilon in epsilons for seed in seeds)


def one_thread(function):
    from threadpoolctl import threadpool_limits

    def run():
        with threadpool_limits(limits=1):
            return function()

    return run


def interleaved(contenders: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each contender, run A B C A B C ... after one warm-up run each."""
    for run in contenders.values():
        run()
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def main():
    import pytest_mlaudit as mla
    from reference_models.iris_privacy import CURVE_EPSILONS, dp_model, load_iris_setosa, nonprivate_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved timed runs per contender (medians)")
    repeats = parser.parse_args().repeats
    iris = load_iris_setosa()
    seeds = list(range(20))
    args = (dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test)
    print(f"{len(seeds)} seeds x {len(CURVE_EPSILONS)} epsilons = {len(seeds) * len(CURVE_EPSILONS)} DP fits on Iris; "
          f"medians of {repeats} interleaved runs after a warm-up")
    median = interleaved({
        "loop": one_thread(lambda: naive_loop(iris, CURVE_EPSILONS, seeds)),
        "audit": one_thread(lambda: mla.dp_utility(*args, epsilons=CURVE_EPSILONS, seeds=20,
                                                   baseline=nonprivate_model())),
        "loop, default threads": lambda: naive_loop(iris, CURVE_EPSILONS, seeds),
        "joblib": lambda: joblib_loop(iris, CURVE_EPSILONS, seeds),
    }, repeats)
    print(f"{'hand loop, one BLAS thread':<56} {median['loop']:6.2f} s")
    print(f"{'dp_utility, one BLAS thread (checks, accounting, intervals)':<56} {median['audit']:6.2f} s   "
          f"{median['audit'] / median['loop']:.2f}x the hand loop at equal threads")
    print(f"{'hand loop, default BLAS threads (not a ratio)':<56} {median['loop, default threads']:6.2f} s")
    print(f"{'hand loop over 2 joblib processes (2 cores, not a ratio)':<56} {median['joblib']:6.2f} s")
    print(f"target 5 s: {'met' if median['audit'] <= 5.0 else 'MISSED'} ({median['audit']:.2f} s)")


if __name__ == "__main__":
    main()
