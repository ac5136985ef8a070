"""Customer context -> numpy row, with a fixed and versioned column order.

The encoder is fitted once, at configuration time, on a sample of contexts; its statistics are then
frozen so that a live model never sees its inputs drift under it. Column 0 is always a constant bias,
which gives linear policies an intercept and keeps ``d >= 1`` for an encoder without features.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import InvalidContext, InvalidFeatureSpec

ENCODING_FORMAT = 1
BIAS_COLUMN = "bias"
OTHER = "<other>"
MISSING_SUFFIX = "#missing"

KNOWN_CATEGORICAL = frozenset({"stage", "valueTier", "churnReason", "acquisitionChannel"})
KNOWN_NUMERIC = frozenset(
    {"rfm.recency", "rfm.frequency", "rfm.monetary", "tenureDays", "daysSinceLastPurchase", "openAlerts"}
)
OPEN_PREFIXES = ("attributes.", "context.")


def check_feature_name(name: str) -> None:
    """Raise ``InvalidFeatureSpec`` unless ``name`` is a feature a decision point may configure."""
    if name in KNOWN_CATEGORICAL or name in KNOWN_NUMERIC:
        return
    for prefix in OPEN_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return
    raise InvalidFeatureSpec(name, "not a known feature nor `attributes.<name>` / `context.<name>`")


@dataclass(frozen=True, slots=True)
class NumericFeature:
    """A standardised number: ``(value - mean) / std``, 0 when missing."""

    name: str
    mean: float
    std: float

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.name, self.name + MISSING_SUFFIX)


@dataclass(frozen=True, slots=True)
class CategoricalFeature:
    """A one-hot category among ``categories`` plus an "other" bucket for unseen values."""

    name: str
    categories: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (*(f"{self.name}={c}" for c in self.categories), f"{self.name}={OTHER}", self.name + MISSING_SUFFIX)


Feature = NumericFeature | CategoricalFeature
# Up to this many rows are encoded one row at a time in plain Python (see ``encode_many``).
ROW_AT_A_TIME_MAX = 16
_PLAIN_NUMERIC_TYPES = {int, float, type(None), np.float64, np.float32, np.int64, np.int32}


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_number(value: object) -> bool:
    # bool is an int subclass, but a flag is a category, not a quantity
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _category_key(name: str, value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    raise InvalidContext(name, f"expected a string, bool or integer category, got {type(value).__name__}")


def _row_step(feature: Feature, offset: int) -> tuple[bool, str, Any, Any, Any]:
    """How ``FeatureEncoder._encode_row`` writes one feature whose columns start at ``offset``."""
    if isinstance(feature, NumericFeature):
        return True, feature.name, offset, feature.mean, feature.std
    width = len(feature.categories)
    columns = {c: offset + i for i, c in enumerate(feature.categories)}
    return False, feature.name, columns, offset + width, offset + width + 1


def _fit_feature(name: str, values: list[object], max_categories: int) -> Feature:
    present = [v for v in values if not _is_missing(v)]
    categorical = name in KNOWN_CATEGORICAL or (
        name not in KNOWN_NUMERIC and (not present or not all(_is_number(v) for v in present))
    )
    if categorical:
        counts = Counter(_category_key(name, v) for v in present)
        # most frequent first, then alphabetical, so the cap is deterministic; columns are sorted
        kept = sorted(counts, key=lambda c: (-counts[c], c))[:max_categories]
        return CategoricalFeature(name, tuple(sorted(kept)))
    for v in present:
        if not _is_number(v):
            raise InvalidContext(name, f"expected a number, got {type(v).__name__}")
    if not present:
        return NumericFeature(name, 0.0, 1.0)
    arr = np.asarray(present, dtype=np.float64)
    std = float(arr.std())
    return NumericFeature(name, float(arr.mean()), std if std > 0 else 1.0)


class FeatureEncoder:
    """Frozen mapping from a context ``Mapping`` to a float64 row; see ``columns`` for the order."""

    __slots__ = ("features", "columns", "version", "_category_index", "_offsets", "_plan", "_template")

    def __init__(self, features: Sequence[Feature]) -> None:
        names = [f.name for f in features]
        if len(set(names)) != len(names):
            raise InvalidFeatureSpec(",".join(names), "feature names must be unique")
        for name in names:
            check_feature_name(name)
        self.features: tuple[Feature, ...] = tuple(features)
        columns: list[str] = [BIAS_COLUMN]
        offsets: list[int] = []
        for feature in self.features:
            offsets.append(len(columns))
            columns.extend(feature.columns)
        self.columns: tuple[str, ...] = tuple(columns)
        self._offsets = tuple(offsets)
        self._category_index = tuple(
            {c: i for i, c in enumerate(f.categories)} if isinstance(f, CategoricalFeature) else {}
            for f in self.features
        )
        self._plan = tuple(_row_step(f, offset) for f, offset in zip(self.features, offsets))
        self._template = [1.0] + [0.0] * (len(columns) - 1)
        self.version: str = hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]

    @classmethod
    def fit(
        cls, feature_names: Sequence[str], sample_rows: Iterable[Mapping[str, object]], max_categories: int = 50
    ) -> FeatureEncoder:
        """Decide each feature's kind and statistics from ``sample_rows`` and freeze them."""
        if max_categories < 1:
            raise InvalidFeatureSpec("max_categories", f"`max_categories` must be >= 1, got {max_categories}")
        for name in feature_names:
            check_feature_name(name)
        rows = list(sample_rows)
        return cls([_fit_feature(n, [r.get(n) for r in rows], max_categories) for n in feature_names])

    @property
    def dimension(self) -> int:
        return len(self.columns)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def encode(self, row: Mapping[str, object]) -> np.ndarray:
        """Encode one context into a ``(d,)`` float64 row."""
        return self.encode_many([row])[0]

    def encode_many(self, rows: Sequence[Mapping[str, object]]) -> np.ndarray:
        """Encode contexts into an ``(n, d)`` float64 matrix; keys outside the spec are ignored.

        Raises ``InvalidContext`` for a value of the wrong type; unseen categories go to "other".
        """
        if len(rows) <= ROW_AT_A_TIME_MAX:
            # For a few rows plain Python beats numpy's per-call overhead; any value off the
            # common types is left to the vectorised path, which owns the error reporting.
            encoded = [self._encode_row(row) for row in rows]
            if None not in encoded:
                return np.array(encoded, dtype=np.float64).reshape(len(rows), self.dimension)
        return self._encode_columns(rows)

    def _encode_row(self, row: Mapping[str, object]) -> list[float] | None:
        """One context as a list of floats, or None when a value needs the careful path."""
        out = self._template.copy()
        get = row.get
        for numeric, name, a, b, c in self._plan:
            value = get(name)
            kind = type(value)
            if numeric:  # a: value column, b: mean, c: std
                if kind is float or kind is int:
                    if value != value:  # NaN counts as missing
                        out[a + 1] = 1.0
                    else:
                        out[a] = (float(value) - b) / c
                elif value is None:
                    out[a + 1] = 1.0
                else:
                    return None
            elif kind is str:  # a: category -> column, b: "other" column, c: missing column
                out[a.get(value, b)] = 1.0
            elif value is None:
                out[c] = 1.0
            elif kind is bool:
                out[a.get("true" if value else "false", b)] = 1.0
            elif kind is int:
                out[a.get(str(value), b)] = 1.0
            else:
                return None
        return out

    def encode_columns(self, names: Sequence[str], columns: Sequence[Sequence[object]], n: int) -> np.ndarray:
        """``encode_many`` for ``n`` rows given per feature: ``columns[j][i]`` is row ``i``'s value
        of ``names[j]``; features not named are missing. The same matrix, the same errors."""
        if n <= ROW_AT_A_TIME_MAX:
            return self.encode_many([dict(zip(names, values)) for values in zip(*columns)] if columns else [{}] * n)
        by_name = dict(zip(names, columns))
        return self._encode_values([by_name.get(f.name) or [None] * n for f in self.features], n)

    def _encode_columns(self, rows: Sequence[Mapping[str, object]]) -> np.ndarray:
        return self._encode_values([[r.get(f.name) for r in rows] for f in self.features], len(rows))

    def _encode_values(self, columns: Sequence[Sequence[object]], n: int) -> np.ndarray:
        """One value list per feature of ``self.features``, each of length ``n``."""
        out = np.zeros((n, self.dimension), dtype=np.float64)
        out[:, 0] = 1.0
        for feature, offset, index, values in zip(self.features, self._offsets, self._category_index, columns):
            if isinstance(feature, NumericFeature):
                out[:, offset : offset + 2] = self._encode_numeric(feature, values)
            else:
                width = len(feature.categories)
                if set(map(type, values)) <= {str, type(None)}:
                    # fast path for the common case: plain strings and None
                    slots = np.fromiter(
                        (width + 1 if v is None else index.get(v, width) for v in values), dtype=np.intp, count=n
                    )
                else:
                    slots = np.fromiter(
                        (
                            width + 1 if _is_missing(v) else index.get(_category_key(feature.name, v), width)
                            for v in values
                        ),
                        dtype=np.intp,
                        count=n,
                    )
                out[np.arange(n), offset + slots] = 1.0
        return out

    @staticmethod
    def _encode_numeric(feature: NumericFeature, values: Sequence[object]) -> np.ndarray:
        try:
            # fast path: every value is a number or None
            raw = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            raw = np.empty(len(values))
        if not set(map(type, values)) <= _PLAIN_NUMERIC_TYPES:
            bad = next((v for v in values if not _is_missing(v) and not _is_number(v)), None)
            if bad is not None:
                raise InvalidContext(feature.name, f"expected a number, got {type(bad).__name__}")
        missing = np.isnan(raw)
        block = np.empty((len(values), 2))
        block[:, 0] = np.where(missing, 0.0, (raw - feature.mean) / feature.std)
        block[:, 1] = missing
        return block

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description from which ``from_dict`` rebuilds an identical encoder."""
        specs: list[dict[str, Any]] = []
        for f in self.features:
            if isinstance(f, NumericFeature):
                specs.append({"name": f.name, "kind": "numeric", "mean": f.mean, "std": f.std})
            else:
                specs.append({"name": f.name, "kind": "categorical", "categories": list(f.categories)})
        return {"format": ENCODING_FORMAT, "features": specs}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureEncoder:
        if data.get("format") != ENCODING_FORMAT:
            raise InvalidFeatureSpec("format", f"unsupported encoding format {data.get('format')!r}")
        features: list[Feature] = []
        for spec in data["features"]:
            if spec["kind"] == "numeric":
                features.append(NumericFeature(spec["name"], float(spec["mean"]), float(spec["std"])))
            elif spec["kind"] == "categorical":
                features.append(CategoricalFeature(spec["name"], tuple(spec["categories"])))
            else:
                raise InvalidFeatureSpec(spec["name"], f"unknown kind {spec['kind']!r}")
        return cls(features)

    # Frozen once built: copies share it, and a pickle holds only the features (older pickles,
    # which hold every slot, are rebuilt from their features too).
    def __copy__(self) -> FeatureEncoder:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FeatureEncoder:
        return self

    def __reduce__(self) -> tuple[type[FeatureEncoder], tuple[tuple[Feature, ...]]]:
        return FeatureEncoder, (self.features,)

    def __setstate__(self, state: Any) -> None:
        slots = state[1] if isinstance(state, tuple) else state
        FeatureEncoder.__init__(self, slots["features"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FeatureEncoder) and self.features == other.features

    def __hash__(self) -> int:
        return hash(self.features)

    def __repr__(self) -> str:
        return f"FeatureEncoder(version={self.version!r}, columns={len(self.columns)})"
