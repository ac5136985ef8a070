"""The engine's single error family.

Every error carries its data as attributes so the service layer can map it to a result type without
parsing messages.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error raised by ``engine``."""


class InvalidContext(EngineError):
    """A context value cannot be encoded for its feature."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"context `{key}`: {reason}")


class InvalidFeatureSpec(EngineError):
    """A feature name or encoder description is not usable."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"feature `{name}`: {reason}")


class InvalidPolicyConfig(EngineError):
    """A configuration field has an invalid value."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


class UnknownLever(EngineError):
    """A lever is not part of the model."""

    def __init__(self, lever: str) -> None:
        self.lever = lever
        super().__init__(f"unknown lever `{lever}`")


class InvalidCandidates(EngineError):
    """A candidate set is empty or shaped wrongly."""

    def __init__(self, row: int, reason: str) -> None:
        self.row = row
        self.reason = reason
        super().__init__(f"candidates of row {row}: {reason}")


class InvalidReward(EngineError):
    """A reward cannot be learned by the configured policy."""

    def __init__(self, reward: float, reason: str) -> None:
        self.reward = reward
        self.reason = reason
        super().__init__(f"reward {reward!r}: {reason}")


class ModelNotFitted(EngineError):
    """MABWiser was asked to predict before any fit (wraps its bare ``Exception``)."""

    def __init__(self, policy: str) -> None:
        self.policy = policy
        super().__init__(f"policy {policy} was used before it was fitted")


class InvalidSnapshot(EngineError):
    """Stored snapshot bytes cannot be restored."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid snapshot: {reason}")
