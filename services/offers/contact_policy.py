"""Contact policy: how often a customer may be offered something, and suppression after rejections.

* A contact is an ACTIVATED decision whose lever is an offer (not NO_ACTION), dated by its
  activation; deferred decisions count once activated, never-activated ones never do.
* Every decision point has a channel (``WEB`` unless configured) and may give some levers their
  own (``leverChannels``, e.g. PERSONAL_CALL on PHONE). A past contact's channel is read from the
  configuration as it is now.
* A limit is "at most ``max_contacts`` in ``period_days`` days", on one ``channel`` or (None) on
  every channel together. A decision point's limits count its own contacts; the global policy's
  (scope ``*``) count contacts from every decision point.
* The global policy may suppress a customer for ``suppression_days`` after ``rejections``
  reported rejections (outcomes not accepted; default rewards are not rejections) within
  ``rejection_window_days``.

``check`` runs in the transaction that logs the decision, after the insert, with the customer
locked (PostgreSQL advisory lock; SQLite's single writer), so two concurrent decisions for one
customer cannot both pass a limit. Policies are cached per process like budgets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utcnow
from db.repositories import contacts as repo
from db.repositories import offers as offer_repo
from services.errors import InvalidInput
from services.offers import mapping
from services.offers.refreshed import Refreshed
from services.offers.values import Decision

GLOBAL = "*"
DEFAULT_CHANNEL = "WEB"
MAX_LIMITS = 20
MAX_DAYS = 3660


@dataclass(frozen=True, slots=True)
class ContactLimit:
    max_contacts: int
    period_days: int
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class ContactPolicy:
    """``decision_point`` None is the global policy (the only one with suppression)."""

    decision_point: str | None = None
    channel: str = DEFAULT_CHANNEL
    lever_channels: dict[str, str] = field(default_factory=dict)
    limits: tuple[ContactLimit, ...] = ()
    rejections: int | None = None
    rejection_window_days: int | None = None
    suppression_days: int | None = None
    updated_at: datetime | None = None

    def channel_of(self, lever: str) -> str:
        return self.lever_channels.get(lever, self.channel)


def _check_channel(name: str, value: str) -> None:
    if not 1 <= len(value) <= 32 or not all(c.isupper() or c.isdigit() or c == "_" for c in value):
        raise InvalidInput(name, f"must be 1-32 capital letters, digits or '_' (EMAIL, SMS, PHONE, WEB...), got {value!r}")


def _check(policy: ContactPolicy) -> None:
    _check_channel("channel", policy.channel)
    for lever, channel in policy.lever_channels.items():
        _check_channel(f"leverChannels.{lever}", channel)
    if len(policy.limits) > MAX_LIMITS:
        raise InvalidInput("limits", f"at most {MAX_LIMITS} limits")
    for i, limit in enumerate(policy.limits):
        if limit.max_contacts < 0:
            raise InvalidInput(f"limits.{i}.maxContacts", f"must be >= 0, got {limit.max_contacts}")
        if not 1 <= limit.period_days <= MAX_DAYS:
            raise InvalidInput(f"limits.{i}.periodDays", f"must be between 1 and {MAX_DAYS}, got {limit.period_days}")
        if limit.channel is not None:
            _check_channel(f"limits.{i}.channel", limit.channel)
    suppression = (policy.rejections, policy.rejection_window_days, policy.suppression_days)
    if any(v is not None for v in suppression):
        if policy.decision_point is not None:
            raise InvalidInput("suppressAfterRejections", "only the global policy (no decisionPoint) suppresses")
        if None in suppression:
            raise InvalidInput("suppressAfterRejections", "give suppressAfterRejections, rejectionWindowDays and suppressionDays together")
        if not 1 <= policy.rejections <= 1000:  # type: ignore[operator]
            raise InvalidInput("suppressAfterRejections", f"must be between 1 and 1000, got {policy.rejections}")
        for name, days in (("rejectionWindowDays", policy.rejection_window_days), ("suppressionDays", policy.suppression_days)):
            if not 1 <= days <= MAX_DAYS:  # type: ignore[operator]
                raise InvalidInput(name, f"must be between 1 and {MAX_DAYS}, got {days}")


def _to_json(policy: ContactPolicy) -> dict[str, Any]:
    return {
        "channel": policy.channel,
        "leverChannels": dict(policy.lever_channels),
        "limits": [{"maxContacts": l.max_contacts, "periodDays": l.period_days, "channel": l.channel} for l in policy.limits],
        "rejections": policy.rejections,
        "rejectionWindowDays": policy.rejection_window_days,
        "suppressionDays": policy.suppression_days,
    }


def _from_row(row: Any) -> ContactPolicy:
    c = row.config
    return ContactPolicy(
        decision_point=None if row.scope == GLOBAL else row.scope,
        channel=c["channel"],
        lever_channels=dict(c["leverChannels"]),
        limits=tuple(ContactLimit(l["maxContacts"], l["periodDays"], l["channel"]) for l in c["limits"]),
        rejections=c["rejections"],
        rejection_window_days=c["rejectionWindowDays"],
        suppression_days=c["suppressionDays"],
        updated_at=row.updated_at,
    )


@dataclass(frozen=True, slots=True)
class Rules:
    """Every contact policy of a process, as of one refresh."""

    policies: dict[str | None, ContactPolicy]

    def applies_to(self, point: str) -> bool:
        glob = self.policies.get(None)
        local = self.policies.get(point)
        return bool((glob and (glob.limits or glob.rejections)) or (local and local.limits))

    def channel(self, point: str, lever: str) -> str:
        found = self.policies.get(point)
        return found.channel_of(lever) if found else DEFAULT_CHANNEL

    def lookback_days(self, point: str) -> int:
        limits = [*self._limits(None), *self._limits(point)]
        return max((l.period_days for l in limits), default=0)

    def _limits(self, scope: str | None) -> tuple[ContactLimit, ...]:
        found = self.policies.get(scope)
        return found.limits if found else ()


class ContactPolicies:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow, ttl: float = 1.0
    ) -> None:
        self._sessions = sessionmaker
        self.clock = clock
        self._rules = Refreshed(self._load_rules, ttl)

    @property
    def ttl(self) -> float:
        """Seconds this process keeps its copy before reading it again."""
        return self._rules.ttl

    @ttl.setter
    def ttl(self, seconds: float) -> None:
        self._rules.ttl = seconds

    async def configure(self, policy: ContactPolicy) -> ContactPolicy:
        """Replace the global policy (``decision_point`` None) or a decision point's."""
        _check(policy)
        async with self._sessions.begin() as session:
            if policy.decision_point is not None:
                if await offer_repo.decision_point(session, policy.decision_point) is None:
                    raise InvalidInput("decisionPoint", f"no decision point with key {policy.decision_point!r}")
            row = await repo.upsert_policy(session, policy.decision_point or GLOBAL, _to_json(policy), self.clock())
            stored = _from_row(row)
        self._rules.invalidate()
        return stored

    async def all(self) -> list[ContactPolicy]:
        async with self._sessions() as session:
            return [_from_row(row) for row in await repo.all_policies(session)]

    async def rules(self) -> Rules:
        """The policies of this process, re-read at most every ``ttl`` seconds."""
        return await self._rules.get()

    async def _load_rules(self) -> Rules:
        async with self._sessions() as session:
            found = {p.decision_point: p for p in map(_from_row, await repo.all_policies(session))}
        return Rules(found)

    async def history(self, customer_id: int, since: datetime | None, limit: int) -> list[tuple[Decision, str]]:
        """A customer's contact history, newest first: each activated decision with its channel."""
        rules = await self.rules()
        async with self._sessions() as session:
            rows = await repo.contacts(session, customer_id, since, limit)
            keys = await offer_repo.point_keys(session, [r.decision_point_id for r in rows]) if rows else {}
        return [(mapping.decision(r, keys[r.decision_point_id]), rules.channel(keys[r.decision_point_id], r.lever_key)) for r in rows]

    async def blocked(
        self,
        session: AsyncSession,
        rules: Rules,
        point: str,
        levers: dict[int, list[str]],
        now: datetime,
        is_offer: Callable[[str], bool],
        skip: Iterable[int] = (),
    ) -> dict[int, dict[str, tuple[str, datetime]]]:
        """Of the offer ``levers`` per customer id at ``point``, those the customer may not get
        now: {customer id: {lever: (rule, until)}}, only customers with some lever blocked.

        Locks the customers first (see ``repo.lock_customers``) and reads their history in one
        statement; ``skip`` names the decisions being checked (already inserted)."""
        glob = rules.policies.get(None)
        rejections_since = None
        if glob is not None and glob.rejections is not None:
            rejections_since = now - timedelta(days=glob.rejection_window_days + glob.suppression_days)  # type: ignore[operator]
        await repo.lock_customers(session, list(levers))
        rows = await repo.history(
            session, list(levers), contacts_since=now - timedelta(days=rules.lookback_days(point)),
            rejections_since=rejections_since, skip=list(skip),
        )
        by_customer: dict[int, list[Any]] = {}
        for row in rows:
            if is_offer(row.lever_key):
                by_customer.setdefault(row.customer_id, []).append(row)
        found = {}
        for customer_id, wanted in levers.items():
            blocked = _blocked(rules, point, wanted, by_customer.get(customer_id, []), now)
            if blocked:
                found[customer_id] = blocked
        return found


def _blocked(rules: Rules, point: str, levers: list[str], rows: list[Any], now: datetime) -> dict[str, tuple[str, datetime]]:
    glob = rules.policies.get(None)
    found: dict[str, tuple[str, datetime]] = {}
    suppressed: tuple[str, datetime] | None = None
    if glob is not None and glob.rejections is not None:
        times = sorted(r.outcome_at for r in rows if r.outcome_at is not None and r.accepted is False and r.source == "REPORTED")
        window = timedelta(days=glob.rejection_window_days)  # type: ignore[arg-type]
        span = glob.rejections
        for i in range(span - 1, len(times)):
            if times[i] - times[i - span + 1] <= window:
                until = times[i] + timedelta(days=glob.suppression_days)  # type: ignore[arg-type]
                if until > now and (suppressed is None or until > suppressed[1]):
                    rule = f"global: suppressed {glob.suppression_days} days after {span} rejections in {glob.rejection_window_days} days"
                    suppressed = (rule, until)
    contacts = [(r.point, rules.channel(r.point, r.lever_key), r.activated_at) for r in rows]
    scopes = [(None, glob), (point, rules.policies.get(point))]
    for lever in levers:
        channel = rules.channel(point, lever)
        worst = suppressed
        for scope, policy in scopes:
            for limit in policy.limits if policy else ():
                if limit.channel not in (None, channel):
                    continue
                since = now - timedelta(days=limit.period_days)
                times = sorted(
                    at for p, ch, at in contacts
                    if at > since and (scope is None or p == scope) and (limit.channel is None or ch == limit.channel)
                )
                if len(times) >= limit.max_contacts:
                    # allowed again once enough of these contacts leave the window
                    oldest = times[len(times) - limit.max_contacts] if limit.max_contacts else now
                    until = oldest + timedelta(days=limit.period_days) if limit.max_contacts else now + timedelta(days=limit.period_days)
                    name = f"{scope or 'global'}: at most {limit.max_contacts} in {limit.period_days} days on {limit.channel or 'any channel'}"
                    if worst is None or until > worst[1]:
                        worst = (name, until)
        if worst is not None:
            found[lever] = worst
    return found
