"""Deciding: one customer (``decide``) or many (``decide_batch``, one engine call per chunk)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import offer_features as feature_repo
from db.repositories import offers as repo
from db.base import utcnow
from engine import InvalidContext as EngineInvalidContext
from services.domain import ItemError
from services.coalesce import Coalescer, window_seconds
from services.errors import CustomerNotFound, InvalidInput, SegmentNotFound, ServiceError
from services.offers import choice, features, lever_guard, mapping
from services.offers.lever_guard import LeverGuard
from services.offers.errors import InvalidContext, NoEligibleLever, UnknownDecision, UnknownDecisionPoint
from services.offers.gate import WriteGate
from services.offers.guards import Guards, Plan, admit_batch
from services.offers.registry import ModelRegistry, Served
from services.offers.values import BatchDecisions, BatchRequest, DecideRequest, Decision, DecisionPoint, Lever

CHUNK = 1000
COALESCE_MAX = 64  # concurrent decide calls answered by one batch
MAX_BATCH = 10_000
REQUEST_ID_MAX = 128
_REFUSAL_FIELDS = {"BudgetExhausted": "budget", "ContactPolicyBlocked": "contactPolicy"}



class Decisions:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        registry: ModelRegistry,
        clock: Callable[[], datetime] = utcnow,
        gate: WriteGate | None = None,
        guards: Guards | None = None,
    ) -> None:
        self._sessions = sessionmaker
        self.registry = registry
        self.clock = clock
        self.gate = gate or WriteGate(sessionmaker)
        self.guards = guards
        self.coalescer: Coalescer[DecideRequest, Decision] = Coalescer(self._decide_together, max_batch=COALESCE_MAX, window=window_seconds())

    async def decide(self, request: DecideRequest) -> Decision:
        """Choose a lever for one customer and log the decision with its propensity (> 0).

        The same ``request_id`` at the same decision point returns the stored decision and writes
        nothing, also when two such requests race (the unique index decides, the loser re-reads).
        Concurrent calls for one decision point are answered together (see ``services.coalesce``):
        one feature query, one engine call per policy arm and one insert for all of them.
        """
        _check_request_id(request.request_id)
        features.check_context(request.context)
        if (request.customer_id is None) == (request.external_id is None):
            raise InvalidInput("externalId", "give exactly one of customerId and externalId")
        return await self.coalescer.submit(request.decision_point, request)

    async def _decide_together(self, key: Hashable, requests: Sequence[DecideRequest]) -> list[Decision | ServiceError]:
        """``decide`` for concurrent requests at one decision point; one result per request, in order.

        A customer named twice is decided in a second round, after the first decision is written,
        so the contact policy and budgets see them one after the other as if they came in turn."""
        results: list[Decision | ServiceError | None] = [None] * len(requests)
        # One connection for the whole batch: its reads, then each round's writes, which hold the
        # write gate and commit on their own (a second session per batch cost a pool checkout and
        # a rollback round trip to the driver thread).
        async with self._sessions() as session:
            point, levers = await self._point(session, str(key))
            guard = lever_guard.guard_for(point, levers)
            request_ids = [r.request_id for r in requests if r.request_id is not None]
            stored = {row.request_id: row for row in await repo.decisions_by_request(session, point.id, request_ids)} if request_ids else {}
            for i, request in enumerate(requests):
                if request.request_id in stored:
                    results[i] = await _settled(self._replayed(session, stored[request.request_id], point, request))
            facts = await self._facts(session, [r for i, r in enumerate(requests) if results[i] is None], _needs(point, guard))
            todo: list[tuple[int, Any]] = []
            for i, request in enumerate(requests):
                if results[i] is not None:
                    continue
                fact = facts.get(("id", request.customer_id) if request.customer_id is not None else ("ext", request.external_id))
                if fact is None:
                    results[i] = CustomerNotFound(customer_id=request.customer_id, external_id=request.external_id)
                else:
                    todo.append((i, fact))
            arms = await self.registry.serving_arms(point) if todo else {}
            plan = await self.guards.plan(point.key) if self.guards and todo else None
            while todo:  # rounds: each customer at most once per round
                round_, seen, later = [], set(), []
                for i, fact in todo:
                    (later if fact.id in seen else round_).append((i, fact))
                    seen.add(fact.id)
                await self._decide_round(session, point, levers, guard, arms, plan, requests, round_, results)
                todo = later
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    async def _decide_round(
        self,
        session: AsyncSession,
        point: DecisionPoint,
        levers: dict[str, Lever],
        guard: LeverGuard,
        arms: dict[str, Served],
        plan: Plan | None,
        requests: Sequence[DecideRequest],
        todo: list[tuple[int, Any]],
        results: list[Decision | ServiceError | None],
    ) -> None:
        """Choose, log and guard one round of distinct customers in ``session``, and commit it;
        fills ``results``."""
        now = self.clock()
        owner: dict[int, int] = {}  # customer id -> request index
        fact_of: dict[int, Any] = {}
        rows: list[dict[str, Any]] = []
        groups: dict[tuple[tuple[str, ...] | None, bool], list[tuple[int, Any]]] = {}
        for i, fact in todo:
            groups.setdefault((requests[i].candidates, requests[i].activate), []).append((i, fact))
            owner[fact.id], fact_of[fact.id] = i, fact
        for (candidates, activate), group in groups.items():
            try:
                eligible = _eligible(point, levers, candidates, guard)
            except NoEligibleLever as exc:
                for i, _ in group:
                    results[i] = exc
                continue
            for i, row in self._choose_for(arms, guard, group, requests, eligible, now, activate, results):
                rows.append(row)
        if not rows:
            return
        final: dict[int, dict[str, Any]] = {row["customer_id"]: row for row in rows}

        def rechoose(retry: list[tuple[int, list[str]]]) -> list[dict[str, Any]]:
            again = []
            for customer_id, left in retry:
                i = owner[customer_id]
                for _, row in self._choose_for(arms, guard, [(i, fact_of[customer_id])], requests, left, now, requests[i].activate, results):
                    final[customer_id] = row
                    again.append(row)
            return again

        async with self.gate.writing(session):
            written, refused, lost = await self._log(session, plan, rows, rechoose)
            for i in [owner[row["customer_id"]] for row in lost]:
                found = await repo.decisions_by_request(session, point.id, [requests[i].request_id or ""])
                results[i] = await _settled(self._replayed(session, found[0], point, requests[i]))
        for customer_id, error in refused.items():
            results[owner[customer_id]] = error
        for customer_id, decision_id in written.items():
            row = final[customer_id]
            results[owner[customer_id]] = mapping.logged_decision(row, decision_id, point.key, levers.get(row["lever_key"]))

    def _choose_for(
        self,
        arms: dict[str, Served],
        guard: LeverGuard,
        group: list[tuple[int, Any]],
        requests: Sequence[DecideRequest],
        eligible: list[str],
        now: datetime,
        activate: bool,
        results: list[Decision | ServiceError | None],
    ) -> list[tuple[int, dict[str, Any]]]:
        """One ``choice.choose`` call for ``group`` (request index, facts); refusals go to
        ``results``. A context the encoder rejects is found by deciding the requests one by one."""
        contexts = [dict(requests[i].context or {}) for i, _ in group]
        try:
            chunk = choice.choose(arms, guard, [f for _, f in group], contexts, eligible, now, request_id=None, activate=activate)
        except EngineInvalidContext as exc:
            if len(group) == 1:
                results[group[0][0]] = InvalidContext(exc.key, exc.reason)
                return []
            return [pair for item in group for pair in self._choose_for(arms, guard, [item], requests, eligible, now, activate, results)]
        for position, excluded in chunk.refused:
            results[group[position][0]] = NoEligibleLever(_point_of(arms).key, tuple(eligible), excluded)
        by_customer = {i_fact[1].id: i_fact[0] for i_fact in group}
        out = []
        for row in chunk.rows:
            row.pop("_external_id")
            i = by_customer[row["customer_id"]]
            row["request_id"] = requests[i].request_id
            out.append((i, row))
        return out

    async def _facts(self, session: AsyncSession, requests: Sequence[DecideRequest], needs: dict[str, bool]) -> dict[tuple[str, Any], Any]:
        """The feature facts of the requested customers, keyed ("id", customer id) or ("ext", externalId)."""
        ids = list(dict.fromkeys(r.customer_id for r in requests if r.customer_id is not None))
        externals = list(dict.fromkeys(r.external_id for r in requests if r.customer_id is None and r.external_id is not None))
        found: dict[tuple[str, Any], Any] = {}
        if ids:
            found.update((("id", f.id), f) for f in await feature_repo.facts_by_ids(session, ids, **needs))
        if externals:
            found.update((("ext", f.external_id), f) for f in await feature_repo.facts_by_external_ids(session, externals, **needs))
        return found

    async def decide_batch(self, request: BatchRequest) -> BatchDecisions:
        """Decide for up to 10,000 customers: one feature query, one engine call and one bulk
        insert per chunk of 1,000. Unknown or repeated externalIds are reported by index."""
        if request.segment_key is not None:
            if request.external_ids:
                raise InvalidInput("segmentKey", "give externalIds or segmentKey, not both")
            limit = MAX_BATCH if request.limit is None else request.limit
            if not 1 <= limit <= MAX_BATCH:
                raise InvalidInput("limit", f"must be between 1 and {MAX_BATCH:,}, got {limit}")
            async with self._sessions() as session:
                if not await feature_repo.segment_exists(session, request.segment_key):
                    raise SegmentNotFound(request.segment_key)
                members = await feature_repo.segment_members(session, request.segment_key, 0, limit)
            request = replace(request, external_ids=tuple(ext for _, ext in members), segment_key=None)
        if len(request.external_ids) > MAX_BATCH:
            raise InvalidInput("externalIds", f"at most {MAX_BATCH:,} per call, got {len(request.external_ids):,}")
        decisions: list[Decision] = []
        errors: list[ItemError] = []
        seen: dict[str, int] = {}
        unique: list[tuple[int, str]] = []
        for index, external_id in enumerate(request.external_ids):
            if external_id in seen:
                errors.append(ItemError(index, "externalIds", f"repeats item {seen[external_id]} in this call"))
            else:
                seen[external_id] = index
                unique.append((index, external_id))
        async for chunk, chunk_errors in self._chunks(request, unique):
            decisions.extend(chunk)
            errors.extend(chunk_errors)
        return BatchDecisions(tuple(decisions), tuple(sorted(errors, key=lambda e: e.index or 0)))

    async def decide_segment(
        self, point_key: str, segment_key: str, *, context: dict[str, Any] | None = None, activate: bool = True
    ) -> AsyncIterator[list[Decision]]:
        """Decide for every member of a segment, a chunk at a time (for exports)."""
        after = 0
        while True:
            async with self._sessions() as session:
                members = await feature_repo.segment_members(session, segment_key, after, CHUNK)
            if not members:
                return
            after = members[-1][0]
            request = BatchRequest(point_key, tuple(ext for _, ext in members), context=context, activate=activate)
            async for chunk, _ in self._chunks(request, list(enumerate(request.external_ids))):
                yield chunk

    async def get(self, decision_id: int) -> Decision:
        async with self._sessions() as session:
            found = await repo.decisions_by_ids(session, [decision_id])
            if not found:
                raise UnknownDecision(decision_id)
            keys = await repo.point_keys(session, [found[0].decision_point_id])
        return mapping.decision(found[0], keys[found[0].decision_point_id])

    async def of_customers(self, customer_ids: Sequence[int], limit: int) -> dict[int, list[Decision]]:
        """Each customer's ``limit`` newest decisions (the contact history), newest first."""
        async with self._sessions() as session:
            rows = await repo.decisions_of_customers(session, customer_ids, limit)
            keys = await repo.point_keys(session, [r.decision_point_id for r in rows]) if rows else {}
        found: dict[int, list[Decision]] = {}
        for row in rows:
            found.setdefault(row.customer_id, []).append(mapping.decision(row, keys[row.decision_point_id]))
        return found

    async def activate(self, decision_id: int) -> Decision:
        """Start the reward window of a decision made with deferred activation (idempotent)."""
        now = self.clock()
        async with self.gate.begin() as session:
            found = await repo.decisions_by_ids(session, [decision_id])
            if not found:
                raise UnknownDecision(decision_id)
            row = await repo.decision_point_by_id(session, found[0].decision_point_id)
            assert row is not None
            point = mapping.decision_point(row)
            await repo.activate(session, decision_id, now, now + timedelta(hours=point.reward_window_hours))
            found = await repo.decisions_by_ids(session, [decision_id])
        return mapping.decision(found[0], point.key)

    # -- internals ---------------------------------------------------------------------------

    async def _point(self, session: AsyncSession, key: str) -> tuple[DecisionPoint, dict[str, Lever]]:
        """The point's config and its configured levers (from the registry's last round when recent)."""
        cached = self.registry.cached_config(key)
        if cached is not None:
            levers = self.registry.cached_levers(list(cached[0].levers))
            if levers is not None:
                return cached[0], levers
        row = await repo.decision_point(session, key)
        if row is None:
            raise UnknownDecisionPoint(key)
        point = mapping.decision_point(row)
        return point, {lever.key: mapping.lever(lever) for lever in await repo.levers_by_keys(session, point.levers)}

    async def _replayed(self, session: AsyncSession, row: Any, point: DecisionPoint, request: DecideRequest) -> Decision:
        facts = await feature_repo.facts_by_ids(session, [row.customer_id], alerts=False, churn_reason=False)
        same = bool(facts) and (
            facts[0].id == request.customer_id if request.customer_id is not None
            else facts[0].external_id == request.external_id
        )
        if not same:
            raise InvalidInput("requestId", "already used at this decision point for another customer")
        return mapping.decision(row, point.key)

    async def _chunks(
        self, request: BatchRequest, items: list[tuple[int, str]]
    ) -> AsyncIterator[tuple[list[Decision], list[ItemError]]]:
        """Chunks of ``CHUNK`` customers, each chosen and then logged in its own transaction.

        The database work overlaps the Python work: the next chunk's facts are read while this
        one is chosen and written, and without guards (nothing there draws from the arms' random
        streams) a chunk is chosen while the previous one is being inserted. Choices, their order
        of random draws and the transactions are the same as one chunk after the other."""
        _check_request_id(request.request_id)
        features.check_context(request.context)
        async with self._sessions() as session:
            point, levers = await self._point(session, request.decision_point)
        guard = lever_guard.guard_for(point, levers)
        eligible = _eligible(point, levers, request.candidates, guard)
        served = await self.registry.serving_arms(point)
        plan = await self.guards.plan(point.key) if self.guards else None
        needs = _needs(point, guard)

        async def read(part: list[tuple[int, str]]) -> tuple[dict[str, str], list[Any], list[Any]]:
            request_ids = {ext: f"{request.request_id}/{ext}" for _, ext in part} if request.request_id else {}
            async with self._sessions() as session:
                facts = await feature_repo.facts_by_external_ids(session, [ext for _, ext in part], **needs)
                stored = await repo.decisions_by_request(session, point.id, list(request_ids.values())) if request_ids else []
            return request_ids, facts, stored

        async def write(chosen: _Chosen) -> tuple[list[Decision], list[ItemError]]:
            rows, final, errors = chosen.rows, chosen.final, chosen.errors
            rechoose = self._rechoose_batch(served, guard, chosen.todo, request, chosen.request_ids, final)
            async with self.gate.begin() as session:
                written, refused, lost_rows = await self._log(session, plan, rows, rechoose)
                lost = [r["request_id"] for r in lost_rows if r["request_id"]]
                index_of = {fact.id: index for index, fact in chosen.todo}
                errors.extend(
                    ItemError(index_of[customer_id], _REFUSAL_FIELDS.get(type(error).__name__, "externalIds"), error.message)
                    for customer_id, error in refused.items()
                )
                stored = list(chosen.replayed.values())
                if lost:
                    stored.extend(await repo.decisions_by_request(session, point.id, lost))
            # What was just written is answered from memory: reading 10,000 rows back cost a third of the call.
            shared: dict[int, tuple[str, ...]] = {}
            by_customer: dict[int, Decision] = {}
            for customer_id, decision_id in written.items():
                row = final[customer_id]
                by_customer[customer_id] = mapping.logged_decision(row, decision_id, point.key, levers.get(row["lever_key"]), shared)
            by_customer.update((row.customer_id, mapping.decision(row, point.key)) for row in stored)
            by_ext = chosen.by_ext
            ordered = [by_customer[by_ext[ext].id] for _, ext in chosen.part if ext in by_ext and by_ext[ext].id in by_customer]
            return ordered, errors

        parts = [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]
        reading: asyncio.Future[tuple[dict[str, str], list[Any], list[Any]]] | None = None
        writing: asyncio.Future[tuple[list[Decision], list[ItemError]]] | None = None
        try:
            reading = asyncio.ensure_future(read(parts[0])) if parts else None
            for k, part in enumerate(parts):
                assert reading is not None
                request_ids, facts, stored = await reading
                reading = asyncio.ensure_future(read(parts[k + 1])) if k + 1 < len(parts) else None
                chosen = self._chosen(served, guard, eligible, request, part, request_ids, facts, stored)
                if writing is not None:
                    yield await writing
                writing = asyncio.ensure_future(write(chosen))
                if plan is not None:
                    # Guards may choose again, from the arms' random streams: before the next chunk does.
                    yield await writing
                    writing = None
                else:
                    await asyncio.sleep(0)  # let the insert start before the next chunk is chosen
            if writing is not None:
                yield await writing
                writing = None
        finally:
            for task in (reading, writing):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    def _chosen(
        self,
        served: dict[str, Served],
        guard: LeverGuard,
        eligible: list[str],
        request: BatchRequest,
        part: list[tuple[int, str]],
        request_ids: dict[str, str],
        facts: list[Any],
        stored: list[Any],
    ) -> _Chosen:
        """One chunk's log rows: unknown externalIds and replayed request ids are left out."""
        errors: list[ItemError] = []
        by_ext = {f.external_id: f for f in facts}
        replayed = {row.request_id: row for row in stored}
        todo = []
        for index, ext in part:
            if ext not in by_ext:
                errors.append(ItemError(index, "externalIds", f"no customer with externalId {ext!r}"))
            elif request_ids.get(ext) not in replayed:
                todo.append((index, by_ext[ext]))
        rows, bad = self._choose_rows(served, guard, todo, eligible, request, request_ids)
        errors.extend(bad)
        final = {row["customer_id"]: row for row in rows}  # the rows as logged, fallbacks included
        return _Chosen(part, request_ids, by_ext, replayed, todo, rows, final, errors)

    async def _log(
        self, session: AsyncSession, plan: Plan | None, rows: list[dict[str, Any]], rechoose: Any
    ) -> tuple[dict[int, int], dict[int, ServiceError], list[dict[str, Any]]]:
        """Insert chosen rows and pass them through the guards (``guards.admit_batch``), in the
        caller's transaction. Returns customer id -> decision id written, customer id -> refusal,
        and the rows not written because their request id is already stored (a lost race: the
        stored decision stands). Both ``decide`` and ``decide_batch`` log here."""
        written = await repo.insert_decisions(session, rows)
        lost = [row for row in rows if row["customer_id"] not in written]
        if plan is None or not written:
            return written, {}, lost
        now = rows[0]["created_at"]
        refused = await admit_batch(self.guards, session, plan, [r for r in rows if r["customer_id"] in written], written, now, rechoose)  # type: ignore[arg-type]
        return written, refused, lost

    def _rechoose_batch(
        self,
        served: dict[str, Served],
        guard: LeverGuard,
        todo: list[tuple[int, Any]],
        request: BatchRequest,
        request_ids: dict[str, str],
        final: dict[int, dict[str, Any]],
    ) -> Callable[[list[tuple[int, list[str]]]], list[dict[str, Any]]]:
        """A batch chunk's choice after a guard refusal: one engine call per set of levers left.
        Rows chosen again replace the first ones in ``final``."""
        fact_of: dict[int, tuple[int, Any]] = {}  # built on the first refusal: most chunks have none

        def rechoose(retry: list[tuple[int, list[str]]]) -> list[dict[str, Any]]:
            if not fact_of:
                fact_of.update((fact.id, (index, fact)) for index, fact in todo)
            again: list[dict[str, Any]] = []
            by_left: dict[tuple[str, ...], list[tuple[int, Any]]] = {}
            for customer_id, left in retry:
                by_left.setdefault(tuple(left), []).append(fact_of[customer_id])
            for left, group in by_left.items():
                chosen, _ = self._choose_rows(served, guard, group, list(left), request, request_ids)
                again.extend(chosen)
            final.update((row["customer_id"], row) for row in again)
            return again

        return rechoose

    def _choose_rows(
        self,
        arms: dict[str, Served],
        guard: LeverGuard,
        todo: list[tuple[int, Any]],
        eligible: list[str],
        request: BatchRequest,
        request_ids: dict[str, str],
    ) -> tuple[list[dict[str, Any]], list[ItemError]]:
        errors: list[ItemError] = []
        now = self.clock()
        context = dict(request.context or {})

        def run(items: list[tuple[int, Any]]) -> list[dict[str, Any]]:
            chunk = choice.choose(
                arms, guard, [f for _, f in items], [context] * len(items), eligible, now,
                request_id=request.request_id, activate=request.activate,
            )
            for position, excluded in chunk.refused:
                reasons = "; ".join(f"{e.lever}: {e.rule}" for e in excluded)
                errors.append(ItemError(items[position][0], "externalIds", f"no eligible lever ({reasons})"))
            return chunk.rows

        try:
            rows = run(todo)
        except EngineInvalidContext as exc:
            if exc.key.startswith("context."):
                raise InvalidContext(exc.key, exc.reason) from None
            # A stored attribute of some customer does not fit: find and report just those.
            kept = []
            champion = next(iter(arms.values()))
            encoder, point = champion.learner.model.encoder, champion.point
            for index, fact in todo:
                try:
                    encoder.encode(features.profile_row(fact, point.features, now))
                    kept.append((index, fact))
                except EngineInvalidContext as item:
                    errors.append(ItemError(index, item.key, item.reason))
            rows = run(kept)
        for row in rows:
            ext = row.pop("_external_id")
            row["request_id"] = request_ids.get(ext)
            row["campaign_id"] = request.campaign_id
        return rows, errors


@dataclass(slots=True)
class _Chosen:
    """A chunk of ``decide_batch`` between its choice and its write."""

    part: list[tuple[int, str]]
    request_ids: dict[str, str]
    by_ext: dict[str, Any]
    replayed: dict[str, Any]
    todo: list[tuple[int, Any]]
    rows: list[dict[str, Any]]
    final: dict[int, dict[str, Any]]
    errors: list[ItemError]


def _needs(point: DecisionPoint, guard: LeverGuard) -> dict[str, bool]:
    """The optional facts the features and the eligibility rules read, fetched in the one query."""
    wanted = features.needs(point.features)
    return {
        "alerts": wanted["alerts"] or guard.needs.alerts,
        "churn_reason": wanted["churn_reason"] or guard.needs.churn_reason,
        "alert_types": guard.needs.alert_types,
    }


def _eligible(
    point: DecisionPoint, levers: dict[str, Lever], candidates: tuple[str, ...] | None, guard: LeverGuard
) -> list[str]:
    """Configured, active levers among the requested candidates: what rules then narrow per customer.
    A point with a control group needs its NO_ACTION lever even when only the control gets it."""
    eligible = [
        key for key in point.levers
        if key in levers and levers[key].active and (candidates is None or key in candidates)
    ]
    if not eligible and not (point.guardrails.control_share > 0 and guard.control_lever):
        raise NoEligibleLever(point.key, tuple(candidates) if candidates is not None else point.levers)
    return eligible


def _check_request_id(request_id: str | None) -> None:
    if request_id is not None and not 1 <= len(request_id) <= REQUEST_ID_MAX:
        raise InvalidInput("requestId", f"must be 1-{REQUEST_ID_MAX} characters")


def _point_of(arms: dict[str, Served]) -> DecisionPoint:
    return next(iter(arms.values())).point


async def _settled(call: Awaitable[Decision]) -> Decision | ServiceError:
    """The decision, or the expected error it raised (as a result for that one request)."""
    try:
        return await call
    except ServiceError as exc:
        return exc
