"""What a chain is opened with (dataseal.chain.embedded.settings): checked when made, before any file
is created."""
from __future__ import annotations

from pathlib import Path

import pytest

from dataseal.chain.embedded.chain import EmbeddedChain, chain_file
from dataseal.chain.embedded.errors import EmbeddedChainError
from dataseal.chain.embedded.settings import Genesis, Mining, Tuning
from tests.chain.embedded.helpers import BOB


def test_genesis_and_mining_settings_are_checked() -> None:
    with pytest.raises(EmbeddedChainError, match="'0x12' is not an address"):
        Genesis(alloc={"0x12": 1})
    with pytest.raises(EmbeddedChainError, match="-1 is not a balance in wei"):
        Genesis(alloc={BOB: -1})
    with pytest.raises(EmbeddedChainError, match="positive integer below 2\\*\\*64, got 0"):
        Genesis(chain_id=0)
    with pytest.raises(EmbeddedChainError, match="gas limit must be at least 5000"):
        Genesis(gas_limit=10)
    with pytest.raises(EmbeddedChainError, match="unknown mining mode 'often'"):
        Mining("often")  # type: ignore[arg-type]
    with pytest.raises(EmbeddedChainError, match="block time above 0 seconds, got 0"):
        Mining("interval", 0)


def test_the_limits_are_checked_before_the_chain_opens(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedChainError, match="call time limit must be above 0 seconds, got 0"):
        EmbeddedChain.open(chain_file(tmp_path / "a"), tuning=Tuning(call_timeout=0))
    with pytest.raises(EmbeddedChainError, match="call gas cap must be at least 21000, got 5"):
        EmbeddedChain.open(chain_file(tmp_path / "b"), tuning=Tuning(call_gas_cap=5))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # refused before anything was created


def test_the_tuning_defaults_are_what_a_node_runs_with() -> None:
    tuning = Tuning()
    assert (tuning.idle_linger, tuning.idle_gap, tuning.idle_batch, tuning.miner_give_way) == (0.05, 0.005, 32, 0.05)
    assert (tuning.call_gas_cap, tuning.call_timeout, tuning.receipt_wait) == (50_000_000, 5.0, 2.0)
    assert (tuning.max_tx_bytes, tuning.max_log_block_range, tuning.max_log_results) == (131_072, 10_000, 10_000)
    assert tuning.max_log_addresses == 1_000  # geth's --rpc.getlogmaxaddrs
    assert (tuning.cache_entries, tuning.interpreter) == (100_000, "fast")


@pytest.mark.parametrize(("knobs", "message"), [
    ({"idle_linger": -1}, "tuning: idle_linger is seconds, at least 0; got -1"),
    ({"miner_give_way": float("nan")}, "tuning: miner_give_way is seconds, at least 0; got nan"),
    ({"receipt_wait": -0.5}, "tuning: receipt_wait is seconds, at least 0; got -0.5"),
    ({"idle_batch": 0}, "tuning: idle_batch must be at least 1, got 0"),
    ({"max_log_results": 0}, "tuning: max_log_results must be at least 1, got 0"),
    ({"max_log_addresses": 0}, "tuning: max_log_addresses must be at least 1, got 0"),
    ({"cache_entries": 0}, "tuning: cache_entries must be at least 1, got 0"),
    ({"interpreter": "turbo"}, "unknown interpreter 'turbo': use fast or stock"),
], ids=["linger", "give-way", "receipt-wait", "batch", "log-results", "log-addresses", "cache",
        "interpreter"])
def test_tuning_knobs_are_checked(knobs: dict[str, object], message: str) -> None:
    with pytest.raises(EmbeddedChainError, match=message.replace("(", "\\(").replace(")", "\\)")):
        Tuning(**knobs)  # type: ignore[arg-type]


def test_the_chain_runs_the_interpreter_its_tuning_names(tmp_path: Path) -> None:
    with EmbeddedChain.open(chain_file(tmp_path / "stock"), tuning=Tuning(interpreter="stock")) as chain:
        assert chain.interpreter == "stock"
        assert chain.mine().number == 1
    with EmbeddedChain.open(chain_file(tmp_path / "stock")) as chain:  # reopened with the default
        assert chain.interpreter == "fast" and chain.mine().number == 2
