"""Transports: how bytes reach a node. A web3 provider for a JSON-RPC URL (http, https, ws, wss),
and the redaction that keeps a URL's secrets (credentials, API keys in the path or query) out of
every message.
"""
from __future__ import annotations

import json
import threading
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import requests
from web3.providers import BaseProvider, HTTPProvider, JSONBaseProvider
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import RPCEndpoint, RPCResponse

from dataseal.errors import ConfigError

DEFAULT_TIMEOUT = 30.0


def provider_for_url(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> JSONBaseProvider:
    """A web3 provider for a JSON-RPC URL; raises :class:`ConfigError` for anything but http(s)/ws(s)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (validates the port)
    except ValueError as exc:
        raise ConfigError(f"invalid RPC URL {redact_url(url)!r} ({exc})", hint="expected for example "
                          "http://127.0.0.1:8545", options=("rpc_url",)) from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https", "ws", "wss") and not parts.hostname:
        raise ConfigError(f"invalid RPC URL {redact_url(url)!r}: it names no host",
                          hint="expected for example http://127.0.0.1:8545", options=("rpc_url",))
    if scheme in ("http", "https"):
        return _ScrubbingHTTPProvider(
            url,
            request_kwargs={"timeout": timeout},
            # web3's validation asks the chain id before every call and estimate: it is checked once when we
            # connect (a node that changes chain under a URL is refused then), so it is asked once
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
            # one quick retry: a refused connection should become an error the user sees, fast
            exception_retry_configuration=ExceptionRetryConfiguration(
                errors=(requests.ConnectionError, requests.Timeout), retries=2, backoff_factor=0.05
            ),
        )
    if scheme in ("ws", "wss"):
        return WebSocketSyncProvider(url, timeout=timeout)
    raise ConfigError(f"unsupported RPC URL {redact_url(url)!r}", hint="expected http://, https://, ws:// or wss:// "
                      "(for example http://127.0.0.1:8545)", options=("rpc_url",))


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


def describe(provider: BaseProvider) -> str:
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
