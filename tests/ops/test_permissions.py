"""Every root field carries a permission class; roles see what their row of the matrix says."""

from __future__ import annotations

import pytest
import strawberry
from strawberry.permission import PermissionExtension

from api.permissions import MASK, Role, allow
from api.schema import build_schema
from tests.conftest import GQL


def _unguarded(type_name: str, schema: strawberry.Schema | None = None) -> list[str]:
    schema = schema or build_schema()
    definition = schema.get_type_by_name(type_name)
    assert definition is not None, type_name
    return [
        f"{type_name}.{field.python_name}"
        for field in definition.fields  # type: ignore[union-attr]
        if not any(isinstance(e, PermissionExtension) and e.permissions for e in field.extensions)
    ]


@pytest.mark.parametrize("root", ["Query", "Mutation", "Subscription"])
def test_every_root_field_has_a_permission_class(root: str) -> None:
    missing = _unguarded(root)
    assert not missing, (
        f"these {root} fields have no permission class: {', '.join(missing)}. Add "
        "permission_classes=[...] (see api/permissions.py) to each."
    )


def test_the_walk_names_a_field_without_permission() -> None:
    @strawberry.type
    class Query:
        @strawberry.field(permission_classes=[allow(Role.FRONTEND)])
        def guarded(self) -> int:
            return 1

        @strawberry.field
        def forgotten(self) -> int:
            return 2

    assert _unguarded("Query", strawberry.Schema(query=Query)) == ["Query.forgotten"]


def test_admin_is_allowed_by_every_permission_class() -> None:
    schema = build_schema()
    for root in ("Query", "Mutation", "Subscription"):
        for field in schema.get_type_by_name(root).fields:  # type: ignore[union-attr]
            for extension in field.extensions:
                if isinstance(extension, PermissionExtension):
                    for permission in extension.permissions:
                        assert Role.ADMIN in permission.roles, f"{root}.{field.python_name}"


def test_a_role_set_is_one_permission_class() -> None:
    assert allow(Role.ANALYST) is allow(Role.ANALYST)
    assert allow(Role.ANALYST).roles == {Role.ANALYST, Role.ADMIN}


UPSERT = """mutation { upsertCustomers(input: [{externalId: "p-1", name: "Lucía Gómez", email: "lucia@example.com",
  phone: "+34600000000"}]) { accepted } }"""
VIEW = """{ customerByExternalId(externalId: "p-1") { externalId name email phone region
  events(first: 1) { edges { node { payload } } } } }"""


async def test_an_analyst_sees_personal_data_masked(gql: GQL) -> None:
    await gql(UPSERT)
    await gql("""mutation { recordEvents(input: [{externalId: "p-1", type: CUSTOM,
        occurredAt: "2026-01-01T00:00:00Z", payload: {note: "called Lucía at home"}}]) { accepted } }""")
    admin = (await gql(VIEW))["customerByExternalId"]
    assert (admin["name"], admin["email"], admin["phone"]) == ("Lucía Gómez", "lucia@example.com", "+34600000000")
    analyst = (await gql(VIEW, role=Role.ANALYST))["customerByExternalId"]
    assert analyst["externalId"] == "p-1"
    assert (analyst["name"], analyst["email"], analyst["phone"]) == (MASK, MASK, MASK)
    assert analyst["events"]["edges"][0]["node"]["payload"] == MASK
    front = (await gql(VIEW, role=Role.FRONTEND))["customerByExternalId"]
    assert front["email"] == "lucia@example.com"


async def test_a_denied_field_is_an_error_naming_the_roles_and_runs_nothing(gql: GQL) -> None:
    denied = await gql(UPSERT, role=Role.FRONTEND, expect_errors=True)
    assert denied.errors[0].message.startswith("Forbidden")
    assert denied.errors[0].extensions["code"] == "FORBIDDEN"
    assert "CAMPAIGN" in denied.errors[0].message
    assert (await gql('{ customerByExternalId(externalId: "p-1") { id } }'))["customerByExternalId"] is None


async def test_an_analyst_cannot_search_or_segment_on_masked_fields(gql: GQL) -> None:
    await gql(UPSERT)
    search = '{ customers(filter: {search: "lucia"}) { totalCount } }'
    refused = await gql(search, role=Role.ANALYST, expect_errors=True)
    assert "filter.search" in refused.errors[0].message
    assert (await gql(search, role=Role.FRONTEND))["customers"]["totalCount"] == 1
    preview = """{ previewSegment(rule: {all: [{field: "email", op: CONTAINS, value: "lucia"}]}) {
        __typename ... on InvalidInput { field } ... on SegmentPreview { count } } }"""
    assert (await gql(preview, role=Role.ANALYST))["previewSegment"] == {"__typename": "InvalidInput", "field": "rule"}
    assert (await gql(preview))["previewSegment"]["count"] == 1
