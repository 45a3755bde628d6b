"""One chain reached through a web3 provider: :class:`Connection`, and :func:`connect` to get one.

The connection role (web3.py's and ape's provider): it moves requests, reads state, and checks
that the chain is the one expected. It does not sign (:mod:`dataseal.chain.accounts`), send
(:mod:`dataseal.chain.sending`) or know the contracts (:mod:`dataseal.chain.contracts`).

Everything above the chain layer gets a :class:`Connection` from :func:`connect` (through
:mod:`dataseal.registry.context`) and never needs to know whether it is a hardhat node, a
consortium chain, or dataseal's embedded chain in-process.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from web3 import Web3
from web3.providers import BaseProvider

from dataseal.cached import require_io
from dataseal.chain.connection.failures import UNKNOWN_ANSWER, is_connection_failure, unreachable
from dataseal.chain.connection.transports import DEFAULT_TIMEOUT, WebSocketSyncProvider, describe, provider_for_url
from dataseal.chain.errors import ChainError, NodeUnreachable, NoEmbeddedChain, WrongChain
from dataseal.chain.values import address as checked_address
from dataseal.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class ChainInfo:
    """What a node says about itself."""

    chain_id: int
    client_version: str
    latest_block: int
    latest_block_time: int
    base_fee: int | None  # None: a chain without EIP-1559

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Connection:
    """One chain reached through a web3 provider; ``endpoint`` names it in messages."""

    def __init__(self, w3: Web3, endpoint: str, *, on_close: Callable[[], None] | None = None) -> None:
        self.w3 = w3
        self.endpoint = endpoint
        self._chain_id: int | None = None
        self._on_close = on_close

    def __repr__(self) -> str:
        return f"Connection({self.endpoint!r})"

    def close(self) -> None:
        """Release what :func:`connect` opened (the embedded chain in-process, a WebSocket)."""
        closer, self._on_close = self._on_close, None
        if closer is not None:
            closer()
        if isinstance(self.w3.provider, WebSocketSyncProvider):
            self.w3.provider.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, fn: Callable[[], T], what: str) -> T:
        """Run ``fn`` (a web3 request); a node that does not answer raises :class:`NodeUnreachable`."""
        try:
            return fn()
        except ChainError:
            raise
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(self.endpoint, exc) from exc
            raise ChainError(f"{what} failed at {self.endpoint}: {' '.join(str(exc).split())}",
                             hint=UNKNOWN_ANSWER) from exc

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            require_io("the chain id")
            self._chain_id = int(self.call(lambda: self.w3.eth.chain_id, "reading the chain id"))
        return self._chain_id

    def info(self) -> ChainInfo:
        """Chain id, client version and latest block."""
        chain_id = self.chain_id
        try:
            version = str(self.call(lambda: self.w3.client_version, "reading the client version"))
        except NodeUnreachable:
            raise
        except ChainError:  # web3_clientVersion is optional on some nodes
            version = "unknown"
        block = self.call(lambda: self.w3.eth.get_block("latest"), "reading the latest block")
        base_fee = block.get("baseFeePerGas")
        return ChainInfo(
            chain_id=chain_id,
            client_version=version,
            latest_block=int(block["number"]),
            latest_block_time=int(block["timestamp"]),
            base_fee=int(base_fee) if base_fee is not None else None,
        )

    def balance(self, address: str) -> int:
        checked = checked_address(address, "the account")
        return int(self.call(lambda: self.w3.eth.get_balance(checked), "reading a balance"))

    def code_size(self, address: str) -> int:
        checked = checked_address(address, "the contract")
        return len(self.call(lambda: self.w3.eth.get_code(checked), "reading contract code"))

    def verify_chain(self, expected_chain_id: int, source: str, *, options: tuple[str, ...] = ()) -> None:
        """Raise :class:`WrongChain` unless the node's chain id is ``expected_chain_id`` (named by ``source``;
        ``options`` name the settings behind it)."""
        if self.chain_id != expected_chain_id:
            raise WrongChain(
                f"wrong chain: {source} expects chain {expected_chain_id}, but the node at {self.endpoint} is chain "
                f"{self.chain_id}",
                hint=f"connect to the node of chain {expected_chain_id}, or fix {source}",
                options=("rpc_url", *options),
            )


def connect(
    target: str | Path | BaseProvider | Web3,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    expected_chain_id: int | None = None,
    name: str | None = None,
) -> Connection:
    """A :class:`Connection` to ``target``, after checking that it answers.

    ``target``: a JSON-RPC URL (``http://``, ``https://``, ``ws://``, ``wss://``); a data folder
    (:class:`~pathlib.Path`) holding the embedded chain, opened in-process; any web3 provider (the
    embedded chain's in-process provider, an eth-tester provider); or a ready :class:`Web3`.
    ``expected_chain_id``: refuse any other chain (:class:`WrongChain`). ``name`` overrides how
    the node is named in messages.
    """
    closer: Callable[[], None] | None = None
    if isinstance(target, Web3):
        w3, endpoint = target, name or describe(target.provider)
    elif isinstance(target, BaseProvider):
        w3, endpoint = Web3(target), name or describe(target)
    elif isinstance(target, Path):
        provider, closer = open_embedded_provider(target)
        w3, endpoint = Web3(provider), name or f"the embedded chain in {target}"
    elif isinstance(target, str):
        provider = provider_for_url(target, timeout=timeout)
        w3, endpoint = Web3(provider), name or describe(provider)
    else:
        raise ConfigError(f"cannot connect to {type(target).__name__}",
                          hint="give a JSON-RPC URL, a data folder or a web3 provider")
    connection = Connection(w3, endpoint, on_close=closer)
    try:
        connection.chain_id  # noqa: B018 - fail now if the node does not answer
    except BaseException:
        connection.close()
        raise
    if expected_chain_id is not None:
        connection.verify_chain(expected_chain_id, "the configured chain id", options=("chain_id",))
    return connection


def open_embedded_provider(data_dir: Path) -> tuple[BaseProvider, Callable[[], None]]:
    """The embedded chain of ``data_dir`` opened in this process: its provider and how to close it.

    Refuses a folder without a chain (the first start, which creates the operator account and
    deploys the contracts, is the embedded node's job: :mod:`dataseal.chain.node`) and a chain
    another process has open. py-evm is loaded here, not when this module is imported.
    """
    from dataseal.chain.embedded.chain import CHAIN_FILENAME
    from dataseal.chain.embedded.probe import has_chain

    file = Path(data_dir) / CHAIN_FILENAME
    if not has_chain(file):
        raise NoEmbeddedChain(
            f"no embedded chain in {data_dir} (no chain in {file.name})",
            hint="start the embedded node in this data folder, or connect to a node", options=("data_dir", "rpc_url"),
        )
    from dataseal.chain.embedded.chain import EmbeddedChain
    from dataseal.chain.embedded.provider import EmbeddedProvider

    chain = EmbeddedChain.open(file)
    return cast(BaseProvider, EmbeddedProvider(chain)), chain.close
