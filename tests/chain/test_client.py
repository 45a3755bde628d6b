"""The client on real chains: connecting, the deployment record, signing locally, typed contract
clients, many transactions in flight, nonces shared by threads and by processes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_tester import EthereumTester, PyEVMBackend
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import EthereumTesterProvider, Web3
from web3.middleware import Web3Middleware

from dataseal.chain.client import ChainInfo, connect, provider_for_url, redact_url
from dataseal.chain.clients import (
    AssetRecord,
    AssetStatus,
    DatasealContracts,
    GrantRecord,
    GrantRevocation,
    GrantStatus,
    Lineage,
    TradeRecord,
    UsageBatchRecord,
    UsageRecord,
    wait_all,
)
from dataseal.chain.contracts import bind, decode_events
from dataseal.chain.deployments import save_deployment
from dataseal.chain.errors import ChainError, ConfigError, ContractRevert, ReceiptTimeout
from dataseal.chain.nonce import NonceManager
from dataseal.chain.sender import FeeOracle, LocalSender, _Signer
from tests.chain.conftest import Backend, HttpChain

ROOT = Path(__file__).resolve().parents[2]
CNY = b"CNY".ljust(32, b"\0")


def h(label: str) -> bytes:
    return keccak(text=label)


# ------------------------------------------------------------------------------------ connecting


def test_connect_reads_what_the_node_is(backend: Backend) -> None:
    info = backend.node.info()
    assert isinstance(info, ChainInfo)
    assert info.chain_id == backend.w3.eth.chain_id == backend.node.chain_id
    assert info.client_version and info.client_version != "unknown"
    latest = backend.w3.eth.get_block("latest")
    assert (info.latest_block, info.latest_block_time) == (latest["number"], latest["timestamp"])
    assert info.base_fee is not None  # both are EIP-1559 chains
    if backend.name == "hardhat":
        assert info.chain_id == 31337 and info.client_version.startswith("HardhatNetwork")
    else:
        assert info.chain_id != 31337  # the embedded chain has an id of its own


def test_deployment_from_the_record_is_checked_live(backend: Backend) -> None:
    deployment = backend.deploy()
    save_deployment(backend.tmp, deployment)
    assert backend.node.deployment_from(backend.tmp) == deployment
    statuses = backend.node.contract_status(deployment)
    assert [s.name for s in statuses] == ["AssetRegistry", "GrantRegistry", "TransactionLedger"]
    assert all(s.deployed and s.code_size > 1000 for s in statuses)


@pytest.mark.hardhat
def test_websocket_url_works_like_http(hardhat_url: str) -> None:
    ws_url = hardhat_url.replace("http://", "ws://")
    with connect(ws_url) as node:
        assert node.chain_id == 31337
        assert node.info().latest_block >= 0
        # a transaction and its receipt over the same socket
        funder = node.w3.eth.accounts[8]
        tx_hash = node.w3.eth.send_transaction({"from": funder, "to": funder, "value": 1})
        assert node.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1


def test_urls_are_checked_and_redacted() -> None:
    with pytest.raises(ConfigError, match=r"unsupported RPC URL 'ftp://node:1'.*http://127.0.0.1:8545"):
        provider_for_url("ftp://node:1")
    assert redact_url("https://user:secret@mainnet.infura.io/v3/0123456789abcdef0123456789abcdef?k=1") == (
        "https://mainnet.infura.io/v3/01234567…"
    )
    assert redact_url("http://127.0.0.1:8545") == "http://127.0.0.1:8545"


# ------------------------------------------------------------------------------------ typed clients


def test_typed_clients_walk_register_grant_usage_trade(backend: Backend) -> None:
    owner = backend.sender(backend.fund())
    user = backend.sender(backend.fund())
    deployment = backend.deploy()
    as_owner = DatasealContracts.bind(backend.w3, deployment, owner)
    as_user = DatasealContracts.bind(backend.w3, deployment, user)

    asset = as_owner.registry.register(h("root"), h("manifest"), rights_type=3, classification=2)
    assert isinstance(asset, AssetRecord)
    assert (asset.asset_id, asset.registrant, asset.content_root, asset.manifest_hash) == (
        1, owner.address, h("root"), h("manifest"))
    assert (asset.rights_type, asset.classification, asset.status, asset.lineage) == (3, 2, AssetStatus.Active,
                                                                                       Lineage.None_)
    block = backend.w3.eth.get_block(asset.tx.block_number)
    assert asset.registered_at == block["timestamp"]
    assert asset.tx.block_hash == block["hash"].to_0x_hex()
    state = as_owner.registry.asset(asset.asset_id)
    assert (state.owner, state.status, state.content_root) == (owner.address, AssetStatus.Active, h("root"))
    assert as_owner.registry.asset_id_of(h("root")) == 1 and as_owner.registry.asset_id_of(h("nothing")) is None

    version = as_owner.registry.register_version(asset.asset_id, h("root-2"), h("manifest-2"), 3, 2)
    assert (version.parent_id, version.lineage) == (asset.asset_id, Lineage.Version)

    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    grant = as_owner.grants.grant(asset.asset_id, user.address, h("purpose"), now - 10, now + 3600, 100, h("scope"))
    assert isinstance(grant, GrantRecord)
    assert (grant.asset_id, grant.grantee, grant.grantor, grant.quota, grant.scope_root) == (
        asset.asset_id, user.address, owner.address, 100, h("scope"))

    usage = as_user.ledger.record_usage(grant.grant_id, 30, h("job-1"))
    assert isinstance(usage, UsageRecord)
    assert (usage.grant_id, usage.recorder, usage.units, usage.sequence, usage.receipt_hash) == (
        grant.grant_id, user.address, 30, 1, h("job-1"))
    batch = as_user.ledger.record_usage_batch(grant.grant_id, 25, h("receipts"), 12)
    assert isinstance(batch, UsageBatchRecord) and (batch.sequence, batch.count) == (2, 12)
    assert as_owner.grants.remaining(grant.grant_id) == 45
    g = as_owner.grants.grant_of(grant.grant_id)
    assert (g.used, g.sequence, g.status) == (55, 2, GrantStatus.Active)

    trade = as_owner.ledger.record_trade(asset.asset_id, user.address, owner.address, 1_000, CNY, h("settlement"))
    assert isinstance(trade, TradeRecord)
    assert (trade.seller, trade.buyer, trade.price, trade.currency, trade.recorder) == (
        owner.address, user.address, 1_000, CNY, owner.address)

    revoked = as_owner.grants.revoke(grant.grant_id, h("dispute"))
    assert isinstance(revoked, GrantRevocation) and revoked.by == owner.address
    with pytest.raises(ContractRevert) as exc:
        as_user.ledger.record_usage(grant.grant_id, 1, h("job-2"))
    assert exc.value.name == "GrantNotActive"
    assert exc.value.args_by_name == {"grantId": grant.grant_id, "status": "Revoked"}

    # the typed records agree with the generic decoder of chain.contracts
    receipt = backend.w3.eth.get_transaction_receipt(trade.tx.tx_hash)
    (generic,) = decode_events(bind(backend.w3, deployment), receipt)
    assert generic.args["tradeId"] == trade.trade_id and generic.args["settlementHash"] == trade.settlement_hash
    assert trade.to_json()["currency"] == "0x" + CNY.hex()
    assert asset.to_json()["status"] == "Active"


@contextmanager
def recording_requests(w3: Web3, calls: list[str], *,
                       on_request: Callable[[str], None] | None = None) -> Iterator[None]:
    """Append each JSON-RPC method ``w3`` sends (a batch as "batch of N") to ``calls``;
    ``on_request`` sees each method before it is sent."""

    class Recording(Web3Middleware):
        def wrap_make_request(self, make_request: Any) -> Any:
            def middleware(method: str, params: Any) -> Any:
                calls.append(method)
                if on_request is not None:
                    on_request(method)
                return make_request(method, params)

            return middleware

        def wrap_make_batch_request(self, make_batch_request: Any) -> Any:
            def middleware(requests: Any) -> Any:
                calls.append(f"batch of {len(requests)}")
                return make_batch_request(requests)

            return middleware

    w3.middleware_onion.add(Recording, name="recording")
    try:
        yield
    finally:
        w3.middleware_onion.remove("recording")


def test_many_registrations_in_flight(backend: Backend) -> None:
    owner = backend.sender(backend.fund())
    contracts = DatasealContracts.bind(backend.w3, backend.deploy(), owner)
    pending = [contracts.registry.submit_register(h(f"bulk-{i}"), h("m"), 1, 0) for i in range(25)]
    assert len({p.tx_hash for p in pending}) == 25
    assert [p.pending.nonce for p in pending] == list(range(pending[0].pending.nonce, pending[0].pending.nonce + 25))
    calls: list[str] = []
    with recording_requests(backend.w3, calls):
        records = wait_all(pending)
    # what is mined (the account's transaction count says how far) in JSON-RPC batches, not one by one
    assert calls.count("eth_getTransactionReceipt") <= 3
    assert sum(int(c.removeprefix("batch of ")) for c in calls if c.startswith("batch of ")) >= 24
    assert [r.asset_id for r in records] == list(range(1, 26))
    assert [r.content_root for r in records] == [h(f"bulk-{i}") for i in range(25)]
    assert contracts.registry.total_assets() == 25


def test_receipts_are_read_as_their_blocks_come(backend: Backend) -> None:
    with backend.paused() as paused:
        w3 = paused.node.w3
        sender = LocalSender(paused.account, endpoint=paused.node.endpoint, poll_interval=0.01)
        mined_first = [sender.submit(w3, {"to": sender.address, "value": 1, "gas": 21_000}) for _ in range(4)]
        paused.mine()
        later = [sender.submit(w3, {"to": sender.address, "value": 1, "gas": 21_000}) for _ in range(3)]
        calls: list[str] = []
        miners: list[threading.Thread] = []

        def mine_when_waited_for(method: str) -> None:
            if method == "eth_getTransactionReceipt" and not miners:
                # the wait for the first of the later ones: mine them now, from elsewhere
                miners.append(threading.Thread(target=lambda: (paused.mine(), calls.append("mined"))))
                miners[0].start()

        try:
            with recording_requests(w3, calls, on_request=mine_when_waited_for):
                receipts = sender.wait_all(w3, mined_first + later)
        finally:
            for miner in miners:
                miner.join()
    assert [r["status"] for r in receipts] == [1] * 7
    assert [r["transactionHash"].to_0x_hex() for r in receipts] == [p.tx_hash for p in mined_first + later]
    # the four mined ones were read, in one batch, before the other three were even mined
    assert calls.index("batch of 4") < calls.index("mined")
    assert "batch of 2" in calls[calls.index("mined"):]  # the rest of the later ones, once mined


def test_threads_share_one_sender(backend: Backend) -> None:
    owner = backend.sender(backend.fund())
    contracts = DatasealContracts.bind(backend.w3, backend.deploy(), owner)
    contracts.registry.register(h("warm-up"), h("m"), 1, 0)  # one estimate, reused by the threads
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            pending = [contracts.registry.submit_register(h(f"t{worker}-{i}"), h("m"), 1, 0) for i in range(6)]
            results[worker] = [p.pending.nonce for p in pending]
            wait_all(pending)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    nonces = sorted(n for ns in results.values() for n in ns)
    assert nonces == list(range(nonces[0], nonces[0] + 24))  # no nonce twice, no gap
    assert contracts.registry.total_assets() == 25


def test_nonce_too_low_after_another_wallet_used_the_key(backend: Backend) -> None:
    account = backend.fund()
    sender = backend.sender(account)
    first = sender.send(backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    # another wallet (plain eth-account + web3) sends with the same key, behind the manager's back
    chain_id = backend.node.chain_id
    base = int(backend.w3.eth.get_block("latest")["baseFeePerGas"])
    for nonce in (1, 2):
        raw = account.sign_transaction({"to": account.address, "value": 2, "gas": 21_000, "nonce": nonce,
                                        "chainId": chain_id, "maxFeePerGas": 3 * base + 10**9,
                                        "maxPriorityFeePerGas": 10**9}).raw_transaction
        backend.w3.eth.wait_for_transaction_receipt(backend.w3.eth.send_raw_transaction(raw))
    # the manager believes the next nonce is 1: the node says "nonce too low", the sender re-reads and succeeds
    receipt = sender.send(backend.w3, {"to": account.address, "value": 3, "gas": 21_000})
    assert receipt["status"] == 1
    assert backend.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == 3
    assert first["status"] == 1


def test_nonce_too_high_after_the_chain_forgot_a_transaction(backend: Backend) -> None:
    account = backend.fund()
    nonces = NonceManager(backend.tmp / "nonces")
    sender = backend.sender(account, nonces=nonces)
    sender.send(backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    # the shared state says 7 (as if transactions the node never kept had been counted)
    state = backend.tmp / "nonces" / f"{backend.node.chain_id}-{account.address.lower()}.nonce"
    assert state.read_text().strip() == "1"
    state.write_text("7\n")
    receipt = sender.send(backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    assert backend.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == 1
    assert state.read_text().strip() == "2"


_CHILD = """
import json, sys
from eth_account import Account
from dataseal.chain.client import connect
from dataseal.chain.nonce import NonceManager
from dataseal.chain.sender import LocalSender
url, key, state, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
node = connect(url)
sender = LocalSender(Account.from_key(key), nonces=NonceManager(state), endpoint=node.endpoint)
pending = [sender.submit(node.w3, {"to": sender.address, "value": 1, "gas": 21000}) for _ in range(count)]
receipts = sender.wait_all(node.w3, pending)
print(json.dumps([[p.nonce, p.tx_hash, r["status"]] for p, r in zip(pending, receipts)]))
"""


def _processes_share_a_key(url: str, key: bytes, state: Path) -> list[list[object]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD, url, "0x" + key.hex(), str(state), "5"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        for _ in range(3)
    ]
    sent: list[list[object]] = []
    for child in children:
        out, err = child.communicate()
        assert child.returncode == 0, err[-2000:]
        sent.extend(json.loads(out))
    return sent


@pytest.mark.hardhat
def test_processes_sharing_a_key_never_collide_on_hardhat(hardhat_backend: Backend) -> None:
    account = hardhat_backend.fund()
    sent = _processes_share_a_key(hardhat_backend.node.endpoint, bytes(account.key), hardhat_backend.tmp / "nonces")
    assert sorted(n for n, _, _ in sent) == list(range(15))  # type: ignore[type-var]
    assert all(status == 1 for _, _, status in sent)


def test_processes_sharing_a_key_never_collide_on_the_embedded_chain(embedded_http: HttpChain,
                                                                       tmp_path: Path) -> None:
    sent = _processes_share_a_key(embedded_http.url, bytes(embedded_http.bank.key), tmp_path / "nonces")
    assert sorted(n for n, _, _ in sent) == list(range(15))  # type: ignore[type-var]
    assert all(status == 1 for _, _, status in sent)


# ------------------------------------------------------------------------------------ fees, confirmations


def test_eip1559_fees_follow_the_base_fee(backend: Backend) -> None:
    account = backend.fund()
    receipt = backend.sender(account).send(backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    tx = backend.w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["type"] == 2
    parent = backend.w3.eth.get_block(receipt["blockNumber"] - 1)  # the latest block when the fees were read
    tip = backend.w3.eth.max_priority_fee
    assert tx["maxPriorityFeePerGas"] == tip
    assert tx["maxFeePerGas"] == 2 * parent["baseFeePerGas"] + tip


def test_legacy_gas_price_only_without_a_base_fee() -> None:
    from eth.vm.forks import BerlinVM

    tester = EthereumTester(PyEVMBackend(vm_configuration=((0, BerlinVM),)))  # a pre-London chain
    node = connect(EthereumTesterProvider(tester))
    assert node.info().base_fee is None
    key = tester.backend.account_keys[0]
    sender = LocalSender(Account.from_key(key.to_bytes()), endpoint=node.endpoint)
    receipt = sender.send(node.w3, {"to": sender.address, "value": 1, "gas": 21_000})
    tx = node.w3.eth.get_transaction(receipt["transactionHash"])
    assert receipt["status"] == 1 and tx["type"] == 0 and tx["gasPrice"] == node.w3.eth.gas_price


def test_confirmations_wait_for_blocks_on_top(backend: Backend) -> None:
    account = backend.fund()
    sender = backend.sender(account, confirmations=2)
    pending = sender.submit(backend.w3, {"to": account.address, "value": 1, "gas": 21_000})
    mined = backend.sender(account).wait(backend.w3, pending)  # mined (no confirmations asked)
    if backend.name == "embedded":
        # One block producer, no reorganisation: a receipt is final once it exists, so the
        # confirmations asked for are not waited for (idle mining might never make those blocks).
        assert sender.confirmations_needed(backend.w3) == 0
        head = backend.w3.eth.block_number
        assert sender.wait(backend.w3, pending, timeout=0.2)["blockHash"] == mined["blockHash"]
        assert backend.w3.eth.block_number == head
        return
    assert sender.confirmations_needed(backend.w3) == 2
    with pytest.raises(ReceiptTimeout, match="was mined but did not reach 2 confirmations"):
        sender.wait(backend.w3, pending, timeout=0.2)  # no block on top yet
    backend.mine()
    backend.mine()
    receipt = sender.wait(backend.w3, pending)
    assert backend.w3.eth.block_number >= receipt["blockNumber"] + 2


def test_fee_oracle_caches_and_invalidates(backend: Backend) -> None:
    oracle = FeeOracle(ttl=3600)
    first = oracle.fees(backend.w3, backend.node.chain_id)
    assert first.max_fee is not None and first.priority_fee is not None and not first.legacy
    assert oracle.fees(backend.w3, backend.node.chain_id) is first
    oracle.invalidate(backend.node.chain_id)
    assert oracle.fees(backend.w3, backend.node.chain_id) is not first


# ------------------------------------------------------------------------------------ signing


@settings(max_examples=40, deadline=None)
@given(
    nonce=st.integers(0, 2**32),
    gas=st.integers(21_000, 30_000_000),
    fee=st.integers(1, 10**12),
    tip=st.integers(0, 10**10),
    value=st.integers(0, 10**24),
    data=st.binary(max_size=200),
    to=st.one_of(st.none(), st.binary(min_size=20, max_size=20)),
    chain_id=st.integers(1, 2**40),
    legacy=st.booleans(),
)
def test_fast_signing_is_byte_identical_to_eth_account(nonce: int, gas: int, fee: int, tip: int, value: int,
                                                       data: bytes, to: bytes | None, chain_id: int,
                                                       legacy: bool) -> None:
    account = Account.from_key(keccak(text="signing vectors"))
    tx: dict[str, object] = {"nonce": nonce, "gas": gas, "value": value, "data": data, "chainId": chain_id}
    if to is not None:
        tx["to"] = Web3.to_checksum_address(to)
    if legacy:
        tx["gasPrice"] = fee
    else:
        tx["maxFeePerGas"], tx["maxPriorityFeePerGas"] = fee + tip, tip
    assert _Signer(account).sign(dict(tx)) == bytes(account.sign_transaction(tx).raw_transaction)


def test_the_sender_never_shows_its_key() -> None:
    account = Account.create()
    sender = LocalSender(account)
    for text in (repr(sender), str(sender), repr(sender._signer), repr(vars(sender))):
        assert bytes(account.key).hex() not in text.lower()


def test_typed_clients_review_batches_signatures_operators(backend: Backend) -> None:
    from dataseal.chain.clients import (
        AssetStatusChange,
        AssetTransfer,
        BatchRecord,
        GrantTerms,
        OperatorChange,
        OtherEvent,
    )
    from dataseal.chain.signing import GRANTS_DOMAIN_NAME, REGISTRY_DOMAIN_NAME, Domain, sign_grant, sign_register

    admin, reviewer, owner, operator, buyer = (backend.sender(backend.fund()) for _ in range(5))
    deployment = backend.deploy(admin, review_mode=True)
    as_admin, as_reviewer, as_owner, as_operator = (
        DatasealContracts.bind(backend.w3, deployment, s) for s in (admin, reviewer, owner, operator))
    assert as_admin.registry.review_mode() is True
    role = as_admin.registry.grant_reviewer(reviewer.address)
    assert isinstance(role, OtherEvent) and role.name == "RoleGranted" and role.args["account"] == reviewer.address

    # review: pending -> approved -> suspended -> reinstated; another rejected; one cancelled by its owner
    pending = as_owner.registry.register(h("reviewed"), h("m"), 1, 0)
    assert pending.status == AssetStatus.Pending
    approved = as_reviewer.registry.approve_registration(pending.asset_id, h("looks fine"))
    assert isinstance(approved, AssetStatusChange)
    assert (approved.from_status, approved.to_status, approved.by) == (AssetStatus.Pending, AssetStatus.Active,
                                                                       reviewer.address)
    assert as_reviewer.registry.suspend(pending.asset_id, h("dispute")).to_status == AssetStatus.Suspended
    assert as_reviewer.registry.reinstate(pending.asset_id, h("resolved")).to_status == AssetStatus.Active
    rejected = as_owner.registry.register(h("rejected"), h("m"), 1, 0)
    assert as_reviewer.registry.reject_registration(rejected.asset_id, h("no")).to_status == AssetStatus.Rejected
    with pytest.raises(ContractRevert) as not_reviewer:
        as_owner.registry.approve_registration(rejected.asset_id)
    assert not_reviewer.value.name == "AccessControlUnauthorizedAccount"
    cancelled = as_owner.registry.register(h("cancelled"), h("m"), 1, 0)
    as_reviewer.registry.approve_registration(cancelled.asset_id)
    assert as_owner.registry.cancel(cancelled.asset_id, h("withdrawn")).to_status == AssetStatus.Cancelled

    # batch anchoring: a one-leaf tree's root is its leaf, with an empty proof
    leaf = h("member")
    batch = as_owner.registry.anchor_batch(leaf, 1, h("batch-manifest"))
    assert isinstance(batch, BatchRecord) and (batch.batch_root, batch.count, batch.anchorer) == (leaf, 1,
                                                                                                 owner.address)
    stored = as_owner.registry.batch(batch.batch_id)
    assert (stored.batch_root, stored.manifest_hash, stored.count) == (leaf, h("batch-manifest"), 1)
    assert as_owner.registry.verify_batch_member(batch.batch_id, leaf, []) is True
    assert as_owner.registry.verify_batch_member(batch.batch_id, h("stranger"), []) is False

    # relayed signatures: the owner signs, the operator pays
    signer = Account.create()
    chain_id = backend.node.chain_id
    deadline = int(backend.w3.eth.get_block("latest")["timestamp"]) + 3600
    nonce = as_operator.registry.nonce_of(signer.address)
    signature = sign_register(
        signer.key, Domain(REGISTRY_DOMAIN_NAME, chain_id, deployment.asset_registry), owner=signer.address,
        content_root=h("signed"), manifest_hash=h("m"), rights_type=2, classification=1, parent_id=0, nonce=nonce,
        deadline=deadline)
    relayed = as_operator.registry.register_by_sig(signer.address, h("signed"), h("m"), 2, 1, 0, deadline, signature)
    assert relayed.registrant == signer.address and as_operator.registry.nonce_of(signer.address) == nonce + 1
    as_reviewer.registry.approve_registration(relayed.asset_id)
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    terms = GrantTerms(relayed.asset_id, buyer.address, h("analytics"), now - 1, now + 3600, 9)
    grant_signature = sign_grant(
        signer.key, Domain(GRANTS_DOMAIN_NAME, chain_id, deployment.grant_registry), asset_id=terms.asset_id,
        grantee=terms.grantee, purpose=terms.purpose, valid_from=terms.valid_from, expires_at=terms.expires_at,
        quota=terms.quota, scope_root=terms.scope_root, nonce=as_operator.grants.nonce_of(signer.address),
        deadline=deadline)
    grant = as_operator.grants.grant_by_sig(terms, deadline, grant_signature)
    assert (grant.grantor, grant.grantee, grant.quota) == (signer.address, buyer.address, 9)
    assert as_operator.grants.is_usable(grant.grant_id, now + 10) is True
    assert as_operator.grants.total_grants() == 1

    # an operator records usage for the grantee once approved
    as_buyer = DatasealContracts.bind(backend.w3, deployment, buyer)
    change = as_buyer.ledger.set_operator(operator.address, True)
    assert isinstance(change, OperatorChange) and (change.account, change.operator, change.approved) == (
        buyer.address, operator.address, True)
    assert as_buyer.ledger.is_operator(buyer.address, operator.address)
    usage = as_operator.ledger.record_usage(grant.grant_id, 4, h("operator-job"))
    assert (usage.recorder, usage.units) == (operator.address, 4)
    assert as_owner.ledger.total_trades() == 0

    # the token moves with transfer
    moved = as_owner.registry.transfer(pending.asset_id, buyer.address)
    assert isinstance(moved, AssetTransfer) and (moved.from_address, moved.to_address) == (owner.address,
                                                                                           buyer.address)
    assert as_owner.registry.asset(pending.asset_id).owner == buyer.address

    with pytest.raises(ValueError, match="content_root must be 32 bytes"):
        as_owner.registry.register(b"short", h("m"), 1, 0)
    with pytest.raises(ChainError, match="has no sender"):
        DatasealContracts.bind(backend.w3, deployment).registry.register(h("x"), h("m"), 1, 0)
