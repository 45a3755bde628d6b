"""Writes that survive reorganisations, and a node whose clock is not ours.

A reorganisation is made for real: on py-evm by reverting the chain to a snapshot and mining other blocks at the
same heights, on a hardhat node by ``evm_snapshot`` / ``evm_revert``. A rerun of ``register`` then finds its
earlier transactions gone and finishes the registration once: the same signed bytes handed over again when their
nonce is still the account's next one, else a new transaction once the chain says it has none. The wait for a
commitment's minimum age follows the chain's clock (a node ahead of ours, behind it, or not moving at all), with the
service's clock injected: nothing here waits for real.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from hexbytes import HexBytes
from sqlmodel import select
from web3 import Web3

from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployment import ContractConfig
from dataseal.chain.contracts.records import Registration
from dataseal.chain.sending.sender import LocalSender
from dataseal.errors import ErrorKind
from dataseal.registry import outbox
from dataseal.registry.certificates import read_certificate
from dataseal.registry.db.models.local import ManifestRecord, OutboxTx
from dataseal.registry.registry import Registry
from dataseal.registry.services import assets
from dataseal.registry.services.assets import RegistrationError
from dataseal.registry.services.commitments import COMMIT_AGE_PHASE, COMMIT_WAIT_GRACE
from dataseal.registry.services.writer import Clock
from tests.conftest import Chain
from tests.registry.services.conftest import RegistryFor, chain_clock
from tests.registry.services.test_assets import commits_by

MIN_AGE = 60  # ContractConfig.with_commits(): revealed one minute to one day after the commitment


def data_file(tmp_path: Path, label: str = "reorg") -> Path:
    path = tmp_path / f"{label}.bin"
    path.write_bytes(label.encode() * 200)
    return path


def outbox_rows(registry: Registry) -> dict[str, OutboxTx]:
    """The outbox's records by kind (commit, register), of which each test makes one."""
    with registry.db.session() as session:
        rows = list(session.exec(select(OutboxTx)))
    by_kind = {row.kind: row for row in rows}
    assert len(by_kind) == len(rows), [row.key for row in rows]  # nothing retired, nothing twice
    return by_kind


def fork(chain: Chain) -> Callable[[], None]:
    """A point to reorganise the py-evm chain back to: calling the result drops every block mined since."""
    assert chain.tester is not None
    snapshot = chain.tester.take_snapshot()

    def back() -> None:
        assert chain.tester is not None
        chain.tester.revert_to_snapshot(snapshot)
    return back


def canonical(chain: Chain, tx_hash: str) -> dict[str, Any]:
    """The receipt of ``tx_hash``, in a block that is the chain's at its height."""
    receipt = chain.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
    assert chain.w3.eth.get_block(receipt["blockNumber"])["hash"] == receipt["blockHash"]
    return dict(receipt)


# ---------------------------------------------------------------------------------- reorganisations (py-evm)


def test_a_registration_a_reorg_dropped_is_sent_again_once(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain, data = pyevm, data_file(tmp_path)
    registry = registry_for(chain, chain.owner)
    back = fork(chain)
    first = assets.register(registry, data)
    assert first.reorged == ()
    back()
    assert chain.tester is not None
    chain.tester.mine_blocks(2)  # other blocks at the heights the registration's block had
    assert chain.reader.registry.total_assets() == 0

    again = assets.register(registry, data)
    assert (again.asset_id, again.tx_hash) == (1, first.tx_hash)  # the same signed transaction, handed over again
    assert chain.reader.registry.total_assets() == 1
    receipt = canonical(chain, again.tx_hash)
    assert again.block_number == receipt["blockNumber"] != first.block_number
    assert again.resumed and not again.already_registered
    assert any(f"{first.tx_hash}, mined in block {first.block_number}, was dropped by a reorganisation" in line
               for line in again.reorged), again.reorged
    assert again.to_json()["reorged"] == list(again.reorged)
    row = outbox_rows(registry)["register"]
    assert (row.state, row.tx_hash, row.block_number, row.error) == \
        ("mined", again.tx_hash, again.block_number, None)
    # the certificate of the dropped block is replaced by one of the block that has the registration now
    assert again.certificate is not None and not again.certificate.reused
    cert = read_certificate(again.certificate.path)
    assert (cert.registration.block_number, cert.registration.block_hash) == \
        (again.block_number, HexBytes(receipt["blockHash"]).to_0x_hex())
    with registry.db.session() as session:
        assert session.exec(select(ManifestRecord)).one().asset_id == 1
    # and a third run finds it all in order
    third = assets.register(registry, data)
    assert third.already_registered and third.reorged == () and third.certificate is not None
    assert third.certificate.reused and third.tx_hash == first.tx_hash


def test_a_commitment_and_registration_a_reorg_dropped_are_finished_with_the_same_salt(
        pyevm_commits: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain, data = pyevm_commits, data_file(tmp_path, "committed")
    registry = registry_for(chain, chain.owner)
    back = fork(chain)
    first = assets.register(registry, data, clock=chain_clock(chain))
    commit_tx = outbox_rows(registry)["commit"].tx_hash
    back()
    assert chain.tester is not None
    chain.tester.mine_blocks(1)
    assert commits_by(chain, chain.owner.address) == 0

    again = assets.register(registry, data, clock=chain_clock(chain))
    assert (again.asset_id, again.tx_hash) == (1, first.tx_hash)
    assert chain.reader.registry.total_assets() == 1 and commits_by(chain, chain.owner.address) == 1
    rows = outbox_rows(registry)
    assert (rows["commit"].state, rows["commit"].tx_hash) == ("mined", commit_tx)  # the same commitment (same salt)
    canonical(chain, commit_tx)  # type: ignore[arg-type]
    assert rows["register"].block_number == canonical(chain, again.tx_hash)["blockNumber"]
    assert [line.split(":")[0] for line in again.reorged] == ["register", "commit"]


def test_a_dropped_registration_whose_nonce_was_taken_is_sent_afresh(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    """After the reorganisation the account's nonce went to another transaction: the old bytes can never be mined;
    the chain does not have the registration, so it is sent again — one new transaction."""
    chain, data = pyevm, data_file(tmp_path, "taken")
    registry = registry_for(chain, chain.owner)
    back = fork(chain)
    first = assets.register(registry, data, certificate=None)
    back()
    chain.owner.nonces.forget(chain.w3.eth.chain_id, chain.owner.address)
    chain.owner.send(chain.w3, {"to": chain.user.address, "value": 1})  # takes the registration's nonce
    again = assets.register(registry, data, certificate=None)
    assert again.asset_id == 1 and again.tx_hash != first.tx_hash and chain.reader.registry.total_assets() == 1
    canonical(chain, again.tx_hash)
    row = outbox_rows(registry)["register"]
    assert (row.state, row.tx_hash, row.attempts) == ("mined", again.tx_hash, 2)
    assert any("was dropped by a reorganisation" in line for line in again.reorged)


def test_a_registration_mined_again_in_another_block_is_followed(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    """The reorganisation put the same transaction in another block (as a node does with the transactions of the
    blocks it drops): the registration stands, and the records and the certificate follow it there."""
    chain, data = pyevm, data_file(tmp_path, "moved")
    registry = registry_for(chain, chain.owner)
    back = fork(chain)
    first = assets.register(registry, data)
    raw = outbox_rows(registry)["register"].raw_tx
    back()
    assert chain.tester is not None and raw is not None
    chain.tester.mine_blocks(3)
    chain.w3.eth.send_raw_transaction(HexBytes(raw))  # mined again, three blocks later
    moved = canonical(chain, first.tx_hash)["blockNumber"]
    assert moved != first.block_number

    again = assets.register(registry, data)
    assert again.already_registered and (again.tx_hash, again.block_number) == (first.tx_hash, moved)
    assert again.reorged == (f"register: transaction {first.tx_hash} is now in block {moved}, not "
                             f"{first.block_number} (a reorganisation mined it again)",)
    assert outbox_rows(registry)["register"].block_number == moved
    assert again.certificate is not None and not again.certificate.reused
    assert read_certificate(again.certificate.path).registration.block_number == moved


def test_a_receipt_a_node_still_serves_from_a_replaced_block_is_not_taken(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A node that still answers ``eth_getTransactionReceipt`` from the block a reorganisation replaced, until the
    transaction is mined again (an index not yet updated). py-evm forgets the receipt of a dropped block, so the
    node's answer is patched here (``Outbox._receipt``, where the outbox asks for receipts) to stand for such a node.
    The stale receipt is neither a reason to keep the record mined nor to finish it again at the dead block: the
    same signed transaction is handed over again and the record follows it to the block that has it."""
    chain, data = pyevm, data_file(tmp_path, "stale")
    registry = registry_for(chain, chain.owner)
    back = fork(chain)
    first = assets.register(registry, data, certificate=None)
    stale = chain.w3.eth.get_transaction_receipt(HexBytes(first.tx_hash))
    back()
    assert chain.tester is not None
    chain.tester.mine_blocks(2)  # other blocks at the heights the registration's block had
    assert chain.reader.registry.total_assets() == 0
    node_answer = outbox.Outbox._receipt
    served: list[int] = []

    def stale_until_mined_again(self: outbox.Outbox, tx_hash: str) -> Any:
        receipt = node_answer(self, tx_hash)
        if receipt is None and HexBytes(tx_hash) == HexBytes(first.tx_hash):
            served.append(int(stale["blockNumber"]))
            return stale
        return receipt

    monkeypatch.setattr(outbox.Outbox, "_receipt", stale_until_mined_again)
    again = assets.register(registry, data, certificate=None)
    assert served and set(served) == {first.block_number}  # the stale receipt was served, and refused
    assert (again.asset_id, again.tx_hash) == (1, first.tx_hash) and not again.already_registered
    assert chain.reader.registry.total_assets() == 1
    receipt = canonical(chain, again.tx_hash)
    assert again.block_number == receipt["blockNumber"] != first.block_number
    assert any(f"{first.tx_hash}, mined in block {first.block_number}, was dropped by a reorganisation" in line
               for line in again.reorged), again.reorged
    row = outbox_rows(registry)["register"]
    assert (row.state, row.tx_hash, row.block_number, row.error, row.attempts) == \
        ("mined", first.tx_hash, receipt["blockNumber"], None, 1)
    third = assets.register(registry, data, certificate=None)  # and a rerun finds it in order: no loop
    assert third.already_registered and third.reorged == () and third.block_number == receipt["blockNumber"]


def test_a_root_another_registered_after_a_reorg_is_refused_saying_what_happened(
        pyevm: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain, data = pyevm, data_file(tmp_path, "contested")
    registry = registry_for(chain, chain.owner)
    back = fork(chain)
    first = assets.register(registry, data, certificate=None)
    back()
    root = bytes.fromhex(first.content_root[2:])
    theirs = chain.as_(chain.user).registry.register(Registration(root, keccak(text="their manifest"), 1, 0))
    with pytest.raises(RegistrationError) as caught:
        assets.register(registry, data, certificate=None)
    assert f"is already registered as asset {theirs.asset_id} by {chain.user.address}" in caught.value.message
    assert f"your earlier registration of it is gone: register: transaction {first.tx_hash}" in caught.value.message
    assert "dropped by a reorganisation" in caught.value.message
    assert chain.reader.registry.total_assets() == 1  # theirs: nothing of ours was sent again
    row = outbox_rows(registry)["register"]
    assert (row.state, row.tx_hash) == ("sent", first.tx_hash) and "dropped by a reorganisation" in (row.error or "")


# ---------------------------------------------------------------------------------- the commitment's age


class LocalClock:
    """The service's clock: ``offset`` seconds from the chain's at first, then moved only by ``sleep`` (which
    also runs ``on_sleep(seconds)``: the chain's clock moving, or not). Counts the seconds slept."""

    def __init__(self, start: float, on_sleep: Callable[[float], object] = lambda seconds: None) -> None:
        self.time, self.slept, self.on_sleep = start, 0.0, on_sleep

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.time += seconds
        self.slept += seconds
        self.on_sleep(seconds)

    @property
    def clock(self) -> Clock:
        return Clock(now=self.now, sleep=self.sleep)


def test_the_wait_follows_the_chains_clock_when_ours_is_ahead(
        pyevm_commits: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    """Our clock an hour ahead of the node's: waiting by ours would reveal too early, again and again."""
    chain = pyevm_commits
    local = LocalClock(chain.now() + 3600, on_sleep=lambda seconds: chain.travel(max(1, int(seconds))))
    seen: list[tuple[str, int, int | None]] = []
    done = assets.register(registry_for(chain, chain.owner), data_file(tmp_path), clock=local.clock,
                           progress=lambda phase, n, total: seen.append((phase, n, total)), certificate=None)
    assert done.asset_id == 1 and commits_by(chain, chain.owner.address) == 1
    assert MIN_AGE <= local.slept <= MIN_AGE + 5
    waits = [(n, total) for phase, n, total in seen if phase == COMMIT_AGE_PHASE]
    assert waits[0] == (0, MIN_AGE) and waits[-1] == (MIN_AGE, MIN_AGE)
    assert [n for n, _ in waits] == sorted(n for n, _ in waits)


def test_a_chain_whose_clock_stands_still_is_given_up_on_and_a_rerun_continues(
        pyevm_commits: Chain, registry_for: RegistryFor, tmp_path: Path) -> None:
    """No block and no time passes on the node while we wait: the wait stops after the age and the grace (by our
    clock), says what it waited for, and a rerun (the chain moving again) finishes with the same commitment."""
    chain, data = pyevm_commits, data_file(tmp_path, "stalled")
    chain.travel(10 * 86_400)  # ahead of the wall clock: py-evm's next blocks come one second after the latest
    registry = registry_for(chain, chain.owner)
    local = LocalClock(chain.now())
    with pytest.raises(RegistrationError) as caught:
        assets.register(registry, data, clock=local.clock, certificate=None)
    error = caught.value
    assert error.kind == ErrorKind.UNAVAILABLE
    assert "(the commitment's minimum age), but its latest block is at" in error.message
    assert "the node makes no blocks, or its clock is behind" in error.message
    assert "run again: the rerun continues with the commitment already made" in error.hint
    assert MIN_AGE <= local.slept <= MIN_AGE + COMMIT_WAIT_GRACE + 5
    rows = outbox_rows(registry)
    assert set(rows) == {"commit"} and rows["commit"].state == "mined"  # no registration half-recorded

    done = assets.register(registry, data, clock=chain_clock(chain), certificate=None)
    assert done.asset_id == 1 and commits_by(chain, chain.owner.address) == 1


# ---------------------------------------------------------------------------------- a hardhat node


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    answer = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in answer, answer
    return answer["result"]


def hardhat_commits(url: str) -> Chain:
    """dataseal deployed with commitments required on the hardhat node at ``url``; new funded accounts whose keys
    the chain holds (for the registry's keystore)."""
    w3 = Web3(Web3.HTTPProvider(url))
    accounts = [Account.create() for _ in range(5)]
    for account in accounts:
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": account.address,
                                     "value": Web3.to_wei(100, "ether")}))
    operator, owner, user, buyer, reviewer = (LocalSender(a, endpoint=url) for a in accounts)
    deployment = deploy_contracts(w3, operator, config=ContractConfig.with_commits())
    return Chain(w3, deployment, operator, owner, user, buyer, reviewer, keys={a.address: a for a in accounts})


@pytest.mark.hardhat
def test_hardhat_a_registration_reverted_away_is_finished_once(
        hardhat_url: str, registry_for: RegistryFor, tmp_path: Path) -> None:
    chain = hardhat_commits(hardhat_url)
    registry = registry_for(chain, chain.owner)
    data = data_file(tmp_path, "hardhat")
    snapshot = rpc(chain.w3, "evm_snapshot")
    first = assets.register(registry, data, clock=chain_clock(chain), certificate=None)
    assert rpc(chain.w3, "evm_revert", snapshot) is True
    rpc(chain.w3, "evm_mine")  # another block at the commitment's height
    assert chain.reader.registry.total_assets() == 0

    again = assets.register(registry, data, clock=chain_clock(chain), certificate=None)
    assert (again.asset_id, again.tx_hash) == (1, first.tx_hash)
    assert chain.reader.registry.total_assets() == 1 and commits_by(chain, chain.owner.address) == 1
    rows = outbox_rows(registry)
    assert {kind: row.state for kind, row in rows.items()} == {"commit": "mined", "register": "mined"}
    assert rows["register"].block_number == canonical(chain, again.tx_hash)["blockNumber"] != first.block_number
    assert len(again.reorged) == 2
