"""Segments and stage counts."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.types.enums import Stage
from services import domain


@strawberry.type
class Segment:
    key: str
    name: str
    description: str | None
    member_count: int | None = strawberry.field(
        description="Members now; only filled where the query lists segments with counts."
    )

    @classmethod
    def from_domain(cls, segment: domain.Segment) -> Segment:
        return cls(
            key=segment.key,
            name=segment.name,
            description=segment.description,
            member_count=segment.member_count,
        )


@strawberry.type
class StageCount:
    stage: Stage
    count: int

    @classmethod
    def from_domain(cls, value: domain.StageCount) -> StageCount:
        return cls(stage=Stage(value.stage), count=value.count)


@strawberry.type
class StageChange:
    from_stage: Stage | None
    to_stage: Stage
    at: datetime
    reason: str | None
    rule: str = strawberry.field(description='"operator" for manual moves, else the rule that fired.')

    @classmethod
    def from_domain(cls, change: domain.StageChange) -> StageChange:
        return cls(
            from_stage=Stage(change.from_stage) if change.from_stage else None,
            to_stage=Stage(change.to_stage),
            at=change.at,
            reason=change.reason,
            rule=change.rule,
        )
