"""eth_getLogs: the logs of a block range (or of one block by hash) that match a filter.

Each block's bloom is asked first; only blocks that may hold a match are decoded (through the
core's block cache). A query may span at most ``Tuning.max_log_block_range`` blocks and return
at most ``Tuning.max_log_results`` logs, beyond which it is refused with a JSON-RPC "limit
exceeded" error saying what to ask instead.
"""
from __future__ import annotations

from collections.abc import Iterator

from eth.abc import BlockHeaderAPI
from eth_bloom import BloomFilter

from dataseal.chain.embedded.core import ChainCore
from dataseal.chain.embedded.errors import BlockNotFound, InvalidParams, LimitExceeded
from dataseal.chain.embedded.records import BlockRef, LogFilter, LogRecord
from dataseal.chain.embedded.settings import Tuning


def find_logs(core: ChainCore, flt: LogFilter, tuning: Tuning) -> list[LogRecord]:
    """The logs matching ``flt``, in chain order (the core's lock held)."""
    if flt.block_hash is not None:
        header = core.header_by_hash(flt.block_hash)
        if header is None:
            raise BlockNotFound(f"unknown block: no canonical block has hash 0x{flt.block_hash.hex()}")
        headers: Iterator[BlockHeaderAPI] = iter([header])
    else:
        first = _range_end(core, flt.from_block)
        last = min(_range_end(core, flt.to_block), int(core.head.block_number))
        if first > last:
            if first <= core.head.block_number:
                raise InvalidParams(f"invalid block range: fromBlock {first} is after toBlock {last}")
            return []
        if last - first + 1 > tuning.max_log_block_range:
            raise LimitExceeded(
                f"block range too large: {last - first + 1} blocks ({first}..{last}) asked, at most "
                f"{tuning.max_log_block_range} per eth_getLogs call: split the range"
            )
        headers = (core.header_at(n) for n in range(first, last + 1))
    found: list[LogRecord] = []
    for header in headers:
        if not _bloom_may_match(header.bloom, flt):
            continue
        data = core.block_data(header)
        for tx_index, receipt in enumerate(data.receipts):
            for offset, log in enumerate(receipt.logs):
                topics = tuple(int(t).to_bytes(32, "big") for t in log.topics)
                if not _log_matches(log.address, topics, flt):
                    continue
                found.append(LogRecord(
                    address=bytes(log.address), topics=topics, data=bytes(log.data), header=header,
                    tx_hash=bytes(data.block.transactions[tx_index].hash), tx_index=tx_index,
                    log_index=data.log_offsets[tx_index] + offset,
                ))
                if len(found) > tuning.max_log_results:
                    raise LimitExceeded(
                        f"query returned more than {tuning.max_log_results} results: ask for a smaller "
                        f"block range (the limit was reached in block {header.block_number})"
                    )
    return found


def _range_end(core: ChainCore, ref: BlockRef) -> int:
    if isinstance(ref, int):
        if ref < 0:
            raise InvalidParams(f"block {ref} is not a block number: they count from 0")
        return ref
    return int(core.header_for(ref).block_number)


def _bloom_may_match(bloom: int, flt: LogFilter) -> bool:
    if not flt.addresses and not any(flt.topics):
        return True
    bits = BloomFilter(bloom)
    if flt.addresses and not any(address in bits for address in flt.addresses):
        return False
    return all(not options or any(topic in bits for topic in options) for options in flt.topics)


def _log_matches(address: bytes, topics: tuple[bytes, ...], flt: LogFilter) -> bool:
    if flt.addresses and address not in flt.addresses:
        return False
    if len(flt.topics) > len(topics) and any(flt.topics[len(topics):]):
        return False
    return all(options is None or topic in options for options, topic in zip(flt.topics, topics, strict=False))
