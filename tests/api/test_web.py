"""The public pages, served in process (tests/e2e/test_web.py drives them in Chromium): what each page says, in
both languages, the search's forms and redirects, error pages for a browser (never a traceback) beside the JSON
errors other clients keep, the whole-trail downloads and the certificate check."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest

from dataseal.api.routes import trails
from dataseal.api.web.views import grant_standing
from dataseal.registry.certificates.numbering import compute_certificate_number
from dataseal.registry.db.models.chain import GrantRow
from tests.api.conftest import ApiClient, World, error_of

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def page(client: ApiClient, url: str, status: int = 200, **headers: str) -> str:
    """The page at ``url`` as a browser asks for it, checked to be HTML with ``status``."""
    response = client.get(url, headers={**HTML, **headers})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Traceback" not in response.text and "<html lang=" in response.text
    assert re.search(r'<a href="\?[^"]*lang=[a-z]+" hreflang=', response.text)  # the other language: this path
    policy = response.headers["content-security-policy"]  # own script and style only, never framed
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
    return response.text


def text_of(html: str) -> str:
    """The page's words without tags, spaces collapsed (what a reader sees, near enough)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def redirected(world: World, query: str) -> str:
    response = world.client.get("/search", params={"q": query}, headers=HTML)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def certificate_of(world: World, asset_id: int) -> dict[str, Any]:
    data: dict[str, Any] = world.client.get(f"/assets/{asset_id}/certificate").json()
    return data


def test_the_home_page_searches_in_either_language(world: World) -> None:
    english = page(world.client, "/")
    assert '<html lang="en">' in english and 'action="/search"' in english and 'id="search-q"' in english
    assert "Verify a file" in english and "中文" in english
    chinese = page(world.client, "/?lang=zh")
    assert '<html lang="zh-CN">' in chinese and "数据资产登记" in chinese and "核验文件" in chinese
    assert '<html lang="zh-CN">' in page(world.client, "/", **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="en">' in page(world.client, "/", **{"Accept-Language": "fr-FR,en;q=0.5,zh;q=0.1"})
    assert '<html lang="en">' in page(world.client, "/?lang=en", **{"Accept-Language": "zh"})  # the parameter wins
    assert '<html lang="en">' in page(world.client, "/?lang=fr", **{"Accept-Language": "fr"})  # neither: English


def test_an_asset_page_shows_the_record_lineage_grants_and_trail(world: World) -> None:
    html = page(world.client, f"/assets/{world.asset_id}")
    seen = text_of(html)
    asset = world.client.get(f"/assets/{world.asset_id}").json()  # the JSON route is unchanged for other clients
    assert asset["asset_id"] == world.asset_id
    assert f"Asset {world.asset_id} · Bytes" in seen and "active" in seen
    for value in (asset["registration_number"], asset["owner"], asset["content_root"], asset["manifest_hash"]):
        assert value in html
    assert "data resource holding" in seen and "data processing and use" in seen and "general" in seen
    assert "none (registered without review)" in seen  # the notice period: none on this chain
    assert f'href="/assets/{world.version_id}?lang=en"' in html and "Bytes v2" in seen  # a child version
    assert "data.bin" in seen and "5,120 bytes" in seen and "512 bytes" in seen  # the manifest's file and chunking
    assert f"Grant {world.grant_id}" in seen and "3 of 10 units used" in seen
    assert re.search(rf'<meter id="quota-{world.grant_id}" min="0" max="10" value="3">', html)
    trail = world.client.get(f"/assets/{world.asset_id}/trail").json()["entries"]
    for entry in trail:
        assert entry["tx_hash"] in html
    assert [e["event"] for e in trail][:2] == ["Transfer", "AssetRegistered"]
    assert "Ownership token issued to the registrant" in seen and "Registered" in seen and "Usage recorded" in seen
    for fmt in ("json", "csv", "prov"):
        assert f'href="/assets/{world.asset_id}/trail/export?format={fmt}"' in html
    version = text_of(page(world.client, f"/assets/{world.version_id}"))
    assert f"a new version of Asset {world.asset_id} · Bytes" in version


def test_an_asset_page_in_chinese(world: World) -> None:
    seen = text_of(page(world.client, f"/assets/{world.asset_id}?lang=zh"))
    assert "资产" in seen and "有效" in seen and "数据资源持有权" in seen and "一般数据" in seen
    assert "已用 3 / 10 单位" in seen and "全程留痕" in seen and "北京时间" in seen


def test_the_trail_on_the_page_pages_on(world: World) -> None:
    trail = world.client.get(f"/assets/{world.asset_id}/trail").json()["entries"]
    events = re.compile(r'<li class="event event-(\w+)">')
    assert events.findall(page(world.client, f"/assets/{world.asset_id}")) == [e["event"] for e in trail]
    first = f"{trail[0]['block_number']}:{trail[0]['log_index']}"
    rest = page(world.client, f"/assets/{world.asset_id}?after={first}")
    assert events.findall(rest) == [e["event"] for e in trail[1:]]
    last = f"{trail[-1]['block_number']}:{trail[-1]['log_index']}"
    after_all = page(world.client, f"/assets/{world.asset_id}?after={last}")
    assert events.findall(after_all) == [] and "No more events." in text_of(after_all)
    bad = text_of(page(world.client, f"/assets/{world.asset_id}?after=yesterday", 400))
    assert "the cursor 'yesterday' is not BLOCK:LOG" in bad


def test_the_certificate_qr_url_opens_the_page_with_its_check(world: World) -> None:
    cert = certificate_of(world, world.asset_id)
    url = urlsplit(cert["verifyUrl"])
    assert url.path == f"/assets/{world.asset_id}" and url.query == f"cert={cert['certificateNumber']}"
    html = page(world.client, f"{url.path}?{url.query}")
    seen = text_of(html)
    assert f"Certificate {cert['certificateNumber']}" in seen
    assert "The certificate still holds" in seen and f"as of block {cert['asOf']['blockNumber']}" in seen
    for value in (cert["registrationNumber"], cert["registrant"], cert["contentRoot"], cert["manifestHash"],
                  cert["registration"]["txHash"]):
        assert value in html
    assert seen.count("✓ unchanged") == 2  # the owner and the status, now
    chinese = text_of(page(world.client, f"{url.path}?{url.query}&lang=zh"))
    assert f"证书 {cert['certificateNumber']}" in chinese and "证书仍然有效" in chinese


def test_a_certificate_number_that_is_wrong_gets_a_page_saying_why(world: World) -> None:
    number = certificate_of(world, world.asset_id)["certificateNumber"]
    mistyped = number[:-1] + ("A" if number[-1] != "A" else "B")
    assert "check character" in text_of(page(world.client, f"/assets/{world.asset_id}?cert={mistyped}", 400))
    other = text_of(page(world.client, f"/assets/{world.version_id}?cert={number}", 404))
    assert f"certificate {number} is asset {world.asset_id}'s, not asset {world.version_id}'s" in other
    assert "not a certificate number" in text_of(page(world.client, f"/assets/{world.asset_id}?cert=DS-XXXX", 400))


def test_the_search_goes_to_the_asset_by_each_thing_it_is_known_by(world: World) -> None:
    asset = world.client.get(f"/assets/{world.asset_id}").json()
    there = f"/assets/{world.asset_id}?lang=en"
    assert redirected(world, str(world.asset_id)) == there
    assert redirected(world, f" {world.content_root.upper().replace('0X', '0x')} ") == there
    assert redirected(world, asset["registration_number"]) == there
    number = certificate_of(world, world.asset_id)["certificateNumber"]
    assert redirected(world, number.lower()) == f"/assets/{world.asset_id}?cert={number}&lang=en"  # with its check
    owned = page(world.client, f"/search?q={asset['owner'].lower()}")
    assert f'href="/assets/{world.asset_id}?lang=en"' in owned and f'href="/assets/{world.version_id}?lang=en"' in owned
    nobody = text_of(page(world.client, f"/search?q={world.chain.buyer.address}"))
    assert "No asset matches." in nobody


def test_searches_that_find_nothing_or_cannot_be_read_say_so(world: World) -> None:
    cases = {
        "": (400, "the search is empty"),
        "0x1234": (400, "has 4 hex digits, expected 64"),
        "0x" + "ab" * 32: (404, "no asset of chain"),
        "99999": (404, "asset 99999 is not registered"),
        "0": (400, "asset ids are whole numbers from 1 to 2**256 - 1, not 0"),
        "9" * 78: (400, "asset ids are whole numbers from 1 to 2**256 - 1, not 999999999999999999999999…"),
        compute_certificate_number(1, 2**256, 1): (400, "names an asset id of 78 digits, larger than any asset id"),
        "hello": (400, "is none of the things the registry is searched by"),
        "2025-1-1-0": (400, "registration number"),
    }
    for query, (status, words) in cases.items():
        response = world.client.get("/search", params={"q": query}, headers=HTML)
        assert response.status_code == status, (query, response.text)
        assert words in text_of(response.text), (query, text_of(response.text))
        assert "Traceback" not in response.text
    escaped = world.client.get("/search", params={"q": "<script>alert(1)</script>"}, headers=HTML).text
    assert "<script>alert(1)" not in escaped and "&lt;script&gt;alert(1)" in escaped


def test_errors_are_pages_for_a_browser_and_json_for_everyone_else(world: World) -> None:
    for url, status in (("/assets/999", 404), ("/assets/abc", 422), ("/no/such/page", 404),
                        (f"/assets/{world.asset_id}/proofs/99999", 404)):
        seen = text_of(page(world.client, url, status))
        assert f"({status})" in seen and "What to do:" in seen
        error_of(world.client.get(url), status)  # no Accept: the JSON error contract, as before
    chinese = text_of(page(world.client, "/assets/999?lang=zh", 404))
    assert "未找到" in chinese and "建议" in chinese
    # a POST is never answered with a page, whatever it accepts
    posted = world.client.request("POST", "/verify/digests", content=b"{",
                                  headers={**HTML, "Content-Type": "application/json"})
    error_of(posted, 400)


def test_the_verify_page_carries_what_its_script_needs(world: World) -> None:
    html = page(world.client, f"/verify?asset={world.asset_id}")
    assert 'src="/static/verify.js"' in html and "<noscript>" in html
    assert f'data-asset="{world.asset_id}"' in html and 'data-expected-size="5120"' in html
    assert 'data-chunk-size="512"' in html and 'data-sealed-as="file"' in html
    for element in ("file-form", "file-input", "file-drop", "chunk-size", "file-progress", "file-result",
                    "document-input", "document-drop", "document-result"):
        assert f'id="{element}"' in html
    anything = page(world.client, "/verify")
    assert 'data-asset=""' in anything and 'data-chunk-size="1048576"' in anything
    assert "asset 999 is not registered" in text_of(page(world.client, "/verify?asset=999", 404))
    for name in ("site.css", "verify.js"):
        assert world.client.get(f"/static/{name}").status_code == 200


def test_the_whole_trail_downloads_as_json_csv_and_prov(world: World) -> None:
    trail = world.client.get(f"/assets/{world.asset_id}/trail").json()
    base = f"/assets/{world.asset_id}/trail/export"
    as_json = world.client.get(base)
    assert as_json.headers["content-disposition"] == f'attachment; filename="asset-{world.asset_id}-trail.json"'
    document = as_json.json()
    assert document["entries"] == trail["entries"] and document["next"] is None
    assert document["subject"] == {"asset_id": world.asset_id}
    as_csv = world.client.get(base, params={"format": "csv"})
    assert as_csv.headers["content-disposition"].endswith('-trail.csv"')
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["tx_hash"] for row in rows] == [e["tx_hash"] for e in trail["entries"]]
    prov = world.client.get(base, params={"format": "prov"})
    assert prov.headers["content-disposition"].endswith('-trail.prov.json"')
    assert {"prefix", "entity", "activity", "agent"} <= set(json.loads(prov.text))
    error_of(world.client.get("/assets/999/trail/export"), 404)


def test_a_certificate_file_is_checked_field_by_field(world: World) -> None:
    cert = certificate_of(world, world.asset_id)
    good = world.client.request("POST", "/verify/certificate", json=cert).json()
    assert good["ok"] is True and good["mismatches"] == [] and good["lapses"] == []
    assert good["certificate_number"] == cert["certificateNumber"] and good["now"]["status"] == "Active"
    assert "registrant" in good["checked"]
    forged = world.client.request("POST", "/verify/certificate", json={**cert, "title": "Something else"}).json()
    assert forged["ok"] is False
    assert [m["field"] for m in forged["mismatches"]] == ["title"]
    assert forged["mismatches"][0]["certificate"] == "Something else"
    error = error_of(world.client.request("POST", "/verify/certificate", json={"kind": "dataseal.proof"}), 400)
    assert "is not a dataseal certificate" in error["message"]
    assert world.client.request("POST", "/verify/certificate", content="x", headers={"Content-Type": "text/plain"}
                             ).status_code == 415


def test_only_a_browsers_navigation_gets_a_page(world: World) -> None:
    url = f"/assets/{world.asset_id}"
    for accept in ("*/*", "application/json", "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2",  # Java's
                   "application/json, text/html;q=0.1", "text/html;q=0", "text/html,application/xhtml+xml;q=0.9,"
                   "application/json"):
        answer = world.client.get(url, headers={"Accept": accept})
        assert answer.headers["content-type"] == "application/json", accept
        assert answer.headers["vary"] == "Accept, Sec-Fetch-Dest"  # a cache keeps the page and the JSON apart
    assert world.client.get(url, headers={"Accept": "*/*", "Sec-Fetch-Dest": "document"}).headers[
        "content-type"].startswith("text/html")  # a browser that says it navigates
    assert world.client.get(url, headers={**HTML, "Sec-Fetch-Dest": "empty"}).headers[
        "content-type"] == "application/json"  # a browser's fetch() from a script
    missing = world.client.get("/assets/999")
    assert missing.status_code == 404 and missing.headers["vary"] == "Accept, Sec-Fetch-Dest"
    assert world.client.get(url, headers=HTML).headers["vary"] == "Accept, Accept-Language, Sec-Fetch-Dest"


def test_head_is_answered_where_get_is(world: World) -> None:
    for url in ("/", "/verify", f"/assets/{world.asset_id}", f"/search?q={world.asset_id}"):
        for headers in (HTML, {}):
            got = world.client.request("HEAD", url, headers=headers)
            assert got.status_code in (200, 303), (url, got.status_code, got.text)
            assert got.content == b""


def test_a_certificate_number_of_a_block_before_the_registration_names_nothing(world: World) -> None:
    cert = certificate_of(world, world.asset_id)
    registered = cert["registration"]["blockNumber"]
    early = compute_certificate_number(cert["chainId"], world.asset_id, registered - 1)
    seen = text_of(page(world.client, f"/assets/{world.asset_id}?cert={early}", 404))
    assert f"asset {world.asset_id} was registered in block {registered}" in seen
    future = compute_certificate_number(cert["chainId"], world.asset_id, 10**9)
    assert "no certificate with this number was issued" in text_of(
        page(world.client, f"/assets/{world.asset_id}?cert={future}", 404))


def test_a_grants_badge_is_its_standing_at_the_chains_time() -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)

    def row(**changes: Any) -> GrantRow:
        values: dict[str, Any] = dict(grant_id=1, asset_id=1, grantee="0x" + "11" * 20, grantor="0x" + "22" * 20,
                                      purpose="0x" + "00" * 32, valid_from=start, valid_until=end, quota=10, used=3,
                                      sequence=1, scope_root="0x" + "00" * 32, status="Active",
                                      tx_hash="0x" + "33" * 32, block_number=1, updated_block=1)
        return GrantRow(**{**values, **changes})

    inside = start + timedelta(days=3)
    assert grant_standing(row(), inside) == "Active"
    assert grant_standing(row(), start - timedelta(seconds=1)) == "NotYetValid"
    assert grant_standing(row(), end) == "Expired"
    assert grant_standing(row(used=10), inside) == "UsedUp"
    assert grant_standing(row(revoked=True, used=10), end) == "Revoked"
    assert grant_standing(row(valid_until=None), end + timedelta(days=900)) == "Active"
    assert grant_standing(row(), inside, usable_asset=False) == "AssetInactive"  # a use would revert
    assert grant_standing(row(used=10), inside, usable_asset=False) == "UsedUp"


def test_a_long_trail_downloads_whole_page_by_page(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    trail = world.client.get(f"/assets/{world.asset_id}/trail").json()["entries"]
    assert len(trail) > 3
    monkeypatch.setattr(trails, "EXPORT_PAGE", 2)  # read two entries at a time
    base = f"/assets/{world.asset_id}/trail/export"
    assert world.client.get(base).json()["entries"] == trail
    rows = world.client.get(base, params={"format": "csv"}).text.splitlines()
    assert len(rows) == len(trail) + 1 and rows.count(rows[0]) == 1  # one header row
    monkeypatch.setattr(trails, "EXPORT_PAGE", len(trail))  # exactly one full page, then an empty one
    assert world.client.get(base).json()["entries"] == trail
    monkeypatch.setattr(trails, "MAX_PROV_EXPORT", len(trail) - 1)
    refused = error_of(world.client.get(base, params={"format": "prov"}), 409)
    assert f"has more than {len(trail) - 1} entries" in refused["message"] and "JSON or CSV" in refused["hint"]
