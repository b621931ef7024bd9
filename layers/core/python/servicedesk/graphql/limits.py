"""Refusing expensive queries before any resolver runs (validation, not execution).

- depth: Strawberry's ``QueryDepthLimiter``;
- cost: ``cost_limit``, a validation rule: every object or list field costs one per parent
  it is resolved for (scalars are free: they cost no resolver or statement), and a list
  field with ``first`` multiplies what is under it by its page size (a variable counts as
  the largest page, ``MAX_FIRST``: validation has no values);
  ``attachments`` (one statement per ticket: REST's own list) and a project's ``schedule``
  (REST's CPM pass over all its tasks and dependencies) cost ``PER_PARENT_WEIGHT``;
- page size: ``first`` is 1..``MAX_FIRST`` (``page_size``), as REST's ``limit``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)

from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.pagination import MAX_LIMIT

MAX_FIRST = MAX_LIMIT
DEFAULT_FIRST = 25
PER_PARENT_WEIGHT = 10
# The connection fields and their default page sizes (a field without ``first`` still
# resolves a page).
CONNECTIONS = {
    "tickets": DEFAULT_FIRST,
    "comments": 20,
    "timeline": 20,
    "attachments": 20,
    "articles": DEFAULT_FIRST,
    "configurationItems": DEFAULT_FIRST,
    "auditEvents": DEFAULT_FIRST,
    "projects": DEFAULT_FIRST,
    "tasks": DEFAULT_FIRST,
}
# Fields read by their REST list's service once per parent (no DataLoader): weighed more.
PER_PARENT = frozenset({"attachments", "schedule"})


Fragments = Callable[[str], FragmentDefinitionNode | None]


def page_size(first: int) -> int:
    """``first`` as REST's ``limit``: 1..100, else a 422 naming it (a GraphQL error)."""
    if not 1 <= first <= MAX_FIRST:
        raise ValidationProblem(
            f"first must be between 1 and {MAX_FIRST}",
            errors=[field_error("first", f"must be between 1 and {MAX_FIRST}")],
        )
    return first


def _first(node: FieldNode) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, min(int(value.value), MAX_FIRST))
            return MAX_FIRST
    return CONNECTIONS.get(node.name.value)


@dataclass
class Cost:
    """What selections cost. Cost is linear in how many times a selection resolves, so a
    fragment's cost is computed once, for one resolution, and multiplied: a document that
    spreads fragments into each other costs linear time to price, not exponential."""

    fragments: Fragments
    unit: dict[str, int] = field(default_factory=dict)

    def of(self, selections: SelectionSetNode | None, times: int, path: frozenset[str]) -> int:
        total = 0
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                total += self._field(selection, times, path)
            elif isinstance(selection, InlineFragmentNode):
                total += self.of(selection.selection_set, times, path)
            elif isinstance(selection, FragmentSpreadNode):
                total += times * self._fragment(selection.name.value, path)
        return total

    def _field(self, node: FieldNode, times: int, path: frozenset[str]) -> int:
        if node.selection_set is None:
            return 0  # a scalar of an object already paid for
        weight = PER_PARENT_WEIGHT if node.name.value in PER_PARENT else 1
        return times * weight + self.of(node.selection_set, times * (_first(node) or 1), path)

    def _fragment(self, name: str, path: frozenset[str]) -> int:
        if name in path:
            return 0  # a fragment cycle is a validation error of its own
        if name not in self.unit:
            fragment = self.fragments(name)
            self.unit[name] = (
                self.of(fragment.selection_set, 1, path | {name}) if fragment is not None else 0
            )
        return self.unit[name]


def cost_limit(max_cost: int) -> type[ValidationRule]:
    """A validation rule refusing operations whose cost exceeds ``max_cost``."""

    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            found = Cost(self.context.get_fragment).of(node.selection_set, 1, frozenset())
            if found > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {found} exceeds the limit of {max_cost}",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": found, "limit": max_cost},
                    )
                )

    return CostLimit
