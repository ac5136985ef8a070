"""Queries over levers, decision points and the decision log. They never commit."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import sqlite_timestamp
from db.dialect import dialect_name, insert_for, insert_skipping
from db.driver import on_sqlite_driver
from db.session import json_text
from db.models import Decision, DecisionPoint, Lever, Outcome

DECISION_ROW = tuple(Decision.__table__.c)


async def all_levers(session: AsyncSession) -> list[Lever]:
    return list((await session.scalars(select(Lever).order_by(Lever.key))).all())


async def levers_by_keys(session: AsyncSession, keys: Sequence[str]) -> list[Lever]:
    return list((await session.scalars(select(Lever).where(Lever.key.in_(list(keys))))).all())


async def upsert_lever(session: AsyncSession, row: dict[str, Any], now: datetime) -> Lever:
    changes = {k: v for k, v in row.items() if k != "key"}
    statement = insert_for(session, Lever).values(**row, created_at=now, updated_at=now)
    statement = statement.on_conflict_do_update(index_elements=["key"], set_={**changes, "updated_at": now})
    await session.execute(statement)
    lever = await session.scalar(select(Lever).where(Lever.key == row["key"]).execution_options(populate_existing=True))
    assert lever is not None
    return lever


async def decision_point(session: AsyncSession, key: str, *, lock: bool = False) -> DecisionPoint | None:
    query = select(DecisionPoint).where(DecisionPoint.key == key)
    if lock:
        query = _locked(session, query)
    return await session.scalar(query.execution_options(populate_existing=True))


async def decision_point_by_id(session: AsyncSession, point_id: int) -> DecisionPoint | None:
    return await session.get(DecisionPoint, point_id)


async def all_decision_points(session: AsyncSession) -> list[DecisionPoint]:
    return list((await session.scalars(select(DecisionPoint).order_by(DecisionPoint.key))).all())


async def versions(session: AsyncSession) -> list[Row[Any]]:
    """(id, key, version, updated_at) of every decision point: what the model registry polls."""
    query = select(DecisionPoint.id, DecisionPoint.key, DecisionPoint.version, DecisionPoint.updated_at)
    return list((await session.execute(query)).all())


async def lock_decision_points(session: AsyncSession, point_ids: Sequence[int]) -> None:
    """Serialise outcome writers per decision point, so outcome ids commit in id order.

    The learners tail ``outcomes WHERE id > last``: if a smaller id could commit after a larger
    one had been read, it would be skipped forever. PostgreSQL takes FOR NO KEY UPDATE (it does not
    conflict with the KEY SHARE that decision inserts take through their foreign key, so deciding
    never waits on outcomes); SQLite already serialises writers on its database lock, and ids are
    assigned under it.
    """
    if dialect_name(session) != "postgresql" or not point_ids:
        return
    query = select(DecisionPoint.id).where(DecisionPoint.id.in_(sorted(set(point_ids)))).order_by(DecisionPoint.id)
    await session.execute(query.with_for_update(key_share=True))


def _locked(session: AsyncSession, query: Any) -> Any:
    return query.with_for_update(key_share=True) if dialect_name(session) == "postgresql" else query


async def insert_decisions(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Core bulk insert; returns {customer_id: decision id} for the rows written. A row whose
    (decision point, request id) is already stored is skipped, not an error."""
    if not rows:
        return {}
    if dialect_name(session) == "sqlite":
        return await _insert_decisions_sqlite(session, rows)
    return await _insert_decisions_core(session, rows)


async def _insert_decisions_core(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[int, int]:
    statement = insert_skipping(dialect_name(session), Decision.__table__, ("decision_point_id", "request_id"), ("customer_id", "id"))
    result = await session.execute(statement, rows)
    return {customer_id: decision_id for customer_id, decision_id in result.all()}


# Column order of decision rows written straight to the SQLite driver.
_LOGGED_COLUMNS = (
    "decision_point_id", "customer_id", "request_id", "lever_key", "propensity", "expected_reward",
    "candidates", "features", "context", "explanation", "config_version", "model_version", "created_at",
    "activated_at", "window_ends_at", "campaign_id", "imported", "holdout", "policy_arm", "shadow_arm",
    "shadow_lever", "shadow_expected_reward",
)
_SQLITE_PAGE = 1000  # rows per statement: 22,000 parameters, under SQLite's 32,766


@functools.lru_cache(maxsize=128)  # coalesced decide batches come in every size up to 64
def _sqlite_insert(rows: int) -> str:
    values = ", ".join([f"({', '.join('?' * len(_LOGGED_COLUMNS))})"] * rows)
    return (
        f"INSERT INTO decisions ({', '.join(_LOGGED_COLUMNS)}) VALUES {values} "
        "ON CONFLICT (decision_point_id, request_id) DO NOTHING"
    )


async def _insert_decisions_sqlite(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[int, int]:
    # Straight to the driver, as multi-row INSERTs: SQLAlchemy's per-row parameter processing
    # (four JSON columns, three timestamps) cost more than SQLite's own work on 1,000 rows.
    # Values are converted exactly as the column types would store them; a chunk shares its times.
    # Rows of a chunk share their candidate lists and request context objects: each is written once.
    times: dict[datetime | None, str | None] = {None: None}
    shared: dict[int, str] = {}
    params: list[Any] = []
    add = params.extend
    for row in rows:
        get = row.get
        created, activated, ends = row["created_at"], get("activated_at"), get("window_ends_at")
        for at in (created, activated, ends):
            if at not in times:
                times[at] = sqlite_timestamp(at)
        candidates, context = get("candidates"), get("context")
        if candidates is None:
            candidates_text = "[]"
        elif (candidates_text := shared.get(id(candidates))) is None:
            candidates_text = shared[id(candidates)] = json_text(candidates)
        if context is None:
            context_text = "{}"
        elif (context_text := shared.get(id(context))) is None:
            context_text = shared[id(context)] = json_text(context)
        add((
            row["decision_point_id"], row["customer_id"], get("request_id"), row["lever_key"], row["propensity"],
            row["expected_reward"], candidates_text, json_text(get("features", [])),
            context_text, json_text(get("explanation", {})), row["config_version"],
            row["model_version"], times[created], times[activated], times[ends], get("campaign_id"),
            bool(get("imported", False)), bool(get("holdout", False)), get("policy_arm", "main"),
            get("shadow_arm"), get("shadow_lever"), get("shadow_expected_reward"),
        ))
    width = len(_LOGGED_COLUMNS)
    pages = [
        ([row["customer_id"] for row in rows[start : start + _SQLITE_PAGE]],
         params[start * width : (start + _SQLITE_PAGE) * width])
        for start in range(0, len(rows), _SQLITE_PAGE)
    ]
    return await on_sqlite_driver(session, _insert_pages_sqlite, pages)


def _insert_pages_sqlite(connection: sqlite3.Connection, pages: list[tuple[list[int], list[Any]]]) -> dict[int, int]:
    """{customer_id: decision id} of the rows written, in the driver's thread.

    Ids come from the statement's rowcount and lastrowid rather than RETURNING, whose 1,000 rows
    each came back through the sqlite3 module and SQLAlchemy's result. While the transaction holds
    SQLite's write lock each new rowid is one more than the last, so when every row of a page went
    in, its ids are the last ``count`` ones in the rows' order. When some were skipped (their
    request id is stored already) the ones written are read back by that id range."""
    written: dict[int, int] = {}
    for customer_ids, params in pages:
        count = len(customer_ids)
        cursor = connection.execute(_sqlite_insert(count), params)
        inserted = cursor.rowcount
        if inserted <= 0:
            continue
        last = int(cursor.lastrowid or 0)
        if inserted == count:
            written.update(zip(customer_ids, range(last - count + 1, last + 1)))
        else:
            found = connection.execute(
                "SELECT customer_id, id FROM decisions WHERE id BETWEEN ? AND ? ORDER BY id", (last - inserted + 1, last)
            )
            written.update(found.fetchall())
    return written


async def decisions_by_request(session: AsyncSession, point_id: int, request_ids: Sequence[str]) -> list[Row[Any]]:
    query = select(*DECISION_ROW).where(
        Decision.decision_point_id == point_id, Decision.request_id.in_(list(request_ids))
    )
    return list((await session.execute(query)).all())


_HEADS = select(
    Decision.id, Decision.decision_point_id, Decision.lever_key, Decision.activated_at, Decision.window_ends_at
).where(Decision.id.in_(bindparam("ids", expanding=True)))


async def decision_heads(session: AsyncSession, ids: Sequence[int]) -> list[Row[Any]]:
    """What an outcome needs of its decisions: id, decision point, lever, activation and window."""
    # Built once, run as Core on the session's connection: building the statement and the ORM's
    # execution path were a third of a session with this one query (585 -> 406 us CPU).
    connection = await session.connection()
    return list((await connection.execute(_HEADS, {"ids": list(ids)})).all())


async def decisions_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Row[Any]]:
    query = select(*DECISION_ROW).where(Decision.id.in_(list(ids))).order_by(Decision.id)
    return list((await session.execute(query)).all())


async def decisions_of_customers(session: AsyncSession, customer_ids: Sequence[int], limit: int) -> list[Row[Any]]:
    """The ``limit`` newest decisions per customer (contact history), in one windowed statement."""
    rank = func.row_number().over(partition_by=Decision.customer_id, order_by=Decision.id.desc()).label("rank")
    inner = select(*DECISION_ROW, rank).where(Decision.customer_id.in_(list(customer_ids))).subquery()
    query = select(*[inner.c[c.name] for c in DECISION_ROW]).where(inner.c.rank <= limit)
    return list((await session.execute(query.order_by(inner.c.customer_id, inner.c.id.desc()))).all())


async def activate(session: AsyncSession, decision_id: int, now: datetime, window_ends_at: datetime) -> None:
    """Activate once: a second activation keeps the first time and window."""
    await session.execute(
        update(Decision)
        .where(Decision.id == decision_id, Decision.activated_at.is_(None))
        .values(activated_at=now, window_ends_at=window_ends_at)
    )


async def point_keys(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    query = select(DecisionPoint.id, DecisionPoint.key).where(DecisionPoint.id.in_(list(set(ids))))
    return {i: k for i, k in (await session.execute(query)).all()}


async def outcome_exists_for(session: AsyncSession, decision_ids: Sequence[int]) -> set[int]:
    query = select(Outcome.decision_id).where(Outcome.decision_id.in_(list(decision_ids)))
    return set((await session.scalars(query)).all())
