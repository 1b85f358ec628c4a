"""Privacy audits: DP accuracy over seeds and epsilons, privacy budgets, membership inference."""
