"""The error contract, the exposure rules and /health: every failure answers {"error": {kind, message, hint}}."""
from __future__ import annotations

import ast
import importlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI, Request

from dataseal.api.app import compute_host_name, create_app
from dataseal.api.security import WriterDep
from dataseal.cli.errors import HTTP_ONLY_OPTIONS, OPTION_FLAGS
from dataseal.errors import Conflict, ErrorKind, InternalError, NotFound, Unavailable
from dataseal.registry.registry import Registry
from dataseal.registry.settings import Settings
from tests.api.conftest import ApiClient, World, error_of

PACKAGE = Path(__file__).resolve().parents[2] / "dataseal"


def app_with_test_routes(registry: Registry, **options: object) -> FastAPI:
    app = create_app(registry, **options)  # type: ignore[arg-type]

    @app.get("/test/raise/{kind}")
    def raising(kind: str) -> None:
        errors = {"conflict": Conflict("asset 7 is already registered", hint="register another"),
                  "unavailable": Unavailable("the node did not answer", hint="try again later"),
                  "internal": InternalError("the artifact is missing", hint="reinstall dataseal"),
                  "not_found": NotFound("no such thing", hint="check the id", options=("asset_id",))}
        if kind in errors:
            raise errors[kind]
        raise RuntimeError("secret detail /home/operator/.dataseal")

    @app.post("/test/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


def test_health_is_200_with_the_chain_the_database_and_the_lag(world: World) -> None:
    response = world.client.get("/health")
    assert response.status_code == 200, response.text
    health = response.json()
    assert health["status"] == "ok" and health["database"] == {"reachable": True, "error": None}
    chain = health["chain"]
    assert chain["reachable"] and chain["chain_id"] == world.chain.w3.eth.chain_id
    assert chain["latest_block"] == world.chain.w3.eth.block_number
    assert health["indexer"]["lag"] == chain["latest_block"] - health["indexer"]["last_block"] >= 0


def test_health_is_503_with_the_same_body_when_the_chain_is_down(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, rpc_url="http://127.0.0.1:1", rpc_timeout=5)
    with Registry(settings) as registry:
        response = ApiClient(create_app(registry)).get("/health")
    assert response.status_code == 503
    health = response.json()
    assert health["status"] == "down" and not health["chain"]["reachable"] and health["chain"]["error"]
    assert health["database"]["reachable"] and health["indexer"] == {"last_block": None, "lag": None}


def test_a_route_needing_the_chain_is_503_when_it_is_down(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, rpc_url="http://127.0.0.1:1", rpc_timeout=5)
    with Registry(settings) as registry:
        error = error_of(ApiClient(create_app(registry)).get("/assets/1"), 503)
    assert error["kind"] == "unavailable" and "cannot reach the node at http://127.0.0.1:1" in error["message"]


def test_an_unknown_route_and_a_wrong_method(world: World) -> None:
    error = error_of(world.client.get("/nothing/here"), 404)
    assert error == {"kind": "not_found", "message": "no such route: GET /nothing/here",
                     "hint": "see /docs for the routes this registry serves"}
    error = error_of(world.client.request("DELETE", f"/assets/{world.asset_id}"), 405)
    assert error["message"] == f"/assets/{world.asset_id} does not take DELETE"


@pytest.mark.parametrize(("kind", "status"), [("conflict", 409), ("unavailable", 503), ("internal", 500),
                                              ("not_found", 404)])
def test_each_kind_has_its_status_and_our_message(world: World, kind: str, status: int) -> None:
    client = ApiClient(app_with_test_routes(world.registry))
    error = error_of(client.get(f"/test/raise/{kind}"), status)
    assert error["kind"] == ErrorKind(kind) and error["message"] and error["hint"]
    if kind == "not_found":
        assert error["options"] == ["asset_id"]


def test_an_unexpected_exception_is_500_logged_never_shown(world: World, caplog: pytest.LogCaptureFixture) -> None:
    client = ApiClient(app_with_test_routes(world.registry))
    with caplog.at_level(logging.ERROR, logger="dataseal.api"):
        response = client.get("/test/raise/bug")
    error = error_of(response, 500)
    assert error["kind"] == "internal" and error["message"] == "the registry failed to answer this request"
    assert "secret detail" not in response.text and "RuntimeError" not in response.text
    assert any("GET /test/raise/bug failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_body_over_the_limit_is_413_declared_or_streamed(world: World) -> None:
    client = ApiClient(app_with_test_routes(world.registry, max_body_bytes=100))
    assert client.request("POST", "/test/echo", content=b"x" * 100).json() == {"size": 100}
    error = error_of(client.request("POST", "/test/echo", content=b"x" * 101), 413)
    assert error["message"] == "the request body is 101 bytes, over this registry's limit of 100 bytes"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it is read
        for _ in range(10):
            yield b"y" * 30

    error = error_of(client.request("POST", "/test/echo", content=chunks()), 413)
    assert "more than 100 bytes, over this registry's limit" in error["message"]


def test_only_the_named_hosts_are_answered(world: World) -> None:
    assert ApiClient(world.app, "http://127.0.0.1:8000").get("/health").status_code == 200
    error = error_of(ApiClient(world.app, "http://evil.example").get("/health"), 400)
    assert error["message"] == ("this registry does not answer for the host 'evil.example': it answers for "
                                "127.0.0.1, localhost")
    app = create_app(world.registry, allowed_hosts=("*.example.org",))
    assert ApiClient(app, "https://registry.example.org").get("/health").status_code == 200
    assert compute_host_name("[::1]:8000") == "[::1]" and compute_host_name("LocalHost:80") == "localhost"
    # IP addresses are answered, as the node answers them (a LAN client of `up --host 0.0.0.0`, `--host ::1`)
    for address in ("http://10.1.2.3:8000", "http://[::1]:8000", "http://localhost.:8000"):
        assert ApiClient(world.app, address).get("/health").status_code == 200, address


def test_a_request_with_two_host_headers_is_refused(world: World) -> None:
    """Which Host a proxy in front acted on is not known (httptools passes both; h11 refused them)."""
    for hosts in ([("host", "localhost"), ("host", "evil.example")], [("host", "evil.example"), ("host", "localhost")]):
        error = error_of(ApiClient(world.app).get("/health", headers=hosts), 400)
        assert error["message"] == "the request has 2 Host headers; a request names one host"


def test_no_cors_unless_origins_are_named(world: World) -> None:
    origin = {"Origin": "https://app.example.org"}
    response = world.client.get("/health", headers=origin)
    assert "access-control-allow-origin" not in response.headers
    app = create_app(world.registry, cors_origins=("https://app.example.org",))
    response = ApiClient(app).get("/health", headers=origin)
    assert response.headers["access-control-allow-origin"] == "https://app.example.org"


def test_the_openapi_schema_lists_the_routes(world: World) -> None:
    schema = world.client.get("/openapi.json").json()
    assert {"/health", "/assets", "/assets/{asset_id}", "/assets/{asset_id}/trail", "/accounts/{address}/trail",
            "/grants/{grant_id}", "/assets/{asset_id}/certificate", "/assets/{asset_id}/proofs/{leaf}"} <= \
        set(schema["paths"])


def test_every_operation_documents_the_errors_any_request_may_get(world: World) -> None:
    """schemathesis found /verify/* answering 400 (an empty file, digests that do not fit the size, a document of
    no kind) where the schema declared only 200, 413, 415 and 422: the errors any route may give are the app's."""
    schema = create_app(world.registry).openapi()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert {"400", "404", "413", "422", "503"} <= set(operation["responses"]), f"{method} {path}"
            if operation.get("security"):  # a write: its credentials may be missing or refused
                assert "401" in operation["responses"], f"{method} {path}"


def test_the_401_of_an_operation_with_a_security_scheme_is_documented(world: World) -> None:
    app = create_app(world.registry)

    @app.post("/test/write")
    def write(writer: WriterDep) -> dict[str, str]:
        return {"writer": str(writer)}

    app.openapi_schema = None  # computed again with this route
    operation = app.openapi()["paths"]["/test/write"]["post"]
    assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"}
    assert "401" not in app.openapi()["paths"]["/health"]["get"]["responses"]


@pytest.mark.parametrize("path", ["/verify/digests", "/verify/proof", "/verify/bundle"])
def test_a_json_body_not_utf8_is_400_in_our_words(world: World, path: str) -> None:
    """schemathesis sent bytes that are not UTF-8 as JSON: FastAPI's 400 said "There was an error parsing the body"."""
    client = ApiClient(create_app(world.registry))
    not_utf8 = b'{"a": "\xc3\x28"}'
    error = error_of(client.request("POST", path, content=not_utf8, headers={"content-type": "application/json"}), 400)
    assert error["message"] == "the request body is not JSON: it could not be read as UTF-8 text"
    assert error["hint"] == "send the JSON document encoded as UTF-8"


def _api_options(path: Path) -> set[str]:
    """The option names a module of dataseal.api passes as ``options=(...)``: literals, and its constants."""
    module = importlib.import_module(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.keyword) and node.arg == "options" and isinstance(node.value, (ast.Tuple, ast.List)):
            for item in node.value.elts:
                value = item.value if isinstance(item, ast.Constant) else \
                    getattr(module, item.id, None) if isinstance(item, ast.Name) else None
                if isinstance(value, str):
                    found.add(value)
    return found


def _schema_parameters(schema: dict[str, Any]) -> set[str]:
    """The names a validation error of the API may give as options: every operation's parameters and body fields."""
    names: set[str] = set()
    components = schema.get("components", {}).get("schemas", {})
    for item in schema["paths"].values():
        for operation in item.values():
            names |= {parameter["name"] for parameter in operation.get("parameters", ())}
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in body:
                body = components[body["$ref"].rsplit("/", 1)[1]]
            names |= set(body.get("properties", {}))
    return names


def test_every_option_the_api_names_is_in_the_tables(world: World) -> None:
    """What the API names in an error's options (its own errors', its parameters and body fields) is either a
    setting or flag of the CLI's table or one of the options only the HTTP API has."""
    named = set().union(*(_api_options(path) for path in (PACKAGE / "api").rglob("*.py")))
    assert {"X-Dataseal-Signature", "after"} <= named  # the scan finds literals and constants
    named |= _schema_parameters(create_app(world.registry).openapi())
    assert {"digests", "asset_id", "limit"} <= named
    missing = named - set(OPTION_FLAGS) - HTTP_ONLY_OPTIONS
    assert not missing, f"add these to dataseal.cli.errors.HTTP_ONLY_OPTIONS (or OPTION_FLAGS): {sorted(missing)}"


async def stalled(first: bytes) -> AsyncIterator[bytes]:
    """A body that sends ``first`` and then nothing more (it waits for an event that never comes)."""
    yield first
    await anyio.Event().wait()
    yield b"}"  # pragma: no cover


@pytest.mark.parametrize(("path", "content_type"), [("/verify/digests", "application/json"),
                                                     ("/verify/file", "application/octet-stream"),
                                                     ("/verify/bundle", "text/plain"),
                                                     ("/test/echo", "application/x-anything")])
def test_a_body_that_stops_arriving_is_408(world: World, path: str, content_type: str) -> None:
    """A client that sent its headers and then withheld its body held the route for ever: refused once no byte came
    for the app's idle time (the client here waits for an event that never comes: the answer is the server's)."""
    client = ApiClient(app_with_test_routes(world.registry, body_idle_seconds=0.2))
    error = error_of(client.request("POST", path, content=stalled(b'{"size": 1, '),
                                    headers={"content-type": content_type}), 408)
    assert error["message"] == "the request body stopped arriving: no byte for 0.2 s"
    assert error["hint"] == "send the whole body without pausing (or send less)"


def test_a_hot_route_refuses_another_content_type_before_its_body(world: World) -> None:
    """/verify/proof reads its body itself, after the content type: a text body is 415 at once, not waited for
    (were it read, the stalled body would be refused 408 after the idle time: nothing reads it, no timer runs)."""
    client = ApiClient(app_with_test_routes(world.registry, body_idle_seconds=0.2))
    error = error_of(client.request("POST", "/verify/proof", content=stalled(b'{"kind": '),
                                    headers={"content-type": "text/plain"}), 415)
    assert error["message"] == "POST /verify/proof reads a JSON document, but the body was sent as text/plain"


def test_a_whole_body_is_not_timed_after_it_arrived(world: World) -> None:
    client = ApiClient(app_with_test_routes(world.registry, body_idle_seconds=0.2))
    assert client.request("POST", "/test/echo", content=b"x" * 1000).json() == {"size": 1000}


def test_a_json_body_streamed_over_the_limit_is_413(world: World) -> None:
    """A JSON route parses its body: over the limit while it is read is 413 (FastAPI's parser made it a 400)."""
    client = ApiClient(create_app(world.registry, max_body_bytes=100, allowed_hosts=("*",)))

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"size": 1, "digests": ["'
        for _ in range(10):
            yield b"0" * 30

    error = error_of(client.request("POST", "/verify/digests", content=chunks(),
                                    headers={"content-type": "application/json"}), 413)
    assert "over this registry's limit of 100 bytes" in error["message"]


@pytest.mark.parametrize("path", ["/verify/digests", "/verify/bundle", "/verify/proof"])
def test_a_json_body_nested_too_deep_is_refused_before_it_is_parsed(world: World, path: str) -> None:
    """A few hundred thousand "[" overflowed the parser's thread stack and killed the process (py-evm's
    dependencies raise the recursion limit): refused on the text, before any parser sees it."""
    client = ApiClient(create_app(world.registry, allowed_hosts=("*",)))
    deep = b"[" * 100_000 + b"]" * 100_000
    error = error_of(client.request("POST", path, content=deep, headers={"content-type": "application/json"}), 400)
    assert error["message"] == "the JSON body nests arrays or objects more than 64 levels deep"
    assert client.request("GET", "/health").status_code in (200, 503)  # still answering


def test_metrics_are_served_outside_the_schema(world: World) -> None:
    """Prometheus metrics at /metrics, per app (two apps in one process do not clash), not in the OpenAPI schema."""
    app = create_app(world.registry)
    client = ApiClient(app, "http://127.0.0.1:8000")
    assert client.get("/health").status_code in (200, 503)
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{handler="/health"' in metrics.text
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
    other = ApiClient(create_app(world.registry), "http://127.0.0.1:8000")  # its own counts
    assert 'handler="/health"' not in other.get("/metrics").text
    assert error_of(ApiClient(app, "http://evil.example").get("/metrics"), 400)  # the Host rule holds there too
