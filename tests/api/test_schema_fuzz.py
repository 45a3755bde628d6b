"""schemathesis over the API's whole OpenAPI schema: every operation, valid and invalid input made from the schema,
against the app over the module's world (a real py-evm registry, in process over ASGI). No input may get a 500,
and every answer must be one the schema declares (status code, content type, body).

Bounded by the number of examples an operation (never by time) and derandomized: a run is reproducible, and a
failure names the request that caused it (with the curl command schemathesis prints). Write routes run without
credentials (401 answers), unless a key is given: this test covers what the schema has, whatever it has.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from dataseal.api.app import create_app
from tests.api.conftest import World

#: Examples an operation: enough to reach each parameter's malformed and out-of-range cases, within the file's
#: budget (about a minute on two cores for every operation).
EXAMPLES_PER_OPERATION = 40
#: The Host schemathesis's ASGI client sends.
FUZZ_HOST = "testserver"

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(world: World) -> OpenApiSchema:
    app = create_app(world.registry, allowed_hosts=(FUZZ_HOST,))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def fuzz_operation(operation: APIOperation, mode: GenerationMode) -> None:
    """Call ``operation`` with :data:`EXAMPLES_PER_OPERATION` cases of ``mode``, each answer checked."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    def call(case: Case) -> None:
        case.call_and_validate(checks=CHECKS)

    call()


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_no_input_gets_a_server_error_or_an_undeclared_answer(api_schema: OpenApiSchema,
                                                              mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10, "the schema lost its operations"
    failures: list[str] = []
    if mode == GenerationMode.NEGATIVE:  # an operation without parameters or body has no invalid input
        operations = [op for op in operations if any(op.iter_parameters()) or len(op.body) > 0]
    for operation in operations:
        try:
            fuzz_operation(operation, mode)
        except (Exception, FailureGroup) as exc:  # every operation is fuzzed; the failures are shown together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
