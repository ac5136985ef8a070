"""Live feeds over graphql-transport-ws: alerts as they are raised, for campaign systems."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.context import Info
from api.permissions import FOR_CAMPAIGNS
from api.lifecycle_queries import AlertFilter
from api.types.lifecycle import Alert
from services.lifecycle.values import Alert as AlertValue


@strawberry.type
class Subscription:
    @strawberry.subscription(permission_classes=[FOR_CAMPAIGNS], description="Every alert raised from now on that matches the filter (type, status; stage and tier are read when the alert is raised).")
    async def alert_raised(self, info: Info, filter: AlertFilter | None = None) -> AsyncGenerator[Alert, None]:
        where = filter.to_filter() if filter else None
        services = info.context.services

        def accept(alert: AlertValue) -> bool:
            if where is None:
                return True
            if where.type is not None and alert.type != where.type:
                return False
            return where.status is None or alert.status == where.status

        async for alert in services.lifecycle.broadcaster.subscribe(accept):
            if where is not None and (where.stage or where.tier):
                standing = await services.lifecycle.stage_and_tier(alert.customer_id)
                if where.stage is not None and standing[0] != where.stage:
                    continue
                if where.tier is not None and standing[1] != where.tier:
                    continue
            yield Alert.from_domain(alert)
