"""Use cases. Each public coroutine owns its transaction; nothing here knows about GraphQL."""
