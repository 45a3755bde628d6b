"""Verifying a certificate: a genuine one matches the chain; each field tampered in turn is named, with the
certificate's value and the chain's."""
from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dataseal.chain.contracts.deployment import DEFAULT_NOTICE_PERIOD
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.revert import format_time
from dataseal.errors import ErrorKind
from dataseal.registry.certificates import (
    Certificate,
    CertificateError,
    CertificateLapsed,
    CertificateMismatch,
    compute_certificate_number,
    compute_certificate_report,
    load_certificate,
    verify_certificate,
)
from dataseal.registry.certificates.numbering import compute_registration_number
from tests.conftest import Chain
from tests.registry.certificates.conftest import Registered, issue, register, seal_manifest

OTHER_ADDRESS = "0x" + "ab" * 20
OTHER_HASH = "0x" + "cd" * 32
Change = Callable[[dict[str, Any]], None]


@pytest.fixture
def genuine(pyevm: Chain, registered: Registered, tmp_path: Path) -> Certificate:
    register(pyevm, seal_manifest(tmp_path, "另一个数据集"))  # asset 2, for the tampering that points at it
    pyevm.travel(10)
    return issue(pyevm, registered)


def _tampered(cert: Certificate, change: Change) -> Certificate:
    data = copy.deepcopy(json.loads(cert.to_text()))
    change(data)
    return load_certificate(data)


def _set(path: str, value: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[key]
        data[last] = value
    return change


def test_a_genuine_certificate_matches_the_chain(pyevm: Chain, genuine: Certificate) -> None:
    report = verify_certificate(genuine, pyevm.reader, LogReader(pyevm.w3))
    assert report.ok and report.mismatches == () and report.asset_id == 1
    assert {"owner", "status", "contentRoot", "registration", "asOf", "validUntil"} <= set(report.checked)
    assert any(line.startswith("manifest (its hash") for line in report.checked)
    assert [line for line in report.checked if "verifyUrl" in line] == ["verifyUrl (under http://127.0.0.1:8000)"]
    assert [line.split(":")[0] for line in report.not_checked] == ["issuedAt", "language"]
    assert report.now is not None and report.now.status == "Active" and report.now.owner == pyevm.owner.address
    assert report.to_json()["ok"] is True and report.to_json()["now"]["valid_until"] is None


def _cases(genuine: Certificate) -> dict[str, tuple[Change, list[str]]]:
    """what -> (change, the fields the report must name, exactly)."""
    block = genuine.as_of.block_number
    later = compute_certificate_number(genuine.chain_id, 1, block + 1)
    cases = [
        ("certificateNumber", _set("certificateNumber", later), ["certificateNumber", "asOf.blockNumber"]),
        ("certificateNumber check", _set("certificateNumber", genuine.certificate_number[:-1] + (
            "0" if genuine.certificate_number[-1] != "0" else "1")), ["certificateNumber"]),
        ("registrationNumber", _set("registrationNumber", compute_registration_number(
            genuine.registered_at.year + 1, genuine.chain_id, 1)), ["registrationNumber"]),
        ("registrationNumber check", _set("registrationNumber", genuine.registration_number[:-1] + (
            "0" if genuine.registration_number[-1] != "0" else "1")), ["registrationNumber"]),
        ("chainId", _set("chainId", 1), ["chainId"]),
        ("contract", _set("contract", OTHER_ADDRESS), ["contract"]),
        ("assetId unknown", _set("assetId", 99), ["assetId"]),
        ("registrant", _set("registrant", OTHER_ADDRESS), ["registrant"]),
        ("owner", _set("owner", OTHER_ADDRESS), ["owner"]),
        ("title", _set("title", "伪造的标题"), ["title"]),
        ("licence", _set("licence", "public domain"), ["licence"]),
        ("source", _set("source", "somewhere else"), ["source"]),
        ("rightsType", _set("rightsType", ["holding", "processing", "operation"]), ["rightsType"]),
        ("classification", _set("classification", "public"), ["classification"]),
        ("contentRoot", _set("contentRoot", OTHER_HASH), ["contentRoot"]),
        ("manifestHash", _set("manifestHash", OTHER_HASH), ["manifestHash"]),
        ("parentId", _set("parentId", 7), ["parentId"]),
        ("lineage", _set("lineage", "Derived"), ["lineage"]),
        ("registration.txHash", _set("registration.txHash", OTHER_HASH), ["registration.txHash"]),
        ("registration.blockNumber", _set("registration.blockNumber", 1), ["registration.blockNumber"]),
        ("registration.blockHash", _set("registration.blockHash", OTHER_HASH), ["registration.blockHash"]),
        ("registration.logIndex", _set("registration.logIndex", 9), ["registration.logIndex"]),
        ("registeredAt", _set("registeredAt", "2020-01-01T00:00:00Z"), ["registeredAt"]),
        ("noticeEndsAt", _set("noticeEndsAt", "2020-01-16T00:00:00Z"), ["noticeEndsAt"]),
        ("validFrom", _set("validFrom", "2020-01-01T00:00:00Z"), ["validFrom"]),
        ("validUntil", _set("validUntil", "2099-01-01T00:00:00Z"), ["validUntil"]),
        ("status", _set("status", "Suspended"), ["status"]),
        ("asOf.blockHash", _set("asOf.blockHash", OTHER_HASH), ["asOf.blockHash"]),
        ("asOf.time", _set("asOf.time", "2020-01-01T00:00:00Z"), ["asOf.time"]),
        ("verifyUrl asset", _set("verifyUrl", genuine.verify_url.replace("/assets/1?", "/assets/2?")), ["verifyUrl"]),
        ("verifyUrl number", _set("verifyUrl", genuine.verify_url.split("?")[0] + "?cert=DS-1-1-1-X"), ["verifyUrl"]),
        ("verifyUrl host", _set("verifyUrl", genuine.verify_url.replace("http://127.0.0.1:8000", "https://evil.example")),
         ["verifyUrl"]),
        ("verifyUrl path", _set("verifyUrl", genuine.verify_url.replace("/assets/", "/phish/assets/")), ["verifyUrl"]),
        ("manifest", lambda data: data["manifest"].update(title="伪造的标题") or data.update(title="伪造的标题"),
         ["manifest"]),
        ("manifest removed", _set("manifest", None), ["title", "licence", "source"]),
    ]
    return {name: (change, fields) for name, change, fields in cases}


CASES = [
    "certificateNumber", "certificateNumber check", "registrationNumber", "registrationNumber check", "chainId",
    "contract", "assetId unknown", "registrant", "owner", "title", "licence", "source", "rightsType", "classification",
    "contentRoot", "manifestHash", "parentId", "lineage", "registration.txHash", "registration.blockNumber",
    "registration.blockHash", "registration.logIndex", "registeredAt", "noticeEndsAt", "validFrom", "validUntil",
    "status", "asOf.blockHash", "asOf.time", "verifyUrl asset", "verifyUrl number", "verifyUrl host", "verifyUrl path",
    "manifest", "manifest removed",
]


@pytest.mark.parametrize("case", CASES)
def test_each_tampered_field_is_named(pyevm: Chain, genuine: Certificate, case: str) -> None:
    change, fields = _cases(genuine)[case]
    forged = _tampered(genuine, change)
    report = compute_certificate_report(forged, pyevm.reader, LogReader(pyevm.w3))
    assert list(report.tampered_fields) == fields
    assert report.lapses == ()  # nothing changed on chain since: a tampered field is a mismatch, not a change
    with pytest.raises(CertificateMismatch, match=f"certificate {forged.certificate_number} does not match the chain: "
                       f"{', '.join(fields)} differ") as caught:
        verify_certificate(forged, pyevm.reader, LogReader(pyevm.w3))
    assert caught.value.report == report
    first = report.mismatches[0]
    assert first.certificate != first.chain and first.describe().startswith(f"{first.field}: the certificate says ")


def test_the_cases_cover_every_field_but_those_that_are_not_chain_data(genuine: Certificate) -> None:
    cases = _cases(genuine)
    assert list(cases) == CASES
    covered = {name.split(" ")[0].split(".")[0] for name in cases}
    fields = set(json.loads(genuine.to_text())) - {"kind", "version"}
    assert fields - covered == {"language", "issuedAt"}  # not chain data: listed as not checked


def test_a_mismatch_shows_both_values(pyevm: Chain, genuine: Certificate) -> None:
    report = compute_certificate_report(_tampered(genuine, _set("owner", OTHER_ADDRESS)), pyevm.reader,
                                        LogReader(pyevm.w3))
    (mismatch,) = report.mismatches
    assert (mismatch.certificate, mismatch.chain) == (OTHER_ADDRESS, pyevm.owner.address)
    assert report.to_json()["mismatches"] == [{"field": "owner", "certificate": OTHER_ADDRESS,
                                               "chain": pyevm.owner.address}]


def test_a_certificate_moved_onto_another_asset_is_caught(pyevm: Chain, genuine: Certificate) -> None:
    """Asset 2 exists: its own data disagrees with the certificate's, and the number names asset 1."""
    report = compute_certificate_report(_tampered(genuine, _set("assetId", 2)), pyevm.reader, LogReader(pyevm.w3))
    assert "assetId" in report.tampered_fields and "contentRoot" in report.tampered_fields
    assert "certificateNumber" in report.tampered_fields


def test_what_is_not_chain_data_is_listed_not_checked(pyevm: Chain, genuine: Certificate) -> None:
    for change in (_set("issuedAt", "2001-01-01T00:00:00Z"), _set("language", "en")):
        report = compute_certificate_report(_tampered(genuine, change), pyevm.reader, LogReader(pyevm.w3))
        assert report.ok
        assert any(line.startswith(("issuedAt", "language")) for line in report.not_checked)


def test_the_verify_url_must_open_the_public_record_under_the_base_url_trusted(
    pyevm: Chain, registered: Registered, genuine: Certificate,
) -> None:
    """The QR code's address is checked against the base URL the verifier gives (default: the issuing default)."""
    evil = _tampered(genuine, _set("verifyUrl", genuine.verify_url.replace("http://127.0.0.1:8000",
                                                                           "https://evil.example")))
    with pytest.raises(CertificateMismatch, match="verifyUrl differ") as caught:
        verify_certificate(evil, pyevm.reader, LogReader(pyevm.w3))
    (mismatch,) = caught.value.report.mismatches
    assert (mismatch.certificate, mismatch.chain) == (evil.verify_url, genuine.verify_url)
    assert "expected under http://127.0.0.1:8000: the QR code opens another address" in mismatch.describe()
    # issued for the registry's public address: verified against that address, and only that one
    public = issue(pyevm, registered, base_url="https://registry.example.org/")
    assert public.verify_url.startswith("https://registry.example.org/assets/1?cert=DS-")
    assert verify_certificate(public, pyevm.reader, LogReader(pyevm.w3), base_url="https://registry.example.org").ok
    report = compute_certificate_report(public, pyevm.reader, LogReader(pyevm.w3))
    assert report.tampered_fields == ("verifyUrl",)
    with pytest.raises(CertificateError, match="the verify base URL 'registry.example.org' is not an http") as bad:
        compute_certificate_report(public, pyevm.reader, LogReader(pyevm.w3), base_url="registry.example.org")
    assert bad.value.options == ("base_url",)


def test_the_status_may_move_after_the_certificates_block(pyevm_review: Chain, tmp_path: Path) -> None:
    """A certificate states its block's state: later changes show as the standing now, not as tampering."""
    chain = pyevm_review
    registered = register(chain, seal_manifest(tmp_path))
    cert = issue(chain, registered)
    chain.as_(chain.buyer).registry.object(registered.asset_id, b"\x01" * 32)
    report = verify_certificate(cert, chain.reader, LogReader(chain.w3))
    assert cert.status == "Pending" and report.now is not None and report.now.status == "Disputed"


def _lapsed(chain: Chain, cert: Certificate) -> CertificateLapsed:
    """The error verifying ``cert`` raises: the asset no longer stands, though every field matches its block."""
    report = compute_certificate_report(cert, chain.reader, LogReader(chain.w3))
    assert report.mismatches == () and not report.ok and report.lapses
    with pytest.raises(CertificateLapsed, match=f"certificate {cert.certificate_number} was true when issued, but "
                       f"asset {cert.asset_id} no longer stands as it says: ") as caught:
        verify_certificate(cert, chain.reader, LogReader(chain.w3))
    assert caught.value.report == report and caught.value.kind == ErrorKind.CONFLICT
    assert "ask the registry for the public record" in caught.value.hint
    assert report.to_json()["ok"] is False and report.to_json()["lapses"] == [x.to_json() for x in report.lapses]
    return caught.value


def test_a_certificate_of_an_asset_cancelled_since_fails_naming_the_change(pyevm: Chain,
                                                                           registered: Registered) -> None:
    cert = issue(pyevm, registered)
    assert verify_certificate(cert, pyevm.reader, LogReader(pyevm.w3)).ok
    change = pyevm.as_(pyevm.owner).registry.cancel(registered.asset_id, b"\x01" * 32)
    error = _lapsed(pyevm, cert)
    (lapse,) = error.report.lapses
    assert (lapse.what, lapse.block_number, lapse.tx_hash) == ("status", change.tx.block_number, change.tx.tx_hash)
    assert lapse.description == (f"asset 1 became Cancelled at block {change.tx.block_number} (tx {change.tx.tx_hash}, "
                                 f"by {pyevm.owner.address})")
    assert error.message.endswith(lapse.description)
    assert error.report.now is not None and error.report.now.status == "Cancelled"


def test_a_certificate_of_an_asset_suspended_or_rejected_since_fails(pyevm_review: Chain, tmp_path: Path) -> None:
    chain = pyevm_review
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    reviewer = chain.as_(chain.reviewer).registry
    pending = register(chain, seal_manifest(tmp_path))
    pending_cert = issue(chain, pending)
    rejected = reviewer.reject_registration(pending.asset_id, b"\x02" * 32)
    active = register(chain, seal_manifest(tmp_path))
    chain.travel(DEFAULT_NOTICE_PERIOD)
    active_cert = issue(chain, active)
    assert (pending_cert.status, active_cert.status) == ("Pending", "Active")
    assert verify_certificate(active_cert, chain.reader, LogReader(chain.w3)).ok
    suspended = reviewer.suspend(active.asset_id, b"\x03" * 32)
    for cert, change, status in ((pending_cert, rejected, "Rejected"), (active_cert, suspended, "Suspended")):
        (lapse,) = _lapsed(chain, cert).report.lapses
        assert lapse.description.startswith(f"asset {cert.asset_id} became {status} at block "
                                            f"{change.tx.block_number} (tx {change.tx.tx_hash}, by "
                                            f"{chain.reviewer.address})")
    reviewer.reinstate(active.asset_id, b"\x04" * 32)  # standing again: the certificate holds again
    assert verify_certificate(active_cert, chain.reader, LogReader(chain.w3)).ok


def test_a_certificate_of_a_pending_asset_holds_once_the_notice_passes(pyevm_review: Chain, tmp_path: Path) -> None:
    chain = pyevm_review
    registered = register(chain, seal_manifest(tmp_path))
    cert = issue(chain, registered)
    chain.travel(DEFAULT_NOTICE_PERIOD)
    report = verify_certificate(cert, chain.reader, LogReader(chain.w3))
    assert cert.status == "Pending" and report.now is not None and report.now.status == "Active"
    assert report.lapses == () and "standing now (status, owner and term at the latest block)" in report.checked


def test_a_certificate_of_an_asset_transferred_since_fails_naming_the_transfer(pyevm: Chain,
                                                                               registered: Registered) -> None:
    cert = issue(pyevm, registered)
    moved = pyevm.as_(pyevm.owner).registry.transfer(registered.asset_id, pyevm.buyer.address)
    (lapse,) = _lapsed(pyevm, cert).report.lapses
    assert (lapse.what, lapse.block_number, lapse.tx_hash) == ("owner", moved.tx.block_number, moved.tx.tx_hash)
    assert lapse.description == (f"asset 1 was transferred to {pyevm.buyer.address} at block {moved.tx.block_number} "
                                 f"(tx {moved.tx.tx_hash}): {pyevm.owner.address}, the owner the certificate names, "
                                 "no longer owns it")
    # a certificate issued after the transfer names the new owner, and holds
    assert verify_certificate(issue(pyevm, registered), pyevm.reader, LogReader(pyevm.w3)).ok


def test_a_certificate_of_an_asset_expired_since_fails(pyevm: Chain, tmp_path: Path) -> None:
    ends = pyevm.now() + 1_000
    registered = register(pyevm, seal_manifest(tmp_path), valid_until=ends)
    cert = issue(pyevm, registered)
    assert verify_certificate(cert, pyevm.reader, LogReader(pyevm.w3)).ok
    pyevm.travel(2_000)
    (lapse,) = _lapsed(pyevm, cert).report.lapses  # expired: one lapse, not the term's as well
    assert (lapse.what, lapse.block_number, lapse.tx_hash) == ("status", None, None)
    assert lapse.description.startswith(f"asset {registered.asset_id} expired at {format_time(ends)}, when its "
                                        "registration's validity ended (time, not a transaction, ends it; as of block ")


def test_a_certificate_whose_term_ended_fails_even_when_the_asset_was_renewed(pyevm: Chain, tmp_path: Path) -> None:
    ends = pyevm.now() + 1_000
    registered = register(pyevm, seal_manifest(tmp_path), valid_until=ends)
    cert = issue(pyevm, registered)
    assert cert.valid_until.timestamp() == ends
    renewed = pyevm.now() + 10 * 86_400
    pyevm.as_(pyevm.owner).registry.renew(registered.asset_id, renewed)
    assert verify_certificate(cert, pyevm.reader, LogReader(pyevm.w3)).ok
    pyevm.travel(2_000)
    (lapse,) = _lapsed(pyevm, cert).report.lapses
    assert lapse.what == "term" and lapse.description.startswith(f"the certificate's term ended at {format_time(ends)}")
    assert lapse.description.endswith(f"; the registration now runs until {format_time(renewed)}")


def test_a_tampered_certificate_of_a_lapsed_asset_is_named_tampered(pyevm: Chain, genuine: Certificate) -> None:
    pyevm.as_(pyevm.owner).registry.cancel(genuine.asset_id)
    forged = _tampered(genuine, _set("title", "伪造的标题"))
    with pytest.raises(CertificateMismatch, match="title differ") as caught:
        verify_certificate(forged, pyevm.reader, LogReader(pyevm.w3))
    assert [lapse.what for lapse in caught.value.report.lapses] == ["status"]


@pytest.mark.hardhat
def test_issue_and_verify_on_a_hardhat_node(hardhat: Chain, tmp_path: Path) -> None:
    """The same against a real node's eth_getLogs (topic filters with alternatives and wildcards)."""
    registered = register(hardhat, seal_manifest(tmp_path))
    hardhat.as_(hardhat.owner).registry.transfer(registered.asset_id, hardhat.buyer.address)
    cert = issue(hardhat, registered)
    assert (cert.chain_id, cert.owner, cert.status) == (31337, hardhat.buyer.address, "Active")
    assert verify_certificate(cert, hardhat.reader, LogReader(hardhat.w3)).ok
    forged = _tampered(cert, _set("owner", hardhat.owner.address))
    assert compute_certificate_report(forged, hardhat.reader, LogReader(hardhat.w3)).tampered_fields == ("owner",)
    # the last block number a node takes: a block the node does not have, not an error of the node's
    beyond = _tampered(cert, _set("asOf.blockNumber", 2**63 - 1))
    report = compute_certificate_report(beyond, hardhat.reader, LogReader(hardhat.w3))
    assert report.tampered_fields == ("asOf.blockNumber",) and "has no block" in report.mismatches[0].chain
