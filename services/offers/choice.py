"""One chunk of decisions: guard, control group, policy arms, the bandit (with arbitration), log rows.

For each customer, in this order:

1. the control group: a member (stable hash per customer, decision point and period) is served the
   point's NO_ACTION lever, logged with ``holdout = true`` and propensity ``controlShare``;
2. the guard: lever eligibility rules and tier caps remove levers; a customer left with none is
   refused (``NoEligibleLever`` with the reasons);
3. the serving arm (stable hash per customer) chooses among the remaining levers with one engine
   call per arm and chunk, with a per-row candidate mask; under the NET_VALUE objective the engine
   ranks its sampled acceptance estimates by expected net value, and the propensity counts that;
4. a shadow arm, if any, scores the same rows and its choice is logged beside the served one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from engine.model import DecisionBatch
from services.offers import assignment, features
from services.offers.lever_guard import LeverGuard
from services.offers.registry import Served
from services.offers.values import DecisionPoint, ExcludedLever


@dataclass(frozen=True, slots=True)
class Chunk:
    """Log rows of the customers decided (input order) and the refused ones by input position."""

    rows: list[dict[str, Any]]
    refused: list[tuple[int, tuple[ExcludedLever, ...]]]


def customer_values(facts: Sequence[Any], contexts: Sequence[Mapping[str, Any]], source: str | None) -> np.ndarray:
    """The value at stake per customer: ``source`` (attributes.<name> or context.<name>) when it is
    a number, else the average order value (purchases total / count), else 0."""
    out = np.zeros(len(facts))
    key = source.split(".", 1)[1] if source else None
    for i, (fact, context) in enumerate(zip(facts, contexts)):
        value: Any = None
        if key is not None:
            value = (fact.attributes or {}).get(key) if source.startswith("attributes.") else context.get(key)  # type: ignore[union-attr]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            count = fact.purchase_count or 0
            value = float(fact.monetary_total or 0) / count if count else 0.0
        out[i] = float(value)
    return out


def choose(
    arms: Mapping[str, Served],
    guard: LeverGuard,
    facts: Sequence[Any],
    contexts: Sequence[Mapping[str, Any]],
    base: Sequence[str],
    now: datetime,
    *,
    request_id: str | None,
    activate: bool,
) -> Chunk:
    """Decide for ``facts``; ``contexts`` are the raw request contexts, ``base`` the levers every
    customer may get before rules (active, configured, among the requested candidates)."""
    point: DecisionPoint = next(iter(arms.values())).point
    rails = point.guardrails
    champion = arms[rails.champion].learner.model  # one model reference per arm for the whole call
    models = {name: served.learner.model for name, served in arms.items()}
    names = point.features
    columns = features.feature_columns(facts, contexts, names, now)
    n = len(facts)
    encoded = champion.encoder.encode_columns(names, columns, n)
    screen = guard.screen(base, facts, contexts, now)
    ids = features.fact_column(facts, "id")
    control = assignment.in_control(ids, point, now) if guard.control_lever else np.zeros(n, dtype=bool)
    arm_of = np.array(assignment.serving_arm(ids, point), dtype=object)
    eligible = np.stack([screen.allowed[lever] for lever in base], axis=1) if base else np.zeros((n, 0), dtype=bool)
    refused_rows = ~control & ~eligible.any(axis=1)
    values = customer_values(facts, contexts, rails.value_attribute) if rails.objective == "NET_VALUE" else None
    costs = guard.costs if values is not None else None

    lever_of: list[str | None] = [None] * n
    propensity = np.zeros(n)
    expected = np.zeros(n)
    explained: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    version = np.zeros(n, dtype=np.int64)
    for name in dict.fromkeys(arm_of.tolist()):
        served, model = arms[name], models[name]
        rows = np.flatnonzero((arm_of == name) & ~refused_rows)
        if rows.size == 0:
            continue
        index = {lever: j for j, lever in enumerate(model.levers)}
        version[rows] = model.outcomes_applied
        served_rows = np.flatnonzero(~control[rows])
        everyone = served_rows.size == rows.size
        # Without control rows the engine's own estimates are those of exactly these rows.
        estimates = None if everyone else model.policy.point_estimates(encoded[rows])
        if served_rows.size:
            picked = rows[served_rows]
            mask = _mask(model.levers, base, eligible[picked])
            batch = model.decide_features(encoded[picked], mask, served.rng, None if values is None else values[picked], costs)
            if estimates is None:
                estimates = batch.estimates if batch.estimates is not None else model.policy.point_estimates(encoded[rows])
            _record(batch, served_rows, picked, estimates, lever_of, propensity, expected, explained)
        control_lever = guard.control_lever
        for local in np.flatnonzero(control[rows]).tolist():
            i = int(rows[local])
            lever_of[i], propensity[i] = control_lever, rails.control_share
            j = index.get(control_lever or "")
            expected[i] = float(estimates[local, j]) if j is not None else 0.0
            explained[i] = [{"lever": control_lever, "estimatedReward": expected[i], "score": expected[i]}]

    shadow = _shadow(arms, models, point, encoded, base, eligible, ~control & ~refused_rows, values, costs)
    window = timedelta(hours=point.reward_window_hours)
    activated, ends = (now, now + window) if activate else (None, None)
    out: list[dict[str, Any]] = []
    # plain lists: indexing numpy arrays one element at a time is what made this loop slow
    refused_list, control_list, arm_list = refused_rows.tolist(), control.tolist(), arm_of.tolist()
    vectors = encoded.tolist()
    propensities, rewards, versions = propensity.tolist(), expected.tolist(), version.tolist()
    excluded = screen.excluded
    # Rows with the same eligible levers share one candidate list (nothing writes into it).
    control_candidates = [guard.control_lever]
    by_pattern: dict[int, list[str]] = {}
    patterns = (eligible @ (1 << np.arange(len(base), dtype=np.int64))).tolist() if base else [0] * n
    values_of = list(zip(*columns)) if columns else [()] * n
    externals = features.fact_column(facts, "external_id")
    point_id, version_of_config, no_shadow = point.id, point.version, (None, None, None)
    copies: dict[int, dict[str, Any]] = {}  # one copy per request context (a batch shares one)

    def context_of(context: Mapping[str, Any]) -> dict[str, Any]:
        copy = copies.get(id(context))
        if copy is None:
            copy = copies[id(context)] = dict(context)
        return copy

    for i in range(n):
        if refused_list[i]:
            continue
        if control_list[i]:
            candidates = control_candidates
        elif (candidates := by_pattern.get(patterns[i])) is None:
            candidates = by_pattern[patterns[i]] = [lever for lever, ok in zip(base, eligible[i].tolist()) if ok]
        shadow_arm, shadow_lever, shadow_reward = shadow.get(i, no_shadow) if shadow else no_shadow
        out.append(
            {
                "_external_id": externals[i],
                "decision_point_id": point_id,
                "customer_id": ids[i],
                "request_id": request_id,
                "lever_key": lever_of[i],
                "propensity": propensities[i],
                "expected_reward": rewards[i],
                "candidates": candidates,
                "features": vectors[i],
                "context": context_of(contexts[i]),
                "explanation": {
                    "estimates": explained[i],
                    # pairs, not an object: JSONB does not keep key order
                    "inputs": [[name, value] for name, value in zip(names, values_of[i])],
                    "excluded": [{"lever": e.lever, "rule": e.rule} for e in excluded[i]] if excluded[i] else [],
                },
                "config_version": version_of_config,
                "model_version": versions[i],
                "created_at": now,
                "activated_at": activated,
                "window_ends_at": ends,
                "holdout": control_list[i],
                "policy_arm": arm_list[i],
                "shadow_arm": shadow_arm,
                "shadow_lever": shadow_lever,
                "shadow_expected_reward": shadow_reward,
            }
        )
    refused = [(i, screen.excluded[i]) for i in np.flatnonzero(refused_rows).tolist()]
    return Chunk(out, refused)


def ranked_levers(row: Mapping[str, Any]) -> list[str]:
    """The eligible levers of a logged decision row, best first: the served lever, then the others
    by the score the choice was made on (net value under arbitration). For fallbacks such as a
    budget that refuses the served lever; a control-group row only ever has its NO_ACTION lever."""
    estimates = sorted(row["explanation"]["estimates"], key=lambda e: -e["score"])
    chosen = row["lever_key"]
    return [chosen, *(e["lever"] for e in estimates if e["lever"] != chosen)]


def _mask(levers: Sequence[str], base: Sequence[str], eligible: np.ndarray) -> np.ndarray:
    """The per-row candidate mask in the model's lever order."""
    mask = np.zeros((len(eligible), len(levers)), dtype=bool)
    position = {lever: k for k, lever in enumerate(base)}
    for j, lever in enumerate(levers):
        k = position.get(lever)
        if k is not None:
            mask[:, j] = eligible[:, k]
    return mask


def _record(
    batch: DecisionBatch,
    local: np.ndarray,
    rows: np.ndarray,
    estimates: np.ndarray,
    lever_of: list[str | None],
    propensity: np.ndarray,
    expected: np.ndarray,
    explained: list[list[dict[str, Any]]],
) -> None:
    levers, terms = batch.levers, batch.terms
    lever_of_rows = [levers[c] for c in batch.chosen.tolist()]
    propensity[rows] = batch.propensity
    expected[rows] = batch.expected_reward
    masks, scores, estimated = batch.mask.tolist(), batch.scores.tolist(), estimates[local].tolist()
    if terms is not None:
        p, v, cost, w, net = (np.asarray(a).tolist() for a in (terms.acceptance, terms.value, terms.expected_cost, terms.weight, terms.net))
    for r, i in enumerate(rows.tolist()):
        lever_of[i] = lever_of_rows[r]
        entries = []
        for j, on in enumerate(masks[r]):
            if not on:
                continue
            entry: dict[str, Any] = {"lever": levers[j], "estimatedReward": estimated[r][j], "score": scores[r][j]}
            if terms is not None:
                entry["netValue"] = {
                    "pAccept": p[r][j], "value": v[r][j], "cost": cost[r][j], "weight": w[r][j], "netValue": net[r][j]
                }
            entries.append(entry)
        explained[i] = entries


def _shadow(
    arms: Mapping[str, Served],
    models: Mapping[str, Any],
    point: DecisionPoint,
    encoded: np.ndarray,
    base: Sequence[str],
    eligible: np.ndarray,
    scored: np.ndarray,
    values: np.ndarray | None,
    costs: Mapping[str, Any] | None,
) -> dict[int, tuple[str, str, float]]:
    name = assignment.shadow_arm(point)
    rows = np.flatnonzero(scored)
    if name is None or name not in arms or rows.size == 0:
        return {}
    model = models[name]
    mask = _mask(model.levers, base, eligible[rows])
    batch = model.decide_features(encoded[rows], mask, arms[name].rng, None if values is None else values[rows], costs)
    return {
        int(i): (name, model.levers[int(c)], float(e))
        for i, c, e in zip(rows.tolist(), batch.chosen.tolist(), batch.expected_reward.tolist())
    }
