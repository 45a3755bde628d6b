"""The three typed clients of one deployment, walked end to end: on py-evm (eth-tester, every event of
every receipt decoded into its record), on a real hardhat node, and on both backends of the client
tests (hardhat and the embedded chain): every write and read, review, batches, relayed signatures,
operators."""
from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from dataseal.chain.accounts.eip712 import LEDGER_DOMAIN_NAME, Domain, sign_trade
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.deployment import ContractConfig, Deployment
from dataseal.chain.contracts.records import (
    USAGE,
    AssetRecord,
    AssetStatus,
    AssetStatusChange,
    AssetTransfer,
    GrantRecord,
    GrantRevocation,
    GrantStatus,
    Lineage,
    ObjectionRecord,
    Registration,
    RoleChange,
    Settlement,
    TradeRecord,
    TradeTerms,
    UsageBatchRecord,
    UsageRecord,
)
from dataseal.chain.errors import ChainError, ContractRevert
from dataseal.errors import InvalidInput
from tests.chain.conftest import Backend
from tests.conftest import Chain

CNY = b"CNY".ljust(32, b"\0")


def h(label: str) -> bytes:
    return keccak(text=label)


def countersign(w3: Web3, deployment: Deployment, buyer: LocalAccount, terms: TradeTerms) -> tuple[int, bytes]:
    """(deadline, the buyer's signature of ``terms`` with its next nonce); a buyer signs, it need not pay."""
    deadline = int(w3.eth.get_block("latest")["timestamp"]) + 3600
    nonce = DatasealContracts.bind(w3, deployment).ledger.nonce_of(buyer.address)
    domain = Domain(LEDGER_DOMAIN_NAME, w3.eth.chain_id, deployment.transaction_ledger)
    return deadline, sign_trade(buyer.key, domain, terms, nonce, deadline)


def test_typed_clients_walk_register_grant_usage_trade(backend: Backend) -> None:
    owner = backend.sender(backend.fund())
    user = backend.sender(backend.fund())
    deployment = backend.deploy()
    as_owner = DatasealContracts.bind(backend.w3, deployment, owner)
    as_user = DatasealContracts.bind(backend.w3, deployment, user)

    asset = as_owner.registry.register(Registration(h("root"), h("manifest"), rights_type=3, classification=2))
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

    version = as_owner.registry.register_version(Registration(h("root-2"), h("manifest-2"), 3, 2,
                                                              parent_id=asset.asset_id))
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

    buyer = Account.create()
    terms = TradeTerms.licence(asset.asset_id, owner.address, buyer.address, 1_000, CNY, h("settlement"),
                               h("reporting"), now - 10, now + 3600, 7)
    trade = as_owner.ledger.record_trade(terms, *countersign(backend.w3, deployment, buyer, terms))
    assert isinstance(trade, TradeRecord)
    assert (trade.seller, trade.buyer, trade.price, trade.currency, trade.recorder, trade.settlement) == (
        owner.address, buyer.address, 1_000, CNY, owner.address, Settlement.Licence)
    licence = as_owner.grants.grant_of(trade.grant_id)
    assert (licence.grantee, licence.quota) == (buyer.address, 7)

    revoked = as_owner.grants.revoke(grant.grant_id, h("dispute"))
    assert isinstance(revoked, GrantRevocation) and revoked.by == owner.address
    with pytest.raises(ContractRevert) as exc:
        as_user.ledger.record_usage(grant.grant_id, 1, h("job-2"))
    assert exc.value.name == "GrantNotActive"
    assert exc.value.args_by_name == {"grantId": grant.grant_id, "status": "Revoked"}

    # the record is what the receipt's log says
    receipt = backend.w3.eth.get_transaction_receipt(trade.tx.tx_hash)
    created, recorded = as_owner.decoder.decode_receipt(receipt)
    assert recorded == trade and isinstance(created, GrantRecord) and created.grant_id == trade.grant_id
    assert trade.to_json()["currency"] == "0x" + CNY.hex()
    assert asset.to_json()["status"] == "Active"


def test_typed_clients_review_batches_signatures_operators(backend: Backend) -> None:
    from dataseal.chain.accounts.eip712 import (
        GRANTS_DOMAIN_NAME,
        REGISTRY_DOMAIN_NAME,
        Domain,
        sign_grant,
        sign_register,
    )
    from dataseal.chain.contracts.records import (
        AssetTransfer,
        BatchRecord,
        GrantTerms,
        OperatorChange,
    )

    admin, reviewer, owner, operator, buyer = (backend.sender(backend.fund()) for _ in range(5))
    reviewed = backend.deploy(admin, config=ContractConfig(notice_period=3600))
    as_admin, as_reviewer, as_owner, as_buyer = (
        DatasealContracts.bind(backend.w3, reviewed, s) for s in (admin, reviewer, owner, buyer))
    assert as_admin.registry.review_mode() is True and as_admin.registry.notice_period() == 3600
    role = as_admin.registry.grant_reviewer(reviewer.address)
    assert isinstance(role, RoleChange) and (role.account, role.sender, role.granted) == (reviewer.address,
                                                                                         admin.address, True)

    # review: pending -> disputed -> dismissed (pending again); another rejected; one cancelled by its owner
    pending = as_owner.registry.register(Registration(h("reviewed"), h("m"), 1, 0))
    assert pending.status == AssetStatus.Pending
    assert as_owner.registry.asset(pending.asset_id).notice_ends_at == pending.registered_at + 3600
    objection = as_buyer.registry.object(pending.asset_id, h("evidence"))
    assert isinstance(objection, ObjectionRecord) and objection.objector == buyer.address
    assert as_owner.registry.status_of(pending.asset_id) is AssetStatus.Disputed
    dismissed = as_reviewer.registry.resolve_dispute(pending.asset_id, False, h("looks fine"))
    assert isinstance(dismissed, AssetStatusChange)
    assert (dismissed.from_status, dismissed.to_status, dismissed.by) == (AssetStatus.Disputed, AssetStatus.Pending,
                                                                          reviewer.address)
    rejected = as_owner.registry.register(Registration(h("rejected"), h("m"), 1, 0))
    with pytest.raises(ContractRevert) as not_reviewer:
        as_owner.registry.reject_registration(rejected.asset_id)
    assert not_reviewer.value.name == "AccessControlUnauthorizedAccount"
    assert as_reviewer.registry.reject_registration(rejected.asset_id, h("no")).to_status == AssetStatus.Rejected
    assert as_owner.registry.cancel(pending.asset_id, h("withdrawn")).to_status == AssetStatus.Cancelled

    # without review: suspension and reinstatement by a reviewer, batches, signatures, operators
    deployment = backend.deploy(admin)
    as_admin, as_reviewer, as_owner, as_operator = (
        DatasealContracts.bind(backend.w3, deployment, s) for s in (admin, reviewer, owner, operator))
    as_admin.registry.grant_reviewer(reviewer.address)
    active = as_owner.registry.register(Registration(h("active"), h("m"), 1, 0))
    assert as_reviewer.registry.suspend(active.asset_id, h("dispute")).to_status == AssetStatus.Suspended
    assert as_reviewer.registry.reinstate(active.asset_id, h("resolved")).to_status == AssetStatus.Active

    # batch anchoring: a one-member tree's root is its leaf, keccak256 of the member's values hash
    values_hash = h("member")
    leaf = keccak(values_hash)
    batch = as_owner.registry.anchor_batch(leaf, 1, h("batch-manifest"))
    assert isinstance(batch, BatchRecord) and (batch.batch_root, batch.count, batch.anchorer) == (leaf, 1,
                                                                                                 owner.address)
    stored = as_owner.registry.batch(batch.batch_id)
    assert (stored.batch_root, stored.manifest_hash, stored.count) == (leaf, h("batch-manifest"), 1)
    assert as_owner.registry.verify_batch_member(batch.batch_id, values_hash, []) is True
    assert as_owner.registry.verify_batch_member(batch.batch_id, leaf, []) is False  # a node is not a member
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
    relayed = as_operator.registry.register_by_sig(signer.address, Registration(h("signed"), h("m"), 2, 1),
                                                   b"\0" * 32, deadline, signature)
    assert relayed.registrant == signer.address and as_operator.registry.nonce_of(signer.address) == nonce + 1
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

    # an operator records usage for the grantee once given the USAGE power
    as_buyer = DatasealContracts.bind(backend.w3, deployment, buyer)
    change = as_buyer.ledger.set_operator(operator.address, powers=USAGE)
    assert isinstance(change, OperatorChange) and (change.account, change.operator, change.powers) == (
        buyer.address, operator.address, USAGE)
    assert as_buyer.ledger.operator_powers(buyer.address, operator.address) == USAGE
    usage = as_operator.ledger.record_usage(grant.grant_id, 4, h("operator-job"))
    assert (usage.recorder, usage.units) == (operator.address, 4)
    assert as_owner.ledger.total_trades() == 0

    # the token moves with transfer
    moved = as_owner.registry.transfer(active.asset_id, buyer.address)
    assert isinstance(moved, AssetTransfer) and (moved.from_address, moved.to_address) == (owner.address,
                                                                                           buyer.address)
    assert as_owner.registry.asset(active.asset_id).owner == buyer.address

    with pytest.raises(InvalidInput, match="content_root must be 32 bytes") as short:
        as_owner.registry.register(Registration(b"short", h("m"), 1, 0))
    assert short.value.hint == "give 0x followed by 64 hex digits"
    with pytest.raises(InvalidInput, match="content_root '0xzz' is not hex"):
        as_owner.registry.register(Registration("0xzz", h("m"), 1, 0))  # type: ignore[arg-type]
    with pytest.raises(ChainError, match="has no sender") as no_sender:
        DatasealContracts.bind(backend.w3, deployment).registry.register(Registration(h("x"), h("m"), 1, 0))
    assert no_sender.value.options == ("account",)


ZERO = b"\0" * 32
ZERO_ADDRESS = "0x" + "00" * 20


def test_walk_register_grant_usage_trade_decodes_every_event(pyevm: Chain) -> None:
    owner, user = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.user)
    decode = owner.decoder.decode_receipt

    submitted = owner.registry.submit_register(Registration(h("root"), h("manifest"), 3, 2))
    registered = submitted.wait()
    assert submitted.receipt is not None
    transfer, again = decode(submitted.receipt)
    assert transfer == AssetTransfer(ZERO_ADDRESS, pyevm.owner.address, 1, transfer.tx)
    assert again == registered
    assert (registered.asset_id, registered.registrant, registered.content_root, registered.manifest_hash) == (
        1, pyevm.owner.address, h("root"), h("manifest"))
    assert (registered.rights_type, registered.classification) == (3, 2)
    assert registered.status is AssetStatus.Active  # this deployment has no review mode
    assert (registered.parent_id, registered.lineage) == (0, Lineage.None_)
    block = pyevm.w3.eth.get_block(submitted.receipt["blockNumber"])
    assert registered.registered_at == block["timestamp"]
    assert registered.tx.tx_hash == submitted.receipt["transactionHash"].to_0x_hex() == submitted.tx_hash
    assert registered.tx.block_hash == block["hash"].to_0x_hex()
    assert (transfer.tx.log_index, registered.tx.log_index) == (0, 1)

    t = pyevm.now()
    submitted_grant = owner.grants.submit_grant(1, pyevm.user.address, h("purpose"), t - 10, t + 3600, 100, h("scope"))
    created = submitted_grant.wait()
    assert submitted_grant.receipt is not None and decode(submitted_grant.receipt) == [created]
    assert created == GrantRecord(1, 1, pyevm.user.address, pyevm.owner.address, h("purpose"), t - 10, t + 3600, 100,
                                  h("scope"), created.tx)

    sequences = []
    for job in ("job-a", "job-b"):
        used = user.ledger.record_usage(1, 30, h(job))
        assert isinstance(used, UsageRecord)
        assert (used.grant_id, used.recorder, used.units, used.receipt_hash) == (1, pyevm.user.address, 30, h(job))
        sequences.append(used.sequence)
    batch = user.ledger.record_usage_batch(1, 25, h("receipts-root"), 12)
    assert isinstance(batch, UsageBatchRecord)
    assert (batch.units, batch.receipts_root, batch.count) == (25, h("receipts-root"), 12)
    sequences.append(batch.sequence)
    assert sequences == [1, 2, 3]
    assert owner.grants.remaining(1) == 15

    sale = TradeTerms.transfer(1, pyevm.owner.address, pyevm.buyer.address, 5000, CNY, h("settlement"))
    submitted_trade = owner.ledger.submit_record_trade(sale, *pyevm.countersign(sale))
    trade = submitted_trade.wait()
    assert trade == TradeRecord(1, 1, pyevm.owner.address, pyevm.buyer.address, 5000, CNY, h("settlement"),
                                Settlement.Transfer, 0, pyevm.owner.address, trade.tx)
    assert submitted_trade.receipt is not None
    assert decode(submitted_trade.receipt) == [AssetTransfer(pyevm.owner.address, pyevm.buyer.address, 1,
                                                             decode(submitted_trade.receipt)[0].tx), trade]

    grant = owner.grants.grant_of(1)
    assert (grant.quota, grant.used, grant.sequence, grant.status) == (100, 85, 3, GrantStatus.Active)


@pytest.mark.hardhat
def test_walk_on_a_hardhat_node(hardhat: Chain) -> None:
    owner, user = hardhat.as_(hardhat.owner), hardhat.as_(hardhat.user)
    assert hardhat.w3.eth.chain_id == 31337
    asset = owner.registry.register(Registration(h("r"), h("m"), 1, 0))
    t = hardhat.now()
    grant = owner.grants.grant(asset.asset_id, hardhat.user.address, h("p"), t - 5, t + 600, 10, ZERO)
    usage = user.ledger.record_usage(grant.grant_id, 4, h("j"))
    assert (usage.sequence, usage.units) == (1, 4)
    buyer = Account.create()  # a buyer countersigns; it need not hold ETH
    terms = TradeTerms.transfer(asset.asset_id, hardhat.owner.address, buyer.address, 1, CNY, h("s"))
    trade = owner.ledger.record_trade(terms, *countersign(hardhat.w3, hardhat.deployment, buyer, terms))
    assert isinstance(trade, TradeRecord) and trade.asset_id == asset.asset_id
    assert owner.registry.asset(asset.asset_id).owner == buyer.address
