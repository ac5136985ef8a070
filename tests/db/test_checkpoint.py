"""The background checkpointer moves committed WAL frames into the SQLite database file."""

from __future__ import annotations

import pytest

from db.checkpoint import WalCheckpointer
from db.session import make_engine
from services.container import Services
from services.domain import CustomerDraft, CustomerFilter


async def test_checkpoint_copies_committed_frames(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        checkpointer = WalCheckpointer(engine)
        if not checkpointer.active:
            assert database_url.startswith("postgresql")
            return
        services = Services.build(engine)
        await services.customers.upsert_many([CustomerDraft(external_id=f"w{i}") for i in range(200)])
        busy, frames, copied = await checkpointer.checkpoint()
        assert busy == 0 and frames > 0 and copied == frames
        assert await services.customers.count(CustomerFilter()) == 200
    finally:
        await engine.dispose()


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        WalCheckpointer(make_engine("sqlite+aiosqlite:///:memory:"), interval=0)
