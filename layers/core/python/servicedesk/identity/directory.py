"""LDAP / Active Directory sign-in (issue 21 point 2): the tenant's directory settings and
bind-and-search authentication with ``ldap3`` (pure Python; docs/identity.md).

Settings live in ``tenants.settings -> 'ldap'``; the service account's password lives in
Secrets Manager (``platform.secrets``, kind ``ldap-bind``): the section keeps its ARN only and
the API says ``has_password``. Every connection is LDAPS or StartTLS (plain LDAP is not an
option), verifies the server's certificate against the tenant's CA (host name included),
and has a timeout on the connection and on every answer.

Authentication: bind as the service account, search the user with the typed name escaped
per RFC 4515, read their groups (``memberOf`` or a group search), then bind as the found
DN with the typed password on the same connection (a rebind). An empty password is refused before
any bind (a simple bind with a DN and no password is an unauthenticated bind that most
servers accept).
"""

from __future__ import annotations

import contextlib
import re
import ssl
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, field_validator

from servicedesk.platform.permissions import Permission
from servicedesk.platform.roles import Role
from servicedesk.platform.tenant_settings import Section

_HOST = r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"
_DOMAIN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
_ATTRIBUTE = r"^[A-Za-z][A-Za-z0-9-]{0,63}$"
DN = Field(min_length=3, max_length=500)
PLACEHOLDERS = ("{username}", "{email}")


class GroupRole(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    group_dn: str = DN
    role: Role


class GroupTeam(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    group_dn: str = DN
    team_id: uuid.UUID


def normalize_dn(dn: str) -> str:
    """A DN for comparison: lower case, no spaces around ``,`` and ``=``."""
    return re.sub(r"\s*([,=])\s*", r"\1", dn.strip()).lower()


class DirectoryFields(BaseModel):
    """What the admin sets (every field but the service password)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    enabled: bool = False
    host: str = Field(default="", max_length=253, description="Directory server host name")
    port: int = Field(default=636, ge=1, le=65535)
    mode: Literal["ldaps", "starttls"] = Field(
        default="ldaps",
        description="LDAPS (TLS from the first byte) or StartTLS; plain LDAP is refused",
    )
    ca_certificate: str | None = Field(
        default=None,
        max_length=65536,
        description="PEM of the CA(s) that issued the server's certificate (none: the "
        "system's trusted CAs); the certificate and the host name are always checked",
    )
    bind_dn: str = Field(default="", max_length=500, description="The service account's DN")
    user_search_base: str = Field(default="", max_length=500)
    user_filter: str = Field(
        default="(uid={username})",
        min_length=3,
        max_length=500,
        description="Search filter; {username} is the typed name (the part before @ of an "
        "e-mail), {email} the whole typed e-mail; both are escaped per RFC 4515",
    )
    id_attribute: str = Field(
        default="entryUUID",
        pattern=_ATTRIBUTE,
        description="A stable identifier of the entry (entryUUID; objectGUID in AD)",
    )
    email_attribute: str = Field(default="mail", pattern=_ATTRIBUTE)
    name_attribute: str = Field(default="displayName", pattern=_ATTRIBUTE)
    group_lookup: Literal["member_of", "search"] = Field(
        default="member_of",
        description="member_of: the user's memberOf attribute; search: groups under "
        "group_search_base matching group_member_filter",
    )
    group_search_base: str = Field(default="", max_length=500)
    group_member_filter: str = Field(
        default="(member={dn})",
        min_length=3,
        max_length=500,
        description="{dn} is the user's DN (escaped per RFC 4515)",
    )
    group_roles: list[GroupRole] = Field(default_factory=list, max_length=100)
    group_teams: list[GroupTeam] = Field(default_factory=list, max_length=100)
    default_role: Role = Field(
        default=Role.REQUESTER, description="The role of a person in no mapped group"
    )
    domains: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="E-mail domains whose people sign in through this directory",
    )
    timeout_seconds: int = Field(
        default=5, ge=1, le=15, description="Each network step's limit (connect, TLS, every answer)"
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if value and not re.fullmatch(_HOST, value):
            raise ValueError("must be a host name or an IP address")
        return value

    @field_validator("ca_certificate")
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            certificates = x509.load_pem_x509_certificates(value.encode())
        except ValueError as exc:
            raise ValueError("must be one or more PEM certificates") from exc
        if not certificates:
            raise ValueError("must be one or more PEM certificates")
        return value.strip() + "\n"

    @field_validator("user_filter")
    @classmethod
    def _user_filter(cls, value: str) -> str:
        if not any(p in value for p in PLACEHOLDERS):
            raise ValueError("must contain {username} or {email}")
        return _filter_shape(value)

    @field_validator("group_member_filter")
    @classmethod
    def _member_filter(cls, value: str) -> str:
        if "{dn}" not in value:
            raise ValueError("must contain {dn}")
        return _filter_shape(value)

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        cleaned = sorted({d.strip().lower() for d in value})
        for domain in cleaned:
            if not re.fullmatch(_DOMAIN, domain):
                raise ValueError(f"{domain!r} is not a domain name")
        return cleaned


def _filter_shape(value: str) -> str:
    depth = 0
    for char in value:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0 or not value.startswith("(") or not value.endswith(")"):
        raise ValueError("must be one parenthesised LDAP filter")
    return value


class LdapSettings(DirectoryFields):
    """As stored: the service password's secret by ARN."""

    password_secret_arn: str | None = None


class LdapSettingsInput(DirectoryFields):
    """``PUT /v1/settings/ldap``: ``password`` sets the service password; omitted, the
    stored one stays."""

    password: str | None = Field(default=None, min_length=1, max_length=1024)


class LdapSettingsPublic(DirectoryFields):
    has_password: bool = False

    @classmethod
    def of(cls, stored: LdapSettings) -> LdapSettingsPublic:
        fields = stored.model_dump(exclude={"password_secret_arn"})
        return cls(**fields, has_password=stored.password_secret_arn is not None)


SECTION = Section(
    "ldap",
    LdapSettings,
    read=Permission.ADMIN_IDENTITY,
    write=Permission.ADMIN_IDENTITY,
    noun="ldap",
    what="directory (LDAP)",
)


class DirectoryUnavailable(Exception):
    """The directory could not be reached or answered out of protocol (network, TLS,
    certificate, timeout, service bind refused): said as such, never as a wrong password."""


@dataclass(frozen=True)
class DirectoryUser:
    dn: str
    subject: str
    email: str | None
    name: str | None
    groups: tuple[str, ...] = field(default_factory=tuple)


def escape(value: str) -> str:
    from ldap3.utils.conv import escape_filter_chars

    return str(escape_filter_chars(value))


def user_filter(config: DirectoryFields, identifier: str) -> str:
    username = identifier.split("@", 1)[0] if "@" in identifier else identifier
    email = identifier if "@" in identifier else ""
    return config.user_filter.replace("{username}", escape(username)).replace(
        "{email}", escape(email)
    )


def _server(config: DirectoryFields) -> Any:
    from ldap3 import Server, Tls

    tls = Tls(
        validate=ssl.CERT_REQUIRED,
        version=ssl.PROTOCOL_TLS_CLIENT,
        ca_certs_data=config.ca_certificate,
        valid_names=[config.host],
    )
    return Server(
        config.host,
        port=config.port,
        use_ssl=config.mode == "ldaps",
        tls=tls,
        connect_timeout=config.timeout_seconds,
        get_info="NO_INFO",
    )


def _open(config: DirectoryFields, user: str, password: str) -> tuple[Any, bool]:
    """A connection bound as ``user``, and whether the bind was accepted (a refused bind:
    False; anything else that goes wrong raises `DirectoryUnavailable`)."""
    from ldap3 import Connection
    from ldap3.core.exceptions import LDAPException

    if not password:  # an unauthenticated bind would be accepted: never try one
        return None, False
    conn = Connection(
        _server(config),
        user=user,
        password=password,
        receive_timeout=config.timeout_seconds,
        raise_exceptions=False,
        read_only=True,
        auto_referrals=False,
    )
    try:
        conn.open()
        if config.mode == "starttls" and not conn.start_tls():
            raise DirectoryUnavailable("StartTLS was refused")
        bound = bool(conn.bind())
    except DirectoryUnavailable:
        _close(conn)
        raise
    except (LDAPException, OSError, ValueError, struct.error) as exc:
        _close(conn)
        raise DirectoryUnavailable(_describe(exc)) from exc
    if not bound:
        result = (conn.result or {}).get("result")
        _close(conn)
        if result != 49:  # invalidCredentials; other codes: the server's trouble
            raise DirectoryUnavailable(f"the bind failed (LDAP result {result})")
    return conn, bound


def _close(conn: Any) -> None:
    """Unbind and close; a connection that already broke has nothing to say."""
    with contextlib.suppress(Exception):
        conn.unbind()


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "certificate" in text.lower() or "hostname" in text.lower():
        return f"TLS: {text[:200]}"
    return text[:200]


def _first(entry: dict[str, Any], name: str) -> str | None:
    value = entry.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return None
    return str(value)


def _service(config: LdapSettings, service_password: str) -> Any:
    conn, bound = _open(config, config.bind_dn, service_password)
    if not bound:
        raise DirectoryUnavailable("the service account's bind was refused")
    return conn


def _search_user(conn: Any, config: DirectoryFields, identifier: str) -> DirectoryUser | None:
    from ldap3 import SUBTREE
    from ldap3.core.exceptions import LDAPException

    attributes = [config.id_attribute, config.email_attribute, config.name_attribute]
    if config.group_lookup == "member_of":
        attributes.append("memberOf")
    try:
        conn.search(
            config.user_search_base,
            user_filter(config, identifier),
            search_scope=SUBTREE,
            attributes=attributes,
            size_limit=2,
            time_limit=max(1, int(config.timeout_seconds)),
        )
    except LDAPException as exc:
        raise DirectoryUnavailable(_describe(exc)) from exc
    entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
    if len(entries) != 1:  # none, or ambiguous: nobody
        return None
    entry = entries[0]
    found: dict[str, Any] = {k.lower(): v for k, v in (entry.get("attributes") or {}).items()}
    dn = str(entry["dn"])
    groups: list[str] = []
    if config.group_lookup == "member_of":
        member_of = found.get("memberof") or []
        groups = [str(g) for g in (member_of if isinstance(member_of, list) else [member_of])]
    elif config.group_search_base:
        member_filter = config.group_member_filter.replace("{dn}", escape(dn))
        try:
            conn.search(
                config.group_search_base,
                member_filter,
                search_scope=SUBTREE,
                attributes=[],
                size_limit=500,
                time_limit=max(1, int(config.timeout_seconds)),
            )
        except LDAPException as exc:
            raise DirectoryUnavailable(_describe(exc)) from exc
        groups = [str(e["dn"]) for e in conn.response or [] if e.get("type") == "searchResEntry"]
    return DirectoryUser(
        dn=dn,
        subject=_first(found, config.id_attribute.lower()) or normalize_dn(dn),
        email=(_first(found, config.email_attribute.lower()) or "").lower() or None,
        name=_first(found, config.name_attribute.lower()),
        groups=tuple(groups),
    )


def find(config: LdapSettings, service_password: str, identifier: str) -> DirectoryUser | None:
    """The directory's entry for ``identifier`` (service bind and search), or None."""
    conn = _service(config, service_password)
    try:
        return _search_user(conn, config, identifier)
    finally:
        _close(conn)


def authenticate(
    config: LdapSettings, service_password: str, identifier: str, password: str
) -> tuple[DirectoryUser | None, bool]:
    """The person ``identifier`` names (None: the directory does not know them) and whether
    ``password`` is theirs: service bind, search, then a bind as the found DN on the same
    connection (one TLS handshake; docs/benchmarks.md). An empty password never reaches
    the server: it would be an unauthenticated bind, which most servers accept."""
    from ldap3.core.exceptions import LDAPException

    if not password:
        return None, False
    conn = _service(config, service_password)
    try:
        person = _search_user(conn, config, identifier)
        if person is None:
            return None, False
        try:
            bound = bool(conn.rebind(user=person.dn, password=password))
        except (LDAPException, OSError, ValueError) as exc:
            raise DirectoryUnavailable(_describe(exc)) from exc
        result = (conn.result or {}).get("result")
        if not bound and result != 49:  # invalidCredentials; other codes: the server's
            raise DirectoryUnavailable(f"the bind failed (LDAP result {result})")
        return person, bound
    finally:
        _close(conn)


def role_for(config: DirectoryFields, groups: tuple[str, ...]) -> Role:
    """The highest role mapped from the person's groups, or the default role."""
    mine = {normalize_dn(g) for g in groups}
    roles = [m.role for m in config.group_roles if normalize_dn(m.group_dn) in mine]
    return max(roles, key=lambda r: r.rank) if roles else config.default_role


def teams_for(config: DirectoryFields, groups: tuple[str, ...]) -> set[uuid.UUID]:
    mine = {normalize_dn(g) for g in groups}
    return {m.team_id for m in config.group_teams if normalize_dn(m.group_dn) in mine}
