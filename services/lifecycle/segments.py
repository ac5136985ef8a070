"""Rule-segment use cases: define a segment by a rule tree, and preview a rule without saving."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.dialect import dialect_name
from db.models import Customer, SegmentMember
from db.models import Segment as SegmentRow
from db.repositories import segments as segment_repo
from services import mapping
from services.domain import Customer as CustomerValue
from services.domain import Segment
from services.errors import InvalidInput
from services.lifecycle.membership import matching, refresh_segment
from services.lifecycle.segment_rules import compile_rule, validate
from services.lifecycle.service import Lifecycle

_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
MAX_SAMPLE = 100


@dataclass(frozen=True, slots=True)
class Preview:
    count: int
    sample: tuple[CustomerValue, ...]


class RuleSegments:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], lifecycle: Lifecycle) -> None:
        self._sessions = sessionmaker
        self._lifecycle = lifecycle

    async def upsert(self, key: str, name: str, description: str | None, rule: Any) -> Segment:
        """Create or redefine a segment by ``rule`` (None turns it back into a hand-managed one).
        Members are recomputed at once, set-based; afterwards every event batch and recompute
        keeps them current."""
        if not _KEY.match(key):
            raise InvalidInput("key", "must be 1-100 letters, digits or _ . : -")
        if not name.strip() or len(name) > 200:
            raise InvalidInput("name", "must be 1-200 characters")
        if rule is not None:
            validate(rule)
        async with self._sessions.begin() as session:
            row = await segment_repo.by_key(session, key)
            if row is None:
                row = SegmentRow(key=key, name=name, description=description, rule=rule)
                session.add(row)
            else:
                row.name, row.description, row.rule = name, description, rule
            await session.flush()
            if rule is not None:
                await refresh_segment(session, row.id, rule, None, self._lifecycle.clock())
            count = await session.scalar(
                select(func.count()).select_from(SegmentMember).where(SegmentMember.segment_id == row.id)
            )
            return mapping.segment(row, int(count or 0))

    async def preview(self, rule: Any, *, sample: int = 10) -> Preview:
        """How many customers ``rule`` selects now, and the first few by id; nothing is saved."""
        if not 0 <= sample <= MAX_SAMPLE:
            raise InvalidInput("sample", f"must be between 0 and {MAX_SAMPLE}, got {sample}")
        async with self._sessions() as session:
            condition = compile_rule(rule, dialect=dialect_name(session), now=self._lifecycle.clock())
            count = await session.scalar(select(func.count()).select_from(matching(condition).subquery()))
            ids = list((await session.scalars(matching(condition).order_by(Customer.id).limit(sample))).all())
            rows = (await session.scalars(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id))).all()
        return Preview(count=int(count or 0), sample=tuple(mapping.customer(r) for r in rows))
