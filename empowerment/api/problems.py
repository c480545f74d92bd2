"""Errors as `application/problem+json` (RFC 9457): every refusal has a stable `code`, a title, the
service's own sentence as `detail`, and never a stack trace. `PROBLEMS` is the one table from
domain errors to HTTP; the docs page lists it."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from empowerment import errors
from empowerment.services.ingest import BatchRefused

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("empowerment.api")


@dataclass(frozen=True)
class Kind:
    status: int
    code: str
    title: str


# Most specific first: the first class an error is an instance of decides.
PROBLEMS: tuple[tuple[type[Exception], Kind], ...] = (
    (errors.SignatureInvalid, Kind(401, "signature-invalid", "The push is not signed or not fresh")),
    (errors.AuthenticationFailed, Kind(401, "unauthorized", "A valid API token is needed")),
    (errors.ScopeMissing, Kind(403, "scope-missing", "The token lacks the scope for this")),
    (errors.PermissionDenied, Kind(403, "forbidden", "Not allowed for this person")),
    (errors.UnknownEmployee, Kind(404, "unknown-employee", "No such employee")),
    (errors.UnknownCustomer, Kind(404, "unknown-customer", "No such customer")),
    (errors.UnknownIncident, Kind(404, "unknown-incident", "No such incident")),
    (errors.UnknownGesture, Kind(404, "unknown-gesture", "No such gesture")),
    (errors.NotFound, Kind(404, "not-found", "Not found")),
    (BatchRefused, Kind(422, "batch-refused", "Rows of the batch are wrong; nothing was written")),
    (errors.ImportFailed, Kind(422, "batch-refused", "The batch was refused; nothing was written")),
    (errors.InvalidInput, Kind(422, "invalid-input", "The request cannot be used as it is")),
    (errors.CustomerDailyCapExceeded, Kind(409, "daily-cap-exceeded", "Over the limit per customer per day")),
    (errors.BudgetExceeded, Kind(409, "budget-exceeded", "More than the remaining budget")),
    (errors.NoBudgetPolicy, Kind(409, "no-budget-policy", "No budget policy for this person")),
    (errors.SpendRefused, Kind(409, "spend-refused", "The gesture breaks a budget rule")),
    (errors.InvalidState, Kind(409, "invalid-state", "Not possible in its current state")),
    (errors.RateLimited, Kind(429, "rate-limited", "Too many calls with this token")),
    (errors.DatabaseBusy, Kind(503, "busy", "Another change held the data too long; try again")),
    (errors.Unavailable, Kind(503, "unavailable", "The database is unavailable; try again")),
    (errors.EmpowermentError, Kind(400, "refused", "Refused")),
)
REQUEST_INVALID = Kind(422, "request-invalid", "The request does not match the API's schema")
INTERNAL = Kind(500, "internal-error", "The server failed")
HTTP_KINDS = {404: Kind(404, "no-such-endpoint", "No such endpoint"),
              405: Kind(405, "method-not-allowed", "Method not allowed"),
              413: Kind(413, "too-large", "The request body is too large")}
ALL_KINDS = [kind for _, kind in PROBLEMS] + [REQUEST_INVALID, INTERNAL, *HTTP_KINDS.values()]


class FieldError(BaseModel):
    row: int | None = Field(None, description="A batch row's position, from 0.")
    id: str | None = Field(None, description="The row's own id, as sent.")
    field: str | None = None
    value: str | None = None
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable `code`."""

    type: str = Field(description="A link to this problem's explanation in the API docs.")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable: what a program should test, never the words.")
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="Per row or per field, when there are several.")


def problem_response(kind: Kind, detail: str, request: Request | None = None,
                     errors_: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/api/v1/docs#problem-{kind.code}", "title": kind.title, "status": kind.status,
        "detail": detail, "code": kind.code,
        "instance": str(request.url.path) if request is not None else None,
    }
    if errors_ is not None:
        body["errors"] = [_field_error(e) for e in errors_]
    return JSONResponse(body, status_code=kind.status, media_type=PROBLEM_JSON,
                        headers={"Cache-Control": "no-store", **(headers or {})})


def _field_error(error: dict[str, Any]) -> dict[str, Any]:
    value = error.get("value")
    return {"row": error.get("row"), "id": error.get("id"), "field": error.get("field"),
            "value": None if value is None else str(value)[:200], "message": str(error.get("message", ""))}


def kind_of(exc: Exception) -> Kind:
    return next(kind for cls, kind in PROBLEMS if isinstance(exc, cls))


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.EmpowermentError)
    kind = kind_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(max(exc.retry_after, 1))
    if kind.status == 401 and not isinstance(exc, errors.SignatureInvalid):
        headers["WWW-Authenticate"] = 'Bearer realm="empowerment"'
    row_errors = [e.as_dict() for e in exc.errors] if isinstance(exc, BatchRefused) else None
    return problem_response(kind, str(exc), request, row_errors, headers)


async def request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    listed = []
    for error in exc.errors()[:100]:
        location = [str(part) for part in error.get("loc", ())]
        listed.append({"field": ".".join(location), "message": str(error.get("msg", "invalid")),
                       "row": int(location[2]) if location[:2] == ["body", "rows"] and len(location) > 2
                       and location[2].isdigit() else None})
    count = len(exc.errors())
    return problem_response(REQUEST_INVALID, f"{count} field{'s' if count != 1 else ''} do not match the "
                            "API's schema (see errors, and the docs at /api/v1/docs).", request, listed)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = HTTP_KINDS.get(exc.status_code, Kind(exc.status_code, "http-error", "Refused"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed") \
        else {404: "There is no such endpoint; see /api/v1/docs.", 405: "This endpoint does not take this method."
              }.get(exc.status_code, str(exc.detail))
    return problem_response(kind, detail, request, headers=dict(exc.headers or {}))


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.exception("API %s %s failed (incident %s)", request.method, request.url.path, incident)
    return problem_response(INTERNAL, f"The server failed on this request; nothing is known to have "
                            f"changed. Quote incident {incident} to the administrator.", request)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses an operation can give."""
    words = {400: "Refused", 401: "No valid token", 403: "Not allowed", 404: "Not found",
             405: "Method not allowed", 409: "Conflicts with the current state", 413: "Too large",
             422: "Invalid request", 429: "Rate limited", 500: "Server failure"}
    return {status: {"description": words[status],
                     "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for status in statuses}


def component_schemas() -> dict[str, Any]:
    """Problem and FieldError as OpenAPI components (the responses above refer to them)."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"Problem": schema, **definitions}
