"""One lifecycle pass over a scope of customers, inside the caller's transaction.

The same pass serves both paths: `recordEvents` runs it for the customers a batch touched, and the
full recompute runs it chunk by chunk over every customer. Facts come from one set-based query;
the rules are pure Python over those rows; the writes are a handful of bulk statements.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import alerts as alert_repo
from db.repositories import lifecycle as repo
from db.repositories import reasons as reason_repo
from services.lifecycle import alarms
from services.lifecycle.config import LifecycleConfig
from services.lifecycle.rules import Facts, path_to, place
from services.lifecycle.values import Alert, RefreshOutcome


def facts_of(row: Any) -> Facts:
    return Facts(
        customer_id=row.id,
        created_at=row.created_at,
        has_contact=bool(row.has_contact),
        signup_at=row.signup_at,
        first_purchase_at=row.first_purchase_at,
        second_purchase_at=row.second_purchase_at,
        kth_purchase_at=row.kth_purchase_at,
        last_purchase_at=row.last_purchase_at,
        last_purchase_event_id=row.last_purchase_event_id,
        purchase_count=int(row.purchase_count or 0),
        monetary_total=float(row.monetary_total or 0),
        median_gap_days=float(row.median_gap_days) if row.median_gap_days is not None else None,
        last_cancel_at=row.last_cancel_at,
        last_cancel_event_id=row.last_cancel_event_id,
        last_complaint_at=row.last_complaint_at,
        last_complaint_event_id=row.last_complaint_event_id,
        last_survey_at=row.last_survey_at,
        last_survey_score=row.last_survey_score,
        last_survey_event_id=row.last_survey_event_id,
        last_reactivation_at=row.last_reactivation_at,
    )


def alert_of(row: Any) -> Alert:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return Alert(
        id=get("id"), customer_id=get("customer_id"), type=get("type"), severity=get("severity"),
        status=get("status"), action=get("action"), evidence_event_id=get("evidence_event_id"),
        raised_at=get("raised_at"), updated_at=get("updated_at"), resolved_at=get("resolved_at"),
        note=get("note"),
    )


async def refresh(
    session: AsyncSession, scope: repo.Scope, now: datetime, config: LifecycleConfig
) -> RefreshOutcome:
    """Bring metrics, stages, alerts and churn reasons of the customers in ``scope`` up to date."""
    await repo.lock_customers(session, scope)
    rows = await repo.facts(
        session, scope, kth=config.retention_min_purchases, horizon_days=config.churn_horizon_days
    )
    metrics: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    stages: Counter[str] = Counter()
    facts_by_id: dict[int, tuple[Facts, str, str | None]] = {}
    for row in rows:
        facts = facts_of(row)
        metrics.append({
            "customer_id": facts.customer_id,
            **{name: getattr(facts, name) for name in repo.METRIC_COLUMNS},
            "updated_at": now,
        })
        placement = place(facts, now, config)
        stages[placement.stage] += 1
        if placement.stage != row.stage:
            previous = row.stage
            for step in path_to(row.stage, placement, facts, config):
                moves.append({
                    "id": facts.customer_id, "from_stage": previous, "stage": step.stage,
                    "at": step.since, "rule": step.rule, "reason": None,
                })
                previous = step.stage
        facts_by_id[facts.customer_id] = (facts, placement.stage, row.value_tier)
    await repo.upsert_metrics(session, metrics)
    await repo.move_stages(session, moves)
    raised, resolved = await _sync_alerts(session, scope, facts_by_id, now, config)
    await reason_repo.record_from_events(session, scope, now)
    return RefreshOutcome(
        customers=len(rows), moved=len({m["id"] for m in moves}), raised=tuple(raised), resolved=resolved, stages=dict(stages)
    )


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
