"""The fake GitHub GraphQL API."""
