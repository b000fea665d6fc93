"""Webhook request signatures, in the Standard Webhooks scheme (https://www.standardwebhooks.com).

Every request carries ``webhook-id`` (the delivery id, the same on every attempt: receivers
de-duplicate on it) and ``webhook-timestamp`` (Unix seconds of this attempt). With a signing
key it also carries ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``,
computed afresh for each attempt. A receiver recomputes the HMAC over the raw body and rejects
stale timestamps; any Standard Webhooks library verifies it with a ``whsec_…`` secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

_STANDARD_PREFIX = "whsec_"
MIN_KEY_BYTES = 16


def signing_key(secret: str) -> bytes:
    """The HMAC key of a configured secret: ``whsec_<base64>`` (a Standard Webhooks secret)
    is decoded, any other string is used as its UTF-8 bytes.

    Raises ``ValueError`` for bad base64 or a key shorter than 16 bytes.
    """
    if secret.startswith(_STANDARD_PREFIX):
        try:
            key = base64.b64decode(secret.removeprefix(_STANDARD_PREFIX), validate=True)
        except binascii.Error as exc:
            raise ValueError(f"'{_STANDARD_PREFIX}' secret is not valid base64") from exc
    else:
        key = secret.encode()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"must be at least {MIN_KEY_BYTES} bytes long")
    return key


def signature_headers(
    key: bytes | None, delivery_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and, with a ``key``, ``webhook-signature``."""
    headers = {"webhook-id": delivery_id, "webhook-timestamp": str(timestamp)}
    if key is not None:
        signed = f"{delivery_id}.{timestamp}.".encode() + body
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        headers["webhook-signature"] = "v1," + base64.b64encode(digest).decode()
    return headers
