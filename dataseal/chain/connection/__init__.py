"""The connection role of the chain layer: reaching a node and classifying what it answers.

- :mod:`.connection`: :class:`Connection` (one chain: reads, chain checks) and :func:`connect`;
- :mod:`.transports`: providers for http(s)/ws(s) URLs, and keeping a URL's secrets out of messages;
- :mod:`.failures`: what a failed request means (no answer, nonce conflicts, fees, funds, limits).
"""
from dataseal.chain.connection.connection import ChainInfo, Connection, connect

__all__ = ["ChainInfo", "Connection", "connect"]
