"""Outbound networking: fetching user-supplied URLs without exposing the gateway's own network."""
