"""Queries over customers: lookups, keyset pages, bulk upsert."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name, insert_for, one_of
from db.driver import on_sqlite_driver
from db.models import Customer, Segment, SegmentMember

ORDER_COLUMNS = {"ID": Customer.id, "CREATED_AT": Customer.created_at}
_CHUNK = 5_000
# Read paths fetch plain rows, not ORM identities: building mapped instances was a large share
# of a customer-list request.
ROW = tuple(Customer.__table__.c)


async def by_ids(session: AsyncSession, ids: Iterable[int]) -> list[Row[Any]]:
    ids = list(set(ids))
    rows: list[Row[Any]] = []
    for start in range(0, len(ids), _CHUNK):
        part = ids[start : start + _CHUNK]
        rows.extend((await session.execute(select(*ROW).where(Customer.id.in_(part)))).all())
    return rows


# Built once: a statement object keeps its cache key, so executing it again skips building the
# select and keying it (both showed in the customer view's profile).
_ROW_BY_ID = select(*ROW).where(Customer.id == bindparam("key"))
_ROW_BY_EXTERNAL_ID = select(*ROW).where(Customer.external_id == bindparam("key"))


async def row_by(session: AsyncSession, *, customer_id: int | None = None, external_id: str | None = None) -> Row[Any] | None:
    """One customer's plain row, by internal id or by externalId (on the session's connection:
    plain rows need none of the ORM's result handling)."""
    statement, key = (_ROW_BY_ID, customer_id) if customer_id is not None else (_ROW_BY_EXTERNAL_ID, external_id)
    connection = await session.connection()
    return (await connection.execute(statement, {"key": key})).first()


async def by_external_id(session: AsyncSession, external_id: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.external_id == external_id))


# SQLite: the keys go as one JSON array and the answer comes back as one JSON object, in one trip
# to the driver's thread (the SQLAlchemy statement with one parameter per key took twice as long
# for a 1,000-event batch). One row, not a row per customer: sqlite3 takes the GIL back after each
# row it steps to, and waits for it whenever the event loop is busy.
_SQLITE_IDS = (
    "SELECT json_group_object(external_id, id) FROM customers "
    "WHERE external_id IN (SELECT value FROM json_each(?))"
)


def _ids_sqlite(connection: sqlite3.Connection, keys_json: str) -> dict[str, int]:
    found: dict[str, int] = orjson.loads(connection.execute(_SQLITE_IDS, (keys_json,)).fetchone()[0])
    return found


async def ids_by_external_ids(session: AsyncSession, external_ids: Iterable[str]) -> dict[str, int]:
    keys = list(set(external_ids))
    if not keys:
        return {}
    if dialect_name(session) == "sqlite":
        return await on_sqlite_driver(session, _ids_sqlite, orjson.dumps(keys).decode())
    found: dict[str, int] = {}
    for start in range(0, len(keys), _CHUNK):
        part = keys[start : start + _CHUNK]
        query = select(Customer.external_id, Customer.id).where(one_of(session, Customer.external_id, part))
        found.update({ext: cid for ext, cid in (await session.execute(query)).all()})
    return found


async def referred_by(session: AsyncSession, referrer_ids: Iterable[int]) -> list[Row[Any]]:
    query = select(*ROW).where(Customer.referred_by_id.in_(list(set(referrer_ids))))
    return list((await session.execute(query.order_by(Customer.id))).all())


def filtered(
    *,
    stage: str | None = None,
    segment_key: str | None = None,
    acquisition_channel: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    search: str | None = None,
    include_erased: bool = False,
) -> list[ColumnElement[bool]]:
    """The WHERE terms for a customer filter, shared by pages and counts."""
    terms: list[ColumnElement[bool]] = []
    if not include_erased:
        terms.append(Customer.erased_at.is_(None))
    if stage is not None:
        terms.append(Customer.stage == stage)
    if acquisition_channel is not None:
        terms.append(Customer.acquisition_channel == acquisition_channel)
    if created_from is not None:
        terms.append(Customer.created_at >= created_from)
    if created_to is not None:
        terms.append(Customer.created_at < created_to)
    if segment_key is not None:
        terms.append(
            exists()
            .where(SegmentMember.customer_id == Customer.id)
            .where(SegmentMember.segment_id == Segment.id)
            .where(Segment.key == segment_key)
        )
    if search:
        pattern = f"%{search.lower()}%"
        terms.append(
            or_(
                func.lower(Customer.name).like(pattern),
                func.lower(Customer.email).like(pattern),
                func.lower(Customer.external_id).like(pattern),
            )
        )
    return terms


def page_query(
    terms: Sequence[ColumnElement[bool]],
    *,
    order: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> Select[Any]:
    """A keyset page ordered by (order column, id): never an OFFSET scan."""
    column = ORDER_COLUMNS[order]
    query = select(*ROW).where(*terms)
    if after is not None:
        value, last_id = after
        if column is Customer.id:
            query = query.where(Customer.id < last_id if descending else Customer.id > last_id)
        elif descending:
            query = query.where(or_(column < value, and_(column == value, Customer.id < last_id)))
        else:
            query = query.where(or_(column > value, and_(column == value, Customer.id > last_id)))
    if column is Customer.id:
        ordering = [Customer.id.desc() if descending else Customer.id.asc()]
    else:
        ordering = [column.desc(), Customer.id.desc()] if descending else [column.asc(), Customer.id.asc()]
    return query.order_by(*ordering).limit(limit)


async def count(session: AsyncSession, terms: Sequence[ColumnElement[bool]]) -> int:
    return int(await session.scalar(select(func.count()).select_from(Customer).where(*terms)) or 0)


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert rows whose externalId is new; rows another writer created meanwhile are skipped."""
    if not rows:
        return {}
    statement = (
        insert_for(session, Customer)
        .on_conflict_do_nothing(index_elements=["external_id"])
        .returning(Customer.__table__.c.external_id, Customer.__table__.c.id)
    )
    result = await session.execute(statement, rows)
    return {ext: cid for ext, cid in result.all()}


async def update_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key; rows are grouped by the set of columns they change."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    table = Customer.__table__
    for columns, group in groups.items():
        # Core executemany, one UPDATE per distinct column set; parameters are renamed because
        # SQLAlchemy reserves the column names for its own SET binds.
        changes = {name: bindparam(f"new_{name}") for name in columns if name != "id"}
        statement = update(table).where(table.c.id == bindparam("row_id")).values(changes)
        params = [{"row_id": row["id"], **{f"new_{k}": v for k, v in row.items() if k != "id"}} for row in group]
        await session.execute(statement, params)


async def stage_counts(session: AsyncSession) -> dict[str, int]:
    query = select(Customer.stage, func.count()).group_by(Customer.stage)
    return {stage: n for stage, n in (await session.execute(query)).all()}
