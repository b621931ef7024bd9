"""Bulk actions: what one ``POST /v1/tickets/bulk`` of 100 rows costs, against the 100
single changes it replaces, and what the per-row savepoint adds.

In process, at the service layer (no HTTP): an embedded PostgreSQL (or DATABASE_URL),
migrated; one tenant with an admin and ``--tickets`` tickets made through the tickets
service. Each repetition adds (then removes) a tag on the same 100 tickets:

- ``single``: 100 transactions, each ``service.update`` of one ticket (what 100 PATCH
  requests do, without HTTP and auth);
- ``bulk``: one transaction, ``bulk.run`` over the 100 (a savepoint per row);
- ``bulk-no-savepoint``: the same with ``begin_nested`` replaced by a no-op, to isolate
  the savepoints' cost (not a mode the code has: one failing row would undo the rest).

Prints the median and min of ``--repeat`` runs in ms per 100 rows, and the load average.

    .venv/bin/python bench/bulk.py [--tickets 100] [--repeat 7]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _environment(database: Any) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    os.environ.update(
        {
            "SERVICEDESK_ENVIRONMENT": "test",
            "SERVICEDESK_JWT_PRIVATE_KEY": pem,
            "SERVICEDESK_LOG_LEVEL": "ERROR",
            "SERVICEDESK_DATABASE_URL": database.app_url.render_as_string(False),
        }
    )


def _seed(database: Any, count: int) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    import psycopg

    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext
    from servicedesk.tickets import service as tickets
    from servicedesk.tickets.schemas import TicketCreate

    tenant, admin = uuid.uuid4(), uuid.uuid4()
    owner = database.owner_url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(owner) as conn:
        conn.execute(
            "INSERT INTO tenants (id, slug, name) VALUES (%s, %s, 'Bench')",
            (tenant, f"bench-{tenant.hex[:8]}"),
        )
        conn.execute(
            "INSERT INTO users (id, email, name) VALUES (%s, %s, 'Admin')",
            (admin, f"admin-{admin.hex[:8]}@bench.example"),
        )
        conn.execute(
            "INSERT INTO memberships (tenant_id, user_id, role) VALUES (%s, %s, 'admin')",
            (tenant, admin),
        )
    ids = []
    with transaction() as session:
        set_tenant(session, tenant_id=tenant, user_id=admin)
        ctx = RequestContext(session=session, tenant_id=tenant, user_id=admin, role=Role.ADMIN)
        for n in range(count):
            made = tickets.create(ctx, data=TicketCreate.model_validate({"title": f"Bench {n}"}))
            ids.append(made.id)
    return tenant, admin, ids


@contextlib.contextmanager
def _as_admin(tenant: uuid.UUID, admin: uuid.UUID) -> Iterator[Any]:
    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext

    with transaction() as session:
        set_tenant(session, tenant_id=tenant, user_id=admin)
        yield RequestContext(session=session, tenant_id=tenant, user_id=admin, role=Role.ADMIN)


def main() -> None:  # noqa: C901, PLR0915 - a linear script, read top to bottom
    parser = argparse.ArgumentParser(description="bulk actions: 100 rows at once vs one by one")
    parser.add_argument("--tickets", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from local import db

    print(f"load at start: {_load()}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    server = None if os.environ.get("DATABASE_URL") else db.embedded_server(workdir / "pg")
    database = db.ensure_database(
        db.admin_url(workdir / "pg"), f"bench_bulk_{uuid.uuid4().hex[:6]}"
    )
    db.migrate(database)
    _environment(database)
    from servicedesk.tickets import bulk, service
    from servicedesk.tickets.schemas import TicketUpdate

    tenant, admin, ids = _seed(database, args.tickets)

    def single(tag: str, add: bool) -> None:
        for ticket_id in ids:
            with _as_admin(tenant, admin) as ctx:
                ticket = service.get_visible(ctx, ticket_id, for_update=True)
                tags = [*ticket.tags, tag] if add else [t for t in ticket.tags if t != tag]
                update = TicketUpdate.model_validate({"tags": tags, "version": ticket.version})
                service.update(ctx, ticket_id=ticket_id, data=update, if_match=None)

    def bulk_run(tag: str, add: bool) -> None:
        with _as_admin(tenant, admin) as ctx:
            request = bulk.BulkRequest.model_validate(
                {
                    "ticket_ids": [str(i) for i in ids],
                    "action": "add_tags" if add else "remove_tags",
                    "tags": [tag],
                }
            )
            result = bulk.run(ctx, request)
            assert result.failed == 0, result

    def without_savepoints(tag: str, add: bool) -> None:
        from sqlalchemy.orm import Session

        original = Session.begin_nested

        class _NoSavepoint:
            def rollback(self) -> None:
                raise RuntimeError("no row fails in this benchmark")

            def commit(self) -> None:
                return None

        Session.begin_nested = lambda self: _NoSavepoint()  # type: ignore[assignment,method-assign,return-value]
        try:
            bulk_run(tag, add)
        finally:
            Session.begin_nested = original  # type: ignore[method-assign]

    modes: dict[str, Callable[[str, bool], None]] = {
        "single": single,
        "bulk": bulk_run,
        "bulk-no-savepoint": without_savepoints,
    }
    timings: dict[str, list[float]] = {name: [] for name in modes}
    try:
        for run in range(args.repeat):
            for name, fn in modes.items():  # interleaved: drift in load hits every mode
                tag = f"t{run}-{name}"
                started = time.perf_counter()
                fn(tag, True)
                timings[name].append((time.perf_counter() - started) * 1000)
                fn(tag, False)  # back as it was (not timed)
        print(f"load after: {_load()}", flush=True)
        print(f"{'mode':<20} {'median ms':>10} {'min ms':>8} {'ms/row':>7}  ({len(ids)} rows)")
        for name, values in timings.items():
            median = statistics.median(values)
            print(f"{name:<20} {median:>10.0f} {min(values):>8.0f} {median / len(ids):>7.2f}")
    finally:
        if server is not None:
            with contextlib.suppress(Exception):
                server.cleanup()


if __name__ == "__main__":
    main()
