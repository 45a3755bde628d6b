"""JSON-RPC encodings (dataseal.chain.embedded.serialize): blocks, transactions of every type, receipts,
logs and fee history as geth answers them — quantities as hex without leading zeros, data as 0x-hex of
its full length, null where geth puts null.

test_rpc.py sees the same encodings through the dispatcher's methods; here each encoder is called on
the records of one chain whose block 3 holds transactions of types 0, 1 and 2, with logs, a revert and
a capped fee."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth._utils.address import generate_contract_address
from eth.vm.forks.prague import PragueVM
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.records import FeeHistory, LogFilter
from dataseal.chain.embedded.serialize import (
    block_json,
    bloom,
    data,
    fee_history_json,
    log_json,
    quantity,
    receipt_json,
    transaction_json,
)
from tests.chain.embedded.helpers import (
    BOB,
    LOG_RUNTIME,
    REVERT_RUNTIME,
    addr,
    deploy,
    init_code,
    new_key,
    open_chain,
    sign,
)

QUANTITY = re.compile(r"0x(0|[1-9a-f][0-9a-f]*)")
GWEI = 10**9
SLOT = "0x" + "00" * 31 + "01"


def is_quantity(value: Any) -> bool:
    return isinstance(value, str) and QUANTITY.fullmatch(value) is not None


def is_data(value: Any, size: int | None = None) -> bool:
    if not isinstance(value, str) or re.fullmatch(r"0x([0-9a-f]{2})*", value) is None:
        return False
    return size is None or len(value) == 2 + 2 * size


def topic(label: str) -> bytes:
    return keccak(text=label)


@dataclass
class Scene:
    chain: EmbeddedChain
    alice: LocalAccount
    bob: LocalAccount
    logger: bytes
    reverter: bytes
    block: list[bytes]  # block 3's transactions: alice's two logs, bob's legacy transfer, bob's type 1 with a
    # log, bob's revert, alice's capped fee
    base_fee: int  # block 3's


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    alice, bob = new_key(), new_key()
    chain = open_chain(tmp_path_factory.mktemp("serialize"), [alice.address, bob.address])
    try:
        logger = deploy(chain, alice, LOG_RUNTIME)  # block 1, alice's nonce 0
        reverter = deploy(chain, alice, REVERT_RUNTIME)  # block 2
        cid, fee = chain.chain_id, chain.next_base_fee()
        logger_address = to_checksum_address(logger)
        type1 = bob.sign_transaction({
            "type": 1, "chainId": cid, "nonce": 1, "gasPrice": fee + GWEI, "gas": 100_000, "to": logger_address,
            "value": 0, "data": topic("three"), "accessList": [{"address": logger_address, "storageKeys": [SLOT]}],
        }).raw_transaction
        raws = [
            sign(alice, cid, 2, to=logger_address, value=0, gas=60_000, data=topic("one")),
            sign(alice, cid, 3, to=logger_address, value=0, gas=60_000, data=topic("two")),
            sign(bob, cid, 0, to=BOB, value=5, legacy=True, max_fee=fee + GWEI),
            bytes(type1),
            sign(bob, cid, 2, to=to_checksum_address(reverter), value=0, gas=60_000),
            sign(alice, cid, 4, value=7, max_fee=fee + GWEI // 2, priority=fee + GWEI // 2),  # tip = cap
        ]
        block = [chain.send_raw_transaction(raw) for raw in raws]
        assert chain.mine().transactions == tuple(block)
        yield Scene(chain, alice, bob, logger, reverter, block, fee)
    finally:
        chain.close(flush=False)


def senders(scene: Scene, number: int) -> list[bytes]:
    return [record.sender for record in scene.chain.block_receipts(number) or []]


def test_quantities_data_and_blooms() -> None:
    assert [quantity(v) for v in (0, 1, 255, 256, 2**256 - 1)] == ["0x0", "0x1", "0xff", "0x100", "0x" + "f" * 64]
    assert [data(v) for v in (b"", b"\x00", b"\x00\x01", b"\xab" * 20)] == ["0x", "0x00", "0x0001", "0x" + "ab" * 20]
    assert bloom(0) == "0x" + "00" * 256 and bloom(1) == "0x" + "00" * 255 + "01"  # always 256 bytes


def test_a_block_has_geths_fields_in_their_encodings(scene: Scene) -> None:
    chain = scene.chain
    block = chain.block_by_ref(3)
    assert block is not None
    answer = block_json(block, full=False, senders=senders(scene, 3))
    assert set(answer) == {
        "number", "hash", "parentHash", "nonce", "sha3Uncles", "logsBloom", "transactionsRoot", "stateRoot",
        "receiptsRoot", "miner", "difficulty", "totalDifficulty", "extraData", "size", "gasLimit", "gasUsed",
        "timestamp", "transactions", "uncles", "baseFeePerGas", "mixHash", "withdrawalsRoot", "withdrawals",
        "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot", "requestsHash",
    }
    for key in ("number", "difficulty", "totalDifficulty", "size", "gasLimit", "gasUsed", "timestamp",
                "baseFeePerGas", "blobGasUsed", "excessBlobGas"):
        assert is_quantity(answer[key]), (key, answer[key])
    for key, size in (("hash", 32), ("parentHash", 32), ("nonce", 8), ("sha3Uncles", 32), ("logsBloom", 256),
                      ("transactionsRoot", 32), ("stateRoot", 32), ("receiptsRoot", 32), ("miner", 20),
                      ("mixHash", 32), ("withdrawalsRoot", 32), ("parentBeaconBlockRoot", 32),
                      ("requestsHash", 32)):
        assert is_data(answer[key], size), (key, answer[key])
    assert is_data(answer["extraData"])
    header = chain.header_for(3)
    assert (answer["number"], answer["hash"], answer["parentHash"]) == (
        "0x3", data(header.hash), data(chain.header_for(2).hash))
    assert answer["gasUsed"] == hex(header.gas_used) and answer["baseFeePerGas"] == hex(scene.base_fee)
    assert answer["miner"] == "0x" + "00" * 20 and answer["difficulty"] == answer["totalDifficulty"] == "0x0"
    assert answer["transactions"] == [data(h) for h in scene.block]
    assert answer["uncles"] == [] and answer["withdrawals"] == []

    full = block_json(block, full=True, senders=senders(scene, 3))
    assert {k: v for k, v in full.items() if k != "transactions"} == {
        k: v for k, v in answer.items() if k != "transactions"}
    assert [tx["hash"] for tx in full["transactions"]] == answer["transactions"]
    assert [tx["transactionIndex"] for tx in full["transactions"]] == [hex(i) for i in range(6)]
    assert {tx["blockHash"] for tx in full["transactions"]} == {answer["hash"]}
    assert [tx["from"] for tx in full["transactions"]] == [
        data(addr(k.address)) for k in (scene.alice, scene.alice, scene.bob, scene.bob, scene.bob, scene.alice)]


def mined_json(scene: Scene, index: int) -> dict[str, Any]:
    record = scene.chain.get_transaction(scene.block[index])
    assert record is not None and record.header is not None
    return transaction_json(record.tx, record.sender, record.header, record.index)


def common_fields_are_encoded(answer: dict[str, Any]) -> None:
    for key in ("type", "nonce", "blockNumber", "transactionIndex", "value", "gas", "v", "r", "s"):
        assert is_quantity(answer[key]), (key, answer[key])
    assert is_data(answer["hash"], 32) and is_data(answer["blockHash"], 32) and is_data(answer["from"], 20)
    assert answer["to"] is None or is_data(answer["to"], 20)
    assert is_data(answer["input"])


def test_a_legacy_transaction(scene: Scene) -> None:
    answer = mined_json(scene, 2)
    common_fields_are_encoded(answer)
    cid = scene.chain.chain_id
    assert answer["type"] == "0x0" and answer["gasPrice"] == hex(scene.base_fee + GWEI)  # it pays its price
    assert answer["chainId"] == hex(cid) and answer["v"] in (hex(2 * cid + 35), hex(2 * cid + 36))  # EIP-155
    assert answer["value"] == "0x5" and answer["to"] == BOB.lower() and answer["input"] == "0x"
    assert not {"yParity", "accessList", "maxFeePerGas", "maxPriorityFeePerGas"} & set(answer)


def test_an_access_list_transaction(scene: Scene) -> None:
    answer = mined_json(scene, 3)
    common_fields_are_encoded(answer)
    assert answer["type"] == "0x1" and answer["gasPrice"] == hex(scene.base_fee + GWEI)
    assert answer["chainId"] == hex(scene.chain.chain_id)
    assert answer["accessList"] == [{"address": data(scene.logger), "storageKeys": [SLOT]}]  # keys of 32 bytes
    assert answer["v"] == answer["yParity"] in ("0x0", "0x1")
    assert answer["input"] == data(topic("three"))
    assert not {"maxFeePerGas", "maxPriorityFeePerGas"} & set(answer)


def test_a_dynamic_fee_transaction_pays_at_most_its_fee_cap(scene: Scene) -> None:
    paying = mined_json(scene, 0)
    common_fields_are_encoded(paying)
    assert paying["type"] == "0x2" and paying["accessList"] == [] and paying["v"] == paying["yParity"]
    assert paying["maxFeePerGas"] == hex(10**10) and paying["maxPriorityFeePerGas"] == hex(GWEI)
    assert paying["gasPrice"] == hex(scene.base_fee + GWEI)  # mined: the base fee and its tip
    capped = mined_json(scene, 5)
    assert capped["maxPriorityFeePerGas"] == capped["maxFeePerGas"] == hex(scene.base_fee + GWEI // 2)
    assert capped["gasPrice"] == capped["maxFeePerGas"]  # the cap, less than the base fee and the tip
    record = scene.chain.get_transaction(scene.block[0])
    assert record is not None
    pending = transaction_json(record.tx, record.sender, None, None)  # as it was while pending
    assert (pending["blockHash"], pending["blockNumber"], pending["transactionIndex"]) == (None, None, None)
    assert pending["gasPrice"] == pending["maxFeePerGas"]
    assert {k: v for k, v in pending.items() if v is not None and k != "gasPrice"} == {
        k: v for k, v in paying.items() if k not in ("blockHash", "blockNumber", "transactionIndex", "gasPrice")}


def test_a_contract_creations_to_is_null(scene: Scene) -> None:
    block = scene.chain.block_by_ref(1)
    assert block is not None
    (creation,) = block_json(block, full=True, senders=senders(scene, 1))["transactions"]
    common_fields_are_encoded(creation)
    assert creation["to"] is None and creation["input"] == data(init_code(LOG_RUNTIME))


def test_a_set_code_transaction_lists_its_authorizations() -> None:
    key = Account.create()
    authorization = key.sign_authorization({"chainId": 7, "address": "0x" + "11" * 20, "nonce": 1})
    raw = key.sign_transaction({
        "type": 4, "chainId": 7, "nonce": 0, "gas": 100_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": GWEI,
        "to": "0x" + "22" * 20, "value": 0, "data": b"", "accessList": [], "authorizationList": [authorization],
    }).raw_transaction
    tx = PragueVM.get_transaction_builder().decode(bytes(raw))
    answer = transaction_json(tx, addr(key.address), None, None)
    assert answer["type"] == "0x4" and answer["gasPrice"] == answer["maxFeePerGas"] == hex(10**10)
    assert answer["authorizationList"] == [{
        "chainId": "0x7", "address": "0x" + "11" * 20, "nonce": "0x1", "yParity": hex(authorization.y_parity),
        "r": hex(authorization.r), "s": hex(authorization.s),
    }]


def test_receipts_of_a_block(scene: Scene) -> None:
    records = scene.chain.block_receipts(3) or []
    answers = [receipt_json(record) for record in records]
    assert [a["transactionHash"] for a in answers] == [data(h) for h in scene.block]
    assert [a["type"] for a in answers] == ["0x2", "0x2", "0x0", "0x1", "0x2", "0x2"]
    assert [a["status"] for a in answers] == ["0x1", "0x1", "0x1", "0x1", "0x0", "0x1"]  # the revert failed
    assert [len(a["logs"]) for a in answers] == [1, 1, 0, 1, 0, 0]
    assert [log["logIndex"] for a in answers for log in a["logs"]] == ["0x0", "0x1", "0x2"]  # counted in the block
    cumulative = 0
    for index, (answer, record) in enumerate(zip(answers, records, strict=True)):
        for key in ("transactionIndex", "blockNumber", "cumulativeGasUsed", "gasUsed", "effectiveGasPrice", "type"):
            assert is_quantity(answer[key]), (key, answer[key])
        cumulative += int(answer["gasUsed"], 16)
        assert answer["cumulativeGasUsed"] == hex(cumulative) and answer["transactionIndex"] == hex(index)
        assert answer["blockHash"] == data(scene.chain.header_for(3).hash) and answer["blockNumber"] == "0x3"
        assert answer["from"] == data(record.sender) and is_data(answer["to"], 20)
        assert answer["contractAddress"] is None  # not a creation
        assert answer["effectiveGasPrice"] == mined_json(scene, index)["gasPrice"]
        assert is_data(answer["logsBloom"], 256)
    assert answers[4]["logsBloom"] == bloom(0) and answers[0]["logsBloom"] != bloom(0)
    assert int(answers[-1]["cumulativeGasUsed"], 16) == scene.chain.header_for(3).gas_used


def test_a_creations_receipt_names_the_contract_and_no_recipient(scene: Scene) -> None:
    (record,) = scene.chain.block_receipts(1) or []
    answer = receipt_json(record)
    assert answer["to"] is None and answer["status"] == "0x1"
    assert answer["contractAddress"] == data(generate_contract_address(addr(scene.alice.address), 0))
    assert answer["contractAddress"] == data(scene.logger)


def test_logs_carry_their_place_and_are_never_removed(scene: Scene) -> None:
    records = scene.chain.get_logs(LogFilter(from_block=3, to_block=3))
    answers = [log_json(record) for record in records]
    receipts = [receipt_json(record) for record in scene.chain.block_receipts(3) or []]
    assert answers == [log for receipt in receipts for log in receipt["logs"]]  # the same, however they are read
    header = scene.chain.header_for(3)
    for answer, label, tx_index in zip(answers, ("one", "two", "three"), (0, 1, 3), strict=True):
        assert answer == {
            "address": data(scene.logger), "topics": [data(topic(label))], "data": "0x",
            "blockNumber": "0x3", "blockHash": data(header.hash), "blockTimestamp": hex(header.timestamp),
            "transactionHash": data(scene.block[tx_index]), "transactionIndex": hex(tx_index),
            "logIndex": answer["logIndex"], "removed": False,
        }


def test_fee_history_lists_rewards_only_when_asked() -> None:
    asked = FeeHistory(oldest_block=16, base_fee_per_gas=[10, 0, 256], gas_used_ratio=[0.5, 0.0],
                       reward=[[1, 0], [0, 0]])
    assert fee_history_json(asked) == {"oldestBlock": "0x10", "baseFeePerGas": ["0xa", "0x0", "0x100"],
                                       "gasUsedRatio": [0.5, 0.0], "reward": [["0x1", "0x0"], ["0x0", "0x0"]]}
    unasked = FeeHistory(oldest_block=0, base_fee_per_gas=[7, 7], gas_used_ratio=[0.0], reward=None)
    assert fee_history_json(unasked) == {"oldestBlock": "0x0", "baseFeePerGas": ["0x7", "0x7"], "gasUsedRatio": [0.0]}
