"""Query limits: deep, alias-heavy and oversized documents are refused with a clear error, and
the limits never cost a repeated query its validation cache."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from api.limits import QueryLimits
from api.schema import CicloSchema, build_schema


async def run(schema: CicloSchema, query: str) -> Any:
    return await schema.execute(query)


@pytest.fixture(scope="module")
def tight() -> CicloSchema:
    return build_schema(limits=QueryLimits(max_depth=4, max_aliases=3, max_tokens=200))


async def test_deep_queries_are_refused_with_the_depth_and_the_limit(tight: CicloSchema) -> None:
    deep = "{ customers { edges { node { referrer { referrer { externalId } } } } } }"
    result = await run(tight, deep)
    assert result.errors and "nested 6 levels deep; the limit is 4" in result.errors[0].message
    ok = await run(tight, "{ customers { totalCount } }")
    assert not ok.errors or "nested" not in ok.errors[0].message


async def test_depth_counts_through_fragments(tight: CicloSchema) -> None:
    query = """query Q { customers { ...C } }
      fragment C on CustomerConnection { edges { node { referrer { referrer { id } } } } }"""
    result = await run(tight, query)
    assert result.errors and "nested 6 levels deep" in result.errors[0].message


async def test_aliases_are_counted_where_fragments_are_spread(tight: CicloSchema) -> None:
    # Two aliases inside a fragment, spread under two aliases: six in all, not two.
    query = """query Bomb { a: stages { ...S } b: stages { ...S } }
      fragment S on StageCount { x: count y: count }"""
    result = await run(tight, query)
    assert result.errors and "uses 6 aliases" in result.errors[0].message and "limit is 3" in result.errors[0].message


async def test_oversized_documents_are_refused_before_validation(tight: CicloSchema) -> None:
    query = "{ " + " ".join(f"f{i}: __typename" for i in range(100)) + " }"
    result = await run(tight, query)
    assert result.errors and "token" in result.errors[0].message.lower()


async def test_limits_keep_the_validation_cache_hitting(tight: CicloSchema) -> None:
    query = f"query Fine_{uuid.uuid4().hex} {{ __typename }}"
    first = await run(tight, query)
    assert not first.errors
    runs = tight.validation_results.runs
    for _ in range(5):
        assert not (await run(tight, query)).errors
    assert tight.validation_results.runs == runs


def test_limits_validate_themselves() -> None:
    with pytest.raises(ValueError, match="`max_depth` must be >= 1, got 0"):
        QueryLimits(max_depth=0)
