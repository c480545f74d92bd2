"""Stable customer pseudonyms: the same customer always gets the same label in every report of
one installation, and a different one in another installation.

The label is a keyed hash (HMAC-SHA256) of the customer's own id (its `code`), keyed with a
sub-key derived from the installation's `settings.secret_key()`; without that secret nobody can
go from a label back to the customer, or build a lookup table of labels. 48 bits are shown
("Customer 7F3A-91C2-5B0E"): a collision among a million customers has a chance of about 0.2 %.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import pandas as pd

from empowerment import settings

_PURPOSE = b"empowerment.reports.customer-pseudonym.v1"
LABEL_PREFIX = "Customer"
_HEX_CHARS = 12


def pseudonym_key(secret: str | None = None) -> bytes:
    """The pseudonym sub-key: the installation secret is also used to sign cookies, so it is never
    used directly."""
    secret = settings.secret_key() if secret is None else secret
    return hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()


class Pseudonymiser:
    """Labels for customer ids; build one per report (it reads the secret once)."""

    def __init__(self, secret: str | None = None) -> None:
        self._key = pseudonym_key(secret)
        self._cache: dict[str, str] = {}

    def customer(self, customer_code: object) -> str:
        code = str(customer_code)
        label = self._cache.get(code)
        if label is None:
            chunk = hmac.digest(self._key, code.encode("utf-8"), "sha256").hex()[:_HEX_CHARS].upper()
            label = f"{LABEL_PREFIX} " + "-".join(chunk[i : i + 4] for i in range(0, _HEX_CHARS, 4))
            self._cache[code] = label
        return label

    def many(self, customer_codes: Iterable[object]) -> list[str]:
        return [self.customer(code) for code in customer_codes]

    def series(self, customer_codes: pd.Series) -> pd.Series:
        """Vector form: hashes each distinct code once."""
        uniques = pd.unique(customer_codes.astype(str))
        mapping = dict(zip(uniques, self.many(uniques), strict=True))
        return customer_codes.astype(str).map(mapping)


def pseudonymise_customer(customer_code: object, secret: str | None = None) -> str:
    return Pseudonymiser(secret).customer(customer_code)
