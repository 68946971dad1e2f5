"""Webhook routes: an account's own (/v1/webhooks), the operator's (/admin/v1/...), and the
public key that verifies every delivery (/.well-known/jwks.json)."""
