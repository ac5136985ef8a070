"""Configuration from CICLO_* environment variables (the README has the table)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from db.session import DEFAULT_URL


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_URL
    # Reports and evaluations read here when set (a streaming replica of database_url).
    read_database_url: str | None = None
    migrate: bool = True
    demo: bool = False
    demo_customers: int = 5_000
    demo_seed: int = 7
    pool_size: int = 10
    log_level: str = "info"
    # production: introspection and GraphiQL off. development: on (what --demo uses).
    environment: str = "production"
    # API keys required on /graphql; off only by an explicit choice (CICLO_AUTH=off, --insecure-no-auth, --demo).
    auth: bool = True
    max_body_bytes: int = 10 * 1024 * 1024
    request_timeout_seconds: float = 30.0

    @property
    def production(self) -> bool:
        return self.environment == "production"

    def __post_init__(self) -> None:
        if self.environment not in ("production", "development"):
            raise ValueError(f"`environment` (CICLO_ENV) must be production or development, got {self.environment!r}")
        if self.max_body_bytes < 1:
            raise ValueError(f"`max_body_bytes` must be >= 1, got {self.max_body_bytes}")
        if self.request_timeout_seconds <= 0:
            raise ValueError(f"`request_timeout_seconds` must be > 0, got {self.request_timeout_seconds}")
        if self.demo_customers < 1:
            raise ValueError(f"`demo_customers` must be >= 1, got {self.demo_customers}")
        if self.pool_size < 1:
            raise ValueError(f"`pool_size` must be >= 1, got {self.pool_size}")

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            database_url=env.get("CICLO_DATABASE_URL", DEFAULT_URL),
            read_database_url=env.get("CICLO_READ_DATABASE_URL") or None,
            migrate=_flag("CICLO_MIGRATE", True),
            demo=_flag("CICLO_DEMO", False),
            demo_customers=int(env.get("CICLO_DEMO_CUSTOMERS", "5000")),
            demo_seed=int(env.get("CICLO_DEMO_SEED", "7")),
            pool_size=int(env.get("CICLO_DB_POOL_SIZE", "10")),
            log_level=env.get("CICLO_LOG_LEVEL", "info"),
            environment=env.get("CICLO_ENV", "production").strip().lower(),
            auth=_flag("CICLO_AUTH", True),
            max_body_bytes=int(env.get("CICLO_MAX_BODY_BYTES", str(10 * 1024 * 1024))),
            request_timeout_seconds=float(env.get("CICLO_REQUEST_TIMEOUT_SECONDS", "30")),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
