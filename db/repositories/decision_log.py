"""The decision log as analysts use it: imported history written in bulk, logged rows read back
for off-policy evaluation and replay. Queries never commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import insert_for
from db.models import Decision, Outcome


async def insert_imported(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int | None]:
    """Insert imported decisions; returns each row's new id in input order, None for a row whose
    (decision point, request id) is already stored (a duplicate, not an error)."""
    ids: list[int | None] = [None] * len(rows)
    plain = [i for i, row in enumerate(rows) if row.get("request_id") is None]
    keyed = [i for i, row in enumerate(rows) if row.get("request_id") is not None]
    table = Decision.__table__
    if plain:
        statement = insert_for(session, Decision).returning(table.c.id, sort_by_parameter_order=True)
        result = await session.execute(statement, [rows[i] for i in plain])
        for i, (decision_id,) in zip(plain, result.all()):
            ids[i] = decision_id
    if keyed:
        statement = (
            insert_for(session, Decision)
            .on_conflict_do_nothing(index_elements=["decision_point_id", "request_id"])
            .returning(table.c.decision_point_id, table.c.request_id, table.c.id)
        )
        result = await session.execute(statement, [rows[i] for i in keyed])
        written = {(point, request): decision_id for point, request, decision_id in result.all()}
        for i in keyed:
            ids[i] = written.get((rows[i]["decision_point_id"], rows[i]["request_id"]))
    return ids


async def logged_rows(
    session: AsyncSession, point_id: int, since: datetime | None, until: datetime | None
) -> list[Any]:
    """Decisions of a point that have an outcome, oldest first: (id, lever, propensity, features,
    candidates, config_version, reward, created_at, imported)."""
    query = (
        select(
            Decision.id,
            Decision.lever_key,
            Decision.propensity,
            Decision.features,
            Decision.candidates,
            Decision.config_version,
            Outcome.reward,
            Decision.created_at,
            Decision.imported,
        )
        .join(Outcome, Outcome.decision_id == Decision.id)
        .where(Decision.decision_point_id == point_id)
        .order_by(Decision.created_at, Decision.id)
    )
    if since is not None:
        query = query.where(Decision.created_at >= since)
    if until is not None:
        query = query.where(Decision.created_at < until)
    return list((await session.execute(query)).all())
