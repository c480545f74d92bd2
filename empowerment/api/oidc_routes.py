"""Company sign-in routes (OpenID Connect, authorization code flow with PKCE), with Authlib.

- `GET /api/oidc/login` sends the browser to the provider, with a fresh state, nonce and PKCE
  verifier kept in a signed, HttpOnly, 10-minute cookie (SameSite=Lax: it must come back on the
  provider's redirect).
- `GET /api/oidc/callback` checks the state, swaps the code for tokens (Authlib's `OAuth2Session`),
  validates the ID token (signature against the provider's keys, issuer, audience, expiry, nonce:
  `joserfc`, Authlib's own JOSE library), asks `services.company_signin` who that is here, and sets
  the same signed session cookie a password sign-in gets (`services.sessions`), so idle timeout,
  revocation and the role re-read on every run apply unchanged.

Why Authlib directly and not `st.login`: `st.login` keeps its own identity cookie beside ours (no
Max-Age since 1.57, so sessions die with the browser, and large enough to need bigger proxy
buffers), reads its settings only from `secrets.toml`'s `[auth]`, and hands the page claims after
the fact. Here the provider only proves who someone is; matching, refusals and the session are the
app's, with settings from the environment or `.streamlit/secrets.toml` like every other setting.
"""

from __future__ import annotations

import functools
import html
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from empowerment import settings
from empowerment.db import Database
from empowerment.errors import AuthenticationFailed
from empowerment.services import company_signin, sessions

FLOW_COOKIE = "emp_oidc"
FLOW_MAX_AGE_SECONDS = 600
CALLBACK_PATH = "/api/oidc/callback"


@functools.cache
def _database() -> Database:
    return Database()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key(), salt="empowerment.oidc-flow")


_discovery_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def _discovery(issuer: str) -> dict[str, Any]:
    """The provider's metadata, cached for an hour."""
    import httpx

    cached = _discovery_cache.get(issuer)
    if cached and time.monotonic() - cached[0] < 3600:
        return cached[1]
    response = httpx.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    metadata = response.json()
    _discovery_cache[issuer] = (time.monotonic(), metadata)
    return metadata


def _client(config: settings.Settings) -> Any:
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(config.oidc_client_id, config.oidc_client_secret, scope="openid email profile",
                         redirect_uri=f"{config.public_url}{CALLBACK_PATH}",
                         code_challenge_method="S256", token_endpoint_auth_method="client_secret_post")


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _safe_next(value: str | None) -> str:
    """Only a path on this site (never //host or a full URL): an open redirect otherwise."""
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/"
    return value


async def _login(request: Request) -> Response:
    config = settings.current()
    if not config.oidc_enabled:
        return _page("Company sign-in is not set up", "Sign in with your user name and password.", 404)
    try:
        metadata = await run_in_threadpool(_discovery, config.oidc_issuer)
    except Exception:  # noqa: BLE001 - the provider is down or misconfigured: say so plainly
        return _page("The company sign-in service does not answer",
                     "Try again in a minute, or sign in with your user name and password.", 502)
    from authlib.common.security import generate_token

    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(48)
    url, _ = _client(config).create_authorization_url(
        metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce)
    response = RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    flow = _serializer().dumps({"state": state, "nonce": nonce, "verifier": verifier,
                                "next": _safe_next(request.query_params.get("next"))})
    response.set_cookie(FLOW_COOKIE, flow, max_age=FLOW_MAX_AGE_SECONDS, path="/api/oidc", httponly=True,
                        samesite="lax", secure=_https(request))
    return response


def _validate_id_token(id_token: str, metadata: dict[str, Any], config: settings.Settings,
                       nonce: str) -> dict[str, Any]:
    import httpx
    from joserfc import jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set(httpx.get(metadata["jwks_uri"], timeout=10).json())
    token = jwt.decode(id_token, keys, algorithms=metadata.get("id_token_signing_alg_values_supported") or ["RS256"])
    jwt.JWTClaimsRegistry(
        leeway=60, iss={"essential": True, "value": metadata.get("issuer", config.oidc_issuer)},
        aud={"essential": True, "value": config.oidc_client_id}, exp={"essential": True},
        nonce={"essential": True, "value": nonce}, sub={"essential": True},
    ).validate(token.claims)
    return dict(token.claims)


def _finish(code: str, flow: dict[str, Any]) -> dict[str, Any]:
    """Code -> tokens -> validated claims (blocking: runs in a thread)."""
    config = settings.current()
    metadata = _discovery(config.oidc_issuer)
    tokens = _client(config).fetch_token(metadata["token_endpoint"], code=code, code_verifier=flow["verifier"],
                                         grant_type="authorization_code")
    if "id_token" not in tokens:
        raise AuthenticationFailed("The company sign-in service sent no ID token.")
    return _validate_id_token(tokens["id_token"], metadata, config, flow["nonce"])


async def _callback(request: Request) -> Response:
    config = settings.current()
    if not config.oidc_enabled:
        return _page("Company sign-in is not set up", "Sign in with your user name and password.", 404)
    try:
        flow = _serializer().loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MAX_AGE_SECONDS)
    except (BadSignature, TypeError, ValueError):
        return _page("Company sign-in took too long or was started elsewhere", "Start again.", 400)
    if not secrets.compare_digest(str(flow.get("state", "")), request.query_params.get("state", "")):
        return _page("Company sign-in could not be checked", "Start again.", 400)
    if request.query_params.get("error") or not request.query_params.get("code"):
        return _page("Company sign-in was cancelled", "Nothing changed; sign in again when you are ready.", 400)
    try:
        claims = await run_in_threadpool(_finish, request.query_params["code"], flow)
        actor = await run_in_threadpool(company_signin.sign_in_with_claims, _database(), claims,
                                        config.oidc_match_claim)
    except AuthenticationFailed as exc:
        return _page("You cannot sign in with your company account", str(exc), 403)
    except Exception:  # noqa: BLE001 - a token or key problem: never a stack trace
        return _page("Company sign-in could not be completed",
                     "The answer from the sign-in service could not be verified. Try again, or sign in "
                     "with your user name and password.", 400)
    assert actor.employee_id is not None
    value = sessions.cookie_from_handoff(sessions.handoff_token(actor.employee_id, sessions.new_session_id()))
    target = html.escape(flow.get("next") or "/", quote=True)
    # A page, not a redirect: the move to the app is then a same-site navigation, so the browser
    # sends the SameSite=Strict session cookie with it.
    response = HTMLResponse(f"<!doctype html><meta charset='utf-8'><meta http-equiv='refresh' content='0;url={target}'>"
                            f"<title>Signed in</title><p>Signed in. <a href='{target}'>Continue</a></p>",
                            headers={"Cache-Control": "no-store"})
    response.set_cookie(sessions.SESSION_COOKIE, value or "", max_age=sessions.SESSION_MAX_AGE_SECONDS, path="/",
                        httponly=True, samesite="strict", secure=_https(request))
    response.delete_cookie(FLOW_COOKIE, path="/api/oidc")
    return response


def _page(title: str, sentence: str, status: int) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>Sign in</title>"
        "<style>body{font:16px system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}"
        "a{color:#1f6f5c}</style>"
        f"<h1>{html.escape(title)}</h1><p role='alert'>{html.escape(sentence)}</p>"
        "<p><a href='/'>Back to the sign-in screen</a></p>", status_code=status,
        headers={"Cache-Control": "no-store"})


def oidc_routes() -> list[BaseRoute]:
    return [Route("/api/oidc/login", _login, methods=["GET"]), Route(CALLBACK_PATH, _callback, methods=["GET"])]
