"""Certificates over HTTP: computed from the chain, as JSON (verifiable), HTML and PDF."""
from __future__ import annotations

import pytest

from dataseal.chain.contracts.logs import LogReader
from dataseal.registry.certificates import load_certificate, verify_certificate
from dataseal.registry.certificates.render import CJK_FONT, has_font
from tests.api.conftest import World, error_of


def test_the_json_certificate_verifies_against_the_chain(world: World) -> None:
    response = world.client.get(f"/assets/{world.asset_id}/certificate")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    cert = load_certificate(response.json())
    assert cert.asset_id == world.asset_id and cert.title == "Bytes" and cert.status == "Active"
    assert cert.verify_url.startswith(f"https://registry.example.org/assets/{world.asset_id}?cert=DS-")
    verify_certificate(cert, world.chain.reader, LogReader(world.chain.w3), base_url="https://registry.example.org")


def test_the_html_certificate(world: World) -> None:
    response = world.client.get(f"/assets/{world.asset_id}/certificate", params={"format": "html", "lang": "en"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "Bytes" in response.text and "<svg" in response.text


@pytest.mark.skipif(not has_font(CJK_FONT), reason="no CJK font for the PDF")
def test_the_pdf_certificate(world: World) -> None:
    response = world.client.get(f"/assets/{world.asset_id}/certificate", params={"format": "pdf"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_bad_certificate_parameters(world: World) -> None:
    error = error_of(world.client.get(f"/assets/{world.asset_id}/certificate", params={"format": "docx"}), 422)
    assert "query parameter format" in error["message"] and "'json', 'html' or 'pdf'" in error["message"]
    error = error_of(world.client.get(f"/assets/{world.asset_id}/certificate", params={"lang": "fr"}), 422)
    assert "query parameter lang" in error["message"]
