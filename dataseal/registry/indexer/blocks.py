"""Block headers for the indexer: number, hash, parent hash and time, many at a time.

The indexer asks for headers only where it needs them (the unconfirmed window near the tip, the last block
of each page, and the blocks with events whose logs do not carry ``blockTimestamp``), and asks in JSON-RPC
batches where the provider can send them (HTTP, WebSocket, the embedded chain): one round trip for up to
:attr:`BlockReader.batch_size` headers. Other providers (eth-tester) are asked one block at a time.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound
from web3.types import RPCEndpoint

from dataseal.chain.connection.failures import UNKNOWN_ANSWER, is_connection_failure, unreachable
from dataseal.chain.errors import ChainError

DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class BlockHeader:
    """What the indexer keeps of a block (hashes as lowercase 0x-hex)."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


def _hex(value: Any) -> str:
    return HexBytes(value).to_0x_hex()


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def header_of(block: Mapping[str, Any]) -> BlockHeader:
    """The header of a block as a node returned it (raw JSON-RPC or web3-formatted)."""
    return BlockHeader(_int(block["number"]), _hex(block["hash"]), _hex(block["parentHash"]), _int(block["timestamp"]))


class BlockReader:
    """Reads block headers of one node; a block the node does not have is left out of the answer."""

    def __init__(self, w3: Web3, *, endpoint: str = "the node", batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.w3 = w3
        self.endpoint = endpoint
        self.batch_size = batch_size
        self.requests = 0  # round trips made (for tests and diagnostics)

    def header(self, number: int) -> BlockHeader | None:
        """The header of block ``number``, or None when the node has no such block."""
        return self.headers([number]).get(number)

    def headers(self, numbers: Iterable[int]) -> dict[int, BlockHeader]:
        """The headers of ``numbers`` the node has, by number."""
        wanted = sorted(set(numbers))
        found: dict[int, BlockHeader] = {}
        batching = hasattr(self.w3.provider, "make_batch_request")
        for i in range(0, len(wanted), self.batch_size if batching else 1):
            chunk = wanted[i:i + self.batch_size] if batching else wanted[i:i + 1]
            try:
                headers = self._batch(chunk) if batching else self._one(chunk[0])
            except ChainError:
                raise
            except Exception as exc:
                if is_connection_failure(exc):
                    raise unreachable(self.endpoint, exc) from exc
                raise ChainError(f"reading block headers {chunk[0]}..{chunk[-1]} at {self.endpoint} failed: "
                                 f"{' '.join(str(exc).split())}", hint=UNKNOWN_ANSWER) from exc
            found.update((header.number, header) for header in headers)
        return found

    def _batch(self, numbers: list[int]) -> list[BlockHeader]:
        self.requests += 1
        method = RPCEndpoint("eth_getBlockByNumber")
        provider: Any = self.w3.provider
        answers = provider.make_batch_request([(method, [hex(n), False]) for n in numbers])
        if isinstance(answers, dict):  # the whole batch refused
            raise ChainError(f"the node at {self.endpoint} refused a batch of eth_getBlockByNumber: "
                             f"{answers.get('error')}", hint=UNKNOWN_ANSWER)
        out = []
        for answer in cast(list[dict[str, Any]], answers):
            if answer.get("error"):
                raise ChainError(f"eth_getBlockByNumber failed at {self.endpoint}: {answer['error']}",
                                 hint=UNKNOWN_ANSWER)
            if answer.get("result"):
                out.append(header_of(answer["result"]))
        return out

    def _one(self, number: int) -> list[BlockHeader]:
        self.requests += 1
        try:
            block = self.w3.eth.get_block(number)
        except BlockNotFound:
            return []
        return [header_of(cast(Mapping[str, Any], block))]
