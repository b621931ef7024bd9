"""The GraphQL object types (docs/graphql.md lists them with their REST counterparts)."""
