"""The SAML 2.0 kind of sign-in provider: the SP core of identity/saml.py in the sign-in
framework of identity/sso.py.

Configuration: the admin pastes the IdP's metadata (``metadata_xml``); it is parsed now
(422 naming ``config.metadata_xml``) and stored as the IdP's entity id, its HTTP-Redirect
sign-in URL and its signing certificates, so a later edit may omit it (the stored ones
stand). Options: ``require_signed_assertion`` (default true: a signed response around an
unsigned assertion is refused), ``allow_idp_initiated`` (default false), ``sign_requests``
(signed AuthnRequests: needs the deployment's SP key, ``saml_sp_private_key``),
``email_attribute`` / ``name_attribute`` (overrides of the usual attribute names).

A sign-in: the AuthnRequest's ID is derived from the pending sign-in's nonce (``"_" +
nonce``, an xs:ID) and the RelayState is its state, so the answer is matched to the request
this browser was sent with. ``finish`` verifies the HTTP-POST response (signature against
the metadata's certificates, wrapping, XXE, audience, recipient, times, InResponseTo, and
the replay cache through ``Pending.seen``); a rejection is a ``Refusal("assertion")`` whose
detail is the rejected reason (logged; never the assertion).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from servicedesk.identity import saml
from servicedesk.identity.sso import Identity, Kind, Pending, Refusal, callback_url, register
from servicedesk.platform.config import Settings, resolve_secret
from servicedesk.platform.errors import ValidationProblem, field_error, validation_errors

METADATA_PATH = "/v1/auth/sso/saml/metadata"
# What the metadata gives; accepted on input (a client may send back what it read) and
# replaced by what the metadata, or the stored config, says.
DERIVED = ("entity_id", "sso_url", "certificates", "want_authn_requests_signed")
Attribute = Field(default=None, min_length=1, max_length=200)


class SamlInput(BaseModel):
    """``config`` of a SAML provider as an admin sends it (unknown keys refused)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    metadata_xml: str | None = Field(
        default=None,
        max_length=saml.MAX_METADATA_BYTES,
        description="The IdP's metadata (an md:EntityDescriptor); required when adding",
    )
    require_signed_assertion: bool = True
    allow_idp_initiated: bool = False
    sign_requests: bool = False
    email_attribute: str | None = Attribute
    name_attribute: str | None = Attribute
    entity_id: Any = None
    sso_url: Any = None
    certificates: Any = None
    want_authn_requests_signed: Any = None


class SamlConfig(BaseModel):
    """``identity_providers.config`` of a SAML provider, as stored."""

    model_config = ConfigDict(extra="ignore")

    entity_id: str
    sso_url: str
    certificates: list[str]
    want_authn_requests_signed: bool = False
    require_signed_assertion: bool = True
    allow_idp_initiated: bool = False
    sign_requests: bool = False
    email_attribute: str | None = None
    name_attribute: str | None = None

    def idp(self) -> saml.IdpMetadata:
        return saml.IdpMetadata(
            entity_id=self.entity_id,
            sso_url=self.sso_url,
            certificates=tuple(self.certificates),
            want_authn_requests_signed=self.want_authn_requests_signed,
        )

    @property
    def signs_requests(self) -> bool:
        return self.sign_requests or self.want_authn_requests_signed


def sp_entity_id(settings: Settings) -> str:
    return settings.saml_sp_entity_id or f"{settings.web_origin.rstrip('/')}{METADATA_PATH}"


def sp_key(settings: Settings) -> str | None:
    return resolve_secret(settings.saml_sp_private_key, settings.saml_sp_private_key_secret_arn)


def service_provider(settings: Settings, *, with_key: bool = False) -> saml.ServiceProvider:
    """Our SP: entity id, ACS URL, the certificate (and the key only when signing)."""
    return saml.ServiceProvider(
        entity_id=sp_entity_id(settings),
        acs_url=callback_url("saml", settings),
        certificate_pem=settings.saml_sp_certificate,
        private_key_pem=sp_key(settings) if with_key else None,
    )


def can_sign(settings: Settings) -> bool:
    return bool(
        settings.saml_sp_certificate
        and (settings.saml_sp_private_key or settings.saml_sp_private_key_secret_arn)
    )


def validate_config(
    raw: dict[str, Any], settings: Settings, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    try:
        given = SamlInput.model_validate(raw)
    except ValidationError as exc:
        raise ValidationProblem(errors=validation_errors(exc.errors(), prefix="config.")) from exc
    if given.metadata_xml:
        try:
            idp = saml.parse_idp_metadata(given.metadata_xml)
        except ValidationProblem as exc:
            raise ValidationProblem(
                "the identity provider's metadata is not usable",
                errors=[
                    field_error("config.metadata_xml", str(e["detail"])) for e in exc.errors or []
                ],
            ) from exc
        derived: dict[str, Any] = {
            "entity_id": idp.entity_id,
            "sso_url": idp.sso_url,
            "certificates": list(idp.certificates),
            "want_authn_requests_signed": idp.want_authn_requests_signed,
        }
    elif previous and previous.get("entity_id"):
        derived = {k: previous[k] for k in DERIVED if k in previous}
    else:
        raise ValidationProblem(
            "paste the identity provider's metadata",
            errors=[field_error("config.metadata_xml", "required")],
        )
    config = SamlConfig.model_validate(
        {**given.model_dump(exclude={"metadata_xml", *DERIVED}), **derived}
    )
    if config.signs_requests and not can_sign(settings):
        field = "config.sign_requests" if config.sign_requests else "config.metadata_xml"
        raise ValidationProblem(
            "signed AuthnRequests need the service provider's key, which this deployment "
            "does not have",
            errors=[field_error(field, "signed requests need the SP key (saml_sp_private_key)")],
        )
    return config.model_dump()


def response_issuer(saml_response: str) -> str | None:
    """The Issuer an (unverified) response names: which provider's certificates to verify
    an IdP-initiated answer with. Parsed as safely as a verified one; ``Refusal``."""
    try:
        return saml.response_issuer(saml_response)
    except saml.SamlRejected as exc:
        raise Refusal("assertion", exc.reason) from exc


class SamlKind(Kind):
    name = "saml"

    def validate_config(
        self, raw: dict[str, Any], settings: Settings, previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return validate_config(raw, settings, previous)

    def start(self, config: dict[str, Any], pending: Pending, settings: Settings) -> str:
        stored = SamlConfig.model_validate(config)
        sign = stored.signs_requests
        try:
            return saml.authn_request_url(
                service_provider(settings, with_key=sign),
                stored.idp(),
                request_id=request_id(pending),
                relay_state=pending.state,
                now=datetime.now(UTC),
                sign=sign,
            )
        except (RuntimeError, ValueError) as exc:
            raise Refusal("sp_key", str(exc)) from exc

    def finish(
        self,
        config: dict[str, Any],
        secret: str | None,
        pending: Pending,
        params: dict[str, str],
        settings: Settings,
    ) -> Identity:
        stored = SamlConfig.model_validate(config)
        if pending.seen is None:
            raise Refusal("replay_cache", "no replay cache for this sign-in")
        if pending.unsolicited and not stored.allow_idp_initiated:
            raise Refusal("unsolicited", "the provider does not allow IdP-initiated sign-in")
        answer = params.get("SAMLResponse")
        if not answer:
            raise Refusal("assertion", "no SAMLResponse")
        try:
            found = saml.verify_response(
                answer,
                sp=service_provider(settings),
                idp=stored.idp(),
                now=datetime.now(UTC),
                expected_request_id=None if pending.unsolicited else request_id(pending),
                seen=pending.seen,
                allow_unsolicited=pending.unsolicited,
                require_signed_assertion=stored.require_signed_assertion,
                email_attribute=stored.email_attribute,
                name_attribute=stored.name_attribute,
            )
        except saml.SamlRejected as exc:
            raise Refusal("assertion", exc.reason) from exc
        if not found.email or "@" not in found.email:
            raise Refusal("no_email", "the assertion carries no e-mail address")
        return Identity(
            issuer=found.issuer,
            subject=found.name_id,
            email=found.email,
            name=found.name,
            claims=dict(found.attributes),
        )


def request_id(pending: Pending) -> str:
    """The AuthnRequest's ID: an xs:ID derived from the sign-in's nonce."""
    return "_" + pending.nonce


register(SamlKind())
