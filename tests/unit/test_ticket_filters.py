"""The ticket list's filters are one model (tickets.filters.TicketQuery) for the list, its
export, export jobs and saved views: these checks keep the model and the query layer in
step, and show that every door refuses the same bad input the same way."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from pydantic import ValidationError

from servicedesk.exports.schemas import TicketExportParams
from servicedesk.tickets.filters import TicketExportQuery, TicketListQuery, TicketQuery
from servicedesk.tickets.queries import TicketFilters

# Set by code, never by a client (a problem's incidents: GET /v1/tickets/{id}/incidents).
INTERNAL = {"problem_id"}


def test_every_filter_of_the_query_layer_is_offered_by_the_model() -> None:
    offered = set(TicketQuery.model_fields)
    known = {f.name for f in dataclasses.fields(TicketFilters)}
    assert offered == known - INTERNAL


def test_the_doors_extend_the_one_model() -> None:
    for door in (TicketListQuery, TicketExportQuery, TicketExportParams):
        assert issubclass(door, TicketQuery)
        # Nothing of a door's own but its order, page or format.
        assert set(door.model_fields) - set(TicketQuery.model_fields) <= {
            "sort",
            "limit",
            "cursor",
            "format",
        }


def test_filters_carries_every_value_and_enum_values_plain() -> None:
    team = uuid.uuid4()
    query = TicketQuery.model_validate(
        {
            "status": ["open", "pending"],
            "priority": ["high"],
            "team_id": str(team),
            "category_id": "none",
            "channel": ["email"],
            "merged": "exclude",
            "reopened": True,
            "sla_outcome": "late",
            "open_at": "2026-03-01T00:00:00Z",
        }
    )
    filters = query.filters()
    assert filters.status == ["open", "pending"]
    assert all(type(s) is str for s in filters.status)
    assert (filters.team_id, filters.category_id) == (team, "none")
    assert (filters.channel, filters.merged, filters.reopened) == (["email"], "exclude", True)
    assert filters.sla_outcome == "late" and filters.open_at is not None
    assert TicketQuery().filters() == TicketFilters()


@pytest.mark.parametrize("door", [TicketListQuery, TicketExportQuery, TicketExportParams])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": ["sleeping"]}, "status"),
        ({"priority": ["low"] * 5}, "priority"),
        ({"merged": "sometimes"}, "merged"),
        ({"q": ""}, "q"),
        ({"tag": "x" * 51}, "tag"),
        ({"nonsense": "1"}, "nonsense"),
    ],
)
def test_every_door_refuses_the_same_bad_input_naming_the_field(
    door: type[TicketQuery], params: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        door.model_validate(params)
    assert {str(e["loc"][0]) for e in refused.value.errors()} == {field}
