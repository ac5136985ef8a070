"""The committed schema.graphql is exactly what the code exports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api.schema import schema_sdl

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema_sdl(), "schema.graphql is stale: run `ciclo export-schema --out schema.graphql`"


def test_export_schema_command_prints_the_schema() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "export-schema"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out == schema_sdl()
    assert "upsertCustomers(input: [CustomerInput!]!): UpsertCustomersPayload!" in out
