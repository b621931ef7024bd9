"""A scripted SAML 2.0 identity provider for tests and the e2e stack.

It signs with its own key (``cryptography`` + ``signxml``, as a real IdP would), publishes
its metadata, and, served over HTTP (``serve``), answers the HTTP-Redirect binding's
AuthnRequest with an HTTP-POST form that carries a signed Response to the request's ACS URL.
``response`` builds any Response a test needs, including the broken ones an attacker sends.
"""

from __future__ import annotations

import base64
import html
import json
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner  # type: ignore[attr-defined]

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"


def key_and_cert(common_name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def _b64_cert(pem: str) -> str:
    cert = x509.load_pem_x509_certificate(pem.encode())
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ScriptedIdp:
    entity_id: str = "https://idp.test.example/saml"
    sso_url: str = "https://idp.test.example/sso"
    key_pem: str = ""
    cert_pem: str = ""
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    # Attributes of every answer (e.g. groups for a provider's role map).
    attributes: dict[str, list[str]] = field(default_factory=dict)
    last_request: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.key_pem:
            self.key_pem, self.cert_pem = key_and_cert("Test IdP")

    def metadata(self, *, want_signed_requests: bool = False) -> bytes:
        root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={"md": MD, "ds": DS})
        root.set("entityID", self.entity_id)
        idp = etree.SubElement(root, f"{{{MD}}}IDPSSODescriptor")
        idp.set("protocolSupportEnumeration", SAMLP)
        if want_signed_requests:
            idp.set("WantAuthnRequestsSigned", "true")
        key = etree.SubElement(idp, f"{{{MD}}}KeyDescriptor", use="signing")
        data = etree.SubElement(etree.SubElement(key, f"{{{DS}}}KeyInfo"), f"{{{DS}}}X509Data")
        etree.SubElement(data, f"{{{DS}}}X509Certificate").text = _b64_cert(self.cert_pem)
        etree.SubElement(
            idp, f"{{{MD}}}NameIDFormat"
        ).text = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
        etree.SubElement(
            idp,
            f"{{{MD}}}SingleSignOnService",
            Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
            Location=self.sso_url,
        )
        document: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return document

    def _sign(
        self, el: etree._Element, key_pem: str | None = None, cert_pem: str | None = None
    ) -> etree._Element:
        signer = XMLSigner(
            signature_algorithm="rsa-sha256",
            digest_algorithm="sha256",
            c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
        )
        signed: etree._Element = signer.sign(
            el,
            key=(key_pem or self.key_pem).encode(),
            cert=(cert_pem or self.cert_pem),
        )
        # SAML's schema wants ds:Signature right after the Issuer.
        signature = signed.find(f"{{{DS}}}Signature")
        issuer = signed.find(f"{{{SAML}}}Issuer")
        if signature is not None and issuer is not None:
            signed.remove(signature)
            issuer.addnext(signature)
        return signed

    def assertion(
        self,
        *,
        email: str,
        name: str | None = None,
        sp_entity_id: str,
        acs_url: str,
        in_response_to: str | None,
        now: datetime | None = None,
        audience: str | None = None,
        recipient: str | None = None,
        issuer: str | None = None,
        lifetime: timedelta = timedelta(minutes=5),
        attributes: dict[str, list[str]] | None = None,
        assertion_id: str | None = None,
    ) -> etree._Element:
        now = now or datetime.now(UTC)
        a = etree.Element(f"{{{SAML}}}Assertion", nsmap={"saml": SAML})
        a.set("ID", assertion_id or "_a" + uuid.uuid4().hex)
        a.set("Version", "2.0")
        a.set("IssueInstant", _iso(now))
        etree.SubElement(a, f"{{{SAML}}}Issuer").text = issuer or self.entity_id
        subject = etree.SubElement(a, f"{{{SAML}}}Subject")
        name_id = etree.SubElement(subject, f"{{{SAML}}}NameID")
        name_id.set("Format", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        name_id.text = email
        confirmation = etree.SubElement(
            subject,
            f"{{{SAML}}}SubjectConfirmation",
            Method="urn:oasis:names:tc:SAML:2.0:cm:bearer",
        )
        data = etree.SubElement(confirmation, f"{{{SAML}}}SubjectConfirmationData")
        data.set("NotOnOrAfter", _iso(now + lifetime))
        data.set("Recipient", recipient or acs_url)
        if in_response_to:
            data.set("InResponseTo", in_response_to)
        conditions = etree.SubElement(
            a,
            f"{{{SAML}}}Conditions",
            NotBefore=_iso(now - timedelta(seconds=30)),
            NotOnOrAfter=_iso(now + lifetime),
        )
        restriction = etree.SubElement(conditions, f"{{{SAML}}}AudienceRestriction")
        etree.SubElement(restriction, f"{{{SAML}}}Audience").text = audience or sp_entity_id
        authn = etree.SubElement(
            a, f"{{{SAML}}}AuthnStatement", AuthnInstant=_iso(now), SessionIndex="_s1"
        )
        ctx = etree.SubElement(authn, f"{{{SAML}}}AuthnContext")
        etree.SubElement(
            ctx, f"{{{SAML}}}AuthnContextClassRef"
        ).text = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        attrs = dict(attributes or {})
        if name:
            attrs.setdefault("displayName", [name])
        if attrs:
            statement = etree.SubElement(a, f"{{{SAML}}}AttributeStatement")
            for attr_name, values in attrs.items():
                attribute = etree.SubElement(statement, f"{{{SAML}}}Attribute", Name=attr_name)
                for value in values:
                    etree.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = value
        return a

    def response(
        self,
        assertion: etree._Element,
        *,
        acs_url: str,
        in_response_to: str | None,
        sign_assertion: bool = True,
        sign_response: bool = False,
        status: str = "urn:oasis:names:tc:SAML:2.0:status:Success",
        destination: str | None = None,
        key_pem: str | None = None,
        cert_pem: str | None = None,
        now: datetime | None = None,
    ) -> etree._Element:
        now = now or datetime.now(UTC)
        if sign_assertion:
            assertion = self._sign(assertion, key_pem, cert_pem)
        r = etree.Element(f"{{{SAMLP}}}Response", nsmap={"samlp": SAMLP, "saml": SAML})
        r.set("ID", "_r" + uuid.uuid4().hex)
        r.set("Version", "2.0")
        r.set("IssueInstant", _iso(now))
        r.set("Destination", destination or acs_url)
        if in_response_to:
            r.set("InResponseTo", in_response_to)
        etree.SubElement(r, f"{{{SAML}}}Issuer").text = self.entity_id
        st = etree.SubElement(r, f"{{{SAMLP}}}Status")
        etree.SubElement(st, f"{{{SAMLP}}}StatusCode", Value=status)
        r.append(assertion)
        if sign_response:
            r = self._sign(r, key_pem, cert_pem)
        return r

    @staticmethod
    def encode(el: etree._Element | bytes) -> str:
        raw = el if isinstance(el, bytes) else etree.tostring(el)
        return base64.b64encode(raw).decode()

    # --- HTTP-Redirect in, HTTP-POST out ------------------------------------------------

    def answer_redirect(self, query: str) -> tuple[str, str, str]:
        """(ACS URL, SAMLResponse, RelayState) for an AuthnRequest URL's query string."""
        params = {k: v[0] for k, v in parse_qs(query).items()}
        xml = zlib.decompress(base64.b64decode(params["SAMLRequest"]), -15)
        request = etree.fromstring(xml)
        self.last_request = dict(params)
        request_id = request.get("ID") or ""
        acs = request.get("AssertionConsumerServiceURL") or ""
        sp_entity = request.findtext(f"{{{SAML}}}Issuer") or ""
        email = next(iter(self.users), "sso.person@example.com")
        profile = self.users.get(email, {})
        assertion = self.assertion(
            email=email,
            name=profile.get("name"),
            sp_entity_id=sp_entity,
            acs_url=acs,
            in_response_to=request_id,
            attributes=self.attributes,
        )
        response = self.response(assertion, acs_url=acs, in_response_to=request_id)
        return acs, self.encode(response), params.get("RelayState", "")


def serve(idp: ScriptedIdp, port: int = 0) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve ``idp`` on 127.0.0.1: GET /sso answers with an auto-posting form."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_POST(self) -> None:
            """``/_test/person`` (the e2e stack): who signs in next, as JSON
            ``{"email", "name", "attributes"}``."""
            if urlsplit(self.path).path != "/_test/person":
                self.send_error(404)
                return
            length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
            person = json.loads(self.rfile.read(length) or b"{}")
            idp.users = {str(person["email"]): {"name": str(person.get("name") or "")}}
            idp.attributes = dict(person.get("attributes") or {})
            self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/metadata":
                body = idp.metadata()
                self.send_response(200)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if url.path != "/sso":
                self.send_error(404)
                return
            acs, saml_response, relay = idp.answer_redirect(url.query)
            page = (
                "<!doctype html><html lang='en'><head><title>Test IdP</title></head><body>"
                f"<main><h1>Test identity provider</h1><form method='post' action='{html.escape(acs)}'>"
                f"<input type='hidden' name='SAMLResponse' value='{html.escape(saml_response)}'>"
                f"<input type='hidden' name='RelayState' value='{html.escape(relay)}'>"
                "<button type='submit'>Continue</button></form></main></body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    idp.sso_url = f"http://127.0.0.1:{server.server_address[1]}/sso"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
