"""The API against the running server: `streamlit run app.py` on a free port (the same start as the
browser tests), its own SQLite file with a small organisation, and tokens for each case."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from empowerment.db import Database
from empowerment.models import Role
from empowerment.services import accounts, api_tokens, webhooks
from tests.e2e.conftest import start_server, stop_server
from tests.factories import SYSTEM, make_customer, make_employee, make_policy, make_team

SERVER_SECRET = "e2e-" + "x" * 40  # what start_server gives the server


@dataclass(frozen=True)
class Api:
    url: str
    db: Database
    tokens: dict[str, str]  # purpose -> bearer token
    webhook_secret: str
    folder: Path

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.tokens[token]}"} if token else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers={**auth, **headers}, timeout=60)


def fill(db: Database) -> tuple[dict[str, str], str]:
    front = make_team(db, "FD", location="Harbour")
    spa = make_team(db, "SPA", location="Harbour")
    make_policy(db, allowance_cents=100_000, approval_above_cents=30_000, review_above_cents=10_000)
    make_employee(db, "A1", role=Role.ADMIN, name="Ada Admin")
    accounts.create_user(db, SYSTEM, username="mia", name="Mia Manager", role=Role.MANAGER, employee_code="M1",
                         team_code="FD", password="mia-manager-pass-1")
    make_employee(db, "S1", role=Role.STAFF, team_id=front, name="Sam Staff")
    make_employee(db, "S2", role=Role.STAFF, team_id=spa, name="Sia Spa")
    for code, name in (("C1", "Grace Hopper"), ("C2", "Alan Turing")):
        make_customer(db, code, name=name)
    tokens = {
        "ingest": api_tokens.create_token(db, SYSTEM, "PMS", "ingest", "A1").token,
        "admin-all": api_tokens.create_token(db, SYSTEM, "Everything", "ingest log read", "A1").token,
        "staff": api_tokens.create_token(db, SYSTEM, "Sam's tablet app", "log read", "S1").token,
        "read": api_tokens.create_token(db, SYSTEM, "Dashboard", "read", "S1").token,
        "manager": api_tokens.create_token(db, SYSTEM, "Mia's approvals", "log read", "M1").token,
        "revoked": api_tokens.create_token(db, SYSTEM, "Old", "log read", "S1").token,
        "slow": api_tokens.create_token(db, SYSTEM, "Limited", "read", "S1", rate_limit_per_minute=3).token,
    }
    revoked_id = api_tokens.authenticate(db, tokens["revoked"]).token_id
    api_tokens.revoke_token(db, SYSTEM, revoked_id)
    secret = webhooks.create_source(db, SYSTEM, "pms")
    return tokens, secret


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: str) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("api")
    shutil.copyfile(_sqlite_template, folder / "api.db")
    db = Database(f"sqlite:///{folder / 'api.db'}")
    with pytest.MonkeyPatch.context() as patch:  # the webhook secret is sealed with the server's key
        patch.setenv("EMPOWERMENT_SECRET_KEY", SERVER_SECRET)
        tokens, secret = fill(db)
    process, log, url = start_server(db.url, folder)
    try:
        yield Api(url, db, tokens, secret, folder)
    finally:
        stop_server(process, log)
        db.dispose()
