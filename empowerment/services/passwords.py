"""Password and PIN hashing with Argon2id (argon2-cffi). Nothing else in the app sees a secret
in clear, and nothing stores or logs one."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret_hash: str | None, secret: str) -> bool:
    """Constant-time check; False for a missing or malformed hash."""
    if not secret_hash:
        # Spend the same time as a real check so timing does not reveal unknown users.
        _safe_dummy_verify()
        return False
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def _safe_dummy_verify() -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, "x")


# A hash made with the hasher's parameters (a test checks they still match), written out because
# hashing it at import cost every command line run 0.15 s.
_DUMMY_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$VZNqwCVk7eD/OANN6hnYbg$"
               "IKb2CZwz+WArW/4lyynG0LBDBV7z3Flr1PrQMSw9VFg")
