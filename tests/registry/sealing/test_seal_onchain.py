"""Our proofs verify in MerkleProof.sol: through AssetRegistry.anchorBatch + verifyBatchMember/verifyBatchRecord
(py-evm), and a registration's receipt becomes an evidence bundle that checks offline.

verifyBatchMember takes a member's values hash, keccak256(abi.encode(values)), and computes the leaf
itself (contracts v2), so neither a leaf hash nor an inner node of the tree passes as a member."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataseal.chain.contracts.records import AssetRecord, AssetStatus, Registration
from dataseal.chain.errors import ContractRevert
from dataseal.registry.evidence import (
    BatchMembership,
    ChainRecord,
    DirectRegistration,
    build_bundle,
    compute_bundle_report,
)
from dataseal.registry.merkle import StandardMerkleTree, compute_root, compute_values_hash, standard_node_hash
from dataseal.registry.sealing.options import SealOptions
from dataseal.registry.sealing.seal import prove, seal
from tests.conftest import Chain

RECORD_ENCODING = ["bytes32", "bytes32", "uint8", "uint8"]


def b32(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text[2:])


def test_chunk_proofs_verify_on_chain_against_the_anchored_root(pyevm: Chain, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 5)  # 1280 bytes: 20 chunks of 64
    sealed = seal(data, SealOptions(chunk_size=64))
    registry = pyevm.as_(pyevm.owner).registry
    anchored = registry.anchor_batch(b32(sealed.root), sealed.leaf_count, b32(sealed.manifest_hash))
    batch_id = anchored.batch_id
    for chunk in (0, 7, 19):
        proof = prove(data, sealed.manifest, chunk=chunk)
        siblings = [b32(p) for p in proof.proof]
        values_hash = compute_values_hash(proof.leaf_encoding, proof.value)
        assert registry.verify_batch_member(batch_id, values_hash, siblings) is True
    proof = prove(data, sealed.manifest, chunk=7)
    values_hash = compute_values_hash(proof.leaf_encoding, proof.value)
    siblings = [b32(p) for p in proof.proof]
    other = prove(data, sealed.manifest, chunk=8)
    assert registry.verify_batch_member(batch_id, compute_values_hash(other.leaf_encoding, other.value),
                                        siblings) is False
    assert registry.verify_batch_member(batch_id, values_hash, siblings[:-1]) is False
    flipped = bytes([siblings[0][0] ^ 1]) + siblings[0][1:]
    assert registry.verify_batch_member(batch_id, values_hash, [flipped, *siblings[1:]]) is False
    # The leaf hash itself (what v1 took) is no member: the contract hashes what it is given.
    assert registry.verify_batch_member(batch_id, b32(proof.leaf), siblings) is False


def test_an_inner_node_is_refused_as_a_member(pyevm: Chain, tmp_path: Path) -> None:
    """An inner node with the rest of a proof leads to the root (so v1's verifyBatchMember, which took
    the leaf as given, accepted it as a member); v2 hashes what it is given into a leaf and refuses it."""
    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 5)  # 20 chunks of 64
    sealed = seal(data, SealOptions(chunk_size=64))
    registry = pyevm.as_(pyevm.owner).registry
    batch_id = registry.anchor_batch(b32(sealed.root), sealed.leaf_count, b32(sealed.manifest_hash)).batch_id
    proof = prove(data, sealed.manifest, chunk=4)
    siblings = [b32(p) for p in proof.proof]
    inner = standard_node_hash(b32(proof.leaf), siblings[0])  # the parent of chunks 4 and 5
    assert compute_root(inner, siblings[1:]) == b32(sealed.root)  # a path to the root from an inner node
    assert registry.verify_batch_member(batch_id, inner, siblings[1:]) is False
    grandparent = standard_node_hash(inner, siblings[1])
    assert compute_root(grandparent, siblings[2:]) == b32(sealed.root)
    assert registry.verify_batch_member(batch_id, grandparent, siblings[2:]) is False
    assert registry.verify_batch_member(batch_id, compute_values_hash(proof.leaf_encoding, proof.value),
                                        siblings) is True  # the member itself still is one


def test_the_same_root_anchored_twice_is_two_batches(pyevm: Chain, tmp_path: Path) -> None:
    """Batches are known by id, each naming its anchorer; anchoring a root again takes nothing over (v2)."""
    data = tmp_path / "data.bin"
    data.write_bytes(b"dataseal" * 100)
    sealed = seal(data, SealOptions(chunk_size=64))
    root, manifest_hash = b32(sealed.root), b32(sealed.manifest_hash)
    first = pyevm.as_(pyevm.owner).registry.anchor_batch(root, sealed.leaf_count, manifest_hash)
    second = pyevm.as_(pyevm.user).registry.anchor_batch(root, sealed.leaf_count, manifest_hash)
    assert (first.batch_id, second.batch_id) == (1, 2)
    assert (first.anchorer, second.anchorer) == (pyevm.owner.address, pyevm.user.address)
    reader = pyevm.reader.registry
    assert reader.batch(1).anchorer == pyevm.owner.address and reader.batch(2).anchorer == pyevm.user.address
    proof = prove(data, sealed.manifest, chunk=3)
    values_hash = compute_values_hash(proof.leaf_encoding, proof.value)
    for batch_id in (1, 2):
        assert reader.verify_batch_member(batch_id, values_hash, [b32(p) for p in proof.proof]) is True


def test_a_registration_and_a_batch_membership_become_bundles(pyevm: Chain, tmp_path: Path) -> None:
    table = tmp_path / "people.csv"
    table.write_text("id,name\n1,alice\n2,bob\n")
    sealed = seal(table, SealOptions(rows=True))
    manifest = sealed.manifest
    proof = prove(table, manifest, row=0)
    registry, w3 = pyevm.as_(pyevm.owner).registry, pyevm.w3

    # A direct registration: the AssetRegistered event gives the chain record.
    event = registry.register(Registration(b32(manifest.tree.root), b32(manifest.hash_hex), manifest.rights_bitmask, 1))
    record = ChainRecord(
        chain_id=w3.eth.chain_id,
        contract=registry.address,
        tx_hash=event.tx.tx_hash,
        block_number=event.tx.block_number,
        block_hash=event.tx.block_hash,
        timestamp=event.registered_at,
        sender=event.registrant,
        asset=DirectRegistration(
            asset_id=event.asset_id,
            content_root="0x" + event.content_root.hex(),
            manifest_hash="0x" + event.manifest_hash.hex(),
            rights_type=event.rights_type,
            classification=event.classification,
        ),
    )
    report = compute_bundle_report(build_bundle(manifest, record, [proof]))
    assert report.checked and "AssetRegistered" in report.not_checked[0]
    assert f"that asset {event.asset_id} still stands" in report.not_checked[1]
    name, expected = record.expected_event()
    assert name == "AssetRegistered"
    assert expected["assetId"] == event.asset_id and expected["registeredAt"] == event.registered_at

    # A batch of records: this one among others, checked on chain with verifyBatchRecord.
    records = [
        (manifest.tree.root, manifest.hash_hex, manifest.rights_bitmask, 2),
        ("0x" + "11" * 32, "0x" + "12" * 32, 3, 0),
        ("0x" + "21" * 32, "0x" + "22" * 32, 7, 3),
    ]
    batch = StandardMerkleTree.of(records, RECORD_ENCODING)
    batch_manifest = "0x" + "99" * 32
    anchored = registry.anchor_batch(batch.root, len(records), b32(batch_manifest))
    member_proof = batch.get_proof(0)
    root, manifest_hash = b32(manifest.tree.root), b32(manifest.hash_hex)
    rights = manifest.rights_bitmask
    assert registry.verify_batch_record(anchored.batch_id, root, manifest_hash, rights, 2, member_proof) is True
    assert registry.verify_batch_record(anchored.batch_id, root, manifest_hash, rights, 3, member_proof) is False
    membership = ChainRecord(
        chain_id=w3.eth.chain_id,
        contract=registry.address,
        tx_hash=anchored.tx.tx_hash,
        block_number=anchored.tx.block_number,
        timestamp=anchored.anchored_at,
        sender=anchored.anchorer,
        batch=BatchMembership(
            batch_id=anchored.batch_id,
            batch_root=batch.root_hex,
            batch_manifest_hash=batch_manifest,
            content_root=manifest.tree.root,
            manifest_hash=manifest.hash_hex,
            rights_type=manifest.rights_bitmask,
            classification=2,
            proof=["0x" + p.hex() for p in member_proof],
        ),
    )
    report = compute_bundle_report(build_bundle(manifest, membership, [proof]))
    assert any(f"member of batch {anchored.batch_id}" in line for line in report.checked)
    assert len(report.not_checked) == 1 and "BatchAnchored" in report.not_checked[0]  # a batch is never revoked


def direct_record(chain: Chain, event: AssetRecord) -> ChainRecord:
    return ChainRecord(
        chain_id=chain.w3.eth.chain_id, contract=chain.deployment.asset_registry, tx_hash=event.tx.tx_hash,
        block_number=event.tx.block_number, block_hash=event.tx.block_hash, timestamp=event.registered_at,
        sender=event.registrant,
        asset=DirectRegistration(asset_id=event.asset_id, content_root="0x" + event.content_root.hex(),
                                 manifest_hash="0x" + event.manifest_hash.hex(), rights_type=event.rights_type,
                                 classification=event.classification),
    )


def test_a_sealed_root_is_committed_then_registered_where_commitments_are_required(
    pyevm_commits: Chain, tmp_path: Path,
) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"committed first" * 50)
    sealed = seal(data, SealOptions(chunk_size=64))
    root, manifest_hash = b32(sealed.root), b32(sealed.manifest_hash)
    registration = Registration(root, manifest_hash, sealed.manifest.rights_bitmask, 1)
    registry = pyevm_commits.as_(pyevm_commits.owner).registry
    salt = bytes(range(32))
    with pytest.raises(ContractRevert) as uncommitted:
        registry.register(registration, salt)
    assert uncommitted.value.name == "CommitmentNotFound"
    commitment = registry.make_commitment(root, pyevm_commits.owner.address, salt)
    made = registry.commit(commitment)
    assert registry.committed_at(commitment) == pyevm_commits.now()
    pyevm_commits.travel(registry.min_commit_age())
    event = registry.register(registration, salt)
    assert (event.content_root, event.status) == (root, AssetStatus.Active)
    assert made.tx.block_number < event.tx.block_number and registry.committed_at(commitment) == 0  # spent
    report = compute_bundle_report(build_bundle(sealed.manifest, direct_record(pyevm_commits, event),
                                                [prove(data, sealed.manifest, chunk=2)]))
    assert "proof 0: chunk 2 (bytes 128..191) is in the tree" in report.checked


def test_a_bundle_outlives_a_rejected_registration_so_its_standing_is_left_to_the_chain(
    pyevm_review: Chain, tmp_path: Path,
) -> None:
    """v2 releases a rejected registration's root: the bundle of the first registration still checks
    offline, which is why the report lists the asset's status now as not checked."""
    data = tmp_path / "data.bin"
    data.write_bytes(b"claimed by two" * 50)
    sealed = seal(data, SealOptions(chunk_size=64))
    registration = Registration(b32(sealed.root), b32(sealed.manifest_hash), sealed.manifest.rights_bitmask, 0)
    chain = pyevm_review
    first = chain.as_(chain.user).registry.register(registration)
    assert first.status is AssetStatus.Pending
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    chain.as_(chain.reviewer).registry.reject_registration(first.asset_id, b"\x01" * 32)
    second = chain.as_(chain.owner).registry.register(registration)  # the root was released
    reader = chain.reader.registry
    assert reader.asset_id_of(b32(sealed.root)) == second.asset_id != first.asset_id
    assert reader.status_of(first.asset_id) is AssetStatus.Rejected
    chain.travel(chain.deployment.config.notice_period)
    assert reader.status_of(second.asset_id) is AssetStatus.Active  # its notice passed without an objection
    report = compute_bundle_report(build_bundle(sealed.manifest, direct_record(chain, first),
                                                [prove(data, sealed.manifest, chunk=0)]))
    assert report.not_checked[1].startswith(f"chain: that asset {first.asset_id} still stands")
