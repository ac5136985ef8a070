"""The customer view shows the contact history, and a whole page of full customer views costs a
constant number of statements, whatever its size."""

from __future__ import annotations

from typing import Any

from services.container import Services
from services.domain import CustomerDraft
from services.offers.values import DecideRequest

FULL_PAGE = """
query($first: Int!) {
  customers(first: $first, orderBy: ID_ASC) {
    edges { node {
      externalId stage valueTier churnReason { code } referralCount referralConversions
      daysSinceLastPurchase purchaseRhythmDays rfm { recency segment } alerts { type }
      segments { key } referrer { externalId } referrals { externalId } stageHistory { toStage }
      events(first: 3) { edges { node { type } } }
      decisions(first: 2) { decisionPoint lever { key } propensity outcome { accepted } }
    } }
  }
}"""


async def test_contact_history_is_in_the_customer_view_newest_first(
    gql: Any, services: Services, configure: Any
) -> None:
    await configure()
    await services.customers.upsert_many([CustomerDraft(external_id="h", attributes={"price_sensitive": True})])
    made = [await services.offers.decisions.decide(DecideRequest("RETENTION", "h", context={"channel": "web"}))
            for _ in range(3)]
    view = await gql('{ customerByExternalId(externalId: "h") { decisions(first: 2) { id decisionPoint propensity } } }')
    history = view["customerByExternalId"]["decisions"]
    assert [d["id"] for d in history] == [str(made[2].id), str(made[1].id)]
    assert all(d["decisionPoint"] == "RETENTION" and 0 < d["propensity"] <= 1 for d in history)


async def test_a_page_of_full_customer_views_costs_a_constant_number_of_statements(
    gql: Any, services: Services, configure: Any, statements: list[str]
) -> None:
    await configure()
    drafts = [CustomerDraft(external_id=f"v{i}", referred_by_external_id=f"v{i - 1}" if i else None) for i in range(45)]
    await services.customers.upsert_many(drafts)
    for i in range(45):
        await services.offers.decisions.decide(DecideRequest("RETENTION", f"v{i}", context={"channel": "app"}))

    async def cost(first: int) -> int:
        statements.clear()
        data = await gql(FULL_PAGE, {"first": first})
        assert len(data["customers"]["edges"]) == first
        assert all(len(e["node"]["decisions"]) == 1 for e in data["customers"]["edges"])
        return len(statements)

    assert await cost(5) == await cost(40)
