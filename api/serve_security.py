"""How `ciclo serve` chooses its security mode before the workers start.

- production (the default): API keys required; a start with no active key is refused unless
  ``--insecure-no-auth`` (or ``CICLO_AUTH=off``) says to serve without authentication.
- ``--demo``: development mode (GraphiQL and introspection on) without authentication, unless
  ``CICLO_ENV`` / ``CICLO_AUTH`` say otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from api.settings import Settings


def prepare(args: argparse.Namespace) -> bool:
    """Set CICLO_ENV and CICLO_AUTH for the workers; False (with a message) when the start is refused."""
    if args.demo:
        os.environ.setdefault("CICLO_ENV", "development")
        os.environ.setdefault("CICLO_AUTH", "off")
    if args.insecure_no_auth:
        os.environ["CICLO_AUTH"] = "off"
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return False
    if settings.auth:
        active = asyncio.run(_active_keys(args.database_url))
        if not active:
            print(
                "refused: authentication is on and no API key exists. Create one with\n"
                "  ciclo keys create --role ADMIN --name ops\n"
                "or serve without authentication (every caller is ADMIN) with --insecure-no-auth.",
                file=sys.stderr,
            )
            return False
        print(f"authentication on: {active} active API key(s); send Authorization: Bearer <key>", file=sys.stderr)
    else:
        print("authentication OFF: every caller acts as ADMIN (development/insecure mode)", file=sys.stderr)
    print(f"mode: {settings.environment} (introspection and GraphiQL {'off' if settings.production else 'on'})", file=sys.stderr)
    return True


async def _active_keys(database_url: str) -> int:
    from db.session import make_engine, make_sessionmaker
    from services.keys import ApiKeys

    engine = make_engine(database_url)
    try:
        return await ApiKeys(make_sessionmaker(engine)).count_active()
    finally:
        await engine.dispose()
