"""Ticket numbers, per tenant and year, gap-free: drawn by the create's last statement.

The counter row's lock serialises a tenant's creations from the moment a number is drawn
until the transaction commits, so the less a create does after drawing, the more creates a
tenant can take per second. Everything that can happen before is done before (checks,
assignment, the SLA clock's arithmetic, building every row); then ONE statement draws the
number, inserts the ticket and every row that goes with it (the rows that carry the
number get it there), and the request commits. A failure anywhere rolls the counter back
with the rest: no gap, nothing half-written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from servicedesk.platform.db import Base, jsonable
from servicedesk.tickets.models import Ticket

# Formats last_value as the old code did (f"{value:06d}": at least six digits).
_DRAW = """
    INSERT INTO ticket_counters (tenant_id, year, last_value) VALUES (:tenant, :year, 1)
    ON CONFLICT (tenant_id, year) DO UPDATE SET last_value = ticket_counters.last_value + 1
    RETURNING :prefix || '-' || CAST(:year AS text) || '-'
              || CASE WHEN last_value < 1000000 THEN lpad(CAST(last_value AS text), 6, '0')
                      ELSE CAST(last_value AS text) END AS number
"""
# The ticket's columns as mapped (the generated search vector stays in the database).
_RETURNED = ", ".join(c.name for c in Ticket.__table__.columns if c.name != "search")


@dataclass
class Rows:
    """Rows of one table to insert with the ticket, in order. A value equal to
    ``Numbered.placeholder`` anywhere in a row (nested in jsonb too) becomes the number."""

    table: str
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Numbered:
    """A new ticket (transient, without its number) and what is written with it."""

    ticket: Ticket
    with_rows: list[Rows] = field(default_factory=list)
    # Unguessable per create, so that no user text can equal it.
    placeholder: str = field(default_factory=lambda: f"number:{uuid.uuid4().hex}")

    def add(self, table: str, row: dict[str, Any]) -> None:
        for rows in self.with_rows:
            if rows.table == table:
                rows.rows.append(row)
                return
        self.with_rows.append(Rows(table, [row]))

    def add_object(self, obj: Base) -> None:
        """A transient ORM object's set columns as a row of its table."""
        state = inspect(obj)
        columns = {c.key for c in state.mapper.column_attrs}
        self.add(
            obj.__table__.name,  # type: ignore[attr-defined]
            {k: v for k, v in state.dict.items() if k in columns and v is not None},
        )


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def insert(session: Session, numbered: Numbered, *, prefix: str, year: int) -> Ticket:
    """Draw the tenant's next number for `year` and insert the ticket and its rows, in one
    statement; the ticket comes back persistent in the session."""
    ticket = numbered.ticket
    values = {k: v for k, v in inspect(ticket).dict.items() if v is not None and k != "number"}
    values = {k: v for k, v in values.items() if k in Ticket.__table__.columns}
    ticket_columns = list(values)
    params: dict[str, Any] = {
        "tenant": ticket.tenant_id,
        "year": year,
        "prefix": prefix,
        "ticket": json.dumps(jsonable(values)),
        "placeholder": json.dumps(numbered.placeholder),
    }
    ctes = [
        f"drawn AS ({_DRAW})",
        # The number as JSON text, for the rows that carry it.
        "number_json AS (SELECT CAST(to_json(number) AS text) AS value FROM drawn)",
        f"""ticket AS (
            INSERT INTO tickets ({", ".join(ticket_columns)}, number)
            SELECT {", ".join(f"r.{c}" for c in ticket_columns)}, drawn.number
            FROM drawn, jsonb_populate_record(CAST(NULL AS tickets), CAST(:ticket AS jsonb)) r
            RETURNING {_RETURNED}
        )""",
    ]
    for i, rows in enumerate(numbered.with_rows):
        if not rows.rows:
            continue
        columns = _columns(rows.rows)
        params[f"rows{i}"] = json.dumps(jsonable(rows.rows))
        ctes.append(
            f"""rows{i} AS (
            INSERT INTO {rows.table} ({", ".join(columns)})
            SELECT {", ".join(f"r.{c}" for c in columns)}
            FROM number_json n, ticket,
                 jsonb_populate_recordset(
                     CAST(NULL AS {rows.table}),
                     CAST(replace(:rows{i}, :placeholder, n.value) AS jsonb)
                 ) WITH ORDINALITY r
            ORDER BY r.ordinality
        )"""
        )
    statement = text(f"WITH {', '.join(ctes)} SELECT {_RETURNED} FROM ticket")
    created: Ticket = session.scalars(select(Ticket).from_statement(statement), params).one()
    return created
