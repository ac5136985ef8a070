"""One lifecycle pass over a scope of customers, inside the caller's transaction.

The same pass serves both paths: `recordEvents` runs it for the customers a batch touched, and the
full recompute runs it chunk by chunk over every customer. Facts come from one set-based query
over the timeline, or, for events that arrive in order, from the stored facts merged with the new
events (services.lifecycle.facts); the rules are pure Python over them; the writes are a handful
of bulk statements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import alerts as alert_repo
from db.repositories import lifecycle as repo
from db.repositories import reasons as reason_repo
from services.lifecycle import alarms
from services.lifecycle.config import LifecycleConfig
from services.lifecycle.facts import LoggedEvent, basis, facts_of, merge
from services.lifecycle.rules import Facts, path_to, place
from services.lifecycle.values import Alert, RefreshOutcome


def alert_of(row: Any) -> Alert:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return Alert(
        id=get("id"), customer_id=get("customer_id"), type=get("type"), severity=get("severity"),
        status=get("status"), action=get("action"), evidence_event_id=get("evidence_event_id"),
        raised_at=get("raised_at"), updated_at=get("updated_at"), resolved_at=get("resolved_at"),
        note=get("note"),
    )


async def refresh(
    session: AsyncSession,
    scope: repo.Scope,
    now: datetime,
    config: LifecycleConfig,
    events: Sequence[LoggedEvent] | None = None,
) -> RefreshOutcome:
    """Bring metrics, stages, alerts and churn reasons of the customers in ``scope`` up to date.

    Without ``events`` every customer's facts are derived from the whole timeline. With them (the
    events logged since the last pass over a list of customers) the stored facts are merged
    forward with just those events, and only the customers a merge refuses (out-of-order events,
    no stored facts, facts from another config) are derived from their timelines.
    """
    await repo.lock_customers(session, scope)
    if events is None:
        placed, derived = await _derive(session, scope, config), None
    else:
        placed, derived = await _merge_forward(session, scope, events, config)
    metrics: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    stages: Counter[str] = Counter()
    facts_by_id: dict[int, tuple[Facts, str, str | None]] = {}
    fact_basis = basis(config)
    for facts, stage, tier in placed:
        metrics.append({
            "customer_id": facts.customer_id,
            **{name: getattr(facts, name) for name in repo.METRIC_COLUMNS},
            "facts_basis": fact_basis,
            "updated_at": now,
        })
        placement = place(facts, now, config)
        stages[placement.stage] += 1
        if placement.stage != stage:
            previous = stage
            for step in path_to(stage, placement, facts, config):
                moves.append({
                    "id": facts.customer_id, "from_stage": previous, "stage": step.stage,
                    "at": step.since, "rule": step.rule, "reason": None,
                })
                previous = step.stage
        facts_by_id[facts.customer_id] = (facts, placement.stage, tier)
    await repo.upsert_metrics(session, metrics)
    await repo.move_stages(session, moves)
    raised, resolved = await _sync_alerts(session, scope, facts_by_id, now, config)
    if derived is None:
        await reason_repo.record_from_events(session, scope, now)
    else:
        if derived:
            await reason_repo.record_from_events(session, derived, now)
        # Merged customers' earlier reasons are stored already; only the new events may add one.
        stated = [e.id for e in events or () if e.reason is not None and e.customer_id not in derived]
        if stated:
            await reason_repo.record_from_events(session, None, now, event_ids=stated)
    return RefreshOutcome(
        derived=len(placed) if derived is None else len(derived),
        customers=len(placed), moved=len({m["id"] for m in moves}), raised=tuple(raised), resolved=resolved, stages=dict(stages)
    )


Placed = list[tuple[Facts, str, str | None]]


async def _derive(session: AsyncSession, scope: repo.Scope, config: LifecycleConfig) -> Placed:
    rows = await repo.facts(session, scope, kth=config.retention_min_purchases, horizon_days=config.churn_horizon_days)
    return [(facts_of(row), row.stage, row.value_tier) for row in rows]


async def _merge_forward(
    session: AsyncSession, scope: repo.Scope, events: Sequence[LoggedEvent], config: LifecycleConfig
) -> tuple[Placed, set[int]]:
    """Stored facts merged with ``events`` where exact; the rest derived. Returns (placed, derived ids)."""
    by_customer: dict[int, list[LoggedEvent]] = {}
    for e in events:
        by_customer.setdefault(e.customer_id, []).append(e)
    wanted = basis(config)
    placed: Placed = []
    redo: list[int] = []
    for row in await repo.stored_facts(session, scope):
        merged = None
        if row.metrics_id is not None and row.facts_basis == wanted:
            merged = merge(facts_of(row, stored=True), by_customer.get(row.id, ()), config)
        if merged is None:
            redo.append(row.id)
        else:
            placed.append((merged, row.stage, row.value_tier))
    if redo:
        placed.extend(await _derive(session, redo, config))
    return placed, set(redo)


async def _sync_alerts(
    session: AsyncSession,
    scope: repo.Scope,
    facts_by_id: dict[int, tuple[Facts, str, str | None]],
    now: datetime,
    config: LifecycleConfig,
) -> tuple[list[Alert], int]:
    active = await alert_repo.active_for(session, scope)
    holding = {
        (cause.customer_id, cause.type): cause
        for facts, _, _ in facts_by_id.values()
        for cause in alarms.causes(facts, now, config)
    }
    changes: list[dict[str, Any]] = []
    still_active: dict[tuple[int, str], Any] = {}
    for alert in active:
        if (alert.customer_id, alert.type) in holding:
            still_active[(alert.customer_id, alert.type)] = alert
        else:
            changes.append({"id": alert.id, "status": "RESOLVED", "updated_at": now, "resolved_at": now})
    resolved = len(changes)
    await alert_repo.set_status_many(session, changes)

    new = [
        cause for key, cause in holding.items()
        if key not in still_active and alarms.is_fresh(cause, now, config)
    ]
    open_causes = Counter(cid for cid, _ in still_active) + Counter(c.customer_id for c in new)
    rows = []
    for cause in new:
        facts, stage, tier = facts_by_id[cause.customer_id]
        rows.append({
            "customer_id": cause.customer_id, "type": cause.type,
            "severity": alarms.severity(cause.type, tier, open_causes[cause.customer_id]),
            "status": "OPEN", "action": alarms.action_for(stage),
            "evidence_event_id": cause.evidence_event_id,
            "raised_at": now, "updated_at": now, "resolved_at": None, "note": None,
        })
    raised = [alert_of(row) for row in await alert_repo.raise_many(session, rows)]
    # Severity rises with several open causes: re-rate the alerts that stay open.
    rerated = []
    for (cid, alert_type), alert in still_active.items():
        tier = facts_by_id[cid][2] if cid in facts_by_id else None
        level = alarms.severity(alert_type, tier, open_causes[cid])
        if level != alert.severity:
            rerated.append({"id": alert.id, "severity": level, "updated_at": now})
    await alert_repo.set_status_many(session, rerated)
    return raised, resolved
