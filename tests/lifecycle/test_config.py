"""Lifecycle thresholds: defaults, a TOML file named by CICLO_LIFECYCLE_CONFIG, the admin mutation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.errors import InvalidInput
from services.lifecycle.config import LifecycleConfig, from_env

CONFIGURE = """mutation($input: LifecycleConfigInput!) { configureLifecycle(input: $input) {
  __typename ... on LifecycleConfig { churnHorizonDays retentionMinPurchases tierPlatinumShare }
  ... on InvalidInput { field message } } }"""


def test_a_toml_file_named_by_the_environment_overrides_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lifecycle.toml"
    path.write_text("[lifecycle]\nchurn_horizon_days = 90\nretention_min_purchases = 4\n")
    monkeypatch.setenv("CICLO_LIFECYCLE_CONFIG", str(path))
    config = from_env()
    assert (config.churn_horizon_days, config.retention_min_purchases) == (90.0, 4)
    assert config.reactivated_days == LifecycleConfig().reactivated_days


def test_invalid_thresholds_name_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        LifecycleConfig(churn_horizon_days=-1)
    assert caught.value.field == "churnHorizonDays"
    with pytest.raises(InvalidInput) as caught:
        LifecycleConfig().with_changes({"nonsense": 1})
    assert caught.value.field == "nonsense"
    with pytest.raises(InvalidInput) as caught:
        LifecycleConfig(tier_platinum_share=0.5, tier_gold_share=0.4, tier_silver_share=0.3)
    assert caught.value.field == "tierSilverShare"


async def test_the_admin_mutation_stores_validated_thresholds(gql: Any) -> None:
    saved = await gql(CONFIGURE, {"input": {"churnHorizonDays": 120, "tierPlatinumShare": 0.05}})
    assert saved["configureLifecycle"] == {
        "__typename": "LifecycleConfig", "churnHorizonDays": 120.0, "retentionMinPurchases": 6, "tierPlatinumShare": 0.05,
    }
    refused = await gql(CONFIGURE, {"input": {"retentionMinPurchases": 0}})
    assert refused["configureLifecycle"]["__typename"] == "InvalidInput"
    assert refused["configureLifecycle"]["field"] == "retentionMinPurchases"
    current = await gql("{ lifecycleConfig { churnHorizonDays retentionMinPurchases } }")
    assert current["lifecycleConfig"] == {"churnHorizonDays": 120.0, "retentionMinPurchases": 6}
