"""The filter API (dataseal.chain.embedded.filters): log, block and pending-transaction filters polled
for their changes, geth's ids, errors and 5-minute expiry (on the chain's clock), and web3.py's
``w3.eth.filter`` polling through them."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.errors import InvalidParams, LimitExceeded
from dataseal.chain.embedded.filters import FILTER_TIMEOUT, MAX_FILTERS, FilterNotFound
from dataseal.chain.embedded.provider import EmbeddedProvider
from dataseal.chain.embedded.records import LogFilter, LogRecord
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.settings import Tuning
from tests.chain.embedded.clocks import ManualClock
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import LOG_RUNTIME, addr, deploy, open_chain, sign

LOG2_RUNTIME = bytes.fromhex("60203560003560006000a200")  # LOG2(topics = calldata[0:32], calldata[32:64])


def emit(chain: EmbeddedChain, key: LocalAccount, contract: bytes, data: bytes) -> bytes:
    """Send a transaction to ``contract`` with ``data`` (not mined); its hash."""
    nonce = chain.pending_nonce(addr(key.address))
    return chain.send_raw_transaction(sign(key, chain.chain_id, nonce, to=to_checksum_address(contract), value=0,
                                           gas=60_000, data=data))


def topics_of(changes: list[LogRecord] | list[bytes]) -> list[tuple[bytes, ...]]:
    assert all(isinstance(c, LogRecord) for c in changes)
    return [c.topics for c in changes if isinstance(c, LogRecord)]


def test_a_log_filter_reports_each_new_matching_log_once(chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)
    other = deploy(chain, keys.alice, LOG_RUNTIME)
    emit(chain, keys.alice, logger, keccak(text="old"))
    chain.mine()  # before the filter: never among its changes
    flt = chain.new_filter(LogFilter(from_block=0, addresses=(logger,)))
    assert chain.filter_changes(flt) == []
    emit(chain, keys.alice, logger, keccak(text="a"))
    emit(chain, keys.alice, other, keccak(text="not this address"))
    chain.mine()
    emit(chain, keys.alice, logger, keccak(text="b"))
    chain.mine()
    assert topics_of(chain.filter_changes(flt)) == [(keccak(text="a"),), (keccak(text="b"),)]
    assert chain.filter_changes(flt) == []
    emit(chain, keys.alice, logger, keccak(text="c"))
    chain.mine()
    assert topics_of(chain.filter_changes(flt)) == [(keccak(text="c"),)]
    # eth_getFilterLogs: the filter's whole query, as eth_getLogs answers it
    assert [r.topics for r in chain.filter_logs(flt)] == [(keccak(text=t),) for t in ("old", "a", "b", "c")]
    assert chain.filter_logs(flt) == chain.get_logs(LogFilter(from_block=0, addresses=(logger,)))


def test_block_and_pending_transaction_filters(chain: EmbeddedChain, keys: Funded) -> None:
    blocks = chain.new_block_filter()
    pending = chain.new_pending_transaction_filter()
    assert chain.filter_changes(blocks) == [] and chain.filter_changes(pending) == []
    first = chain.mine()
    second = chain.mine()
    assert chain.filter_changes(blocks) == [first.hash, second.hash]
    assert chain.filter_changes(blocks) == []
    sent = [chain.send_raw_transaction(sign(keys.alice, chain.chain_id, n)) for n in range(2)]
    later = chain.new_pending_transaction_filter()
    sent.append(chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 2)))
    assert chain.filter_changes(pending) == sent
    assert chain.filter_changes(pending) == []
    assert chain.filter_changes(later) == sent[2:]  # only what was accepted after it was installed
    mined = chain.mine()
    assert chain.filter_changes(blocks) == [mined.hash]
    assert chain.filter_changes(pending) == []  # mined, not newly accepted
    with pytest.raises(FilterNotFound, match="^filter not found$"):
        chain.filter_logs(blocks)  # geth: only log filters have logs


def test_filter_ids_are_random_hex_quantities_and_unknown_ones_are_not_found(
    dispatcher: RpcDispatcher, chain: EmbeddedChain
) -> None:
    ids = [dispatcher.call("eth_newFilter", [{}]), dispatcher.call("eth_newBlockFilter"),
           dispatcher.call("eth_newPendingTransactionFilter")]
    assert len(set(ids)) == 3
    assert all(re.fullmatch(r"0x[1-9a-f][0-9a-f]{0,31}", i) for i in ids), ids
    for filter_id in ids:
        assert dispatcher.call("eth_getFilterChanges", [filter_id]) == []
    assert dispatcher.call("eth_getFilterLogs", [ids[0]]) == []
    assert dispatcher.call("eth_uninstallFilter", [ids[0]]) is True
    assert dispatcher.call("eth_uninstallFilter", [ids[0]]) is False  # geth: false, not an error
    response = dispatcher.handle({"jsonrpc": "2.0", "id": 1, "method": "eth_getFilterChanges", "params": [ids[0]]})
    assert response["error"] == {"code": -32000, "message": "filter not found"}
    for method in ("eth_getFilterChanges", "eth_getFilterLogs"):
        with pytest.raises(FilterNotFound):
            dispatcher.call(method, ["0x" + "12" * 16])
    with pytest.raises(InvalidParams, match="param 0 \\(filter id\\) must be a string"):
        dispatcher.call("eth_getFilterChanges", [12])
    with pytest.raises(InvalidParams, match="a filter cannot name a blockHash"):
        dispatcher.call("eth_newFilter", [{"blockHash": "0x" + "00" * 32}])
    with pytest.raises(InvalidParams, match="fromBlock 5 is after toBlock 2"):
        dispatcher.call("eth_newFilter", [{"fromBlock": "0x5", "toBlock": "0x2"}])
    with pytest.raises(InvalidParams, match="full transactions"):
        dispatcher.call("eth_newPendingTransactionFilter", [True])
    assert dispatcher.call("eth_newPendingTransactionFilter", [False]).startswith("0x")
    # filters belong to the chain: another dispatcher (the HTTP server's, a second provider) sees them
    assert RpcDispatcher(chain).call("eth_getFilterChanges", [ids[1]]) == []


def test_filters_expire_after_five_minutes_without_a_poll(tmp_path: Path, keys: Funded) -> None:
    clock = ManualClock()
    chain = open_chain(tmp_path / "data", keys.addresses, clock=clock)
    try:
        assert FILTER_TIMEOUT == 300  # geth's
        polled, forgotten = chain.new_block_filter(), chain.new_filter(LogFilter())
        for _ in range(3):
            clock.advance(FILTER_TIMEOUT - 1)
            assert chain.filter_changes(polled) == []  # each poll gives it five minutes more
        assert chain.filter_changes(polled) == []
        with pytest.raises(FilterNotFound):
            chain.filter_logs(forgotten)  # eth_getFilterLogs is no poll (geth): it expired
        assert chain.uninstall_filter(forgotten) is False
        clock.advance(FILTER_TIMEOUT)
        with pytest.raises(FilterNotFound):
            chain.filter_changes(polled)
    finally:
        chain.close(flush=False)


def test_at_most_max_filters_are_installed(tmp_path: Path, keys: Funded) -> None:
    clock = ManualClock()
    chain = open_chain(tmp_path / "data", keys.addresses, clock=clock)
    try:
        ids = [chain.new_block_filter() for _ in range(MAX_FILTERS)]
        with pytest.raises(LimitExceeded, match=f"too many filters: {MAX_FILTERS} are installed; uninstall") as refused:
            chain.new_pending_transaction_filter()
        assert refused.value.code == -32005
        assert chain.uninstall_filter(ids[0])
        chain.new_block_filter()  # room for one
        clock.advance(FILTER_TIMEOUT)  # the unpolled ones expire and make room
        assert len({chain.new_block_filter() for _ in range(MAX_FILTERS)}) == MAX_FILTERS
    finally:
        chain.close(flush=False)


def test_filters_match_topics_as_eth_get_logs_does(dispatcher: RpcDispatcher, chain: EmbeddedChain,
                                                    keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG2_RUNTIME)
    three = dispatcher.call("eth_newFilter", [{"fromBlock": "0x0", "topics": [None, None, None]}])
    two = dispatcher.call("eth_newFilter", [{"fromBlock": "0x0", "topics": [None, None]}])
    emit(chain, keys.alice, logger, keccak(text="first") + keccak(text="second"))  # a log with two topics
    chain.mine()
    assert dispatcher.call("eth_getFilterChanges", [three]) == []
    assert dispatcher.call("eth_getFilterLogs", [three]) == []
    changes = dispatcher.call("eth_getFilterChanges", [two])
    assert [log["topics"] for log in changes] == [["0x" + keccak(text=t).hex() for t in ("first", "second")]]
    assert dispatcher.call("eth_getFilterLogs", [two]) == changes
    assert changes[0]["removed"] is False and changes[0]["address"] == "0x" + logger.hex()


def test_a_filters_numeric_block_range_bounds_its_changes(chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)  # block 1
    flt = chain.new_filter(LogFilter(from_block=3, to_block=3, addresses=(logger,)))
    for n in range(2, 5):  # blocks 2, 3, 4
        emit(chain, keys.alice, logger, keccak(text=str(n)))
        chain.mine()
    assert topics_of(chain.filter_changes(flt)) == [(keccak(text="3"),)]
    emit(chain, keys.alice, logger, keccak(text="5"))
    chain.mine()
    assert chain.filter_changes(flt) == []


def test_a_poll_reads_a_bounded_stretch_and_the_next_goes_on(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path / "data", keys.addresses, tuning=Tuning(max_log_block_range=2, max_log_results=3))
    try:
        logger = deploy(chain, keys.alice, LOG_RUNTIME)
        logs, blocks = chain.new_filter(LogFilter(addresses=(logger,))), chain.new_block_filter()
        mined = []
        for n in range(3):  # blocks 2, 3, 4: a log each
            emit(chain, keys.alice, logger, keccak(text=str(n)))
            mined.append(chain.mine().hash)
        assert topics_of(chain.filter_changes(logs)) == [(keccak(text="0"),), (keccak(text="1"),)]
        assert topics_of(chain.filter_changes(logs)) == [(keccak(text="2"),)]
        assert chain.filter_changes(blocks) == mined[:2]
        assert chain.filter_changes(blocks) == mined[2:]
        for n in range(2):  # block 5: four logs, more than max_log_results: answered whole, never split
            for m in range(2):
                emit(chain, keys.alice, logger, keccak(text=f"{n}{m}"))
        chain.mine()
        emit(chain, keys.alice, logger, keccak(text="last"))
        chain.mine()  # block 6
        assert len(chain.filter_changes(logs)) == 4
        assert topics_of(chain.filter_changes(logs)) == [(keccak(text="last"),)]
    finally:
        chain.close(flush=False)


def test_web3_polls_its_filters(chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)
    w3 = Web3(EmbeddedProvider(chain))
    events = w3.eth.filter({"address": to_checksum_address(logger)})
    blocks = w3.eth.filter("latest")
    pending = w3.eth.filter("pending")
    assert events.get_new_entries() == [] and blocks.get_new_entries() == [] and pending.get_new_entries() == []
    sent = emit(chain, keys.alice, logger, keccak(text="hello"))
    assert [bytes(h) for h in pending.get_new_entries()] == [sent]
    block = chain.mine()
    entries: list[Any] = events.get_new_entries()
    assert [(bytes(e["transactionHash"]), [bytes(t) for t in e["topics"]]) for e in entries] == [
        (sent, [keccak(text="hello")])
    ]
    assert entries[0]["blockNumber"] == block.number and entries[0]["logIndex"] == 0
    assert [bytes(h) for h in blocks.get_new_entries()] == [block.hash]
    assert events.get_new_entries() == []
    assert [bytes(e["transactionHash"]) for e in events.get_all_entries()] == [sent]
    assert w3.eth.uninstall_filter(events.filter_id) is True
