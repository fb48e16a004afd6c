"""A bounded schemathesis run against /openapi.json of the default `serve` app (the web UI mounted), on a real
server process on loopback with a tiny random model: no server errors, responses that match their schema, and
only documented status codes. Deterministic (derandomized Hypothesis, no example database)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from server_process import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
EXAMPLES = 6  # per operation: about 150 requests in all
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def live(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("schema")
    args = ["--model", str(tiny_model_dir), "--device", "cpu", "--offline", "--outputs", str(tmp / "outputs")]
    args += ["--max-upload-mb", "5", "--queue-size", "8"]  # the web UI stays mounted (no --no-ui)
    with ServerProcess(args, log_path=tmp / "server.log", env={"OMP_NUM_THREADS": "1"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def api_schema(live):
    return schemathesis.openapi.from_url(live.url + "/openapi.json")


def test_the_api_keeps_to_its_schema(api_schema):
    """Every operation, a few generated requests each; all failures are collected and reported together."""
    failures: dict[str, str] = {}
    tried = 0
    for result in api_schema.get_all_operations():
        op = result.ok()

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy())
        def check(case) -> None:
            case.call_and_validate(checks=CHECKS, timeout=60)

        try:
            check()
        except Exception as exc:  # any check failing on this operation: reported with the others below
            failures[op.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
        tried += 1
    assert tried >= 20
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


def test_the_ui_is_mounted_and_the_schema_lists_the_api(live, api_schema):
    import urllib.request

    with urllib.request.urlopen(live.url + "/") as r:
        assert r.status == 200 and b"<html" in r.read(2000).lower()
    paths = api_schema.raw_schema["paths"]
    assert "/v1/analyze" in paths and "/v1/speaker" in paths and "421" in str(paths["/v1/analyze"])
