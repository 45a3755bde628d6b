"""schemathesis over the API's whole OpenAPI schema: every operation, valid and invalid input made from the schema,
against the app over the module's world (a real py-evm registry, in process over ASGI). No input may get a 500,
and every answer must be one the schema declares (status code, content type, body).

Bounded by the number of examples an operation (never by time) and derandomized: a run is reproducible, and a
failure names the request that caused it (with the curl command schemathesis prints). Four passes: input the
schema allows, input it does not, allowed input at the world's ids (past the 404s), and the writes with an
operator's API key (past the 401s). The operations are read from the schema: this covers whatever it has.

schemathesis's pytest integration (``from_fixture``) does not run under pytest 9 (it sets a private attribute of
pytest's items), so each operation is fuzzed here with hypothesis directly, through ``as_strategy``.
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
from dataseal.api.security import create_api_key
from tests.api.conftest import World

#: Examples an operation and mode: enough to reach each parameter's malformed and out-of-range cases, within the
#: file's budget (about 40 s on two idle cores for the four modes over 20 operations; 40 examples took 50 s).
EXAMPLES_PER_OPERATION = 30
#: The Host schemathesis's ASGI client sends.
FUZZ_HOST = "testserver"

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(world: World) -> OpenApiSchema:
    app = create_app(world.registry, allowed_hosts=(FUZZ_HOST,))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def fuzz_operation(operation: APIOperation, mode: GenerationMode, known: dict[str, object] | None = None,
                   headers: dict[str, str] | None = None) -> None:
    """Call ``operation`` with :data:`EXAMPLES_PER_OPERATION` cases of ``mode``, each answer checked; ``known``
    fixes the path parameters it names (ids the world has, so that the routes' answers past the 404 are fuzzed),
    ``headers`` the headers it gives (an operator's API key)."""
    fixed = {name: value for name, value in (known or {}).items()
             if any(parameter.name == name for parameter in operation.path_parameters)}

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None, headers=headers))
    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    def call(case: Case) -> None:
        case.call_and_validate(checks=CHECKS)

    call()


@pytest.mark.parametrize("mode", ["positive", "negative", "known-ids", "operator"])
def test_no_input_gets_a_server_error_or_an_undeclared_answer(world: World, api_schema: OpenApiSchema,
                                                              mode: str) -> None:
    """``positive``: input the schema allows; ``negative``: input it does not; ``known-ids``: input it allows, at
    the world's asset, grant, leaf and account (only the operations that take one); ``operator``: input it allows
    to the writes, with an operator's API key (past the 401: the writes are queued, never carried out here)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10, "the schema lost its operations"
    known = {"asset_id": world.asset_id, "grant_id": world.grant_id, "leaf": 0,
             "address": world.chain.owner.address} if mode == "known-ids" else None
    generation = GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE
    if mode == "negative":  # an operation without parameters or body has no invalid input
        operations = [op for op in operations if any(op.iter_parameters()) or len(op.body) > 0]
    if known is not None:
        operations = [op for op in operations if any(p.name in known for p in op.path_parameters)]
    headers = None
    if mode == "operator":
        operations = [op for op in operations if op.definition.raw.get("security")]
        assert operations, "the schema has no write"
        headers = {"Authorization": f"Bearer {create_api_key(world.registry.db, 'fuzz')}"}
    failures: list[str] = []
    for operation in operations:
        try:
            fuzz_operation(operation, generation, known, headers)
        except (Exception, FailureGroup) as exc:  # every operation is fuzzed; the failures are shown together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
