"""The README's guardrail examples run as written against the real schema, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.container import Services
from services.domain import CustomerDraft
from services.offers.values import LeverDraft

README = Path(__file__).resolve().parents[2] / "README.md"


def operations() -> list[str]:
    text = README.read_text()
    section = text[text.index("### Eligibility, arbitration, holdout and policy arms") : text.index("## Command line")]
    start = section.index("```graphql") + len("```graphql")
    block = section[start : section.index("```\n", start)]
    ops, depth, current = [], 0, ""
    for line in block.splitlines():
        if line.startswith("#") and depth == 0:
            continue
        current += line + "\n"
        depth += line.count("{") - line.count("}")
        if depth == 0 and current.strip():
            ops.append(current)
            current = ""
    return ops


async def test_readme_guardrail_examples_run(services: Services, gql: Any) -> None:
    assert not (await services.customers.upsert_many([CustomerDraft(external_id="demo-7-000042")])).errors
    for lever in (LeverDraft("DISCOUNT_10", "10%", "DISCOUNT", discount_percent=10),
                  LeverDraft("FREE_SHIPPING", "Free shipping", "FREE_SHIPPING", unit_cost=4),
                  LeverDraft("NO_ACTION", "Nothing", "NO_ACTION")):
        await services.offers.catalog.upsert_lever(lever)
    results = [await gql(op) for op in operations()]
    assert len(results) == 6
    assert results[0]["upsertLever"]["__typename"] == "Lever"
    configured = results[2]["configureDecisionPoint"]
    assert configured["__typename"] == "DecisionPoint", configured
    assert [a["name"] for a in configured["arms"]] == ["main", "ucb", "shadow-eg"]
    decided = results[3]["decide"]
    assert decided["__typename"] == "Decision", decided
    assert decided["holdout"] or decided["shadow"]["arm"] == "shadow-eg"
    assert {e["lever"] for e in decided["explanation"]["excluded"]} >= {"DISCOUNT_20", "WINBACK_PRICE"} or decided["holdout"]
    assert {r["name"] for r in results[4]["policyArms"]} == {"main", "ucb", "shadow-eg"}
    promoted = results[5]["promotePolicy"]
    assert promoted["policy"] == {"kind": "LIN_UCB"} and promoted["arms"][0] == {"name": "ucb", "champion": True, "trafficPercent": 80.0}
