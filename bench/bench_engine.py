"""Engine benchmark: each figure is printed as a ratio against a baseline measured in the same run.

(a) one decision (features + scores + propensity + Choice) vs one raw MABWiser ``predict``   target <= 2x
(b) batch decisions/s, chunks of 1,000, vs raw MABWiser ``predict`` on the same 1,000 rows  target >= 20,000/s
(c) learner outcomes/s applied (submit + copy + partial_fit + publish) vs raw ``partial_fit`` target >= 10,000/s

Run: python bench/bench_engine.py [--kind LIN_TS]
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mabwiser.mab import MAB, LearningPolicy  # noqa: E402

from engine.features import FeatureEncoder  # noqa: E402
from engine.learner import Learner, OutcomeRecord  # noqa: E402
from engine.model import OfferModel  # noqa: E402
from engine.policies import PolicyConfig, PolicyKind  # noqa: E402
from engine.scenarios import FEATURES, scenario  # noqa: E402


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """Fastest wall time of ``repeats`` runs (the least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def raw_policy(kind: PolicyKind) -> object:
    return {
        PolicyKind.LIN_TS: LearningPolicy.LinTS(alpha=1.0),
        PolicyKind.LIN_UCB: LearningPolicy.LinUCB(alpha=1.0),
        PolicyKind.EPSILON_GREEDY: LearningPolicy.EpsilonGreedy(epsilon=0.1),
        PolicyKind.THOMPSON: LearningPolicy.ThompsonSampling(),
        PolicyKind.SOFTMAX: LearningPolicy.Softmax(tau=1.0),
        PolicyKind.RANDOM: LearningPolicy.Random(),
    }[kind]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="LIN_TS", choices=[k.value for k in PolicyKind])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=31, help="alternating rounds for the per-decision figure")
    args = parser.parse_args()
    command = "python bench/bench_engine.py " + shlex.join(sys.argv[1:])
    kind = PolicyKind(args.kind)

    rng = np.random.default_rng(args.seed)
    world = scenario("heterogeneous")
    history = world.draw(20_000, rng)
    encoder = FeatureEncoder.fit(FEATURES, history.rows[:2000])
    features = encoder.encode_many(history.rows)
    levers = np.array(world.levers)[rng.integers(0, len(world.levers), len(history.rows))]
    rewards = (rng.random(len(levers)) < 0.2).astype(float)

    model = OfferModel(PolicyConfig(kind, seed=args.seed), encoder, world.levers)
    model.learn(levers, rewards, features)
    raw = MAB(list(world.levers), raw_policy(kind), seed=args.seed)
    raw.fit(levers, rewards, features if kind.contextual else None)
    raw_context = (lambda x: x) if kind.contextual else (lambda x: None if len(x) == 1 else x)

    print(f"engine benchmark  policy={kind.value}  d={encoder.dimension}  levers={len(world.levers)}  "
          f"propensity_samples={model.config.propensity_samples}")

    # (a) a single decision, end to end, against one raw MABWiser predict on the same context. Rounds
    # alternate the two, so a burst of load from other processes hits both; the figures are the
    # medians of the per-round ratios, in wall time and in this thread's CPU time (which leaves out
    # the time the process waits for a core on a busy machine).
    row, x = history.rows[:1], features[:1]
    generator = np.random.default_rng(1)
    singles = 200
    wall: dict[str, list[float]] = {"raw": [], "engine": []}
    cpu: dict[str, list[float]] = {"raw": [], "engine": []}
    work = {
        "raw": lambda: [raw.predict(raw_context(x)) for _ in range(singles)],
        "engine": lambda: [model.decide(row, rng=generator) for _ in range(singles)],
    }
    for _ in range(args.rounds):
        for side, run_side in work.items():
            started, started_cpu = time.perf_counter(), time.thread_time()
            run_side()
            wall[side].append((time.perf_counter() - started) / singles)
            cpu[side].append((time.thread_time() - started_cpu) / singles)
    wall_ratio = np.median(np.divide(wall["engine"], wall["raw"]))
    cpu_ratio = np.median(np.divide(cpu["engine"], cpu["raw"]))
    iqr = np.percentile(np.divide(cpu["engine"], cpu["raw"]), [25, 75])
    print(f"(a) per decision: engine {np.median(cpu['engine']) * 1e6:7.1f} us vs raw MABWiser predict "
          f"{np.median(cpu['raw']) * 1e6:7.1f} us CPU (medians of {args.rounds} alternating rounds) -> "
          f"{cpu_ratio:.2f}x CPU (IQR {iqr[0]:.2f}-{iqr[1]:.2f}), {wall_ratio:.2f}x wall  (target <= 2x)   [{command}]")

    # (b) batch throughput, chunks of 1,000 contexts, rows in -> Choice records out
    chunk = history.rows[:1000]
    raw_batch = best_of(5, lambda: raw.predict(raw_context(features[:1000])))
    engine_batch = best_of(5, lambda: model.decide(chunk, rng=generator, chunk_size=1000))
    print(f"(b) batch of 1,000: engine {1000 / engine_batch:10,.0f} decisions/s vs raw MABWiser predict "
          f"{1000 / raw_batch:10,.0f}/s -> {engine_batch / raw_batch:.2f}x the raw time  (target >= 20,000/s)   [{command}]")

    # (c) learner: outcomes buffered, applied in micro-batches on a copy, published whole
    outcomes = [
        OutcomeRecord(i + 1, str(lever), float(reward), tuple(f))
        for i, (lever, reward, f) in enumerate(zip(levers, rewards, features.tolist()))
    ]

    def learn_all() -> None:
        learner = Learner(OfferModel(PolicyConfig(kind, seed=args.seed), encoder, world.levers), batch_size=1000)
        for start in range(0, len(outcomes), 5000):
            learner.submit(outcomes[start : start + 5000])
            learner.flush()

    def raw_learn_all() -> None:
        bandit = MAB(list(world.levers), raw_policy(kind), seed=args.seed)
        for start in range(0, len(outcomes), 1000):
            stop = start + 1000
            bandit.partial_fit(levers[start:stop], rewards[start:stop], features[start:stop] if kind.contextual else None)

    engine_learn = best_of(3, learn_all)
    raw_learn = best_of(3, raw_learn_all)
    n = len(outcomes)
    print(f"(c) learner: {n / engine_learn:10,.0f} outcomes/s applied vs raw MABWiser partial_fit "
          f"{n / raw_learn:10,.0f}/s -> {engine_learn / raw_learn:.2f}x the raw time  (target >= 10,000/s)   [{command}]")


if __name__ == "__main__":
    main()
