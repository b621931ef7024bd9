"""SAML 2.0 service provider: IdP metadata, AuthnRequests, SP metadata, verified responses.

Pure functions over bytes and a clock: no database, no HTTP. The sign-in framework
(``identity/sso.py``) stores providers, the replay cache and the request ids, and calls in.

Signatures are verified by ``signxml`` (a maintained XML-DSig implementation over lxml and
``cryptography``; see docs/architecture.md) against the certificates from the IdP's
metadata only, never a certificate the message carries. What the library checks is the
signature; what makes it SAML-safe is done here:

* **XXE and entity bombs**: a document with a DOCTYPE is refused before parsing, and the
  parser resolves no entities and reaches no network.
* **Signature wrapping**: the signature is looked for at one place only (a child of the
  Response, or of its one Assertion), and every value is read from the element the
  signature covers (``VerifyResult.signed_xml``), never from the document around it. A
  response with more than one assertion, or an encrypted one, is refused.
* **Bearer rules** (SAML 2.0 profiles, 4.1.4.2-3): Destination and Recipient equal our ACS
  URL, InResponseTo equals the request we sent (unsolicited responses are refused unless the
  provider allows IdP-initiated sign-in), the Issuer is the IdP, the audience includes our
  entity id, and NotBefore / NotOnOrAfter hold with a small clock skew.
* **Replay**: the caller's ``seen`` hook records the assertion id until its NotOnOrAfter and
  answers whether it had been seen; a second use is refused.

Every refusal raises ``SamlRejected`` with one generic client message and a precise
``reason`` for the log (no assertion content, no key material).
"""

from __future__ import annotations

import base64
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from signxml import (  # type: ignore[attr-defined]
    DigestAlgorithm,
    InvalidInput,
    InvalidSignature,
    SignatureMethod,
    XMLVerifier,
)
from signxml.exceptions import InvalidCertificate, InvalidDigest, SignXMLException
from signxml.verifier import SignatureConfiguration

from servicedesk.platform.errors import Unauthorized, ValidationProblem, field_error

NS = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
SIG_RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

MAX_METADATA_BYTES = 512 * 1024
MAX_RESPONSE_BYTES = 256 * 1024
CLOCK_SKEW = timedelta(seconds=120)
MAX_ATTRIBUTE_VALUES = 200

_SIGNATURE_METHODS = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
    }
)
_DIGESTS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})

# Common attribute names, in the order they are tried (Entra ID, Okta, Google, ADFS, LDAP).
EMAIL_ATTRIBUTES = (
    "email",
    "mail",
    "emailaddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
)
NAME_ATTRIBUTES = (
    "displayname",
    "name",
    "http://schemas.microsoft.com/identity/claims/displayname",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    "urn:oid:2.16.840.1.113730.3.1.241",
)


class SamlRejected(Unauthorized):
    """A response that does not prove who signed in. ``reason`` is for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__("the identity provider's answer could not be accepted")
        self.reason = reason


@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    sso_url: str
    certificates: tuple[str, ...]  # PEM
    want_authn_requests_signed: bool = False


@dataclass(frozen=True)
class ServiceProvider:
    entity_id: str
    acs_url: str
    certificate_pem: str | None = None  # published in SP metadata when requests are signed
    private_key_pem: str | None = None


@dataclass(frozen=True)
class SamlIdentity:
    issuer: str
    name_id: str
    name_id_format: str | None
    email: str | None
    name: str | None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    assertion_id: str = ""
    in_response_to: str | None = None
    session_index: str | None = None
    not_on_or_after: datetime | None = None


# --- XML parsing ----------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        collect_ids=False,
    )


def _parse(data: bytes, *, limit: int, what: str) -> etree._Element:
    """Parse untrusted XML: bounded, no DOCTYPE (XXE, entity expansion), no network."""
    if len(data) > limit:
        raise ValueError(f"{what} is larger than {limit // 1024} KiB")
    head = data.lstrip()[:8].lower()
    if not head.startswith(b"<"):
        raise ValueError(f"{what} is not XML")
    if b"<!doctype" in data.lower() or b"<!entity" in data.lower():
        raise ValueError(f"{what} carries a DOCTYPE, which is not allowed")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"{what} is not well-formed XML: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise ValueError(f"{what} carries a DOCTYPE, which is not allowed")
    return root


def _q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


def _text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SamlRejected(f"unreadable time {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pem(b64: str) -> str:
    body = "".join(b64.split())
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(body, validate=True))
    except ValueError:
        raise ValueError(
            "a signing certificate in the metadata is not a valid X.509 certificate"
        ) from None
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _cert_body(pem: str) -> str:
    cert = x509.load_pem_x509_certificate(pem.encode())
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


# --- IdP metadata ---------------------------------------------------------------------------


def _metadata_problem(message: str) -> ValidationProblem:
    return ValidationProblem(message, errors=[field_error("metadata_xml", message)])


def _idp_descriptor(
    root: etree._Element, entity_id: str | None
) -> tuple[etree._Element, etree._Element]:
    if root.tag == _q("md", "EntitiesDescriptor"):
        candidates = root.findall("md:EntityDescriptor", NS)
    elif root.tag == _q("md", "EntityDescriptor"):
        candidates = [root]
    else:
        raise _metadata_problem("the metadata's root is not an md:EntityDescriptor")
    idps = [
        (c, d)
        for c in candidates
        for d in c.findall("md:IDPSSODescriptor", NS)
        if PROTOCOL in (d.get("protocolSupportEnumeration") or "").split()
        and (entity_id is None or c.get("entityID") == entity_id)
    ]
    if not idps:
        raise _metadata_problem("the metadata describes no SAML 2.0 identity provider")
    if len(idps) > 1:
        raise _metadata_problem("the metadata describes several identity providers; name one")
    return idps[0]


def _sso_url(descriptor: etree._Element) -> str:
    for service in descriptor.findall("md:SingleSignOnService", NS):
        if service.get("Binding") == BINDING_REDIRECT:
            url = (service.get("Location") or "").strip()
            parts = urlsplit(url)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise _metadata_problem("the sign-in service's Location is not an absolute URL")
            return url
    raise _metadata_problem("the identity provider offers no HTTP-Redirect sign-in service")


def _signing_certificates(descriptor: etree._Element) -> tuple[str, ...]:
    certs: list[str] = []
    for key in descriptor.findall("md:KeyDescriptor", NS):
        if key.get("use") not in (None, "signing"):
            continue
        for node in key.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS):
            body = _text(node)
            if body:
                try:
                    certs.append(_pem(body))
                except ValueError as exc:
                    raise _metadata_problem(str(exc)) from None
    if not certs:
        raise _metadata_problem("the identity provider publishes no signing certificate")
    return tuple(dict.fromkeys(certs))


def parse_idp_metadata(data: bytes | str, *, entity_id: str | None = None) -> IdpMetadata:
    """The IdP's entity id, HTTP-Redirect SSO URL and signing certificates.

    Raises a 422 naming ``metadata_xml`` for anything malformed or incomplete.
    """
    raw = data.encode() if isinstance(data, str) else data
    try:
        root = _parse(raw, limit=MAX_METADATA_BYTES, what="the metadata")
    except ValueError as exc:
        raise _metadata_problem(str(exc)) from None
    entity, descriptor = _idp_descriptor(root, entity_id)
    issuer = (entity.get("entityID") or "").strip()
    if not issuer or len(issuer) > 1024:
        raise _metadata_problem("the identity provider has no entityID")
    return IdpMetadata(
        entity_id=issuer,
        sso_url=_sso_url(descriptor),
        certificates=_signing_certificates(descriptor),
        want_authn_requests_signed=descriptor.get("WantAuthnRequestsSigned") in ("true", "1"),
    )


# --- AuthnRequest (HTTP-Redirect binding) ----------------------------------------------------


def new_request_id() -> str:
    """An xs:ID (must not start with a digit) with 160 bits of randomness."""
    return "_" + secrets.token_hex(20)


def authn_request_url(
    sp: ServiceProvider,
    idp: IdpMetadata,
    *,
    request_id: str,
    relay_state: str,
    now: datetime,
    sign: bool = False,
) -> str:
    """The URL to send the browser to: a deflated AuthnRequest, signed when asked."""
    request = etree.Element(
        _q("samlp", "AuthnRequest"),
        nsmap={"samlp": NS["samlp"], "saml": NS["saml"]},
        ID=request_id,
        Version="2.0",
        IssueInstant=_iso(now),
        Destination=idp.sso_url,
        AssertionConsumerServiceURL=sp.acs_url,
        ProtocolBinding=BINDING_POST,
    )
    etree.SubElement(request, _q("saml", "Issuer")).text = sp.entity_id
    etree.SubElement(request, _q("samlp", "NameIDPolicy"), Format=NAMEID_EMAIL, AllowCreate="true")
    xml = etree.tostring(request)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(xml) + compressor.flush()
    params = [("SAMLRequest", base64.b64encode(deflated).decode()), ("RelayState", relay_state)]
    if sign or idp.want_authn_requests_signed:
        if not sp.private_key_pem:
            raise RuntimeError("signed AuthnRequests need the service provider's key")
        params.append(("SigAlg", SIG_RSA_SHA256))
        signed = urlencode(params).encode()
        key = serialization.load_pem_private_key(sp.private_key_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise RuntimeError("the service provider's key must be RSA")
        signature = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        params.append(("Signature", base64.b64encode(signature).decode()))
    separator = "&" if urlsplit(idp.sso_url).query else "?"
    return idp.sso_url + separator + urlencode(params)


# --- SP metadata -----------------------------------------------------------------------------


def sp_metadata(sp: ServiceProvider, *, sign_requests: bool = False) -> bytes:
    """Our EntityDescriptor, for the admin to upload to the IdP."""
    entity = etree.Element(
        _q("md", "EntityDescriptor"),
        nsmap={"md": NS["md"], "ds": NS["ds"]},
        entityID=sp.entity_id,
    )
    descriptor = etree.SubElement(
        entity,
        _q("md", "SPSSODescriptor"),
        AuthnRequestsSigned="true" if sign_requests else "false",
        WantAssertionsSigned="true",
        protocolSupportEnumeration=PROTOCOL,
    )
    if sp.certificate_pem:
        key = etree.SubElement(descriptor, _q("md", "KeyDescriptor"), use="signing")
        data = etree.SubElement(etree.SubElement(key, _q("ds", "KeyInfo")), _q("ds", "X509Data"))
        etree.SubElement(data, _q("ds", "X509Certificate")).text = _cert_body(sp.certificate_pem)
    etree.SubElement(descriptor, _q("md", "NameIDFormat")).text = NAMEID_EMAIL
    etree.SubElement(
        descriptor,
        _q("md", "AssertionConsumerService"),
        Binding=BINDING_POST,
        Location=sp.acs_url,
        index="0",
        isDefault="true",
    )
    document: bytes = etree.tostring(entity, xml_declaration=True, encoding="UTF-8")
    return document


# --- Response ---------------------------------------------------------------------------------


def _verify(root: etree._Element, location: str, idp: IdpMetadata) -> etree._Element:
    """The element the signature at ``location`` covers, verified with a metadata cert."""
    config = SignatureConfiguration(
        location=location,
        expect_references=1,
        signature_methods=_SIGNATURE_METHODS,
        digest_algorithms=_DIGESTS,
        ignore_ambiguous_key_info=True,
    )
    last: Exception | None = None
    for pem in idp.certificates:
        cert = x509.load_pem_x509_certificate(pem.encode())
        try:
            result = XMLVerifier().verify(
                root,
                x509_cert=cert,
                parser=_parser(),
                expect_config=replace_time(config, cert),
            )
        except (InvalidSignature, InvalidDigest, InvalidInput, InvalidCertificate) as exc:
            last = exc
            continue
        except SignXMLException as exc:
            raise SamlRejected(f"signature not verifiable: {type(exc).__name__}") from None
        signed = result.signed_xml if not isinstance(result, list) else None
        if not isinstance(signed, etree._Element):
            raise SamlRejected("the signature does not cover an element")
        return signed
    raise SamlRejected(f"signature invalid: {type(last).__name__ if last else 'none'}")


def replace_time(config: SignatureConfiguration, cert: x509.Certificate) -> SignatureConfiguration:
    """Trust comes from the metadata, not the certificate's dates: check it inside them.

    IdPs commonly publish long-lived self-signed certificates and rotate them through the
    metadata; like other SAML SPs (python3-saml, Shibboleth), expiry alone does not refuse.
    """
    from dataclasses import replace

    moment = cert.not_valid_before_utc + (cert.not_valid_after_utc - cert.not_valid_before_utc) / 2
    return replace(config, verification_time=moment)


def _signature_child(el: etree._Element) -> etree._Element | None:
    found = el.findall("ds:Signature", NS)
    if len(found) > 1:
        raise SamlRejected("more than one signature on one element")
    return found[0] if found else None


def _attributes(assertion: etree._Element) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    count = 0
    for attribute in assertion.findall("saml:AttributeStatement/saml:Attribute", NS):
        name = (attribute.get("Name") or "").strip()
        if not name:
            continue
        for value in attribute.findall("saml:AttributeValue", NS):
            count += 1
            if count > MAX_ATTRIBUTE_VALUES:
                raise SamlRejected("too many attribute values")
            text = "".join(value.itertext()).strip()
            if text:
                out.setdefault(name, []).append(text[:1000])
    return out


def _first(attributes: dict[str, list[str]], names: tuple[str, ...]) -> str | None:
    lowered = {k.lower(): v for k, v in attributes.items()}
    for name in names:
        values = lowered.get(name.lower())
        if values:
            return values[0]
    return None


def _load(saml_response: str) -> etree._Element:
    if len(saml_response) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        raise SamlRejected("response too large")
    try:
        raw = base64.b64decode("".join(saml_response.split()), validate=True)
    except ValueError:
        raise SamlRejected("SAMLResponse is not base64") from None
    try:
        root = _parse(raw, limit=MAX_RESPONSE_BYTES, what="the response")
    except ValueError as exc:
        raise SamlRejected(str(exc)) from None
    if root.tag != _q("samlp", "Response"):
        raise SamlRejected("root is not a samlp:Response")
    # One assertion, anywhere in the document: a second one (signed or not) is the shape of
    # a wrapping attack, and encrypted assertions are not supported.
    if root.findall(".//saml:EncryptedAssertion", NS):
        raise SamlRejected("encrypted assertions are not supported")
    if len(root.findall(".//saml:Assertion", NS)) != 1:
        raise SamlRejected("the response must carry exactly one assertion")
    if len(root.findall(".//ds:Signature", NS)) > 2:
        raise SamlRejected("unexpected signatures")
    return root


def _signed_parts(
    root: etree._Element, idp: IdpMetadata, *, require_signed_assertion: bool
) -> tuple[etree._Element, etree._Element]:
    """(response, assertion), each the element a verified signature covers where signed."""
    response = root
    if _signature_child(root) is not None:
        response = _verify(root, "./", idp)
        if response.tag != _q("samlp", "Response") or response.get("ID") != root.get("ID"):
            raise SamlRejected("the response signature covers another element")
    assertions = response.findall("saml:Assertion", NS)
    if len(assertions) != 1:
        raise SamlRejected("the response must carry exactly one assertion as its child")
    assertion = assertions[0]
    if _signature_child(assertion) is not None:
        signed = _verify(response, "./" + _q("saml", "Assertion") + "/", idp)
        if signed.tag != _q("saml", "Assertion") or signed.get("ID") != assertion.get("ID"):
            raise SamlRejected("the assertion signature covers another element")
        return response, signed
    if require_signed_assertion:
        # Our SP metadata says WantAssertionsSigned: a signed response around an unsigned
        # assertion is refused unless the provider was configured to accept it.
        raise SamlRejected("the assertion is not signed")
    if response is root:
        raise SamlRejected("neither the response nor the assertion is signed")
    return response, assertion


def _check_response(response: etree._Element, sp: ServiceProvider, idp: IdpMetadata) -> None:
    if response.get("Version") != "2.0":
        raise SamlRejected("not a SAML 2.0 response")
    destination = response.get("Destination")
    if destination is not None and destination != sp.acs_url:
        raise SamlRejected("Destination is not our ACS URL")
    status = response.find("samlp:Status/samlp:StatusCode", NS)
    if status is None or status.get("Value") != STATUS_SUCCESS:
        raise SamlRejected("the identity provider reported a failure status")
    issuer = _text(response.find("saml:Issuer", NS))
    if issuer is not None and issuer != idp.entity_id:
        raise SamlRejected("the response's Issuer is not the identity provider")


def _check_conditions(
    assertion: etree._Element, sp: ServiceProvider, now: datetime
) -> datetime | None:
    conditions = assertion.find("saml:Conditions", NS)
    if conditions is None:
        raise SamlRejected("the assertion has no Conditions")
    not_before = _time(conditions.get("NotBefore"))
    if not_before is not None and now + CLOCK_SKEW < not_before:
        raise SamlRejected("the assertion is not valid yet")
    not_on_or_after = _time(conditions.get("NotOnOrAfter"))
    if not_on_or_after is not None and now - CLOCK_SKEW >= not_on_or_after:
        raise SamlRejected("the assertion has expired")
    restrictions = conditions.findall("saml:AudienceRestriction", NS)
    if not restrictions:
        raise SamlRejected("the assertion names no audience")
    for restriction in restrictions:
        if sp.entity_id not in [_text(a) for a in restriction.findall("saml:Audience", NS)]:
            raise SamlRejected("the assertion is meant for another audience")
    return not_on_or_after


def _bearer(
    subject: etree._Element, sp: ServiceProvider, now: datetime
) -> tuple[str | None, datetime]:
    """(InResponseTo, NotOnOrAfter) of the first bearer confirmation that holds for us."""
    for confirmation in subject.findall("saml:SubjectConfirmation", NS):
        data = confirmation.find("saml:SubjectConfirmationData", NS)
        if confirmation.get("Method") != BEARER or data is None:
            continue
        until = _time(data.get("NotOnOrAfter"))
        # NotBefore is forbidden on a bearer confirmation (profiles 4.1.4.2).
        if data.get("Recipient") != sp.acs_url or data.get("NotBefore") is not None:
            continue
        if until is None or now - CLOCK_SKEW >= until:
            continue
        return data.get("InResponseTo"), until
    raise SamlRejected("no bearer SubjectConfirmation for our ACS URL that is still valid")


def _check_request(
    expected: str | None,
    confirmed: str | None,
    in_response_to: str | None,
    *,
    allow_unsolicited: bool,
) -> None:
    if expected is None:
        if not allow_unsolicited:
            raise SamlRejected("unsolicited response (no sign-in was started here)")
        if confirmed is not None or in_response_to is not None:
            raise SamlRejected("the response answers a request this browser did not send")
        return
    if confirmed != expected:
        raise SamlRejected("InResponseTo does not match the request sent")
    if in_response_to is not None and in_response_to != expected:
        raise SamlRejected("the response's InResponseTo does not match the request sent")


GIVEN_NAMES = (
    "givenname",
    "firstname",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
)
SURNAMES = (
    "surname",
    "sn",
    "lastname",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
)


def _person(
    attributes: dict[str, list[str]],
    name_id: str,
    name_format: str | None,
    email_attribute: str | None,
    name_attribute: str | None,
) -> tuple[str | None, str | None]:
    email = _first(attributes, (email_attribute,) if email_attribute else EMAIL_ATTRIBUTES)
    if email is None and (name_format == NAMEID_EMAIL or "@" in name_id):
        email = name_id
    name = _first(attributes, (name_attribute,) if name_attribute else NAME_ATTRIBUTES)
    if name is None:
        parts = (_first(attributes, GIVEN_NAMES), _first(attributes, SURNAMES))
        name = " ".join(p for p in parts if p) or None
    return (email.strip().lower()[:320] if email else None), (name[:200] if name else None)


def verify_response(
    saml_response: str,
    *,
    sp: ServiceProvider,
    idp: IdpMetadata,
    now: datetime,
    expected_request_id: str | None,
    seen: Callable[[str, datetime], bool],
    allow_unsolicited: bool = False,
    require_signed_assertion: bool = True,
    email_attribute: str | None = None,
    name_attribute: str | None = None,
) -> SamlIdentity:
    """Verify a base64 ``SAMLResponse`` (HTTP-POST binding) and return who signed in.

    ``expected_request_id`` is the id of the AuthnRequest this browser was sent with (None
    for an unsolicited response, accepted only with ``allow_unsolicited``). ``seen(id,
    until)`` records an assertion id and answers whether it was already recorded.
    """
    root = _load(saml_response)
    response, assertion = _signed_parts(
        root, idp, require_signed_assertion=require_signed_assertion
    )
    # Response-level values come from the verified response when it was signed, else they
    # are only cross-checked: everything that decides who signed in is read from the
    # signed assertion below.
    _check_response(response, sp, idp)
    if _text(assertion.find("saml:Issuer", NS)) != idp.entity_id:
        raise SamlRejected("the assertion's Issuer is not the identity provider")
    assertion_id = assertion.get("ID") or ""
    if not assertion_id or len(assertion_id) > 256:
        raise SamlRejected("the assertion has no ID")
    not_on_or_after = _check_conditions(assertion, sp, now)
    subject = assertion.find("saml:Subject", NS)
    name_id_el = subject.find("saml:NameID", NS) if subject is not None else None
    name_id = _text(name_id_el)
    if subject is None or name_id_el is None or not name_id:
        raise SamlRejected("the assertion has no subject NameID")
    confirmed, until = _bearer(subject, sp, now)
    _check_request(
        expected_request_id,
        confirmed,
        response.get("InResponseTo"),
        allow_unsolicited=allow_unsolicited,
    )
    expires = min(not_on_or_after or until, until)
    if seen(assertion_id, expires):
        raise SamlRejected("assertion replayed")
    attributes = _attributes(assertion)
    email, name = _person(
        attributes, name_id, name_id_el.get("Format"), email_attribute, name_attribute
    )
    authn = assertion.find("saml:AuthnStatement", NS)
    return SamlIdentity(
        issuer=idp.entity_id,
        name_id=name_id[:512],
        name_id_format=name_id_el.get("Format"),
        email=email,
        name=name,
        attributes=attributes,
        assertion_id=assertion_id,
        in_response_to=confirmed,
        session_index=authn.get("SessionIndex") if authn is not None else None,
        not_on_or_after=expires,
    )


def response_issuer(saml_response: str) -> str | None:
    """The Issuer of a response, unverified (the response's, else its assertion's): which
    IdP's certificates an unsolicited response is to be verified with. Parsed like any
    response (size cap, no DOCTYPE, one assertion); ``SamlRejected`` otherwise."""
    root = _load(saml_response)
    issuer = _text(root.find("saml:Issuer", NS)) or _text(
        root.find("saml:Assertion/saml:Issuer", NS)
    )
    return issuer[:1024] if issuer else None


def relay_state_ok(value: str) -> bool:
    return (
        0 < len(value) <= 80
        and value.isascii()
        and value.replace("-", "").replace("_", "").isalnum()
    )


__all__: list[Any] = [
    "IdpMetadata",
    "SamlIdentity",
    "SamlRejected",
    "ServiceProvider",
    "authn_request_url",
    "new_request_id",
    "parse_idp_metadata",
    "sp_metadata",
    "verify_response",
]
