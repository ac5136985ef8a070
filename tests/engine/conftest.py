"""Shared fixtures for the engine tests: a small seeded population and a model factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from engine.features import FeatureEncoder
from engine.model import OfferModel
from engine.policies import PolicyConfig, PolicyKind
from engine.scenarios import FEATURES, scenario

LEVERS = ("DISCOUNT_10", "FREE_SHIPPING", "PERSONAL_CALL", "NO_ACTION")


@pytest.fixture(scope="session")
def rows() -> list[dict[str, object]]:
    return scenario("retention").draw(600, np.random.default_rng(7)).rows


@pytest.fixture(scope="session")
def encoder(rows: list[dict[str, object]]) -> FeatureEncoder:
    return FeatureEncoder.fit(FEATURES, rows)


@pytest.fixture
def make_model(encoder: FeatureEncoder) -> Callable[..., OfferModel]:
    def make(kind: PolicyKind, levers: tuple[str, ...] = LEVERS, **config: Any) -> OfferModel:
        return OfferModel(PolicyConfig(kind, **config), encoder, levers)

    return make


@pytest.fixture
def train() -> Callable[..., None]:
    """Learn a seeded batch of 0/1 outcomes where PERSONAL_CALL is best."""

    def learn(model: OfferModel, rows: list[dict[str, object]], seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        features = model.encoder.encode_many(rows)
        levers = rng.choice(np.array(model.active_levers), len(rows))
        p = np.where(levers == "PERSONAL_CALL", 0.6, 0.2)
        model.learn(levers, (rng.random(len(rows)) < p).astype(float), features)

    return learn
