"""The deployment record: one JSON file of chain id -> deployment, written atomically; checked live on a node."""
from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from dataseal.chain.contracts.deployment import (
    Deployment,
    DeploymentRecordError,
    contract_status,
    deployments_path,
    get_deployment,
    live_deployment,
    load_deployments,
    remove_deployment,
    save_deployment,
)
from dataseal.chain.errors import DeploymentError
from tests.chain.conftest import Backend


def test_deployment_from_the_record_is_checked_live(backend: Backend) -> None:
    deployment = backend.deploy()
    save_deployment(backend.tmp, deployment)
    assert live_deployment(backend.node, backend.tmp) == deployment
    statuses = contract_status(backend.node, deployment)
    assert [s.name for s in statuses] == ["AssetRegistry", "GrantRegistry", "TransactionLedger"]
    assert all(s.deployed and s.code_size > 1000 for s in statuses)


A, B, C, D = ("0x" + c * 40 for c in "abcd")


def sample(chain_id: int = 31337, **changes: object) -> Deployment:
    base = Deployment(
        chain_id=chain_id, asset_registry=A, grant_registry=B, transaction_ledger=C, deploy_block=3, deployer=D,
        review_mode=False, artifacts={"AssetRegistry": "aa" * 32},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_round_trip_through_json() -> None:
    d = Deployment.from_json(sample().to_json())
    assert d.asset_registry == "0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa"  # checksummed on the way in
    assert Deployment.from_json(d.to_json()) == d
    assert Deployment.from_json(json.loads(json.dumps(d.to_json()))) == d


def test_from_json_tolerates_new_keys_and_defaults_but_refuses_missing_or_bad_ones() -> None:
    data = sample().to_json()
    data["added_by_a_newer_version"] = 1
    del data["artifacts"]
    assert Deployment.from_json(data).artifacts == {}
    with pytest.raises(DeploymentError, match="lacks grant_registry"):
        Deployment.from_json({k: v for k, v in sample().to_json().items() if k != "grant_registry"})
    with pytest.raises(DeploymentError, match="chain_id must be an integer"):
        Deployment.from_json({**sample().to_json(), "chain_id": "1"})
    with pytest.raises(DeploymentError, match="malformed"):
        Deployment.from_json({**sample().to_json(), "asset_registry": "0x12"})
    with pytest.raises(DeploymentError, match="review_mode"):
        Deployment.from_json({**sample().to_json(), "review_mode": "no"})
    with pytest.raises(DeploymentError, match="JSON object"):
        Deployment.from_json([1, 2])


def test_save_load_get_per_chain(tmp_path: Path) -> None:
    assert load_deployments(tmp_path) == {}
    assert get_deployment(tmp_path, 31337) is None
    path = save_deployment(tmp_path, sample(31337))
    save_deployment(tmp_path, sample(7, deploy_block=9))
    assert path == deployments_path(tmp_path)
    on_disk = json.loads(path.read_text())
    assert sorted(on_disk) == ["31337", "7"]
    assert on_disk["7"]["deploy_block"] == 9
    assert load_deployments(tmp_path) == {31337: Deployment.from_json(sample(31337).to_json()),
                                          7: Deployment.from_json(sample(7, deploy_block=9).to_json())}
    save_deployment(tmp_path, sample(7, deploy_block=11))  # a redeploy replaces that chain's entry only
    assert get_deployment(tmp_path, 7).deploy_block == 11  # type: ignore[union-attr]
    assert get_deployment(tmp_path, 31337) is not None
    assert remove_deployment(tmp_path, 7) and not remove_deployment(tmp_path, 7)
    assert list(load_deployments(tmp_path)) == [31337]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_concurrent_writers_for_different_chains_keep_every_entry(tmp_path: Path) -> None:
    threads = [threading.Thread(target=save_deployment, args=(tmp_path, sample(i))) for i in range(1, 21)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(load_deployments(tmp_path)) == list(range(1, 21))


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"main": {}}', "has key 'main'"),
        ('{"5": {"chain_id": 5}}', "chain 5: the deployment record lacks"),
    ],
)
def test_a_damaged_record_is_a_clear_error(tmp_path: Path, content: str, needle: str) -> None:
    deployments_path(tmp_path).write_text(content)
    with pytest.raises(DeploymentRecordError, match=needle):
        load_deployments(tmp_path)


def test_key_and_chain_id_must_agree(tmp_path: Path) -> None:
    deployments_path(tmp_path).write_text(json.dumps({"5": sample(6).to_json()}))
    with pytest.raises(DeploymentRecordError, match="under chain 5 says chain_id 6"):
        load_deployments(tmp_path)


def test_a_deployment_record_with_a_non_ascii_digit_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "deployments.json").write_text(json.dumps({"²": {}}))
    with pytest.raises(DeploymentRecordError):
        load_deployments(tmp_path)
