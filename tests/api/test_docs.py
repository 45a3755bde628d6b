"""/docs and /redoc work offline: their pages reference only this registry's own URLs, whose assets it serves."""
from __future__ import annotations

import re

import pytest

from dataseal.api import routes
from dataseal.api.app import create_app
from dataseal.api.docs import DOCS_ASSETS_PATH
from tests.api.conftest import ApiClient, World

#: Every URL a page loads: src, href, and the strings Swagger UI's script is given (the schema's URL).
_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'|spec-url=["']([^"']+)["']""")


def _loaded_urls(html: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in _URL.finditer(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_reference_only_local_urls_and_they_are_served(world: World, page: str) -> None:
    client = ApiClient(create_app(world.registry))
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "http://" not in response.text and "https://" not in response.text and "//cdn" not in response.text
    urls = _loaded_urls(response.text)
    assert "/openapi.json" in urls and any(url.startswith(DOCS_ASSETS_PATH + "/") for url in urls), urls
    for url in urls:
        assert url.startswith("/"), url
        served = client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 100, url


def test_the_assets_are_the_real_scripts(world: World) -> None:
    client = ApiClient(create_app(world.registry))
    bundle = client.get(f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert "SwaggerUIBundle" in bundle.text
    assert "Redoc" in client.get(f"{DOCS_ASSETS_PATH}/redoc.standalone.js").text
    assert client.get(f"{DOCS_ASSETS_PATH}/../app.py").status_code == 404  # nothing beside them
    assert client.get(f"{DOCS_ASSETS_PATH}/missing.js").status_code == 404


def test_the_docs_group_every_route_under_a_described_tag_in_reading_order(world: World) -> None:
    """/docs shows its groups in TAGS' order (assets first), whatever order the routers are matched in (the hot
    reads first); every tag a route carries is described there, and each there is used."""
    schema = ApiClient(create_app(world.registry)).get("/openapi.json").json()
    assert schema["tags"] == list(routes.TAGS)
    used = {tag for path in schema["paths"].values() for operation in path.values() for tag in operation["tags"]}
    assert used == {tag["name"] for tag in routes.TAGS}
    assert [router.routes[0].path for router in routes.ROUTERS[:2]] == ["/verify/file", "/assets/{asset_id}"]
