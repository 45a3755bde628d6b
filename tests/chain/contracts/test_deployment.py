"""The deployment record: one JSON file of chain id -> deployment, written atomically; checked live on a node."""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from dataseal.chain.contracts.artifacts import code_sha256, load_artifact, strip_metadata
from dataseal.chain.contracts.deployment import (
    DEFAULT_ADMIN_DELAY,
    DEFAULT_MAX_COMMIT_AGE,
    DEFAULT_MIN_COMMIT_AGE,
    ContractConfig,
    Deployment,
    DeploymentRecordError,
    commitments_by_default,
    contract_status,
    deployments_path,
    get_deployment,
    live_deployment,
    load_deployments,
    remove_deployment,
    save_deployment,
    verify_deployment,
)
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.errors import ArtifactError, ContractsNotDeployed, DeploymentError, OutdatedDeployment
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
        config=ContractConfig(notice_period=3600, min_commit_age=60, max_commit_age=600, admin_delay=7),
        artifacts={"AssetRegistry": "aa" * 32},
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
    with pytest.raises(DeploymentError, match="config must be an object"):
        Deployment.from_json({**sample().to_json(), "config": 5})
    with pytest.raises(DeploymentError, match=r"config has unknown keys \['review'\]"):
        Deployment.from_json({**sample().to_json(), "config": {"review": 1}})
    with pytest.raises(DeploymentError, match="malformed: the commitment ages must satisfy"):
        Deployment.from_json({**sample().to_json(), "config": {"min_commit_age": 9, "max_commit_age": 9}})
    with pytest.raises(DeploymentError, match="JSON object"):
        Deployment.from_json([1, 2])


def test_the_record_carries_the_deployment_constants_and_says_what_they_mean() -> None:
    data = sample().to_json()
    assert data["config"] == {"notice_period": 3600, "min_commit_age": 60, "max_commit_age": 600, "admin_delay": 7}
    assert data["review_mode"] is True and data["commit_required"] is True  # derived, for people reading the file
    plain = sample(config=ContractConfig()).to_json()
    assert plain["review_mode"] is False and plain["commit_required"] is False
    assert Deployment.from_json(data).config.as_tuple() == (7, 3600, 60, 600)  # the constructor's order


def test_contract_config_defaults_and_commitments() -> None:
    assert ContractConfig() == ContractConfig(0, 0, 0, DEFAULT_ADMIN_DELAY)
    assert not ContractConfig().review_mode and not ContractConfig().commit_required
    committed = ContractConfig.with_commits(notice_period=60)
    assert (committed.min_commit_age, committed.max_commit_age) == (DEFAULT_MIN_COMMIT_AGE, DEFAULT_MAX_COMMIT_AGE)
    assert committed.commit_required and committed.review_mode


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"notice_period": -1}, "notice period must be a whole number of seconds from 0 to 4294967295, got -1"),
        ({"notice_period": 2**32}, "notice period must be a whole number of seconds from 0 to 4294967295"),
        ({"admin_delay": 2**48}, "admin delay must be a whole number of seconds from 0 to 281474976710655"),
        ({"admin_delay": True}, "admin delay must be a whole number"),
        ({"min_commit_age": 0, "max_commit_age": 10}, "0 < minimum < maximum, got minimum 0 s and maximum 10 s"),
        ({"min_commit_age": 10, "max_commit_age": 10}, "0 < minimum < maximum"),
        ({"min_commit_age": 10}, "a minimum commitment age \\(10 s\\) needs a maximum"),
    ],
)
def test_contract_config_refuses_what_the_contract_would(changes: dict[str, object], needle: str) -> None:
    with pytest.raises(DeploymentError, match=needle) as refused:
        ContractConfig(**changes)  # type: ignore[arg-type]
    assert refused.value.hint


def test_commitments_are_required_by_default_except_on_local_development_chains() -> None:
    for local in (31337, 1337, DEFAULT_CHAIN_ID):
        assert not commitments_by_default(local)
    for public in (1, 10, 137, 11155111, 8453):
        assert commitments_by_default(public)


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


def v1_record(chain_id: int = 31337) -> dict[str, object]:
    """An entry as the dataseal of contracts v1 wrote it: review_mode, no config."""
    data = sample(chain_id).to_json()
    return {**{k: v for k, v in data.items() if k not in ("config", "commit_required")}, "review_mode": True}


def test_a_record_from_before_contracts_v2_is_refused_not_read_with_defaults() -> None:
    """The old from_json read it as a v2 deployment with ContractConfig() (no review, no commitments)."""
    with pytest.raises(OutdatedDeployment) as refused:
        Deployment.from_json(v1_record())
    assert refused.value.message == (f"the deployment record predates contracts v2 (it has no config): its contracts "
                                     f"(AssetRegistry at {A}) are the v1 ones, which this version of dataseal cannot "
                                     "use")
    assert refused.value.addresses == {"AssetRegistry": A, "GrantRegistry": B, "TransactionLedger": C}
    assert refused.value.hint.startswith("deploy the contracts again") and "restarting its node" in refused.value.hint
    assert "the registrations made under the old contracts stay there" in refused.value.hint
    assert "--" not in refused.value.hint and isinstance(refused.value, DeploymentError)


def test_an_entry_from_before_contracts_v2_leaves_the_other_chains_readable_and_is_replaced(tmp_path: Path) -> None:
    path = deployments_path(tmp_path)
    path.write_text(json.dumps({"77": v1_record(77), "5": sample(5).to_json()}))
    assert load_deployments(tmp_path) == {5: Deployment.from_json(sample(5).to_json())}  # left out, not fatal
    with pytest.raises(OutdatedDeployment) as outdated:
        get_deployment(tmp_path, 77)
    # the chain named once (it read "…, chain 77: the deployment record of chain 77 predates…")
    assert outdated.value.message.startswith(f"{path}, chain 77: the deployment record predates contracts v2")
    assert outdated.value.message.count("77") == 1 and outdated.value.addresses["AssetRegistry"] == A
    save_deployment(tmp_path, sample(6))  # another chain's write keeps the v1 entry as it was
    assert json.loads(path.read_text())["77"] == v1_record(77)
    assert sorted(load_deployments(tmp_path)) == [5, 6]
    save_deployment(tmp_path, sample(77))  # a deployment to its chain replaces it
    assert get_deployment(tmp_path, 77) == Deployment.from_json(sample(77).to_json())
    path.write_text(json.dumps({"77": v1_record(77)}))
    assert remove_deployment(tmp_path, 77) and json.loads(path.read_text()) == {}


def test_the_code_hash_strips_the_metadata_trailer_the_runtime_code_ends_with() -> None:
    artifact = load_artifact("GrantRegistry")
    code = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    length = int.from_bytes(code[-2:], "big")
    trailer = code[-(length + 2):]
    # the trailer is one CBOR map ({"ipfs": ..., "solc": ...}: a2; a1/a3/a4 with other settings), then its length
    assert trailer[0] in (0xA1, 0xA2, 0xA3, 0xA4) and trailer[-2:] == length.to_bytes(2, "big")
    assert b"solc" in trailer and b"ipfs" in trailer  # it is the metadata map, not the tail of the code
    assert strip_metadata(code) == code[:-(length + 2)] and strip_metadata(code) + trailer == code
    assert artifact.code_sha256 == hashlib.sha256(code[:-(length + 2)]).hexdigest() != artifact.sha256
    # another metadata hash (a comment edit) keeps the code hash; a changed instruction does not
    other_metadata = code[:-(length + 2)] + bytes([trailer[0]]) + bytes(len(trailer) - 3) + trailer[-2:]
    assert code_sha256(other_metadata.hex()) == artifact.code_sha256
    assert code_sha256("0x" + (b"\x00" + code[1:]).hex()) != artifact.code_sha256
    with pytest.raises(ArtifactError, match="ends with a metadata length of 65535"):
        strip_metadata(b"\x60\xff\xff")


def test_stale_code_is_the_contracts_whose_code_is_not_the_shipped_one() -> None:
    names = ("AssetRegistry", "GrantRegistry", "TransactionLedger")
    shipped = {name: load_artifact(name).code_sha256 for name in names}
    files = {name: load_artifact(name).sha256 for name in names}
    assert sample(code=shipped, artifacts=files).stale_code() == []
    assert sample(code={}, artifacts={}).stale_code() == []  # nothing recorded, nothing to compare
    assert sample(code={**shipped, "GrantRegistry": "00" * 32}).stale_code() == ["GrantRegistry"]
    partial = {k: v for k, v in shipped.items() if k != "TransactionLedger"}
    assert sample(code=partial).stale_code() == ["TransactionLedger"]
    # the artifact files' sha256 changes with the compiler's metadata hash (a comment edit): with code recorded, it
    # is not compared
    assert sample(code=shipped, artifacts={**files, "AssetRegistry": "00" * 32}).stale_code() == []
    # a record with artifacts only (a development build's) is compared by them; it went unchecked before
    assert sample(code={}, artifacts=files).stale_code() == []
    assert sample(code={}, artifacts={**files, "AssetRegistry": "00" * 32}).stale_code() == ["AssetRegistry"]


def test_a_deployment_records_the_code_it_was_made_with_and_it_round_trips(backend: Backend) -> None:
    deployment = backend.deploy()
    assert deployment.code == {name: load_artifact(name).code_sha256
                               for name in ("AssetRegistry", "GrantRegistry", "TransactionLedger")}
    assert Deployment.from_json(deployment.to_json()) == deployment
    with pytest.raises(DeploymentError, match="code must map contract names to sha256 digests"):
        Deployment.from_json({**deployment.to_json(), "code": {"AssetRegistry": 1}})
    # the ABI digests a development build recorded are ignored, whatever they hold
    assert Deployment.from_json({**deployment.to_json(), "interfaces": {"AssetRegistry": 1}}) == deployment


def test_a_deployment_of_other_artifact_files_but_the_same_code_is_used(backend: Backend) -> None:
    """A rebuild that changes only comments changes the metadata hash, so the artifact files' sha256, and not the
    code: the record is used."""
    deployment = backend.deploy()
    rebuilt = replace(deployment, artifacts={name: "00" * 32 for name in deployment.artifacts})
    save_deployment(backend.tmp, rebuilt)
    assert live_deployment(backend.node, backend.tmp) == rebuilt


def test_a_deployment_of_other_artifact_files_and_no_code_hashes_is_refused(backend: Backend) -> None:
    """A record written before ``code`` existed, of other artifacts: it used to go unchecked."""
    deployment = backend.deploy()
    old = replace(deployment, code={}, artifacts={**deployment.artifacts, "TransactionLedger": "00" * 32})
    save_deployment(backend.tmp, old)
    with pytest.raises(OutdatedDeployment, match=r"\(the code of TransactionLedger differs\)"):
        live_deployment(backend.node, backend.tmp)
    verify_deployment(backend.node, replace(old, artifacts=deployment.artifacts))  # the same files: used


def test_a_deployment_of_other_contract_code_is_refused_against_a_node(backend: Backend) -> None:
    deployment = backend.deploy()
    stale = replace(deployment, code={**deployment.code, "AssetRegistry": "00" * 32})
    save_deployment(backend.tmp, stale)
    with pytest.raises(OutdatedDeployment) as refused:
        live_deployment(backend.node, backend.tmp)
    assert refused.value.message.startswith(
        f"stale contracts: the deployment record {deployments_path(backend.tmp)} says chain {deployment.chain_id} has "
        f"contracts (AssetRegistry at {deployment.asset_registry}) whose code is not the one this version "
        "of dataseal ships (the code of AssetRegistry differs)")
    assert refused.value.hint.startswith("deploy the contracts again")
    assert refused.value.addresses == deployment.addresses()
    with pytest.raises(OutdatedDeployment, match="stale contracts: the record says"):
        verify_deployment(backend.node, stale, source="the record")
    verify_deployment(backend.node, replace(deployment, code={}, artifacts={}))  # none recorded: nothing to compare
    # code missing is named first: that is what happened to the chain
    with pytest.raises(ContractsNotDeployed):
        verify_deployment(backend.node, replace(stale, grant_registry=D))


def test_a_node_refuses_a_record_from_before_contracts_v2(backend: Backend) -> None:
    deployment = backend.deploy()
    v1 = {k: v for k, v in deployment.to_json().items() if k not in ("config", "commit_required")}
    deployments_path(backend.tmp).write_text(json.dumps({str(deployment.chain_id): v1}))
    with pytest.raises(OutdatedDeployment, match="predates contracts v2"):
        live_deployment(backend.node, backend.tmp)
