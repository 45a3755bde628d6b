"""The event table: every event of the three ABIs maps to a record, and nothing else does; a log the
contract does not declare, or one of a pending block, is an error, never an untyped pass-through."""
from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak

from dataseal.chain.contracts import events
from dataseal.chain.contracts.artifacts import CONTRACT_NAMES, load_artifact
from dataseal.chain.contracts.events import EVENTS, EventDecoder, MalformedLog
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


# ------------------------------------------------------------------------------------ the word-by-word fast path

def _specs() -> list[Any]:
    return [spec for spec, _ in events._event_specs().values()]


def _value_of(abi_type: str, draw: Any) -> Any:
    from hypothesis import strategies as st

    if abi_type == "address":
        return "0x" + draw(st.binary(min_size=20, max_size=20)).hex()
    if abi_type == "bool":
        return draw(st.booleans())
    if abi_type.startswith("uint"):
        return draw(st.integers(0, 2 ** int(abi_type[4:]) - 1))
    if abi_type.startswith("int"):
        bits = int(abi_type[3:])
        return draw(st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))
    size = int(abi_type[5:])
    return draw(st.binary(min_size=size, max_size=size))


def _encoded(spec: Any, draw: Any) -> tuple[list[bytes], bytes]:
    from eth_abi import encode

    topics = [b"\0" * 32] + [encode([t], [_value_of(t, draw)]) for _, t in spec.indexed]
    data = encode(list(spec.data_types), [_value_of(t, draw) for t in spec.data_types])
    return topics, data


def test_every_event_takes_the_fast_path() -> None:
    """All the contracts' events are made of static words: none is decoded through eth_abi (the indexer's speed)."""
    assert [spec.name for spec in _specs() if spec._fast is None] == []


def test_the_fast_path_decodes_what_eth_abi_decodes() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(_specs()), st.data())
    def check(spec: Any, data: Any) -> None:
        topics, payload = _encoded(spec, data.draw)
        assert spec._decode_words(topics, payload) == spec._decode_abi(topics, payload)

    check()


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big", signed=value < 0)


@pytest.mark.parametrize(("abi_type", "word"), [
    ("uint8", _word(256)), ("uint64", _word(2**64)), ("int8", _word(128)), ("int8", _word(-129)),
    ("bool", _word(2)), ("address", b"\x01" + bytes(31)), ("bytes4", b"\x01" * 5 + bytes(27)),
])
def test_a_word_with_bad_padding_leaves_the_fast_path(abi_type: str, word: bytes) -> None:
    decode = events._word_decoder(abi_type)
    assert decode is not None and decode(word) is events._BAD


@pytest.mark.parametrize(("abi_type", "word", "value"), [
    ("uint8", _word(255), 255), ("int8", _word(-128), -128), ("int8", _word(127), 127), ("int256", _word(-1), -1),
    ("bool", _word(1), True), ("bool", _word(0), False), ("bytes4", b"\x01" * 4 + bytes(28), b"\x01" * 4),
    ("address", bytes(12) + b"\xab" * 20, "0x" + "ab" * 20),
])
def test_a_word_at_the_edge_of_its_type_is_decoded(abi_type: str, word: bytes, value: Any) -> None:
    decode = events._word_decoder(abi_type)
    assert decode is not None and decode(word) == value


def test_words_that_are_not_static_go_to_eth_abi() -> None:
    for abi_type in ("string", "bytes", "uint256[]", "bytes32[2]", "(uint256,address)"):
        assert events._word_decoder(abi_type) is None


def _approval_for_all(approved: bytes) -> dict[str, Any]:
    topic0 = keccak(text="ApprovalForAll(address,address,bool)")
    return _log([topic0, bytes(12) + b"\x22" * 20, bytes(12) + b"\x33" * 20], approved)


def _malformed(log: dict[str, Any], event: str, reason: str) -> MalformedLog:
    """The error decoding ``log`` raises: a MalformedLog naming the contract, the event, the log and the reason."""
    with pytest.raises(MalformedLog) as caught:
        EventDecoder({"AssetRegistry": REGISTRY}).decode_log(log)
    error = caught.value
    assert error.kind == ErrorKind.INVALID_INPUT and isinstance(error, ChainError)
    assert error.message.startswith(f"log 3 of transaction 0x{'44' * 32}, block 7, from AssetRegistry at {REGISTRY}, "
                                    f"is not a valid {event}: ")
    assert reason in error.message, error.message
    assert "no build of AssetRegistry emits such a log" in error.hint
    assert (error.contract, error.tx_hash, error.log_index) == ("AssetRegistry", "0x" + "44" * 32, 3)
    return error


def test_a_log_with_bad_padding_is_a_malformed_log() -> None:
    """A word the fast path refuses goes to eth_abi; its error becomes one naming the log, not eth_abi's own."""
    error = _malformed(_approval_for_all(_word(2)), "ApprovalForAll event",
                       "NonEmptyPaddingBytes: Boolean must be either 0x0 or 0x1")
    assert error.event == "ApprovalForAll"


def test_a_log_with_short_data_is_a_malformed_log() -> None:
    _malformed(_approval_for_all(bytes(31)), "ApprovalForAll event",
               "InsufficientDataBytes: Tried to read 32 bytes, only got 31 bytes")


def test_a_log_with_more_data_than_its_fields_is_read_as_eth_abi_reads_it() -> None:
    """Trailing bytes leave the fast path (it takes exact lengths only); eth_abi reads the fields and ignores them."""
    record = EventDecoder({"AssetRegistry": REGISTRY}).decode_log(_approval_for_all(_word(1) + bytes(32)))
    assert record is not None and record.approved is True  # type: ignore[attr-defined]


def test_an_indexed_address_with_bad_padding_is_a_malformed_log() -> None:
    topics = _role_granted_topics()
    topics[2] = b"\x01" + topics[2][1:]
    _malformed(_log(topics, b""), "RoleGranted event", "NonEmptyPaddingBytes: Padding bytes were not empty")


def test_a_log_missing_a_topic_is_a_malformed_log() -> None:
    _malformed(_log(_role_granted_topics()[:3], b""), "RoleGranted event", "expected 4 topics, got 3")


def test_a_status_no_contract_has_is_a_malformed_log() -> None:
    """The words decode, but the record refuses the value: AssetStatusChanged to status 99."""
    topic0 = keccak(text="AssetStatusChanged(uint256,uint8,uint8,address,bytes32)")
    data = _word(2) + _word(99) + b"\x01" * 32
    log = _log([topic0, _word(1), bytes(12) + b"\x22" * 20], data)
    error = _malformed(log, "AssetStatusChanged event", "99 is not a valid AssetStatus")
    assert error.event == "AssetStatusChanged"


def test_data_that_is_not_hex_is_a_malformed_log() -> None:
    log = {**_log(_role_granted_topics(), b""), "data": "0xzz"}
    _malformed(log, "RoleGranted event", "its data is not hex (")


def test_a_log_as_the_node_sent_it_decodes_as_web3s_does() -> None:
    """The raw JSON-RPC form (0x-hex strings, hex quantities) gives the same record as web3's formatted form."""
    formatted = _log(_role_granted_topics(), b"", address=REGISTRY)
    raw = {"address": REGISTRY, "topics": ["0x" + t.hex() for t in _role_granted_topics()], "data": "0x",
           "logIndex": "0x3", "blockNumber": "0x7", "transactionHash": "0x" + "44" * 32,
           "blockHash": "0x" + "55" * 32}
    decoder = EventDecoder({"AssetRegistry": REGISTRY})
    assert decoder.decode_log(raw) == decoder.decode_log(formatted)


def test_a_topic_that_is_not_hex_is_a_malformed_log() -> None:
    error = _malformed(_log(["0xzz" + "00" * 31], b""), "log of an event", "a topic is not 32 bytes of hex (")
    assert "Non-hexadecimal digit found" in error.message and error.event == "unknown"


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("transactionHash", None, "it has no transactionHash"),
    ("transactionHash", "0x44", "its transactionHash 0x44 is not 32 bytes"),
    ("blockNumber", None, "it has no blockNumber"),
    ("blockNumber", "0xzz", "its blockNumber is not a number ("),
    ("logIndex", None, "it has no logIndex"),
    ("logIndex", "three", "its logIndex is not a number ("),
    ("blockHash", "0x55", "its blockHash 0x55 is not 32 bytes"),
])
def test_a_log_without_a_valid_position_is_a_malformed_log(field: str, value: Any, reason: str) -> None:
    """Where a log was emitted is its key in the index: a log without it (or with one that is not hex) is refused,
    not decoded under a made-up transaction hash."""
    log = _log(_role_granted_topics(), b"")
    if value is None:
        del log[field]
    else:
        log[field] = value
    with pytest.raises(MalformedLog) as caught:
        EventDecoder({"AssetRegistry": REGISTRY}).decode_log(log)
    assert f"is not a valid RoleGranted event: {reason}" in caught.value.message, caught.value.message
    assert caught.value.kind == ErrorKind.INVALID_INPUT and caught.value.hint
