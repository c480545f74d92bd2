"""Secrets the server must read back (webhook signing secrets), sealed with a key derived from the
installation's secret (Fernet: AES-128-CBC + HMAC-SHA256), so the database never holds them in
clear. Rotating `EMPOWERMENT_SECRET_KEY` makes sealed secrets unreadable: create them again."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

from empowerment import settings
from empowerment.errors import InvalidState


def _box() -> Fernet:
    digest = hashlib.sha256(b"empowerment.sealed-secrets:" + settings.secret_key().encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str) -> str:
    return _box().encrypt(secret.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str:
    try:
        return _box().decrypt(sealed.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise InvalidState("A stored secret cannot be read with this installation's secret key "
                           "(was EMPOWERMENT_SECRET_KEY changed?); create it again.") from None


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The one signing rule, inbound and outbound: `sha256=` + hex HMAC-SHA256 of
    "<unix timestamp>." followed by the raw body, so neither can be changed alone."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
