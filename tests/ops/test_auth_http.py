"""Authentication and the role matrix through a real `ciclo serve` with real API keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from db.session import make_engine, make_sessionmaker
from services.keys import ApiKeys
from tests.conftest import LiveServer, start_server, stop_server

ROLES = ("FRONTEND", "CAMPAIGN", "ANALYST", "ADMIN")

# (area, operation, roles allowed). Every role but ADMIN has at least one allowed and one denied call.
MATRIX: list[tuple[str, str, set[str]]] = [
    ("customer views", "{ stages { stage count } }", {"FRONTEND", "ANALYST", "ADMIN"}),
    ("customer views", '{ customerByExternalId(externalId: "m-1") { name email phone } }', {"FRONTEND", "ANALYST", "ADMIN"}),
    ("alerts", "{ alerts(first: 1) { edges { node { id } } } }", {"FRONTEND", "CAMPAIGN", "ANALYST", "ADMIN"}),
    ("reports", "{ funnel { stage entered } }", {"ANALYST", "ADMIN"}),
    ("reports", "{ cohorts { month customers } }", {"ANALYST", "ADMIN"}),
    ("offers", "{ levers { key } }", {"CAMPAIGN", "ANALYST", "ADMIN"}),
    ("offers", 'mutation { decide(input: {decisionPoint: "NOPE", externalId: "m-1"}) { __typename } }', {"CAMPAIGN", "ADMIN"}),
    ("offers", 'mutation { recordOutcome(input: {decisionId: "999999", accepted: true}) { __typename } }', {"CAMPAIGN", "ADMIN"}),
    ("bulk loads", 'mutation { upsertCustomers(input: [{externalId: "m-2"}]) { accepted } }', {"CAMPAIGN", "ADMIN"}),
    ("segments", 'mutation { upsertSegment(input: {key: "vip", name: "VIP"}) { __typename } }', {"ADMIN"}),
    ("erasure", 'mutation { deleteCustomer(externalId: "nobody") { __typename } }', {"ADMIN"}),
    ("levers", 'mutation { upsertLever(input: {key: "X", name: "X", kind: NO_ACTION}) { __typename } }', {"ADMIN"}),
]


@dataclass
class Keys:
    by_role: dict[str, str]
    revoked: str


async def _make_keys(database_url: str) -> Keys:
    engine = make_engine(database_url)
    keys = ApiKeys(make_sessionmaker(engine))
    try:
        made = {role: (await keys.create(role, f"test-{role.lower()}"))[0] for role in ROLES}
        revoked, _ = await keys.create("ADMIN", "gone")
        await keys.revoke(name="gone")
    finally:
        await engine.dispose()
    return Keys(made, revoked)


async def _revoke(database_url: str, name: str) -> None:
    engine = make_engine(database_url)
    try:
        await ApiKeys(make_sessionmaker(engine)).revoke(name=name)
    finally:
        await engine.dispose()


@pytest.fixture
def secured(database_url: str) -> Iterator[tuple[LiveServer, Keys]]:
    keys = asyncio.run(_make_keys(database_url))
    server = start_server(database_url, auth=True, env={"CICLO_KEY_CACHE_SECONDS": "0.5"})
    try:
        yield server, keys
    finally:
        stop_server(server)


def call(server: LiveServer, query: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{server.url}/graphql", json={"query": query}, headers=headers, timeout=30)


def forbidden(body: dict[str, Any]) -> bool:
    return any((e.get("extensions") or {}).get("code") == "FORBIDDEN" for e in body.get("errors") or ())


def check_the_role_matrix(server: LiveServer, keys: Keys) -> None:
    seeded = call(server, 'mutation { upsertCustomers(input: [{externalId: "m-1", name: "Ana Ruiz", '
                  'email: "ana@example.com", phone: "+34911111111"}]) { accepted } }', keys.by_role["ADMIN"])
    assert seeded.json()["data"]["upsertCustomers"]["accepted"] == 1
    wrong: list[str] = []
    for role in ROLES:
        for area, query, allowed in MATRIX:
            response = call(server, query, keys.by_role[role])
            assert response.status_code == 200, (role, query, response.text)
            body = response.json()
            if forbidden(body) == (role in allowed):
                wrong.append(f"{role} {'denied' if role in allowed else 'allowed'} {area}: {query} -> {body}")
            elif role in allowed:
                assert not body.get("errors"), (role, query, body)
    assert not wrong, "\n".join(wrong)
    for role in ROLES[:-1]:
        assert any(role in allowed for _, _, allowed in MATRIX) and any(role not in allowed for _, _, allowed in MATRIX)
    # ADMIN may do everything: every row allows it.
    assert all("ADMIN" in allowed for _, _, allowed in MATRIX)


def check_an_analyst_gets_personal_data_masked(server: LiveServer, keys: Keys) -> None:
    call(server, 'mutation { upsertCustomers(input: [{externalId: "m-1", name: "Ana Ruiz", email: "ana@example.com", '
         'phone: "+34911111111"}]) { accepted } }', keys.by_role["CAMPAIGN"])
    query = '{ customers(first: 5, orderBy: ID_ASC) { edges { node { externalId name email phone } } } }'
    nodes = call(server, query, keys.by_role["ANALYST"]).json()["data"]["customers"]["edges"]
    assert nodes[0]["node"] == {"externalId": "m-1", "name": "***", "email": "***", "phone": "***"}
    nodes = call(server, query, keys.by_role["FRONTEND"]).json()["data"]["customers"]["edges"]
    assert nodes[0]["node"]["email"] == "ana@example.com"


def check_missing_unknown_and_revoked_keys_get_401_and_nothing_runs(server: LiveServer, keys: Keys) -> None:
    write = 'mutation { upsertCustomers(input: [{externalId: "intruder"}]) { accepted } }'
    for key, says in [(None, "Missing API key"), ("ciclo_madeup", "Invalid or revoked"), (keys.revoked, "Invalid or revoked")]:
        response = call(server, write, key)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED" and says in error["message"]
    check = call(server, '{ customerByExternalId(externalId: "intruder") { id } }', keys.by_role["ADMIN"])
    assert check.json()["data"]["customerByExternalId"] is None


def check_a_key_revoked_while_serving_is_refused_within_the_cache_time(server: LiveServer, keys: Keys) -> None:
    key = keys.by_role["FRONTEND"]
    assert call(server, "{ stages { stage } }", key).status_code == 200
    asyncio.run(_revoke(server.database_url, "test-frontend"))
    deadline = time.monotonic() + 10
    while call(server, "{ stages { stage } }", key).status_code == 200:
        assert time.monotonic() < deadline, "revoked key still accepted after 10 s (cache is 0.5 s)"
        time.sleep(0.1)
    assert call(server, "{ stages { stage } }", key).status_code == 401


def test_roles_masking_and_key_refusals_through_a_real_server(secured: tuple[LiveServer, Keys]) -> None:
    """One server per backend (starting one is the slow part): the role matrix, masked PII for
    ANALYST, 401 for missing/unknown/revoked keys, revocation while serving (websockets:
    test_auth_websocket.py)."""
    server, keys = secured
    check_the_role_matrix(server, keys)
    check_an_analyst_gets_personal_data_masked(server, keys)
    check_missing_unknown_and_revoked_keys_get_401_and_nothing_runs(server, keys)
    check_a_key_revoked_while_serving_is_refused_within_the_cache_time(server, keys)


def test_a_production_start_without_keys_is_refused(database_url: str) -> None:
    with pytest.raises(RuntimeError, match="no API key exists"):
        start_server(database_url, auth=True, timeout=60)
