"""LiRA against the loss-threshold attack on the studies' models: TPR at 0.1% and 1% FPR, AUC.

Too slow for the main job (it trains 16 shadow FraudNets with the study's recipe), so it
is a command:

    python benchmarks/lira_studies.py [--seed 0] [--shadows 16]

Models: FraudNet (standard, the study's recipe, 25 epochs of Adam) and FraudNet trained
by DP-SGD at epsilon 1 (audits/test_fraudnet_privacy.py's factory) on the generated
transactions (4,200 members, 1,800 holdout, plus 2,400 more generated transactions as
the shadow population, so that each shadow trains on 4,200 rows like the target); the
paper's non-private logistic regression on Iris (105 members, 45 holdout: no population
exists, so each shadow trains on 75 rows and the audit says so).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "audits"))

import torch  # noqa: E402

import pytest_mlaudit as mla  # noqa: E402


def fraudnet_models(seed):
    from reference_models.fraudnet import (FRAUDNET_TRAINING, FraudNet, generate_transactions, standardized_domain,
                                           trained_fraudnet, transactions_split)
    from reference_models.training import train_classifier
    from test_fraudnet_privacy import dp_fraudnet

    split = transactions_split(seed=seed)
    X_extra, y_extra = generate_transactions(2400, seed=seed + 1000)

    def fraudnet(X, y, shadow_seed):
        config = replace(FRAUDNET_TRAINING, seed=shadow_seed)
        torch.manual_seed(shadow_seed)
        model = FraudNet.for_data(X)
        network, X_std, _ = standardized_domain(model, X, split.bounds)
        train_classifier(network, X_std, y, config)
        return model.eval()

    def dp(X, y, shadow_seed):
        return dp_fraudnet(1.0, shadow_seed).fit(X, y)

    yield "FraudNet", trained_fraudnet(split, seed), fraudnet, split, (X_extra, y_extra)
    yield "FraudNet, DP-SGD epsilon 1", dp(split.X_train, split.y_train, seed), dp, split, (X_extra, y_extra)


def iris_model(seed):
    from reference_models.iris_privacy import load_iris_setosa, nonprivate_model

    split = load_iris_setosa()
    return "Iris logistic regression (non-private)", nonprivate_model().fit(split.X_train, split.y_train), \
        (lambda X, y, s: nonprivate_model().fit(X, y)), split, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shadows", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = [iris_model(args.seed), *fraudnet_models(args.seed)]
    print("| model | attack | TPR at 0.1% FPR | TPR at 1% FPR | AUC |")
    print("|---|---|---|---|---|")
    for name, model, factory, split, population in cases:
        start = time.perf_counter()
        with mla.settings(seed=args.seed):
            result = mla.membership_inference(model, split.X_train, split.y_train, split.X_test, split.y_test,
                                              attack="lira", shadow_factory=factory, population=population,
                                              n_shadow=args.shadows)
        for attack, figures in (("LiRA", result), ("loss", result.loss_attack)):
            print(f"| {name} | {attack} | {figures.tpr_at_01pct_fpr} | {figures.tpr_at_1pct_fpr} | {figures.auc} |")
        suspect = [c.detail for c in result.checks if not c.passed]
        print(f"<!-- {name}: {time.perf_counter() - start:.0f} s; suspect: {suspect or 'no'} -->", flush=True)


if __name__ == "__main__":
    main()
