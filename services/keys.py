"""API keys: create, revoke, list, and verify a presented key cheaply.

A key is ``ciclo_`` followed by 32 random bytes (URL-safe base64). Only its SHA-256 is stored, with
a short prefix so people can tell keys apart. Verified keys (and refused ones) are remembered in
this process for ``cache_seconds``: in steady state a request costs no database round trip, and a
revoked key stops working on every worker within that time.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utcnow
from db.models import ApiKey
from db.models.api_key import ROLES
from db.repositories import api_keys as repo
from services.errors import InvalidInput

KEY_PREFIX = "ciclo_"
SHOWN_PREFIX = 12
DEFAULT_CACHE_SECONDS = 5.0
CACHE_ENTRIES = 10_000
log = logging.getLogger("ciclo.keys")


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id and name, and its role."""

    key_id: int
    name: str
    role: str


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _info(row: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(row.id, row.name, row.role, row.prefix, row.created_at, row.revoked_at, row.last_used_at)


class ApiKeys:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cache_seconds < 0:
            raise ValueError(f"`cache_seconds` must be >= 0, got {cache_seconds}")
        self._sessions = sessions
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self.lookups = 0

    async def create(self, role: str, name: str) -> tuple[str, ApiKeyInfo]:
        """Store a new key; returns the key itself (shown once, never stored) and its record."""
        role = role.upper()
        if role not in ROLES:
            raise InvalidInput("role", f"must be one of {', '.join(ROLES)}, got {role!r}")
        if not name.strip() or len(name) > 100:
            raise InvalidInput("name", "must be 1-100 characters")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        async with self._sessions.begin() as session:
            row = ApiKey(name=name, role=role, key_hash=key_hash(key), prefix=key[:SHOWN_PREFIX])
            session.add(row)
            await session.flush()
            return key, _info(row)

    async def revoke(self, *, name: str | None = None, key_id: int | None = None) -> list[ApiKeyInfo]:
        """Revoke every active key with this name (or this id); refused when there is none."""
        if (name is None) == (key_id is None):
            raise InvalidInput("key", "give a name or an id")
        async with self._sessions.begin() as session:
            rows = await repo.active(session, name=name, key_id=key_id)
            if not rows:
                which = f"named {name!r}" if name is not None else f"with id {key_id}"
                raise InvalidInput("name" if name is not None else "id", f"no active key {which}")
            now = utcnow()
            for row in rows:
                row.revoked_at = now
            await session.flush()
            return [_info(row) for row in rows]

    async def list(self) -> list[ApiKeyInfo]:
        async with self._sessions() as session:
            return [_info(row) for row in await repo.all_keys(session)]

    async def count_active(self) -> int:
        async with self._sessions() as session:
            return await repo.count_active(session)

    async def verify(self, key: str) -> Principal | None:
        """The caller behind ``key``, or None for an unknown or revoked key."""
        digest = key_hash(key)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = await self._lookup(digest)
        if len(self._cache) >= CACHE_ENTRIES:
            # Made-up keys must not grow the cache without bound: drop what has expired, or all.
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
        self._cache[digest] = (now + self.cache_seconds, principal)
        return principal

    async def _lookup(self, digest: str) -> Principal | None:
        self.lookups += 1
        async with self._sessions() as session:
            row = await repo.by_hash(session, digest)
            if row is None or row.revoked_at is not None:
                return None
            principal = Principal(row.id, row.name, row.role)
        try:
            # At most once per cache period per worker: a rough "last used", nearly free. Best
            # effort: a server reading from a replica cannot write it and still authenticates.
            async with self._sessions.begin() as session:
                await repo.touch(session, principal.key_id, utcnow())
        except Exception:  # noqa: BLE001
            log.debug("could not record last use of key %s", principal.key_id, exc_info=True)
        return principal
