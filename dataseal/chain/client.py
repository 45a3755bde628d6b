"""Connecting to a chain: the embedded one, or any JSON-RPC node (http, https, ws, wss).

The provider role of the chain layer: :class:`Node` moves bytes and reads state, and checks that
the chain it talks to is the one the deployment record describes. Accounts sign
(:mod:`chain.sender`), contract clients encode calls (:mod:`chain.clients`).

Everything above ``chain/`` gets a :class:`Node` from :func:`connect` and never needs to know
whether it is a hardhat node, a consortium chain, or dataseal's embedded chain in-process.
"""
from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import requests
from eth_utils import to_checksum_address
from web3 import Web3
from web3.providers import BaseProvider, HTTPProvider, JSONBaseProvider
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import RPCEndpoint, RPCResponse

from dataseal.chain.contracts import Deployment
from dataseal.chain.deployments import deployments_path, load_deployments
from dataseal.chain.embedded.probe import has_chain
from dataseal.chain.errors import ChainError, ConfigError, ContractsNotDeployed, NodeUnreachable, WrongChain
from dataseal.chain.sender import is_connection_failure, unreachable

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0


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


@dataclass(frozen=True)
class ContractStatus:
    """Whether a recorded contract has code at its address."""

    name: str
    address: str
    code_size: int

    @property
    def deployed(self) -> bool:
        return self.code_size > 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "address": self.address, "code_size": self.code_size, "deployed": self.deployed}


class Node:
    """One chain reached through a web3 provider; ``endpoint`` names it in messages."""

    def __init__(self, w3: Web3, endpoint: str, *, on_close: Callable[[], None] | None = None) -> None:
        self.w3 = w3
        self.endpoint = endpoint
        self._chain_id: int | None = None
        self._on_close = on_close

    def __repr__(self) -> str:
        return f"Node({self.endpoint!r})"

    def close(self) -> None:
        """Release what :func:`connect` opened (the embedded chain in-process, a WebSocket)."""
        closer, self._on_close = self._on_close, None
        if closer is not None:
            closer()
        close = getattr(self.w3.provider, "close", None)
        if isinstance(self.w3.provider, WebSocketSyncProvider) and callable(close):
            close()

    def __enter__(self) -> Node:
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
            raise ChainError(f"{what} failed at {self.endpoint}: {exc}") from exc

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
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
        return int(self.call(lambda: self.w3.eth.get_balance(to_checksum_address(address)), "reading a balance"))

    def code_size(self, address: str) -> int:
        return len(self.call(lambda: self.w3.eth.get_code(to_checksum_address(address)), "reading contract code"))

    def contract_status(self, deployment: Deployment) -> list[ContractStatus]:
        """For each contract of ``deployment``: its address and the size of the code there."""
        return [
            ContractStatus(name, address, self.code_size(address)) for name, address in deployment.addresses().items()
        ]

    def verify_chain(self, expected_chain_id: int, source: str) -> None:
        """Raise :class:`WrongChain` unless the node's chain id is ``expected_chain_id`` (named by ``source``)."""
        if self.chain_id != expected_chain_id:
            raise WrongChain(
                f"wrong chain: {source} expects chain {expected_chain_id}, but the node at {self.endpoint} is chain "
                f"{self.chain_id}. Connect to the node of chain {expected_chain_id} (--rpc), or fix {source}"
            )

    def verify_deployment(self, deployment: Deployment, *, source: str = "the deployment record") -> None:
        """Raise :class:`WrongChain` or :class:`ContractsNotDeployed` unless ``deployment`` is live on this node."""
        self.verify_chain(deployment.chain_id, source)
        missing = [status for status in self.contract_status(deployment) if not status.deployed]
        if missing:
            where = ", ".join(f"{s.name} at {s.address}" for s in missing)
            raise ContractsNotDeployed(
                f"contracts not deployed: {source} says chain {deployment.chain_id} has {where} (since block "
                f"{deployment.deploy_block}), but the node at {self.endpoint} has no code there. The chain was "
                f"reset (a restarted development node?) or the record is from another network: run "
                f"`dataseal deploy --rpc {self.endpoint}` to deploy again"
            )

    def deployment_from(self, data_dir: Path | str) -> Deployment:
        """The deployment recorded in ``data_dir`` for this node's chain, checked to be live."""
        records = load_deployments(data_dir)
        path = deployments_path(data_dir)
        deployment = records.get(self.chain_id)
        if deployment is None:
            if records:
                known = ", ".join(str(chain) for chain in sorted(records))
                raise WrongChain(
                    f"wrong chain: the node at {self.endpoint} is chain {self.chain_id}, but the deployment record "
                    f"{path} knows only chain {known}. Connect to the node you deployed on (--rpc), or deploy to "
                    f"chain {self.chain_id} with `dataseal deploy --rpc {self.endpoint}`"
                )
            raise ContractsNotDeployed(
                f"contracts not deployed: no deployment record at {path} (chain {self.chain_id} at {self.endpoint}). "
                f"Deploy with `dataseal deploy --rpc {self.endpoint}`, or pass the --data-dir that holds the record"
            )
        self.verify_deployment(deployment, source=f"the deployment record {path}")
        return deployment


# ------------------------------------------------------------------------------------ connect


def connect(
    target: str | Path | BaseProvider | Web3,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    expected_chain_id: int | None = None,
    name: str | None = None,
) -> Node:
    """A :class:`Node` for ``target``, after checking that it answers.

    ``target``: a JSON-RPC URL (``http://``, ``https://``, ``ws://``, ``wss://``); a data folder
    (:class:`~pathlib.Path`) holding the embedded chain, opened in-process; any web3 provider (the
    embedded chain's in-process provider, an eth-tester provider); or a ready :class:`Web3`.
    ``expected_chain_id``: refuse any other chain (:class:`WrongChain`). ``name`` overrides how
    the node is named in messages.
    """
    closer: Callable[[], None] | None = None
    if isinstance(target, Web3):
        w3, endpoint = target, name or _describe(target.provider)
    elif isinstance(target, BaseProvider):
        w3, endpoint = Web3(target), name or _describe(target)
    elif isinstance(target, Path):
        provider, closer = open_embedded_provider(target)
        w3, endpoint = Web3(provider), name or f"the embedded chain in {target}"
    elif isinstance(target, str):
        provider = provider_for_url(target, timeout=timeout)
        w3, endpoint = Web3(provider), name or redact_url(target)
    else:
        raise ConfigError(f"cannot connect to {type(target).__name__}: expected a URL, a data folder or a provider")
    node = Node(w3, endpoint, on_close=closer)
    try:
        node.chain_id  # noqa: B018 - fail now if the node does not answer
    except BaseException:
        node.close()
        raise
    if expected_chain_id is not None:
        node.verify_chain(expected_chain_id, "the configured chain id (--chain-id or DATASEAL_CHAIN_ID)")
    return node


def provider_for_url(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> JSONBaseProvider:
    """A web3 provider for a JSON-RPC URL; raises :class:`ConfigError` for anything but http(s)/ws(s)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (validates the port)
    except ValueError as exc:
        raise ConfigError(
            f"invalid RPC URL {redact_url(url)!r} ({exc}): expected for example http://127.0.0.1:8545"
        ) from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return _ScrubbingHTTPProvider(
            url,
            request_kwargs={"timeout": timeout},
            # one quick retry: a refused connection should become an error the user sees, fast
            exception_retry_configuration=ExceptionRetryConfiguration(
                errors=(requests.ConnectionError, requests.Timeout), retries=2, backoff_factor=0.05
            ),
        )
    if scheme in ("ws", "wss"):
        return WebSocketSyncProvider(url, timeout=timeout)
    raise ConfigError(
        f"unsupported RPC URL {redact_url(url)!r}: expected http://, https://, ws:// or wss:// "
        "(for example http://127.0.0.1:8545)"
    )


class _ScrubbingHTTPProvider(HTTPProvider):
    """HTTPProvider whose errors never carry the URL's secrets (requests puts the full URL, API
    key included, into its messages: "... for url: https://user:pw@host/v3/KEY?apikey=...")."""

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        try:
            return super().make_request(method, params)
        except Exception as exc:
            _scrub_exception(exc, str(self.endpoint_uri))
            raise

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        try:
            return super().make_batch_request(requests)
        except Exception as exc:
            _scrub_exception(exc, str(self.endpoint_uri))
            raise


def _scrub_exception(exc: BaseException | None, url: str, depth: int = 0) -> None:
    """Scrub ``exc``'s message, the exceptions it wraps (requests keeps urllib3's in its args) and
    its causes, in place."""
    if exc is None or depth > 8:
        return
    scrubbed = []
    for arg in exc.args:
        if isinstance(arg, str):
            arg = scrub_url(arg, url)
        elif isinstance(arg, BaseException):
            _scrub_exception(arg, url, depth + 1)
        scrubbed.append(arg)
    exc.args = tuple(scrubbed)
    for attr in ("url", "request_url"):  # urllib3.MaxRetryError.url
        value = getattr(exc, attr, None)
        if isinstance(value, str):
            try:
                setattr(exc, attr, scrub_url(value, url))
            except AttributeError:
                pass
    _scrub_exception(exc.__cause__ or exc.__context__, url, depth + 1)


def redact_url(url: str) -> str:
    """``url`` without credentials (user:password@) and without a query string (often an API key)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<an invalid URL>"
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc += f":{port}"
    path = parts.path
    if len(path) > 24:  # infura-style /v3/<project key>
        path = path[:12] + "…"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def scrub_url(text: str, url: str) -> str:
    """``text`` (typically an exception's message) with ``url``'s secrets — credentials, query
    string, a long path such as an API key — replaced, wherever they appear."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return text.replace(url, "<the RPC URL>")
    text = text.replace(url, redact_url(url))
    secrets = [parts.password or "", parts.username or "", parts.query]
    if len(parts.path) > 24:
        secrets.append(parts.path)
    for secret in sorted(filter(lambda s: len(s) >= 4, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def open_embedded_provider(data_dir: Path) -> tuple[BaseProvider, Callable[[], None]]:
    """The embedded chain of ``data_dir`` opened in this process: its provider and how to close it.

    Refuses a folder without a chain (the first start, which creates the operator account and
    deploys the contracts, is `dataseal node`'s job) and a chain another process has open.
    """
    try:
        chain_module = importlib.import_module("dataseal.chain.embedded.chain")
        provider_module = importlib.import_module("dataseal.chain.embedded.provider")
    except ImportError as exc:
        raise ConfigError(
            f"the embedded chain is not available in this installation ({exc}): connect to a node with --rpc URL"
        ) from exc
    chain_file = Path(data_dir) / str(getattr(chain_module, "CHAIN_FILENAME", "chain.sqlite"))
    if not has_chain(chain_file):
        raise ConfigError(
            f"no embedded chain in {data_dir} (no chain in {chain_file.name}): start one with "
            f"`dataseal node --data-dir {data_dir}`, or connect to a node with --rpc URL"
        )
    chain = chain_module.EmbeddedChain.open(chain_file)
    return cast(BaseProvider, provider_module.EmbeddedProvider(chain)), chain.close


def _describe(provider: BaseProvider) -> str:
    uri = getattr(provider, "endpoint_uri", None)
    if isinstance(uri, str):
        return redact_url(uri)
    return type(provider).__name__


# ------------------------------------------------------------------------------------ websockets


class WebSocketSyncProvider(JSONBaseProvider):
    """JSON-RPC over one WebSocket, for synchronous :class:`Web3` (web3 8 has only an async one).

    Requests are serialised by a lock (one in flight at a time); subscription notifications,
    which carry no ``id``, are skipped.
    """

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.endpoint_uri = url
        self.timeout = timeout
        self._lock = threading.Lock()
        self._socket: Any = None

    def __str__(self) -> str:
        return f"WebSocket connection {redact_url(self.endpoint_uri)}"

    def _connection(self) -> Any:
        if self._socket is None:
            from websockets.sync.client import connect as ws_connect

            self._socket = ws_connect(self.endpoint_uri, open_timeout=self.timeout, max_size=2**26, legacy=True)
        return self._socket

    def _exchange(self, payload: bytes, ids: set[Any]) -> Any:
        with self._lock:
            socket = self._connection()
            try:
                socket.send(payload.decode())
                while True:
                    message = json.loads(socket.recv(timeout=self.timeout))
                    if isinstance(message, list) or message.get("id") in ids:
                        return message
                    if "id" not in message and "error" in message:  # an error about an unparseable request
                        return message
            except TimeoutError:
                self.close()
                raise
            except Exception:
                self.close()
                raise

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        payload = self.encode_rpc_request(method, params)
        request_id = json.loads(payload)["id"]
        return cast(RPCResponse, self._exchange(payload, {request_id}))

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        payload = self.encode_batch_rpc_request(requests)
        ids = {item["id"] for item in json.loads(payload)}
        response = self._exchange(payload, ids)
        if isinstance(response, list):
            return sorted(response, key=lambda item: item.get("id", 0))
        return cast(RPCResponse, response)

    def close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            finally:
                self._socket = None
