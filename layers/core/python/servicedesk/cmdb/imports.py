"""CSV import of configuration items: an idempotent upsert by external id, all or nothing
unless ``partial`` (docs/cmdb.md, "Import and export"). Never commits.

The file: UTF-8 (a BOM is dropped), a header row naming ``external_id``, ``name`` and
``class`` (a class key), optionally ``state``, ``location``, ``serial``, ``asset_tag``,
``owner_email``, and ``attr.<name>`` columns (the class's attribute schema decides how a
cell is read: integer, number, boolean, array (``;``-separated), else text; an empty cell
leaves the attribute out). Every row is checked before anything is written; a row's
errors name its row number (the header is row 1) and its column. A row whose external id
exists updates that CI (the lifecycle rules apply, history rows record what changed; a row
that changes nothing writes nothing); the others create CIs. Writes are set-based (one
INSERT or UPDATE per chunk from a JSON record set), so 100,000 rows are one request's work
(bench/cmdb.py).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from servicedesk.catalog import jsonschema
from servicedesk.cmdb.models import CI, CIClass
from servicedesk.cmdb.schemas import STATES, Discovery
from servicedesk.cmdb.service import (
    EXTERNAL_ID_INDEX,
    check_transition,
    closes_cycle,
    history_rows,
    lock_graph,
)
from servicedesk.platform import audit, outbox
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.errors import PayloadTooLarge, ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext

REQUIRED = ("external_id", "name", "class")
OPTIONAL = ("state", "location", "serial", "asset_tag", "owner_email")
ATTR = "attr."
MAX_BODY_BYTES = 6 * 1024 * 1024  # a Lambda's synchronous payload
MAX_EXPORT_ROWS = 100_000
MAX_ERRORS = 1000  # reported per import; the count is always exact
CHUNK = 5000
LIMITS = {"external_id": 200, "name": 200, "location": 200, "serial": 200, "asset_tag": 200}
COLUMNS = ("name", "class_id", "state", "location", "serial", "asset_tag", "owner_id", "attributes")


@dataclass
class Report:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    written: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "field": column, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "written": self.written,
            "errors": self.errors,
        }


def _not_utf8(offset: int) -> ValidationProblem:
    return ValidationProblem(
        "the file is not UTF-8",
        errors=[field_error("file", f"not UTF-8 (byte {offset} of the file)")],
    )


def lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """The file's lines (ends kept, split at CR, LF or CRLF as ``newline=""`` does), decoded
    chunk by chunk as UTF-8 (a BOM dropped): memory holds one chunk, never the file. The
    first bad byte is a 422 naming ``file``."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    consumed = 0
    pending = ""
    for chunk in chunks:
        buffered = len(decoder.getstate()[0])
        try:
            pending += decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise _not_utf8(consumed - buffered + exc.start) from exc
        consumed += len(chunk)
        done, pending = _split(pending, final=False)
        yield from done
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _not_utf8(consumed - len(exc.object) + exc.start) from exc
    done, pending = _split(pending, final=True)
    yield from done
    if pending:
        yield pending


_NEWLINE = re.compile(r"\r\n|\r|\n")


def _split(text_: str, *, final: bool) -> tuple[list[str], str]:
    """Whole lines and the rest; a CR at the very end waits for the next chunk (CRLF)."""
    done, start = [], 0
    for match in _NEWLINE.finditer(text_):
        if not final and match.group() == "\r" and match.end() == len(text_):
            break
        done.append(text_[start : match.end()])
        start = match.end()
    return done, text_[start:]


def _header(names: list[str]) -> list[str]:
    errors = []
    for i, name in enumerate(names):
        if name not in REQUIRED and name not in OPTIONAL and not name.startswith(ATTR):
            errors.append(field_error(f"header.{i + 1}", f"unknown column {name!r}"))
        elif names.index(name) != i:
            errors.append(field_error(f"header.{i + 1}", f"column {name!r} appears twice"))
    for name in REQUIRED:
        if name not in names:
            errors.append(field_error("header", f"missing column {name!r}"))
    if errors:
        raise ValidationProblem("the header row is not an import header", errors=errors)
    return names


def _cell(prop: dict[str, Any] | None, raw: str) -> Any:
    kind = (prop or {}).get("type")
    if kind == "integer":
        return int(raw)
    if kind == "number":
        return float(raw)
    if kind == "boolean":
        lowered = raw.lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError("not a boolean (true or false)")
        return lowered in ("true", "1", "yes")
    if kind == "array":
        return [part.strip() for part in raw.split(";") if part.strip()]
    return raw


def run(ctx: RequestContext, data: bytes, *, dry_run: bool, partial: bool) -> dict[str, Any]:
    """The synchronous import: ``check_and_write``, then a failing row without ``partial``
    is a 422 (the request's transaction rolls back what was written)."""
    report = check_and_write(ctx, lines([data]), dry_run=dry_run, partial=partial)
    if dry_run:
        return report.as_dict()
    if report.failed and not partial:
        raise refusal(report)
    announce(ctx, report.as_dict())
    return report.as_dict()


def refusal(report: Report) -> ValidationProblem:
    """All or nothing: the 422 of an import with failing rows, naming each."""
    return ValidationProblem(
        f"{report.failed} of {report.rows} rows fail: nothing was imported",
        errors=[field_error(f"rows.{e['row']}.{e['field']}", e["message"]) for e in report.errors],
    )


def check_and_write(
    ctx: RequestContext,
    text_lines: Iterable[str],
    *,
    dry_run: bool,
    partial: bool,
    on_chunk: Callable[[Report], None] | None = None,
) -> Report:
    """Read the file once, ``CHUNK`` rows at a time: check each chunk (the whole file's
    duplicate external ids included), then write it (unless ``dry_run``) as long as no row
    failed or ``partial`` is asked. The one rule: with a failing row and no ``partial``, the
    caller rolls back the transaction (``written`` is false), so nothing is half-written.
    Memory holds one chunk and the external ids seen, never the file. A bad header, file
    or encoding is a 422 naming ``header.<n>`` or ``file``."""
    report = Report()
    rows = enumerate(csv.reader(text_lines, strict=True), start=1)
    try:
        first = next(rows, None)
        if first is None:
            raise ValidationProblem(errors=[field_error("file", "empty: no header row")])
        header = _header(first[1])
        parsed = _parse(ctx, header, rows, report)
        while chunk := list(itertools.islice(parsed, CHUNK)):
            creates, updates = _plan(ctx, chunk, report)
            if not dry_run and (partial or not report.failed):
                _write_all(ctx, creates, updates)
            if on_chunk is not None:
                on_chunk(report)
    except csv.Error as exc:
        raise ValidationProblem(errors=[field_error("file", f"not CSV: {exc}")]) from exc
    report.written = not dry_run and (partial or not report.failed)
    return report


def check_header(head: bytes) -> None:
    """The first bytes of a file: a 422 naming ``file`` or ``header.<n>`` when they cannot
    start an import (empty, not UTF-8, not an import header). The bytes may end inside a
    character or a line: only what is whole is read."""
    try:
        decoded = codecs.getincrementaldecoder("utf-8-sig")().decode(head)
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc.start) from exc
    first, _, rest = decoded.partition("\n")
    if not first.strip() and not rest.strip():
        raise ValidationProblem(errors=[field_error("file", "empty: no header row")])
    try:
        names = next(csv.reader([first.rstrip("\r")], strict=True))
    except csv.Error as exc:
        raise ValidationProblem(errors=[field_error("file", f"not CSV: {exc}")]) from exc
    _header(names)


@dataclass
class Row:
    number: int
    external_id: str
    values: dict[str, Any]


@dataclass
class Lookups:
    """What a row refers to: the tenant's classes by key, active members by e-mail, and
    the external ids already read (-> their row)."""

    classes: dict[str, CIClass]
    owners: dict[str, uuid.UUID]
    seen: dict[str, int] = field(default_factory=dict)


def _parse(
    ctx: RequestContext, header: list[str], rows: Iterator[tuple[int, list[str]]], report: Report
) -> Iterator[Row]:
    classes = ctx.session.scalars(select(CIClass).where(CIClass.tenant_id == ctx.tenant_id))
    found = Lookups({c.key: c for c in classes}, _owners(ctx) if "owner_email" in header else {})
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        report.rows += 1
        if len(cells) != len(header):
            _fail(report, number, [("row", f"{len(cells)} cells for {len(header)} columns")])
            continue
        raw = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        errors: list[tuple[str, str]] = []
        values = _row_values(raw, number, found, errors)
        if errors or values is None:
            _fail(report, number, errors)
            continue
        if "owner_email" not in header:
            values.pop("owner_id")
        yield Row(number, raw["external_id"], values)


def _row_values(
    raw: dict[str, str], number: int, found: Lookups, errors: list[tuple[str, str]]
) -> dict[str, Any] | None:
    """The row's CI fields, its problems appended to ``errors``."""
    errors += [
        (n, f"at most {limit} characters")
        for n, limit in LIMITS.items()
        if len(raw.get(n, "")) > limit
    ]
    external_id = raw["external_id"]
    if not external_id:
        errors.append(("external_id", "required"))
    elif external_id in found.seen:
        errors.append(("external_id", f"duplicate of row {found.seen[external_id]}"))
    else:
        found.seen[external_id] = number
    if not raw["name"]:
        errors.append(("name", "required"))
    state = raw.get("state") or None
    if state is not None and state not in STATES:
        errors.append(("state", f"one of {', '.join(STATES)}"))
    owner_id = found.owners.get(raw.get("owner_email", "").lower())
    if raw.get("owner_email") and owner_id is None:
        errors.append(("owner_email", "not an active member of this tenant"))
    ci_class = found.classes.get(raw["class"])
    if ci_class is None:
        errors.append(("class", f"no class with key {raw['class']!r}"))
        return None
    attributes = _attributes(ci_class, raw, errors)
    values: dict[str, Any] = {
        "name": raw["name"],
        "class_id": ci_class.id,
        "location": raw.get("location", ""),
        "serial": raw.get("serial") or None,
        "asset_tag": raw.get("asset_tag") or None,
        "owner_id": owner_id,
        "attributes": attributes,
    }
    if state is not None:
        values["state"] = state
    return values


def _attributes(
    ci_class: CIClass, raw: dict[str, str], errors: list[tuple[str, str]]
) -> dict[str, Any]:
    props = ci_class.attributes_schema.get("properties", {})
    attributes: dict[str, Any] = {}
    for column, value in raw.items():
        if column.startswith(ATTR) and value:
            key = column[len(ATTR) :]
            try:
                attributes[key] = _cell(props.get(key), value)
            except ValueError:
                errors.append((column, f"not a {props.get(key, {}).get('type')}"))
    for problem in jsonschema.validate(ci_class.attributes_schema, attributes, "attributes"):
        errors.append((ATTR + problem["field"].removeprefix("attributes."), problem["detail"]))
    return attributes


def _fail(report: Report, number: int, errors: list[tuple[str, str]]) -> None:
    report.failed += 1
    for column, message in errors:
        report.error(number, column, message)


def _owners(ctx: RequestContext) -> dict[str, uuid.UUID]:
    rows = ctx.session.execute(
        text(
            "SELECT lower(u.email) AS email, u.id FROM memberships m"
            " JOIN users u ON u.id = m.user_id WHERE m.tenant_id = :t AND m.active"
        ),
        {"t": ctx.tenant_id},
    ).all()
    return {row.email: row.id for row in rows}


def _plan(
    ctx: RequestContext, parsed: list[Row], report: Report, new_state: str = "ordered"
) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]]:
    """The rows to create and the (current, changes, history) of the CIs to update; a row
    that would break a lifecycle rule fails here."""
    existing: dict[str, Any] = {}
    ids = [row.external_id for row in parsed]
    for start in range(0, len(ids), CHUNK):
        found = ctx.session.execute(
            select(CI.id, CI.external_id, CI.version, *(getattr(CI, c) for c in COLUMNS)).where(
                CI.tenant_id == ctx.tenant_id,
                CI.external_id
                == any_(bindparam(None, ids[start : start + CHUNK], type_=ARRAY(Text))),
            )
        ).all()
        existing.update({row.external_id: row._asdict() for row in found})
    creates: list[dict[str, Any]] = []
    updates: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
    for row in parsed:
        current = existing.get(row.external_id)
        if current is None and row.values.get("state") == "disposed":
            _fail(report, row.number, [("state", "a CI cannot start disposed")])
            continue
        if current is None:
            creates.append({"external_id": row.external_id, "state": new_state, **row.values})
            report.created += 1
            continue
        changes = {k: v for k, v in row.values.items() if current[k] != v}
        if "state" in changes and (problem := check_transition(current["state"], changes["state"])):
            _fail(report, row.number, [("state", problem["detail"])])
            continue
        if not changes:
            report.unchanged += 1
            continue
        updates.append((current, changes, {}))
        report.updated += 1
    return creates, updates


_INSERT = text(
    "INSERT INTO cis (tenant_id, created_by, external_id, name, class_id, state, location,"
    " serial, asset_tag, owner_id, attributes)"
    " SELECT :t, :u, r.external_id, r.name, r.class_id, r.state, r.location, r.serial,"
    " r.asset_tag, r.owner_id, COALESCE(r.attributes, '{}'::jsonb)"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(external_id text, name text,"
    " class_id uuid, state text, location text, serial text, asset_tag text, owner_id uuid,"
    " attributes jsonb)"
)
_UPDATE = text(
    "UPDATE cis SET name = r.name, class_id = r.class_id, state = r.state,"
    " location = r.location, serial = r.serial, asset_tag = r.asset_tag,"
    " owner_id = r.owner_id, attributes = r.attributes, version = cis.version + 1,"
    " updated_at = now()"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(id uuid, name text, class_id uuid,"
    " state text, location text, serial text, asset_tag text, owner_id uuid, attributes jsonb)"
    " WHERE cis.id = r.id AND cis.tenant_id = :t"
)
_HISTORY = text(
    "INSERT INTO ci_history (tenant_id, ci_id, actor_id, field, old_value, new_value)"
    " SELECT :t, r.ci_id, :u, r.field, r.old_value, r.new_value"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(ci_id uuid, field text,"
    " old_value jsonb, new_value jsonb)"
)


def _dumps(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=str)


def _write(
    ctx: RequestContext,
    creates: list[dict[str, Any]],
    updates: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]],
) -> None:
    bind = {"t": ctx.tenant_id, "u": ctx.user_id}
    for start in range(0, len(creates), CHUNK):
        ctx.session.execute(_INSERT, {**bind, "rows": _dumps(creates[start : start + CHUNK])})
    for start in range(0, len(updates), CHUNK):
        chunk = updates[start : start + CHUNK]
        merged = [
            {**{c: cur[c] for c in COLUMNS}, **changes, "id": cur["id"]}
            for cur, changes, _ in chunk
        ]
        ctx.session.execute(_UPDATE, {**bind, "rows": _dumps(merged)})
        history = [
            h for cur, changes, _ in chunk for h in history_rows(ctx, cur["id"], cur, changes)
        ]
        if history:
            ctx.session.execute(_HISTORY, {**bind, "rows": _dumps(history)})


def export(ctx: RequestContext, query: Any) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of a CSV the import reads back (classes by key, owners by
    e-mail, attributes as ``attr.<name>`` columns, arrays ``;``-joined); at most
    ``MAX_EXPORT_ROWS`` (413 beyond: narrow the filter)."""
    cis = list(ctx.session.scalars(query.order_by(CI.name, CI.id).limit(MAX_EXPORT_ROWS + 1)))
    if len(cis) > MAX_EXPORT_ROWS:
        raise PayloadTooLarge(
            f"more than {MAX_EXPORT_ROWS} CIs: narrow the filter",
            errors=[field_error("q", "selects too many CIs")],
        )
    keys = {
        c.id: c.key
        for c in ctx.session.scalars(select(CIClass).where(CIClass.tenant_id == ctx.tenant_id))
    }
    emails = {v: k for k, v in _owners(ctx).items()}
    attrs = sorted({key for ci in cis for key in ci.attributes})
    header = [*REQUIRED, "state", "location", "serial", "asset_tag", "owner_email"]
    header += [ATTR + key for key in attrs]
    rows = [
        [
            ci.external_id,
            ci.name,
            keys.get(ci.class_id),
            ci.state,
            ci.location,
            ci.serial,
            ci.asset_tag,
            emails.get(ci.owner_id) if ci.owner_id else None,
            *(_out(ci.attributes.get(key)) for key in attrs),
        ]
        for ci in cis
    ]
    return header, rows


def _out(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


EXPORT_HEADER = (*REQUIRED, "state", "location", "serial", "asset_tag", "owner_email")


_RELATE = text(
    "INSERT INTO ci_relationships (tenant_id, source_id, target_id, type, created_by)"
    " VALUES (:t, :s, :d, :type, :u) ON CONFLICT DO NOTHING RETURNING id"
)


def discover(ctx: RequestContext, data: Discovery) -> dict[str, Any]:
    """An inventory: its CIs upserted by external id (the import's rules and writes), then
    its relationships by external ids (new or existing CIs; cycles of the acyclic types
    refused; existing edges kept). One transaction: any error is a 422 naming
    ``cis.<i>.<field>`` or ``relationships.<i>.<field>`` and nothing is written."""
    classes = {
        c.key: c
        for c in ctx.session.scalars(select(CIClass).where(CIClass.tenant_id == ctx.tenant_id))
    }
    errors: list[dict[str, Any]] = []
    rows: list[Row] = []
    seen: set[str] = set()
    for i, item in enumerate(data.cis):
        ci_class = classes.get(item.class_key)
        if item.external_id in seen:
            errors.append(field_error(f"cis.{i}.external_id", "appears twice in this inventory"))
        seen.add(item.external_id)
        if ci_class is None:
            errors.append(field_error(f"cis.{i}.class_key", "no class with this key"))
            continue
        for problem in jsonschema.validate(
            ci_class.attributes_schema, item.attributes, "attributes"
        ):
            errors.append(field_error(f"cis.{i}.{problem['field']}", problem["detail"]))
        values: dict[str, Any] = {
            "name": item.name,
            "class_id": ci_class.id,
            "location": item.location,
            "serial": item.serial,
            "asset_tag": item.asset_tag,
            "attributes": item.attributes,
        }
        if item.state is not None:
            values["state"] = item.state
        rows.append(Row(i, item.external_id, values))
    report = Report()
    creates, updates = _plan(ctx, rows, report, new_state="deployed")
    errors += [field_error(f"cis.{e['row']}.{e['field']}", e["message"]) for e in report.errors]
    if errors:
        raise ValidationProblem("the inventory has errors: nothing was written", errors=errors)
    _write_all(ctx, creates, updates)
    created, existing = _relate(ctx, data)
    result = {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "relationships_created": created,
        "relationships_existing": existing,
    }
    _announce(ctx, "ci.discovered", {"source": data.source, **result})
    return result


def _write_all(
    ctx: RequestContext,
    creates: list[dict[str, Any]],
    updates: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]],
) -> None:
    """``_write`` as one guarded step: a concurrent writer of the same external id is a
    409 naming ``external_id``."""
    with unique_or_conflict(
        ctx.session,
        {EXTERNAL_ID_INDEX: ("external_id", "created at the same time by another request")},
        title="another request created one of these external ids",
    ):
        _write(ctx, creates, updates)


def announce(ctx: RequestContext, report: dict[str, Any], **extra: Any) -> None:
    """The audit row and the ``ci.imported`` event of a written import (its counts)."""
    summary = {k: v for k, v in report.items() if k != "errors"}
    _announce(ctx, "ci.imported", {**summary, **extra})


def _announce(ctx: RequestContext, action: str, summary: dict[str, Any]) -> None:
    """The audit row (``action``) and the one ``ci.imported`` event of an import or a
    discovery, with its counts."""
    audit.record(ctx, action=action, entity_type="ci", entity_id=ctx.tenant_id, data=summary)
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type="ci.imported",
        aggregate_type="ci_import",
        aggregate_id=uuid.uuid4(),
        payload=summary,
    )


def _relate(ctx: RequestContext, data: Discovery) -> tuple[int, int]:
    keys = list({k for r in data.relationships for k in (r.source, r.target)})
    ids: dict[str, uuid.UUID] = {}
    if keys:
        found = ctx.session.execute(
            select(CI.external_id, CI.id).where(
                CI.tenant_id == ctx.tenant_id,
                CI.external_id == any_(bindparam(None, keys, type_=ARRAY(Text))),
            )
        ).all()
        ids = {row.external_id: row.id for row in found}
    errors: list[dict[str, Any]] = []
    created = existing = 0
    lock_graph(ctx.session, ctx.tenant_id)
    for i, rel in enumerate(data.relationships):
        source, target = ids.get(rel.source), ids.get(rel.target)
        for name, value in (("source", source), ("target", target)):
            if value is None:
                errors.append(
                    field_error(f"relationships.{i}.{name}", "no CI with this external id")
                )
        if source is None or target is None:
            continue
        if source == target:
            errors.append(field_error(f"relationships.{i}.target", "a CI cannot relate to itself"))
        elif closes_cycle(ctx.session, source, target, rel.type):
            errors.append(
                field_error(f"relationships.{i}.target", f"{rel.type} may not form a cycle")
            )
        else:
            made = ctx.session.execute(
                _RELATE,
                {"t": ctx.tenant_id, "s": source, "d": target, "type": rel.type, "u": ctx.user_id},
            ).first()
            created, existing = (created + 1, existing) if made else (created, existing + 1)
    if errors:
        raise ValidationProblem("the inventory has errors: nothing was written", errors=errors)
    return created, existing
