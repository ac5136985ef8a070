"""Per-request loaders are made on first use, and only the ones a request's fields ask for."""

from __future__ import annotations

from api.context import Context
from api.loaders import Loaders
from api.schema import CicloSchema
from services.container import Services
from tests.conftest import GQL

PAGE = """{ customers(first: 10) { edges { node { externalId segments { key }
  events(first: 2) { edges { node { type } } } } } } }"""


async def test_a_loader_is_made_once_per_request_on_first_use(services: Services) -> None:
    loaders = Loaders.build(services)
    assert loaders.made() == set()
    first = loaders.segments
    assert loaders.segments is first
    assert loaders.made() == {"segments"}
    # Another request gets loaders (and caches) of its own.
    assert Loaders.build(services).segments is not first


async def test_a_page_makes_only_the_loaders_its_fields_need(schema: CicloSchema, services: Services, gql: GQL) -> None:
    await gql('mutation { upsertCustomers(input: [{externalId: "a"}, {externalId: "b"}]) { accepted } }')
    await gql("""mutation { recordEvents(input: [{externalId: "a", type: SIGNUP, occurredAt: "2026-01-01T00:00:00Z"}])
        { accepted } }""")
    typename = Context(services=services, loaders=Loaders.build(services), request_id="t")
    assert not (await schema.execute("{ __typename }", context_value=typename)).errors
    assert typename.loaders.made() == set()

    page = Context(services=services, loaders=Loaders.build(services), request_id="t")
    result = await schema.execute(PAGE, context_value=page)
    assert not result.errors, result.errors
    assert result.data is not None
    nodes = [edge["node"] for edge in result.data["customers"]["edges"]]
    assert {n["externalId"]: [e["node"]["type"] for e in n["events"]["edges"]] for n in nodes} == {"a": ["SIGNUP"], "b": []}
    assert page.loaders.made() == {"segments", "latest_events"}
