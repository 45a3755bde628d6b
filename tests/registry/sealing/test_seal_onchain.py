"""Our proofs verify in MerkleProof.sol: through AssetRegistry.anchorBatch + verifyBatchMember/verifyBatchRecord
(py-evm), and a registration's receipt becomes an evidence bundle that checks offline."""

from __future__ import annotations

from pathlib import Path

from dataseal.chain.contracts import decode_events, read, transact
from dataseal.registry.evidence import AssetRecord, BatchMembership, ChainRecord, build_bundle, compute_bundle_report
from dataseal.registry.merkle import StandardMerkleTree
from dataseal.registry.sealing.options import SealOptions
from dataseal.registry.sealing.seal import prove, seal
from tests.conftest import PyEvmChain

RECORD_ENCODING = ["bytes32", "bytes32", "uint8", "uint8"]


def b32(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text[2:])


def test_chunk_proofs_verify_on_chain_against_the_anchored_root(pyevm: PyEvmChain, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 5)  # 1280 bytes: 20 chunks of 64
    sealed = seal(data, SealOptions(chunk_size=64))
    registry = pyevm.contracts.asset_registry
    receipt = transact(
        pyevm.w3,
        pyevm.owner,
        registry.functions.anchorBatch(b32(sealed.root), sealed.leaf_count, b32(sealed.manifest_hash)),
        "anchor",
    )
    (anchored,) = [e for e in decode_events(pyevm.contracts, receipt) if e.name == "BatchAnchored"]
    batch_id = anchored.args["batchId"]
    for chunk in (0, 7, 19):
        proof = prove(data, sealed.manifest, chunk=chunk)
        siblings = [b32(p) for p in proof.proof]
        assert read(registry.functions.verifyBatchMember(batch_id, b32(proof.leaf), siblings), "verify") is True
    proof = prove(data, sealed.manifest, chunk=7)
    siblings = [b32(p) for p in proof.proof]
    wrong_leaf = prove(data, sealed.manifest, chunk=8).leaf
    assert read(registry.functions.verifyBatchMember(batch_id, b32(wrong_leaf), siblings), "verify") is False
    assert read(registry.functions.verifyBatchMember(batch_id, b32(proof.leaf), siblings[:-1]), "verify") is False
    flipped = bytes([siblings[0][0] ^ 1]) + siblings[0][1:]
    assert (
        read(registry.functions.verifyBatchMember(batch_id, b32(proof.leaf), [flipped, *siblings[1:]]), "verify")
        is False
    )


def test_a_registration_and_a_batch_membership_become_bundles(pyevm: PyEvmChain, tmp_path: Path) -> None:
    table = tmp_path / "people.csv"
    table.write_text("id,name\n1,alice\n2,bob\n")
    sealed = seal(table, SealOptions(rows=True))
    manifest = sealed.manifest
    proof = prove(table, manifest, row=0)
    registry, w3 = pyevm.contracts.asset_registry, pyevm.w3

    # A direct registration: the AssetRegistered event gives the chain record.
    receipt = transact(
        w3,
        pyevm.owner,
        registry.functions.register(b32(manifest.tree.root), b32(manifest.hash_hex), manifest.rights_bitmask, 1, 0),
        "register",
    )
    (event,) = [e for e in decode_events(pyevm.contracts, receipt) if e.name == "AssetRegistered"]
    record = ChainRecord(
        chain_id=w3.eth.chain_id,
        contract=registry.address,
        tx_hash=receipt["transactionHash"].to_0x_hex(),
        block_number=receipt["blockNumber"],
        block_hash=receipt["blockHash"].to_0x_hex(),
        timestamp=event.args["registeredAt"],
        sender=event.args["registrant"],
        asset=AssetRecord(
            asset_id=event.args["assetId"],
            content_root="0x" + event.args["contentRoot"].hex(),
            manifest_hash="0x" + event.args["manifestHash"].hex(),
            rights_type=event.args["rightsType"],
            classification=event.args["classification"],
        ),
    )
    report = compute_bundle_report(build_bundle(manifest, record, [proof]))
    assert report.checked and "AssetRegistered" in report.not_checked[0]
    name, expected = record.expected_event()
    assert name == event.name
    assert expected["assetId"] == event.args["assetId"] and expected["registeredAt"] == event.args["registeredAt"]

    # A batch of records: this one among others, checked on chain with verifyBatchRecord.
    records = [
        (manifest.tree.root, manifest.hash_hex, manifest.rights_bitmask, 2),
        ("0x" + "11" * 32, "0x" + "12" * 32, 3, 0),
        ("0x" + "21" * 32, "0x" + "22" * 32, 7, 3),
    ]
    batch = StandardMerkleTree.of(records, RECORD_ENCODING)
    batch_manifest = "0x" + "99" * 32
    receipt = transact(
        w3, pyevm.owner, registry.functions.anchorBatch(batch.root, len(records), b32(batch_manifest)), "anchor"
    )
    (anchored,) = [e for e in decode_events(pyevm.contracts, receipt) if e.name == "BatchAnchored"]
    member_proof = batch.get_proof(0)
    assert (
        read(
            registry.functions.verifyBatchRecord(
                anchored.args["batchId"],
                b32(manifest.tree.root),
                b32(manifest.hash_hex),
                manifest.rights_bitmask,
                2,
                member_proof,
            ),
            "verify",
        )
        is True
    )
    assert (
        read(
            registry.functions.verifyBatchRecord(
                anchored.args["batchId"],
                b32(manifest.tree.root),
                b32(manifest.hash_hex),
                manifest.rights_bitmask,
                3,
                member_proof,
            ),
            "verify",
        )
        is False
    )
    membership = ChainRecord(
        chain_id=w3.eth.chain_id,
        contract=registry.address,
        tx_hash=receipt["transactionHash"].to_0x_hex(),
        block_number=receipt["blockNumber"],
        timestamp=anchored.args["anchoredAt"],
        sender=anchored.args["anchorer"],
        batch=BatchMembership(
            batch_id=anchored.args["batchId"],
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
    assert any(f"member of batch {anchored.args['batchId']}" in line for line in report.checked)
