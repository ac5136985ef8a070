"""Segment use cases: definitions, hand-managed membership and counts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Segment as SegmentRow
from db.repositories import customers as customer_repo
from db.repositories import segments as repo
from services import mapping
from services.domain import BulkResult, ItemError, Segment
from services.errors import InvalidInput, SegmentNotFound
from services.validation import check_batch_size

import re

_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class Segments:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], lookups: async_sessionmaker[AsyncSession] | None = None
    ) -> None:
        self._sessions = sessionmaker
        self._lookups = lookups or sessionmaker  # read-only lookups (db.session.make_lookup_sessionmaker)

    async def upsert(self, key: str, name: str, description: str | None) -> Segment:
        """Create the segment ``key`` or rename/redescribe it; members are untouched."""
        if not _KEY.match(key):
            raise InvalidInput("key", "must be 1-100 letters, digits or _ . : -")
        if not name.strip() or len(name) > 200:
            raise InvalidInput("name", "must be 1-200 characters")
        async with self._sessions.begin() as session:
            row = await repo.by_key(session, key)
            if row is None:
                row = SegmentRow(key=key, name=name, description=description)
                session.add(row)
            else:
                row.name, row.description = name, description
            await session.flush()
            return mapping.segment(row)

    async def all(self) -> list[Segment]:
        async with self._lookups() as session:
            rows = await repo.all_with_counts(session)
        return [mapping.segment(row, count) for row, count in rows]

    async def of_customers(self, customer_ids: Sequence[int]) -> dict[int, list[Segment]]:
        async with self._lookups() as session:
            rows = await repo.for_customers(session, customer_ids)
        found: dict[int, list[Segment]] = {}
        for row in rows:
            found.setdefault(row.member_id, []).append(mapping.segment(row))
        return found

    async def change_members(self, key: str, external_ids: Sequence[str], *, add: bool) -> BulkResult:
        """Add or remove customers by externalId; unknown ones are reported by index."""
        check_batch_size(list(external_ids))
        async with self._sessions.begin() as session:
            segment = await repo.by_key(session, key)
            if segment is None:
                raise SegmentNotFound(key)
            ids = await customer_repo.ids_by_external_ids(session, external_ids)
            errors = tuple(
                ItemError(i, "externalIds", f"no customer with externalId {ext!r}")
                for i, ext in enumerate(external_ids)
                if ext not in ids
            )
            known = [ids[ext] for ext in external_ids if ext in ids]
            if add:
                changed = await repo.add_members(session, segment.id, known)
            else:
                changed = await repo.remove_members(session, segment.id, known)
        return BulkResult(accepted=changed, errors=errors)
