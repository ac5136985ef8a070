"""Demo customer profiles: name, email, phone, region and attributes.

Richer customers (a lower socioeconomic ``level``) have better credit, less price sensitivity
and dearer plans.
"""

from __future__ import annotations

import json

import numpy as np

from services.demo_catalogue import DOMAINS, FIRST_F, FIRST_M, LEVELS, PLANS, REGIONS, SURNAMES

# (name, email, phone, region, attributes as JSON)
Profile = tuple[str, str | None, str | None, str, str]


def profiles(rng: np.random.Generator, n: int, level: np.ndarray) -> list[Profile]:
    """One profile per customer; ``level`` indexes ``LEVELS`` for each of the ``n`` customers."""
    female = rng.random(n) < 0.51
    first = np.where(female, rng.integers(0, len(FIRST_F), n), rng.integers(0, len(FIRST_M), n))
    surnames = rng.integers(0, len(SURNAMES), (n, 2))
    region = rng.choice(
        len(REGIONS), size=n, p=np.array([w for *_, w in REGIONS]) / sum(w for *_, w in REGIONS)
    )
    domain = rng.integers(0, len(DOMAINS), n)
    digits = rng.integers(0, 10**8, n)
    age = np.clip(np.round(rng.normal(42, 13, n)), 18, 85).astype(int)
    credit = np.clip(np.round(rng.normal(760 - 60 * level, 55)), 300, 850).astype(int)
    price_sensitive = rng.random(n) < 0.2 + 0.1 * level
    plan = np.minimum(2, np.maximum(0, np.round(2.2 - 0.5 * level + rng.normal(0, 0.6, n)))).astype(
        int
    )
    gender = np.where(female, "F", np.where(rng.random(n) < 0.02, "X", "M"))
    rows = []
    for i in range(n):
        given = (FIRST_F if female[i] else FIRST_M)[first[i]]
        family = f"{SURNAMES[surnames[i, 0]]} {SURNAMES[surnames[i, 1]]}"
        region_name, argentine, _ = REGIONS[region[i]]
        handle = f"{_ascii(given)}.{_ascii(SURNAMES[surnames[i, 0]])}{i + 1}".lower()
        d = int(digits[i])
        phone = (
            f"+54 9 11 {d // 10**4:04d}-{d % 10**4:04d}"
            if argentine
            else f"+34 6{d // 10**6:02d} {d // 1000 % 1000:03d} {d % 1000:03d}"
        )
        attributes = {
            "age": int(age[i]),
            "gender": str(gender[i]),
            "socioeconomicLevel": LEVELS[level[i]],
            "creditScore": int(credit[i]),
            "priceSensitive": bool(price_sensitive[i]),
            "plan": PLANS[plan[i]],
        }
        rows.append(
            (
                f"{given} {family}",
                f"{handle}@{DOMAINS[domain[i]]}",
                phone,
                region_name,
                json.dumps(attributes),
            )
        )
    return rows


_ASCII = str.maketrans("áéíóúÁÉÍÓÚñÑü", "aeiouAEIOUnNu")


def _ascii(word: str) -> str:
    return word.translate(_ASCII)
