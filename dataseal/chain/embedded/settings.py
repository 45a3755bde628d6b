"""What an embedded chain is opened with: :class:`Genesis` (a new chain's settings), :class:`Mining`
(when blocks are made) and :class:`Tuning` (every knob trading latency, throughput and limits); and
what its JSON-RPC answers whom: :class:`Exposure` (served names, web origins, development methods,
response size).

All four are frozen values checked when made, so that a wrong setting is refused before any
file is created. No py-evm import here (see :mod:`dataseal.chain.embedded.defaults`).
"""
from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from eth_utils import to_checksum_address

from dataseal.chain.embedded.defaults import DEFAULT_CALL_GAS_CAP, DEFAULT_CALL_TIMEOUT
from dataseal.chain.embedded.errors import EmbeddedChainError

DEFAULT_GAS_LIMIT = 30_000_000  # of every block (constant: no voting on a single-node chain)
MAX_BLOCK_TIME = 86_400.0  # seconds between blocks, at most (a day): interval mining waits no longer
INTERPRETERS = ("fast", "stock")
Interpreter = Literal["fast", "stock"]


@dataclass(frozen=True)
class Mining:
    """When blocks are made: ``idle`` (as soon as transactions wait), ``interval``, or ``manual``."""

    mode: Literal["idle", "interval", "manual"] = "idle"
    block_time: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in ("idle", "interval", "manual"):
            raise EmbeddedChainError(f"unknown mining mode {self.mode!r}", hint="use idle, interval or manual")
        if self.mode == "interval" and not self.block_time > 0:
            raise EmbeddedChainError(f"interval mining needs a block time above 0 seconds, got {self.block_time}",
                                     hint="give the seconds between blocks, or mine when transactions wait (idle)",
                                     options=("block_time",))
        if not (isinstance(self.block_time, (int, float)) and math.isfinite(self.block_time)
                and 0 <= self.block_time <= MAX_BLOCK_TIME):
            raise EmbeddedChainError(
                f"the block time must be a number of seconds from 0 to {MAX_BLOCK_TIME:g} (a day), "
                f"got {self.block_time!r}",
                hint="give the seconds between blocks, or 0 to mine as soon as transactions wait",
                options=("block_time",))

    @property
    def automatic(self) -> bool:
        return self.mode != "manual"


@dataclass(frozen=True)
class Genesis:
    """Settings of a new chain. ``chain_id`` None means the default for a new chain, and whatever
    the existing chain has when reopening; ``alloc`` maps addresses to their starting balance in wei."""

    chain_id: int | None = None
    alloc: Mapping[str, int] = field(default_factory=dict)
    gas_limit: int = DEFAULT_GAS_LIMIT

    def __post_init__(self) -> None:
        if self.chain_id is not None and not 0 < self.chain_id < 2**64:
            raise EmbeddedChainError(f"a chain id is a positive integer below 2**64, got {self.chain_id}",
                                     hint="choose another chain id, or leave it out for the default",
                                     options=("chain_id",))
        if not 5_000 <= self.gas_limit <= 2**63 - 1:
            raise EmbeddedChainError(f"the block gas limit must be at least 5000, got {self.gas_limit}",
                                     hint="leave it out for the default (30 million)")
        for address, wei in self.alloc.items():
            try:
                to_checksum_address(address)
            except (ValueError, TypeError):
                raise EmbeddedChainError(f"genesis funding: {address!r} is not an address",
                                         hint="give 0x followed by 40 hex digits") from None
            if not isinstance(wei, int) or wei < 0:
                raise EmbeddedChainError(f"genesis funding of {address}: {wei!r} is not a balance in wei",
                                         hint="give a whole number of wei, 0 or more")

    def normalized_alloc(self) -> dict[str, int]:
        return {to_checksum_address(a): int(w) for a, w in self.alloc.items()}


@dataclass(frozen=True)
class Tuning:
    """The embedded chain's knobs, with the values a node runs with. Durations are in seconds.

    Idle mining lets a burst of transactions gather for one block (a block costs py-evm several
    milliseconds beyond its transactions): it mines once no transaction arrived for ``idle_gap``,
    ``idle_batch`` transactions wait, or ``idle_linger`` passed — at once when a lone client waits
    for its receipt. While requests are served the miner pauses, for ``miner_give_way`` at most
    (then runs as long again). eth_call and eth_estimateGas get at most ``call_gas_cap`` gas and
    ``call_timeout`` seconds (geth's RPCGasCap and RPCEVMTimeout); eth_getTransactionReceipt
    waits up to ``receipt_wait`` for a pending transaction's block. ``interpreter`` picks the EVM
    interpreter: ``fast`` (py-evm with :mod:`dataseal.chain.embedded.interpreter`'s speed-ups) or
    ``stock`` (py-evm's own computation, state and account database; same results, more CPU), for
    comparing and for ruling the speed-ups out. Two shortcuts stay on in both: the block's transaction
    and receipt tries built in one pass (:mod:`dataseal.chain.embedded.tries`, checked against py-trie by
    its tests) and the C keccak backend (process-wide; checked against pycryptodome's digests).
    """

    idle_linger: float = 0.05
    idle_gap: float = 0.005
    idle_batch: int = 32
    miner_give_way: float = 0.05
    call_gas_cap: int = DEFAULT_CALL_GAS_CAP
    call_timeout: float = DEFAULT_CALL_TIMEOUT
    receipt_wait: float = 2.0
    max_tx_bytes: int = 128 * 1024  # geth's txMaxSize
    max_log_block_range: int = 10_000  # blocks one eth_getLogs may search
    max_log_results: int = 10_000  # logs one eth_getLogs may return
    max_log_addresses: int = 1_000  # addresses (or alternatives per topic) one log filter may name (geth: 1000)
    cache_entries: int = 100_000  # key-value reads the store keeps in memory
    interpreter: Interpreter = "fast"

    def __post_init__(self) -> None:
        if self.call_gas_cap < 21_000:
            raise EmbeddedChainError(f"the call gas cap must be at least 21000, got {self.call_gas_cap}",
                                     hint="a call needs at least a transaction's base gas")
        if not self.call_timeout > 0:
            raise EmbeddedChainError(f"the call time limit must be above 0 seconds, got {self.call_timeout}",
                                     hint="give the seconds one eth_call or eth_estimateGas may run")
        for name in ("idle_linger", "idle_gap", "miner_give_way", "receipt_wait"):
            if not getattr(self, name) >= 0:
                raise EmbeddedChainError(f"tuning: {name} is seconds, at least 0; got {getattr(self, name)}",
                                         hint="give 0 or more seconds")
        for name in ("idle_batch", "max_tx_bytes", "max_log_block_range", "max_log_results", "max_log_addresses",
                     "cache_entries"):
            if not getattr(self, name) >= 1:
                raise EmbeddedChainError(f"tuning: {name} must be at least 1, got {getattr(self, name)}",
                                         hint="give a count of 1 or more")
        if self.interpreter not in INTERPRETERS:
            raise EmbeddedChainError(f"unknown interpreter {self.interpreter!r}", hint="use fast or stock")


DEFAULT_MAX_RESPONSE_BYTES = 25 * 1024 * 1024  # geth's --rpc.batch-response-max-size
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")  # always served (IP addresses too: see Exposure)
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s?#]+")  # scheme://host[:port], as a browser's Origin header
_HOST_NAME = re.compile(r"[a-z0-9_.-]+|[0-9a-f:.]+")


@dataclass(frozen=True)
class Exposure:
    """Who the node's JSON-RPC answers, and what: geth's defaults unless told otherwise.

    ``allowed_hosts``: the names by which clients may reach the node (the HTTP Host header), beside
    this machine's (localhost) and IP addresses, which are always served; ``*`` serves any name.
    Any other name is refused: a web page could otherwise rebind its own name to 127.0.0.1 (DNS
    rebinding) and drive the node (geth's ``--http.vhosts``). ``cors_origins``: the web origins
    (``scheme://host[:port]``) whose pages may call the node; ``*`` allows any page; none by
    default, and a request that a web page sends (it carries an Origin header) from another origin
    is refused (geth's ``--http.corsdomain``). ``dev``: development methods (``evm_mine``) are
    served; off by default. ``max_response_bytes``: the largest response to one request or one
    batch sent over HTTP (geth's batch response limit, 25 MB). ``spellings`` maps these options'
    names to how the front door that started the node spells them (e.g. a command-line flag), for
    the messages a refused client reads; unspelled, the names themselves are shown.
    """

    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    dev: bool = False
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    spellings: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        hosts = tuple(h.strip().lower().rstrip(".").removeprefix("[").removesuffix("]") for h in self.allowed_hosts)
        for host in hosts:
            if host != "*" and not _HOST_NAME.fullmatch(host):
                raise EmbeddedChainError(f"{host!r} is not a host name", options=("allowed_hosts",),
                                         hint="give a name as clients write it in URLs (without port), or * for any")
        origins = tuple(o.strip().lower().rstrip("/") for o in self.cors_origins)
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise EmbeddedChainError(
                    f"{origin!r} is not a web origin", options=("cors_origins",),
                    hint="give the scheme, host and port of the page, e.g. http://localhost:3000, or * for any")
        if not isinstance(self.max_response_bytes, int) or self.max_response_bytes < 1024:
            raise EmbeddedChainError(
                f"the response size limit must be at least 1024 bytes, got {self.max_response_bytes!r}",
                hint=f"leave it out for the default ({DEFAULT_MAX_RESPONSE_BYTES // (1024 * 1024)} MB)",
                options=("max_response_bytes",))
        object.__setattr__(self, "allowed_hosts", hosts)
        object.__setattr__(self, "cors_origins", origins)

    def spell(self, option: str) -> str:
        """How the front door spells ``option`` (its name when it was not told)."""
        return self.spellings.get(option, option)

    def serves_host(self, host: str) -> bool:
        """Whether a request whose Host header names ``host`` (port left out, lower case) is served."""
        if host in LOCAL_HOSTS or host in self.allowed_hosts or "*" in self.allowed_hosts:
            return True
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True  # an address, not a name: no page of another site can make a browser send it

    def allows_origin(self, origin: str) -> bool:
        """Whether pages of the web origin ``origin`` (an Origin header, lower case) may call the node."""
        return origin in self.cors_origins or "*" in self.cors_origins
