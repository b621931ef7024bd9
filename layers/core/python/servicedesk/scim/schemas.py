"""SCIM's schemas and discovery documents (RFC 7643 §4, §5, §6, §7), the shapes of the
resources for the OpenAPI document, the projection (``attributes``/``excludedAttributes``),
and the admin API's bodies."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.platform.roles import Role

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

MAX_OPERATIONS = 100
MAX_MEMBERS_PER_REQUEST = 1000


def _attr(
    name: str,
    kind: str = "string",
    *,
    multi: bool = False,
    required: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    case_exact: bool = False,
    subs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "type": kind,
        "multiValued": multi,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": uniqueness,
    }
    if subs is not None:
        out["subAttributes"] = subs
    return out


USER_ATTRIBUTES = [
    _attr("userName", required=True, uniqueness="server"),
    _attr(
        "name",
        "complex",
        subs=[_attr("formatted"), _attr("familyName"), _attr("givenName")],
    ),
    _attr("displayName"),
    _attr(
        "emails",
        "complex",
        multi=True,
        subs=[_attr("value"), _attr("type"), _attr("primary", "boolean")],
    ),
    _attr("active", "boolean"),
    _attr(
        "groups",
        "complex",
        multi=True,
        mutability="readOnly",
        subs=[_attr("value", mutability="readOnly"), _attr("display", mutability="readOnly")],
    ),
]
GROUP_ATTRIBUTES = [
    _attr("displayName", required=True, uniqueness="server"),
    _attr(
        "members",
        "complex",
        multi=True,
        subs=[
            _attr("value", mutability="immutable"),
            _attr("display", mutability="readOnly"),
            _attr("type", mutability="immutable"),
        ],
    ),
]

# Core attributes of RFC 7643 §4.1 that are accepted and not stored (an IdP sends them;
# refusing them would break its provisioning). Anything else outside an extension schema
# is an unknown attribute: 400 invalidValue naming it.
IGNORED_USER_ATTRIBUTES = frozenset(
    {
        "nickname",
        "profileurl",
        "title",
        "usertype",
        "preferredlanguage",
        "locale",
        "timezone",
        "password",
        "phonenumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "roles",
        "x509certificates",
        "groups",
        "meta",
    }
)


def service_provider_config(base: str, max_results: int) -> dict[str, Any]:
    return {
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://servicedesk.dev/docs/scim",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "The tenant's SCIM token (Admin > SCIM provisioning)",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base}/ServiceProviderConfig",
        },
    }


def resource_types(base: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": name,
            "name": name,
            "endpoint": f"/{name}s",
            "schema": schema,
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/{name}"},
        }
        for name, schema in (("User", USER_SCHEMA), ("Group", GROUP_SCHEMA))
    ]


def schemas(base: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [SCHEMA_SCHEMA],
            "id": schema_id,
            "name": name,
            "attributes": copy.deepcopy(attributes),
            "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{schema_id}"},
        }
        for schema_id, name, attributes in (
            (USER_SCHEMA, "User", USER_ATTRIBUTES),
            (GROUP_SCHEMA, "Group", GROUP_ATTRIBUTES),
        )
    ]


def list_response(
    resources: list[dict[str, Any]], *, total: int, start_index: int
) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


# --- attributes / excludedAttributes (RFC 7644 §3.4.2.5) --------------------------------

ALWAYS = frozenset({"id", "schemas"})


def _names(value: str | None) -> list[list[str]]:
    from servicedesk.scim.filter import normalise

    if not value:
        return []
    return [normalise(part.strip()).split(".", 1) for part in value.split(",") if part.strip()]


def project(
    resource: dict[str, Any], *, attributes: str | None, excluded: str | None
) -> dict[str, Any]:
    """The resource with only ``attributes`` (and id, schemas), or without ``excluded``."""
    wanted, unwanted = _names(attributes), _names(excluded)
    if wanted:
        return _only(resource, wanted)
    if unwanted:
        return _without(resource, unwanted)
    return resource


def _only(resource: dict[str, Any], wanted: list[list[str]]) -> dict[str, Any]:
    keys = {key.lower(): key for key in resource}
    out: dict[str, Any] = {k: resource[k] for k in resource if k.lower() in ALWAYS}
    for parts in wanted:
        key = keys.get(parts[0])
        if key is None:
            continue
        value = resource[key]
        if len(parts) == 1 or not isinstance(value, dict | list):
            out[key] = value
        elif isinstance(value, dict):
            out.setdefault(key, {}).update(
                {k: v for k, v in value.items() if k.lower() == parts[1]}
            )
        else:
            out[key] = [
                {k: v for k, v in item.items() if k.lower() == parts[1]}
                for item in value
                if isinstance(item, dict)
            ]
    return out


def _without(resource: dict[str, Any], unwanted: list[list[str]]) -> dict[str, Any]:
    keys = {key.lower(): key for key in resource}
    out = dict(resource)
    for parts in unwanted:
        key = keys.get(parts[0])
        if key is None or key.lower() in ALWAYS:
            continue
        if len(parts) == 1:
            out.pop(key, None)
        elif isinstance(out.get(key), dict):
            out[key] = {k: v for k, v in out[key].items() if k.lower() != parts[1]}
    return out


# --- OpenAPI shapes (the routes answer application/scim+json) ---------------------------


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ScimMeta(_Open):
    resourceType: str
    created: datetime | None = None
    lastModified: datetime | None = None
    version: str | None = None
    location: str | None = None


class ScimName(_Open):
    formatted: str | None = None
    familyName: str | None = None
    givenName: str | None = None


class ScimEmail(_Open):
    value: str
    type: str | None = None
    primary: bool | None = None


class ScimUser(_Open):
    schemas: list[str]
    id: str
    externalId: str | None = None
    userName: str
    name: ScimName | None = None
    displayName: str | None = None
    emails: list[ScimEmail] = []
    active: bool
    meta: ScimMeta


class ScimMember(_Open):
    value: str
    display: str | None = None
    type: str | None = None


class ScimGroup(_Open):
    schemas: list[str]
    id: str
    externalId: str | None = None
    displayName: str
    members: list[ScimMember] = []
    meta: ScimMeta


class ScimList(_Open):
    schemas: list[str]
    totalResults: int
    startIndex: int
    itemsPerPage: int
    Resources: list[dict[str, Any]]


class ScimDocument(_Open):
    schemas: list[str]


class ScimErrorDocument(BaseModel):
    """RFC 7644 §3.12: what every /scim/v2 error answers."""

    schemas: list[str]
    status: str
    scimType: str | None = None
    detail: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    titles = {
        400: "Invalid value, filter, path or syntax (scimType says which)",
        401: "No, unknown, revoked or disabled SCIM token",
        404: "No such resource in this organisation",
        409: "userName or displayName taken (uniqueness), or the last admin",
        412: "If-Match is stale",
        429: "Too many SCIM requests this minute (Retry-After)",
    }
    return {
        status: {"description": titles[status], "model": ScimErrorDocument} for status in statuses
    }


SCIM_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/scim+json": {"schema": {"type": "object"}}},
    }
}


# --- the admin API (/v1/scim) -----------------------------------------------------------


class ScimTokenInfo(BaseModel):
    prefix: str
    created_at: datetime
    created_by: uuid.UUID | None


class ScimSettingsOut(BaseModel):
    enabled: bool
    default_role: Role
    token: ScimTokenInfo | None
    base_url: str = Field(description="what to paste into the identity provider")
    version: int


class ScimSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    default_role: Role = Role.REQUESTER
    version: int | None = Field(default=None, ge=1)


class ScimTokenOut(BaseModel):
    token: str = Field(description="shown once: it is stored only as a hash")
    prefix: str
    created_at: datetime


class ScimGroupMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team_id: uuid.UUID | None = None
    role: Role | None = None


class ScimGroupOut(BaseModel):
    id: uuid.UUID
    display_name: str
    external_id: str | None
    team_id: uuid.UUID | None
    role: Role | None
    members: int


class ScimGroupsOut(BaseModel):
    items: list[ScimGroupOut]
