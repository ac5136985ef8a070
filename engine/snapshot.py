"""``Snapshot``: a model frozen for storage, with what it has learned so far.

The pickle round trip is the persistence contract: a restored model predicts exactly as the
original (same parameters, same MABWiser random state).
"""

from __future__ import annotations

import pickle
from dataclasses import asdict, dataclass
from typing import Any

from engine.errors import InvalidSnapshot
from engine.model import OfferModel

SNAPSHOT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Snapshot:
    model_bytes: bytes
    config: dict[str, Any]
    encoding_version: str
    outcomes_applied: int
    last_outcome_id: int

    @classmethod
    def capture(cls, model: OfferModel, last_outcome_id: int) -> Snapshot:
        """Freeze ``model`` (typically ``learner.model``) and the outcome watermark it reflects."""
        return cls(
            model_bytes=pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL),
            config=model.config.to_dict(),
            encoding_version=model.encoder.version,
            outcomes_applied=model.outcomes_applied,
            last_outcome_id=last_outcome_id,
        )

    def restore(self) -> OfferModel:
        """The stored model; raises ``InvalidSnapshot`` if it does not match the recorded metadata."""
        try:
            model = pickle.loads(self.model_bytes)
        except Exception as exc:  # any unpickling failure means unusable bytes
            raise InvalidSnapshot(f"model bytes cannot be loaded: {exc}") from exc
        if not isinstance(model, OfferModel):
            raise InvalidSnapshot(f"expected an OfferModel, got {type(model).__name__}")
        if model.encoder.version != self.encoding_version:
            raise InvalidSnapshot(
                f"encoding version {model.encoder.version} != recorded {self.encoding_version}"
            )
        return model

    def dumps(self) -> bytes:
        """Bytes for storage (trusted storage only: this is pickle)."""
        return pickle.dumps({"format": SNAPSHOT_FORMAT, **asdict(self)}, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def loads(cls, data: bytes) -> Snapshot:
        try:
            fields = pickle.loads(data)
        except Exception as exc:
            raise InvalidSnapshot(f"snapshot bytes cannot be loaded: {exc}") from exc
        if not isinstance(fields, dict) or fields.pop("format", None) != SNAPSHOT_FORMAT:
            raise InvalidSnapshot("unknown snapshot format")
        return cls(**fields)
