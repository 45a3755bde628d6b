"""eth_getLogs (dataseal.chain.embedded.logs): filters by address, topic and block, and its limits."""
from __future__ import annotations

import pytest
from eth_utils import keccak, to_checksum_address

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.errors import BlockNotFound, InvalidParams, LimitExceeded
from dataseal.chain.embedded.records import LogFilter
from dataseal.chain.embedded.settings import Mining, Tuning
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import LOG_RUNTIME, deploy, sign


def test_logs_are_filtered_by_address_topic_and_block(chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)  # block 1
    other = deploy(chain, keys.alice, LOG_RUNTIME)  # block 2
    topics = [keccak(text=f"topic{n}") for n in range(3)]
    nonce = 2
    for target, topic in [(logger, topics[0]), (logger, topics[1]), (other, topics[0]), (logger, topics[2])]:
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=to_checksum_address(target), value=0,
                                        gas=60_000, data=topic))
        nonce += 1
    chain.mine()  # block 3: four logs
    everything = chain.get_logs(LogFilter(from_block=0, to_block="latest"))
    assert [(r.address, r.topics[0], r.log_index, r.tx_index) for r in everything] == [
        (logger, topics[0], 0, 0), (logger, topics[1], 1, 1), (other, topics[0], 2, 2), (logger, topics[2], 3, 3)
    ]
    assert len(chain.get_logs(LogFilter(from_block=0, addresses=(logger,)))) == 3
    assert len(chain.get_logs(LogFilter(from_block=0, topics=((topics[0], topics[2]),)))) == 3
    assert len(chain.get_logs(LogFilter(from_block=0, addresses=(other,), topics=((topics[1],),)))) == 0
    assert len(chain.get_logs(LogFilter(from_block=0, topics=(None, (topics[0],))))) == 0  # no second topic
    assert chain.get_logs(LogFilter(from_block=1, to_block=2)) == []
    assert len(chain.get_logs(LogFilter(block_hash=chain.head().hash))) == 4
    assert chain.get_logs(LogFilter(from_block=50, to_block=60)) == []
    with pytest.raises(InvalidParams, match="fromBlock 3 is after toBlock 1"):
        chain.get_logs(LogFilter(from_block=3, to_block=1))
    with pytest.raises(BlockNotFound, match="unknown block"):
        chain.get_logs(LogFilter(block_hash=b"\1" * 32))
    with pytest.raises(InvalidParams, match="block -5 is not a block number"):
        chain.get_logs(LogFilter(from_block=-5, to_block=0))


def test_log_queries_too_large_are_refused(chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)
    for nonce in range(1, 4):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=to_checksum_address(logger), value=0,
                                        gas=60_000, data=keccak(text="t")))
    chain.mine()
    chain.close(flush=False)
    with EmbeddedChain.open(chain.path, tuning=Tuning(max_log_results=2), mining=Mining("manual")) as limited:
        with pytest.raises(LimitExceeded, match="query returned more than 2 results: ask for a smaller block range"):
            limited.get_logs(LogFilter(from_block=0))
    with EmbeddedChain.open(chain.path, tuning=Tuning(max_log_block_range=2), mining=Mining("manual")) as limited:
        with pytest.raises(LimitExceeded, match="block range too large: 3 blocks \\(0..2\\) asked, at most 2"):
            limited.get_logs(LogFilter(from_block=0))
