"""The GraphQL API, the Starlette app that serves it, and the `ciclo` command line."""
