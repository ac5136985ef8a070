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
    migrate: bool = True
    demo: bool = False
    demo_customers: int = 5_000
    demo_seed: int = 7
    pool_size: int = 10
    log_level: str = "info"

    def __post_init__(self) -> None:
        if self.demo_customers < 1:
            raise ValueError(f"`demo_customers` must be >= 1, got {self.demo_customers}")
        if self.pool_size < 1:
            raise ValueError(f"`pool_size` must be >= 1, got {self.pool_size}")

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            database_url=env.get("CICLO_DATABASE_URL", DEFAULT_URL),
            migrate=_flag("CICLO_MIGRATE", True),
            demo=_flag("CICLO_DEMO", False),
            demo_customers=int(env.get("CICLO_DEMO_CUSTOMERS", "5000")),
            demo_seed=int(env.get("CICLO_DEMO_SEED", "7")),
            pool_size=int(env.get("CICLO_DB_POOL_SIZE", "10")),
            log_level=env.get("CICLO_LOG_LEVEL", "info"),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
