"""A believable, reproducible demo portfolio: customers, two years of events, stages and segments.

Everything random comes from ``numpy.random.default_rng(seed)`` and every time is relative to
``now``, which defaults to the fixed ``DEMO_NOW`` (2026-11-01T00:00Z), so one seed always yields
the same portfolio. The data is generated valid, so the loader skips the per-item checks and
writes through the driver's bulk path (COPY on PostgreSQL, executemany on SQLite).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer as CustomerRow
from services.domain import CHANNELS, STAGES

if TYPE_CHECKING:
    from services.container import Services

DEMO_NOW = datetime(2026, 11, 1, tzinfo=UTC)
RULE = "demo"
_CHUNK = 10_000
_CHUNKS_PER_TRANSACTION = 5

# The provisional lifecycle rule, in days, until the lifecycle engine lands.
LAPSE_DAYS = 180.0
REACTIVATED_DAYS = 90.0
LOYAL_DAYS = 365.0
LOYAL_PURCHASES = 6
_EPS = 1e-5
SIGNUP, PURCHASE, CANCEL = 0, 1, 2
_KINDS = {
    "SIGNUP": SIGNUP,
    "TRIAL_STARTED": SIGNUP,
    "PURCHASE": PURCHASE,
    "SUBSCRIPTION_CANCELLED": CANCEL,
}


@dataclass(frozen=True, slots=True)
class DemoSummary:
    customers: int
    events: dict[str, int]
    referrals: int
    stages: dict[str, int]
    stage_changes: int
    segments: dict[str, int]


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
    walked = _walk(kinds, days, (created_at - now) / timedelta(days=1), 0.0)
    return [(stage, now + timedelta(days=day)) for stage, day in walked]


def _walk(
    kinds: Sequence[int], days: Sequence[float], created: float, now: float
) -> list[tuple[str, float]]:
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
            clocks.append(last + LAPSE_DAYS + _EPS)
        if reactivated is not None:
            clocks.append(reactivated + REACTIVATED_DAYS + _EPS)
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
    settle(previous, now + _EPS)
    return path


async def generate_demo(
    services: Services,
    *,
    customers: int = 5000,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Generate and store a demo portfolio of about ``customers`` customers.

    The same ``seed`` and ``now`` give the same rows. Customers are written in one transaction,
    then events, stage history and segment members in transactions of a few bulk chunks, so a
    failure may leave the events partly loaded. ``progress(rows_done, rows_total)`` is called
    after every chunk. ExternalIds are ``demo-<seed>-<n>``: loading one seed twice fails.
    """
    if customers < 1:
        raise ValueError(f"`customers` must be >= 1, got {customers}")
    now = (now or DEMO_NOW).astimezone(UTC)
    portfolio = _generate(np.random.default_rng(seed), customers, seed)
    paths = _stage_paths(portfolio)
    segments = {
        "vip": ("Clientes VIP", "Top 5% by demo spend", portfolio.vip),
        "newsletter": ("Newsletter", "Opted in to the newsletter (demo)", portfolio.newsletter),
    }
    segment_ids = {}
    for key, (name, description, _) in segments.items():
        segment_ids[key] = (await services.segments.upsert(key, name, description)).id

    writer = _Writer(services, now, progress)
    async with services.sessions.begin() as session:
        ids = await _reserve_ids(session, customers)
        writer.total = (
            customers
            + len(portfolio.events)
            + sum(len(p) for p in paths)
            + sum(len(members) for *_, members in segments.values())
        )
        await writer.write(
            session, "customers", _CUSTOMER_COLUMNS, portfolio.customer_rows(ids, paths, writer)
        )
    await writer.write_in_transactions("events", _EVENT_COLUMNS, portfolio.event_rows(ids, writer))
    changes = [
        (int(ids[i]), before, after, at)
        for i, path in enumerate(paths)
        for (before, _), (after, at) in zip([(None, 0.0), *path], path)
    ]
    await writer.write_in_transactions(
        "stage_changes",
        ("customer_id", "from_stage", "to_stage", "at", "reason", "rule"),
        [(cid, before, after, writer.stamp(at), None, RULE) for cid, before, after, at in changes],
    )
    members = [
        (segment_ids[key], int(ids[i]), writer.stamp(0.0))
        for key, (*_, chosen) in segments.items()
        for i in chosen
    ]
    await writer.write_in_transactions(
        "segment_members", ("segment_id", "customer_id", "added_at"), members
    )
    stages = [path[-1][0] for path in paths]
    return DemoSummary(
        customers=customers,
        events={
            str(t): int(n) for t, n in zip(*np.unique(portfolio.events.types, return_counts=True))
        },
        referrals=int((portfolio.referrer >= 0).sum()),
        stages={s: stages.count(s) for s in STAGES if s in stages},
        stage_changes=len(changes),
        segments={key: len(chosen) for key, (*_, chosen) in segments.items()},
    )


async def load_demo_if_empty(
    services: Services, *, customers: int = 5000, seed: int = 7
) -> DemoSummary | None:
    """Load the demo portfolio only into a database with no customers; None when it had some."""
    async with services.sessions() as session:
        if await session.scalar(select(func.count()).select_from(CustomerRow)):
            return None
    return await generate_demo(services, customers=customers, seed=seed)


def _stage_paths(portfolio: _Portfolio) -> list[list[tuple[str, float]]]:
    owner, kinds, days = portfolio.lifecycle()
    bounds = np.searchsorted(owner, np.arange(len(portfolio.created) + 1)).tolist()
    kinds_list, days_list, created = kinds.tolist(), days.tolist(), portfolio.created.tolist()
    return [
        _walk(
            kinds_list[bounds[i] : bounds[i + 1]],
            days_list[bounds[i] : bounds[i + 1]],
            created[i],
            0.0,
        )
        for i in range(len(created))
    ]


async def _reserve_ids(session: AsyncSession, n: int) -> np.ndarray:
    # Explicit ids let referrals, events and history be built without reading rows back.
    if session.get_bind().dialect.name == "postgresql":
        query = text(
            "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, :n)"
        )
        return np.sort(np.array((await session.scalars(query, {"n": n})).all(), dtype=np.int64))
    top = await session.scalar(select(func.coalesce(func.max(CustomerRow.id), 0)))
    return np.arange(int(top or 0) + 1, int(top or 0) + 1 + n, dtype=np.int64)


class _Writer:
    """Bulk rows straight to the driver: the ORM's per-row work is what made loading slow."""

    def __init__(
        self, services: Services, now: datetime, progress: Callable[[int, int], None] | None
    ):
        self._services = services
        self._progress = progress
        self.postgres = services.engine.dialect.name == "postgresql"
        self.base = np.datetime64(now.replace(tzinfo=None), "s")
        self.done = self.total = 0

    def stamps(self, days: np.ndarray) -> list[Any]:
        """Days relative to now as the driver wants them: aware datetimes, or SQLite's text."""
        moments = self.base + np.round(np.asarray(days) * 86_400).astype("timedelta64[s]")
        if self.postgres:
            return [m.replace(tzinfo=UTC) for m in moments.astype("datetime64[us]").tolist()]
        return [s.replace("T", " ") + ".000000" for s in np.datetime_as_string(moments).tolist()]

    def stamp(self, day: float) -> Any:
        return self.stamps(np.array([day]))[0]

    async def write(
        self, session: AsyncSession, table: str, columns: Sequence[str], rows: list[tuple]
    ) -> None:
        connection = await session.connection()
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            if self.postgres:
                # asyncpg opens the transaction on the first statement; COPY must run inside it.
                await connection.execute(text("SELECT 1"))
                raw = await connection.get_raw_connection()
                await raw.driver_connection.copy_records_to_table(
                    table, columns=list(columns), records=chunk
                )
            else:
                marks = ", ".join("?" * len(columns))
                await connection.exec_driver_sql(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", chunk
                )
            self.done += len(chunk)
            if self._progress is not None:
                self._progress(self.done, self.total)

    async def write_in_transactions(
        self, table: str, columns: Sequence[str], rows: list[tuple]
    ) -> None:
        step = _CHUNK * _CHUNKS_PER_TRANSACTION
        for start in range(0, len(rows), step):
            async with self._services.sessions.begin() as session:
                await self.write(session, table, columns, rows[start : start + step])


# The portfolio generator: vectorised over customers, every time in days relative to now (< 0).
_FIRST_F = (
    "María",
    "Lucía",
    "Sofía",
    "Valentina",
    "Camila",
    "Martina",
    "Julia",
    "Paula",
    "Carmen",
    "Ana",
    "Laura",
    "Florencia",
    "Agustina",
    "Elena",
    "Marta",
    "Isabel",
    "Daniela",
    "Victoria",
)
_FIRST_M = (
    "Juan",
    "Santiago",
    "Mateo",
    "Hugo",
    "Martín",
    "Lucas",
    "Diego",
    "Javier",
    "Pablo",
    "Carlos",
    "Alejandro",
    "Tomás",
    "Facundo",
    "Nicolás",
    "Sergio",
    "Manuel",
    "Andrés",
    "Joaquín",
)
_SURNAMES = (
    "García",
    "Rodríguez",
    "González",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Díaz",
    "Álvarez",
    "Romero",
    "Ruiz",
    "Torres",
    "Navarro",
    "Sosa",
    "Benítez",
    "Acosta",
    "Medina",
    "Herrera",
    "Castro",
    "Vázquez",
    "Molina",
    "Ortiz",
)
_DOMAINS = ("gmail.com", "hotmail.com", "yahoo.es", "outlook.com", "correo.com.ar")
# (region, is Argentine, weight)
_REGIONS = (
    ("Madrid", False, 14),
    ("Cataluña", False, 12),
    ("Andalucía", False, 12),
    ("Comunidad Valenciana", False, 8),
    ("Galicia", False, 4),
    ("País Vasco", False, 4),
    ("Castilla y León", False, 3),
    ("Buenos Aires", True, 16),
    ("CABA", True, 10),
    ("Córdoba", True, 6),
    ("Santa Fe", True, 5),
    ("Mendoza", True, 3),
    ("Tucumán", True, 3),
)
# (product, median price in EUR)
_CATALOGUE = (
    ("cuenta premium", 12.0),
    ("seguros hogar", 38.0),
    ("seguro auto", 65.0),
    ("tarjeta de crédito", 25.0),
    ("fondo de inversión", 150.0),
    ("préstamo personal", 90.0),
    ("plan de pensiones", 120.0),
    ("asistencia en viaje", 18.0),
)
_LEVELS = ("ABC1", "C2", "C3", "D1", "D2", "E")
_LEVEL_P = (0.10, 0.18, 0.27, 0.24, 0.14, 0.07)
_PLANS = ("básico", "estándar", "premium")
_CHANNEL_P = (0.47, 0.38, 0.06, 0.05, 0.025, 0.015)
_REASONS = (
    "PRICE",
    "SERVICE_QUALITY",
    "COMPETITOR",
    "PRODUCT_FIT",
    "MOVED",
    "NO_LONGER_NEEDED",
    "OTHER",
)
_REASON_P = (0.30, 0.20, 0.18, 0.12, 0.06, 0.09, 0.05)
_COMPLAINTS = (
    ("facturación", "cobro duplicado"),
    ("atención al cliente", "espera excesiva"),
    ("producto", "no funciona como se prometió"),
    ("facturación", "subida de precio"),
    ("atención al cliente", "no resolvieron la incidencia"),
)
_CONTACT_REASONS = (
    "seguimiento",
    "consulta",
    "oferta de venta cruzada",
    "recuperación",
    "incidencia",
)
_SIGNUP_CHANNELS = ("WEB", "APP", "OFICINA", "TELEFONO")
_CONTACT_CHANNELS = ("EMAIL", "PHONE", "CHAT")
_CUSTOMER_COLUMNS = (
    "id",
    "external_id",
    "name",
    "email",
    "phone",
    "region",
    "attributes",
    "acquisition_channel",
    "referred_by_id",
    "stage",
    "stage_changed_at",
    "created_at",
    "updated_at",
    "erased_at",
)
_EVENT_COLUMNS = (
    "customer_id",
    "type",
    "occurred_at",
    "recorded_at",
    "amount",
    "currency",
    "category",
    "score",
    "channel",
    "direction",
    "reason",
    "payload",
    "idempotency_key",
)
_EVENT_FIELDS = ("amount", "category", "score", "channel", "direction", "reason")


class _Events:
    """Event columns gathered per type, then put in (customer, time) order once."""

    def __init__(self) -> None:
        self._parts: list[dict[str, Any]] = []

    def add(self, kind: str, owner: np.ndarray, days: np.ndarray, **fields: Any) -> None:
        self._parts.append(
            {"type": kind, "owner": owner, "days": np.minimum(days, -_EPS), **fields}
        )

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
class _Portfolio:
    seed: int
    created: np.ndarray
    channel: np.ndarray
    referrer: np.ndarray
    profile: list[tuple[str, str, str, str, str]]
    events: _Events
    vip: np.ndarray
    newsletter: np.ndarray

    def lifecycle(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stage-moving events as (customer index, kind, day), in (customer, time) order."""
        types = self.events.types
        moves = [types == "SIGNUP", types == "PURCHASE", types == "SUBSCRIPTION_CANCELLED"]
        kind = np.select(moves, [SIGNUP, PURCHASE, CANCEL], -1)
        keep = kind >= 0
        return self.events.owner[keep], kind[keep], self.events.days[keep]

    def customer_rows(
        self, ids: np.ndarray, paths: list[list[tuple[str, float]]], writer: _Writer
    ) -> list[tuple]:
        created = writer.stamps(self.created)
        changed = writer.stamps(np.array([path[-1][1] for path in paths]))
        referrer = [int(ids[r]) if r >= 0 else None for r in self.referrer.tolist()]
        return [
            (
                int(ids[i]),
                f"demo-{self.seed}-{i + 1:06d}",
                name,
                email,
                phone,
                region,
                attributes,
                CHANNELS[self.channel[i]],
                referrer[i],
                paths[i][-1][0],
                changed[i],
                created[i],
                changed[i],
                None,
            )
            for i, (name, email, phone, region, attributes) in enumerate(self.profile)
        ]

    def event_rows(self, ids: np.ndarray, writer: _Writer) -> list[tuple]:
        e = self.events
        stamps = writer.stamps(e.days)
        currency = ["EUR" if a is not None else None for a in e.amount]
        return list(
            zip(
                ids[e.owner].tolist(),
                e.types.tolist(),
                stamps,
                stamps,
                e.amount,
                currency,
                e.category,
                e.score,
                e.channel,
                e.direction,
                e.reason,
                ["{}"] * len(e),
                [None] * len(e),
            )
        )


def _generate(rng: np.random.Generator, n: int, seed: int) -> _Portfolio:
    created = np.sort(-730.0 * rng.random(n) ** 1.3)
    channel = rng.choice(len(CHANNELS), size=n, p=_CHANNEL_P)
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

    level = rng.choice(len(_LEVELS), size=n, p=_LEVEL_P)
    spend = rng.lognormal(0.0, 0.35, n) * (1.6 - 0.18 * level)
    favourite = rng.integers(0, len(_CATALOGUE), n)
    events = _Events()
    idx = np.arange(n)

    events.add(
        "SIGNUP",
        idx[signed],
        signup[signed],
        channel=rng.choice(_SIGNUP_CHANNELS, size=signed.sum(), p=(0.5, 0.3, 0.15, 0.05)),
    )
    trial = signed & (rng.random(n) < 0.3)
    events.add(
        "TRIAL_STARTED",
        idx[trial],
        signup[trial] + rng.exponential(1.0, trial.sum()),
        category=[_CATALOGUE[f][0] for f in favourite[trial]],
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
        rng.integers(0, len(_CATALOGUE), len(owners)),
    )
    price = (
        np.array([p for _, p in _CATALOGUE])[product]
        * spend[owners]
        * rng.lognormal(0.0, 0.3, len(owners))
    )
    events.add(
        "PURCHASE",
        owners,
        days,
        amount=np.round(price, 2).tolist(),
        category=[_CATALOGUE[p][0] for p in product],
    )

    live = idx[signed]
    surveys = np.repeat(live, rng.poisson(1.0 + 0.5 * buyer[live]))
    mood = np.where(churner[surveys], 5.0, 8.3)
    events.add(
        "SURVEY",
        surveys,
        _between(rng, signup[surveys], active_end[surveys]),
        score=np.clip(np.round(rng.normal(mood, 1.8)), 0, 10).astype(int).tolist(),
        channel=rng.choice(_CONTACT_CHANNELS, size=len(surveys)),
    )
    # Complaints pile up among future churners, and late in their life.
    complaints = np.repeat(live, rng.poisson(np.where(churner[live], 1.2, 0.2)))
    late = signup[complaints] + (active_end[complaints] - signup[complaints]) * np.sqrt(
        rng.random(len(complaints))
    )
    picked = rng.integers(0, len(_COMPLAINTS), len(complaints))
    events.add(
        "COMPLAINT",
        complaints,
        late,
        category=[_COMPLAINTS[p][0] for p in picked],
        reason=[_COMPLAINTS[p][1] for p in picked],
        channel=rng.choice(_CONTACT_CHANNELS, size=len(complaints)),
    )
    contacts = np.repeat(live, rng.poisson(1.5, len(live)))
    events.add(
        "CONTACT",
        contacts,
        _between(rng, signup[contacts], np.zeros(len(contacts))),
        channel=rng.choice(_CONTACT_CHANNELS, size=len(contacts), p=(0.5, 0.3, 0.2)),
        direction=rng.choice(("INBOUND", "OUTBOUND"), size=len(contacts), p=(0.45, 0.55)),
        reason=rng.choice(_CONTACT_REASONS, size=len(contacts)),
    )
    cancels = idx[churner & (rng.random(n) < 0.7)]
    events.add(
        "SUBSCRIPTION_CANCELLED",
        cancels,
        churn_at[cancels],
        reason=rng.choice(_REASONS, size=len(cancels), p=_REASON_P),
        category=[_CATALOGUE[f][0] for f in favourite[cancels]],
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
    return _Portfolio(
        seed, created, channel, referrer, _profiles(rng, n, level), events, vip, newsletter
    )


def _between(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    return start + np.maximum(end - start, 0.0) * rng.random(len(start))


def _profiles(
    rng: np.random.Generator, n: int, level: np.ndarray
) -> list[tuple[str, str, str, str, str]]:
    female = rng.random(n) < 0.51
    first = np.where(female, rng.integers(0, len(_FIRST_F), n), rng.integers(0, len(_FIRST_M), n))
    surnames = rng.integers(0, len(_SURNAMES), (n, 2))
    region = rng.choice(
        len(_REGIONS), size=n, p=np.array([w for *_, w in _REGIONS]) / sum(w for *_, w in _REGIONS)
    )
    domain = rng.integers(0, len(_DOMAINS), n)
    digits = rng.integers(0, 10**8, n)
    age = np.clip(np.round(rng.normal(42, 13, n)), 18, 85).astype(int)
    credit = np.clip(np.round(rng.normal(760 - 60 * level, 55)), 300, 850).astype(int)
    price_sensitive = rng.random(n) < 0.2 + 0.1 * level
    plan = np.minimum(2, np.maximum(0, np.round(2.2 - 0.5 * level + rng.normal(0, 0.6, n)))).astype(
        int
    )
    gender = np.where(female, "F", np.where(rng.random(n) < 0.02, "X", "M"))
    rows = []
    for i in range(n):
        given = (_FIRST_F if female[i] else _FIRST_M)[first[i]]
        family = f"{_SURNAMES[surnames[i, 0]]} {_SURNAMES[surnames[i, 1]]}"
        region_name, argentine, _ = _REGIONS[region[i]]
        handle = f"{_ascii(given)}.{_ascii(_SURNAMES[surnames[i, 0]])}{i + 1}".lower()
        d = int(digits[i])
        phone = (
            f"+54 9 11 {d // 10**4:04d}-{d % 10**4:04d}"
            if argentine
            else f"+34 6{d // 10**6:02d} {d // 1000 % 1000:03d} {d % 1000:03d}"
        )
        attributes = {
            "age": int(age[i]),
            "gender": str(gender[i]),
            "socioeconomicLevel": _LEVELS[level[i]],
            "creditScore": int(credit[i]),
            "priceSensitive": bool(price_sensitive[i]),
            "plan": _PLANS[plan[i]],
        }
        rows.append(
            (
                f"{given} {family}",
                f"{handle}@{_DOMAINS[domain[i]]}",
                phone,
                region_name,
                json.dumps(attributes),
            )
        )
    return rows


_ASCII = str.maketrans("áéíóúÁÉÍÓÚñÑü", "aeiouAEIOUnNu")


def _ascii(word: str) -> str:
    return word.translate(_ASCII)
