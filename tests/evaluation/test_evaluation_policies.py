"""policyEvaluation on an imported uniform campaign: estimates checked against the file itself,
exclusions counted, candidates trained on the older part, errors that name the field."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.evaluation.log_import import LoggedDecisionDraft
from tests.evaluation.campaign import generate_campaign

EVALUATE = """query($c: PolicyCandidateInput!, $e: [Estimator!]! = [IPS, SNIPS, DR], $to: DateTime, $point: String! = "WINBACK") {
  policyEvaluation(decisionPoint: $point, candidate: $c, estimators: $e, to: $to, seed: 1) {
    __typename
    ... on PolicyEvaluation { candidate rows evaluatedRows trainingRows excludedWithoutPropensity excludedOtherVersion
      loggedValue { value low high } estimates { estimator value low high effectiveSampleSize } intervalMethod }
    ... on InvalidInput { field message }
    ... on UnknownDecisionPoint { key }
  }
}"""


def drafts(rows: list[dict], *, propensity: bool = True) -> list[LoggedDecisionDraft]:
    return [
        LoggedDecisionDraft(r["externalId"], r["decisionPoint"], r["lever"], datetime.fromisoformat(r["decidedAt"]),
                            r["accepted"], r["revenue"], r["propensity"] if propensity else None, r["features"])
        for r in rows
    ]


@pytest.fixture
async def campaign(services, winback) -> list[dict]:
    await winback()
    rows = generate_campaign(3000, seed=21)
    assert (await services.evaluation.log.import_many(drafts(rows))).accepted == 3000
    unknown = generate_campaign(100, seed=22)
    assert (await services.evaluation.log.import_many(drafts(unknown, propensity=False))).accepted == 100
    return rows


def by_estimator(result: dict) -> dict[str, dict]:
    return {e["estimator"]: e for e in result["estimates"]}


async def test_always_a_lever_on_a_uniform_log_gives_the_file_s_own_numbers(campaign, gql) -> None:
    result = (await gql(EVALUATE, {"c": {"kind": "ALWAYS", "lever": "DISCOUNT_10"}}))["policyEvaluation"]
    assert result["__typename"] == "PolicyEvaluation"
    assert result["rows"] == 3100 and result["evaluatedRows"] == 3000
    assert result["excludedWithoutPropensity"] == 100 and result["trainingRows"] == 0
    arm = [r for r in campaign if r["lever"] == "DISCOUNT_10"]
    accepted = sum(r["accepted"] for r in arm)
    estimates = by_estimator(result)
    # uniform logging over three arms: IPS weighs each DISCOUNT_10 row by 3, SNIPS is the arm's own rate
    assert estimates["IPS"]["value"] == pytest.approx(3 * accepted / 3000)
    assert estimates["SNIPS"]["value"] == pytest.approx(accepted / len(arm))
    assert estimates["IPS"]["effectiveSampleSize"] == pytest.approx(len(arm))
    assert result["loggedValue"]["value"] == pytest.approx(sum(r["accepted"] for r in campaign) / 3000)
    # the generator's truth: 60% not price sensitive accept 10%, 40% sensitive accept 35%
    for e in estimates.values():
        assert e["low"] < 0.20 < e["high"], e
        assert e["low"] <= e["value"] <= e["high"]
    assert "bootstrap" in result["intervalMethod"]


async def test_a_policy_trained_on_the_older_part_beats_the_logged_uniform_policy(campaign, gql) -> None:
    candidate = {"kind": "POLICY", "policy": {"kind": "LIN_UCB", "alpha": 0.3}, "split": 0.5}
    result = (await gql(EVALUATE, {"c": candidate}))["policyEvaluation"]
    assert result["trainingRows"] == 1550 and result["evaluatedRows"] == 1550 - result["excludedWithoutPropensity"]
    logged = result["loggedValue"]
    for e in by_estimator(result).values():
        # best per context is worth 0.248, uniform about 0.135
        assert e["low"] > logged["high"] - 0.02 and e["value"] > 0.2, e


async def test_uniform_random_and_the_current_model_are_candidates_too(campaign, gql) -> None:
    uniform = (await gql(EVALUATE, {"c": {"kind": "UNIFORM_RANDOM"}, "e": ["IPS"]}))["policyEvaluation"]
    assert [e["estimator"] for e in uniform["estimates"]] == ["IPS"]
    assert uniform["estimates"][0]["value"] == pytest.approx(uniform["loggedValue"]["value"])
    current = (await gql(EVALUATE, {"c": {"kind": "CURRENT_MODEL"}}))["policyEvaluation"]
    assert current["candidate"] == "the current model" and current["evaluatedRows"] == 3000


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"c": {"kind": "ALWAYS", "lever": "NOPE"}}, "candidate.lever"),
        ({"c": {"kind": "POLICY"}}, "candidate.policy"),
        ({"c": {"kind": "POLICY", "policy": {"kind": "LIN_TS"}, "split": 1.5}}, "candidate.split"),
        ({"c": {"kind": "POLICY", "policy": {"kind": "LIN_TS", "alpha": -1}}}, "candidate.policy.alpha"),
        ({"c": {"kind": "UNIFORM_RANDOM"}, "e": []}, "estimators"),
        ({"c": {"kind": "UNIFORM_RANDOM"}, "to": "2020-01-01T00:00:00Z"}, "decisionPoint"),
    ],
)
async def test_bad_requests_are_typed_errors_naming_the_field(campaign, gql, variables, field) -> None:
    result = (await gql(EVALUATE, variables))["policyEvaluation"]
    assert result["__typename"] == "InvalidInput" and result["field"] == field, result


async def test_an_unknown_decision_point_is_a_typed_error(services, gql) -> None:
    result = (await gql(EVALUATE, {"c": {"kind": "UNIFORM_RANDOM"}, "point": "NOPE"}))["policyEvaluation"]
    assert result == {"__typename": "UnknownDecisionPoint", "key": "NOPE"}
