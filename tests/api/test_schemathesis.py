"""Property-based tests from the OpenAPI document (Schemathesis): generated requests, valid and
not, against the running server, on its own database. No answer may be a server error, and every
answer must match the document (status code, content type, body schema). Kept small for `make
test`: a bounded number of examples per operation."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from empowerment.db import Database
from tests.api.conftest import SERVER_SECRET, fill
from tests.e2e.conftest import start_server, stop_server

EXAMPLES_PER_OPERATION = 8


@pytest.fixture(scope="session")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: str) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("schemathesis")
    shutil.copyfile(_sqlite_template, folder / "fuzz.db")
    db = Database(f"sqlite:///{folder / 'fuzz.db'}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMPOWERMENT_SECRET_KEY", SERVER_SECRET)
        tokens, _secret = fill(db)
    process, log, url = start_server(db.url, folder)
    try:
        yield url, tokens["admin-all"]
    finally:
        stop_server(process, log)
        db.dispose()


@pytest.mark.slow
def test_no_server_error_and_every_answer_matches_the_document(fuzzed_server: tuple[str, str]) -> None:
    """Each operation of the document, EXAMPLES_PER_OPERATION generated cases (positive and
    negative), every default conformance check that is about the server's answers."""
    url, token = fuzzed_server
    schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"},
                                   checks=checks)

        check()
