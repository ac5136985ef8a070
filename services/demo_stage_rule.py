"""The provisional stage rule the demo uses until the lifecycle engine lands.

Times inside the rule are days relative to ``now`` (negative in the past), so the portfolio
generator can walk thousands of customers without building datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

LAPSE_DAYS = 180.0
REACTIVATED_DAYS = 90.0
LOYAL_DAYS = 365.0
LOYAL_PURCHASES = 6
EPS = 1e-5
SIGNUP, PURCHASE, CANCEL = 0, 1, 2
_KINDS = {
    "SIGNUP": SIGNUP,
    "TRIAL_STARTED": SIGNUP,
    "PURCHASE": PURCHASE,
    "SUBSCRIPTION_CANCELLED": CANCEL,
}


def stage_from_history(
    history: Iterable[tuple[str, datetime]], *, created_at: datetime, now: datetime
) -> list[tuple[str, datetime]]:
    """Every stage a customer went through, in order, from their time-ordered event history.

    Provisional rule until the lifecycle engine lands: AWARENESS until signup, ACQUISITION until
    the first purchase, CONVERSION after one purchase, GROWTH after two, RETENTION with a year of
    tenure and six purchases, CHURNED after a cancellation or 180 days without a purchase, and
    REACTIVATED for 90 days after a purchase made while churned. Only SIGNUP, TRIAL_STARTED,
    PURCHASE and SUBSCRIPTION_CANCELLED events matter. The first item is (AWARENESS, created_at).
    """
    kinds: list[int] = []
    days: list[float] = []
    for event_type, at in history:
        if event_type in _KINDS:
            kinds.append(_KINDS[event_type])
            days.append((at - now) / timedelta(days=1))
    walked = walk(kinds, days, (created_at - now) / timedelta(days=1), 0.0)
    return [(stage, now + timedelta(days=day)) for stage, day in walked]


def walk(
    kinds: Sequence[int], days: Sequence[float], created: float, now: float
) -> list[tuple[str, float]]:
    """The stage path of one customer from their (kind, day) moves, days relative to ``now``."""
    signed = cancelled = False
    purchases = 0
    start = last = reactivated = None

    def stage(t: float) -> str:
        if purchases == 0:
            if cancelled:
                return "CHURNED"
            return "ACQUISITION" if signed else "AWARENESS"
        if cancelled or t - last > LAPSE_DAYS:  # type: ignore[operator]
            return "CHURNED"
        if reactivated is not None and t - reactivated <= REACTIVATED_DAYS:
            return "REACTIVATED"
        if purchases >= LOYAL_PURCHASES and t - start >= LOYAL_DAYS:  # type: ignore[operator]
            return "RETENTION"
        return "GROWTH" if purchases >= 2 else "CONVERSION"

    path = [("AWARENESS", created)]

    def note(t: float) -> None:
        current = stage(t)
        if current != path[-1][0]:
            path.append((current, t))

    def settle(after: float, until: float) -> None:
        # Between events the stage only moves when a clock runs out.
        clocks = []
        if last is not None:
            clocks.append(last + LAPSE_DAYS + EPS)
        if reactivated is not None:
            clocks.append(reactivated + REACTIVATED_DAYS + EPS)
        if start is not None:
            clocks.append(start + LOYAL_DAYS)
        for clock in sorted(clocks):
            if after < clock < until:
                note(clock)

    previous = created
    for kind, t in zip(kinds, days):
        settle(previous, t)
        if kind == PURCHASE:
            if stage(t) == "CHURNED":
                reactivated = t
            purchases, last, cancelled = purchases + 1, t, False
        elif kind == CANCEL:
            cancelled = True
        signed = True
        start = t if start is None else start
        note(t)
        previous = t
    settle(previous, now + EPS)
    return path
