"""The SAML service provider's checks, against responses a real IdP signs (tests/saml_idp.py).

Every attack here is built from a response the test IdP signed correctly, then altered the
way the published attacks alter them (signature wrapping XSW1-8 shapes, unsigned assertion in
a signed response, replay, XXE, audience/recipient/time/InResponseTo), and must be refused.
"""

from __future__ import annotations

import base64
import copy
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from servicedesk.identity import saml
from servicedesk.identity.saml import SamlRejected
from servicedesk.platform.errors import ValidationProblem
from tests.saml_idp import SAML, SAMLP, ScriptedIdp, key_and_cert

SP = saml.ServiceProvider(
    entity_id="https://desk.example.com/saml/acme",
    acs_url="https://desk.example.com/v1/auth/sso/saml/acs",
)
REQ = "_req0123456789abcdef"


@pytest.fixture(scope="module")
def idp() -> ScriptedIdp:
    return ScriptedIdp()


@pytest.fixture(scope="module")
def meta(idp: ScriptedIdp) -> saml.IdpMetadata:
    return saml.parse_idp_metadata(idp.metadata())


class Replay:
    def __init__(self) -> None:
        self.ids: dict[str, datetime] = {}

    def __call__(self, assertion_id: str, until: datetime) -> bool:
        if assertion_id in self.ids:
            return True
        self.ids[assertion_id] = until
        return False


def verify(meta: saml.IdpMetadata, response: str, **kw: object) -> saml.SamlIdentity:
    args: dict[str, object] = {
        "sp": SP,
        "idp": meta,
        "now": datetime.now(UTC),
        "expected_request_id": REQ,
        "seen": Replay(),
    }
    args.update(kw)
    return saml.verify_response(response, **args)  # type: ignore[arg-type]


@contextmanager
def refused(reason: str = "") -> Iterator[None]:
    """A ``SamlRejected`` whose logged reason contains ``reason`` (the client's is generic)."""
    with pytest.raises(SamlRejected) as caught:
        yield
    assert reason in caught.value.reason, caught.value.reason
    assert caught.value.detail == "the identity provider's answer could not be accepted"


def good(idp: ScriptedIdp, **kw: object) -> etree._Element:
    sign_response = bool(kw.pop("sign_response", False))
    sign_assertion = bool(kw.pop("sign_assertion", True))
    a = idp.assertion(
        email=str(kw.pop("email", "Ada@Example.com")),
        name="Ada Lovelace",
        sp_entity_id=SP.entity_id,
        acs_url=SP.acs_url,
        in_response_to=REQ,
        **kw,  # type: ignore[arg-type]
    )
    return idp.response(
        a,
        acs_url=SP.acs_url,
        in_response_to=REQ,
        sign_assertion=sign_assertion,
        sign_response=sign_response,
    )


def test_a_signed_assertion_is_accepted(idp: ScriptedIdp, meta: saml.IdpMetadata) -> None:
    who = verify(meta, idp.encode(good(idp)))
    assert who.email == "ada@example.com"
    assert who.name == "Ada Lovelace"
    assert who.issuer == idp.entity_id
    assert who.in_response_to == REQ
    assert who.assertion_id.startswith("_a")


def test_response_and_assertion_both_signed_are_accepted(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    assert verify(meta, idp.encode(good(idp, sign_response=True))).email == "ada@example.com"


def test_unsigned_assertion_in_a_signed_response_is_refused(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    response = idp.encode(good(idp, sign_response=True, sign_assertion=False))
    with refused("not signed"):
        verify(meta, response)
    # Accepted only where the provider says the IdP signs the response alone (Keycloak's default).
    assert verify(meta, response, require_signed_assertion=False).email == "ada@example.com"


def test_nothing_signed_is_refused_even_when_signed_assertions_are_not_required(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    with refused("neither"):
        verify(meta, idp.encode(good(idp, sign_assertion=False)), require_signed_assertion=False)


def test_a_response_signed_by_another_key_is_refused(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    key, cert = key_and_cert("Evil IdP")
    a = idp.assertion(
        email="ada@example.com", sp_entity_id=SP.entity_id, acs_url=SP.acs_url, in_response_to=REQ
    )
    forged = idp.response(a, acs_url=SP.acs_url, in_response_to=REQ, key_pem=key, cert_pem=cert)
    with refused("signature invalid"):
        verify(meta, idp.encode(forged))


def test_an_altered_signed_assertion_is_refused(idp: ScriptedIdp, meta: saml.IdpMetadata) -> None:
    response = good(idp)
    response.find(f".//{{{SAML}}}NameID").text = "admin@example.com"
    with refused("signature invalid"):
        verify(meta, idp.encode(response))


def _evil_copy(assertion: etree._Element) -> etree._Element:
    evil = copy.deepcopy(assertion)
    evil.set("ID", "_evil")
    evil.find(f".//{{{SAML}}}NameID").text = "admin@example.com"
    for sig in evil.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        evil.remove(sig)
    return evil


def test_signature_wrapping_with_the_signed_assertion_hidden_elsewhere_is_refused(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    """XSW: the evil assertion where the SP reads, the signed one moved out of the way."""
    response = good(idp)
    signed = response.find(f"{{{SAML}}}Assertion")
    assert signed is not None
    evil = _evil_copy(signed)
    response.remove(signed)
    extensions = etree.SubElement(response, f"{{{SAMLP}}}Extensions")
    extensions.append(signed)
    response.append(evil)
    with refused("exactly one assertion"):
        verify(meta, idp.encode(response))


def test_signature_wrapping_with_the_signed_assertion_inside_the_evil_one_is_refused(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    response = good(idp)
    signed = response.find(f"{{{SAML}}}Assertion")
    assert signed is not None
    evil = _evil_copy(signed)
    response.remove(signed)
    evil.append(signed)
    response.append(evil)
    with refused("exactly one assertion"):
        verify(meta, idp.encode(response))


def test_signature_wrapping_with_the_signature_moved_onto_an_evil_assertion_is_refused(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    """The legitimate signature, referencing the real ID, placed on an evil assertion."""
    response = good(idp)
    signed = response.find(f"{{{SAML}}}Assertion")
    assert signed is not None
    evil = copy.deepcopy(signed)
    evil.find(f".//{{{SAML}}}NameID").text = "admin@example.com"
    response.remove(signed)
    response.append(evil)  # same ID, same signature, different content
    with refused("signature invalid"):
        verify(meta, idp.encode(response))


def test_an_evil_response_wrapping_a_signed_response_is_refused(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    """XSW on the response signature: a new unsigned response around the signed one."""
    legit = good(idp, sign_response=True, sign_assertion=False)
    outer = copy.deepcopy(legit)
    for child in list(outer):
        if child.tag != f"{{{SAML}}}Issuer" and child.tag != f"{{{SAMLP}}}Status":
            outer.remove(child)
    outer.set("ID", "_outer")
    evil = _evil_copy(legit.find(f"{{{SAML}}}Assertion"))
    outer.append(evil)
    ext = etree.SubElement(outer, f"{{{SAMLP}}}Extensions")
    ext.append(legit)
    with refused():
        verify(meta, idp.encode(outer), require_signed_assertion=False)


def test_a_replayed_assertion_is_refused(idp: ScriptedIdp, meta: saml.IdpMetadata) -> None:
    seen = Replay()
    response = idp.encode(good(idp))
    verify(meta, response, seen=seen)
    with refused("replayed"):
        verify(meta, response, seen=seen)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"audience": "https://other.example.com/sp"}, "audience"),
        ({"recipient": "https://evil.example.com/acs"}, "bearer"),
        ({"issuer": "https://evil.example.com/idp"}, "Issuer"),
        ({"now": datetime.now(UTC) - timedelta(hours=1)}, "expired"),
        ({"now": datetime.now(UTC) + timedelta(hours=1)}, "not valid yet"),
    ],
)
def test_assertions_for_someone_else_or_out_of_time_are_refused(
    idp: ScriptedIdp, meta: saml.IdpMetadata, kwargs: dict[str, object], reason: str
) -> None:
    with refused(reason):
        verify(meta, idp.encode(good(idp, **kwargs)))


def test_in_response_to_must_match_the_request_this_browser_sent(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    response = idp.encode(good(idp))
    with refused("InResponseTo"):
        verify(meta, response, expected_request_id="_another")
    with refused("unsolicited"):
        verify(meta, response, expected_request_id=None)
    with refused("did not send"):
        verify(meta, response, expected_request_id=None, allow_unsolicited=True)


def test_an_idp_initiated_response_is_accepted_only_when_allowed(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    a = idp.assertion(
        email="ada@example.com", sp_entity_id=SP.entity_id, acs_url=SP.acs_url, in_response_to=None
    )
    response = idp.encode(idp.response(a, acs_url=SP.acs_url, in_response_to=None))
    with refused("unsolicited"):
        verify(meta, response, expected_request_id=None)
    assert (
        verify(meta, response, expected_request_id=None, allow_unsolicited=True).email
        == "ada@example.com"
    )


def test_wrong_destination_and_failure_status_are_refused(
    idp: ScriptedIdp, meta: saml.IdpMetadata
) -> None:
    a = idp.assertion(
        email="ada@example.com", sp_entity_id=SP.entity_id, acs_url=SP.acs_url, in_response_to=REQ
    )
    wrong = idp.response(
        a, acs_url=SP.acs_url, in_response_to=REQ, destination="https://evil.example.com/acs"
    )
    with refused("Destination"):
        verify(meta, idp.encode(wrong))
    a = idp.assertion(
        email="ada@example.com", sp_entity_id=SP.entity_id, acs_url=SP.acs_url, in_response_to=REQ
    )
    failed = idp.response(
        a,
        acs_url=SP.acs_url,
        in_response_to=REQ,
        status="urn:oasis:names:tc:SAML:2.0:status:Requester",
    )
    with refused("failure status"):
        verify(meta, idp.encode(failed))


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0">&x;</samlp:Response>"""
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&" + bytes([97 + i]) + b";") * 10)
        for i in range(8)
    )
    + b']><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&i;</samlp:Response>'
)


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_documents_with_a_doctype_are_refused_before_parsing(
    meta: saml.IdpMetadata, payload: bytes
) -> None:
    with refused("DOCTYPE"):
        verify(meta, base64.b64encode(payload).decode())
    with pytest.raises(ValidationProblem) as caught:
        saml.parse_idp_metadata(payload)
    assert caught.value.errors and caught.value.errors[0]["field"] == "metadata_xml"


def test_garbage_and_oversized_responses_are_refused(meta: saml.IdpMetadata) -> None:
    for bad in (
        "not base64!!",
        base64.b64encode(b"plain text").decode(),
        "A" * (2 * saml.MAX_RESPONSE_BYTES),
    ):
        with refused():
            verify(meta, bad)


def test_sha1_signatures_are_refused(idp: ScriptedIdp, meta: saml.IdpMetadata) -> None:
    from signxml import XMLSigner  # type: ignore[attr-defined]

    a = idp.assertion(
        email="ada@example.com", sp_entity_id=SP.entity_id, acs_url=SP.acs_url, in_response_to=REQ
    )

    class Sha1Signer(XMLSigner):
        """An old IdP's SHA-1, which signxml refuses to make."""

        def check_deprecated_methods(self) -> None:
            return

    signed = Sha1Signer(signature_algorithm="rsa-sha1", digest_algorithm="sha1").sign(
        a, key=idp.key_pem.encode(), cert=idp.cert_pem
    )
    response = idp.response(signed, acs_url=SP.acs_url, in_response_to=REQ, sign_assertion=False)
    with refused():
        verify(meta, idp.encode(response))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<notxml", "well-formed"),
        (
            b"<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata' entityID='x'/>",
            "no SAML 2.0",
        ),
        (b"<foo/>", "root"),
        (b"{}", "not XML"),
    ],
)
def test_malformed_metadata_names_the_field(document: bytes, message: str) -> None:
    with pytest.raises(ValidationProblem, match=message) as caught:
        saml.parse_idp_metadata(document)
    assert caught.value.errors and caught.value.errors[0]["field"] == "metadata_xml"


def test_metadata_without_a_signing_certificate_is_refused(idp: ScriptedIdp) -> None:
    doc = etree.fromstring(idp.metadata())
    for key in doc.findall(".//{urn:oasis:names:tc:SAML:2.0:metadata}KeyDescriptor"):
        key.getparent().remove(key)
    with pytest.raises(ValidationProblem, match="no signing certificate"):
        saml.parse_idp_metadata(etree.tostring(doc))


def test_metadata_is_read(idp: ScriptedIdp, meta: saml.IdpMetadata) -> None:
    assert meta.entity_id == idp.entity_id
    assert meta.sso_url == idp.sso_url
    assert len(meta.certificates) == 1
    assert not meta.want_authn_requests_signed


def test_authn_request_round_trip_and_signature() -> None:
    key, cert = key_and_cert("Desk SP")
    sp = saml.ServiceProvider(SP.entity_id, SP.acs_url, certificate_pem=cert, private_key_pem=key)
    target = ScriptedIdp()
    meta = saml.parse_idp_metadata(target.metadata(want_signed_requests=True))
    url = saml.authn_request_url(
        sp, meta, request_id=REQ, relay_state="state123", now=datetime.now(UTC)
    )
    query = urlsplit(url).query
    params = {k: v[0] for k, v in parse_qs(query).items()}
    request = etree.fromstring(zlib.decompress(base64.b64decode(params["SAMLRequest"]), -15))
    assert request.get("ID") == REQ
    assert request.get("AssertionConsumerServiceURL") == SP.acs_url
    assert request.findtext(f"{{{SAML}}}Issuer") == SP.entity_id
    assert params["RelayState"] == "state123"
    # The signature covers the query string up to SigAlg, as the binding says (3.4.4.1).
    signed_part = query.split("&Signature=")[0].encode()
    public = x509.load_pem_x509_certificate(cert.encode()).public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(
        base64.b64decode(params["Signature"]), signed_part, padding.PKCS1v15(), hashes.SHA256()
    )


def test_sp_metadata_publishes_the_acs_and_the_key() -> None:
    key, cert = key_and_cert("Desk SP")
    sp = saml.ServiceProvider(SP.entity_id, SP.acs_url, certificate_pem=cert, private_key_pem=key)
    doc = etree.fromstring(saml.sp_metadata(sp, sign_requests=True))
    assert doc.get("entityID") == SP.entity_id
    acs = doc.find(".//{urn:oasis:names:tc:SAML:2.0:metadata}AssertionConsumerService")
    assert acs is not None and acs.get("Location") == SP.acs_url
    assert doc.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate") is not None


def test_the_test_idp_answers_an_authn_request() -> None:
    target = ScriptedIdp()
    target.users["grace@example.com"] = {"name": "Grace Hopper"}
    meta = saml.parse_idp_metadata(target.metadata())
    url = saml.authn_request_url(SP, meta, request_id=REQ, relay_state="rs", now=datetime.now(UTC))
    acs, response, relay = target.answer_redirect(urlsplit(url).query)
    assert (acs, relay) == (SP.acs_url, "rs")
    who = verify(meta, response)
    assert (who.email, who.name) == ("grace@example.com", "Grace Hopper")
