"""Company sign-in (OpenID Connect): who an ID token's claims are, in this app.

The provider says who the person is; the app says what they may do. A verified email (or a
configured claim holding the employee id) finds the employee; the role, teams and active flag come
from the app, never from the token. Managers, HR, CX leads and admins may sign in this way
(`Role.signs_in_with_company_account`); staff keep their PIN on the shared tablet. Every outcome is
in the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from empowerment import audit
from empowerment.actor import Actor, actor_for
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import AuthenticationFailed
from empowerment.models import Employee
from empowerment.services.signin import SIGN_IN_SCREEN


def _verified(claims: Mapping[str, Any]) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def sign_in_with_claims(db: Database, claims: Mapping[str, Any], match_claim: str = "email",
                        now: datetime | None = None) -> Actor:
    """The actor for a validated ID token's claims, or AuthenticationFailed saying why not."""
    at = (now or utc_now())
    refusal: str | None = None
    actor: Actor | None = None
    code: str | None = None
    with db.read() as session:
        if match_claim == "email":
            email = str(claims.get("email") or "").strip().lower()
            if not email:
                refusal = "Your company account did not share an email address, so you cannot be matched."
                employee = None
            elif not _verified(claims):
                refusal = (f"Your company account does not vouch for {email} (it is not marked verified); "
                           "sign in with your password instead.")
                employee = None
            else:
                employee = session.scalar(select(Employee).where(func.lower(Employee.email) == email))
                if employee is None:
                    refusal = (f"No one here has the email {email}. Ask an admin to record it on your "
                               "employee record, or sign in with your password.")
        else:
            value = str(claims.get(match_claim) or "").strip()
            employee = session.scalar(select(Employee).where(Employee.code == value)) if value else None
            if employee is None:
                refusal = "Your company account does not match an employee here; ask an admin."
        if employee is not None and refusal is None:
            code = employee.code
            if not employee.active:
                refusal = "Your account is no longer active. Ask an admin if this is a mistake."
            elif not employee.role.signs_in_with_company_account:
                refusal = "Staff sign in on the shared tablet with their PIN."
            else:
                actor = actor_for(employee, session)
    with db.write() as session:
        if actor is None:
            audit.record(session, SIGN_IN_SCREEN, "auth.sign_in_failed", "employee", code,
                         dict(method="oidc", reason=refusal), at=at)
        else:
            audit.record(session, actor, "auth.signed_in", "employee", code, dict(method="oidc"), at=at)
    if actor is None:
        raise AuthenticationFailed(refusal or "Company sign-in failed.")
    return actor
