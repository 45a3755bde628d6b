"""The event table: every event of the three ABIs maps to a record, and nothing else does; a log the
contract does not declare, or one of a pending block, is an error, never an untyped pass-through."""
from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak

from dataseal.chain.contracts import events
from dataseal.chain.contracts.artifacts import CONTRACT_NAMES, load_artifact
from dataseal.chain.contracts.events import EVENTS, EventDecoder
from dataseal.chain.contracts.records import RoleChange
from dataseal.chain.errors import ChainError
from dataseal.errors import ErrorKind, InternalError

REGISTRY = "0x" + "aa" * 20


def declared() -> set[tuple[str, str]]:
    return {(name, item["name"]) for name in CONTRACT_NAMES for item in load_artifact(name).abi
            if item.get("type") == "event"}


def test_every_declared_event_has_a_record_and_every_entry_an_event() -> None:
    assert set(EVENTS) == declared()


def test_a_table_missing_an_event_is_a_broken_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    events._event_specs.cache_clear()
    monkeypatch.delitem(EVENTS, ("AssetRegistry", "Approval"))
    try:
        with pytest.raises(InternalError, match="AssetRegistry declares the event Approval, which dataseal's event "
                           "table does not map to a record"):
            EventDecoder({"AssetRegistry": REGISTRY}).decode_log(_log(_role_granted_topics(), b""))
    finally:
        monkeypatch.undo()
        events._event_specs.cache_clear()


def _role_granted_topics() -> list[bytes]:
    topic0 = keccak(text="RoleGranted(bytes32,address,address)")
    return [topic0, b"\x01" * 32, bytes(12) + b"\x22" * 20, bytes(12) + b"\x33" * 20]


def _log(topics: list[bytes], data: bytes, **changes: Any) -> dict[str, Any]:
    return {"address": REGISTRY, "topics": topics, "data": data, "logIndex": 3, "blockNumber": 7,
            "transactionHash": b"\x44" * 32, "blockHash": b"\x55" * 32, **changes}


def test_a_log_becomes_its_record_with_where_it_was_emitted() -> None:
    record = EventDecoder({"AssetRegistry": REGISTRY}).decode_log(_log(_role_granted_topics(), b""))
    assert isinstance(record, RoleChange)
    assert (record.role, record.granted) == (b"\x01" * 32, True)
    assert record.account == "0x" + "22" * 20 and record.sender == "0x" + "33" * 20
    assert (record.tx.block_number, record.tx.log_index) == (7, 3)
    assert record.tx.block_hash == "0x" + "55" * 32 and record.tx.tx_hash == "0x" + "44" * 32


def test_logs_of_other_addresses_are_skipped() -> None:
    log = _log(_role_granted_topics(), b"", address="0x" + "bb" * 20)
    assert EventDecoder({"AssetRegistry": REGISTRY}).decode_log(log) is None


def test_an_event_the_contract_does_not_declare_is_an_error() -> None:
    stranger = _log([keccak(text="Stranger(uint256)"), bytes(32)], b"")
    with pytest.raises(ChainError, match="log 3 of AssetRegistry at .* matches no event of its ABI") as exc:
        EventDecoder({"AssetRegistry": REGISTRY}).decode_log(stranger)
    assert exc.value.kind is ErrorKind.INTERNAL
    assert exc.value.hint == "the deployment record does not match the code at that address"


def test_a_log_without_a_block_hash_is_refused() -> None:
    with pytest.raises(ChainError, match="has no block hash"):
        EventDecoder({"AssetRegistry": REGISTRY}).decode_log(_log(_role_granted_topics(), b"", blockHash=None))


def test_the_v2_events_are_in_the_table() -> None:
    """Events v1 did not have: each maps to its record (the decoder refuses to start otherwise)."""
    for contract, name in (("AssetRegistry", "Committed"), ("AssetRegistry", "ObjectionFiled"),
                           ("AssetRegistry", "AssetRenewed"), ("AssetRegistry", "NonceUsed"),
                           ("AssetRegistry", "DefaultAdminTransferScheduled"),
                           ("AssetRegistry", "DefaultAdminDelayChangeCanceled"), ("GrantRegistry", "NonceUsed"),
                           ("TransactionLedger", "NonceUsed"), ("TransactionLedger", "EIP712DomainChanged")):
        assert (contract, name) in EVENTS, name


def test_the_two_step_admin_handover_is_decoded(pyevm: Any) -> None:
    from dataseal.chain.contracts.client import ESTIMATE, only
    from dataseal.chain.contracts.records import AdminChange

    registry = pyevm.as_(pyevm.operator).registry
    scheduled = registry._submit("beginDefaultAdminTransfer", (pyevm.reviewer.address,), only(AdminChange),
                                 ESTIMATE).wait()
    assert (scheduled.kind, scheduled.new_admin, scheduled.new_delay) == ("transfer_scheduled",
                                                                          pyevm.reviewer.address, 0)
    assert scheduled.schedule == pyevm.now() + pyevm.deployment.config.admin_delay
    canceled = registry._submit("cancelDefaultAdminTransfer", (), only(AdminChange), ESTIMATE).wait()
    assert (canceled.kind, canceled.new_admin, canceled.schedule) == ("transfer_canceled", "0x" + "00" * 20, 0)
    delayed = registry._submit("changeDefaultAdminDelay", (3600,), only(AdminChange), ESTIMATE).wait()
    assert (delayed.kind, delayed.new_delay) == ("delay_change_scheduled", 3600) and delayed.schedule > 0
