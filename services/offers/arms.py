"""Champion / challenger / shadow: promotion and the per-arm report.

Each arm is its own model in the registry, keyed by (decision point, arm), learning only from the
decisions it served (``decisions.policy_arm``); promotion swaps roles in the configuration and
never touches a model, so nothing learned is lost.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import offers as repo
from db.repositories import policy_arms as arm_repo
from services.offers import mapping
from services.offers.catalog import Catalog
from services.offers.errors import UnknownDecisionPoint
from services.offers.values import DecisionPoint, PolicyArmReport


class PolicyArms:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], catalog: Catalog) -> None:
        self._sessions = sessionmaker
        self._catalog = catalog

    async def promote(self, point_key: str, arm: str) -> DecisionPoint:
        """Make ``arm`` the champion of ``point_key`` (see ``Catalog.promote``)."""
        return await self._catalog.promote(point_key, arm)

    async def report(self, point_key: str) -> list[PolicyArmReport]:
        """Every configured arm, champion first, over the current configuration version's decisions:
        what it served and earned; for the shadow, how often it agreed with what was served and the
        reward it expected from its own choices next to what the serving arms expected."""
        async with self._sessions() as session:
            row = await repo.decision_point(session, point_key)
            if row is None:
                raise UnknownDecisionPoint(point_key)
            point = mapping.decision_point(row)
            served = {r[0]: r for r in await arm_repo.served(session, point.id, point.version)}
            shadows = {r[0]: r for r in await arm_repo.shadows(session, point.id, point.version)}
        rails = point.guardrails
        traffic = {rails.champion: rails.champion_traffic, **{a.name: a.traffic_percent for a in rails.challengers}}
        shadow_arms = {a.name for a in rails.challengers if a.shadow}
        out = []
        for name in point.arms:
            s = served.get(name)
            sh = shadows.get(name)
            out.append(
                PolicyArmReport(
                    name=name,
                    champion=name == rails.champion,
                    shadow=name in shadow_arms,
                    traffic_percent=traffic[name],
                    decisions=int(s[1]) if s else 0,
                    outcomes=int(s[2]) if s else 0,
                    accepted=int(s[3]) if s else 0,
                    reward=float(s[4]) if s else 0.0,
                    scored=int(sh[1]) if sh else 0,
                    agreements=int(sh[2]) if sh else 0,
                    expected_reward=float(sh[3]) if sh else (float(s[5]) if s and s[5] is not None else None),
                    served_expected_reward=float(sh[4]) if sh else None,
                )
            )
        return out
