"""Where a WebSocket's connection_init payload carries its API key (api.socket_auth.connection_key)."""

from __future__ import annotations

from typing import Any

import pytest

from api.socket_auth import connection_key


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        (None, None),
        ({}, None),
        ({"other": "x"}, None),
        ({"Authorization": "Bearer ciclo_abc"}, "ciclo_abc"),
        ({"authorization": "bearer  ciclo_abc "}, "ciclo_abc"),
        ({"apiKey": " ciclo_abc"}, "ciclo_abc"),
        # Presented but unreadable: "" so the socket is refused rather than treated as keyless.
        ({"Authorization": "Basic ciclo_abc"}, ""),
        ({"Authorization": "ciclo_abc"}, ""),
        ({"authorization": 42}, ""),
        ({"apiKey": ["ciclo_abc"]}, ""),
    ],
)
def test_connection_key_reads_the_payload_forms_clients_send(payload: dict[str, Any] | None, key: str | None) -> None:
    assert connection_key(payload) == key
