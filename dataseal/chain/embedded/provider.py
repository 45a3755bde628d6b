"""A web3 provider that answers from an :class:`EmbeddedChain` in this process.

It goes through the same :class:`RpcDispatcher` as the HTTP server, with parameters encoded
exactly as web3's HTTP provider encodes them, so code written against it behaves the same over
HTTP. Results are already plain JSON values and are handed over without a text round trip.
"""
from __future__ import annotations

import json
from typing import Any, cast

from eth_utils import to_bytes
from web3._utils.encoding import FriendlyJsonSerde, Web3JsonEncoder
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.rpc import RpcDispatcher


class EmbeddedProvider(JSONBaseProvider):
    """``Web3(EmbeddedProvider(chain))``: web3 over the embedded chain without HTTP."""

    def __init__(self, chain: EmbeddedChain | RpcDispatcher) -> None:
        super().__init__()
        self.dispatcher = chain if isinstance(chain, RpcDispatcher) else RpcDispatcher(chain)

    def __repr__(self) -> str:
        return f"EmbeddedProvider({str(self.dispatcher.chain.path)!r})"

    def _request(self, method: RPCEndpoint, params: Any) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "method": method, "params": _as_json(params or []), "id": next(self.request_counter)}

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        return cast(RPCResponse, self.dispatcher.handle(self._request(method, params)))

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        batch = [self._request(method, params) for method, params in requests]
        response = self.dispatcher.handle(batch)
        if not isinstance(response, list):
            return cast(RPCResponse, response)
        return cast(list[RPCResponse], sorted(response, key=lambda r: r["id"]))

    def is_connected(self, show_traceback: bool = False) -> bool:
        return not self.dispatcher.chain.closed


def _as_json(params: Any) -> Any:
    """``params`` as the JSON an HTTP provider would send (bytes as 0x-hex, and so on)."""
    return json.loads(to_bytes(text=FriendlyJsonSerde().json_encode(params, Web3JsonEncoder)))
