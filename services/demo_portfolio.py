"""The demo portfolio generator: customers, referrals and two years of events, all in numpy.

Vectorised over customers; every time is in days relative to now, so always negative. The same
generator state gives the same portfolio: draws happen in a fixed order, so reordering them
changes every seed's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from services.demo_catalogue import (
    CATALOGUE,
    CHANNEL_P,
    COMPLAINTS,
    CONTACT_CHANNELS,
    CONTACT_REASONS,
    LEVEL_P,
    LEVELS,
    REASON_P,
    REASONS,
    SIGNUP_CHANNELS,
)
from services.demo_profiles import Profile, profiles
from services.domain import CHANNELS

_EVENT_FIELDS = ("amount", "category", "score", "channel", "direction", "reason")

# Every generated moment lies strictly before `now` (days are negative offsets from it).
EPS = 1e-5


class Events:
    """Event columns gathered per type, then put in (customer, time) order once."""

    def __init__(self) -> None:
        self._parts: list[dict[str, Any]] = []

    def add(self, kind: str, owner: np.ndarray, days: np.ndarray, **fields: Any) -> None:
        self._parts.append({"type": kind, "owner": owner, "days": np.minimum(days, -EPS), **fields})

    def finish(self) -> None:
        owner = np.concatenate([p["owner"] for p in self._parts])
        days = np.concatenate([p["days"] for p in self._parts])
        order = np.lexsort((days, owner))
        self.owner, self.days = owner[order], days[order]
        self.types = np.concatenate([np.full(len(p["owner"]), p["type"]) for p in self._parts])[
            order
        ]
        for name in _EVENT_FIELDS:
            column = np.concatenate([_column(p, name) for p in self._parts])[order]
            setattr(self, name, column.tolist())

    def __len__(self) -> int:
        return len(self.owner)


def _column(part: dict[str, Any], name: str) -> np.ndarray:
    value = part.get(name)
    if value is None:
        return np.full(len(part["owner"]), None, dtype=object)
    return np.asarray(value, dtype=object)


@dataclass(slots=True)
class Portfolio:
    """Customers by index (0..n-1) in creation order; ``referrer`` is an index, or -1 for none."""

    seed: int
    created: np.ndarray
    channel: np.ndarray
    referrer: np.ndarray
    profile: list[Profile]
    events: Events
    vip: np.ndarray
    newsletter: np.ndarray

def generate_portfolio(rng: np.random.Generator, n: int, seed: int) -> Portfolio:
    """``n`` customers drawn from ``rng``; ``seed`` only names them (``demo-<seed>-<n>``)."""
    created = np.sort(-730.0 * rng.random(n) ** 1.3)
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_P)
    channel[0] = 0 if channel[0] == 1 else channel[0]
    # Referrers are earlier customers, picked by a heavy-tailed propensity: a few refer many.
    propensity = np.cumsum(rng.pareto(1.2, n) + 0.01)
    referred = np.flatnonzero(channel == 1)
    referrer = np.full(n, -1)
    referrer[referred] = np.searchsorted(
        propensity, rng.random(len(referred)) * propensity[referred - 1], side="right"
    )

    signup = created + rng.exponential(3.0, n)
    signed = (rng.random(n) > 0.06) & (signup < 0)
    first = signup + rng.exponential(12.0, n)
    buyer = signed & (rng.random(n) < 0.88) & (first < 0)
    gap = rng.lognormal(np.log(55.0), 0.7, n)
    churn_at = first + rng.exponential(260.0, n)
    churner = buyer & (rng.random(n) < 0.35) & (churn_at < 0)
    active_end = np.where(churner, churn_at, 0.0)
    back_at = churn_at + 30.0 + rng.exponential(150.0, n)
    returner = churner & (rng.random(n) < 0.3) & (back_at < -1.0)
    back_end = np.minimum(0.0, back_at + rng.exponential(120.0, n))

    level = rng.choice(len(LEVELS), size=n, p=LEVEL_P)
    spend = rng.lognormal(0.0, 0.35, n) * (1.6 - 0.18 * level)
    favourite = rng.integers(0, len(CATALOGUE), n)
    events = Events()
    idx = np.arange(n)

    events.add(
        "SIGNUP",
        idx[signed],
        signup[signed],
        channel=rng.choice(SIGNUP_CHANNELS, size=signed.sum(), p=(0.5, 0.3, 0.15, 0.05)),
    )
    trial = signed & (rng.random(n) < 0.3)
    events.add(
        "TRIAL_STARTED",
        idx[trial],
        signup[trial] + rng.exponential(1.0, trial.sum()),
        category=[CATALOGUE[f][0] for f in favourite[trial]],
    )
    counts = np.where(buyer, rng.poisson(np.maximum(active_end - first, 0) / gap), 0)
    back_counts = np.where(returner, 1 + rng.poisson(np.maximum(back_end - back_at, 0) / gap), 0)
    owners = np.concatenate(
        [idx[buyer], np.repeat(idx, counts), idx[returner], np.repeat(idx, back_counts - returner)]
    )
    starts = np.concatenate(
        [
            first[buyer],
            first[np.repeat(idx, counts)],
            back_at[returner],
            back_at[np.repeat(idx, back_counts - returner)],
        ]
    )
    ends = np.concatenate(
        [
            first[buyer],
            active_end[np.repeat(idx, counts)],
            back_at[returner],
            back_end[np.repeat(idx, back_counts - returner)],
        ]
    )
    days = starts + (ends - starts) * rng.random(len(owners))
    # Mostly the favourite product; a third of purchases are cross-sell from the catalogue.
    product = np.where(
        rng.random(len(owners)) < 0.66,
        favourite[owners],
        rng.integers(0, len(CATALOGUE), len(owners)),
    )
    price = (
        np.array([p for _, p in CATALOGUE])[product]
        * spend[owners]
        * rng.lognormal(0.0, 0.3, len(owners))
    )
    events.add(
        "PURCHASE",
        owners,
        days,
        amount=np.round(price, 2).tolist(),
        category=[CATALOGUE[p][0] for p in product],
    )

    live = idx[signed]
    surveys = np.repeat(live, rng.poisson(1.0 + 0.5 * buyer[live]))
    mood = np.where(churner[surveys], 5.0, 8.3)
    events.add(
        "SURVEY",
        surveys,
        _between(rng, signup[surveys], active_end[surveys]),
        score=np.clip(np.round(rng.normal(mood, 1.8)), 0, 10).astype(int).tolist(),
        channel=rng.choice(CONTACT_CHANNELS, size=len(surveys)),
    )
    # Complaints pile up among future churners, and late in their life.
    complaints = np.repeat(live, rng.poisson(np.where(churner[live], 1.2, 0.2)))
    late = signup[complaints] + (active_end[complaints] - signup[complaints]) * np.sqrt(
        rng.random(len(complaints))
    )
    picked = rng.integers(0, len(COMPLAINTS), len(complaints))
    events.add(
        "COMPLAINT",
        complaints,
        late,
        category=[COMPLAINTS[p][0] for p in picked],
        reason=[COMPLAINTS[p][1] for p in picked],
        channel=rng.choice(CONTACT_CHANNELS, size=len(complaints)),
    )
    contacts = np.repeat(live, rng.poisson(1.5, len(live)))
    events.add(
        "CONTACT",
        contacts,
        _between(rng, signup[contacts], np.zeros(len(contacts))),
        channel=rng.choice(CONTACT_CHANNELS, size=len(contacts), p=(0.5, 0.3, 0.2)),
        direction=rng.choice(("INBOUND", "OUTBOUND"), size=len(contacts), p=(0.45, 0.55)),
        reason=rng.choice(CONTACT_REASONS, size=len(contacts)),
    )
    cancels = idx[churner & (rng.random(n) < 0.7)]
    events.add(
        "SUBSCRIPTION_CANCELLED",
        cancels,
        churn_at[cancels],
        reason=rng.choice(REASONS, size=len(cancels), p=REASON_P),
        category=[CATALOGUE[f][0] for f in favourite[cancels]],
    )
    events.finish()

    purchase = events.types == "PURCHASE"
    total = np.bincount(
        events.owner[purchase],
        weights=np.array(events.amount, dtype=object)[purchase].astype(float),
        minlength=n,
    )
    vip = np.sort(np.argsort(-total, kind="stable")[: max(1, n // 20)])
    newsletter = np.flatnonzero(rng.random(n) < 0.3)
    people = profiles(rng, n, level)
    # Prospects who never signed up are known only by name: giving an email or a phone would
    # already place them in ACQUISITION, so they keep none.
    signed_up = np.zeros(n, dtype=bool)
    signed_up[events.owner[events.types == "SIGNUP"]] = True
    people = [p if signed_up[i] else (p[0], None, None, *p[3:]) for i, p in enumerate(people)]
    return Portfolio(seed, created, channel, referrer, people, events, vip, newsletter)


def _between(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    return start + np.maximum(end - start, 0.0) * rng.random(len(start))

