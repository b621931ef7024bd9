"""Base pydantic models: unknown fields are refused, strings are bounded."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

# The local part is an RFC 5322 dot-atom (no quoted strings, no comments): nothing that
# could change the meaning of a To: header (<, >, ",", ";", quotes, brackets, spaces).
EMAIL_RE = re.compile(
    r"^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)


class Input(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _email(value: str) -> str:
    if not EMAIL_RE.fullmatch(value):
        raise ValueError("must be a valid e-mail address")
    return value.lower()


def email_address(value: str) -> str:
    """A valid e-mail address, lower-cased (raises ValueError naming the rule otherwise)."""
    return _email(value)


def not_null(value: object) -> object:
    """PATCH: an omitted field stays as it is, but a NOT NULL column cannot be set to null."""
    if value is None:
        raise ValueError("must not be null")
    return value


Email = Annotated[str, StringConstraints(min_length=3, max_length=254), AfterValidator(_email)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Slug = Annotated[
    str,
    StringConstraints(min_length=3, max_length=50, pattern=r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$"),
]
# Length is checked by the password policy so the message can say why.
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
