"""Recording the JSON-RPC requests a Web3 instance sends (tests assert on round trips, not time)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from web3 import Web3
from web3.middleware import Web3Middleware


@contextmanager
def recording_requests(w3: Web3, calls: list[str], *,
                       on_request: Callable[[str], None] | None = None) -> Iterator[None]:
    """Append each JSON-RPC method ``w3`` sends (a batch as "batch of N") to ``calls``;
    ``on_request`` sees each method before it is sent."""

    class Recording(Web3Middleware):
        def wrap_make_request(self, make_request: Any) -> Any:
            def middleware(method: str, params: Any) -> Any:
                calls.append(method)
                if on_request is not None:
                    on_request(method)
                return make_request(method, params)

            return middleware

        def wrap_make_batch_request(self, make_batch_request: Any) -> Any:
            def middleware(requests: Any) -> Any:
                calls.append(f"batch of {len(requests)}")
                return make_batch_request(requests)

            return middleware

    w3.middleware_onion.add(Recording, name="recording")
    try:
        yield
    finally:
        w3.middleware_onion.remove("recording")
