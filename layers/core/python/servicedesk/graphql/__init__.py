"""GraphQL over the same services, visibility rule and tenant transaction as REST
(issue 23; docs/graphql.md)."""
