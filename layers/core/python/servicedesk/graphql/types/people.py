"""User, Team and Category as a ticket names them."""

from __future__ import annotations

from typing import Self

import strawberry

from servicedesk.graphql.loaders import Named, Person


@strawberry.type(
    description="A person on a ticket: the name and picture the participants list shows"
)
class User:
    id: strawberry.ID
    name: str
    avatar_url: str | None

    @classmethod
    def of(cls, person: Person) -> User:
        return cls(id=strawberry.ID(str(person.id)), name=person.name, avatar_url=person.avatar_url)


@strawberry.interface(description="Something a ticket names by id, with its name")
class NamedNode:
    id: strawberry.ID
    name: str | None

    @classmethod
    def of(cls, named: Named) -> Self:
        return cls(id=strawberry.ID(str(named.id)), name=named.name)


@strawberry.type(description="A team; its name needs directory:read (as GET /v1/teams)")
class Team(NamedNode):
    pass


@strawberry.type(description="A ticket category")
class Category(NamedNode):
    pass
