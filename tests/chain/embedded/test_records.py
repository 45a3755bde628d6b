"""The embedded chain's records (dataseal.chain.embedded.records): what a request leaves out, the block
tags, frozen values, and the records the chain hands out for a pending and a mined transaction."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.records import (
    BLOCK_TAGS,
    CallRequest,
    FeeHistory,
    LogFilter,
    MinedBlock,
    TransactionRecord,
)
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import BOB, addr, sign


def test_a_call_request_leaves_out_what_a_call_does_not_need() -> None:
    request = CallRequest()
    assert (request.sender, request.to, request.gas) == (None, None, None)  # to=None: a contract creation
    assert (request.value, request.data, request.access_list) == (0, b"", ())
    assert request == CallRequest(sender=None, to=None, gas=None, value=0, data=b"", access_list=())
    assert {request: "hashable"}[CallRequest()] == "hashable"


def test_a_log_filter_by_default_reads_the_latest_block_for_any_address_and_topic() -> None:
    flt = LogFilter()
    assert (flt.from_block, flt.to_block, flt.block_hash) == ("latest", "latest", None)
    assert flt.addresses == () and flt.topics == ()


def test_every_block_tag_names_a_block_of_the_chain(chain: EmbeddedChain) -> None:
    assert BLOCK_TAGS == ("latest", "earliest", "pending", "safe", "finalized")
    chain.mine()
    head = chain.head()
    # one node, no reorgs: what is latest is safe and final; pending reads the latest block
    assert {tag: chain.header_for(tag).block_number for tag in BLOCK_TAGS} == {
        "latest": 1, "earliest": 0, "pending": 1, "safe": 1, "finalized": 1}
    assert chain.header_for(head.hash) == chain.header_for(1) == head  # by hash and by number too


@pytest.mark.parametrize("record", [
    CallRequest(), LogFilter(), MinedBlock(1, b"\x01" * 32, (), ()), FeeHistory(0, [1], [0.5], None),
], ids=["call", "filter", "mined", "fee-history"])
def test_records_are_frozen(record: Any) -> None:
    field = dataclasses.fields(record)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, field, None)


def test_a_transaction_record_has_no_block_while_pending(chain: EmbeddedChain, keys: Funded) -> None:
    chain.mine()
    tx_hash = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=3))
    pending = chain.get_transaction(tx_hash)
    assert isinstance(pending, TransactionRecord)
    assert (pending.header, pending.index) == (None, None)
    assert pending.tx.hash == tx_hash and pending.sender == addr(keys.alice.address)

    mined = chain.mine()
    assert isinstance(mined, MinedBlock)
    assert (mined.number, mined.hash, mined.transactions, mined.dropped) == (2, chain.head().hash, (tx_hash,), ())
    record = chain.get_transaction(tx_hash)
    assert record is not None and record.header == chain.head() and record.index == 0
    assert (record.tx, record.sender) == (pending.tx, pending.sender)
