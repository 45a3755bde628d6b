"""Issuing a certificate from the chain alone: what it states, and the state it reads from logs is the
contract's own (status, owner, validity), through notice, dispute, suspension, transfer, expiry and renewal."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dataseal.chain.contracts.deployment import DEFAULT_NOTICE_PERIOD
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import AssetStatus, Registration
from dataseal.errors import ErrorKind
from dataseal.registry.certificates import CertificateError, compute_certificate, parse_certificate_number
from dataseal.registry.certificates.compute import compute_term_end, read_asset_facts
from dataseal.registry.certificates.numbering import parse_registration_number
from tests.conftest import Chain
from tests.registry.certificates.conftest import ISSUED, TITLE, Registered, issue, register, seal_manifest


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _three_years_on(start: datetime) -> datetime:
    """The same day and time three years on (28 February for 29 February)."""
    try:
        return start.replace(year=start.year + 3)
    except ValueError:
        return start.replace(year=start.year + 3, day=28)


def test_a_certificate_states_what_the_chain_recorded(pyevm: Chain, registered: Registered) -> None:
    cert = issue(pyevm, registered)
    record, latest = registered.record, pyevm.w3.eth.get_block("latest")
    chain_id = pyevm.w3.eth.chain_id
    assert (cert.kind, cert.version, cert.language) == ("dataseal.certificate", 1, "zh-en")
    assert (cert.chain_id, cert.contract, cert.asset_id) == (chain_id, pyevm.deployment.asset_registry, 1)
    assert cert.registrant == cert.owner == pyevm.owner.address
    assert (cert.title, cert.licence, cert.source) == (TITLE, "CC-BY-4.0", "深圳市交通运输局")
    assert cert.rights_type == ("holding", "processing") and cert.classification == "general"
    assert cert.content_root == registered.manifest.tree.root and cert.manifest_hash == registered.manifest.hash_hex
    assert (cert.parent_id, cert.lineage) == (0, "None")
    assert cert.registration.tx_hash == record.tx.tx_hash and cert.registration.block_number == record.tx.block_number
    assert cert.registration.block_hash == record.tx.block_hash and cert.registration.log_index == record.tx.log_index
    assert cert.registered_at == cert.valid_from == _utc(record.registered_at)
    assert cert.valid_until == _three_years_on(cert.registered_at)  # no expiry on chain
    assert cert.notice_ends_at is None and cert.status == "Active"
    assert cert.as_of.block_number == latest["number"] and cert.as_of.block_hash == latest["hash"].to_0x_hex()
    assert cert.issued_at == ISSUED and cert.manifest == registered.manifest
    number = parse_certificate_number(cert.certificate_number)
    assert (number.chain_id, number.asset_id, number.block_number) == (chain_id, 1, latest["number"])
    registration = parse_registration_number(cert.registration_number)
    assert (registration.year, registration.chain_id, registration.asset_id) == (cert.registered_at.year, chain_id, 1)
    assert cert.verify_url == f"http://127.0.0.1:8000/assets/1?cert={cert.certificate_number}"
    # the same chain state gives the same certificate; another block another number
    assert issue(pyevm, registered) == cert
    pyevm.travel(60)
    assert issue(pyevm, registered).certificate_number != cert.certificate_number


def test_without_the_manifest_the_title_is_unknown(pyevm: Chain, registered: Registered) -> None:
    cert = issue(pyevm, registered, manifest=None, base_url="https://registry.example.org/", language="en")
    assert cert.manifest is None and (cert.title, cert.licence, cert.source) == (None, None, None)
    assert cert.verify_url == f"https://registry.example.org/assets/1?cert={cert.certificate_number}"
    assert cert.language == "en"


def test_review_mode_states_the_notice_and_the_status_as_of_the_block(pyevm_review: Chain, tmp_path: Path) -> None:
    chain = pyevm_review
    registered = register(chain, seal_manifest(tmp_path), classification=3)
    pending = issue(chain, registered)
    assert pending.status == "Pending" and pending.classification == "core"
    assert pending.notice_ends_at == _utc(registered.record.registered_at + DEFAULT_NOTICE_PERIOD)
    chain.travel(DEFAULT_NOTICE_PERIOD)
    active = issue(chain, registered)
    assert active.status == "Active" and active.notice_ends_at == pending.notice_ends_at
    assert active.certificate_number != pending.certificate_number  # another block, another certificate
    assert active.registration_number == pending.registration_number  # the same registration
    # a certificate as of an earlier block states that block's state
    assert issue(chain, registered, as_of=pending.as_of.block_number) == pending


def test_validity_is_three_years_or_the_registrations_own_end_if_earlier(pyevm: Chain, tmp_path: Path) -> None:
    soon = pyevm.now() + 400 * 86_400
    dated = register(pyevm, seal_manifest(tmp_path), valid_until=soon)
    assert issue(pyevm, dated).valid_until == _utc(soon)
    late = register(pyevm, seal_manifest(tmp_path), valid_until=pyevm.now() + 10 * 366 * 86_400)
    cert = issue(pyevm, late)
    assert cert.valid_until == _three_years_on(cert.registered_at)
    leap = int(datetime(2028, 2, 29, 12, tzinfo=UTC).timestamp())
    assert compute_term_end(leap, 0) == int(datetime(2031, 2, 28, 12, tzinfo=UTC).timestamp())
    assert compute_term_end(leap, leap + 10) == leap + 10


def test_a_version_names_its_parent(pyevm: Chain, registered: Registered, tmp_path: Path) -> None:
    version = register(pyevm, seal_manifest(tmp_path, "第二版"), parent_id=registered.asset_id, version=True)
    cert = issue(pyevm, version)
    assert (cert.parent_id, cert.lineage, cert.title) == (registered.asset_id, "Version", "第二版")


def test_the_state_read_from_logs_is_the_contracts(pyevm_review: Chain, tmp_path: Path) -> None:
    """At every step the owner, status and validity computed from logs equal assetOf's."""
    chain = pyevm_review
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    owner, reviewer, buyer = chain.as_(chain.owner), chain.as_(chain.reviewer), chain.as_(chain.buyer)
    registered = register(chain, seal_manifest(tmp_path), valid_until=chain.now() + 30 * 86_400)
    asset_id = registered.asset_id
    seen: list[AssetStatus] = []

    def agrees() -> None:
        facts = read_asset_facts(chain.reader, LogReader(chain.w3), chain.deployment, asset_id,
                                 chain.w3.eth.block_number)
        asset = chain.reader.registry.asset(asset_id)
        assert (facts.status, facts.owner, facts.valid_until) == (asset.status, asset.owner, asset.valid_until)
        seen.append(facts.status)

    agrees()
    buyer.registry.object(asset_id, b"\x01" * 32)
    agrees()
    reviewer.registry.resolve_dispute(asset_id, False, b"\x02" * 32)
    agrees()
    chain.travel(DEFAULT_NOTICE_PERIOD)
    agrees()
    reviewer.registry.suspend(asset_id, b"\x03" * 32)
    agrees()
    reviewer.registry.reinstate(asset_id, b"\x04" * 32)
    owner.registry.transfer(asset_id, chain.buyer.address)
    agrees()
    chain.travel(30 * 86_400)
    agrees()
    reviewer.registry.renew(asset_id, chain.now() + 86_400)
    agrees()
    assert seen == [AssetStatus.Pending, AssetStatus.Disputed, AssetStatus.Pending, AssetStatus.Active,
                    AssetStatus.Suspended, AssetStatus.Active, AssetStatus.Expired, AssetStatus.Active]
    cert = issue(chain, registered)
    assert cert.owner == chain.buyer.address and cert.registrant == chain.owner.address


def test_a_manifest_that_is_not_the_assets_is_refused(pyevm: Chain, registered: Registered, tmp_path: Path) -> None:
    other = seal_manifest(tmp_path, "别的数据")
    with pytest.raises(CertificateError, match=f"the manifest given is not asset 1's: its hash is {other.hash_hex}, "
                       f"the asset was registered with manifest hash {registered.manifest.hash_hex}") as caught:
        issue(pyevm, registered, manifest=other)
    assert caught.value.options == ("manifest",) and "give the manifest.json" in caught.value.hint


def test_a_registered_manifest_of_other_data_is_refused(pyevm: Chain, tmp_path: Path) -> None:
    """The contract does not check that a manifest describes the root registered with it; the certificate does."""
    manifest = seal_manifest(tmp_path)
    record = pyevm.as_(pyevm.owner).registry.register(Registration(b"\x09" * 32, manifest.hash, 1, 0))
    with pytest.raises(CertificateError, match=r"registered manifest describes root 0x.*but the asset's content root "
                       r"is 0x0909") as caught:
        issue(pyevm, Registered(manifest, record))
    assert caught.value.kind is ErrorKind.CONFLICT
    assert issue(pyevm, Registered(manifest, record), manifest=None).title is None  # without it, it is issued


def test_unknown_assets_blocks_and_bad_parameters_are_refused(pyevm: Chain, registered: Registered) -> None:
    reader, deployment = LogReader(pyevm.w3), pyevm.deployment
    with pytest.raises(CertificateError, match=r"asset 2 is not registered in AssetRegistry 0x[0-9a-fA-F]{40} on "
                       rf"chain {deployment.chain_id} \(no AssetRegistered event up to block") as unknown:
        compute_certificate(pyevm.reader, reader, deployment, 2, None, now=ISSUED)
    assert unknown.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(CertificateError, match="asset 1 is not registered"):  # not yet, as of a block before it
        compute_certificate(pyevm.reader, reader, deployment, 1, None, now=ISSUED,
                            as_of=registered.record.tx.block_number - 1)
    with pytest.raises(CertificateError, match="has no block 999999 yet") as future:
        compute_certificate(pyevm.reader, reader, deployment, 1, None, now=ISSUED, as_of=999_999)
    assert future.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(CertificateError, match="0 is not an asset id: ids are whole numbers from 1 to 2"):
        compute_certificate(pyevm.reader, reader, deployment, 0, None, now=ISSUED)
    with pytest.raises(CertificateError, match="'ftp://x' is not an http") as url:
        compute_certificate(pyevm.reader, reader, deployment, 1, None, now=ISSUED, base_url="ftp://x")
    assert url.value.options == ("base_url",)
    with pytest.raises(CertificateError, match="unknown certificate language 'fr'") as lang:
        compute_certificate(pyevm.reader, reader, deployment, 1, None, now=ISSUED, language="fr")
    assert lang.value.options == ("language",)
    with pytest.raises(CertificateError, match="the issue time has no time zone"):
        compute_certificate(pyevm.reader, reader, deployment, 1, None, now=datetime(2030, 1, 1))


@pytest.mark.parametrize(("asset_id", "as_of", "message"), [
    (2**256, None, rf"{2**256} is not an asset id: ids are whole numbers from 1 to 2\*\*256 - 1"),
    (10**5000, None, "a 16610-bit number is not an asset id"),
    (True, None, "True is not an asset id"),
    (1, 2**63, rf"{2**63} is not a block number: blocks are numbered from 0 to 2\*\*63 - 1"),
    (1, -1, "-1 is not a block number"),
], ids=["asset 2**256", "asset of 5001 digits", "asset True", "block 2**63", "block -1"])
def test_numbers_beyond_what_the_chain_takes_are_refused_before_it_is_asked(
    pyevm: Chain, registered: Registered, asset_id: int, as_of: int | None, message: str,
) -> None:
    with pytest.raises(CertificateError, match=message) as caught:
        compute_certificate(pyevm.reader, LogReader(pyevm.w3), pyevm.deployment, asset_id, None, now=ISSUED,
                            as_of=as_of)
    assert caught.value.kind is ErrorKind.INVALID_INPUT
