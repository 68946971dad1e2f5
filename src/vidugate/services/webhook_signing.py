"""Standard Webhooks signatures (https://www.standardwebhooks.com): the signed content is
`{webhook-id}.{webhook-timestamp}.{body}`; `v1,` is its HMAC-SHA256 under a `whsec_`
secret (base64 of the key's bytes), `v1a,` its Ed25519 signature under the gateway's key,
whose public half is published (`whpk_...` and as a JWK), so a receiver can verify without
a shared secret. Every delivery carries both, space-separated in `webhook-signature`.

The Ed25519 key and each account's secret for per-request URLs are derived from the
gateway's secret (VIDUGATE_SECRET or DATA_DIR/secret) by HMAC with fixed labels: every
process agrees on them with nothing stored, and neither reveals the secret."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SECRET_PREFIX = "whsec_"
PUBLIC_KEY_PREFIX = "whpk_"
_ED25519_LABEL = b"vidugate webhook ed25519 v1"
_TENANT_LABEL = b"vidugate webhook tenant secret v1:"


def new_secret() -> str:
    """An endpoint's secret: 32 random bytes, as Standard Webhooks writes them."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signed_content(message_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{message_id}.{timestamp}.".encode() + body


def sign_v1(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(
        secret_bytes(secret), signed_content(message_id, timestamp, body), hashlib.sha256
    ).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookSigner:
    """The gateway's Ed25519 key and the per-account secrets, from the gateway's secret."""

    def __init__(self, gateway_secret: bytes) -> None:
        self.gateway_secret = gateway_secret

    @functools.cached_property
    def _private_key(self) -> Ed25519PrivateKey:
        # Made at the first signature or JWKS read: a gateway that sends no webhook never
        # loads `cryptography` (~7 MB resident).
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        seed = hmac.new(self.gateway_secret, _ED25519_LABEL, hashlib.sha256).digest()
        return Ed25519PrivateKey.from_private_bytes(seed)

    def public_key_bytes(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self._private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def public_key(self) -> str:
        """The Standard Webhooks form: `whpk_` + base64 of the raw 32-byte key."""
        return PUBLIC_KEY_PREFIX + base64.b64encode(self.public_key_bytes()).decode()

    def key_id(self) -> str:
        return "whpk_" + hashlib.sha256(self.public_key_bytes()).hexdigest()[:16]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public key as a JSON Web Key Set (RFC 8037: OKP, Ed25519)."""
        x = base64.urlsafe_b64encode(self.public_key_bytes()).rstrip(b"=").decode()
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.key_id()}
        return {"keys": [{**jwk, "use": "sig", "alg": "EdDSA"}]}

    def tenant_secret(self, tenant_id: str) -> str:
        """The `whsec_` secret of an account's per-request URLs (`webhook_url`,
        `callback_url`): an endpoint has its own."""
        key = hmac.new(
            self.gateway_secret, _TENANT_LABEL + tenant_id.encode(), hashlib.sha256
        ).digest()
        return SECRET_PREFIX + base64.b64encode(key).decode()

    def signature(self, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
        """The `webhook-signature` header: `v1,<hmac> v1a,<ed25519>`."""
        ed = self._private_key.sign(signed_content(message_id, timestamp, body))
        return f"{sign_v1(secret, message_id, timestamp, body)} v1a,{base64.b64encode(ed).decode()}"


def verify(
    headers: dict[str, str],
    body: bytes,
    *,
    secret: str | None = None,
    public_key: bytes | None = None,
    now: float | None = None,
    tolerance: float = 300.0,
) -> bool:
    """Whether a delivery carries a valid signature: `v1` under `secret`, or `v1a` under
    the raw Ed25519 `public_key`; its timestamp within `tolerance` of `now` (if given)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    lowered = {k.lower(): v for k, v in headers.items()}
    message_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    if not message_id or not stamp.isdigit():
        return False
    if now is not None and abs(now - int(stamp)) > tolerance:
        return False
    content = signed_content(message_id, int(stamp), body)
    for signature in lowered.get("webhook-signature", "").split(" "):
        version, _, value = signature.partition(",")
        if version == "v1" and secret is not None:
            if hmac.compare_digest(signature, sign_v1(secret, message_id, int(stamp), body)):
                return True
        elif version == "v1a" and public_key is not None:
            try:
                Ed25519PublicKey.from_public_bytes(public_key).verify(
                    base64.b64decode(value), content
                )
                return True
            except (InvalidSignature, ValueError):
                continue
    return False
