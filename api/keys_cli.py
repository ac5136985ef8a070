"""`ciclo keys create|revoke|list`: API keys from the command line. Keys are printed once, at creation."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from db.models.api_key import ROLES

DatabaseOption = Callable[[argparse.ArgumentParser], None]


def add_commands(commands: Any, database_option: DatabaseOption) -> None:
    keys = commands.add_parser("keys", help="API keys: create, revoke, list").add_subparsers(metavar="ACTION")

    create = keys.add_parser("create", help="create a key and print it (only this once)")
    create.add_argument("--role", required=True, type=str.upper, choices=ROLES)
    create.add_argument("--name", required=True, help="who or what uses the key, e.g. crm-sync")
    database_option(create)
    create.set_defaults(handler=lambda a: asyncio.run(_create(a)))

    revoke = keys.add_parser("revoke", help="revoke keys by name (every active key with it) or by id")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--name")
    which.add_argument("--id", type=int)
    database_option(revoke)
    revoke.set_defaults(handler=lambda a: asyncio.run(_revoke(a)))

    listing = keys.add_parser("list", help="list keys (id, name, role, prefix, dates); never the keys")
    database_option(listing)
    listing.set_defaults(handler=lambda a: asyncio.run(_list(a)))


async def _keys(database_url: str):  # type: ignore[no-untyped-def]
    from db import migrate
    from db.session import make_engine
    from services.keys import ApiKeys
    from db.session import make_sessionmaker

    engine = make_engine(database_url)
    await migrate.upgrade(engine)
    return engine, ApiKeys(make_sessionmaker(engine))


async def _create(args: argparse.Namespace) -> int:
    from services.errors import InvalidInput

    engine, keys = await _keys(args.database_url)
    try:
        key, info = await keys.create(args.role, args.name)
    except InvalidInput as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print(key)
    print(f"created key {info.id} ({info.prefix}…) named {info.name!r} with role {info.role}; "
          "it is shown only now: store it safely", file=sys.stderr)
    return 0


async def _revoke(args: argparse.Namespace) -> int:
    from services.errors import InvalidInput
    from services.keys import DEFAULT_CACHE_SECONDS

    engine, keys = await _keys(args.database_url)
    try:
        revoked = await keys.revoke(name=args.name, key_id=args.id)
    except InvalidInput as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    for info in revoked:
        print(f"revoked key {info.id} ({info.prefix}…) named {info.name!r}")
    print(f"running servers refuse it within CICLO_KEY_CACHE_SECONDS (default {DEFAULT_CACHE_SECONDS:g} s)", file=sys.stderr)
    return 0


async def _list(args: argparse.Namespace) -> int:
    engine, keys = await _keys(args.database_url)
    try:
        found = await keys.list()
    finally:
        await engine.dispose()
    print("id\tname\trole\tprefix\tcreated\trevoked\tlast used")
    for k in found:
        stamp = lambda t: t.isoformat(timespec="seconds") if t else "-"  # noqa: E731
        print(f"{k.id}\t{k.name}\t{k.role}\t{k.prefix}…\t{stamp(k.created_at)}\t{stamp(k.revoked_at)}\t{stamp(k.last_used_at)}")
    return 0
