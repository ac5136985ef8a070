"""Lever catalogue and decision point configuration."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DecisionPoint as DecisionPointRow
from db.repositories import offer_features as feature_repo
from db.repositories import offers as repo
from db.base import utcnow
from engine import EngineError, FeatureEncoder, InvalidPolicyConfig
from engine.features import check_feature_name
from services.errors import InvalidInput
from services.offers import features, guardrails, mapping
from services.offers.eligibility import compile_rule
from services.offers.values import (
    LEVER_KINDS,
    REWARDS,
    DecisionPoint,
    DecisionPointDraft,
    Lever,
    LeverDraft,
    PolicyArm,
)
from services.offers.errors import UnknownDecisionPoint

KEY_MAX = 64
ENCODER_SAMPLE = 2000
MAX_LEVERS = 50
MAX_FEATURES = 50



def _check_key(field: str, key: str) -> None:
    if not key or len(key) > KEY_MAX or not all(c.isalnum() or c in "_-." for c in key):
        raise InvalidInput(field, f"must be 1-{KEY_MAX} letters, digits, '_', '-' or '.', got {key!r}")


def _check_amount(field: str, value: float, upper: float | None = None) -> None:
    if not math.isfinite(value) or value < 0 or (upper is not None and value > upper):
        bound = f"between 0 and {upper:g}" if upper is not None else "a finite number >= 0"
        raise InvalidInput(field, f"must be {bound}, got {value}")


def check_lever(draft: LeverDraft) -> None:
    _check_key("key", draft.key)
    if not draft.name.strip():
        raise InvalidInput("name", "must not be blank")
    if draft.kind not in LEVER_KINDS:
        raise InvalidInput("kind", f"must be one of {list(LEVER_KINDS)}, got {draft.kind!r}")
    _check_amount("discountPercent", draft.discount_percent, 100)
    _check_amount("costPercentOfValue", draft.cost_percent_of_value, 100)
    _check_amount("unitCost", draft.unit_cost)
    _check_amount("contactCost", draft.contact_cost)
    if not math.isfinite(draft.weight) or draft.weight <= 0:
        raise InvalidInput("weight", f"must be a finite number > 0, got {draft.weight}")
    if draft.eligibility is not None:
        compile_rule(draft.eligibility, "eligibility")


class Catalog:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessionmaker
        self.clock = clock

    async def upsert_lever(self, draft: LeverDraft) -> Lever:
        """Create or replace a lever by key. An inactive lever is never chosen anywhere."""
        check_lever(draft)
        row = {
            "key": draft.key,
            "name": draft.name.strip(),
            "kind": draft.kind,
            "discount_percent": draft.discount_percent,
            "unit_cost": draft.unit_cost,
            "cost_percent_of_value": draft.cost_percent_of_value,
            "contact_cost": draft.contact_cost,
            "active": draft.active,
            "eligibility": draft.eligibility,
            "weight": draft.weight,
        }
        async with self._sessions.begin() as session:
            stored = await repo.upsert_lever(session, row, self.clock())
            return mapping.lever(stored)

    async def levers(self) -> list[Lever]:
        async with self._sessions() as session:
            return [mapping.lever(row) for row in await repo.all_levers(session)]

    async def levers_by_keys(self, keys: list[str]) -> dict[str, Lever]:
        async with self._sessions() as session:
            return {row.key: mapping.lever(row) for row in await repo.levers_by_keys(session, keys)}

    async def decision_points(self) -> list[DecisionPoint]:
        async with self._sessions() as session:
            return [mapping.decision_point(row) for row in await repo.all_decision_points(session)]

    async def configure(self, draft: DecisionPointDraft) -> DecisionPoint:
        """Create or reconfigure a decision point.

        The feature encoder is fitted here, once, on a sample of the customer base (and on
        ``context_examples`` for ``context.*`` features), and frozen. Changing features, policy or
        reward (or asking to ``refit``) bumps ``version``: a fresh model starts learning from
        outcomes of the new version only. Changing levers keeps the model: removed levers are
        retired with their statistics, re-added ones come back with them.
        """
        config = self._checked(draft)
        now = self.clock()
        async with self._sessions.begin() as session:
            known = {row.key: row for row in await repo.levers_by_keys(session, draft.levers)}
            missing = [key for key in draft.levers if key not in known]
            if missing:
                raise InvalidInput("levers", f"unknown lever {missing[0]!r}: create it with upsertLever first")
            row = await repo.decision_point(session, draft.key, lock=True)
            champion = row.config.get("champion", "main") if row is not None else "main"
            rails = replace(draft.guardrails, champion=champion)
            guardrails.check(rails, {k: mapping.lever(v) for k, v in known.items()}, draft.levers)
            config.update(mapping.guardrails_to_json(rails))
            learned = ("features", "policy", "reward", "objective")
            if row is None:
                row = DecisionPointRow(
                    key=draft.key,
                    name=draft.name or draft.key,
                    config=config,
                    known_levers=list(draft.levers),
                    version=1,
                    encoder=await self._fit(session, draft),
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
            else:
                old_arms, new_arms = guardrails.arm_policies(row.config), guardrails.arm_policies(config)
                retrained = any(old_arms[name] != new_arms[name] for name in old_arms.keys() & new_arms.keys())
                if draft.refit or retrained or any(row.config.get(k, "REWARD") != config[k] for k in learned):
                    row.version += 1
                    row.encoder = await self._fit(session, draft)
                    row.known_levers = list(draft.levers)
                else:
                    row.known_levers = [*row.known_levers, *(k for k in draft.levers if k not in row.known_levers)]
                row.config = config
                row.name = draft.name or row.name
                row.updated_at = now
            await session.flush()
            return mapping.decision_point(row)

    async def promote(self, key: str, arm: str) -> DecisionPoint:
        """Make challenger ``arm`` the champion: it takes the champion's traffic and keeps its
        model; the old champion takes the challenger's place (share or shadow) with its model.
        Nothing is retrained, so the configuration version stays."""
        async with self._sessions.begin() as session:
            row = await repo.decision_point(session, key, lock=True)
            if row is None:
                raise UnknownDecisionPoint(key)
            rails = mapping.guardrails_from_json(row.config)
            if arm == rails.champion:
                return mapping.decision_point(row)
            challenger = next((a for a in rails.challengers if a.name == arm), None)
            if challenger is None:
                known = [a.name for a in rails.challengers]
                raise InvalidInput("arm", f"{arm!r} is not a challenger of {key!r}; challengers: {known}")
            old = PolicyArm(rails.champion, mapping.policy_from_json(row.config["policy"]), challenger.traffic_percent, challenger.shadow)
            promoted = replace(
                rails, champion=arm, challengers=tuple(old if a.name == arm else a for a in rails.challengers)
            )
            row.config = {
                **row.config, **mapping.guardrails_to_json(promoted), "policy": mapping.policy_to_json(challenger.policy)
            }
            row.updated_at = self.clock()
            await session.flush()
            return mapping.decision_point(row)

    def _checked(self, draft: DecisionPointDraft) -> dict[str, Any]:
        _check_key("key", draft.key)
        if not draft.levers:
            raise InvalidInput("levers", "must name at least one lever")
        if len(draft.levers) > MAX_LEVERS or len(set(draft.levers)) != len(draft.levers):
            raise InvalidInput("levers", f"must be at most {MAX_LEVERS} distinct lever keys")
        if len(draft.features) > MAX_FEATURES or len(set(draft.features)) != len(draft.features):
            raise InvalidInput("features", f"must be at most {MAX_FEATURES} distinct feature names")
        for name in draft.features:
            try:
                check_feature_name(name)
            except EngineError as exc:
                raise InvalidInput("features", str(exc)) from None
        if draft.reward not in REWARDS:
            raise InvalidInput("reward", f"must be one of {list(REWARDS)}, got {draft.reward!r}")
        if not math.isfinite(draft.reward_window_hours) or draft.reward_window_hours <= 0:
            raise InvalidInput("rewardWindowHours", f"must be > 0, got {draft.reward_window_hours}")
        if not math.isfinite(draft.default_reward):
            raise InvalidInput("defaultReward", "must be a finite number")
        try:
            mapping.engine_policy(draft.policy)
        except InvalidPolicyConfig as exc:
            raise InvalidInput(f"policy.{_camel(exc.field)}", exc.message) from None
        if draft.policy.kind == "THOMPSON" and draft.reward != "ACCEPTED" and draft.policy.success_threshold is None:
            raise InvalidInput("policy.successThreshold", "THOMPSON learns 0/1: set it to binarise revenue rewards")
        for example in draft.context_examples:
            features.check_context(example)
        return {
            "levers": list(draft.levers),
            "policy": mapping.policy_to_json(draft.policy),
            "features": list(draft.features),
            "reward": draft.reward,
            "rewardWindowHours": draft.reward_window_hours,
            "defaultReward": draft.default_reward,
        }

    async def _fit(self, session: AsyncSession, draft: DecisionPointDraft) -> dict[str, Any]:
        now = self.clock()
        facts = await feature_repo.sample(session, ENCODER_SAMPLE, **features.needs(draft.features))
        rows = [features.profile_row(f, draft.features, now) for f in facts]
        rows.extend(features.check_context(example) for example in draft.context_examples)
        try:
            return FeatureEncoder.fit(draft.features, rows).to_dict()
        except EngineError as exc:
            raise InvalidInput("features", str(exc)) from None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
