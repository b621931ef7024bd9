"""SCIM's own error document (RFC 7644 §3.12): SCIM clients read ``scimType`` and
``detail``; everything else in the API stays RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

from servicedesk.platform.errors import OwnFormatError

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_JSON = "application/scim+json"


class ScimError(OwnFormatError):
    """An answer in SCIM's error format: ``status`` (a string in the body), an optional
    ``scimType`` (invalidFilter, invalidValue, uniqueness, mutability, ...) and a detail
    that names the attribute."""

    def __init__(
        self,
        status: int,
        detail: str,
        scim_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        self.headers = headers or {}
        self.media_type = SCIM_JSON

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "schemas": [ERROR_SCHEMA],
            "status": str(self.status),
            "detail": self.detail,
        }
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


def invalid_value(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidValue")


def invalid_filter(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidFilter")


def invalid_path(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidPath")


def not_found(what: str) -> ScimError:
    return ScimError(404, f"no such {what}")
