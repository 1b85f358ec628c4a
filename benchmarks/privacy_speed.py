"""Speed of dp_utility: 20 seeds x 8 epsilons of the paper's DP logistic regression on Iris.

Target: within 5 s on 2 cores. Compared in the same run with the loop a user would
write by hand (diffprivlib fits with the default BLAS threads), the same loop with one
BLAS thread (what dp_utility does), and the same fits spread over 2 joblib worker
processes (the alternative dp_utility does not use). Run: ``python benchmarks/privacy_speed.py``.
"""

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


def timed(label, function, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<52} {best:6.2f} s")
    return best


def main():
    import pytest_mlaudit as mla
    from reference_models.iris_privacy import CURVE_EPSILONS, dp_model, load_iris_setosa, nonprivate_model

    iris = load_iris_setosa()
    seeds = list(range(20))
    args = (dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test)
    mla.dp_utility(*args, epsilons=[1.0], seeds=2)  # warm imports
    print(f"{len(seeds)} seeds x {len(CURVE_EPSILONS)} epsilons = {len(seeds) * len(CURVE_EPSILONS)} DP fits on Iris")
    naive = timed("naive loop (default BLAS threads)", lambda: naive_loop(iris, CURVE_EPSILONS, seeds))
    one_thread = timed("naive loop, one BLAS thread", lambda: one_thread_loop(iris, CURVE_EPSILONS, seeds))
    parallel = timed("naive fits over 2 joblib processes", lambda: joblib_loop(iris, CURVE_EPSILONS, seeds))
    audit = timed("dp_utility (checks, accounting, intervals, baseline)",
                  lambda: mla.dp_utility(*args, epsilons=CURVE_EPSILONS, seeds=20, baseline=nonprivate_model()))
    print(f"dp_utility vs naive loop: {naive / audit:.1f}x faster; vs one-thread loop: {audit / one_thread:.2f}x the "
          f"time; 2 joblib processes vs one-thread loop: {parallel / one_thread:.2f}x the time")
    print(f"target 5 s: {'met' if audit <= 5.0 else 'MISSED'} ({audit:.2f} s)")


if __name__ == "__main__":
    main()
