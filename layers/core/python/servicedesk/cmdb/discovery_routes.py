"""AWS discovery sources API (``/v1/cis/discovery-sources``; managers and admins, the
CMDB's writers). Thin: the Resource table. Added to the CMDB's router by ``cmdb.routes``
before ``/cis/{ci_id}``, so that its paths are not read as a CI id (routes on the router
itself: the route walks read ``router.routes``, which an included router would hide)."""

from __future__ import annotations

from fastapi import APIRouter

from servicedesk.cmdb import sources
from servicedesk.cmdb.discovery_schemas import (
    DiscoveryRunPublic,
    DiscoverySourceCreate,
    DiscoverySourcePublic,
    DiscoverySourceUpdate,
)
from servicedesk.platform.endpoints import Resource, listing, operation
from servicedesk.platform.rbac import Permission

PATH = "/cis/discovery-sources"


def add_routes(router: APIRouter) -> None:
    """The sources' routes on ``router`` (the CMDB's, prefix /v1)."""
    resource = Resource(
        router,
        PATH,
        "source_id",
        "discovery_source",
        DiscoverySourcePublic,
        Permission.CMDB_WRITE,
        Permission.CMDB_WRITE,
    )
    resource.list(
        "The AWS discovery sources, in creation order",
        sources.list_sources,
        name="list_discovery_sources",
    )
    resource.create(
        "Add an AWS discovery source (its external id is generated: put it in the role's"
        " trust policy)",
        DiscoverySourceCreate,
        sources.create_source,
    )
    resource.get("Get an AWS discovery source with its trust policy", sources.get_source)
    resource.update(
        "Change an AWS discovery source (needs If-Match or version)",
        DiscoverySourceUpdate,
        sources.update_source,
    )
    resource.delete(
        "Delete an AWS discovery source and its runs (the CIs it made stay)", sources.delete_source
    )
    operation(
        router.post,
        PATH + "/{source_id}/run",
        Permission.CMDB_WRITE,
        "Run now: queue a discovery run of this source (409 while one is queued or running)",
        sources.queue_run,
        public=DiscoveryRunPublic,
        status_code=202,
        name="run_discovery_source",
    )
    listing(
        router,
        PATH + "/{source_id}/runs",
        Permission.CMDB_WRITE,
        "The runs of an AWS discovery source, newest first",
        DiscoveryRunPublic,
        sources.list_runs,
        name="list_discovery_runs",
    )
