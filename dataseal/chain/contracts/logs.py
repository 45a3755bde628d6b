"""Reading events over many blocks: ``eth_getLogs`` in pages that shrink when a node refuses.

Public nodes cap ``eth_getLogs`` (Infura: 10,000 results; Alchemy and many RPC services: a few
thousand blocks; geth: a time limit), and answer a larger query with an error rather than a
partial result. :class:`LogReader` walks a block range in pages of :attr:`LogReader.page_blocks`
blocks; when the node refuses a page it halves the page (or takes the range the node suggests)
and tries again, down to a single block. The smaller page is kept for the rest of the walk.

Logs keep their block hash, and so do the records made of them (:class:`~.records.TxRef`), so that a
reader following the chain can tell when a reorganisation replaced a block it read.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any, Literal, cast

from eth_utils import to_checksum_address
from web3 import Web3
from web3.types import FilterParams, LogReceipt, RPCEndpoint

from dataseal.chain.connection.failures import (
    UNKNOWN_ANSWER,
    is_connection_failure,
    is_range_refusal,
    is_rate_limited,
    rpc_message,
    suggested_range,
    unreachable,
)
from dataseal.chain.contracts.deployment import Deployment
from dataseal.chain.contracts.events import EventDecoder
from dataseal.chain.contracts.records import Record
from dataseal.chain.errors import ChainError
from dataseal.errors import ConfigError

RATE_LIMIT_RETRIES = 5


def _quantity(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _hex_topics(topics: Any) -> Any:
    """Topic filters as JSON-RPC spells them (bytes as 0x-hex; None and lists of alternatives kept)."""
    if isinstance(topics, (bytes, bytearray)):
        return "0x" + bytes(topics).hex()
    if isinstance(topics, (list, tuple)):
        return [_hex_topics(t) for t in topics]
    return topics


class LogQueryRefused(ChainError):
    """The node refuses ``eth_getLogs`` even for the smallest page."""


class LogReader:
    """Pages ``eth_getLogs`` over block ranges for one node.

    ``page_blocks``: blocks per query to start with; ``min_page_blocks``: the smallest page before
    giving up. ``endpoint`` names the node in messages. ``raw``: hand out logs as the node sent them
    (0x-hex strings and quantities, addresses as the node spelled them), without web3's formatting of
    each field, which costs as much as decoding the log does; for readers that take both forms
    (:class:`~.events.EventDecoder` does).
    """

    def __init__(self, w3: Web3, *, page_blocks: int = 2000, min_page_blocks: int = 1,
                 endpoint: str = "the node", raw: bool = False) -> None:
        if page_blocks < 1 or min_page_blocks < 1 or min_page_blocks > page_blocks:
            raise ConfigError(f"a log reader needs 1 <= min_page_blocks <= page_blocks, got {min_page_blocks} and "
                              f"{page_blocks}", hint="give a page of at least one block, and a smallest page no larger")
        self.w3 = w3
        self.page_blocks = page_blocks
        self.min_page_blocks = min_page_blocks
        self.endpoint = endpoint
        self.raw = raw
        self.refusals = 0  # how many times the node refused a page (for diagnostics and tests)
        self.backoff = 0.5  # seconds before the first retry after HTTP 429 (doubling each time)

    def latest_block(self) -> int:
        try:
            return int(self.w3.eth.block_number)
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            raise ChainError(f"reading the latest block number at {self.endpoint} failed: {exc}",
                             hint=UNKNOWN_ANSWER) from exc

    def logs(
        self,
        address: str | Sequence[str],
        from_block: int,
        to_block: int | Literal["latest"] = "latest",
        topics: Sequence[Any] | None = None,
    ) -> Iterator[LogReceipt]:
        """Every log of ``address`` (one or several) in ``from_block..to_block`` (inclusive), in chain order.

        ``to_block="latest"`` is fixed when the walk starts, so the walk ends even while blocks keep coming.
        """
        last = self.latest_block() if to_block == "latest" else int(to_block)
        if from_block < 0 or last < from_block:
            return
        addresses: Any = (
            to_checksum_address(address) if isinstance(address, str) else [to_checksum_address(a) for a in address]
        )
        start = int(from_block)
        rate_limited = 0
        while start <= last:
            end = min(start + self.page_blocks - 1, last)
            params: dict[str, Any] = {"address": addresses, "fromBlock": start, "toBlock": end}
            if topics is not None:
                params["topics"] = list(topics)
            try:
                page = self._get_logs(params)
            except Exception as exc:
                if is_connection_failure(exc):
                    raise unreachable(self.endpoint, exc) from exc
                if is_rate_limited(exc) and rate_limited < RATE_LIMIT_RETRIES:
                    rate_limited += 1
                    time.sleep(min(8.0, self.backoff * 2**rate_limited))  # back off; the same page again
                    continue
                if is_rate_limited(exc):
                    raise ChainError(
                        f"the node at {self.endpoint} keeps answering 429 Too Many Requests to eth_getLogs "
                        f"(blocks {start}..{end}, {RATE_LIMIT_RETRIES} retries)",
                        hint="wait and run again, or use a node with a higher rate limit", options=("rpc_url",),
                    ) from exc
                if not is_range_refusal(exc):
                    raise ChainError(f"eth_getLogs for blocks {start}..{end} at {self.endpoint} failed: {exc}",
                                     hint=UNKNOWN_ANSWER) from exc
                self._shrink(start, end, exc)
                continue
            rate_limited = 0
            yield from sorted(page, key=lambda log: (_quantity(log["blockNumber"]), _quantity(log["logIndex"])))
            start = end + 1

    def _get_logs(self, params: dict[str, Any]) -> list[Any]:
        if not self.raw:
            return list(self.w3.eth.get_logs(cast(FilterParams, params)))
        address = params["address"]
        raw = {**params, "address": [address] if isinstance(address, str) else address,  # (a list: as web3's
               "fromBlock": hex(params["fromBlock"]), "toBlock": hex(params["toBlock"])}  # name middleware wants)
        if "topics" in raw:
            raw["topics"] = _hex_topics(raw["topics"])
        # (the provider's request with its middleware and error handling, without the method's result formatters)
        return list(self.w3.manager.request_blocking(RPCEndpoint("eth_getLogs"), [raw]) or [])

    def _shrink(self, start: int, end: int, exc: BaseException) -> None:
        self.refusals += 1
        asked = end - start + 1
        if asked <= self.min_page_blocks:
            raise LogQueryRefused(
                f"the node at {self.endpoint} refuses eth_getLogs even for {asked} block(s) ({start}..{end}): "
                f"{rpc_message(exc)}", hint="use a node without this limit (an archive node or your own)",
                options=("rpc_url",),
            ) from exc
        suggested = suggested_range(exc)
        size = asked // 2
        if suggested:
            low, high = suggested
            if low == start and start <= high < end:
                size = high - low + 1
        self.page_blocks = max(self.min_page_blocks, min(size, asked - 1))

    def records(
        self,
        deployment: Deployment,
        from_block: int | None = None,
        to_block: int | Literal["latest"] = "latest",
    ) -> Iterator[Record]:
        """The deployment's events as typed records, from its deploy block (or ``from_block``) on."""
        decoder = EventDecoder(deployment)
        start = deployment.deploy_block if from_block is None else from_block
        for log in self.logs(list(deployment.addresses().values()), start, to_block):
            record = decoder.decode_log(log)
            if record is not None:
                yield record
