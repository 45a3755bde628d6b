"""JSON-RPC conformance of the dispatcher: every method, the error codes, batches."""
from __future__ import annotations

import json
import time
from typing import Any

import pytest
from eth._utils.address import generate_contract_address
from eth_utils import keccak, to_canonical_address, to_checksum_address

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.rpc import MAX_BATCH, RpcDispatcher
from dataseal.chain.embedded.settings import Exposure
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import LOG_RUNTIME, REVERT_RUNTIME, STORE_RUNTIME, init_code, sign

BOB = to_checksum_address("0x" + "b0" * 20)


def request(method: str, *params: Any, id: Any = 1) -> dict[str, Any]:  # noqa: A002
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": list(params)}


def result(d: RpcDispatcher, method: str, *params: Any) -> Any:
    response = d.handle(request(method, *params))
    assert "error" not in response, response
    assert response["jsonrpc"] == "2.0" and response["id"] == 1
    json.dumps(response)  # everything the dispatcher answers is plain JSON
    return response["result"]


def error(d: RpcDispatcher, method: str, *params: Any) -> dict[str, Any]:
    response = d.handle(request(method, *params))
    assert "result" not in response, response
    return dict(response["error"])


def deploy(chain: EmbeddedChain, key: Any, runtime: bytes) -> str:
    nonce = chain.pending_nonce(to_canonical_address(key.address))
    chain.send_raw_transaction(sign(key, chain.chain_id, nonce, to=None, value=0, gas=200_000, data=init_code(runtime)))
    chain.mine()
    return "0x" + bytes(generate_contract_address(to_canonical_address(key.address), nonce)).hex()


# ------------------------------------------------------------------------------------ identity


def test_identity_methods(dispatcher: RpcDispatcher, chain: EmbeddedChain) -> None:
    assert result(dispatcher, "web3_clientVersion").startswith("dataseal/v")
    assert result(dispatcher, "eth_chainId") == hex(chain.chain_id) == "0x64617461"
    assert result(dispatcher, "net_version") == str(chain.chain_id)
    assert result(dispatcher, "net_listening") is True
    assert result(dispatcher, "net_peerCount") == "0x0"
    assert result(dispatcher, "eth_syncing") is False
    assert result(dispatcher, "eth_mining") is False  # manual mining
    assert result(dispatcher, "eth_accounts") == []
    assert result(dispatcher, "eth_coinbase") == "0x" + "00" * 20
    assert result(dispatcher, "web3_sha3", "0x68656c6c6f") == "0x" + keccak(b"hello").hex()
    assert "eth_getLogs" in dispatcher.methods and "eth_feeHistory" in dispatcher.methods


# ------------------------------------------------------------------------------------ blocks


def test_blocks_by_number_and_hash(dispatcher: RpcDispatcher, chain: EmbeddedChain, keys: Funded) -> None:
    tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB))
    chain.mine()
    assert result(dispatcher, "eth_blockNumber") == "0x1"
    block = result(dispatcher, "eth_getBlockByNumber", "latest", False)
    assert block["number"] == "0x1" and block["transactions"] == ["0x" + tx.hex()]
    assert len(block["logsBloom"]) == 2 + 2 * 256
    assert int(block["baseFeePerGas"], 16) > 0 and block["gasLimit"] == hex(30_000_000)
    assert block["uncles"] == [] and block["withdrawals"] == [] and int(block["size"], 16) > 500
    assert result(dispatcher, "eth_getBlockByNumber", "pending", False)["hash"] == block["hash"]
    assert result(dispatcher, "eth_getBlockByNumber", "earliest", False)["number"] == "0x0"
    assert result(dispatcher, "eth_getBlockByNumber", {"blockNumber": "0x1"}, False)["hash"] == block["hash"]
    full = result(dispatcher, "eth_getBlockByHash", block["hash"], True)
    assert full["transactions"][0]["hash"] == "0x" + tx.hex()
    assert full["transactions"][0]["from"] == keys.alice.address.lower()
    assert result(dispatcher, "eth_getBlockByNumber", "0x9", False) is None
    assert result(dispatcher, "eth_getBlockByHash", "0x" + "11" * 32, False) is None
    assert result(dispatcher, "eth_getBlockTransactionCountByNumber", "0x1") == "0x1"
    assert result(dispatcher, "eth_getBlockTransactionCountByHash", block["hash"]) == "0x1"
    assert result(dispatcher, "eth_getBlockTransactionCountByNumber", "0x7") is None
    by_index = result(dispatcher, "eth_getTransactionByBlockNumberAndIndex", "0x1", "0x0")
    assert by_index["hash"] == "0x" + tx.hex() and by_index["transactionIndex"] == "0x0"
    assert result(dispatcher, "eth_getTransactionByBlockHashAndIndex", block["hash"], "0x0")["hash"] == by_index["hash"]
    assert result(dispatcher, "eth_getTransactionByBlockNumberAndIndex", "0x1", "0x5") is None
    assert result(dispatcher, "eth_getUncleCountByBlockNumber", "0x1") == "0x0"
    receipts = result(dispatcher, "eth_getBlockReceipts", "0x1")
    assert [r["transactionHash"] for r in receipts] == ["0x" + tx.hex()]
    assert result(dispatcher, "eth_getBlockReceipts", block["hash"])[0]["blockHash"] == block["hash"]
    assert result(dispatcher, "eth_getBlockReceipts", "0x8") is None


# ------------------------------------------------------------------------------------ state


def test_state_reads(dispatcher: RpcDispatcher, chain: EmbeddedChain, keys: Funded) -> None:
    store = deploy(chain, keys.alice, STORE_RUNTIME)
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 1, to=to_checksum_address(store), value=0,
                                    gas=60_000, data=(5).to_bytes(32, "big")))
    chain.mine()
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 2, to=BOB, value=7))  # stays pending
    alice = keys.alice.address
    assert result(dispatcher, "eth_getBalance", BOB, "latest") == "0x0"
    assert int(result(dispatcher, "eth_getBalance", alice), 16) < 1_000 * 10**18
    assert result(dispatcher, "eth_getBalance", alice, "earliest") == hex(1_000 * 10**18)
    assert result(dispatcher, "eth_getCode", store, "latest") == "0x" + STORE_RUNTIME.hex()
    assert result(dispatcher, "eth_getCode", BOB, "latest") == "0x"
    assert result(dispatcher, "eth_getStorageAt", store, "0x0", "latest") == "0x" + (5).to_bytes(32, "big").hex()
    assert result(dispatcher, "eth_getTransactionCount", alice, "latest") == "0x2"
    assert result(dispatcher, "eth_getTransactionCount", alice, "pending") == "0x3"
    assert result(dispatcher, "eth_getTransactionCount", alice, "0x1") == "0x1"
    missing = error(dispatcher, "eth_getBalance", alice, "0x99")
    assert missing["code"] == -32000 and "block 153 is beyond the head" in missing["message"]


# ------------------------------------------------------------------------------------ transactions


def test_send_then_find_the_transaction_and_its_receipt(
    dispatcher: RpcDispatcher, chain: EmbeddedChain, keys: Funded
) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, to=None, value=0, gas=200_000, data=init_code(LOG_RUNTIME))
    tx_hash = result(dispatcher, "eth_sendRawTransaction", "0x" + raw.hex())
    pending = result(dispatcher, "eth_getTransactionByHash", tx_hash)
    assert pending["blockHash"] is None and pending["blockNumber"] is None and pending["to"] is None
    assert pending["gasPrice"] == pending["maxFeePerGas"] and pending["type"] == "0x2"
    assert result(dispatcher, "eth_getTransactionReceipt", tx_hash) is None  # manual mining: nobody mines it
    chain.mine()
    mined = result(dispatcher, "eth_getTransactionByHash", tx_hash)
    assert mined["blockNumber"] == "0x1" and mined["transactionIndex"] == "0x0"
    base_fee = int(result(dispatcher, "eth_getBlockByNumber", "0x1", False)["baseFeePerGas"], 16)
    assert int(mined["gasPrice"], 16) == base_fee + 10**9  # what it paid, not its cap
    receipt = result(dispatcher, "eth_getTransactionReceipt", tx_hash)
    contract = "0x" + bytes(generate_contract_address(to_canonical_address(keys.alice.address), 0)).hex()
    assert receipt["to"] is None and receipt["contractAddress"] == contract
    assert receipt["status"] == "0x1" and receipt["type"] == "0x2" and receipt["logs"] == []
    assert receipt["effectiveGasPrice"] == mined["gasPrice"]
    assert receipt["gasUsed"] == receipt["cumulativeGasUsed"] and len(receipt["logsBloom"]) == 514
    topic = "0x" + keccak(text="hello").hex()
    call = sign(keys.alice, chain.chain_id, 1, to=to_checksum_address(contract), value=0, gas=60_000,
                data=bytes.fromhex(topic[2:]))
    call_hash = result(dispatcher, "eth_sendRawTransaction", "0x" + call.hex())
    chain.mine()
    (log,) = result(dispatcher, "eth_getTransactionReceipt", call_hash)["logs"]
    assert log["removed"] is False and log["topics"] == [topic] and log["address"] == contract
    assert log["logIndex"] == "0x0" and log["transactionHash"] == call_hash and log["blockNumber"] == "0x2"
    assert result(dispatcher, "eth_getTransactionByHash", "0x" + "12" * 32) is None
    assert result(dispatcher, "eth_getTransactionReceipt", "0x" + "12" * 32) is None


def test_refused_transactions_answer_json_rpc_errors(
    dispatcher: RpcDispatcher, chain: EmbeddedChain, keys: Funded
) -> None:
    raw = "0x" + sign(keys.alice, chain.chain_id, 3, to=BOB).hex()
    gap = error(dispatcher, "eth_sendRawTransaction", raw)
    assert gap["code"] == -32000 and gap["message"].startswith("nonce too high")
    bad = error(dispatcher, "eth_sendRawTransaction", "0x1234")
    assert bad["code"] == -32602 and "not a signed transaction" in bad["message"]
    not_hex = error(dispatcher, "eth_sendRawTransaction", "hello")
    assert not_hex["code"] == -32602 and "0x-prefixed hex bytes" in not_hex["message"]
    refused = error(dispatcher, "eth_sendTransaction", {"from": keys.alice.address, "to": BOB})
    assert refused["code"] == -32601 and "holds no keys" in refused["message"]
    assert "eth_sendRawTransaction" in refused["message"]


# ------------------------------------------------------------------------------------ execution


def test_call_and_estimate_gas(dispatcher: RpcDispatcher, chain: EmbeddedChain, keys: Funded) -> None:
    reverter = deploy(chain, keys.alice, REVERT_RUNTIME)
    store = deploy(chain, keys.alice, STORE_RUNTIME)
    alice = keys.alice.address
    assert result(dispatcher, "eth_call", {"to": store, "data": "0x"}, "latest") == "0x"
    reverted = error(dispatcher, "eth_call", {"from": alice, "to": reverter}, "latest")
    assert reverted == {"code": 3, "message": "execution reverted", "data": "0xdeadbeef"}
    assert error(dispatcher, "eth_estimateGas", {"from": alice, "to": reverter}, "pending")["code"] == 3
    assert result(dispatcher, "eth_estimateGas", {"from": alice, "to": BOB, "value": "0x1"}, "pending") == "0x5208"
    assert result(dispatcher, "eth_estimateGas", {"from": alice, "to": BOB}) == "0x5208"
    word = "0x" + (9).to_bytes(32, "big").hex()
    estimate = int(result(dispatcher, "eth_estimateGas", {"from": alice, "to": store, "input": word}), 16)
    assert 40_000 < estimate < 50_000
    both = error(dispatcher, "eth_call", {"to": store, "data": "0x01", "input": "0x02"})
    assert both["code"] == -32602 and "both input and data" in both["message"]
    assert result(dispatcher, "eth_call", {"to": store}, "latest", {store: {"balance": "0x1"}}) == "0x"
    assert result(dispatcher, "eth_call", {"to": store}, None, None) == "0x"  # nulls: latest, no overrides
    assert result(dispatcher, "eth_estimateGas", {"from": alice, "to": BOB}, None, {BOB: {"code": "0x00"}}) == "0x5208"
    no_funds = error(dispatcher, "eth_call", {"from": BOB, "to": store, "value": "0x1"})
    assert no_funds["code"] == -32000 and "balance" in no_funds["message"]
    out_of_gas = error(dispatcher, "eth_estimateGas", {"from": alice, "to": store, "data": word, "gas": "0x5208"})
    assert out_of_gas["code"] == -32000 and out_of_gas["message"].startswith("gas required exceeds allowance (21000)")
    listed = result(dispatcher, "eth_call", {"to": store, "accessList": [{"address": store, "storageKeys": [
        "0x" + "00" * 32]}]})
    assert listed == "0x"
    assert error(dispatcher, "eth_call", {"to": store, "accessList": "none"})["code"] == -32602
    assert error(dispatcher, "eth_call", "to the store")["code"] == -32602


@pytest.mark.parametrize(("overrides", "named"), [
    ("everything", "param 2 (state overrides) must be an object"),
    ({"0x12": {}}, "state overrides)['0x12'] must be an address"),
    ({BOB: {"balance": "lots"}}, f"['{BOB}'].balance must be a hex quantity"),
    ({BOB: {"nonce": hex(2**64)}}, f"['{BOB}'].nonce must be below 2**64"),
    ({BOB: {"balance": 2**256}}, f"['{BOB}'].balance: number > 256 bits"),
    ({BOB: {"code": "0x1"}}, f"['{BOB}'].code must be 0x-prefixed hex bytes"),
    ({BOB: {"state": {"0x00": "0x" + "00" * 32}}}, f"['{BOB}'].state key '0x00' must be a 32-byte hash"),
    ({BOB: {"stateDiff": {"0x" + "00" * 32: "0x01"}}}, f"['{BOB}'].stateDiff['0x{'00' * 32}'] must be a 32-byte"),
    ({BOB: {"stateDiff": []}}, f"['{BOB}'].stateDiff must be an object mapping 32-byte slots"),
    ({BOB: {"state": {}, "stateDiff": {}}}, f"['{BOB}']: both state and stateDiff are set"),
    ({BOB: {"movePrecompileToAddress": BOB}}, f"['{BOB}'].movePrecompileToAddress is not supported"),
    ({BOB: "rich"}, f"['{BOB}'] must be an object (balance, nonce, code, state, stateDiff)"),
    ({BOB: {}, BOB.lower(): {}}, "is given twice"),
])
@pytest.mark.parametrize("method", ["eth_call", "eth_estimateGas"])
def test_malformed_state_overrides_are_refused_naming_the_field(
    dispatcher: RpcDispatcher, method: str, overrides: Any, named: str
) -> None:
    refused = error(dispatcher, method, {"to": BOB}, "latest", overrides)
    assert refused["code"] == -32602
    assert refused["message"].startswith(f"{method} param 2 (state overrides)")
    assert named in refused["message"]


# ------------------------------------------------------------------------------------ fees


def test_fee_methods_advertise_eip1559(dispatcher: RpcDispatcher, chain: EmbeddedChain, keys: Funded) -> None:
    for nonce in range(3):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=BOB, priority=2 * 10**9))
        chain.mine()
    base = chain.next_base_fee()
    assert result(dispatcher, "eth_maxPriorityFeePerGas") == hex(10**9)
    assert result(dispatcher, "eth_gasPrice") == hex(base + 10**9)
    history = result(dispatcher, "eth_feeHistory", "0x2", "latest", [25, 75])
    assert history["oldestBlock"] == "0x2"
    assert len(history["baseFeePerGas"]) == 3 and history["baseFeePerGas"][-1] == hex(base)
    assert history["gasUsedRatio"] == [21_000 / 30_000_000] * 2
    assert history["reward"] == [[hex(2 * 10**9)] * 2] * 2
    assert "reward" not in result(dispatcher, "eth_feeHistory", 10, "latest")
    assert result(dispatcher, "eth_feeHistory", "0x64", "0x1")["oldestBlock"] == "0x0"  # clipped at genesis
    assert result(dispatcher, "eth_feeHistory", "0x1", "earliest", [50])["reward"] == [["0x0"]]  # empty block
    assert error(dispatcher, "eth_feeHistory", "0x0", "latest")["message"].endswith("must be 1 to 1024, got 0")
    assert "rise monotonically" in error(dispatcher, "eth_feeHistory", "0x1", "latest", [50, 10])["message"]
    assert "array of numbers" in error(dispatcher, "eth_feeHistory", "0x1", "latest", ["a"])["message"]


def test_blob_base_fee_is_the_minimum(dispatcher: RpcDispatcher, chain: EmbeddedChain) -> None:
    # EIP-4844's minimum blob base fee, as hardhat answers: this chain carries no blobs.
    assert result(dispatcher, "eth_blobBaseFee") == "0x1"
    chain.mine()
    assert result(dispatcher, "eth_blobBaseFee") == "0x1"
    assert error(dispatcher, "eth_blobBaseFee", "latest")["code"] == -32602


# ------------------------------------------------------------------------------------ logs


def test_get_logs_filters(dispatcher: RpcDispatcher, chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)
    topics = ["0x" + keccak(text=t).hex() for t in ("a", "b")]
    for nonce, topic in enumerate(topics, start=1):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=to_checksum_address(logger), value=0,
                                        gas=60_000, data=bytes.fromhex(topic[2:])))
    chain.mine()
    logs = result(dispatcher, "eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest", "address": logger})
    assert [log["topics"] for log in logs] == [[topics[0]], [topics[1]]]
    assert all(log["removed"] is False for log in logs)
    assert len(result(dispatcher, "eth_getLogs", {"fromBlock": "earliest", "address": [logger, BOB]})) == 2
    assert len(result(dispatcher, "eth_getLogs", {"fromBlock": "0x0", "topics": [[topics[1]]]})) == 1
    assert len(result(dispatcher, "eth_getLogs", {"fromBlock": "0x0", "topics": [None]})) == 2
    assert len(result(dispatcher, "eth_getLogs", {"fromBlock": "0x0", "topics": [[]]})) == 2
    assert len(result(dispatcher, "eth_getLogs", {"blockHash": logs[0]["blockHash"]})) == 2
    assert result(dispatcher, "eth_getLogs", {}) == logs  # latest block only
    combined = error(dispatcher, "eth_getLogs", {"blockHash": logs[0]["blockHash"], "fromBlock": "0x0"})
    assert combined["code"] == -32602 and "cannot be combined" in combined["message"]
    assert "at most 4 positions" in error(dispatcher, "eth_getLogs", {"topics": [None] * 5})["message"]
    assert "topics[0]" in error(dispatcher, "eth_getLogs", {"topics": ["0x12"]})["message"]
    assert "address" in error(dispatcher, "eth_getLogs", {"address": "0x12"})["message"]
    assert error(dispatcher, "eth_getLogs", {"blockHash": "0x" + "00" * 32})["code"] == -32000
    assert error(dispatcher, "eth_getLogs", "everything")["code"] == -32602
    assert error(dispatcher, "eth_getLogs", {"fromBlock": "0x2", "toBlock": "0x1"})["code"] == -32602
    # null means latest; a number is never taken for "latest"
    assert result(dispatcher, "eth_getLogs", {"fromBlock": None, "toBlock": None}) == logs
    chain.mine()  # an empty block on top: "latest" now has no logs
    assert result(dispatcher, "eth_getLogs", {"fromBlock": 0, "address": logger}) == logs  # block 0, not latest
    assert result(dispatcher, "eth_getLogs", {"fromBlock": None, "address": logger}) == []


# ------------------------------------------------------------------------------------ development methods


def test_evm_mine_and_the_refused_history_rewrites(chain: EmbeddedChain) -> None:
    dispatcher = RpcDispatcher(chain, Exposure(dev=True))
    assert result(dispatcher, "evm_mine") == "0x0"
    stamp = chain.head().timestamp + 100
    assert result(dispatcher, "evm_mine", hex(stamp)) == "0x0"
    assert chain.head().block_number == 2 and chain.head().timestamp == stamp
    assert "never go backwards" in error(dispatcher, "evm_mine", hex(stamp - 1))["message"]
    for method in ("evm_snapshot", "evm_revert"):
        refused = error(dispatcher, method)
        assert refused["code"] == -32000 and "persistent and its blocks are final" in refused["message"]


def test_evm_mine_is_refused_unless_the_node_is_started_for_development(
    dispatcher: RpcDispatcher, chain: EmbeddedChain
) -> None:
    for params in ((), (hex(2**64),), (1, 2)):
        refused = error(dispatcher, "evm_mine", *params)
        assert refused["code"] == -32601
        assert refused["message"] == ("the method evm_mine is a development method, off on this node: start the node "
                                      "for development (dev) to use it")
    assert "evm_mine" not in dispatcher.methods
    spelled = RpcDispatcher(chain, Exposure(spellings={"dev": "--dev"}))
    assert "start the node for development (--dev)" in error(spelled, "evm_mine")["message"]
    assert chain.head().block_number == 0


def test_evm_mine_refuses_a_timestamp_far_ahead_of_the_clock_or_beyond_what_contracts_hold(
    chain: EmbeddedChain
) -> None:
    dispatcher = RpcDispatcher(chain, Exposure(dev=True))
    now = int(time.time())
    for stamp in (2**64, 2**256 - 1, 2**63, now + 3600):
        refused = error(dispatcher, "evm_mine", hex(stamp))
        assert refused["code"] == -32602 and f"timestamp {stamp} is too far ahead" in refused["message"]
    assert chain.head().block_number == 0
    assert result(dispatcher, "evm_mine", hex(now + 60)) == "0x0"  # a minute ahead: within the bound
    assert chain.head().timestamp == now + 60


# ------------------------------------------------------------------------------------ protocol errors


def test_unknown_methods_and_malformed_requests(dispatcher: RpcDispatcher) -> None:
    unknown = dispatcher.handle(request("eth_mineGold", id="x"))
    assert unknown == {"jsonrpc": "2.0", "id": "x", "error": {"code": -32601, "message": (
        "the method eth_mineGold does not exist/is not available on the dataseal embedded chain")}}
    assert dispatcher.handle(5)["error"]["code"] == -32600
    assert dispatcher.handle({"id": 1, "method": "eth_chainId"})["error"]["message"] == (
        'invalid request: "jsonrpc" must be "2.0"')
    assert dispatcher.handle({"jsonrpc": "2.0", "id": 1, "method": 7})["error"]["code"] == -32600
    bad_id = dispatcher.handle({"jsonrpc": "2.0", "id": [1], "method": "eth_chainId"})
    assert bad_id["id"] is None and bad_id["error"]["code"] == -32600
    by_name = dispatcher.handle({"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": {"a": 1}})
    assert by_name["error"]["code"] == -32602 and "must be an array" in by_name["error"]["message"]
    arity = error(dispatcher, "eth_getBalance")
    assert arity["code"] == -32602 and arity["message"] == "eth_getBalance takes 1 to 2 parameter(s), got 0"
    assert error(dispatcher, "eth_chainId", 1)["message"] == "eth_chainId takes 0 parameter(s), got 1"
    for bad, fragment in [
        (["0x12"], "address (20 bytes"),
        (["0x" + "aa" * 20, "latests"], "hex block number or one of latest"),
        (["0x" + "aa" * 20, "0xzz"], "hex block number"),
        (["0x" + "aa" * 20, {"blockHash": "0x12"}], "32-byte hash"),
        (["0x" + "aa" * 20, {}], "must name blockHash or blockNumber"),
        (["0x" + "aa" * 20, -1], "hex block number"),
        (["0x" + "aa" * 20, True], "hex block number"),
    ]:
        answer = error(dispatcher, "eth_getBalance", *bad)
        assert answer["code"] == -32602 and fragment in answer["message"], (bad, answer)
    assert "true or false" in error(dispatcher, "eth_getBlockByNumber", "latest", "yes")["message"]
    assert dispatcher.handle_bytes(b"{not json")  == (
        b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: the body is not JSON '
        b'(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"}}')
    assert json.loads(dispatcher.handle_bytes(b"\xff\xfe") or b"")["error"]["code"] == -32700
    for deep in (b"[" * 200_000, b'{"a":' * 200_000, b"[" * 129 + b"]" * 129):
        answer = json.loads(dispatcher.handle_bytes(deep) or b"")["error"]
        assert answer == {"code": -32700, "message": "parse error: the JSON is nested more than 128 levels deep"}
    for not_json in (b'{"jsonrpc":"2.0","id":NaN,"method":"eth_chainId"}',
                     b'{"jsonrpc":"2.0","id":Infinity,"method":"eth_chainId"}',
                     b'{"jsonrpc":"2.0","id":1e400,"method":"eth_chainId"}'):
        answer = dispatcher.handle_bytes(not_json) or b""
        assert json.loads(answer)["error"]["code"] == -32700  # and the answer itself is valid JSON
        assert b"NaN" not in answer.split(b'"message"')[0] and b"Infinity" not in answer.split(b'"message"')[0]
    wide = json.dumps([request("eth_chainId", id=n) for n in range(300)]).encode()  # many brackets, shallow
    assert len(json.loads(dispatcher.handle_bytes(wide) or b"")) == 300


def test_batches_and_notifications(dispatcher: RpcDispatcher, chain: EmbeddedChain) -> None:
    batch = [request("eth_chainId", id=1), {"jsonrpc": "2.0", "method": "eth_blockNumber"},
             request("nope", id=2), "junk", request("eth_blockNumber", id=3)]
    answers = dispatcher.handle(batch)
    assert [a.get("id") for a in answers] == [1, 2, None, 3]
    assert answers[0]["result"] == hex(chain.chain_id) and answers[1]["error"]["code"] == -32601
    assert answers[2]["error"]["code"] == -32600 and answers[3]["result"] == "0x0"
    assert dispatcher.handle([{"jsonrpc": "2.0", "method": "eth_chainId"}]) is None  # only notifications
    assert dispatcher.handle_bytes(b'{"jsonrpc": "2.0", "method": "eth_chainId"}') is None
    assert dispatcher.handle([]) == {"jsonrpc": "2.0", "id": None, "error": {
        "code": -32600, "message": "invalid request: an empty batch"}}
    too_many = dispatcher.handle([request("eth_chainId")] * (MAX_BATCH + 1))
    assert too_many["error"]["code"] == -32600 and f"at most {MAX_BATCH}" in too_many["error"]["message"]
    raw = dispatcher.handle_bytes(json.dumps(batch[:1]).encode())
    assert raw is not None and json.loads(raw) == [answers[0]]


def test_a_bug_answers_an_internal_error_and_the_dispatcher_goes_on(
    dispatcher: RpcDispatcher, chain: EmbeddedChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> int:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(chain, "get_balance", broken)
    answer = error(dispatcher, "eth_getBalance", "0x" + "aa" * 20)
    assert answer == {"code": -32603, "message": "internal error: RuntimeError: simulated bug"}
    assert result(dispatcher, "eth_chainId") == hex(chain.chain_id)


def test_a_closed_chain_answers_errors_not_crashes(dispatcher: RpcDispatcher, chain: EmbeddedChain) -> None:
    chain.close(flush=False)
    answer = error(dispatcher, "eth_blockNumber")
    assert answer["code"] == -32000 and "is closed" in answer["message"]
