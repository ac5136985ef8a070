"""Importing a historical decision log: past campaigns become decisions and outcomes flagged
``imported``, counted by every report, and learned by the live model only when asked to warm-start.

Warm-start rows enter the outcome log like any outcome (learnable, in the call's order), so the
learners of every process apply them by id exactly once, and a rebuild from the log still equals
the incremental model. Other imported outcomes are stored with ``learnable = false`` and skipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import customers as customer_repo
from db.repositories import decision_log as log_repo
from db.repositories import offers as offer_repo
from db.repositories import outcomes as outcome_repo
from engine import FeatureEncoder
from engine import InvalidContext as EngineInvalidContext
from services.customers import _new_row as new_customer_row
from services.domain import BulkResult, CustomerDraft, ItemError
from services.errors import InvalidInput
from services.offers import mapping
from services.offers.registry import ModelRegistry
from services.offers.rewards import reward_of
from services.offers.values import DecisionPoint, Lever
from services.validation import FUTURE_SKEW, check_attributes, check_batch_size, split_checked

REQUEST_ID_MAX = 128


@dataclass(frozen=True, slots=True)
class LoggedDecisionDraft:
    """One row of a historical log. ``features`` maps the decision point's feature names to raw
    values (encoded here with the point's current encoder); ``propensity`` is None when unknown."""

    external_id: str
    decision_point: str
    lever: str
    decided_at: datetime | None
    accepted: bool
    revenue: float | None = None
    propensity: float | None = None
    features: Any = None
    attributes: Any = None
    request_id: str | None = None


def check_row(draft: LoggedDecisionDraft, now: datetime) -> None:
    """The checks that need no database; raises ``InvalidInput`` naming the field."""
    for field, value in (("externalId", draft.external_id), ("decisionPoint", draft.decision_point), ("lever", draft.lever)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(field, "is required")
    if len(draft.external_id) > 128:
        raise InvalidInput("externalId", "must be at most 128 characters")
    if draft.decided_at is None:
        raise InvalidInput("decidedAt", "is required")
    if draft.decided_at.tzinfo is None:
        raise InvalidInput("decidedAt", "must carry a time zone (e.g. 2025-01-31T10:00:00Z)")
    if draft.decided_at > now + FUTURE_SKEW:
        raise InvalidInput("decidedAt", f"is in the future: {draft.decided_at.isoformat()}")
    p = draft.propensity
    if p is not None and not (math.isfinite(p) and 0 < p <= 1):
        raise InvalidInput("propensity", f"must be in (0, 1], got {p}")
    if draft.revenue is not None and not (math.isfinite(draft.revenue) and draft.revenue >= 0):
        raise InvalidInput("revenue", f"must be a finite number >= 0, got {draft.revenue}")
    if draft.features is not None and not isinstance(draft.features, dict):
        raise InvalidInput("features", "must be a JSON object of feature name -> value")
    if draft.attributes is not None:
        check_attributes(draft.attributes)
    if draft.request_id is not None and not 1 <= len(draft.request_id) <= REQUEST_ID_MAX:
        raise InvalidInput("requestId", f"must be 1-{REQUEST_ID_MAX} characters")


class DecisionLogImport:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], registry: ModelRegistry | None = None) -> None:
        self._sessions = sessionmaker
        self.registry = registry

    async def import_many(self, drafts: Sequence[LoggedDecisionDraft], *, warm_start: bool = False) -> BulkResult:
        """Store up to 10,000 logged decisions with their outcomes in one transaction.

        Valid rows are written; each invalid one is reported by index and nothing of it is stored
        (not even its customer). Unknown customers are created with the row's ``attributes``;
        known ones are left as they are. A row whose ``requestId`` is already stored at its
        decision point, or repeats one earlier in the call, counts as a duplicate. ``created`` counts
        the customers created. With ``warm_start`` the decision points' live models learn the rows.
        """
        check_batch_size(list(drafts))
        now = datetime.now(UTC)
        valid, errors = split_checked(drafts, lambda draft: check_row(draft, now))

        async with self._sessions() as session:
            points = await _points(session, {d.decision_point for _, d in valid})
            levers = {row.key: mapping.lever(row) for row in await offer_repo.all_levers(session)}
        prepared: list[tuple[int, LoggedDecisionDraft, DecisionPoint, list[float]]] = []
        seen: set[tuple[str, str]] = set()
        duplicates = 0
        for index, draft in valid:
            try:
                point, vector = _resolve(draft, points, levers)
            except InvalidInput as exc:
                errors.append(ItemError(index, exc.field, exc.reason))
                continue
            if draft.request_id is not None:
                if (point.key, draft.request_id) in seen:
                    duplicates += 1
                    continue
                seen.add((point.key, draft.request_id))
            prepared.append((index, draft, point, vector))

        created: dict[str, int] = {}
        written = 0
        if prepared:
            async with self._sessions.begin() as session:
                # Outcome ids must commit in id order per decision point: see services.offers.registry.
                await offer_repo.lock_decision_points(session, [p.id for _, _, p, _ in prepared])
                customers = await _customers(session, prepared, now, created)
                rows = [_decision_row(d, p, v, customers[d.external_id]) for _, d, p, v in prepared]
                ids = await log_repo.insert_imported(session, rows)
                outcomes = [
                    _outcome_row(d, p, levers[d.lever], decision_id, warm_start)
                    for (_, d, p, _), decision_id in zip(prepared, ids)
                    if decision_id is not None
                ]
                await outcome_repo.insert_outcomes(session, outcomes)
                written = len(outcomes)
            duplicates += len(prepared) - written
            if warm_start and written and self.registry is not None:
                self.registry.nudge()
        return BulkResult(
            accepted=written,
            created=len(created),
            duplicates=duplicates,
            errors=tuple(sorted(errors, key=lambda e: e.index or 0)),
        )


async def _points(session: AsyncSession, keys: set[str]) -> dict[str, tuple[DecisionPoint, FeatureEncoder]]:
    found = {}
    for key in keys:
        row = await offer_repo.decision_point(session, key)
        if row is not None:
            point = mapping.decision_point(row)
            found[key] = (point, FeatureEncoder.from_dict(point.encoder))
    return found


def _resolve(
    draft: LoggedDecisionDraft, points: dict[str, tuple[DecisionPoint, FeatureEncoder]], levers: dict[str, Lever]
) -> tuple[DecisionPoint, list[float]]:
    """The row's decision point and its context encoded with the point's current encoder."""
    if draft.decision_point not in points:
        raise InvalidInput("decisionPoint", f"no decision point with key {draft.decision_point!r}")
    point, encoder = points[draft.decision_point]
    if draft.lever not in levers:
        raise InvalidInput("lever", f"no lever with key {draft.lever!r}")
    if draft.lever not in point.known_levers:
        raise InvalidInput("lever", f"{draft.lever!r} is not a lever of decision point {point.key!r}")
    features = draft.features or {}
    for name in features:
        if name not in point.features:
            expected = ", ".join(point.features) or "none"
            raise InvalidInput(f"features.{name}", f"not a feature of decision point {point.key!r} (its features: {expected})")
    try:
        vector = encoder.encode(features)
    except EngineInvalidContext as exc:
        raise InvalidInput(f"features.{exc.key}", exc.reason) from None
    return point, vector.tolist()


async def _customers(
    session: AsyncSession, prepared: list[Any], now: datetime, created: dict[str, int]
) -> dict[str, int]:
    """Customer ids by externalId, creating the unknown ones (first row's attributes win)."""
    wanted: dict[str, Any] = {}
    for _, draft, _, _ in prepared:
        wanted.setdefault(draft.external_id, draft.attributes)
    ids = await customer_repo.ids_by_external_ids(session, wanted)
    new_rows = [
        new_customer_row(CustomerDraft(external_id=ext, attributes=attrs or {}), now)
        for ext, attrs in wanted.items()
        if ext not in ids
    ]
    created.update(await customer_repo.insert_new(session, new_rows))
    ids.update(created)
    # a customer another writer created meanwhile was skipped by the insert: read it
    missing = [ext for ext in wanted if ext not in ids]
    ids.update(await customer_repo.ids_by_external_ids(session, missing))
    return ids


def _decision_row(draft: LoggedDecisionDraft, point: DecisionPoint, vector: list[float], customer_id: int) -> dict[str, Any]:
    features = draft.features or {}
    at = draft.decided_at
    assert at is not None
    return {
        "decision_point_id": point.id,
        "customer_id": customer_id,
        "request_id": draft.request_id,
        "lever_key": draft.lever,
        "propensity": draft.propensity,
        # what the engine expected is not known for history
        "expected_reward": 0.0,
        "candidates": list(point.levers),
        "features": vector,
        "context": features,
        "explanation": {"estimates": [], "inputs": [[name, features.get(name)] for name in point.features]},
        "config_version": point.version,
        "model_version": 0,
        "created_at": at,
        "activated_at": at,
        "window_ends_at": at + timedelta(hours=point.reward_window_hours),
        "imported": True,
    }


def _outcome_row(
    draft: LoggedDecisionDraft, point: DecisionPoint, lever: Lever, decision_id: int, learnable: bool
) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "decision_point_id": point.id,
        "accepted": draft.accepted,
        "revenue": draft.revenue,
        "reward": reward_of(point.reward, lever, draft.accepted, draft.revenue),
        "late": False,
        "source": "REPORTED",
        "idempotency_key": None,
        "created_at": draft.decided_at,
        "learnable": learnable,
    }
