"""Off-policy estimators against the simulator's truth: interval coverage and spread over many seeds.

Uses the logging campaign of tests/engine/test_engine_evaluation.py (scenario "retention", a
context-dependent non-uniform logging policy, 1,500 logged rows per trial) and prints, per candidate
policy and estimator, how often the 95% interval covered the true value, the bias and the standard
deviation of the estimates, and the mean interval half-width against 1.96 x that standard deviation.
Also prints the time per evaluation against a plain IPS mean on the same rows.

Run: python bench/bench_evaluation.py [--trials 300] [--resamples 200]
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.evaluation import OffPolicyEvaluator  # noqa: E402
from tests.engine.test_engine_evaluation import CANDIDATES, logged_campaign, true_values  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1500)
    args = parser.parse_args()
    print("$ python bench/bench_evaluation.py " + shlex.join(sys.argv[1:]))
    truth = true_values()
    values: dict[tuple[str, str], list[float]] = {}
    covered: dict[tuple[str, str], int] = {}
    widths: dict[tuple[str, str], list[float]] = {}
    evaluate_seconds = baseline_seconds = 0.0
    for seed in range(args.trials):
        log, rows = logged_campaign(args.rows, np.random.default_rng(seed))
        evaluator = OffPolicyEvaluator(resamples=args.resamples, seed=seed)
        for name, make in CANDIDATES.items():
            target = make(rows)
            started = time.perf_counter()
            found = evaluator.evaluate(log, target)
            evaluate_seconds += time.perf_counter() - started
            started = time.perf_counter()
            (target[np.arange(log.size), log.actions] / log.propensities * log.rewards).mean()
            baseline_seconds += time.perf_counter() - started
            for e in found:
                key = (name, e.estimator)
                values.setdefault(key, []).append(e.value)
                widths.setdefault(key, []).append((e.high - e.low) / 2)
                covered[key] = covered.get(key, 0) + int(e.low <= truth[name] <= e.high)
    print(f"{args.trials} trials x {args.rows} logged rows, {args.resamples} bootstrap resamples")
    print(f"{'candidate':<20}{'estimator':<10}{'truth':>8}{'coverage':>10}{'bias':>9}{'sd':>8}{'half-width/1.96sd':>19}")
    for (name, estimator), hits in covered.items():
        v = np.array(values[(name, estimator)])
        sd = float(v.std())
        ratio = float(np.mean(widths[(name, estimator)])) / (1.96 * sd)
        print(f"{name:<20}{estimator:<10}{truth[name]:>8.4f}{hits / args.trials:>10.1%}{v.mean() - truth[name]:>+9.4f}{sd:>8.4f}{ratio:>19.2f}")
    for name in CANDIDATES:
        ips, snips = np.var(values[(name, "IPS")]), np.var(values[(name, "SNIPS")])
        print(f"{name}: var(SNIPS) / var(IPS) = {snips / ips:.2f}")
    print(f"one evaluation (3 estimators with intervals) = {evaluate_seconds / baseline_seconds:,.0f}x a plain IPS mean "
          f"({evaluate_seconds / (2 * args.trials) * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
