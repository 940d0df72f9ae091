"""Schemathesis against the OpenAPI schema, in-process (ASGI): no request gets a 5xx.

The schemathesis pytest plugin is not used (it does not support pytest 9); each operation's
hypothesis strategy is driven directly, a bounded number of examples each.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import Api

EXAMPLES = 6


def test_no_server_error(api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        role = "viewer" if operation.method.upper() == "GET" else "clinician"
        if operation.path.startswith(("/users", "/tokens", "/audit")):
            role = "admin"
        headers = api.headers(role)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)  # noqa: B023 - run() is called right away
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.path}: {response.status_code}")

        run()
    assert operations >= 20
    assert not failures, failures
