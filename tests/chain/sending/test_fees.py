"""The fee oracle: cached per chain, invalidated when a fee is refused."""
from __future__ import annotations

from dataseal.chain.sending.fees import FeeOracle
from tests.chain.conftest import Backend


def test_fee_oracle_caches_and_invalidates(backend: Backend) -> None:
    oracle = FeeOracle(ttl=3600)
    first = oracle.fees(backend.w3, backend.node.chain_id)
    assert first.max_fee is not None and first.priority_fee is not None and not first.legacy
    assert oracle.fees(backend.w3, backend.node.chain_id) is first
    oracle.invalidate(backend.node.chain_id)
    assert oracle.fees(backend.w3, backend.node.chain_id) is not first
