"""API keys: stored as hashes, cached per process for a short time, revocable by name or id."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import ApiKey
from services.container import Services
from services.errors import InvalidInput
from services.keys import ApiKeys, key_hash


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_only_the_hash_and_a_prefix_are_stored(services: Services) -> None:
    key, info = await services.keys.create("analyst", "reports")
    assert info.role == "ANALYST" and key.startswith(info.prefix) and len(key) > 40
    async with services.sessions() as session:
        row = (await session.execute(select(ApiKey))).scalar_one()
    assert row.key_hash == key_hash(key) and key not in (row.key_hash, row.prefix)


async def test_verified_keys_are_cached_and_a_revoke_lands_after_the_cache_time(services: Services) -> None:
    clock = Clock()
    keys = ApiKeys(services.sessions, cache_seconds=5, clock=clock)
    key, info = await keys.create("CAMPAIGN", "crm")
    for _ in range(100):
        principal = await keys.verify(key)
        assert principal is not None and principal.role == "CAMPAIGN"
    assert keys.lookups == 1
    await keys.revoke(key_id=info.id)
    assert await keys.verify(key) is not None  # still inside the cache time
    clock.now += 5.01
    assert await keys.verify(key) is None
    assert keys.lookups == 2
    assert [k.revoked_at is not None for k in await keys.list()] == [True]
    assert (await keys.list())[0].last_used_at is not None


async def test_unknown_keys_are_refused_and_bad_roles_and_names_named(services: Services) -> None:
    assert await services.keys.verify("ciclo_nothing") is None
    with pytest.raises(InvalidInput) as bad:
        await services.keys.create("ROOT", "x")
    assert bad.value.field == "role"
    with pytest.raises(InvalidInput) as missing:
        await services.keys.revoke(name="nobody")
    assert missing.value.field == "name"


def test_cli_prints_a_key_once_lists_without_keys_and_revokes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"

    def ciclo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api.cli", "keys", *args, "--database-url", url],
                              capture_output=True, text=True, timeout=120)

    created = ciclo("create", "--role", "frontend", "--name", "web")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("ciclo_") and "shown only now" in created.stderr
    listed = ciclo("list")
    assert "web\tFRONTEND" in listed.stdout and key not in listed.stdout and key[:12] in listed.stdout
    assert ciclo("revoke", "--name", "web").returncode == 0
    assert ciclo("revoke", "--name", "web").returncode == 1
    assert ciclo("create", "--role", "ROOT", "--name", "x").returncode == 2
