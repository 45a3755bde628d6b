"""The asset page of registrations under review and of a certificate that no longer holds: a chain in review mode,
an objection filed in the notice period, an asset transferred after its certificate was issued."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from eth_utils import keccak

from dataseal.api.app import create_app
from dataseal.chain.contracts.deployment import ContractConfig
from dataseal.registry.audit.service import sync_index
from dataseal.registry.db import Database
from dataseal.registry.services import assets
from tests.api.conftest import ApiClient, open_registry
from tests.api.test_web import page, text_of
from tests.conftest import Chain, pyevm_chain

NOTICE = 3600


@dataclass
class Reviewed:
    chain: Chain
    client: ApiClient
    disputed: int
    transferred: int
    certificate: dict[str, Any]  # the transferred asset's, issued before the transfer
    objection_tx: str


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reviewed]:
    chain = pyevm_chain(ContractConfig(notice_period=NOTICE))
    folder = tmp_path_factory.mktemp("web-states")
    database = Database.open(f"sqlite:///{folder / 'registry.sqlite'}")
    registry = open_registry(chain, folder, chain.owner.address, database)
    try:
        files = [folder / name for name in ("contested.txt", "sold.txt")]
        for path in files:
            path.write_text(f"the data of {path.name}\n")
        contested, sold = (assets.register(registry, path, certificate=None) for path in files)
        objection = chain.as_(chain.buyer).registry.object(contested.asset_id, keccak(text="my earlier copy"))
        chain.travel(NOTICE + 1)  # the other's notice passes without objection: active, and so transferable
        client = ApiClient(create_app(registry))
        certificate = client.get(f"/assets/{sold.asset_id}/certificate").json()
        chain.as_(chain.owner).registry.transfer(sold.asset_id, chain.user.address)
        registry.context.head_moved()  # the app reads the head at most 0.25 s old: the transfer's, from now on
        sync_index(registry)
        yield Reviewed(chain, client, contested.asset_id, sold.asset_id, certificate, objection.tx.tx_hash)
    finally:
        registry._database = None
        registry.close()
        database.close()


def test_a_disputed_registration_shows_its_notice_and_the_objection(reviewed: Reviewed) -> None:
    html = page(reviewed.client, f"/assets/{reviewed.disputed}")
    seen = text_of(html)
    asset = reviewed.client.get(f"/assets/{reviewed.disputed}").json()
    assert asset["status"] == "Disputed" and asset["notice_ends_at"] is not None
    assert "disputed" in seen and "Public notice until" in seen
    assert reviewed.chain.buyer.address in html and reviewed.objection_tx in html
    assert "Objection filed" in seen  # the trail's entry
    chinese = text_of(page(reviewed.client, f"/assets/{reviewed.disputed}?lang=zh"))
    assert "异议中" in chinese and "公示期" in chinese and "提出异议" in chinese


def test_a_certificate_whose_asset_was_transferred_since_no_longer_holds(reviewed: Reviewed) -> None:
    url = urlsplit(reviewed.certificate["verifyUrl"])
    html = page(reviewed.client, f"{url.path}?{url.query}")
    seen = text_of(html)
    assert "The certificate no longer holds, since:" in seen and "still holds" not in seen
    assert "✗ changed" in seen and reviewed.chain.user.address in html  # the owner now
    assert "✓ unchanged" in seen  # the status is still what it said
    check = reviewed.client.request("POST", "/verify/certificate", json=reviewed.certificate).json()
    assert check["ok"] is False and check["mismatches"] == []
    assert [lapse["what"] for lapse in check["lapses"]] == ["owner"]
    assert check["lapses"][0]["tx_hash"] in html


def test_an_owner_search_lists_what_they_hold_now(reviewed: Reviewed) -> None:
    seen = text_of(page(reviewed.client, f"/search?q={reviewed.chain.user.address}"))
    assert f"Asset {reviewed.transferred}" in seen
    before = text_of(page(reviewed.client, f"/search?q={reviewed.chain.owner.address}"))
    assert f"Asset {reviewed.transferred} " not in before and f"Asset {reviewed.disputed}" in before
