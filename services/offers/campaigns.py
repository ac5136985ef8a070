"""Cross-sell campaigns: rank a segment, decide for the best customers, and report the results.

``create`` scores every member of the segment with the decision point's serving model (one
feature query and one engine call per page of 5,000) and ranks them by their best eligible offer
lever's score (see ``rank``; for a NET_VALUE point, its expected net value).
It then decides for the best ranked through ``decide_batch``, so the logged decisions are the
policy's own choices with their propensities, under the contact policy and budgets: a member
refused by either is skipped and the next ranked one takes the place, until ``limit`` decisions
are logged or the segment is exhausted. Every decision carries the campaign id.

``report`` gives, per lever, targets, activations, outcomes, acceptances, revenue and cost (the
lever's cost model over accepted revenue plus contact costs), and the treated group against the
control group (decisions whose lever is NO_ACTION).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utcnow
from db.repositories import campaigns as repo
from db.repositories import offer_features as feature_repo
from db.repositories import offers as offer_repo
from engine import InvalidContext as EngineInvalidContext
from engine.arbitration import CostModel
from services.errors import InvalidInput, SegmentNotFound
from services.offers import choice, features, lever_guard, mapping
from services.offers.decisions import CHUNK, Decisions
from services.offers.errors import InvalidContext, NoEligibleLever, UnknownDecisionPoint
from services.offers.registry import ModelRegistry
from services.offers.values import BatchRequest, Decision, DecisionPoint, Lever

MAX_TARGETS = 100_000
RANK_PAGE = 5000  # members scored per feature query and engine call


@dataclass(frozen=True, slots=True)
class CampaignDraft:
    name: str
    decision_point: str
    segment_key: str
    limit: int
    defer_activation: bool = True
    context: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    decision_point: str
    segment_key: str
    limit: int
    defer_activation: bool
    ranked: int
    targeted: int
    skipped: dict[str, int]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LeverOutcome:
    lever: str
    targets: int = 0
    activated: int = 0
    outcomes: int = 0
    accepted: int = 0
    revenue: float = 0.0
    cost: float = 0.0

    @property
    def accept_rate(self) -> float | None:
        return self.accepted / self.outcomes if self.outcomes else None

    def plus(self, other: LeverOutcome, name: str) -> LeverOutcome:
        return LeverOutcome(
            name, self.targets + other.targets, self.activated + other.activated, self.outcomes + other.outcomes,
            self.accepted + other.accepted, self.revenue + other.revenue, self.cost + other.cost,
        )


@dataclass(frozen=True, slots=True)
class CampaignReport:
    levers: tuple[LeverOutcome, ...]
    treated: LeverOutcome
    control: LeverOutcome
    uplift: float | None = field(default=None)


def _campaign(row: Any) -> Campaign:
    return Campaign(
        id=row.id, name=row.name, decision_point=row.decision_point_key, segment_key=row.segment_key,
        limit=row.target_limit, defer_activation=bool(row.defer_activation), ranked=row.ranked,
        targeted=row.targeted, skipped=dict(row.skipped or {}), created_at=row.created_at,
    )


def _check(draft: CampaignDraft) -> None:
    if not draft.name.strip() or len(draft.name) > 200:
        raise InvalidInput("name", "must be 1-200 characters and not blank")
    if not 1 <= draft.limit <= MAX_TARGETS:
        raise InvalidInput("limit", f"must be between 1 and {MAX_TARGETS:,}, got {draft.limit}")


class Campaigns:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        registry: ModelRegistry,
        decisions: Decisions,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessionmaker
        self.registry = registry
        self.decisions = decisions
        self.clock = clock

    async def create(self, draft: CampaignDraft) -> Campaign:
        """Rank the segment, log up to ``limit`` decisions under a new campaign, return its summary."""
        _check(draft)
        features.check_context(draft.context)
        async with self._sessions() as session:
            row = await offer_repo.decision_point(session, draft.decision_point)
            if row is None:
                raise UnknownDecisionPoint(draft.decision_point)
            point = mapping.decision_point(row)
            levers = {lever.key: mapping.lever(lever) for lever in await offer_repo.levers_by_keys(session, point.levers)}
            if not await feature_repo.segment_exists(session, draft.segment_key):
                raise SegmentNotFound(draft.segment_key)
        if not any(lever in levers and levers[lever].active for lever in point.levers):
            raise NoEligibleLever(point.key, point.levers)
        ranked, left_out = await self.rank(point, levers, draft.segment_key, draft.context or {})
        async with self._sessions.begin() as session:
            campaign = await repo.insert(session, {
                "name": draft.name.strip(), "decision_point_key": point.key, "segment_key": draft.segment_key,
                "target_limit": draft.limit, "defer_activation": draft.defer_activation, "ranked": len(ranked),
                "targeted": 0, "skipped": {}, "created_at": self.clock(),
            })
            campaign_id = campaign.id
        skipped: Counter[str] = Counter(left_out)
        targeted, position = 0, 0
        while targeted < draft.limit and position < len(ranked):
            take = ranked[position : position + min(CHUNK, draft.limit - targeted)]
            position += len(take)
            result = await self.decisions.decide_batch(BatchRequest(
                point.key, tuple(take), context=draft.context, activate=not draft.defer_activation, campaign_id=campaign_id,
            ))
            targeted += len(result.decisions)
            skipped.update(error.field for error in result.errors)
        async with self._sessions.begin() as session:
            await repo.finish(session, campaign_id, len(ranked), targeted, dict(skipped))
            found = await repo.get(session, campaign_id)
            assert found is not None
            return _campaign(found)

    async def rank(
        self, point: DecisionPoint, levers: Mapping[str, Lever], segment_key: str, context: Mapping[str, Any]
    ) -> tuple[list[str], dict[str, int]]:
        """The segment's externalIds, best first, and how many members were left out and why.

        A member's score is its best eligible offer lever's: under the NET_VALUE objective the
        expected net value ``weight * (pAccept * value - cost)`` of the lever's cost model, else the
        serving model's mean estimate. Eligible means active, configured, allowed by the lever's
        eligibility rule and the point's tier caps (what ``choose`` applies); NO_ACTION levers are
        not offers and do not qualify anyone. Left out: ``features`` (a stored attribute the encoder
        cannot take) and ``eligibility`` (no eligible offer lever). Ties keep customer id order."""
        served = await self.registry.serving(point)
        model = served.learner.model
        offers = [key for key in point.levers if key in levers and levers[key].active and levers[key].kind != "NO_ACTION"]
        guard = lever_guard.guard_for(point, levers)
        wanted = features.needs(point.features)
        needs = {
            "alerts": wanted["alerts"] or guard.needs.alerts,
            "churn_reason": wanted["churn_reason"] or guard.needs.churn_reason,
            "alert_types": guard.needs.alert_types,
        }
        rails = point.guardrails
        net_value = rails.objective == "NET_VALUE"
        cost_model = (
            CostModel.for_levers(model.levers, {k: c for k, c in guard.costs.items() if k in model.levers})
            if net_value else None
        )
        known = [lever for lever in offers if lever in model.levers]
        columns = np.array([model.levers.index(lever) for lever in known], dtype=np.int64)
        raw = dict(context)
        prefixed = features.check_context(raw)
        now = self.clock()
        scores: list[np.ndarray] = []
        names: list[str] = []
        skipped: Counter[str] = Counter()
        after = 0
        while True:
            async with self._sessions() as session:
                facts = await repo.segment_facts(session, segment_key, after, RANK_PAGE, **needs)
            if not facts:
                break
            after = facts[-1].id
            inputs = [{**features.profile_row(f, point.features, now), **prefixed} for f in facts]
            try:
                encoded = model.encoder.encode_many(inputs)
                kept = list(facts)
            except EngineInvalidContext as exc:
                if exc.key.startswith("context."):
                    raise InvalidContext(exc.key, exc.reason) from None
                kept, rows = [], []
                for fact, row in zip(facts, inputs):
                    try:
                        rows.append(model.encoder.encode(row))
                        kept.append(fact)
                    except EngineInvalidContext:
                        skipped["features"] += 1
                if not kept:
                    continue
                encoded = np.vstack(rows)
            contexts = [raw] * len(kept)
            screen = guard.screen(known, kept, contexts, now)
            allowed = np.zeros((len(kept), len(model.levers)), dtype=bool)
            for lever, j in zip(known, columns.tolist()):
                allowed[:, j] = screen.allowed[lever]
            estimates = model.policy.point_estimates(encoded)
            if cost_model is not None:
                values = choice.customer_values(kept, contexts, rails.value_attribute)
                estimates = cost_model.net(np.array(estimates, dtype=np.float64), values)
            best = np.where(allowed, estimates, -np.inf).max(axis=1)
            qualified = allowed.any(axis=1)
            skipped["eligibility"] += int((~qualified).sum())
            scores.append(best[qualified])
            names.extend(f.external_id for f, ok in zip(kept, qualified.tolist()) if ok)
        counts = {reason: n for reason, n in skipped.items() if n}
        if not names:
            return [], counts
        order = np.argsort(-np.concatenate(scores), kind="stable")
        return [names[i] for i in order], counts

    async def get(self, campaign_id: int) -> Campaign | None:
        async with self._sessions() as session:
            found = await repo.get(session, campaign_id)
            return _campaign(found) if found is not None else None

    async def all(self, limit: int = 100) -> list[Campaign]:
        async with self._sessions() as session:
            return [_campaign(row) for row in await repo.all_campaigns(session, limit)]

    async def targets(self, campaign: Campaign, offset: int, limit: int) -> list[Decision]:
        async with self._sessions() as session:
            rows = await repo.targets(session, campaign.id, offset, limit)
        return [mapping.decision(row, campaign.decision_point) for row in rows]

    async def report(self, campaign_id: int) -> CampaignReport:
        async with self._sessions() as session:
            rows = await repo.lever_outcomes(session, campaign_id)
            levers = {l.key: mapping.lever(l) for l in await offer_repo.levers_by_keys(session, [r.lever_key for r in rows])}
        per_lever = tuple(_outcome(row, levers.get(row.lever_key)) for row in rows)
        treated, control = LeverOutcome("TREATED"), LeverOutcome("CONTROL")
        for outcome in per_lever:
            lever = levers.get(outcome.lever)
            if lever is not None and lever.kind == "NO_ACTION":
                control = control.plus(outcome, "CONTROL")
            else:
                treated = treated.plus(outcome, "TREATED")
        uplift = None
        if treated.accept_rate is not None and control.accept_rate is not None:
            uplift = treated.accept_rate - control.accept_rate
        return CampaignReport(per_lever, treated, control, uplift)


def _outcome(row: Any, lever: Lever | None) -> LeverOutcome:
    revenue = float(row.revenue or 0.0)
    cost = 0.0
    if lever is not None:
        cost = (
            (lever.discount_percent + lever.cost_percent_of_value) / 100.0 * revenue
            + lever.unit_cost * row.accepted
            + lever.contact_cost * row.activated
        )
    return LeverOutcome(row.lever_key, row.targets, row.activated, row.outcomes, row.accepted, revenue, cost)
