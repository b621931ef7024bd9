from __future__ import annotations

import pytest
from pydantic import ValidationError

from servicedesk.platform.config import Settings


def test_placeholder_secrets_are_refused_outside_dev():
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(environment="prod", jwt_private_key="changeme", database_url="postgresql://x/y")
    with pytest.raises(ValidationError, match="jwt_private_key"):
        Settings(environment="prod", database_url="postgresql://x/y", jwt_private_key=None)


def test_dev_needs_no_secrets():
    assert Settings(environment="dev", jwt_private_key=None, database_url=None).is_dev


def test_symmetric_oidc_algorithms_are_refused():
    with pytest.raises(ValidationError, match="symmetric"):
        Settings(environment="dev", oidc_algorithms="HS256,RS256")
    assert Settings(environment="dev", oidc_algorithms="RS256, ES256").oidc_algorithms == [
        "RS256",
        "ES256",
    ]
