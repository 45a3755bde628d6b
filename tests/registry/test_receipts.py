"""Usage receipts: schema file, hash over canonical JSON, strict reading, batches and membership proofs."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.merkle import StandardMerkleTree, keccak256
from dataseal.registry.receipts import (
    ReceiptBatch,
    ReceiptError,
    UsageReceipt,
    build_receipt,
    compute_receipts_root,
    load_receipt,
    purpose_hash,
    read_receipt,
    read_receipts,
    receipt_json_schema,
    shipped_receipt_schema,
    verify_receipt_in_batch,
)
from dataseal.registry.scope import compute_index_root
from dataseal.registry.sealing.canonical import canonical_json_bytes

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "dataseal" / "registry" / "schemas" / "usage-receipt.schema.json"
LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def receipt(**changes: Any) -> UsageReceipt:
    values: dict[str, Any] = dict(
        chain_id=31337, grant_registry=LEDGER, grant_id=3, job_id="job-1", purpose="credit scoring model training",
        unit="row", indexes=["0-9", 20], started_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
        ended_at=datetime(2026, 3, 1, 13, tzinfo=UTC), units=5, result_hash="0x" + "ab" * 32,
    )
    values.update(changes)
    return build_receipt(**values)


def test_the_shipped_schema_is_the_models_schema() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == receipt_json_schema(), (
        "dataseal/registry/schemas/usage-receipt.schema.json is stale; regenerate it: "
        '.venv/bin/python -c "import json; '
        "from dataseal.registry.receipts import receipt_json_schema as s; "
        "open('dataseal/registry/schemas/usage-receipt.schema.json', 'w')"
        ".write(json.dumps(s(), indent=2, ensure_ascii=False) + '\\n')\""
    )
    assert shipped_receipt_schema() == receipt_json_schema()
    schema = receipt_json_schema()
    assert schema["properties"]["kind"] == {"const": "dataseal/usage-receipt", "title": "Kind", "type": "string"}
    assert set(schema["required"]) == {f.alias for f in UsageReceipt.model_fields.values()}  # every field, always


def test_the_hash_is_keccak_of_the_canonical_json_and_what_a_file_reads_back_as(tmp_path: Path) -> None:
    made = receipt()
    data = made.to_json_data()
    assert data["kind"] == "dataseal/usage-receipt" and data["version"] == 1
    assert data["touched"] == {"unit": "row", "count": 11, "root": "0x" + compute_index_root(
        [*range(10), 20]).hex(), "indexes": [*range(10), 20]}
    assert data["startedAt"] == "2026-03-01T12:00:00Z" and data["grantRegistry"] == LEDGER
    assert made.hash == keccak256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    assert made.hash == keccak256(canonical_json_bytes(data))
    path = tmp_path / "r.json"
    path.write_text(made.to_text())
    assert read_receipt(path) == made and read_receipt(path).hash == made.hash
    assert made.purpose_hash == purpose_hash("credit scoring model training") == keccak256(
        b"credit scoring model training")
    hidden = receipt(disclose_indexes=False)
    assert hidden.touched.indexes is None and hidden.touched.root == made.touched.root
    assert hidden.hash != made.hash
    by_root = receipt(indexes=None, touched_root=made.touched.root, touched_count=11)
    assert by_root == hidden


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d.update(kind="dataseal.manifest"),
         "is not a dataseal usage receipt: its kind is 'dataseal.manifest'"),
        (lambda d: d.update(version=2), "has receipt version 2; this dataseal reads version 1: upgrade dataseal"),
        (lambda d: d.update(units="5"), "units: Input should be a valid integer"),
        (lambda d: d.update(units=0), "units: Input should be greater than or equal to 1"),
        (lambda d: d.update(units=2**64), "units: Input should be less than or equal to"),
        (lambda d: d.update(grant_id=3), "grant_id: Extra inputs are not permitted (keys are camelCase: grantId)"),
        (lambda d: d.update(grantRegistry=LEDGER.lower()), "is not an EIP-55 checksummed address"),
        (lambda d: d.update(endedAt="2026-03-01T11:00:00Z"), "endedAt 2026-03-01T11:00:00Z is before startedAt"),
        (lambda d: d.update(startedAt="2026-02-30T11:00:00Z"), "is not a real date and time"),
        (lambda d: d.update(startedAt="2026-03-01 11:00"), "startedAt: String should match pattern"),
        (lambda d: d.update(resultHash="0x12"), "resultHash: String should match pattern"),
        (lambda d: d["touched"].update(count=3), "touched.count is 3, but touched.indexes lists 11"),
        (lambda d: d["touched"].update(indexes=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 21]),
         "but the indexes listed have the root"),
        (lambda d: d["touched"].update(indexes=[1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 20]), "ascending order"),
    ],
)
def test_a_receipt_that_does_not_validate_is_refused_saying_why(change: Any, needle: str) -> None:
    data = json.loads(json.dumps(receipt().to_json_data()))
    change(data)
    with pytest.raises(ReceiptError) as caught:
        load_receipt(data, where="r.json")
    assert needle in str(caught.value)


def test_a_receipt_not_in_dataseals_form_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(receipt().to_json_data())[:50])
    with pytest.raises(ReceiptError, match="is not valid JSON"):
        read_receipt(path)
    data = receipt().to_json_data()
    path.write_text(json.dumps(data).replace('"units": 5', '"units": 5, "units": 6'))
    with pytest.raises(ReceiptError, match="the key 'units' appears twice"):
        read_receipt(path)
    with pytest.raises(ReceiptError, match="does not exist"):
        read_receipt(tmp_path / "missing.json")
    with pytest.raises(ReceiptError, match="is not a JSON object"):
        load_receipt([1, 2])


def test_building_refuses_what_does_not_fit() -> None:
    with pytest.raises(ReceiptError, match="needs what the job touched"):
        receipt(indexes=None)
    with pytest.raises(ReceiptError, match="touched indexes: item 1 is -1, a negative index"):
        receipt(indexes=[-1])
    with pytest.raises(ReceiptError, match="the receipt is invalid: grant_registry: String should match"):
        receipt(grant_registry="0x1234")
    with pytest.raises(ReceiptError, match="has no time zone"):
        receipt(started_at=datetime(2026, 3, 1))


def test_a_batch_commits_the_standard_tree_of_receipt_hashes_and_proves_each() -> None:
    receipts = [receipt(job_id=f"job-{i}") for i in range(5)]
    batch = ReceiptBatch(receipts)
    assert batch.root == StandardMerkleTree.of([[r.hash] for r in receipts], ["bytes32"]).root
    assert compute_receipts_root(receipts) == batch.root and batch.units == 25 and len(batch) == 5
    for one in receipts:
        proof = batch.proof(one)
        verify_receipt_in_batch(one, proof, batch.root)
    proof = batch.proof(receipts[0])
    with pytest.raises(ReceiptError, match="the batch proof is of receipt"):
        verify_receipt_in_batch(receipts[1], proof)
    with pytest.raises(ReceiptError, match="is for batch"):
        verify_receipt_in_batch(receipts[0], proof, b"\1" * 32)
    with pytest.raises(ReceiptError, match="does not lead to its root"):
        verify_receipt_in_batch(receipts[0], proof.model_copy(update={"proof": proof.proof[1:]}))
    with pytest.raises(ReceiptError, match="is not in the batch"):
        batch.proof(receipt(job_id="other"))
    with pytest.raises(ReceiptError, match="lists one receipt twice"):
        ReceiptBatch([receipts[0], receipts[0]])
    with pytest.raises(ReceiptError, match="at least one receipt"):
        ReceiptBatch([])


def test_a_folder_of_receipts(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.json").write_text(receipt(job_id=f"job-{i}").to_text())
    assert [r.job_id for r in read_receipts(tmp_path)] == ["job-0", "job-1", "job-2"]
    (tmp_path / "3.json").write_text(receipt(job_id="job-0").to_text())
    with pytest.raises(ReceiptError, match="is in .* twice"):
        read_receipts(tmp_path)
    with pytest.raises(ReceiptError, match="holds no receipt"):
        read_receipts(_empty(tmp_path))
    with pytest.raises(ReceiptError, match="is not a folder"):
        read_receipts(tmp_path / "nope")


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_a_folder_of_batch_proofs(tmp_path: Path) -> None:
    """The files `use-batch --proofs` writes (camelCase JSON), by receipt hash."""
    from dataseal.registry.receipts import read_batch_proofs

    batch = ReceiptBatch([receipt(job_id="a"), receipt(job_id="b")])
    folder = tmp_path / "proofs"
    folder.mkdir()
    for one in batch.receipts:
        (folder / f"{one.hash_hex}.json").write_text(batch.proof(one).model_dump_json(by_alias=True, indent=2))
    proofs = read_batch_proofs(folder)
    assert sorted(proofs) == sorted(r.hash_hex for r in batch.receipts)
    assert all(p.receipts_root == batch.root_hex for p in proofs.values())
    other = ReceiptBatch([batch.receipts[0]]).proof(batch.receipts[0])
    (folder / "copy.json").write_text(other.model_dump_json(by_alias=True))
    with pytest.raises(ReceiptError, match="holds two different proofs of receipt"):
        read_batch_proofs(folder)
    (folder / "copy.json").write_text(receipt().to_text())
    with pytest.raises(ReceiptError, match=r"copy.json is not a batch proof: "):
        read_batch_proofs(folder)
    with pytest.raises(ReceiptError, match="holds no batch proof"):
        read_batch_proofs(_empty(tmp_path))
    with pytest.raises(ReceiptError, match="is not a folder"):
        read_batch_proofs(tmp_path / "nope")


def test_a_receipt_against_its_grants_window_and_the_asset() -> None:
    from dataseal.registry.receipts import AssetLeaves, verify_receipt_in_asset, verify_receipt_in_window

    made = receipt()  # 2026-03-01 12:00 .. 13:00, rows 0-9 and 20
    start, end = int(datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()), int(datetime(2026, 3, 1, 13, tzinfo=UTC)
                                                                             .timestamp())
    verify_receipt_in_window(made, start, end + 1)
    with pytest.raises(ReceiptError, match=r"the receipt says the job ran 2026-03-01T12:00:00Z \.\. "
                       r"2026-03-01T13:00:00Z, outside grant 3's window 2026-03-01T12:00:01Z \.\. "):
        verify_receipt_in_window(made, start + 1, end + 1)
    with pytest.raises(ReceiptError, match="outside grant 3's window") as caught:
        verify_receipt_in_window(made, start, end)  # the grant is not usable from its expiry on
    assert caught.value.kind == ErrorKind.CONFLICT
    verify_receipt_in_asset(made, AssetLeaves("row", 21))
    with pytest.raises(ReceiptError, match=r"touched 1 rows beyond the asset's 20 rows \(largest index 20, the last "
                       r"is 19\)"):
        verify_receipt_in_asset(made, AssetLeaves("row", 20))
    with pytest.raises(ReceiptError, match="counts rows, but the asset's leaves are chunks"):
        verify_receipt_in_asset(made, AssetLeaves("chunk", 100))
    private = receipt(disclose_indexes=False)
    with pytest.raises(ReceiptError, match="touched 11 rows, more than the asset's 3 rows"):
        verify_receipt_in_asset(private, AssetLeaves("row", 3))
