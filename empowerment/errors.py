"""Domain exceptions: nouns the pages turn into friendly messages.

Every message is written for the person at the tablet: what is wrong and what is left.
"""

from __future__ import annotations


class EmpowermentError(Exception):
    """Base class; `str(exc)` is a complete, user-facing sentence."""


class InvalidInput(EmpowermentError):
    pass


class InvalidAmount(InvalidInput):
    pass


class NotFound(EmpowermentError):
    pass


class UnknownEmployee(NotFound):
    pass


class UnknownCustomer(NotFound):
    pass


class UnknownIncident(NotFound):
    pass


class UnknownGesture(NotFound):
    pass


class SpendRefused(EmpowermentError):
    """A gesture that would break a budget rule; nothing was written."""


class BudgetExceeded(SpendRefused):
    pass


class CustomerDailyCapExceeded(SpendRefused):
    pass


class NoBudgetPolicy(SpendRefused):
    pass


class PermissionDenied(EmpowermentError):
    pass


class AuthenticationFailed(EmpowermentError):
    pass


class PinLocked(AuthenticationFailed):
    pass


class SignInThrottled(AuthenticationFailed):
    pass


class ScopeMissing(PermissionDenied):
    """An API token without the scope an operation needs."""


class RateLimited(EmpowermentError):
    """Too many calls with one API token in this minute; `retry_after` seconds until the next."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SignatureInvalid(AuthenticationFailed):
    """An inbound webhook whose signature or timestamp does not check out."""


class InvalidState(EmpowermentError):
    """The thing exists but is not in a state that allows this (e.g. voiding twice)."""


class ImportFailed(EmpowermentError):
    """A CSV import (or an API batch) was refused whole; `problems` lists every bad row/column."""

    def __init__(self, message: str, problems: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


# --- failures of the system, not of the request ----------------------------------------------------

class Unavailable(EmpowermentError):
    """The database could not be reached, or did not answer in time; nothing was saved. The
    message carries a reference code that finds the details in the server's log."""

    def __init__(self, message: str, reference: str) -> None:
        super().__init__(message)
        self.reference = reference


class DatabaseBusy(Unavailable):
    """Another change held the lock longer than `EMPOWERMENT_DB_WAIT_SECONDS`."""


def new_reference() -> str:
    """A short code a person can read out to an admin, e.g. 'K7Q2-9XMD'."""
    import secrets

    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
    code = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def unexpected(exc: BaseException, where: str) -> str:
    """Log an unexpected failure with its full details server-side, under a new reference code, and
    return the sentence a person reads instead of a traceback. Domain errors are already sentences."""
    import logging

    if isinstance(exc, EmpowermentError):
        return str(exc)
    reference = new_reference()
    logging.getLogger("empowerment").error("Unexpected failure %s in %s", reference, where, exc_info=exc)
    return (f"Something went wrong on our side and nothing was saved (reference {reference}). "
            "What you entered is kept: try again, and if it keeps happening give the reference to an admin.")


class UnknownValues(ImportFailed):
    """A file uses words the organisation's vocabulary does not know (yet): `unknown` is
    {column: {word as written: rows using it}}, `kinds` {column: vocabulary kind}. One mapping
    step (`importing.import_csv(value_mapping=...)`, remembered by `services.vocabulary.map_values`)
    lets the file in."""

    def __init__(self, message: str, problems: list[dict[str, object]], unknown: dict[str, dict[str, int]],
                 kinds: dict[str, str]) -> None:
        super().__init__(message, problems)
        self.unknown = unknown
        self.kinds = kinds


class MissingExchangeRate(EmpowermentError):
    """A cross-location figure needs an amount converted on a day the rate table has no rate for
    (never converted at a made-up 1.0)."""
