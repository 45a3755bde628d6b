"""py-evm objects as Ethereum JSON-RPC values (hex quantities, 0x data), the shapes geth answers.

Things clients rely on: a contract creation's ``to`` is null (not ""), logs carry
``removed: false``, blooms are 256 bytes, a pending transaction has null block fields, and a
type-2 transaction's ``gasPrice`` is the price it paid (its fee cap while pending).
"""
from __future__ import annotations

from typing import Any

import rlp
from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, BlockHeaderAPI, SignedTransactionAPI
from eth_typing import Address

from dataseal.chain.embedded.records import FeeHistory, LogRecord, ReceiptRecord


def quantity(value: int) -> str:
    return hex(value)


def data(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def bloom(value: int) -> str:
    return "0x" + int(value).to_bytes(256, "big").hex()


def block_json(block: BlockAPI, *, full: bool, senders: list[bytes]) -> dict[str, Any]:
    header: Any = block.header  # a Prague header: every field below exists
    if full:
        transactions: list[Any] = [
            transaction_json(tx, senders[i], header, i) for i, tx in enumerate(block.transactions)
        ]
    else:
        transactions = [data(tx.hash) for tx in block.transactions]
    result: dict[str, Any] = {
        "number": quantity(header.block_number),
        "hash": data(header.hash),
        "parentHash": data(header.parent_hash),
        "nonce": data(header.nonce),
        "sha3Uncles": data(header.uncles_hash),
        "logsBloom": bloom(header.bloom),
        "transactionsRoot": data(header.transaction_root),
        "stateRoot": data(header.state_root),
        "receiptsRoot": data(header.receipt_root),
        "miner": data(header.coinbase),
        "difficulty": quantity(header.difficulty),
        "totalDifficulty": quantity(header.difficulty),
        "extraData": data(header.extra_data),
        "size": quantity(len(rlp.encode(block))),
        "gasLimit": quantity(header.gas_limit),
        "gasUsed": quantity(header.gas_used),
        "timestamp": quantity(header.timestamp),
        "transactions": transactions,
        "uncles": [],
        "baseFeePerGas": quantity(header.base_fee_per_gas),
        "mixHash": data(header.mix_hash),
        "withdrawalsRoot": data(header.withdrawals_root),
        "withdrawals": [],
        "blobGasUsed": quantity(header.blob_gas_used),
        "excessBlobGas": quantity(header.excess_blob_gas),
        "parentBeaconBlockRoot": data(header.parent_beacon_block_root),
        "requestsHash": data(header.requests_hash),
    }
    return result


def transaction_json(
    signed: SignedTransactionAPI, sender: bytes, header: BlockHeaderAPI | None, index: int | None
) -> dict[str, Any]:
    tx: Any = signed  # legacy and typed transactions carry different fields
    type_id = getattr(tx, "type_id", None) or 0
    result: dict[str, Any] = {
        "type": quantity(type_id),
        "hash": data(tx.hash),
        "nonce": quantity(tx.nonce),
        "blockHash": None if header is None else data(header.hash),
        "blockNumber": None if header is None else quantity(header.block_number),
        "transactionIndex": None if index is None else quantity(index),
        "from": data(sender),
        "to": data(tx.to) if tx.to else None,
        "value": quantity(tx.value),
        "gas": quantity(tx.gas),
        "input": data(tx.data),
    }
    if type_id == 0:
        result["gasPrice"] = quantity(tx.gas_price)
    else:
        result["chainId"] = quantity(tx.chain_id)
        result["accessList"] = access_list_json(tx.access_list)
        if type_id == 1:
            result["gasPrice"] = quantity(tx.gas_price)
        else:
            result["maxFeePerGas"] = quantity(tx.max_fee_per_gas)
            result["maxPriorityFeePerGas"] = quantity(tx.max_priority_fee_per_gas)
            result["gasPrice"] = quantity(
                tx.max_fee_per_gas if header is None else effective_gas_price(tx, header)
            )
        if type_id == 4:
            result["authorizationList"] = [
                {
                    "chainId": quantity(auth.chain_id),
                    "address": data(auth.address),
                    "nonce": quantity(auth.nonce),
                    "yParity": quantity(auth.y_parity),
                    "r": quantity(auth.r),
                    "s": quantity(auth.s),
                }
                for auth in tx.authorization_list
            ]
    if type_id == 0:
        result["v"] = quantity(tx.v)
        if tx.chain_id is not None:
            result["chainId"] = quantity(tx.chain_id)
    else:
        result["v"] = quantity(tx.y_parity)
        result["yParity"] = quantity(tx.y_parity)
    result["r"] = quantity(tx.r)
    result["s"] = quantity(tx.s)
    return result


def access_list_json(access_list: Any) -> list[dict[str, Any]]:
    return [
        {"address": data(address), "storageKeys": [data(int(slot).to_bytes(32, "big")) for slot in slots]}
        for address, slots in access_list
    ]


def effective_gas_price(tx: SignedTransactionAPI, header: BlockHeaderAPI) -> int:
    if (getattr(tx, "type_id", None) or 0) < 2:
        return int(tx.gas_price)
    return min(int(tx.max_fee_per_gas), int(tx.max_priority_fee_per_gas) + int(header.base_fee_per_gas or 0))


def receipt_json(record: ReceiptRecord) -> dict[str, Any]:
    tx, header = record.tx, record.header
    creation = not tx.to
    logs = [
        log_json(LogRecord(
            address=bytes(log.address),
            topics=tuple(int(t).to_bytes(32, "big") for t in log.topics),
            data=bytes(log.data),
            header=header,
            tx_hash=bytes(tx.hash),
            tx_index=record.index,
            log_index=record.first_log_index + offset,
        ))
        for offset, log in enumerate(record.receipt.logs)
    ]
    return {
        "type": quantity(getattr(tx, "type_id", None) or 0),
        "transactionHash": data(tx.hash),
        "transactionIndex": quantity(record.index),
        "blockHash": data(header.hash),
        "blockNumber": quantity(header.block_number),
        "from": data(record.sender),
        "to": None if creation else data(tx.to),
        "cumulativeGasUsed": quantity(record.receipt.gas_used),
        "gasUsed": quantity(record.gas_used),
        "effectiveGasPrice": quantity(effective_gas_price(tx, header)),
        "contractAddress": data(generate_contract_address(Address(record.sender), tx.nonce)) if creation else None,
        "logs": logs,
        "logsBloom": bloom(record.receipt.bloom),
        "status": "0x1" if record.receipt.state_root == b"\x01" else "0x0",
    }


def log_json(record: LogRecord) -> dict[str, Any]:
    return {
        "address": data(record.address),
        "topics": [data(t) for t in record.topics],
        "data": data(record.data),
        "blockNumber": quantity(record.header.block_number),
        "blockHash": data(record.header.hash),
        "blockTimestamp": quantity(record.header.timestamp),
        "transactionHash": data(record.tx_hash),
        "transactionIndex": quantity(record.tx_index),
        "logIndex": quantity(record.log_index),
        "removed": False,
    }


def fee_history_json(history: FeeHistory) -> dict[str, Any]:
    result: dict[str, Any] = {
        "oldestBlock": quantity(history.oldest_block),
        "baseFeePerGas": [quantity(v) for v in history.base_fee_per_gas],
        "gasUsedRatio": history.gas_used_ratio,
    }
    if history.reward is not None:
        result["reward"] = [[quantity(v) for v in block] for block in history.reward]
    return result
