"""Every use case wired to one sessionmaker: what the API and the CLI hold.

Reports and offline evaluation only read; given a ``read_engine`` (a streaming replica) they read
through it, so analysts' set-based scans stay off the primary. Everything else, including the
decision-log import, uses the primary.
"""

from __future__ import annotations

import os

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.session import make_lookup_sessionmaker, make_sessionmaker
from db.write_gate import WriteGate
from services.customers import Customers
from services.evaluation import Evaluation
from services.events import Events
from services.keys import DEFAULT_CACHE_SECONDS, ApiKeys
from services.lifecycle import config as lifecycle_config
from services.lifecycle.alerts import Alerts
from services.lifecycle.analytics import Analytics
from services.lifecycle.reasons import Reasons
from services.lifecycle.segments import RuleSegments
from services.lifecycle.service import DEFAULT_INLINE_MAX, Lifecycle
from services.offers import Offers
from services.reports import AlertReports, LeverReports, LeverRollup
from services.segments import Segments
from services.stages import Stages


@dataclass(frozen=True, slots=True)
class Services:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # The primary's sessions unless a read replica was given.
    read_sessions: async_sessionmaker[AsyncSession]
    customers: Customers
    events: Events
    lifecycle: Lifecycle
    alerts: Alerts
    rule_segments: RuleSegments
    reasons: Reasons
    analytics: Analytics
    segments: Segments
    stages: Stages
    offers: Offers
    lever_reports: LeverReports
    lever_rollup: LeverRollup
    alert_reports: AlertReports
    evaluation: Evaluation
    keys: ApiKeys

    @classmethod
    def build(
        cls, engine: AsyncEngine, *, worker: int = 0, read_engine: AsyncEngine | None = None,
        write_engine: AsyncEngine | None = None,
    ) -> Services:
        """``worker`` seeds this process's offer random streams (servers pass their pid).
        ``read_engine`` (default: ``engine``) serves the read-only report and evaluation queries;
        ``write_engine`` (db.session.make_writer_engine) the event batches and lifecycle passes
        that hold the SQLite write gate. Their owner disposes of them."""
        sessions = make_sessionmaker(engine)
        lookups = make_lookup_sessionmaker(engine)  # read-only lookups: autocommit on PostgreSQL
        read_sessions = make_sessionmaker(read_engine) if read_engine is not None else sessions
        gate = WriteGate(engine)  # one SQLite writer at a time in this process, queued in asyncio
        writes = make_sessionmaker(write_engine) if write_engine is not None else sessions
        lifecycle = Lifecycle(
            sessions,
            base_config=lifecycle_config.from_env(),
            inline_max=int(os.environ.get("CICLO_LIFECYCLE_INLINE_MAX", DEFAULT_INLINE_MAX)),
            write_gate=gate,
            lookups=lookups,
            writes=writes,
        )
        offers = Offers.build(sessions, worker=worker, write_gate=gate)
        return cls(
            engine=engine,
            sessions=sessions,
            read_sessions=read_sessions,
            customers=Customers(sessions, on_contact_data=lifecycle.on_events, lookups=lookups),
            events=Events(sessions, on_recorded=lifecycle.on_events, write_gate=gate, lookups=lookups, writes=writes),
            lifecycle=lifecycle,
            alerts=Alerts(sessions, lifecycle.now),
            rule_segments=RuleSegments(sessions, lifecycle),
            reasons=Reasons(sessions, lifecycle.now),
            analytics=Analytics(sessions, lifecycle.now),
            segments=Segments(sessions, lookups=lookups),
            stages=Stages(sessions),
            offers=offers,
            lever_reports=LeverReports(read_sessions),
            # Writes the rollup the reports read: on the primary (a replica receives it).
            lever_rollup=LeverRollup(sessions, write_gate=gate),
            alert_reports=AlertReports(read_sessions),
            evaluation=Evaluation.build(sessions, offers.registry, read_sessions=read_sessions),
            keys=ApiKeys(sessions, cache_seconds=float(os.environ.get("CICLO_KEY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))),
        )
