"""Query limits that keep validation cacheable.

The rules are classes built once, when the schema is built, from fixed numbers: the validation
cache (api.validation) stays valid for every request. Aliases are counted through fragment
spreads, so a fragment repeated under many aliases cannot slip past the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_depth: int = 15
    max_aliases: int = 50
    max_tokens: int = 20_000

    def __post_init__(self) -> None:
        for name in ("max_depth", "max_aliases", "max_tokens"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"`{name}` must be >= 1, got {value}")

    def rules(self) -> tuple[type[ValidationRule], ...]:
        return (_depth_rule(self.max_depth), _alias_rule(self.max_aliases))


def _walk(context: ValidationContext, selection_set: SelectionSetNode | None, seen: frozenset[str]) -> tuple[int, int]:
    """(depth, aliases) below ``selection_set``, expanding fragments; cycles are cut off."""
    if selection_set is None:
        return 0, 0
    depth = aliases = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            below, inner = _walk(context, selection.selection_set, seen)
            depth = max(depth, 1 + below)
            aliases += inner + (1 if selection.alias else 0)
        elif isinstance(selection, InlineFragmentNode):
            below, inner = _walk(context, selection.selection_set, seen)
            depth, aliases = max(depth, below), aliases + inner
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is None or name in seen:
                continue
            below, inner = _walk(context, fragment.selection_set, seen | {name})
            depth, aliases = max(depth, below), aliases + inner
    return depth, aliases


def _operation_name(node: OperationDefinitionNode) -> str:
    return f"operation {node.name.value!r}" if node.name else "the operation"


def _depth_rule(limit: int) -> type[ValidationRule]:
    class MaxDepth(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth, _aliases = _walk(self.context, node.selection_set, frozenset())
            if depth > limit:
                self.report_error(GraphQLError(
                    f"{_operation_name(node)} is nested {depth} levels deep; the limit is {limit}.", node
                ))

    return MaxDepth


def _alias_rule(limit: int) -> type[ValidationRule]:
    class MaxAliases(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            _depth, aliases = _walk(self.context, node.selection_set, frozenset())
            if aliases > limit:
                self.report_error(GraphQLError(
                    f"{_operation_name(node)} uses {aliases} aliases (counting fragments where they are "
                    f"spread); the limit is {limit}.", node
                ))

    return MaxAliases
