"""The cookie routes (issue 11, finding 12): another site's form cannot sign a browser in or change
the tablet's screen (CSRF), and cookies set behind HTTPS are Secure."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from empowerment.api.session_routes import cookie_routes
from empowerment.services import sessions


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("EMPOWERMENT_SECRET_KEY", "route-test-secret-" + "r" * 32)
    monkeypatch.setenv("EMPOWERMENT_PUBLIC_URL", "http://localhost:8501")
    return TestClient(Starlette(routes=cookie_routes()), base_url="http://localhost:8501")


def _token() -> str:
    return sessions.handoff_token(7, sessions.new_session_id())


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost:8501"},
    {"Origin": "null"},  # a sandboxed frame or a data: page
])
@pytest.mark.parametrize("path, body", [("/api/session", None), ("/api/device", "tablet|HAR|HAR-FD")])
def test_a_cross_site_post_is_refused_and_sets_no_cookie(client: TestClient, headers: dict[str, str],
                                                         path: str, body: str | None) -> None:
    answer = client.post(path, content=body or _token(), headers=headers)
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize("headers", [
    {"Origin": "http://localhost:8501", "Sec-Fetch-Site": "same-origin"},
    {},  # not a browser: nothing of a victim's to abuse
])
def test_the_apps_own_pages_get_their_cookie(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post("/api/session", content=_token(), headers=headers)
    assert answer.status_code == 204
    assert sessions.SESSION_COOKIE in answer.headers["set-cookie"]
    assert "secure" not in answer.headers["set-cookie"].lower()  # plain HTTP on localhost


@pytest.mark.parametrize("setting, forwarded, secure", [
    ("auto", "https", True), ("auto", None, False), ("always", None, True), ("never", "https", False)])
def test_the_cookie_is_secure_behind_https(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                           setting: str, forwarded: str | None, secure: bool) -> None:
    monkeypatch.setenv("EMPOWERMENT_COOKIE_SECURE", setting)
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    for path, body in (("/api/session", _token()), ("/api/device", "tablet|HAR|HAR-FD")):
        cookie = client.post(path, content=body, headers=headers).headers["set-cookie"].lower()
        assert ("; secure" in cookie) is secure, (path, cookie)


def test_an_https_public_address_makes_the_cookie_secure(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPOWERMENT_PUBLIC_URL", "https://empowerment.example.org")
    cookie = client.post("/api/session", content=_token()).headers["set-cookie"].lower()
    assert "; secure" in cookie


def test_behind_a_proxy_that_ends_tls_the_apps_own_https_origin_is_accepted(client: TestClient) -> None:
    answer = client.post("/api/session", content=_token(),
                         headers={"Origin": "https://localhost:8501", "Sec-Fetch-Site": "same-origin",
                                  "X-Forwarded-Proto": "https"})
    assert answer.status_code == 204


def test_make_run_listens_on_this_computer_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from empowerment import settings

    run = Path(settings.PROJECT_ROOT / "Makefile").read_text().split("\nrun:")[1].split("\n\n")[0]
    assert "--server.address" in run and "bind_address" in run
    monkeypatch.delenv("EMPOWERMENT_BIND_ADDRESS", raising=False)
    assert settings.current().bind_address == "127.0.0.1"
    monkeypatch.setenv("EMPOWERMENT_BIND_ADDRESS", "0.0.0.0")
    assert settings.current().bind_address == "0.0.0.0"


def test_tracebacks_are_never_shown_on_screen() -> None:
    import tomllib

    from empowerment import settings

    config = tomllib.loads((settings.PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
