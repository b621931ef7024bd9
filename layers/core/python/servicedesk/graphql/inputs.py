"""What every mutation does with its arguments: the REST body model reads them (REST's 422
field errors), ids are parsed naming their argument, and ``idempotencyKey`` makes a
mutation once (``platform.idempotency.once``, as the POSTs' Idempotency-Key header)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from pydantic import BaseModel, ValidationError

from servicedesk.platform import idempotency
from servicedesk.platform.errors import ValidationProblem, field_error, validation_errors
from servicedesk.platform.tenancy import RequestContext

IDEMPOTENT_PATH = "/v1/graphql/"
# The Idempotency-Key header's form (platform.idempotency.IdempotencyKey).
KEY = re.compile(r"[A-Za-z0-9._:-]{8,128}")


class Ref(BaseModel):
    """What an idempotency key stores for a mutation: the id of what it made or changed
    (and the body of a mutation whose only argument is that id)."""

    id: uuid.UUID


def parsed(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """``values`` read by the REST route's body model: its 422 field errors, as REST's."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ValidationProblem(errors=validation_errors(exc.errors())) from exc


def uuid_of(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ValidationProblem(errors=[field_error(field, "is not a valid id")]) from exc


def once(
    ctx: RequestContext, name: str, key: str | None, body: BaseModel, make: Callable[[], uuid.UUID]
) -> uuid.UUID:
    """``make`` once per idempotency key; a retry answers the id the first call made."""
    if key is not None and not KEY.fullmatch(key):
        raise ValidationProblem(
            errors=[field_error("idempotencyKey", "8-128 of A-Z a-z 0-9 . _ : -")]
        )
    try:
        return idempotency.once(
            ctx, IDEMPOTENT_PATH + name, key, body, lambda: Ref(id=make()), status=200
        ).id
    except idempotency.Replayed as replay:
        return uuid.UUID(str(replay.body["id"]))


V = TypeVar("V")


def once_view(
    ctx: RequestContext,
    name: str,
    key: str | None,
    body: BaseModel,
    make: Callable[[], tuple[uuid.UUID, V]],
    read: Callable[[uuid.UUID], V],
) -> V:
    """``once`` answering what ``make`` answered; a retry reads what the first call made."""
    made: list[V] = []

    def run() -> uuid.UUID:
        found, view = make()
        made.append(view)
        return found

    found = once(ctx, name, key, body, run)
    return made[0] if made else read(found)


def plain(data: object) -> dict[str, Any]:
    """An input's arguments that were given a value (None: not given)."""
    return {k: v for k, v in vars(data).items() if v is not None}


def sent(data: object) -> dict[str, Any]:
    """An edit's arguments that were sent, explicit nulls included (PATCH's exclude_unset)."""
    return {k: v for k, v in vars(data).items() if v is not strawberry.UNSET}
