"""Stable customer pseudonyms for reports; the rule itself is `empowerment.queries.pseudonyms` (in the core,
so the hand-over query pseudonymises too)."""

from empowerment.queries.pseudonyms import LABEL_PREFIX, Pseudonymiser, pseudonym_key, pseudonymise_customer

__all__ = ["LABEL_PREFIX", "Pseudonymiser", "pseudonym_key", "pseudonymise_customer"]
