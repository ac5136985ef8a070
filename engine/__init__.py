"""Ciclo's offer engine: pure numpy + MABWiser, no database, no API.

The service layer builds an ``OfferModel`` per decision point configuration, serves decisions from
``Learner.model`` and feeds outcomes to ``Learner.submit`` / ``Learner.flush`` off the request path.
"""

from engine.arbitration import CostModel, LeverCost, NetValue, arbitrate
from engine.errors import (
    EngineError,
    InvalidCandidates,
    InvalidContext,
    InvalidFeatureSpec,
    InvalidPolicyConfig,
    InvalidReward,
    InvalidSnapshot,
    ModelNotFitted,
    UnknownLever,
)
from engine.features import FeatureEncoder
from engine.learner import Learner, OutcomeRecord, rebuild
from engine.model import Choice, DecisionBatch, LeverValue, OfferModel
from engine.policies import PolicyConfig, PolicyKind
from engine.snapshot import Snapshot

__all__ = [
    "Choice",
    "CostModel",
    "DecisionBatch",
    "EngineError",
    "FeatureEncoder",
    "InvalidCandidates",
    "InvalidContext",
    "InvalidFeatureSpec",
    "InvalidPolicyConfig",
    "InvalidReward",
    "InvalidSnapshot",
    "Learner",
    "LeverCost",
    "LeverValue",
    "ModelNotFitted",
    "NetValue",
    "OfferModel",
    "OutcomeRecord",
    "PolicyConfig",
    "PolicyKind",
    "Snapshot",
    "UnknownLever",
    "arbitrate",
    "rebuild",
]
