"""Webhook URL rules and SSRF protection.

URLs are parsed strictly (``parse``) when an endpoint is created or changed, and again
before every delivery: whatever the HTTP client could not send is refused up front, with
a message for the ``url`` field. https only (plain http to localhost/127.0.0.1 in dev and
test). Outside dev and test the host
is resolved and every address must be public: no private, loopback, link-local, multicast,
reserved, unique-local or unspecified target, including IPv4 hidden in IPv6 (mapped, 6to4,
Teredo, NAT64). The check runs at creation and again right before each delivery, and the
delivery then connects to the very address that was vetted (Host header and TLS SNI carry
the name), so a DNS answer that changes in between cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import string
import unicodedata
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

import idna

from servicedesk.platform.config import Environment, Settings

MAX_URL_LENGTH = 2048
MIN_UNPRIVILEGED_PORT = 1024
# Control, format (zero-width, bidi), separators and unassigned/private-use characters.
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})
URI_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?[]@!$&'()*+,;=%")
BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
LOCAL_HTTP_HOSTS = frozenset({"localhost", "127.0.0.1"})
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """The URL may not be used as a webhook target; the message says why."""


def allow_local(settings: Settings) -> bool:
    """Dev and test deliver to local receivers; everywhere else SSRF rules apply."""
    return settings.is_dev or settings.environment is Environment.TEST


@dataclass(frozen=True)
class Target:
    """A vetted URL; ``address`` is the IP to connect to (None: connect by name, dev/test)."""

    parts: SplitResult
    host: str
    address: str | None

    def request(self) -> tuple[str, dict[str, str], dict[str, str]]:
        """(URL to connect to, extra headers, httpx extensions) pinned to ``address``."""
        if self.address is None:
            return urlunsplit(self.parts), {}, {}
        literal = f"[{self.address}]" if ":" in self.address else self.address
        port = self.parts.port
        netloc = f"{literal}:{port}" if port is not None else literal
        host_header = f"{self.host}:{port}" if port is not None else self.host
        url = urlunsplit(self.parts._replace(netloc=netloc, fragment=""))
        extensions = {}
        if self.parts.scheme == "https" and not _is_ip(self.host):
            # TLS to the pinned IP, but SNI and certificate check against the name.
            extensions["sni_hostname"] = self.host
        return url, {"Host": host_header}, extensions


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why a delivery may not go to ``ip``, or None for a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return forbidden_reason(embedded)
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


def _check_characters(url: str) -> None:
    if any(ch.isspace() or unicodedata.category(ch) in INVISIBLE for ch in url):
        raise UnsafeUrl("must not contain whitespace or control characters")


def _check_after_host(rest: str) -> None:
    """Path and query: RFC 3986 characters only, escapes well formed, no fragment."""
    if "#" in rest:
        raise UnsafeUrl("must not have a fragment")
    if any(ch not in URI_CHARACTERS for ch in rest):
        raise UnsafeUrl("the path and query must be ASCII (percent-encode anything else)")
    if BAD_ESCAPE.search(rest):
        raise UnsafeUrl("has a malformed percent-escape")


def _ascii_host(host: str) -> str:
    """The host in the form that goes on the wire: an IP literal, or an IDNA 2008 name."""
    if _is_ip(host):
        if "%" in host:
            raise UnsafeUrl("must not name an IPv6 zone")
        return host
    try:
        name = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise UnsafeUrl("the host name is not valid") from exc
    last = name.rsplit(".", 1)[-1]
    if last.isdigit() or last.startswith("0x"):
        # "0x7f.1" or "2130706433": numeric forms a resolver reads as IPv4 addresses.
        raise UnsafeUrl("the host name is not valid")
    return name


def _check_port(parts: SplitResult, *, local: bool) -> None:
    try:
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("the port must be a number from 1 to 65535") from exc
    if port == 0:
        raise UnsafeUrl("the port must be a number from 1 to 65535")
    if port is not None and not local and port != 443 and port < MIN_UNPRIVILEGED_PORT:
        raise UnsafeUrl(f"the port must be 443 or from {MIN_UNPRIVILEGED_PORT} to 65535")


def parse(url: str, *, local: bool) -> tuple[SplitResult, str]:
    """Syntax rules, strictly: (parts, ASCII host) or UnsafeUrl saying what is wrong.

    Absolute https URL (http only to localhost in dev/test), at most MAX_URL_LENGTH
    characters, no whitespace or control characters anywhere, no credentials, a valid
    DNS name (IDNA 2008) or IP literal, port 443 or unprivileged, an ASCII path and query
    (percent-encoded), no fragment. What passes here is what the HTTP client can send.
    """
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"must be at most {MAX_URL_LENGTH} characters")
    _check_characters(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UnsafeUrl("not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not url[len(scheme) :].startswith("://"):
        raise UnsafeUrl("must be an absolute https URL")
    if "@" in parts.netloc:
        raise UnsafeUrl("must not contain credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl("must be an absolute URL with a host")
    if scheme == "http" and not (local and host in LOCAL_HTTP_HOSTS):
        raise UnsafeUrl("must use https")
    _check_port(parts, local=local)
    ascii_host = _ascii_host(host).lower()
    _check_after_host(url[len(scheme) + 3 + len(parts.netloc) :])
    return parts._replace(scheme=scheme), ascii_host


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl("the host does not resolve") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        # IPv6 scope ids ("fe80::1%eth0") are cut; such addresses are refused anyway.
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeUrl("the host does not resolve")
    return addresses


def vet(url: str, *, local: bool) -> Target:
    """Check ``url`` (and, outside dev/test, every address its host resolves to)."""
    parts, host = parse(url, local=local)
    if local:
        return Target(parts, host, None)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    for ip in addresses:
        reason = forbidden_reason(ip)
        if reason is not None:
            raise UnsafeUrl(f"the host resolves to {reason}")
    return Target(parts, host, str(addresses[0]))
