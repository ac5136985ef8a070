"""GraphQL object types, one module per family."""
